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
from plugin.db import utcnow
from plugin.lti import roles
from plugin.lti.models import LmsGroupMember, Membership, Placement, User
from plugin.social import boards, participation
from plugin.social.models import Board, ModerationAction, Post
from tests.conftest import row_counts
from tests.social.social_world import count_queries, course_board, make_course


def _seed(db, course, board):
    """The scenario every count below is checked against."""
    lea, leo, liv, ines = (course.viewer(db, n) for n in ("lea", "leo", "liv", "ines"))
    q = boards.create_thread(db, lea, board, "How do I give feedback?", "Help", kind="question")
    d = boards.create_thread(db, lea, board, "Secret worries", "Anon text", anonymous=True)
    answer = boards.reply(db, leo, q, "Use SBI")  # accepted, endorsed, helpful + like
    boards.reply(db, leo, q, "Comment one", parent_post=answer)
    boards.reply(db, leo, q, "Comment two", parent_post=answer)
    boards.reply(db, leo, d, "Reply in d")
    boards.reply(db, lea, d, "Lea replies")
    boards.reply(db, lea, q, "Lea comments", parent_post=answer)
    gone = boards.reply(db, lea, q, "DELETED-TEXT-XYZ")
    boards.react(db, leo, gone, "like")  # a reaction on a deleted post does not count
    boards.delete_post(db, lea, gone)
    hidden = boards.reply(db, lea, q, "hidden comment", parent_post=answer)
    boards.react(db, leo, hidden, "helpful")  # nor on a hidden one
    hidden.hidden = True
    boards.react(db, lea, answer, "helpful")
    boards.react(db, liv, answer, "like")
    boards.react(
        db, leo, db.scalar(select(Post).where(Post.thread_id == d.id, Post.is_opening)), "like"
    )
    boards.endorse(db, ines, answer)
    boards.accept_answer(db, lea, q, answer)
    staff_thread = boards.create_thread(db, ines, board, "Welcome", "Hello all")
    boards.reply(db, ines, staff_thread, "Staff reply")
    db.commit()
    return {"q": q, "d": d, "answer": answer, "gone": gone, "hidden": hidden}


def _by_name(report):
    return {r.name: r for r in report.rows}


def test_participation_counts_each_learner_exactly(db) -> None:
    course, board = course_board(
        db, unlimited=True, anonymous_allowed=True, grade_threads="2", grade_replies="3"
    )
    _seed(db, course, board)
    # another course's activity never counts here
    other = make_course(db, platform=course.platform, context_key="c-202")
    other_board = boards.board_for_placement(db, other.placement)
    boards.create_thread(db, other.viewer(db, "lea"), other_board, "Elsewhere", "x")
    db.commit()
    report = participation.participation(db, course.viewer(db, "ines"), board)
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
    assert [participation.score_points(r.score) for r in report.rows] == [83.33, 50.0, 0.0]
    assert report.graded


def test_participation_score_parts() -> None:
    board = Board(grade_threads=None, grade_replies=4)
    assert participation.participation_score(board, 9, 2) == 0.5
    board = Board(grade_threads=3, grade_replies=0)
    assert participation.participation_score(board, 1, 50) == pytest.approx(1 / 3)
    assert (
        participation.participation_score(Board(grade_threads=None, grade_replies=None), 5, 5)
        is None
    )


def test_participation_sorts_and_refuses_unknown_sorts(db) -> None:
    course, board = course_board(
        db, unlimited=True, anonymous_allowed=True, grade_threads="2", grade_replies="3"
    )
    _seed(db, course, board)
    ines = course.viewer(db, "ines")
    names = lambda **kw: [r.name for r in participation.participation(db, ines, board, **kw).rows]  # noqa: E731
    assert names() == ["Lea Learner", "Leo Learner", "Liv Learner"]
    assert names(sort="name", descending=True) == ["Liv Learner", "Leo Learner", "Lea Learner"]
    assert names(sort="replies", descending=True) == ["Leo Learner", "Lea Learner", "Liv Learner"]
    assert names(sort="threads", descending=True)[0] == "Lea Learner"
    assert names(sort="score", descending=True) == ["Lea Learner", "Leo Learner", "Liv Learner"]
    # no activity sorts last either way
    assert names(sort="last")[-1] == "Liv Learner"
    assert names(sort="last", descending=True)[-1] == "Liv Learner"
    with pytest.raises(Refusal) as err:
        participation.participation(db, ines, board, sort="password")
    assert err.value.status == 400


