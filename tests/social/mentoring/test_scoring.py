"""The score of a mentor for a request: each part's rule, with examples people would check."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.social.mentoring import scoring
from plugin.social.mentoring.scoring import Need, Window, blocked, score
from tests.social.mentoring.mentoring_world import WEEK, mentor, request

MONDAY_9_TO_11 = (Window(0, 9, 11),)


def test_weights_add_up_to_100_and_parts_come_in_the_documented_order():
    s = score(request(1, {7: (1, 2)}), mentor(2, {7: 3}), week=WEEK)
    assert [p.name for p in s.parts] == [
        "competency",
        "level_gap",
        "availability",
        "capacity",
        "languages",
        "history",
    ]
    assert sum(p.weight for p in s.parts) == 100
    assert s.total == round(sum(p.points for p in s.parts), 2)


def test_a_perfect_mentor_scores_100():
    both = {"tz": "UTC", "availability": MONDAY_9_TO_11, "languages": frozenset({"en"})}
    s = score(request(1, {7: (1, 2)}, **both), mentor(2, {7: 3}, capacity=2, **both), week=WEEK)
    assert s.total == 100.0
    assert all(p.value == 1.0 for p in s.parts)


def test_competency_fit_counts_competencies_held_at_or_above_the_target():
    wanted = request(1, {1: (0, 2), 2: (1, 3), 3: (2, 4)})
    s = score(wanted, mentor(9, {1: 2, 2: 2, 3: 5, 4: 5}), week=WEEK)
    part = s.part("competency")
    assert part.value == pytest.approx(2 / 3)
    assert part.explanation == "Holds 2 of 3 requested competencies at the target level"


@pytest.mark.parametrize(
    ("mentor_level", "value"),
    [(2, 1.0), (3, 1.0), (4, 0.75), (5, 0.5)],
)
def test_a_gap_of_one_or_two_levels_above_the_mentee_is_best(mentor_level, value):
    s = score(request(1, {1: (1, 2)}), mentor(9, {1: mentor_level}), week=WEEK)
    assert s.part("level_gap").value == value
    assert f"+{mentor_level - 1}" in s.part("level_gap").explanation


def test_the_gap_value_never_falls_below_the_floor():
    assert scoring.gap_quality(12) == scoring.GAP_FLOOR


def test_a_mentor_below_the_target_does_not_fit_and_is_not_proposed():
    wanted, below = request(1, {1: (1, 3)}), mentor(9, {1: 2})
    s = score(wanted, below, week=WEEK)
    assert s.part("competency").value == 0
    assert s.part("level_gap").value == 0
    assert blocked(wanted, below) == "holds none of the requested competencies at the target level"


def test_blocked_names_self_not_accepting_and_full():
    wanted = request(1, {1: (0, 1)})
    assert blocked(wanted, mentor(1, {1: 3})) == "the same person"
    assert blocked(wanted, mentor(2, {1: 3}, accepting=False)) == "not accepting mentees"
    assert blocked(wanted, mentor(2, {1: 3}, capacity=2, taken=2)) == "no free place"
    assert blocked(wanted, mentor(2, {1: 3})) is None


def test_a_need_must_aim_above_its_level_and_a_request_names_a_competency():
    with pytest.raises(ValueError):
        Need(2, 2)
    with pytest.raises(ValueError):
        request(1, {})
    with pytest.raises(ValueError):
        Window(0, 10, 10)


def test_availability_is_compared_in_utc_for_the_week_scored():
    # Paris 9-11 and New York 3-5 on Mondays: the same hours in winter (6 hours apart) ...
    paris = request(1, {1: (0, 1)}, tz="Europe/Paris", availability=MONDAY_9_TO_11)
    new_york = mentor(2, {1: 2}, tz="America/New_York", availability=(Window(0, 3, 5),))
    winter = score(paris, new_york, week=date(2025, 1, 13)).part("availability")
    assert winter.value == 1.0
    assert winter.explanation == "2 h a week in common (full marks from 2 h)"
    # ... one hour apart in common after the US changes its clocks and before Europe does
    march = score(paris, new_york, week=date(2025, 3, 12)).part("availability")
    assert march.value == 0.5
    assert march.explanation.startswith("1 h a week in common")


def test_half_hour_time_zones_count_in_quarter_hours():
    # Kolkata 14-15 on Monday is 08:30-09:30 UTC: half an hour in common with 9-10 UTC
    kolkata = mentor(2, {1: 2}, tz="Asia/Kolkata", availability=(Window(0, 14, 15),))
    s = score(request(1, {1: (0, 1)}, availability=(Window(0, 9, 10),)), kolkata, week=WEEK)
    assert s.part("availability").value == 0.25


def test_a_range_that_crosses_midnight_utc_wraps_round_the_week():
    # Sunday 23-24 in UTC-5 is Monday 04-05 UTC, the first day of the UTC week
    late = mentor(2, {1: 2}, tz="America/New_York", availability=(Window(6, 23, 24),))
    early = request(1, {1: (0, 1)}, availability=(Window(0, 4, 5),))
    assert score(early, late, week=WEEK).part("availability").value == 0.5


def test_no_availability_or_no_languages_given_is_neither_good_nor_bad():
    s = score(request(1, {1: (0, 1)}), mentor(2, {1: 2}), week=WEEK)
    assert s.part("availability").value == scoring.UNKNOWN
    assert s.part("availability").explanation == "Availability not given"
    assert s.part("languages").value == scoring.UNKNOWN
    no_overlap = score(
        request(1, {1: (0, 1)}, availability=MONDAY_9_TO_11),
        mentor(2, {1: 2}, availability=(Window(3, 9, 11),)),
        week=WEEK,
    )
    assert no_overlap.part("availability").value == 0.0


def test_languages_match_on_the_primary_subtag():
    s = score(
        request(1, {1: (0, 1)}, languages=frozenset({"en-GB", "fr"})),
        mentor(2, {1: 2}, languages=frozenset({"EN", "de"})),
        week=WEEK,
    )
    assert s.part("languages").value == 1.0
    assert s.part("languages").explanation == "Languages in common: en"
    apart = score(
        request(1, {1: (0, 1)}, languages=frozenset({"fr"})),
        mentor(2, {1: 2}, languages=frozenset({"de"})),
        week=WEEK,
    )
    assert apart.part("languages").value == 0.0


def test_free_capacity_is_the_share_of_places_free():
    s = score(request(1, {1: (0, 1)}), mentor(2, {1: 2}, capacity=4, taken=1), week=WEEK)
    assert s.part("capacity").value == 0.75
    assert s.part("capacity").explanation == "3 of 4 places free"
    off = score(request(1, {1: (0, 1)}), mentor(2, {1: 2}, accepting=False), week=WEEK)
    assert off.part("capacity").value == 0.0


@pytest.mark.parametrize(
    ("declines", "value", "said"),
    [
        (0, 1.0, "No past declines"),
        (1, 0.5, "Declined this mentee 1 time before"),
        (2, 0.0, "Declined this mentee 2 times before"),
        (5, 0.0, "Declined this mentee 5 times before"),
    ],
)
def test_past_declines_by_this_mentor_lower_the_score(declines, value, said):
    wanted = request(1, {1: (0, 1)}, declines={2: declines} if declines else {})
    s = score(wanted, mentor(2, {1: 2}), week=WEEK)
    assert s.part("history").value == value
    assert s.part("history").explanation == said
    # declines by another mentor change nothing
    assert score(wanted, mentor(3, {1: 2}), week=WEEK).part("history").value == 1.0


def test_the_same_inputs_give_the_same_score():
    args = (
        request(1, {1: (0, 2), 4: (1, 2)}, tz="Asia/Kolkata", availability=MONDAY_9_TO_11),
        mentor(2, {1: 4, 4: 2}, tz="Europe/Paris", availability=(Window(0, 5, 9),)),
    )
    assert score(*args, week=WEEK) == score(*args, week=WEEK)
