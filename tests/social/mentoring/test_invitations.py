"""Inviting suggested mentors and platform-wide programmes, at the service level
(plugin/social/mentoring/invitations.py, platform.py): who is suggested (grouped per person, the
declined, current mentors and people who cannot open the programme left out), the number of
queries whatever the number of people, who may be invited to a platform-wide programme, what
accepting does to an existing profile, and the platform services' refusals."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from plugin import access
from plugin.access import Refusal, Viewer
from plugin.lti import roles
from plugin.lti.models import Membership, Placement, User
from plugin.mail.models import MailOutbox
from plugin.social import boards
from plugin.social.mentoring import invitations, platform, profiles, programmes
from plugin.social.mentoring.models import Programme, ProgrammePlacement
from tests.social.mentoring.programme_world import make_framework
from tests.social.social_world import Course, count_queries, course_board, make_course


def _person(db, course: Course, key: str) -> User:
    user = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub=f"{key}-{uuid.uuid4().hex[:8]}",
        name=key.title(),
        email=f"{key}@example.edu",
    )
    db.add(user)
    db.flush()
    db.add(Membership(context_id=course.context.id, user_id=user.id, roles=[roles.LEARNER]))
    db.flush()
    course.users[key] = user
    return user


def _admin(db, course: Course) -> Viewer:
    return access.viewer_for(
        db, course.users["ines"].id, course.context.id, roles=[roles.INSTITUTION_ADMIN]
    )


def _mentoring_placement(db, course: Course) -> Placement:
    placement = Placement(
        context_id=course.context.id,
        resource_link_id=f"rl-{uuid.uuid4().hex[:6]}",
        title="Mentoring",
        widget="mentoring",
        settings={},
    )
    db.add(placement)
    db.flush()
    return placement


def _answered(db, course: Course, board, asker: str, answerers: list[str]) -> None:
    """A question of ``asker`` on ``board``, each answerer's reply endorsed by Ines."""
    ines = course.viewer(db, "ines")
    thread = boards.create_thread(
        db, course.viewer(db, asker), board, "How?", "Tips?", kind="question"
    )
    for name in answerers:
        boards.endorse(db, ines, boards.reply(db, course.viewer(db, name), thread, "Like so."))


@pytest.fixture
def world(db):
    course, board = course_board(db, unlimited=True)
    coaching, feedback, _ = make_framework(
        db, course.platform.id, ("Coaching conversations", "Giving feedback", "Delegating")
    )
    ines = course.viewer(db, "ines")
    placement = Placement(
        context_id=course.context.id,
        resource_link_id=f"rl-{uuid.uuid4().hex[:6]}",
        title="Feedback board",
        widget="board",
        settings={"posts_per_hour": "0"},
    )
    db.add(placement)
    db.flush()
    second = boards.board_for_placement(db, placement)
    boards.set_board_competencies(db, ines, board, [coaching.id])
    boards.set_board_competencies(db, ines, second, [feedback.id])
    _answered(db, course, board, "lea", ["leo", "liv"])
    _answered(db, course, second, "lea", ["leo"])
    programme = programmes.programme_for_placement(db, _mentoring_placement(db, course))
    programmes.set_targets(db, ines, programme, [coaching.id, feedback.id])
    db.commit()
    return course, board, programme, coaching, feedback


def test_suggested_people_are_grouped_and_the_declined_and_mentors_left_out(db, world) -> None:
    course, _board, programme, coaching, feedback = world
    ines = course.viewer(db, "ines")
    found = invitations.suggested(db, ines, programme)
    assert [(s.name, s.competency_ids, s.reasons, s.invitation) for s in found] == [
        (
            "Leo Learner",
            (coaching.id, feedback.id),
            ("1 endorsed answer on Coaching conversations", "1 endorsed answer on Giving feedback"),
            None,
        ),
        ("Liv Learner", (coaching.id,), ("1 endorsed answer on Coaching conversations",), None),
    ]
    leo, liv = course.users["leo"], course.users["liv"]
    invitation = invitations.invite(db, ines, programme, leo.id, [coaching.id, feedback.id])
    assert [s.invitation for s in invitations.suggested(db, ines, programme)] == ["pending", None]
    invitations.answer(db, course.viewer(db, "leo"), invitation.id, accept=False)
    # Liv opts in as a mentor herself: a mentor is not suggested either
    profiles.save_profile(db, course.viewer(db, "liv"), programme, as_mentor=True, as_mentee=False)
    assert invitations.suggested(db, ines, programme) == []
    with pytest.raises(Refusal) as refused:
        invitations.invite(db, ines, programme, leo.id, [coaching.id])
    assert refused.value.status == 409 and "not invited again" in refused.value.message
    with pytest.raises(Refusal) as refused:
        invitations.invite(db, ines, programme, liv.id, [coaching.id])
    assert refused.value.status == 409 and "already a mentor" in refused.value.message
    with pytest.raises(Refusal) as refused:
        invitations.suggested(db, course.viewer(db, "lea"), programme)
    assert refused.value.status == 403


def test_suggesting_takes_the_same_queries_for_many_more_people(app, db, world) -> None:
    course, board, programme, *_ = world
    ines = course.viewer(db, "ines")
    db.commit()
    with count_queries(app) as few:
        assert len(invitations.suggested(db, ines, programme)) == 2
    many = [f"p{i}" for i in range(15)]
    for key in many:
        _person(db, course, key)
    _answered(db, course, board, "lea", many)
    invitations.invite(db, ines, programme, course.users["p0"].id, [world[3].id])
    db.commit()
    with count_queries(app) as more:
        assert len(invitations.suggested(db, ines, programme)) == 17
    assert len(more) == len(few)


