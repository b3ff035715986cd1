"""Bulk matching: mentees to mentors, the best total score under capacities and exclusions.

1. :func:`candidates` scores every (mentee, mentor) pair at once with NumPy, to the same totals as
   :func:`.scoring.score` (tests check this pair by pair), and keeps a pair only when it can be
   proposed: :func:`.scoring.blocked` has nothing against it, it is not in ``forbidden`` (the
   caller's exclusions: an existing pair, the mentee's LTI mentor when the programme says so …)
   and its total is at least ``min_score``. Scores are kept as whole hundredths of a point, so
   totals add up exactly.
2. :func:`solve` finds an assignment with the **largest total score**: each mentee gets at most
   one mentor, each mentor at most their free places, and a mentee may stay unmatched. Each mentor
   is expanded into as many places (rows of a places x mentees grid) as they can use, and SciPy's
   ``linear_sum_assignment`` (a shortest augmenting path method, exact) solves the rectangular
   assignment; a mentee placed on a non-candidate cell (weight 0) is unmatched. docs/mentoring.md
   has the measurements behind this choice.
3. :func:`solve_greedy` is the simple baseline (best-scoring pairs first), for tests and the
   benchmark.

The same requests and mentors, in any order, give the same proposal: everything is put in id
order first, the solver is deterministic, and the greedy baseline breaks ties by (mentee id,
mentor id).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.optimize import linear_sum_assignment

from plugin.social.mentoring import scoring
from plugin.social.mentoring.scoring import MenteeRequest, MentorProfile

DEFAULT_MIN_SCORE = 50.0  # out of 100: below it a pair is not proposed
BLOCK_ROWS = 512  # mentees scored per NumPy block (bounds memory at about 50 MB per 1,000 mentors)


@dataclass(frozen=True)
class Candidates:
    """The pairs that may be proposed: ``rows[k]`` (index into ``mentee_ids``) with ``cols[k]``
    (index into ``mentor_ids``) scores ``points[k]`` hundredths of a point; ``free[j]`` is mentor
    j's free places. Ids are ascending; pairs are sorted by (row, col)."""

    mentee_ids: np.ndarray
    mentor_ids: np.ndarray
    free: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    points: np.ndarray

    @classmethod
    def of(
        cls,
        mentee_ids: Sequence[int],
        free: dict[int, int],
        points: dict[tuple[int, int], int],
    ) -> Candidates:
        """Candidates from plain data: mentee ids, mentor id → free places, (mentee id, mentor
        id) → points (hundredths). Pairs naming unknown ids are refused."""
        mentees = np.array(sorted(set(mentee_ids)), dtype=np.int64)
        mentors = np.array(sorted(free), dtype=np.int64)
        row_of = {int(m): i for i, m in enumerate(mentees)}
        col_of = {int(m): j for j, m in enumerate(mentors)}
        pairs = sorted((row_of[a], col_of[b], p) for (a, b), p in points.items())
        table = np.array(pairs, dtype=np.int64).reshape(-1, 3)
        return cls(
            mentees,
            mentors,
            np.array([max(0, free[int(m)]) for m in mentors], dtype=np.int64),
            table[:, 0],
            table[:, 1],
            table[:, 2],
        )


@dataclass(frozen=True)
class Pair:
    mentee_id: int
    mentor_id: int
    score: float


@dataclass(frozen=True)
class Proposal:
    """Proposed pairs (in mentee id order), the mentees left unmatched, and the total score."""

    pairs: tuple[Pair, ...]
    unmatched: tuple[int, ...]
    total: float


