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
COHORT_MODES = (COHORT_NONE, COHORT_GROUPS)

# Thread.kind
KIND_DISCUSSION = "discussion"
KIND_QUESTION = "question"
THREAD_KINDS = (KIND_DISCUSSION, KIND_QUESTION)

# Reaction.kind
REACTION_LIKE = "like"
REACTION_HELPFUL = "helpful"
REACTION_KINDS = (REACTION_LIKE, REACTION_HELPFUL)


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
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    board: Mapped[Board] = relationship()
    author: Mapped[User] = relationship()


class Post(Base):
    __tablename__ = "social_post"
    __table_args__ = (
        # A thread page: its posts in order (keyset pagination).
        Index("ix_social_post_thread", "thread_id", "created_at", "id"),
        Index("ix_social_post_parent", "parent_id", "created_at", "id"),
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id])
    author: Mapped[User] = relationship()

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
