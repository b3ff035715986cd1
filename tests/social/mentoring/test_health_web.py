"""Programme health through the real launch from the sandbox LMS: the staff page (figures, the
call to action, the chart and its table), the CSV, the JSON API, refusals for learners, a bad
format, and a page whose queries do not grow with pairs or competencies."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import delete

from plugin.db import new_session, utcnow
from plugin.lti.models import Platform
from plugin.social.mentoring import programmes
from plugin.social.mentoring.models import HealthSnapshot, Programme, ProgrammeCompetency
from tests.conftest import row_counts
from tests.social.mentoring.health_world import pair, person, profile, pulse, seed_health
from tests.social.mentoring.programme_world import make_framework
from tests.social.mentoring.test_mentoring_web import Launched, mentoring_link
from tests.social.social_world import count_queries


def _seeded(app, lms):
    """Ines and Lea launched into a new programme targeting coaching and feedback, seeded with
    the hand-counted world of ``health_world`` (times relative to now)."""
    rlid = mentoring_link(lms)
    ines = Launched(lms, "u-ines", rlid)
    lea = Launched(lms, "u-lea", rlid)
    with new_session(app) as s:
        programme = s.get(Programme, ines.programme_id)
        issuer = programme_issuer(s, programme)
        competencies = make_framework(
            s, programme.platform_id, ("Coaching conversations", "Giving feedback", "Delegating")
        )
        s.add_all(
            ProgrammeCompetency(programme_id=programme.id, competency_id=c.id)
            for c in competencies[:2]
        )
        s.flush()
        seed_health(
            s,
            programme,
            competencies,
            platform_id=programme.platform_id,
            issuer=issuer,
            now=utcnow(),
        )
    return ines, lea, competencies


def programme_issuer(session, programme: Programme) -> str:
    return session.get(Platform, programme.platform_id).issuer


def test_staff_read_the_health_page_csv_and_api(app, lms) -> None:
    ines, lea, _ = _seeded(app, lms)
    assert "Programme health" in ines.page.text  # in the programme's navigation
    assert "Programme health" not in lea.page.text
    page = ines.get(ines.base + "/health")
    assert page.status_code == 200, page.text[:500]
    text = page.text
    assert "<h1>Programme health</h1>" in text
    for figure in (
        '<span class="figure">4</span> active pairs',
        '<span class="figure">1</span> proposed pair ',
        '<span class="figure">2</span> open requests',
        '<span class="figure">36.0 h</span> median time to match (90th percentile 72.0 h; 4 pairs',
        '<span class="figure">2</span> at risk',
        '<span class="figure">1</span> needs a check-in',
        '<span class="figure">1</span> on track',
        "4 logged of 8 expected",
        "3.00 out of 5 (4 answers)",
        "3.50 out of 5 (2 answers)",
        "<strong>Recruit 2 more mentors for Coaching conversations</strong>: 3 waiting, 0 free places.",
    ):
        assert figure in text, figure
    assert (
        'role="img"' in text
        and 'aria-labelledby="health-chart-title" aria-describedby="health-chart-desc"' in text
    )
    assert "<script" not in text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert '<th scope="row">Giving feedback</th>' in text
    assert "/roster?" in text and "#nominate" in text
    assert "PRIVATE" not in text and "private goal" not in text

    got = ines.get(ines.base + "/health", format="csv")
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in got.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[1:] == [
        ["Coaching conversations", "2", "3", "3", "0", "3", "2"],
        ["Giving feedback", "2", "2", "2", "2", "0", "0"],
    ]

    api = ines.api("GET", f"/programmes/{ines.programme_id}/health")
    assert api.status_code == 200, api.text
    body = api.json()
    assert (body["active_pairs"], body["proposed_pairs"], body["open_requests"]) == (4, 1, 2)
    assert body["pair_health"] == {"at_risk": 2, "needs_check_in": 1, "on_track": 1}
    assert (body["median_hours_to_match"], body["p90_hours_to_match"]) == (36.0, 72.0)
    assert (body["check_ins_expected"], body["check_ins_logged"]) == (8, 4)
    assert (body["pulse_day_30_average"], body["pulse_end_answers"]) == (3.0, 2)
    coaching = body["competencies"][0]
    assert coaching["call_to_action"] == "Recruit 2 more mentors for Coaching conversations"
    assert (coaching["demand"], coaching["free_capacity"], coaching["gap"]) == (3, 0, 3)
    assert "PRIVATE" not in api.text and "comment" not in api.text


def test_learners_and_bad_input_are_refused_and_change_nothing(app, lms) -> None:
    ines, lea, _ = _seeded(app, lms)
    before = row_counts(app)
    refused = lea.get(lea.base + "/health")
    assert refused.status_code == 403 and "course staff" in refused.text
    assert lea.get(lea.base + "/health", format="csv").status_code == 403
    assert lea.api("GET", f"/programmes/{lea.programme_id}/health").status_code == 403
    bad = ines.get(ines.base + "/health", format="pdf")
    assert bad.status_code == 400 and "csv" in bad.text
    assert ines.get("/mentoring/programmes/999999/health").status_code == 404
    assert ines.api("GET", "/programmes/999999/health").status_code == 404
    assert row_counts(app) == before


def test_the_page_queries_do_not_grow_with_pairs_or_competencies(app, lms) -> None:
    ines, _, competencies = _seeded(app, lms)
    with count_queries(app) as small:
        assert ines.get(ines.base + "/health").status_code == 200
    now = utcnow()
    with new_session(app) as s:
        programme = s.get(Programme, ines.programme_id)
        issuer = programme_issuer(s, programme)
        coaching, _, delegating = (s.merge(c) for c in competencies)
        for n in range(30):
            m = person(s, programme.platform_id, issuer, f"Bulk Mentor {n}")
            e = person(s, programme.platform_id, issuer, f"Bulk Mentee {n}")
            profile(s, programme, m, mentor=[coaching, delegating])
            profile(s, programme, e, mentee=[delegating])
            row = pair(
                s,
                programme,
                m,
                e,
                [delegating],
                made=now - timedelta(days=20),
                activated=now - timedelta(days=15),
                due=now - timedelta(days=n % 30),
            )
            pulse(s, row, e, "day_30", 1 + n % 5, now - timedelta(hours=n + 1))
        s.add(ProgrammeCompetency(programme_id=programme.id, competency_id=delegating.id))
        s.commit()
        assert len(programmes.targets(s, programme)) == 3
    # within five minutes the page shows its snapshot; "Refresh the figures now" computes again
    stale = ines.get(ines.base + "/health")
    assert '<span class="figure">4</span> active pairs' in stale.text
    refreshed = ines.post(ines.base + "/health")
    assert refreshed.status_code == 303
    assert "/health" in refreshed.headers["Location"]
    fresh = ines.get(ines.base + "/health")
    assert '<span class="figure">34</span> active pairs' in fresh.text
    with new_session(app) as s:  # as if five minutes had passed: the page computes again
        s.execute(delete(HealthSnapshot))
        s.commit()
    with count_queries(app) as big:
        page = ines.get(ines.base + "/health")
    assert page.status_code == 200 and '<span class="figure">34</span> active pairs' in page.text
    assert '<th scope="row">Delegating</th>' in page.text
    assert len(big) == len(small), (small, big)
