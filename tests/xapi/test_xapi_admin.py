"""Administrator views and API: scoped by role (admin: platform, staff: course, others: none),
filters, keyset pagination, dead letters with re-send, JSON Lines export.

The pages take the signed launch token an LTI launch issues; these tests create the launch
session row directly and sign it with ``plugin.web.issue_token``."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import update

from plugin import events
from plugin.db import new_session, unit_of_work, utcnow
from plugin.lti import roles
from plugin.lti.models import Context, LaunchSession, Placement, User
from plugin.web import issue_token
from plugin.xapi.models import DEAD, DELIVERED, PENDING, XapiOutbox
from tests.xapi.xapi_world import Tenant, make_tenant


def token_for(
    app,
    tenant: Tenant,
    role_uris: list[str],
    *,
    user_id: int | None = None,
    context_id: int | None = -1,
) -> str:
    with new_session(app) as s:
        launch = LaunchSession(
            platform_id=tenant.platform_id,
            deployment_id="d1",
            user_id=user_id or tenant.mentor_id,
            context_id=tenant.context_id if context_id == -1 else context_id,
            placement_id=None,
            message_type="LtiResourceLinkRequest",
            roles=role_uris,
            claims={},
            expires_at=utcnow() + timedelta(hours=1),
        )
        s.add(launch)
        s.commit()
        with app.test_request_context():
            return issue_token(launch)


def publish(app, tenant: Tenant, kind: str, *, context_id=None, actor_id=None, data=None) -> str:
    event = tenant.event(kind, actor_id=actor_id, data=data)
    if context_id is not None:
        from dataclasses import replace

        event = replace(event, context_id=context_id, placement_id=None)
    with app.app_context(), unit_of_work(new_session(app)) as s:
        events.publish(s, event)
    return events.statement_id(event)


def second_course(app, tenant: Tenant) -> int:
    with new_session(app) as s:
        ctx = Context(
            platform_id=tenant.platform_id,
            issuer=tenant.issuer,
            context_id="c-202",
            title="Coaching 202",
        )
        s.add(ctx)
        s.flush()
        s.add(Placement(context_id=ctx.id, resource_link_id="rl-2", title="Board 2"))
        s.commit()
        return ctx.id


def ids_on_page(html: str) -> list[str]:
    return re.findall(r"Statement ([0-9a-f-]{36}) as JSON", html)


@pytest.fixture
def client(app):
    return app.test_client()


def test_admin_overview_counts_and_scoping(app, client, tenant) -> None:
    publish(app, tenant, events.GOAL_SET)
    publish(app, tenant, events.GOAL_SET)
    dead = publish(app, tenant, events.MENTOR_REQUESTED)
    with new_session(app) as s:
        s.execute(update(XapiOutbox).where(XapiOutbox.statement_id == dead).values(state=DEAD))
        s.commit()
    other = make_tenant(app)
    publish(app, other, events.GOAL_SET)  # another platform: never counted here
    token = token_for(app, tenant, [roles.INSTITUTION_ADMIN])
    page = client.get(f"/xapi/admin?lc={token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<span class="n">2</span> waiting to be sent', html)
    assert re.search(r'<span class="n state-dead">1</span> refused by the LRS', html)
    assert "Statements recorded on your platform." in html
    assert f'href="/xapi/admin/dead?lc={token}"' in html
    api = client.get("/api/xapi/outbox/counts", headers={"Authorization": f"Bearer {token}"})
    assert api.json == {"pending": 2, "sending": 0, "delivered": 0, "dead": 1}


def test_learner_and_missing_token_are_refused(app, client, tenant) -> None:
    learner = token_for(app, tenant, [roles.LEARNER], user_id=tenant.learner_id)
    assert client.get(f"/xapi/admin?lc={learner}").status_code == 403
    assert client.get(f"/xapi/admin/statements?lc={learner}").status_code == 403
    assert client.get(f"/xapi/admin/export.jsonl?lc={learner}").status_code == 403
    r = client.get("/api/xapi/statements", headers={"Authorization": f"Bearer {learner}"})
    assert r.status_code == 403 and r.json["code"] == 403 and r.json["message"]
    assert client.get("/xapi/admin").status_code == 401
    assert client.get("/xapi/admin?lc=forged").status_code == 401


def test_staff_see_only_their_course_and_cannot_resend(app, client, tenant) -> None:
    mine = publish(app, tenant, events.GOAL_SET, context_id=tenant.context_id)
    other_course = second_course(app, tenant)
    theirs = publish(app, tenant, events.GOAL_SET, context_id=other_course)
    nowhere = publish(app, tenant, events.GOAL_SET)  # no course
    staff = token_for(app, tenant, [roles.INSTRUCTOR])
    html = client.get(f"/xapi/admin/statements?lc={staff}").get_data(as_text=True)
    assert ids_on_page(html) == [mine]
    # A course filter cannot widen a staff member's view.
    html = client.get(f"/xapi/admin/statements?lc={staff}&course={other_course}").get_data(
        as_text=True
    )
    assert ids_on_page(html) == [mine]
    assert 'id="f-course"' not in html
    lines = client.get(f"/xapi/admin/export.jsonl?lc={staff}").get_data(as_text=True)
    assert [json.loads(line)["id"] for line in lines.splitlines()] == [mine]
    assert client.get(f"/xapi/admin/dead?lc={staff}").status_code == 403
    r = client.post("/xapi/admin/dead/resend", data={"lc": staff})
    assert r.status_code == 403
    r = client.post(
        "/api/xapi/statements/resend", json={}, headers={"Authorization": f"Bearer {staff}"}
    )
    assert r.status_code == 403
    admin = token_for(app, tenant, [roles.INSTITUTION_ADMIN], context_id=None)
    html = client.get(f"/xapi/admin/statements?lc={admin}").get_data(as_text=True)
    assert set(ids_on_page(html)) == {mine, theirs, nowhere}
    no_course = token_for(app, tenant, [roles.INSTRUCTOR], context_id=None)
    assert client.get(f"/xapi/admin/statements?lc={no_course}").status_code == 400


def test_browser_filters(app, client, tenant) -> None:
    reply = publish(app, tenant, events.REPLY_POSTED)
    request = publish(app, tenant, events.MENTOR_REQUESTED)  # carries competency "feedback"
    mentor_checkin = publish(
        app, tenant, events.CHECKIN_LOGGED, actor_id=tenant.mentor_id, data={"role": "mentor"}
    )
    other_course = second_course(app, tenant)
    elsewhere = publish(app, tenant, events.GOAL_SET, context_id=other_course)
    admin = token_for(app, tenant, [roles.INSTITUTION_ADMIN])

    def shown(**params) -> set[str]:
        r = client.get("/xapi/admin/statements", query_string={"lc": admin, **params})
        assert r.status_code == 200
        return set(ids_on_page(r.get_data(as_text=True)))

    assert shown() == {reply, request, mentor_checkin, elsewhere}
    assert shown(person="Mo Mentor") == {mentor_checkin}
    assert shown(person="mentor") == {mentor_checkin}  # part of the name
    assert shown(person="lee@example") == {reply, request, elsewhere}
    with new_session(app) as s:
        learner_sub = s.get(User, tenant.learner_id).sub
    assert shown(person=learner_sub) == {reply, request, elsewhere}
    assert shown(verb="http://id.tincanapi.com/verb/replied") == {reply}
    assert shown(competency="https://case.example/items/feedback") == {request}
    assert shown(competency="https://case.example/items/feed") == set()  # whole IRIs only
    assert shown(course=str(tenant.context_id)) == {reply}
    assert shown(course=str(other_course)) == {elsewhere}
    assert shown(state="pending") == {reply, request, mentor_checkin, elsewhere}
    assert shown(state="delivered") == set()
    assert (
        client.get(
            "/xapi/admin/statements", query_string={"lc": admin, "state": "lost"}
        ).status_code
        == 400
    )
    api = client.get(
        "/api/xapi/statements",
        query_string={"verb": ("http://id.tincanapi.com/verb/replied")},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert [i["statement_id"] for i in api.json["items"]] == [reply]
    item = api.json["items"][0]
    assert item["state"] == PENDING and item["statement"]["id"] == reply
    html = client.get(f"/xapi/admin/statements?lc={admin}&person=Mo+Mentor").get_data(as_text=True)
    assert "Mo Mentor" in html and "mentored" in html
    shown_json = re.search(
        r'<pre tabindex="0" aria-label="Statement JSON">(.*?)</pre>', html, re.S
    ).group(1)
    assert json.loads(unescape(shown_json))["id"] == mentor_checkin


def test_keyset_pagination_walks_every_statement_once(app, client, tenant) -> None:
    ids = {publish(app, tenant, events.GOAL_SET) for _ in range(30)}
    with new_session(app) as s:  # many statements share one created_at: the id breaks ties
        s.execute(update(XapiOutbox).values(created_at=utcnow() - timedelta(minutes=5)))
        s.commit()
    ids |= {publish(app, tenant, events.GOAL_SET) for _ in range(27)}
    admin = token_for(app, tenant, [roles.INSTITUTION_ADMIN])
    seen: list[str] = []
    url = f"/xapi/admin/statements?lc={admin}"
    pages = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += ids_on_page(html)
        pages += 1
        more = re.search(r'href="([^"]*cursor=[^"]*)">Older statements', html)
        url = unescape(more.group(1)) if more else None
    assert pages == 3 and len(seen) == 57 and set(seen) == ids
    # API pages the same way.
    seen_api, cursor = [], None
    while True:
        query = {"limit": 20, **({"cursor": cursor} if cursor else {})}
        r = client.get(
            "/api/xapi/statements", query_string=query, headers={"Authorization": f"Bearer {admin}"}
        )
        seen_api += [i["statement_id"] for i in r.json["items"]]
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    assert seen_api == seen
    bad = client.get(
        "/api/xapi/statements",
        query_string={"cursor": "%%%"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert bad.status_code == 400


def test_dead_letters_show_the_reply_and_can_be_resent(app, client, tenant) -> None:
    first = publish(app, tenant, events.REPLY_POSTED)
    second = publish(app, tenant, events.POST_EDITED)
    delivered = publish(app, tenant, events.GOAL_SET)
    with new_session(app) as s:
        s.execute(
            update(XapiOutbox)
            .where(XapiOutbox.statement_id.in_([first, second]))
            .values(
                state=DEAD,
                attempts=1,
                lrs_reply='HTTP 422: {"detail": "object.id is not a valid IRI"}',
            )
        )
        s.execute(
            update(XapiOutbox).where(XapiOutbox.statement_id == delivered).values(state=DELIVERED)
        )
        s.commit()
    other = make_tenant(app)
    foreign = publish(app, other, events.REPLY_POSTED)
    with new_session(app) as s:
        s.execute(update(XapiOutbox).where(XapiOutbox.statement_id == foreign).values(state=DEAD))
        s.commit()
    admin = token_for(app, tenant, [roles.INSTITUTION_ADMIN])
    html = client.get(f"/xapi/admin/dead?lc={admin}").get_data(as_text=True)
    assert set(ids_on_page(html)) == {first, second}
    assert "object.id is not a valid IRI" in unescape(html)
    assert f'name="statement_id" value="{first}"' in html
    r = client.post("/xapi/admin/dead/resend", data={"lc": admin, "statement_id": first})
    assert r.status_code == 303 and "resent=1" in r.headers["Location"]
    assert f"lc={admin}" in r.headers["Location"]
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "1 statement queued to be sent again." in html
    with new_session(app) as s:
        assert s.get(XapiOutbox, first).state == PENDING
        assert s.get(XapiOutbox, second).state == DEAD
    r = client.post(
        "/api/xapi/statements/resend", json={}, headers={"Authorization": f"Bearer {admin}"}
    )
    assert r.json == {"requeued": 1}  # the other platform's dead letter is not touched
    with new_session(app) as s:
        assert s.get(XapiOutbox, second).state == PENDING
        assert s.get(XapiOutbox, foreign).state == DEAD
        assert s.get(XapiOutbox, delivered).state == DELIVERED


def test_export_is_json_lines_of_the_statements(app, client, tenant) -> None:
    ids = [
        publish(app, tenant, kind)
        for kind in (events.GOAL_SET, events.REPLY_POSTED, events.MENTOR_REQUESTED)
    ]
    make_other = make_tenant(app)
    publish(app, make_other, events.GOAL_SET)
    admin = token_for(app, tenant, [roles.INSTITUTION_ADMIN])
    r = client.get(f"/xapi/admin/export.jsonl?lc={admin}")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/x-ndjson")
    assert "attachment" in r.headers["Content-Disposition"]
    lines = r.get_data(as_text=True).splitlines()
    exported = [json.loads(line) for line in lines]
    assert [s["id"] for s in exported] == ids  # oldest first, only this platform
    with new_session(app) as s:
        for statement in exported:
            assert statement == s.get(XapiOutbox, statement["id"]).statement
    filtered = client.get(
        "/xapi/admin/export.jsonl",
        query_string={"lc": admin, "verb": "http://id.tincanapi.com/verb/replied"},
    ).get_data(as_text=True)
    assert [json.loads(x)["id"] for x in filtered.splitlines()] == [ids[1]]


def test_pages_are_accessible_shapes(app, client, tenant) -> None:
    publish(app, tenant, events.REPLY_POSTED)
    admin = token_for(app, tenant, [roles.INSTITUTION_ADMIN])
    html = client.get(f"/xapi/admin/statements?lc={admin}").get_data(as_text=True)
    for field in ("f-person", "f-verb", "f-competency", "f-course", "f-state"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert f'<input type="hidden" name="lc" value="{admin}">' in html
    assert 'aria-current="page"' in html and 'role="search"' in html
    assert "commons.js" in html  # the frame-resize script of the shared layout
    assert str(uuid.UUID(ids_on_page(html)[0]))


def test_api_is_documented(app, client) -> None:
    spec = client.get("/api/openapi.json").json
    for path in ("/api/xapi/outbox/counts", "/api/xapi/statements", "/api/xapi/statements/resend"):
        assert path in spec["paths"]
    assert spec["paths"]["/api/xapi/statements"]["get"]["security"] == [{"launchToken": []}]
