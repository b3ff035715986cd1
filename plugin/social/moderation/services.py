"""Moderation services: reports, the moderation queue, hiding posts, muting members, the audit log.

Same rules as :mod:`plugin.social.boards`: plain functions over a session and a
:class:`~plugin.social.Viewer`, no ``flask.request``, no commit, refusals as
:class:`~plugin.social.Refusal` raised before anything is added to the session.

Who moderates: Instructors, Teaching Assistants (and other course staff) on every board of their
course; members with the LTI Mentor role on boards whose ``mentors_moderate`` setting is on. A
mentor moderator is not staff: they see anonymous authors as "Anonymous", see no hidden text and,
in cohort mode, only their cohorts' threads (also in the queue and the log).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin import events, paging
from plugin.access import Refusal, Viewer, not_found
from plugin.db import utcnow
from plugin.lti.models import Membership, Placement
from plugin.lti.roles import permissions
from plugin.social import boards, display
from plugin.social.display import AuthorView, author_view, display_names
from plugin.social.models import (
    COHORT_NONE,
    REPORT_DISMISSED,
    REPORT_OPEN,
    REPORT_RESOLVED,
    REPORT_STATUSES,
    Board,
    ModerationAction,
    Mute,
    Post,
    Report,
    Thread,
)

MAX_REASON_CHARS = 1000
EXCERPT_CHARS = 240
NOT_A_MODERATOR = "Only the course's moderators can do this."
ALREADY_REPORTED = "You have already reported this post: the moderators have it."

# Audit log actions → how the log reads them.
ACTION_LABELS = {
    "hide": "hid a post",
    "unhide": "unhid a post",
    "dismiss": "dismissed the reports of a post",
    "mute": "muted",
    "unmute": "unmuted",
    "pin": "pinned a thread",
    "unpin": "unpinned a thread",
    "lock": "locked a thread",
    "unlock": "unlocked a thread",
    "close": "closed a thread",
    "reopen": "reopened a thread",
    "endorse": "endorsed a reply",
    "unendorse": "took back an endorsement",
    "settings": "changed the board's settings",
    "competencies": "linked the board to competencies",
    "cohort_created": "made a cohort",
    "cohort_renamed": "renamed a cohort",
    "cohort_members": "changed a cohort's members",
    "cohort_deleted": "deleted a cohort",
}


def _reason(value: object, *, required: bool) -> str | None:
    """A reason: trimmed, at most :data:`MAX_REASON_CHARS`; blank is None unless required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Refusal(400, "Say briefly why you are reporting this post.")
        return None
    if not isinstance(value, str):
        raise Refusal(400, "The reason must be text.")
    text = value.strip()
    if len(text) > MAX_REASON_CHARS:
        raise Refusal(400, f"A reason can be at most {MAX_REASON_CHARS:,} characters long.")
    if "\x00" in text:
        raise Refusal(400, "The text contains a character that cannot be stored.")
    return text


# --- who moderates -------------------------------------------------------------------------------
def can_moderate_course(session: Session, viewer: Viewer) -> bool:
    """Staff, or an LTI Mentor where at least one board of the course lets mentors moderate."""
    if viewer.staff:
        return True
    if not viewer.perms.mentor:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    Board.context_id == viewer.context_id, Board.mentors_moderate.is_(True)
                )
            )
        )
    )


def require_course_moderator(session: Session, viewer: Viewer) -> None:
    if not can_moderate_course(session, viewer):
        raise Refusal(403, NOT_A_MODERATOR)


def _scope(query, viewer: Viewer):
    """Restrict a query joined to Board and Thread to what the viewer moderates and may see."""
    query = query.where(Board.context_id == viewer.context_id)
    if viewer.staff:
        return query
    return query.where(
        Board.mentors_moderate.is_(True),
        or_(
            Board.cohort_mode == COHORT_NONE,
            Thread.cohort_group_id.is_(None),
            Thread.cohort_group_id.in_(sorted(viewer.group_ids)),
        ),
    )


