"""Tests of the sandbox LTI 1.3 platform, over real HTTP on loopback ports.

The platform (its Flask blueprint on an app of its own) and a hand-rolled minimal tool (a
bare werkzeug app with its own RSA key and JWKS) each run on a werkzeug server in a
thread; every launch goes through the real OIDC login -> authorize -> form_post flow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from jwt.algorithms import RSAAlgorithm
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox.client import drive_launch, extract_form
from sandbox.platform import SandboxPlatform
from sandbox.platform.demo import (
    DEMO_COURSE_ID,
    DEMO_INSTRUCTOR_ID,
    DEMO_LEARNER_ID,
    DEMO_MENTOR_ID,
)
from sandbox.platform.model import PlatformError
from sandbox.platform.vocabulary import (
    CLAIM_AGS,
    CLAIM_CONTEXT,
    CLAIM_CUSTOM,
    CLAIM_DEPLOYMENT_ID,
    CLAIM_DL_CONTENT_ITEMS,
    CLAIM_DL_DATA,
    CLAIM_DL_SETTINGS,
    CLAIM_GROUPS,
    CLAIM_LAUNCH_PRESENTATION,
    CLAIM_MESSAGE_TYPE,
    CLAIM_NRPS,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLE_SCOPE_MENTOR,
    CLAIM_ROLES,
    CLAIM_TARGET_LINK_URI,
    CLAIM_TOOL_PLATFORM,
    CLAIM_VERSION,
    CLIENT_ASSERTION_TYPE,
    MEDIA_LINEITEM,
    MEDIA_MEMBERSHIPS,
    MEDIA_RESULTS,
    MEDIA_SCORE,
    PLATFORM_CONFIGURATION,
    ROLE_LEARNER,
    SCOPE_GROUPS,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    TOOL_CONFIGURATION,
)
from sandbox.web import make_platform_blueprint

CLIENT_ID = "learning-commons-test"
DEPLOYMENT_ID = "deployment-1"
TOOL_KID = "tool-key-1"
TIMEOUT = 10


# --------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------


class _Served:
    """A WSGI callable on 127.0.0.1:<ephemeral port>, served from a daemon thread."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=TIMEOUT)


def _new_rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class MiniTool:
    """Just enough of an LTI tool: OIDC login, launch receiver, JWKS, registration page."""

    def __init__(self, key_pem: bytes, kid: str) -> None:
        self.key_pem = key_pem
        self.kid = kid
        self.base_url = ""
        self.platform: SandboxPlatform | None = None
        self.pending: dict[str, str] = {}  # state -> nonce
        self.launches: list[dict[str, str]] = []
        self.registration_visits: list[dict[str, str]] = []

    def url(self, path: str) -> str:
        return self.base_url + path

    def jwks(self) -> dict[str, Any]:
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)  # type: ignore[arg-type]
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": self.kid,
                    "alg": "RS256",
                    "use": "sig",
                    "n": jwk["n"],
                    "e": jwk["e"],
                }
            ]
        }

    def sign(self, claims: dict[str, Any], *, key_pem: bytes | None = None) -> str:
        return jwt.encode(
            claims, key_pem or self.key_pem, algorithm="RS256", headers={"kid": self.kid}
        )

    @Request.application
    def __call__(self, request: Request) -> Response:
        assert self.platform is not None
        if request.path == "/login":
            params = request.values
            if params.get("iss") != self.platform.issuer:
                return Response("unknown issuer", status=400)
            state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
            self.pending[state] = nonce
            auth = {
                "scope": "openid",
                "response_type": "id_token",
                "response_mode": "form_post",
                "prompt": "none",
                "client_id": params["client_id"],
                "redirect_uri": self.url("/launch"),
                "login_hint": params["login_hint"],
                "lti_message_hint": params["lti_message_hint"],
                "state": state,
                "nonce": nonce,
            }
            return redirect(self.platform.auth_url + "?" + urlencode(auth))
        if request.path == "/launch" and request.method == "POST":
            state = request.form.get("state", "")
            nonce = self.pending.pop(state, None)
            if nonce is None:
                return Response("unknown state", status=400)
            self.launches.append(
                {"id_token": request.form["id_token"], "state": state, "nonce": nonce}
            )
            return Response("launched", status=200)
        if request.path == "/jwks":
            return Response(json.dumps(self.jwks()), mimetype="application/json")
        if request.path == "/register":
            self.registration_visits.append(request.args.to_dict())
            return Response("registration page", status=200)
        return Response("not found", status=404)


@pytest.fixture(scope="module")
def tool_key_pem() -> bytes:
    return _new_rsa_pem()


@pytest.fixture
def tool(tool_key_pem: bytes) -> Iterator[MiniTool]:
    served = _Served()
    mini = MiniTool(tool_key_pem, TOOL_KID)
    mini.base_url = served.base_url
    served.app = mini
    yield mini
    served.close()


