"""Check-ins: one meeting of an active pair, logged by any of its members.

A check-in has its date (not in the future, not before the agreement's start), its length
(:data:`MIN_MINUTES`-:data:`MAX_MINUTES` minutes), the competencies it touched (of the pair's) and
notes and next steps that are **private to the pair**: staff see only the date and the length,
and no statement or e-mail carries them. Logging one moves the pair's next due check-in to the
meeting's day plus the cadence (when later) and clears the reminder, and publishes one
``CHECKIN_LOGGED`` event per current member of the pair (not those who left a circle) (mentors "mentored", mentees "attended", with the
length as ``result.duration``), the check-in as object and the pair as parent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin import events
from plugin.access import Refusal, Viewer
from plugin.events import ActivityRef, DomainEvent
from plugin.lti.models import User
from plugin.performance import links
from plugin.social.mentoring import pairs, profiles
from plugin.social.mentoring.models import (
    PAIR_ACTIVE,
    CheckIn,
    CheckInCompetency,
    Pair,
    Programme,
)

MIN_MINUTES = 5
MAX_MINUTES = 600
MAX_NOTES_CHARS = 4000
MAX_LISTED = 200


def checkin_ref(check_in: CheckIn) -> ActivityRef:
    return ActivityRef("checkin", str(check_in.id), f"Mentoring check-in {check_in.id}")


def find_activity(session: Session, platform_id: int, key: str) -> ActivityRef | None:
    """A check-in of the platform by its key (the xAPI activity IRIs), else None."""
    row_id = events.key_id(key)
    if row_id is None:
        return None
    row = session.scalar(
        select(CheckIn)
        .join(Pair, Pair.id == CheckIn.pair_id)
        .join(Programme, Programme.id == Pair.programme_id)
        .where(CheckIn.id == row_id, Programme.platform_id == platform_id)
    )
    return checkin_ref(row) if row is not None else None


def _held_on(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise Refusal(400, "The meeting date must be a date such as 2026-03-01.")


def log(
    session: Session,
    viewer: Viewer,
    pair_id: int,
    *,
    held_on: object,
    duration_minutes: object,
    notes: object = "",
    next_steps: object = "",
    competency_ids: Iterable[object] = (),
    now: datetime | None = None,
) -> CheckIn:
    """A member logs a check-in of their active pair (every check first; nothing changes on a
    refusal)."""
    when = now if now is not None else datetime.now(UTC)
    found = pairs.member_access(session, viewer, pair_id, "log a check-in")
    pair, programme = found.pair, found.programme
    if pair.state != PAIR_ACTIVE:
        raise Refusal(
            409, "Check-ins are logged once everyone has accepted the agreement, until it ends."
        )
    day = _held_on(held_on)
    if day > when.date():
        raise Refusal(400, "The meeting date cannot be in the future.")
    if day < pair.starts_on:
        raise Refusal(
            400, f"The meeting date cannot be before the mentorship started ({pair.starts_on})."
        )
    minutes = pairs.whole(
        duration_minutes,
        "The length in minutes",
        MIN_MINUTES,
        MAX_MINUTES,
        f"A check-in lasts {MIN_MINUTES} to {MAX_MINUTES} minutes.",
    )
    text = profiles.check_text(notes, MAX_NOTES_CHARS, "The notes")
    steps = profiles.check_text(next_steps, MAX_NOTES_CHARS, "The next steps")
    values = list(competency_ids)
    allowed = pairs.pair_competency_ids(session, pair.id)
    touched = pairs.check_competencies(session, programme, values, allowed) if values else []
    check_in = CheckIn(
        pair_id=pair.id,
        logged_by=viewer.user_id,
        held_on=day,
        duration_minutes=minutes,
        notes=text,
        next_steps=steps,
        created_at=when,
    )
    session.add(check_in)
    session.flush()
    session.add_all([CheckInCompetency(check_in_id=check_in.id, competency_id=c) for c in touched])
    due = datetime.combine(day, time(0, 0), UTC) + timedelta(days=pair.cadence_days)
    current = pairs.aware(pair.check_in_due_at)
    if current is None or due > current:
        pair.check_in_due_at = due
    pair.reminded_at = None
    session.flush()
    pairs.note_check_in(session, pair, day)
    refs = pairs.competency_refs(session, programme, touched)
    obj, parent = checkin_ref(check_in), pairs.pair_ref(pair)
    context_id = pairs.event_context(viewer, programme)
    for member in found.current:  # people who left a circle are not part of it any more
        events.publish(
            session,
            DomainEvent(
                kind=events.CHECKIN_LOGGED,
                identity=f"checkin:{check_in.id}:{member.user_id}",
                occurred_at=when,
                platform_id=programme.platform_id,
                actor_user_id=member.user_id,
                object=obj,
                context_id=context_id,
                parents=(parent,),
                data={
                    "role": member.role,
                    "duration_minutes": minutes,
                    "competencies": refs,
                },
            ),
        )
    return check_in


@dataclass(frozen=True)
class CheckInView:
    """A check-in as its pair sees it; for staff ``notes`` and ``next_steps`` are None."""

    id: int
    pair_id: int
    held_on: date
    duration_minutes: int
    logged_by: int | None
    logged_by_name: str
    competencies: list[pairs.Named]
    notes: str | None
    next_steps: str | None
    created_at: datetime


def list_checkins(session: Session, viewer: Viewer, pair_id: int) -> list[CheckInView]:
    """The pair's check-ins, latest first: members read everything, staff the dates and
    lengths only (never notes or next steps); 404 for anyone else."""
    found = pairs.access(session, viewer, pair_id)
    member = found.role is not None
    rows = list(
        session.scalars(
            select(CheckIn)
            .where(CheckIn.pair_id == found.pair.id)
            .order_by(CheckIn.held_on.desc(), CheckIn.id.desc())
            .limit(MAX_LISTED)
        )
    )
    ids = [r.id for r in rows]
    touched: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for check_in_id, competency_id in session.execute(
            select(CheckInCompetency.check_in_id, CheckInCompetency.competency_id)
            .where(CheckInCompetency.check_in_id.in_(ids))
            .order_by(CheckInCompetency.competency_id)
        ):
            touched[check_in_id].append(competency_id)
    names = {
        c.id: c.name
        for c in links.platform_competencies(
            session, found.programme.platform_id, {c for v in touched.values() for c in v}
        ).values()
    }
    people = {r.logged_by for r in rows if r.logged_by is not None}
    users = (
        {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(people)))}
        if people
        else {}
    )
    return [
        CheckInView(
            id=r.id,
            pair_id=r.pair_id,
            held_on=r.held_on,
            duration_minutes=r.duration_minutes,
            logged_by=r.logged_by,
            logged_by_name=users.get(r.logged_by, "") if r.logged_by else "",
            competencies=[pairs.Named(c, names.get(c, "")) for c in touched[r.id]],
            notes=r.notes if member else None,
            next_steps=r.next_steps if member else None,
            created_at=pairs.aware(r.created_at) or r.created_at,
        )
        for r in rows
    ]
