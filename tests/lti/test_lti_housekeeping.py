"""What launches leave behind is purged by the worker (OIDC states of anonymous logins, expired
launch sessions, expired access tokens), and one client cannot fill the state table: logins are
capped per platform and client address (X-Forwarded-For counts only behind TRUSTED_PROXIES)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from plugin import create_app
from plugin.config import Settings
from plugin.db import new_session, utcnow
from plugin.jobs import DONE, Job
from plugin.lti.models import AccessTokenCache, LaunchSession, OidcState
from plugin.lti.tasks import PURGE_MARGIN
from tests.conftest import CLIENT_ID, row_counts
from tests.support.browser import Browser
from tests.support.lti import cli, launch


def login(tool_url: str, lms, client_id: str = CLIENT_ID, headers: dict | None = None):
    """An anonymous OIDC login initiation, as anyone on the internet can send it."""
    return Browser().http.get(
        tool_url + "/lti/login",
        params={
            "iss": lms.issuer,
            "client_id": client_id,
            "login_hint": "someone",
            "target_link_uri": tool_url + "/lti/launch",
        },
        headers=headers or {},
        allow_redirects=False,
        timeout=10,
    )


def states(app) -> dict[str, OidcState]:
    with new_session(app) as s:
        return {o.state: o for o in s.scalars(select(OidcState))}


def age(app, model, key_column, keys, **values) -> None:
    with new_session(app) as s:
        s.execute(update(model).where(key_column.in_(list(keys))).values(**values))
        s.commit()


def test_the_worker_purges_old_states_expired_sessions_and_tokens(app, lms, tool_server) -> None:
    max_age = app.config["COMMONS_SETTINGS"].oidc_state_max_age
    old = max_age + PURGE_MARGIN.total_seconds() + 60
    for _ in range(3):  # logins nobody finishes (GET /lti/login needs no credentials)
        assert login(tool_server.url, lms).status_code == 302
    anonymous = list(states(app))
    # a real launch: a used state and a launch session
    page = launch(Browser(), lms, "u-lea", resource_link=lms.placement().resource_link_id)
    assert page.status_code == 200
    used = [k for k, o in states(app).items() if o.used_at is not None]
    (expired_session,) = [s.id for s in _sessions(app)]
    page = launch(Browser(), lms, "u-ines", resource_link=lms.placement().resource_link_id)
    live_session = next(s.id for s in _sessions(app) if s.id != expired_session)
    now = utcnow()
    age(
        app,
        OidcState,
        OidcState.state,
        anonymous[:2] + used,
        created_at=now - timedelta(seconds=old),
    )
    age(
        app,
        LaunchSession,
        LaunchSession.id,
        [expired_session],
        expires_at=now - PURGE_MARGIN - timedelta(minutes=1),
    )
    with new_session(app) as s:
        platform_id = s.scalars(select(LaunchSession.platform_id)).first()
        for key, expires in (
            ("gone", now - timedelta(seconds=1)),
            ("kept", now + timedelta(hours=1)),
        ):
            s.add(
                AccessTokenCache(
                    platform_id=platform_id,
                    scope_key=key,
                    access_token="t-" + key,
                    expires_at=expires,
                )
            )
        s.commit()
    kept_states = set(states(app)) - set(anonymous[:2]) - set(used)
    assert kept_states  # the fresh anonymous state and the instructor's used one

    result = cli(app, "worker", "--once")
    assert result.exit_code == 0, result.output
    assert set(states(app)) == kept_states  # old ones went, used or not
    assert [s.id for s in _sessions(app)] == [live_session]
    with new_session(app) as s:
        keys = set(s.scalars(select(AccessTokenCache.scope_key)))
        assert "kept" in keys and "gone" not in keys
        (purge,) = s.scalars(select(Job).where(Job.kind == "lti.purge", Job.state == DONE))
        assert purge.result == "3 oidc states, 1 launch sessions, 1 access tokens"
        assert s.scalars(select(Job).where(Job.kind == "lti.purge", Job.state == "queued")).one()
    # the live session still opens pages; the purged one is gone for good
    assert Browser().http.get(page.url, timeout=10).status_code == 200


def _sessions(app) -> list[LaunchSession]:
    with new_session(app) as s:
        return list(s.scalars(select(LaunchSession).order_by(LaunchSession.created_at)))


@pytest.fixture
def cap(app, monkeypatch):
    settings = app.config["COMMONS_SETTINGS"]
    monkeypatch.setattr(settings, "oidc_login_limit", 3)
    return settings


def test_one_address_cannot_fill_the_state_table(app, lms_factory, tool_server, cap) -> None:
    lms = lms_factory(name="LMS A")
    other = lms_factory(name="LMS B", client_id="other-client")
    for _ in range(3):
        assert login(tool_server.url, lms).status_code == 302
    assert {o.client_ip for o in states(app).values()} == {"127.0.0.1"}
    before = row_counts(app)
    refused = login(tool_server.url, lms)
    assert refused.status_code == 429
    assert "Too many launches" in refused.text and "wait 10 minutes" in refused.text
    assert "127.0.0.1" not in refused.text  # the page does not echo the address
    # a made-up X-Forwarded-For does not help: no proxy is trusted
    spoofed = login(tool_server.url, lms, headers={"X-Forwarded-For": "203.0.113.9"})
    assert spoofed.status_code == 429
    assert row_counts(app) == before  # refused logins write nothing
    # another platform's logins are counted apart
    assert login(tool_server.url, other, client_id="other-client").status_code == 302
    # a real launch from the capped address is refused too, readably
    page = launch(Browser(), lms, "u-lea", resource_link=lms.placement().resource_link_id)
    assert page.status_code == 429 and "Too many launches" in page.text
    # once the window has passed, logins are accepted again
    age(
        app,
        OidcState,
        OidcState.state,
        list(states(app)),
        created_at=utcnow() - timedelta(seconds=cap.oidc_login_window + 1),
    )
    page = launch(Browser(), lms, "u-lea", resource_link=lms.placement().resource_link_id)
    assert page.status_code == 200 and "Lea Learner" in page.text


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(app, lms, tool_server) -> None:
    base = app.config["COMMONS_SETTINGS"]
    settings = Settings(
        env="testing",
        database_url=base.database_url,
        secret_key=base.secret_key,
        tool_base_url=base.tool_base_url,
        sandbox_enabled=False,
        oidc_login_limit=2,
        trusted_proxies=1,
    )
    proxied = create_app(settings=settings)
    client = proxied.test_client()

    def start(address: str):
        return client.get(
            "/lti/login",
            query_string={
                "iss": lms.issuer,
                "client_id": CLIENT_ID,
                "login_hint": "x",
                "target_link_uri": base.tool_base_url + "/lti/launch",
            },
            headers={"X-Forwarded-For": address},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy
        )

    first, second = "198.51.100.7", "198.51.100.8"
    assert [start(first).status_code for _ in range(2)] == [302, 302]
    assert start(first).status_code == 429
    assert start(second).status_code == 302  # another client behind the same proxy
    assert sorted({o.client_ip for o in states(app).values()}) == sorted({first, second})