@pytest.fixture
def lms(tool: MiniTool) -> Iterator[SandboxPlatform]:
    """The demo platform served by its blueprint, with the mini tool registered."""
    served = _Served()
    platform = SandboxPlatform.demo(served.base_url + "/sandbox")
    app = Flask("sandbox-lms-under-test")
    app.register_blueprint(make_platform_blueprint(platform))
    served.app = app
    platform.register_tool(
        CLIENT_ID,
        [DEPLOYMENT_ID],
        tool.url("/login"),
        tool.url("/launch"),
        tool.url("/jwks"),
        deep_link_url=tool.url("/deep_link"),
        custom={"learner": "$Person.name.given", "course": "$Context.title", "plain": "x"},
    )
    tool.platform = platform
    yield platform
    served.close()


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def decode_id_token(lms: SandboxPlatform, id_token: str) -> dict[str, Any]:
    """Verify like a tool would: platform JWKS over HTTP, RS256, aud and iss checks."""
    signing_key = jwt.PyJWKClient(lms.jwks_url).get_signing_key_from_jwt(id_token)
    return jwt.decode(
        id_token,
        signing_key.key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=lms.issuer,
        options={"require": ["exp", "iat", "nonce", "sub"]},
    )


def http_launch(lms: SandboxPlatform, tool: MiniTool, user: str, **params: str) -> dict[str, Any]:
    """Click "Launch" in the sandbox LMS and return the verified claims the tool got."""
    session = requests.Session()
    page = session.get(
        lms.url("/launch"),
        params={"client_id": CLIENT_ID, "context": DEMO_COURSE_ID, "user": user, **params},
        timeout=TIMEOUT,
    )
    assert page.status_code == 200, page.text
    form = extract_form(page.text)
    assert form is not None
    action, method, fields = form
    assert (action, method) == (tool.url("/login"), "post")
    before = len(tool.launches)
    answer = drive_launch(session, lms, fields)
    assert answer.status_code == 200, answer.text
    assert answer.text == "launched"
    assert len(tool.launches) == before + 1
    launch = tool.launches[-1]
    claims = decode_id_token(lms, launch["id_token"])
    assert claims["nonce"] == launch["nonce"]
    return claims


def client_assertion(
    lms: SandboxPlatform,
    tool: MiniTool,
    *,
    aud: str | None = None,
    jti: str | None = None,
    key_pem: bytes | None = None,
) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": aud or lms.token_url,
        "iat": now,
        "exp": now + 60,
        "jti": jti or str(uuid.uuid4()),
    }
    return tool.sign(claims, key_pem=key_pem)


def token_request(lms: SandboxPlatform, assertion: str, scopes: list[str]) -> requests.Response:
    return requests.post(
        lms.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": " ".join(scopes),
        },
        timeout=TIMEOUT,
    )


def bearer(lms: SandboxPlatform, tool: MiniTool, scopes: list[str]) -> dict[str, str]:
    resp = token_request(lms, client_assertion(lms, tool), scopes)
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["access_token"]}


def deep_link_response(
    tool: MiniTool, settings_claims: dict[str, Any], items: list[dict[str, Any]], **overrides: Any
) -> str:
    settings = settings_claims[CLAIM_DL_SETTINGS]
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "aud": [settings_claims["iss"]],
        "iat": now,
        "exp": now + 300,
        "nonce": secrets.token_urlsafe(12),
        CLAIM_MESSAGE_TYPE: "LtiDeepLinkingResponse",
        CLAIM_VERSION: "1.3.0",
        CLAIM_DEPLOYMENT_ID: settings_claims[CLAIM_DEPLOYMENT_ID],
        CLAIM_DL_DATA: settings["data"],
        CLAIM_DL_CONTENT_ITEMS: items,
    }
    claims.update(overrides)
    return tool.sign(claims)


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


# --------------------------------------------------------------------------------------
# LTI core launch
# --------------------------------------------------------------------------------------


def test_resource_link_launch_carries_spec_claims(lms: SandboxPlatform, tool: MiniTool) -> None:
    claims = http_launch(lms, tool, DEMO_LEARNER_ID)

    assert claims["iss"] == lms.issuer
    assert claims["sub"] == DEMO_LEARNER_ID
    assert claims["aud"] == CLIENT_ID == claims["azp"]
    assert claims["exp"] - claims["iat"] == 300
    assert claims[CLAIM_MESSAGE_TYPE] == "LtiResourceLinkRequest"
    assert claims[CLAIM_VERSION] == "1.3.0"
    assert claims[CLAIM_DEPLOYMENT_ID] == DEPLOYMENT_ID
    assert claims[CLAIM_TARGET_LINK_URI] == tool.url("/launch")
    assert ROLE_LEARNER in claims[CLAIM_ROLES]
    placement = lms.resource_links(DEMO_COURSE_ID, CLIENT_ID)[0]
    assert claims[CLAIM_RESOURCE_LINK]["id"] == placement.resource_link_id
    assert claims[CLAIM_CONTEXT] == {
        "id": DEMO_COURSE_ID,
        "label": "LEAD-101",
        "title": "Leadership Foundations",
        "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
    }
    assert claims[CLAIM_TOOL_PLATFORM]["product_family_code"] == "sandbox"
    assert claims[CLAIM_LAUNCH_PRESENTATION]["document_target"] == "iframe"
    assert claims[CLAIM_LAUNCH_PRESENTATION]["return_url"].startswith(lms.issuer + "/return")
    assert (claims["name"], claims["email"]) == ("Lea Learner", "lea.learner@example.edu")
    # Substitution variables resolved, literal values untouched.
    assert claims[CLAIM_CUSTOM] == {
        "learner": "Lea",
        "course": "Leadership Foundations",
        "plain": "x",
    }
    nrps = claims[CLAIM_NRPS]
    assert nrps["context_memberships_url"] == lms.memberships_url(DEMO_COURSE_ID)
    assert nrps["service_versions"] == ["2.0"]
    ags = claims[CLAIM_AGS]
    assert set(ags["scope"]) == {
        SCOPE_LINEITEM,
        SCOPE_LINEITEM_READONLY,
        SCOPE_RESULT_READONLY,
        SCOPE_SCORE,
    }
    assert ags["lineitems"] == lms.lineitems_url(DEMO_COURSE_ID)
    assert "lineitem" not in ags  # no line item is bound to the placement yet
    groups = claims[CLAIM_GROUPS]
    assert groups["scope"] == [SCOPE_GROUPS]
    assert groups["service_versions"] == ["1.0"]
    assert groups["context_group_sets_url"] == lms.group_sets_url(DEMO_COURSE_ID)
    assert CLAIM_DL_SETTINGS not in claims


