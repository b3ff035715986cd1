"""A programme with hand-counted health figures (docs/mentoring.md, "Programme health"), shared by
the service, web and browser tests of programme health.

At ``NOW`` (2025-06-01 12:00 UTC), in a programme with default capacity 2, targeting Coaching (C)
and Feedback (F) but not Delegating (D):

mentors   m1 capacity 3, accepting, C F     · m2 capacity 1, accepting, C
          m3 capacity 2, NOT accepting, C D · m4 capacity 2, accepting, F
pairs     P1 active m1+e1 [C], cadence 14, activated -30 d, due -2 d     → needs a check-in
          P2 active m1+e2 [C F], cadence 14, activated -50 d, due -20 d  → at risk (overdue)
          P3 active m2+e3 [C], cadence 7, activated -10 d, due +4 d,
             pulses 4 (-5 d) then 2 (-1 d)                               → at risk (rating)
          P4 active m1+e4 [F], cadence 14, activated -40 d, due +3 d,
             pulses 1 (-8 d) then 5 (-2 d)                               → on track
          P5 proposed m2+e5 [C] · P6 ended m1+e6 [C], end pulses 3 and 4
requests  made P1 (24 h before it), P2 (48 h), P3 (12 h), P4 (made 95 d ago: outside the 90
          days), P5 (72 h); open: e6 to the pool [C D], e1 to m4 [F]; withdrawn: e2 [C]
profiles  mentees e1-e6 as paired above; e7 [C F] and e9 [C] unpaired; e8 left [C]
check-ins P1: on its activation day, and one before it (not counted); P2: two; P4: one;
          P6 (ended): three (not counted)

Figures: active 4, proposed 1, open requests 2; time to match 12, 24, 48, 72 h: median 36 h,
p90 72 h (4 pairs); check-ins expected 2 + 3 + 1 + 2 = 8, logged 4; day-30 pulse average
(4+2+1+5)/4 = 3.0 of 4 answers (an unanswered one ignored), end 3.5 of 2; at risk 2, needs a
check-in 1, on track 1. Per competency: C mentors 2 (m1 m2), mentees 3, demand 3 (e6 e7 e9),
free 0 (m1 full; m2 over-full counts 0, not -1), gap 3 → recruit 2 mentors; F mentors 2 (m1 m4),
mentees 2, demand 2 (e1 e7), free 2, gap 0.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from plugin.lti.models import User
from plugin.performance.models import Competency
from plugin.social.mentoring import pairs
from plugin.social.mentoring.models import (
    AS_MENTEE,
    AS_MENTOR,
    PAIR_ACTIVE,
    PAIR_ENDED,
    PULSE_DAY_30,
    PULSE_END,
    REQUEST_ACCEPTED,
    REQUEST_OPEN,
    REQUEST_WITHDRAWN,
    CheckIn,
    Pair,
    Profile,
    ProfileCompetency,
    Programme,
    Pulse,
    Request,
    RequestCompetency,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@dataclass
class HealthWorld:
    programme: Programme
    users: dict[str, User]
    pairs: dict[str, Pair]


def person(session: Session, platform_id: int, issuer: str, name: str) -> User:
    user = User(
        platform_id=platform_id, issuer=issuer, sub=f"{name}-{uuid.uuid4().hex[:8]}", name=name
    )
    session.add(user)
    session.flush()
    return user


def profile(
    session: Session,
    programme: Programme,
    user: User,
    *,
    mentor: list[Competency] = (),  # type: ignore[assignment]
    mentee: list[Competency] = (),  # type: ignore[assignment]
    capacity: int = 2,
    accepting: bool = True,
    left: bool = False,
) -> Profile:
    row = Profile(
        programme_id=programme.id,
        user_id=user.id,
        is_mentor=bool(mentor) and not left,
        is_mentee=bool(mentee) and not left,
        capacity=capacity,
        accepting=accepting,
    )
    session.add(row)
    session.flush()
    session.add_all(
        [
            ProfileCompetency(profile_id=row.id, competency_id=c.id, role=AS_MENTOR, level=3)
            for c in mentor
        ]
        + [
            ProfileCompetency(
                profile_id=row.id, competency_id=c.id, role=AS_MENTEE, level=1, target=3
            )
            for c in mentee
        ]
    )
    session.flush()
    return row


def request(
    session: Session,
    programme: Programme,
    mentee: User,
    competencies: list[Competency],
    *,
    at: datetime,
    state: str = REQUEST_ACCEPTED,
    mentor: User | None = None,
) -> Request:
    row = Request(
        programme_id=programme.id,
        mentee_id=mentee.id,
        mentor_id=mentor.id if mentor else None,
        to_pool=mentor is None,
        goal="private goal text",
        cadence_days=14,
        state=state,
        created_at=at,
        expires_at=at + 14 * DAY,
    )
    session.add(row)
    session.flush()
    session.add_all(
        [
            RequestCompetency(request_id=row.id, competency_id=c.id, level=0, target=2)
            for c in competencies
        ]
    )
    session.flush()
    return row


def pair(
    session: Session,
    programme: Programme,
    mentor: User,
    mentee: User,
    competencies: list[Competency],
    *,
    made: datetime,
    cadence: int = 14,
    activated: datetime | None = None,
    due: datetime | None = None,
    state: str = PAIR_ACTIVE,
    request_row: Request | None = None,
) -> Pair:
    row = pairs.propose(
        session,
        programme,
        mentor_ids=[mentor.id],
        mentee_ids=[mentee.id],
        competency_ids=[c.id for c in competencies],
        cadence_days=cadence,
        goals="private goals",
        when=made,
        request_id=request_row.id if request_row else None,
    )
    row.state = state
    row.activated_at = activated
    row.check_in_due_at = due if state == PAIR_ACTIVE else None
    if state == PAIR_ENDED:
        row.ended_at = made + 100 * DAY
        row.end_reason = "completed"
    session.flush()
    return row


def check_in(session: Session, pair_row: Pair, held_on: date, by: User) -> None:
    """A check-in row, counted on its pair as ``checkins.log`` counts it."""
    session.flush()
    pairs.note_check_in(session, pair_row, held_on)
    session.add(
        CheckIn(
            pair_id=pair_row.id,
            logged_by=by.id,
            held_on=held_on,
            duration_minutes=45,
            notes="PRIVATE NOTE never shown",
            next_steps="PRIVATE STEP never shown",
        )
    )


def pulse(
    session: Session,
    pair_row: Pair,
    user: User,
    kind: str,
    rating: int | None,
    answered: datetime | None,
) -> None:
    """A pulse row; an answered one kept on its pair as ``reminders.answer_pulse`` keeps it."""
    if rating is not None and answered is not None:
        session.flush()
        pairs.note_rating(session, pair_row.id, rating, answered)
    session.add(
        Pulse(
            pair_id=pair_row.id,
            user_id=user.id,
            kind=kind,
            due_at=(answered or NOW) - DAY,
            sent_at=(answered or NOW) - DAY,
            answered_at=answered,
            rating=rating,
            comment="PRIVATE COMMENT never shown" if rating is not None else "",
        )
    )


def seed_health(
    session: Session,
    programme: Programme,
    competencies: list[Competency],
    *,
    platform_id: int,
    issuer: str,
    now: datetime = NOW,
) -> HealthWorld:
    """The rows of the module docstring in ``programme`` (whose targets the caller sets), with
    times relative to ``now``; commits."""
    c, f, d = competencies
    u = {
        key: person(session, platform_id, issuer, name)
        for key, name in (
            ("m1", "Mia Mentor"),
            ("m2", "Max Mentor"),
            ("m3", "Mo Mentor"),
            ("m4", "Meg Mentor"),
            *((f"e{i}", f"Eve Mentee {i}") for i in range(1, 10)),
        )
    }
    profile(session, programme, u["m1"], mentor=[c, f], capacity=3)
    profile(session, programme, u["m2"], mentor=[c], capacity=1)
    profile(session, programme, u["m3"], mentor=[c, d], capacity=2, accepting=False)
    profile(session, programme, u["m4"], mentor=[f], capacity=2)
    for key, wants in (
        ("e1", [c]),
        ("e2", [c]),
        ("e3", [c, f]),
        ("e4", [f]),
        ("e5", [c]),
        ("e6", [c]),
        ("e7", [c, f]),
        ("e9", [c]),
    ):
        profile(session, programme, u[key], mentee=wants)
    profile(session, programme, u["e8"], mentee=[c], left=True)

    r1 = request(session, programme, u["e1"], [c], at=now - 36 * DAY, mentor=u["m1"])
    r2 = request(session, programme, u["e2"], [c, f], at=now - 62 * DAY, mentor=u["m1"])
    r3 = request(session, programme, u["e3"], [c], at=now - 20 * DAY, mentor=u["m2"])
    r4 = request(session, programme, u["e4"], [f], at=now - 100 * DAY, mentor=u["m1"])
    r5 = request(session, programme, u["e5"], [c], at=now - 4 * DAY, mentor=u["m2"])
    request(session, programme, u["e6"], [c, d], at=now - 2 * DAY, state=REQUEST_OPEN)
    request(session, programme, u["e1"], [f], at=now - 1 * DAY, state=REQUEST_OPEN, mentor=u["m4"])
    request(session, programme, u["e2"], [c], at=now - 3 * DAY, state=REQUEST_WITHDRAWN)

    p = {
        "P1": pair(
            session,
            programme,
            u["m1"],
            u["e1"],
            [c],
            made=now - 35 * DAY,
            activated=now - 30 * DAY,
            due=now - 2 * DAY,
            request_row=r1,
        ),
        "P2": pair(
            session,
            programme,
            u["m1"],
            u["e2"],
            [c, f],
            made=now - 60 * DAY,
            activated=now - 50 * DAY,
            due=now - 20 * DAY,
            request_row=r2,
        ),
        "P3": pair(
            session,
            programme,
            u["m2"],
            u["e3"],
            [c],
            made=now - 20 * DAY + 12 * HOUR,
            cadence=7,
            activated=now - 10 * DAY,
            due=now + 4 * DAY,
            request_row=r3,
        ),
        "P4": pair(
            session,
            programme,
            u["m1"],
            u["e4"],
            [f],
            made=now - 95 * DAY,
            activated=now - 40 * DAY,
            due=now + 3 * DAY,
            request_row=r4,
        ),
        "P5": pair(
            session,
            programme,
            u["m2"],
            u["e5"],
            [c],
            made=now - 1 * DAY,
            state="proposed",
            request_row=r5,
        ),
        "P6": pair(
            session,
            programme,
            u["m1"],
            u["e6"],
            [c],
            made=now - 200 * DAY,
            activated=now - 190 * DAY,
            state=PAIR_ENDED,
        ),
    }
    activated = p["P1"].activated_at.date()  # type: ignore[union-attr]
    check_in(session, p["P1"], activated, u["e1"])
    check_in(session, p["P1"], activated - 2 * DAY, u["e1"])
    check_in(session, p["P2"], (now - 40 * DAY).date(), u["e2"])
    check_in(session, p["P2"], (now - 25 * DAY).date(), u["m1"])
    check_in(session, p["P4"], (now - 20 * DAY).date(), u["e4"])
    for days in (150, 120, 90):
        check_in(session, p["P6"], (now - days * DAY).date(), u["e6"])

    pulse(session, p["P3"], u["e3"], PULSE_DAY_30, 4, now - 5 * DAY)
    pulse(session, p["P3"], u["m2"], PULSE_DAY_30, 2, now - 1 * DAY)
    pulse(session, p["P4"], u["e4"], PULSE_DAY_30, 1, now - 8 * DAY)
    pulse(session, p["P4"], u["m1"], PULSE_DAY_30, 5, now - 2 * DAY)
    pulse(session, p["P1"], u["e1"], PULSE_DAY_30, None, None)  # sent, not answered
    pulse(session, p["P6"], u["e6"], PULSE_END, 3, now - 10 * DAY)
    pulse(session, p["P6"], u["m1"], PULSE_END, 4, now - 9 * DAY)
    session.commit()
    return HealthWorld(programme, u, p)
