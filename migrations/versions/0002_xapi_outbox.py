"""xapi outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:30:00

The transactional outbox of xAPI statements (plugin/xapi/models.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xapi_outbox",
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("event_kind", sa.String(length=60), nullable=False),
        sa.Column("verb_id", sa.String(length=500), nullable=False),
        sa.Column("object_id", sa.String(length=1000), nullable=False),
        sa.Column("competency_iris", sa.JSON(), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lrs_reply", sa.Text(), nullable=True),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["lti_user.id"],
            name=op.f("fk_xapi_outbox_actor_user_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_context.id"],
            name=op.f("fk_xapi_outbox_context_id_lti_context"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_xapi_outbox_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_xapi_outbox")),
    )
    with op.batch_alter_table("xapi_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_xapi_outbox_claim", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(
            "ix_xapi_outbox_browse", ["platform_id", "created_at", "statement_id"], unique=False
        )
        batch_op.create_index(
            "ix_xapi_outbox_actor", ["platform_id", "actor_user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_xapi_outbox_verb", ["platform_id", "verb_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_xapi_outbox_context", ["platform_id", "context_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_xapi_outbox_state", ["platform_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("xapi_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_xapi_outbox_state")
        batch_op.drop_index("ix_xapi_outbox_context")
        batch_op.drop_index("ix_xapi_outbox_verb")
        batch_op.drop_index("ix_xapi_outbox_actor")
        batch_op.drop_index("ix_xapi_outbox_browse")
        batch_op.drop_index("ix_xapi_outbox_claim")
    op.drop_table("xapi_outbox")
