"""Mentoring's background work end to end: the pulse page, the To-do box and their JSON API through
the real launch from the sandbox LMS (a person's own pulse only; bad input a readable 4xx that
changes nothing; answered once), and the whole worker path — ``commons worker``'s periodic tasks,
then the e-mail outbox to a real SMTP server that is down first (nothing lost) and then up."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from plugin import jobs
from plugin.db import new_session, utcnow
from plugin.lti.models import User
from plugin.mail.delivery import send_once
from plugin.mail.models import QUEUED, SENT, MailOutbox
from plugin.social.mentoring import pairs, profiles, reminders, requests
from plugin.social.mentoring.models import Pair, Programme, Pulse, Request
from tests.conftest import row_counts
from tests.mail.conftest import mail_config, sessions, smtp_down  # noqa: F401 (fixtures)
from tests.social.mentoring.programme_world import programme_world
from tests.social.mentoring.test_mentoring_web import Launched, mentoring_link


def _user_id(session, sub: str) -> int:
    return session.scalars(select(User.id).where(User.sub == sub)).one()


def month_old_pair(app, programme_id: int, mentor: str, mentee: str) -> dict[str, int]:
    """An active pair a month old with its pulses made: {sub: that person's pulse id}."""
    now = utcnow()
    with new_session(app) as session:
        programme = session.get(Programme, programme_id)
        people = {sub: _user_id(session, sub) for sub in (mentor, mentee)}
        pair = pairs.propose(
            session,
            programme,
            mentor_ids=[people[mentor]],
            mentee_ids=[people[mentee]],
            competency_ids=[],
            cadence_days=14,
            goals="",
            when=now - timedelta(days=31),
        )
        pair.state = "active"
        pair.activated_at = now - timedelta(days=31)
        pair.check_in_due_at = now - timedelta(days=17)
        assert reminders.create_pulses(session, now=now) == 2
        session.commit()
        return {
            sub: session.scalars(select(Pulse.id).where(Pulse.user_id == uid)).one()
            for sub, uid in people.items()
        }


def test_the_pulse_page_and_the_to_do_box_through_the_launch(app, lms) -> None:
    rlid = mentoring_link(lms)
    lea = Launched(lms, "u-lea", rlid)
    grace = Launched(lms, "u-grace", rlid)
    assert "To do" not in lea.page.text
    pulse = month_old_pair(app, lea.programme_id, "u-grace", "u-lea")
    page = lea.get(lea.base)
    assert page.status_code == 200 and "To do" in page.text
    assert "A check-in with Grace" in page.text
    assert f"/mentoring/pulses/{pulse['u-lea']}?lc=" in page.text
    url = f"/mentoring/pulses/{pulse['u-lea']}"
    form = lea.get(url)
    assert form.status_code == 200 and "How is your mentorship going?" in form.text
    assert form.text.count('type="radio" name="rating"') == 5
    assert 'for="pulse-comment"' in form.text and 'maxlength="1000"' in form.text
    # another person's pulse is not found, on the page and in the API
    assert grace.get(url).status_code == 404
    assert grace.post(url, rating="5").status_code == 404
    assert grace.api("GET", f"/pulses/{pulse['u-lea']}").status_code == 404
    assert grace.api("POST", f"/pulses/{pulse['u-lea']}", json={"rating": 5}).status_code == 404
    # bad input: a readable 400, nothing changed
    before = row_counts(app)
    for fields in ({}, {"rating": "9"}, {"rating": "four"}, {"rating": "3", "comment": "x" * 1001}):
        refused = lea.post(url, **fields)
        assert refused.status_code == 400, fields
        assert "rating" in refused.text or "comment" in refused.text
    assert row_counts(app) == before
    with new_session(app) as s:
        assert s.get(Pulse, pulse["u-lea"]).answered_at is None
    done = lea.post(url, rating="4", comment="<b>Good</b> so far")
    assert done.status_code == 303 and "saved=1" in done.headers["Location"]
    shown = lea.get(url, saved="1")
    assert "4 out of 5" in shown.text and "&lt;b&gt;Good&lt;/b&gt;" in shown.text
    assert 'name="rating"' not in shown.text
    again = lea.post(url, rating="1")
    assert again.status_code == 409 and "already answered" in again.text
    with new_session(app) as s:
        answered = s.get(Pulse, pulse["u-lea"])
        assert (answered.rating, answered.comment) == (4, "<b>Good</b> so far")
    # the JSON API: Grace answers her own
    mine = grace.api("GET", f"/pulses/{pulse['u-grace']}")
    assert mine.status_code == 200 and mine.json()["kind"] == "day_30"
    assert mine.json()["partners"] == ["Lea Learner"] and mine.json()["rating"] is None
    before = row_counts(app)
    for bad in (
        {"rating": 0},
        {"rating": 6},
        {"rating": "5"},
        {"rating": 3, "comment": "y" * 1001},
        {"comment": "no rating"},
    ):
        refused = grace.api("POST", f"/pulses/{pulse['u-grace']}", json=bad)
        assert refused.status_code == 422, (bad, refused.text)  # the schema's refusal
    nul = grace.api("POST", f"/pulses/{pulse['u-grace']}", json={"rating": 3, "comment": "a\x00"})
    assert nul.status_code == 400
    assert row_counts(app) == before
    todo = grace.api("GET", f"/programmes/{grace.programme_id}/to-do").json()
    assert [p["id"] for p in todo["pulses"]] == [pulse["u-grace"]] and len(todo["check_ins"]) == 1
    ok = grace.api("POST", f"/pulses/{pulse['u-grace']}", json={"rating": 5})
    assert ok.status_code == 200 and ok.json()["rating"] == 5 and ok.json()["comment"] == ""
    assert grace.api("POST", f"/pulses/{pulse['u-grace']}", json={"rating": 5}).status_code == 409
    todo = grace.api("GET", f"/programmes/{grace.programme_id}/to-do").json()
    assert todo["pulses"] == [] and len(todo["check_ins"]) == 1


def test_the_worker_sends_every_mentoring_e_mail_and_loses_none_when_smtp_is_down(
    app,
    db,
    smtp_down,  # noqa: F811
    mail_config,  # noqa: F811
    sessions,  # noqa: F811
) -> None:
    world = programme_world(db, matching="mentor_pool")
    users = world.course.users
    coaching = world.competencies[0]
    for key, user in users.items():
        user.email = f"{key}@example.org"
    lea, leo = world.viewer(db, "lea"), world.viewer(db, "leo")
    profiles.save_profile(
        db,
        lea,
        world.programme,
        as_mentor=False,
        as_mentee=True,
        mentee_needs={coaching.id: (1, 3)},
    )
    profiles.save_profile(
        db,
        leo,
        world.programme,
        as_mentor=True,
        as_mentee=False,
        mentor_levels={coaching.id: 3},
        capacity=3,
    )
    now = utcnow()
    # a request to Leo long expired, a pool request past its escalation time
    stale = requests.send_request(
        db,
        lea,
        world.programme,
        {coaching.id: (1, 3)},
        mentor_id=users["leo"].id,
        now=now - timedelta(days=15),
    )
    pooled = requests.send_request(
        db,
        lea,
        world.programme,
        {coaching.id: (1, 3)},
        to_pool=True,
        now=now - timedelta(hours=world.programme.escalation_hours + 1),
    )
    # a month-old active pair whose check-in is overdue, and one past its end date
    pair = pairs.propose(
        db,
        world.programme,
        mentor_ids=[users["leo"].id],
        mentee_ids=[users["lea"].id],
        competency_ids=[coaching.id],
        cadence_days=14,
        goals="",
        when=now - timedelta(days=31),
    )
    pair.state, pair.activated_at = "active", now - timedelta(days=31)
    pair.check_in_due_at = now - timedelta(days=17)
    old = pairs.propose(
        db,
        world.programme,
        mentor_ids=[users["liv"].id],
        mentee_ids=[users["leo"].id],
        competency_ids=[],
        cadence_days=30,
        goals="",
        when=now - timedelta(days=400),
    )
    old.state, old.activated_at = "active", now - timedelta(days=400)
    old.check_in_due_at = now + timedelta(days=1)
    db.execute(MailOutbox.__table__.delete())  # the requests' own e-mail is not this test's
    db.commit()

    stats = jobs.run_jobs(sessions, app.config, once=True)
    assert stats.failed == 0 and stats.failures == [], stats.failures
    assert set(reminders.TASKS) <= set(jobs.periodic())
    with new_session(app) as s:
        assert s.get(Request, stale.id).state == "expired"
        assert s.get(Request, pooled.id).escalated_at is not None
        assert s.get(Pair, old.id).end_reason == "completed"
        assert s.get(Pair, pair.id).reminded_at is not None
        outbox = {(m.kind, m.recipient) for m in s.scalars(select(MailOutbox))}
    assert outbox == {
        (reminders.MAIL_REQUEST_UPDATE, "lea@example.org"),
        (reminders.MAIL_ESCALATED, "leo@example.org"),
        (reminders.MAIL_ESCALATED, "ines@example.org"),
        (reminders.MAIL_REMINDER, "lea@example.org"),
        (reminders.MAIL_REMINDER, "leo@example.org"),
        (reminders.MAIL_PULSE, "lea@example.org"),  # day 30 of the overdue pair
        (reminders.MAIL_PULSE, "leo@example.org"),  # day 30, and the end of the old pair
        (reminders.MAIL_PULSE, "liv@example.org"),  # the end of the old pair (completed first)
    }
    count = db.scalar(select(func.count()).select_from(MailOutbox))
    assert count == 9
    # a second run (the periodic tasks due again) adds nothing
    later = utcnow() + timedelta(hours=1)
    stats = jobs.run_jobs(sessions, app.config, once=True, now=lambda: later)
    assert stats.failed == 0
    assert db.scalar(select(func.count()).select_from(MailOutbox)) == count

    # SMTP is down: nothing is lost, every e-mail waits to be tried again
    cfg = mail_config(smtp_down.port)
    down = send_once(sessions, cfg)
    assert (down.sent, down.retried) == (0, count)
    with new_session(app) as s:
        assert set(s.scalars(select(MailOutbox.state))) == {QUEUED}
    smtp_down.start()
    up = send_once(sessions, cfg, now=utcnow() + timedelta(seconds=cfg.backoff_base + 1))
    assert up.sent == count
    received = {(m["To"], m["Subject"]) for m in smtp_down.sink.messages}
    assert ("lea@example.org", "Your mentoring request expired") in received
    assert ("lea@example.org", "Time for a mentoring check-in") in received
    assert ("ines@example.org", "A mentoring request waited too long") in received
    pulses = [m for m in smtp_down.sink.messages if m["Subject"].startswith("How is your")]
    assert len(pulses) == 4
    body = pulses[0].get_body(("plain",)).get_content()
    assert "/mentoring/pulses/" in body and "You get this e-mail for: Mentoring pulse" in body
    with new_session(app) as s:
        assert set(s.scalars(select(MailOutbox.state))) == {SENT}
