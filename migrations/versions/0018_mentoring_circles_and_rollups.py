"""mentoring: group circles (a member leaves one) and the pair figures programme health reads

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 23:00:00

- ``mentoring_pair_member.left_at``: when this member left a group circle that goes on without
  them (NULL: still in it). A one-to-one pair ends instead.
- ``mentoring_pair.check_ins_logged``: check-ins held on or after the activation day, kept by
  the service that logs a check-in in the same transaction (programme health reads it rather
  than counting check-ins per pair).
- ``mentoring_pair.latest_rating`` and ``latest_rating_at``: the pair's latest answered pulse
  rating, kept by the service that records the answer (the pair-health rule reads it).
Existing rows are filled from the tables they summarise.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "mentoring_pair_member",
        sa.Column("left_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("mentoring_pair", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("check_ins_logged", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("latest_rating", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("latest_rating_at", plugin.db.UTCDateTime(timezone=True), nullable=True)
        )
    pair = sa.table(
        "mentoring_pair",
        sa.column("id", sa.Integer),
        sa.column("activated_at", sa.DateTime),
        sa.column("check_ins_logged", sa.Integer),
        sa.column("latest_rating", sa.Integer),
        sa.column("latest_rating_at", sa.DateTime),
    )
    check_in = sa.table(
        "mentoring_check_in",
        sa.column("pair_id", sa.Integer),
        sa.column("held_on", sa.Date),
    )
    pulse = sa.table(
        "mentoring_pulse",
        sa.column("id", sa.Integer),
        sa.column("pair_id", sa.Integer),
        sa.column("rating", sa.Integer),
        sa.column("answered_at", sa.DateTime),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(pair.c.id, pair.c.activated_at).where(pair.c.activated_at.is_not(None))
    ).all()
    for pair_id, activated_at in rows:
        day = activated_at.date() if hasattr(activated_at, "date") else None
        if day is None:
            continue
        logged = bind.execute(
            sa.select(sa.func.count())
            .select_from(check_in)
            .where(check_in.c.pair_id == pair_id, check_in.c.held_on >= day)
        ).scalar_one()
        bind.execute(pair.update().where(pair.c.id == pair_id).values(check_ins_logged=logged))
    latest = bind.execute(
        sa.select(pulse.c.pair_id, pulse.c.rating, pulse.c.answered_at)
        .where(pulse.c.rating.is_not(None), pulse.c.answered_at.is_not(None))
        .order_by(pulse.c.pair_id, pulse.c.answered_at, pulse.c.id)
    ).all()
    last: dict[int, tuple[int, object]] = {}
    for pair_id, rating, answered_at in latest:
        last[pair_id] = (rating, answered_at)
    for pair_id, (rating, answered_at) in last.items():
        bind.execute(
            pair.update()
            .where(pair.c.id == pair_id)
            .values(latest_rating=rating, latest_rating_at=answered_at)
        )


def downgrade() -> None:
    with op.batch_alter_table("mentoring_pair", schema=None) as batch_op:
        batch_op.drop_column("latest_rating_at")
        batch_op.drop_column("latest_rating")
        batch_op.drop_column("check_ins_logged")
    op.drop_column("mentoring_pair_member", "left_at")
