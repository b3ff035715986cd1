"""Competencies on boards and threads: staff link a board to the platform's competencies, authors
and staff tag a thread with the course's; statements about them then carry those competencies."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, String, and_, cast, or_, select
from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer, not_found
from plugin.lti.models import Context, Placement
from plugin.performance import links
from plugin.performance.models import Competency, CompetencyLink, Framework
from plugin.social.boards.activity import platform_of
from plugin.social.boards.log import audit
from plugin.social.boards.visibility import check_board, visible_thread
from plugin.social.models import Board, Thread

MAX_THREAD_TAGS = 5
MAX_COMPETENCY_CHOICES = 1000  # the board settings page's list of the platform's competencies


def board_competencies(
    session: Session, viewer: Viewer, board: Board
) -> list[links.CompetencyInfo]:
    """The board-level competencies: those linked to the board and to its placement."""
    check_board(viewer, board)
    platform_id = platform_of(session, board.context_id)
    found = links.linked(session, platform_id, "board", str(board.id))
    found += links.linked(session, platform_id, "placement", str(board.placement_id))
    return list({c.id: c for c in found}.values())


def course_competencies(session: Session, viewer: Viewer) -> list[links.CompetencyInfo]:
    """The competencies a thread may be tagged with: the current ones linked to the course's
    placements and boards (none until staff link some). One query."""
    platform_id = (
        select(Context.platform_id).where(Context.id == viewer.context_id).scalar_subquery()
    )
    placement_keys = select(cast(Placement.id, String)).where(
        Placement.context_id == viewer.context_id
    )
    board_keys = select(cast(Board.id, String)).where(Board.context_id == viewer.context_id)
    query = (
        _current_competencies(platform_id)
        .join(CompetencyLink, CompetencyLink.competency_id == Competency.id)
        .where(
            CompetencyLink.platform_id == platform_id,
            or_(
                and_(
                    CompetencyLink.ref_kind == "placement",
                    CompetencyLink.ref_key.in_(placement_keys),
                ),
                and_(CompetencyLink.ref_kind == "board", CompetencyLink.ref_key.in_(board_keys)),
            ),
        )
        .order_by(Competency.id)
    )
    rows = session.scalars(query)
    return [links.CompetencyInfo.of(c) for c in {c.id: c for c in rows}.values()]


def competency_choices(session: Session, viewer: Viewer) -> list[links.CompetencyInfo]:
    """What staff may link a board to: the current competencies of the platform's frameworks,
    framework by framework (at most ``MAX_COMPETENCY_CHOICES``)."""
    if not viewer.staff:
        raise Refusal(403, "Only course staff can link the board to competencies.")
    platform_id = platform_of(session, viewer.context_id)
    rows = session.scalars(
        _current_competencies(platform_id)
        .order_by(Framework.id, Competency.id)
        .limit(MAX_COMPETENCY_CHOICES)
    )
    return [links.CompetencyInfo.of(c) for c in rows]


def _current_competencies(platform_id: int | ColumnElement[int]) -> Select:
    """The competencies of the platform's frameworks that are not retired."""
    return (
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.platform_id == platform_id, Competency.retired_at.is_(None))
    )


def set_board_competencies(
    session: Session, viewer: Viewer, board: Board, competency_ids: list[int]
) -> list[links.CompetencyInfo]:
    """Staff link the board to competencies: every act on the board then counts toward them."""
    check_board(viewer, board)
    if not viewer.staff:
        raise Refusal(403, "Only course staff can link the board to competencies.")
    platform_id = platform_of(session, board.context_id)
    try:
        found = links.set_links(
            session, platform_id, "board", str(board.id), competency_ids, user_id=viewer.user_id
        )
    except links.UnknownCompetencyError as exc:
        raise Refusal(404, exc.message) from exc
    except links.LinkError as exc:
        raise Refusal(400, exc.message) from exc
    audit(session, viewer, board, "competencies", reason=", ".join(c.name for c in found) or "none")
    return found


def thread_competencies(session: Session, thread: Thread) -> list[links.CompetencyInfo]:
    platform_id = (
        select(Context.platform_id)
        .join(Board, Board.context_id == Context.id)
        .where(Board.id == thread.board_id)
        .scalar_subquery()
    )
    return links.linked(session, platform_id, "thread", str(thread.id))


def can_tag_thread(viewer: Viewer, thread: Thread) -> bool:
    """The thread's author and course staff may tag a thread with competencies."""
    return viewer.staff or thread.author_id == viewer.user_id


def set_thread_competencies(
    session: Session, viewer: Viewer, thread: Thread, competency_ids: list[int]
) -> list[links.CompetencyInfo]:
    """Tag a thread with some of the course's competencies (its author or staff): statements
    about the thread and its posts then carry them."""
    board = visible_thread(session, viewer, thread)
    if not can_tag_thread(viewer, thread):
        raise Refusal(403, "Only the thread's author or course staff can tag it.")
    return tag_thread(session, viewer, board, thread, competency_ids)


def tag_thread(
    session: Session, viewer: Viewer, board: Board, thread: Thread, competency_ids: list[int]
) -> list[links.CompetencyInfo]:
    """Set the thread\'s competency tags (at most ``MAX_THREAD_TAGS``, each one of the course\'s
    competencies); the caller has checked who may."""
    wanted = list(dict.fromkeys(competency_ids))
    if len(wanted) > MAX_THREAD_TAGS:
        raise Refusal(400, f"Tag a thread with at most {MAX_THREAD_TAGS} competencies.")
    allowed = {c.id for c in course_competencies(session, viewer)}
    if any(i not in allowed for i in wanted):
        raise not_found("This competency")
    try:
        return links.set_links(
            session,
            platform_of(session, board.context_id),
            "thread",
            str(thread.id),
            wanted,
            user_id=viewer.user_id,
        )
    except links.LinkError as exc:
        raise Refusal(400, exc.message) from exc
