"""Boards, threads and posts as the activities their domain events name, and publishing those
events (xAPI statements and evidence come from the events' subscribers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin import events
from plugin.access import Viewer
from plugin.events import ActivityRef, DomainEvent
from plugin.lti.models import Context, Placement
from plugin.social.models import Board, Post, Thread


def platform_of(session: Session, context_id: int) -> int:
    """The platform a course belongs to."""
    return session.scalars(select(Context.platform_id).where(Context.id == context_id)).one()


def board_ref(session: Session, board: Board) -> ActivityRef:
    """The board as an activity, named after its placement ("Discussion board" without one)."""
    placement = session.get(Placement, board.placement_id)
    name = (placement.title if placement is not None else None) or "Discussion board"
    return ActivityRef("board", str(board.id), name)


def thread_ref(thread: Thread) -> ActivityRef:
    """The thread as an activity, named by its title, its variant its kind."""
    # The variant (discussion or question) is the thread's own: its xAPI activity type is the
    # same whether the thread is a statement's object or the parent of a reply.
    return ActivityRef("thread", str(thread.id), thread.title, variant=thread.kind)


def post_ref(thread: Thread, post: Post) -> ActivityRef:
    """The post as an activity, named by what it is (opening post, reply, comment) and where."""
    if post.is_opening:
        name = f"Opening post of “{thread.title}”"
    elif post.parent_id is None:
        name = f"Reply in “{thread.title}”"
    else:
        name = f"Comment in “{thread.title}”"
    return ActivityRef("post", str(post.id), name)


def find_activity(session: Session, platform_id: int, kind: str, key: str) -> ActivityRef | None:
    """The board, thread or post ``key`` of the platform as the ActivityRef its events use (the
    finder behind the xAPI activity IRIs), or None when it does not exist on that platform.
    Hidden and deleted posts still exist: statements about them keep pointing at them."""
    row_id = events.key_id(key)
    if row_id is None:
        return None
    on_platform = (Context.id == Board.context_id) & (Context.platform_id == platform_id)
    if kind == "board":
        board = session.scalars(
            select(Board).join(Context, on_platform).where(Board.id == row_id)
        ).first()
        return board_ref(session, board) if board is not None else None
    if kind == "thread":
        thread = session.scalars(
            select(Thread)
            .join(Board, Board.id == Thread.board_id)
            .join(Context, on_platform)
            .where(Thread.id == row_id)
        ).first()
        return thread_ref(thread) if thread is not None else None
    if kind == "post":
        found = session.execute(
            select(Post, Thread)
            .join(Thread, Thread.id == Post.thread_id)
            .join(Board, Board.id == Thread.board_id)
            .join(Context, on_platform)
            .where(Post.id == row_id)
        ).first()
        return post_ref(found[1], found[0]) if found is not None else None
    return None


def publish_event(
    session: Session,
    kind: str,
    identity: str,
    viewer: Viewer,
    board: Board,
    obj: ActivityRef,
    parents: tuple[ActivityRef, ...],
    when: datetime,
    data: dict,
) -> None:
    """Publish one domain event of an act on ``board`` (its subscribers run in ``session``)."""
    events.publish(
        session,
        DomainEvent(
            kind=kind,
            identity=identity,
            occurred_at=when,
            platform_id=platform_of(session, board.context_id),
            actor_user_id=viewer.user_id,
            object=obj,
            context_id=board.context_id,
            placement_id=board.placement_id,
            parents=parents,
            data=data,
        ),
    )
