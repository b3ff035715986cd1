"""The guarded HTTP client for URLs someone else chose (plugin/netguard.py), on its own and as
dynamic registration uses it: private addresses refused before any byte is sent, a total deadline
that a trickling server cannot stretch, a size cap, and refusals that never repeat the remote's
text. Every peer is a real server on a loopback port."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from flask import Flask, jsonify
from sqlalchemy import select

from plugin import netguard
from plugin.db import new_session
from plugin.lti import invites, registration
from plugin.lti.errors import RegistrationError
from plugin.lti.models import Platform
from plugin.netguard import FetchError, Limits
from tests.conftest import row_counts
from tests.support.browser import Browser
from tests.support.servers import LiveServer, RawServer

MARKER = "SECRET-INTERNAL-MARKER-7f3a"
LOOPBACK = Limits(deadline=5, max_bytes=64 * 1024, allow_private_hosts=True)


@pytest.fixture
def raw_servers() -> Iterator[list[RawServer]]:
    made: list[RawServer] = []
    yield made
    for server in made:
        server.stop()


def serve(made: list[RawServer], handler) -> RawServer:
    server = RawServer(handler)
    made.append(server)
    return server


def trickle(data: bytes, head: bytes = b"", interval: float = 1.0):
    """A peer that reads the request, sends ``head`` at once, then ``data`` one byte per
    ``interval`` seconds."""

    def handler(server: RawServer, conn) -> None:
        server.read_request(conn)
        conn.sendall(head)
        for i in range(len(data)):
            if server.stopped.is_set():
                return
            conn.sendall(data[i : i + 1])
            time.sleep(interval)

    return handler


def answer(head: bytes, body: bytes):
    def handler(server: RawServer, conn) -> None:
        server.read_request(conn)
        conn.sendall(head + b"\r\n\r\n" + body)

    return handler


def never_called(server: RawServer, conn) -> None:
    server.read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")


@pytest.fixture
def invite_url(app) -> str:
    with new_session(app) as s:
        _, secret = invites.create_invite(s)
        s.commit()
    return invites.invite_url(app.config["COMMONS_SETTINGS"], secret)


@pytest.fixture
def private_hosts_refused(app) -> Iterator[None]:
    settings = app.config["COMMONS_SETTINGS"]
    settings.allow_private_hosts = False
    yield
    settings.allow_private_hosts = None


# --- the address guard ------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_loopback_is_refused_before_any_byte_is_sent(raw_servers, host) -> None:
    server = serve(raw_servers, never_called)
    url = f"http://{host}:{server.port}/config"
    with pytest.raises(FetchError) as refused:
        netguard.fetch("GET", url, limits=Limits(allow_private_hosts=False))
    assert refused.value.reason in ("private", "dns")
    time.sleep(0.3)  # a connection, had one been made, would have been accepted by now
    assert (server.accepted, server.received) == (0, 0)
    # the same server is reachable when private hosts are allowed (the check is the only change)
    if host == "127.0.0.1":
        fetched = netguard.fetch("GET", url, limits=LOOPBACK)
        assert (fetched.status, fetched.body, server.accepted) == (200, b"{}", 1)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address under test, nothing binds to it
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
    ],
)
def test_which_addresses_are_public(address, public) -> None:
    assert netguard.is_public_address(address) is public


def test_registration_fetch_to_loopback_is_refused_when_private_hosts_are(
    app, raw_servers, invite_url, private_hosts_refused
) -> None:
    server = serve(raw_servers, never_called)
    counts = row_counts(app)
    page = Browser().get(
        invite_url, params={"openid_configuration": server.url + "/.well-known/openid"}
    )
    assert page.status_code == 400 and "private or local address" in page.text
    time.sleep(0.3)
    assert (server.accepted, server.received) == (0, 0)
    assert row_counts(app) == counts


def test_bad_urls_are_refused() -> None:
    for url in ("file:///etc/passwd", "ftp://x/y", "http://", "http://host:99999/x"):
        with pytest.raises(FetchError, match="absolute http"):
            netguard.fetch("GET", url, limits=LOOPBACK)


# --- the total deadline -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "data"),
    [
        (b"", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n", b"[" + b" " * 58 + b"]"),
    ],
    ids=["trickled-headers", "trickled-body"],
)
def test_a_trickling_server_is_cut_off_at_the_deadline(raw_servers, head, data) -> None:
    server = serve(raw_servers, trickle(data, head))
    limits = Limits(deadline=1.5, allow_private_hosts=True)
    started = time.monotonic()
    with pytest.raises(FetchError, match="too slow") as refused:
        netguard.fetch("GET", server.url + "/x", limits=limits)
    elapsed = time.monotonic() - started
    assert refused.value.reason == "slow"
    assert 1.4 < elapsed < 2.5, elapsed  # a per-read timeout would have waited ~60 s


def test_registration_configuration_fetch_has_a_total_deadline(raw_servers) -> None:
    body = json.dumps({"issuer": "x" * 40}).encode()
    server = serve(raw_servers, trickle(b"HTTP/1.1 200 OK\r\n\r\n" + body))
    limits = Limits(deadline=1.5, max_bytes=10_000, allow_private_hosts=True)
    started = time.monotonic()
    with pytest.raises(RegistrationError, match="too slow"):
        registration.fetch_openid_configuration(server.url + "/.well-known/openid", limits)
    assert time.monotonic() - started < 2.5


# --- the size cap -----------------------------------------------------------------------------


def test_oversized_answers_are_refused(raw_servers) -> None:
    declared = serve(raw_servers, answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000", b"{" * 100))
    undeclared = serve(raw_servers, answer(b"HTTP/1.1 200 OK\r\nConnection: close", b" " * 200_000))
    limits = Limits(deadline=5, max_bytes=100_000, allow_private_hosts=True)
    for server in (declared, undeclared):
        with pytest.raises(FetchError, match="larger than 97 KB") as refused:
            netguard.fetch("GET", server.url + "/x", limits=limits)
        assert refused.value.reason == "large"


def test_an_oversized_platform_configuration_is_refused(app, raw_servers, invite_url) -> None:
    big = b"{" + b" " * (registration.FETCH_MAX_BYTES + 10) + b"}"
    server = serve(raw_servers, answer(b"HTTP/1.1 200 OK\r\nConnection: close", big))
    counts = row_counts(app)
    page = Browser().get(invite_url, params={"openid_configuration": server.url + "/c"})
    assert page.status_code == 400 and "too large" in page.text
    assert row_counts(app) == counts


# --- never repeating what the remote said -----------------------------------------------------


@pytest.fixture
def chatty_platform() -> Iterator[LiveServer]:
    """A platform whose configuration is fine but whose other answers are errors full of text."""
    server = LiveServer()
    app = Flask("chatty")

    @app.get("/broken/.well-known/openid-configuration")
    def broken():
        return f"<h1>{MARKER}</h1> stack trace: {MARKER}", f"500 {MARKER}"

    @app.get("/notjson")
    def not_json():
        return f"{{{MARKER}", 200, {"Content-Type": "application/json"}

    @app.get("/.well-known/openid-configuration")
    def configuration():
        return jsonify(
            {
                "issuer": server.url,
                "authorization_endpoint": server.url + "/auth",
                "token_endpoint": server.url + "/token",
                "jwks_uri": server.url + "/jwks",
                "registration_endpoint": server.url + "/register",
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "chatty"
                },
            }
        )

    @app.post("/register")
    def register():
        return jsonify(error=MARKER, error_description=f"internal detail {MARKER}"), 400

    server.start(app)
    yield server
    server.stop()


def test_remote_error_text_is_never_echoed(app, chatty_platform, invite_url) -> None:
    counts = row_counts(app)
    b = Browser()
    page = b.get(
        invite_url,
        params={
            "openid_configuration": chatty_platform.url + "/broken/.well-known/openid-configuration"
        },
    )
    assert page.status_code == 400 and "answered 500 Internal Server Error" in page.text
    assert MARKER not in page.text
    page = b.get(invite_url, params={"openid_configuration": chatty_platform.url + "/notjson"})
    assert page.status_code == 400 and "is not JSON" in page.text and MARKER not in page.text

    # the configuration is fine, the registration endpoint refuses with a body full of detail
    config_url = chatty_platform.url + "/.well-known/openid-configuration"
    confirm = b.get(invite_url, params={"openid_configuration": config_url})
    assert confirm.status_code == 200
    refused = b.http.post(
        invite_url, data={"openid_configuration": config_url, "registration_token": "t"}, timeout=30
    )
    assert refused.status_code == 400 and "answered 400 Bad Request" in refused.text
    assert MARKER not in refused.text
    assert row_counts(app) == counts
    with new_session(app) as s:
        assert s.scalars(select(Platform)).all() == []


def test_one_setting_decides_private_hosts_and_open_registration_is_off_by_default(
    tmp_path,
) -> None:
    from plugin.config import Settings

    def settings(**env: str) -> Settings:
        return Settings.from_env(tmp_path, env)

    assert settings().private_hosts_allowed is True  # development: the sandbox is on loopback
    assert settings(COMMONS_ENV="production").private_hosts_allowed is False
    assert settings(ALLOW_PRIVATE_HOSTS="0").private_hosts_allowed is False
    assert settings(COMMONS_ENV="production", ALLOW_PRIVATE_HOSTS="1").private_hosts_allowed
    assert Settings(env="production").private_hosts_allowed is False
    assert settings().open_registration is False
    assert settings(OPEN_REGISTRATION="1").open_registration is True
