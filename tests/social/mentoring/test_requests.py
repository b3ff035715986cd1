"""Mentoring requests (services): ranked candidates with their score parts, sending a request
to a mentor or the pool, the mentor's answer (a proposed pair, or a decline on record), the
mentee's withdrawal, expiry, the refusals, the domain events (xAPI statements valid with Ralph's
models and the Profile's templates) and the e-mail queued in the same transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from plugin.access import Refusal
from plugin.mail.models import MailOutbox
from plugin.social.mentoring import profiles, programmes, requests
from plugin.social.mentoring.models import (
    Pair,
    PairCompetency,
    PairMember,
    Request,
    RequestDecline,
)
from plugin.xapi import statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.models import XapiOutbox
from plugin.xapi.validate import validate_statement
from tests.social.mentoring.programme_world import programme_world

WEEK = date(2025, 1, 13)


def _world(db, **settings):
    world = programme_world(db, **settings)
    coaching, feedback, delegating = world.competencies
    for key, user in world.course.users.items():
        user.email = f"{key}@example.org"
    # Lea is a mentee; Leo and Liv mentor (Liv higher on coaching); Grace mentors delegating only
    profiles.save_profile(
        db,
        world.viewer(db, "lea"),
        world.programme,
        as_mentor=False,
        as_mentee=True,
        mentee_needs={coaching.id: (1, 3)},
        time_zone="Europe/Paris",
        availability=[[2, 18, 20]],
        languages=["fr"],
    )
    profiles.save_profile(
        db,
        world.viewer(db, "leo"),
        world.programme,
        as_mentor=True,
        as_mentee=False,
        mentor_levels={coaching.id: 3, feedback.id: 2},
        capacity=1,
        time_zone="Europe/Paris",
        availability=[[2, 18, 20]],
        languages=["fr"],
    )
    profiles.save_profile(
        db,
        world.viewer(db, "liv"),
        world.programme,
        as_mentor=True,
        as_mentee=False,
        mentor_levels={coaching.id: 4},
        capacity=2,
        languages=["de"],
    )
    profiles.save_profile(
        db,
        world.viewer(db, "grace"),
        world.programme,
        as_mentor=True,
        as_mentee=False,
        mentor_levels={delegating.id: 4},
    )
    db.commit()
    return world


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_candidates_are_ranked_with_their_parts(db) -> None:
    world = _world(db)
    coaching = world.competencies[0]
    found = requests.candidates(
        db, world.viewer(db, "lea"), world.programme, {coaching.id: (1, 3)}, week=WEEK
    )
    users = world.course.users
    # Grace holds no requested competency: blocked; Leo shares time and language with Lea
    assert [c.user_id for c in found] == [users["leo"].id, users["liv"].id]
    assert found[0].score.total > found[1].score.total
    assert [p.name for p in found[0].score.parts] == [
        "competency",
        "level_gap",
        "availability",
        "capacity",
        "languages",
        "history",
    ]
    assert found[0].score.part("languages").value == 1.0
    assert found[1].score.part("languages").value == 0.0
    # a learner without a mentee profile is told to opt in
    with pytest.raises(Refusal) as refused:
        requests.candidates(db, world.viewer(db, "leo"), world.programme, {coaching.id: (1, 3)})
    assert refused.value.status == 409 and "mentee" in refused.value.message


def test_send_accept_makes_a_proposed_pair_events_and_mail(db) -> None:
    world = _world(db)
    coaching = world.competencies[0]
    users = world.course.users
    now = datetime(2025, 1, 14, 9, tzinfo=UTC)
    request = requests.send_request(
        db,
        world.viewer(db, "lea"),
        world.programme,
        {coaching.id: (1, 3)},
        goal="Run better one-to-ones.",
        cadence_days="14",
        mentor_id=users["leo"].id,
        now=now,
    )
    db.commit()
    assert request.state == "open" and request.cadence_days == 14
    assert request.expires_at.replace(tzinfo=UTC) == now + timedelta(days=requests.REQUEST_DAYS)
    mails = list(db.scalars(select(MailOutbox).order_by(MailOutbox.id)))
    assert [(m.recipient, m.kind) for m in mails] == [("leo@example.org", "mentoring.requested")]
    assert "Lea Learner" in mails[0].text_body and "Run better one-to-ones." in mails[0].text_body

    # a second open request to the same mentor is refused; a learner cannot answer for Leo
    with pytest.raises(Refusal) as refused:
        requests.send_request(
            db,
            world.viewer(db, "lea"),
            world.programme,
            {coaching.id: (1, 3)},
            mentor_id=users["leo"].id,
            now=now,
        )
    assert refused.value.status == 409
    db.rollback()
    with pytest.raises(Refusal) as refused:
        requests.answer(db, world.viewer(db, "lea"), request.id, accept=True, now=now)
    assert refused.value.status == 403
    with pytest.raises(Refusal) as refused:
        requests.answer(db, world.viewer(db, "liv"), request.id, accept=True, now=now)
    assert refused.value.status == 404
    db.rollback()

    requests.answer(db, world.viewer(db, "leo"), request.id, accept=True, message="Gladly", now=now)
    db.commit()
    request = db.get(Request, request.id)
    assert (request.state, request.reply) == ("accepted", "Gladly")
    pair = db.scalar(select(Pair).where(Pair.request_id == request.id))
    assert pair.state == "proposed" and pair.cadence_days == 14
    assert pair.goals == "Run better one-to-ones."
    members = {(m.user_id, m.role) for m in db.scalars(select(PairMember))}
    assert members == {(users["leo"].id, "mentor"), (users["lea"].id, "mentee")}
    assert [c.competency_id for c in db.scalars(select(PairCompetency))] == [coaching.id]
    answered = db.scalars(select(MailOutbox).where(MailOutbox.kind == "mentoring.answered")).all()
    assert [m.recipient for m in answered] == ["lea@example.org"]
    # answering twice is refused
    with pytest.raises(Refusal) as refused:
        requests.answer(db, world.viewer(db, "leo"), request.id, accept=False, now=now)
    assert refused.value.status == 409
    db.rollback()

    # the statements: requested (by Lea) and accepted (by Leo), the competency in 'other', valid
    rows = {row.statement["verb"]["id"]: row for row in db.scalars(select(XapiOutbox))}
    requested = rows[vocab.Verbs.REQUESTED.iri]
    accepted = rows[vocab.Verbs.ACCEPTED.iri]
    base = statements.base_url()
    for row, kind in ((requested, "mentor-requested"), (accepted, "mentorship-accepted")):
        st = row.statement
        assert [o["id"] for o in st["context"]["contextActivities"]["other"]] == [coaching.uri]
        validate_statement(st, base=base, kind=vocab.kind_by_slug(kind))
    assert requested.statement["object"]["id"].endswith(f"/mentoring-request/{request.id}")
    assert accepted.statement["object"]["id"].endswith(f"/mentorship/{pair.id}")
    # Leo's one place is now taken: a new request to him is refused
    with pytest.raises(Refusal) as refused:
        requests.send_request(
            db,
            world.viewer(db, "lea"),
            world.programme,
            {coaching.id: (1, 3)},
            mentor_id=users["leo"].id,
            now=now,
        )
    assert refused.value.status == 409 and "free place" in refused.value.message


def test_decline_records_history_and_withdraw(db) -> None:
    world = _world(db)
    coaching = world.competencies[0]
    users = world.course.users
    lea = world.viewer(db, "lea")
    first = requests.send_request(
        db, lea, world.programme, {coaching.id: (1, 3)}, mentor_id=users["liv"].id
    )
    db.commit()
    requests.answer(db, world.viewer(db, "liv"), first.id, accept=False, message="Too busy")
    db.commit()
    assert db.get(Request, first.id).state == "declined"
    decline = db.scalar(select(RequestDecline))
    assert (decline.mentor_id, decline.message) == (users["liv"].id, "Too busy")
    declined = [
        row.statement
        for row in db.scalars(select(XapiOutbox))
        if row.statement["verb"]["id"] == "http://activitystrea.ms/reject"
    ]
    assert len(declined) == 1  # Liv's decline, about the request, with its competency
    assert declined[0]["object"]["id"].endswith(f"/mentoring-request/{first.id}")
    assert [
        a["definition"]["name"]["en-US"]
        for a in declined[0]["context"]["contextActivities"]["other"]
    ] == [coaching.name]
    assert "Too busy" not in str(declined[0])
    # the decline now lowers Liv's history part for Lea
    found = {
        c.user_id: c
        for c in requests.candidates(db, lea, world.programme, {coaching.id: (1, 3)}, week=WEEK)
    }
    assert found[users["liv"].id].score.part("history").value == 0.5
    second = requests.send_request(
        db, lea, world.programme, {coaching.id: (1, 3)}, mentor_id=users["liv"].id
    )
    db.commit()
    with pytest.raises(Refusal) as refused:
        requests.withdraw(db, world.viewer(db, "liv"), second.id)
    assert refused.value.status == 403
    requests.withdraw(db, lea, second.id)
    db.commit()
    assert db.get(Request, second.id).state == "withdrawn"
    mine = requests.my_requests(db, lea, world.programme)
    assert [(v.id, v.state) for v in mine] == [(second.id, "withdrawn"), (first.id, "declined")]
    to_liv = requests.requests_to_me(db, world.viewer(db, "liv"), world.programme)
    assert {v.id for v in to_liv} == {first.id, second.id}


def test_expired_request_cannot_be_answered(db) -> None:
    world = _world(db)
    coaching = world.competencies[0]
    users = world.course.users
    sent = datetime(2025, 1, 1, tzinfo=UTC)
    request = requests.send_request(
        db,
        world.viewer(db, "lea"),
        world.programme,
        {coaching.id: (1, 3)},
        mentor_id=users["leo"].id,
        now=sent,
    )
    db.commit()
    later = sent + timedelta(days=requests.REQUEST_DAYS, seconds=1)
    with pytest.raises(Refusal) as refused:
        requests.answer(db, world.viewer(db, "leo"), request.id, accept=True, now=later)
    assert refused.value.status == 409 and "expired" in refused.value.message
    db.rollback()
    views = requests.my_requests(db, world.viewer(db, "lea"), world.programme, now=later)
    assert views[0].state == "expired"
    # a new request to the same mentor is allowed once the old one expired
    requests.send_request(
        db,
        world.viewer(db, "lea"),
        world.programme,
        {coaching.id: (1, 3)},
        mentor_id=users["leo"].id,
        now=later,
    )


def test_pool_request_first_accept_wins(db) -> None:
    world = _world(db, matching="mentor_pool")
    coaching = world.competencies[0]
    users = world.course.users
    request = requests.send_request(
        db, world.viewer(db, "lea"), world.programme, {coaching.id: (1, 3)}, to_pool=True
    )
    db.commit()
    assert request.escalate_at is not None
    mails = {m.recipient for m in db.scalars(select(MailOutbox))}
    assert mails == {"leo@example.org", "liv@example.org"}  # Grace mentors another competency
    assert [
        v.id for v in requests.requests_to_me(db, world.viewer(db, "leo"), world.programme)
    ] == [request.id]
    assert requests.requests_to_me(db, world.viewer(db, "grace"), world.programme) == []
    with pytest.raises(Refusal) as refused:
        requests.answer(db, world.viewer(db, "grace"), request.id, accept=True)
    assert refused.value.status == 404
    db.rollback()
    # Leo declines (the request stays open), Liv accepts, then Leo is too late
    requests.answer(db, world.viewer(db, "leo"), request.id, accept=False, message="Full")
    db.commit()
    assert db.get(Request, request.id).state == "open"
    assert requests.requests_to_me(db, world.viewer(db, "leo"), world.programme) == []
    requests.answer(db, world.viewer(db, "liv"), request.id, accept=True)
    db.commit()
    assert db.get(Request, request.id).mentor_id == users["liv"].id
    assert _count(db, Pair) == 1


def test_refusals_change_nothing(db) -> None:
    world = _world(db)
    coaching, _, delegating = world.competencies
    users = world.course.users
    lea = world.viewer(db, "lea")
    cases = [
        ({"mentor_id": users["lea"].id}, 409),  # self
        ({"mentor_id": users["ines"].id}, 404),  # not a mentor
        ({"mentor_id": 2**31 - 1}, 404),
        ({}, 400),  # neither mentor nor pool
        ({"mentor_id": users["leo"].id, "to_pool": True}, 400),
        ({"to_pool": True}, 409),  # no pool in a mentee-choice programme
        ({"mentor_id": users["grace"].id}, 409),  # Grace holds no requested competency
        ({"mentor_id": users["leo"].id, "cadence_days": "0"}, 400),
        ({"mentor_id": users["leo"].id, "goal": "x" * 3000}, 400),
    ]
    for kwargs, status in cases:
        with pytest.raises(Refusal) as refused:
            requests.send_request(db, lea, world.programme, {coaching.id: (1, 3)}, **kwargs)
        assert refused.value.status == status, kwargs
        db.rollback()
    for needs, status in (({}, 400), ({coaching.id: (3, 3)}, 400), ({2**31 - 1: (0, 1)}, 404)):
        with pytest.raises(Refusal) as refused:
            requests.send_request(db, lea, world.programme, needs, mentor_id=users["leo"].id)
        assert refused.value.status == status
        db.rollback()
    assert _count(db, Request) == 0 and _count(db, MailOutbox) == 0
    # staff bulk programmes take no requests
    programmes.update_settings(db, world.viewer(db, "ines"), world.programme, matching="staff_bulk")
    with pytest.raises(Refusal) as refused:
        requests.send_request(
            db, lea, world.programme, {delegating.id: (0, 2)}, mentor_id=users["grace"].id
        )
    assert refused.value.status == 409


def test_other_course_request_is_not_found(db) -> None:
    world = _world(db)
    other = programme_world(db)
    coaching = world.competencies[0]
    request = requests.send_request(
        db,
        world.viewer(db, "lea"),
        world.programme,
        {coaching.id: (1, 3)},
        mentor_id=world.course.users["leo"].id,
    )
    db.commit()
    for act in (
        lambda v: requests.answer(db, v, request.id, accept=True),
        lambda v: requests.withdraw(db, v, request.id),
    ):
        with pytest.raises(Refusal) as refused:
            act(other.viewer(db, "ines"))
        assert refused.value.status == 404
        db.rollback()
