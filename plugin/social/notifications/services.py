"""Notifications, follows and read markers of the discussion boards.

Event subscribers (:func:`on_event`, in the same transaction as the post):

- a new thread, reply or comment, and an edit: mentions are resolved (:mod:`plugin.social.mentions`),
  ``Post.body_html`` is rendered again with them, :class:`Mention` rows are kept in step with the
  text, and each newly mentioned person gets a ``mention`` notification;
- a new reply or comment: the thread's followers get a ``reply`` notification (not the writer, not
  someone already notified of a mention in it, not someone who cannot see it); the writer follows
  the thread when it is their first post in it (the author of a thread follows it from the start)
  and their read marker moves to the post;
- an endorsement or an accepted answer: the reply's author gets ``endorsed`` / ``accepted``.

A notification names its actor only when the recipient may know them: for an anonymous post (or an
answer accepted by the anonymous asker) ``actor_id`` is None unless the recipient is course staff.
There is at most one notification per person, post and kind.

Services for the person reading (a :class:`~plugin.social.Viewer`): :func:`follow`,
:func:`unfollow`, :func:`is_following`, :func:`list_notifications`, :func:`unread_count`,
:func:`mark_read`, :func:`open_notification`, :func:`mark_thread_read`, :func:`unread_thread_ids`;
for a later e-mail digest: :func:`undigested` and :func:`mark_emailed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from plugin import events, paging
from plugin.access import Refusal, Viewer
from plugin.db import utcnow
from plugin.events import DomainEvent
from plugin.lti.models import User
from plugin.social import boards, display, markdown
from plugin.social.display import ANONYMOUS_NAME
from plugin.social.models import (
    COHORT_NONE,
    KIND_QUESTION,
    NOTIFY_ACCEPTED,
    NOTIFY_ENDORSED,
    NOTIFY_MENTION,
    NOTIFY_REPLY,
    Board,
    Follow,
    Mention,
    Notification,
    Post,
    ReadMarker,
    Thread,
)
from plugin.social.notifications import mentions

SUBSCRIBER_NAME = "social.notifications"
EXCERPT_CHARS = 160
MAX_PAGE_SIZE = 100
MAX_MARK_IDS = 500
SOMEONE = "Someone"


# --- subscribers ---------------------------------------------------------------------------------
def register() -> None:
    """Subscribe :func:`on_event` to the board events (once)."""
    events.subscribe(SUBSCRIBER_NAME, on_event)


def _post_id(event: DomainEvent) -> int | None:
    """The post an event is about: threads carry the opening post in ``data["post_id"]``,
    comments in ``data["comment_post_id"]``; replies, edits, endorsements and acceptances have
    the post as their object."""
    if event.kind == events.THREAD_POSTED:
        value = event.data.get("post_id")
    elif event.kind == events.COMMENT_POSTED:
        value = event.data.get("comment_post_id")
    elif event.object.kind == "post":
        value = event.object.key
    else:
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


_POSTED = (events.THREAD_POSTED, events.REPLY_POSTED, events.COMMENT_POSTED)
_HANDLED = (*_POSTED, events.POST_EDITED, events.ANSWER_ENDORSED, events.ANSWER_ACCEPTED)


def on_event(session: Session, event: DomainEvent) -> None:
    """Mentions, follows, read markers and notifications for one board event."""
    if event.kind not in _HANDLED:
        return
    post_id = _post_id(event)
    post = session.get(Post, post_id) if post_id is not None else None
    if post is None:
        return
    thread = session.get(Thread, post.thread_id)
    board = session.get(Board, thread.board_id) if thread is not None else None
    if thread is None or board is None:
        return
    when = event.occurred_at
    if event.kind in _POSTED or event.kind == events.POST_EDITED:
        mentioned = _apply_mentions(session, board, thread, post, when)
        if event.kind in _POSTED:
            _writer_follows(session, thread, post, when)
            if not post.is_opening:
                _notify_followers(session, board, thread, post, when, skip=mentioned)
    elif event.kind == events.ANSWER_ENDORSED:
        _notify_author(session, board, thread, post, NOTIFY_ENDORSED, event.actor_user_id, when)
    elif event.kind == events.ANSWER_ACCEPTED:
        _notify_author(session, board, thread, post, NOTIFY_ACCEPTED, event.actor_user_id, when)


def _apply_mentions(
    session: Session, board: Board, thread: Thread, post: Post, when: datetime
) -> set[int]:
    """Render the post with its mentions, keep Mention rows in step, notify the newly mentioned.
    Returns the people notified now."""
    found = mentions.resolve(session, board, thread, post)
    if found:
        post.body_html = markdown.render(post.body_markdown, {h: m.name for h, m in found.items()})
    people = {m.user_id: m for m in found.values()}
    before = set(session.scalars(select(Mention.user_id).where(Mention.post_id == post.id)))
    gone = before - people.keys()
    if gone:
        session.execute(
            delete(Mention).where(Mention.post_id == post.id, Mention.user_id.in_(sorted(gone)))
        )
    new = sorted(people.keys() - before)
    session.add_all(Mention(post_id=post.id, user_id=u, created_at=when) for u in new)
    recipients = {u: people[u].staff for u in new if u != post.author_id}
    return _notify(
        session,
        board,
        thread,
        post,
        NOTIFY_MENTION,
        recipients,
        actor_id=post.author_id,
        anonymous=post.anonymous,
        when=when,
    )


def _writer_follows(session: Session, thread: Thread, post: Post, when: datetime) -> None:
    """The writer of a thread follows it; someone writing in a thread for the first time follows
    it too (a later post does not undo an unfollow). Their read marker moves to the post."""
    earlier = session.scalar(
        select(
            exists().where(
                Post.thread_id == thread.id,
                Post.author_id == post.author_id,
                Post.id != post.id,
            )
        )
    )
    if not earlier:
        _add_follow(session, thread.id, post.author_id, when)
    _set_read(session, post.author_id, thread.id, max(when, post.created_at))


def _notify_followers(
    session: Session,
    board: Board,
    thread: Thread,
    post: Post,
    when: datetime,
    *,
    skip: set[int],
) -> None:
    followers = set(session.scalars(select(Follow.user_id).where(Follow.thread_id == thread.id)))
    followers -= skip | {post.author_id}
    if not followers:
        return
    staff = mentions.staff_flags(session, board.context_id, followers)
    recipients = mentions.who_can_see(session, board, thread, staff, post=post)
    _notify(
        session,
        board,
        thread,
        post,
        NOTIFY_REPLY,
        recipients,
        actor_id=post.author_id,
        anonymous=post.anonymous,
        when=when,
    )


def _notify_author(
    session: Session,
    board: Board,
    thread: Thread,
    post: Post,
    kind: str,
    actor_id: int,
    when: datetime,
) -> None:
    if post.author_id == actor_id:
        return
    staff = mentions.staff_flags(session, board.context_id, [post.author_id])
    recipients = mentions.who_can_see(session, board, thread, staff, post=post)
    # The asker accepting an answer is anonymous to peers when they asked anonymously.
    anonymous = kind == NOTIFY_ACCEPTED and thread.anonymous and actor_id == thread.author_id
    _notify(
        session,
        board,
        thread,
        post,
        kind,
        recipients,
        actor_id=actor_id,
        anonymous=anonymous,
        when=when,
    )


def _notify(
    session: Session,
    board: Board,
    thread: Thread,
    post: Post,
    kind: str,
    recipients: dict[int, bool],
    *,
    actor_id: int,
    anonymous: bool,
    when: datetime,
) -> set[int]:
    """One notification per recipient (user id → staff), unless they already have this kind for
    this post. Returns who was notified now."""
    if not recipients:
        return set()
    already = set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.post_id == post.id,
                Notification.kind == kind,
                Notification.user_id.in_(sorted(recipients)),
            )
        )
    )
    fresh = sorted(set(recipients) - already)
    session.add_all(
        Notification(
            user_id=user_id,
            context_id=board.context_id,
            kind=kind,
            thread_id=thread.id,
            post_id=post.id,
            actor_id=None if anonymous and not recipients[user_id] else actor_id,
            created_at=when,
        )
        for user_id in fresh
    )
    session.flush()
    return set(fresh)


def _add_follow(session: Session, thread_id: int, user_id: int, when: datetime) -> bool:
    existing = session.scalar(
        select(Follow.id).where(Follow.thread_id == thread_id, Follow.user_id == user_id)
    )
    if existing is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Follow(thread_id=thread_id, user_id=user_id, created_at=when))
    except IntegrityError:  # followed at the same moment elsewhere
        return False
    return True


def _set_read(
    session: Session,
    user_id: int,
    thread_id: int,
    when: datetime,
    quiet_since: datetime | None = None,
) -> datetime | None:
    """Move a person's read marker of a thread to ``when`` (never back); the previous time. With
    ``quiet_since`` (nothing happened in the thread after it), a marker already at or past it is
    left alone: it reads the same, and a revisit then writes nothing."""
    marker = session.scalar(
        select(ReadMarker).where(ReadMarker.user_id == user_id, ReadMarker.thread_id == thread_id)
    )
    if marker is not None:
        previous = marker.read_at
        if when > previous and (quiet_since is None or previous < quiet_since):
            marker.read_at = when
        session.flush()
        return previous
    try:
        with session.begin_nested():
            session.add(ReadMarker(user_id=user_id, thread_id=thread_id, read_at=when))
    except IntegrityError:  # another request made it first
        return _set_read(session, user_id, thread_id, when, quiet_since)
    return None


# --- following -----------------------------------------------------------------------------------
def _board_of(session: Session, viewer: Viewer, thread: Thread) -> Board:
    """The thread's board when the viewer may see the thread (404 otherwise)."""
    return session.get(Board, boards.load_thread(session, viewer, thread.id).board_id)  # type: ignore[return-value]


