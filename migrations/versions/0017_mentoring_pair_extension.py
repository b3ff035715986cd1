"""mentoring: a proposed extension of a pair's end date

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 23:00:00

A member of an active pair proposes a later end date; the other members confirm it, and until
every one has, the old date holds (docs/mentoring.md, "Mentorships"):

- ``mentoring_pair.proposed_ends_on`` and ``proposed_by`` (the member who proposed it; NULL
  when no extension is pending, or the person was deleted);
- ``mentoring_pair_member.extension_confirmed_at``: when this member confirmed the pending
  extension (the proposer confirms by proposing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentoring_pair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposed_ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("proposed_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_mentoring_pair_proposed_by_lti_user"),
            "lti_user",
            ["proposed_by"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column(
        "mentoring_pair_member",
        sa.Column("extension_confirmed_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("mentoring_pair_member", "extension_confirmed_at")
    with op.batch_alter_table("mentoring_pair", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_mentoring_pair_proposed_by_lti_user"), type_="foreignkey"
        )
        batch_op.drop_column("proposed_by")
        batch_op.drop_column("proposed_ends_on")
