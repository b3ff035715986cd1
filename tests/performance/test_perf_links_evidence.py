"""Competency links, competencies_for (object, parents, explicit ids; one tenant only) and the
evidence subscriber inside the publisher's transaction."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from plugin import events
from plugin.db import new_session, utcnow
from plugin.events import ActivityRef, DomainEvent
from plugin.lti.registration import remove_platform
from plugin.performance import frameworks, links
from plugin.performance.evidence import evidence_kind, record_evidence
from plugin.performance.links import LinkError, UnknownCompetencyError, competencies_for
from plugin.performance.models import Competency, CompetencyLink, Evidence, Framework
from tests.performance.perf_world import (
    Tenant,
    case_data,
    experience_logged,
    make_tenant,
    thread_posted,
)

SMART = "opensalt-SmartLevelFramework.json"


def _import(app, tenant: Tenant) -> dict[str, int]:
    """SmartLevel into the tenant; returns competency ids by name ("Item 1.3" …)."""
    with new_session(app) as session:
        result = frameworks.import_case_package(session, tenant.platform_id, case_data(SMART))
        session.commit()
        rows = session.scalars(
            select(Competency).where(Competency.framework_id == result.framework_id)
        )
        return {c.name: c.id for c in rows}


@pytest.fixture
def tenant(app) -> Tenant:
    return make_tenant(app, "a")


@pytest.fixture
def other(app) -> Tenant:
    return make_tenant(app, "b")


def test_link_unlink_and_set(app, tenant) -> None:
    ids = _import(app, tenant)
    with new_session(app) as session:
        linked = links.link(
            session, tenant.platform_id, "board", "7", [ids["Item 1.1"], ids["Item 2"]]
        )
        assert [c.name for c in linked] == ["Item 1.1", "Item 2"]
        # Linking again is harmless; new ones are added after.
        linked = links.link(
            session, tenant.platform_id, "board", "7", [ids["Item 2"], ids["Item 1.2"]]
        )
        assert [c.name for c in linked] == ["Item 1.1", "Item 2", "Item 1.2"]
        assert links.unlink(session, tenant.platform_id, "board", "7", [ids["Item 2"]]) == 1
        assert [c.name for c in links.linked(session, tenant.platform_id, "board", "7")] == [
            "Item 1.1",
            "Item 1.2",
        ]
        result = links.set_links(
            session, tenant.platform_id, "board", "7", [ids["Item 1.2"], ids["Item 1"]]
        )
        assert [c.name for c in result] == ["Item 1.2", "Item 1"]
        info = result[1]
        assert (
            info.iri == "https://server/ims/case/v1p0/CFItems/00000000-0000-0000-0000-000000000001"
        )
        assert info.code is None and not info.retired
        assert links.unlink(session, tenant.platform_id, "board", "7") == 2
        assert links.linked(session, tenant.platform_id, "board", "7") == []
        session.commit()


def test_links_refuse_bad_refs_unknown_and_retired_competencies(app, tenant, other) -> None:
    ids = _import(app, tenant)
    theirs = _import(app, other)
    with new_session(app) as session:
        with pytest.raises(LinkError, match="short lower-case name"):
            links.link(session, tenant.platform_id, "Board!", "7", [ids["Item 1"]])
        with pytest.raises(LinkError, match="1 to 255"):
            links.link(session, tenant.platform_id, "board", "", [ids["Item 1"]])
        with pytest.raises(UnknownCompetencyError) as err:
            links.link(session, tenant.platform_id, "board", "7", [ids["Item 1"], theirs["Item 1"]])
        assert err.value.ids == [theirs["Item 1"]]
        session.get(Competency, ids["Item 2"]).retired_at = utcnow()
        with pytest.raises(LinkError, match="cannot be linked: Item 2"):
            links.set_links(session, tenant.platform_id, "board", "7", [ids["Item 2"]])
        session.rollback()
        assert session.scalar(select(func.count()).select_from(CompetencyLink)) == 0


def test_competencies_for_object_parents_and_explicit_ids(app, tenant, other) -> None:
    ids = _import(app, tenant)
    theirs = _import(app, other)
    with new_session(app) as session:
        links.link(session, tenant.platform_id, "thread", "1", [ids["Item 1.5"]])
        links.link(session, tenant.platform_id, "board", "7", [ids["Item 1.1"], ids["Item 1.5"]])
        links.link(session, tenant.platform_id, "placement", "3", [ids["Item 2"]])
        links.link(session, tenant.platform_id, "board", "8", [ids["Item 2.2"]])  # another board
        # The other tenant links the very same kind/key: it must never leak across.
        links.link(session, other.platform_id, "board", "7", [theirs["Item 1.9"]])
        session.commit()

        event = DomainEvent(
            kind=events.THREAD_POSTED,
            identity="thread:1",
            occurred_at=utcnow(),
            platform_id=tenant.platform_id,
            actor_user_id=tenant.learner_id,
            object=ActivityRef("thread", "1", "T"),
            parents=(ActivityRef("board", "7", "B"), ActivityRef("placement", "3", "P")),
            data={
                "competency_ids": [
                    ids["Item 1.1"],
                    str(ids["Item 1.3"]),
                    theirs["Item 1.4"],
                    "x",
                    True,
                ]
            },
        )
        found = competencies_for(session, event)
        assert [c.name for c in found] == ["Item 1.5", "Item 1.1", "Item 2", "Item 1.3"]
        assert len({c.id for c in found}) == 4
        assert all(c.iri.startswith("https://server/ims/case/v1p0/CFItems/") for c in found)

        lonely = replace(event, object=ActivityRef("thread", "99", "T"), parents=(), data={})
        assert competencies_for(session, lonely) == []


def _count(app, model=Evidence) -> int:
    with new_session(app) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_evidence_is_committed_with_the_act(app, tenant) -> None:
    ids = _import(app, tenant)
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
    ids = _import(app, tenant)
    with new_session(app) as session:
        links.link(session, tenant.platform_id, "board", "7", [ids["Item 1.1"]])
        session.commit()
    with new_session(app) as session:
        events.publish(session, thread_posted(tenant, thread="2", board="7"))
        assert len(session.new) >= 1  # the evidence row waits in the session
        session.rollback()
    assert _count(app) == 0


def test_no_competencies_no_evidence(app, tenant) -> None:
    _import(app, tenant)
    with new_session(app) as session:
        events.publish(session, thread_posted(tenant, thread="3", board="unlinked"))
        session.commit()
    assert _count(app) == 0


def test_evidence_kinds(app, tenant) -> None:
    ids = _import(app, tenant)
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
    ids = _import(app, tenant)
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
    ids = _import(app, tenant)
    _import(app, other)
    with new_session(app) as session:
        links.link(session, tenant.platform_id, "board", "7", [ids["Item 1.1"]])
        session.commit()
        events.publish(session, thread_posted(tenant, board="7"))
        session.commit()
        remove_platform(session, tenant.platform_id)
        session.commit()
    assert _count(app, Evidence) == 0 and _count(app, CompetencyLink) == 0
    assert _count(app, Framework) == 1 and _count(app, Competency) == 14  # the other tenant's