def follow(session: Session, viewer: Viewer, thread: Thread) -> bool:
    """Follow a thread the viewer can see: its new posts notify them. True when it changed."""
    _board_of(session, viewer, thread)
    return _add_follow(session, thread.id, viewer.user_id, utcnow())


def unfollow(session: Session, viewer: Viewer, thread: Thread) -> bool:
    """Stop following a thread. True when it changed."""
    _board_of(session, viewer, thread)
    result = session.execute(
        delete(Follow).where(Follow.thread_id == thread.id, Follow.user_id == viewer.user_id)
    )
    session.flush()
    return bool(result.rowcount)


def is_following(session: Session, viewer: Viewer, thread: Thread) -> bool:
    return bool(
        session.scalar(
            select(exists().where(Follow.thread_id == thread.id, Follow.user_id == viewer.user_id))
        )
    )


# --- read markers --------------------------------------------------------------------------------
def mark_thread_read(session: Session, viewer: Viewer, thread: Thread) -> datetime | None:
    """The viewer has read the thread up to now; returns when they had read it before (None for
    a thread they never opened)."""
    board = session.get(Board, thread.board_id)
    if board is None or not boards.can_see_thread(viewer, board, thread):
        raise Refusal(404, "This thread does not exist or is not in this course.")
    return _set_read(
        session, viewer.user_id, thread.id, utcnow(), quiet_since=thread.last_activity_at
    )


