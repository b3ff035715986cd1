"""Mentorships (services, slice "relationship"): the agreement (edits and their checks, an edit
clearing the other side's acceptance, every member accepting makes the pair active), health by
the shared rule, the lists with their query counts, the meetings' .ics, the no-fault exit,
re-matching and staff ending (e-mails, freed places), and who may do what (404 for others)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from plugin.access import Refusal
from plugin.mail.models import MailOutbox
from plugin.social.mentoring import pairs, programmes, requests
from plugin.social.mentoring.models import Pair, PairCompetency, PairMember, Pulse
from plugin.xapi import statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.models import XapiOutbox
from plugin.xapi.validate import validate_statement
from tests.social.mentoring.pair_world import WHEN, pair_world
from tests.social.mentoring.programme_world import programme_world
from tests.social.social_world import count_queries, make_course

GOOD = {
    "starts_on": "2026-03-09",
    "ends_on": "2026-09-09",
    "cadence_days": "21",
    "place": "Room 4.12",
    "link": "https://meet.example.org/lea-leo",
    "goals": "Two hard conversations, prepared together.",
}


def _snapshot(db, pair_id: int):
    pair = db.get(Pair, pair_id)
    db.refresh(pair)
    comps = sorted(db.scalars(select(PairCompetency.competency_id)))
    accepted = sorted((m.user_id, m.accepted_at) for m in db.scalars(select(PairMember)))
    return (
        pair.state,
        pair.starts_on,
        pair.ends_on,
        pair.cadence_days,
        pair.place,
        pair.link,
        pair.goals,
        comps,
        accepted,
    )


def test_agreement_edits_are_checked_and_clear_the_other_side(db) -> None:
    w = pair_world(db)
    coaching, feedback, delegating = w.world.competencies
    lea, leo = w.viewer(db, "lea"), w.viewer(db, "leo")
    edit = pairs.update_agreement(
        db, lea, w.pair_id, **GOOD, competency_ids=[coaching.id], now=WHEN
    )
    db.commit()
    assert edit.changed and edit.cleared == []
    pair = db.get(Pair, w.pair_id)
    assert (pair.starts_on, pair.ends_on, pair.cadence_days) == (
        date(2026, 3, 9),
        date(2026, 9, 9),
        21,
    )
    # Leo accepts; Lea then changes the place: Leo's acceptance is cleared (and she is told)
    pairs.accept_agreement(db, leo, w.pair_id, now=WHEN)
    db.commit()
    edit = pairs.update_agreement(
        db,
        lea,
        w.pair_id,
        **{**GOOD, "place": "Café Nord"},
        competency_ids=[coaching.id],
        now=WHEN,
    )
    db.commit()
    assert edit.cleared == ["Leo Learner"]
    assert all(m.accepted_at is None for m in db.scalars(select(PairMember)))
    # the same values again change nothing and clear nothing
    pairs.accept_agreement(db, leo, w.pair_id, now=WHEN)
    db.commit()
    same = pairs.update_agreement(
        db, lea, w.pair_id, **{**GOOD, "place": "Café Nord"}, competency_ids=[coaching.id]
    )
    assert not same.changed and same.cleared == []
    db.commit()
    before = _snapshot(db, w.pair_id)
    bad = [
        ({"ends_on": "2026-03-09"}, "after the start"),
        ({"ends_on": "2026-03-15"}, "at least 7 days"),
        ({"ends_on": "2029-03-10"}, "at most 3 years"),
        ({"starts_on": "next week"}, "date"),
        ({"starts_on": "9999-12-01", "ends_on": "9999-12-31"}, "between 2000 and 2100"),
        ({"starts_on": "0001-01-01"}, "between 2000 and 2100"),
        ({"cadence_days": "0"}, "every 1 to 180"),
        ({"cadence_days": "181"}, "every 1 to 180"),
        ({"cadence_days": "often"}, "whole number"),
        ({"link": "javascript:alert(1)"}, "https://"),
        ({"link": "ftp://files.example.org/x"}, "https://"),
        ({"place": "x" * 501}, "at most 500"),
        ({"goals": "x" * 2001}, "at most 2000"),
    ]
    for change, words in bad:
        with pytest.raises(Refusal) as refused:
            pairs.update_agreement(
                db, lea, w.pair_id, **{**GOOD, **change}, competency_ids=[coaching.id]
            )
        assert refused.value.status == 400 and words in refused.value.message, change
        db.rollback()
    for ids, words in (([], "at least one"), ([delegating.id + 10_000], "offers")):
        with pytest.raises(Refusal) as refused:
            pairs.update_agreement(db, lea, w.pair_id, **GOOD, competency_ids=ids)
        assert refused.value.status == 400 and words in refused.value.message
        db.rollback()
    assert _snapshot(db, w.pair_id) == before
    # 3 years exactly is allowed
    pairs.update_agreement(
        db,
        lea,
        w.pair_id,
        **{**GOOD, "ends_on": "2029-03-09"},
        competency_ids=[coaching.id, feedback.id],
    )
    db.rollback()


def test_every_member_accepting_makes_the_pair_active(db) -> None:
    w = pair_world(db)
    lea, leo = w.viewer(db, "lea"), w.viewer(db, "leo")
    coaching = w.world.competencies[0]
    pairs.update_agreement(db, lea, w.pair_id, **GOOD, competency_ids=[coaching.id])
    db.commit()
    first = pairs.accept_agreement(db, lea, w.pair_id, now=WHEN)
    db.commit()
    assert first.state == "proposed" and first.activated_at is None
    with pytest.raises(Refusal) as refused:
        pairs.accept_agreement(db, lea, w.pair_id, now=WHEN)
    assert refused.value.status == 409
    db.rollback()
    later = WHEN + timedelta(hours=5)
    pair = pairs.accept_agreement(db, leo, w.pair_id, now=later)
    db.commit()
    pair = db.get(Pair, w.pair_id)
    assert pair.state == "active"
    assert pairs.aware(pair.activated_at) == later
    assert pairs.aware(pair.check_in_due_at) == later + timedelta(days=21)
    # no more edits or acceptances once active
    with pytest.raises(Refusal) as refused:
        pairs.update_agreement(db, lea, w.pair_id, **GOOD, competency_ids=[coaching.id])
    assert refused.value.status == 409
    db.rollback()
    # two AGREEMENT_MADE statements (Lea's and Leo's), valid, with the pair's competency
    made = [
        row.statement
        for row in db.scalars(select(XapiOutbox))
        if row.statement["verb"]["id"] == vocab.Verbs.AGREED.iri
    ]
    assert len(made) == 2
    base = statements.base_url()
    for st in made:
        validate_statement(st, base=base, kind=vocab.kind_by_slug("agreement-made"))
        assert st["object"]["id"].endswith(f"/mentorship/{w.pair_id}")
        assert [o["id"] for o in st["context"]["contextActivities"]["other"]] == [coaching.uri]
        assert "Two hard conversations" not in str(st)


def test_who_may_see_and_act_on_a_pair(db) -> None:
    w = pair_world(db)
    course = w.world.course
    # Liv (a learner of the course, not in the pair) and another course's people: not found
    other = make_course(db, platform=course.platform, context_key="c-202")
    db.commit()
    outsiders = [w.viewer(db, "liv"), other.viewer(db, "ines"), other.viewer(db, "lea")]
    for who in outsiders:
        for act in (
            lambda who=who: pairs.detail(db, who, w.pair_id),
            lambda who=who: pairs.accept_agreement(db, who, w.pair_id),
            lambda who=who: pairs.leave(db, who, w.pair_id),
            lambda who=who: pairs.staff_end(db, who, w.pair_id),
        ):
            with pytest.raises(Refusal) as refused:
                act()
            assert refused.value.status == 404
            db.rollback()
    # staff read, and only end: no accepting, editing or leaving
    ines = w.viewer(db, "ines")
    seen = pairs.detail(db, ines, w.pair_id)
    assert seen.staff_view and not (seen.may_accept or seen.may_edit or seen.may_leave)
    assert seen.may_end
    for act in (
        lambda: pairs.accept_agreement(db, ines, w.pair_id),
        lambda: pairs.leave(db, ines, w.pair_id),
        lambda: pairs.update_agreement(db, ines, w.pair_id, **GOOD, competency_ids=[]),
    ):
        with pytest.raises(Refusal) as refused:
            act()
        assert refused.value.status == 403
        db.rollback()
    # a member may not end it as staff; the mentor may not re-match
    with pytest.raises(Refusal) as refused:
        pairs.staff_end(db, w.viewer(db, "leo"), w.pair_id)
    assert refused.value.status == 403
    with pytest.raises(Refusal) as refused:
        pairs.rematch(db, w.viewer(db, "leo"), w.pair_id)
    assert refused.value.status == 403
    db.rollback()
    assert db.get(Pair, w.pair_id).state == "proposed"


def test_health_follows_the_shared_rule(db) -> None:
    w = pair_world(db)
    pair = db.get(Pair, w.pair_id)
    assert pairs.health(pair, None, WHEN) is None  # proposed: no health
    pair.state = "active"
    pair.cadence_days = 14
    pair.check_in_due_at = WHEN
    just = timedelta(seconds=1)
    assert pairs.health(pair, None, WHEN) == "on_track"
    assert pairs.health(pair, 3, WHEN) == "on_track"
    assert pairs.health(pair, 2, WHEN) == "at_risk"  # a low pulse
    assert pairs.health(pair, None, WHEN + just) == "needs_check_in"
    assert pairs.health(pair, 5, WHEN + timedelta(days=14)) == "needs_check_in"
    assert pairs.health(pair, 5, WHEN + timedelta(days=14) + just) == "at_risk"
    pair.state = "ended"
    assert pairs.health(pair, 1, WHEN) is None
    db.rollback()
    # the latest answered rating counts, whoever answered; unanswered ones do not
    pair = db.get(Pair, w.pair_id)
    pair.state, pair.check_in_due_at = "active", WHEN + timedelta(days=7)
    lea, leo = w.user_id("lea"), w.user_id("leo")
    db.add_all(
        [
            Pulse(
                pair_id=pair.id, user_id=lea, kind="day_30", due_at=WHEN, rating=1, answered_at=WHEN
            ),
            Pulse(
                pair_id=pair.id,
                user_id=leo,
                kind="day_30",
                due_at=WHEN,
                rating=4,
                answered_at=WHEN + timedelta(days=1),
            ),
            Pulse(pair_id=pair.id, user_id=lea, kind="end", due_at=WHEN),
        ]
    )
    db.commit()
    # as reminders.answer_pulse keeps them: Leo's later 4 wins over Lea's 1, in either order
    pairs.note_rating(db, pair.id, 4, WHEN + timedelta(days=1))
    pairs.note_rating(db, pair.id, 1, WHEN)
    db.commit()
    assert pairs.latest_ratings(db, [pair.id]) == {pair.id: 4}
    assert pairs.health_of(db, [pair], WHEN) == {pair.id: "on_track"}
    pairs.note_rating(db, pair.id, 2, WHEN + timedelta(days=2))
    db.commit()
    assert pairs.health_of(db, [pair], WHEN) == {pair.id: "at_risk"}


def test_lists_of_pairs_and_their_query_counts(app, db) -> None:
    w = pair_world(db)
    programme = w.world.programme
    leo_id = w.user_id("leo")
    # more pairs for Leo (made straight through propose) to see the counts stay flat
    for _ in range(4):
        pairs.propose(
            db,
            programme,
            mentor_ids=[leo_id],
            mentee_ids=[w.user_id("liv")],
            competency_ids=[w.world.competencies[0].id],
            cadence_days=14,
            goals="",
            when=WHEN,
        )
    db.commit()
    leo, ines = w.viewer(db, "leo"), w.viewer(db, "ines")
    mine = pairs.my_pairs(db, leo, programme)
    assert len(mine) == 5 and {p.role for p in mine} == {"mentor"}
    assert [x.name for x in mine[0].people] == ["Leo Learner", "Liv Learner"]
    with count_queries(app) as seen:
        pairs.my_pairs(db, leo, programme)
    assert len(seen) <= 3, seen  # pairs, their people, (pulse ratings only for active pairs)
    with count_queries(app) as seen:
        everyone = pairs.programme_pairs(db, ines, programme)
    assert len(everyone) == 5 and len(seen) <= 3
    assert [p.role for p in everyone] == [None] * 5
    assert pairs.my_pairs(db, w.viewer(db, "lea"), programme)[0].id == w.pair_id
    with pytest.raises(Refusal) as refused:
        pairs.programme_pairs(db, leo, programme)
    assert refused.value.status == 403


def test_leaving_is_no_fault_and_frees_the_mentors_place(db) -> None:
    w = pair_world(db)
    coaching = w.world.competencies[0]
    lea = w.viewer(db, "lea")
    db.query(MailOutbox).delete()
    db.commit()
    # Leo's one place is taken: Lea cannot ask him again while the pair lasts
    with pytest.raises(Refusal) as refused:
        requests.send_request(
            db, lea, w.world.programme, {coaching.id: (1, 3)}, mentor_id=w.user_id("leo")
        )
    assert refused.value.status == 409 and "free place" in refused.value.message
    db.rollback()
    later = WHEN + timedelta(days=3)
    pair = pairs.leave(db, w.viewer(db, "leo"), w.pair_id, now=later)
    db.commit()
    assert (pair.state, pair.end_reason, pairs.aware(pair.ended_at)) == ("ended", "no_fault", later)
    mails = list(db.scalars(select(MailOutbox)))
    assert [(m.recipient, m.kind) for m in mails] == [("lea@example.org", "mentoring.pair")]
    assert "has ended" in mails[0].text_body and "Leo" not in mails[0].text_body
    with pytest.raises(Refusal) as refused:
        pairs.leave(db, lea, w.pair_id)
    assert refused.value.status == 409
    db.rollback()
    # the place is free again: Lea may ask Leo once more
    request = requests.send_request(
        db,
        lea,
        w.world.programme,
        {coaching.id: (1, 3)},
        mentor_id=w.user_id("leo"),
        now=later,
    )
    assert request.state == "open"


def test_rematch_ends_the_pair_and_keeps_what_to_ask_for(db) -> None:
    w = pair_world(db)
    found = pairs.rematch(db, w.viewer(db, "lea"), w.pair_id, now=WHEN)
    db.commit()
    assert found.pair.end_reason == "rematch" and found.pair.state == "ended"
    assert found.competency_ids == sorted(c.id for c in w.world.competencies[:2])
    assert found.goal == "Run better one-to-ones."
    coaching, feedback = w.world.competencies[:2]
    assert found.needs == {coaching.id: (1, 3), feedback.id: (0, 2)}  # from Lea's request
    assert found.cadence_days == 14
    mails = db.scalars(select(MailOutbox).where(MailOutbox.kind == "mentoring.pair")).all()
    assert [m.recipient for m in mails] == ["leo@example.org"]


def test_staff_end_a_pair_and_everyone_is_told(db) -> None:
    w = pair_world(db)
    pair = pairs.staff_end(db, w.viewer(db, "ines"), w.pair_id, now=WHEN)
    db.commit()
    assert (pair.state, pair.end_reason) == ("ended", "staff")
    mails = db.scalars(select(MailOutbox).where(MailOutbox.kind == "mentoring.pair")).all()
    assert sorted(m.recipient for m in mails) == ["lea@example.org", "leo@example.org"]
    assert pairs.detail(db, w.viewer(db, "ines"), w.pair_id).may_end is False


def test_the_meetings_invite(db) -> None:
    w = pair_world(db)
    lea = w.viewer(db, "lea")
    with pytest.raises(Refusal) as refused:
        pairs.meetings_invite(db, lea, w.pair_id, uid_domain="commons.example.edu")
    assert refused.value.status == 409 and "place or link" in refused.value.message
    pairs.update_agreement(db, lea, w.pair_id, **GOOD, competency_ids=[w.world.competencies[0].id])
    db.commit()
    body = pairs.meetings_invite(db, lea, w.pair_id, uid_domain="commons.example.edu", now=WHEN)
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["uid"]) == f"mentoring-pair-{w.pair_id}@commons.example.edu"
    assert event["rrule"]["FREQ"] == ["WEEKLY"] and event["rrule"]["INTERVAL"] == [3]
    assert str(event["location"]) == "Room 4.12"
    assert str(event["url"]) == "https://meet.example.org/lea-leo"
    start = event.decoded("dtstart")
    assert (start.date(), start.hour, str(start.tzinfo)) == (date(2026, 3, 9), 18, "Europe/Paris")
    attendees = sorted(str(a) for a in event["attendee"])
    assert attendees == ["mailto:lea@example.org", "mailto:leo@example.org"]
    assert "Two hard conversations" not in body.decode()
    # staff and others cannot download it
    with pytest.raises(Refusal) as refused:
        pairs.meetings_invite(db, w.viewer(db, "ines"), w.pair_id, uid_domain="x.example")
    assert refused.value.status == 403
    with pytest.raises(Refusal) as refused:
        pairs.meetings_invite(db, w.viewer(db, "liv"), w.pair_id, uid_domain="x.example")
    assert refused.value.status == 404


def test_a_platform_wide_programme_is_not_found_from_another_platform(db) -> None:
    w = pair_world(db)
    stranger = programme_world(db)
    with pytest.raises(Refusal) as refused:
        pairs.detail(db, stranger.viewer(db, "ines"), w.pair_id)
    assert refused.value.status == 404
    assert programmes.get_programme(db, w.viewer(db, "lea"), w.world.programme.id)
    assert db.scalar(select(func.count()).select_from(Pair)) == 1


def _activate(db, w) -> None:
    pairs.update_agreement(
        db, w.viewer(db, "lea"), w.pair_id, **GOOD, competency_ids=[w.world.competencies[0].id]
    )
    pairs.accept_agreement(db, w.viewer(db, "lea"), w.pair_id, now=WHEN)
    pairs.accept_agreement(db, w.viewer(db, "leo"), w.pair_id, now=WHEN)
    db.commit()


def test_an_extension_holds_only_once_everyone_confirmed(db) -> None:
    w = pair_world(db)
    lea, leo = w.viewer(db, "lea"), w.viewer(db, "leo")
    with pytest.raises(Refusal) as refused:  # a proposed pair changes its agreement instead
        pairs.propose_extension(db, lea, w.pair_id, ends_on="2026-12-31")
    assert refused.value.status == 409
    db.rollback()
    _activate(db, w)
    db.query(MailOutbox).delete()
    db.commit()
    for bad, words in (
        ("2026-09-09", "after the current one"),
        ("2026-06-01", "after the current one"),
        ("2029-03-10", "at most 3 years"),
        ("someday", "date"),
        ("9999-12-31", "between 2000 and 2100"),
    ):
        with pytest.raises(Refusal) as refused:
            pairs.propose_extension(db, lea, w.pair_id, ends_on=bad)
        assert refused.value.status == 400 and words in refused.value.message, bad
        db.rollback()
    for who, status in (("ines", 403), ("liv", 404)):
        with pytest.raises(Refusal) as refused:
            pairs.propose_extension(db, w.viewer(db, who), w.pair_id, ends_on="2026-12-31")
        assert refused.value.status == status
        db.rollback()
    with pytest.raises(Refusal) as refused:
        pairs.confirm_extension(db, leo, w.pair_id)
    assert refused.value.status == 409  # nothing pending
    db.rollback()
    pairs.propose_extension(db, lea, w.pair_id, ends_on="2026-12-31", now=WHEN)
    db.commit()
    pair = db.get(Pair, w.pair_id)
    assert pair.ends_on == date(2026, 9, 9) and pair.proposed_ends_on == date(2026, 12, 31)
    mails = db.scalars(select(MailOutbox)).all()
    assert [(m.recipient, m.kind) for m in mails] == [("leo@example.org", "mentoring.pair")]
    assert "31 December 2026" in mails[0].text_body
    shown = pairs.detail(db, leo, w.pair_id)
    assert shown.may_confirm_extension and shown.proposed_by_name == "Lea Learner"
    assert not pairs.detail(db, lea, w.pair_id).may_confirm_extension  # she proposed it
    with pytest.raises(Refusal) as refused:
        pairs.confirm_extension(db, lea, w.pair_id)
    assert refused.value.status == 409
    db.rollback()
    # Leo declines: dropped, the date stays; Lea proposes again and Leo confirms: it moves
    pairs.decline_extension(db, leo, w.pair_id)
    db.commit()
    db.refresh(pair)
    assert (pair.ends_on, pair.proposed_ends_on, pair.proposed_by) == (date(2026, 9, 9), None, None)
    pairs.propose_extension(db, lea, w.pair_id, ends_on="2027-01-31", now=WHEN)
    pairs.confirm_extension(db, leo, w.pair_id, now=WHEN)
    db.commit()
    db.refresh(pair)
    assert (pair.ends_on, pair.proposed_ends_on) == (date(2027, 1, 31), None)
    assert all(m.extension_confirmed_at is None for m in db.scalars(select(PairMember)))
