"""What members and staff do on a board: start threads, reply and comment, edit, delete, react,
endorse and accept answers, pin/lock/close threads. Each act checks who may do it first and
publishes its domain event in the caller's session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from plugin import events
from plugin.access import Refusal, Viewer, not_found
from plugin.db import utcnow
from plugin.lti.models import LmsGroup
from plugin.social import markdown
from plugin.social.boards.activity import board_ref, post_ref, publish_event, thread_ref
from plugin.social.boards.checks import check_body, check_can_post, check_not_muted, check_title
from plugin.social.boards.log import audit
from plugin.social.boards.tags import tag_thread
from plugin.social.boards.visibility import (
    can_moderate,
    can_see_post,
    check_board,
    cohort_source,
    opening_hidden,
    visible_post,
    visible_thread,
)
from plugin.social.models import (
    KIND_QUESTION,
    REACTION_HELPFUL,
    REACTION_KINDS,
    SEPARATED_MODES,
    THREAD_KINDS,
    Board,
    Post,
    PostRevision,
    Reaction,
    Thread,
)


def _check_anonymous(board: Board, anonymous: bool) -> bool:
    if anonymous and not board.anonymous_allowed:
        raise Refusal(400, "This board does not allow anonymous posts.")
    return bool(anonymous)


def _cohort_for_new_thread(
    session: Session, viewer: Viewer, board: Board, cohort_group_id: int | None
) -> int | None:
    if board.cohort_mode not in SEPARATED_MODES:
        if cohort_group_id is not None:
            raise Refusal(400, "This board has no cohorts.")
        return None
    if viewer.staff:
        if cohort_group_id is None:
            return None  # a course-wide thread, seen by every cohort
        group = session.get(LmsGroup, cohort_group_id)
        if (
            group is None
            or group.context_id != board.context_id
            or group.source != cohort_source(board)
        ):
            raise not_found("This cohort")
        return group.id
    mine = viewer.groups_from(cohort_source(board))
    if cohort_group_id is None:
        if len(mine) == 1:
            return next(iter(mine))
        if not mine:
            raise Refusal(403, "You are not in a cohort of this course yet.")
        raise Refusal(400, "Choose which of your cohorts the thread is for.")
    if cohort_group_id not in mine:
        raise not_found("This cohort")
    return cohort_group_id


def create_thread(
    session: Session,
    viewer: Viewer,
    board: Board,
    title: str,
    body: str,
    kind: str = "discussion",
    anonymous: bool = False,
    cohort_group_id: int | None = None,
    competency_ids: list[int] | None = None,
) -> Thread:
    """Start a thread (its opening post holds ``body``), optionally tagged with some of the
    course's competencies; publishes ``board.thread_posted``."""
    check_board(viewer, board)
    title = check_title(title)
    body = check_body(body)
    if kind not in THREAD_KINDS:
        raise Refusal(400, "A thread is a discussion or a question.")
    anonymous = _check_anonymous(board, anonymous)
    cohort = _cohort_for_new_thread(session, viewer, board, cohort_group_id)
    check_can_post(session, viewer, board)
    now = utcnow()
    thread = Thread(
        board_id=board.id,
        cohort_group_id=cohort,
        kind=kind,
        title=title,
        author_id=viewer.user_id,
        anonymous=anonymous,
        pinned=False,
        locked=False,
        closed=False,
        endorsed=False,
        reply_count=0,
        comment_count=0,
        helpful_count=0,
        last_activity_at=now,
        created_at=now,
    )
    session.add(thread)
    session.flush()
    opening = Post(
        thread_id=thread.id,
        parent_id=None,
        is_opening=True,
        author_id=viewer.user_id,
        anonymous=anonymous,
        body_markdown=body,
        body_html=markdown.render(body),
        hidden=False,
        deleted=False,
        created_at=now,
    )
    session.add(opening)
    session.flush()
    if competency_ids:
        tag_thread(session, viewer, board, thread, competency_ids)
    publish_event(
        session,
        events.THREAD_POSTED,
        f"thread:{thread.id}",
        viewer,
        board,
        thread_ref(thread),
        (board_ref(session, board),),
        now,
        {"thread_kind": kind, "text": body, "anonymous": anonymous, "post_id": opening.id},
    )
    return thread


