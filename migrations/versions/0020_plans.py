"""plans: development plans, goals and the evidence loop (issue 12)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 23:40:00

The tables of the whole of issue 12 (``plugin/performance/plans/models.py``; docs/plans.md,
"Tables"): ``plan_plan`` and its ``plan_goal``, ``plan_goal_activity``, ``plan_comment``,
``plan_reviewer``, ``plan_experience``, ``plan_evidence_share``; ``plan_template`` and
``plan_template_goal``; ``plan_rating``; ``plan_role_profile``, ``plan_role_competency`` and
``plan_role_assignment``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_role_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_context.id"],
            name=op.f("fk_plan_role_profile_context_id_lti_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_role_profile_created_by_user_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_plan_role_profile_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_role_profile")),
    )
    with op.batch_alter_table("plan_role_profile", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_role_profile_course", ["platform_id", "context_id"], unique=False
        )

    op.create_table(
        "plan_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_context.id"],
            name=op.f("fk_plan_template_context_id_lti_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_template_created_by_user_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_plan_template_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_template")),
    )
    with op.batch_alter_table("plan_template", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_template_course", ["platform_id", "context_id"], unique=False
        )

    op.create_table(
        "plan_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=True),
        sa.Column("owner_user_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("edited_by_owner", sa.Boolean(), nullable=False),
        sa.Column("template_synced_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("share_by_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state_changed_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_context.id"],
            name=op.f("fk_plan_plan_context_id_lti_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_plan_owner_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["lti_placement.id"],
            name=op.f("fk_plan_plan_placement_id_lti_placement"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_plan_plan_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["plan_template.id"],
            name=op.f("fk_plan_plan_template_id_plan_template"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_plan")),
        sa.UniqueConstraint(
            "placement_id", "owner_user_id", name=op.f("uq_plan_plan_placement_id_owner_user_id")
        ),
    )
    with op.batch_alter_table("plan_plan", schema=None) as batch_op:
        batch_op.create_index("ix_plan_plan_course", ["context_id", "state"], unique=False)
        batch_op.create_index("ix_plan_plan_owner", ["platform_id", "owner_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_plan_template_id"), ["template_id"], unique=False)

    op.create_table(
        "plan_role_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role_profile_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_role_assignment_assigned_by_user_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["role_profile_id"],
            ["plan_role_profile.id"],
            name=op.f("fk_plan_role_assignment_role_profile_id_plan_role_profile"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_role_assignment_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_role_assignment")),
        sa.UniqueConstraint(
            "role_profile_id",
            "user_id",
            name=op.f("uq_plan_role_assignment_role_profile_id_user_id"),
        ),
    )
    with op.batch_alter_table("plan_role_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_role_assignment_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "plan_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=True),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_comment_author_user_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan_plan.id"],
            name=op.f("fk_plan_comment_plan_id_plan_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_comment")),
    )
    with op.batch_alter_table("plan_comment", schema=None) as batch_op:
        batch_op.create_index("ix_plan_comment_plan", ["plan_id", "created_at"], unique=False)

    op.create_table(
        "plan_reviewer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("added_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_reviewer_added_by_user_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan_plan.id"],
            name=op.f("fk_plan_reviewer_plan_id_plan_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_reviewer_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_reviewer")),
        sa.UniqueConstraint("plan_id", "user_id", name=op.f("uq_plan_reviewer_plan_id_user_id")),
    )
    with op.batch_alter_table("plan_reviewer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_reviewer_user_id"), ["user_id"], unique=False)

    op.create_table(
        "plan_role_competency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role_profile_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("target_position", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["perf_competency.id"],
            name=op.f("fk_plan_role_competency_competency_id_perf_competency"),
        ),
        sa.ForeignKeyConstraint(
            ["role_profile_id"],
            ["plan_role_profile.id"],
            name=op.f("fk_plan_role_competency_role_profile_id_plan_role_profile"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_role_competency")),
        sa.UniqueConstraint(
            "role_profile_id",
            "competency_id",
            name=op.f("uq_plan_role_competency_role_profile_id_competency_id"),
        ),
    )
    with op.batch_alter_table("plan_role_competency", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_role_competency_competency_id"), ["competency_id"], unique=False
        )

    op.create_table(
        "plan_template_goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("target_position", sa.Integer(), nullable=False),
        sa.Column("due_in_days", sa.Integer(), nullable=True),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["perf_competency.id"],
            name=op.f("fk_plan_template_goal_competency_id_perf_competency"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["plan_template.id"],
            name=op.f("fk_plan_template_goal_template_id_plan_template"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_template_goal")),
        sa.UniqueConstraint(
            "template_id",
            "competency_id",
            name=op.f("uq_plan_template_goal_template_id_competency_id"),
        ),
    )
    with op.batch_alter_table("plan_template_goal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_template_goal_competency_id"), ["competency_id"], unique=False
        )

    op.create_table(
        "plan_goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("target_position", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("progress_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("needs_mentor", sa.Boolean(), nullable=False),
        sa.Column("template_goal_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["perf_competency.id"],
            name=op.f("fk_plan_goal_competency_id_perf_competency"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan_plan.id"],
            name=op.f("fk_plan_goal_plan_id_plan_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_goal_id"],
            ["plan_template_goal.id"],
            name=op.f("fk_plan_goal_template_goal_id_plan_template_goal"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_goal")),
        sa.UniqueConstraint(
            "plan_id", "competency_id", name=op.f("uq_plan_goal_plan_id_competency_id")
        ),
    )
    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.create_index("ix_plan_goal_competency", ["competency_id", "state"], unique=False)

    op.create_table(
        "plan_evidence_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reviewer_user_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["perf_evidence.id"],
            name=op.f("fk_plan_evidence_share_evidence_id_perf_evidence"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["plan_goal.id"],
            name=op.f("fk_plan_evidence_share_goal_id_plan_goal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_evidence_share_reviewer_user_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_evidence_share")),
        sa.UniqueConstraint(
            "goal_id", "evidence_id", name=op.f("uq_plan_evidence_share_goal_id_evidence_id")
        ),
    )
    with op.batch_alter_table("plan_evidence_share", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_evidence_share_evidence_id"), ["evidence_id"], unique=False
        )
        batch_op.create_index("ix_plan_evidence_share_goal", ["goal_id", "state"], unique=False)

    op.create_table(
        "plan_experience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["plan_goal.id"],
            name=op.f("fk_plan_experience_goal_id_plan_goal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_experience_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_experience")),
    )
    with op.batch_alter_table("plan_experience", schema=None) as batch_op:
        batch_op.create_index("ix_plan_experience_goal", ["goal_id", "occurred_on"], unique=False)

    op.create_table(
        "plan_goal_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("board_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["social_board.id"],
            name=op.f("fk_plan_goal_activity_board_id_social_board"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["plan_goal.id"],
            name=op.f("fk_plan_goal_activity_goal_id_plan_goal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["mentoring_programme.id"],
            name=op.f("fk_plan_goal_activity_programme_id_mentoring_programme"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_goal_activity")),
    )
    with op.batch_alter_table("plan_goal_activity", schema=None) as batch_op:
        batch_op.create_index("ix_plan_goal_activity_goal", ["goal_id", "position"], unique=False)

    op.create_table(
        "plan_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rater_user_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("rated_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["perf_competency.id"],
            name=op.f("fk_plan_rating_competency_id_perf_competency"),
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["plan_goal.id"],
            name=op.f("fk_plan_rating_goal_id_plan_goal"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_plan_rating_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rater_user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_rating_rater_user_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_plan_rating_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_rating")),
    )
    with op.batch_alter_table("plan_rating", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_rating_competency_id"), ["competency_id"], unique=False
        )
        batch_op.create_index(
            "ix_plan_rating_learner",
            ["platform_id", "user_id", "competency_id", "rated_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_rating", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_rating_learner")
        batch_op.drop_index(batch_op.f("ix_plan_rating_competency_id"))

    op.drop_table("plan_rating")
    with op.batch_alter_table("plan_goal_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_goal_activity_goal")

    op.drop_table("plan_goal_activity")
    with op.batch_alter_table("plan_experience", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_experience_goal")

    op.drop_table("plan_experience")
    with op.batch_alter_table("plan_evidence_share", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_evidence_share_goal")
        batch_op.drop_index(batch_op.f("ix_plan_evidence_share_evidence_id"))

    op.drop_table("plan_evidence_share")
    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_goal_competency")

    op.drop_table("plan_goal")
    with op.batch_alter_table("plan_template_goal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_template_goal_competency_id"))

    op.drop_table("plan_template_goal")
    with op.batch_alter_table("plan_role_competency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_role_competency_competency_id"))

    op.drop_table("plan_role_competency")
    with op.batch_alter_table("plan_reviewer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_reviewer_user_id"))

    op.drop_table("plan_reviewer")
    with op.batch_alter_table("plan_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_comment_plan")

    op.drop_table("plan_comment")
    with op.batch_alter_table("plan_role_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_role_assignment_user_id"))

    op.drop_table("plan_role_assignment")
    with op.batch_alter_table("plan_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_plan_template_id"))
        batch_op.drop_index("ix_plan_plan_owner")
        batch_op.drop_index("ix_plan_plan_course")

    op.drop_table("plan_plan")
    with op.batch_alter_table("plan_template", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_template_course")

    op.drop_table("plan_template")
    with op.batch_alter_table("plan_role_profile", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_role_profile_course")

    op.drop_table("plan_role_profile")
