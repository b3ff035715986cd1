"""Board services: rules, visibility, events → outbox rows in the same transaction, pagination."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from plugin import access, events
from plugin.access import Refusal
from plugin.db import utcnow
from plugin.social import boards
from plugin.social.models import Board, Post, Reaction, Thread
from plugin.xapi.models import XapiOutbox
from tests.social.social_world import count_queries, course_board, make_course
from tests.social.test_social_markdown import _problems


def _outbox(db, kind=None):
    q = select(XapiOutbox).order_by(XapiOutbox.created_at)
    if kind:
        q = q.where(XapiOutbox.event_kind == kind)
    return list(db.scalars(q))


# --- boards ---------------------------------------------------------------------------------------
def test_board_for_placement_is_made_once_from_settings(db) -> None:
    course = make_course(db, settings={"cohort_mode": "groups", "qa_mode": True})
    first = boards.board_for_placement(db, course.placement)
    again = boards.board_for_placement(db, course.placement)
    assert first.id == again.id and first.cohort_mode == "groups" and first.qa_mode
    assert first.context_id == course.context.id and not first.anonymous_allowed
    assert db.scalar(select(func.count()).select_from(Board)) == 1


def test_viewer_needs_a_membership(db) -> None:
    course, _board_row = course_board(db)
    other = make_course(db, context_key="c-202")
    with pytest.raises(Refusal) as err:
        access.viewer_for(db, other.users["lea"].id, course.context.id)
    assert err.value.status == 403
    v = course.viewer(db, "lea")
    assert v.group_ids == {course.groups["red"].id} and not v.staff
    assert course.viewer(db, "ines").staff


# --- threads and the outbox ---------------------------------------------------------------------
def test_thread_posted_writes_its_statement_in_the_same_transaction(db) -> None:
    course, board = course_board(db)
    lea = course.viewer(db, "lea")
    thread = boards.create_thread(db, lea, board, "  Feedback   models ", "What is **SBI**?")
    rows = _outbox(db, events.THREAD_POSTED)
    assert len(rows) == 1  # visible inside the transaction, before any commit
    st = rows[0].statement
    assert st["verb"]["id"] == "https://w3id.org/xapi/acrossx/verbs/posted"
    assert st["object"]["id"].endswith(f"/thread/{thread.id}")
    assert st["object"]["definition"]["name"]["en-US"] == "Feedback models"
    parents = st["context"]["contextActivities"]["parent"]
    assert parents[0]["id"].endswith(f"/board/{board.id}")
    grouping = [a["id"] for a in st["context"]["contextActivities"]["grouping"]]
    assert any(g.endswith(f"/course/{course.context.id}") for g in grouping)
    assert any(g.endswith(f"/placement/{course.placement.id}") for g in grouping)
    assert st["actor"]["account"]["name"] == course.users["lea"].sub
    db.commit()
    opening = db.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    assert opening.is_opening and "<strong>SBI</strong>" in opening.body_html
    assert thread.title == "Feedback models" and thread.reply_count == 0


def test_rollback_leaves_neither_thread_nor_statement(db) -> None:
    course, board = course_board(db)
    boards.create_thread(db, course.viewer(db, "lea"), board, "Title", "Body")
    db.rollback()
    assert _outbox(db) == []
    assert db.scalar(select(func.count()).select_from(Thread)) == 0
    assert db.scalar(select(func.count()).select_from(Post)) == 0


def test_question_thread_is_asked(db) -> None:
    course, board = course_board(db)
    boards.create_thread(db, course.viewer(db, "lea"), board, "How?", "Body", kind="question")
    st = _outbox(db, events.THREAD_POSTED)[0].statement
    assert st["verb"]["id"] == "http://adlnet.gov/expapi/verbs/asked"


@pytest.mark.parametrize(
    ("title", "body", "kind"),
    [
        ("", "body", "discussion"),
        ("t", "   ", "discussion"),
        ("t", "b", "poll"),
        ("x" * 201, "b", "discussion"),
    ],
)
def test_bad_thread_input_stores_nothing(db, title, body, kind) -> None:
    course, board = course_board(db)
    with pytest.raises(Refusal) as err:
        boards.create_thread(db, course.viewer(db, "lea"), board, title, body, kind=kind)
    assert err.value.status == 400
    db.commit()
    assert db.scalar(select(func.count()).select_from(Thread)) == 0 and _outbox(db) == []


def test_huge_post_is_refused(db) -> None:
    course, board = course_board(db)
    with pytest.raises(Refusal) as err:
        boards.create_thread(db, course.viewer(db, "lea"), board, "t", "x" * 1_000_000)
    assert err.value.status == 413


def test_xss_in_a_post_is_stored_sanitised(db) -> None:
    course, board = course_board(db)
    lea = course.viewer(db, "lea")
    thread = boards.create_thread(
        db,
        lea,
        board,
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)> [x](javascript:alert(1))",
    )
    post = boards.reply(db, lea, thread, '<svg onload=alert(1)></svg><a href="javascript:1">y</a>')
    for html in [post.body_html, *db.scalars(select(Post.body_html))]:
        assert _problems(html) == [], html
        assert "<script" not in html and "<svg" not in html and "<img" not in html
    assert thread.title == "<script>alert(1)</script>"  # a title is text: templates escape it


# --- replies and comments ----------------------------------------------------------------------
def test_reply_and_comment_events_name_the_right_objects(db) -> None:
    course, board = course_board(db)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "T", "B")
    before = thread.last_activity_at
    r = boards.reply(db, leo, thread, "A reply")
    c = boards.reply(db, lea, thread, "A comment", parent_post=r)
    assert (
        c.parent_id == r.id
        and thread.reply_count == 1
        and thread.comment_count == 1
        and thread.last_activity_at >= before
    )
    reply_st = _outbox(db, events.REPLY_POSTED)[0].statement
    assert reply_st["verb"]["id"] == "http://id.tincanapi.com/verb/replied"
    assert reply_st["object"]["id"].endswith(f"/post/{r.id}")
    comment_st = _outbox(db, events.COMMENT_POSTED)[0].statement
    assert comment_st["object"]["id"].endswith(f"/post/{r.id}")  # the post commented on
    for st in (reply_st, comment_st):
        parents = [p["id"] for p in st["context"]["contextActivities"]["parent"]]
        assert parents[0].endswith(f"/thread/{thread.id}")


def test_comments_only_go_under_replies_of_the_same_thread(db) -> None:
    course, board = course_board(db)
    lea = course.viewer(db, "lea")
    t1 = boards.create_thread(db, lea, board, "T1", "B")
    t2 = boards.create_thread(db, lea, board, "T2", "B")
    r1 = boards.reply(db, lea, t1, "reply")
    c1 = boards.reply(db, lea, t1, "comment", parent_post=r1)
    opening = db.scalars(select(Post).where(Post.thread_id == t1.id, Post.is_opening)).one()
    for parent, thread in ((c1, t1), (r1, t2), (opening, t1)):
        with pytest.raises(Refusal) as err:
            boards.reply(db, lea, thread, "nope", parent_post=parent)
        assert err.value.status == 400


def test_locked_and_closed_threads_refuse_replies(db) -> None:
    course, board = course_board(db)
    lea, ines = course.viewer(db, "lea"), course.viewer(db, "ines")
    thread = boards.create_thread(db, lea, board, "T", "B")
    with pytest.raises(Refusal) as err:
        boards.set_thread_state(db, lea, thread, locked=True)
    assert err.value.status == 403
    boards.set_thread_state(db, ines, thread, locked=True, lock_reason="Off topic")
    with pytest.raises(Refusal) as err:
        boards.reply(db, lea, thread, "more")
    assert err.value.status == 409 and "Off topic" in err.value.message
    boards.set_thread_state(db, ines, thread, locked=False, closed=True)
    assert thread.lock_reason is None
    with pytest.raises(Refusal) as err:
        boards.reply(db, lea, thread, "more")
    assert err.value.status == 409 and "closed" in err.value.message
    boards.reply(db, ines, thread, "Staff may still answer")


# --- anonymity ------------------------------------------------------------------------------------
def test_anonymous_posts_need_the_board_setting(db) -> None:
    course, board = course_board(db)
    with pytest.raises(Refusal):
        boards.create_thread(db, course.viewer(db, "lea"), board, "T", "B", anonymous=True)


def test_anonymous_authors_are_hidden_from_peers_only(db) -> None:
    course, board = course_board(db, anonymous_allowed=True)
    lea = course.viewer(db, "lea")
    thread = boards.create_thread(db, lea, board, "T", "B", anonymous=True)
    boards.reply(db, lea, thread, "anon reply", anonymous=True)
    db.commit()
    for who, expect in (("leo", None), ("lea", "Lea Learner"), ("ines", "Lea Learner")):
        v = course.viewer(db, who)
        summary = boards.list_threads(db, v, board).threads[0]
        detail = boards.get_thread(db, v, thread.id)
        names = {summary.author.name, detail.opening.author.name, detail.replies[0].author.name}
        ids = {summary.author.user_id, detail.opening.author.user_id}
        if expect is None:
            assert names == {"Anonymous"} and ids == {None}
        else:
            assert names == {expect} and ids == {course.users["lea"].id}
    # xAPI goes to L&D's LRS: the real actor, but never the text of an anonymous post
    st = _outbox(db, events.THREAD_POSTED)[0].statement
    assert st["actor"]["account"]["name"] == course.users["lea"].sub
    assert "response" not in st.get("result", {})


# --- edit, delete, react -----------------------------------------------------------------------
def test_edit_keeps_history_and_only_the_author_edits(db) -> None:
    course, board = course_board(db)
    lea, leo, ines = (course.viewer(db, n) for n in ("lea", "leo", "ines"))
    thread = boards.create_thread(db, lea, board, "T", "first")
    opening = db.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    for other in (leo, ines):
        with pytest.raises(Refusal) as err:
            boards.edit_post(db, other, opening, "hijack")
        assert err.value.status == 403
    boards.edit_post(db, lea, opening, "second *text*", title="New title")
    boards.edit_post(db, lea, opening, "second *text*")  # unchanged: no revision, no event
    assert opening.body_html.strip() == "<p>second <em>text</em></p>"
    assert opening.edited_at is not None and thread.title == "New title"
    revs = boards.revisions(db, leo, opening)
    assert [r.body_markdown for r in revs] == ["first"] and revs[0].editor_id == lea.user_id
    rows = _outbox(db, events.POST_EDITED)
    assert len(rows) == 1 and rows[0].statement["object"]["id"].endswith(f"/post/{opening.id}")
    r = boards.reply(db, leo, thread, "reply")
    with pytest.raises(Refusal):
        boards.edit_post(db, leo, r, "x", title="not here")
    with pytest.raises(Refusal):
        boards.edit_post(db, lea, opening, "   ")


def test_soft_delete_leaves_a_placeholder(db) -> None:
    course, board = course_board(db)
    lea, leo, ines = (course.viewer(db, n) for n in ("lea", "leo", "ines"))
    thread = boards.create_thread(db, lea, board, "T", "B")
    r1 = boards.reply(db, leo, thread, "secret words")
    r2 = boards.reply(db, lea, thread, "other")
    with pytest.raises(Refusal) as err:
        boards.delete_post(db, lea, r1)
    assert err.value.status == 403
    boards.delete_post(db, leo, r1)
    boards.delete_post(db, ines, r2)  # staff may
    db.commit()
    detail = boards.get_thread(db, lea, thread.id)
    assert [p.deleted for p in detail.replies] == [True, True]
    assert all(p.body_html == "" and p.author is None for p in detail.replies)
    assert thread.reply_count == 0
    with pytest.raises(Refusal):
        boards.edit_post(db, leo, r1, "back")
    with pytest.raises(Refusal):
        boards.reply(db, lea, thread, "comment", parent_post=r1)


def test_reactions_are_unique_and_recorded(db) -> None:
    course, board = course_board(db)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "T", "B")
    r = boards.reply(db, leo, thread, "helpful answer")
    first = boards.react(db, lea, r, "helpful")
    again = boards.react(db, lea, r, "helpful")
    boards.react(db, lea, r, "like")
    assert first.id == again.id
    assert db.scalar(select(func.count()).select_from(Reaction)) == 2
    rows = _outbox(db, events.REACTION_ADDED)
    verbs = sorted(row.statement["verb"]["id"] for row in rows)
    assert verbs == [
        "http://id.tincanapi.com/verb/voted-up",
        "https://w3id.org/xapi/acrossx/verbs/liked",
    ]
    with pytest.raises(Refusal):
        boards.react(db, leo, r, "like")  # own post
    with pytest.raises(Refusal):
        boards.react(db, lea, r, "love")
    detail = boards.get_thread(db, lea, thread.id)
    assert detail.replies[0].reactions == {"helpful": 1, "like": 1}
    assert detail.replies[0].my_reactions == {"helpful", "like"}
    assert boards.get_thread(db, leo, thread.id).replies[0].my_reactions == set()
    assert boards.unreact(db, lea, r, "like") and not boards.unreact(db, lea, r, "like")


# --- visibility ----------------------------------------------------------------------------------
def test_hidden_posts_are_for_staff_only(db) -> None:
    course, board = course_board(db)
    lea, leo, ines = (course.viewer(db, n) for n in ("lea", "leo", "ines"))
    thread = boards.create_thread(db, lea, board, "T", "B")
    hidden_thread = boards.create_thread(db, lea, board, "Hidden", "B")
    r = boards.reply(db, leo, thread, "rude")
    boards.reply(db, lea, thread, "fine")
    r.hidden = True
    db.scalars(select(Post).where(Post.thread_id == hidden_thread.id)).one().hidden = True
    db.commit()
    learner_view = boards.get_thread(db, lea, thread.id)
    assert [p.id for p in learner_view.replies] != [] and r.id not in [
        p.id for p in learner_view.replies
    ]
    assert r.id in [p.id for p in boards.get_thread(db, ines, thread.id).replies]
    assert [t.id for t in boards.list_threads(db, lea, board).threads] == [thread.id]
    assert len(boards.list_threads(db, ines, board).threads) == 2
    for attempt in (
        lambda: boards.load_post(db, lea, r.id),
        lambda: boards.react(db, lea, r, "like"),
        lambda: boards.reply(db, lea, thread, "c", parent_post=r),
        lambda: boards.get_thread(db, lea, hidden_thread.id),
    ):
        with pytest.raises(Refusal) as err:
            attempt()
        assert err.value.status == 404


def test_other_courses_ids_are_not_found(db) -> None:
    course, _board_row = course_board(db)
    other = make_course(db, platform=course.platform, context_key="c-202")
    other_board = boards.board_for_placement(db, other.placement)
    theirs = boards.create_thread(db, other.viewer(db, "lea"), other_board, "T", "B")
    their_post = boards.reply(db, other.viewer(db, "leo"), theirs, "r")
    db.commit()
    for who in ("lea", "ines"):
        v = course.viewer(db, who)
        for attempt in (
            lambda v=v: boards.get_board(db, v, other_board.id),
            lambda v=v: boards.get_thread(db, v, theirs.id),
            lambda v=v: boards.load_post(db, v, their_post.id),
            lambda v=v: boards.list_threads(db, v, other_board),
            lambda v=v: boards.create_thread(db, v, other_board, "T", "B"),
            lambda v=v: boards.reply(db, v, theirs, "x"),
            lambda v=v: boards.react(db, v, their_post, "like"),
            lambda v=v: boards.edit_post(db, v, their_post, "x"),
            lambda v=v: boards.delete_post(db, v, their_post),
            lambda v=v: boards.get_thread(db, v, 999_999),
        ):
            with pytest.raises(Refusal) as err:
                attempt()
            assert err.value.status == 404
    assert len(_outbox(db, events.THREAD_POSTED)) == 1


def test_cohorts_are_separate_for_learners(db) -> None:
    course, board = course_board(db, cohort_mode="groups")
    lea, leo, liv, ines = (course.viewer(db, n) for n in ("lea", "leo", "liv", "ines"))
    red, blue = course.groups["red"].id, course.groups["blue"].id
    t_red = boards.create_thread(db, lea, board, "Red", "B")
    assert t_red.cohort_group_id == red  # the learner's only cohort
    t_blue = boards.create_thread(db, liv, board, "Blue", "B")
    t_all = boards.create_thread(db, ines, board, "Everyone", "B")
    t_staff_blue = boards.create_thread(db, ines, board, "For blue", "B", cohort_group_id=blue)
    db.commit()
    ids = lambda v, **kw: {t.id for t in boards.list_threads(db, v, board, **kw).threads}  # noqa: E731
    assert ids(leo) == {t_red.id, t_all.id}
    assert ids(liv) == {t_blue.id, t_all.id, t_staff_blue.id}
    assert ids(ines) == {t_red.id, t_blue.id, t_all.id, t_staff_blue.id}
    assert ids(ines, cohort_group_id=blue) == {t_blue.id, t_staff_blue.id}
    for attempt in (
        lambda: boards.get_thread(db, liv, t_red.id),
        lambda: boards.reply(db, liv, t_red, "peek"),
        lambda: boards.create_thread(db, liv, board, "x", "y", cohort_group_id=red),
    ):
        with pytest.raises(Refusal) as err:
            attempt()
        assert err.value.status == 404
    boards.reply(db, leo, t_red, "same cohort")
    boards.reply(db, liv, t_all, "course-wide")
    # a learner in no cohort cannot start a thread in cohort mode
    from plugin.lti.models import LmsGroupMember

    db.execute(LmsGroupMember.__table__.delete().where(LmsGroupMember.user_id == liv.user_id))
    with pytest.raises(Refusal) as err:
        boards.create_thread(db, course.viewer(db, "liv"), board, "x", "y")
    assert err.value.status == 403


def test_cohort_ids_on_a_board_without_cohorts_are_refused(db) -> None:
    course, board = course_board(db)
    with pytest.raises(Refusal):
        boards.create_thread(
            db, course.viewer(db, "ines"), board, "x", "y", cohort_group_id=course.groups["red"].id
        )


def test_qa_mode_withholds_answers_until_the_learner_answers(db) -> None:
    course, board = course_board(db, qa_mode=True)
    lea, leo, liv = (course.viewer(db, n) for n in ("lea", "leo", "liv"))
    q = boards.create_thread(db, lea, board, "Q", "?", kind="question")
    boards.reply(db, leo, q, "Leo's answer")
    db.commit()
    assert [p.author.name for p in boards.get_thread(db, lea, q.id).replies] == ["Leo Learner"]
    withheld = boards.get_thread(db, liv, q.id)
    assert withheld.answers_withheld and withheld.replies == []
    boards.reply(db, liv, q, "Liv's answer")
    seen = boards.get_thread(db, liv, q.id)
    assert not seen.answers_withheld and len(seen.replies) == 2


# --- pagination ---------------------------------------------------------------------------------
def _seed_threads(db, course, board, n):
    lea = course.viewer(db, "lea")
    base = utcnow() - timedelta(days=1)
    made = []
    for i in range(n):
        t = boards.create_thread(db, lea, board, f"T{i}", "B")
        # several threads share a timestamp so the id tie-breaker matters
        t.last_activity_at = base + timedelta(minutes=i // 3)
        made.append(t)
    made[4].pinned = True
    db.commit()
    return made


def test_thread_keyset_pagination_is_complete_and_ordered(db) -> None:
    course, board = course_board(db, posts_per_hour="0")
    made = _seed_threads(db, course, board, 23)
    lea = course.viewer(db, "lea")
    expected = sorted(made, key=lambda t: (t.pinned, t.last_activity_at, t.id), reverse=True)
    seen, cursor = [], None
    while True:
        page = boards.list_threads(db, lea, board, cursor=cursor, limit=5)
        seen.extend(t.id for t in page.threads)
        assert len(page.threads) <= 5
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [t.id for t in expected] and seen[0] == made[4].id
    # a thread bumped by a reply moves to the top
    boards.reply(db, course.viewer(db, "leo"), made[0], "bump")
    db.commit()
    assert [t.id for t in boards.list_threads(db, lea, board, limit=2).threads] == [
        made[4].id,
        made[0].id,
    ]
    for bad in ("!!!", "bm90IGpzb24", "WzEsMl0"):
        with pytest.raises(Refusal) as err:
            boards.list_threads(db, lea, board, cursor=bad)
        assert err.value.status == 400


def test_list_and_thread_pages_issue_a_bounded_number_of_queries(app, db) -> None:
    course, board = course_board(db, anonymous_allowed=True, posts_per_hour="0")
    made = _seed_threads(db, course, board, 30)
    leo, liv = course.viewer(db, "leo"), course.viewer(db, "liv")
    for i in range(30):
        who = (leo, liv)[i % 2]
        r = boards.reply(db, who, made[0], f"reply {i}", anonymous=i % 3 == 0)
        boards.reply(db, course.viewer(db, "lea"), made[0], "comment", parent_post=r)
        boards.react(db, course.viewer(db, "lea"), r, "like")
    db.commit()
    lea = course.viewer(db, "lea")
    counts = {}
    for limit in (1, 5, 30):
        db.expunge_all()
        board = db.get(Board, board.id)
        with count_queries(app) as seen:
            page = boards.list_threads(db, lea, board, limit=limit)
        assert len(page.threads) == limit
        counts[("list", limit)] = len(seen)
        db.expunge_all()
        with count_queries(app) as seen:
            detail = boards.get_thread(db, lea, made[0].id, limit=limit)
        assert len(detail.replies) == limit and all(len(r.comments) == 1 for r in detail.replies)
        counts[("thread", limit)] = len(seen)
    assert {counts[("list", n)] for n in (1, 5, 30)} == {counts[("list", 1)]}
    assert {counts[("thread", n)] for n in (1, 5, 30)} == {counts[("thread", 1)]}
    assert counts[("list", 1)] <= 2 and counts[("thread", 1)] <= 8, counts


def test_thread_replies_paginate_by_keyset(db) -> None:
    course, board = course_board(db)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "T", "B")
    same = utcnow()
    replies = [boards.reply(db, leo, thread, f"r{i}") for i in range(7)]
    for r in replies[2:5]:
        r.created_at = same  # ties broken by id
    db.commit()
    expected = [r.id for r in sorted(replies, key=lambda p: (p.created_at, p.id))]
    seen, cursor = [], None
    while True:
        page = boards.get_thread(db, lea, thread.id, cursor=cursor, limit=3)
        seen.extend(p.id for p in page.replies)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
