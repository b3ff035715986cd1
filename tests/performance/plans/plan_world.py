"""Rows for the plan service tests: a course (tests.social.social_world.make_course: Lea, Leo,
Liv learners, Ines instructor) with a framework of three competencies on a four-level scale, a
second framework without a scale, and a Development plan placement; Lea's plan from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from plugin.lti.models import Placement
from plugin.performance.models import Competency, Framework
from plugin.performance.plans import plans
from plugin.performance.plans.models import Plan
from tests.social.mentoring.programme_world import make_framework
from tests.social.social_world import Course, make_course


@dataclass
class World:
    course: Course
    placement: Placement
    plan: Plan  # Lea's
    competencies: list[Competency]  # on the four-level scale
    unscaled: Competency  # of a framework without a scale (the default levels)

    def viewer(self, session: Session, name: str):
        return self.course.viewer(session, name)


def plan_world(session: Session, **settings: str) -> World:
    course = make_course(session)
    competencies = make_framework(
        session, course.platform.id, ("Coaching conversations", "Giving feedback", "Delegating")
    )
    key = uuid.uuid4().hex[:8]
    bare = Framework(
        platform_id=course.platform.id,
        uri=f"urn:uuid:{key}",
        identifier=key,
        title="Digital skills",
        source_kind="moodle-csv",
    )
    session.add(bare)
    session.flush()
    unscaled = Competency(
        framework_id=bare.id, uri=f"urn:uuid:{key}-0", identifier=f"{key}-0", name="Data literacy"
    )
    session.add(unscaled)
    placement = Placement(
        context_id=course.context.id,
        resource_link_id=f"rl-{uuid.uuid4().hex[:6]}",
        title="My development plan",
        widget="plan",
        settings=settings,
    )
    session.add(placement)
    session.flush()
    plan = plans.plan_for_placement(session, placement, course.users["lea"].id)
    session.commit()
    return World(course, placement, plan, competencies, unscaled)