def _thread_and_board(session: Session, post: Post) -> tuple[Thread, Board]:
    thread = session.get(Thread, post.thread_id)
    board = session.get(Board, thread.board_id) if thread is not None else None
    if thread is None or board is None:
        raise not_found("This post")
    return thread, board


def _withheld_by_qa(
    session: Session, viewer: Viewer, board: Board, thread: Thread, post: Post
) -> bool:
    """Q&A mode: a learner who has not answered a question does not see others' answers (nor the
    comments under them)."""
    if post.is_opening or not boards.answers_withheld(session, viewer, board, thread):
        return False
    if post.parent_id is None:
        return post.author_id != viewer.user_id
    parent = session.get(Post, post.parent_id)
    return parent is None or parent.author_id != viewer.user_id


def _visible(session: Session, viewer: Viewer, post: Post) -> tuple[Thread, Board]:
    """The post's thread and board when the viewer can see the post as a member (404 if not)."""
    thread, board = _thread_and_board(session, post)
    if not boards.can_see_thread(viewer, board, thread) or not boards.can_see_post(viewer, post):
        raise not_found("This post")
    if not viewer.staff and boards.opening_hidden(session, thread):
        raise not_found("This post")
    if _withheld_by_qa(session, viewer, board, thread, post):
        raise not_found("This post")
    return thread, board


def _moderated(session: Session, viewer: Viewer, post: Post) -> tuple[Thread, Board]:
    """The post's thread and board when the viewer moderates its board. Someone who may see the
    post but not moderate gets 403; a post they cannot see is 404."""
    thread, board = _thread_and_board(session, post)
    if not boards.can_see_thread(viewer, board, thread):
        raise not_found("This post")
    if boards.can_moderate(viewer, board):
        return thread, board
    _visible(session, viewer, post)
    raise Refusal(403, NOT_A_MODERATOR)


def find_post(session: Session, viewer: Viewer, post_id: int) -> Post:
    """A post of the viewer's course by id (the acts check what the viewer may do with it)."""
    post = session.get(Post, post_id)
    if post is None:
        raise not_found("This post")
    _thread, board = _thread_and_board(session, post)
    if board.context_id != viewer.context_id:
        raise not_found("This post")
    return post


