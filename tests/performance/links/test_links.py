"""Competency links: link, unlink, set (refusing bad refs, unknown and retired competencies), and
competencies_for (object, parents, explicit ids; one tenant only)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from plugin import events
from plugin.db import new_session, utcnow
from plugin.events import ActivityRef, DomainEvent
from plugin.performance import links
from plugin.performance.links import LinkError, UnknownCompetencyError, competencies_for
from plugin.performance.models import Competency, CompetencyLink
from tests.performance.perf_world import (
    import_smart,
)


def test_link_unlink_and_set(app, tenant) -> None:
    ids = import_smart(app, tenant)
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
    ids = import_smart(app, tenant)
    theirs = import_smart(app, other)
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
    ids = import_smart(app, tenant)
    theirs = import_smart(app, other)
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
