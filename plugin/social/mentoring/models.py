"""The mentoring tables (migration 0015), for the whole of issue 11; docs/mentoring.md, "Tables".

- a **programme** (``mentoring_programme``) is what a Mentoring placement opens: in one course, or
  platform-wide (no course) with the placements of many courses joined to it
  (``mentoring_placement``); its targeted competencies are
  ``mentoring_target``;
- a **profile** (``mentoring_profile``) is one person's opt-in to one programme, as mentor and/or
  mentee, with their competencies and self-rated levels (``mentoring_profile_competency``);
- a **request** (``mentoring_request``) is a mentee asking for a mentor (a chosen one, or the
  programme's pool), with its competencies and the mentors who declined it;
- a **pair** (``mentoring_pair``) is the relationship and its agreement; its people (one or two
  mentors, one or more mentees in a group programme) are ``mentoring_pair_member``; a
  **check-in** (``mentoring_check_in``) is one meeting, its notes private to the pair; a
  **pulse** (``mentoring_pulse``) is one survey owed by one person of a pair.

Every row reaches its platform through its programme (``platform_id``), so queries scope by
platform, then course.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
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

# Programme.kind
ONE_TO_ONE = "one_to_one"
PEER = "peer"  # members mentor each other
REVERSE = "reverse"  # a junior with the expertise mentors a senior
GROUP = "group"  # one or two mentors with a circle of mentees
KINDS = (ONE_TO_ONE, PEER, REVERSE, GROUP)

# Programme.matching
MENTEE_CHOICE = "mentee_choice"  # the mentee picks from ranked suggestions; the mentor accepts
STAFF_BULK = "staff_bulk"  # staff run the optimal assignment, preview, adjust, approve
MENTOR_POOL = "mentor_pool"  # a request goes to a team; the first who accepts takes it
MATCHING_MODES = (MENTEE_CHOICE, STAFF_BULK, MENTOR_POOL)

# Programme.who_mentors
ANYONE = "anyone"  # anyone who opts in
STAFF_NOMINATED = "staff_nominated"  # only staff make someone a mentor
LTI_MENTOR = "lti_mentor"  # people with the LTI Mentor role
COURSE_GROUP = "course_group"  # members of one course group (``mentor_group_id``)
WHO_MENTORS = (ANYONE, STAFF_NOMINATED, LTI_MENTOR, COURSE_GROUP)

# ProfileCompetency.role, PairMember.role
AS_MENTOR = "mentor"
AS_MENTEE = "mentee"
ROLES = (AS_MENTOR, AS_MENTEE)

# Request.state
REQUEST_OPEN = "open"
REQUEST_ACCEPTED = "accepted"
REQUEST_DECLINED = "declined"
REQUEST_EXPIRED = "expired"
REQUEST_WITHDRAWN = "withdrawn"
REQUEST_STATES = (
    REQUEST_OPEN,
    REQUEST_ACCEPTED,
    REQUEST_DECLINED,
    REQUEST_EXPIRED,
    REQUEST_WITHDRAWN,
)

# Pair.state
PAIR_PROPOSED = "proposed"  # made (accepted request or approved bulk match); agreement pending
PAIR_ACTIVE = "active"  # both sides accepted the agreement
PAIR_ENDED = "ended"
PAIR_STATES = (PAIR_PROPOSED, PAIR_ACTIVE, PAIR_ENDED)

# Pulse.kind
PULSE_DAY_30 = "day_30"
PULSE_END = "end"
PULSE_KINDS = (PULSE_DAY_30, PULSE_END)

TITLE_CHARS = 255
TZ_CHARS = 64


class Programme(Base):
    """A mentoring programme: a course's (``context_id``) or platform-wide (None)."""

    __tablename__ = "mentoring_programme"
    __table_args__ = (Index("ix_mentoring_programme_scope", "platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_context.id", ondelete="CASCADE"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(TITLE_CHARS))
    kind: Mapped[str] = mapped_column(String(20), default=ONE_TO_ONE)
    matching: Mapped[str] = mapped_column(String(20), default=MENTEE_CHOICE)
    duration_days: Mapped[int] = mapped_column(Integer)  # the agreement's default length
    cadence_days: Mapped[int] = mapped_column(Integer)  # a meeting every so many days
    default_capacity: Mapped[int] = mapped_column(Integer)  # mentees per mentor, by default
    enrolment_open: Mapped[bool] = mapped_column(Boolean, default=True)
    who_mentors: Mapped[str] = mapped_column(String(20), default=ANYONE)
    mentor_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_group.id", ondelete="SET NULL"), nullable=True
    )
    escalation_hours: Mapped[int] = mapped_column(Integer)  # an unanswered pool request escalates
    # Bulk matching never pairs a mentee with whom the platform names as their LTI mentor.
    exclude_lti_mentor: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProgrammePlacement(Base):
    """A placement (course link) that opens a programme: one programme per placement; a
    platform-wide programme has the placements of many courses."""

    __tablename__ = "mentoring_placement"

    placement_id: Mapped[int] = mapped_column(
        ForeignKey("lti_placement.id", ondelete="CASCADE"), primary_key=True
    )
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_programme.id", ondelete="CASCADE"), index=True
    )


