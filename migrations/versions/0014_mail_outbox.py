"""e-mail outbox and e-mail preferences

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 09:00:00

- ``mail_outbox``: e-mails queued in the transaction of the act that caused them, sent by the
  worker over SMTP (plugin/mail); ``(user_id, dedupe_key)`` is unique.
- ``mail_preference``: per person and kind of e-mail, ``immediate`` or ``off`` (no row:
  immediate).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, plugin.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_mail_outbox_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint(
            "user_id", "dedupe_key", name=op.f("uq_mail_outbox_user_id_dedupe_key")
        ),
    )
    op.create_index("ix_mail_outbox_claim", "mail_outbox", ["state", "next_attempt_at"])
    op.create_index("ix_mail_outbox_user_kind", "mail_outbox", ["user_id", "kind", "state"])

    op.create_table(
        "mail_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_mail_preference_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_mail_preference")),
    )


def downgrade() -> None:
    op.drop_table("mail_preference")
    op.drop_index("ix_mail_outbox_user_kind", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_claim", table_name="mail_outbox")
    op.drop_table("mail_outbox")
