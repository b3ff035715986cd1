"""Staff reports of the discussion boards: the participation summary, board exports (CSV and
JSON) and participation grades sent to the LMS gradebook through LTI AGS.

Services in the house style: plain arguments and a SQLAlchemy session, no ``flask.request``, no
commit; refusals raise :class:`~plugin.social.Refusal`. Everything here is for course
staff; other courses' boards are "not found".

What counts (participation and grades): a post counts for its author when it is neither deleted
nor hidden. Anonymous posts count for their real author (staff may see who wrote them), but
exports always name their author "Anonymous", because an export leaves the tool.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer
from plugin.db import utcnow
from plugin.lti import advantage
from plugin.lti.models import Context, LmsGroup, LmsGroupMember, Membership, Placement, User
from plugin.lti.roles import permissions
from plugin.social.display import ANONYMOUS_NAME
from plugin.social.models import (
    REACTION_HELPFUL,
    REACTION_LIKE,
    SEPARATED_MODES,
    Board,
    ModerationAction,
    Post,
    Reaction,
    Thread,
)

SCORE_MAXIMUM = 100
GRADES_ACTION = "grades"  # the audit-log action of a grade run
NOTHING_SENT = "No grades were sent"
NOT_SENT = "Not sent:"


def _check_staff(viewer: Viewer, board: Board | None, what: str) -> None:
    if board is not None and board.context_id != viewer.context_id:
        raise Refusal(404, "This board does not exist or is not in this course.")
    if not viewer.staff:
        raise Refusal(403, f"Only course staff can {what}.")


def board_title(board: Board) -> str:
    placement = board.placement
    return (placement.title if placement is not None else None) or "Discussion board"


def grades_board(board: Board | None) -> bool:
    """True when the board has a grading rule (threads and/or replies for full marks)."""
    return board is not None and bool(board.grade_threads or board.grade_replies)


def participation_score(board: Board, threads: int, replies_and_comments: int) -> float | None:
    """A learner's participation score as a fraction 0..1: ``min(threads, T)/T`` and
    ``min(replies + comments, R)/R`` averaged over the counted parts (T = ``grade_threads``,
    R = ``grade_replies``; a part set to None or 0 is not counted). None without a rule."""
    parts = []
    if board.grade_threads:
        parts.append(min(threads, board.grade_threads) / board.grade_threads)
    if board.grade_replies:
        parts.append(min(replies_and_comments, board.grade_replies) / board.grade_replies)
    if not parts:
        return None
    return sum(parts) / len(parts)


# --- participation -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParticipationRow:
    """One learner's counted contributions (see the module docstring for what counts)."""

    user_id: int
    name: str
    threads: int
    replies: int
    comments: int
    likes_received: int
    helpful_received: int
    endorsed: int
    accepted: int
    first_activity: datetime | None
    last_activity: datetime | None
    score: float | None  # 0..1 when the board grades, else None

    @property
    def reactions_received(self) -> int:
        return self.likes_received + self.helpful_received

    @property
    def posts(self) -> int:
        return self.threads + self.replies + self.comments


@dataclass(frozen=True)
class Participation:
    board: Board | None  # None: every board of the course
    cohort: LmsGroup | None
    graded: bool
    sort: str
    descending: bool
    rows: list[ParticipationRow]


PARTICIPATION_SORTS = {
    "name": lambda r: r.name.casefold(),
    "threads": lambda r: r.threads,
    "replies": lambda r: r.replies,
    "comments": lambda r: r.comments,
    "likes": lambda r: r.likes_received,
    "helpful": lambda r: r.helpful_received,
    "reactions": lambda r: r.reactions_received,
    "endorsed": lambda r: r.endorsed,
    "accepted": lambda r: r.accepted,
    "first": lambda r: r.first_activity,
    "last": lambda r: r.last_activity,
    "score": lambda r: r.score,
}


def _sorted(rows: list[ParticipationRow], sort: str, descending: bool) -> list[ParticipationRow]:
    key = PARTICIPATION_SORTS[sort]
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    # a stable sort by name first, so ties read alphabetically; "no value" always goes last
    present.sort(key=lambda r: (r.name.casefold(), r.user_id))
    present.sort(key=key, reverse=descending)
    missing.sort(key=lambda r: (r.name.casefold(), r.user_id))
    return present + missing


def _scope(board: Board | None, context_id: int):
    if board is not None:
        return Thread.board_id == board.id
    return Thread.board_id.in_(select(Board.id).where(Board.context_id == context_id))


