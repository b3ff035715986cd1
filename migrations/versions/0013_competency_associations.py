"""CASE associations of every type

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 10:00:00

``perf_competency_association``: every CFAssociation of an imported CASE package (until now only
``isChildOf`` was read, into ``perf_competency.parent_id``), with both ends as the package gives
them (uri, identifier, title), its sequence number and lastChangeDateTime. Ends are matched to
competencies by uri when read, so no foreign key points at ``perf_competency``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, plugin.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "perf_competency_association",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=True),
        sa.Column("uri", sa.String(length=1000), nullable=True),
        sa.Column("association_type", sa.String(length=255), nullable=False),
        sa.Column("origin_uri", sa.String(length=1000), nullable=True),
        sa.Column("origin_identifier", sa.String(length=255), nullable=True),
        sa.Column("origin_title", sa.Text(), nullable=True),
        sa.Column("destination_uri", sa.String(length=1000), nullable=True),
        sa.Column("destination_identifier", sa.String(length=255), nullable=True),
        sa.Column("destination_title", sa.Text(), nullable=True),
        sa.Column("sequence_number", sa.Integer(), nullable=True),
        _timestamp("source_changed_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["perf_framework.id"],
            name="fk_perf_competency_association_framework_id_perf_framework",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_perf_competency_association"),
    )
    op.create_index(
        "ix_perf_competency_association_framework",
        "perf_competency_association",
        ["framework_id", "position"],
    )
    op.create_index(
        "ix_perf_competency_association_origin", "perf_competency_association", ["origin_uri"]
    )
    op.create_index(
        "ix_perf_competency_association_destination",
        "perf_competency_association",
        ["destination_uri"],
    )


def downgrade() -> None:
    op.drop_index("ix_perf_competency_association_destination", "perf_competency_association")
    op.drop_index("ix_perf_competency_association_origin", "perf_competency_association")
    op.drop_index("ix_perf_competency_association_framework", "perf_competency_association")
    op.drop_table("perf_competency_association")
