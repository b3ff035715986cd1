"""Moderation services: reports and the queue, hide/unhide, dismiss, mute, the audit log, and who
may moderate (staff everywhere, LTI Mentors only where the board allows it)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from plugin import events
from plugin.access import Refusal, Viewer
from plugin.db import new_session
from plugin.lti import roles
from plugin.lti.models import LmsGroupMember, Membership, User
from plugin.social import boards, moderation
from plugin.social.models import Board, ModerationAction, Mute, Post, Report, Thread
from plugin.xapi.models import XapiOutbox
from tests.social.social_world import make_course
from tests.social.test_social_boards import count_queries


@pytest.fixture
def s(app):
    with new_session(app) as session:
        yield session


def _board(s, **settings):
    course = make_course(s, settings=settings)
    board = boards.board_for_placement(s, course.placement)
    s.commit()
    return course, board


def _mentor(s, course, *, group: str | None = None) -> Viewer:
    """A member with the LTI Mentor role (optionally in one cohort)."""
    user = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub=f"grace-{uuid.uuid4().hex[:6]}",
        name="Grace Mentor",
    )
    s.add(user)
    s.flush()
    s.add(Membership(context_id=course.context.id, user_id=user.id, roles=[roles.MENTOR]))
    if group:
        s.add(LmsGroupMember(group_id=course.groups[group].id, user_id=user.id))
    s.flush()
    course.users["grace"] = user
    return course.viewer(s, "grace")


def _count(s, model) -> int:
    return s.scalar(select(func.count()).select_from(model))


def _log(s) -> list[tuple[str, int | None, int | None]]:
    return [
        (a.action, a.actor_id, a.target_user_id)
        for a in s.scalars(select(ModerationAction).order_by(ModerationAction.id))
    ]


def _refused(status: int, act) -> Refusal:
    with pytest.raises(Refusal) as err:
        act()
    assert err.value.status == status, err.value.message
    assert err.value.message
    return err.value


# --- reporting -----------------------------------------------------------------------------------
def test_a_report_and_its_statement_are_one_transaction(s) -> None:
    course, board = _board(s)
    lea, leo = course.viewer(s, "lea"), course.viewer(s, "leo")
    thread = boards.create_thread(s, lea, board, "Feedback", "Opening")
    reply = boards.reply(s, lea, thread, "Something rude")
    s.commit()
    report = moderation.report_post(s, leo, reply, "  Personal attack on a classmate  ")
    assert report.reason == "Personal attack on a classmate" and report.status == "open"
    rows = list(s.scalars(select(XapiOutbox).where(XapiOutbox.event_kind == events.POST_REPORTED)))
    assert len(rows) == 1  # in the same session, before the commit
    st = rows[0].statement
    assert st["verb"]["id"] == "https://w3id.org/xapi/acrossx/verbs/reported"
    assert st["object"]["id"].endswith(f"/post/{reply.id}")
    assert st["actor"]["account"]["name"] == course.users["leo"].sub
    parents = [p["id"] for p in st["context"]["contextActivities"]["parent"]]
    assert parents[0].endswith(f"/thread/{thread.id}")
    assert "Personal attack" not in json.dumps(st) and "result" not in st
    s.rollback()
    assert _count(s, Report) == 0
    assert (
        s.scalar(
            select(func.count())
            .select_from(XapiOutbox)
            .where(XapiOutbox.event_kind == events.POST_REPORTED)
        )
        == 0
    )


def test_report_rules(s) -> None:
    course, board = _board(s, cohort_mode="groups", qa_mode=True)
    lea, leo, liv, ines = (course.viewer(s, n) for n in ("lea", "leo", "liv", "ines"))
    red = boards.create_thread(s, lea, board, "Red talk", "Opening")
    mine = boards.reply(s, lea, red, "My own reply")
    leos = boards.reply(s, leo, red, "Leo's reply")
    gone = boards.reply(s, leo, red, "Regret this")
    boards.delete_post(s, leo, gone)
    hidden = boards.reply(s, leo, red, "Hidden one")
    moderation.hide_post(s, ines, hidden)
    question = boards.create_thread(s, lea, board, "Q?", "Ask", kind="question")
    answer = boards.reply(s, lea, question, "An answer")
    other = make_course(s, platform=course.platform, context_key="c-202")
    other_board = boards.board_for_placement(s, other.placement)
    foreign = boards.create_thread(s, other.viewer(s, "lea"), other_board, "Else", "Where")
    foreign_post = s.scalars(select(Post).where(Post.thread_id == foreign.id)).one()
    s.commit()
    before = (_count(s, Report), _count(s, XapiOutbox))

    assert "own" in _refused(400, lambda: moderation.report_post(s, lea, mine, "me")).message
    for bad in ("", "   ", None, 42, "x" * 1001):
        _refused(400, lambda bad=bad: moderation.report_post(s, lea, leos, bad))
    _refused(409, lambda: moderation.report_post(s, lea, gone, "deleted"))
    _refused(404, lambda: moderation.report_post(s, lea, hidden, "hidden"))
    _refused(404, lambda: moderation.report_post(s, liv, leos, "other cohort"))
    _refused(404, lambda: moderation.report_post(s, lea, foreign_post, "other course"))
    # Q&A mode: Leo has not answered the question, so Lea's answer is withheld from him
    _refused(404, lambda: moderation.report_post(s, leo, answer, "not seen"))
    s.rollback()
    assert (_count(s, Report), _count(s, XapiOutbox)) == before

    moderation.report_post(s, lea, leos, "x" * 1000)
    s.commit()
    again = _refused(409, lambda: moderation.report_post(s, lea, leos, "once more"))
    assert "already reported" in again.message
    moderation.report_post(s, ines, leos, "staff may report too")
    assert moderation.reported_post_ids(s, lea, red.id) == {leos.id}
    boards.reply(s, leo, question, "Leo answers")
    moderation.report_post(s, leo, answer, "seen now")  # answered: the answer is visible
    s.commit()
    assert _count(s, Report) == before[0] + 3


# --- the queue -----------------------------------------------------------------------------------
def test_queue_groups_reports_per_post_and_respects_anonymity(s) -> None:
    course, board = _board(s, anonymous_allowed="true", mentors_moderate="true")
    lea, leo, liv, ines = (course.viewer(s, n) for n in ("lea", "leo", "liv", "ines"))
    grace = _mentor(s, course)
    thread = boards.create_thread(s, lea, board, "Feedback models", "Opening")
    shy = boards.reply(s, lea, thread, "**Rude** words *here* " + "long " * 100, anonymous=True)
    plain = boards.reply(s, liv, thread, "Off topic")
    moderation.report_post(s, leo, shy, "Insulting")
    moderation.report_post(s, liv, shy, "Mean")
    moderation.report_post(s, leo, plain, "Spam")
    s.commit()

    page = moderation.list_reports(s, ines)
    assert [i.post_id for i in page.items] == [shy.id, plain.id] and page.next_cursor is None
    first = page.items[0]
    assert first.author.name == "Lea Learner" and first.author.anonymous
    assert first.report_count == 2 and [r.reason for r in first.reports] == ["Insulting", "Mean"]
    assert [r.reporter for r in first.reports] == ["Leo Learner", "Liv Learner"]
    assert first.thread_title == "Feedback models" and first.board_id == board.id
    assert first.board_title == "Cohort board" and first.level == "reply"
    assert first.excerpt.startswith("Rude words here long") and first.excerpt.endswith("…")
    assert "<" not in first.excerpt and len(first.excerpt) <= moderation.EXCERPT_CHARS
    assert moderation.excerpt("<p>a &amp; b<br>\n<code>&lt;x&gt;</code></p>") == "a & b <x>"

    # a mentor moderator is not staff: anonymous authors stay anonymous, reporters unnamed
    seen = moderation.list_reports(s, grace).items[0]
    assert seen.author.name == "Anonymous" and seen.author.user_id is None
    assert [r.reporter for r in seen.reports] == [None, None]
    assert moderation.open_report_count(s, grace) == 3 == moderation.open_report_count(s, ines)

    for learner in (lea, leo):
        _refused(403, lambda learner=learner: moderation.list_reports(s, learner))
        assert moderation.open_report_count(s, learner) == 0
    _refused(400, lambda: moderation.list_reports(s, ines, status="all"))
    _refused(400, lambda: moderation.list_reports(s, ines, cursor="garbage"))
    # another course's staff see none of these reports and cannot reach them
    other = make_course(s, platform=course.platform, context_key="c-202")
    boards.board_for_placement(s, other.placement)
    outsider = other.viewer(s, "ines")
    assert moderation.list_reports(s, outsider).items == []
    report_id = first.reports[0].id
    _refused(404, lambda: moderation.get_report(s, outsider, report_id))
    _refused(404, lambda: moderation.find_post(s, outsider, shy.id))

    moderation.hide_post(s, ines, shy, "Insults")
    s.commit()
    assert [i.post_id for i in moderation.list_reports(s, ines).items] == [plain.id]
    resolved = moderation.list_reports(s, ines, status="resolved").items
    assert [i.post_id for i in resolved] == [shy.id] and resolved[0].hidden
    assert {r.resolved_by for r in resolved[0].reports} == {"Ines Instructor"}
    hidden_for_mentor = moderation.list_reports(s, grace, status="resolved").items[0]
    assert hidden_for_mentor.excerpt == "" and hidden_for_mentor.hidden


def test_queue_pages_by_keyset_with_a_bounded_number_of_queries(app, s) -> None:
    course, board = _board(s, posts_per_hour="0")
    lea, leo, liv, ines = (course.viewer(s, n) for n in ("lea", "leo", "liv", "ines"))
    thread = boards.create_thread(s, lea, board, "Busy", "Opening")
    made = []
    for i in range(30):
        post = boards.reply(s, lea, thread, f"reply {i}")
        moderation.report_post(s, leo, post, f"reason {i}")
        if i % 2:
            moderation.report_post(s, liv, post, f"second {i}")
        made.append(post.id)
    s.commit()
    seen, cursor = [], None
    while True:
        page = moderation.list_reports(s, ines, cursor=cursor, limit=7)
        seen += [i.post_id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == made  # oldest first, each once

    counts = set()
    for limit in (1, 5, 30):
        s.expunge_all()
        with count_queries(app) as queries:
            page = moderation.list_reports(s, ines, limit=limit)
        assert len(page.items) == limit
        counts.add(len(queries))
    assert len(counts) == 1 and counts.pop() <= 5

    for i, post_id in enumerate(made):
        post = s.get(Post, post_id)
        if i % 3 == 0:
            moderation.hide_post(s, ines, post)
    s.commit()
    resolved, cursor = [], None
    while True:
        page = moderation.list_reports(s, ines, status="resolved", cursor=cursor, limit=4)
        resolved += [i.post_id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(resolved) == made[::3] and len(set(resolved)) == len(resolved)


# --- hide and unhide -----------------------------------------------------------------------------
def test_hide_and_unhide_keep_counts_reports_and_the_log_right(s) -> None:
    course, board = _board(s)
    lea, leo, liv, ines = (course.viewer(s, n) for n in ("lea", "leo", "liv", "ines"))
    thread = boards.create_thread(s, lea, board, "T", "Opening")
    reply = boards.reply(s, leo, thread, "rude reply")
    comment = boards.reply(s, liv, thread, "a comment", parent_post=reply)
    other_reply = boards.reply(s, liv, thread, "fine")
    r1 = moderation.report_post(s, lea, reply, "rude")
    r2 = moderation.report_post(s, liv, reply, "very rude")
    s.commit()
    assert (thread.reply_count, thread.comment_count) == (2, 1)

    moderation.hide_post(s, ines, reply, "Insulting")
    s.commit()
    assert reply.hidden and (thread.reply_count, thread.comment_count) == (1, 1)
    assert {r1.status, r2.status} == {"resolved"} and r1.resolved_by_id == course.users["ines"].id
    assert r1.resolved_at is not None
    assert [p.id for p in boards.get_thread(s, lea, thread.id).replies] == [other_reply.id]
    staff_view = boards.get_thread(s, ines, thread.id).replies
    assert (staff_view[0].id, staff_view[0].hidden) == (reply.id, True)
    actions = _log(s)
    assert actions == [("hide", course.users["ines"].id, course.users["leo"].id)]
    assert s.scalars(select(ModerationAction)).one().reason == "Insulting"

    moderation.hide_post(s, ines, reply)  # again: nothing changes
    assert thread.reply_count == 1 and len(_log(s)) == 1

    moderation.hide_post(s, ines, comment)
    assert thread.comment_count == 0
    moderation.unhide_post(s, ines, comment)
    moderation.unhide_post(s, ines, reply)
    moderation.unhide_post(s, ines, reply)  # again: nothing changes
    s.commit()
    assert (thread.reply_count, thread.comment_count) == (2, 1) and not reply.hidden
    assert {r1.status, r2.status} == {"resolved"}  # reports stay handled
    assert [a for a, *_ in _log(s)] == ["hide", "hide", "unhide", "unhide"]

    # a deleted post does not count, hidden or not
    boards.delete_post(s, liv, other_reply)
    assert thread.reply_count == 1
    moderation.hide_post(s, ines, other_reply)
    moderation.unhide_post(s, ines, other_reply)
    assert thread.reply_count == 1

    # hiding the opening post hides the thread from learners
    opening = s.scalars(select(Post).where(Post.thread_id == thread.id, Post.is_opening)).one()
    moderation.hide_post(s, ines, opening)
    s.commit()
    assert boards.list_threads(s, leo, board).threads == []
    assert [t.id for t in boards.list_threads(s, ines, board).threads] == [thread.id]
    _refused(404, lambda: boards.load_thread(s, leo, thread.id))
    assert boards.get_thread(s, ines, thread.id).opening.hidden


def test_learners_and_strangers_cannot_hide(s) -> None:
    course, board = _board(s)
    lea, leo, ines = (course.viewer(s, n) for n in ("lea", "leo", "ines"))
    thread = boards.create_thread(s, lea, board, "T", "Opening")
    reply = boards.reply(s, leo, thread, "reply")
    hidden = boards.reply(s, leo, thread, "hidden")
    moderation.hide_post(s, ines, hidden)
    other = make_course(s, platform=course.platform, context_key="c-202")
    boards.board_for_placement(s, other.placement)
    outsider = other.viewer(s, "ines")
    s.commit()
    before = _log(s)
    _refused(403, lambda: moderation.hide_post(s, lea, reply))
    _refused(403, lambda: moderation.hide_post(s, leo, reply))
    _refused(404, lambda: moderation.unhide_post(s, lea, hidden))  # cannot even see it
    _refused(404, lambda: moderation.hide_post(s, outsider, reply))
    _refused(400, lambda: moderation.hide_post(s, ines, reply, "r" * 1001))
    s.rollback()
    assert not reply.hidden and hidden.hidden and _log(s) == before


# --- dismiss -------------------------------------------------------------------------------------
def test_dismiss_closes_the_posts_open_reports(s) -> None:
    course, board = _board(s)
    lea, leo, liv, ines = (course.viewer(s, n) for n in ("lea", "leo", "liv", "ines"))
    thread = boards.create_thread(s, lea, board, "T", "Opening")
    reply = boards.reply(s, leo, thread, "a strong opinion")
    r1 = moderation.report_post(s, lea, reply, "I disagree")
    r2 = moderation.report_post(s, liv, reply, "Me too")
    s.commit()
    _refused(403, lambda: moderation.dismiss_report(s, lea, r1))
    moderation.dismiss_report(s, ines, r1, "Disagreement is fine")
    s.commit()
    assert (r1.status, r2.status) == ("dismissed", "dismissed") and not reply.hidden
    assert r2.resolved_by_id == course.users["ines"].id
    row = s.scalars(select(ModerationAction)).one()
    assert (row.action, row.report_id, row.post_id, row.reason) == (
        "dismiss",
        r1.id,
        reply.id,
        "Disagreement is fine",
    )
    assert "already" in _refused(409, lambda: moderation.dismiss_report(s, ines, r2)).message
    assert moderation.list_reports(s, ines).items == []
    dismissed = moderation.list_reports(s, ines, status="dismissed").items
    assert [i.post_id for i in dismissed] == [reply.id]


# --- mute ----------------------------------------------------------------------------------------
def test_mute_blocks_every_kind_of_writing_until_unmuted(s) -> None:
    course, board = _board(s)
    lea, leo, ines = (course.viewer(s, n) for n in ("lea", "leo", "ines"))
    thread = boards.create_thread(s, lea, board, "T", "Opening")
    leos = boards.reply(s, leo, thread, "before the mute")
    leas = boards.reply(s, lea, thread, "Lea's reply")
    s.commit()
    leo_id = course.users["leo"].id
    moderation.mute(s, ines, leo_id, "Repeated insults")
    moderation.mute(s, ines, leo_id)  # idempotent: no second row, no second log entry
    s.commit()
    assert boards.is_muted(s, course.context.id, leo_id) and _count(s, Mute) == 1
    assert _log(s) == [("mute", course.users["ines"].id, leo_id)]
    before = (_count(s, Post), _count(s, Thread), _count(s, XapiOutbox))
    for act in (
        lambda: boards.create_thread(s, leo, board, "New", "thread"),
        lambda: boards.reply(s, leo, thread, "reply"),
        lambda: boards.reply(s, leo, thread, "comment", parent_post=leas),
        lambda: boards.edit_post(s, leo, leos, "edited"),
        lambda: boards.react(s, leo, leas, "like"),
    ):
        assert "muted" in _refused(403, act).message
    s.rollback()
    assert (_count(s, Post), _count(s, Thread), _count(s, XapiOutbox)) == before
    flags = moderation.member_flags(s, course.context.id, [leo_id, course.users["ines"].id])
    assert flags[leo_id] == moderation.MemberFlags(staff=False, muted=True)
    assert flags[course.users["ines"].id] == moderation.MemberFlags(staff=True, muted=False)

    assert moderation.unmute(s, ines, leo_id) is True
    assert moderation.unmute(s, ines, leo_id) is False
    s.commit()
    boards.create_thread(s, leo, board, "New", "thread")
    boards.reply(s, leo, thread, "reply")
    boards.edit_post(s, leo, leos, "edited")
    boards.react(s, leo, leas, "like")
    s.commit()
    assert [a for a, *_ in _log(s)] == ["mute", "unmute"]


def test_mute_refusals(s) -> None:
    course, _board_row = _board(s, mentors_moderate="true")
    lea, ines = course.viewer(s, "lea"), course.viewer(s, "ines")
    grace = _mentor(s, course)
    other = make_course(s, platform=course.platform, context_key="c-202")
    s.commit()
    before = (_count(s, Mute), _log(s))
    _refused(403, lambda: moderation.mute(s, lea, course.users["leo"].id))
    _refused(403, lambda: moderation.unmute(s, lea, course.users["leo"].id))
    _refused(400, lambda: moderation.mute(s, ines, course.users["ines"].id))
    _refused(403, lambda: moderation.mute(s, grace, course.users["ines"].id))  # staff
    _refused(404, lambda: moderation.mute(s, ines, other.users["leo"].id))
    _refused(404, lambda: moderation.unmute(s, ines, other.users["leo"].id))
    _refused(404, lambda: moderation.mute(s, ines, 987654))
    _refused(400, lambda: moderation.mute(s, ines, course.users["leo"].id, "r" * 1001))
    s.rollback()
    assert (_count(s, Mute), _log(s)) == before
    moderation.mute(s, grace, course.users["leo"].id)  # a mentor moderator may mute learners
    s.commit()
    assert _count(s, Mute) == 1


def test_rate_limit_refuses_and_stores_nothing(s) -> None:
    course, board = _board(s, posts_per_hour="2")
    lea = course.viewer(s, "lea")
    thread = boards.create_thread(s, lea, board, "One", "first")
    boards.reply(s, lea, thread, "second")
    s.commit()
    before = (_count(s, Post), _count(s, XapiOutbox))
    err = _refused(429, lambda: boards.reply(s, lea, thread, "third"))
    assert "last hour" in err.message
    s.rollback()
    assert (_count(s, Post), _count(s, XapiOutbox)) == before
    boards.reply(s, course.viewer(s, "ines"), thread, "staff are not limited")


# --- the audit log -------------------------------------------------------------------------------
def test_audit_log_records_every_act_with_its_actor(s) -> None:
    course, board = _board(s, anonymous_allowed="true", mentors_moderate="true")
    lea, leo, ines = (course.viewer(s, n) for n in ("lea", "leo", "ines"))
    grace = _mentor(s, course)
    thread = boards.create_thread(s, lea, board, "Loud thread", "Opening")
    shy = boards.reply(s, leo, thread, "anonymous words", anonymous=True)
    other = boards.create_thread(s, lea, board, "Quiet thread", "Opening")
    report = moderation.report_post(s, lea, shy, "rude")
    s.commit()
    boards.set_thread_state(s, ines, thread, pinned=True)
    boards.set_thread_state(s, grace, thread, locked=True, lock_reason="Cooling off")
    moderation.hide_post(s, ines, shy, "rude")
    moderation.unhide_post(s, ines, shy)
    moderation.mute(s, ines, course.users["leo"].id, "Pattern of insults")
    report2 = moderation.report_post(
        s, leo, s.scalars(select(Post).where(Post.thread_id == other.id)).one(), "spam"
    )
    moderation.dismiss_report(s, grace, report2)
    s.commit()

    log = moderation.audit_log(s, ines)
    assert [e.action for e in log.entries] == ["dismiss", "mute", "unhide", "hide", "lock", "pin"]
    by_action = {e.action: e for e in log.entries}
    assert by_action["lock"].actor == "Grace Mentor" and by_action["lock"].reason == "Cooling off"
    assert by_action["pin"].actor == "Ines Instructor" and by_action["pin"].label
    assert by_action["hide"].target == "Leo Learner" and by_action["hide"].report_id == report.id
    assert by_action["hide"].thread_title == "Loud thread"
    assert by_action["mute"].target == "Leo Learner" and by_action["mute"].thread_id is None
    assert by_action["dismiss"].thread_title == "Quiet thread"

    # the mentor moderator sees the same log, the anonymous author masked
    mentor_view = {e.action: e for e in moderation.audit_log(s, grace).entries}
    assert mentor_view["hide"].target == "Anonymous"
    assert mentor_view["hide"].target_user_id is None
    assert mentor_view["mute"].target == "Leo Learner"  # muting is not about one post

    # keyset pages, newest first; one thread only
    seen, cursor = [], None
    while True:
        page = moderation.audit_log(s, ines, cursor=cursor, limit=4)
        seen += [e.id for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [e.id for e in log.entries]
    only = moderation.audit_log(s, ines, thread_id=thread.id).entries
    assert [e.action for e in only] == ["unhide", "hide", "lock", "pin"]

    _refused(403, lambda: moderation.audit_log(s, lea))
    _refused(400, lambda: moderation.audit_log(s, ines, cursor="!!!"))
    outsider_course = make_course(s, platform=course.platform, context_key="c-202")
    boards.board_for_placement(s, outsider_course.placement)
    outsider = outsider_course.viewer(s, "ines")
    assert moderation.audit_log(s, outsider).entries == []
    _refused(404, lambda: moderation.audit_log(s, outsider, thread_id=thread.id))


def test_audit_log_query_count_is_bounded(app, s) -> None:
    course, board = _board(s, posts_per_hour="0")
    lea, ines = course.viewer(s, "lea"), course.viewer(s, "ines")
    for i in range(20):
        thread = boards.create_thread(s, lea, board, f"T{i}", "body")
        boards.set_thread_state(s, ines, thread, pinned=True)
        moderation.hide_post(
            s, ines, s.scalars(select(Post).where(Post.thread_id == thread.id)).one()
        )
    s.commit()
    counts = set()
    for limit in (1, 10, 40):
        s.expunge_all()
        with count_queries(app) as queries:
            assert len(moderation.audit_log(s, ines, limit=limit).entries) == limit
        counts.add(len(queries))
    assert len(counts) == 1 and counts.pop() <= 4


# --- LTI Mentors -------------------------------------------------------------------------------
def test_mentors_moderate_only_where_the_board_allows(s) -> None:
    course, board = _board(s)
    lea, leo, ines = (course.viewer(s, n) for n in ("lea", "leo", "ines"))
    grace = _mentor(s, course)
    thread = boards.create_thread(s, lea, board, "T", "Opening")
    reply = boards.reply(s, leo, thread, "reply")
    moderation.report_post(s, lea, reply, "rude")
    s.commit()
    assert not boards.can_moderate(grace, board)
    assert not moderation.can_moderate_course(s, grace)
    _refused(403, lambda: moderation.hide_post(s, grace, reply))
    _refused(403, lambda: moderation.list_reports(s, grace))
    _refused(403, lambda: moderation.audit_log(s, grace))
    _refused(403, lambda: moderation.mute(s, grace, course.users["leo"].id))
    _refused(403, lambda: boards.set_thread_state(s, grace, thread, pinned=True))
    s.rollback()

    boards.update_settings(s, ines, s.get(Board, board.id), mentors_moderate=True)
    s.commit()
    assert moderation.can_moderate_course(s, grace)
    assert [i.post_id for i in moderation.list_reports(s, grace).items] == [reply.id]
    moderation.hide_post(s, grace, reply)
    # the mentor is not staff: the hidden post is gone from their view of the thread …
    assert boards.get_thread(s, grace, thread.id).replies == []
    # … but they can still take the decision back
    moderation.unhide_post(s, grace, reply)
    s.commit()
    assert not reply.hidden


def test_mentor_moderators_see_only_their_cohorts(s) -> None:
    course, board = _board(s, cohort_mode="groups", mentors_moderate="true")
    lea, liv, ines = (course.viewer(s, n) for n in ("lea", "liv", "ines"))
    grace = _mentor(s, course, group="red")
    red = boards.create_thread(s, lea, board, "Red", "Opening")
    blue = boards.create_thread(s, liv, board, "Blue", "Opening")
    red_reply = boards.reply(s, course.viewer(s, "leo"), red, "red reply")
    blue_opening = s.scalars(select(Post).where(Post.thread_id == blue.id)).one()
    moderation.report_post(s, lea, red_reply, "rude")
    moderation.report_post(s, ines, blue_opening, "rude")
    s.commit()
    assert [i.post_id for i in moderation.list_reports(s, grace).items] == [red_reply.id]
    assert len(moderation.list_reports(s, ines).items) == 2
    assert moderation.open_report_count(s, grace) == 1
    _refused(404, lambda: moderation.hide_post(s, grace, blue_opening))
    boards.set_thread_state(s, ines, blue, pinned=True)
    s.commit()
    assert [e.thread_id for e in moderation.audit_log(s, grace).entries] == []
    assert [e.thread_id for e in moderation.audit_log(s, ines).entries] == [blue.id]