def unread_thread_ids(session: Session, viewer: Viewer, thread_ids: Iterable[int]) -> set[int]:
    """Of ``thread_ids``, those with activity the viewer has not read (never opened, or a post
    since they last did). One query."""
    ids = sorted(set(thread_ids))
    if not ids:
        return set()
    query = (
        select(Thread.id)
        .outerjoin(
            ReadMarker,
            and_(ReadMarker.thread_id == Thread.id, ReadMarker.user_id == viewer.user_id),
        )
        .where(
            Thread.id.in_(ids),
            or_(ReadMarker.id.is_(None), ReadMarker.read_at < Thread.last_activity_at),
        )
    )
    return set(session.scalars(query))


# --- the notifications list ----------------------------------------------------------------------
@dataclass(frozen=True)
class ActorView:
    """Who acted, as the recipient may see them (``user_id`` None: anonymous or withheld)."""

    user_id: int | None
    name: str


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    thread_id: int
    thread_title: str
    post_id: int | None
    is_comment: bool
    actor: ActorView
    excerpt: str | None  # None: deleted, or withheld until the recipient answers (Q&A mode)
    withheld: bool
    deleted: bool
    created_at: datetime
    read_at: datetime | None

    @property
    def read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True)
class NotificationPage:
    notifications: list[NotificationView]
    next_cursor: str | None


