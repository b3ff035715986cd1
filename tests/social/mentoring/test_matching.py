"""Bulk matching examples: the optimum where greedy falls short, exclusions, the minimum score,
the vectorised scores equal to the shown ones, and the same answer for the same input."""

from __future__ import annotations

import random
from datetime import date

from plugin.social.mentoring import matching
from plugin.social.mentoring.matching import Candidates, Pair, solve, solve_greedy
from plugin.social.mentoring.scoring import blocked, centipoints, score
from tests.social.mentoring.mentoring_world import WEEK, brute_force_total, mentor, request


def test_the_optimum_beats_greedy_where_the_best_pair_blocks_two_good_ones():
    # mentee 1: 90 with X, 80 with Y; mentee 2: 85 with X only; one place each
    table = Candidates.of([1, 2], {10: 1, 11: 1}, {(1, 10): 9000, (1, 11): 8000, (2, 10): 8500})
    greedy = solve_greedy(table)
    assert greedy.pairs == (Pair(1, 10, 90.0),)
    assert greedy.unmatched == (2,)
    best = solve(table)
    assert best.pairs == (Pair(1, 11, 80.0), Pair(2, 10, 85.0))
    assert best.total == 165.0
    assert best.unmatched == ()


def test_capacities_let_a_mentor_take_several_mentees():
    table = Candidates.of([1, 2, 3], {10: 2, 11: 1}, {(m, 10): 9000 - m for m in (1, 2, 3)})
    best = solve(table)
    assert [p.mentor_id for p in best.pairs] == [10, 10]
    assert best.unmatched == (3,)


def test_an_empty_table_proposes_nobody():
    best = solve(Candidates.of([1, 2], {10: 1}, {}))
    assert best.pairs == ()
    assert best.unmatched == (1, 2)
    assert best.total == 0


def test_exclusions_self_and_forbidden_pairs_are_never_proposed():
    mentors = [mentor(1, {1: 3}), mentor(2, {1: 3}), mentor(3, {1: 3})]
    requests = [request(1, {1: (1, 2)}), request(4, {1: (1, 2)})]
    proposal = matching.match(requests, mentors, week=WEEK, forbidden={(1, 2), (4, 3)})
    pairs = {(p.mentee_id, p.mentor_id) for p in proposal.pairs}
    assert (1, 1) not in pairs and (1, 2) not in pairs and (4, 3) not in pairs
    assert pairs == {(1, 3), (4, 1)} or pairs == {(1, 3), (4, 2)}


def test_pairs_below_the_minimum_score_are_not_proposed():
    requests = [request(1, {1: (1, 2), 2: (0, 1)})]
    half = mentor(2, {1: 5})  # one of two competencies, a wide gap
    s = score(requests[0], half, week=WEEK)
    assert matching.match(requests, [half], week=WEEK, min_score=s.total + 0.01).pairs == ()
    assert matching.match(requests, [half], week=WEEK, min_score=s.total).pairs == (
        Pair(1, 2, s.total),
    )


def test_mentors_not_accepting_or_full_get_nobody():
    requests = [request(1, {1: (0, 1)}), request(2, {1: (0, 1)})]
    mentors = [mentor(10, {1: 2}, accepting=False), mentor(11, {1: 2}, capacity=3, taken=3)]
    assert matching.match(requests, mentors, week=WEEK).pairs == ()


def random_world(seed: int, mentees: int = 60, mentors: int = 25):
    from benchmarks.mentoring import world

    return world(mentees, mentors, seed)


def test_the_matchers_scores_are_the_scores_people_see():
    requests, mentors, _ = random_world(3)
    week = date(2025, 3, 24)
    table = matching.candidates(requests, mentors, week=week, min_score=0)
    got = {
        (int(table.mentee_ids[r]), int(table.mentor_ids[c])): int(p)
        for r, c, p in zip(table.rows, table.cols, table.points, strict=True)
    }
    expected = {}
    for r in requests:
        for m in mentors:
            if blocked(r, m) is None:
                expected[(r.mentee_id, m.mentor_id)] = centipoints(score(r, m, week=week).total)
    assert got == expected
    assert len(got) > 100


def test_the_same_input_in_any_order_gives_the_same_proposal():
    requests, mentors, forbidden = random_world(5, mentees=80, mentors=20)
    first = matching.match(requests, mentors, week=WEEK, forbidden=forbidden)
    shuffled = random.Random(1)
    for _ in range(3):
        r, m = requests[:], mentors[:]
        shuffled.shuffle(r)
        shuffled.shuffle(m)
        assert matching.match(r, m, week=WEEK, forbidden=forbidden) == first
        assert matching.solve_greedy(
            matching.candidates(r, m, week=WEEK, forbidden=forbidden)
        ) == matching.solve_greedy(
            matching.candidates(requests, mentors, week=WEEK, forbidden=forbidden)
        )


def test_a_mid_sized_world_is_optimal_by_brute_force_on_its_smallest_corner():
    requests, mentors, forbidden = random_world(7, mentees=6, mentors=4)
    table = matching.candidates(requests, mentors, week=WEEK, forbidden=forbidden)
    assert round(solve(table).total * 100) == brute_force_total(table)
