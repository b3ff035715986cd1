"""Activity types and IRIs (issue 9, item 11):

- one activity id keeps one ``definition.type`` in every statement the tool makes — a question
  thread is a question when it is asked, viewed, and as the parent of its replies — in our outbox
  and in what the LRS (a real Ralph) stores;
- an activity IRI resolves only while the thing exists on that platform (404 otherwise);
- every IRI we mint (verbs, activity types, extensions, templates, the profile and its version,
  activities) resolves to its definition: JSON-LD for ``application/ld+json`` and
  ``application/json``, a page otherwise.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import Context, Placement, Platform, User
from plugin.social import boards
from plugin.social.models import Post
from plugin.xapi import statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.forwarder import forward_once
from plugin.xapi.models import XapiOutbox
from plugin.xapi.profile import profile_for
from tests.social.social_world import Course, make_course
from tests.support.browser import Browser
from tests.support.lti import launch
from tests.xapi.xapi_world import VARIANTS, lrs_config

JSONLD = "application/ld+json"
QUESTION = vocab.Types.QUESTION.iri
DISCUSSION = vocab.Types.DISCUSSION.iri
BOARD_SETTINGS = {"qa_mode": "1", "record_views": "1", "posts_per_hour": "0"}


def _every_act(s, course: Course, board) -> dict[str, Any]:
    """Every kind of board act, on a question thread and on a discussion thread."""
    ines, lea, leo, liv = (course.viewer(s, n) for n in ("ines", "lea", "leo", "liv"))
    made: dict[str, Any] = {}
    for kind in ("question", "discussion"):
        thread = boards.create_thread(s, lea, board, f"A {kind}", "How do I start?", kind=kind)
        s.flush()
        opening = s.scalar(select(Post).where(Post.thread_id == thread.id, Post.is_opening))
        answer = boards.reply(s, leo, thread, "Start small.")
        boards.reply(s, liv, thread, "And ask for feedback.", parent_post=answer)
        boards.edit_post(s, leo, answer, "Start small, then grow.")
        boards.react(s, liv, answer, "like")
        boards.react(s, lea, answer, "helpful")
        boards.react(s, leo, opening, "like")
        boards.endorse(s, ines, answer)
        if kind == "question":
            boards.accept_answer(s, lea, thread, answer)
        from plugin.social import moderation

        moderation.report_post(s, lea, answer, "off topic")
        boards.record_view(s, liv, thread)
        made[kind] = thread
        made[f"{kind}-answer"] = answer
    s.commit()
    return made


def _activities(statement: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(id, definition.type) of every activity in a statement: object and context activities."""
    obj = statement["object"]
    if obj.get("objectType", "Activity") == "Activity":
        yield obj["id"], obj["definition"]["type"]
    acts = statement.get("context", {}).get("contextActivities", {})
    for slot in ("parent", "grouping", "category", "other"):
        value = acts.get(slot) or []
        for activity in value if isinstance(value, list) else [value]:
            yield activity["id"], activity["definition"]["type"]