def _visible(viewer: Viewer, query, opening, post):
    """Only notifications about what the viewer may still see (their course; for learners: their
    cohorts, no hidden opening post, no hidden post)."""
    query = query.where(
        Notification.user_id == viewer.user_id, Notification.context_id == viewer.context_id
    )
    if viewer.staff:
        return query
    return query.where(
        opening.c.hidden.is_(False),
        or_(post.id.is_(None), post.hidden.is_(False)),
        or_(
            Board.cohort_mode == COHORT_NONE,
            Thread.cohort_group_id.is_(None),
            Thread.cohort_group_id.in_(sorted(viewer.group_ids)),
        ),
    )


def _joined(query, opening, post, parent=None):
    query = (
        query.join(Thread, Thread.id == Notification.thread_id)
        .join(Board, Board.id == Thread.board_id)
        .join(opening, and_(opening.c.thread_id == Thread.id, opening.c.is_opening.is_(True)))
        .outerjoin(post, post.id == Notification.post_id)
    )
    if parent is not None:
        query = query.outerjoin(parent, parent.id == post.parent_id)
    return query


def _decode(cursor: str) -> tuple[datetime, int]:
    when, last_id = paging.decode(cursor, 2)
    return paging.when(when), paging.cursor_id(last_id)


def list_notifications(
    session: Session,
    viewer: Viewer,
    *,
    cursor: str | None = None,
    limit: int = 20,
    unread_only: bool = False,
) -> NotificationPage:
    """The viewer's notifications in this course, newest first (keyset pagination), with the
    thread's title, the actor as the viewer may see them and a short excerpt. At most three
    queries whatever the page size."""
    limit = paging.limit(limit, MAX_PAGE_SIZE)
    opening = Post.__table__.alias("opening")
    post, parent = aliased(Post, name="post"), aliased(Post, name="parent")
    query = _joined(
        select(
            Notification,
            Thread.title,
            Thread.kind,
            Thread.author_id,
            Thread.anonymous,
            Board.qa_mode,
            post,
            parent.author_id,
        ),
        opening,
        post,
        parent,
    )
    query = _visible(viewer, query, opening, post)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if cursor:
        last_at, last_id = _decode(cursor)
        query = query.where(
            or_(
                Notification.created_at < last_at,
                and_(Notification.created_at == last_at, Notification.id < last_id),
            )
        )
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
    rows = session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]

    # Q&A mode: others' answers stay withheld from a learner until they answer the question.
    def maybe_withheld(row) -> bool:
        _n, _title, kind, asker, _anon, qa_mode, p, parent_author = row
        if viewer.staff or not qa_mode or kind != KIND_QUESTION or asker == viewer.user_id:
            return False
        if p is None or p.is_opening:
            return False
        root_author = p.author_id if p.parent_id is None else parent_author
        return root_author != viewer.user_id

    candidates = sorted({row[0].thread_id for row in rows if maybe_withheld(row)})
    answered: set[int] = set()
    if candidates:
        answered = set(
            session.scalars(
                select(Post.thread_id)
                .where(
                    Post.thread_id.in_(candidates),
                    Post.author_id == viewer.user_id,
                    Post.parent_id.is_(None),
                    Post.is_opening.is_(False),
                    Post.deleted.is_(False),
                )
                .distinct()
            )
        )
    actor_ids = {row[0].actor_id for row in rows if row[0].actor_id is not None}
    names = {}
    if actor_ids:
        names = {
            u.id: u.display_name
            for u in session.scalars(select(User).where(User.id.in_(sorted(actor_ids))))
        }
    views = []
    for row in rows:
        n, title, _kind, _asker, thread_anonymous, _qa, p, _parent_author = row
        withheld = maybe_withheld(row) and n.thread_id not in answered
        deleted = p is None or p.deleted
        if withheld:
            actor = ActorView(None, SOMEONE)
        elif n.actor_id is not None:
            actor = ActorView(n.actor_id, names.get(n.actor_id, SOMEONE))
        elif (p is not None and p.anonymous and n.kind in (NOTIFY_MENTION, NOTIFY_REPLY)) or (
            n.kind == NOTIFY_ACCEPTED and thread_anonymous
        ):
            actor = ActorView(None, ANONYMOUS_NAME)
        else:
            actor = ActorView(None, SOMEONE)
        views.append(
            NotificationView(
                id=n.id,
                kind=n.kind,
                thread_id=n.thread_id,
                thread_title=title,
                post_id=n.post_id,
                is_comment=p is not None and p.parent_id is not None,
                actor=actor,
                excerpt=None
                if withheld or deleted
                else display.excerpt(p.body_html, EXCERPT_CHARS),
                withheld=withheld,
                deleted=deleted,
                created_at=n.created_at,
                read_at=n.read_at,
            )
        )
    next_cursor = None
    if more and rows:
        last = rows[-1][0]
        next_cursor = paging.encode([last.created_at.isoformat(), last.id])
    return NotificationPage(views, next_cursor)


