"""Programme health (the service): every figure against the hand-counted world of
``health_world`` (its docstring shows the sums), the pair-health rule in SQL agreeing with the
same rule in Python, the competencies from the profiles when a programme targets none, another
programme's rows left out, who may see it, the CSV, the chart, and a query count that does not
grow with pairs or competencies."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from plugin.access import Refusal
from plugin.lti.models import Placement
from plugin.social.mentoring import health, pairs, programmes
from plugin.social.mentoring.health_chart import demand_chart
from plugin.social.mentoring.models import PAIR_ACTIVE, HealthSnapshot, Pair, Pulse
from tests.social.mentoring.health_world import NOW, pair, person, profile, pulse, seed_health
from tests.social.mentoring.programme_world import programme_world
from tests.social.social_world import count_queries


def _world(db, targeted: bool = True):
    world = programme_world(db)
    coaching, feedback, _delegating = world.competencies
    if targeted:
        programmes.set_targets(
            db, world.viewer(db, "ines"), world.programme, [coaching.id, feedback.id]
        )
    platform = world.course.platform
    seeded = seed_health(
        db, world.programme, world.competencies, platform_id=platform.id, issuer=platform.issuer
    )
    return world, seeded


def test_every_figure_of_the_programme(db) -> None:
    world, _ = _world(db)
    figures = health.programme_health(db, world.viewer(db, "ines"), world.programme, now=NOW)
    assert (figures.active_pairs, figures.proposed_pairs, figures.open_requests) == (4, 1, 2)
    assert figures.matched_recently == 4
    assert figures.median_hours_to_match == 36.0 and figures.p90_hours_to_match == 72.0
    assert (figures.check_ins_expected, figures.check_ins_logged) == (8, 4)
    assert figures.check_ins_per_pair == (2.0, 1.0)
    assert (figures.pulse_day_30_average, figures.pulse_day_30_answers) == (3.0, 4)
    assert (figures.pulse_end_average, figures.pulse_end_answers) == (3.5, 2)
    assert (figures.at_risk, figures.needs_check_in, figures.on_track) == (2, 1, 1)
    assert figures.targeted
    coaching, feedback = figures.competencies
    assert coaching.name == "Coaching conversations" and feedback.name == "Giving feedback"
    assert (coaching.mentors, coaching.mentees, coaching.demand) == (2, 3, 3)
    assert (coaching.free_capacity, coaching.gap, coaching.mentors_needed) == (0, 3, 2)
    assert coaching.call_to_action == "Recruit 2 more mentors for Coaching conversations"
    assert (feedback.mentors, feedback.mentees, feedback.demand) == (2, 2, 2)
    assert (feedback.free_capacity, feedback.gap, feedback.call_to_action) == (2, 0, "")
    assert figures.gaps == [coaching]


def test_the_clock_moves_the_figures(db) -> None:
    """13 days later: P1 is overdue by more than its cadence of 14 days (at risk), P4's check-in
    is 10 days overdue (needs one), P3's latest rating keeps it at risk; the four waits stay in
    the 90 days; whole cadences since activation: P1 43/14, P2 63/14, P3 23/7, P4 53/14."""
    world, _ = _world(db)
    later = NOW + timedelta(days=13)
    figures = health.programme_health(db, world.viewer(db, "ines"), world.programme, now=later)
    assert (figures.at_risk, figures.needs_check_in, figures.on_track) == (3, 1, 0)
    assert figures.check_ins_expected == 3 + 4 + 3 + 3
    assert figures.matched_recently == 4


def test_the_sql_rule_is_the_python_rule(db) -> None:
    """Every combination of latest rating and due date (relative to the cadence) gives the same
    health in SQL as :func:`health.pair_health`."""
    world = programme_world(db)
    platform = world.course.platform
    mentor = person(db, platform.id, platform.issuer, "Rule Mentor")
    mentee = person(db, platform.id, platform.issuer, "Rule Mentee")
    cases = {}
    ratings = (None, 1, 2, 3, 5)
    offsets = (None, -30, -15, -14, -13, -1, 0, 1, 10)  # due, in days from now (cadence 14)
    for rating, offset in itertools.product(ratings, offsets):
        due = None if offset is None else NOW + timedelta(days=offset, seconds=1)
        row = pair(
            db,
            world.programme,
            mentor,
            mentee,
            [],
            made=NOW - timedelta(days=40),
            activated=NOW - timedelta(days=40),
            due=due,
        )
        if rating is not None:
            pulse(db, row, mentee, "day_30", 5 if rating < 3 else 1, NOW - timedelta(days=3))
            pulse(db, row, mentor, "end", rating, NOW - timedelta(days=1))
        cases[row.id] = health.pair_health(rating, due, 14, NOW)
    db.commit()
    found = dict(
        db.execute(
            select(Pair.id, health.health_case(NOW)).where(
                Pair.programme_id == world.programme.id, Pair.state == PAIR_ACTIVE
            )
        ).all()
    )
    assert found == cases
    assert set(cases.values()) == set(health.HEALTH_STATES)


def test_without_targets_the_competencies_on_profiles(db) -> None:
    world, _ = _world(db, targeted=False)
    figures = health.programme_health(db, world.viewer(db, "ines"), world.programme, now=NOW)
    assert not figures.targeted
    names = [c.name for c in figures.competencies]
    assert names == ["Coaching conversations", "Giving feedback", "Delegating"]
    delegating = figures.competencies[2]
    # only m3 holds it, not accepting; e6's open pool request asks for it
    assert (delegating.mentors, delegating.demand, delegating.free_capacity) == (0, 1, 0)
    assert delegating.call_to_action == "Recruit 1 more mentor for Delegating"


def test_another_programmes_rows_are_left_out(db) -> None:
    world, _ = _world(db)
    other_placement = Placement(
        context_id=world.course.context.id,
        resource_link_id="rl-other",
        title="Other",
        widget="mentoring",
    )
    db.add(other_placement)
    db.flush()
    other = programmes.programme_for_placement(db, other_placement)
    coaching = world.competencies[0]
    platform = world.course.platform
    m = person(db, platform.id, platform.issuer, "Other Mentor")
    e = person(db, platform.id, platform.issuer, "Other Mentee")
    profile(db, other, m, mentor=[coaching], capacity=5)
    profile(db, other, e, mentee=[coaching])
    row = pair(
        db,
        other,
        m,
        e,
        [coaching],
        made=NOW - timedelta(days=9),
        activated=NOW - timedelta(days=8),
        due=NOW - timedelta(days=60),
    )
    pulse(db, row, e, "day_30", 1, NOW - timedelta(days=1))
    db.commit()
    figures = health.programme_health(db, world.viewer(db, "ines"), world.programme, now=NOW)
    assert (figures.active_pairs, figures.at_risk, figures.pulse_day_30_answers) == (4, 2, 4)
    assert figures.competencies[0].free_capacity == 0 and figures.competencies[0].mentors == 2


def test_an_added_demand_source_counts_each_person_once(db, monkeypatch) -> None:
    world, seeded = _world(db)
    coaching = world.competencies[0]
    monkeypatch.setattr(health, "demand_sources", list(health.demand_sources))
    from sqlalchemy import literal

    def plan_goals(programme, now):  # e7 (already counted) and e1 (paired) want coaching
        people = [seeded.users["e7"].id, seeded.users["e1"].id]
        from plugin.lti.models import User

        return select(literal(coaching.id).label("competency_id"), User.id.label("user_id")).where(
            User.id.in_(people)
        )

    health.add_demand_source(plan_goals)
    health.add_demand_source(plan_goals)
    figures = health.programme_health(db, world.viewer(db, "ines"), world.programme, now=NOW)
    assert figures.competencies[0].demand == 4  # e6 e7 e9 + e1
    assert health.demand_sources.count(plan_goals) == 1


def test_only_staff_see_it(db) -> None:
    world, _ = _world(db)
    for name in ("lea", "grace"):
        with pytest.raises(Refusal) as refused:
            health.programme_health(db, world.viewer(db, name), world.programme, now=NOW)
        assert refused.value.status == 403


def test_csv_and_chart_have_the_numbers_and_no_private_text(db) -> None:
    world, _ = _world(db)
    figures = health.programme_health(db, world.viewer(db, "ines"), world.programme, now=NOW)
    text = health.health_csv(figures)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows == [
        list(health.CSV_COLUMNS),
        ["Coaching conversations", "2", "3", "3", "0", "3", "2"],
        ["Giving feedback", "2", "2", "2", "2", "0", "0"],
    ]
    svg = demand_chart(figures)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="health-chart-title" aria-describedby="health-chart-desc"' in svg
    assert "<script" not in svg
    assert "Coaching conversations: open demand 3, free capacity 0, a gap of 3" in svg
    for secret in ("PRIVATE", "private goal"):
        assert secret not in text and secret not in svg


def test_a_formula_in_a_name_is_neutralised(db) -> None:
    world, _ = _world(db)
    world.competencies[0].name = "=HYPERLINK(1)"
    db.commit()
    figures = health.programme_health(db, world.viewer(db, "ines"), world.programme, now=NOW)
    assert "\r\n'=HYPERLINK(1)," in health.health_csv(figures)


def test_queries_do_not_grow_with_pairs_or_competencies(app, db) -> None:
    world, _ = _world(db)
    ines = world.viewer(db, "ines")
    with count_queries(app) as small:
        health.programme_health(db, ines, world.programme, now=NOW)
    # ten times the pairs, pulses and check-ins, and a third targeted competency
    platform = world.course.platform
    coaching, _feedback, delegating = world.competencies
    programmes.set_targets(db, ines, world.programme, [c.id for c in world.competencies])
    for n in range(40):
        m = person(db, platform.id, platform.issuer, f"Bulk Mentor {n}")
        e = person(db, platform.id, platform.issuer, f"Bulk Mentee {n}")
        profile(db, world.programme, m, mentor=[coaching, delegating], capacity=2)
        profile(db, world.programme, e, mentee=[delegating])
        row = pair(
            db,
            world.programme,
            m,
            e,
            [delegating],
            made=NOW - timedelta(days=20),
            activated=NOW - timedelta(days=15),
            due=NOW - timedelta(days=n % 30),
        )
        pulse(db, row, e, "day_30", 1 + n % 5, NOW - timedelta(hours=n))
    db.commit()
    with count_queries(app) as big:
        figures = health.programme_health(db, ines, world.programme, now=NOW)
    assert figures.active_pairs == 44 and len(figures.competencies) == 3
    assert len(big) == len(small) <= 12, big
    assert db.scalar(select(Pulse.id).limit(1)) is not None


def test_the_page_reads_a_snapshot_at_most_five_minutes_old(db) -> None:
    """The first look computes and keeps the figures; a look within five minutes reads them
    back (a change since does not show), a later one or "refresh" computes them again, and the
    worker's task refreshes the snapshots about to be too old."""
    world, _seeded = _world(db)
    ines = world.viewer(db, "ines")
    first = health.current_health(db, ines, world.programme, now=NOW)
    db.commit()
    assert first == health.programme_health(db, ines, world.programme, now=NOW)
    kept = db.get(HealthSnapshot, world.programme.id)
    assert kept is not None and pairs.aware(kept.computed_at) == NOW
    # one more active pair, made after the snapshot
    platform = world.course.platform
    newcomer = person(db, platform.id, platform.issuer, "Nia Newcomer")
    mentor = person(db, platform.id, platform.issuer, "Nat Mentor")
    pair(
        db,
        world.programme,
        mentor,
        newcomer,
        world.competencies[:1],
        made=NOW,
        activated=NOW,
        due=NOW + timedelta(days=14),
    )
    db.commit()
    soon = NOW + timedelta(minutes=4)
    again = health.current_health(db, ines, world.programme, now=soon)
    assert again == first and again.as_of == NOW and again.active_pairs == 4
    fresh = health.current_health(db, ines, world.programme, now=soon, refresh=True)
    db.commit()
    assert fresh.as_of == soon and fresh.active_pairs == 5
    later = health.current_health(db, ines, world.programme, now=soon + timedelta(minutes=6))
    db.commit()
    assert later.as_of == soon + timedelta(minutes=6) and later.active_pairs == 5
    # a snapshot half its age or older is refreshed by the worker's task
    assert health.refresh_snapshots(db, now=later.as_of + timedelta(minutes=1)) == 0
    assert health.refresh_snapshots(db, now=later.as_of + timedelta(minutes=3)) == 1
    db.commit()
    db.expire_all()
    kept = db.get(HealthSnapshot, world.programme.id)
    assert pairs.aware(kept.computed_at) == later.as_of + timedelta(minutes=3)
    # the snapshot is the managers' only
    with pytest.raises(Refusal) as refused:
        health.current_health(db, world.viewer(db, "lea"), world.programme, now=soon)
    assert refused.value.status == 403
