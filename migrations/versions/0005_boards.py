"""discussion boards

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00

Boards, threads, posts (reply → comments), post revisions and reactions (plugin/social/models.py).
``social_thread.accepted_post_id`` and ``social_post.thread_id`` refer to each other, so the former
is created after both tables where the database supports ALTER TABLE … ADD CONSTRAINT.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "social_board",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("cohort_mode", sa.String(length=20), nullable=False),
        sa.Column("qa_mode", sa.Boolean(), nullable=False),
        sa.Column("anonymous_allowed", sa.Boolean(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_context.id"],
            name=op.f("fk_social_board_context_id_lti_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["lti_placement.id"],
            name=op.f("fk_social_board_placement_id_lti_placement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_board")),
        sa.UniqueConstraint("placement_id", name=op.f("uq_social_board_placement_id")),
    )
    op.create_index(
        op.f("ix_social_board_context_id"), "social_board", ["context_id"], unique=False
    )
    op.create_table(
        "social_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("cohort_group_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("lock_reason", sa.String(length=500), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("accepted_post_id", sa.Integer(), nullable=True),
        sa.Column("endorsed", sa.Boolean(), nullable=False),
        sa.Column("last_activity_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["accepted_post_id"],
            ["social_post.id"],
            name=op.f("fk_social_thread_accepted_post_id_social_post"),
            ondelete="SET NULL",
            use_alter=True,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["lti_user.id"],
            name=op.f("fk_social_thread_author_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["social_board.id"],
            name=op.f("fk_social_thread_board_id_social_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cohort_group_id"],
            ["lti_group.id"],
            name=op.f("fk_social_thread_cohort_group_id_lti_group"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_thread")),
    )
    op.create_index(
        op.f("ix_social_thread_author_id"), "social_thread", ["author_id"], unique=False
    )
    op.create_index(
        op.f("ix_social_thread_cohort_group_id"), "social_thread", ["cohort_group_id"], unique=False
    )
    op.create_index(
        "ix_social_thread_cohort_listing",
        "social_thread",
        ["board_id", "cohort_group_id", "pinned", "last_activity_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_social_thread_listing",
        "social_thread",
        ["board_id", "pinned", "last_activity_at", "id"],
        unique=False,
    )
    op.create_table(
        "social_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("is_opening", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["lti_user.id"],
            name=op.f("fk_social_post_author_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["social_post.id"],
            name=op.f("fk_social_post_parent_id_social_post"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["social_thread.id"],
            name=op.f("fk_social_post_thread_id_social_thread"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_post")),
    )
    if op.get_bind().dialect.supports_alter:
        # PostgreSQL leaves the use_alter constraint out of CREATE TABLE (SQLite keeps it inline).
        op.create_foreign_key(
            op.f("fk_social_thread_accepted_post_id_social_post"),
            "social_thread",
            "social_post",
            ["accepted_post_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index(op.f("ix_social_post_author_id"), "social_post", ["author_id"], unique=False)
    op.create_index(
        "ix_social_post_parent", "social_post", ["parent_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_social_post_thread", "social_post", ["thread_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "social_post_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("edited_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["editor_id"],
            ["lti_user.id"],
            name=op.f("fk_social_post_revision_editor_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["social_post.id"],
            name=op.f("fk_social_post_revision_post_id_social_post"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_post_revision")),
    )
    op.create_index(
        "ix_social_post_revision_post",
        "social_post_revision",
        ["post_id", "edited_at", "id"],
        unique=False,
    )
    op.create_table(
        "social_reaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["social_post.id"],
            name=op.f("fk_social_reaction_post_id_social_post"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_social_reaction_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_reaction")),
        sa.UniqueConstraint(
            "post_id", "user_id", "kind", name=op.f("uq_social_reaction_post_id_user_id_kind")
        ),
    )
    op.create_index(
        op.f("ix_social_reaction_user_id"), "social_reaction", ["user_id"], unique=False
    )


def downgrade() -> None:
    if op.get_bind().dialect.supports_alter:
        op.drop_constraint(
            op.f("fk_social_thread_accepted_post_id_social_post"),
            "social_thread",
            type_="foreignkey",
        )

    op.drop_index(op.f("ix_social_reaction_user_id"), table_name="social_reaction")
    op.drop_table("social_reaction")
    op.drop_index("ix_social_post_revision_post", table_name="social_post_revision")
    op.drop_table("social_post_revision")
    op.drop_index("ix_social_post_thread", table_name="social_post")
    op.drop_index("ix_social_post_parent", table_name="social_post")
    op.drop_index(op.f("ix_social_post_author_id"), table_name="social_post")
    op.drop_table("social_post")
    op.drop_index("ix_social_thread_listing", table_name="social_thread")
    op.drop_index("ix_social_thread_cohort_listing", table_name="social_thread")
    op.drop_index(op.f("ix_social_thread_cohort_group_id"), table_name="social_thread")
    op.drop_index(op.f("ix_social_thread_author_id"), table_name="social_thread")
    op.drop_table("social_thread")
    op.drop_index(op.f("ix_social_board_context_id"), table_name="social_board")
    op.drop_table("social_board")
