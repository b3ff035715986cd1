"""JSON API of development plans: the same services and checks as the pages
(:mod:`plugin.performance.plans`). A plan that is not the viewer's (or, for staff, not of their
course) answers 404."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from plugin.access import Viewer
from plugin.api import Blueprint
from plugin.lti.models import User
from plugin.pages import course_read
from plugin.performance.plans import goals, plans
from plugin.performance.plans.models import Plan
from plugin.performance.plans.schemas import (
    CoursePlanSchema,
    GoalInputSchema,
    GoalSchema,
    GoalUpdateSchema,
    MoveSchema,
    PlanSchema,
)
from plugin.web import course_act, launch_required

blp = Blueprint(
    "plans_api",
    __name__,
    url_prefix="/api/plans",
    description="Development plans and their goals.",
)
SECURITY = [{"launchToken": []}]


def goal_json(view: goals.GoalView) -> dict[str, Any]:
    goal = view.goal
    return {
        "id": goal.id,
        "competency_id": view.competency.id,
        "competency_name": view.competency.name,
        "competency_code": view.competency.code,
        "competency_iri": view.competency.iri,
        "framework": view.framework,
        "target": goal.target_position,
        "target_name": view.target_name,
        "levels": view.levels,
        "due_on": goal.due_on,
        "why": goal.why,
        "state": goal.state,
        "progress": goal.progress,
        "needs_mentor": goal.needs_mentor,
    }


def plan_json(session: Session, who: Viewer, plan: Plan) -> dict[str, Any]:
    owner = session.get(User, plan.owner_user_id)
    return {
        **{c.key: getattr(plan, c.key) for c in Plan.__table__.columns},
        "owner_name": owner.name if owner is not None else None,
        "may_edit": plans.is_owner(who, plan),
        "moves": [m.to for m in plans.moves(who, plan)],
        "goals": [goal_json(v) for v in goals.plan_goals(session, plan)],
        "history": [
            {
                "id": c.id,
                "author": name,
                "body": c.body,
                "from_state": c.from_state,
                "to_state": c.to_state,
                "created_at": c.created_at,
            }
            for c, name in plans.history(session, plan)
        ],
    }


def _goal_of(session: Session, goal_id: int) -> dict[str, Any]:
    goal = session.get(goals.Goal, goal_id)
    (view,) = [v for v in goals.plan_goals(session, goal.plan) if v.goal.id == goal_id]
    return goal_json(view)


@blp.route("/course", methods=["GET"])
@blp.refusals(400, 403)
@blp.doc(security=SECURITY, summary="The plans of the viewer's course (course staff)")
@launch_required
@blp.response(200, CoursePlanSchema(many=True))
def course_plans() -> list[plans.CoursePlan]:
    session, who = course_read()
    return plans.course_plans(session, who)


@blp.route("/<int:plan_id>", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="A plan: its state, goals and history")
@launch_required
@blp.response(200, PlanSchema)
def get_plan(plan_id: int) -> dict[str, Any]:
    session, who = course_read()
    return plan_json(session, who, plans.get_plan(session, who, plan_id))


@blp.route("/<int:plan_id>/goals", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Add a goal to the viewer's plan")
@launch_required
@blp.arguments(GoalInputSchema)
@blp.response(201, GoalSchema)
def add_goal(data: dict[str, Any], plan_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        plan = plans.get_plan(session, who, plan_id)
        goal = goals.add_goal(session, who, plan, **data)
        return _goal_of(session, goal.id)


@blp.route("/goals/<int:goal_id>", methods=["PATCH"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Change a goal of the viewer's plan")
@launch_required
@blp.arguments(GoalUpdateSchema)
@blp.response(200, GoalSchema)
def update_goal(data: dict[str, Any], goal_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        goal = goals.get_goal(session, who, goal_id)
        goals.update_goal(session, who, goal, **data)
        return _goal_of(session, goal.id)


@blp.route("/goals/<int:goal_id>", methods=["DELETE"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Remove a goal of the viewer's plan")
@launch_required
@blp.response(204)
def remove_goal(goal_id: int) -> None:
    with course_act() as (session, who):
        goals.remove_goal(session, who, goals.get_goal(session, who, goal_id))


@blp.route("/<int:plan_id>/state", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(
    security=SECURITY,
    summary="Move the viewer's plan (draft → active → review requested, and back), with a comment",
)
@launch_required
@blp.arguments(MoveSchema)
@blp.response(200, PlanSchema)
def move_plan(data: dict[str, Any], plan_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        plan = plans.get_plan(session, who, plan_id)
        plans.move(session, who, plan, data["to"], data["comment"])
        return plan_json(session, who, plan)
