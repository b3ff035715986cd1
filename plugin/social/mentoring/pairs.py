"""Mentorships (pairs): how a proposed pair is made, whoever made the match.

A request accepted by a mentor (:mod:`.requests`) and a bulk matching approved by staff both end
in :func:`propose`: a ``proposed`` pair with its members (mentors and mentees) and competencies,
starting on the day it was made, for the programme's duration, at the given cadence. The
agreement both sides accept, check-ins, health, ending and re-matching build on this row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from plugin.social.mentoring.models import (
    AS_MENTEE,
    AS_MENTOR,
    PAIR_PROPOSED,
    Pair,
    PairCompetency,
    PairMember,
    Programme,
)


def propose(
    session: Session,
    programme: Programme,
    *,
    mentor_ids: Iterable[int],
    mentee_ids: Iterable[int],
    competency_ids: Iterable[int],
    cadence_days: int,
    goals: str,
    when: datetime,
    request_id: int | None = None,
) -> Pair:
    """A ``proposed`` pair of ``programme`` with its members and competencies (flushed)."""
    today = when.date()
    pair = Pair(
        programme_id=programme.id,
        request_id=request_id,
        state=PAIR_PROPOSED,
        starts_on=today,
        ends_on=today + timedelta(days=programme.duration_days),
        cadence_days=cadence_days,
        place="",
        link="",
        goals=goals,
        created_at=when,
    )
    session.add(pair)
    session.flush()
    members = [PairMember(pair_id=pair.id, user_id=uid, role=AS_MENTOR) for uid in mentor_ids]
    members += [PairMember(pair_id=pair.id, user_id=uid, role=AS_MENTEE) for uid in mentee_ids]
    session.add_all(members)
    session.add_all(
        [
            PairCompetency(pair_id=pair.id, competency_id=cid)
            for cid in dict.fromkeys(competency_ids)
        ]
    )
    session.flush()
    return pair
