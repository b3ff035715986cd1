"""mentoring: programmes, profiles, requests, pairs, check-ins, pulses

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 20:30:00

The whole of issue 11's tables at once (docs/mentoring.md, "Tables"), so later steps add code,
not migrations:

- ``mentoring_programme`` (a course's, or platform-wide with no course), ``mentoring_placement``
  (the course links that open it), ``mentoring_target`` (its targeted competencies);
- ``mentoring_profile`` (a person's opt-in, as mentor and/or mentee) and
  ``mentoring_profile_competency`` (self-rated levels);
- ``mentoring_request``, ``mentoring_request_competency``, ``mentoring_request_decline``;
- ``mentoring_pair`` (the relationship and its agreement), ``mentoring_pair_member``,
  ``mentoring_pair_competency``; ``mentoring_check_in`` (notes private to the pair),
  ``mentoring_check_in_competency``; ``mentoring_pulse``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plugin.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentoring_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("matching", sa.String(length=20), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=False),
        sa.Column("default_capacity", sa.Integer(), nullable=False),
        sa.Column("enrolment_open", sa.Boolean(), nullable=False),
        sa.Column("who_mentors", sa.String(length=20), nullable=False),
        sa.Column("mentor_group_id", sa.Integer(), nullable=True),
        sa.Column("escalation_hours", sa.Integer(), nullable=False),
        sa.Column("exclude_lti_mentor", sa.Boolean(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_context.id"],
            name=op.f("fk_mentoring_programme_context_id_lti_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_group_id"],
            ["lti_group.id"],
            name=op.f("fk_mentoring_programme_mentor_group_id_lti_group"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_mentoring_programme_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentoring_programme")),
    )
    op.create_index(
        "ix_mentoring_programme_scope", "mentoring_programme", ["platform_id", "context_id"]
    )

    op.create_table(
        "mentoring_placement",
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["lti_placement.id"],
            name=op.f("fk_mentoring_placement_placement_id_lti_placement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["mentoring_programme.id"],
            name=op.f("fk_mentoring_placement_programme_id_mentoring_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("placement_id", name=op.f("pk_mentoring_placement")),
    )
    op.create_index("ix_mentoring_placement_programme_id", "mentoring_placement", ["programme_id"])

    op.create_table(
        "mentoring_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("is_mentor", sa.Boolean(), nullable=False),
        sa.Column("is_mentee", sa.Boolean(), nullable=False),
        sa.Column("nominated", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("accepting", sa.Boolean(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("availability", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["mentoring_programme.id"],
            name=op.f("fk_mentoring_profile_programme_id_mentoring_programme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_mentoring_profile_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentoring_profile")),
        sa.UniqueConstraint(
            "programme_id", "user_id", name=op.f("uq_mentoring_profile_programme_id_user_id")
        ),
    )
    op.create_index(
        "ix_mentoring_profile_mentors",
        "mentoring_profile",
        ["programme_id", "is_mentor", "accepting"],
    )
    op.create_index("ix_mentoring_profile_user_id", "mentoring_profile", ["user_id"])

    op.create_table(
        "mentoring_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=True),
        sa.Column("to_pool", sa.Boolean(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("escalate_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["lti_user.id"],
            name=op.f("fk_mentoring_request_mentee_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["lti_user.id"],
            name=op.f("fk_mentoring_request_mentor_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["mentoring_programme.id"],
            name=op.f("fk_mentoring_request_programme_id_mentoring_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentoring_request")),
    )
    op.create_index("ix_mentoring_request_due", "mentoring_request", ["state", "expires_at"])
    op.create_index("ix_mentoring_request_mentee", "mentoring_request", ["mentee_id", "state"])
    op.create_index("ix_mentoring_request_mentor", "mentoring_request", ["mentor_id", "state"])
    op.create_index(
        "ix_mentoring_request_programme_state", "mentoring_request", ["programme_id", "state"]
    )

    op.create_table(
        "mentoring_target",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["perf_competency.id"],
            name=op.f("fk_mentoring_target_competency_id_perf_competency"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["mentoring_programme.id"],
            name=op.f("fk_mentoring_target_programme_id_mentoring_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", "competency_id", name=op.f("pk_mentoring_target")),
    )
    op.create_index("ix_mentoring_target_competency_id", "mentoring_target", ["competency_id"])

    op.create_table(
        "mentoring_pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=500), nullable=False),
        sa.Column("link", sa.String(length=1000), nullable=False),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("check_in_due_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["mentoring_programme.id"],
            name=op.f("fk_mentoring_pair_programme_id_mentoring_programme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mentoring_request.id"],
            name=op.f("fk_mentoring_pair_request_id_mentoring_request"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentoring_pair")),
    )
    op.create_index(
        "ix_mentoring_pair_check_in_due", "mentoring_pair", ["state", "check_in_due_at"]
    )
    op.create_index(
        "ix_mentoring_pair_programme_state", "mentoring_pair", ["programme_id", "state"]
    )

    op.create_table(
        "mentoring_profile_competency",
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["perf_competency.id"],
            name=op.f("fk_mentoring_profile_competency_competency_id_perf_competency"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["mentoring_profile.id"],
            name=op.f("fk_mentoring_profile_competency_profile_id_mentoring_profile"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "profile_id", "competency_id", "role", name=op.f("pk_mentoring_profile_competency")
        ),
    )
    op.create_index(
        "ix_mentoring_profile_competency_competency_id",
        "mentoring_profile_competency",
        ["competency_id"],
    )

    op.create_table(
        "mentoring_request_competency",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["perf_competency.id"],
            name=op.f("fk_mentoring_request_competency_competency_id_perf_competency"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mentoring_request.id"],
            name=op.f("fk_mentoring_request_competency_request_id_mentoring_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "request_id", "competency_id", name=op.f("pk_mentoring_request_competency")
        ),
    )
    op.create_index(
        "ix_mentoring_request_competency_competency_id",
        "mentoring_request_competency",
        ["competency_id"],
    )

    op.create_table(
        "mentoring_request_decline",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("declined_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["lti_user.id"],
            name=op.f("fk_mentoring_request_decline_mentor_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mentoring_request.id"],
            name=op.f("fk_mentoring_request_decline_request_id_mentoring_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "request_id", "mentor_id", name=op.f("pk_mentoring_request_decline")
        ),
    )
    op.create_index(
        "ix_mentoring_request_decline_mentor_id", "mentoring_request_decline", ["mentor_id"]
    )

    op.create_table(
        "mentoring_check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("logged_by", sa.Integer(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("created_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["logged_by"],
            ["lti_user.id"],
            name=op.f("fk_mentoring_check_in_logged_by_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["mentoring_pair.id"],
            name=op.f("fk_mentoring_check_in_pair_id_mentoring_pair"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentoring_check_in")),
    )
    op.create_index("ix_mentoring_check_in_pair", "mentoring_check_in", ["pair_id", "held_on"])

    op.create_table(
        "mentoring_pair_competency",
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["perf_competency.id"],
            name=op.f("fk_mentoring_pair_competency_competency_id_perf_competency"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["mentoring_pair.id"],
            name=op.f("fk_mentoring_pair_competency_pair_id_mentoring_pair"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "pair_id", "competency_id", name=op.f("pk_mentoring_pair_competency")
        ),
    )
    op.create_index(
        "ix_mentoring_pair_competency_competency_id", "mentoring_pair_competency", ["competency_id"]
    )

    op.create_table(
        "mentoring_pair_member",
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("accepted_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["mentoring_pair.id"],
            name=op.f("fk_mentoring_pair_member_pair_id_mentoring_pair"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_mentoring_pair_member_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pair_id", "user_id", name=op.f("pk_mentoring_pair_member")),
    )
    op.create_index("ix_mentoring_pair_member_user_id", "mentoring_pair_member", ["user_id"])

    op.create_table(
        "mentoring_pulse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("due_at", plugin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", plugin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["mentoring_pair.id"],
            name=op.f("fk_mentoring_pulse_pair_id_mentoring_pair"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_mentoring_pulse_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentoring_pulse")),
        sa.UniqueConstraint(
            "pair_id", "user_id", "kind", name=op.f("uq_mentoring_pulse_pair_id_user_id_kind")
        ),
    )
    op.create_index("ix_mentoring_pulse_due", "mentoring_pulse", ["sent_at", "due_at"])
    op.create_index("ix_mentoring_pulse_user_id", "mentoring_pulse", ["user_id"])

    op.create_table(
        "mentoring_check_in_competency",
        sa.Column("check_in_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_in_id"],
            ["mentoring_check_in.id"],
            name=op.f("fk_mentoring_check_in_competency_check_in_id_mentoring_check_in"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["perf_competency.id"],
            name=op.f("fk_mentoring_check_in_competency_competency_id_perf_competency"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "check_in_id", "competency_id", name=op.f("pk_mentoring_check_in_competency")
        ),
    )
    op.create_index(
        "ix_mentoring_check_in_competency_competency_id",
        "mentoring_check_in_competency",
        ["competency_id"],
    )


def downgrade() -> None:
    op.drop_table("mentoring_check_in_competency")
    op.drop_table("mentoring_pulse")
    op.drop_table("mentoring_pair_member")
    op.drop_table("mentoring_pair_competency")
    op.drop_table("mentoring_check_in")
    op.drop_table("mentoring_request_decline")
    op.drop_table("mentoring_request_competency")
    op.drop_table("mentoring_profile_competency")
    op.drop_table("mentoring_pair")
    op.drop_table("mentoring_target")
    op.drop_table("mentoring_request")
    op.drop_table("mentoring_profile")
    op.drop_table("mentoring_placement")
    op.drop_table("mentoring_programme")
