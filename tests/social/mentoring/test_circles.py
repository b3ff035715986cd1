"""Group circles (slice "circles"), the services with ``now=``: a mentor's taken places are the
mentees of their circles (one function, the same numbers in requests, bulk matching and
programme health); accepting a request or approving a bulk matching in a ``group`` programme
joins the mentor's open circle (or proposes one); a co-mentor; leaving a circle that goes on;
the statements of a newcomer; and the two races (an accept against another accept or a bulk
approval; a programme switched to staff matching), as two sessions in turn."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from plugin import events
from plugin.access import Refusal
from plugin.db import new_session
from plugin.lti import roles
from plugin.lti.models import Membership, User
from plugin.mail.models import MailOutbox
from plugin.social.mentoring import (
    bulk,
    checkins,
    health,
    pairs,
    profiles,
    reminders,
    requests,
)
from plugin.social.mentoring.models import (
    CheckIn,
    Pair,
    PairCompetency,
    PairMember,
    Programme,
    Pulse,
    Request,
)
from plugin.xapi import statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.models import XapiOutbox
from plugin.xapi.validate import validate_statement
from tests.social.mentoring.programme_world import World, programme_world
from tests.social.social_world import count_queries

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
NOTE = "We talked about the reorganisation"


def _person(db, world: World, key: str, name: str) -> User:
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


def _world(db, **settings: str) -> World:
    """A ``group`` programme: Lea, Leo and Mia grow coaching 1→3 (Leo also feedback 0→2);
    Grace mentors coaching and feedback (3 places), Liv coaching (1 place), Ines is staff."""
    world = programme_world(db, kind="group", **settings)
    coaching, feedback, _delegating = world.competencies
    for key, user in world.course.users.items():
        user.email = f"{key}@example.org"
    _person(db, world, "mia", "Mia Mentee")
    for key, needs in (
        ("lea", {coaching.id: (1, 3)}),
        ("leo", {coaching.id: (1, 3), feedback.id: (0, 2)}),
        ("mia", {coaching.id: (1, 3)}),
    ):
        profiles.save_profile(
            db,
            world.viewer(db, key),
            world.programme,
            as_mentor=False,
            as_mentee=True,
            mentee_needs=needs,
        )
    for key, levels, capacity in (
        ("grace", {coaching.id: 3, feedback.id: 3}, 3),
        ("liv", {coaching.id: 4}, 1),
    ):
        profiles.save_profile(
            db,
            world.viewer(db, key),
            world.programme,
            as_mentor=True,
            as_mentee=False,
            mentor_levels=levels,
            capacity=capacity,
            time_zone="Europe/Paris",
        )
    db.commit()
    return world


def _uid(world: World, key: str) -> int:
    return world.course.users[key].id


def _ask(db, world: World, mentee: str, mentor: str, when: datetime = T0) -> Request:
    needs = {world.competencies[0].id: (1, 3)}
    if mentee == "leo":
        needs[world.competencies[1].id] = (0, 2)
    request = requests.send_request(
        db,
        world.viewer(db, mentee),
        world.programme,
        needs,
        goal=f"{mentee}'s goal",
        mentor_id=_uid(world, mentor),
        now=when,
    )
    db.commit()
    return request


def _accept(db, world: World, mentor: str, request: Request, when: datetime = T0) -> Pair:
    requests.answer(db, world.viewer(db, mentor), request.id, accept=True, now=when)
    db.commit()
    found = requests.pair_of(db, request)
    if found is None:  # joined a circle another request made
        found = db.scalar(
            select(Pair)
            .join(PairMember, PairMember.pair_id == Pair.id)
            .where(PairMember.user_id == request.mentee_id, Pair.state != "ended")
        )
    return found


def _members(db, pair_id: int) -> dict[int, tuple[str, bool]]:
    """user id → (role, left)."""
    return {
        m.user_id: (m.role, m.left_at is not None)
        for m in db.scalars(select(PairMember).where(PairMember.pair_id == pair_id))
    }


def _accept_all(db, world: World, pair_id: int, when: datetime) -> None:
    for member in db.scalars(select(PairMember).where(PairMember.pair_id == pair_id)).all():
        if member.accepted_at is None and member.left_at is None:
            user = db.get(User, member.user_id)
            key = next(k for k, u in world.course.users.items() if u.id == user.id)
            pairs.accept_agreement(db, world.viewer(db, key), pair_id, now=when)
    db.commit()


def _mails(db, kind: str) -> list[MailOutbox]:
    return list(db.scalars(select(MailOutbox).where(MailOutbox.kind == kind)))


# --- one notion of taken places -----------------------------------------------------------------


def test_taken_places_are_the_mentees_of_open_circles_everywhere(db) -> None:
    world = _world(db)
    coaching = world.competencies[0]
    grace, liv = _uid(world, "grace"), _uid(world, "liv")
    lea, leo, mia = _uid(world, "lea"), _uid(world, "leo"), _uid(world, "mia")
    circle = pairs.propose(
        db,
        world.programme,
        mentor_ids=[grace, liv],
        mentee_ids=[lea, leo, mia],
        competency_ids=[coaching.id],
        cadence_days=14,
        goals="",
        when=T0,
    )
    ended = pairs.propose(
        db,
        world.programme,
        mentor_ids=[grace],
        mentee_ids=[mia],
        competency_ids=[coaching.id],
        cadence_days=14,
        goals="",
        when=T0,
    )
    ended.state = "ended"
    db.commit()
    # three mentees, counted for each of the two mentors; an ended pair takes nothing
    assert pairs.taken_places(db, world.programme.id) == {grace: 3, liv: 3}
    assert pairs.taken_places(db, world.programme.id, [liv]) == {liv: 3}
    assert pairs.taken_places(db, world.programme.id, []) == {}
    # a mentee who left frees a place; a mentor who left takes none
    db.get(PairMember, (circle.id, leo)).left_at = T0
    db.get(PairMember, (circle.id, liv)).left_at = T0
    db.commit()
    assert pairs.taken_places(db, world.programme.id) == {grace: 2}
    # programme health reads the same subquery: Grace has 3 - 2 = 1 free place on coaching,
    # Liv (1 place, none taken now) 1
    figures = health.programme_health(db, world.viewer(db, "ines"), world.programme, now=T0)
    by_id = {c.competency_id: c for c in figures.competencies}
    assert by_id[coaching.id].free_capacity == 2 and by_id[coaching.id].mentors == 2
    # bulk matching's problem and the request candidates see Grace with one free place
    problem = bulk.build_problem(db, world.programme, now=T0)
    assert problem.mentors[grace].taken == 2 and problem.mentors[liv].taken == 0
    assert set(problem.waiting) == {leo}  # Leo left the circle: he waits again


def test_a_one_to_one_programme_counts_one_place_per_pair(db) -> None:
    world = programme_world(db)
    coaching = world.competencies[0]
    users = world.course.users
    for key in ("lea", "leo"):
        pairs.propose(
            db,
            world.programme,
            mentor_ids=[users["grace"].id],
            mentee_ids=[users[key].id],
            competency_ids=[coaching.id],
            cadence_days=14,
            goals="",
            when=T0,
        )
    db.commit()
    assert pairs.taken_places(db, world.programme.id) == {users["grace"].id: 2}


# --- joining a circle ---------------------------------------------------------------------------


def test_accepted_requests_join_the_mentors_open_circle(app, db, monkeypatch) -> None:
    world = _world(db)
    coaching, feedback, _ = world.competencies
    published: list[events.DomainEvent] = []
    original = events.publish

    def recording(session, event: events.DomainEvent) -> None:
        published.append(event)
        original(session, event)

    monkeypatch.setattr(events, "publish", recording)
    first = _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    assert first.state == "proposed" and first.request_id is not None
    # Leo's request, accepted by Grace, joins the same circle, not yet accepted by him
    second = _accept(db, world, "grace", _ask(db, world, "leo", "grace"))
    assert second.id == first.id
    assert _members(db, first.id) == {
        _uid(world, "grace"): ("mentor", False),
        _uid(world, "lea"): ("mentee", False),
        _uid(world, "leo"): ("mentee", False),
    }
    # his competencies join the circle's
    assert set(pairs.pair_competency_ids(db, first.id)) == {coaching.id, feedback.id}
    assert db.scalar(select(func.count()).select_from(Pair)) == 1
    accepted = [e for e in published if e.kind == events.MENTORSHIP_ACCEPTED]
    assert len({e.identity for e in accepted}) == 2  # one per mentee who joined
    # Leo's e-mail says he joins a circle
    joined = [m for m in _mails(db, requests.MAIL_ANSWERED) if m.recipient == "leo@example.org"]
    assert len(joined) == 1 and "You join their mentoring circle" in joined[0].text_body
    # everyone accepts: active; then Mia joins the active circle, which stays active
    _accept_all(db, world, first.id, T0 + timedelta(days=1))
    db.refresh(first)
    assert first.state == "active"
    due = pairs.aware(first.check_in_due_at)
    assert due == T0 + timedelta(days=1, weeks=0) + timedelta(days=first.cadence_days)
    third = _accept(db, world, "grace", _ask(db, world, "mia", "grace", T0 + timedelta(days=2)))
    db.refresh(third)
    assert third.id == first.id and third.state == "active"
    mia = world.viewer(db, "mia")
    shown = pairs.detail(db, mia, first.id, now=T0 + timedelta(days=2))
    assert shown.may_accept and shown.circle and not shown.may_edit
    grace_view = pairs.detail(db, world.viewer(db, "grace"), first.id, now=T0 + timedelta(days=2))
    assert not grace_view.may_accept  # the others are not asked again
    # the newcomer accepts: AGREEMENT_MADE for Mia only, the circle unchanged
    before = len(published)
    when = T0 + timedelta(days=3)
    pairs.accept_agreement(db, mia, first.id, now=when)
    db.commit()
    db.refresh(first)
    assert first.state == "active" and pairs.aware(first.check_in_due_at) == due
    (made,) = published[before:]
    assert made.kind == events.AGREEMENT_MADE and made.actor_user_id == _uid(world, "mia")
    [row] = [
        r
        for r in db.scalars(select(XapiOutbox))
        if r.statement["verb"]["id"] == vocab.Verbs.AGREED.iri
        and r.actor_user_id == _uid(world, "mia")
    ]
    validate_statement(
        row.statement, base=statements.base_url(), kind=vocab.kind_by_slug("agreement-made")
    )
    assert row.statement["object"]["id"].endswith(f"/mentorship/{first.id}")
    # accepting again is refused
    with pytest.raises(Refusal) as refused:
        pairs.accept_agreement(db, mia, first.id, now=when)
    assert refused.value.status == 409
    db.rollback()


def test_capacity_counts_the_mentees_of_a_circle(db) -> None:
    world = _world(db)
    grace_profile = profiles.my_profile(db, world.viewer(db, "grace"), world.programme)
    grace_profile.capacity = 2
    db.commit()
    _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    _accept(db, world, "grace", _ask(db, world, "leo", "grace"))
    # two mentees in one circle fill her two places: Mia's request cannot reach her...
    with pytest.raises(Refusal) as refused:
        _ask(db, world, "mia", "grace")
    assert refused.value.status == 409 and "no free place" in refused.value.message.lower()
    db.rollback()
    names = [
        c.user_id
        for c in requests.candidates(
            db, world.viewer(db, "mia"), world.programme, {world.competencies[0].id: (1, 3)}
        )
    ]
    assert _uid(world, "grace") not in names and _uid(world, "liv") in names


def test_a_mentee_already_in_the_circle_is_refused_and_nothing_changes(db) -> None:
    world = _world(db)
    pair = _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    again = _ask(db, world, "lea", "grace", T0 + timedelta(hours=1))
    with pytest.raises(Refusal) as refused:
        requests.answer(db, world.viewer(db, "grace"), again.id, accept=True, now=T0)
    assert refused.value.status == 409 and "already in your circle" in refused.value.message
    db.rollback()
    assert db.get(Request, again.id).state == "open"
    assert len(_members(db, pair.id)) == 2


# --- co-mentor ----------------------------------------------------------------------------------


def test_staff_or_a_mentor_add_a_co_mentor_who_accepts(db) -> None:
    world = _world(db)
    pair = _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    _accept_all(db, world, pair.id, T0)
    db.refresh(pair)
    assert pair.state == "active"
    liv = _uid(world, "liv")
    # a mentee may not; an outsider does not see the pair
    with pytest.raises(Refusal) as refused:
        pairs.add_co_mentor(db, world.viewer(db, "lea"), pair.id, liv, now=T0)
    assert refused.value.status == 403
    with pytest.raises(Refusal) as refused:
        pairs.add_co_mentor(db, world.viewer(db, "mia"), pair.id, liv, now=T0)
    assert refused.value.status == 404
    # not a mentor of the programme: 404; the mentor herself: already in it
    for who, status in ((_uid(world, "mia"), 404), (_uid(world, "grace"), 409)):
        with pytest.raises(Refusal) as refused:
            pairs.add_co_mentor(db, world.viewer(db, "ines"), pair.id, who, now=T0)
        assert refused.value.status == status
    db.rollback()
    options = pairs.co_mentor_options(db, world.viewer(db, "grace"), pair.id)
    assert [(o.user_id, o.free) for o in options] == [(liv, 1)]
    # staff add Liv (1 place, the circle has 1 mentee)
    pairs.add_co_mentor(db, world.viewer(db, "ines"), pair.id, liv, now=T0)
    db.commit()
    assert _members(db, pair.id)[liv] == ("mentor", False)
    assert pairs.taken_places(db, world.programme.id)[liv] == 1
    [told] = [m for m in _mails(db, pairs.MAIL_PAIR) if m.recipient == "liv@example.org"]
    assert "co-mentor" in told.text_body
    shown = pairs.detail(db, world.viewer(db, "liv"), pair.id, now=T0)
    assert shown.may_accept and not shown.may_add_co_mentor  # two mentors: the most
    pairs.accept_agreement(db, world.viewer(db, "liv"), pair.id, now=T0 + timedelta(hours=1))
    db.commit()
    db.refresh(pair)
    assert pair.state == "active"
    # a third mentor is refused
    with pytest.raises(Refusal) as refused:
        pairs.add_co_mentor(db, world.viewer(db, "grace"), pair.id, _uid(world, "leo"), now=T0)
    assert refused.value.status == 409 and "at most 2 mentors" in refused.value.message
    db.rollback()


def test_a_co_mentor_needs_a_place_for_every_mentee_and_a_group_programme(db) -> None:
    world = _world(db)
    pair = _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    _accept(db, world, "grace", _ask(db, world, "leo", "grace"))
    # Liv has one place, the circle two mentees
    assert pairs.co_mentor_options(db, world.viewer(db, "ines"), pair.id) == []
    with pytest.raises(Refusal) as refused:
        pairs.add_co_mentor(db, world.viewer(db, "grace"), pair.id, _uid(world, "liv"), now=T0)
    assert refused.value.status == 409 and "1 free place" in refused.value.message
    db.rollback()
    assert len(_members(db, pair.id)) == 3
    # a one-to-one programme has no co-mentors
    world.programme.kind = "one_to_one"
    db.commit()
    with pytest.raises(Refusal) as refused:
        pairs.add_co_mentor(db, world.viewer(db, "ines"), pair.id, _uid(world, "liv"), now=T0)
    assert refused.value.status == 409 and "group programme" in refused.value.message
    db.rollback()


# --- leaving a circle ---------------------------------------------------------------------------


def _coaching_health(db, world, now: datetime) -> health.CompetencyHealth:
    coaching = world.competencies[0]
    figures = health.compute(db, world.programme, now=now)
    return next(c for c in figures.competencies if c.competency_id == coaching.id)


def test_leaving_a_circle_that_goes_on_then_ends(db) -> None:
    world = _world(db)
    coaching = world.competencies[0]
    pair = _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    _accept(db, world, "grace", _ask(db, world, "leo", "grace"))
    _accept(db, world, "grace", _ask(db, world, "mia", "grace"))
    _accept_all(db, world, pair.id, T0)
    pair.place = "Library"
    db.commit()
    leo = world.viewer(db, "leo")
    checkins.log(
        db,
        world.viewer(db, "lea"),
        pair.id,
        held_on=T0.date().isoformat(),
        duration_minutes=30,
        notes=NOTE,
        now=T0 + timedelta(hours=3),
    )
    db.commit()
    left_at = T0 + timedelta(days=1)
    before = _coaching_health(db, world, left_at)
    pairs.leave(db, leo, pair.id, now=left_at)
    db.commit()
    db.refresh(pair)
    assert pair.state == "active" and pair.end_reason is None
    # programme health: Leo is no longer a mentee of the circle but waits again
    after = _coaching_health(db, world, left_at)
    assert (after.mentees, after.demand) == (before.mentees - 1, before.demand + 1)
    assert _members(db, pair.id)[leo.user_id] == ("mentee", True)
    # the others are told neutrally; Leo is not
    told = sorted(m.recipient for m in _mails(db, pairs.MAIL_PAIR))
    assert told == ["grace@example.org", "lea@example.org", "mia@example.org"]
    body = _mails(db, pairs.MAIL_PAIR)[0].text_body
    assert "goes on" in body and "no reason" in body
    # his list shows it as left; he reads it (his notes too) but cannot act
    (mine,) = pairs.my_pairs(db, leo, world.programme, now=left_at)
    assert mine.left and [p.left for p in mine.people if p.user_id == leo.user_id] == [True]
    shown = pairs.detail(db, leo, pair.id, now=left_at)
    assert shown.left and not (shown.may_log or shown.may_leave or shown.may_accept)
    assert [c.notes for c in checkins.list_checkins(db, leo, pair.id)] == [NOTE]
    for act in (
        lambda: checkins.log(
            db, leo, pair.id, held_on="2026-03-03", duration_minutes=30, now=left_at
        ),
        lambda: pairs.leave(db, leo, pair.id, now=left_at),
        lambda: pairs.propose_extension(db, leo, pair.id, ends_on="2027-12-01", now=left_at),
    ):
        with pytest.raises(Refusal) as refused:
            act()
        assert refused.value.status == 403 and "You left this circle" in refused.value.message
        db.rollback()
    # a check-in now gives statements to the current members only
    before = db.scalar(select(func.count()).select_from(XapiOutbox))
    made = checkins.log(
        db,
        world.viewer(db, "mia"),
        pair.id,
        held_on="2026-03-03",
        duration_minutes=45,
        competency_ids=[coaching.id],
        now=left_at,
    )
    db.commit()
    rows = list(
        db.scalars(select(XapiOutbox).where(XapiOutbox.object_id.endswith(f"/checkin/{made.id}")))
    )
    assert db.scalar(select(func.count()).select_from(XapiOutbox)) == before + 3
    assert {r.actor_user_id for r in rows} == {
        _uid(world, "grace"),
        _uid(world, "lea"),
        _uid(world, "mia"),
    }
    # the .ics lists every current member
    ics = pairs.meetings_invite(
        db, world.viewer(db, "lea"), pair.id, uid_domain="tool.test", now=left_at
    )
    event = next(c for c in Calendar.from_ical(ics).walk() if c.name == "VEVENT")
    attendees = sorted(str(a) for a in event.get("ATTENDEE"))
    assert attendees == [
        "mailto:grace@example.org",
        "mailto:lea@example.org",
        "mailto:mia@example.org",
    ]
    # the last mentees leave: the circle ends, no_fault
    pairs.leave(db, world.viewer(db, "lea"), pair.id, now=left_at)
    pairs.rematch(db, world.viewer(db, "mia"), pair.id, now=left_at)
    db.commit()
    db.refresh(pair)
    assert pair.state == "ended" and pair.end_reason == "no_fault"
    assert db.scalar(select(func.count()).select_from(CheckIn)) == 2


def test_a_proposed_circle_whose_last_pending_member_leaves_becomes_active(db) -> None:
    world = _world(db)
    pair = _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    _accept_all(db, world, pair.id, T0)
    db.refresh(pair)
    assert pair.state == "active"
    _accept(db, world, "grace", _ask(db, world, "leo", "grace"))
    # a newcomer who never accepted leaves: the circle stays active
    pairs.leave(db, world.viewer(db, "leo"), pair.id, now=T0)
    db.commit()
    db.refresh(pair)
    assert pair.state == "active"
    # in a proposed circle
    world2 = _world(db)
    other = _accept(db, world2, "grace", _ask(db, world2, "lea", "grace"))
    _accept(db, world2, "grace", _ask(db, world2, "leo", "grace"))
    for key in ("grace", "lea"):
        pairs.accept_agreement(db, world2.viewer(db, key), other.id, now=T0)
    db.commit()
    db.refresh(other)
    assert other.state == "proposed"
    pairs.leave(db, world2.viewer(db, "leo"), other.id, now=T0 + timedelta(hours=1))
    db.commit()
    db.refresh(other)
    assert other.state == "active"


def test_the_mentor_leaving_alone_ends_the_circle(db) -> None:
    world = _world(db)
    pair = _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    _accept(db, world, "grace", _ask(db, world, "leo", "grace"))
    pairs.leave(db, world.viewer(db, "grace"), pair.id, now=T0)
    db.commit()
    db.refresh(pair)
    assert pair.state == "ended" and pair.end_reason == "no_fault"
    told = sorted(m.recipient for m in _mails(db, pairs.MAIL_PAIR))
    assert told == ["lea@example.org", "leo@example.org"]


# --- bulk matching in a group programme ---------------------------------------------------------


def test_bulk_approval_puts_a_mentors_mentees_in_one_circle(db) -> None:
    world = _world(db)
    grace, liv = _uid(world, "grace"), _uid(world, "liv")
    lea, leo, mia = _uid(world, "lea"), _uid(world, "leo"), _uid(world, "mia")
    # Mia asked Liv while mentees chose; then staff switch to matching everyone at once
    asked = _ask(db, world, "mia", "liv")
    world.programme.matching = "staff_bulk"
    db.commit()
    ines = world.viewer(db, "ines")
    made = bulk.approve(db, ines, world.programme, {lea: grace, leo: grace, mia: liv}, now=T0)
    db.commit()
    # one pair per mentee, in mentee id order; Lea and Leo share Grace's circle
    by_mentee = dict(zip(sorted([lea, leo, mia]), made, strict=True))
    assert by_mentee[lea].id == by_mentee[leo].id != by_mentee[mia].id
    circles = {
        p.id: _members(db, p.id) for p in db.scalars(select(Pair).where(Pair.state == "proposed"))
    }
    assert sorted(sorted(m) for m in circles.values()) == sorted(
        [sorted([grace, lea, leo]), sorted([liv, mia])]
    )
    grace_circle = next(i for i, m in circles.items() if grace in m)
    assert db.get(Pair, grace_circle).goals == ""  # several mentees: the circle writes its own
    ids = set(
        db.scalars(
            select(PairCompetency.competency_id).where(PairCompetency.pair_id == grace_circle)
        )
    )
    assert ids == {world.competencies[0].id, world.competencies[1].id}
    # Mia's open request was withdrawn in the same transaction
    assert db.get(Request, asked.id).state == "withdrawn"
    matched = [
        r
        for r in db.scalars(select(XapiOutbox))
        if r.object_id.endswith(f"/mentorship/{grace_circle}")
    ]
    assert len(matched) == 2  # one statement per mentee matched into the circle
    to_grace = [m for m in _mails(db, bulk.MAIL_MATCHED) if m.recipient == "grace@example.org"]
    assert len(to_grace) == 1 and "Lea Learner, Leo Learner" in to_grace[0].text_body
    # a later approval adds to Grace's open circle (she has one place left)
    profiles.save_profile(
        db,
        world.viewer(db, "liv"),
        world.programme,
        as_mentor=False,
        as_mentee=True,
        mentee_needs={world.competencies[0].id: (1, 3)},
    )
    db.commit()
    # Liv left mentoring: her circle with Mia stays; she is now a mentee waiting
    again = bulk.approve(db, ines, world.programme, {liv: grace}, now=T0 + timedelta(days=1))
    db.commit()
    assert [p.id for p in again] == [grace_circle]
    assert set(_members(db, grace_circle)) == {grace, lea, leo, liv}
    assert pairs.taken_places(db, world.programme.id)[grace] == 3


# --- the races ----------------------------------------------------------------------------------


def test_two_accepts_at_once_never_take_a_mentor_over_capacity(app, db) -> None:
    world = _world(db)
    profiles.my_profile(db, world.viewer(db, "liv"), world.programme).capacity = 1
    db.commit()
    first = _ask(db, world, "lea", "liv")
    second = _ask(db, world, "leo", "liv")
    programme_id = world.programme.id
    # a second worker's session read the programme and Liv's free place before the first acted
    with new_session(app) as other:
        programme = other.get(Programme, programme_id)
        assert programme.matching == "mentee_choice"
        assert pairs.taken_places(other, programme_id) == {}
        requests.answer(db, world.viewer(db, "liv"), first.id, accept=True, now=T0)
        db.commit()
        with pytest.raises(Refusal) as refused:
            requests.answer(other, world.viewer(other, "liv"), second.id, accept=True, now=T0)
        assert refused.value.status == 409 and "no free place" in refused.value.message
        other.rollback()
    db.expire_all()
    assert pairs.taken_places(db, programme_id) == {_uid(world, "liv"): 1}
    assert db.get(Request, second.id).state == "open"


def test_a_programme_switched_to_staff_matching_refuses_old_requests(app, db) -> None:
    world = _world(db)
    asked = _ask(db, world, "lea", "grace")
    programme_id = world.programme.id
    with new_session(app) as other:
        stale = other.get(Programme, programme_id)
        assert stale.matching == "mentee_choice"  # the other session read it before the switch
        world.programme.matching = "staff_bulk"
        db.commit()
        with pytest.raises(Refusal) as refused:
            requests.answer(other, world.viewer(other, "grace"), asked.id, accept=True, now=T0)
        assert refused.value.status == 409 and "done by programme staff" in refused.value.message
        other.rollback()
    db.expire_all()
    assert db.get(Request, asked.id).state == "open"
    assert db.scalar(select(func.count()).select_from(Pair)) == 0
    # declining is still possible
    requests.answer(db, world.viewer(db, "grace"), asked.id, accept=False, now=T0)
    db.commit()
    assert db.get(Request, asked.id).state == "declined"


def test_an_accept_and_a_bulk_approval_one_after_the_other(app, db) -> None:
    world = _world(db)
    grace = _uid(world, "grace")
    profiles.my_profile(db, world.viewer(db, "grace"), world.programme).capacity = 1
    db.commit()
    asked = _ask(db, world, "lea", "grace")
    programme_id = world.programme.id
    with new_session(app) as other:
        # the staff's session previewed while Grace had her place
        programme = other.get(Programme, programme_id)
        requests.answer(db, world.viewer(db, "grace"), asked.id, accept=True, now=T0)
        db.commit()
        programme.matching = "staff_bulk"
        other.commit()
        with pytest.raises(Refusal) as refused:
            bulk.approve(
                other, world.viewer(other, "ines"), programme, {_uid(world, "leo"): grace}, now=T0
            )
        assert refused.value.status == 409
        other.rollback()
    db.expire_all()
    assert pairs.taken_places(db, programme_id) == {grace: 1}


def test_the_co_mentor_options_read_in_a_fixed_number_of_queries(app, db) -> None:
    world = _world(db)
    pair = _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    ines = world.viewer(db, "ines")
    with count_queries(app) as small:
        pairs.co_mentor_options(db, ines, pair.id)
    for key in ("n1", "n2", "n3", "n4"):
        _person(db, world, key, f"Nell {key}")
        profiles.save_profile(
            db,
            world.viewer(db, key),
            world.programme,
            as_mentor=True,
            as_mentee=False,
            mentor_levels={world.competencies[0].id: 3},
            capacity=2,
        )
    db.commit()
    with count_queries(app) as large:
        options = pairs.co_mentor_options(db, ines, pair.id)
    assert len(options) == 5 and len(large) == len(small)


def test_reminders_pulses_and_to_do_are_for_the_current_members(db) -> None:
    world = _world(db)
    pair = _accept(db, world, "grace", _ask(db, world, "lea", "grace"))
    _accept(db, world, "grace", _ask(db, world, "leo", "grace"))
    _accept_all(db, world, pair.id, T0)
    pairs.leave(db, world.viewer(db, "leo"), pair.id, now=T0 + timedelta(days=1))
    db.commit()
    later = T0 + timedelta(days=31)
    assert reminders.remind_check_ins(db, now=later) == 1
    assert reminders.create_pulses(db, now=later) == 2
    db.commit()
    reminded = sorted(m.recipient for m in _mails(db, reminders.MAIL_REMINDER))
    assert reminded == ["grace@example.org", "lea@example.org"]
    owed = set(db.scalars(select(Pulse.user_id).where(Pulse.pair_id == pair.id)))
    assert owed == {_uid(world, "grace"), _uid(world, "lea")}
    assert reminders.to_do(db, world.viewer(db, "leo"), world.programme, now=later).check_ins == []
    (due,) = reminders.to_do(db, world.viewer(db, "lea"), world.programme, now=later).check_ins
    assert due.partners == ["Grace Mentor"]


@pytest.mark.postgres
def test_an_accept_waits_for_the_programme_lock_held_by_another(app, db) -> None:
    """Truly at the same moment (PostgreSQL): while one accept holds the programme's row, a
    second accept for the same mentor waits, then finds her place taken."""
    world = _world(db)
    profiles.my_profile(db, world.viewer(db, "liv"), world.programme).capacity = 1
    db.commit()
    first = _ask(db, world, "lea", "liv")
    second = _ask(db, world, "leo", "liv")
    outcome: dict[str, object] = {}

    def other_accept() -> None:
        with new_session(app) as other:
            try:
                requests.answer(other, world.viewer(other, "liv"), second.id, accept=True, now=T0)
                other.commit()
                outcome["result"] = "accepted"
            except Refusal as exc:
                other.rollback()
                outcome["result"] = (exc.status, exc.message)

    requests.answer(db, world.viewer(db, "liv"), first.id, accept=True, now=T0)  # holds the lock
    waiting = threading.Thread(target=other_accept)
    waiting.start()
    waiting.join(timeout=1.5)
    assert waiting.is_alive() and outcome == {}  # blocked on the programme's row
    db.commit()
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    status, message = outcome["result"]  # type: ignore[misc]
    assert status == 409 and "no free place" in message
    db.expire_all()
    assert pairs.taken_places(db, world.programme.id) == {_uid(world, "liv"): 1}
    assert db.get(Request, second.id).state == "open"


@pytest.mark.postgres
def test_an_accept_waits_for_a_bulk_approval_holding_the_lock(app, db) -> None:
    """A bulk approval and an accept at the same moment (PostgreSQL): the accept waits for the
    approval's lock, then reads the programme as the approval left it and is refused (409); the
    mentor's one place went to the bulk match."""
    world = _world(db)
    liv = _uid(world, "liv")
    profiles.my_profile(db, world.viewer(db, "liv"), world.programme).capacity = 1
    db.commit()
    asked = _ask(db, world, "lea", "liv")
    outcome: dict[str, object] = {}

    def other_accept() -> None:
        with new_session(app) as other:
            try:
                requests.answer(other, world.viewer(other, "liv"), asked.id, accept=True, now=T0)
                other.commit()
                outcome["result"] = "accepted"
            except Refusal as exc:
                other.rollback()
                outcome["result"] = (exc.status, exc.message)

    world.programme.matching = "staff_bulk"
    db.commit()
    bulk.approve(db, world.viewer(db, "ines"), world.programme, {_uid(world, "leo"): liv}, now=T0)
    waiting = threading.Thread(target=other_accept)
    waiting.start()
    waiting.join(timeout=1.5)
    assert waiting.is_alive() and outcome == {}
    db.commit()
    waiting.join(timeout=30)
    status, _message = outcome["result"]  # type: ignore[misc]
    assert status == 409
    db.expire_all()
    assert pairs.taken_places(db, world.programme.id) == {liv: 1}
