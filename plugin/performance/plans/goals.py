"""Goals of a development plan: a current competency of the platform's imported frameworks, a
target level on that competency's framework scale (the four default levels for a framework
without one), an optional due date (today or later) and why it matters. Adding a goal publishes
``plan.goal_set`` (the "Set a development goal" statement, competency in ``other``).

Only the plan's owner adds, edits and removes goals, while the plan is a draft, active or
waiting for a review; editing stops a plan from following its template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from plugin import events
from plugin.access import Refusal, Viewer, not_found
from plugin.db import utcnow
from plugin.events import ActivityRef, DomainEvent
from plugin.performance import links
from plugin.performance.models import Competency, Framework, Scale
from plugin.performance.plans.models import WHY_CHARS, Goal, Plan
from plugin.performance.plans.plans import (
    check_editable,
    check_owner,
    get_plan,
    plan_ref,
    touch,
)
from plugin.performance.scales import Level, scale_levels

MAX_GOALS = 50  # goals per plan
MAX_CHOICES = 500  # competencies the goal form offers
_UNSET = object()


def level_name(competency: Competency, position: int) -> str:
    for level in scale_levels(competency):
        if level.position == position:
            return level.name
    return f"Level {position}"


@dataclass(frozen=True)
class Choice:
    """A competency the goal form offers, with its scale."""

    competency: links.CompetencyInfo
    framework: str
    levels: tuple[Level, ...]


def choices(session: Session, platform_id: int) -> list[Choice]:
    """The platform's current competencies a goal may name (at most :data:`MAX_CHOICES`), by
    framework and order, with their scales; three queries whatever their number."""
    rows = session.scalars(
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.platform_id == platform_id, Competency.retired_at.is_(None))
        .options(
            selectinload(Competency.framework)
            .selectinload(Framework.scale)
            .selectinload(Scale.levels)
        )
        .order_by(Framework.id, Competency.sort_order, Competency.id)
        .limit(MAX_CHOICES)
    )
    return [Choice(links.CompetencyInfo.of(c), c.framework.title, scale_levels(c)) for c in rows]


def target_options(offered: list[Choice]) -> list[Level]:
    """The target levels the goal form offers for these competencies: every position of their
    scales, named by each scale's name for it ("2 — Developing · Competent" when two scales
    differ); a position a chosen competency's scale lacks is refused when the goal is added."""
    names: dict[int, list[str]] = {}
    for choice in offered:
        for level in choice.levels:
            found = names.setdefault(level.position, [])
            if level.name not in found:
                found.append(level.name)
    return [Level(position, " · ".join(names[position])) for position in sorted(names)]


def _competency(session: Session, plan: Plan, value: object) -> Competency:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refusal(400, "Choose the competency of the goal.")
    found = links.platform_competencies(session, plan.platform_id, [value]).get(value)
    if found is None or found.retired_at is not None:
        raise not_found("This competency")
    return found


def _target(competency: Competency, value: object) -> int:
    levels = scale_levels(competency)
    positions = [level.position for level in levels]
    if isinstance(value, bool) or not isinstance(value, int) or value not in positions:
        names = ", ".join(f"{level.position} ({level.name})" for level in levels)
        raise Refusal(400, f"Choose the target level on the scale of “{competency.name}”: {names}.")
    return value