def unread_count(session: Session, viewer: Viewer) -> int:
    """How many of the viewer's notifications in this course are unread. Every page shows it:
    one plain count first (usually 0, or all of them for staff); for a learner with unread ones a
    second count leaves out those about what they may no longer see."""
    unread = int(
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == viewer.user_id,
                Notification.context_id == viewer.context_id,
                Notification.read_at.is_(None),
            )
        )
        or 0
    )
    if viewer.staff or unread == 0:
        return unread
    opening = Post.__table__.alias("opening")
    post = aliased(Post, name="post")
    query = _visible(
        viewer, _joined(select(func.count(Notification.id)), opening, post), opening, post
    )
    return int(session.scalar(query.where(Notification.read_at.is_(None))) or 0)


def mark_read(session: Session, viewer: Viewer, ids: Iterable[int] | None = None) -> int:
    """Mark the viewer's notifications read: those in ``ids``, or all of them (``None``). An id
    that is not the viewer's in this course is refused (404) and nothing changes. Returns how many
    were unread."""
    query = update(Notification).where(
        Notification.user_id == viewer.user_id,
        Notification.context_id == viewer.context_id,
        Notification.read_at.is_(None),
    )
    if ids is not None:
        wanted = set()
        for value in ids:
            if not isinstance(value, int) or isinstance(value, bool):
                raise Refusal(400, "Notification ids are whole numbers.")
            wanted.add(value)
        if len(wanted) > MAX_MARK_IDS:
            raise Refusal(400, f"Mark at most {MAX_MARK_IDS} notifications at once.")
        if not wanted:
            return 0
        mine = set(
            session.scalars(
                select(Notification.id).where(
                    Notification.id.in_(sorted(wanted)),
                    Notification.user_id == viewer.user_id,
                    Notification.context_id == viewer.context_id,
                )
            )
        )
        if mine != wanted:
            raise Refusal(404, "This notification does not exist or is not yours.")
        query = query.where(Notification.id.in_(sorted(wanted)))
    result = session.execute(query.values(read_at=utcnow()))
    session.flush()
    return int(result.rowcount or 0)


def open_notification(session: Session, viewer: Viewer, notification_id: int) -> Notification:
    """Mark one of the viewer's notifications read and return it (to go to its post); 404 when it
    is not theirs or its thread is no longer visible to them."""
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != viewer.user_id or n.context_id != viewer.context_id:
        raise Refusal(404, "This notification does not exist or is not yours.")
    boards.load_thread(session, viewer, n.thread_id)
    if n.read_at is None:
        n.read_at = utcnow()
        session.flush()
    return n


# --- e-mail digest (later) -----------------------------------------------------------------------
def undigested(
    session: Session, *, before: datetime | None = None, limit: int = 1000
) -> dict[int, list[Notification]]:
    """Notifications not yet e-mailed and still unread, grouped by recipient (oldest first), for a
    digest job: send, then :func:`mark_emailed` in the same transaction. Visibility is the
    caller's to re-check with :func:`list_notifications` for each recipient's course."""
    query = select(Notification).where(
        Notification.emailed_at.is_(None), Notification.read_at.is_(None)
    )
    if before is not None:
        query = query.where(Notification.created_at < before)
    grouped: dict[int, list[Notification]] = {}
    for n in session.scalars(
        query.order_by(Notification.user_id, Notification.created_at, Notification.id).limit(limit)
    ):
        grouped.setdefault(n.user_id, []).append(n)
    return grouped


def mark_emailed(session: Session, ids: Iterable[int]) -> int:
    """Record that these notifications went out in a digest."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    result = session.execute(
        update(Notification)
        .where(Notification.id.in_(wanted), Notification.emailed_at.is_(None))
        .values(emailed_at=utcnow())
    )
    return int(result.rowcount or 0)