def count_change(thread: Thread, post: Post, delta: int) -> None:
    """Keep the thread's counters: they hold its visible, not deleted replies and comments."""
    if post.deleted or post.is_opening:
        return
    if post.parent_id is None:
        thread.reply_count = max(0, (thread.reply_count or 0) + delta)
    else:
        thread.comment_count = max(0, (thread.comment_count or 0) + delta)


def open_to(viewer: Viewer, thread: Thread) -> bool:
    """The viewer may post in the thread: it is neither locked nor closed, or they are staff."""
    return viewer.staff or not (thread.locked or thread.closed)


def _check_open(viewer: Viewer, thread: Thread) -> None:
    if thread.locked and not viewer.staff:
        reason = f" ({thread.lock_reason})" if thread.lock_reason else ""
        raise Refusal(409, f"This thread is locked{reason}.")
    if thread.closed and not viewer.staff:
        raise Refusal(409, "This thread is closed.")


def reply(
    session: Session,
    viewer: Viewer,
    thread: Thread,
    body: str,
    parent_post: Post | None = None,
    anonymous: bool = False,
) -> Post:
    """Reply in a thread, or comment on a reply (``parent_post``, a top-level reply of the same
    thread). Publishes ``board.reply_posted`` (object: the reply) or ``board.comment_posted``
    (object: the post commented on)."""
    board = visible_thread(session, viewer, thread)
    if not viewer.staff and opening_hidden(session, thread):
        raise not_found("This thread")
    _check_open(viewer, thread)
    body = check_body(body)
    anonymous = _check_anonymous(board, anonymous)
    if parent_post is not None:
        if (
            parent_post.thread_id != thread.id
            or parent_post.is_opening
            or parent_post.parent_id is not None
        ):
            raise Refusal(400, "Comments go under a reply of this thread.")
        if not can_see_post(viewer, parent_post):
            raise not_found("This post")
        if parent_post.deleted:
            raise Refusal(409, "This reply was deleted.")
    check_can_post(session, viewer, board)
    now = utcnow()
    post = Post(
        thread_id=thread.id,
        parent_id=parent_post.id if parent_post is not None else None,
        is_opening=False,
        author_id=viewer.user_id,
        anonymous=anonymous,
        body_markdown=body,
        body_html=markdown.render(body),
        hidden=False,
        deleted=False,
        created_at=now,
    )
    session.add(post)
    count_change(thread, post, +1)
    thread.last_activity_at = now
    session.flush()
    parents = (thread_ref(thread), board_ref(session, board))
    data = {"text": body, "anonymous": anonymous, "thread_kind": thread.kind}
    if parent_post is None:
        publish_event(
            session,
            events.REPLY_POSTED,
            f"post:{post.id}",
            viewer,
            board,
            post_ref(thread, post),
            parents,
            now,
            data,
        )
    else:
        publish_event(
            session,
            events.COMMENT_POSTED,
            f"comment:{post.id}",
            viewer,
            board,
            post_ref(thread, parent_post),
            parents,
            now,
            {**data, "comment_post_id": post.id},
        )
    return post


def edit_post(
    session: Session, viewer: Viewer, post: Post, body: str, *, title: str | None = None
) -> Post:
    """The author edits their post (the old text is kept as a :class:`PostRevision`); the opening
    post's author may also retitle the thread. Publishes ``board.post_edited``."""
    thread, board = visible_post(session, viewer, post)
    if post.author_id != viewer.user_id:
        raise Refusal(403, "Only the author can edit a post.")
    if post.deleted:
        raise Refusal(409, "A deleted post cannot be edited.")
    _check_open(viewer, thread)
    body = check_body(body)
    new_title = None
    if title is not None:
        if not post.is_opening:
            raise Refusal(400, "Only the opening post carries the thread's title.")
        new_title = check_title(title)
    check_not_muted(session, viewer)
    if body == post.body_markdown and (new_title is None or new_title == thread.title):
        return post  # nothing changed: no revision, no statement
    now = utcnow()
    revision = PostRevision(
        post_id=post.id, body_markdown=post.body_markdown, edited_at=now, editor_id=viewer.user_id
    )
    session.add(revision)
    post.body_markdown = body
    post.body_html = markdown.render(body)
    post.edited_at = now
    if new_title is not None:
        thread.title = new_title
    session.flush()
    publish_event(
        session,
        events.POST_EDITED,
        f"revision:{revision.id}",
        viewer,
        board,
        post_ref(thread, post),
        (thread_ref(thread), board_ref(session, board)),
        now,
        {"text": body, "anonymous": post.anonymous, "thread_kind": thread.kind},
    )
    return post


