"""Who may see what on a board (the rules are listed in :mod:`plugin.social.boards`): the checks
and the loaders that answer "not found" for what the viewer may not see."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from plugin.access import Viewer, not_found
from plugin.lti.models import GROUP_FROM_LMS, GROUP_MADE_IN_TOOL, LmsGroup
from plugin.social.models import COHORT_GROUPS, COHORT_MADE, COHORT_NONE, Board, Post, Thread


def check_board(viewer: Viewer, board: Board) -> None:
    """A board of another course is "not found"."""
    if board.context_id != viewer.context_id:
        raise not_found("This board")


def can_see_thread(viewer: Viewer, board: Board, thread: Thread) -> bool:
    """A thread of the viewer's course; in cohort mode a learner's own cohorts' and course-wide
    threads only (staff see all)."""
    if thread.board_id != board.id or board.context_id != viewer.context_id:
        return False
    if viewer.staff or board.cohort_mode == COHORT_NONE or thread.cohort_group_id is None:
        return True
    return thread.cohort_group_id in viewer.group_ids


def can_see_post(viewer: Viewer, post: Post) -> bool:
    """Hidden posts are for staff only."""
    return viewer.staff or not post.hidden


def can_moderate(viewer: Viewer, board: Board) -> bool:
    """Instructors and TAs moderate every board of their course; members with the LTI Mentor
    role moderate boards that allow it (``Board.mentors_moderate``)."""
    if board.context_id != viewer.context_id:
        return False
    return viewer.staff or (board.mentors_moderate and viewer.perms.mentor)


def load_thread(session: Session, viewer: Viewer, thread_id: int) -> Thread:
    """A thread the viewer may see (404 otherwise, also for a hidden opening post)."""
    return load_thread_and_board(session, viewer, thread_id)[0]


def load_thread_and_board(session: Session, viewer: Viewer, thread_id: int) -> tuple[Thread, Board]:
    """:func:`load_thread` with its board, in one query."""
    hidden = opening_hidden_query(Thread.id).limit(1).scalar_subquery()
    row = session.execute(
        select(Thread, Board, hidden.label("opening_hidden"))
        .join(Board, Board.id == Thread.board_id)
        .where(Thread.id == thread_id, Board.context_id == viewer.context_id)
    ).first()
    if row is None or not can_see_thread(viewer, row.Board, row.Thread):
        raise not_found("This thread")
    if not viewer.staff and row.opening_hidden:
        raise not_found("This thread")
    return row.Thread, row.Board


def load_post(session: Session, viewer: Viewer, post_id: int) -> Post:
    return load_post_in_thread(session, viewer, post_id)[0]


def load_post_in_thread(
    session: Session, viewer: Viewer, post_id: int
) -> tuple[Post, Thread, Board]:
    """A post the viewer may see, in a thread they may see, with that thread and its board."""
    post = session.get(Post, post_id)
    if post is None or not can_see_post(viewer, post):
        raise not_found("This post")
    return (post, *load_thread_and_board(session, viewer, post.thread_id))


def opening_hidden_query(thread_id: int | ColumnElement[int]) -> Select:
    """``SELECT hidden`` of a thread's opening post (``thread_id`` may be a correlated column);
    the index ``(thread_id, is_opening)`` answers it directly."""
    return select(Post.hidden).where(Post.thread_id == thread_id, Post.is_opening.is_(True))


def opening_hidden(session: Session, thread: Thread) -> bool:
    """The thread's opening post is hidden (the whole thread is then for staff only)."""
    return bool(session.scalar(opening_hidden_query(thread.id)))


def visible_thread(session: Session, viewer: Viewer, thread: Thread) -> Board:
    """The thread's board, when the viewer may see the thread (404 otherwise)."""
    board = session.get(Board, thread.board_id)
    if board is None or not can_see_thread(viewer, board, thread):
        raise not_found("This thread")
    return board


def visible_post(session: Session, viewer: Viewer, post: Post) -> tuple[Thread, Board]:
    """The post's thread and board, when the viewer may see the post and its thread (404
    otherwise)."""
    if not can_see_post(viewer, post):
        raise not_found("This post")
    thread = session.get(Thread, post.thread_id)
    if thread is None:
        raise not_found("This post")
    return thread, visible_thread(session, viewer, thread)


def cohort_source(board: Board) -> str | None:
    """Which groups are the board's cohorts (``LmsGroup.source``); None without cohorts."""
    if board.cohort_mode == COHORT_GROUPS:
        return GROUP_FROM_LMS
    if board.cohort_mode == COHORT_MADE:
        return GROUP_MADE_IN_TOOL
    return None


def cohort_choices(session: Session, viewer: Viewer, board: Board) -> list[LmsGroup]:
    """The cohorts a new thread may go to, by name (empty when the board has no cohorts): staff
    may choose any of the board's cohorts, a learner only their own."""
    source = cohort_source(board)
    if source is None:
        return []
    query = select(LmsGroup).where(
        LmsGroup.context_id == board.context_id, LmsGroup.source == source
    )
    if not viewer.staff:
        query = query.where(LmsGroup.id.in_(sorted(viewer.groups_from(source))))
    return list(session.scalars(query.order_by(LmsGroup.name, LmsGroup.id)))
