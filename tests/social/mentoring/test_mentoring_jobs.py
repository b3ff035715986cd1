"""Mentoring's background work (services, with ``now=``): request expiry, pool escalation,
check-in reminders, completion, pulse surveys (made lazily, sent once, answered once with a
statement that never carries the comment), the "To do" box; each row claimed by a conditional
UPDATE, so a second run or a second worker's session acts on nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from plugin.access import Refusal
from plugin.db import new_session
from plugin.mail.models import MailOutbox
from plugin.social.mentoring import pairs, profiles, reminders, requests
from plugin.social.mentoring.models import Pair, Pulse, Request
from plugin.xapi import statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.models import XapiOutbox
from plugin.xapi.validate import validate_statement
from tests.conftest import row_counts
from tests.social.mentoring.programme_world import programme_world
from tests.social.social_world import count_queries

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _world(db, **settings):
    world = programme_world(db, **settings)
    coaching, _feedback, delegating = world.competencies
    for key, user in world.course.users.items():
        user.email = f"{key}@example.org"
    profiles.save_profile(
        db,
        world.viewer(db, "lea"),
        world.programme,
        as_mentor=False,
        as_mentee=True,
        mentee_needs={coaching.id: (1, 3)},
    )
    for name, levels in (("leo", {coaching.id: 3}), ("liv", {coaching.id: 4})):
        profiles.save_profile(
            db,
            world.viewer(db, name),
            world.programme,
            as_mentor=True,
            as_mentee=False,
            mentor_levels=levels,
            capacity=3,
        )
    # Grace mentors delegating only: not one of the coaching pool until a request escalates
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


def active_pair(db, world, *, mentor="leo", mentee="lea", activated=T0, cadence=14) -> Pair:
    """An active pair as the relationship step leaves it (agreement accepted at ``activated``)."""
    users = world.course.users
    pair = pairs.propose(
        db,
        world.programme,
        mentor_ids=[users[mentor].id],
        mentee_ids=[users[mentee].id],
        competency_ids=[world.competencies[0].id],
        cadence_days=cadence,
        goals="Run better one-to-ones.",
        when=activated,
    )
    pair.state = "active"
    pair.activated_at = activated
    pair.check_in_due_at = activated + timedelta(days=cadence)
    db.commit()
    return pair


def _mail(db, kind: str) -> list[str]:
    return sorted(
        m.recipient for m in db.scalars(select(MailOutbox).where(MailOutbox.kind == kind))
    )


def test_open_requests_expire_once_and_the_mentee_is_told(db, app) -> None:
    world = _world(db)
    users = world.course.users
    coaching = world.competencies[0]
    request = requests.send_request(
        db,
        world.viewer(db, "lea"),
        world.programme,
        {coaching.id: (1, 3)},
        mentor_id=users["leo"].id,
        now=T0,
    )
    db.commit()
    due = T0 + timedelta(days=requests.REQUEST_DAYS)
    assert reminders.expire_requests(db, now=due - timedelta(seconds=1)) == 0
    # a second worker's session saw the request due before the first one acted
    with new_session(app) as other:
        seen = list(other.scalars(select(Request.id).where(Request.state == "open")))
        assert seen == [request.id]
        assert reminders.expire_requests(db, now=due, base_url="https://tool.test") == 1
        db.commit()
        assert reminders.claim_expiry(other, request.id, now=due) is False
        assert reminders.expire_requests(other, now=due + timedelta(hours=1)) == 0
        other.commit()
    db.expire_all()
    assert db.get(Request, request.id).state == "expired"
    [mail] = db.scalars(select(MailOutbox).where(MailOutbox.kind == reminders.MAIL_REQUEST_UPDATE))
    assert mail.recipient == "lea@example.org" and "ask someone else" in mail.text_body
    assert f"https://tool.test/mentoring/programmes/{world.programme.id}" in mail.text_body
    # an expired request is not expired again
    assert reminders.expire_requests(db, now=due + timedelta(days=30)) == 0


def test_pool_requests_escalate_to_every_accepting_mentor_and_the_staff(db, app) -> None:
    world = _world(db, matching="mentor_pool")
    users = world.course.users
    coaching = world.competencies[0]
    grace = world.viewer(db, "grace")
    request = requests.send_request(
        db, world.viewer(db, "lea"), world.programme, {coaching.id: (1, 3)}, to_pool=True, now=T0
    )
    db.commit()
    assert request.escalate_at == T0 + timedelta(hours=world.programme.escalation_hours)
    # before: Grace (no coaching) neither sees nor may answer it
    assert requests.requests_to_me(db, grace, world.programme, now=T0) == []
    with pytest.raises(Refusal) as refused:
        requests.answer(db, grace, request.id, accept=True, now=T0)
    assert refused.value.status == 404
    db.rollback()
    early = T0 + timedelta(hours=world.programme.escalation_hours) - timedelta(seconds=1)
    assert reminders.escalate_requests(db, now=early) == 0
    later = T0 + timedelta(hours=world.programme.escalation_hours)
    assert reminders.escalate_requests(db, now=later) == 1
    db.commit()
    with new_session(app) as other:  # a second worker that saw it due claims nothing
        assert reminders.claim_escalation(other, request.id, now=later) is False
    assert reminders.escalate_requests(db, now=later + timedelta(hours=1)) == 0
    db.expire_all()
    assert db.get(Request, request.id).escalated_at == later
    # e-mail: the three accepting mentors (Grace included) and Ines, once each; not Lea
    assert _mail(db, reminders.MAIL_ESCALATED) == [
        "grace@example.org",
        "ines@example.org",
        "leo@example.org",
        "liv@example.org",
    ]
    # now Grace sees it and may take it
    assert [r.id for r in requests.requests_to_me(db, grace, world.programme, now=later)] == [
        request.id
    ]
    requests.answer(db, grace, request.id, accept=True, now=later)
    db.commit()
    assert db.get(Request, request.id).mentor_id == users["grace"].id
    # a mentor who stops accepting no longer sees escalated requests outside their competencies
    other = requests.send_request(
        db, world.viewer(db, "lea"), world.programme, {coaching.id: (1, 3)}, to_pool=True, now=later
    )
    db.commit()
    assert reminders.escalate_requests(db, now=later + timedelta(days=4)) == 1
    db.commit()
    profiles.save_profile(
        db,
        grace,
        world.programme,
        as_mentor=True,
        as_mentee=False,
        mentor_levels={world.competencies[2].id: 4},
        accepting=False,
    )
    db.commit()
    assert other.id not in [
        r.id
        for r in requests.requests_to_me(db, grace, world.programme, now=later + timedelta(days=4))
    ]


def test_an_expired_or_named_request_is_never_escalated(db) -> None:
    world = _world(db, matching="mentor_pool")
    coaching = world.competencies[0]
    named = requests.send_request(
        db,
        world.viewer(db, "lea"),
        world.programme,
        {coaching.id: (1, 3)},
        mentor_id=world.course.users["leo"].id,
        now=T0,
    )
    pooled = requests.send_request(
        db, world.viewer(db, "lea"), world.programme, {coaching.id: (1, 3)}, to_pool=True, now=T0
    )
    db.commit()
    assert named.escalate_at is None
    # the pool request expired before any worker ran: it is not escalated (it expires)
    after = T0 + timedelta(days=requests.REQUEST_DAYS, hours=1)
    assert reminders.escalate_requests(db, now=after) == 0
    assert reminders.expire_requests(db, now=after) == 2
    db.commit()
    db.expire_all()
    assert db.get(Request, pooled.id).escalated_at is None
    assert _mail(db, reminders.MAIL_ESCALATED) == []


def test_missed_check_ins_are_reminded_once_per_due_date(db, app) -> None:
    world = _world(db)
    pair = active_pair(db, world)
    due = T0 + timedelta(days=14)
    assert reminders.remind_check_ins(db, now=due - timedelta(seconds=1)) == 0
    with new_session(app) as other:
        # another worker listed the pair as due; the first one reminds and commits first
        assert list(other.scalars(select(Pair.id).where(Pair.check_in_due_at <= due))) == [pair.id]
        assert reminders.remind_check_ins(db, now=due, base_url="https://tool.test") == 1
        db.commit()
        assert reminders.claim_reminder(other, pair.id, now=due + timedelta(minutes=1)) is False
        assert reminders.remind_check_ins(other, now=due + timedelta(days=2)) == 0
        other.commit()
    assert _mail(db, reminders.MAIL_REMINDER) == ["lea@example.org", "leo@example.org"]
    lea_mail = db.scalars(select(MailOutbox).where(MailOutbox.recipient == "lea@example.org")).one()
    assert "Leo Learner" in lea_mail.text_body and "17 March 2025" in lea_mail.text_body
    db.expire_all()
    assert db.get(Pair, pair.id).reminded_at == due
    # a check-in is logged: the next due date moves on and reminded_at is cleared (contract)
    pair = db.get(Pair, pair.id)
    pair.check_in_due_at = due + timedelta(days=14)
    pair.reminded_at = None
    db.commit()
    assert reminders.remind_check_ins(db, now=due + timedelta(days=13)) == 0
    assert reminders.remind_check_ins(db, now=due + timedelta(days=14)) == 1
    db.commit()
    assert len(_mail(db, reminders.MAIL_REMINDER)) == 4
    # missed again without a check-in: no second reminder for the same due date
    assert reminders.remind_check_ins(db, now=due + timedelta(days=40)) == 0


def test_only_active_pairs_are_reminded(db) -> None:
    world = _world(db)
    pair = active_pair(db, world)
    pair.state = "ended"
    pair.ended_at = T0 + timedelta(days=3)
    pair.end_reason = "no_fault"
    db.commit()
    assert reminders.remind_check_ins(db, now=T0 + timedelta(days=60)) == 0
    assert _mail(db, reminders.MAIL_REMINDER) == []


def test_pairs_past_their_end_date_are_completed(db) -> None:
    world = _world(db)
    pair = active_pair(db, world)
    ends = pair.ends_on
    on_last_day = datetime.combine(ends, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23)
    assert reminders.complete_pairs(db, now=on_last_day) == 0
    day_after = on_last_day + timedelta(hours=1)
    assert reminders.complete_pairs(db, now=day_after) == 1
    assert reminders.complete_pairs(db, now=day_after) == 0
    db.commit()
    db.expire_all()
    done = db.get(Pair, pair.id)
    assert (done.state, done.end_reason, done.ended_at) == ("ended", "completed", day_after)


def test_pulses_are_made_lazily_sent_once_and_answered_once(db, app) -> None:
    world = _world(db)
    users = world.course.users
    pair = active_pair(db, world)
    proposed = pairs.propose(
        db,
        world.programme,
        mentor_ids=[users["liv"].id],
        mentee_ids=[users["lea"].id],
        competency_ids=[],
        cadence_days=14,
        goals="",
        when=T0,
    )
    db.commit()
    day_30 = T0 + timedelta(days=30)
    assert reminders.create_pulses(db, now=day_30 - timedelta(seconds=1)) == 0
    assert reminders.create_pulses(db, now=day_30) == 2
    assert reminders.create_pulses(db, now=day_30 + timedelta(days=1)) == 0
    db.commit()
    rows = db.scalars(select(Pulse).order_by(Pulse.user_id)).all()
    assert {(p.pair_id, p.user_id, p.kind) for p in rows} == {
        (pair.id, users["lea"].id, "day_30"),
        (pair.id, users["leo"].id, "day_30"),
    }
    assert all(p.due_at == day_30 and p.sent_at is None for p in rows)
    assert proposed.id not in {p.pair_id for p in rows}
    # sent once, even by two workers
    with new_session(app) as other:
        ids = list(other.scalars(select(Pulse.id).where(Pulse.sent_at.is_(None))))
        assert reminders.send_pulses(db, now=day_30, base_url="https://tool.test") == 2
        db.commit()
        assert [reminders.claim_pulse(other, i, now=day_30) for i in ids] == [False, False]
        assert reminders.send_pulses(other, now=day_30 + timedelta(hours=1)) == 0
        other.commit()
    assert _mail(db, reminders.MAIL_PULSE) == ["lea@example.org", "leo@example.org"]
    lea_pulse = db.scalars(select(Pulse).where(Pulse.user_id == users["lea"].id)).one()
    text = db.scalars(
        select(MailOutbox.text_body).where(MailOutbox.recipient == "lea@example.org")
    ).one()
    assert f"https://tool.test/mentoring/pulses/{lea_pulse.id}" in text

    # the To-do box: Lea's pulse (and the check-in due since day 14)
    lea = world.viewer(db, "lea")
    todo = reminders.to_do(db, lea, world.programme, now=day_30)
    assert [p.id for p in todo.pulses] == [lea_pulse.id]
    assert todo.pulses[0].partners == ["Leo Learner"]
    assert [c.pair_id for c in todo.check_ins] == [pair.id]

    # answering: the person only; a bad rating or comment changes nothing
    leo = world.viewer(db, "leo")
    for who in (leo, world.viewer(db, "ines")):
        for call in (
            lambda w: reminders.get_pulse(db, w, lea_pulse.id),
            lambda w: reminders.answer_pulse(db, w, lea_pulse.id, rating=5, now=day_30),
        ):
            with pytest.raises(Refusal) as refused:
                call(who)
            assert refused.value.status == 404
    before = row_counts(app)
    for rating, comment in (
        (0, ""),
        (6, ""),
        ("five", ""),
        (True, ""),
        (None, ""),
        (3, "x" * 1001),
    ):
        with pytest.raises(Refusal) as refused:
            reminders.answer_pulse(db, lea, lea_pulse.id, rating=rating, comment=comment)
        assert refused.value.status == 400, (rating, len(comment))
        db.rollback()
    assert row_counts(app) == before
    answered = reminders.answer_pulse(
        db, lea, lea_pulse.id, rating="2", comment="We keep cancelling.", now=day_30
    )
    db.commit()
    assert (answered.rating, answered.comment, answered.answered_at) == (
        2,
        "We keep cancelling.",
        day_30,
    )
    with pytest.raises(Refusal) as refused:
        reminders.answer_pulse(db, lea, lea_pulse.id, rating=5, now=day_30)
    assert refused.value.status == 409
    db.rollback()
    assert db.get(Pulse, lea_pulse.id).rating == 2
    # the pair keeps its latest rating, so the pair-health rule now says at risk
    kept = db.get(Pair, pair.id)
    db.refresh(kept)
    assert (kept.latest_rating, pairs.aware(kept.latest_rating_at)) == (2, day_30)
    assert pairs.health_of(db, [kept], day_30)[kept.id] == "at_risk"
    assert reminders.to_do(db, lea, world.programme, now=day_30).pulses == []

    # the statement: Lea rated the mentorship 2, the competency in context, never the comment
    [row] = db.scalars(select(XapiOutbox).where(XapiOutbox.actor_user_id == users["lea"].id))
    st = row.statement
    assert st["verb"]["id"] == "http://id.tincanapi.com/verb/rated"
    assert st["object"]["id"].endswith(f"/mentorship/{pair.id}")
    assert st["result"]["score"]["raw"] == 2
    assert [o["id"] for o in st["context"]["contextActivities"]["other"]] == [
        world.competencies[0].uri
    ]
    assert "cancelling" not in str(st)
    validate_statement(st, base=statements.base_url(), kind=vocab.kind_by_slug("feedback-given"))


def test_end_pulses_for_ended_and_past_end_pairs(db) -> None:
    world = _world(db)
    users = world.course.users
    ended = active_pair(db, world)
    ended.state = "ended"
    ended.ended_at = T0 + timedelta(days=10)
    ended.end_reason = "rematch"
    past = active_pair(db, world, mentor="liv", activated=T0 - timedelta(days=400))
    db.commit()
    now = T0 + timedelta(days=11)
    # the ended pair: end pulses only (it ended before day 30); the other: day 30 and end
    assert reminders.create_pulses(db, now=now) == 6
    kinds = {(p.pair_id, p.user_id, p.kind): p.due_at for p in db.scalars(select(Pulse))}
    assert kinds[(ended.id, users["lea"].id, "end")] == T0 + timedelta(days=10)
    assert (ended.id, users["lea"].id, "day_30") not in kinds
    assert (past.id, users["liv"].id, "day_30") in kinds
    assert kinds[(past.id, users["liv"].id, "end")] == datetime.combine(
        past.ends_on, datetime.min.time(), tzinfo=UTC
    )
    # completing the past pair later makes no second end pulse
    assert reminders.complete_pairs(db, now=now) == 1
    assert reminders.create_pulses(db, now=now) == 0


def test_the_to_do_box_reads_in_three_queries_whatever_the_count(db, app) -> None:
    world = _world(db)
    for mentor in ("leo", "liv", "grace"):
        active_pair(db, world, mentor=mentor)
    now = T0 + timedelta(days=31)
    reminders.create_pulses(db, now=now)
    db.commit()
    lea = world.viewer(db, "lea")
    with count_queries(app) as seen:
        todo = reminders.to_do(db, lea, world.programme, now=now)
    assert len(todo.check_ins) == 3 and len(todo.pulses) == 3
    assert len(seen) == 3
    # Ines has no pairs: nothing to do
    assert reminders.to_do(db, world.viewer(db, "ines"), world.programme, now=now).empty