class ProgrammeCompetency(Base):
    """A competency the programme targets (from the platform's imported frameworks)."""

    __tablename__ = "mentoring_target"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_programme.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("perf_competency.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Profile(Base):
    """One person in one programme: as mentor and/or mentee. Leaving turns both off (the row
    stays for the history of requests and pairs)."""

    __tablename__ = "mentoring_profile"
    __table_args__ = (
        UniqueConstraint("programme_id", "user_id"),
        Index("ix_mentoring_profile_mentors", "programme_id", "is_mentor", "accepting"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_programme.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    is_mentor: Mapped[bool] = mapped_column(Boolean, default=False)
    is_mentee: Mapped[bool] = mapped_column(Boolean, default=False)
    # Staff made this person a mentor (needed when the programme's mentors are staff-nominated).
    nominated: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int] = mapped_column(Integer)  # mentees at once
    accepting: Mapped[bool] = mapped_column(Boolean, default=True)
    time_zone: Mapped[str] = mapped_column(String(TZ_CHARS), default="UTC")
    # [[day 0-6, start hour, end hour], ...] in the person's time zone
    availability: Mapped[list[Any]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # BCP 47 tags
    bio: Mapped[str] = mapped_column(Text, default="")  # plain text
    goals: Mapped[str] = mapped_column(Text, default="")  # a mentee's goals, plain text
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    competencies: Mapped[list[ProfileCompetency]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ProfileCompetency.competency_id",
    )


class ProfileCompetency(Base):
    """A competency on a profile, as mentor (``level``: self-rated position on the framework's
    scale, 1 = lowest) or as mentee (``level`` 0 = none yet, and the ``target`` above it)."""

    __tablename__ = "mentoring_profile_competency"

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_profile.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("perf_competency.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(10), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    target: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Request(Base):
    """A mentee asks for a mentor: ``mentor_id`` the one chosen, or None with ``to_pool`` (the
    programme's mentors for its competencies). Open until accepted, declined, withdrawn or
    ``expires_at``; a pool request escalates to staff at ``escalate_at``."""

    __tablename__ = "mentoring_request"
    __table_args__ = (
        Index("ix_mentoring_request_programme_state", "programme_id", "state"),
        Index("ix_mentoring_request_mentee", "mentee_id", "state"),
        Index("ix_mentoring_request_mentor", "mentor_id", "state"),
        Index("ix_mentoring_request_due", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_programme.id", ondelete="CASCADE")
    )
    mentee_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    to_pool: Mapped[bool] = mapped_column(Boolean, default=False)
    goal: Mapped[str] = mapped_column(Text, default="")
    cadence_days: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default=REQUEST_OPEN)
    reply: Mapped[str] = mapped_column(Text, default="")  # the mentor's message on answering
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    competencies: Mapped[list[RequestCompetency]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RequestCompetency.competency_id",
    )


class RequestCompetency(Base):
    """A competency a request asks for: the mentee's level (0 = none yet) and target."""

    __tablename__ = "mentoring_request_competency"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_request.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("perf_competency.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(Integer)
    target: Mapped[int] = mapped_column(Integer)


class RequestDecline(Base):
    """A mentor who declined a request, and their message (the history the score reads)."""

    __tablename__ = "mentoring_request_decline"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_request.id", ondelete="CASCADE"), primary_key=True
    )
    mentor_id: Mapped[int] = mapped_column(
        ForeignKey("lti_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    message: Mapped[str] = mapped_column(Text, default="")
    declined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Pair(Base):
    """A mentoring relationship and its agreement (start, end, cadence, where they meet, their
    goals): proposed until every member accepted the agreement, then active, then ended."""

    __tablename__ = "mentoring_pair"
    __table_args__ = (
        Index("ix_mentoring_pair_programme_state", "programme_id", "state"),
        Index("ix_mentoring_pair_check_in_due", "state", "check_in_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_programme.id", ondelete="CASCADE")
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentoring_request.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[str] = mapped_column(String(10), default=PAIR_PROPOSED)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    cadence_days: Mapped[int] = mapped_column(Integer)
    place: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str] = mapped_column(String(1000), default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    # When the next check-in is due (the reminder job's clock); None when not active.
    check_in_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # A later end date a member proposed (migration 0017); the old date holds until every
    # member confirmed it (PairMember.extension_confirmed_at).
    proposed_ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    proposed_by: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    # Figures programme health reads (migration 0018), kept in the same transaction as the act:
    # check-ins held on or after the activation day (checkins.log_check_in), and the latest
    # answered pulse rating (reminders.answer_pulse).
    check_ins_logged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    latest_rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latest_rating_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PairMember(Base):
    """A person of a pair, as mentor or mentee, and when they accepted its agreement."""

    __tablename__ = "mentoring_pair_member"

    pair_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_pair.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("lti_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(10))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    extension_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When this member left a group circle that goes on without them (migration 0018).
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PairCompetency(Base):
    """A competency the pair's agreement is about."""

    __tablename__ = "mentoring_pair_competency"

    pair_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_pair.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("perf_competency.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CheckIn(Base):
    """One meeting of a pair. ``notes`` are private to the pair: staff see that it happened,
    never its notes, and no statement carries them."""

    __tablename__ = "mentoring_check_in"
    __table_args__ = (Index("ix_mentoring_check_in_pair", "pair_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("mentoring_pair.id", ondelete="CASCADE"))
    logged_by: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckInCompetency(Base):
    """A competency a check-in touched."""

    __tablename__ = "mentoring_check_in_competency"

    check_in_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_check_in.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("perf_competency.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Pulse(Base):
    """A pulse survey one person of a pair owes (after 30 days, at the end): due at ``due_at``,
    sent by the worker (``sent_at``), answered with a 1-5 ``rating`` and a comment."""

    __tablename__ = "mentoring_pulse"
    __table_args__ = (
        UniqueConstraint("pair_id", "user_id", "kind"),
        Index("ix_mentoring_pulse_due", "sent_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("mentoring_pair.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")


# Invitation.state
INVITATION_PENDING = "pending"
INVITATION_ACCEPTED = "accepted"
INVITATION_DECLINED = "declined"
INVITATION_STATES = (INVITATION_PENDING, INVITATION_ACCEPTED, INVITATION_DECLINED)


class Invitation(Base):
    """Staff invite someone to mentor in a programme (migration 0016): the person becomes a
    mentor only when they accept. One row per person and programme, ever: a declined invitation
    stays, so they are never invited again (nor suggested). ``competency_ids`` are the targeted
    competencies they were invited for (to rate on their profile)."""

    __tablename__ = "mentoring_invitation"
    __table_args__ = (
        UniqueConstraint("programme_id", "user_id"),
        Index("ix_mentoring_invitation_user", "user_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_programme.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    invited_by: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    competency_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(10), default=INVITATION_PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class HealthSnapshot(Base):
    """The figures of a programme's health page as computed at ``computed_at`` (migration 0019;
    :mod:`.health` keeps it, at most a few minutes old)."""

    __tablename__ = "mentoring_health_snapshot"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_programme.id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
