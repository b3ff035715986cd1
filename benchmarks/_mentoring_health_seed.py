"""Seed data for the programme-health part of ``benchmarks/mentoring.py``: one course programme
with ``pairs`` pairs and what comes with them.

The course, its people, a framework and the programme's placement come from the test suite's own
builder (``tests/social/mentoring/programme_world``); a second framework of ten competencies (all
targeted) is added with the ORM. The rest is planned in Python (seeded random, so every run gets
the same shape) and bulk-inserted with SQLAlchemy Core ``insert()`` executemany in chunks, ids given
explicitly; PostgreSQL sequences are moved past them. For ``pairs`` = 10,000: 0.3 mentors and 1.2
mentees per pair (mentors hold 3-6 competencies, capacity 1-5; mentees want 1-3), a request per
pair plus 15 % more (open, declined, expired, withdrawn), 60 % of pairs active, 10 % proposed, 30 %
ended, a check-in per cadence for most active and ended pairs (some pairs behind), day-30 pulses
for pairs past 30 days (four in five answered) and end pulses for ended pairs.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine

from plugin.db import get_engine, new_session
from plugin.lti.models import User
from plugin.social.mentoring.models import (
    AS_MENTEE,
    AS_MENTOR,
    CheckIn,
    Pair,
    PairCompetency,
    PairMember,
    Profile,
    ProfileCompetency,
    ProgrammeCompetency,
    Pulse,
    Request,
    RequestCompetency,
)
from tests.social.mentoring.programme_world import make_framework, programme_world

CHUNK = 5000
DAY = timedelta(days=1)
TABLES = (
    User,
    Profile,
    ProfileCompetency,
    Request,
    RequestCompetency,
    Pair,
    PairMember,
    PairCompetency,
    CheckIn,
    Pulse,
)


@dataclass
class HealthWorld:
    programme_id: int
    platform_id: int
    context_id: int
    placement_id: int
    staff_id: int
    counts: dict[str, int]


def _bulk(engine: Engine, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        with engine.begin() as conn:
            conn.execute(insert(model.__table__), rows[start : start + CHUNK])


def seed(app: Flask, *, pairs: int, rng_seed: int = 12) -> HealthWorld:
    rng = random.Random(rng_seed)
    now = datetime.now(UTC).replace(microsecond=0)
    with new_session(app) as s:
        world = programme_world(s)
        names = tuple(f"Leadership skill {n}" for n in range(1, 11))
        competencies = make_framework(s, world.course.platform.id, names)
        s.add_all(
            ProgrammeCompetency(programme_id=world.programme.id, competency_id=c.id)
            for c in competencies
        )
        s.commit()
        platform = world.course.platform
        programme_id, platform_id, issuer = world.programme.id, platform.id, platform.issuer
        context_id = world.course.context.id
        placement_id = s.scalar(
            text("SELECT placement_id FROM mentoring_placement WHERE programme_id = :p"),
            {"p": programme_id},
        )
        staff_id = world.course.users["ines"].id
        cids = [c.id for c in competencies]
        next_id = {
            m: (s.scalar(select(func.max(m.id))) or 0) + 1
            for m in (User, Profile, Request, Pair, CheckIn, Pulse)
        }

    def ids(model, n: int) -> list[int]:
        first = next_id[model]
        next_id[model] = first + n
        return list(range(first, first + n))

    mentors_n, mentees_n = max(1, int(pairs * 0.3)), max(1, int(pairs * 1.2))
    users = ids(User, mentors_n + mentees_n)
    mentors, mentees = users[:mentors_n], users[mentors_n:]
    u_rows = [
        {
            "id": uid,
            "platform_id": platform_id,
            "issuer": issuer,
            "sub": f"b-{uid}-{uuid.uuid4().hex[:4]}",
            "name": f"Person {uid}",
        }
        for uid in users
    ]
    prof_rows, pc_rows = [], []
    holds: dict[int, list[int]] = {}
    wants: dict[int, list[int]] = {}
    for uid, pid in zip(users, ids(Profile, len(users)), strict=True):
        mentor = uid <= mentors[-1]
        prof_rows.append(
            {
                "id": pid,
                "programme_id": programme_id,
                "user_id": uid,
                "is_mentor": mentor,
                "is_mentee": not mentor,
                "capacity": rng.randint(1, 5) if mentor else 2,
                "accepting": (rng.random() > 0.05) if mentor else True,
                "availability": [],
                "languages": ["en"],
            }
        )
        if mentor:
            holds[uid] = rng.sample(cids, rng.randint(3, 6))
            pc_rows += [
                {
                    "profile_id": pid,
                    "competency_id": c,
                    "role": AS_MENTOR,
                    "level": rng.randint(2, 5),
                }
                for c in holds[uid]
            ]
        else:
            wants[uid] = rng.sample(cids, rng.randint(1, 3))
            pc_rows += [
                {"profile_id": pid, "competency_id": c, "role": AS_MENTEE, "level": 1, "target": 3}
                for c in wants[uid]
            ]

    r_rows, rc_rows, p_rows, pm_rows, ppc_rows, ci_rows, pu_rows = [], [], [], [], [], [], []
    request_ids = ids(Request, int(pairs * 1.15))
    pair_ids = ids(Pair, pairs)
    for n, rid in enumerate(request_ids):
        mentee = mentees[n % len(mentees)]
        sent = now - timedelta(days=rng.uniform(1, 400))
        if n < pairs:
            state = "accepted"
        else:
            state = rng.choice(("open", "open", "declined", "expired", "withdrawn"))
            if state == "open":
                sent = now - timedelta(days=rng.uniform(0, 13))
        r_rows.append(
            {
                "id": rid,
                "programme_id": programme_id,
                "mentee_id": mentee,
                "mentor_id": None,
                "to_pool": True,
                "goal": "",
                "cadence_days": 14,
                "state": state,
                "created_at": sent,
                "expires_at": sent + 14 * DAY,
            }
        )
        rc_rows += [
            {"request_id": rid, "competency_id": c, "level": 1, "target": 3}
            for c in wants[mentee][:2]
        ]
    ci_ids = iter(range(next_id[CheckIn], next_id[CheckIn] + pairs * 40))
    pu_ids = iter(range(next_id[Pulse], next_id[Pulse] + pairs * 4))
    for n, pid in enumerate(pair_ids):
        request = r_rows[n]
        mentee = request["mentee_id"]
        mentor = mentors[n % len(mentors)]
        made = request["created_at"] + timedelta(hours=rng.expovariate(1 / 40))
        roll = rng.random()
        state = "active" if roll < 0.6 else "proposed" if roll < 0.7 else "ended"
        if state == "proposed":
            made = now - timedelta(days=rng.uniform(0, 6))
            request["created_at"] = made - timedelta(hours=rng.expovariate(1 / 40))
        cadence = rng.choice((7, 14, 14, 30))
        activated = made + timedelta(days=rng.uniform(0, 5)) if state != "proposed" else None
        if activated is not None and activated > now:
            activated = now - DAY
        ended = None
        if state == "ended":
            ended = min(now, activated + timedelta(days=rng.uniform(30, 200)))  # type: ignore[operator]
        row = {
            "id": pid,
            "programme_id": programme_id,
            "request_id": request["id"],
            "state": state,
            "starts_on": made.date(),
            "ends_on": (made + 365 * DAY).date(),
            "cadence_days": cadence,
            "goals": "",
            "created_at": made,
            "activated_at": activated,
            "ended_at": ended,
            "end_reason": "completed" if ended else None,
            "check_in_due_at": None,
            # the figures the services keep on the pair (pairs.note_check_in, note_rating)
            "check_ins_logged": 0,
            "latest_rating": None,
            "latest_rating_at": None,
        }
        p_rows.append(row)
        pm_rows += [
            {"pair_id": pid, "user_id": mentor, "role": AS_MENTOR, "accepted_at": activated},
            {"pair_id": pid, "user_id": mentee, "role": AS_MENTEE, "accepted_at": activated},
        ]
        shared = [c for c in wants[mentee] if c in holds[mentor]] or wants[mentee][:1]
        ppc_rows += [{"pair_id": pid, "competency_id": c} for c in shared]
        if activated is None:
            continue
        until = ended or now
        meet_share = rng.choice((1.0, 1.0, 0.8, 0.5))  # some pairs fall behind
        last = activated
        day = activated + cadence * DAY
        while day <= until:
            if rng.random() < meet_share:
                ci_rows.append(
                    {
                        "id": next(ci_ids),
                        "pair_id": pid,
                        "logged_by": mentee,
                        "held_on": day.date(),
                        "duration_minutes": 45,
                        "notes": "",
                        "next_steps": "",
                    }
                )
                last = day
                if day.date() >= activated.date():
                    row["check_ins_logged"] += 1
            day += cadence * DAY
        if state == "active":
            row["check_in_due_at"] = last.replace(hour=0, minute=0, second=0) + cadence * DAY
        kinds = []
        if activated + 30 * DAY < until:
            kinds.append(("day_30", activated + 30 * DAY))
        if state == "ended":
            kinds.append(("end", until))
        for kind, due in kinds:
            for uid in (mentor, mentee):
                answered = due + DAY if rng.random() < 0.8 else None
                rating = rng.choice((1, 2, 3, 4, 4, 5, 5)) if answered else None
                if answered is not None and (
                    row["latest_rating_at"] is None or answered >= row["latest_rating_at"]
                ):
                    row["latest_rating"], row["latest_rating_at"] = rating, answered
                pu_rows.append(
                    {
                        "id": next(pu_ids),
                        "pair_id": pid,
                        "user_id": uid,
                        "kind": kind,
                        "due_at": due,
                        "sent_at": due,
                        "answered_at": answered,
                        "rating": rating,
                        "comment": "",
                    }
                )
    engine = get_engine(app)
    for model, rows in (
        (User, u_rows),
        (Profile, prof_rows),
        (ProfileCompetency, pc_rows),
        (Request, r_rows),
        (RequestCompetency, rc_rows),
        (Pair, p_rows),
        (PairMember, pm_rows),
        (PairCompetency, ppc_rows),
        (CheckIn, ci_rows),
        (Pulse, pu_rows),
    ):
        _bulk(engine, model, rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for model in (User, Profile, Request, Pair, CheckIn, Pulse):
                table = model.__tablename__
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
                )
    counts = {
        "pairs": len(p_rows),
        "active": sum(1 for r in p_rows if r["state"] == "active"),
        "requests": len(r_rows),
        "profiles": len(prof_rows),
        "check-ins": len(ci_rows),
        "pulses": len(pu_rows),
    }
    return HealthWorld(programme_id, platform_id, context_id, placement_id, staff_id, counts)
