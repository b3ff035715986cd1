"""boards: indexes for a thread's opening post and its replies in order

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:00:00

Measured by benchmarks/boards.py (docs/boards-benchmark.md): listing a board joins each thread to
its opening post, and with only ``(thread_id, created_at, id)`` PostgreSQL read every post of each
listed thread to find it. ``(thread_id, parent_id, created_at, id)`` matches a thread page's
replies query exactly. Plain CREATE INDEX on both databases: no table is rebuilt, so the search
triggers of 0007 stay as they are.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_social_post_opening", "social_post", ["thread_id", "is_opening"])
    op.create_index(
        "ix_social_post_thread_replies",
        "social_post",
        ["thread_id", "parent_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_social_post_thread_replies", table_name="social_post")
    op.drop_index("ix_social_post_opening", table_name="social_post")