def _learners(session: Session, context_id: int, cohort_id: int | None) -> list[User]:
    """Active members of the course with a learner role who are not staff (one query)."""
    query = (
        select(User, Membership.roles)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.context_id == context_id, Membership.status == "Active")
    )
    if cohort_id is not None:
        query = query.where(
            User.id.in_(select(LmsGroupMember.user_id).where(LmsGroupMember.group_id == cohort_id))
        )
    found = []
    for user, roles in session.execute(query):
        perms = permissions(roles or [])
        if perms.learner and not perms.staff:
            found.append(user)
    return found


def _rows(
    session: Session, board: Board | None, context_id: int, cohort_id: int | None
) -> list[ParticipationRow]:
    """Three queries whatever the number of learners: learners, post aggregates, reactions."""
    learners = _learners(session, context_id, cohort_id)
    counted = and_(Post.deleted.is_(False), Post.hidden.is_(False), _scope(board, context_id))
    is_reply = and_(Post.is_opening.is_(False), Post.parent_id.is_(None))

    def total(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    posts = {
        row.author_id: row
        for row in session.execute(
            select(
                Post.author_id,
                total(Post.is_opening.is_(True)).label("threads"),
                total(is_reply).label("replies"),
                total(Post.parent_id.is_not(None)).label("comments"),
                total(and_(is_reply, Post.endorsed_at.is_not(None))).label("endorsed"),
                total(Thread.accepted_post_id == Post.id).label("accepted"),
                func.min(Post.created_at).label("first"),
                func.max(Post.created_at).label("last"),
            )
            .join(Thread, Thread.id == Post.thread_id)
            .where(counted)
            .group_by(Post.author_id)
        )
    }
    reactions: dict[tuple[int, str], int] = {}
    for author_id, kind, count in session.execute(
        select(Post.author_id, Reaction.kind, func.count())
        .join(Post, Post.id == Reaction.post_id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(counted)
        .group_by(Post.author_id, Reaction.kind)
    ):
        reactions[(author_id, kind)] = int(count)
    rows = []
    for user in learners:
        p = posts.get(user.id)
        threads = int(p.threads) if p else 0
        replies = int(p.replies) if p else 0
        comments = int(p.comments) if p else 0
        rows.append(
            ParticipationRow(
                user_id=user.id,
                name=user.display_name,
                threads=threads,
                replies=replies,
                comments=comments,
                likes_received=reactions.get((user.id, REACTION_LIKE), 0),
                helpful_received=reactions.get((user.id, REACTION_HELPFUL), 0),
                endorsed=int(p.endorsed) if p else 0,
                accepted=int(p.accepted) if p else 0,
                first_activity=p.first if p else None,
                last_activity=p.last if p else None,
                score=(
                    participation_score(board, threads, replies + comments)
                    if grades_board(board)
                    else None
                ),
            )
        )
    return rows


def participation(
    session: Session,
    viewer: Viewer,
    board: Board | None,
    *,
    cohort_group_id: int | None = None,
    sort: str = "name",
    descending: bool = False,
) -> Participation:
    """Per learner of the course (every active member with a learner role, with or without
    activity; staff are not listed): threads started, replies, comments, likes and helpful marks
    received, endorsed replies, accepted answers, first and last post, and the score when the
    board grades. ``board=None`` covers every board of the course. ``cohort_group_id`` lists the
    members of one cohort only. Staff only; a bounded number of queries."""
    _check_staff(viewer, board, "see the participation summary")
    if sort not in PARTICIPATION_SORTS:
        raise Refusal(400, f"Sort by one of: {', '.join(PARTICIPATION_SORTS)}.")
    cohort = None
    if cohort_group_id is not None:
        if board is not None and board.cohort_mode not in SEPARATED_MODES:
            raise Refusal(400, "This board has no cohorts.")
        cohort = session.get(LmsGroup, cohort_group_id)
        if cohort is None or cohort.context_id != viewer.context_id:
            raise Refusal(404, "This cohort does not exist or is not in this course.")
    rows = _rows(session, board, viewer.context_id, cohort.id if cohort else None)
    return Participation(
        board=board,
        cohort=cohort,
        graded=grades_board(board),
        sort=sort,
        descending=descending,
        rows=_sorted(rows, sort, descending),
    )


PARTICIPATION_COLUMNS = (
    "learner",
    "threads",
    "replies",
    "comments",
    "likes_received",
    "helpful_received",
    "endorsed_replies",
    "accepted_answers",
    "first_activity",
    "last_activity",
    "score",
)


def participation_csv(report: Participation) -> str:
    """The summary as CSV (UTF-8 with a byte order mark for spreadsheets; cells neutralised
    against formula injection). ``score`` is out of 100, empty when the board does not grade."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(PARTICIPATION_COLUMNS)
    for r in report.rows:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    r.name,
                    r.threads,
                    r.replies,
                    r.comments,
                    r.likes_received,
                    r.helpful_received,
                    r.endorsed,
                    r.accepted,
                    r.first_activity,
                    r.last_activity,
                    score_points(r.score),
                )
            ]
        )
    return buffer.getvalue()


def score_points(score: float | None) -> float | None:
    """A 0..1 score as points out of :data:`SCORE_MAXIMUM`, rounded to two decimals."""
    return None if score is None else round(score * SCORE_MAXIMUM, 2)


# --- export --------------------------------------------------------------------------------------
EXPORT_COLUMNS = (
    "thread_id",
    "thread_title",
    "thread_kind",
    "cohort",
    "thread_created_at",
    "post_id",
    "parent_id",
    "level",
    "author",
    "anonymous",
    "created_at",
    "edited_at",
    "body_markdown",
    "likes",
    "helpful",
    "endorsed",
    "accepted",
    "hidden",
    "deleted",
)
EXPORT_BATCH = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A cell a spreadsheet would run as a formula (starting with = + - @ tab or CR) gets a
    leading single quote (OWASP's advice against CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return value


def export_rows(
    session: Session, viewer: Viewer, board: Board, *, batch_size: int = EXPORT_BATCH
) -> Iterator[dict]:
    """Every post of the board, thread by thread, oldest first, as dicts keyed by
    :data:`EXPORT_COLUMNS`. Staff only (checked now, before the first row). Rows are read in
    keyset batches of ``batch_size`` posts, so a large board never sits in memory. Anonymous
    authors are "Anonymous"; deleted posts keep their place without text or author."""
    _check_staff(viewer, board, "export the board")
    if batch_size < 1:
        raise Refusal(400, "The batch size must be a positive number.")
    return _export(session, board.id, board.context_id, batch_size)


def _export(session: Session, board_id: int, context_id: int, batch_size: int) -> Iterator[dict]:
    cohorts: dict[int, str] = {
        group_id: name
        for group_id, name in session.execute(
            select(LmsGroup.id, LmsGroup.name).where(LmsGroup.context_id == context_id)
        )
    }
    names: dict[int, str] = {}
    last: tuple[int, datetime, int] | None = None
    while True:
        query = (
            select(
                Post.id,
                Post.thread_id,
                Post.parent_id,
                Post.is_opening,
                Post.author_id,
                Post.anonymous,
                Post.body_markdown,
                Post.hidden,
                Post.deleted,
                Post.endorsed_at,
                Post.created_at,
                Post.edited_at,
                Thread.title,
                Thread.kind,
                Thread.cohort_group_id,
                Thread.created_at.label("thread_created_at"),
                Thread.accepted_post_id,
            )
            .join(Thread, Thread.id == Post.thread_id)
            .where(Thread.board_id == board_id)
        )
        if last is not None:
            thread_id, created, post_id = last
            query = query.where(
                or_(
                    Post.thread_id > thread_id,
                    and_(Post.thread_id == thread_id, Post.created_at > created),
                    and_(
                        Post.thread_id == thread_id,
                        Post.created_at == created,
                        Post.id > post_id,
                    ),
                )
            )
        batch = session.execute(
            query.order_by(Post.thread_id, Post.created_at, Post.id).limit(batch_size)
        ).all()
        if not batch:
            return
        ids = [p.id for p in batch]
        counts: dict[tuple[int, str], int] = {
            (post_id, kind): int(n)
            for post_id, kind, n in session.execute(
                select(Reaction.post_id, Reaction.kind, func.count())
                .where(Reaction.post_id.in_(ids))
                .group_by(Reaction.post_id, Reaction.kind)
            )
        }
        wanted = {p.author_id for p in batch if not p.anonymous and not p.deleted} - names.keys()
        if wanted:
            for user in session.scalars(select(User).where(User.id.in_(wanted))):
                names[user.id] = user.display_name
        for p in batch:
            if p.deleted:
                author = ""
            elif p.anonymous:
                author = ANONYMOUS_NAME
            else:
                author = names.get(p.author_id, "Unknown")
            yield {
                "thread_id": p.thread_id,
                "thread_title": p.title,
                "thread_kind": p.kind,
                "cohort": cohorts.get(p.cohort_group_id) if p.cohort_group_id else None,
                "thread_created_at": p.thread_created_at,
                "post_id": p.id,
                "parent_id": p.parent_id,
                "level": "opening" if p.is_opening else ("comment" if p.parent_id else "reply"),
                "author": author,
                "anonymous": bool(p.anonymous),
                "created_at": p.created_at,
                "edited_at": p.edited_at,
                "body_markdown": "" if p.deleted else p.body_markdown,
                "likes": counts.get((p.id, REACTION_LIKE), 0),
                "helpful": counts.get((p.id, REACTION_HELPFUL), 0),
                "endorsed": p.endorsed_at is not None and not p.deleted,
                "accepted": p.accepted_post_id == p.id,
                "hidden": bool(p.hidden),
                "deleted": bool(p.deleted),
            }
        last = (batch[-1].thread_id, batch[-1].created_at, batch[-1].id)
        if len(batch) < batch_size:
            return


_CHUNK = 64 * 1024


def export_csv(rows: Iterator[dict]) -> Iterator[str]:
    """The export as CSV text chunks (UTF-8 with a byte order mark, a header row, cells
    neutralised against formula injection)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in EXPORT_COLUMNS])
        if buffer.tell() >= _CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


