"""Builders and a brute-force reference shared by the matching tests."""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import strategies as st

from plugin.social.mentoring.matching import Candidates
from plugin.social.mentoring.scoring import MenteeRequest, MentorProfile, Need, Window

WEEK = date(2025, 1, 13)  # a winter week: no clock changes anywhere near it
ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu")


def mentor(mentor_id: int, competencies: dict[int, int], capacity: int = 2, **kw) -> MentorProfile:
    return MentorProfile(mentor_id=mentor_id, competencies=competencies, capacity=capacity, **kw)


def request(mentee_id: int, needs: dict[int, tuple[int, int]], **kw) -> MenteeRequest:
    return MenteeRequest(
        mentee_id=mentee_id,
        competencies={c: Need(level, target) for c, (level, target) in needs.items()},
        **kw,
    )


def brute_force_total(table: Candidates) -> int:
    """The best total (hundredths) over every assignment: each mentee to one of its candidate
    mentors or to nobody, within the mentors' free places."""
    options: list[list[tuple[int, int]]] = [[(-1, 0)] for _ in table.mentee_ids]
    for r, c, p in zip(table.rows, table.cols, table.points, strict=True):
        options[int(r)].append((int(c), int(p)))
    best = 0
    for choice in itertools.product(*options):
        used: dict[int, int] = {}
        for c, _ in choice:
            if c >= 0:
                used[c] = used.get(c, 0) + 1
        if all(n <= table.free[c] for c, n in used.items()):
            best = max(best, sum(p for _, p in choice))
    return best


# --- hypothesis strategies -------------------------------------------------------------------

windows = st.builds(
    lambda day, start, length: Window(day, start, min(24, start + length)),
    st.integers(0, 6),
    st.integers(0, 23),
    st.integers(1, 4),
)
availability = st.lists(windows, max_size=3).map(tuple)
languages = st.frozensets(st.sampled_from(["en", "en-GB", "fr", "de", "pt-BR"]), max_size=2)


@st.composite
def needs(draw) -> dict[int, Need]:
    out = {}
    for c in draw(st.lists(st.integers(1, 5), min_size=1, max_size=3, unique=True)):
        level = draw(st.integers(0, 3))
        out[c] = Need(level, draw(st.integers(level + 1, 5)))
    return out


@st.composite
def people(draw, max_mentees: int = 6, max_mentors: int = 4, max_capacity: int = 3):
    """Requests and mentors whose ids overlap (so self-pairs come up), with declines."""
    mentee_ids = draw(st.lists(st.integers(1, 8), min_size=1, max_size=max_mentees, unique=True))
    mentor_ids = draw(st.lists(st.integers(1, 8), min_size=1, max_size=max_mentors, unique=True))
    mentors = []
    for mentor_id in mentor_ids:
        capacity = draw(st.integers(1, max_capacity))
        mentors.append(
            MentorProfile(
                mentor_id=mentor_id,
                competencies=draw(
                    st.dictionaries(st.integers(1, 5), st.integers(1, 5), min_size=1, max_size=5)
                ),
                capacity=capacity,
                taken=draw(st.integers(0, capacity)),
                accepting=draw(st.booleans() | st.just(True)),
                tz=draw(st.sampled_from(ZONES)),
                availability=draw(availability),
                languages=draw(languages),
            )
        )
    requests = [
        MenteeRequest(
            mentee_id=mentee_id,
            competencies=draw(needs()),
            tz=draw(st.sampled_from(ZONES)),
            availability=draw(availability),
            languages=draw(languages),
            declines=draw(st.dictionaries(st.sampled_from(mentor_ids), st.integers(1, 3))),
        )
        for mentee_id in mentee_ids
    ]
    forbidden = draw(
        st.frozensets(st.tuples(st.sampled_from(mentee_ids), st.sampled_from(mentor_ids)))
    )
    return requests, mentors, forbidden


@st.composite
def tables(draw, max_mentees: int = 6, max_mentors: int = 4) -> Candidates:
    """Candidate tables straight from numbers: any pairs, scores from a narrow range (many ties)
    or a wide one, capacities 1-3."""
    mentees = list(range(1, draw(st.integers(1, max_mentees)) + 1))
    free = {100 + j: draw(st.integers(1, 3)) for j in range(draw(st.integers(1, max_mentors)))}
    score = draw(st.sampled_from([st.integers(1, 3), st.integers(1, 10_000)]))
    points = draw(
        st.dictionaries(st.tuples(st.sampled_from(mentees), st.sampled_from(sorted(free))), score)
    )
    return Candidates.of(mentees, free, points)
