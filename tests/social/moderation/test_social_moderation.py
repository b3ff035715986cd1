"""Moderation services: reports and the queue, hide/unhide, dismiss, mute, the audit log, and who
may moderate (staff everywhere, LTI Mentors only where the board allows it)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from plugin import events
from plugin.access import Refusal, Viewer
from plugin.lti import roles
from plugin.lti.models import LmsGroupMember, Membership, User
from plugin.social import boards, display, moderation
from plugin.social.models import Board, ModerationAction, Mute, Post, Report, Thread
from plugin.xapi.models import XapiOutbox
from tests.social.social_world import count_queries, course_board, make_course


def _mentor(db, course, *, group: str | None = None) -> Viewer:
    """A member with the LTI Mentor role (optionally in one cohort)."""
    user = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub=f"grace-{uuid.uuid4().hex[:6]}",
        name="Grace Mentor",
    )
    db.add(user)
    db.flush()
    db.add(Membership(context_id=course.context.id, user_id=user.id, roles=[roles.MENTOR]))
    if group:
        db.add(LmsGroupMember(group_id=course.groups[group].id, user_id=user.id))
    db.flush()
    course.users["grace"] = user
    return course.viewer(db, "grace")


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _log(db) -> list[tuple[str, int | None, int | None]]:
    return [
        (a.action, a.actor_id, a.target_user_id)
        for a in db.scalars(select(ModerationAction).order_by(ModerationAction.id))
    ]


def _refused(status: int, act) -> Refusal:
    with pytest.raises(Refusal) as err:
        act()
    assert err.value.status == status, err.value.message
    assert err.value.message
    return err.value


# --- reporting -----------------------------------------------------------------------------------
def test_a_report_and_its_statement_are_one_transaction(db) -> None:
    course, board = course_board(db)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "Feedback", "Opening")
    reply = boards.reply(db, lea, thread, "Something rude")
    db.commit()
    report = moderation.report_post(db, leo, reply, "  Personal attack on a classmate  ")
    assert report.reason == "Personal attack on a classmate" and report.status == "open"
    rows = list(db.scalars(select(XapiOutbox).where(XapiOutbox.event_kind == events.POST_REPORTED)))
    assert len(rows) == 1  # in the same session, before the commit
    st = rows[0].statement
    assert st["verb"]["id"] == "https://w3id.org/xapi/acrossx/verbs/reported"
    assert st["object"]["id"].endswith(f"/post/{reply.id}")
    assert st["actor"]["account"]["name"] == course.users["leo"].sub
    parents = [p["id"] for p in st["context"]["contextActivities"]["parent"]]
    assert parents[0].endswith(f"/thread/{thread.id}")
    assert "Personal attack" not in json.dumps(st) and "result" not in st
    db.rollback()
    assert _count(db, Report) == 0
    assert (
        db.scalar(
            select(func.count())
            .select_from(XapiOutbox)
            .where(XapiOutbox.event_kind == events.POST_REPORTED)
        )
        == 0
    )


def test_report_rules(db) -> None:
    course, board = course_board(db, cohort_mode="groups", qa_mode=True)
    lea, leo, liv, ines = (course.viewer(db, n) for n in ("lea", "leo", "liv", "ines"))
    red = boards.create_thread(db, lea, board, "Red talk", "Opening")
    mine = boards.reply(db, lea, red, "My own reply")
    leos = boards.reply(db, leo, red, "Leo's reply")
    gone = boards.reply(db, leo, red, "Regret this")
    boards.delete_post(db, leo, gone)
    hidden = boards.reply(db, leo, red, "Hidden one")
    moderation.hide_post(db, ines, hidden)
    question = boards.create_thread(db, lea, board, "Q?", "Ask", kind="question")
    answer = boards.reply(db, lea, question, "An answer")
    other = make_course(db, platform=course.platform, context_key="c-202")
    other_board = boards.board_for_placement(db, other.placement)
    foreign = boards.create_thread(db, other.viewer(db, "lea"), other_board, "Else", "Where")
    foreign_post = db.scalars(select(Post).where(Post.thread_id == foreign.id)).one()
    db.commit()
    before = (_count(db, Report), _count(db, XapiOutbox))

    assert "own" in _refused(400, lambda: moderation.report_post(db, lea, mine, "me")).message
    for bad in ("", "   ", None, 42, "x" * 1001):
        _refused(400, lambda bad=bad: moderation.report_post(db, lea, leos, bad))
    _refused(409, lambda: moderation.report_post(db, lea, gone, "deleted"))
    _refused(404, lambda: moderation.report_post(db, lea, hidden, "hidden"))
    _refused(404, lambda: moderation.report_post(db, liv, leos, "other cohort"))
    _refused(404, lambda: moderation.report_post(db, lea, foreign_post, "other course"))
    # Q&A mode: Leo has not answered the question, so Lea's answer is withheld from him
    _refused(404, lambda: moderation.report_post(db, leo, answer, "not seen"))
    db.rollback()
    assert (_count(db, Report), _count(db, XapiOutbox)) == before

    moderation.report_post(db, lea, leos, "x" * 1000)
    db.commit()
    again = _refused(409, lambda: moderation.report_post(db, lea, leos, "once more"))
    assert "already reported" in again.message
    moderation.report_post(db, ines, leos, "staff may report too")
    assert moderation.reported_post_ids(db, lea, red.id) == {leos.id}
    boards.reply(db, leo, question, "Leo answers")
    moderation.report_post(db, leo, answer, "seen now")  # answered: the answer is visible
    db.commit()
    assert _count(db, Report) == before[0] + 3


# --- the queue -----------------------------------------------------------------------------------
def test_queue_groups_reports_per_post_and_respects_anonymity(db) -> None:
    course, board = course_board(db, anonymous_allowed="true", mentors_moderate="true")
    lea, leo, liv, ines = (course.viewer(db, n) for n in ("lea", "leo", "liv", "ines"))
    grace = _mentor(db, course)
    thread = boards.create_thread(db, lea, board, "Feedback models", "Opening")
    shy = boards.reply(db, lea, thread, "**Rude** words *here* " + "long " * 100, anonymous=True)
    plain = boards.reply(db, liv, thread, "Off topic")
    moderation.report_post(db, leo, shy, "Insulting")
    moderation.report_post(db, liv, shy, "Mean")
    moderation.report_post(db, leo, plain, "Spam")
    db.commit()

    page = moderation.list_reports(db, ines)
    assert [i.post_id for i in page.items] == [shy.id, plain.id] and page.next_cursor is None
    first = page.items[0]
    assert first.author.name == "Lea Learner" and first.author.anonymous
    assert first.report_count == 2 and [r.reason for r in first.reports] == ["Insulting", "Mean"]
    assert [r.reporter for r in first.reports] == ["Leo Learner", "Liv Learner"]
    assert first.thread_title == "Feedback models" and first.board_id == board.id
    assert first.board_title == "Cohort board" and first.level == "reply"
    assert first.excerpt.startswith("Rude words here long") and first.excerpt.endswith("…")
    assert "<" not in first.excerpt and len(first.excerpt) <= moderation.EXCERPT_CHARS
    assert (
        display.excerpt("<p>a &amp; b<br>\n<code>&lt;x&gt;</code></p>", moderation.EXCERPT_CHARS)
        == "a & b <x>"
    )

    # a mentor moderator is not staff: anonymous authors stay anonymous, reporters unnamed
    seen = moderation.list_reports(db, grace).items[0]
    assert seen.author.name == "Anonymous" and seen.author.user_id is None
    assert [r.reporter for r in seen.reports] == [None, None]
    assert moderation.open_report_count(db, grace) == 3 == moderation.open_report_count(db, ines)

    for learner in (lea, leo):
        _refused(403, lambda learner=learner: moderation.list_reports(db, learner))
        assert moderation.open_report_count(db, learner) == 0
    _refused(400, lambda: moderation.list_reports(db, ines, status="all"))
    _refused(400, lambda: moderation.list_reports(db, ines, cursor="garbage"))
    # another course's staff see none of these reports and cannot reach them
    other = make_course(db, platform=course.platform, context_key="c-202")
    boards.board_for_placement(db, other.placement)
    outsider = other.viewer(db, "ines")
    assert moderation.list_reports(db, outsider).items == []
    report_id = first.reports[0].id
    _refused(404, lambda: moderation.get_report(db, outsider, report_id))
    _refused(404, lambda: moderation.find_post(db, outsider, shy.id))

    moderation.hide_post(db, ines, shy, "Insults")
    db.commit()
    assert [i.post_id for i in moderation.list_reports(db, ines).items] == [plain.id]
    resolved = moderation.list_reports(db, ines, status="resolved").items
    assert [i.post_id for i in resolved] == [shy.id] and resolved[0].hidden
    assert {r.resolved_by for r in resolved[0].reports} == {"Ines Instructor"}
    hidden_for_mentor = moderation.list_reports(db, grace, status="resolved").items[0]
    assert hidden_for_mentor.excerpt == "" and hidden_for_mentor.hidden


def test_queue_pages_by_keyset_with_a_bounded_number_of_queries(app, db) -> None:
    course, board = course_board(db, posts_per_hour="0")
    lea, leo, liv, ines = (course.viewer(db, n) for n in ("lea", "leo", "liv", "ines"))
    thread = boards.create_thread(db, lea, board, "Busy", "Opening")
    made = []
    for i in range(30):
        post = boards.reply(db, lea, thread, f"reply {i}")
        moderation.report_post(db, leo, post, f"reason {i}")
        if i % 2:
            moderation.report_post(db, liv, post, f"second {i}")
        made.append(post.id)
    db.commit()
    seen, cursor = [], None
    while True:
        page = moderation.list_reports(db, ines, cursor=cursor, limit=7)
        seen += [i.post_id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == made  # oldest first, each once

    counts = set()
    for limit in (1, 5, 30):
        db.expunge_all()
        with count_queries(app) as queries:
            page = moderation.list_reports(db, ines, limit=limit)
        assert len(page.items) == limit
        counts.add(len(queries))
    assert len(counts) == 1 and counts.pop() <= 5

    for i, post_id in enumerate(made):
        post = db.get(Post, post_id)
        if i % 3 == 0:
            moderation.hide_post(db, ines, post)
    db.commit()
    resolved, cursor = [], None
    while True:
        page = moderation.list_reports(db, ines, status="resolved", cursor=cursor, limit=4)
        resolved += [i.post_id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(resolved) == made[::3] and len(set(resolved)) == len(resolved)


# --- hide and unhide -----------------------------------------------------------------------------
def test_hide_and_unhide_keep_counts_reports_and_the_log_right(db) -> None:
    course, board = course_board(db)
    lea, leo, liv, ines = (course.viewer(db, n) for n in ("lea", "leo", "liv", "ines"))
    thread = boards.create_thread(db, lea, board, "T", "Opening")
    reply = boards.reply(db, leo, thread, "rude reply")
    comment = boards.reply(db, liv, thread, "a comment", parent_post=reply)
    other_reply = boards.reply(db, liv, thread, "fine")
    r1 = moderation.report_post(db, lea, reply, "rude")
    r2 = moderation.report_post(db, liv, reply, "very rude")
    db.commit()
    assert (thread.reply_count, thread.comment_count) == (2, 1)

    moderation.hide_post(db, ines, reply, "Insulting")
    db.commit()
    assert reply.hidden and (thread.reply_count, thread.comment_count) == (1, 1)
    assert {r1.status, r2.status} == {"resolved"} and r1.resolved_by_id == course.users["ines"].id
    assert r1.resolved_at is not None
    assert [p.id for p in boards.get_thread(db, lea, thread.id).replies] == [other_reply.id]
    staff_view = boards.get_thread(db, ines, thread.id).replies
    assert (staff_view[0].id, staff_view[0].hidden) == (reply.id, True)
    actions = _log(db)
    assert actions == [("hide", course.users["ines"].id, course.users["leo"].id)]
    assert db.scalars(select(ModerationAction)).one().reason == "Insulting"

    moderation.hide_post(db, ines, reply)  # again: nothing changes
    assert thread.reply_count == 1 and len(_log(db)) == 1

    moderation.hide_post(db, ines, comment)
    assert thread.comment_count == 0
    moderation.unhide_post(db, ines, comment)
    moderation.unhide_post(db, ines, reply)
    moderation.unhide_post(db, ines, reply)  # again: nothing changes
    db.commit()
    assert (thread.reply_count, thread.comment_count) == (2, 1) and not reply.hidden
    assert {r1.status, r2.status} == {"resolved"}  # reports stay handled
    assert [a for a, *_ in _log(db)] == ["hide", "hide", "unhide", "unhide"]

    # a deleted post does not count, hidden or not
    boards.delete_post(db, liv, other_reply)
    assert thread.reply_count == 1
    moderation.hide_post(db, ines, other_reply)
    moderation.unhide_post(db, ines, other_reply)
    assert thread.reply_count == 1

    # hiding the opening post hides the thread from learners
    opening = db.scalars(select(Post).where(Post.thread_id == thread.id, Post.is_opening)).one()
    moderation.hide_post(db, ines, opening)
    db.commit()
    assert boards.list_threads(db, leo, board).threads == []
    assert [t.id for t in boards.list_threads(db, ines, board).threads] == [thread.id]
    _refused(404, lambda: boards.load_thread(db, leo, thread.id))
    assert boards.get_thread(db, ines, thread.id).opening.hidden


def test_learners_and_strangers_cannot_hide(db) -> None:
    course, board = course_board(db)
    lea, leo, ines = (course.viewer(db, n) for n in ("lea", "leo", "ines"))
    thread = boards.create_thread(db, lea, board, "T", "Opening")
    reply = boards.reply(db, leo, thread, "reply")
    hidden = boards.reply(db, leo, thread, "hidden")
    moderation.hide_post(db, ines, hidden)
    other = make_course(db, platform=course.platform, context_key="c-202")
    boards.board_for_placement(db, other.placement)
    outsider = other.viewer(db, "ines")
    db.commit()
    before = _log(db)
    _refused(403, lambda: moderation.hide_post(db, lea, reply))
    _refused(403, lambda: moderation.hide_post(db, leo, reply))
    _refused(404, lambda: moderation.unhide_post(db, lea, hidden))  # cannot even see it
    _refused(404, lambda: moderation.hide_post(db, outsider, reply))
    _refused(400, lambda: moderation.hide_post(db, ines, reply, "r" * 1001))
    db.rollback()
    assert not reply.hidden and hidden.hidden and _log(db) == before


# --- dismiss -------------------------------------------------------------------------------------
def test_dismiss_closes_the_posts_open_reports(db) -> None:
    course, board = course_board(db)
    lea, leo, liv, ines = (course.viewer(db, n) for n in ("lea", "leo", "liv", "ines"))
    thread = boards.create_thread(db, lea, board, "T", "Opening")
    reply = boards.reply(db, leo, thread, "a strong opinion")
    r1 = moderation.report_post(db, lea, reply, "I disagree")
    r2 = moderation.report_post(db, liv, reply, "Me too")
    db.commit()
    _refused(403, lambda: moderation.dismiss_report(db, lea, r1))
    moderation.dismiss_report(db, ines, r1, "Disagreement is fine")
    db.commit()
    assert (r1.status, r2.status) == ("dismissed", "dismissed") and not reply.hidden
    assert r2.resolved_by_id == course.users["ines"].id
    row = db.scalars(select(ModerationAction)).one()
    assert (row.action, row.report_id, row.post_id, row.reason) == (
        "dismiss",
        r1.id,
        reply.id,
        "Disagreement is fine",
    )
    assert "already" in _refused(409, lambda: moderation.dismiss_report(db, ines, r2)).message
    assert moderation.list_reports(db, ines).items == []
    dismissed = moderation.list_reports(db, ines, status="dismissed").items
    assert [i.post_id for i in dismissed] == [reply.id]


# --- mute ----------------------------------------------------------------------------------------
def test_mute_blocks_every_kind_of_writing_until_unmuted(db) -> None:
    course, board = course_board(db)
    lea, leo, ines = (course.viewer(db, n) for n in ("lea", "leo", "ines"))
    thread = boards.create_thread(db, lea, board, "T", "Opening")
    leos = boards.reply(db, leo, thread, "before the mute")
    leas = boards.reply(db, lea, thread, "Lea's reply")
    db.commit()
    leo_id = course.users["leo"].id
    moderation.mute(db, ines, leo_id, "Repeated insults")
    moderation.mute(db, ines, leo_id)  # idempotent: no second row, no second log entry
    db.commit()
    assert boards.is_muted(db, course.context.id, leo_id) and _count(db, Mute) == 1
    assert _log(db) == [("mute", course.users["ines"].id, leo_id)]
    before = (_count(db, Post), _count(db, Thread), _count(db, XapiOutbox))
    for act in (
        lambda: boards.create_thread(db, leo, board, "New", "thread"),
        lambda: boards.reply(db, leo, thread, "reply"),
        lambda: boards.reply(db, leo, thread, "comment", parent_post=leas),
        lambda: boards.edit_post(db, leo, leos, "edited"),
        lambda: boards.react(db, leo, leas, "like"),
    ):
        assert "muted" in _refused(403, act).message
    db.rollback()
    assert (_count(db, Post), _count(db, Thread), _count(db, XapiOutbox)) == before
    flags = moderation.member_flags(db, course.context.id, [leo_id, course.users["ines"].id])
    assert flags[leo_id] == moderation.MemberFlags(staff=False, muted=True)
    assert flags[course.users["ines"].id] == moderation.MemberFlags(staff=True, muted=False)

    assert moderation.unmute(db, ines, leo_id) is True
    assert moderation.unmute(db, ines, leo_id) is False
    db.commit()
    boards.create_thread(db, leo, board, "New", "thread")
    boards.reply(db, leo, thread, "reply")
    boards.edit_post(db, leo, leos, "edited")
    boards.react(db, leo, leas, "like")
    db.commit()
    assert [a for a, *_ in _log(db)] == ["mute", "unmute"]


def test_mute_refusals(db) -> None:
    course, _board_row = course_board(db, mentors_moderate="true")
    lea, ines = course.viewer(db, "lea"), course.viewer(db, "ines")
    grace = _mentor(db, course)
    other = make_course(db, platform=course.platform, context_key="c-202")
    db.commit()
    before = (_count(db, Mute), _log(db))
    _refused(403, lambda: moderation.mute(db, lea, course.users["leo"].id))
    _refused(403, lambda: moderation.unmute(db, lea, course.users["leo"].id))
    _refused(400, lambda: moderation.mute(db, ines, course.users["ines"].id))
    _refused(403, lambda: moderation.mute(db, grace, course.users["ines"].id))  # staff
    _refused(404, lambda: moderation.mute(db, ines, other.users["leo"].id))
    _refused(404, lambda: moderation.unmute(db, ines, other.users["leo"].id))
    _refused(404, lambda: moderation.mute(db, ines, 987654))
    _refused(400, lambda: moderation.mute(db, ines, course.users["leo"].id, "r" * 1001))
    db.rollback()
    assert (_count(db, Mute), _log(db)) == before
    moderation.mute(db, grace, course.users["leo"].id)  # a mentor moderator may mute learners
    db.commit()
    assert _count(db, Mute) == 1


def test_rate_limit_refuses_and_stores_nothing(db) -> None:
    course, board = course_board(db, posts_per_hour="2")
    lea = course.viewer(db, "lea")
    thread = boards.create_thread(db, lea, board, "One", "first")
    boards.reply(db, lea, thread, "second")
    db.commit()
    before = (_count(db, Post), _count(db, XapiOutbox))
    err = _refused(429, lambda: boards.reply(db, lea, thread, "third"))
    assert "last hour" in err.message
    db.rollback()
    assert (_count(db, Post), _count(db, XapiOutbox)) == before
    boards.reply(db, course.viewer(db, "ines"), thread, "staff are not limited")


# --- the audit log -------------------------------------------------------------------------------
def test_audit_log_records_every_act_with_its_actor(db) -> None:
    course, board = course_board(db, anonymous_allowed="true", mentors_moderate="true")
    lea, leo, ines = (course.viewer(db, n) for n in ("lea", "leo", "ines"))
    grace = _mentor(db, course)
    thread = boards.create_thread(db, lea, board, "Loud thread", "Opening")
    shy = boards.reply(db, leo, thread, "anonymous words", anonymous=True)
    other = boards.create_thread(db, lea, board, "Quiet thread", "Opening")
    report = moderation.report_post(db, lea, shy, "rude")
    db.commit()
    boards.set_thread_state(db, ines, thread, pinned=True)
    boards.set_thread_state(db, grace, thread, locked=True, lock_reason="Cooling off")
    moderation.hide_post(db, ines, shy, "rude")
    moderation.unhide_post(db, ines, shy)
    moderation.mute(db, ines, course.users["leo"].id, "Pattern of insults")
    report2 = moderation.report_post(
        db, leo, db.scalars(select(Post).where(Post.thread_id == other.id)).one(), "spam"
    )
    moderation.dismiss_report(db, grace, report2)
    db.commit()

    log = moderation.audit_log(db, ines)
    assert [e.action for e in log.entries] == ["dismiss", "mute", "unhide", "hide", "lock", "pin"]
    by_action = {e.action: e for e in log.entries}
    assert by_action["lock"].actor == "Grace Mentor" and by_action["lock"].reason == "Cooling off"
    assert by_action["pin"].actor == "Ines Instructor" and by_action["pin"].label
    assert by_action["hide"].target == "Leo Learner" and by_action["hide"].report_id == report.id
    assert by_action["hide"].thread_title == "Loud thread"
    assert by_action["mute"].target == "Leo Learner" and by_action["mute"].thread_id is None
    assert by_action["dismiss"].thread_title == "Quiet thread"

    # the mentor moderator sees the same log, the anonymous author masked
    mentor_view = {e.action: e for e in moderation.audit_log(db, grace).entries}
    assert mentor_view["hide"].target == "Anonymous"
    assert mentor_view["hide"].target_user_id is None
    assert mentor_view["mute"].target == "Leo Learner"  # muting is not about one post

    # keyset pages, newest first; one thread only
    seen, cursor = [], None
    while True:
        page = moderation.audit_log(db, ines, cursor=cursor, limit=4)
        seen += [e.id for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [e.id for e in log.entries]
    only = moderation.audit_log(db, ines, thread_id=thread.id).entries
    assert [e.action for e in only] == ["unhide", "hide", "lock", "pin"]

    _refused(403, lambda: moderation.audit_log(db, lea))
    _refused(400, lambda: moderation.audit_log(db, ines, cursor="!!!"))
    outsider_course = make_course(db, platform=course.platform, context_key="c-202")
    boards.board_for_placement(db, outsider_course.placement)
    outsider = outsider_course.viewer(db, "ines")
    assert moderation.audit_log(db, outsider).entries == []
    _refused(404, lambda: moderation.audit_log(db, outsider, thread_id=thread.id))


def test_audit_log_query_count_is_bounded(app, db) -> None:
    course, board = course_board(db, posts_per_hour="0")
    lea, ines = course.viewer(db, "lea"), course.viewer(db, "ines")
    for i in range(20):
        thread = boards.create_thread(db, lea, board, f"T{i}", "body")
        boards.set_thread_state(db, ines, thread, pinned=True)
        moderation.hide_post(
            db, ines, db.scalars(select(Post).where(Post.thread_id == thread.id)).one()
        )
    db.commit()
    counts = set()
    for limit in (1, 10, 40):
        db.expunge_all()
        with count_queries(app) as queries:
            assert len(moderation.audit_log(db, ines, limit=limit).entries) == limit
        counts.add(len(queries))
    assert len(counts) == 1 and counts.pop() <= 4


# --- LTI Mentors -------------------------------------------------------------------------------
def test_mentors_moderate_only_where_the_board_allows(db) -> None:
    course, board = course_board(db)
    lea, leo, ines = (course.viewer(db, n) for n in ("lea", "leo", "ines"))
    grace = _mentor(db, course)
    thread = boards.create_thread(db, lea, board, "T", "Opening")
    reply = boards.reply(db, leo, thread, "reply")
    moderation.report_post(db, lea, reply, "rude")
    db.commit()
    assert not boards.can_moderate(grace, board)
    assert not moderation.can_moderate_course(db, grace)
    _refused(403, lambda: moderation.hide_post(db, grace, reply))
    _refused(403, lambda: moderation.list_reports(db, grace))
    _refused(403, lambda: moderation.audit_log(db, grace))
    _refused(403, lambda: moderation.mute(db, grace, course.users["leo"].id))
    _refused(403, lambda: boards.set_thread_state(db, grace, thread, pinned=True))
    db.rollback()

    boards.update_settings(db, ines, db.get(Board, board.id), mentors_moderate=True)
    db.commit()
    assert moderation.can_moderate_course(db, grace)
    assert [i.post_id for i in moderation.list_reports(db, grace).items] == [reply.id]
    moderation.hide_post(db, grace, reply)
    # the mentor is not staff: the hidden post is gone from their view of the thread …
    assert boards.get_thread(db, grace, thread.id).replies == []
    # … but they can still take the decision back
    moderation.unhide_post(db, grace, reply)
    db.commit()
    assert not reply.hidden


def test_mentor_moderators_see_only_their_cohorts(db) -> None:
    course, board = course_board(db, cohort_mode="groups", mentors_moderate="true")
    lea, liv, ines = (course.viewer(db, n) for n in ("lea", "liv", "ines"))
    grace = _mentor(db, course, group="red")
    red = boards.create_thread(db, lea, board, "Red", "Opening")
    blue = boards.create_thread(db, liv, board, "Blue", "Opening")
    red_reply = boards.reply(db, course.viewer(db, "leo"), red, "red reply")
    blue_opening = db.scalars(select(Post).where(Post.thread_id == blue.id)).one()
    moderation.report_post(db, lea, red_reply, "rude")
    moderation.report_post(db, ines, blue_opening, "rude")
    db.commit()
    assert [i.post_id for i in moderation.list_reports(db, grace).items] == [red_reply.id]
    assert len(moderation.list_reports(db, ines).items) == 2
    assert moderation.open_report_count(db, grace) == 1
    _refused(404, lambda: moderation.hide_post(db, grace, blue_opening))
    boards.set_thread_state(db, ines, blue, pinned=True)
    db.commit()
    assert [e.thread_id for e in moderation.audit_log(db, grace).entries] == []
    assert [e.thread_id for e in moderation.audit_log(db, ines).entries] == [blue.id]