def test_mentor_launch_names_the_mentees(lms: SandboxPlatform, tool: MiniTool) -> None:
    claims = http_launch(lms, tool, DEMO_MENTOR_ID)
    assert claims[CLAIM_ROLE_SCOPE_MENTOR] == [DEMO_LEARNER_ID]


def test_message_hint_is_single_use(lms: SandboxPlatform, tool: MiniTool) -> None:
    params = lms.login_initiation(CLIENT_ID, DEMO_LEARNER_ID, DEMO_COURSE_ID)
    assert params["iss"] == lms.issuer
    assert params["lti_deployment_id"] == DEPLOYMENT_ID
    session = requests.Session()
    login = session.post(tool.url("/login"), data=params, allow_redirects=False, timeout=TIMEOUT)
    assert login.status_code == 302
    auth_url = login.headers["Location"]
    assert auth_url.startswith(lms.auth_url + "?")

    first = session.get(auth_url, timeout=TIMEOUT)
    assert first.status_code == 200
    form = extract_form(first.text)
    assert form is not None
    assert form[0] == tool.url("/launch")
    assert form[1] == "post"
    assert set(form[2]) == {"id_token", "state"}
    assert "frame-ancestors 'self'" in first.headers["Content-Security-Policy"]
    assert session.post(form[0], data=form[2], timeout=TIMEOUT).text == "launched"

    replay = session.get(auth_url, headers={"Accept": "application/json"}, timeout=TIMEOUT)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"scope": "profile"}, "invalid_scope"),
        ({"response_type": "code"}, "unsupported_response_type"),
        ({"response_mode": "query"}, "invalid_request"),
        ({"redirect_uri": "http://127.0.0.1:9/evil"}, "invalid_request"),
        ({"client_id": "someone-else"}, "unauthorized_client"),
        ({"login_hint": "u-amara"}, "login_required"),
        ({"nonce": ""}, "invalid_request"),
        ({"lti_message_hint": "forged"}, "invalid_request"),
        ({"prompt": "login"}, "invalid_request"),
    ],
)
def test_authorize_rejects_invalid_requests(
    lms: SandboxPlatform, tool: MiniTool, changes: dict[str, str], error: str
) -> None:
    params = lms.login_initiation(CLIENT_ID, DEMO_LEARNER_ID, DEMO_COURSE_ID)
    login = requests.post(tool.url("/login"), data=params, allow_redirects=False, timeout=TIMEOUT)
    query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}

    bad = requests.post(
        lms.auth_url,
        data={**query, **changes},
        headers={"Accept": "application/json"},
        timeout=TIMEOUT,
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == error
    # A refused request does not burn the hint: the genuine one still works.
    good = requests.post(lms.auth_url, data=query, timeout=TIMEOUT)
    assert good.status_code == 200
    form = extract_form(good.text)
    assert form is not None and form[0] == tool.url("/launch")


def test_tampered_launch_fails_verification_at_the_tool(
    lms: SandboxPlatform, tool: MiniTool
) -> None:
    def wrong_audience(claims: dict[str, Any]) -> None:
        claims["aud"] = "another-tool"

    lms.tamper_next_launch(wrong_audience)
    with pytest.raises(jwt.InvalidAudienceError):
        http_launch(lms, tool, DEMO_LEARNER_ID)
    delivered = jwt.decode(tool.launches[-1]["id_token"], options={"verify_signature": False})
    assert delivered["aud"] == "another-tool"
    # Only the next launch was affected.
    assert http_launch(lms, tool, DEMO_LEARNER_ID)["aud"] == CLIENT_ID


def test_forgery_helpers_make_the_advertised_bad_tokens(lms: SandboxPlatform) -> None:
    claims = lms.base_claims(CLIENT_ID, DEMO_LEARNER_ID, DEMO_COURSE_ID, "nonce-1")
    public_key = jwt.PyJWKClient(lms.jwks_url).get_signing_key(lms.kid).key

    genuine = lms.make_id_token(claims)
    assert jwt.decode(genuine, public_key, algorithms=["RS256"], audience=CLIENT_ID)["sub"] == (
        DEMO_LEARNER_ID
    )

    other_key = lms.make_id_token(claims, key_pem=_new_rsa_pem())
    assert jwt.get_unverified_header(other_key)["kid"] == lms.kid
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(other_key, public_key, algorithms=["RS256"], audience=CLIENT_ID)

    unsigned = lms.make_id_token(claims, alg="none")
    header, payload, signature = unsigned.split(".")
    assert json.loads(b64url_decode(header))["alg"] == "none"
    assert json.loads(b64url_decode(payload))["sub"] == DEMO_LEARNER_ID
    assert signature == ""

    confused = lms.make_id_token(claims, alg="HS256")
    signing_input, _, mac = confused.rpartition(".")
    expected = hmac.new(lms.public_key_pem, signing_input.encode(), hashlib.sha256).digest()
    assert b64url_decode(mac) == expected

    assert "kid" not in jwt.get_unverified_header(lms.make_id_token(claims, kid=""))


def test_key_rotation_keeps_old_keys_published(lms: SandboxPlatform) -> None:
    old_kid = lms.kid
    new_kid = lms.rotate_key()
    kids = {k["kid"] for k in requests.get(lms.jwks_url, timeout=TIMEOUT).json()["keys"]}
    assert kids == {old_kid, new_kid}
    token = lms.make_id_token(lms.base_claims(CLIENT_ID, DEMO_LEARNER_ID, DEMO_COURSE_ID, "n"))
    assert jwt.get_unverified_header(token)["kid"] == new_kid


def test_a_client_with_its_own_key_is_signed_and_published_apart(
    lms: SandboxPlatform, tool: MiniTool
) -> None:
    platform_kid = lms.kid
    assert lms.jwks_url_for(CLIENT_ID) == lms.jwks_url
    missing = requests.get(lms.url(f"/jwks/{CLIENT_ID}"), timeout=TIMEOUT)
    assert missing.status_code == 404
    with pytest.raises(KeyError):
        lms.use_client_key("no-such-client")

    own_kid = lms.use_client_key(CLIENT_ID)
    own_url = lms.jwks_url_for(CLIENT_ID)
    assert own_url == lms.url(f"/jwks/{CLIENT_ID}") and own_kid != platform_kid
    published = requests.get(own_url, timeout=TIMEOUT).json()["keys"]
    assert [k["kid"] for k in published] == [own_kid]
    platform_kids = {k["kid"] for k in requests.get(lms.jwks_url, timeout=TIMEOUT).json()["keys"]}
    assert platform_kids == {platform_kid}  # the platform's key set does not carry it

    with pytest.raises(jwt.PyJWKClientError):  # the launch no longer verifies with the platform's
        http_launch(lms, tool, DEMO_LEARNER_ID)
    id_token = tool.launches[-1]["id_token"]
    assert jwt.get_unverified_header(id_token)["kid"] == own_kid
    key = jwt.PyJWKClient(own_url).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(id_token, key.key, algorithms=["RS256"], audience=CLIENT_ID)
    assert claims["sub"] == DEMO_LEARNER_ID
    assert lms.client_key(CLIENT_ID)[1] == own_kid


# --------------------------------------------------------------------------------------
# Security framework token endpoint, NRPS and Course Groups
# --------------------------------------------------------------------------------------


def test_token_endpoint_grants_only_allowed_scopes(lms: SandboxPlatform, tool: MiniTool) -> None:
    resp = token_request(
        lms, client_assertion(lms, tool), [SCOPE_NRPS, "https://example.com/scope/everything"]
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == SCOPE_NRPS


def test_token_endpoint_rejects_bad_client_assertions(lms: SandboxPlatform, tool: MiniTool) -> None:
    reused = client_assertion(lms, tool, jti="jti-once")
    assert token_request(lms, reused, [SCOPE_NRPS]).status_code == 200
    replay = token_request(lms, reused, [SCOPE_NRPS])
    assert (replay.status_code, replay.json()["error"]) == (401, "invalid_client")

    wrong_aud = client_assertion(lms, tool, aud="https://elsewhere.example/token")
    assert token_request(lms, wrong_aud, [SCOPE_NRPS]).json()["error"] == "invalid_client"

    forged = client_assertion(lms, tool, key_pem=_new_rsa_pem())
    assert token_request(lms, forged, [SCOPE_NRPS]).status_code == 401

    issuer_as_aud = client_assertion(lms, tool, aud=lms.issuer)
    assert token_request(lms, issuer_as_aud, [SCOPE_NRPS]).status_code == 200

    nothing_allowed = token_request(lms, client_assertion(lms, tool), ["openid"])
    assert nothing_allowed.json()["error"] == "invalid_scope"

    wrong_grant = requests.post(
        lms.token_url,
        data={"grant_type": "password", "username": "x", "password": "y"},
        timeout=TIMEOUT,
    )
    assert wrong_grant.json()["error"] == "unsupported_grant_type"


def test_nrps_pages_through_every_member(lms: SandboxPlatform, tool: MiniTool) -> None:
    headers = bearer(lms, tool, [SCOPE_NRPS])
    url: str | None = lms.memberships_url(DEMO_COURSE_ID)
    members: list[dict[str, Any]] = []
    pages = 0
    while url:
        resp = requests.get(url, headers=headers, timeout=TIMEOUT)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == MEDIA_MEMBERSHIPS
        body = resp.json()
        assert body["context"]["id"] == DEMO_COURSE_ID
        assert len(body["members"]) <= 3
        members.extend(body["members"])
        pages += 1
        url = resp.links.get("next", {}).get("url")

    expected = [p.user_id for p in lms.people(DEMO_COURSE_ID)]
    assert len(expected) == 9
    assert pages == 3
    assert [m["user_id"] for m in members] == expected
    lea = next(m for m in members if m["user_id"] == DEMO_LEARNER_ID)
    assert lea["status"] == "Active"
    assert lea["roles"] == [ROLE_LEARNER]  # context roles only
    assert lea["group_enrollments"] == [{"group_id": "cohort-a"}]
    assert lea["email"] == "lea.learner@example.edu"

    learners = requests.get(
        lms.memberships_url(DEMO_COURSE_ID),
        params={"role": "Learner", "limit": "50"},
        headers=headers,
        timeout=TIMEOUT,
    ).json()["members"]
    assert len(learners) == 6
    assert all(ROLE_LEARNER in m["roles"] for m in learners)


def test_services_require_a_token_with_the_right_scope(
    lms: SandboxPlatform, tool: MiniTool
) -> None:
    anonymous = requests.get(lms.memberships_url(DEMO_COURSE_ID), timeout=TIMEOUT)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')

    headers = bearer(lms, tool, [SCOPE_NRPS])
    groups = requests.get(lms.groups_url(DEMO_COURSE_ID), headers=headers, timeout=TIMEOUT)
    assert (groups.status_code, groups.json()["error"]) == (403, "insufficient_scope")
    lineitems = requests.get(lms.lineitems_url(DEMO_COURSE_ID), headers=headers, timeout=TIMEOUT)
    assert lineitems.status_code == 403

    garbage = {"Authorization": "Bearer not-a-token"}
    assert (
        requests.get(lms.memberships_url(DEMO_COURSE_ID), headers=garbage, timeout=TIMEOUT)
    ).status_code == 401


def test_course_groups_service(lms: SandboxPlatform, tool: MiniTool) -> None:
    headers = bearer(lms, tool, [SCOPE_GROUPS])
    first = requests.get(
        lms.groups_url(DEMO_COURSE_ID), params={"limit": "1"}, headers=headers, timeout=TIMEOUT
    )
    assert first.status_code == 200
    assert first.json()["groups"] == [{"id": "cohort-a", "name": "Cohort A", "set_id": "cohorts"}]
    second = requests.get(first.links["next"]["url"], headers=headers, timeout=TIMEOUT)
    assert [g["name"] for g in second.json()["groups"]] == ["Cohort B"]
    assert "next" not in second.links

    mine = requests.get(
        lms.groups_url(DEMO_COURSE_ID),
        params={"user_id": "u-chen"},
        headers=headers,
        timeout=TIMEOUT,
    ).json()["groups"]
    assert [g["id"] for g in mine] == ["cohort-b"]

    sets = requests.get(lms.group_sets_url(DEMO_COURSE_ID), headers=headers, timeout=TIMEOUT)
    assert sets.json()["sets"] == [{"id": "cohorts", "name": "Cohorts"}]


# --------------------------------------------------------------------------------------
# Assignment and Grade Services
# --------------------------------------------------------------------------------------


def _score(user_id: str, given: float, maximum: float, stamp: str, **extra: Any) -> str:
    return json.dumps(
        {
            "userId": user_id,
            "scoreGiven": given,
            "scoreMaximum": maximum,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": stamp,
            **extra,
        }
    )


def test_ags_line_item_scores_and_results(lms: SandboxPlatform, tool: MiniTool) -> None:
    headers = bearer(lms, tool, [SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT_READONLY])
    placement = lms.resource_links(DEMO_COURSE_ID, CLIENT_ID)[0]
    created = requests.post(
        lms.lineitems_url(DEMO_COURSE_ID),
        data=json.dumps(
            {
                "label": "Reflection journal",
                "scoreMaximum": 20,
                "resourceLinkId": placement.resource_link_id,
                "tag": "reflection",
            }
        ),
        headers={**headers, "Content-Type": MEDIA_LINEITEM},
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    lineitem_url = created.json()["id"]
    assert created.headers["Location"] == lineitem_url

    # The launch of that placement now names its line item.
    assert http_launch(lms, tool, DEMO_LEARNER_ID)[CLAIM_AGS]["lineitem"] == lineitem_url

    listed = requests.get(
        lms.lineitems_url(DEMO_COURSE_ID),
        params={"resource_link_id": placement.resource_link_id},
        headers=headers,
        timeout=TIMEOUT,
    )
    assert [li["id"] for li in listed.json()] == [lineitem_url]
    none_tagged = requests.get(
        lms.lineitems_url(DEMO_COURSE_ID), params={"tag": "quiz"}, headers=headers, timeout=10
    )
    assert none_tagged.json() == []

    score_headers = {**headers, "Content-Type": MEDIA_SCORE}
    posted = requests.post(
        lineitem_url + "/scores",
        data=_score(DEMO_LEARNER_ID, 7, 10, "2024-05-01T10:00:00.123Z", comment="Thoughtful"),
        headers=score_headers,
        timeout=TIMEOUT,
    )
    assert posted.status_code == 204, posted.text
    stale = requests.post(
        lineitem_url + "/scores",
        data=_score(DEMO_LEARNER_ID, 1, 10, "2024-04-01T10:00:00Z"),
        headers=score_headers,
        timeout=TIMEOUT,
    )
    assert stale.status_code == 204

    received = lms.received_scores(DEMO_COURSE_ID, user_id=DEMO_LEARNER_ID)
    assert [(s.score_given, s.applied) for s in received] == [(7, True), (1, False)]
    assert received[0].comment == "Thoughtful"

    results = requests.get(lineitem_url + "/results", headers=headers, timeout=TIMEOUT)
    assert results.headers["Content-Type"] == MEDIA_RESULTS
    assert results.json() == [
        {
            "id": f"{lineitem_url}/results/{DEMO_LEARNER_ID}",
            "scoreOf": lineitem_url,
            "userId": DEMO_LEARNER_ID,
            "resultMaximum": 20,
            "resultScore": 14,
            "comment": "Thoughtful",
        }
    ]

    page = requests.get(lms.url("/"), timeout=TIMEOUT).text
    assert "Reflection journal" in page
    assert "7 / 10" in page


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (_score(DEMO_LEARNER_ID, 11, 10, "2024-05-01T10:00:00Z"), MEDIA_SCORE, 400),
        (_score("u-nobody", 5, 10, "2024-05-01T10:00:00Z"), MEDIA_SCORE, 400),
        (_score(DEMO_LEARNER_ID, 5, 10, "yesterday"), MEDIA_SCORE, 400),
        (_score(DEMO_LEARNER_ID, 5, 10, "2024-05-01T10:00:00"), MEDIA_SCORE, 400),
        (
            _score(DEMO_LEARNER_ID, 5, 10, "2024-05-01T10:00:00Z", gradingProgress="Done"),
            MEDIA_SCORE,
            400,
        ),
        (_score(DEMO_LEARNER_ID, 5, 10, "2024-05-01T10:00:00Z"), "application/json", 415),
    ],
)
def test_ags_rejects_invalid_scores(
    lms: SandboxPlatform, tool: MiniTool, body: str, content_type: str, status: int
) -> None:
    item = lms.create_line_item(CLIENT_ID, DEMO_COURSE_ID, {"label": "Quiz", "scoreMaximum": 10})
    headers = bearer(lms, tool, [SCOPE_SCORE])
    resp = requests.post(
        item["id"] + "/scores",
        data=body,
        headers={**headers, "Content-Type": content_type},
        timeout=TIMEOUT,
    )
    assert resp.status_code == status
    assert lms.received_scores(DEMO_COURSE_ID) == []


def test_ags_line_items_are_private_to_their_tool(lms: SandboxPlatform, tool: MiniTool) -> None:
    lms.register_tool(
        "other-tool",
        ["d-other"],
        "http://127.0.0.1:9/login",
        "http://127.0.0.1:9/launch",
        None,
        jwks={"keys": []},
        placements=False,
    )
    theirs = lms.create_line_item("other-tool", DEMO_COURSE_ID, {"label": "X", "scoreMaximum": 1})
    headers = bearer(lms, tool, [SCOPE_LINEITEM])
    assert requests.get(theirs["id"], headers=headers, timeout=TIMEOUT).status_code == 404
    assert requests.get(lms.lineitems_url(DEMO_COURSE_ID), headers=headers, timeout=10).json() == []

    mine = lms.create_line_item(CLIENT_ID, DEMO_COURSE_ID, {"label": "Mine", "scoreMaximum": 5})
    updated = requests.put(
        mine["id"],
        data=json.dumps({"label": "Mine (renamed)", "scoreMaximum": 8}),
        headers={**headers, "Content-Type": MEDIA_LINEITEM},
        timeout=TIMEOUT,
    )
    assert updated.json() == {"id": mine["id"], "label": "Mine (renamed)", "scoreMaximum": 8}
    assert requests.delete(mine["id"], headers=headers, timeout=TIMEOUT).status_code == 204
    assert requests.get(mine["id"], headers=headers, timeout=TIMEOUT).status_code == 404


# --------------------------------------------------------------------------------------
# Deep Linking
# --------------------------------------------------------------------------------------


def test_deep_linking_round_trip(lms: SandboxPlatform, tool: MiniTool) -> None:
    request_claims = http_launch(
        lms, tool, DEMO_INSTRUCTOR_ID, message_type="LtiDeepLinkingRequest"
    )
    assert request_claims[CLAIM_MESSAGE_TYPE] == "LtiDeepLinkingRequest"
    assert request_claims[CLAIM_TARGET_LINK_URI] == tool.url("/deep_link")
    assert CLAIM_RESOURCE_LINK not in request_claims
    settings = request_claims[CLAIM_DL_SETTINGS]
    assert settings["deep_link_return_url"] == lms.deep_link_return_url
    assert "ltiResourceLink" in settings["accept_types"]
    assert settings["accept_lineitem"] is True
    assert settings["data"]

    item = {
        "type": "ltiResourceLink",
        "title": "Peer feedback circle",
        "text": "Give and receive feedback in your cohort.",
        "url": tool.url("/launch"),
        "custom": {"activity": "peer-feedback"},
        "lineItem": {"scoreMaximum": 5, "label": "Peer feedback", "tag": "feedback"},
    }
    links_before = len(lms.resource_links(DEMO_COURSE_ID))

    wrong_aud = deep_link_response(tool, request_claims, [item], aud="https://not-the-lms.example")
    rejected = requests.post(lms.deep_link_return_url, data={"JWT": wrong_aud}, timeout=TIMEOUT)
    assert rejected.status_code == 400
    assert "audience" in rejected.text.lower()
    assert len(lms.resource_links(DEMO_COURSE_ID)) == links_before

    good = deep_link_response(tool, request_claims, [item])
    accepted = requests.post(lms.deep_link_return_url, data={"JWT": good}, timeout=TIMEOUT)
    assert accepted.status_code == 200, accepted.text
    assert "Peer feedback circle" in accepted.text

    result = lms.deep_link_results[-1]
    assert result.user_id == DEMO_INSTRUCTOR_ID
    (new_link_id,) = result.resource_link_ids
    new_link = next(
        link for link in lms.resource_links(DEMO_COURSE_ID) if link.resource_link_id == new_link_id
    )
    assert new_link.title == "Peer feedback circle"
    (line_item,) = [
        li for li in lms.line_items(DEMO_COURSE_ID) if li.resource_link_id == new_link_id
    ]
    assert (line_item.label, line_item.score_maximum, line_item.tag) == (
        "Peer feedback",
        5,
        "feedback",
    )

    # The same response cannot be accepted twice.
    replay = requests.post(lms.deep_link_return_url, data={"JWT": good}, timeout=TIMEOUT)
    assert replay.status_code == 400

    # The created link is launchable and carries its custom parameters and line item.
    launched = http_launch(lms, tool, DEMO_LEARNER_ID, resource_link=new_link_id)
    assert launched[CLAIM_RESOURCE_LINK]["id"] == new_link_id
    assert launched[CLAIM_RESOURCE_LINK]["title"] == "Peer feedback circle"
    assert launched[CLAIM_CUSTOM]["activity"] == "peer-feedback"
    assert launched[CLAIM_AGS]["lineitem"] == lms.lineitem_url(
        DEMO_COURSE_ID, line_item.lineitem_id
    )


@pytest.mark.parametrize(
    ("items", "overrides", "settings"),
    [
        ([{"type": "file", "url": "http://127.0.0.1:9/f.pdf"}], {}, None),
        ([{"type": "link", "url": "http://127.0.0.1:9/a"}] * 2, {}, {"accept_multiple": False}),
        (
            [{"type": "ltiResourceLink", "lineItem": {"scoreMaximum": 1}}],
            {},
            {"accept_lineitem": False},
        ),
        ([{"type": "ltiResourceLink", "lineItem": {"scoreMaximum": 0}}], {}, None),
        ([{"type": "ltiResourceLink", "custom": {"n": 1}}], {}, None),
        ([], {CLAIM_DL_DATA: "tampered"}, None),
        ([], {CLAIM_DEPLOYMENT_ID: "someone-elses-deployment"}, None),
        ([], {CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest"}, None),
        ([], {"nonce": None}, None),
        ([], {"iss": "unknown-client"}, None),
    ],
)
def test_deep_linking_rejects_invalid_responses(
    lms: SandboxPlatform,
    tool: MiniTool,
    items: list[dict[str, Any]],
    overrides: dict[str, Any],
    settings: dict[str, Any] | None,
) -> None:
    request_claims = lms.base_claims(
        CLIENT_ID,
        DEMO_INSTRUCTOR_ID,
        DEMO_COURSE_ID,
        "dl-nonce",
        "LtiDeepLinkingRequest",
        deep_linking_settings=settings,
    )
    token = deep_link_response(tool, request_claims, items, **overrides)
    if overrides.get("nonce", "") is None:
        claims = jwt.decode(token, options={"verify_signature": False})
        del claims["nonce"]
        token = tool.sign(claims)
    with pytest.raises(PlatformError) as caught:
        lms.receive_deep_link_response(token)
    assert caught.value.error in ("invalid_request", "unauthorized_client")
    assert lms.deep_link_results == []
    # The same request still accepts a valid (empty) answer afterwards.
    if CLAIM_DL_DATA not in overrides:
        assert lms.receive_deep_link_response(deep_link_response(tool, request_claims, [])) == []


# --------------------------------------------------------------------------------------
# Dynamic Registration
# --------------------------------------------------------------------------------------


def _registration(tool: MiniTool) -> dict[str, Any]:
    domain = urlsplit(tool.base_url).netloc
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool.url("/login"),
        "redirect_uris": [tool.url("/launch")],
        "client_name": "Learning Commons (registered)",
        "jwks_uri": tool.url("/jwks"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": f"{SCOPE_NRPS} {SCOPE_SCORE} https://example.com/unknown",
        TOOL_CONFIGURATION: {
            "domain": domain,
            "target_link_uri": tool.url("/launch"),
            "claims": ["iss", "sub", "name", "given_name"],
            "messages": [
                {"type": "LtiDeepLinkingRequest", "target_link_uri": tool.url("/deep_link")},
                {"type": "LtiResourceLinkRequest", "label": "Learning Commons"},
            ],
        },
    }


def test_dynamic_registration_with_one_time_token(lms: SandboxPlatform, tool: MiniTool) -> None:
    # The admin opens the tool's registration URL from the platform.
    opened = requests.get(
        lms.url("/dynamic_registration"), params={"url": tool.url("/register")}, timeout=TIMEOUT
    )
    assert opened.text == "registration page"
    visit = tool.registration_visits[-1]
    assert visit["openid_configuration"] == lms.openid_configuration_url

    config = requests.get(visit["openid_configuration"], timeout=TIMEOUT).json()
    assert config["issuer"] == lms.issuer
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    messages = config[PLATFORM_CONFIGURATION]["messages_supported"]
    assert {m["type"] for m in messages} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}

    auth = {"Authorization": "Bearer " + visit["registration_token"]}
    invalid = {**_registration(tool), "grant_types": ["implicit"]}
    refused = requests.post(config["registration_endpoint"], json=invalid, headers=auth, timeout=10)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_client_metadata")

    outside = _registration(tool)
    outside["redirect_uris"] = ["https://attacker.example/launch"]
    refused = requests.post(config["registration_endpoint"], json=outside, headers=auth, timeout=10)
    assert refused.json()["error"] == "invalid_redirect_uri"

    registered = requests.post(
        config["registration_endpoint"], json=_registration(tool), headers=auth, timeout=TIMEOUT
    )
    assert registered.status_code == 201, registered.text
    answer = registered.json()
    client_id = answer["client_id"]
    deployment_id = answer[TOOL_CONFIGURATION]["deployment_id"]
    assert answer["redirect_uris"] == [tool.url("/launch")]
    assert answer["scope"] == f"{SCOPE_NRPS} {SCOPE_SCORE}"

    again = requests.post(
        config["registration_endpoint"], json=_registration(tool), headers=auth, timeout=TIMEOUT
    )
    assert again.status_code == 401

    new_tool = lms.tool(client_id)
    assert new_tool.deployment_ids == (deployment_id,)
    assert new_tool.deep_link_url == tool.url("/deep_link")
    assert new_tool.scopes == {SCOPE_NRPS, SCOPE_SCORE}
    claims = lms.base_claims(client_id, DEMO_LEARNER_ID, DEMO_COURSE_ID, "n")
    assert claims["name"] == "Lea Learner"
    assert "email" not in claims  # not among the claims the tool asked for
    assert CLAIM_GROUPS not in claims  # nor was the groups scope
    assert claims[CLAIM_AGS]["scope"] == [SCOPE_SCORE]


def test_registration_endpoint_requires_a_token(lms: SandboxPlatform, tool: MiniTool) -> None:
    resp = requests.post(lms.registration_url, json=_registration(tool), timeout=TIMEOUT)
    assert resp.status_code == 401
    assert len(lms.tools()) == 1


# --------------------------------------------------------------------------------------
# The human page
# --------------------------------------------------------------------------------------


def test_course_page(lms: SandboxPlatform, tool: MiniTool) -> None:
    resp = requests.get(lms.url("/"), timeout=TIMEOUT)
    assert resp.status_code == 200
    page = resp.text
    assert "<h1>Leadership Foundations" in page
    for person in lms.people(DEMO_COURSE_ID):
        assert f"Launch as {person.name}</button>" in page
    text = " ".join(page.split())
    assert "Add content from Learning Commons (Deep Linking) as Ines Instructor" in text
    assert 'name="tool-frame"' in page
    assert "lti.frameResize" in page
    nonce = resp.headers["Content-Security-Policy"].split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script nonce="{nonce}">' in page
    assert page.count("<form") == len(lms.people(DEMO_COURSE_ID)) + 2 + 1  # launches, DL, reg

    avatar = requests.get(lms.avatar_url(DEMO_LEARNER_ID), timeout=TIMEOUT)
    assert avatar.headers["Content-Type"].startswith("image/svg+xml")
    assert ">LL</text>" in avatar.text


def test_blueprint_mounts_inside_another_app_under_any_prefix() -> None:
    platform = SandboxPlatform.demo("http://localhost/dev/lms")
    platform.register_tool(
        CLIENT_ID,
        [DEPLOYMENT_ID],
        "http://localhost/lti/login",
        "http://localhost/lti/launch",
        "http://localhost/lti/jwks",
    )
    app = Flask("tool-app")

    @app.get("/")
    def home() -> str:
        return "the tool's own home page"

    app.register_blueprint(make_platform_blueprint(platform, "lms", "/dev/lms"))
    client = app.test_client()

    assert client.get("/").text == "the tool's own home page"
    config = client.get("/dev/lms/.well-known/openid-configuration").get_json()
    assert config["jwks_uri"] == "http://localhost/dev/lms/jwks"
    keys = client.get("/dev/lms/jwks").get_json()["keys"]
    assert [k["kid"] for k in keys] == [platform.kid]

    page = client.get("/dev/lms/").text
    assert 'action="/dev/lms/launch"' in page

    launch = client.get(f"/dev/lms/launch?user={DEMO_LEARNER_ID}")
    form = extract_form(launch.text)
    assert form is not None
    action, method, fields = form
    assert (action, method) == ("http://localhost/lti/login", "post")
    assert fields["iss"] == "http://localhost/dev/lms"
    assert fields["client_id"] == CLIENT_ID
    assert fields["login_hint"] == DEMO_LEARNER_ID
    assert fields["target_link_uri"] == "http://localhost/lti/launch"

    refused = client.get("/dev/lms/launch?user=u-nobody")
    assert refused.status_code == 400
    assert refused.mimetype == "text/html"
    assert "not enrolled" in refused.text


def test_registration_starts_from_an_invite_url(lms: SandboxPlatform, tool: MiniTool) -> None:
    """A tool's registration URL may carry its own path and query (a Learning Commons invite is
    ``…/lti/register/<secret>``): the platform keeps both and adds its parameters."""
    start = lms.start_registration(tool.url("/lti/register/invite-secret?lang=en"))
    parts = urlsplit(start)
    assert parts.path.endswith("/lti/register/invite-secret")
    query = parse_qs(parts.query)
    assert query["lang"] == ["en"]
    assert query["openid_configuration"] == [lms.openid_configuration_url]
    assert query["registration_token"][0]
    page = " ".join(requests.get(lms.url("/"), timeout=TIMEOUT).text.split())
    assert "commons platform invite" in page and "registration_token" in page
