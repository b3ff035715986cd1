"""The development-plan tables (migration 0020), for the whole of issue 12; docs/plans.md,
"Tables".

- a **plan** (``plan_plan``) is one learner's development plan, opened by a Development plan
  placement of a course (one per placement and owner), maybe copied from a **template**
  (``plan_template`` with its goals ``plan_template_goal``) that it follows until its owner edits
  it; its workflow comments are ``plan_comment`` and the people who may review it
  ``plan_reviewer``;
- a **goal** (``plan_goal``) is a competency to reach a target level on its framework's scale;
  its 70:20:10 activities are ``plan_goal_activity``, the experiences and reflections its owner
  logs ``plan_experience``, and the evidence rows (``perf_evidence``) that bear on it, with the
  owner's consent and a reviewer's decision, ``plan_evidence_share``;
- a **rating** (``plan_rating``) is a level given to a learner's competency, by the learner
  (``self``) or a reviewer;
- a **role profile** (``plan_role_profile``, its competencies ``plan_role_competency``) is what a
  role needs; ``plan_role_assignment`` gives a learner a role.

Every row reaches its platform directly (``platform_id``) or through its plan, template or role
profile, so queries scope by platform, then course.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin.db import Base, UTCDateTime, utcnow
from plugin.performance.models import Competency

# Plan.state (Moodle's learning-plan workflow)
DRAFT = "draft"
ACTIVE = "active"
REVIEW_REQUESTED = "review_requested"
IN_REVIEW = "in_review"
COMPLETE = "complete"
PLAN_STATES = (DRAFT, ACTIVE, REVIEW_REQUESTED, IN_REVIEW, COMPLETE)

# Goal.state
GOAL_OPEN = "open"
GOAL_MET = "met"  # progress reached the target (or a reviewer said so)
GOAL_DROPPED = "dropped"
GOAL_STATES = (GOAL_OPEN, GOAL_MET, GOAL_DROPPED)

# GoalActivity.kind (70:20:10)
EXPERIENCE = "experience"  # the 70: work assignments, stretch projects, logged reflections
RELATIONSHIP = "relationship"  # the 20: a board to join, a mentoring request
FORMAL = "formal"  # the 10: an LMS course or a link
ACTIVITY_KINDS = (EXPERIENCE, RELATIONSHIP, FORMAL)

# GoalActivity.state
ACTIVITY_PLANNED = "planned"
ACTIVITY_STARTED = "started"
ACTIVITY_DONE = "done"
ACTIVITY_STATES = (ACTIVITY_PLANNED, ACTIVITY_STARTED, ACTIVITY_DONE)

# EvidenceShare.state
SHARE_PENDING = "pending"
SHARE_ACCEPTED = "accepted"
SHARE_REJECTED = "rejected"
SHARE_STATES = (SHARE_PENDING, SHARE_ACCEPTED, SHARE_REJECTED)

# Rating.role
RATED_SELF = "self"
RATED_REVIEWER = "reviewer"
RATING_ROLES = (RATED_SELF, RATED_REVIEWER)

# Reviewer.source
REVIEWER_ASSIGNED = "assigned"  # named by staff or the owner
REVIEWER_STAFF = "staff"  # staff of the plan's course
REVIEWER_MENTOR = "mentor"  # the owner's mentor in the mentoring widget
REVIEWER_LTI_MENTOR = "lti_mentor"  # the platform's LTI Mentor for the owner (role_scope_mentor)
REVIEWER_SOURCES = (REVIEWER_ASSIGNED, REVIEWER_STAFF, REVIEWER_MENTOR, REVIEWER_LTI_MENTOR)

# Experience.kind
LOGGED_EXPERIENCE = "experience"
LOGGED_REFLECTION = "reflection"
LOGGED_KINDS = (LOGGED_EXPERIENCE, LOGGED_REFLECTION)

TITLE_CHARS = 200
WHY_CHARS = 2000
URL_CHARS = 1000


class PlanTemplate(Base):
    """A plan staff or L&D prepare for a course (or the whole platform: no course); learners'
    plans are copied from it."""

    __tablename__ = "plan_template"
    __table_args__ = (Index("ix_plan_template_course", "platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_context.id", ondelete="CASCADE"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(TITLE_CHARS))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # when its goals last changed: plans that follow it catch up to this
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    goals: Mapped[list[TemplateGoal]] = relationship(
        back_populates="template",
        cascade="all, delete-orphan",
        order_by="TemplateGoal.position",
        passive_deletes=True,
    )


class TemplateGoal(Base):
    """One goal of a template: copied into each plan made from it."""

    __tablename__ = "plan_template_goal"
    __table_args__ = (UniqueConstraint("template_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("plan_template.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("perf_competency.id"), index=True)
    target_position: Mapped[int] = mapped_column(Integer)  # a level of the competency's scale
    due_in_days: Mapped[int | None] = mapped_column(Integer, nullable=True)  # from the copy
    why: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    template: Mapped[PlanTemplate] = relationship(back_populates="goals")


class Plan(Base):
    """One learner's development plan in a course."""

    __tablename__ = "plan_plan"
    __table_args__ = (
        UniqueConstraint("placement_id", "owner_user_id"),
        Index("ix_plan_plan_owner", "platform_id", "owner_user_id"),
        Index("ix_plan_plan_course", "context_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    # the Development plan link that opens it (SET NULL: the plan outlives its link)
    placement_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_placement.id", ondelete="SET NULL"), nullable=True
    )
    owner_user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_template.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(TITLE_CHARS))
    state: Mapped[str] = mapped_column(String(20), default=DRAFT)
    # False while the plan follows its template's updates; set when its owner edits it
    edited_by_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    # the template's ``updated_at`` this plan last caught up with
    template_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # whether new evidence on its goals is shared with reviewers unless the owner says otherwise
    share_by_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    goals: Mapped[list[Goal]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        order_by="Goal.position, Goal.id",
        passive_deletes=True,
    )


