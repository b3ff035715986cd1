"""Development plan pages: thin server-rendered views over :mod:`plugin.performance.plans`.

Every page needs the launch token; every form carries it back as a hidden field and every POST
answers 303 back to its page. A refused act is a readable 4xx page with the service's message.
"""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.wrappers import Response

from plugin.access import Refusal
from plugin.pages import back, course_read, form_flag, id_or_none, render
from plugin.performance.plans import goals, plans
from plugin.performance.plans.models import WHY_CHARS
from plugin.web import course_act, current, launch_required

bp = Blueprint("plans", __name__, template_folder="templates")


def _target(value: str | None) -> int:
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 3:
        raise Refusal(400, "Choose the target level of the goal.")
    return int(value)


@bp.get("/plans")
@launch_required
def placement_plan() -> Response:
    """The launch's placement: the learner's own plan (made on first launch); course staff go
    to the course's plans."""
    cur = current()
    if cur.placement is None or cur.placement.widget != plans.WIDGET:
        raise Refusal(404, "This activity is not a development plan.", title="No plan here")
    with course_act() as (session, who):
        if who.staff:
            return back("plans.course_page")
        plan_id = plans.plan_for_placement(session, session.merge(cur.placement), who.user_id).id
    return back("plans.plan_page", plan_id=plan_id)


@bp.get("/plans/course")
@launch_required
def course_page() -> str:
    session, who = course_read()
    return render(
        "plans/course.html", plans=plans.course_plans(session, who), states=plans.STATE_LABELS
    )


@bp.get("/plans/<int:plan_id>")
@launch_required
def plan_page(plan_id: int) -> str:
    session, who = course_read()
    plan = plans.get_plan(session, who, plan_id)
    owner = plans.is_owner(who, plan)
    choices = goals.choices(session, plan.platform_id) if owner else []
    return render(
        "plans/plan.html",
        plan=plan,
        owner=owner,
        goals=goals.plan_goals(session, plan),
        choices=choices,
        levels=goals.target_options(choices),
        moves=plans.moves(who, plan),
        history=plans.history(session, plan),
        states=plans.STATE_LABELS,
        editable=owner and plan.state in plans.OWNER_MOVES,
        max_why=WHY_CHARS,
        saved=request.args.get("saved", ""),
    )


@bp.post("/plans/<int:plan_id>/goals")
@launch_required
def add_goal(plan_id: int) -> Response:
    form = request.form
    competency_id = id_or_none(form.get("competency_id"), "competency")
    if competency_id is None:
        raise Refusal(400, "Choose the competency of the goal.")
    values = {
        "competency_id": competency_id,
        "target": _target(form.get("target")),
        "due_on": form.get("due_on", ""),
        "why": form.get("why", ""),
        "needs_mentor": form_flag("needs_mentor"),
    }
    with course_act() as (session, who):
        plan = plans.get_plan(session, who, plan_id)
        goals.add_goal(session, who, plan, **values)
    return back("plans.plan_page", plan_id=plan_id, saved="goal")


@bp.route("/plans/goals/<int:goal_id>", methods=["GET", "POST"])
@launch_required
def goal_page(goal_id: int) -> str | Response:
    if request.method == "POST":
        form = request.form
        values = {
            "target": _target(form.get("target")),
            "due_on": form.get("due_on", ""),
            "why": form.get("why", ""),
            "needs_mentor": form_flag("needs_mentor"),
        }
        with course_act() as (session, who):
            goal = goals.get_goal(session, who, goal_id)
            goals.update_goal(session, who, goal, **values)
            plan_id = goal.plan_id
        return back("plans.plan_page", plan_id=plan_id, saved="edited")
    session, who = course_read()
    goal = goals.get_goal(session, who, goal_id)
    plans.check_owner(who, goal.plan)
    (view,) = [v for v in goals.plan_goals(session, goal.plan) if v.goal.id == goal_id]
    return render("plans/goal.html", view=view, plan=goal.plan, max_why=WHY_CHARS)


@bp.post("/plans/goals/<int:goal_id>/remove")
@launch_required
def remove_goal(goal_id: int) -> Response:
    with course_act() as (session, who):
        goal = goals.get_goal(session, who, goal_id)
        plan_id = goal.plan_id
        goals.remove_goal(session, who, goal)
    return back("plans.plan_page", plan_id=plan_id, saved="removed")


@bp.post("/plans/<int:plan_id>/state")
@launch_required
def move_plan(plan_id: int) -> Response:
    with course_act() as (session, who):
        plan = plans.get_plan(session, who, plan_id)
        plans.move(session, who, plan, request.form.get("to", ""), request.form.get("comment", ""))
    return back("plans.plan_page", plan_id=plan_id, saved="moved")
