"""Development plans: the plan a Development plan link opens (one per link and learner, made on
first launch as a draft), who may see it, the course's plans for its staff, and the workflow
its owner moves it through (draft → active → review requested, and back) with a comment.

Access: a plan is its owner's; staff of its course read it (read-only for now); anyone else —
another learner, another course, another platform — gets "not found".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin import events
from plugin.access import Refusal, Viewer, not_found
from plugin.db import utcnow
from plugin.events import ActivityRef
from plugin.lti.models import Context, Placement, User
from plugin.performance.plans.models import (
    ACTIVE,
    DRAFT,
    IN_REVIEW,
    PLAN_STATES,
    REVIEW_REQUESTED,
    TITLE_CHARS,
    WHY_CHARS,
    Goal,
    Plan,
    PlanComment,
)

WIDGET = "plan"
COMMENT_CHARS = WHY_CHARS
STATE_LABELS = {
    "draft": "Draft",
    "active": "Active",
    "review_requested": "Review requested",
    "in_review": "In review",
    "complete": "Complete",
}
#: the moves a plan's owner makes: from -> the states they may move it to
OWNER_MOVES: Mapping[str, tuple[str, ...]] = {
    DRAFT: (ACTIVE,),
    ACTIVE: (REVIEW_REQUESTED, DRAFT),
    REVIEW_REQUESTED: (ACTIVE,),  # withdraw the request
}
MOVE_LABELS = {
    (DRAFT, ACTIVE): "Start working on the plan",
    (ACTIVE, REVIEW_REQUESTED): "Ask for a review",
    (ACTIVE, DRAFT): "Back to draft",
    (REVIEW_REQUESTED, ACTIVE): "Withdraw the review request",
}
MAX_COURSE_PLANS = 500  # one page of a course's plans


def share_default(settings: Mapping[str, object]) -> bool:
    """Whether new evidence is shared with reviewers by default: the link's
    ``setting_share_evidence`` ("shared"); private otherwise."""
    return settings.get("share_evidence") == "shared"


def plan_for_placement(session: Session, placement: Placement, user_id: int) -> Plan:
    """The learner's plan that the link opens, made on first launch (a draft titled after the
    link, evidence shared by default when the link says so)."""
    query = select(Plan).where(Plan.placement_id == placement.id, Plan.owner_user_id == user_id)
    found = session.scalar(query)
    if found is not None:
        return found
    platform_id = session.scalars(
        select(Context.platform_id).where(Context.id == placement.context_id)
    ).one()
    now = utcnow()
    plan = Plan(
        platform_id=platform_id,
        context_id=placement.context_id,
        placement_id=placement.id,
        owner_user_id=user_id,
        title=(placement.title or "Development plan")[:TITLE_CHARS],
        state=DRAFT,
        edited_by_owner=False,
        share_by_default=share_default(placement.settings or {}),
        created_at=now,
        updated_at=now,
        state_changed_at=now,
    )
    try:
        with session.begin_nested():
            session.add(plan)
            session.flush()
    except IntegrityError:  # a second tab made it first
        return session.scalars(query).one()
    return plan


def get_plan(session: Session, viewer: Viewer, plan_id: int) -> Plan:
    """A plan the viewer may read: their own in their course, or (for its staff) any plan of
    their course; 404 for any other."""
    course = viewer.course()
    plan = session.get(Plan, plan_id)
    if plan is None or plan.platform_id != viewer.platform_id or plan.context_id != course:
        raise not_found("This plan")
    if plan.owner_user_id == viewer.user_id or viewer.staff:
        return plan
    raise not_found("This plan")


def is_owner(viewer: Viewer, plan: Plan) -> bool:
    return plan.owner_user_id == viewer.user_id


def check_owner(viewer: Viewer, plan: Plan) -> None:
    """403 unless the viewer owns the plan (staff read others' plans, they do not change
    them)."""
    if not is_owner(viewer, plan):
        raise Refusal(
            403,
            "Course staff can read a learner's plan; only its owner changes it.",
            title="This plan is not yours to change",
        )


def check_editable(plan: Plan) -> None:
    """409 while a reviewer has the plan (in review) or once it is complete."""
    if plan.state == IN_REVIEW:
        raise Refusal(409, "The plan is being reviewed: its goals change after the review.")
    if plan.state not in (DRAFT, ACTIVE, REVIEW_REQUESTED):
        raise Refusal(409, "The plan is complete: its goals no longer change.")


def touch(plan: Plan, when: datetime) -> None:
    """The owner changed the plan: it stops following its template."""
    plan.updated_at = when
    plan.edited_by_owner = True


@dataclass(frozen=True)
class Move:
    to: str
    label: str


def moves(viewer: Viewer, plan: Plan) -> list[Move]:
    """The workflow moves the viewer may make now (none for staff reading someone's plan)."""
    if not is_owner(viewer, plan):
        return []
    return [Move(to, MOVE_LABELS[(plan.state, to)]) for to in OWNER_MOVES.get(plan.state, ())]


def move(
    session: Session,
    viewer: Viewer,
    plan: Plan,
    to: object,
    comment: object = "",
    *,
    now: datetime | None = None,
) -> Plan:
    """The owner moves the plan to ``to`` (:data:`OWNER_MOVES`) with an optional comment; the
    move and the comment are one row of the plan's history. 400 for an unknown state or a
    comment over :data:`COMMENT_CHARS`; 409 for a move not possible from the plan's state."""
    check_owner(viewer, plan)
    if not isinstance(to, str) or to not in PLAN_STATES:
        raise Refusal(400, "Choose what to do with the plan.")
    text = comment.strip() if isinstance(comment, str) else ""
    if comment is not None and not isinstance(comment, str):
        raise Refusal(400, "A comment is text.")
    if len(text) > COMMENT_CHARS:
        raise Refusal(400, f"A comment can be at most {COMMENT_CHARS:,} characters long.")
    if to not in OWNER_MOVES.get(plan.state, ()):
        raise Refusal(
            409,
            f"A plan that is “{STATE_LABELS[plan.state]}” cannot become "
            f"“{STATE_LABELS[to]}”. Reload the page to see what you can do now.",
        )
    if to == REVIEW_REQUESTED and not _has_goals(session, plan):
        raise Refusal(409, "Add a goal before asking for a review.")
    when = now or utcnow()
    session.add(
        PlanComment(
            plan_id=plan.id,
            author_user_id=viewer.user_id,
            body=text,
            from_state=plan.state,
            to_state=to,
            created_at=when,
        )
    )
    plan.state = to
    plan.state_changed_at = when
    plan.updated_at = when
    session.flush()
    return plan


def _has_goals(session: Session, plan: Plan) -> bool:
    return session.scalar(select(Goal.id).where(Goal.plan_id == plan.id).limit(1)) is not None


def history(session: Session, plan: Plan) -> list[tuple[PlanComment, str | None]]:
    """The plan's comments and moves, oldest first, with their authors' names."""
    rows = session.execute(
        select(PlanComment, User.name)
        .outerjoin(User, User.id == PlanComment.author_user_id)
        .where(PlanComment.plan_id == plan.id)
        .order_by(PlanComment.created_at, PlanComment.id)
    )
    return [(comment, name) for comment, name in rows]


@dataclass(frozen=True)
class CoursePlan:
    """A plan in the course's list, for its staff."""

    id: int
    title: str
    state: str
    owner_name: str | None
    goals: int
    updated_at: datetime


def course_plans(session: Session, viewer: Viewer) -> list[CoursePlan]:
    """The plans of the viewer's course (staff only), most recently changed first; one query."""
    course = viewer.course()
    viewer.require_staff()
    goals = select(Goal.plan_id, func.count(Goal.id).label("n")).group_by(Goal.plan_id).subquery()
    rows = session.execute(
        select(Plan, User.name, func.coalesce(goals.c.n, 0))
        .join(User, User.id == Plan.owner_user_id)
        .outerjoin(goals, goals.c.plan_id == Plan.id)
        .where(Plan.platform_id == viewer.platform_id, Plan.context_id == course)
        .order_by(Plan.updated_at.desc(), Plan.id.desc())
        .limit(MAX_COURSE_PLANS)
    )
    return [
        CoursePlan(plan.id, plan.title, plan.state, name, count, plan.updated_at)
        for plan, name, count in rows
    ]


def plan_ref(plan: Plan) -> ActivityRef:
    return ActivityRef("plan", str(plan.id), plan.title)


def find_plan(session: Session, platform_id: int, key: str) -> ActivityRef | None:
    """A plan of the platform by its key (its xAPI activity IRI), else None."""
    row_id = events.key_id(key)
    plan = session.get(Plan, row_id) if row_id is not None else None
    if plan is None or plan.platform_id != platform_id:
        return None
    return plan_ref(plan)
