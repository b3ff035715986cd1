"""cohorts made by course staff

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 15:10:00

``lti_group.source``: "lms" for the platform's course groups (every existing row), "tool" for a
cohort course staff make in Learning Commons (board cohort mode "cohorts"). A plain ADD COLUMN with
a server default on both databases: no table is rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "lti_group",
        sa.Column("source", sa.String(length=10), server_default="lms", nullable=False),
    )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on both (SQLite 3.35+): a batch rebuild of lti_group would
    # cascade-delete its members on SQLite while the old table is dropped.
    op.execute("ALTER TABLE lti_group DROP COLUMN source")