def get_report(session: Session, viewer: Viewer, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None or report.context_id != viewer.context_id:
        raise not_found("This report")
    return report


# --- reporting -----------------------------------------------------------------------------------
def report_post(session: Session, viewer: Viewer, post: Post, reason: object) -> Report:
    """A member reports a post they can see (not their own) to the moderators, once. Publishes
    ``board.post_reported`` (the reason stays in the tool: the statement carries no text)."""
    thread, board = _visible(session, viewer, post)
    if post.author_id == viewer.user_id:
        raise Refusal(400, "You cannot report your own post.")
    if post.deleted:
        raise Refusal(409, "This post was deleted.")
    text = _reason(reason, required=True)
    already = session.scalar(
        select(exists().where(Report.post_id == post.id, Report.reporter_id == viewer.user_id))
    )
    if already:
        raise Refusal(409, ALREADY_REPORTED)
    now = utcnow()
    report = Report(
        context_id=board.context_id,
        board_id=board.id,
        post_id=post.id,
        reporter_id=viewer.user_id,
        reason=text,
        status=REPORT_OPEN,
        created_at=now,
    )
    # No savepoint (with pysqlite a SAVEPOINT before any write commits on release): a report
    # made by the same person in a concurrent request fails the flush; the caller rolls back.
    session.add(report)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Refusal(409, ALREADY_REPORTED) from exc
    boards.publish_event(
        session,
        events.POST_REPORTED,
        f"report:{report.id}",
        viewer,
        board,
        boards.post_ref(thread, post),
        (boards.thread_ref(thread), boards.board_ref(session, board)),
        now,
        {"thread_kind": thread.kind},
    )
    return report


def reported_post_ids(session: Session, viewer: Viewer, thread_id: int) -> set[int]:
    """The posts of a thread the viewer has reported (one query)."""
    return set(
        session.scalars(
            select(Report.post_id)
            .join(Post, Post.id == Report.post_id)
            .where(Report.reporter_id == viewer.user_id, Post.thread_id == thread_id)
        )
    )


# --- hiding --------------------------------------------------------------------------------------
def hide_post(session: Session, viewer: Viewer, post: Post, reason: object = None) -> Post:
    """A moderator hides a post from learners (staff still see it, marked). Resolves the post's
    open reports. Hiding the opening post hides the whole thread from learners."""
    thread, board = _moderated(session, viewer, post)
    text = _reason(reason, required=False)
    now = utcnow()
    open_reports = list(
        session.scalars(
            select(Report).where(Report.post_id == post.id, Report.status == REPORT_OPEN)
        )
    )
    if post.hidden and not open_reports:
        return post
    if not post.hidden:
        post.hidden = True
        boards.count_change(thread, post, -1)
        if thread.accepted_post_id == post.id:  # a hidden reply is nobody's answer
            thread.accepted_post_id = None
        session.flush()
        boards.refresh_endorsed(session, thread)
    boards.audit(
        session,
        viewer,
        board,
        "hide",
        thread_id=thread.id,
        post_id=post.id,
        target_user_id=post.author_id,
        report_id=open_reports[0].id if open_reports else None,
        reason=text,
    )
    for report in open_reports:
        report.status = REPORT_RESOLVED
        report.resolved_by_id = viewer.user_id
        report.resolved_at = now
    session.flush()
    return post


def thread_shown_after_hiding(viewer: Viewer, post: Post) -> bool:
    """Whether the moderator still sees the post's thread once the post is hidden: a moderator
    who is not staff no longer sees a thread whose opening post is hidden."""
    return viewer.staff or not post.is_opening


def unhide_post(session: Session, viewer: Viewer, post: Post, reason: object = None) -> Post:
    """A moderator shows a hidden post again (its reports stay resolved)."""
    thread, board = _moderated(session, viewer, post)
    text = _reason(reason, required=False)
    if not post.hidden:
        return post
    post.hidden = False
    boards.count_change(thread, post, +1)
    session.flush()
    boards.refresh_endorsed(session, thread)
    boards.audit(
        session,
        viewer,
        board,
        "unhide",
        thread_id=thread.id,
        post_id=post.id,
        target_user_id=post.author_id,
        reason=text,
    )
    session.flush()
    return post


def dismiss_report(
    session: Session, viewer: Viewer, report: Report, reason: object = None
) -> Report:
    """A moderator finds nothing wrong: the report, and the other open reports of the same post
    (the decision is about the post), become "dismissed"."""
    if report.context_id != viewer.context_id:
        raise not_found("This report")
    post = session.get(Post, report.post_id)
    if post is None:
        raise not_found("This report")
    thread, board = _thread_and_board(session, post)
    if not boards.can_see_thread(viewer, board, thread):
        raise not_found("This report")
    if not boards.can_moderate(viewer, board):
        raise Refusal(403, NOT_A_MODERATOR)
    text = _reason(reason, required=False)
    if report.status != REPORT_OPEN:
        raise Refusal(409, "This report has already been handled.")
    now = utcnow()
    for row in session.scalars(
        select(Report).where(Report.post_id == post.id, Report.status == REPORT_OPEN)
    ):
        row.status = REPORT_DISMISSED
        row.resolved_by_id = viewer.user_id
        row.resolved_at = now
    boards.audit(
        session,
        viewer,
        board,
        "dismiss",
        thread_id=thread.id,
        post_id=post.id,
        target_user_id=post.author_id,
        report_id=report.id,
        reason=text,
    )
    session.flush()
    return report


# --- muting --------------------------------------------------------------------------------------
def _member(session: Session, viewer: Viewer, user_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(
            Membership.user_id == user_id,
            Membership.context_id == viewer.context_id,
            Membership.status == "Active",
        )
    )


def mute(session: Session, viewer: Viewer, user_id: int, reason: object = None) -> Mute:
    """A moderator mutes a member in this course: they can read but not post, edit or react.
    Staff cannot be muted, nor can moderators mute themselves. Muting again changes nothing."""
    require_course_moderator(session, viewer)
    membership = _member(session, viewer, user_id)
    if membership is None:
        raise not_found("This person")
    if user_id == viewer.user_id:
        raise Refusal(400, "You cannot mute yourself.")
    if permissions(membership.roles or []).staff:
        raise Refusal(403, "Course staff cannot be muted.")
    text = _reason(reason, required=False)
    existing = session.scalar(
        select(Mute).where(Mute.context_id == viewer.context_id, Mute.user_id == user_id)
    )
    if existing is not None:
        return existing
    row = Mute(
        context_id=viewer.context_id,
        user_id=user_id,
        muted_by_id=viewer.user_id,
        reason=text,
        created_at=utcnow(),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # muted by someone else at the same moment; caller rolls back
        raise Refusal(409, "This person was muted a moment ago.") from exc
    boards.audit(session, viewer, None, "mute", target_user_id=user_id, reason=text)
    session.flush()
    return row


def unmute(session: Session, viewer: Viewer, user_id: int, reason: object = None) -> bool:
    """Lift a mute; True when there was one (unmuting someone not muted changes nothing)."""
    require_course_moderator(session, viewer)
    text = _reason(reason, required=False)
    row = session.scalar(
        select(Mute).where(Mute.context_id == viewer.context_id, Mute.user_id == user_id)
    )
    if row is None:
        if _member(session, viewer, user_id) is None:
            raise not_found("This person")
        return False
    session.delete(row)
    boards.audit(session, viewer, None, "unmute", target_user_id=user_id, reason=text)
    session.flush()
    return True


@dataclass(frozen=True)
class MemberFlags:
    staff: bool
    muted: bool


def member_flags(
    session: Session, context_id: int, user_ids: Iterable[int]
) -> dict[int, MemberFlags]:
    """Whether each of these active members is course staff and whether they are muted (one
    query); people without an active membership are left out."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Membership.user_id, Membership.roles, Mute.id)
        .outerjoin(Mute, and_(Mute.user_id == Membership.user_id, Mute.context_id == context_id))
        .where(
            Membership.context_id == context_id,
            Membership.user_id.in_(ids),
            Membership.status == "Active",
        )
    )
    return {
        user_id: MemberFlags(permissions(roles or []).staff, mute_id is not None)
        for user_id, roles, mute_id in rows
    }


# --- the queue -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportEntry:
    id: int
    reason: str
    reporter: str | None  # the reporter's name for staff; None for other moderators
    created_at: datetime
    status: str
    resolved_by: str | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class ReportedPost:
    """One reported post in the queue with the reports of the listed status."""

    post_id: int
    level: str  # opening | reply | comment
    thread_id: int
    thread_title: str
    board_id: int
    board_title: str
    excerpt: str  # plain text; empty when deleted or hidden from this viewer
    hidden: bool
    deleted: bool
    author: AuthorView | None  # None when deleted
    report_count: int
    reports: list[ReportEntry]


@dataclass(frozen=True)
class ReportPage:
    status: str
    items: list[ReportedPost]
    next_cursor: str | None


def _level(post: Post) -> str:
    if post.is_opening:
        return "opening"
    return "reply" if post.parent_id is None else "comment"


def list_reports(
    session: Session,
    viewer: Viewer,
    *,
    status: str = REPORT_OPEN,
    cursor: str | None = None,
    limit: int = 20,
) -> ReportPage:
    """Reported posts on the boards the viewer moderates: open ones oldest first (by first
    report), handled ones most recently handled first. Keyset pagination; five queries at most
    whatever the page size."""
    if status not in REPORT_STATUSES:
        raise Refusal(400, "Show open, resolved or dismissed reports.")
    limit = paging.limit(limit)
    require_course_moderator(session, viewer)
    oldest_first = status == REPORT_OPEN
    key = func.min(Report.created_at) if oldest_first else func.max(Report.resolved_at)
    query = (
        select(Report.post_id, key.label("key"))
        .join(Board, Board.id == Report.board_id)
        .join(Post, Post.id == Report.post_id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Report.context_id == viewer.context_id, Report.status == status)
        .group_by(Report.post_id)
    )
    query = _scope(query, viewer)
    if cursor:
        cursor_status, last, last_id = paging.decode(cursor, 3)
        if cursor_status != status:
            raise Refusal(400, "This page link is not valid.")
        last_id = paging.cursor_id(last_id)
        last_at = paging.when(last)
        if oldest_first:
            query = query.having(or_(key > last_at, and_(key == last_at, Report.post_id > last_id)))
        else:
            query = query.having(or_(key < last_at, and_(key == last_at, Report.post_id < last_id)))
    order = (key, Report.post_id) if oldest_first else (key.desc(), Report.post_id.desc())
    rows = list(session.execute(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [r.post_id for r in rows]
    if not ids:
        return ReportPage(status, [], None)

    found = {
        post.id: (post, thread, board, title)
        for post, thread, board, title in session.execute(
            select(Post, Thread, Board, Placement.title)
            .join(Thread, Thread.id == Post.thread_id)
            .join(Board, Board.id == Thread.board_id)
            .outerjoin(Placement, Placement.id == Board.placement_id)
            .where(Post.id.in_(ids))
        )
    }
    reports: dict[int, list[Report]] = {}
    for report in session.scalars(
        select(Report)
        .where(Report.post_id.in_(ids), Report.status == status)
        .order_by(Report.created_at, Report.id)
    ):
        reports.setdefault(report.post_id, []).append(report)
    people = {p.author_id for p, *_ in found.values()}
    for rows_of_post in reports.values():
        for r in rows_of_post:
            if r.resolved_by_id:
                people.add(r.resolved_by_id)
            if viewer.staff:
                people.add(r.reporter_id)
    names = display_names(session, people)

    items = []
    for post_id in ids:
        post, thread, board, title = found[post_id]
        entries = [
            ReportEntry(
                id=r.id,
                reason=r.reason,
                reporter=names.get(r.reporter_id, "Unknown") if viewer.staff else None,
                created_at=r.created_at,
                status=r.status,
                resolved_by=names.get(r.resolved_by_id) if r.resolved_by_id else None,
                resolved_at=r.resolved_at,
            )
            for r in reports.get(post_id, [])
        ]
        shown = not post.deleted and boards.can_see_post(viewer, post)
        items.append(
            ReportedPost(
                post_id=post.id,
                level=_level(post),
                thread_id=thread.id,
                thread_title=thread.title,
                board_id=board.id,
                board_title=title or "Discussion board",
                excerpt=display.excerpt(post.body_html, EXCERPT_CHARS) if shown else "",
                hidden=post.hidden,
                deleted=post.deleted,
                author=None
                if post.deleted
                else author_view(viewer, post.author_id, post.anonymous, names),
                report_count=len(entries),
                reports=entries,
            )
        )
    next_cursor = None
    if more:
        last_row = rows[-1]
        next_cursor = paging.encode([status, last_row.key.isoformat(), last_row.post_id])
    return ReportPage(status, items, next_cursor)


def open_report_count(session: Session, viewer: Viewer) -> int:
    """Open reports on the boards the viewer moderates (one query; 0 for non-moderators)."""
    if not viewer.staff and not viewer.perms.mentor:
        return 0
    query = (
        select(func.count())
        .select_from(Report)
        .join(Board, Board.id == Report.board_id)
        .join(Post, Post.id == Report.post_id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Report.context_id == viewer.context_id, Report.status == REPORT_OPEN)
    )
    return session.scalar(_scope(query, viewer)) or 0


# --- the audit log -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogEntry:
    id: int
    action: str
    label: str
    created_at: datetime
    actor: str  # "Someone" when the account is gone
    actor_id: int | None
    board_id: int | None
    thread_id: int | None
    thread_title: str | None
    post_id: int | None
    target: str | None
    target_user_id: int | None  # None also when the target is anonymous to this viewer
    report_id: int | None
    reason: str | None


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    next_cursor: str | None


def audit_log(
    session: Session,
    viewer: Viewer,
    *,
    cursor: str | None = None,
    limit: int = 50,
    thread_id: int | None = None,
) -> LogPage:
    """The moderation audit log of the viewer's course, newest first (keyset), optionally for one
    thread; four queries at most whatever the page size. Moderators only."""
    limit = paging.limit(limit)
    require_course_moderator(session, viewer)
    if thread_id is not None:
        found = session.execute(
            select(Thread, Board)
            .join(Board, Board.id == Thread.board_id)
            .where(Thread.id == thread_id, Board.context_id == viewer.context_id)
        ).first()
        if found is None or not boards.can_see_thread(viewer, found.Board, found.Thread):
            raise not_found("This thread")
    query = (
        select(ModerationAction, Thread.title)
        .outerjoin(Board, Board.id == ModerationAction.board_id)
        .outerjoin(Thread, Thread.id == ModerationAction.thread_id)
        .where(ModerationAction.context_id == viewer.context_id)
    )
    if not viewer.staff:
        query = query.where(
            or_(ModerationAction.board_id.is_(None), Board.mentors_moderate.is_(True)),
            or_(
                ModerationAction.thread_id.is_(None),
                Board.cohort_mode == COHORT_NONE,
                Thread.cohort_group_id.is_(None),
                Thread.cohort_group_id.in_(sorted(viewer.group_ids)),
            ),
        )
    if thread_id is not None:
        query = query.where(ModerationAction.thread_id == thread_id)
    if cursor:
        last, last_id = paging.decode(cursor, 2)
        last_id = paging.cursor_id(last_id)
        last_at = paging.when(last)
        query = query.where(
            or_(
                ModerationAction.created_at < last_at,
                and_(ModerationAction.created_at == last_at, ModerationAction.id < last_id),
            )
        )
    query = query.order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
    rows = list(session.execute(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    post_ids = {row.ModerationAction.post_id for row in rows if row.ModerationAction.post_id}
    anonymous_authors: dict[int, int] = {}
    if post_ids and not viewer.staff:
        anonymous_authors = {
            pid: author
            for pid, author in session.execute(
                select(Post.id, Post.author_id).where(
                    Post.id.in_(sorted(post_ids)), Post.anonymous.is_(True)
                )
            )
        }
    people: set[int] = set()
    for row in rows:
        action = row.ModerationAction
        people.update(i for i in (action.actor_id, action.target_user_id) if i)
    names = display_names(session, people)
    entries = []
    for row in rows:
        action = row.ModerationAction
        target_id = action.target_user_id
        target = names.get(target_id, "Unknown") if target_id else None
        if target_id and anonymous_authors.get(action.post_id or 0) == target_id:
            target_id, target = None, display.ANONYMOUS_NAME
        entries.append(
            LogEntry(
                id=action.id,
                action=action.action,
                label=ACTION_LABELS.get(action.action, action.action),
                created_at=action.created_at,
                actor=names.get(action.actor_id, "Someone") if action.actor_id else "Someone",
                actor_id=action.actor_id,
                board_id=action.board_id,
                thread_id=action.thread_id,
                thread_title=row.title,
                post_id=action.post_id,
                target=target,
                target_user_id=target_id,
                report_id=action.report_id,
                reason=action.reason,
            )
        )
    next_cursor = None
    if more and rows:
        last_action = rows[-1].ModerationAction
        next_cursor = paging.encode([last_action.created_at.isoformat(), last_action.id])
    return LogPage(entries, next_cursor)
