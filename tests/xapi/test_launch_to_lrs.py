"""The issue's demo path: a real launch of a placement linked to a CASE competency becomes a named
xAPI statement in a real Ralph LRS, with the competency in context and an evidence row."""

from __future__ import annotations

from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import Placement, Platform
from plugin.performance import frameworks, links
from plugin.performance.models import Competency, Evidence
from plugin.xapi.forwarder import forward_once
from plugin.xapi.lrs import LRSClient, LRSTarget
from plugin.xapi.models import XapiOutbox
from tests.data_files import case_package
from tests.support.browser import Browser
from tests.support.lti import launch
from tests.xapi.xapi_world import lrs_config

TLA_COMPETENCY = "https://w3id.org/xapi/tla/activity-types/competency"


def test_launch_lands_in_ralph_with_its_competency(app, lms, ralph) -> None:
    rl = lms.placement()
    launch(Browser(), lms, "u-ines", resource_link=rl.resource_link_id)  # placement exists now
    with new_session(app) as s:
        platform = s.scalars(select(Platform).where(Platform.issuer == lms.issuer)).one()
        frameworks.import_case_package(
            s, platform.id, case_package("opensalt-SmartLevelFramework.json")
        )
        competency = s.scalars(select(Competency).order_by(Competency.id)).first()
        placement = s.scalars(select(Placement)).one()
        links.link(s, platform.id, "placement", str(placement.id), [competency.id])
        s.commit()
        iri, name = competency.uri, competency.name
    page = launch(Browser(), lms, "u-lea", resource_link=rl.resource_link_id)
    assert page.status_code == 200
    with new_session(app) as s:
        launched = [
            row
            for row in s.scalars(select(XapiOutbox))
            if row.statement["actor"]["account"]["name"] == "u-lea"
        ]
        assert len(launched) == 1
        statement_id = launched[0].statement_id
        evidence = s.scalars(select(Evidence).where(Evidence.statement_id == statement_id)).all()
        assert evidence == []  # launching is not an act of learning: no evidence
    stats = forward_once(lambda: new_session(app), lrs_config(ralph.endpoint, ralph))
    assert stats.delivered >= 2
    client = LRSClient(LRSTarget(ralph.endpoint, ralph.username, ralph.password))
    agent = {"objectType": "Agent", "account": {"homePage": lms.issuer, "name": "u-lea"}}
    stored = [st for st in client.iter_statements(agent=agent) if st["id"] == statement_id]
    assert len(stored) == 1
    st = stored[0]
    assert st["verb"]["id"] == "http://adlnet.gov/expapi/verbs/launched"
    assert st["object"]["definition"]["name"]["en-US"] == rl.title
    others = st["context"]["contextActivities"]["other"]
    assert [(o["id"], o["definition"]["type"]) for o in others] == [(iri, TLA_COMPETENCY)]
    assert others[0]["definition"]["name"]["en-US"] == name
    with new_session(app) as s:
        row = s.get(XapiOutbox, statement_id)
        assert row.state == "delivered"
