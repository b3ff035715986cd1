"""Discussion boards: a board per placement, threads, posts (reply → comments), edit history and
reactions.

A thread's opening text is its first :class:`Post` (``is_opening``), so edits, revisions, reactions,
hiding and deleting work the same way for the question as for the replies. Replies are posts with
no parent; comments are posts whose parent is a reply (two levels, like Open edX).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin.db import Base, UTCDateTime, utcnow
from plugin.lti.models import Context, Placement, User

# Board.cohort_mode
COHORT_NONE = "none"  # one conversation for the whole course
COHORT_GROUPS = "groups"  # each LMS group (NRPS) talks among itself; staff see all
COHORT_MADE = "cohorts"  # each cohort made by course staff in the tool talks among itself
COHORT_MODES = (COHORT_NONE, COHORT_GROUPS, COHORT_MADE)
SEPARATED_MODES = (COHORT_GROUPS, COHORT_MADE)  # modes in which a thread may belong to a cohort

# Thread.kind
KIND_DISCUSSION = "discussion"
KIND_QUESTION = "question"
THREAD_KINDS = (KIND_DISCUSSION, KIND_QUESTION)

# Reaction.kind
REACTION_LIKE = "like"
REACTION_HELPFUL = "helpful"
REACTION_KINDS = (REACTION_LIKE, REACTION_HELPFUL)

# Report.status
REPORT_OPEN = "open"
REPORT_RESOLVED = "resolved"  # a moderator acted on it (e.g. hid the post)
REPORT_DISMISSED = "dismissed"  # a moderator found nothing wrong
REPORT_STATUSES = (REPORT_OPEN, REPORT_RESOLVED, REPORT_DISMISSED)

# Notification.kind
NOTIFY_MENTION = "mention"
NOTIFY_REPLY = "reply"  # a new post in a thread the person follows
NOTIFY_ENDORSED = "endorsed"
NOTIFY_ACCEPTED = "accepted"
NOTIFICATION_KINDS = (NOTIFY_MENTION, NOTIFY_REPLY, NOTIFY_ENDORSED, NOTIFY_ACCEPTED)

DEFAULT_POSTS_PER_HOUR = 30


class Board(Base):
    """The board of one placement (resource link). ``context_id`` repeats the placement's course so
    every query can be scoped by course without a join."""

    __tablename__ = "social_board"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("lti_placement.id", ondelete="CASCADE"), unique=True
    )
    context_id: Mapped[int] = mapped_column(
        ForeignKey("lti_context.id", ondelete="CASCADE"), index=True
    )
    cohort_mode: Mapped[str] = mapped_column(String(20), default=COHORT_NONE)
    qa_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Participation grading (AGS): full marks for this many threads and this many replies or
    # comments; 0/None = that part is not counted. Both None = no grading.
    grade_threads: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grade_replies: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Record "viewed a thread" statements (off by default: volume and privacy).
    record_views: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Members with the LTI Mentor role may moderate (besides Instructors and TAs).
    mentors_moderate: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Posting rate limit per person (threads + posts in the last hour); 0 = no limit.
    posts_per_hour: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_POSTS_PER_HOUR, server_default=str(DEFAULT_POSTS_PER_HOUR)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    placement: Mapped[Placement] = relationship()
    context: Mapped[Context] = relationship()


class Thread(Base):
    __tablename__ = "social_thread"
    __table_args__ = (
        # The board page: pinned first, then most recent activity (keyset pagination).
        Index("ix_social_thread_listing", "board_id", "pinned", "last_activity_at", "id"),
        Index(
            "ix_social_thread_cohort_listing",
            "board_id",
            "cohort_group_id",
            "pinned",
            "last_activity_at",
            "id",
        ),
        # Sort orders: newest, most helpful, unanswered (reply_count = 0).
        Index("ix_social_thread_newest", "board_id", "pinned", "created_at", "id"),
        Index("ix_social_thread_helpful", "board_id", "pinned", "helpful_count", "id"),
        Index("ix_social_thread_unanswered", "board_id", "reply_count", "pinned", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("social_board.id", ondelete="CASCADE"))
    # The LMS group (cohort) the thread belongs to in cohort mode; None = the whole course.
    # No ON DELETE action: a group with threads cannot silently make them course-wide.
    cohort_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_group.id"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default=KIND_DISCUSSION)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(
        ForeignKey("lti_user.id", ondelete="CASCADE"), index=True
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_post.id", ondelete="SET NULL", use_alter=True), nullable=True
    )
    endorsed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Visible, not deleted replies (top level) and comments; "helpful" reactions on its posts.
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    helpful_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    board: Mapped[Board] = relationship()
    author: Mapped[User] = relationship()


class Post(Base):
    __tablename__ = "social_post"
    __table_args__ = (
        # A thread page: its posts in order (keyset pagination).
        Index("ix_social_post_thread", "thread_id", "created_at", "id"),
        Index("ix_social_post_parent", "parent_id", "created_at", "id"),
        # A thread's opening post (listing, hiding checks) without reading the whole thread.
        Index("ix_social_post_opening", "thread_id", "is_opening"),
        # A thread page's replies (parent_id IS NULL) in order: exactly this query's shape, so
        # neither database prefers ix_social_post_parent for it (SQLite after ANALYZE did).
        Index("ix_social_post_thread_replies", "thread_id", "parent_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("social_thread.id", ondelete="CASCADE"))
    # None for the opening post and for replies; a reply's id for a comment.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_post.id", ondelete="CASCADE"), nullable=True
    )
    is_opening: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("lti_user.id", ondelete="CASCADE"), index=True
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    body_markdown: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)  # sanitised (plugin.social.markdown)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Staff endorsement of a reply ("a good answer").
    endorsed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    endorsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def endorsed(self) -> bool:
        return self.endorsed_at is not None

    @property
    def is_reply(self) -> bool:
        return not self.is_opening and self.parent_id is None

    @property
    def is_comment(self) -> bool:
        return self.parent_id is not None


class PostRevision(Base):
    """The text a post had before one edit (the visible edit history)."""

    __tablename__ = "social_post_revision"
    __table_args__ = (Index("ix_social_post_revision_post", "post_id", "edited_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("social_post.id", ondelete="CASCADE"))
    body_markdown: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    editor_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )


class Reaction(Base):
    __tablename__ = "social_reaction"
    __table_args__ = (UniqueConstraint("post_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("social_post.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    """A member's report of a post to the course's moderators (one per person and post)."""

    __tablename__ = "social_report"
    __table_args__ = (
        UniqueConstraint("post_id", "reporter_id"),
        # The moderation queue of a course: open reports, oldest first.
        Index("ix_social_report_queue", "context_id", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    board_id: Mapped[int] = mapped_column(ForeignKey("social_board.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(
        ForeignKey("social_post.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20), default=REPORT_OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ModerationAction(Base):
    """The audit log: every moderator act (hide, unhide, pin, lock, close, mute, endorse,
    dismissing a report …) with who, what, when and why. Rows are never updated or deleted."""

    __tablename__ = "social_moderation_action"
    __table_args__ = (Index("ix_social_moderation_log", "context_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    board_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_board.id", ondelete="CASCADE"), nullable=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(40))
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_thread.id", ondelete="SET NULL"), nullable=True
    )
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_post.id", ondelete="SET NULL"), nullable=True
    )
    target_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_report.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Mute(Base):
    """A participant muted in one course: they can read but not post, reply or react."""

    __tablename__ = "social_mute"
    __table_args__ = (UniqueConstraint("context_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    muted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostingLock(Base):
    """One row per person and course that posts under a rate limit: taking it (an ``UPDATE`` of
    the row) serialises that person's posts in that course across every worker, so the count of
    their posts in the last hour and the new post are one atomic step (see
    ``plugin.social.boards.check_can_post``)."""

    __tablename__ = "social_posting_lock"

    context_id: Mapped[int] = mapped_column(
        ForeignKey("lti_context.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("lti_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Follow(Base):
    """A person follows a thread: new posts in it notify them (authors follow their threads)."""

    __tablename__ = "social_follow"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("social_thread.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReadMarker(Base):
    """How far a person has read a thread: posts after ``read_at`` are new to them."""

    __tablename__ = "social_read_marker"
    __table_args__ = (UniqueConstraint("user_id", "thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("social_thread.id", ondelete="CASCADE"), index=True
    )
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Mention(Base):
    """A course member @mentioned in a post."""

    __tablename__ = "social_mention"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("social_post.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """An in-tool notification. ``actor_id`` is None when the act was anonymous to the recipient;
    ``emailed_at`` is kept for a later e-mail digest (unsent notifications since the last one)."""

    __tablename__ = "social_notification"
    __table_args__ = (
        # The notifications list (newest first) and the unread count.
        Index("ix_social_notification_list", "user_id", "context_id", "created_at", "id"),
        Index("ix_social_notification_unread", "user_id", "context_id", "read_at"),
        UniqueConstraint("user_id", "post_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    thread_id: Mapped[int] = mapped_column(ForeignKey("social_thread.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_post.id", ondelete="CASCADE"), nullable=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