class Goal(Base):
    """A competency to reach a target level by a date, and why."""

    __tablename__ = "plan_goal"
    __table_args__ = (
        UniqueConstraint("plan_id", "competency_id"),
        Index("ix_plan_goal_competency", "competency_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_plan.id", ondelete="CASCADE"))
    # No ON DELETE: a competency with goals is retired, never deleted (as for evidence).
    competency_id: Mapped[int] = mapped_column(ForeignKey("perf_competency.id"))
    target_position: Mapped[int] = mapped_column(Integer)  # a level of the competency's scale
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    why: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default=GOAL_OPEN)
    # progress toward the target, 0-100, as last computed (from accepted evidence and ratings)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # counts as mentoring demand for its competency (the mentoring widget's health page)
    needs_mentor: Mapped[bool] = mapped_column(Boolean, default=False)
    # the template goal it was copied from (follows its updates until the owner edits the plan)
    template_goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_template_goal.id", ondelete="SET NULL"), nullable=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    plan: Mapped[Plan] = relationship(back_populates="goals")
    competency: Mapped[Competency] = relationship()


class GoalActivity(Base):
    """Something the learner will do toward a goal, tagged 70:20:10."""

    __tablename__ = "plan_goal_activity"
    __table_args__ = (Index("ix_plan_goal_activity_goal", "goal_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goal.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # experience | relationship | formal
    title: Mapped[str] = mapped_column(String(TITLE_CHARS))
    url: Mapped[str | None] = mapped_column(String(URL_CHARS), nullable=True)  # formal: a link
    # relationship: a board to join, or a mentoring programme to ask in
    board_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_board.id", ondelete="SET NULL"), nullable=True
    )
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentoring_programme.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[str] = mapped_column(String(20), default=ACTIVITY_PLANNED)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanComment(Base):
    """A comment on a plan's workflow (a review request, a reviewer's note); when it goes with a
    change of state, the states it went from and to."""

    __tablename__ = "plan_comment"
    __table_args__ = (Index("ix_plan_comment_plan", "plan_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_plan.id", ondelete="CASCADE"))
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text, default="")
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvidenceShare(Base):
    """One evidence row as it bears on one goal: whether its owner lets reviewers see it, and a
    reviewer's decision."""

    __tablename__ = "plan_evidence_share"
    __table_args__ = (
        UniqueConstraint("goal_id", "evidence_id"),
        Index("ix_plan_evidence_share_goal", "goal_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goal.id", ondelete="CASCADE"))
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("perf_evidence.id", ondelete="CASCADE"), index=True
    )
    shared: Mapped[bool] = mapped_column(Boolean, default=False)  # the owner's consent
    state: Mapped[str] = mapped_column(String(20), default=SHARE_PENDING)
    reviewer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")  # the reviewer's, seen by the owner
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rating(Base):
    """A level given to a learner's competency on its framework's scale; the latest counts."""

    __tablename__ = "plan_rating"
    __table_args__ = (
        Index("ix_plan_rating_learner", "platform_id", "user_id", "competency_id", "rated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("perf_competency.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the level
    rater_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    role: Mapped[str] = mapped_column(String(20))  # self | reviewer
    # the goal it was given on, if any (SET NULL: the rating outlives the goal)
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_goal.id", ondelete="SET NULL"), nullable=True
    )
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reviewer(Base):
    """Someone who may review a plan, and why."""

    __tablename__ = "plan_reviewer"
    __table_args__ = (UniqueConstraint("plan_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_plan.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # assigned | staff | mentor | lti_mentor
    added_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoleProfile(Base):
    """What a role needs: competencies and levels (for skill gaps); of a course or the platform."""

    __tablename__ = "plan_role_profile"
    __table_args__ = (Index("ix_plan_role_profile_course", "platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_context.id", ondelete="CASCADE"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(TITLE_CHARS))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoleCompetency(Base):
    """One competency a role needs, at a level of its scale."""

    __tablename__ = "plan_role_competency"
    __table_args__ = (UniqueConstraint("role_profile_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_profile_id: Mapped[int] = mapped_column(
        ForeignKey("plan_role_profile.id", ondelete="CASCADE")
    )
    competency_id: Mapped[int] = mapped_column(ForeignKey("perf_competency.id"), index=True)
    target_position: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class RoleAssignment(Base):
    """A learner holds (chose, or was assigned) a role profile."""

    __tablename__ = "plan_role_assignment"
    __table_args__ = (UniqueConstraint("role_profile_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_profile_id: Mapped[int] = mapped_column(
        ForeignKey("plan_role_profile.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    # who assigned it; None when the learner chose it
    assigned_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Experience(Base):
    """An experience or reflection a learner logs against a goal (the 70); its text is private
    to the learner unless they share it."""

    __tablename__ = "plan_experience"
    __table_args__ = (Index("ix_plan_experience_goal", "goal_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goal.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # experience | reflection
    title: Mapped[str] = mapped_column(String(TITLE_CHARS))
    text: Mapped[str] = mapped_column(Text, default="")
    private: Mapped[bool] = mapped_column(Boolean, default=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