def delete_post(session: Session, viewer: Viewer, post: Post) -> Post:
    """Soft delete by the author or staff: the post stays as a "deleted" placeholder (its text is
    kept for moderators' audit but never shown)."""
    thread, _board = visible_post(session, viewer, post)
    if post.author_id != viewer.user_id and not viewer.staff:
        raise Refusal(403, "Only the author or course staff can delete a post.")
    if post.deleted:
        return post
    if not post.hidden:  # a hidden post already left the counts
        count_change(thread, post, -1)
    post.deleted = True
    if thread.accepted_post_id == post.id:
        thread.accepted_post_id = None
    session.flush()
    if post.endorsed_at is not None:
        refresh_endorsed(session, thread)
    return post


def react(session: Session, viewer: Viewer, post: Post, kind: str) -> Reaction:
    """Like or mark helpful (once per person and kind; again is a no-op). Publishes
    ``board.reaction_added`` for a new reaction."""
    if kind not in REACTION_KINDS:
        raise Refusal(400, "Unknown reaction.")
    thread, board = visible_post(session, viewer, post)
    if post.deleted:
        raise Refusal(409, "This post was deleted.")
    if post.author_id == viewer.user_id:
        raise Refusal(400, "You cannot react to your own post.")
    check_not_muted(session, viewer)
    existing = session.scalar(
        select(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == viewer.user_id, Reaction.kind == kind
        )
    )
    if existing is not None:
        return existing
    now = utcnow()
    reaction = Reaction(post_id=post.id, user_id=viewer.user_id, kind=kind, created_at=now)
    session.add(reaction)
    if kind == REACTION_HELPFUL:
        thread.helpful_count = (thread.helpful_count or 0) + 1
    session.flush()
    publish_event(
        session,
        events.REACTION_ADDED,
        f"reaction:{reaction.id}",
        viewer,
        board,
        post_ref(thread, post),
        (thread_ref(thread), board_ref(session, board)),
        now,
        {
            "reaction": kind,
            "post_author_id": post.author_id,
            # a post marked helpful is evidence for its author; a like is the reactor's act
            **({"evidence_user_id": post.author_id} if kind == REACTION_HELPFUL else {}),
        },
    )
    return reaction


def unreact(session: Session, viewer: Viewer, post: Post, kind: str) -> bool:
    """Take a reaction back (no statement: xAPI has no "unliked"). True when one was removed."""
    thread, _board = visible_post(session, viewer, post)
    reaction = session.scalar(
        select(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == viewer.user_id, Reaction.kind == kind
        )
    )
    if reaction is None:
        return False
    session.delete(reaction)
    if kind == REACTION_HELPFUL:
        thread.helpful_count = max(0, (thread.helpful_count or 0) - 1)
    session.flush()
    return True


def set_thread_state(
    session: Session,
    viewer: Viewer,
    thread: Thread,
    *,
    pinned: bool | None = None,
    locked: bool | None = None,
    lock_reason: str | None = None,
    closed: bool | None = None,
) -> Thread:
    """Moderators pin, lock (with a reason) and close threads; each change is in the audit log."""
    board = visible_thread(session, viewer, thread)
    if not can_moderate(viewer, board):
        raise Refusal(403, "Only the course's moderators can pin, lock or close threads.")
    changes = []
    if pinned is not None and pinned != thread.pinned:
        thread.pinned = pinned
        changes.append(("pin" if pinned else "unpin", None))
    if locked is not None:
        reason = ((lock_reason or "").strip()[:500] or None) if locked else None
        if locked != thread.locked or (locked and reason != thread.lock_reason):
            thread.locked = locked
            thread.lock_reason = reason
            changes.append(("lock" if locked else "unlock", reason))
    if closed is not None and closed != thread.closed:
        thread.closed = closed
        changes.append(("close" if closed else "reopen", None))
    for action, reason in changes:
        audit(session, viewer, board, action, thread_id=thread.id, reason=reason)
    session.flush()
    return thread


