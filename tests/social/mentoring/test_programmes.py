"""Programmes: made from the placement's settings, found only in their course (or, platform-wide,
through a link of the course), changed by staff only, targeting the platform's competencies."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from plugin.access import Refusal
from plugin.lti.models import Placement
from plugin.social.mentoring import programmes
from plugin.social.mentoring.models import Programme, ProgrammePlacement
from tests.social.mentoring.programme_world import make_framework, programme_world
from tests.social.social_world import make_course


def test_a_placement_makes_its_programme_once_from_its_settings(db) -> None:
    world = programme_world(
        db,
        kind="group",
        matching="mentor_pool",
        cadence_days="14",
        default_capacity="many",  # a bad value falls back to the default
        enrolment="closed",
    )
    p = world.programme
    assert (p.kind, p.matching, p.cadence_days) == ("group", "mentor_pool", 14)
    assert p.default_capacity == programmes.DEFAULT_CAPACITY
    assert p.duration_days == programmes.DEFAULT_DURATION_DAYS
    assert p.enrolment_open is False and p.who_mentors == "anyone"
    assert p.title == "Leadership mentoring" and p.context_id == world.course.context.id
    placement = db.scalars(select(Placement).where(Placement.widget == "mentoring")).one()
    assert programmes.programme_for_placement(db, placement).id == p.id
    assert db.scalar(select(func.count()).select_from(Programme)) == 1


def test_unknown_kind_and_matching_fall_back_to_defaults(db) -> None:
    p = programme_world(db, kind="trio", matching="lottery", duration_days="5").programme
    assert (p.kind, p.matching) == ("one_to_one", "mentee_choice")
    assert p.duration_days == programmes.DEFAULT_DURATION_DAYS  # 5 is below the 7-day floor


def test_another_course_does_not_find_the_programme(db) -> None:
    world = programme_world(db)
    other = make_course(db, platform=world.course.platform, context_key="c-202")
    db.commit()
    with pytest.raises(Refusal) as refused:
        programmes.get_programme(db, other.viewer(db, "lea"), world.programme.id)
    assert refused.value.status == 404
    assert programmes.get_programme(db, world.viewer(db, "lea"), world.programme.id)


def test_a_platform_wide_programme_is_found_through_a_link_of_the_course(db) -> None:
    world = programme_world(db)
    platform = world.course.platform
    wide = Programme(
        platform_id=platform.id,
        context_id=None,
        title="Women in leadership",
        duration_days=365,
        cadence_days=30,
        default_capacity=2,
        escalation_hours=72,
    )
    db.add(wide)
    other = make_course(db, platform=platform, context_key="c-303")
    db.flush()
    db.add(ProgrammePlacement(placement_id=other.placement.id, programme_id=wide.id))
    db.commit()
    assert programmes.get_programme(db, other.viewer(db, "lea"), wide.id).id == wide.id
    with pytest.raises(Refusal) as refused:  # no link of this course opens it
        programmes.get_programme(db, world.viewer(db, "lea"), wide.id)
    assert refused.value.status == 404
    # course staff do not manage it; the platform's administrators do
    with pytest.raises(Refusal) as refused:
        programmes.update_settings(db, other.viewer(db, "ines"), wide, cadence_days=7)
    assert refused.value.status == 403


def test_staff_change_the_settings_and_learners_cannot(db) -> None:
    world = programme_world(db)
    p = world.programme
    with pytest.raises(Refusal) as refused:
        programmes.update_settings(db, world.viewer(db, "lea"), p, cadence_days=7)
    assert refused.value.status == 403
    ines = world.viewer(db, "ines")
    programmes.update_settings(
        db,
        ines,
        p,
        title="  Team   leads ",
        kind="peer",
        matching="staff_bulk",
        cadence_days="7",
        enrolment_open=False,
        exclude_lti_mentor="1",
    )
    assert (p.title, p.kind, p.matching, p.cadence_days) == ("Team leads", "peer", "staff_bulk", 7)
    assert p.enrolment_open is False and p.exclude_lti_mentor is True


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"cadence_days": "0"}, 400),
        ({"cadence_days": "weekly"}, 400),
        ({"duration_days": 5000}, 400),
        ({"kind": "trio"}, 400),
        ({"matching": None}, 400),
        ({"who_mentors": "course_group"}, 400),  # without a group
        ({"title": "   "}, 400),
        ({"colour": "blue"}, 400),
        ({"mentor_group_id": 2**31 - 1}, 404),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(db, changes, status) -> None:
    world = programme_world(db)
    p = world.programme
    before = (p.title, p.kind, p.matching, p.cadence_days, p.duration_days, p.who_mentors)
    with pytest.raises(Refusal) as refused:
        programmes.update_settings(
            db, world.viewer(db, "ines"), p, **{"cadence_days": "21", **changes}
        )
    assert refused.value.status == status
    assert (p.title, p.kind, p.matching, p.cadence_days, p.duration_days, p.who_mentors) == before


def test_mentors_from_a_course_group_need_a_group_of_that_course(db) -> None:
    world = programme_world(db)
    other = make_course(db, platform=world.course.platform, context_key="c-404")
    db.commit()
    ines = world.viewer(db, "ines")
    with pytest.raises(Refusal) as refused:
        programmes.update_settings(
            db,
            ines,
            world.programme,
            who_mentors="course_group",
            mentor_group_id=other.groups["red"].id,
        )
    assert refused.value.status == 404
    red = world.course.groups["red"].id
    programmes.update_settings(
        db, ines, world.programme, who_mentors="course_group", mentor_group_id=red
    )
    assert world.programme.mentor_group_id == red


def test_targets_come_from_the_platforms_frameworks(db) -> None:
    world = programme_world(db)
    ines = world.viewer(db, "ines")
    first, second, _ = world.competencies
    chosen = programmes.set_targets(db, ines, world.programme, [second.id, first.id, second.id])
    assert [t.competency.id for t in chosen] == [first.id, second.id]  # framework order, once
    assert [lv.name for lv in chosen[0].levels] == ["Aware", "Practising", "Skilled", "Expert"]
    other = make_course(db, context_key=f"c-{uuid.uuid4().hex[:4]}")  # another platform
    (foreign,) = make_framework(db, other.platform.id, ("Elsewhere",))
    db.commit()
    with pytest.raises(Refusal) as refused:
        programmes.set_targets(db, ines, world.programme, [first.id, foreign.id])
    assert refused.value.status == 404
    assert [t.competency.id for t in programmes.targets(db, world.programme)] == [
        first.id,
        second.id,
    ]
    with pytest.raises(Refusal) as refused:
        programmes.set_targets(db, world.viewer(db, "lea"), world.programme, [first.id])
    assert refused.value.status == 403
    assert all(c.id != foreign.id for c in programmes.competency_choices(db, ines, world.programme))
