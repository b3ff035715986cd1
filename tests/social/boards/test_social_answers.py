"""Answers and board settings: endorse, accept, sort orders, counters, settings, competency tags,
view statements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from plugin import events
from plugin.access import Refusal
from plugin.db import utcnow
from plugin.performance import frameworks
from plugin.performance.models import Competency, Evidence
from plugin.social import boards
from plugin.social.models import Board, ModerationAction, Post, Thread
from plugin.xapi.models import XapiOutbox
from tests.data_files import moodle_text
from tests.social.social_world import course_board, make_course


def _outbox(db, kind):
    return list(
        db.scalars(
            select(XapiOutbox)
            .where(XapiOutbox.event_kind == kind)
            .order_by(XapiOutbox.created_at, XapiOutbox.statement_id)
        )
    )


def _question(db, course, board, who="lea"):
    thread = boards.create_thread(
        db, course.viewer(db, who), board, "How to start?", "Any tips?", kind="question"
    )
    db.flush()
    return thread


def test_staff_endorse_a_reply_and_its_author_gets_the_evidence(db) -> None:
    course, board = course_board(db, unlimited=True)
    framework = frameworks.import_moodle_csv(db, course.platform.id, moodle_text())
    competency = db.scalars(
        select(Competency)
        .where(Competency.framework_id == framework.framework_id)
        .order_by(Competency.id)
    ).first()
    ines, lea, leo = (course.viewer(db, n) for n in ("ines", "lea", "leo"))
    boards.set_board_competencies(db, ines, board, [competency.id])
    thread = _question(db, course, board)
    answer = boards.reply(db, leo, thread, "Start small.")
    comment = boards.reply(db, lea, thread, "Thanks", parent_post=answer)
    db.commit()

    with pytest.raises(Refusal) as refused:
        boards.endorse(db, lea, answer)
    assert refused.value.status == 403
    opening = db.scalar(select(Post).where(Post.thread_id == thread.id, Post.is_opening))
    for not_a_reply in (opening, comment):
        with pytest.raises(Refusal) as bad:
            boards.endorse(db, ines, not_a_reply)
        assert bad.value.status == 400
    db.rollback()

    boards.endorse(db, ines, answer)
    boards.endorse(db, ines, answer)  # again: no second statement
    db.commit()
    assert answer.endorsed and thread.endorsed
    rows = _outbox(db, events.ANSWER_ENDORSED)
    assert len(rows) == 1
    statement = rows[0].statement
    assert statement["actor"]["account"]["name"] == course.users["ines"].sub
    assert statement["object"]["id"].endswith(f"/post/{answer.id}")
    others = statement["context"]["contextActivities"]["other"]
    assert [o["id"] for o in others] == [competency.uri]
    # the evidence is the answer's author's, not the endorser's
    evidence = db.scalars(select(Evidence).where(Evidence.source == events.ANSWER_ENDORSED)).all()
    assert [(e.user_id, e.competency_id) for e in evidence] == [
        (course.users["leo"].id, competency.id)
    ]
    detail = boards.get_thread(db, lea, thread.id)
    assert [r.endorsed for r in detail.replies] == [True]
    assert boards.list_threads(db, lea, board).threads[0].endorsed

    boards.endorse(db, ines, answer, endorsed=False)
    db.commit()
    assert not answer.endorsed and not thread.endorsed
    actions = db.scalars(
        select(ModerationAction.action)
        .where(ModerationAction.post_id == answer.id)
        .order_by(ModerationAction.id)
    ).all()
    assert actions == ["endorse", "unendorse"]


def test_the_asker_or_staff_accept_an_answer(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo, liv, ines = (course.viewer(db, n) for n in ("lea", "leo", "liv", "ines"))
    thread = _question(db, course, board)
    first = boards.reply(db, leo, thread, "Ask your team.")
    second = boards.reply(db, liv, thread, "Read the guide.")
    discussion = boards.create_thread(db, lea, board, "Chat", "Hello")
    elsewhere = boards.reply(db, leo, discussion, "Hi")
    db.commit()
    assert [t.id for t in boards.list_threads(db, lea, board, sort="unanswered").threads] == []

    cases = [
        (leo, thread, first, 403),  # not the asker
        (lea, discussion, elsewhere, 400),  # not a question
        (lea, thread, elsewhere, 400),  # a reply of another thread
    ]
    for who, target, post, status in cases:
        with pytest.raises(Refusal) as refused:
            boards.accept_answer(db, who, target, post)
        assert refused.value.status == status
    assert thread.accepted_post_id is None and not _outbox(db, events.ANSWER_ACCEPTED)

    boards.accept_answer(db, lea, thread, first)
    db.commit()
    assert thread.accepted_post_id == first.id
    assert boards.list_threads(db, leo, board).threads[-1].answered
    boards.accept_answer(db, ines, thread, second)  # staff may change it
    db.commit()
    rows = _outbox(db, events.ANSWER_ACCEPTED)
    assert [r.statement["object"]["id"].rsplit("/", 1)[1] for r in rows] == [
        str(first.id),
        str(second.id),
    ]
    assert rows[0].statement["actor"]["account"]["name"] == course.users["lea"].sub
    boards.delete_post(db, liv, second)  # deleting the accepted answer un-accepts it
    db.commit()
    assert thread.accepted_post_id is None
    boards.accept_answer(db, lea, thread, first)
    boards.accept_answer(db, lea, thread, None)
    db.commit()
    assert thread.accepted_post_id is None


def test_counters_follow_replies_comments_deletes_and_helpful_marks(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo, liv = (course.viewer(db, n) for n in ("lea", "leo", "liv"))
    thread = boards.create_thread(db, lea, board, "Counting", "One")
    r1 = boards.reply(db, leo, thread, "reply")
    c1 = boards.reply(db, liv, thread, "comment", parent_post=r1)
    boards.reply(db, lea, thread, "comment 2", parent_post=r1)
    boards.react(db, lea, r1, "helpful")
    boards.react(db, liv, r1, "helpful")
    boards.react(db, liv, r1, "like")
    db.commit()
    assert (thread.reply_count, thread.comment_count, thread.helpful_count) == (1, 2, 2)
    boards.delete_post(db, liv, c1)
    boards.unreact(db, liv, r1, "helpful")
    boards.unreact(db, liv, r1, "helpful")  # nothing left to take back
    db.commit()
    assert (thread.reply_count, thread.comment_count, thread.helpful_count) == (1, 1, 1)
    summary = boards.list_threads(db, lea, board).threads[0]
    assert (summary.reply_count, summary.comment_count, summary.helpful_count) == (1, 1, 1)


def _sorted_board(db):
    course, board = course_board(db, unlimited=True)
    lea, leo, ines = (course.viewer(db, n) for n in ("lea", "leo", "ines"))
    made = []
    now = utcnow()
    for i in range(7):
        t = boards.create_thread(
            db, lea, board, f"T{i}", "body", kind="question" if i % 2 else "discussion"
        )
        t.created_at = now - timedelta(hours=10 - i)  # T6 newest
        t.last_activity_at = now - timedelta(hours=20 - 3 * i) if i != 2 else now
        made.append(t)
    db.flush()
    for i, helpful in ((1, 3), (4, 2), (5, 2)):
        made[i].helpful_count = helpful
    boards.reply(db, leo, made[3], "an answer")  # T3 has a reply now: answered
    made[3].last_activity_at = now - timedelta(hours=11)
    boards.set_thread_state(db, ines, made[0], pinned=True)
    db.commit()
    return course, board, lea, made


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("activity", ["T0", "T2", "T6", "T5", "T4", "T3", "T1"]),
        ("newest", ["T0", "T6", "T5", "T4", "T3", "T2", "T1"]),
        ("helpful", ["T0", "T1", "T5", "T4", "T6", "T3", "T2"]),
        ("unanswered", ["T0", "T6", "T5", "T4", "T2", "T1"]),
    ],
)
def test_sort_orders_page_by_keyset(db, sort, expected) -> None:
    _course, board, lea, _made = _sorted_board(db)
    assert [t.title for t in boards.list_threads(db, lea, board, sort=sort).threads] == expected
    seen, cursor = [], None
    while True:
        page = boards.list_threads(db, lea, board, sort=sort, limit=2, cursor=cursor)
        seen += [t.title for t in page.threads]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected


def test_bad_sorts_and_cursors_are_refused(db) -> None:
    _course, board, lea, _made = _sorted_board(db)
    with pytest.raises(Refusal) as bad:
        boards.list_threads(db, lea, board, sort="random")
    assert bad.value.status == 400
    cursor = boards.list_threads(db, lea, board, sort="helpful", limit=2).next_cursor
    with pytest.raises(Refusal) as bad:
        boards.list_threads(db, lea, board, sort="newest", cursor=cursor)
    assert bad.value.status == 400


def test_staff_change_settings_with_an_audit_row_and_bad_values_change_nothing(db) -> None:
    course, board = course_board(db, unlimited=True)
    ines, lea = course.viewer(db, "ines"), course.viewer(db, "lea")
    with pytest.raises(Refusal) as refused:
        boards.update_settings(db, lea, board, qa_mode=True)
    assert refused.value.status == 403
    for bad in (
        {"cohort_mode": "teams"},
        {"grade_threads": "-1"},
        {"grade_replies": "many"},
        {"posts_per_hour": "5000"},
        {"colour": "red"},
    ):
        with pytest.raises(Refusal) as err:
            boards.update_settings(db, ines, board, **bad)
        assert err.value.status == 400
    db.rollback()
    fresh = db.get(Board, board.id)
    assert (fresh.cohort_mode, fresh.grade_threads, fresh.posts_per_hour) == ("none", None, 0)
    boards.update_settings(
        db,
        ines,
        fresh,
        cohort_mode="groups",
        qa_mode="1",
        grade_threads="2",
        grade_replies="",
        record_views=True,
        posts_per_hour="10",
    )
    db.commit()
    assert (fresh.cohort_mode, fresh.qa_mode, fresh.grade_threads, fresh.grade_replies) == (
        "groups",
        True,
        2,
        None,
    )
    assert fresh.record_views and fresh.posts_per_hour == 10
    log = db.scalars(select(ModerationAction).where(ModerationAction.action == "settings")).all()
    assert len(log) == 1 and "cohort_mode=groups" in log[0].reason


def test_thread_tags_come_from_the_course_competencies_and_reach_the_statements(db) -> None:
    course, board = course_board(db, unlimited=True)
    framework = frameworks.import_moodle_csv(db, course.platform.id, moodle_text())
    db.commit()
    comps = db.scalars(
        select(Competency)
        .where(Competency.framework_id == framework.framework_id)
        .order_by(Competency.id)
    ).all()
    ines, lea, leo = (course.viewer(db, n) for n in ("ines", "lea", "leo"))
    # nothing linked in the course yet: nothing to tag with; staff link from the platform's list
    assert boards.course_competencies(db, lea) == []
    with pytest.raises(Refusal) as untagged:
        boards.create_thread(db, lea, board, "Tagged", "text", competency_ids=[comps[0].id])
    assert untagged.value.status == 404
    db.rollback()
    assert [c.id for c in boards.competency_choices(db, ines)] == [c.id for c in comps]
    with pytest.raises(Refusal) as learner_choices:
        boards.competency_choices(db, lea)
    assert learner_choices.value.status == 403
    boards.set_board_competencies(db, ines, board, [comps[0].id, comps[1].id])
    db.commit()
    assert [c.id for c in boards.course_competencies(db, lea)] == [comps[0].id, comps[1].id]
    # the settings page still offers every competency, so staff can link more
    assert len(boards.competency_choices(db, ines)) == len(comps)
    with pytest.raises(Refusal) as outside:
        boards.create_thread(db, lea, board, "Tagged", "text", competency_ids=[comps[2].id])
    assert outside.value.status == 404
    db.rollback()
    thread = boards.create_thread(db, lea, board, "Tagged", "text", competency_ids=[comps[1].id])
    db.commit()
    assert [c.id for c in boards.thread_competencies(db, thread)] == [comps[1].id]
    posted = _outbox(db, events.THREAD_POSTED)[-1].statement
    iris = [o["id"] for o in posted["context"]["contextActivities"]["other"]]
    assert sorted(iris) == sorted([comps[0].uri, comps[1].uri])
    with pytest.raises(Refusal) as not_author:
        boards.set_thread_competencies(db, leo, thread, [])
    assert not_author.value.status == 403
    with pytest.raises(Refusal) as too_many:
        boards.set_thread_competencies(db, ines, thread, [c.id for c in comps[:6]])
    assert too_many.value.status in (400, 404)
    db.rollback()
    boards.set_thread_competencies(db, ines, thread, [])
    db.commit()
    assert boards.thread_competencies(db, thread) == []


def test_views_are_recorded_only_where_the_board_asks_and_give_no_evidence(db) -> None:
    course, quiet = course_board(db, unlimited=True)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, quiet, "Quiet", "text")
    db.commit()
    assert boards.record_view(db, leo, thread) is False
    db.commit()
    assert _outbox(db, events.THREAD_VIEWED) == []

    boards.update_settings(db, course.viewer(db, "ines"), quiet, record_views=True)
    db.commit()
    assert boards.record_view(db, leo, thread) is True
    boards.record_view(db, leo, thread)  # the same minute: the same statement id, one row
    db.commit()
    rows = _outbox(db, events.THREAD_VIEWED)
    assert len(rows) == 1
    assert rows[0].statement["verb"]["id"] == "http://id.tincanapi.com/verb/viewed"
    assert db.scalars(select(Evidence).where(Evidence.source == events.THREAD_VIEWED)).all() == []
    other = make_course(db, context_key="c-202")
    with pytest.raises(Refusal) as elsewhere:
        boards.record_view(db, other.viewer(db, "lea"), db.get(Thread, thread.id))
    assert elsewhere.value.status == 404
