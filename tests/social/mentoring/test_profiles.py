"""Profiles: opting in as mentor and/or mentee with levels on the framework's scale, the checks
on every field, who may mentor, closed enrolment, leaving, nominations and the staff roster."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from plugin.access import Refusal
from plugin.social.mentoring import profiles, programmes
from plugin.social.mentoring.models import Profile, ProfileCompetency
from tests.social.mentoring.programme_world import make_framework, programme_world
from tests.social.social_world import make_course


def _rows(db) -> tuple[int, int]:
    return (
        db.scalar(select(func.count()).select_from(Profile)),
        db.scalar(select(func.count()).select_from(ProfileCompetency)),
    )


def test_opt_in_as_mentor_and_mentee_with_levels(db) -> None:
    world = programme_world(db)
    coaching, feedback, _ = world.competencies
    profile = profiles.save_profile(
        db,
        world.viewer(db, "lea"),
        world.programme,
        as_mentor=True,
        as_mentee=True,
        mentor_levels={coaching.id: 4},
        mentee_needs={feedback.id: (0, 2)},
        capacity=3,
        time_zone="Europe/Paris",
        availability=[[2, 18, 20], [0, 9, 10], [2, 18, 20]],
        languages=["EN-gb", "fr", "en-GB"],
        bio="  Ten years of leading teams.  ",
        goals="Give clearer feedback.",
    )
    db.commit()
    assert (profile.is_mentor, profile.is_mentee, profile.capacity) == (True, True, 3)
    assert profile.availability == [[0, 9, 10], [2, 18, 20]]  # in order, once
    assert profile.languages == ["en-GB", "fr"]
    assert profile.bio == "Ten years of leading teams."
    rated = {(pc.competency_id, pc.role): (pc.level, pc.target) for pc in profile.competencies}
    assert rated == {(coaching.id, "mentor"): (4, None), (feedback.id, "mentee"): (0, 2)}
    # an update replaces the competencies; the default capacity applies when none is given
    profiles.save_profile(
        db,
        world.viewer(db, "lea"),
        world.programme,
        as_mentor=True,
        as_mentee=False,
        mentor_levels={coaching.id: 3, feedback.id: 2},
    )
    db.commit()
    again = profiles.my_profile(db, world.viewer(db, "lea"), world.programme)
    assert again.id == profile.id and again.is_mentee is False
    assert again.capacity == world.programme.default_capacity
    assert sorted((pc.competency_id, pc.level) for pc in again.competencies) == sorted(
        [(coaching.id, 3), (feedback.id, 2)]
    )


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"as_mentor": False, "as_mentee": False}, 400, "mentor, a mentee or both"),
        ({"mentor_levels": {"c0": 5}}, 400, "from 1 to 4"),  # above the scale's top
        ({"mentor_levels": {"c0": 0}}, 400, "from 1 to 4"),
        ({"mentee_needs": {"c1": (2, 2)}}, 400, "target is above it"),
        ({"mentee_needs": {"c1": (0, 5)}}, 400, "target is above it"),
        ({"mentee_needs": {"c1": ("1", 3)}}, 400, "target is above it"),
        ({"mentor_levels": {2**31 - 1: 1}}, 404, "competency"),
        ({"time_zone": "Paris"}, 400, "time zone"),
        ({"time_zone": "Europe/Atlantis"}, 400, "time zone"),
        ({"languages": ["english"]}, 400, "language tag"),
        ({"languages": ["en", "xx-QQQ"]}, 400, "language tag"),
        ({"availability": [[7, 9, 10]]}, 400, "start before it ends"),
        ({"availability": [[1, 10, 9]]}, 400, "start before it ends"),
        ({"availability": [[1, 9]]}, 400, "a day, a start hour"),
        ({"availability": [[1, True, 9]]}, 400, "a day, a start hour"),
        ({"capacity": 0}, 400, "Capacity"),
        ({"capacity": 21}, 400, "Capacity"),
        ({"bio": "x" * (profiles.MAX_BIO_CHARS + 1)}, 400, "at most"),
        ({"goals": "a\x00b"}, 400, "NUL"),
    ],
)
def test_bad_profiles_are_refused_and_write_nothing(db, fields, status, words) -> None:
    world = programme_world(db)
    ids = {f"c{i}": c.id for i, c in enumerate(world.competencies)}

    def real(mapping):
        return {ids.get(k, k): v for k, v in mapping.items()}

    values = {"as_mentor": True, "as_mentee": True, **fields}
    for name in ("mentor_levels", "mentee_needs"):
        if name in values:
            values[name] = real(values[name])
    before = _rows(db)
    with pytest.raises(Refusal) as refused:
        profiles.save_profile(db, world.viewer(db, "lea"), world.programme, **values)
    assert refused.value.status == status and words in refused.value.message
    db.rollback()
    assert _rows(db) == before


def test_competencies_outside_the_targets_or_the_platform_are_refused(db) -> None:
    world = programme_world(db)
    coaching, feedback, _ = world.competencies
    programmes.set_targets(db, world.viewer(db, "ines"), world.programme, [coaching.id])
    other = make_course(db, context_key="c-elsewhere")
    (foreign,) = make_framework(db, other.platform.id, ("Elsewhere",))
    db.commit()
    lea = world.viewer(db, "lea")
    with pytest.raises(Refusal) as refused:
        profiles.save_profile(
            db,
            lea,
            world.programme,
            as_mentor=True,
            as_mentee=False,
            mentor_levels={feedback.id: 2},
        )
    assert refused.value.status == 400 and "targets" in refused.value.message
    with pytest.raises(Refusal) as refused:
        profiles.save_profile(
            db, lea, world.programme, as_mentor=True, as_mentee=False, mentor_levels={foreign.id: 2}
        )
    assert refused.value.status == 404


def test_lti_mentor_programmes_take_mentors_with_the_mentor_role_only(db) -> None:
    world = programme_world(db)
    programmes.update_settings(
        db, world.viewer(db, "ines"), world.programme, who_mentors="lti_mentor"
    )
    db.commit()
    with pytest.raises(Refusal) as refused:
        profiles.save_profile(
            db, world.viewer(db, "lea"), world.programme, as_mentor=True, as_mentee=False
        )
    assert refused.value.status == 403 and "Mentor role" in refused.value.message
    grace = world.viewer(db, "grace")
    assert profiles.may_mentor(grace, world.programme, None)
    assert profiles.save_profile(db, grace, world.programme, as_mentor=True, as_mentee=False)
    # a learner may still be a mentee
    assert profiles.save_profile(
        db, world.viewer(db, "lea"), world.programme, as_mentor=False, as_mentee=True
    )


def test_staff_nominated_programmes_take_nominated_mentors_only(db) -> None:
    world = programme_world(db)
    ines = world.viewer(db, "ines")
    programmes.update_settings(db, ines, world.programme, who_mentors="staff_nominated")
    db.commit()
    leo = world.viewer(db, "leo")
    with pytest.raises(Refusal) as refused:
        profiles.save_profile(db, leo, world.programme, as_mentor=True, as_mentee=False)
    assert refused.value.status == 403 and "nominated" in refused.value.message
    with pytest.raises(Refusal) as refused:  # only staff nominate
        profiles.nominate(db, world.viewer(db, "lea"), world.programme, leo.user_id)
    assert refused.value.status == 403
    nominated = profiles.nominate(db, ines, world.programme, leo.user_id)
    assert nominated.nominated and nominated.is_mentor
    db.commit()
    coaching = world.competencies[0]
    saved = profiles.save_profile(
        db, leo, world.programme, as_mentor=True, as_mentee=False, mentor_levels={coaching.id: 3}
    )
    assert saved.id == nominated.id and saved.nominated
    other = make_course(db, platform=world.course.platform, context_key="c-505")
    db.commit()
    with pytest.raises(Refusal) as refused:  # someone of another course
        profiles.nominate(db, ines, world.programme, other.users["lea"].id)
    assert refused.value.status == 404


def test_course_group_programmes_take_that_groups_members(db) -> None:
    world = programme_world(db)
    programmes.update_settings(
        db,
        world.viewer(db, "ines"),
        world.programme,
        who_mentors="course_group",
        mentor_group_id=world.course.groups["red"].id,
    )
    db.commit()
    with pytest.raises(Refusal) as refused:  # Liv is in blue
        profiles.save_profile(
            db, world.viewer(db, "liv"), world.programme, as_mentor=True, as_mentee=False
        )
    assert refused.value.status == 403
    assert profiles.save_profile(
        db, world.viewer(db, "leo"), world.programme, as_mentor=True, as_mentee=False
    )


def test_closed_enrolment_refuses_new_profiles_and_new_roles(db) -> None:
    world = programme_world(db)
    profiles.save_profile(
        db, world.viewer(db, "lea"), world.programme, as_mentor=False, as_mentee=True
    )
    programmes.update_settings(db, world.viewer(db, "ines"), world.programme, enrolment_open=False)
    db.commit()
    with pytest.raises(Refusal) as refused:
        profiles.save_profile(
            db, world.viewer(db, "leo"), world.programme, as_mentor=False, as_mentee=True
        )
    assert refused.value.status == 409
    with pytest.raises(Refusal) as refused:
        profiles.save_profile(
            db, world.viewer(db, "lea"), world.programme, as_mentor=True, as_mentee=True
        )
    assert refused.value.status == 409
    kept = profiles.save_profile(
        db, world.viewer(db, "lea"), world.programme, as_mentor=False, as_mentee=True, bio="Hi"
    )
    assert kept.bio == "Hi"


def test_leaving_keeps_the_row_and_turns_everything_off(db) -> None:
    world = programme_world(db)
    lea = world.viewer(db, "lea")
    with pytest.raises(Refusal) as refused:
        profiles.leave(db, lea, world.programme)
    assert refused.value.status == 404
    profiles.save_profile(db, lea, world.programme, as_mentor=True, as_mentee=True)
    left = profiles.leave(db, lea, world.programme)
    assert (left.is_mentor, left.is_mentee, left.accepting) == (False, False, False)
    db.commit()
    assert db.scalar(select(func.count()).select_from(Profile)) == 1


def test_the_roster_is_staff_only_and_paged(db) -> None:
    world = programme_world(db)
    coaching = world.competencies[0]
    for name in ("lea", "leo", "liv"):
        profiles.save_profile(
            db,
            world.viewer(db, name),
            world.programme,
            as_mentor=name != "liv",
            as_mentee=name != "lea",
            mentor_levels={coaching.id: 3} if name != "liv" else {},
            mentee_needs={coaching.id: (1, 3)} if name != "lea" else {},
        )
    profiles.save_profile(
        db, world.viewer(db, "grace"), world.programme, as_mentor=True, as_mentee=False
    )
    profiles.leave(db, world.viewer(db, "grace"), world.programme)
    db.commit()
    with pytest.raises(Refusal) as refused:
        profiles.roster(db, world.viewer(db, "lea"), world.programme)
    assert refused.value.status == 403
    ines = world.viewer(db, "ines")
    first = profiles.roster(db, ines, world.programme, limit=2)
    assert [e.name for e in first.entries] == ["Lea Learner", "Leo Learner"]
    assert first.entries[0].mentor_competencies[0].name == "Coaching conversations"
    rest = profiles.roster(db, ines, world.programme, limit=2, cursor=first.next_cursor)
    assert [e.name for e in rest.entries] == ["Liv Learner"] and rest.next_cursor is None
    mentees = profiles.roster(db, ines, world.programme, role="mentee")
    assert [e.name for e in mentees.entries] == ["Leo Learner", "Liv Learner"]
    assert mentees.entries[1].mentee_competencies[0].target == 3
    for bad in ("not-a-cursor!", "WzEsMl0"):  # garbage; a list of the wrong size
        with pytest.raises(Refusal) as refused:
            profiles.roster(db, ines, world.programme, cursor=bad)
        assert refused.value.status == 400
