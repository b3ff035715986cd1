"""mentoring: programme-health snapshots

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 23:30:00

``mentoring_health_snapshot``: one row per programme, the figures of its Programme health page
as computed at ``computed_at`` (JSON). The page shows a snapshot at most a few minutes old and
computes a new one otherwise; the worker refreshes the ones people look at
(docs/mentoring.md, "Programme health").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentoring_health_snapshot",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["mentoring_programme.id"],
            name=op.f("fk_mentoring_health_snapshot_programme_id_mentoring_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", name=op.f("pk_mentoring_health_snapshot")),
    )
    with op.batch_alter_table("mentoring_health_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mentoring_health_snapshot_computed_at"), ["computed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mentoring_health_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentoring_health_snapshot_computed_at"))
    op.drop_table("mentoring_health_snapshot")
