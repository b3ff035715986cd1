"""The evidence subscriber inside the publisher's transaction: committed and rolled back with the
act, its kinds, what records nothing, and removal with the platform."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from plugin import events
from plugin.db import new_session
from plugin.lti.registration import remove_platform
from plugin.performance import links
from plugin.performance.evidence import evidence_kind, record_evidence
from plugin.performance.models import Competency, CompetencyLink, Evidence, Framework
from tests.performance.perf_world import (
    experience_logged,
    import_smart,
    thread_posted,
)


def _count(app, model=Evidence) -> int:
    with new_session(app) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_evidence_is_committed_with_the_act(app, tenant) -> None:
    ids = import_smart(app, tenant)
    with new_session(app) as session:
        links.link(session, tenant.platform_id, "board", "7", [ids["Item 1.1"], ids["Item 1.2"]])
        session.commit()
    event = thread_posted(tenant, thread="1", board="7", competency_ids=[ids["Item 2"]])
    with new_session(app) as session:
        events.publish(session, event)
        session.commit()
    with new_session(app) as session:
        rows = session.scalars(select(Evidence).order_by(Evidence.id)).all()
        assert [r.competency_id for r in rows] == [ids["Item 1.1"], ids["Item 1.2"], ids["Item 2"]]
        for row in rows:
            assert row.statement_id == events.statement_id(event)
            assert (row.kind, row.status, row.source) == (
                "social",
                "pending",
                "board.thread_posted",
            )
            assert (row.user_id, row.platform_id) == (tenant.learner_id, tenant.platform_id)
            assert row.context_id == tenant.context_id
            assert row.occurred_at == event.occurred_at
            assert row.reviewer_user_id is None

    # Replaying the same event adds nothing, in a new transaction or twice in one.
    with new_session(app) as session:
        events.publish(session, event)
        events.publish(session, event)
        session.commit()
    assert _count(app) == 3


def test_evidence_rolls_back_with_the_act(app, tenant) -> None:
    ids = import_smart(app, tenant)
    with new_session(app) as session:
        links.link(session, tenant.platform_id, "board", "7", [ids["Item 1.1"]])
        session.commit()
    with new_session(app) as session:
        events.publish(session, thread_posted(tenant, thread="2", board="7"))
        assert len(session.new) >= 1  # the evidence row waits in the session
        session.rollback()
    assert _count(app) == 0


def test_no_competencies_no_evidence(app, tenant) -> None:
    import_smart(app, tenant)
    with new_session(app) as session:
        events.publish(session, thread_posted(tenant, thread="3", board="unlinked"))
        session.commit()
    assert _count(app) == 0


def test_evidence_kinds(app, tenant) -> None:
    ids = import_smart(app, tenant)
    with new_session(app) as session:
        links.link(session, tenant.platform_id, "goal", "g1", [ids["Item 1.1"]])
        session.commit()
        experience = experience_logged(tenant, "e1", "g1")
        assert evidence_kind(experience) == "experiential"
        events.publish(session, experience)
        session.commit()
        row = session.scalars(select(Evidence)).one()
        assert (row.kind, row.source, row.context_id) == (
            "experiential",
            "plan.experience_logged",
            None,
        )

    base = thread_posted(tenant)
    assert evidence_kind(base) == "social"
    # Board and mentoring acts are social whatever the data says; other acts may say formal.
    assert evidence_kind(replace(base, data={"evidence_kind": "formal"})) == "social"
    mentoring = replace(base, kind=events.CHECKIN_LOGGED)
    assert evidence_kind(mentoring) == "social"
    other = replace(base, kind=events.MENTORSHIP_ACCEPTED)
    assert evidence_kind(other) == "social"
    launched = replace(base, kind=events.LAUNCHED, data={"evidence_kind": "formal"})
    assert evidence_kind(launched) == "formal"
    with pytest.raises(ValueError, match="evidence_kind must be one of"):
        evidence_kind(replace(base, kind=events.LAUNCHED, data={"evidence_kind": "informal"}))


def test_bookkeeping_events_and_opt_out_record_nothing(app, tenant) -> None:
    ids = import_smart(app, tenant)
    with new_session(app) as session:
        links.link(session, tenant.platform_id, "board", "7", [ids["Item 1.1"]])
        session.commit()
        base = thread_posted(tenant, board="7")
        for kind in (
            events.LAUNCHED,
            events.POST_REPORTED,
            events.GOAL_SET,
            events.EVIDENCE_ACCEPTED,
        ):
            assert record_evidence(session, replace(base, kind=kind)) == []
        assert record_evidence(session, replace(base, data={"evidence": False})) == []
        # A service may credit someone other than the actor (e.g. an endorsed answer's author).
        credited = record_evidence(
            session, replace(base, data={"evidence_user_id": tenant.staff_id})
        )
        assert [r.user_id for r in credited] == [tenant.staff_id]


def test_removing_a_platform_removes_its_competency_data(app, tenant, other) -> None:
    ids = import_smart(app, tenant)
    import_smart(app, other)
    with new_session(app) as session:
        links.link(session, tenant.platform_id, "board", "7", [ids["Item 1.1"]])
        session.commit()
        events.publish(session, thread_posted(tenant, board="7"))
        session.commit()
        remove_platform(session, tenant.platform_id)
        session.commit()
    assert _count(app, Evidence) == 0 and _count(app, CompetencyLink) == 0
    assert _count(app, Framework) == 1 and _count(app, Competency) == 14  # the other tenant's
