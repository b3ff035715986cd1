"""Launch rules no other test guards: the tool's own address (target_link_uri) is parsed, not
prefix-matched; an OIDC state past its maximum age is refused; claims with characters a database
cannot store are cleaned, never a 500."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from plugin.db import new_session, utcnow
from plugin.lti import toolconf
from plugin.lti.models import Context, LaunchSession, OidcState, Placement, Platform, User
from tests.conftest import row_counts
from tests.support.browser import Browser
from tests.support.lti import launch, reach_auth_form
from tests.support.servers import RawServer

C = "https://purl.imsglobal.org/spec/lti/claim/"


def foreign_targets(base: str) -> list[str]:
    """Addresses that look like the tool's (``base``, e.g. http://127.0.0.1:PORT) but are not."""
    scheme, rest = base.split("://", 1)
    host, port = rest.rsplit(":", 1)
    other_port = str(int(port) + 1 if int(port) < 65535 else 1024)
    other_scheme = "https" if scheme == "http" else "http"
    return [
        base + "@evil.example/",
        base + ".evil.example/",
        base + "@evil.example/lti/launch",
        f"{scheme}://user:pw@{host}:{port}/lti/launch",  # user info
        f"{scheme}://{host}:{other_port}/lti/launch",  # another port
        f"{other_scheme}://{host}:{port}/lti/launch",  # another scheme
        f"//{host}:{port}/lti/launch",  # scheme-relative
        "//evil.example/lti/launch",
        base + "\\@evil.example/",  # backslashes
        f"{scheme}:\\\\evil.example\\lti\\launch",
        base + "%2F@evil.example/",  # percent-encoded slash
        base + "%2f.evil.example/lti/launch",
        base + "/lti/%2e%2e/%2e%2e/evil",  # encoded dot segments
        base + "/lti/../launch",
        base + ".",
        base + " /lti/launch",
        "https://evil.example/" + base,
        "javascript:alert(1)//" + base,
    ]


def test_foreign_target_link_uri_refused_at_login(app, lms, tool_server) -> None:
    before = row_counts(app)
    for target in foreign_targets(tool_server.url):
        r = Browser().http.post(
            tool_server.url + "/lti/login",
            data={"iss": lms.issuer, "login_hint": "u-lea", "client_id": "lc-client-1"}
            | {"target_link_uri": target},
            timeout=10,
            allow_redirects=False,
        )
        assert r.status_code == 400 and "not this tool" in r.text, (target, r.status_code)
    assert row_counts(app) == before
    ok = Browser().http.post(
        tool_server.url + "/lti/login",
        data={
            "iss": lms.issuer,
            "login_hint": "u-lea",
            "client_id": "lc-client-1",
            "target_link_uri": "HTTP" + tool_server.url[4:] + "/lti/launch",
        },
        timeout=10,
        allow_redirects=False,
    )
    assert ok.status_code == 302  # a scheme in capitals is still the tool's address


@pytest.mark.parametrize("index", range(len(foreign_targets("http://127.0.0.1:1"))))
def test_foreign_target_link_uri_refused_at_launch(app, lms, tool_server, index) -> None:
    target = foreign_targets(tool_server.url)[index]

    def retarget(claims):
        claims[C + "target_link_uri"] = target

    browser = Browser()
    lms.platform.tamper_next_launch(retarget)
    form = reach_auth_form(browser, lms)
    before = row_counts(app)
    refused = browser.submit(form, form.action)
    assert refused.status_code == 403, (target, refused.status_code, refused.text[:300])
    assert "target_link_uri is not this tool" in refused.text
    assert row_counts(app) == before


@pytest.fixture
def short_state_age(app) -> Iterator[int]:
    """The tool's settings with a 60-second OIDC state lifetime, restored afterwards."""
    original = app.config["COMMONS_SETTINGS"]
    app.config["COMMONS_SETTINGS"] = dataclasses.replace(original, oidc_state_max_age=60)
    try:
        yield 60
    finally:
        app.config["COMMONS_SETTINGS"] = original


def _age_state(app, state: str, seconds: int) -> None:
    with new_session(app) as s:
        s.execute(
            update(OidcState)
            .where(OidcState.state == state)
            .values(created_at=utcnow() - timedelta(seconds=seconds))
        )
        s.commit()


def test_state_older_than_its_maximum_age_is_refused(app, lms, short_state_age) -> None:
    browser = Browser()
    form = reach_auth_form(browser, lms)
    _age_state(app, form.fields["state"], short_state_age + 5)
    before = row_counts(app)
    late = browser.submit(form, form.action)
    assert late.status_code == 403 and "took too long" in late.text
    assert row_counts(app) == before
    with new_session(app) as s:
        assert s.get(OidcState, form.fields["state"]).used_at is None

    # Younger than the (setting's) maximum age: the same flow succeeds.
    browser = Browser()
    form = reach_auth_form(browser, lms)
    _age_state(app, form.fields["state"], short_state_age - 15)
    assert browser.submit(form, form.action).status_code == 200