def _types_by_id(statements_: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for statement in statements_:
        for activity_id, type_iri in _activities(statement):
            found.setdefault(activity_id, set()).add(type_iri)
    return found


def _outbox(app) -> list[dict[str, Any]]:
    with new_session(app) as s:
        return [row.statement for row in s.scalars(select(XapiOutbox))]


def test_one_activity_id_keeps_one_type_in_every_statement(app, ralph) -> None:
    with new_session(app) as s:
        course = make_course(s, settings=BOARD_SETTINGS)
        board = boards.board_for_placement(s, course.placement)
        s.commit()
        made = _every_act(s, course, board)
        platform_id = course.platform.id
        question_id, discussion_id = made["question"].id, made["discussion"].id
        subs = [u.sub for u in course.users.values()]
        issuer = course.platform.issuer
    ours = _outbox(app)
    verbs = {st["verb"]["id"] for st in ours}
    base = statements.base_url()
    # Every board statement kind is in the set (this test covers what the suite can produce).
    board_kinds = [k for k in vocab.STATEMENT_KINDS if k.event_kind.startswith("board.")]
    assert {k.verb.resolve(base) for k in board_kinds} <= verbs

    def check(found: dict[str, set[str]]) -> None:
        mixed = {iri: types for iri, types in found.items() if len(types) != 1}
        assert mixed == {}, mixed
        question = statements.activity_id(base, platform_id, "thread", str(question_id))
        discussion = statements.activity_id(base, platform_id, "thread", str(discussion_id))
        assert found[question] == {QUESTION}
        assert found[discussion] == {DISCUSSION}

    by_id = _types_by_id(ours)
    check(by_id)
    # The question thread appears as object (asked, viewed) and as parent (replies, reactions…).
    question = statements.activity_id(base, platform_id, "thread", str(question_id))
    slots = {
        ("object" if st["object"]["id"] == question else "parent", st["verb"]["id"])
        for st in ours
        if question
        in [st["object"]["id"]]
        + [p["id"] for p in st["context"]["contextActivities"].get("parent", [])]
    }
    assert ("object", vocab.Verbs.ASKED.iri) in slots
    assert ("object", vocab.Verbs.VIEWED.iri) in slots
    assert ("parent", vocab.Verbs.REPLIED.iri) in slots

    # The same holds in what the LRS stores.
    stats = forward_once(lambda: new_session(app), lrs_config(ralph.endpoint, ralph))
    assert stats.delivered == len(ours) and stats.dead == 0
    stored: list[dict[str, Any]] = []
    for sub in subs:
        stored += ralph.statements_for(
            {"objectType": "Agent", "account": {"homePage": issuer, "name": sub}}
        )
    assert {st["id"] for st in stored} == {st["id"] for st in ours}
    check(_types_by_id(stored))
    assert _types_by_id(stored) == by_id


def _get(url: str, accept: str) -> requests.Response:
    return requests.get(url, headers={"Accept": accept}, timeout=10)


def test_activity_iris_resolve_only_while_the_thing_exists(app, tool_server) -> None:
    with new_session(app) as s:
        course = make_course(s, settings=BOARD_SETTINGS)
        board = boards.board_for_placement(s, course.placement)
        s.commit()
        made = _every_act(s, course, board)
        other = make_course(s)  # another platform, with a board of its own
        other_board = boards.board_for_placement(s, other.placement)
        s.commit()
        p = course.platform.id
        things = {
            ("course", course.context.id): vocab.Types.COURSE.iri,
            ("placement", course.placement.id): f"{tool_server.url}/xapi/activity-types/placement",
            ("board", board.id): f"{tool_server.url}/xapi/activity-types/board",
            ("thread", made["question"].id): QUESTION,
            ("thread", made["discussion"].id): DISCUSSION,
            ("post", made["question-answer"].id): vocab.Types.FORUM_REPLY.iri,
        }
        other_ids = {
            "course": other.context.id,
            "placement": other.placement.id,
            "board": other_board.id,
        }
    base = f"{tool_server.url}/xapi/activities/{p}"
    for (kind, key), type_iri in things.items():
        url = f"{base}/{kind}/{key}"
        r = _get(url, "application/json")
        assert r.status_code == 200, url
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json() == {"id": url, "objectType": "Activity", "definition": {"type": type_iri}}
    missing = [
        f"{base}/post/999999",
        f"{base}/thread/999999",
        f"{base}/board/999999",
        f"{base}/placement/999999",
        f"{base}/course/999999",
        f"{base}/post/2147483648",  # beyond the column: 404, not a database error
        f"{base}/post/99999999999999999999",
        f"{base}/post/-1",
        f"{base}/post/abc",
        f"{base}/post/{made['question-answer'].id}/extra",
        f"{base}/goal/1",  # no goal in this world
        f"{base}/nonsense/1",
        f"{tool_server.url}/xapi/activities/2147483648/post/1",
        f"{tool_server.url}/xapi/activities/99999999999999999999/post/1",
    ]
    missing += [f"{base}/{kind}/{key}" for kind, key in other_ids.items()]  # not on platform p
    for url in missing:
        for accept in ("application/json", JSONLD, "text/html"):
            assert _get(url, accept).status_code == 404, (url, accept)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_every_iri_we_mint_resolves_to_its_definition(app, lms, tool_server) -> None:
    base = tool_server.url
    # Statements from real acts: launches through the sandbox LMS, then every board act there.
    rl = lms.placement()
    people = {"ines": "u-ines", "lea": "u-lea", "leo": "u-amara", "liv": "u-chen"}
    for user in people.values():
        assert launch(Browser(), lms, user, resource_link=rl.resource_link_id).status_code == 200
    with new_session(app) as s:
        platform = s.scalars(select(Platform).where(Platform.issuer == lms.issuer)).one()
        placement = s.scalars(select(Placement)).one()
        context = s.get(Context, placement.context_id)
        placement.settings = dict(BOARD_SETTINGS)
        board = boards.board_for_placement(s, placement)
        s.commit()
        by_sub = {u.sub: u for u in s.scalars(select(User).where(User.issuer == platform.issuer))}
        users = {name: by_sub[sub] for name, sub in people.items()}
        course = Course(platform, context, placement, users, {})
        _every_act(s, course, board)
    built = _outbox(app)
    assert {st["verb"]["id"] for st in built} >= {vocab.Verbs.LAUNCHED.iri, vocab.Verbs.ASKED.iri}

    document = profile_for(base)
    iris = {v for v in _strings(document) if v.startswith(base + "/")}
    iris |= {v for st in built for v in _strings(st) if v.startswith(base + "/")}
    minted = {t.resolve(base) for _, t in vocab.minted_terms()}
    templates = {t["id"] for t in document["templates"]}
    assert minted | templates | {f"{base}/xapi/profile", f"{base}/xapi/profile/v1"} <= iris
    assert any("/xapi/activities/" in i for i in iris)
    labels = {c["id"]: c["prefLabel"]["en"] for c in document["concepts"] + document["templates"]}

    for iri in sorted(iris):
        for accept in (JSONLD, "application/json"):
            r = _get(iri, accept)
            assert r.status_code == 200, (iri, accept, r.status_code)
            assert r.headers["Content-Type"].split(";")[0] == accept, (iri, accept)
            body = r.json()
            named = {body.get("id"), body.get("@id")} | {v["id"] for v in body.get("versions", [])}
            assert iri in named, (iri, body)
            if iri in labels:
                assert body["prefLabel"]["en"] == labels[iri]
                assert body["@context"] == "https://w3id.org/xapi/profiles/context"
        page = _get(iri, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert html.escape(iri) in page.text
        if iri in labels:
            assert html.escape(labels[iri], quote=False) in page.text
        for accept in ("*/*", "text/html"):
            assert _get(iri, accept).headers["Content-Type"].startswith("text/html")
    # Nothing else under /xapi/ answers as if it were defined.
    for bogus in (
        "verbs/nonsense",
        "activity-types/nonsense",
        "extensions/nonsense",
        "profile/templates/nonsense",
        "profile/v2",
    ):
        assert _get(f"{base}/xapi/{bogus}", JSONLD).status_code == 404, bogus


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (JSONLD, JSONLD),
        ("application/json", "application/json"),
        ("application/json, */*", "application/json"),
        ("application/ld+json;q=0.5, application/json", "application/json"),
        ("text/html, application/json;q=0.9", "text/html"),
        ("*/*", "text/html"),
        ("", "text/html"),
    ],
)
def test_the_profile_iri_negotiates(app, tool_server, accept, expected) -> None:
    r = requests.get(f"{tool_server.url}/xapi/profile", headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == expected
    assert r.headers["Vary"] == "Accept"


def test_every_statement_kind_gives_each_activity_one_type(app_ctx, tenant) -> None:
    """All Statement Templates, mentoring and plans included (events shaped as services make
    them): things named in several statements (the parent thread, board, goal, plan,
    mentorship) keep one type, and each object has its template's type."""
    built = []
    with new_session(app_ctx) as s:
        for kind in vocab.STATEMENT_KINDS:
            event_kind, data = VARIANTS.get(kind.slug, (kind.event_kind, {}))
            # one key for every object: ids repeat across statements (a thread is a question
            # or a discussion, so the two kinds of thread get two keys)
            key = "question" if data.get("thread_kind") == "question" else "same"
            result = statements.build(s, tenant.event(event_kind, data=data, key=key))
            assert result.kind.slug == kind.slug
            built.append(result.statement)
    found = _types_by_id(built)
    assert {iri: types for iri, types in found.items() if len(types) != 1} == {}
