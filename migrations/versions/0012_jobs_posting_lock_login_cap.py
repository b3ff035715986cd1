"""background jobs, the posting lock, the login cap

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 09:00:00

- ``job``: the queue ``commons worker`` runs (plugin/jobs.py); ``dedupe_key`` is unique while a
  job is queued or running (it is set to NULL when the job ends).
- ``social_posting_lock``: one row per person and course, taken before counting their posts of
  the last hour, so the posting rate limit holds across workers.
- ``lti_oidc_state.client_ip`` and an index (platform, address, time): how many logins one
  address started lately, for the per-address login cap.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("run_after", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_job_dedupe_key")),
    )
    op.create_index("ix_job_due", "job", ["state", "run_after"], unique=False)

    op.create_table(
        "social_posting_lock",
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_post_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_context.id"],
            name=op.f("fk_social_posting_lock_context_id_lti_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_social_posting_lock_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("context_id", "user_id", name=op.f("pk_social_posting_lock")),
    )
    op.create_index(
        op.f("ix_social_posting_lock_user_id"), "social_posting_lock", ["user_id"], unique=False
    )

    # A plain ADD COLUMN on both databases: lti_oidc_state is not rebuilt.
    op.add_column("lti_oidc_state", sa.Column("client_ip", sa.String(length=45), nullable=True))
    op.create_index(
        "ix_lti_oidc_state_client",
        "lti_oidc_state",
        ["platform_id", "client_ip", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_lti_oidc_state_client", table_name="lti_oidc_state")
    # ALTER TABLE … DROP COLUMN on both (SQLite 3.35+), no batch rebuild.
    op.execute("ALTER TABLE lti_oidc_state DROP COLUMN client_ip")
    op.drop_index(op.f("ix_social_posting_lock_user_id"), table_name="social_posting_lock")
    op.drop_table("social_posting_lock")
    op.drop_index("ix_job_due", table_name="job")
    op.drop_table("job")
