"""Refused launches: each gets a 4xx with a readable message and writes nothing.

Every case goes through the real flow (platform launch page → tool login → platform /auth) and then
posts a doctored or replayed id_token to the tool; the row counts of every table are compared before
and after that post.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import row_counts
from tests.support.browser import Browser, Form
from tests.support.lti import reach_auth_form

C = "https://purl.imsglobal.org/spec/lti/claim/"


def _other_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@dataclass
class Case:
    name: str
    hook: Callable | None = None  # claims hook for tamper_next_launch
    sign: dict | None = None  # sign options for tamper_next_launch
    edit: Callable[[Form, object], dict] | None = None  # change the posted fields
    fresh_browser: bool = False  # post from a browser that did not start the login
    params: dict | None = None
    expect: tuple[int, ...] = (400, 403, 413)
    text: str = ""


def _set(key, value):
    def hook(claims):
        claims[key] = value

    return hook


def _drop(*keys):
    def hook(claims):
        for k in keys:
            claims.pop(k, None)

    return hook


def _drop_in(claim, key):
    def hook(claims):
        claims.get(claim, {}).pop(key, None)

    return hook


def _flip_signature(form: Form, _lms) -> dict:
    h, p, s = form.fields["id_token"].split(".")
    s = ("A" if s[0] != "A" else "B") + s[1:]
    return {"id_token": f"{h}.{p}.{s}"}


def _tamper_payload(form: Form, _lms) -> dict:
    h, p, s = form.fields["id_token"].split(".")
    body = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    body[C + "roles"] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]
    return {"id_token": f"{h}.{_b64(body)}.{s}"}


def _malformed_json(form: Form, _lms) -> dict:
    h, _p, s = form.fields["id_token"].split(".")
    garbage = base64.urlsafe_b64encode(b"{not json").rstrip(b"=").decode()
    return {"id_token": f"{h}.{garbage}.{s}"}


def _two_parts(form: Form, _lms) -> dict:
    return {"id_token": ".".join(form.fields["id_token"].split(".")[:2])}


def _oversized(form: Form, _lms) -> dict:
    return {"id_token": form.fields["id_token"] + "A" * 70_000}


HOUR = 3600
CASES = [
    Case("bad signature", edit=_flip_signature),
    Case("payload changed after signing", edit=_tamper_payload),
    Case("unknown kid", sign={"kid": "no-such-key"}),
    Case("no kid", sign={"kid": ""}, text="kid"),
    Case("key from another platform", sign={"key_pem": _other_key()}),
    Case("alg none", sign={"alg": "none"}, text="algorithm"),
    Case("HS256 signed with the public key", sign={"alg": "HS256"}, text="algorithm"),
    Case("expired", hook=_set("exp", int(time.time()) - HOUR)),
    Case("issued in the future", hook=_set("iat", int(time.time()) + HOUR)),
    Case("missing aud", hook=_drop("aud")),
    Case("other aud", hook=_set("aud", "someone-else")),
    Case("azp mismatch", hook=lambda c: c.update(aud=[c["aud"], "x"], azp="x")),
    Case("unknown issuer", hook=_set("iss", "https://evil.example")),
    Case("unknown deployment", hook=_set(C + "deployment_id", "dep-unknown")),
    Case("missing message type", hook=_drop(C + "message_type")),
    Case(
        "wrong message type for the endpoint",
        hook=_set(C + "message_type", "LtiSubmissionReviewRequest"),
    ),
    Case("missing version", hook=_drop(C + "version")),
    Case("wrong version", hook=_set(C + "version", "1.1")),
    Case("missing roles", hook=_drop(C + "roles")),
    Case("roles not a list", hook=_set(C + "roles", "Instructor")),
    Case("missing resource link id", hook=_drop_in(C + "resource_link", "id")),
    Case("missing sub", hook=_drop("sub")),
    Case("missing nonce", hook=_drop("nonce")),
    Case("nonce of another login", hook=_set("nonce", "nc-not-ours")),
    Case("missing context", hook=_drop(C + "context")),
    Case("wrong target_link_uri", hook=_set(C + "target_link_uri", "https://evil.example/x")),
    Case("missing exp", hook=_drop("exp")),
    Case("malformed JSON", edit=_malformed_json, text="decoded"),
    Case("not a JWT", edit=_two_parts),
    Case("oversized token", edit=_oversized, expect=(413,)),
    Case("missing id_token", edit=lambda f, _l: {"id_token": ""}),
    Case("missing state", edit=lambda f, _l: {"state": ""}),
    Case("unknown state", edit=lambda f, _l: {"state": "st-forged"}),
    Case("state not bound to this browser", fresh_browser=True, text="new window"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_launch_writes_nothing(app, lms, case: Case) -> None:
    browser = Browser()
    if case.hook or case.sign:
        lms.platform.tamper_next_launch(case.hook, **(case.sign or {}))
    form = reach_auth_form(browser, lms, **(case.params or {}))
    extra = case.edit(form, lms) if case.edit else {}
    poster = Browser() if case.fresh_browser else browser
    before = row_counts(app)
    response = poster.submit(form, form.action, extra=extra)
    assert response.status_code in case.expect, (
        case.name,
        response.status_code,
        response.text[:400],
    )
    assert "<h1>" in response.text and "Traceback" not in response.text
    if case.text:
        assert case.text in response.text
    assert row_counts(app) == before


def test_replayed_id_token_is_refused(app, lms) -> None:
    browser = Browser()
    form = reach_auth_form(browser, lms)
    first = browser.submit(form, form.action)
    assert first.status_code == 200 and "Lea Learner" in first.text
    before = row_counts(app)
    again = browser.submit(form, form.action)
    assert again.status_code == 403 and "already used" in again.text
    assert row_counts(app) == before


def test_id_token_replayed_into_another_login_is_refused(app, lms) -> None:
    """Nonce reuse: a used id_token presented with a fresh login's state."""
    browser = Browser()
    old = reach_auth_form(browser, lms)
    assert browser.submit(old, old.action).status_code == 200
    new = reach_auth_form(browser, lms)
    before = row_counts(app)
    r = browser.submit(new, new.action, extra={"id_token": old.fields["id_token"]})
    assert r.status_code == 403 and "nonce" in r.text
    assert row_counts(app) == before


