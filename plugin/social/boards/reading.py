"""Reading a board: a page of its threads, a thread with a page of its replies, where a post is
shown, a post's edit history, and recording thread views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Boolean, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from plugin import events, paging
from plugin.access import Refusal, Viewer, not_found
from plugin.db import utcnow
from plugin.social.boards.activity import board_ref, publish_event, thread_ref
from plugin.social.boards.sorts import SORT_ACTIVITY, SORT_HELPFUL, SORT_UNANSWERED, SORTS, sort_key
from plugin.social.boards.visibility import (
    can_see_post,
    check_board,
    load_post_in_thread,
    load_thread_and_board,
    visible_post,
    visible_thread,
)
from plugin.social.display import AuthorView, author_view, display_names
from plugin.social.models import (
    KIND_QUESTION,
    SEPARATED_MODES,
    Board,
    Post,
    PostRevision,
    Reaction,
    Thread,
)


@dataclass(frozen=True)
class ThreadSummary:
    id: int
    kind: str
    title: str
    author: AuthorView
    cohort_group_id: int | None
    pinned: bool
    locked: bool
    closed: bool
    endorsed: bool
    answered: bool
    reply_count: int
    comment_count: int
    helpful_count: int
    last_activity_at: datetime
    created_at: datetime
    hidden: bool = False  # the opening post is hidden (only staff see such threads)


@dataclass(frozen=True)
class ThreadPage:
    threads: list[ThreadSummary]
    next_cursor: str | None


def list_threads(
    session: Session,
    viewer: Viewer,
    board: Board,
    *,
    cursor: str | None = None,
    limit: int = 20,
    cohort_group_id: int | None = None,
    sort: str = SORT_ACTIVITY,
) -> ThreadPage:
    """A page of the board's threads the viewer may see, pinned first, then by ``sort``: latest
    activity (default), newest, most helpful (helpful reactions on its posts), or unanswered
    (no reply yet, newest first). Keyset pagination; two queries whatever the page size (threads,
    then their authors' names)."""
    check_board(viewer, board)
    limit = paging.limit(limit)
    if sort not in SORTS:
        raise Refusal(400, "Sort by activity, newest, helpful or unanswered.")
    key = sort_key(sort)
    opening = Post.__table__.alias("opening")
    query = (
        select(Thread, opening.c.hidden)
        .join(opening, and_(opening.c.thread_id == Thread.id, opening.c.is_opening.is_(True)))
        .where(Thread.board_id == board.id)
    )
    if sort == SORT_UNANSWERED:
        query = query.where(Thread.reply_count == 0, Thread.accepted_post_id.is_(None))
    if not viewer.staff:
        query = query.where(opening.c.hidden.is_(False))
        if board.cohort_mode in SEPARATED_MODES:
            query = query.where(
                or_(
                    Thread.cohort_group_id.is_(None),
                    Thread.cohort_group_id.in_(sorted(viewer.group_ids)),
                )
            )
    elif cohort_group_id is not None:
        query = query.where(Thread.cohort_group_id == cohort_group_id)
    if cursor:
        cursor_sort, pinned, last, last_id = paging.decode(cursor, 4)
        if cursor_sort != sort or not isinstance(pinned, bool):
            raise Refusal(400, "This page link is not valid.")
        last_id = paging.cursor_id(last_id)
        if sort == SORT_HELPFUL:
            last_value: object = paging.cursor_count(last)
        else:
            last_value = paging.when(last)
        pinned_value = literal(pinned, Boolean())
        query = query.where(
            or_(
                Thread.pinned < pinned_value,
                and_(Thread.pinned == pinned_value, key < last_value),
                and_(Thread.pinned == pinned_value, key == last_value, Thread.id < last_id),
            )
        )
    query = query.order_by(Thread.pinned.desc(), key.desc(), Thread.id.desc()).limit(limit + 1)
    result = session.execute(query).all()
    more = len(result) > limit
    result = result[:limit]
    rows = [r[0] for r in result]
    hidden_ids = {r[0].id for r in result if r[1]}
    names = display_names(session, (t.author_id for t in rows))
    summaries = [
        ThreadSummary(
            id=t.id,
            kind=t.kind,
            title=t.title,
            author=author_view(viewer, t.author_id, t.anonymous, names),
            cohort_group_id=t.cohort_group_id,
            pinned=t.pinned,
            locked=t.locked,
            closed=t.closed,
            endorsed=t.endorsed,
            answered=t.accepted_post_id is not None,
            reply_count=t.reply_count,
            comment_count=t.comment_count or 0,
            helpful_count=t.helpful_count or 0,
            last_activity_at=t.last_activity_at,
            created_at=t.created_at,
            hidden=t.id in hidden_ids,
        )
        for t in rows
    ]
    next_cursor = None
    if more and rows:
        last_row = rows[-1]
        value = getattr(last_row, key.key)
        next_cursor = paging.encode(
            [
                sort,
                bool(last_row.pinned),
                value if sort == SORT_HELPFUL else value.isoformat(),
                last_row.id,
            ]
        )
    return ThreadPage(summaries, next_cursor)


@dataclass(frozen=True)
class PostView:
    """A post as the viewer may see it: a deleted post keeps its place without its text."""

    id: int
    parent_id: int | None
    is_opening: bool
    author: AuthorView | None  # None for a deleted post
    body_html: str
    hidden: bool
    deleted: bool
    created_at: datetime
    edited_at: datetime | None
    reactions: dict[str, int]
    my_reactions: frozenset[str]
    endorsed: bool = False
    comments: list[PostView] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadDetail:
    thread: Thread
    board: Board
    opening: PostView | None
    replies: list[PostView]
    next_cursor: str | None
    # Q&A mode: a learner sees others' answers to a question only after answering themselves.
    answers_withheld: bool = False


def answers_withheld(session: Session, viewer: Viewer, board: Board, thread: Thread) -> bool:
    """Q&A mode: a learner (not the asker, not staff) sees others' answers to a question only after
    answering it: True while this viewer's are withheld."""
    if (
        not board.qa_mode
        or thread.kind != KIND_QUESTION
        or viewer.staff
        or thread.author_id == viewer.user_id
    ):
        return False
    answered = session.scalar(
        select(
            exists().where(
                Post.thread_id == thread.id,
                Post.author_id == viewer.user_id,
                Post.parent_id.is_(None),
                Post.is_opening.is_(False),
                Post.deleted.is_(False),
            )
        )
    )
    return not answered


def _listed_replies(viewer: Viewer, thread: Thread, withheld: bool) -> list:
    """The conditions for the replies a thread page lists to this viewer."""
    conditions = [
        Post.thread_id == thread.id,
        Post.parent_id.is_(None),
        Post.is_opening.is_(False),
    ]
    if not viewer.staff:
        conditions.append(Post.hidden.is_(False))
    if withheld:
        conditions.append(Post.author_id == viewer.user_id)
    return conditions


@dataclass(frozen=True)
class PostPlace:
    """Where a post is shown: its thread and the thread page's cursor (None: the first page)."""

    thread_id: int
    cursor: str | None


def locate_post(session: Session, viewer: Viewer, post_id: int, *, limit: int = 50) -> PostPlace:
    """The page of its thread (pages of ``limit`` replies, as :func:`get_thread` makes them) that
    shows a post: a reply's own page, a comment's reply's page, the first page for the opening
    post. 404 for a post the viewer may not see. At most six queries whatever the thread's length
    (the count and the page's first row come from the replies index)."""
    limit = paging.limit(limit)
    post, thread, board = load_post_in_thread(session, viewer, post_id)
    if post.is_opening:
        return PostPlace(thread.id, None)
    reply = post if post.parent_id is None else session.get(Post, post.parent_id)
    if reply is None or not can_see_post(viewer, reply):  # a comment under a hidden reply
        raise not_found("This post")
    listed = _listed_replies(viewer, thread, answers_withheld(session, viewer, board, thread))
    before = session.scalar(
        select(func.count())
        .select_from(Post)
        .where(
            *listed,
            or_(
                Post.created_at < reply.created_at,
                and_(Post.created_at == reply.created_at, Post.id < reply.id),
            ),
        )
    )
    start = (int(before or 0) // limit) * limit
    if start == 0:
        return PostPlace(thread.id, None)
    last = session.execute(
        select(Post.created_at, Post.id)
        .where(*listed)
        .order_by(Post.created_at, Post.id)
        .offset(start - 1)
        .limit(1)
    ).one()
    return PostPlace(thread.id, paging.encode([last.created_at.isoformat(), last.id]))


def get_thread(
    session: Session,
    viewer: Viewer,
    thread_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> ThreadDetail:
    """A thread with a page of its replies (oldest first, keyset) and all their comments; a bounded
    number of queries whatever the page size."""
    limit = paging.limit(limit)
    thread, board = load_thread_and_board(session, viewer, thread_id)
    visible = [] if viewer.staff else [Post.hidden.is_(False)]
    opening = session.scalar(select(Post).where(Post.thread_id == thread.id, Post.is_opening))
    withheld = answers_withheld(session, viewer, board, thread)
    query = select(Post).where(*_listed_replies(viewer, thread, withheld))
    if cursor:
        last, last_id = paging.decode(cursor, 2)
        last_id = paging.cursor_id(last_id)
        last_at = paging.when(last)
        query = query.where(
            or_(Post.created_at > last_at, and_(Post.created_at == last_at, Post.id > last_id))
        )
    replies = list(session.scalars(query.order_by(Post.created_at, Post.id).limit(limit + 1)))
    more = len(replies) > limit
    replies = replies[:limit]
    comments: list[Post] = []
    if replies:
        comments = list(
            session.scalars(
                select(Post)
                .where(Post.parent_id.in_([r.id for r in replies]), *visible)
                .order_by(Post.created_at, Post.id)
            )
        )
    everything = ([opening] if opening is not None else []) + replies + comments
    ids = [p.id for p in everything]
    counts: dict[int, dict[str, int]] = {}
    mine: dict[int, set[str]] = {}
    if ids:
        for post_id, kind, count, own in session.execute(
            select(
                Reaction.post_id,
                Reaction.kind,
                func.count(),
                func.max(case((Reaction.user_id == viewer.user_id, 1), else_=0)),
            )
            .where(Reaction.post_id.in_(ids))
            .group_by(Reaction.post_id, Reaction.kind)
        ):
            counts.setdefault(post_id, {})[kind] = count
            if own:
                mine.setdefault(post_id, set()).add(kind)
    names = display_names(session, (p.author_id for p in everything))

    def view(p: Post) -> PostView:
        return PostView(
            id=p.id,
            parent_id=p.parent_id,
            is_opening=p.is_opening,
            author=None if p.deleted else author_view(viewer, p.author_id, p.anonymous, names),
            body_html="" if p.deleted else p.body_html,
            hidden=p.hidden,
            deleted=p.deleted,
            created_at=p.created_at,
            edited_at=p.edited_at,
            reactions=counts.get(p.id, {}),
            my_reactions=frozenset(mine.get(p.id, ())),
            endorsed=p.endorsed_at is not None and not p.deleted,
        )

    by_parent: dict[int, list[PostView]] = {}
    for c in comments:
        by_parent.setdefault(c.parent_id, []).append(view(c))  # type: ignore[arg-type]
    reply_views = []
    for r in replies:
        v = view(r)
        v.comments.extend(by_parent.get(r.id, []))
        reply_views.append(v)
    next_cursor = None
    if more and replies:
        next_cursor = paging.encode([replies[-1].created_at.isoformat(), replies[-1].id])
    return ThreadDetail(
        thread=thread,
        board=board,
        opening=view(opening) if opening is not None else None,
        replies=reply_views,
        next_cursor=next_cursor,
        answers_withheld=withheld,
    )


def record_view(session: Session, viewer: Viewer, thread: Thread) -> bool:
    """Publish ``board.thread_viewed`` when the board records views (off by default). At most one
    statement per person, thread and minute, so reloading a page does not flood the LRS. True when
    one was published."""
    board = visible_thread(session, viewer, thread)
    if not board.record_views:
        return False
    now = utcnow()
    publish_event(
        session,
        events.THREAD_VIEWED,
        f"view:{thread.id}:{viewer.user_id}:{now.strftime('%Y-%m-%dT%H:%M')}",
        viewer,
        board,
        thread_ref(thread),
        (board_ref(session, board),),
        now,
        {"thread_kind": thread.kind},
    )
    return True


def revisions(session: Session, viewer: Viewer, post: Post) -> list[PostRevision]:
    """A post's edit history, oldest first (hidden from peers when the post is deleted)."""
    visible_post(session, viewer, post)
    if post.deleted and not viewer.staff:
        return []
    return list(
        session.scalars(
            select(PostRevision)
            .where(PostRevision.post_id == post.id)
            .order_by(PostRevision.edited_at, PostRevision.id)
        )
    )
