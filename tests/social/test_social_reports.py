"""Board reports as services: participation counts, export contents and safety, query bounds."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from plugin import access
from plugin.access import Refusal
from plugin.db import new_session, utcnow
from plugin.lti import roles
from plugin.lti.models import LmsGroupMember, Membership, Placement, User
from plugin.social import boards, reports
from plugin.social.models import Board, ModerationAction, Post
from tests.conftest import row_counts
from tests.social.social_world import make_course
from tests.social.test_social_boards import count_queries


@pytest.fixture
def s(app):
    with new_session(app) as session:
        yield session


def _board(s, **settings):
    course = make_course(s, settings={"posts_per_hour": "0", **settings})
    board = boards.board_for_placement(s, course.placement)
    s.commit()
    return course, board


def _seed(s, course, board):
    """The scenario every count below is checked against."""
    lea, leo, liv, ines = (course.viewer(s, n) for n in ("lea", "leo", "liv", "ines"))
    q = boards.create_thread(s, lea, board, "How do I give feedback?", "Help", kind="question")
    d = boards.create_thread(s, lea, board, "Secret worries", "Anon text", anonymous=True)
    answer = boards.reply(s, leo, q, "Use SBI")  # accepted, endorsed, helpful + like
    boards.reply(s, leo, q, "Comment one", parent_post=answer)
    boards.reply(s, leo, q, "Comment two", parent_post=answer)
    boards.reply(s, leo, d, "Reply in d")
    boards.reply(s, lea, d, "Lea replies")
    boards.reply(s, lea, q, "Lea comments", parent_post=answer)
    gone = boards.reply(s, lea, q, "DELETED-TEXT-XYZ")
    boards.react(s, leo, gone, "like")  # a reaction on a deleted post does not count
    boards.delete_post(s, lea, gone)
    hidden = boards.reply(s, lea, q, "hidden comment", parent_post=answer)
    boards.react(s, leo, hidden, "helpful")  # nor on a hidden one
    hidden.hidden = True
    boards.react(s, lea, answer, "helpful")
    boards.react(s, liv, answer, "like")
    boards.react(
        s, leo, s.scalar(select(Post).where(Post.thread_id == d.id, Post.is_opening)), "like"
    )
    boards.endorse(s, ines, answer)
    boards.accept_answer(s, lea, q, answer)
    staff_thread = boards.create_thread(s, ines, board, "Welcome", "Hello all")
    boards.reply(s, ines, staff_thread, "Staff reply")
    s.commit()
    return {"q": q, "d": d, "answer": answer, "gone": gone, "hidden": hidden}


def _by_name(report):
    return {r.name: r for r in report.rows}


def test_participation_counts_each_learner_exactly(s) -> None:
    course, board = _board(s, anonymous_allowed=True, grade_threads="2", grade_replies="3")
    _seed(s, course, board)
    # another course's activity never counts here
    other = make_course(s, platform=course.platform, context_key="c-202")
    other_board = boards.board_for_placement(s, other.placement)
    boards.create_thread(s, other.viewer(s, "lea"), other_board, "Elsewhere", "x")
    s.commit()
    report = reports.participation(s, course.viewer(s, "ines"), board)
    rows = _by_name(report)
    assert set(rows) == {"Lea Learner", "Leo Learner", "Liv Learner"}  # staff not listed
    lea, leo, liv = rows["Lea Learner"], rows["Leo Learner"], rows["Liv Learner"]
    assert (lea.threads, lea.replies, lea.comments) == (2, 1, 1)
    assert (lea.likes_received, lea.helpful_received, lea.endorsed, lea.accepted) == (1, 0, 0, 0)
    assert (leo.threads, leo.replies, leo.comments) == (0, 2, 2)
    assert (leo.likes_received, leo.helpful_received) == (1, 1)
    assert (leo.endorsed, leo.accepted, leo.reactions_received) == (1, 1, 2)
    assert (liv.posts, liv.reactions_received, liv.first_activity, liv.last_activity) == (
        0,
        0,
        None,
        None,
    )
    assert lea.first_activity <= lea.last_activity and leo.first_activity is not None
    # score: (min(threads, 2)/2 + min(replies + comments, 3)/3) / 2
    assert lea.score == pytest.approx((1 + 2 / 3) / 2)
    assert leo.score == pytest.approx((0 + 1) / 2)
    assert liv.score == 0
    assert [reports.score_points(r.score) for r in report.rows] == [83.33, 50.0, 0.0]
    assert report.graded


def test_participation_score_parts() -> None:
    board = Board(grade_threads=None, grade_replies=4)
    assert reports.participation_score(board, 9, 2) == 0.5
    board = Board(grade_threads=3, grade_replies=0)
    assert reports.participation_score(board, 1, 50) == pytest.approx(1 / 3)
    assert reports.participation_score(Board(grade_threads=None, grade_replies=None), 5, 5) is None


def test_participation_sorts_and_refuses_unknown_sorts(s) -> None:
    course, board = _board(s, anonymous_allowed=True, grade_threads="2", grade_replies="3")
    _seed(s, course, board)
    ines = course.viewer(s, "ines")
    names = lambda **kw: [r.name for r in reports.participation(s, ines, board, **kw).rows]  # noqa: E731
    assert names() == ["Lea Learner", "Leo Learner", "Liv Learner"]
    assert names(sort="name", descending=True) == ["Liv Learner", "Leo Learner", "Lea Learner"]
    assert names(sort="replies", descending=True) == ["Leo Learner", "Lea Learner", "Liv Learner"]
    assert names(sort="threads", descending=True)[0] == "Lea Learner"
    assert names(sort="score", descending=True) == ["Lea Learner", "Leo Learner", "Liv Learner"]
    # no activity sorts last either way
    assert names(sort="last")[-1] == "Liv Learner"
    assert names(sort="last", descending=True)[-1] == "Liv Learner"
    with pytest.raises(Refusal) as err:
        reports.participation(s, ines, board, sort="password")
    assert err.value.status == 400


def test_participation_is_for_staff_of_the_course_only(s) -> None:
    course, board = _board(s)
    other = make_course(s, platform=course.platform, context_key="c-303")
    other_board = boards.board_for_placement(s, other.placement)
    s.commit()
    for call in (
        lambda v, b: reports.participation(s, v, b),
        lambda v, b: reports.export_rows(s, v, b),
        lambda v, b: reports.send_grades(s, v, b),
        lambda v, b: reports.last_grades(s, v, b),
    ):
        with pytest.raises(Refusal) as err:
            call(course.viewer(s, "lea"), board)
        assert err.value.status == 403
        with pytest.raises(Refusal) as err:
            call(course.viewer(s, "ines"), other_board)
        assert err.value.status == 404
    with pytest.raises(Refusal) as err:
        reports.participation(s, course.viewer(s, "lea"), None)
    assert err.value.status == 403


def test_cohort_filter_and_course_scope(s) -> None:
    course, board = _board(s, cohort_mode="groups")
    lea, liv, ines = (course.viewer(s, n) for n in ("lea", "liv", "ines"))
    placement = Placement(
        context_id=course.context.id, resource_link_id="rl-2", title="Second", widget="board"
    )
    s.add(placement)
    s.flush()
    board2 = boards.board_for_placement(s, placement)
    board2.posts_per_hour = 0
    boards.create_thread(s, lea, board, "Red talk", "r")
    boards.create_thread(s, liv, board, "Blue talk", "b")
    boards.create_thread(s, lea, board2, "On board two", "x")
    s.commit()
    red = course.groups["red"].id
    rows = _by_name(reports.participation(s, ines, board, cohort_group_id=red))
    assert set(rows) == {"Lea Learner", "Leo Learner"} and rows["Lea Learner"].threads == 1
    everything = _by_name(reports.participation(s, ines, None))
    assert everything["Lea Learner"].threads == 2 and everything["Liv Learner"].threads == 1
    assert all(r.score is None for r in everything.values())
    with pytest.raises(Refusal) as err:
        reports.participation(s, ines, board2, cohort_group_id=red)
    assert err.value.status == 400  # board two has no cohorts
    with pytest.raises(Refusal) as err:
        reports.participation(s, ines, board, cohort_group_id=10**9)
    assert err.value.status == 404


def test_inactive_members_and_staff_are_not_rows(s) -> None:
    course, board = _board(s)
    s.scalars(
        select(Membership).where(Membership.user_id == course.users["leo"].id)
    ).one().status = "Inactive"
    ta = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub="ta-1",
        name="Tia Assistant",
    )
    s.add(ta)
    s.flush()
    s.add(
        Membership(
            context_id=course.context.id,
            user_id=ta.id,
            roles=[roles.INSTRUCTOR, roles.TEACHING_ASSISTANT, roles.LEARNER],
        )
    )
    s.commit()
    report = reports.participation(s, course.viewer(s, "ines"), board)
    assert [r.name for r in report.rows] == ["Lea Learner", "Liv Learner"]


def test_participation_issues_a_bounded_number_of_queries(app, s) -> None:
    course, board = _board(s, grade_threads="1", grade_replies="1")
    ines = course.viewer(s, "ines")
    thread = boards.create_thread(s, course.viewer(s, "lea"), board, "T", "B")

    def add_learners(n, start):
        for i in range(start, start + n):
            user = User(
                platform_id=course.platform.id,
                issuer=course.platform.issuer,
                sub=f"extra-{i}",
                name=f"Extra {i:03}",
            )
            s.add(user)
            s.flush()
            s.add(Membership(context_id=course.context.id, user_id=user.id, roles=[roles.LEARNER]))
            s.add(LmsGroupMember(group_id=course.groups["red"].id, user_id=user.id))
            s.flush()
            post = boards.reply(s, access.viewer_for(s, user.id, course.context.id), thread, "r")
            boards.react(s, course.viewer(s, "leo"), post, "like")
        s.commit()

    counts = []
    for n, start in ((2, 0), (40, 2)):
        add_learners(n, start)
        s.expunge_all()
        board = s.get(Board, board.id)
        with count_queries(app) as seen:
            report = reports.participation(s, ines, board)
        assert len(report.rows) == 3 + start + n
        counts.append(len(seen))
    assert counts[0] == counts[1] and counts[0] <= 3, counts
    assert all(r.likes_received == 1 for r in report.rows if r.name.startswith("Extra"))


# --- export --------------------------------------------------------------------------------------
def _csv_rows(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_export_rows_hide_anonymous_names_and_deleted_text(s) -> None:
    course, board = _board(s, anonymous_allowed=True)
    made = _seed(s, course, board)
    ines = course.viewer(s, "ines")
    rows = list(reports.export_rows(s, ines, board))
    assert len(rows) == s.query(Post).count() - 0  # every post of the board, once
    assert [r["post_id"] for r in rows] == sorted(
        (r["post_id"] for r in rows), key=lambda i: (s.get(Post, i).thread_id, i)
    )
    by_id = {r["post_id"]: r for r in rows}
    anon_opening = s.scalar(select(Post).where(Post.thread_id == made["d"].id, Post.is_opening))
    assert by_id[anon_opening.id]["author"] == "Anonymous" and by_id[anon_opening.id]["anonymous"]
    gone = by_id[made["gone"].id]
    assert gone["deleted"] and gone["body_markdown"] == "" and gone["author"] == ""
    hidden = by_id[made["hidden"].id]
    assert hidden["hidden"] and hidden["level"] == "comment"
    answer = by_id[made["answer"].id]
    assert (
        answer["accepted"]
        and answer["endorsed"]
        and (answer["likes"], answer["helpful"])
        == (
            1,
            1,
        )
    )
    assert answer["level"] == "reply" and answer["author"] == "Leo Learner"
    csv_text = "".join(reports.export_csv(reports.export_rows(s, ines, board)))
    json_text = "".join(
        reports.export_json(reports.board_info(board), reports.export_rows(s, ines, board))
    )
    for text in (csv_text, json_text):
        assert "DELETED-TEXT-XYZ" not in text
    # Lea wrote the anonymous thread: her name appears only beside her named posts
    csv_rows = _csv_rows(csv_text)
    assert {r["author"] for r in csv_rows if r["thread_id"] == str(made["d"].id)} == {
        "Anonymous",
        "Leo Learner",
        "Lea Learner",
    }
    anon = [r for r in csv_rows if r["anonymous"] == "true"]
    assert anon and all(r["author"] == "Anonymous" for r in anon)
    doc = json.loads(json_text)
    assert [t["id"] for t in doc["threads"]] == sorted(t["id"] for t in doc["threads"])
    assert sum(len(t["posts"]) for t in doc["threads"]) == len(rows)
    assert doc["board"]["id"] == board.id


def test_anonymous_author_name_never_in_export_bytes(s) -> None:
    course, board = _board(s, anonymous_allowed=True)
    liv = course.viewer(s, "liv")
    thread = boards.create_thread(s, liv, board, "Anon only", "text", anonymous=True)
    boards.reply(s, liv, thread, "also anon", anonymous=True)
    boards.reply(s, course.viewer(s, "lea"), thread, "named reply")
    s.commit()
    ines = course.viewer(s, "ines")
    data = "".join(reports.export_csv(reports.export_rows(s, ines, board))).encode()
    data += "".join(
        reports.export_json(reports.board_info(board), reports.export_rows(s, ines, board))
    ).encode()
    assert b"Liv" not in data and b"Anonymous" in data and b"Lea Learner" in data


def test_export_keyset_batches_are_complete(s) -> None:
    course, board = _board(s)
    lea, leo = course.viewer(s, "lea"), course.viewer(s, "leo")
    same = utcnow() - timedelta(hours=1)
    for i in range(4):
        thread = boards.create_thread(s, lea, board, f"T{i}", "b")
        for j in range(3):
            post = boards.reply(s, leo, thread, f"r{i}-{j}")
            post.created_at = same  # ties: the post id breaks them
    s.commit()
    ines = course.viewer(s, "ines")
    whole = [r["post_id"] for r in reports.export_rows(s, ines, board, batch_size=1000)]
    for size in (1, 2, 5):
        assert [r["post_id"] for r in reports.export_rows(s, ines, board, batch_size=size)] == whole
    assert len(whole) == len(set(whole)) == 16
    with pytest.raises(Refusal):
        reports.export_rows(s, ines, board, batch_size=0)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_injection_is_neutralised(s, start) -> None:
    course, board = _board(s)
    lea = course.viewer(s, "lea")
    payload = f'{start}HYPERLINK("http://evil.example","x")'
    thread = boards.create_thread(s, lea, board, "Safe title", payload)
    if start in "=+-@":  # a title can start with these too (whitespace is trimmed from titles)
        boards.create_thread(s, lea, board, f"{start}1+1", "fine")
    boards.reply(s, course.viewer(s, "leo"), thread, payload)
    s.commit()
    text = "".join(reports.export_csv(reports.export_rows(s, course.viewer(s, "ines"), board)))
    rows = _csv_rows(text)
    ours = [r for r in rows if r["thread_id"] == str(thread.id)]
    assert [r["body_markdown"] for r in ours] == ["'" + payload] * 2
    assert [r["thread_title"] for r in ours] == ["Safe title"] * 2
    if start in "=+-@":
        assert rows[2]["thread_title"] == f"'{start}1+1"


def test_neutralise_and_filename() -> None:
    assert reports.neutralise("=1+2") == "'=1+2"
    assert reports.neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert reports.neutralise("plain - text") == "plain - text"
    from datetime import date

    board = Board(placement=Placement(title="Équipe: Talk & “Q&A”!"))
    assert (
        reports.export_filename(board, "csv", date(2025, 3, 4)) == "equipe-talk-q-a-2025-03-04.csv"
    )
    board = Board(placement=Placement(title="日本語"))
    assert reports.export_filename(board, "json", date(2025, 3, 4)) == "board-2025-03-04.json"


def test_participation_csv_is_neutralised(s) -> None:
    course, board = _board(s, grade_threads="1")
    s.get(User, course.users["liv"].id).name = "=cmd|' /C calc'!A0"
    s.commit()
    text = reports.participation_csv(reports.participation(s, course.viewer(s, "ines"), board))
    rows = _csv_rows(text)
    assert "'=cmd|' /C calc'!A0" in [r["learner"] for r in rows]
    assert {r["score"] for r in rows} == {"0.0"}


# --- grades (refusals; the LMS round trips are in test_social_reports_web.py) ------------------------
def test_grades_need_a_grading_rule_and_ags(app, s) -> None:
    course, board = _board(s)
    ines = course.viewer(s, "ines")
    before = row_counts(app)
    with pytest.raises(Refusal) as err:
        reports.send_grades(s, ines, board)
    assert err.value.status == 409 and "grading rule" in err.value.message
    board.grade_threads = 1
    with pytest.raises(Refusal) as err:
        reports.send_grades(s, ines, board)
    assert err.value.status == 409 and "Assignment and Grade Services" in err.value.message
    s.rollback()
    assert row_counts(app) == before
    assert s.query(ModerationAction).count() == 0