def _due(value: object, today: date, kept: date | None = None) -> date | None:
    """A due date: none, or today or later (``kept``, the goal's date now, may stay as it is
    even once it has passed)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError as exc:
            raise Refusal(400, "Give the due date as a date (year-month-day).") from exc
    if not isinstance(value, date) or isinstance(value, datetime):
        raise Refusal(400, "Give the due date as a date (year-month-day).")
    if value < today and value != kept:
        raise Refusal(400, "The due date cannot be in the past: choose today or a later day.")
    return value


def _why(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refusal(400, "Say why the goal matters in words.")
    text = value.strip()
    if len(text) > WHY_CHARS:
        raise Refusal(400, f"“Why it matters” can be at most {WHY_CHARS:,} characters long.")
    return text


def goal_ref(goal: Goal, competency: Competency) -> ActivityRef:
    return ActivityRef("goal", str(goal.id), f"Goal: {competency.name}")


def add_goal(
    session: Session,
    viewer: Viewer,
    plan: Plan,
    *,
    competency_id: object,
    target: object,
    due_on: object = None,
    why: object = "",
    needs_mentor: bool = False,
    now: datetime | None = None,
) -> Goal:
    """The owner adds a goal (every value checked before anything changes) and ``plan.goal_set``
    is published in the same transaction. 409 when the plan has a goal for that competency
    already or has :data:`MAX_GOALS`."""
    check_owner(viewer, plan)
    check_editable(plan)
    when = now or utcnow()
    competency = _competency(session, plan, competency_id)
    values = {
        "target_position": _target(competency, target),
        "due_on": _due(due_on, when.date()),
        "why": _why(why),
    }
    present = session.execute(
        select(func.count(Goal.id), func.max(Goal.position)).where(Goal.plan_id == plan.id)
    ).one()
    if session.scalar(
        select(Goal.id).where(Goal.plan_id == plan.id, Goal.competency_id == competency.id)
    ):
        raise Refusal(
            409, f"The plan has a goal for “{competency.name}” already: edit that goal instead."
        )
    if present[0] >= MAX_GOALS:
        raise Refusal(409, f"A plan can have at most {MAX_GOALS} goals.")
    goal = Goal(
        plan_id=plan.id,
        competency_id=competency.id,
        needs_mentor=bool(needs_mentor),
        position=(present[1] or 0) + 1,
        created_at=when,
        updated_at=when,
        **values,
    )
    session.add(goal)
    touch(plan, when)
    session.flush()
    events.publish(
        session,
        DomainEvent(
            kind=events.GOAL_SET,
            identity=f"goal:{goal.id}:set",
            occurred_at=when,
            platform_id=plan.platform_id,
            actor_user_id=viewer.user_id,
            object=goal_ref(goal, competency),
            context_id=plan.context_id,
            placement_id=plan.placement_id,
            parents=(plan_ref(plan),),
            data={"competencies": [{"iri": competency.uri, "name": competency.name}]},
        ),
    )
    return goal


def get_goal(session: Session, viewer: Viewer, goal_id: int) -> Goal:
    """A goal of a plan the viewer may read (404 otherwise)."""
    goal = session.get(Goal, goal_id)
    if goal is None:
        raise not_found("This goal")
    try:
        get_plan(session, viewer, goal.plan_id)
    except Refusal as exc:
        raise not_found("This goal") from exc
    return goal


def update_goal(
    session: Session,
    viewer: Viewer,
    goal: Goal,
    *,
    target: object = _UNSET,
    due_on: object = _UNSET,
    why: object = _UNSET,
    needs_mentor: object = _UNSET,
    now: datetime | None = None,
) -> Goal:
    """The owner changes a goal's target, due date, why or "needs a mentor" (only the values
    given; all checked before any is set). Its competency stays: remove the goal and add
    another for a different one."""
    plan = goal.plan
    check_owner(viewer, plan)
    check_editable(plan)
    when = now or utcnow()
    changes: dict[str, object] = {}
    if target is not _UNSET:
        changes["target_position"] = _target(goal.competency, target)
    if due_on is not _UNSET:
        changes["due_on"] = _due(due_on, when.date(), kept=goal.due_on)
    if why is not _UNSET:
        changes["why"] = _why(why)
    if needs_mentor is not _UNSET:
        if not isinstance(needs_mentor, bool):
            raise Refusal(400, "Say whether the goal needs a mentor.")
        changes["needs_mentor"] = needs_mentor
    for name, value in changes.items():
        setattr(goal, name, value)
    goal.updated_at = when
    touch(plan, when)
    session.flush()
    return goal


def remove_goal(
    session: Session, viewer: Viewer, goal: Goal, *, now: datetime | None = None
) -> None:
    """The owner removes a goal (with its activities, experiences and evidence shares; the
    evidence rows and ratings stay: they are the learner's record)."""
    plan = goal.plan
    check_owner(viewer, plan)
    check_editable(plan)
    session.delete(goal)
    touch(plan, now or utcnow())
    session.flush()


@dataclass(frozen=True)
class GoalView:
    """A goal as the plan page shows it."""

    goal: Goal
    competency: links.CompetencyInfo
    framework: str
    target_name: str
    levels: tuple[Level, ...]


def plan_goals(session: Session, plan: Plan) -> list[GoalView]:
    """The plan's goals in order with their competencies and scales (a fixed number of
    queries, whatever the number of goals)."""
    rows = session.scalars(
        select(Goal)
        .where(Goal.plan_id == plan.id)
        .options(
            selectinload(Goal.competency)
            .selectinload(Competency.framework)
            .selectinload(Framework.scale)
            .selectinload(Scale.levels)
        )
        .order_by(Goal.position, Goal.id)
    )
    return [
        GoalView(
            goal,
            links.CompetencyInfo.of(goal.competency),
            goal.competency.framework.title,
            level_name(goal.competency, goal.target_position),
            scale_levels(goal.competency),
        )
        for goal in rows
    ]


def find_goal(session: Session, platform_id: int, key: str) -> ActivityRef | None:
    """A goal of the platform by its key (its xAPI activity IRI), else None."""
    row_id = events.key_id(key)
    goal = session.get(Goal, row_id) if row_id is not None else None
    if goal is None or goal.plan.platform_id != platform_id:
        return None
    return goal_ref(goal, goal.competency)