def test_claims_a_database_cannot_store_are_cleaned(app, lms) -> None:
    """NUL (PostgreSQL text cannot hold it) and lone surrogates (no encoding can write them)
    in names, titles and any other claim: the launch succeeds with the cleaned text."""

    def poison(claims):
        claims["name"] = "Lea\x00 Learner"
        claims["given_name"] = "Lea\x00"
        claims["family_name"] = "Lear\ud800ner"
        claims["email"] = "lea\x00@example.edu"
        claims[C + "context"]["title"] = "Leadership\x00 Foundations"
        claims[C + "context"]["label"] = "LEAD\x00-101"
        claims[C + "resource_link"]["title"] = "Team\x00 talk\udfff"
        claims[C + "custom"] = {"note\x00": "a\x00b", "deep": ["\ud800", {"k": "\x00"}]}
        claims["https://example.edu/claim\x00"] = "x\x00y"

    lms.platform.tamper_next_launch(poison)
    page = launch(Browser(), lms, "u-lea", resource_link=lms.placement().resource_link_id)
    assert page.status_code == 200, page.text[:400]
    assert "Lea Learner" in page.text
    with new_session(app) as s:
        user = s.scalars(select(User).where(User.sub == "u-lea")).one()
        assert (user.name, user.given_name, user.family_name, user.email) == (
            "Lea Learner",
            "Lea",
            "Lear\ufffdner",
            "lea@example.edu",
        )
        context = s.scalars(select(Context)).one()
        assert (context.title, context.label) == ("Leadership Foundations", "LEAD-101")
        assert s.scalars(select(Placement)).one().title == "Team talk\ufffd"
        claims = s.scalars(select(LaunchSession)).one().claims
        text = json.dumps(claims, ensure_ascii=False)
        assert "\x00" not in text and "\ud800" not in text and "\udfff" not in text
        assert claims[C + "custom"] == {"note": "ab", "deep": ["\ufffd", {"k": ""}]}


@pytest.mark.parametrize("claim", ["sub", "context", "resource_link"])
def test_ids_longer_than_the_spec_allows_are_refused(app, lms, claim) -> None:
    """sub, context id and resource link id are at most 255 characters (LTI 1.3 Core)."""
    long_id = "x" * 256

    def stretch(claims):
        if claim == "sub":
            claims["sub"] = long_id
        else:
            claims[C + claim]["id"] = long_id

    browser = Browser()
    lms.platform.tamper_next_launch(stretch)
    form = reach_auth_form(browser, lms)
    before = row_counts(app)
    refused = browser.submit(form, form.action)
    assert refused.status_code == 400, refused.text[:300]
    assert "255" in refused.text and "Traceback" not in refused.text
    assert row_counts(app) == before


def test_nul_in_login_or_launch_parameters_is_refused(app, lms, tool_server) -> None:
    """A NUL in any OIDC login or launch parameter: a readable 400, nothing looked up or written
    (PostgreSQL refused to even compare such text: a 500 before)."""
    target = tool_server.url + "/lti/launch"
    login = {"iss": lms.issuer, "login_hint": "u-lea", "client_id": "lc-client-1"}
    before = row_counts(app)
    for data in (
        {**login, "iss": lms.issuer + "\x00", "target_link_uri": target},
        {**login, "client_id": "lc-client-1\x00", "target_link_uri": target},
        {**login, "login_hint": "u-lea\x00", "target_link_uri": target},
        {**login, "target_link_uri": target, "x\x00": "1"},
    ):
        for send in ("data", "params"):
            r = Browser().http.request(
                "POST" if send == "data" else "GET",
                tool_server.url + "/lti/login",
                **{send: data},
                timeout=10,
                allow_redirects=False,
            )
            assert r.status_code == 400 and "cannot contain the NUL character" in r.text, data
    for data in ({"id_token": "a.b.c", "state": "st-\x00"}, {"state": "st-\x00"}):
        r = Browser().http.post(tool_server.url + "/lti/launch", data=data, timeout=10)
        assert r.status_code == 400 and "cannot contain the NUL character" in r.text
    assert row_counts(app) == before


def _key_set_server(body: bytes, *, trickle: bool = False) -> RawServer:
    """A platform key set URL that answers ``body`` (200, JSON), or one byte a second."""

    def answer(server: RawServer, conn) -> None:
        server.read_request(conn)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body))
        if not trickle:
            conn.sendall(body)
            return
        for byte in body:
            conn.sendall(bytes([byte]))
            time.sleep(1)

    return RawServer(answer)


@pytest.mark.parametrize("kind", ["nested", "trickle"])
def test_a_key_set_the_tool_cannot_read_refuses_the_launch(app, lms, kind, monkeypatch) -> None:
    """The platform's key set URL answers JSON nested beyond Python's parser (a RecursionError and
    a 500 before) or trickles its answer (a per-read timeout never fired): the launch is refused
    with a readable 400 within the key set fetch's deadline, and nothing is written."""
    server = (
        _key_set_server(b"[" * 50_000)
        if kind == "nested"
        else _key_set_server(b'{"keys": []}' * 10, trickle=True)
    )
    monkeypatch.setattr(
        toolconf, "JWKS_LIMITS", dataclasses.replace(toolconf.JWKS_LIMITS, deadline=2)
    )
    try:
        with new_session(app) as s:
            s.execute(update(Platform).values(key_set_url=server.url + "/jwks"))
            s.commit()
        browser = Browser()
        form = reach_auth_form(browser, lms)
        before = row_counts(app)
        started = time.monotonic()
        refused = browser.submit(form, form.action)
        assert time.monotonic() - started < 6
        assert refused.status_code == 400 and "keys could not be read" in refused.text
        assert row_counts(app) == before
    finally:
        server.stop()
