"""How well a mentor suits a mentee's request: a total out of 100 made of named parts people see.

The parts, each a value from 0 to 1 times its weight (the weights add up to 100):

``competency`` (35)
    Share of the requested competencies the mentor holds **at or above the mentee's target level**
    (self-rated positions on the framework's scale; 1 is the lowest level).
``level_gap`` (20)
    For the covered competencies, how far above the mentee the mentor stands: a gap of 1 or 2
    levels is best (1.0); each level more costs 0.25, down to 0.25 (a far more senior mentor
    still fits, but is harder to learn from and scarcer). The mean over the covered competencies;
    0 when none is covered.
``availability`` (15)
    Hours a week both are available, once both weekly calendars are put in UTC (each person's
    hour ranges are in their own time zone, converted with :mod:`zoneinfo` for the week scored,
    so summer time counts): full marks from 2 hours in common, in steps of 15 minutes; 0.5 when
    either side gave no availability (unknown is neither good nor bad).
``capacity`` (10)
    The mentor's free places as a share of their capacity, so load spreads over mentors.
``languages`` (10)
    1 with a language in common (compared by primary language subtag, so ``en-GB`` meets
    ``en``), 0 without; 0.5 when either side gave none.
``history`` (10)
    1 with no past declines of this mentee by this mentor; each decline takes 0.5 off (0 from
    two declines).

``total = round(sum(weight x value), 2)``, the sum taken in the order above; everything is a plain
function of the inputs (no clock, no randomness), so the same inputs give the same score.

A pair is not proposed at all (:func:`blocked` names why) when mentor and mentee are the same
person, the mentor is not accepting or has no free place, or the mentor holds none of the
requested competencies at the target level. Bulk matching (:mod:`.matching`) computes the same
totals for many pairs at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEIGHT_COMPETENCY = 35.0
WEIGHT_LEVEL_GAP = 20.0
WEIGHT_AVAILABILITY = 15.0
WEIGHT_CAPACITY = 10.0
WEIGHT_LANGUAGES = 10.0
WEIGHT_HISTORY = 10.0

BEST_GAP = 2  # gaps of 1..BEST_GAP levels above the mentee score 1.0
GAP_STEP = 0.25  # taken off per level beyond BEST_GAP
GAP_FLOOR = 0.25  # the least a covered competency's gap scores
QUARTERS_PER_HOUR = 4
QUARTERS_PER_WEEK = 7 * 24 * QUARTERS_PER_HOUR
OVERLAP_FULL_QUARTERS = 2 * QUARTERS_PER_HOUR  # 2 hours a week in common earn full marks
UNKNOWN = 0.5  # the value of availability or languages when a side did not give them
DECLINE_STEP = 0.5  # taken off the history value per past decline


@dataclass(frozen=True)
class Window:
    """A weekly availability range: ``day`` 0 = Monday … 6 = Sunday, from ``start`` to ``end``
    o'clock (whole hours, 0 ≤ start < end ≤ 24) in the person's own time zone."""

    day: int
    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.day <= 6 and 0 <= self.start < self.end <= 24):
            raise ValueError(f"not a weekly hour range: {self}")


@dataclass(frozen=True)
class Need:
    """A requested competency: the mentee's self-rated ``level`` (0 = none yet) and the ``target``
    level they want to reach (greater than ``level``)."""

    level: int
    target: int

    def __post_init__(self) -> None:
        if not 0 <= self.level < self.target:
            raise ValueError(f"the target must be above the level (0 ≤ level < target): {self}")


@dataclass(frozen=True)
class MenteeRequest:
    """A mentee's request: competency id → :class:`Need` (at least one), time zone, weekly
    availability, languages, and past declines by mentor (mentor user id → count)."""

    mentee_id: int
    competencies: Mapping[int, Need]
    tz: str = "UTC"
    availability: tuple[Window, ...] = ()
    languages: frozenset[str] = frozenset()
    declines: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.competencies:
            raise ValueError("a request names at least one competency")


@dataclass(frozen=True)
class MentorProfile:
    """A mentor: competency id → self-rated level (1 = the scale's lowest), capacity (mentees at
    once), ``taken`` (current mentees), accepting on/off, time zone, weekly availability,
    languages."""

    mentor_id: int
    competencies: Mapping[int, int]
    capacity: int
    taken: int = 0
    accepting: bool = True
    tz: str = "UTC"
    availability: tuple[Window, ...] = ()
    languages: frozenset[str] = frozenset()

    @property
    def free(self) -> int:
        """Free places (never negative)."""
        return max(0, self.capacity - self.taken)


@dataclass(frozen=True)
class Part:
    """One named part of a score: ``value`` from 0 to 1, worth ``weight`` points."""

    name: str
    label: str
    value: float
    weight: float
    explanation: str

    @property
    def points(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True)
class Score:
    """A total out of 100 and the parts it is made of (in the documented order)."""

    total: float
    parts: tuple[Part, ...]

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)


def monday_of(week: date) -> date:
    """The Monday of the week ``week`` falls in."""
    return week - timedelta(days=week.weekday())


def utc_quarters(availability: Iterable[Window], tz: str, week: date) -> frozenset[int]:
    """The quarter hours of the UTC week (0 = Monday 00:00 UTC, modulo the week) that a person's
    local weekly ranges cover in the week of ``week``."""
    zone = ZoneInfo(tz)
    monday = monday_of(week)
    origin = datetime.combine(monday, time(0), tzinfo=UTC)
    quarters: set[int] = set()
    for window in availability:
        day = monday + timedelta(days=window.day)
        for hour in range(window.start, window.end):
            local = datetime.combine(day, time(hour), tzinfo=zone)
            first = (local.astimezone(UTC) - origin) // timedelta(minutes=15)
            quarters.update((first + q) % QUARTERS_PER_WEEK for q in range(QUARTERS_PER_HOUR))
    return frozenset(quarters)


def language_key(tag: str) -> str:
    """The primary language subtag, lower-cased (``en-GB`` → ``en``)."""
    return tag.strip().split("-")[0].split("_")[0].lower()


def gap_quality(gap: int) -> float:
    """The value of a covered competency's level gap (mentor's level - mentee's)."""
    if gap <= BEST_GAP:
        return 1.0
    return max(GAP_FLOOR, 1.0 - GAP_STEP * (gap - BEST_GAP))


