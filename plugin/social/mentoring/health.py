"""Programme health for staff and L&D: how many pairs run, how fast people are matched, whether
pairs meet as often as agreed, what the pulse surveys say, which pairs need attention, and, per
targeted competency, whether there are enough mentors (docs/mentoring.md, "Programme health").

Every figure is an aggregate computed in SQL in a fixed number of queries, whatever the number of
pairs or competencies: the pair-health rule (:func:`health_case`, the shared contract) is a SQL
``CASE`` over all of a programme's active pairs, never a loop over pairs in Python. Staff of the
programme's course see it (a platform-wide programme: the platform's administrators); it never
shows check-in notes, next steps or pulse comments, only counts, ratings and averages.

Open demand per competency is the number of distinct mentees that some *demand source* says
want it; :data:`demand_sources` is the hook where other features (issue 12's plan goals) add
their own with :func:`add_demand_source`.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from plugin.access import Viewer
from plugin.db import utcnow
from plugin.performance.models import Competency, Framework
from plugin.social.mentoring import programmes
from plugin.social.mentoring.models import (
    AS_MENTEE,
    AS_MENTOR,
    PAIR_ACTIVE,
    PAIR_PROPOSED,
    PULSE_DAY_30,
    PULSE_END,
    REQUEST_OPEN,
    HealthSnapshot,
    Pair,
    PairCompetency,
    PairMember,
    Profile,
    ProfileCompetency,
    Programme,
    ProgrammeCompetency,
    Pulse,
    Request,
    RequestCompetency,
)

# Pair health (the shared contract; active pairs only)
AT_RISK = "at_risk"
NEEDS_CHECK_IN = "needs_check_in"
ON_TRACK = "on_track"
HEALTH_STATES = (AT_RISK, NEEDS_CHECK_IN, ON_TRACK)
HEALTH_LABELS = {
    AT_RISK: "At risk",
    NEEDS_CHECK_IN: "Needs a check-in",
    ON_TRACK: "On track",
}
RISKY_RATING = 2  # a latest pulse rating at or below this puts a pair at risk
MATCH_WINDOW_DAYS = 90  # time to match reads the pairs made in the last 90 days
MAX_COMPETENCIES = 50  # competencies shown (a programme targets at most 50)
DAY_SECONDS = 86_400


class epoch(FunctionElement):
    """Seconds since 1970-01-01 UTC of a UTC datetime column, so date arithmetic is the same on
    PostgreSQL and SQLite."""

    type = Float()
    inherit_cache = True


@compiles(epoch)
def _epoch_default(element, compiler, **kw) -> str:
    # date_part gives a double; EXTRACT gives a numeric, many times slower to add and compare
    return f"date_part('epoch', {compiler.process(element.clauses, **kw)})"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


class whole(FunctionElement):
    """The whole part of a number at or above 0 (FLOOR; SQLite's CAST truncates the same)."""

    type = Integer()
    inherit_cache = True


@compiles(whole)
def _whole_default(element, compiler, **kw) -> str:
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(whole, "sqlite")
def _whole_sqlite(element, compiler, **kw) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


def pair_health(
    latest_rating: int | None, check_in_due_at: datetime | None, cadence_days: int, now: datetime
) -> str:
    """The contract's rule for one active pair, in Python (for a page about one pair):
    ``at_risk`` if its latest answered pulse rating is ≤ 2 or ``now`` is past the due check-in
    by more than a cadence; else ``needs_check_in`` once the check-in is due; else ``on_track``.
    :func:`health_case` is the same rule in SQL."""
    if latest_rating is not None and latest_rating <= RISKY_RATING:
        return AT_RISK
    if check_in_due_at is None:
        return ON_TRACK
    if now > check_in_due_at + timedelta(days=cadence_days):
        return AT_RISK
    if now > check_in_due_at:
        return NEEDS_CHECK_IN
    return ON_TRACK


def health_case(now: datetime):
    """The pair-health rule as a SQL expression over ``mentoring_pair`` (for active pairs):
    one of :data:`HEALTH_STATES`. The pair's latest answered pulse rating is its
    ``latest_rating``, kept by the service that records an answer (``pairs.note_rating``)."""
    t = now.timestamp()
    due = epoch(Pair.check_in_due_at)
    rating = Pair.latest_rating
    return case(
        (
            or_(rating <= RISKY_RATING, due + Pair.cadence_days * DAY_SECONDS < t),
            literal(AT_RISK),
        ),
        (due < t, literal(NEEDS_CHECK_IN)),
        else_=literal(ON_TRACK),
    )


# --- demand -----------------------------------------------------------------------------------

#: A source of demand: for a programme (at ``now``), a SELECT of (competency_id, user_id) rows,
#: one per mentee who wants that competency; duplicates across sources count once.
DemandSource = Callable[[Programme, datetime], Select]


def open_requests_demand(programme: Programme, now: datetime) -> Select:
    """Mentees with an open request asking for the competency."""
    return (
        select(RequestCompetency.competency_id, Request.mentee_id.label("user_id"))
        .join(Request, Request.id == RequestCompetency.request_id)
        .where(Request.programme_id == programme.id, Request.state == REQUEST_OPEN)
    )


def waiting_mentees_demand(programme: Programme, now: datetime) -> Select:
    """Mentee profiles wanting the competency whose person is in no proposed or active pair of
    the programme (one who left a group circle counts again)."""
    paired = (
        select(PairMember.user_id)
        .join(Pair, Pair.id == PairMember.pair_id)
        .where(
            Pair.programme_id == programme.id,
            Pair.state.in_((PAIR_PROPOSED, PAIR_ACTIVE)),
            PairMember.role == AS_MENTEE,
            PairMember.left_at.is_(None),  # who left a circle waits again
            PairMember.user_id == Profile.user_id,
        )
    )
    return (
        select(ProfileCompetency.competency_id, Profile.user_id.label("user_id"))
        .join(Profile, Profile.id == ProfileCompetency.profile_id)
        .where(
            Profile.programme_id == programme.id,
            Profile.is_mentee.is_(True),
            ProfileCompetency.role == AS_MENTEE,
            ~exists(paired),
        )
    )


#: The hook: every demand source the figures read (issue 12 adds plan goals here).
demand_sources: list[DemandSource] = [open_requests_demand, waiting_mentees_demand]


def add_demand_source(source: DemandSource) -> None:
    """Count another source of demand (once, however often it is added)."""
    if source not in demand_sources:
        demand_sources.append(source)


# --- the figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetencyHealth:
    """Supply and demand of one competency."""

    competency_id: int
    name: str
    mentors: int  # accepting mentors holding it
    mentees: int  # mentees in active pairs about it
    demand: int  # mentees waiting for it (every demand source, each person once)
    free_capacity: int  # free places of the accepting mentors holding it
    gap: int  # demand - free capacity, at least 0
    mentors_needed: int  # the gap in mentors of the programme's default capacity

    @property
    def call_to_action(self) -> str:
        """What staff should do, when demand exceeds supply ("" otherwise)."""
        if not self.gap:
            return ""
        mentors = "mentor" if self.mentors_needed == 1 else "mentors"
        return f"Recruit {self.mentors_needed} more {mentors} for {self.name}"


@dataclass(frozen=True)
class Health:
    """The figures of one programme at ``as_of``."""

    programme_id: int
    title: str
    as_of: datetime
    active_pairs: int
    proposed_pairs: int
    open_requests: int
    matched_recently: int  # pairs made from a request in the last 90 days
    median_hours_to_match: float | None
    p90_hours_to_match: float | None
    check_ins_expected: int  # over the active pairs, since activation, at their cadence
    check_ins_logged: int
    pulse_day_30_average: float | None
    pulse_day_30_answers: int
    pulse_end_average: float | None
    pulse_end_answers: int
    at_risk: int
    needs_check_in: int
    on_track: int
    targeted: bool  # the competencies are the programme's targets (else: from its profiles)
    competencies: list[CompetencyHealth] = field(default_factory=list)

    @property
    def check_ins_per_pair(self) -> tuple[float, float] | None:
        """(expected, logged) check-ins per active pair, None without active pairs."""
        if not self.active_pairs:
            return None
        return (
            self.check_ins_expected / self.active_pairs,
            self.check_ins_logged / self.active_pairs,
        )

    @property
    def gaps(self) -> list[CompetencyHealth]:
        return [c for c in self.competencies if c.gap]


def _percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values at
    or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _competencies(session: Session, programme: Programme) -> tuple[list[tuple[int, str]], bool]:
    """(id, name) of the competencies to show, and whether they are the programme's targets."""
    current = and_(Framework.platform_id == programme.platform_id, Competency.retired_at.is_(None))
    base = (
        select(Competency.id, Competency.name)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(current)
        .order_by(Framework.id, Competency.sort_order, Competency.id)
        .limit(MAX_COMPETENCIES)
    )
    targeted = [
        (cid, name)
        for cid, name in session.execute(
            base.join(
                ProgrammeCompetency, ProgrammeCompetency.competency_id == Competency.id
            ).where(ProgrammeCompetency.programme_id == programme.id)
        ).all()
    ]
    if targeted:
        return targeted, True
    on_profiles = (
        select(ProfileCompetency.competency_id)
        .join(Profile, Profile.id == ProfileCompetency.profile_id)
        .where(
            Profile.programme_id == programme.id,
            or_(Profile.is_mentor.is_(True), Profile.is_mentee.is_(True)),
        )
    )
    rows = session.execute(base.where(Competency.id.in_(on_profiles))).all()
    return [(cid, name) for cid, name in rows], False


def _supply(session: Session, programme: Programme, ids: list[int]) -> dict[int, tuple[int, int]]:
    """competency -> (accepting mentors holding it, their free places)."""
    from plugin.social.mentoring import pairs  # pairs imports this module

    taken = pairs.taken_places_query(programme.id).subquery()
    free = Profile.capacity - func.coalesce(taken.c.taken, 0)
    rows = session.execute(
        select(
            ProfileCompetency.competency_id,
            func.count(Profile.id),
            func.sum(case((free > 0, free), else_=0)),
        )
        .join(Profile, Profile.id == ProfileCompetency.profile_id)
        .outerjoin(taken, taken.c.user_id == Profile.user_id)
        .where(
            Profile.programme_id == programme.id,
            Profile.is_mentor.is_(True),
            Profile.accepting.is_(True),
            ProfileCompetency.role == AS_MENTOR,
            ProfileCompetency.competency_id.in_(ids),
        )
        .group_by(ProfileCompetency.competency_id)
    ).all()
    return {cid: (int(mentors), int(places or 0)) for cid, mentors, places in rows}


def _mentees(session: Session, programme: Programme, ids: list[int]) -> dict[int, int]:
    """competency -> mentees in active pairs about it (not those who left a circle)."""
    rows = session.execute(
        select(PairCompetency.competency_id, func.count(func.distinct(PairMember.user_id)))
        .join(Pair, Pair.id == PairCompetency.pair_id)
        .join(PairMember, PairMember.pair_id == Pair.id)
        .where(
            Pair.programme_id == programme.id,
            Pair.state == PAIR_ACTIVE,
            PairMember.role == AS_MENTEE,
            PairMember.left_at.is_(None),
            PairCompetency.competency_id.in_(ids),
        )
        .group_by(PairCompetency.competency_id)
    ).all()
    return {cid: int(n) for cid, n in rows}


def _demand(
    session: Session, programme: Programme, ids: list[int], now: datetime
) -> dict[int, int]:
    """competency -> distinct mentees that some demand source says want it."""
    wanted = union_all(*(source(programme, now) for source in demand_sources)).subquery()
    rows = session.execute(
        select(wanted.c.competency_id, func.count(func.distinct(wanted.c.user_id)))
        .where(wanted.c.competency_id.in_(ids))
        .group_by(wanted.c.competency_id)
    ).all()
    return {cid: int(n) for cid, n in rows}


def programme_health(
    session: Session, viewer: Viewer, programme: Programme, *, now: datetime | None = None
) -> Health:
    """The programme's figures computed now (staff of its course; a platform-wide programme,
    the platform's administrators: 403 for anyone else). Pages read :func:`current_health`."""
    programmes.check_manager(viewer, programme)
    return compute(session, programme, now=now)


def compute(session: Session, programme: Programme, *, now: datetime | None = None) -> Health:
    """The figures of ``programme`` at ``now``, from the tables (no permission check: the
    callers decide)."""
    now = now or utcnow()
    t = now.timestamp()
    pid = programme.id

    open_requests = session.scalar(
        select(func.count())
        .select_from(Request)
        .where(Request.programme_id == pid, Request.state == REQUEST_OPEN)
    )

    waits = [
        float(seconds) / 3600
        for (seconds,) in session.execute(
            select(epoch(Pair.created_at) - epoch(Request.created_at))
            .join(Request, Request.id == Pair.request_id)
            .where(
                Pair.programme_id == pid,
                Pair.created_at > now - timedelta(days=MATCH_WINDOW_DAYS),
                Pair.created_at <= now,
            )
        ).all()
    ]

    # one pass over the programme's proposed and active pairs: counts, expected and logged
    # check-ins (the count kept on each pair by ``pairs.note_check_in``), and the pair-health
    # rule (the latest rating kept on each pair by ``pairs.note_rating``)
    active = Pair.state == PAIR_ACTIVE
    health = health_case(now)
    elapsed = (t - epoch(Pair.activated_at)) / (Pair.cadence_days * float(DAY_SECONDS))

    def among_active(condition, value=1):
        return func.coalesce(func.sum(case((and_(active, condition), value), else_=0)), 0)

    pair_row = session.execute(
        select(
            func.coalesce(func.sum(case((Pair.state == PAIR_PROPOSED, 1), else_=0)), 0),
            among_active(true()),
            among_active(elapsed > 0, whole(elapsed)),
            among_active(true(), Pair.check_ins_logged),
            *(among_active(health == state) for state in HEALTH_STATES),
        ).where(Pair.programme_id == pid, Pair.state.in_((PAIR_PROPOSED, PAIR_ACTIVE)))
    ).one()
    proposed, active_pairs, expected, logged_count = (int(v) for v in pair_row[:4])
    by_health = dict(zip(HEALTH_STATES, (int(v) for v in pair_row[4:]), strict=True))
    pulses = {
        kind: (average, int(count))
        for kind, average, count in session.execute(
            select(Pulse.kind, func.avg(Pulse.rating), func.count(Pulse.rating))
            .join(Pair, Pair.id == Pulse.pair_id)
            .where(Pair.programme_id == pid, Pulse.rating.is_not(None))
            .group_by(Pulse.kind)
        ).all()
    }

    shown, targeted = _competencies(session, programme)
    ids = [cid for cid, _ in shown]
    supply = _supply(session, programme, ids) if ids else {}
    mentees = _mentees(session, programme, ids) if ids else {}
    demand = _demand(session, programme, ids, now) if ids else {}
    per_mentor = max(1, programme.default_capacity)
    competencies = []
    for cid, name in shown:
        mentors, free = supply.get(cid, (0, 0))
        wanted = demand.get(cid, 0)
        gap = max(0, wanted - free)
        competencies.append(
            CompetencyHealth(
                competency_id=cid,
                name=name,
                mentors=mentors,
                mentees=mentees.get(cid, 0),
                demand=wanted,
                free_capacity=free,
                gap=gap,
                mentors_needed=math.ceil(gap / per_mentor),
            )
        )

    def average(kind: str) -> float | None:
        value = pulses.get(kind, (None, 0))[0]
        return None if value is None else round(float(value), 2)

    return Health(
        programme_id=pid,
        title=programme.title,
        as_of=now,
        active_pairs=active_pairs,
        proposed_pairs=proposed,
        open_requests=int(open_requests or 0),
        matched_recently=len(waits),
        median_hours_to_match=round(statistics.median(waits), 2) if waits else None,
        p90_hours_to_match=round(_percentile(waits, 0.9), 2) if waits else None,
        check_ins_expected=expected,
        check_ins_logged=logged_count,
        pulse_day_30_average=average(PULSE_DAY_30),
        pulse_day_30_answers=pulses.get(PULSE_DAY_30, (None, 0))[1],
        pulse_end_average=average(PULSE_END),
        pulse_end_answers=pulses.get(PULSE_END, (None, 0))[1],
        at_risk=by_health[AT_RISK],
        needs_check_in=by_health[NEEDS_CHECK_IN],
        on_track=by_health[ON_TRACK],
        targeted=targeted,
        competencies=competencies,
    )


# --- snapshots -----------------------------------------------------------------------------------

#: How old a snapshot the page may show; an older one is computed again on the spot.
SNAPSHOT_MAX_AGE = timedelta(minutes=5)
#: Snapshots the worker refreshes in one run (the oldest first).
REFRESH_BATCH = 20


def _stored(figures: Health) -> dict[str, object]:
    data = asdict(figures)
    data["as_of"] = figures.as_of.isoformat()
    return data


def _restored(data: dict[str, object]) -> Health:
    values = dict(data)
    values["as_of"] = datetime.fromisoformat(str(values["as_of"]))
    values["competencies"] = [
        CompetencyHealth(**c)  # type: ignore[arg-type]
        for c in values["competencies"]  # type: ignore[union-attr]
    ]
    return Health(**values)  # type: ignore[arg-type]


def keep(session: Session, figures: Health) -> None:
    """Store ``figures`` as their programme's snapshot (one upsert: two pages computing at once
    both succeed, the later wins)."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(HealthSnapshot.__table__)
    values = {"computed_at": figures.as_of, "figures": _stored(figures)}
    session.execute(
        insert.values(programme_id=figures.programme_id, **values).on_conflict_do_update(
            index_elements=["programme_id"], set_=values
        )
    )


def current_health(
    session: Session,
    viewer: Viewer,
    programme: Programme,
    *,
    now: datetime | None = None,
    refresh: bool = False,
) -> Health:
    """The figures staff see (the managers only, as :func:`programme_health`): the programme's
    snapshot when it is at most :data:`SNAPSHOT_MAX_AGE` old, else — or with ``refresh`` —
    computed now and kept as the new snapshot (the caller commits). ``as_of`` says when."""
    programmes.check_manager(viewer, programme)
    now = now or utcnow()
    row = session.get(HealthSnapshot, programme.id)
    if row is not None and not refresh:
        age = now - row.computed_at  # UTCDateTime reads back aware on every backend
        if timedelta(0) <= age <= SNAPSHOT_MAX_AGE:
            try:
                return _restored(row.figures)
            except (KeyError, TypeError, ValueError):
                pass  # a snapshot of an older shape: compute it again
    figures = compute(session, programme, now=now)
    keep(session, figures)
    return figures


def refresh_snapshots(
    session: Session, *, now: datetime | None = None, batch: int = REFRESH_BATCH
) -> int:
    """The worker's task: compute again the oldest snapshots about to be too old (the programmes
    staff look at), at most ``batch``; the number refreshed."""
    now = now or utcnow()
    due = now - SNAPSHOT_MAX_AGE / 2
    ids = list(
        session.scalars(
            select(HealthSnapshot.programme_id)
            .where(HealthSnapshot.computed_at <= due)
            .order_by(HealthSnapshot.computed_at)
            .limit(batch)
        )
    )
    for programme_id in ids:
        programme = session.get(Programme, programme_id)
        if programme is not None:
            keep(session, compute(session, programme, now=now))
    return len(ids)


def refresh_task(session: Session, payload: dict[str, object], config: object) -> str:
    """``mentoring.health_refresh`` (every few minutes in ``commons worker``)."""
    return f"{refresh_snapshots(session)} programme health snapshots refreshed"


# --- CSV ------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "competency",
    "active_mentors",
    "active_mentees",
    "open_demand",
    "free_capacity",
    "gap",
    "mentors_to_recruit",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(text: str) -> str:
    """A name a spreadsheet would run as a formula gets a leading single quote."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def health_csv(health: Health) -> str:
    """The per-competency table (the chart's numbers) as CSV, UTF-8 with a byte order mark."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in health.competencies:
        writer.writerow(
            [
                _text_cell(c.name),
                c.mentors,
                c.mentees,
                c.demand,
                c.free_capacity,
                c.gap,
                c.mentors_needed,
            ]
        )
    return buffer.getvalue()
