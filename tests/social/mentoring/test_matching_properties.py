"""Properties of bulk matching on small instances (≤ 6 mentees x 4 mentors, capacities 1-3):
never over capacity, at most one mentor each, never an excluded pair or one below the minimum
score, the brute-force optimum, never below greedy, and the same scores as the ones shown."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.social.mentoring import matching
from plugin.social.mentoring.matching import Candidates, Proposal, solve, solve_greedy
from plugin.social.mentoring.scoring import blocked, centipoints, score
from tests.social.mentoring.mentoring_world import WEEK, brute_force_total, people, tables

EXAMPLES = settings(max_examples=150, deadline=None)


def check_valid(table: Candidates, proposal: Proposal) -> None:
    points = {
        (int(table.mentee_ids[r]), int(table.mentor_ids[c])): int(p)
        for r, c, p in zip(table.rows, table.cols, table.points, strict=True)
    }
    free = dict(zip(table.mentor_ids.tolist(), table.free.tolist(), strict=True))
    mentees = [p.mentee_id for p in proposal.pairs]
    assert len(mentees) == len(set(mentees)), "a mentee with two mentors"
    for mentor_id, n in Counter(p.mentor_id for p in proposal.pairs).items():
        assert n <= free[mentor_id], "over capacity"
    for pair in proposal.pairs:
        assert points[(pair.mentee_id, pair.mentor_id)] == round(pair.score * 100)
    assert set(mentees) | set(proposal.unmatched) == set(table.mentee_ids.tolist())
    assert round(proposal.total * 100) == sum(round(p.score * 100) for p in proposal.pairs)


@EXAMPLES
@given(tables())
def test_optimal_on_any_table_equals_brute_force_and_is_never_below_greedy(table):
    best, greedy = solve(table), solve_greedy(table)
    check_valid(table, best)
    check_valid(table, greedy)
    assert round(best.total * 100) == brute_force_total(table)
    assert best.total >= greedy.total


@EXAMPLES
@given(people(), st.sampled_from([0.0, 40.0, 60.0, 75.5]))
def test_matching_real_requests_keeps_every_rule(world, min_score):
    requests, mentors, forbidden = world
    table = matching.candidates(
        requests, mentors, week=WEEK, forbidden=forbidden, min_score=min_score
    )
    best, greedy = solve(table), solve_greedy(table)
    check_valid(table, best)
    by_id = {m.mentor_id: m for m in mentors}
    asks = {r.mentee_id: r for r in requests}
    for pair in best.pairs:
        assert pair.mentee_id != pair.mentor_id
        assert (pair.mentee_id, pair.mentor_id) not in forbidden
        assert pair.score >= min_score
        assert blocked(asks[pair.mentee_id], by_id[pair.mentor_id]) is None
    for mentor_id, n in Counter(p.mentor_id for p in best.pairs).items():
        assert n <= by_id[mentor_id].capacity - by_id[mentor_id].taken
    assert round(best.total * 100) == brute_force_total(table)
    assert best.total >= greedy.total


@EXAMPLES
@given(people())
def test_the_matchers_scores_equal_the_shown_scores(world):
    requests, mentors, _ = world
    table = matching.candidates(requests, mentors, week=WEEK, min_score=0)
    got = {
        (int(table.mentee_ids[r]), int(table.mentor_ids[c])): int(p)
        for r, c, p in zip(table.rows, table.cols, table.points, strict=True)
    }
    expected = {
        (r.mentee_id, m.mentor_id): centipoints(score(r, m, week=WEEK).total)
        for r in requests
        for m in mentors
        if blocked(r, m) is None
    }
    assert got == expected


@EXAMPLES
@given(people(), st.randoms(use_true_random=False))
def test_the_same_input_in_any_order_gives_the_same_proposal(world, rnd):
    requests, mentors, forbidden = world
    first = matching.match(requests, mentors, week=WEEK, forbidden=forbidden, min_score=0)
    requests, mentors = requests[:], mentors[:]
    rnd.shuffle(requests)
    rnd.shuffle(mentors)
    assert matching.match(requests, mentors, week=WEEK, forbidden=forbidden, min_score=0) == first