def test_participation_is_for_staff_of_the_course_only(db) -> None:
    course, board = course_board(db, unlimited=True)
    other = make_course(db, platform=course.platform, context_key="c-303")
    other_board = boards.board_for_placement(db, other.placement)
    db.commit()
    for call in (
        lambda v, b: participation.participation(db, v, b),
        lambda v, b: participation.export_rows(db, v, b),
        lambda v, b: participation.send_grades(db, v, b),
        lambda v, b: participation.last_grades(db, v, b),
    ):
        with pytest.raises(Refusal) as err:
            call(course.viewer(db, "lea"), board)
        assert err.value.status == 403
        with pytest.raises(Refusal) as err:
            call(course.viewer(db, "ines"), other_board)
        assert err.value.status == 404
    with pytest.raises(Refusal) as err:
        participation.participation(db, course.viewer(db, "lea"), None)
    assert err.value.status == 403


def test_cohort_filter_and_course_scope(db) -> None:
    course, board = course_board(db, unlimited=True, cohort_mode="groups")
    lea, liv, ines = (course.viewer(db, n) for n in ("lea", "liv", "ines"))
    placement = Placement(
        context_id=course.context.id, resource_link_id="rl-2", title="Second", widget="board"
    )
    db.add(placement)
    db.flush()
    board2 = boards.board_for_placement(db, placement)
    board2.posts_per_hour = 0
    boards.create_thread(db, lea, board, "Red talk", "r")
    boards.create_thread(db, liv, board, "Blue talk", "b")
    boards.create_thread(db, lea, board2, "On board two", "x")
    db.commit()
    red = course.groups["red"].id
    rows = _by_name(participation.participation(db, ines, board, cohort_group_id=red))
    assert set(rows) == {"Lea Learner", "Leo Learner"} and rows["Lea Learner"].threads == 1
    everything = _by_name(participation.participation(db, ines, None))
    assert everything["Lea Learner"].threads == 2 and everything["Liv Learner"].threads == 1
    assert all(r.score is None for r in everything.values())
    with pytest.raises(Refusal) as err:
        participation.participation(db, ines, board2, cohort_group_id=red)
    assert err.value.status == 400  # board two has no cohorts
    with pytest.raises(Refusal) as err:
        participation.participation(db, ines, board, cohort_group_id=10**9)
    assert err.value.status == 404


def test_inactive_members_and_staff_are_not_rows(db) -> None:
    course, board = course_board(db, unlimited=True)
    db.scalars(
        select(Membership).where(Membership.user_id == course.users["leo"].id)
    ).one().status = "Inactive"
    ta = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub="ta-1",
        name="Tia Assistant",
    )
    db.add(ta)
    db.flush()
    db.add(
        Membership(
            context_id=course.context.id,
            user_id=ta.id,
            roles=[roles.INSTRUCTOR, roles.TEACHING_ASSISTANT, roles.LEARNER],
        )
    )
    db.commit()
    report = participation.participation(db, course.viewer(db, "ines"), board)
    assert [r.name for r in report.rows] == ["Lea Learner", "Liv Learner"]


def test_participation_issues_a_bounded_number_of_queries(app, db) -> None:
    course, board = course_board(db, unlimited=True, grade_threads="1", grade_replies="1")
    ines = course.viewer(db, "ines")
    thread = boards.create_thread(db, course.viewer(db, "lea"), board, "T", "B")

    def add_learners(n, start):
        for i in range(start, start + n):
            user = User(
                platform_id=course.platform.id,
                issuer=course.platform.issuer,
                sub=f"extra-{i}",
                name=f"Extra {i:03}",
            )
            db.add(user)
            db.flush()
            db.add(Membership(context_id=course.context.id, user_id=user.id, roles=[roles.LEARNER]))
            db.add(LmsGroupMember(group_id=course.groups["red"].id, user_id=user.id))
            db.flush()
            post = boards.reply(db, access.viewer_for(db, user.id, course.context.id), thread, "r")
            boards.react(db, course.viewer(db, "leo"), post, "like")
        db.commit()

    counts = []
    for n, start in ((2, 0), (40, 2)):
        add_learners(n, start)
        db.expunge_all()
        board = db.get(Board, board.id)
        with count_queries(app) as seen:
            report = participation.participation(db, ines, board)
        assert len(report.rows) == 3 + start + n
        counts.append(len(seen))
    assert counts[0] == counts[1] and counts[0] <= 3, counts
    assert all(r.likes_received == 1 for r in report.rows if r.name.startswith("Extra"))