def test_accepting_keeps_a_mentee_profile_and_nominates_only_where_staff_nominate(db, world):
    course, _board, programme, coaching, _feedback = world
    ines, leo = course.viewer(db, "ines"), course.viewer(db, "leo")
    course.users["leo"].email = "leo@example.edu"
    profiles.save_profile(
        db, leo, programme, as_mentor=False, as_mentee=True, mentee_needs={coaching.id: (1, 3)}
    )
    made = invitations.invite(db, ines, programme, leo.user_id, [coaching.id])
    assert db.scalars(select(MailOutbox.kind).where(MailOutbox.user_id == leo.user_id)).all() == [
        "mentoring.invitation"
    ]
    answered = invitations.answer(db, leo, made.id, accept=True)
    assert answered.state == "accepted" and answered.competencies == (
        (coaching.id, "Coaching conversations"),
    )
    profile = profiles.my_profile(db, leo, programme)
    assert (profile.is_mentor, profile.is_mentee, profile.nominated) == (True, True, False)
    assert len(profile.competencies) == 1  # their mentee need stays; they rate themselves next
    with pytest.raises(Refusal) as refused:
        invitations.answer(db, leo, made.id, accept=False)
    assert refused.value.status == 409
    with pytest.raises(Refusal) as refused:
        invitations.invite(db, ines, programme, course.users["liv"].id, [])
    assert refused.value.status == 400


def test_platform_wide_programmes_invitees_come_from_joined_courses(db, world) -> None:
    course, _board, course_programme, coaching, _feedback = world
    admin, ines = _admin(db, course), course.viewer(db, "ines")
    with pytest.raises(Refusal) as refused:
        platform.create(db, ines, {"title": "Across"})
    assert refused.value.status == 403
    across = platform.create(db, admin, {"title": "Across", "cadence_days": 10}, [coaching.id])
    assert (across.context_id, across.cadence_days) == (None, 10)
    with pytest.raises(Refusal) as refused:
        platform.create(db, admin, {"title": "Bad", "who_mentors": "course_group"})
    assert refused.value.status == 400
    assert [p.programme.title for p in platform.listed(db, admin)] == ["Across"]
    # a second course of the platform joins; a third does not
    second = make_course(db, platform=course.platform, context_key="c-202")
    third = make_course(db, platform=course.platform, context_key="c-303")
    theirs = programmes.programme_for_placement(db, _mentoring_placement(db, second))
    staff_2 = second.viewer(db, "ines")
    joined = platform.join(db, staff_2, theirs, across.id)
    assert joined.id == across.id and db.get(Programme, theirs.id) is None
    assert [(p.links, p.courses) for p in platform.listed(db, admin)] == [(1, 1)]
    # the admin invites: a member of the joined course may be invited, one of the third may not
    invitations.invite(db, admin, across, second.users["lea"].id, [coaching.id])
    with pytest.raises(Refusal) as refused:
        invitations.invite(db, admin, across, third.users["lea"].id, [coaching.id])
    assert refused.value.status == 404
    with pytest.raises(Refusal) as refused:  # only administrators manage it
        invitations.invite(db, staff_2, across, second.users["leo"].id, [coaching.id])
    assert refused.value.status == 403
    # the invitee opens it from their course and accepts
    lea_2 = second.viewer(db, "lea")
    pending = invitations.pending_for(db, lea_2, programmes.get_programme(db, lea_2, across.id))
    assert pending is not None and pending.invited_by == "Ines Instructor"
    invitations.answer(db, lea_2, pending.id, accept=True)
    # another platform's administrator sees nothing of it
    other = make_course(db)
    other_admin = _admin(db, other)
    assert platform.listed(db, other_admin) == []
    with pytest.raises(Refusal) as refused:
        programmes.get_programme(db, other_admin, across.id)
    assert refused.value.status == 404
    other_programme = programmes.programme_for_placement(db, _mentoring_placement(db, other))
    with pytest.raises(Refusal) as refused:
        platform.join(db, other.viewer(db, "ines"), other_programme, across.id)
    assert refused.value.status == 404
    # a course programme with an invitation, or with people, cannot join
    invited = programmes.programme_for_placement(db, _mentoring_placement(db, course))
    programmes.set_targets(db, ines, invited, [coaching.id])
    invitations.invite(db, ines, invited, course.users["liv"].id, [coaching.id])
    with pytest.raises(Refusal) as refused:
        platform.join(db, ines, invited, across.id)
    assert refused.value.status == 409 and "invited" in refused.value.message
    profiles.save_profile(
        db, course.viewer(db, "lea"), course_programme, as_mentor=False, as_mentee=True
    )
    with pytest.raises(Refusal) as refused:
        platform.join(db, ines, course_programme, across.id)
    assert refused.value.status == 409
    kept = select(ProgrammePlacement).where(ProgrammePlacement.programme_id == course_programme.id)
    assert len(db.scalars(kept).all()) == 1 and db.get(Programme, course_programme.id) is not None


def test_listing_platform_wide_programmes_is_one_query(app, db, world) -> None:
    course, *_ = world
    admin = _admin(db, course)
    for i in range(5):
        platform.create(db, admin, {"title": f"Across {i}"})
    db.commit()
    with count_queries(app) as seen:
        assert len(platform.listed(db, admin)) == 5
    assert len(seen) == 1
