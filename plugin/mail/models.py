"""The e-mail outbox and each person's e-mail preferences (migration 0014)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, UTCDateTime, utcnow

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
DEAD = "dead"
CANCELLED = "cancelled"
STATES = (QUEUED, SENDING, SENT, DEAD, CANCELLED)

IMMEDIATE = "immediate"
OFF = "off"
DELIVERIES = (IMMEDIATE, OFF)

SUBJECT_CHARS = 255
KIND_CHARS = 60


class MailOutbox(Base):
    """One e-mail to one tool user, written in the transaction of the act that caused it and sent
    later by the worker.

    ``state``: queued → sending (claimed by a worker; ``next_attempt_at`` is then the end of its
    lease) → sent; or back to queued with a later ``next_attempt_at`` after a failure that may
    pass (server down, 4xx); or dead after a permanent refusal (5xx) or ``MAIL_MAX_ATTEMPTS``
    tries (``last_error`` says why); or cancelled when the person turned that kind off before it
    went out. ``recipient`` is the address the user had when the mail was queued.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        # The same (user, dedupe_key) is queued at most once, ever.
        UniqueConstraint("user_id", "dedupe_key"),
        # The worker's claim: due rows by state and time.
        Index("ix_mail_outbox_claim", "state", "next_attempt_at"),
        # Cancelling a person's queued mail of one kind (unsubscribe).
        Index("ix_mail_outbox_user_kind", "user_id", "kind", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(KIND_CHARS))
    subject: Mapped[str] = mapped_column(String(SUBJECT_CHARS))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    state: Mapped[str] = mapped_column(String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MailPreference(Base):
    """How one person wants e-mail of one kind: ``immediate`` (also the default when there is no
    row) or ``off``. (A later digest adds a value, not a column.)"""

    __tablename__ = "mail_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("lti_user.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(KIND_CHARS), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10), default=IMMEDIATE)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
