"""Statements: every event kind builds a statement that passes Ralph's strict model, our own
rules and its Statement Template; the outbox row is written with the domain change or not at all."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import sys
import types
import uuid
from dataclasses import replace

import pytest
import requests
from sqlalchemy import func, select

import plugin
from plugin import events
from plugin.db import new_session, unit_of_work
from plugin.events import ActivityRef
from plugin.lti.models import User
from plugin.xapi import outbox, statements
from plugin.xapi import profile as xprofile
from plugin.xapi import vocabulary as vocab
from plugin.xapi.models import PENDING, XapiOutbox
from plugin.xapi.validate import InvalidStatement, validate_statement
from tests.xapi.xapi_world import BOARD_KINDS, VARIANTS, make_tenant


def _variant(slug: str) -> tuple[str, dict]:
    if slug in VARIANTS:
        return VARIANTS[slug]
    kind = vocab.kind_by_slug(slug)
    return kind.event_kind, {}


def _rows(app) -> list[XapiOutbox]:
    with new_session(app) as s:
        return list(s.scalars(select(XapiOutbox)))


def test_every_event_kind_has_a_statement_template() -> None:
    covered = {k.event_kind for k in vocab.STATEMENT_KINDS}
    assert covered == set(events.ALL_KINDS)
    profile = xprofile.build_profile("https://lc.example")
    assert len(profile["templates"]) == len(vocab.STATEMENT_KINDS)


@pytest.mark.parametrize("slug", [k.slug for k in vocab.STATEMENT_KINDS])
def test_statement_is_valid_and_follows_its_template(app_ctx, tenant, slug) -> None:
    event_kind, data = _variant(slug)
    event = tenant.event(event_kind, data=data)
    base = statements.base_url()
    with new_session(app_ctx) as s:
        built = statements.build(s, event)
    st = built.statement
    assert built.kind.slug == slug
    validate_statement(st, base=base, kind=built.kind)  # Ralph + own rules + template
    assert xprofile.check_statement(st, xprofile.template_of(base, built.kind)) == []

    kind = built.kind
    assert st["id"] == events.statement_id(event) == str(uuid.UUID(st["id"]))
    assert st["timestamp"] == "2026-11-23T09:30:15.123Z"
    assert "version" not in st
    assert st["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": tenant.issuer, "name": tenant.learner_sub},
    }
    assert st["verb"] == {"id": kind.verb.resolve(base), "display": {"en-US": kind.verb.label}}
    obj = st["object"]
    assert obj["definition"]["type"] == kind.object_type.resolve(base)
    assert obj["definition"]["name"]["en-US"] == event.object.name
    assert obj["definition"]["description"]["en-US"] == event.object.description
    if event.object.kind == "competency":
        assert obj["id"] == event.object.key  # a CASE item keeps its own IRI
    else:
        assert obj["id"] == (
            f"{base}/xapi/activities/{tenant.platform_id}/{event.object.kind}/{event.object.key}"
        )
    ctx = st["context"]
    assert ctx["platform"] == "Learning Commons" and ctx["language"] == "en-US"
    assert ctx["extensions"] == {f"{base}/xapi/extensions/tool-version": plugin.__version__}
    acts = ctx["contextActivities"]
    assert acts["category"] == [
        {
            "id": f"{base}/xapi/profile/v1",
            "objectType": "Activity",
            "definition": {"type": vocab.PROFILE_ACTIVITY_TYPE},
        }
    ]
    assert [p["definition"]["type"] for p in acts.get("parent", [])] == [
        vocab.ACTIVITY_TYPES[k].resolve(base) for k in kind.parent_kinds
    ]
    if event_kind in BOARD_KINDS or event_kind == events.LAUNCHED:
        course, placement = acts["grouping"]
        assert course["definition"] == {
            "name": {"en-US": "Leadership 101"},
            "type": "http://adlnet.gov/expapi/activities/course",
        }
        assert course["id"].endswith(f"/course/{tenant.context_id}")
        assert placement["definition"]["name"] == {"en-US": "Cohort board"}
    else:
        assert "grouping" not in acts
    text = json.dumps(st)
    assert "lee@example.org" not in text and "Lee Learner" not in text


def test_result_and_context_details(app_ctx, tenant) -> None:
    base = statements.base_url()
    with new_session(app_ctx) as s:
        progressed = statements.build(
            s, tenant.event(events.GOAL_PROGRESSED, data={"progress": 0.375})
        ).statement
        completed = statements.build(s, tenant.event(events.GOAL_COMPLETED)).statement
        liked = statements.build(
            s, tenant.event(events.REACTION_ADDED, data={"reaction": "thanks"})
        ).statement
        checkin = statements.build(
            s,
            tenant.event(
                events.CHECKIN_LOGGED,
                actor_id=tenant.mentor_id,
                data={"role": "mentor", "duration_minutes": 75},
            ),
        ).statement
        evidence_event = tenant.event(
            events.EVIDENCE_ACCEPTED, data={"reviewer_user_id": tenant.mentor_id}
        )
        evidence = statements.build(s, evidence_event).statement
        mentor_sub = s.get(User, tenant.mentor_id).sub
        request = statements.build(s, tenant.event(events.MENTOR_REQUESTED)).statement
    assert progressed["result"] == {"extensions": {vocab.PROGRESS_EXTENSION: 38}}
    assert completed["result"] == {"completion": True}
    assert liked["result"] == {"extensions": {f"{base}/xapi/extensions/reaction": "thanks"}}
    assert liked["verb"]["id"] == "https://w3id.org/xapi/acrossx/verbs/liked"
    assert checkin["verb"]["id"] == "http://id.tincanapi.com/verb/mentored"
    assert checkin["result"] == {"duration": "PT1H15M"}
    assert checkin["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/meeting"
    assert evidence["context"]["statement"] == {
        "objectType": "StatementRef",
        "id": evidence_event.data["evidence_statement_id"],
    }
    assert evidence["verb"]["id"] == "https://w3id.org/xapi/tla/verbs/asserted"
    assert evidence["actor"]["account"]["name"] == tenant.learner_sub
    assert evidence["context"]["instructor"] == {
        "objectType": "Agent",
        "account": {"homePage": tenant.issuer, "name": mentor_sub},
    }
    other = request["context"]["contextActivities"]["other"]
    assert other == [
        {
            "id": "https://case.example/items/feedback",
            "objectType": "Activity",
            "definition": {
                "name": {"en-US": "Giving feedback"},
                "type": "https://w3id.org/xapi/tla/activity-types/competency",
            },
        }
    ]


def test_feedback_carries_its_rating_as_a_score_and_refuses_one_off_the_scale(
    app_ctx, tenant
) -> None:
    with new_session(app_ctx) as s:
        feedback = statements.build(
            s, tenant.event(events.FEEDBACK_GIVEN, data={"rating": 4, "comment": "kept private"})
        ).statement
        for rating in (0, 6, "4", True, None):
            with pytest.raises(ValueError, match="rating must be a whole number from 1 to 5"):
                statements.build(s, tenant.event(events.FEEDBACK_GIVEN, data={"rating": rating}))
    assert feedback["result"] == {"score": {"raw": 4, "min": 1, "max": 5, "scaled": 0.75}}
    assert feedback["verb"]["id"] == "http://id.tincanapi.com/verb/rated"
    assert "kept private" not in json.dumps(feedback)


def test_pseudonymised_actor_is_a_keyed_hash(app) -> None:
    tenant = make_tenant(app, pseudonymise_actors=True, actor_key="k3y-for-this-platform")
    with app.app_context(), new_session(app) as s:
        st = statements.build(s, tenant.event(events.GOAL_SET)).statement
    expected = hmac.new(
        b"k3y-for-this-platform", tenant.learner_sub.encode(), hashlib.sha256
    ).hexdigest()
    assert st["actor"]["account"] == {"homePage": tenant.issuer, "name": expected}
    assert tenant.learner_sub not in json.dumps(st)


def test_competencies_from_performance_links_and_event_data(app_ctx, tenant, monkeypatch) -> None:
    calls = []

    def competencies_for(session, event):
        calls.append(event.kind)
        return [
            types.SimpleNamespace(iri="https://case.example/items/listening", name="Listening"),
            types.SimpleNamespace(iri="https://case.example/items/feedback", name="Feedback"),
        ]

    fake = types.ModuleType("plugin.performance.links")
    fake.competencies_for = competencies_for
    monkeypatch.setitem(sys.modules, "plugin.performance.links", fake)
    monkeypatch.setattr(sys.modules["plugin.performance"], "links", fake, raising=False)
    event = tenant.event(
        events.REPLY_POSTED,
        data={
            "competencies": [
                {"iri": "https://case.example/items/feedback", "name": "Giving feedback"},
                {"iri": "https://case.example/items/coaching", "name": "Coaching"},
            ]
        },
    )
    with new_session(app_ctx) as s:
        built = statements.build(s, event)
        outbox.enqueue(s, event)
        s.commit()
    assert calls == [events.REPLY_POSTED, events.REPLY_POSTED]
    assert built.competency_iris == [
        "https://case.example/items/listening",
        "https://case.example/items/feedback",
        "https://case.example/items/coaching",
    ]
    names = [
        a["definition"]["name"]["en-US"]
        for a in built.statement["context"]["contextActivities"]["other"]
    ]
    assert names == ["Listening", "Feedback", "Coaching"]
    [row] = _rows(app_ctx)
    assert row.competency_iris == built.competency_iris


def test_post_text_only_when_enabled_and_not_anonymous(app_ctx, tenant, monkeypatch) -> None:
    with new_session(app_ctx) as s:
        default = statements.build(
            s, tenant.event(events.REPLY_POSTED, data={"text": "My reply"})
        ).statement
        monkeypatch.setitem(app_ctx.config, "XAPI_INCLUDE_RESPONSE_TEXT", True)
        opted_in = statements.build(
            s, tenant.event(events.REPLY_POSTED, data={"text": "My reply"})
        ).statement
        anonymous = statements.build(
            s, tenant.event(events.REPLY_POSTED, data={"text": "Secret", "anonymous": True})
        ).statement
    assert "result" not in default and "My reply" not in json.dumps(default)
    assert opted_in["result"] == {"response": "My reply"}
    assert "result" not in anonymous and "Secret" not in json.dumps(anonymous)


def test_publish_queues_one_pending_row_with_its_index_columns(app_ctx, tenant) -> None:
    event = tenant.event(events.THREAD_POSTED)
    with unit_of_work(new_session(app_ctx)) as s:
        events.publish(s, event)
    [row] = _rows(app_ctx)
    assert row.statement_id == events.statement_id(event)
    assert (row.platform_id, row.context_id, row.actor_user_id) == (
        tenant.platform_id,
        tenant.context_id,
        tenant.learner_id,
    )
    assert row.event_kind == events.THREAD_POSTED
    assert row.verb_id == "https://w3id.org/xapi/acrossx/verbs/posted"
    assert row.object_id == row.statement["object"]["id"]
    assert row.state == PENDING and row.attempts == 0 and row.delivered_at is None
    assert row.next_attempt_at == row.created_at


def test_same_event_twice_gives_one_row(app_ctx, tenant) -> None:
    event = tenant.event(events.GOAL_SET, identity="goal:42:set")
    with unit_of_work(new_session(app_ctx)) as s:
        events.publish(s, event)
        events.publish(s, event)  # replayed within the same transaction
    with unit_of_work(new_session(app_ctx)) as s:
        events.publish(s, replace(event, data={"note": "replayed later"}))
    rows = _rows(app_ctx)
    assert [r.statement_id for r in rows] == [events.statement_id(event)]
    other = tenant.event(events.GOAL_SET, identity="goal:43:set")
    assert events.statement_id(other) != events.statement_id(event)


def test_rolled_back_transaction_leaves_no_outbox_row(app_ctx, tenant) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), unit_of_work(new_session(app_ctx)) as s:
        events.publish(s, tenant.event(events.REPLY_POSTED))
        s.flush()  # the row was written inside the transaction...
        assert s.scalar(select(func.count()).select_from(XapiOutbox)) == 1
        raise Boom  # ...and the act fails afterwards
    assert _rows(app_ctx) == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda e, t: replace(e, object=ActivityRef("thread", "1", "x")), "object of kind"),
        (lambda e, t: replace(e, parents=()), "needs a parent"),
        (lambda e, t: replace(e, placement_id=None), "placement_id"),
        (lambda e, t: replace(e, actor_user_id=t.other_user_id), "not a user of platform"),
        (lambda e, t: replace(e, context_id=t.other_context_id), "not on platform"),
    ],
)
def test_malformed_events_roll_back_the_act(app_ctx, tenant, change, why) -> None:
    other = make_tenant(app_ctx)
    tenant.other_user_id = other.learner_id
    tenant.other_context_id = other.context_id
    event = change(tenant.event(events.REPLY_POSTED), tenant)
    with pytest.raises(ValueError, match=why), unit_of_work(new_session(app_ctx)) as s:
        events.publish(s, event)
    assert _rows(app_ctx) == []


def test_progress_must_be_a_fraction(app_ctx, tenant) -> None:
    for bad in ({"progress": 1.5}, {"progress": "half"}, {}):
        event = tenant.event(events.GOAL_PROGRESSED)
        event = replace(event, data=bad)
        with pytest.raises(ValueError, match="progress"), unit_of_work(new_session(app_ctx)) as s:
            events.publish(s, event)
    assert _rows(app_ctx) == []


def _valid_statement(app_ctx, tenant) -> tuple[dict, vocab.StatementKind]:
    with new_session(app_ctx) as s:
        built = statements.build(s, tenant.event(events.GOAL_PROGRESSED))
    return built.statement, built.kind


CORRUPTIONS = {
    "relative verb IRI": lambda st: st["verb"].update(id="verbs/progressed"),
    "no verb display": lambda st: st["verb"].pop("display"),
    "no object name": lambda st: st["object"]["definition"].pop("name"),
    "empty object name": lambda st: st["object"]["definition"].update(name={"en-US": ""}),
    "local timestamp": lambda st: st.update(timestamp="2026-11-23T10:30:15.123+01:00"),
    "id not a UUID": lambda st: st.update(id="statement-1"),
    "relative activity type": lambda st: st["object"]["definition"].update(type="goal"),
    "relative parent id": lambda st: st["context"]["contextActivities"]["parent"][0].update(
        id="plan/1"
    ),
    "relative extension key": lambda st: st["context"].update(extensions={"tool-version": "1"}),
    "actor e-mail": lambda st: st["actor"].update(mbox="mailto:lee@example.org"),
    "homePage not an IRI": lambda st: st["actor"]["account"].update(homePage="lms"),
    "bad language tag": lambda st: st["verb"].update(display={"english!": "progressed"}),
    "version 1.0.3": lambda st: st.update(version="1.0.3"),
    "wrong verb for template": lambda st: st["verb"].update(
        id="http://adlnet.gov/expapi/verbs/completed"
    ),
    "no progress extension": lambda st: st.pop("result"),
    "profile category missing": lambda st: st["context"]["contextActivities"].pop("category"),
    "unknown property": lambda st: st.update(colour="blue"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_validation_refuses_invalid_statements(app_ctx, tenant, name) -> None:
    statement, kind = _valid_statement(app_ctx, tenant)
    validate_statement(statement, base=statements.base_url(), kind=kind)  # valid as built
    broken = copy.deepcopy(statement)
    CORRUPTIONS[name](broken)
    with pytest.raises(InvalidStatement) as err:
        validate_statement(broken, base=statements.base_url(), kind=kind)
    assert err.value.problems


@pytest.mark.parametrize(
    "name", ["relative verb IRI", "local timestamp", "no object name", "actor e-mail"]
)
def test_an_invalid_statement_is_never_queued(app_ctx, tenant, monkeypatch, name) -> None:
    """Even if a builder bug produced a bad statement, publish fails and nothing is queued."""
    real_build = statements.build

    def buggy_build(session, event, **kw):
        built = real_build(session, event, **kw)
        CORRUPTIONS[name](built.statement)
        return built

    monkeypatch.setattr(statements, "build", buggy_build)
    with pytest.raises(InvalidStatement), unit_of_work(new_session(app_ctx)) as s:
        events.publish(s, tenant.event(events.GOAL_PROGRESSED))
    assert _rows(app_ctx) == []


def test_template_checker_applies_rules() -> None:
    base = "https://lc.example"
    template = xprofile.template_of(base, vocab.kind_by_slug("goal-completed"))
    statement = {
        "id": str(uuid.uuid4()),
        "timestamp": "2026-01-01T00:00:00Z",
        "actor": {"objectType": "Agent", "account": {"homePage": "https://lms", "name": "1"}},
        "verb": {"id": vocab.Verbs.COMPLETED.iri, "display": {"en-US": "completed"}},
        "object": {
            "id": "https://lc.example/x",
            "definition": {"type": vocab.Types.GOAL.iri, "name": {"en-US": "Goal"}},
        },
        "result": {"completion": True},
        "context": {
            "platform": "Learning Commons",
            "contextActivities": {
                "category": {
                    "id": f"{base}/xapi/profile/v1",
                    "definition": {"type": vocab.PROFILE_ACTIVITY_TYPE},
                },
                "parent": [
                    {
                        "id": "https://lc.example/p",
                        "definition": {"type": vocab.Types.LEARNING_PLAN.iri},
                    }
                ],
            },
            "extensions": {f"{base}/xapi/extensions/tool-version": "1"},
        },
    }
    assert xprofile.check_statement(statement, template) == []  # singleton category normalised
    not_done = copy.deepcopy(statement)
    not_done["result"]["completion"] = False
    assert any("completion" in e for e in xprofile.check_statement(not_done, template))
    named = copy.deepcopy(statement)
    named["actor"]["name"] = "Lee"
    assert any("must not be present" in e for e in xprofile.check_statement(named, template))
    orphan = copy.deepcopy(statement)
    del orphan["context"]["contextActivities"]["parent"]
    assert any("parent" in e for e in xprofile.check_statement(orphan, template))
    assert xprofile.jsonpath({"a": [{"b": 1}, {"b": 2}, {}]}, "$.a[*].b") == [1, 2]
    assert xprofile.jsonpath({"e": {"http://x.y/z": 3}}, "$.e['http://x.y/z'] | $.q") == [3]


def test_profile_document_and_endpoint(app, tool_server) -> None:
    response = requests.get(
        tool_server.url + "/xapi/profile", headers={"Accept": "application/ld+json"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/ld+json")
    doc = response.json()
    base = tool_server.url
    version = f"{base}/xapi/profile/v1"
    assert doc["@context"] == "https://w3id.org/xapi/profiles/context"
    assert doc["id"] == f"{base}/xapi/profile" and doc["type"] == "Profile"
    assert doc["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
    assert doc["versions"][0]["id"] == version and doc["versions"][0]["generatedAtTime"]
    assert doc["prefLabel"] and doc["definition"] and doc["author"]["type"] == "Organization"
    concepts = {c["id"]: c for c in doc["concepts"]}
    for concept in doc["concepts"]:
        # Only our own IRIs are defined here; reused ones belong to their own profiles.
        assert concept["id"].startswith(f"{base}/xapi/"), concept["id"]
        assert concept["inScheme"] == version
        assert concept["type"] in {"Verb", "ActivityType", "ContextExtension", "ResultExtension"}
        assert concept["prefLabel"]["en"] and concept["definition"]["en"]
    assert f"{base}/xapi/verbs/endorsed" in concepts
    assert concepts[f"{base}/xapi/extensions/tool-version"]["type"] == "ContextExtension"
    assert concepts[f"{base}/xapi/extensions/reaction"]["type"] == "ResultExtension"
    ids = [t["id"] for t in doc["templates"]]
    assert len(ids) == len(set(ids)) == len(vocab.STATEMENT_KINDS)
    for template in doc["templates"]:
        assert template["type"] == "StatementTemplate" and template["inScheme"] == version
        assert template["verb"] and template["objectActivityType"] and template["rules"]
        assert template["contextCategoryActivityType"] == [vocab.PROFILE_ACTIVITY_TYPE]

    def no_empty(value) -> None:  # the Profiles spec forbids empty values anywhere
        assert value not in ({}, [], "", None)
        if isinstance(value, dict):
            for v in value.values():
                no_empty(v)
        elif isinstance(value, list):
            for v in value:
                no_empty(v)

    no_empty(doc)
    assert requests.get(version, headers={"Accept": "application/json"}, timeout=10).json() == doc
    # Activity IRIs, concepts and templates: tests/xapi/test_xapi_iris.py