_THREAD_FIELDS = ("thread_id", "thread_title", "thread_kind", "cohort", "thread_created_at")
_POST_FIELDS = tuple(c for c in EXPORT_COLUMNS if c not in _THREAD_FIELDS)


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def export_json(board_info: dict, rows: Iterator[dict]) -> Iterator[str]:
    """The export as JSON text chunks: ``{"board": …, "exported_at": …, "threads": [{"id",
    "title", "kind", "cohort", "created_at", "posts": [...]}]}``."""
    head = {"board": board_info, "exported_at": utcnow().isoformat()}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "threads": ['
    current: int | None = None
    parts: list[str] = []
    size = 0
    for row in rows:
        if row["thread_id"] != current:
            if current is not None:
                parts.append("]},")
            thread = {
                "id": row["thread_id"],
                "title": row["thread_title"],
                "kind": row["thread_kind"],
                "cohort": row["cohort"],
                "created_at": _json_value(row["thread_created_at"]),
            }
            parts.append(json.dumps(thread, ensure_ascii=False)[:-1] + ', "posts": [')
            current = row["thread_id"]
        else:
            parts.append(",")
        post = {("id" if c == "post_id" else c): _json_value(row[c]) for c in _POST_FIELDS}
        text = json.dumps(post, ensure_ascii=False)
        parts.append(text)
        size += len(text)
        if size >= _CHUNK:
            yield "".join(parts)
            parts, size = [], 0
    if current is not None:
        parts.append("]}")
    parts.append("]}")
    yield "".join(parts)


def board_info(board: Board) -> dict:
    """The board's identity and settings at the head of a JSON export."""
    return {
        "id": board.id,
        "title": board_title(board),
        "cohort_mode": board.cohort_mode,
        "qa_mode": board.qa_mode,
        "anonymous_allowed": board.anonymous_allowed,
        "anonymous_authors": ANONYMOUS_NAME,
    }


def export_filename(board: Board, extension: str, today: date | None = None) -> str:
    """``<board-title-slug>-<YYYY-MM-DD>.<extension>`` (ASCII only, safe in a header)."""
    ascii_title = (
        unicodedata.normalize("NFKD", board_title(board)).encode("ascii", "ignore").decode()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")
    return f"{slug or 'board'}-{(today or utcnow().date()).isoformat()}.{extension}"


# --- grades --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GradeOutcome:
    user_id: int
    name: str
    score_given: float  # out of SCORE_MAXIMUM
    posted: bool
    message: str | None = None


@dataclass(frozen=True)
class GradeReport:
    """What a grade run did: ``error`` is set when the gradebook could not be reached at all
    (then nothing was posted)."""

    lineitem_url: str | None
    score_maximum: int
    results: list[GradeOutcome]
    error: str | None = None

    @property
    def posted(self) -> int:
        return sum(1 for r in self.results if r.posted)

    @property
    def failed(self) -> list[GradeOutcome]:
        return [r for r in self.results if not r.posted]

    def summary(self) -> str:
        if self.error:
            return f"{NOTHING_SENT}: {self.error}"
        text = f"{self.posted} of {len(self.results)} grades sent (out of {self.score_maximum})."
        if self.failed:
            text += f" {NOT_SENT} " + "; ".join(f"{r.name}: {r.message}" for r in self.failed)
        return text


def send_grades(session: Session, viewer: Viewer, board: Board) -> GradeReport:
    """Course staff send every learner's participation score (see :func:`participation_score`)
    to the LMS gradebook through AGS, as ``scoreGiven`` out of ``scoreMaximum`` 100, on the
    placement's line item (made now, tagged ``board-<id>-participation``, when the launch had
    none). A learner the LMS refuses is reported, not fatal; the run is written to the audit log.
    Refused (409) when the board has no grading rule or the course's platform offered no AGS."""
    _check_staff(viewer, board, "send participation grades")
    return send_board_grades(session, board, actor_id=viewer.user_id)


def send_board_grades(
    session: Session, board: Board, *, actor_id: int | None = None
) -> GradeReport:
    """:func:`send_grades` for trusted callers (the ``commons boards grades`` command)."""
    if not grades_board(board):
        raise Refusal(
            409,
            "This board has no grading rule: set the threads or replies for full marks in its "
            "settings first.",
        )
    placement = session.get(Placement, board.placement_id)
    assert placement is not None
    context = session.get(Context, placement.context_id)
    assert context is not None
    if not placement.lineitem_url and not context.ags_lineitems_url:
        raise Refusal(
            409,
            "The course's platform did not offer Assignment and Grade Services (AGS) to this "
            "tool, so grades cannot be sent. Ask the LMS administrator to allow grade passback.",
        )
    rows = sorted(
        _rows(session, board, board.context_id, None), key=lambda r: (r.name.casefold(), r.user_id)
    )
    users = {
        u.id: u for u in session.scalars(select(User).where(User.id.in_([r.user_id for r in rows])))
    }
    try:
        lineitem = advantage.ensure_lineitem(
            session,
            placement,
            label=f"{board_title(board)}: participation",
            score_maximum=SCORE_MAXIMUM,
            tag=f"board-{board.id}-participation",
        )
    except advantage.ServiceError as exc:
        report = GradeReport(None, SCORE_MAXIMUM, [], error=str(exc))
        _audit_grades(session, board, actor_id, report)
        return report
    results = []
    down: str | None = None  # the platform stopped answering: do not try every other learner
    for row in rows:
        points = score_points(row.score) or 0.0
        if down is not None:
            results.append(GradeOutcome(row.user_id, row.name, points, False, down))
            continue
        try:
            advantage.post_score(
                session,
                placement,
                users[row.user_id],
                score_given=points,
                score_maximum=SCORE_MAXIMUM,
                comment=(
                    f"Threads: {row.threads}; replies and comments: {row.replies + row.comments}"
                ),
            )
        except (advantage.ServiceError, ValueError) as exc:
            results.append(GradeOutcome(row.user_id, row.name, points, False, str(exc)))
            if getattr(exc, "unreachable", False):
                down = str(exc)
        else:
            results.append(GradeOutcome(row.user_id, row.name, points, True))
    report = GradeReport(lineitem, SCORE_MAXIMUM, results)
    _audit_grades(session, board, actor_id, report)
    return report


def _audit_grades(
    session: Session, board: Board, actor_id: int | None, report: GradeReport
) -> None:
    session.add(
        ModerationAction(
            context_id=board.context_id,
            board_id=board.id,
            actor_id=actor_id,
            action=GRADES_ACTION,
            reason=report.summary()[:1000],
            created_at=utcnow(),
        )
    )
    session.flush()


@dataclass(frozen=True)
class LastGrades:
    at: datetime
    by: str | None
    summary: str

    @property
    def ok(self) -> bool:
        return not self.summary.startswith(NOTHING_SENT) and NOT_SENT not in self.summary


def last_grades(session: Session, viewer: Viewer, board: Board) -> LastGrades | None:
    """The latest grade run of the board (from the audit log), for staff."""
    _check_staff(viewer, board, "see the grade runs")
    row = session.execute(
        select(ModerationAction, User)
        .outerjoin(User, User.id == ModerationAction.actor_id)
        .where(
            ModerationAction.board_id == board.id,
            ModerationAction.context_id == board.context_id,
            ModerationAction.action == GRADES_ACTION,
        )
        .order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    action, user = row
    return LastGrades(
        at=action.created_at,
        by=user.display_name if user is not None else None,
        summary=action.reason or "",
    )
