"""registration by invitation, pending registrations

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 10:00:00

``lti_registration_invite``: single-use, expiring invitations to register a platform by LTI Dynamic
Registration (only the SHA-256 of the secret is kept). ``lti_platform.status``: "active" (every
existing row) or "pending" (an open registration waiting for the operator's approval). A plain
ADD COLUMN with a server default on both databases: no table is rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "lti_platform",
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
    )
    op.create_table(
        "lti_registration_invite",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "platform_id",
            sa.Integer(),
            sa.ForeignKey("lti_platform.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.UniqueConstraint("secret_hash"),
    )


def downgrade() -> None:
    op.drop_table("lti_registration_invite")
    # ALTER TABLE … DROP COLUMN on both (SQLite 3.35+): a batch rebuild of lti_platform would
    # cascade-delete every tenant's rows on SQLite while the old table is dropped.
    op.execute("ALTER TABLE lti_platform DROP COLUMN status")
