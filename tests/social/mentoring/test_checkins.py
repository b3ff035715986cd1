"""Check-ins (services, slice "relationship"): the checks (a refused check-in changes nothing),
the pair's next due check-in and reminder, one statement per member (mentors "mentored",
mentees "attended", the length as result.duration, the pair as parent, the check-in found by its
activity IRI) that never carries the notes, and staff seeing dates and lengths only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from plugin import events
from plugin.access import Refusal
from plugin.social.mentoring import checkins, pairs
from plugin.social.mentoring.models import CheckIn, CheckInCompetency, Pair
from plugin.xapi import statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.models import XapiOutbox
from plugin.xapi.validate import validate_statement
from tests.social.mentoring.pair_world import WHEN, pair_world
from tests.social.social_world import count_queries

NOTE = "Lea fears the budget talk with her director"
STEPS = "Draft the three opening sentences"


def _active(db):
    w = pair_world(db)
    coaching, feedback, _ = w.world.competencies
    pairs.update_agreement(
        db,
        w.viewer(db, "lea"),
        w.pair_id,
        starts_on="2026-03-02",
        ends_on="2026-12-31",
        cadence_days="14",
        place="Room 4",
        competency_ids=[coaching.id, feedback.id],
    )
    pairs.accept_agreement(db, w.viewer(db, "lea"), w.pair_id, now=WHEN)
    pairs.accept_agreement(db, w.viewer(db, "leo"), w.pair_id, now=WHEN)
    db.commit()
    return w


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_check_in_moves_the_due_date_and_gives_one_statement_per_member(
    app, db, monkeypatch
) -> None:
    w = _active(db)
    published: list[events.DomainEvent] = []
    original = events.publish

    def recording(session, event: events.DomainEvent) -> None:
        published.append(event)
        original(session, event)

    monkeypatch.setattr(events, "publish", recording)
    coaching = w.world.competencies[0]
    pair = db.get(Pair, w.pair_id)
    assert pairs.aware(pair.check_in_due_at) == WHEN + timedelta(days=14)
    pair.reminded_at = WHEN  # as if the reminder had gone out
    db.commit()
    statements_before = _count(db, XapiOutbox)
    now = datetime(2026, 3, 20, 15, tzinfo=UTC)
    made = checkins.log(
        db,
        w.viewer(db, "lea"),
        w.pair_id,
        held_on="2026-03-19",
        duration_minutes="75",
        notes=NOTE,
        next_steps=STEPS,
        competency_ids=[coaching.id],
        now=now,
    )
    db.commit()
    pair = db.get(Pair, w.pair_id)
    db.refresh(pair)
    assert pairs.aware(pair.check_in_due_at) == datetime(2026, 4, 2, tzinfo=UTC)
    assert pair.reminded_at is None
    assert made.logged_by == w.user_id("lea") and made.held_on == date(2026, 3, 19)
    # an older meeting logged later does not pull the due date back
    checkins.log(
        db, w.viewer(db, "leo"), w.pair_id, held_on="2026-03-05", duration_minutes=30, now=now
    )
    db.commit()
    db.refresh(pair)
    assert pairs.aware(pair.check_in_due_at) == datetime(2026, 4, 2, tzinfo=UTC)
    # both were held on or after the activation day: programme health counts them from the pair
    assert pairs.aware(pair.activated_at).date() <= date(2026, 3, 5)
    assert pair.check_ins_logged == 2

    assert _count(db, XapiOutbox) == statements_before + 4  # two check-ins, two members each
    rows = list(
        db.scalars(select(XapiOutbox).where(XapiOutbox.object_id.endswith(f"/checkin/{made.id}")))
    )
    assert len(rows) == 2
    by_actor = {row.actor_user_id: row.statement for row in rows}
    assert set(by_actor) == {w.user_id("lea"), w.user_id("leo")}
    base = statements.base_url()
    mentee, mentor = by_actor[w.user_id("lea")], by_actor[w.user_id("leo")]
    assert mentee["verb"]["id"] == vocab.Verbs.ATTENDED.iri
    assert mentor["verb"]["id"] == vocab.Verbs.MENTORED.iri
    for st, slug in ((mentee, "checkin-attended"), (mentor, "checkin-mentored")):
        validate_statement(st, base=base, kind=vocab.kind_by_slug(slug))
        assert st["result"] == {"duration": "PT1H15M"}
        assert st["object"]["id"].endswith(f"/checkin/{made.id}")
        (parent,) = st["context"]["contextActivities"]["parent"]
        assert parent["id"].endswith(f"/mentorship/{w.pair_id}")
        assert [o["id"] for o in st["context"]["contextActivities"]["other"]] == [coaching.uri]
    # no private text in any event's data, nor anywhere in any statement
    assert [e.kind for e in published] == [events.CHECKIN_LOGGED] * 4
    assert {e.data["role"] for e in published} == {"mentor", "mentee"}
    assert NOTE not in str([e.data for e in published]) and STEPS not in str(published)
    every = str([row.statement for row in db.scalars(select(XapiOutbox))])
    assert NOTE not in every and STEPS not in every and "budget" not in every
    # the check-in's activity IRI resolves on its platform, not on another
    found = events.find_activity(db, w.world.programme.platform_id, "checkin", str(made.id))
    assert found == checkins.checkin_ref(made)
    assert (
        events.find_activity(db, w.world.programme.platform_id + 999, "checkin", str(made.id))
        is None
    )
    assert events.find_activity(db, w.world.programme.platform_id, "checkin", "x1") is None


def test_refused_check_ins_change_nothing(db) -> None:
    w = pair_world(db)
    lea = w.viewer(db, "lea")
    now = datetime(2026, 3, 20, 15, tzinfo=UTC)
    # a proposed pair takes no check-ins yet
    with pytest.raises(Refusal) as refused:
        checkins.log(db, lea, w.pair_id, held_on="2026-03-19", duration_minutes=30, now=now)
    assert refused.value.status == 409
    db.rollback()
    w = _active(db)
    lea = w.viewer(db, "lea")
    delegating = w.world.competencies[2]  # offered by the programme, not the pair's
    before = (_count(db, CheckIn), _count(db, CheckInCompetency), _count(db, XapiOutbox))
    bad = [
        ({"held_on": "2026-03-21"}, 400, "future"),
        ({"held_on": "2026-03-01"}, 400, "before the mentorship started"),
        ({"held_on": "yesterday"}, 400, "date"),
        ({"duration_minutes": "4"}, 400, "5 to 600"),
        ({"duration_minutes": 601}, 400, "5 to 600"),
        ({"duration_minutes": "an hour"}, 400, "whole number"),
        ({"notes": "x" * 4001}, 400, "at most 4000"),
        ({"next_steps": "\x00"}, 400, "NUL"),
        ({"competency_ids": [delegating.id]}, 400, "offers"),
    ]
    good = {"held_on": "2026-03-19", "duration_minutes": 30}
    for change, status, words in bad:
        with pytest.raises(Refusal) as refused:
            checkins.log(db, lea, w.pair_id, **{**good, **change}, now=now)
        assert refused.value.status == status and words in refused.value.message, change
        db.rollback()
    for who, status in (("ines", 403), ("liv", 404)):
        with pytest.raises(Refusal) as refused:
            checkins.log(db, w.viewer(db, who), w.pair_id, **good, now=now)
        assert refused.value.status == status
        db.rollback()
    assert (_count(db, CheckIn), _count(db, CheckInCompetency), _count(db, XapiOutbox)) == before
    # an ended pair takes no more
    pairs.leave(db, lea, w.pair_id, now=now)
    db.commit()
    with pytest.raises(Refusal) as refused:
        checkins.log(db, lea, w.pair_id, **good, now=now)
    assert refused.value.status == 409
    db.rollback()


def test_staff_see_dates_and_lengths_never_notes(app, db) -> None:
    w = _active(db)
    coaching = w.world.competencies[0]
    now = datetime(2026, 3, 30, tzinfo=UTC)
    for day in range(3, 9):
        checkins.log(
            db,
            w.viewer(db, "leo"),
            w.pair_id,
            held_on=f"2026-03-{day:02d}",
            duration_minutes=20 + day,
            notes=f"{NOTE} {day}",
            next_steps=STEPS,
            competency_ids=[coaching.id],
            now=now,
        )
    db.commit()
    lea = checkins.list_checkins(db, w.viewer(db, "lea"), w.pair_id)
    assert [c.held_on.day for c in lea] == [8, 7, 6, 5, 4, 3]
    assert lea[0].notes == f"{NOTE} 8" and lea[0].next_steps == STEPS
    assert lea[0].logged_by_name == "Leo Learner"
    assert [c.name for c in lea[0].competencies] == [coaching.name]
    ines = w.viewer(db, "ines")
    with count_queries(app) as seen:
        staff = checkins.list_checkins(db, ines, w.pair_id)
    assert len(seen) <= 8, seen  # access (pair, programme, members) + rows, competencies, names
    assert [(c.held_on, c.duration_minutes) for c in staff] == [
        (c.held_on, c.duration_minutes) for c in lea
    ]
    assert all(c.notes is None and c.next_steps is None for c in staff)
    with pytest.raises(Refusal) as refused:
        checkins.list_checkins(db, w.viewer(db, "liv"), w.pair_id)
    assert refused.value.status == 404
