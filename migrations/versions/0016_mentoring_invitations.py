"""mentoring invitations: staff invite a suggested mentor, who accepts or declines

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 22:30:00

``mentoring_invitation``: one row per person and programme, ever (unique), so a declined
invitation is never sent again (docs/mentoring.md, "Inviting suggested mentors").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentoring_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("competency_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["mentoring_programme.id"],
            name=op.f("fk_mentoring_invitation_programme_id_mentoring_programme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_mentoring_invitation_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["lti_user.id"],
            name=op.f("fk_mentoring_invitation_invited_by_lti_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentoring_invitation")),
        sa.UniqueConstraint(
            "programme_id", "user_id", name=op.f("uq_mentoring_invitation_programme_id_user_id")
        ),
    )
    op.create_index("ix_mentoring_invitation_user", "mentoring_invitation", ["user_id", "state"])


def downgrade() -> None:
    op.drop_table("mentoring_invitation")
