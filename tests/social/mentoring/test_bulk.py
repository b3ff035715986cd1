"""Bulk matching (services): the problem built from the programme's profiles, the exclusions
(past pairs, the LMS's mentor), the preview with its parts, reasons and the greedy baseline,
adjusting, the approval that checks every pair again and makes them with their events and
e-mail, the refusals, and the preview's query count not growing with the mentees."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from plugin.access import Refusal
from plugin.lti import roles
from plugin.lti.models import Context, Membership, User
from plugin.mail.models import MailOutbox
from plugin.social.mentoring import bulk, pairs, profiles
from plugin.social.mentoring.models import Pair, PairCompetency, PairMember
from plugin.xapi import statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.models import XapiOutbox
from plugin.xapi.validate import validate_statement
from tests.social.mentoring.programme_world import programme_world
from tests.social.social_world import count_queries

NOW = datetime(2025, 1, 14, 9, tzinfo=UTC)


def _person(db, world, key: str, name: str) -> User:
    course = world.course
    user = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub=f"{key}-{uuid.uuid4().hex[:6]}",
        name=name,
        email=f"{key}@example.org",
    )
    db.add(user)
    db.flush()
    db.add(Membership(context_id=course.context.id, user_id=user.id, roles=[roles.LEARNER]))
    db.flush()
    course.users[key] = user
    return user


def _profile(db, world, key: str, **values) -> None:
    defaults = {"as_mentor": False, "as_mentee": False}
    profiles.save_profile(db, world.viewer(db, key), world.programme, **{**defaults, **values})


def _world(db, **settings):
    """Lea grows coaching 1→3, Leo feedback 0→2, Mia delegating (nobody mentors it), Max names
    no competency; Liv mentors coaching at 4, Grace coaching 3 and feedback 2, one place each."""
    world = programme_world(db, matching="staff_bulk", **settings)
    coaching, feedback, delegating = world.competencies
    for key, user in world.course.users.items():
        user.email = f"{key}@example.org"
    _person(db, world, "mia", "Mia Mentee")
    _person(db, world, "max", "Max Mentee")
    _profile(
        db,
        world,
        "lea",
        as_mentee=True,
        mentee_needs={coaching.id: (1, 3)},
        goals="Run better one-to-ones",
    )
    _profile(db, world, "leo", as_mentee=True, mentee_needs={feedback.id: (0, 2)})
    _profile(db, world, "mia", as_mentee=True, mentee_needs={delegating.id: (0, 2)})
    _profile(db, world, "max", as_mentee=True)
    _profile(db, world, "liv", as_mentor=True, mentor_levels={coaching.id: 4}, capacity=1)
    _profile(
        db,
        world,
        "grace",
        as_mentor=True,
        mentor_levels={coaching.id: 3, feedback.id: 2},
        capacity=1,
    )
    db.commit()
    return world


def _ids(world, *keys: str) -> list[int]:
    return [world.course.users[k].id for k in keys]


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_the_preview_shows_the_best_pairs_their_parts_and_why_others_wait(db) -> None:
    world = _world(db)
    lea, leo, mia, max_, liv, grace = _ids(world, "lea", "leo", "mia", "max", "liv", "grace")
    shown = bulk.preview(db, world.viewer(db, "ines"), world.programme, now=NOW)
    made = {(p.mentee.user_id, p.mentor.user_id) for p in shown.pairs}
    assert made == {(lea, liv), (leo, grace)}  # Leo's only mentor is Grace; Lea gets Liv
    assert not shown.adjusted and shown.total == shown.optimal_total
    assert shown.total == round(sum(p.score.total for p in shown.pairs), 2)
    # greedy gives Lea her best mentor, Grace, and leaves Leo without one
    assert shown.greedy_pairs == 1 and shown.greedy_total < shown.optimal_total
    assert (shown.mentors, shown.free_places) == (2, 2)
    first = next(p for p in shown.pairs if p.mentee.user_id == lea)
    assert [p.name for p in first.score.parts] == [
        "competency",
        "level_gap",
        "availability",
        "capacity",
        "languages",
        "history",
    ]
    assert first.competencies == ["Coaching conversations"]
    reasons = {u.mentee.user_id: u.reason for u in shown.unmatched}
    assert reasons == {mia: bulk.NO_MENTOR, max_: bulk.NO_COMPETENCY}
    # the mentors Lea may be given instead, best first
    assert [o.mentor_id for o in shown.options[lea]] == [grace, liv]
    assert [o.mentor_id for o in shown.options[leo]] == [grace]


def test_exclusions_past_pairs_and_the_lms_mentor(db) -> None:
    world = _world(db)
    world.programme.exclude_lti_mentor = True  # the settings page's switch
    lea, leo, liv, grace = _ids(world, "lea", "leo", "liv", "grace")
    # Grace is Lea's mentor in the LMS (role_scope_mentor), and Leo and Grace were a pair once
    membership = db.scalar(
        select(Membership).where(
            Membership.user_id == grace, Membership.context_id == world.course.context.id
        )
    )
    membership.mentor_scope = [world.course.users["lea"].sub]
    old = pairs.propose(
        db,
        world.programme,
        mentor_ids=[grace],
        mentee_ids=[leo],
        competency_ids=[],
        cadence_days=30,
        goals="",
        when=NOW,
    )
    old.state = "ended"
    db.commit()
    problem = bulk.build_problem(db, world.programme, now=NOW)
    assert {(lea, grace), (leo, grace)} <= problem.forbidden
    shown = bulk.preview(db, world.viewer(db, "ines"), world.programme, now=NOW)
    assert [o.mentor_id for o in shown.options[lea]] == [liv]
    assert leo not in shown.options
    assert {u.mentee.user_id: u.reason for u in shown.unmatched}[leo] == bulk.ALL_EXCLUDED
    with pytest.raises(Refusal) as refused:
        bulk.preview(db, world.viewer(db, "ines"), world.programme, choices={lea: grace}, now=NOW)
    assert refused.value.status == 409 and "excluded" in refused.value.message
    # with the setting off, the LMS's mentor may be proposed again
    world.programme.exclude_lti_mentor = False
    db.commit()
    shown = bulk.preview(db, world.viewer(db, "ines"), world.programme, now=NOW)
    assert [o.mentor_id for o in shown.options[lea]] == [grace, liv]


def test_staff_adjust_the_preview_and_every_choice_is_checked(db) -> None:
    world = _world(db)
    lea, leo, mia, liv, grace = _ids(world, "lea", "leo", "mia", "liv", "grace")
    staff = world.viewer(db, "ines")
    shown = bulk.preview(db, staff, world.programme, choices={lea: grace, leo: None}, now=NOW)
    assert shown.adjusted
    assert [(p.mentee.user_id, p.mentor.user_id) for p in shown.pairs] == [(lea, grace)]
    assert shown.total == shown.pairs[0].score.total < shown.optimal_total
    assert {u.mentee.user_id: u.reason for u in shown.unmatched}[leo] == bulk.NOT_CHOSEN
    refusals = [
        ({lea: liv, leo: liv}, "Liv Learner cannot take them"),  # Liv holds no feedback
        ({mia: liv}, "cannot take them"),
        ({lea: lea}, "is not a mentor"),
        ({world.course.users["ines"].id: liv}, "no longer waiting"),
    ]
    for choices, words in refusals:
        with pytest.raises(Refusal) as refused:
            bulk.preview(db, staff, world.programme, choices=choices, now=NOW)
        assert refused.value.status == 409 and words in refused.value.message, choices
    # Grace has one place: she cannot take both mentees
    with pytest.raises(Refusal) as refused:
        bulk.preview(db, staff, world.programme, choices={lea: grace, leo: grace}, now=NOW)
    assert refused.value.status == 409 and "1 free place" in refused.value.message


def test_approve_makes_every_pair_with_events_and_mail_and_checks_again(db) -> None:
    world = _world(db)
    lea, leo, liv, grace, ines = _ids(world, "lea", "leo", "liv", "grace", "ines")
    staff = world.viewer(db, "ines")
    with pytest.raises(Refusal) as refused:
        bulk.approve(db, staff, world.programme, {leo: None}, now=NOW)
    assert refused.value.status == 400
    db.rollback()
    made = bulk.approve(db, staff, world.programme, {lea: liv, leo: grace}, now=NOW)
    db.commit()
    assert [p.state for p in made] == ["proposed", "proposed"]
    members = {(m.pair_id, m.user_id, m.role) for m in db.scalars(select(PairMember))}
    assert members == {
        (made[0].id, liv, "mentor"),
        (made[0].id, lea, "mentee"),
        (made[1].id, grace, "mentor"),
        (made[1].id, leo, "mentee"),
    }
    coaching, feedback, _ = world.competencies
    assert {(c.pair_id, c.competency_id) for c in db.scalars(select(PairCompetency))} == {
        (made[0].id, coaching.id),
        (made[1].id, feedback.id),
    }
    assert (
        made[0].goals == "Run better one-to-ones"
        and made[0].cadence_days == world.programme.cadence_days
    )
    mails = db.scalars(select(MailOutbox).where(MailOutbox.kind == bulk.MAIL_MATCHED)).all()
    assert sorted(m.recipient for m in mails) == [
        "grace@example.org",
        "lea@example.org",
        "leo@example.org",
        "liv@example.org",
    ]
    assert any("as the mentee of Liv Learner" in m.text_body for m in mails)
    rows = [
        r.statement
        for r in db.scalars(select(XapiOutbox))
        if r.statement["verb"]["id"] == vocab.Verbs.MATCHED.resolve(statements.base_url())
    ]
    assert len(rows) == 2
    kind = vocab.kind_by_slug("mentorship-matched")
    for st in rows:
        validate_statement(st, base=statements.base_url(), kind=kind)
        assert st["actor"]["account"]["name"] == world.course.users["ines"].sub  # the approver
        assert "one-to-ones" not in str(st)  # the goals stay in the tool
    objects = sorted(st["object"]["id"].rsplit("/", 1)[1] for st in rows)
    assert objects == sorted(str(p.id) for p in made)
    assert [o["id"] for o in rows[0]["context"]["contextActivities"]["other"]] in (
        [coaching.uri],
        [feedback.uri],
    )
    # approving the same matching again: nobody is waiting any more, nothing changes
    before = (_count(db, Pair), _count(db, MailOutbox), _count(db, XapiOutbox))
    with pytest.raises(Refusal) as refused:
        bulk.approve(db, staff, world.programme, {lea: liv, leo: grace}, now=NOW)
    assert refused.value.status == 409 and "no longer waiting" in refused.value.message
    db.rollback()
    assert (_count(db, Pair), _count(db, MailOutbox), _count(db, XapiOutbox)) == before
    assert ines not in (lea, leo)


def test_who_may_match_and_which_programmes(db) -> None:
    world = _world(db)
    with pytest.raises(Refusal) as refused:
        bulk.preview(db, world.viewer(db, "lea"), world.programme, now=NOW)
    assert refused.value.status == 403
    world.programme.matching = "mentee_choice"
    db.commit()
    with pytest.raises(Refusal) as refused:
        bulk.preview(db, world.viewer(db, "ines"), world.programme, now=NOW)
    assert refused.value.status == 409 and "settings" in refused.value.message


def test_the_preview_query_count_does_not_grow_with_the_mentees(app, db) -> None:
    world = _world(db)
    coaching = world.competencies[0]
    staff = world.viewer(db, "ines")

    def counted() -> int:
        db.expire_all()
        with count_queries(app) as seen:
            bulk.preview(db, staff, world.programme, now=NOW)
        return len(seen)

    few = counted()
    for n in range(25):
        key = f"m{n}"
        _person(db, world, key, f"Mentee {n:02d}")
        _profile(db, world, key, as_mentee=True, mentee_needs={coaching.id: (0, 2)})
    db.commit()
    many = counted()
    assert many == few and few <= 12, (few, many)
    shown = bulk.preview(db, staff, world.programme, now=NOW)
    assert len(shown.pairs) == 2 and len(shown.unmatched) == 4 + 25 - 2  # two places


def test_a_platform_wide_programme_reads_the_lms_mentor_in_its_courses(db) -> None:
    """A platform-wide programme: the LMS's mentor counts in every course a link of it is in, and
    a membership in a course without such a link does not."""
    world = _world(db)
    lea, grace = _ids(world, "lea", "grace")
    world.programme.context_id = None  # platform-wide; its link stays in the course
    world.programme.exclude_lti_mentor = True
    membership = db.scalar(
        select(Membership).where(
            Membership.user_id == grace, Membership.context_id == world.course.context.id
        )
    )
    membership.mentor_scope = [world.course.users["lea"].sub]
    db.commit()
    assert (lea, grace) in bulk.build_problem(db, world.programme, now=NOW).forbidden
    # the same claim recorded in a course the programme has no link in is not read
    other = Context(
        platform_id=world.course.platform.id,
        issuer=world.course.platform.issuer,
        context_id="c-other",
        title="Elsewhere",
    )
    db.add(other)
    db.flush()
    membership.mentor_scope = None
    db.add(
        Membership(
            context_id=other.id,
            user_id=grace,
            roles=[roles.MENTOR],
            mentor_scope=[world.course.users["lea"].sub],
        )
    )
    db.commit()
    assert (lea, grace) not in bulk.build_problem(db, world.programme, now=NOW).forbidden