# --- export --------------------------------------------------------------------------------------
def _csv_rows(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_export_rows_hide_anonymous_names_and_deleted_text(db) -> None:
    course, board = course_board(db, unlimited=True, anonymous_allowed=True)
    made = _seed(db, course, board)
    ines = course.viewer(db, "ines")
    rows = list(participation.export_rows(db, ines, board))
    assert len(rows) == db.query(Post).count() - 0  # every post of the board, once
    assert [r["post_id"] for r in rows] == sorted(
        (r["post_id"] for r in rows), key=lambda i: (db.get(Post, i).thread_id, i)
    )
    by_id = {r["post_id"]: r for r in rows}
    anon_opening = db.scalar(select(Post).where(Post.thread_id == made["d"].id, Post.is_opening))
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
    csv_text = "".join(participation.export_csv(participation.export_rows(db, ines, board)))
    json_text = "".join(
        participation.export_json(
            participation.board_info(board), participation.export_rows(db, ines, board)
        )
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


def test_anonymous_author_name_never_in_export_bytes(db) -> None:
    course, board = course_board(db, unlimited=True, anonymous_allowed=True)
    liv = course.viewer(db, "liv")
    thread = boards.create_thread(db, liv, board, "Anon only", "text", anonymous=True)
    boards.reply(db, liv, thread, "also anon", anonymous=True)
    boards.reply(db, course.viewer(db, "lea"), thread, "named reply")
    db.commit()
    ines = course.viewer(db, "ines")
    data = "".join(participation.export_csv(participation.export_rows(db, ines, board))).encode()
    data += "".join(
        participation.export_json(
            participation.board_info(board), participation.export_rows(db, ines, board)
        )
    ).encode()
    assert b"Liv" not in data and b"Anonymous" in data and b"Lea Learner" in data


def test_export_keyset_batches_are_complete(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    same = utcnow() - timedelta(hours=1)
    for i in range(4):
        thread = boards.create_thread(db, lea, board, f"T{i}", "b")
        for j in range(3):
            post = boards.reply(db, leo, thread, f"r{i}-{j}")
            post.created_at = same  # ties: the post id breaks them
    db.commit()
    ines = course.viewer(db, "ines")
    whole = [r["post_id"] for r in participation.export_rows(db, ines, board, batch_size=1000)]
    for size in (1, 2, 5):
        assert [
            r["post_id"] for r in participation.export_rows(db, ines, board, batch_size=size)
        ] == whole
    assert len(whole) == len(set(whole)) == 16
    with pytest.raises(Refusal):
        participation.export_rows(db, ines, board, batch_size=0)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_injection_is_neutralised(db, start) -> None:
    course, board = course_board(db, unlimited=True)
    lea = course.viewer(db, "lea")
    payload = f'{start}HYPERLINK("http://evil.example","x")'
    thread = boards.create_thread(db, lea, board, "Safe title", payload)
    if start in "=+-@":  # a title can start with these too (whitespace is trimmed from titles)
        boards.create_thread(db, lea, board, f"{start}1+1", "fine")
    boards.reply(db, course.viewer(db, "leo"), thread, payload)
    db.commit()
    text = "".join(
        participation.export_csv(participation.export_rows(db, course.viewer(db, "ines"), board))
    )
    rows = _csv_rows(text)
    ours = [r for r in rows if r["thread_id"] == str(thread.id)]
    assert [r["body_markdown"] for r in ours] == ["'" + payload] * 2
    assert [r["thread_title"] for r in ours] == ["Safe title"] * 2
    if start in "=+-@":
        assert rows[2]["thread_title"] == f"'{start}1+1"


def test_neutralise_and_filename() -> None:
    assert participation.neutralise("=1+2") == "'=1+2"
    assert participation.neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert participation.neutralise("plain - text") == "plain - text"
    from datetime import date

    board = Board(placement=Placement(title="Équipe: Talk & “Q&A”!"))
    assert (
        participation.export_filename(board, "csv", date(2025, 3, 4))
        == "equipe-talk-q-a-2025-03-04.csv"
    )
    board = Board(placement=Placement(title="日本語"))
    assert participation.export_filename(board, "json", date(2025, 3, 4)) == "board-2025-03-04.json"


def test_participation_csv_is_neutralised(db) -> None:
    course, board = course_board(db, unlimited=True, grade_threads="1")
    db.get(User, course.users["liv"].id).name = "=cmd|' /C calc'!A0"
    db.commit()
    text = participation.participation_csv(
        participation.participation(db, course.viewer(db, "ines"), board)
    )
    rows = _csv_rows(text)
    assert "'=cmd|' /C calc'!A0" in [r["learner"] for r in rows]
    assert {r["score"] for r in rows} == {"0.0"}


# --- grades (refusals; the LMS round trips are in test_social_reports_web.py) ------------------------
def test_grades_need_a_grading_rule_and_ags(app, db) -> None:
    course, board = course_board(db, unlimited=True)
    ines = course.viewer(db, "ines")
    before = row_counts(app)
    with pytest.raises(Refusal) as err:
        participation.send_grades(db, ines, board)
    assert err.value.status == 409 and "grading rule" in err.value.message
    board.grade_threads = 1
    with pytest.raises(Refusal) as err:
        participation.send_grades(db, ines, board)
    assert err.value.status == 409 and "Assignment and Grade Services" in err.value.message
    db.rollback()
    assert row_counts(app) == before
    assert db.query(ModerationAction).count() == 0
