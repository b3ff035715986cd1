"""The transactional outbox: one row per xAPI statement, written in the same transaction as the
domain change that caused it, delivered later to the LRS by the forwarder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, UTCDateTime, utcnow

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
DEAD = "dead"
STATES = (PENDING, SENDING, DELIVERED, DEAD)


class XapiOutbox(Base):
    """A statement waiting for (or done with) delivery.

    ``state``: pending → sending (claimed by a forwarder; ``next_attempt_at`` is then the end of
    its lease) → delivered, or back to pending with a later ``next_attempt_at`` after a transient
    failure, or dead when the LRS refused the statement itself (``lrs_reply`` says why).
    """

    __tablename__ = "xapi_outbox"
    __table_args__ = (
        # The forwarder's claim query: due rows by state and time.
        Index("ix_xapi_outbox_claim", "state", "next_attempt_at"),
        # The statement browser: newest first within a platform, keyset on (created_at, id).
        Index("ix_xapi_outbox_browse", "platform_id", "created_at", "statement_id"),
        Index("ix_xapi_outbox_actor", "platform_id", "actor_user_id", "created_at"),
        Index("ix_xapi_outbox_verb", "platform_id", "verb_id", "created_at"),
        Index("ix_xapi_outbox_context", "platform_id", "context_id", "created_at"),
        Index("ix_xapi_outbox_state", "platform_id", "state"),
    )

    statement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_context.id", ondelete="SET NULL"), nullable=True
    )
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    event_kind: Mapped[str] = mapped_column(String(60))
    verb_id: Mapped[str] = mapped_column(String(500))
    object_id: Mapped[str] = mapped_column(String(1000))
    competency_iris: Mapped[list[str]] = mapped_column(JSON, default=list)
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    lrs_reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