def history_value(declines: int) -> float:
    return max(0.0, 1.0 - DECLINE_STEP * declines)


def centipoints(raw: float) -> int:
    """A raw weighted sum as hundredths of a point (half to even), the unit the matcher adds up."""
    return round(raw * 100)


def covered(request: MenteeRequest, mentor: MentorProfile) -> list[int]:
    """The requested competencies (in id order) the mentor holds at or above the target."""
    return [
        c
        for c in sorted(request.competencies)
        if mentor.competencies.get(c, 0) >= request.competencies[c].target
    ]


def blocked(request: MenteeRequest, mentor: MentorProfile) -> str | None:
    """Why this pair can never be proposed, or None when it can be."""
    if request.mentee_id == mentor.mentor_id:
        return "the same person"
    if not mentor.accepting:
        return "not accepting mentees"
    if mentor.free <= 0:
        return "no free place"
    if not covered(request, mentor):
        return "holds none of the requested competencies at the target level"
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _hours(quarters: int) -> str:
    return f"{quarters / QUARTERS_PER_HOUR:g} h"


def score(request: MenteeRequest, mentor: MentorProfile, *, week: date) -> Score:
    """Score a mentor for a request, availability taken in the week of ``week``."""
    wanted = len(request.competencies)
    hits = covered(request, mentor)
    competency = Part(
        "competency",
        "Competency fit",
        len(hits) / wanted,
        WEIGHT_COMPETENCY,
        f"Holds {len(hits)} of {wanted} requested competencies at the target level",
    )

    gaps = [mentor.competencies[c] - request.competencies[c].level for c in hits]
    level_gap = Part(
        "level_gap",
        "Level gap",
        sum(gap_quality(g) for g in gaps) / len(gaps) if gaps else 0.0,
        WEIGHT_LEVEL_GAP,
        (
            "Levels above the mentee: "
            + ", ".join(f"+{g}" for g in gaps)
            + f" (best: +1 to +{BEST_GAP})"
            if gaps
            else "No requested competency at the target level"
        ),
    )

    if request.availability and mentor.availability:
        common = len(
            utc_quarters(request.availability, request.tz, week)
            & utc_quarters(mentor.availability, mentor.tz, week)
        )
        overlap = min(common, OVERLAP_FULL_QUARTERS) / OVERLAP_FULL_QUARTERS
        said = (
            f"{_hours(common)} a week in common (full marks from {_hours(OVERLAP_FULL_QUARTERS)})"
            if common
            else "No hours in common in a week"
        )
    else:
        overlap, said = UNKNOWN, "Availability not given"
    availability = Part("availability", "Availability", overlap, WEIGHT_AVAILABILITY, said)

    free = mentor.free if mentor.accepting else 0
    capacity = Part(
        "capacity",
        "Free capacity",
        free / mentor.capacity if mentor.capacity > 0 else 0.0,
        WEIGHT_CAPACITY,
        f"{free} of {_plural(mentor.capacity, 'place')} free"
        if mentor.accepting
        else "Not accepting mentees",
    )

    theirs = {language_key(t) for t in mentor.languages}
    mine = {language_key(t) for t in request.languages}
    if theirs and mine:
        shared = sorted(theirs & mine)
        spoken = 1.0 if shared else 0.0
        said = f"Languages in common: {', '.join(shared)}" if shared else "No language in common"
    else:
        spoken, said = UNKNOWN, "Languages not given"
    languages = Part("languages", "Languages", spoken, WEIGHT_LANGUAGES, said)

    declines = request.declines.get(mentor.mentor_id, 0)
    history = Part(
        "history",
        "History",
        history_value(declines),
        WEIGHT_HISTORY,
        f"Declined this mentee {_plural(declines, 'time')} before"
        if declines
        else "No past declines",
    )

    parts = (competency, level_gap, availability, capacity, languages, history)
    raw = 0.0
    for part in parts:
        raw = raw + part.weight * part.value
    return Score(centipoints(raw) / 100, parts)
