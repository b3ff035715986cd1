"""Plan and goal services: the plan a link opens (once per learner), who may read and change it,
goals on the platform's competencies with targets on their scale, ``plan.goal_set`` with its
competency, the owner's workflow with comments, and the course's plans for staff."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from plugin import events
from plugin.access import Refusal
from plugin.db import utcnow
from plugin.performance.models import Evidence
from plugin.performance.plans import goals, plans
from plugin.performance.plans.models import Goal, Plan, PlanComment
from plugin.xapi import vocabulary as vocab
from plugin.xapi.models import XapiOutbox
from plugin.xapi.validate import validate_statement
from tests.performance.plans.plan_world import plan_world
from tests.social.mentoring.programme_world import make_framework
from tests.social.social_world import count_queries, make_course


def _refused(status: int, call, *args, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as err:
        call(*args, **kwargs)
    assert err.value.status == status, err.value.message
    return err.value


def test_a_link_makes_each_learners_plan_once_as_a_draft(db) -> None:
    world = plan_world(db, share_evidence="shared")
    plan = world.plan
    assert (plan.state, plan.title, plan.edited_by_owner) == ("draft", "My development plan", False)
    assert plan.share_by_default is True and plan.context_id == world.course.context.id
    lea, leo = world.course.users["lea"].id, world.course.users["leo"].id
    assert plans.plan_for_placement(db, world.placement, lea).id == plan.id
    other = plans.plan_for_placement(db, world.placement, leo)
    assert other.id != plan.id and other.owner_user_id == leo
    assert db.scalar(select(func.count()).select_from(Plan)) == 2
    assert plan_world(db).plan.share_by_default is False  # private unless the link says so


def test_a_plan_is_its_owners_and_its_course_staffs_to_read(db) -> None:
    world = plan_world(db)
    lea, leo, ines = (world.viewer(db, n) for n in ("lea", "leo", "ines"))
    assert plans.get_plan(db, lea, world.plan.id) is world.plan
    assert plans.get_plan(db, ines, world.plan.id) is world.plan  # staff read
    _refused(404, plans.get_plan, db, leo, world.plan.id)  # another learner
    _refused(404, plans.get_plan, db, lea, world.plan.id + 999)
    elsewhere = make_course(db, context_key="c-202")  # another platform's course
    _refused(404, plans.get_plan, db, elsewhere.viewer(db, "ines"), world.plan.id)
    same_platform = make_course(db, platform=world.course.platform, context_key="c-303")
    _refused(404, plans.get_plan, db, same_platform.viewer(db, "ines"), world.plan.id)
    # staff read, they do not change it
    c = world.competencies[0]
    _refused(403, goals.add_goal, db, ines, world.plan, competency_id=c.id, target=3)
    _refused(403, plans.move, db, ines, world.plan, "active")
    assert plans.moves(ines, world.plan) == []


def test_adding_a_goal_checks_every_value_and_publishes_goal_set(db) -> None:
    world = plan_world(db)
    lea, plan = world.viewer(db, "lea"), world.plan
    coaching = world.competencies[0]
    now = utcnow()
    bad = [
        ({"competency_id": "x", "target": 3}, 400),
        ({"competency_id": 999_999, "target": 3}, 404),
        ({"competency_id": coaching.id, "target": 5}, 400),  # the scale has four levels
        ({"competency_id": coaching.id, "target": 0}, 400),
        ({"competency_id": coaching.id, "target": True}, 400),
        ({"competency_id": coaching.id, "target": 3, "due_on": "2020-01-01"}, 400),
        ({"competency_id": coaching.id, "target": 3, "due_on": "soon"}, 400),
        ({"competency_id": coaching.id, "target": 3, "why": "x" * 2001}, 400),
    ]
    for values, status in bad:
        _refused(status, goals.add_goal, db, lea, plan, now=now, **values)
    assert db.scalar(select(func.count()).select_from(Goal)) == 0
    assert db.scalar(select(func.count()).select_from(XapiOutbox)) == 0
    message = _refused(400, goals.add_goal, db, lea, plan, competency_id=coaching.id, target=9)
    assert "4 (Expert)" in message.message  # says which levels there are
    due = (now + timedelta(days=90)).date()
    goal = goals.add_goal(
        db,
        lea,
        plan,
        competency_id=coaching.id,
        target=3,
        due_on=due.isoformat(),
        why=" Lead my team's one-to-ones. ",
        needs_mentor=True,
        now=now,
    )
    db.commit()
    assert (goal.target_position, goal.due_on, goal.why) == (3, due, "Lead my team's one-to-ones.")
    assert goal.needs_mentor and goal.state == "open" and plan.edited_by_owner
    today = goals.add_goal(
        db, lea, plan, competency_id=world.unscaled.id, target=4, due_on=now.date(), now=now
    )  # the default scale's four levels; due today is fine
    assert today.position == goal.position + 1
    _refused(409, goals.add_goal, db, lea, plan, competency_id=coaching.id, target=2)
    # one statement per goal: planned, the goal in its plan, the competency in "other"
    rows = {r.object_id.rsplit("/", 1)[-1]: r for r in db.scalars(select(XapiOutbox))}
    assert set(rows) == {str(goal.id), str(today.id)}
    statement = rows[str(goal.id)].statement
    validate_statement(statement)
    assert statement["verb"]["id"] == vocab.Verbs.PLANNED.iri
    assert statement["object"]["id"].endswith(f"/goal/{goal.id}")
    context = statement["context"]["contextActivities"]
    assert context["parent"][0]["id"].endswith(f"/plan/{plan.id}")
    assert [a["id"] for a in context["other"] if a["id"] == coaching.uri] == [coaching.uri]
    assert "Lead my team" not in str(statement)  # why it matters is private
    # setting a goal is not evidence of learning
    assert db.scalar(select(func.count()).select_from(Evidence)) == 0
    assert events.GOAL_SET == "plan.goal_set"


def test_a_retired_or_other_platforms_competency_is_not_found(db) -> None:
    world = plan_world(db)
    lea = world.viewer(db, "lea")
    elsewhere = make_course(db, context_key="c-9")
    (foreign,) = make_framework(db, elsewhere.platform.id, ("Foreign",))
    _refused(404, goals.add_goal, db, lea, world.plan, competency_id=foreign.id, target=1)
    retired = world.competencies[2]
    retired.retired_at = utcnow()
    db.flush()
    _refused(404, goals.add_goal, db, lea, world.plan, competency_id=retired.id, target=1)
    offered = {c.competency.id for c in goals.choices(db, world.plan.platform_id)}
    assert retired.id not in offered and foreign.id not in offered
    assert {world.competencies[0].id, world.unscaled.id} <= offered


def test_editing_and_removing_goals(db) -> None:
    world = plan_world(db)
    lea, leo, plan = world.viewer(db, "lea"), world.viewer(db, "leo"), world.plan
    now = utcnow()
    goal = goals.add_goal(
        db, lea, plan, competency_id=world.competencies[0].id, target=2, why="a", now=now
    )
    db.commit()
    assert goals.get_goal(db, lea, goal.id) is goal
    _refused(404, goals.get_goal, db, leo, goal.id)
    _refused(400, goals.update_goal, db, lea, goal, target=7, why="kept?")
    _refused(400, goals.update_goal, db, lea, goal, due_on=date(2001, 1, 1))
    _refused(400, goals.update_goal, db, lea, goal, needs_mentor="yes")
    db.refresh(goal)
    assert (goal.target_position, goal.why) == (2, "a")  # nothing changed
    goals.update_goal(db, lea, goal, target=4, why="b", due_on=None, needs_mentor=True)
    assert (goal.target_position, goal.why, goal.needs_mentor) == (4, "b", True)
    ines = world.viewer(db, "ines")
    _refused(403, goals.update_goal, db, ines, goal, target=1)
    _refused(403, goals.remove_goal, db, ines, goal)
    # a due date that has passed since may stay as it is (the edit form sends it back)
    goal.due_on = date(2020, 5, 1)
    db.flush()
    goals.update_goal(db, lea, goal, due_on="2020-05-01", why="c")
    assert (goal.due_on, goal.why) == (date(2020, 5, 1), "c")
    _refused(400, goals.update_goal, db, lea, goal, due_on="2020-05-02")
    goals.remove_goal(db, lea, goal)
    db.commit()
    assert db.get(Goal, goal.id) is None


def test_the_owners_workflow_with_comments(db) -> None:
    world = plan_world(db)
    lea, plan = world.viewer(db, "lea"), world.plan
    assert [m.to for m in plans.moves(lea, plan)] == ["active"]
    _refused(409, plans.move, db, lea, plan, "review_requested")  # a draft goes active first
    _refused(409, plans.move, db, lea, plan, "complete")  # a reviewer's move, not the owner's
    _refused(400, plans.move, db, lea, plan, "finished")
    _refused(400, plans.move, db, lea, plan, "active", "x" * 2001)
    assert plan.state == "draft"
    plans.move(db, lea, plan, "active", "Starting now")
    _refused(409, plans.move, db, lea, plan, "review_requested")  # no goal yet
    goals.add_goal(db, lea, plan, competency_id=world.competencies[1].id, target=3)
    plans.move(db, lea, plan, "review_requested", "Please look at my feedback goal.")
    db.commit()
    assert plan.state == "review_requested"
    assert [m.to for m in plans.moves(lea, plan)] == ["active"]
    history = plans.history(db, plan)
    assert [(c.from_state, c.to_state, c.body, name) for c, name in history] == [
        ("draft", "active", "Starting now", "Lea Learner"),
        ("active", "review_requested", "Please look at my feedback goal.", "Lea Learner"),
    ]
    # while a reviewer has it, goals do not change
    plan.state = "in_review"
    db.flush()
    _refused(409, goals.add_goal, db, lea, plan, competency_id=world.competencies[0].id, target=1)
    assert plans.moves(lea, plan) == []
    assert db.scalar(select(func.count()).select_from(PlanComment)) == 2


def test_course_staff_list_their_courses_plans_in_a_fixed_number_of_queries(app, db) -> None:
    world = plan_world(db)
    lea = world.viewer(db, "lea")
    for c in world.competencies:
        goals.add_goal(db, lea, world.plan, competency_id=c.id, target=2)
    for name in ("leo", "liv"):
        plans.plan_for_placement(db, world.placement, world.course.users[name].id)
    db.commit()
    ines = world.viewer(db, "ines")
    with count_queries(app) as seen:
        listed = plans.course_plans(db, ines)
    assert len(seen) == 1
    assert {p.owner_name: p.goals for p in listed} == {
        "Lea Learner": 3,
        "Leo Learner": 0,
        "Liv Learner": 0,
    }
    _refused(403, plans.course_plans, db, lea)
    other = make_course(db, platform=world.course.platform, context_key="c-404")
    assert plans.course_plans(db, other.viewer(db, "ines")) == []


def test_a_plans_goals_load_in_a_fixed_number_of_queries(app, db) -> None:
    world = plan_world(db)
    lea = world.viewer(db, "lea")
    more = make_framework(db, world.course.platform.id, tuple(f"Skill {i}" for i in range(12)))
    for c in [*world.competencies, *more, world.unscaled]:
        goals.add_goal(db, lea, world.plan, competency_id=c.id, target=1)
    db.commit()
    db.expire_all()
    plan = db.get(Plan, world.plan.id)
    with count_queries(app) as seen:
        views = goals.plan_goals(db, plan)
        names = [v.target_name for v in views]
    assert len(views) == 16 and names[0] == "Aware" and names[-1] == "Beginning"
    assert len(seen) <= 5, seen


def test_the_widgets_deep_linking_settings() -> None:
    from plugin.performance.plans.widget import custom_parameters

    assert custom_parameters({}, True) == {}  # defaults are left out
    assert (
        custom_parameters({"plan_share_evidence": "private", "plan_ags_completion": "off"}, True)
        == {}
    )
    assert custom_parameters(
        {"plan_share_evidence": "shared", "plan_ags_completion": "on"}, True
    ) == {"setting_share_evidence": "shared", "setting_ags_completion": "on"}
    for form, lineitem_ok in (
        ({"plan_share_evidence": "everyone"}, True),
        ({"plan_ags_completion": "maybe"}, True),
        ({"plan_ags_completion": "on"}, False),  # the platform takes no gradebook column
    ):
        with pytest.raises(Refusal) as err:
            custom_parameters(form, lineitem_ok)
        assert err.value.status == 400 and "development plan settings" in err.value.title


def test_the_goal_form_offers_every_scales_levels(db) -> None:
    world = plan_world(db)
    offered = goals.choices(db, world.plan.platform_id)
    levels = goals.target_options(offered)
    assert [(level.position, level.name) for level in levels] == [
        (1, "Aware · Beginning"),
        (2, "Practising · Developing"),
        (3, "Skilled · Proficient"),
        (4, "Expert · Advanced"),
    ]


def test_plan_and_goal_iris_resolve_on_their_platform_only(db) -> None:
    world = plan_world(db)
    lea = world.viewer(db, "lea")
    goal = goals.add_goal(db, lea, world.plan, competency_id=world.competencies[0].id, target=1)
    db.commit()
    platform = world.course.platform.id
    found = events.find_activity(db, platform, "goal", str(goal.id))
    assert found is not None and found.name == "Goal: Coaching conversations"
    plan = events.find_activity(db, platform, "plan", str(world.plan.id))
    assert plan is not None and plan.name == "My development plan"
    other = make_course(db, context_key="c-x").platform.id
    assert events.find_activity(db, other, "goal", str(goal.id)) is None
    assert events.find_activity(db, other, "plan", str(world.plan.id)) is None
    assert events.find_activity(db, platform, "goal", "2147483648") is None
