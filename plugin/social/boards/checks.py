"""What an act on a board must pass before anything is written: the text and title of a post,
and whether the person may post now (not muted, under the board's posts-per-hour limit)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer
from plugin.db import utcnow
from plugin.social import markdown
from plugin.social.models import Board, Mute, Post, PostingLock, Thread

MAX_TITLE_CHARS = 200


def check_body(body: object) -> str:
    """A post's Markdown: not blank, at most ``MAX_BODY_CHARS`` (413 far beyond), no NUL."""
    if not isinstance(body, str) or not body.strip():
        raise Refusal(400, "Write something before posting.")
    if len(body) > markdown.MAX_BODY_CHARS:
        raise Refusal(
            413 if len(body) > 4 * markdown.MAX_BODY_CHARS else 400,
            f"A post can be at most {markdown.MAX_BODY_CHARS:,} characters long.",
        )
    if "\x00" in body:
        raise Refusal(400, "The text contains a character that cannot be stored.")
    return body


def check_title(title: object) -> str:
    """A thread's title, whitespace collapsed: not blank, at most ``MAX_TITLE_CHARS``."""
    if not isinstance(title, str) or not title.strip():
        raise Refusal(400, "Give the thread a title.")
    title = " ".join(title.split())
    if len(title) > MAX_TITLE_CHARS:
        raise Refusal(400, f"A title can be at most {MAX_TITLE_CHARS} characters long.")
    return title


def is_muted(session: Session, context_id: int, user_id: int) -> bool:
    """A moderator muted this person in this course."""
    return bool(
        session.scalar(
            select(exists().where(Mute.context_id == context_id, Mute.user_id == user_id))
        )
    )


def check_not_muted(session: Session, viewer: Viewer) -> None:
    """A member a moderator muted can read but not post, edit or react."""
    if is_muted(session, viewer.context_id, viewer.user_id):
        raise Refusal(403, "A moderator has muted you in this course: you can read but not post.")


def check_can_post(session: Session, viewer: Viewer, board: Board) -> None:
    """A muted member cannot post, edit or react; members may write at most
    ``board.posts_per_hour`` threads and posts an hour in the course (staff are not limited).

    The count is atomic across workers: the person's posting lock for the course (a
    :class:`PostingLock` row, updated first) is held until the caller's transaction ends, so two
    posts of one person never count the same last hour; the new post commits with it."""
    check_not_muted(session, viewer)
    if viewer.staff or not board.posts_per_hour:
        return
    now = utcnow()
    _take_posting_lock(session, viewer, now)
    recent = session.scalar(
        select(func.count())
        .select_from(Post)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Board, Board.id == Thread.board_id)
        .where(
            Post.author_id == viewer.user_id,
            Post.created_at >= now - timedelta(hours=1),
            Board.context_id == viewer.context_id,
        )
    )
    if (recent or 0) >= board.posts_per_hour:
        raise Refusal(
            429,
            f"You have posted {recent} times in the last hour, the most this board allows. "
            "Please wait a little before posting again.",
        )


def _take_posting_lock(session: Session, viewer: Viewer, now: datetime) -> None:
    """Create the person's lock row for the course if needed, then update it: the update waits
    for (PostgreSQL: the row lock; SQLite: the write lock) any other transaction posting as
    them, and what that one wrote is visible to the count that follows."""
    table = PostingLock.__table__
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    session.execute(
        insert.values(context_id=viewer.context_id, user_id=viewer.user_id).on_conflict_do_nothing()
    )
    session.execute(
        update(table)
        .where(table.c.context_id == viewer.context_id, table.c.user_id == viewer.user_id)
        .values(last_post_at=now)
    )