def _sorted_unique(items: Sequence, key: str) -> list:
    ordered = sorted(items, key=lambda item: getattr(item, key))
    ids = [getattr(item, key) for item in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate {key}")
    return ordered


def _quarter_masks(people: Sequence, week: date) -> tuple[np.ndarray, np.ndarray]:
    """Each person's UTC quarter hours of the week as a 0/1 row, and whether they gave any."""
    masks = np.zeros((len(people), scoring.QUARTERS_PER_WEEK), dtype=np.float32)
    given = np.zeros(len(people), dtype=bool)
    memo: dict[tuple, frozenset[int]] = {}
    for i, person in enumerate(people):
        if not person.availability:
            continue
        given[i] = True
        key = (person.tz, person.availability)
        if key not in memo:
            memo[key] = scoring.utc_quarters(person.availability, person.tz, week)
        masks[i, list(memo[key])] = 1.0
    return masks, given


def _language_masks(mentees: Sequence, mentors: Sequence) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted({scoring.language_key(t) for p in (*mentees, *mentors) for t in p.languages})
    index = {k: n for n, k in enumerate(keys)}

    def masks(people: Sequence) -> np.ndarray:
        out = np.zeros((len(people), max(1, len(keys))), dtype=np.float32)
        for i, person in enumerate(people):
            for tag in person.languages:
                out[i, index[scoring.language_key(tag)]] = 1.0
        return out

    return masks(mentees), masks(mentors)


def candidates(
    requests: Sequence[MenteeRequest],
    mentors: Sequence[MentorProfile],
    *,
    week: date,
    forbidden: Collection[tuple[int, int]] = frozenset(),
    min_score: float = DEFAULT_MIN_SCORE,
) -> Candidates:
    """Score all pairs (availability in the week of ``week``) and keep those that may be proposed:
    not blocked, not in ``forbidden`` ((mentee id, mentor id) pairs), total ≥ ``min_score``."""
    requests = _sorted_unique(requests, "mentee_id")
    mentors = _sorted_unique(mentors, "mentor_id")
    mentee_ids = np.array([r.mentee_id for r in requests], dtype=np.int64)
    mentor_ids = np.array([m.mentor_id for m in mentors], dtype=np.int64)
    free = np.array([m.free if m.accepting else 0 for m in mentors], dtype=np.int64)
    capacity = np.array([m.capacity for m in mentors], dtype=np.float64)
    capacity_value = np.divide(free, capacity, out=np.zeros(len(mentors)), where=capacity > 0)
    open_mentor = free > 0

    comp_ids = sorted({c for r in requests for c in r.competencies})
    comp_col = {c: k for k, c in enumerate(comp_ids)}
    levels = np.zeros((max(1, len(comp_ids)), len(mentors)), dtype=np.int16)
    for j, mentor in enumerate(mentors):
        for c, level in mentor.competencies.items():
            if c in comp_col:
                levels[comp_col[c], j] = level

    # The distinct needs (competency, level, target) and, for each, every mentor's hit (holds it
    # at the target) and gap value: a request's slot s is its s-th competency in id order (the
    # order scoring.score adds in), or need 0, which no mentor meets.
    needs: dict[tuple[int, int, int], int] = {(-1, 0, 0): 0}
    slots = max((len(r.competencies) for r in requests), default=0)
    slot_need = np.zeros((len(requests), slots), dtype=np.int64)
    for i, request in enumerate(requests):
        for s, c in enumerate(sorted(request.competencies)):
            need = request.competencies[c]
            key = (comp_col[c], need.level, need.target)
            slot_need[i, s] = needs.setdefault(key, len(needs))
    need_hit = np.zeros((len(needs), len(mentors)))
    need_quality = np.zeros((len(needs), len(mentors)))
    max_gap = int(levels.max(initial=0))
    gap_values = np.array([scoring.gap_quality(g) for g in range(max_gap + 1)])
    for (k, level, target), n in needs.items():
        if k < 0:
            continue
        hit = levels[k] >= target
        need_hit[n] = hit
        need_quality[n] = np.where(hit, gap_values[np.clip(levels[k] - level, 0, max_gap)], 0.0)
    wanted = np.array([len(r.competencies) for r in requests], dtype=np.float64)

    mentee_quarters, mentee_gave = _quarter_masks(requests, week)
    mentor_quarters, mentor_gave = _quarter_masks(mentors, week)
    both = (mentee_quarters.any(axis=0)) & (mentor_quarters.any(axis=0))
    mentee_quarters = np.ascontiguousarray(mentee_quarters[:, both])
    mentor_quarters_t = np.ascontiguousarray(mentor_quarters[:, both].T)
    mentee_langs, mentor_langs = _language_masks(requests, mentors)
    mentee_spoke = mentee_langs.any(axis=1)
    mentor_spoke = mentor_langs.any(axis=1)
    excluded = {(int(a), int(b)) for a, b in forbidden}
    mentor_col = {int(m): j for j, m in enumerate(mentor_ids)}
    min_points = int(np.ceil(round(min_score * 100, 6)))

    rows, cols, points = [], [], []
    for lo in range(0, len(requests), BLOCK_ROWS):
        hi = min(lo + BLOCK_ROWS, len(requests))
        covered = np.zeros((hi - lo, len(mentors)))
        quality = np.zeros((hi - lo, len(mentors)))
        for s in range(slots):
            covered += need_hit[slot_need[lo:hi, s]]
            quality += need_quality[slot_need[lo:hi, s]]
        competency = covered / wanted[lo:hi, None]
        level_gap = np.divide(quality, covered, out=np.zeros_like(quality), where=covered > 0)

        common = (mentee_quarters[lo:hi] @ mentor_quarters_t).astype(np.float64)
        availability = np.where(
            mentee_gave[lo:hi, None] & mentor_gave[None, :],
            np.minimum(common, scoring.OVERLAP_FULL_QUARTERS) / scoring.OVERLAP_FULL_QUARTERS,
            scoring.UNKNOWN,
        )
        shared = (mentee_langs[lo:hi] @ mentor_langs.T) > 0
        languages = np.where(
            mentee_spoke[lo:hi, None] & mentor_spoke[None, :],
            shared.astype(np.float64),
            scoring.UNKNOWN,
        )
        history = np.ones((hi - lo, len(mentors)))
        for i in range(lo, hi):
            for mentor_id, n in requests[i].declines.items():
                if mentor_id in mentor_col:
                    history[i - lo, mentor_col[mentor_id]] = scoring.history_value(n)

        raw = 0.0 + scoring.WEIGHT_COMPETENCY * competency  # the order scoring.score adds in
        raw = raw + scoring.WEIGHT_LEVEL_GAP * level_gap
        raw = raw + scoring.WEIGHT_AVAILABILITY * availability
        raw = raw + scoring.WEIGHT_CAPACITY * capacity_value[None, :]
        raw = raw + scoring.WEIGHT_LANGUAGES * languages
        raw = raw + scoring.WEIGHT_HISTORY * history
        total = np.rint(raw * 100).astype(np.int64)

        keep = (covered > 0) & open_mentor[None, :] & (total >= min_points)
        keep &= mentee_ids[lo:hi, None] != mentor_ids[None, :]
        r, c = np.nonzero(keep)
        rows.append(r + lo)
        cols.append(c)
        points.append(total[r, c])

    rows_all = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    cols_all = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    points_all = np.concatenate(points) if points else np.zeros(0, dtype=np.int64)
    if excluded:
        mentee_row = {int(m): i for i, m in enumerate(mentee_ids)}
        keys = [
            mentee_row[a] * len(mentor_ids) + mentor_col[b]
            for a, b in excluded
            if a in mentee_row and b in mentor_col
        ]
        keep_pair = ~np.isin(rows_all * len(mentor_ids) + cols_all, np.array(keys, dtype=np.int64))
        rows_all, cols_all, points_all = (
            rows_all[keep_pair],
            cols_all[keep_pair],
            points_all[keep_pair],
        )
    return Candidates(
        mentee_ids,
        mentor_ids,
        free,
        rows_all.astype(np.int64),
        cols_all.astype(np.int64),
        points_all.astype(np.int64),
    )


def _proposal(table: Candidates, chosen: np.ndarray) -> Proposal:
    """The proposal made of the candidate pairs at indices ``chosen``."""
    chosen = np.sort(chosen)
    pairs = tuple(
        Pair(
            int(table.mentee_ids[table.rows[k]]),
            int(table.mentor_ids[table.cols[k]]),
            int(table.points[k]) / 100,
        )
        for k in chosen
    )
    matched = {p.mentee_id for p in pairs}
    unmatched = tuple(int(m) for m in table.mentee_ids if int(m) not in matched)
    return Proposal(pairs, unmatched, int(table.points[chosen].sum()) / 100)


def solve(table: Candidates) -> Proposal:
    """The assignment with the largest total score (see the module's docstring)."""
    if len(table.points) == 0:
        return _proposal(table, np.zeros(0, dtype=np.int64))
    # Only mentees and mentors with a candidate pair take part; a mentor needs no more columns
    # than their free places or their candidate mentees, whichever is fewer.
    mentees, row_index = np.unique(table.rows, return_inverse=True)
    mentors, col_index = np.unique(table.cols, return_inverse=True)
    reach = np.bincount(col_index, minlength=len(mentors))
    places = np.minimum(table.free[mentors], reach)
    weights = np.zeros((len(mentors), len(mentees)), dtype=np.float64)
    weights[col_index, row_index] = table.points
    place_owner = np.repeat(np.arange(len(mentors)), places)
    grid = weights[place_owner]  # places x mentees
    if grid.shape[0] <= grid.shape[1]:
        place, mentee = linear_sum_assignment(grid, maximize=True)
    else:  # the shorter side first, as linear_sum_assignment would otherwise copy it so
        mentee, place = linear_sum_assignment(np.ascontiguousarray(grid.T), maximize=True)
    real = grid[place, mentee] > 0
    # the candidate pair behind each real cell: pairs are sorted by (row, col), so by this key
    keys = table.rows * len(table.mentor_ids) + table.cols
    wanted = mentees[mentee[real]] * len(table.mentor_ids) + mentors[place_owner[place[real]]]
    return _proposal(table, np.searchsorted(keys, wanted))


def solve_greedy(table: Candidates) -> Proposal:
    """Baseline: take pairs from the best score down (ties: lower mentee id, then lower mentor id)
    while the mentee is unmatched and the mentor has a free place. Not optimal in general."""
    order = np.lexsort((table.mentor_ids[table.cols], table.mentee_ids[table.rows], -table.points))
    left = table.free.copy()
    done = np.zeros(len(table.mentee_ids), dtype=bool)
    chosen = []
    for k in order.tolist():
        r, c = table.rows[k], table.cols[k]
        if not done[r] and left[c] > 0:
            done[r] = True
            left[c] -= 1
            chosen.append(k)
    return _proposal(table, np.array(chosen, dtype=np.int64))


def match(
    requests: Sequence[MenteeRequest],
    mentors: Sequence[MentorProfile],
    *,
    week: date,
    forbidden: Collection[tuple[int, int]] = frozenset(),
    min_score: float = DEFAULT_MIN_SCORE,
) -> Proposal:
    """The optimal proposal for these requests and mentors (see :func:`candidates`, :func:`solve`)."""
    return solve(candidates(requests, mentors, week=week, forbidden=forbidden, min_score=min_score))
