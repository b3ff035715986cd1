"""Rows for the programme and profile tests: a course (tests.social.social_world.make_course)
with a framework of three competencies on a four-level scale, and a Mentoring placement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from plugin.lti import roles
from plugin.lti.models import Membership, Placement, User
from plugin.performance.models import Competency, Framework, Scale, ScaleLevel
from plugin.social.mentoring import programmes
from plugin.social.mentoring.models import Programme
from tests.social.social_world import Course, make_course

LEVELS = ("Aware", "Practising", "Skilled", "Expert")


def make_framework(session: Session, platform_id: int, names: tuple[str, ...]) -> list[Competency]:
    """A framework with these competencies, on a four-level scale."""
    scale = Scale(
        platform_id=platform_id,
        name="Four levels",
        source="moodle-csv",
        proficient_position=3,
        levels=[ScaleLevel(position=i, name=n) for i, n in enumerate(LEVELS, start=1)],
    )
    session.add(scale)
    session.flush()
    key = uuid.uuid4().hex[:8]
    framework = Framework(
        platform_id=platform_id,
        uri=f"urn:uuid:{key}",
        identifier=key,
        title="Leadership",
        source_kind="moodle-csv",
        scale_id=scale.id,
    )
    session.add(framework)
    session.flush()
    found = []
    for i, name in enumerate(names):
        competency = Competency(
            framework_id=framework.id,
            uri=f"urn:uuid:{key}-{i}",
            identifier=f"{key}-{i}",
            name=name,
            sort_order=i,
        )
        session.add(competency)
        found.append(competency)
    session.flush()
    return found


@dataclass
class World:
    course: Course
    programme: Programme
    competencies: list[Competency]

    def viewer(self, session: Session, name: str):
        return self.course.viewer(session, name)


def programme_world(session: Session, **settings: str) -> World:
    """A course with Lea, Leo (red group), Liv (blue), Ines (instructor) and Grace (LTI Mentor),
    a framework of three competencies, and the programme of a Mentoring placement made with
    ``settings``."""
    course = make_course(session)
    grace = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub=f"grace-{uuid.uuid4().hex[:6]}",
        name="Grace Mentor",
    )
    session.add(grace)
    session.flush()
    session.add(Membership(context_id=course.context.id, user_id=grace.id, roles=[roles.MENTOR]))
    course.users["grace"] = grace
    competencies = make_framework(
        session, course.platform.id, ("Coaching conversations", "Giving feedback", "Delegating")
    )
    placement = Placement(
        context_id=course.context.id,
        resource_link_id=f"rl-{uuid.uuid4().hex[:6]}",
        title="Leadership mentoring",
        widget="mentoring",
        settings=settings,
    )
    session.add(placement)
    session.flush()
    programme = programmes.programme_for_placement(session, placement)
    session.commit()
    return World(course, programme, competencies)