def test_unknown_client_and_issuer_at_login(app, lms, tool_server) -> None:
    b = Browser()
    before = row_counts(app)
    r = b.http.post(
        tool_server.url + "/lti/login",
        data={
            "iss": lms.issuer,
            "login_hint": "x",
            "client_id": "unknown",
            "target_link_uri": tool_server.url + "/lti/launch",
        },
        timeout=10,
        allow_redirects=False,
    )
    assert r.status_code == 403 and "not registered" in r.text
    r = b.http.get(
        tool_server.url + "/lti/login",
        params={
            "iss": "https://nobody.example",
            "login_hint": "x",
            "target_link_uri": tool_server.url + "/lti/launch",
        },
        timeout=10,
        allow_redirects=False,
    )
    assert r.status_code == 403
    r = b.http.get(
        tool_server.url + "/lti/login",
        params={"iss": lms.issuer, "login_hint": "x", "target_link_uri": "https://evil.example/"},
        timeout=10,
        allow_redirects=False,
    )
    assert r.status_code == 400 and "not this tool" in r.text
    r = b.http.get(
        tool_server.url + "/lti/login",
        params={"iss": lms.issuer},
        timeout=10,
        allow_redirects=False,
    )
    assert r.status_code == 400 and "login_hint" in r.text
    assert row_counts(app) == before


def test_launch_with_rotated_platform_key_still_verifies(app, lms) -> None:
    """An unknown kid makes the tool refetch the platform's key set once (key rollover)."""
    browser = Browser()
    first = browser.get(lms.launch_url("u-lea", resource_link=lms.placement().resource_link_id))
    assert browser.autosubmit(first).status_code == 200
    lms.platform.rotate_key()
    second = Browser()
    page = second.get(lms.launch_url("u-lea", resource_link=lms.placement().resource_link_id))
    assert second.autosubmit(page).status_code == 200