def refresh_endorsed(session: Session, thread: Thread) -> None:
    """``Thread.endorsed``: the thread has an endorsed reply that is neither deleted nor hidden."""
    thread.endorsed = bool(
        session.scalar(
            select(
                exists().where(
                    Post.thread_id == thread.id,
                    Post.endorsed_at.is_not(None),
                    Post.deleted.is_(False),
                    Post.hidden.is_(False),
                )
            )
        )
    )


def endorse(session: Session, viewer: Viewer, post: Post, endorsed: bool = True) -> Post:
    """Course staff endorse a reply as a good answer (or take the endorsement back). Publishes
    ``board.answer_endorsed`` (evidence for the reply's author) and logs the act."""
    thread, board = visible_post(session, viewer, post)
    if not viewer.staff:
        raise Refusal(403, "Only course staff can endorse answers.")
    if post.is_opening or post.is_comment:
        raise Refusal(400, "Only replies can be endorsed.")
    if post.deleted:
        raise Refusal(409, "This post was deleted.")
    if endorsed == post.endorsed:
        return post
    now = utcnow()
    if endorsed:
        if post.hidden:
            raise Refusal(409, "A hidden post cannot be endorsed.")
        post.endorsed_at, post.endorsed_by_id = now, viewer.user_id
        thread.endorsed = True
    else:
        post.endorsed_at, post.endorsed_by_id = None, None
        session.flush()
        refresh_endorsed(session, thread)
    audit(
        session,
        viewer,
        board,
        "endorse" if endorsed else "unendorse",
        thread_id=thread.id,
        post_id=post.id,
        target_user_id=post.author_id,
    )
    session.flush()
    if endorsed:
        _publish_answer_event(
            session,
            events.ANSWER_ENDORSED,
            f"endorsement:{post.id}:{now.isoformat()}",
            viewer,
            board,
            thread,
            post,
            now,
        )
    return post


def _publish_answer_event(
    session: Session,
    kind: str,
    key: str,
    viewer: Viewer,
    board: Board,
    thread: Thread,
    post: Post,
    now: datetime,
) -> None:
    """An endorsement or acceptance of a reply: evidence for the reply's author, not the actor."""
    publish_event(
        session,
        kind,
        key,
        viewer,
        board,
        post_ref(thread, post),
        (thread_ref(thread), board_ref(session, board)),
        now,
        {
            "post_author_id": post.author_id,
            "evidence_user_id": post.author_id,
            "thread_kind": thread.kind,
        },
    )


def accept_answer(session: Session, viewer: Viewer, thread: Thread, post: Post | None) -> Thread:
    """The question's author (or staff) accepts a reply as the answer; ``post=None`` takes the
    acceptance back. Publishes ``board.answer_accepted`` (evidence for the reply's author)."""
    board = visible_thread(session, viewer, thread)
    if thread.kind != KIND_QUESTION:
        raise Refusal(400, "Only a question has an accepted answer.")
    if thread.author_id != viewer.user_id and not viewer.staff:
        raise Refusal(403, "Only the person who asked, or course staff, can accept an answer.")
    if post is None:
        thread.accepted_post_id = None
        session.flush()
        return thread
    if post.thread_id != thread.id or post.is_opening or post.is_comment:
        raise Refusal(400, "Choose a reply of this question as its answer.")
    if not can_see_post(viewer, post):
        raise not_found("This post")
    if post.deleted or post.hidden:
        raise Refusal(409, "This reply cannot be the answer any more.")
    if thread.accepted_post_id == post.id:
        return thread
    now = utcnow()
    thread.accepted_post_id = post.id
    session.flush()
    _publish_answer_event(
        session,
        events.ANSWER_ACCEPTED,
        f"acceptance:{thread.id}:{post.id}:{now.isoformat()}",
        viewer,
        board,
        thread,
        post,
        now,
    )
    return thread
