"""A spec-exact, in-memory LTI 1.3 *platform* (the LMS side) for development and tests.

:class:`SandboxPlatform` implements, from the platform's point of view:

* **LTI 1.3 Core** - third-party-initiated OpenID Connect login: login initiation
  (:meth:`~SandboxPlatform.login_initiation`) and the authentication response carrying a
  signed RS256 ``id_token`` (:meth:`~SandboxPlatform.authorize`);
* **Deep Linking 2.0** - ``LtiDeepLinkingRequest`` launches and strict validation of the
  tool's ``LtiDeepLinkingResponse`` (:meth:`~SandboxPlatform.receive_deep_link_response`);
* **LTI Advantage security framework** - OAuth 2 ``client_credentials`` grant authenticated
  with a JWT client assertion (:meth:`~SandboxPlatform.issue_access_token`);
* **Names and Role Provisioning Services 2.0**, with the Course Groups
  ``group_enrollments`` extension (:meth:`~SandboxPlatform.memberships`);
* **Course Groups 1.0** (:meth:`~SandboxPlatform.groups`, :meth:`~SandboxPlatform.group_sets`);
* **Assignment and Grade Services 2.0** - line items, scores and results;
* **Dynamic Registration 1.0** - OpenID configuration, one-time registration tokens and
  client registration (:meth:`~SandboxPlatform.register_client`).

Nothing here imports Flask; :mod:`plugin.lti.sandbox.blueprint` exposes the platform over
HTTP.  The ``issuer`` given to the constructor is also the base URL of those HTTP endpoints
(e.g. ``http://127.0.0.1:5001/sandbox``), so every URL the platform hands out (token
endpoint, service endpoints, deep-link return URL...) is ``issuer + <path>``.

All state lives in memory and is guarded by one lock so that a threaded WSGI server may
call into a single instance concurrently.  Network I/O (fetching a tool's JWKS) always
happens outside the lock.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = [
    "DEMO_COURSE_ID",
    "DEMO_INSTRUCTOR_ID",
    "DEMO_LEARNER_ID",
    "DEMO_MENTOR_ID",
    "DEMO_TA_ID",
    "AccessToken",
    "AuthResponse",
    "Course",
    "DeepLinkResult",
    "Enrollment",
    "Group",
    "GroupSet",
    "LineItem",
    "Person",
    "PlatformError",
    "ResourceLink",
    "SandboxPlatform",
    "Score",
    "ToolRegistration",
    "drive_launch",
    "extract_form",
]

# --------------------------------------------------------------------------------------
# Vocabulary (claim names, scopes, roles, media types)
# --------------------------------------------------------------------------------------

LTI_VERSION = "1.3.0"
LTI_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = LTI_CLAIM + "message_type"
CLAIM_VERSION = LTI_CLAIM + "version"
CLAIM_DEPLOYMENT_ID = LTI_CLAIM + "deployment_id"
CLAIM_TARGET_LINK_URI = LTI_CLAIM + "target_link_uri"
CLAIM_RESOURCE_LINK = LTI_CLAIM + "resource_link"
CLAIM_ROLES = LTI_CLAIM + "roles"
CLAIM_CONTEXT = LTI_CLAIM + "context"
CLAIM_TOOL_PLATFORM = LTI_CLAIM + "tool_platform"
CLAIM_LAUNCH_PRESENTATION = LTI_CLAIM + "launch_presentation"
CLAIM_CUSTOM = LTI_CLAIM + "custom"
CLAIM_LIS = LTI_CLAIM + "lis"
CLAIM_ROLE_SCOPE_MENTOR = LTI_CLAIM + "role_scope_mentor"

DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CLAIM_DL_SETTINGS = DL_CLAIM + "deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = DL_CLAIM + "content_items"
CLAIM_DL_DATA = DL_CLAIM + "data"
CLAIM_DL_MSG = DL_CLAIM + "msg"
CLAIM_DL_LOG = DL_CLAIM + "log"
CLAIM_DL_ERRORMSG = DL_CLAIM + "errormsg"
CLAIM_DL_ERRORLOG = DL_CLAIM + "errorlog"

CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_GROUPS = "https://purl.imsglobal.org/spec/lti-gs/claim/groupsservice"

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"

MSG_RESOURCE_LINK = "LtiResourceLinkRequest"
MSG_DEEP_LINKING = "LtiDeepLinkingRequest"
MSG_DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
SUPPORTED_MESSAGES = (MSG_RESOURCE_LINK, MSG_DEEP_LINKING)

SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPE_GROUPS = "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
SERVICE_SCOPES = (*AGS_SCOPES, SCOPE_NRPS, SCOPE_GROUPS)

_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
ROLE_INSTRUCTOR = _MEMBERSHIP + "#Instructor"
ROLE_LEARNER = _MEMBERSHIP + "#Learner"
ROLE_MENTOR = _MEMBERSHIP + "#Mentor"
ROLE_CONTENT_DEVELOPER = _MEMBERSHIP + "#ContentDeveloper"
ROLE_ADMINISTRATOR = _MEMBERSHIP + "#Administrator"
ROLE_TEACHING_ASSISTANT = _MEMBERSHIP + "/Instructor#TeachingAssistant"
ROLE_INSTITUTION_FACULTY = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"
ROLE_INSTITUTION_STUDENT = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
ROLE_INSTITUTION_STAFF = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Staff"
ROLE_INSTITUTION_MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Mentor"
COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

MEDIA_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MEDIA_GROUPS = "application/vnd.ims.lti-gs.v1.contextgroupcontainer+json"
MEDIA_GROUP_SETS = "application/vnd.ims.lti-gs.v1.contextgroupsetcontainer+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_LTI_LINK = "application/vnd.ims.lti.v1.ltilink"

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")
DL_CONTENT_TYPES = ("ltiResourceLink", "link", "file", "html", "image")
PRESENTATION_TARGETS = ("iframe", "window", "embed")

#: OIDC claims about the person that a dynamically registered tool must ask for.
PII_CLAIMS = frozenset(
    {"name", "given_name", "family_name", "middle_name", "nickname", "email", "picture", "locale"}
)

#: Custom-parameter substitution variables this platform resolves (LTI 1.3 Appendix C).
SUBSTITUTION_VARIABLES = (
    "User.id",
    "User.username",
    "Person.sourcedId",
    "Person.name.full",
    "Person.name.given",
    "Person.name.family",
    "Person.email.primary",
    "Context.id",
    "Context.label",
    "Context.title",
    "Context.type",
    "CourseOffering.sourcedId",
    "CourseOffering.label",
    "CourseOffering.title",
    "CourseSection.sourcedId",
    "ResourceLink.id",
    "ResourceLink.title",
    "ResourceLink.description",
    "Membership.role",
    "Membership.role.scope.mentor",
    "Message.locale",
    "ToolPlatform.productFamilyCode",
    "ToolPlatform.version",
    "ToolPlatformInstance.guid",
    "ToolPlatformInstance.name",
)

PRODUCT_FAMILY_CODE = "sandbox"
PRODUCT_VERSION = "1.0"
ID_TOKEN_LIFETIME = 300
ACCESS_TOKEN_LIFETIME = 3600
MESSAGE_HINT_LIFETIME = 600
REGISTRATION_TOKEN_LIFETIME = 3600
JWKS_CACHE_SECONDS = 60
JWT_LEEWAY = 10
HTTP_TIMEOUT = 10

DEMO_COURSE_ID = "leadership-foundations"
DEMO_INSTRUCTOR_ID = "u-ines"
DEMO_LEARNER_ID = "u-lea"
DEMO_TA_ID = "u-tomas"
DEMO_MENTOR_ID = "u-grace"

#: Doctors id_token claims: mutate them in place or return replacements.
ClaimsHook = Callable[[dict[str, Any]], dict[str, Any] | None]

_ID_RE = re.compile(r"^[A-Za-z0-9._~@:-]{1,128}$")


# --------------------------------------------------------------------------------------
# Errors and value objects
# --------------------------------------------------------------------------------------


class PlatformError(Exception):
    """A request the platform refuses.

    ``error`` is a protocol error code (OIDC/OAuth 2 codes such as ``invalid_request``,
    ``unauthorized_client``, ``invalid_client``, ``invalid_scope``, ``invalid_token``,
    ``insufficient_scope``, RFC 7591 ``invalid_client_metadata``...), ``status`` the HTTP
    status the blueprint answers with.
    """

    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status

    def to_dict(self) -> dict[str, str]:
        """The OAuth-style JSON error body."""
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


@dataclass(frozen=True)
class AuthResponse:
    """The OIDC authentication response: form-post ``fields`` to ``action_url``."""

    action_url: str
    fields: dict[str, str]


@dataclass
class Course:
    """A course offering (an LTI context)."""

    context_id: str
    label: str
    title: str
    sourced_id: str = ""

    def __post_init__(self) -> None:
        if not self.sourced_id:
            self.sourced_id = f"SIS-{self.label}"


@dataclass
class Person:
    """A platform user. ``user_id`` is the stable, opaque LTI ``sub``."""

    user_id: str
    given_name: str
    family_name: str
    email: str
    picture: str | None = None
    locale: str = "en-US"
    sourced_id: str = ""

    def __post_init__(self) -> None:
        if not self.sourced_id:
            self.sourced_id = f"SIS-{self.user_id}"

    @property
    def name(self) -> str:
        """Full display name."""
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def username(self) -> str:
        """Login name (the local part of the e-mail address)."""
        return self.email.split("@", 1)[0]


@dataclass
class Enrollment:
    """A person's membership in a course: LTI role URIs, status and mentees."""

    context_id: str
    user_id: str
    roles: list[str]
    status: str = "Active"
    mentees: list[str] = field(default_factory=list)


@dataclass
class GroupSet:
    """A group set (category) in a course."""

    context_id: str
    set_id: str
    name: str


@dataclass
class Group:
    """A group in a course, optionally belonging to a group set."""

    context_id: str
    group_id: str
    name: str
    set_id: str | None = None
    tag: str | None = None
    members: list[str] = field(default_factory=list)


@dataclass
class ToolRegistration:
    """A tool registered with the platform (one OAuth client)."""

    client_id: str
    name: str
    deployment_ids: tuple[str, ...]
    login_url: str
    redirect_uris: tuple[str, ...]
    target_link_uri: str
    jwks_url: str | None
    jwks: dict[str, Any] | None = None
    deep_link_url: str | None = None
    scopes: frozenset[str] = frozenset(SERVICE_SCOPES)
    custom: dict[str, str] = field(default_factory=dict)
    claims: frozenset[str] | None = None
    registration: dict[str, Any] | None = None


@dataclass
class ResourceLink:
    """A placement of a tool in a course."""

    context_id: str
    resource_link_id: str
    client_id: str
    title: str
    description: str = ""
    url: str | None = None
    custom: dict[str, str] = field(default_factory=dict)


@dataclass
class LineItem:
    """An AGS line item (a gradebook column) owned by one tool."""

    context_id: str
    lineitem_id: str
    client_id: str
    label: str
    score_maximum: float
    resource_link_id: str | None = None
    resource_id: str | None = None
    tag: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    grades_released: bool | None = None


@dataclass
class Score:
    """A score the tool posted (kept verbatim, plus whether it updated the result)."""

    context_id: str
    lineitem_id: str
    client_id: str
    user_id: str
    activity_progress: str
    grading_progress: str
    timestamp: str
    score_given: float | None = None
    score_maximum: float | None = None
    comment: str | None = None
    applied: bool = True
    received_at: float = 0.0
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeepLinkResult:
    """An accepted deep-linking response."""

    client_id: str
    deployment_id: str
    context_id: str
    user_id: str
    content_items: list[dict[str, Any]]
    resource_link_ids: list[str]
    msg: str | None = None
    log: str | None = None
    errormsg: str | None = None
    errorlog: str | None = None


@dataclass
class AccessToken:
    """An OAuth 2 bearer token issued to a tool."""

    token: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class _LaunchIntent:
    """Everything needed to rebuild a launch from its ``lti_message_hint``."""

    client_id: str
    deployment_id: str
    user_id: str
    context_id: str
    message_type: str
    login_hint: str
    target_link_uri: str
    resource_link_id: str | None
    custom: dict[str, str]
    dl_settings: dict[str, Any] | None
    created: float


@dataclass
class _PendingDeepLink:
    """A deep-linking request awaiting the tool's response (keyed by its ``data``)."""

    client_id: str
    deployment_id: str
    context_id: str
    user_id: str
    settings: dict[str, Any]
    nonce: str
    created: float


@dataclass
class _RegistrationToken:
    tool_registration_url: str
    expires_at: float
    used: bool = False


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signing_key(private_key_pem: bytes | None) -> tuple[rsa.RSAPrivateKey, bytes, str]:
    """An RSA key (generated if ``None``), its PEM and its ``kid`` (the RFC 7638 thumbprint)."""
    if private_key_pem is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    else:
        loaded = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError("the platform key must be an RSA private key")
        key = loaded
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    return key, private_key_pem, _b64url(hashlib.sha256(canonical.encode()).digest())


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _parse_datetime(value: object, what: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries a UTC offset."""
    if not isinstance(value, str):
        raise PlatformError("invalid_request", f"{what} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PlatformError("invalid_request", f"{what} is not ISO 8601: {value!r}") from exc
    if parsed.tzinfo is None:
        raise PlatformError("invalid_request", f"{what} must include a timezone offset")
    return parsed


def _add_query(url: str, params: Mapping[str, str]) -> str:
    """Append query parameters to ``url``, keeping the ones it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ValueError(f"{what} must match {_ID_RE.pattern}: {value!r}")
    return value


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _string_dict(value: object, what: str) -> dict[str, str]:
    """Validate a custom-parameter map: string keys and string values only."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PlatformError("invalid_request", f"{what} must map strings to strings")
    return dict(value)


def _host_matches(url: str, domain: str) -> bool:
    """Whether ``url`` lives on ``domain`` (``host`` or ``host:port``; subdomains allowed)."""
    parts = urlsplit(url)
    dom = urlsplit("//" + domain)
    host, dom_host = (parts.hostname or "").lower(), (dom.hostname or "").lower()
    if not dom_host or not (host == dom_host or host.endswith("." + dom_host)):
        return False
    if dom.port is None:
        return True
    default = 443 if parts.scheme == "https" else 80
    return (parts.port or default) == dom.port


class _FormParser(HTMLParser):
    """Collects the first ``<form>`` of a page with its hidden/plain input fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.method = "get"
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and self.action is None:
            self.action = attributes.get("action", "")
            self.method = attributes.get("method", "get").lower()
            self._in_form = True
        elif tag == "input" and self._in_form and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
            self._done = True


def extract_form(html: str) -> tuple[str, str, dict[str, str]] | None:
    """Return ``(action, method, fields)`` of the first form in ``html`` (or ``None``).

    Handy to follow the auto-submitting pages of the OIDC flow without a browser.
    """
    parser = _FormParser()
    parser.feed(html)
    if parser.action is None:
        return None
    return parser.action, parser.method, parser.fields


def drive_launch(
    session: requests.Session,
    platform: SandboxPlatform,
    login_params: Mapping[str, str],
    *,
    method: str = "POST",
    timeout: float = HTTP_TIMEOUT,
) -> requests.Response:
    """Run a launch like a browser would, over real HTTP, and return the tool's answer.

    Sends ``login_params`` (from :meth:`SandboxPlatform.login_initiation`) to the tool's
    OIDC login URL, follows its redirect to the platform's ``/auth`` endpoint (which must
    be served at ``platform.issuer``), then form-posts the ``id_token`` and ``state`` to
    the tool.  If the tool answers the login initiation with a self-submitting form
    instead of a redirect, that form is followed too.  Cookies stay in ``session``.
    """
    tool = platform.tool(login_params["client_id"])
    if method.upper() == "GET":
        resp = session.get(tool.login_url, params=dict(login_params), timeout=timeout)
    else:
        resp = session.post(tool.login_url, data=dict(login_params), timeout=timeout)
    for _ in range(3):
        form = extract_form(resp.text) if resp.ok else None
        if form is None:
            return resp
        action, form_method, fields = form
        at_auth = resp.url.split("?", 1)[0] == platform.auth_url
        if not at_auth and not action.startswith(platform.auth_url):
            return resp  # an ordinary page of the tool
        if form_method == "post":
            resp = session.post(action, data=fields, timeout=timeout)
        else:
            resp = session.get(action, params=fields, timeout=timeout)
        if at_auth:
            return resp  # the tool's answer to the authentication response
    return resp


# --------------------------------------------------------------------------------------
# The platform
# --------------------------------------------------------------------------------------


class SandboxPlatform:
    """An in-memory LTI 1.3 / LTI Advantage platform.

    :param issuer: the platform's ``iss`` and the base URL of its HTTP endpoints.
    :param private_key_pem: RSA private key (PEM); a 2048-bit key is generated if ``None``.
    :param name: platform name shown to tools (``tool_platform.name``).
    :param page_size: default page size for NRPS, groups, line items and results, small so
        that paging is exercised.
    :param allow_extra_credit: accept scores whose ``scoreGiven`` exceeds ``scoreMaximum``.
    :param http: ``requests`` session used to fetch tool key sets.
    """

    def __init__(
        self,
        issuer: str,
        private_key_pem: bytes | None = None,
        *,
        name: str = "Sandbox LMS",
        page_size: int = 3,
        allow_extra_credit: bool = False,
        http: requests.Session | None = None,
    ) -> None:
        if not _is_http_url(issuer) or urlsplit(issuer).query:
            raise ValueError("issuer must be an http(s) URL without query or fragment")
        self.issuer = issuer.rstrip("/")
        self.name = name
        self.page_size = page_size
        self.allow_extra_credit = allow_extra_credit
        self.guid = str(uuid.uuid5(uuid.NAMESPACE_URL, self.issuer))
        self._http = http or requests.Session()
        self._lock = threading.RLock()
        self._signing_key: rsa.RSAPrivateKey
        self.private_key_pem: bytes = b""
        self.kid: str = ""
        self._published_keys: dict[str, rsa.RSAPublicKey] = {}
        self._client_keys: dict[str, tuple[rsa.RSAPrivateKey, bytes, str]] = {}
        self.rotate_key(private_key_pem, keep_old=False)

        self._courses: dict[str, Course] = {}
        self._people: dict[str, Person] = {}
        self._enrollments: dict[tuple[str, str], Enrollment] = {}
        self._group_sets: dict[tuple[str, str], GroupSet] = {}
        self._groups: dict[tuple[str, str], Group] = {}
        self._tools: dict[str, ToolRegistration] = {}
        self._links: dict[tuple[str, str], ResourceLink] = {}
        self._line_items: dict[tuple[str, str], LineItem] = {}
        self._lineitem_ids = itertools.count(1)
        self._scores: list[Score] = []
        self._intents: dict[str, _LaunchIntent] = {}
        self._pending_deep_links: dict[str, _PendingDeepLink] = {}
        self.deep_link_results: list[DeepLinkResult] = []
        self._access_tokens: dict[str, AccessToken] = {}
        self._used_jtis: dict[tuple[str, str], float] = {}
        self._registration_tokens: dict[str, _RegistrationToken] = {}
        self._jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._tamper: tuple[ClaimsHook | None, dict[str, Any]] | None = None
        self._suspended_tools: set[str] = set()

    # ---------------------------------------------------------------- keys and URLs

    def rotate_key(self, private_key_pem: bytes | None = None, *, keep_old: bool = True) -> str:
        """Start signing with a new key (generated if ``None``) and return its ``kid``.

        With ``keep_old`` the previous public key stays in the JWKS, as during a real
        key rollover; without it, tokens signed by the old key no longer verify.
        """
        key, private_key_pem, kid = _signing_key(private_key_pem)
        with self._lock:
            if not keep_old:
                self._published_keys.clear()
            self._published_keys[kid] = key.public_key()
            self._signing_key = key
            self.private_key_pem = private_key_pem
            self.kid = kid
        return kid

    def use_client_key(self, client_id: str, private_key_pem: bytes | None = None) -> str:
        """Give one tool registration (client id) a signing key of its own and return its
        ``kid``, as platforms that keep a key set per registration do.

        From then on that client's id_tokens are signed with this key, which is published
        alone at :meth:`jwks_url_for`; the platform's own key set no longer verifies them.
        Calling it again replaces the key.
        """
        key, private_key_pem, kid = _signing_key(private_key_pem)
        with self._lock:
            if client_id not in self._tools:
                raise KeyError(client_id)
            self._client_keys[client_id] = (key, private_key_pem, kid)
        return kid

    def client_key(self, client_id: str) -> tuple[bytes, str]:
        """``(private key PEM, kid)`` the platform signs ``client_id``'s id_tokens with."""
        with self._lock:
            own = self._client_keys.get(client_id)
            return (own[1], own[2]) if own else (self.private_key_pem, self.kid)

    def jwks_url_for(self, client_id: str) -> str:
        """The key set URL to give the tool registered as ``client_id``."""
        with self._lock:
            own = client_id in self._client_keys
        return self.url(f"/jwks/{quote(client_id, safe='')}") if own else self.jwks_url

    @property
    def public_key_pem(self) -> bytes:
        """PEM of the current public signing key."""
        return self._signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_jwks(self, client_id: str | None = None) -> dict[str, Any]:
        """The platform's JSON Web Key Set (public keys only), or with ``client_id`` the key
        set of a registration that has its own key (:meth:`use_client_key`)."""
        with self._lock:
            if client_id is None:
                keys = list(self._published_keys.items())
            elif client_id in self._client_keys:
                key, _pem, kid = self._client_keys[client_id]
                keys = [(kid, key.public_key())]
            else:
                raise PlatformError("not_found", "this client has no key set of its own", 404)
        out = []
        for kid, public in keys:
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
            out.append(
                {
                    "kty": "RSA",
                    "kid": kid,
                    "use": "sig",
                    "alg": "RS256",
                    "n": jwk["n"],
                    "e": jwk["e"],
                }
            )
        return {"keys": out}

    def url(self, path: str) -> str:
        """Absolute URL of a platform endpoint."""
        return self.issuer + path

    @property
    def auth_url(self) -> str:
        """OIDC authorization endpoint."""
        return self.url("/auth")

    @property
    def token_url(self) -> str:
        """OAuth 2 token endpoint."""
        return self.url("/token")

    @property
    def jwks_url(self) -> str:
        """Public JWKS URL."""
        return self.url("/jwks")

    @property
    def registration_url(self) -> str:
        """Dynamic Registration endpoint."""
        return self.url("/register")

    @property
    def openid_configuration_url(self) -> str:
        """OpenID configuration document URL."""
        return self.url("/.well-known/openid-configuration")

    @property
    def deep_link_return_url(self) -> str:
        """Where tools post deep-linking responses."""
        return self.url("/deep_link_return")

    def return_url(self, context_id: str) -> str:
        """``launch_presentation.return_url`` for a course."""
        return _add_query(self.url("/return"), {"context_id": context_id})

    def _course_url(self, context_id: str, tail: str) -> str:
        return self.url(f"/courses/{quote(context_id, safe='')}{tail}")

    def memberships_url(self, context_id: str) -> str:
        """NRPS ``context_memberships_url``."""
        return self._course_url(context_id, "/memberships")

    def groups_url(self, context_id: str) -> str:
        """Course Groups ``context_groups_url``."""
        return self._course_url(context_id, "/groups")

    def group_sets_url(self, context_id: str) -> str:
        """Course Groups ``context_group_sets_url``."""
        return self._course_url(context_id, "/group_sets")

    def lineitems_url(self, context_id: str) -> str:
        """AGS line items container URL."""
        return self._course_url(context_id, "/lineitems")

    def lineitem_url(self, context_id: str, lineitem_id: str) -> str:
        """AGS line item URL (also the line item's ``id``)."""
        return self._course_url(context_id, f"/lineitems/{quote(lineitem_id, safe='')}")

    def avatar_url(self, user_id: str) -> str:
        """Generated avatar picture of a person."""
        return self.url(f"/avatars/{quote(user_id, safe='')}.svg")

    # ---------------------------------------------------------------- data model

    def add_course(self, context_id: str, label: str, title: str) -> Course:
        """Create (or replace) a course."""
        course = Course(_check_id(context_id, "context_id"), label, title)
        with self._lock:
            self._courses[context_id] = course
            tools = list(self._tools.values())
        for tool in tools:
            self._ensure_placement(tool, context_id, tool.name)
        return copy.deepcopy(course)

    def add_person(
        self,
        user_id: str,
        given_name: str,
        family_name: str,
        email: str,
        *,
        picture: str | None = None,
        locale: str = "en-US",
    ) -> Person:
        """Create (or replace) a person."""
        person = Person(_check_id(user_id, "user_id"), given_name, family_name, email, picture)
        person.locale = locale
        with self._lock:
            self._people[user_id] = person
        return copy.deepcopy(person)

    def enroll(
        self,
        user_id: str,
        context_id: str,
        roles: Sequence[str],
        *,
        status: str = "Active",
        mentees: Sequence[str] = (),
    ) -> Enrollment:
        """Enroll a person in a course with LTI role URIs (and mentees for mentors)."""
        if status not in ("Active", "Inactive", "Deleted"):
            raise ValueError(f"unknown membership status {status!r}")
        with self._lock:
            if user_id not in self._people or context_id not in self._courses:
                raise ValueError("unknown person or course")
            enrollment = Enrollment(context_id, user_id, list(roles), status, list(mentees))
            self._enrollments[(context_id, user_id)] = enrollment
        return copy.deepcopy(enrollment)

    def add_group_set(self, context_id: str, set_id: str, name: str) -> GroupSet:
        """Create a group set in a course."""
        group_set = GroupSet(context_id, _check_id(set_id, "set_id"), name)
        with self._lock:
            if context_id not in self._courses:
                raise ValueError(f"unknown course {context_id!r}")
            self._group_sets[(context_id, set_id)] = group_set
        return copy.deepcopy(group_set)

    def add_group(
        self,
        context_id: str,
        group_id: str,
        name: str,
        *,
        set_id: str | None = None,
        tag: str | None = None,
        members: Iterable[str] = (),
    ) -> Group:
        """Create a group in a course, optionally in a group set and with members."""
        group = Group(context_id, _check_id(group_id, "group_id"), name, set_id, tag)
        with self._lock:
            if context_id not in self._courses:
                raise ValueError(f"unknown course {context_id!r}")
            if set_id is not None and (context_id, set_id) not in self._group_sets:
                raise ValueError(f"unknown group set {set_id!r}")
            self._groups[(context_id, group_id)] = group
        for user_id in members:
            self.add_to_group(context_id, group_id, user_id)
        return self.group(context_id, group_id)

    def add_to_group(self, context_id: str, group_id: str, user_id: str) -> None:
        """Add an enrolled person to a group."""
        with self._lock:
            group = self._groups[(context_id, group_id)]
            if (context_id, user_id) not in self._enrollments:
                raise ValueError(f"{user_id!r} is not enrolled in {context_id!r}")
            if user_id not in group.members:
                group.members.append(user_id)

    def group(self, context_id: str, group_id: str) -> Group:
        """A copy of one group."""
        with self._lock:
            return copy.deepcopy(self._groups[(context_id, group_id)])

    def courses(self) -> list[Course]:
        """All courses."""
        with self._lock:
            return copy.deepcopy(list(self._courses.values()))

    def course(self, context_id: str) -> Course:
        """One course (``KeyError`` if unknown)."""
        with self._lock:
            return copy.deepcopy(self._courses[context_id])

    def person(self, user_id: str) -> Person:
        """One person (``KeyError`` if unknown)."""
        with self._lock:
            return copy.deepcopy(self._people[user_id])

    def people(self, context_id: str | None = None) -> list[Person]:
        """Everybody, or the people enrolled in one course (in enrollment order)."""
        with self._lock:
            if context_id is None:
                return copy.deepcopy(list(self._people.values()))
            return copy.deepcopy(
                [self._people[uid] for (ctx, uid) in self._enrollments if ctx == context_id]
            )

    def enrollment(self, context_id: str, user_id: str) -> Enrollment | None:
        """A person's enrollment in a course, if any."""
        with self._lock:
            found = self._enrollments.get((context_id, user_id))
            return copy.deepcopy(found)

    def groups_of(self, context_id: str, user_id: str) -> list[Group]:
        """Groups of a course that a person belongs to."""
        with self._lock:
            return copy.deepcopy(
                [
                    g
                    for (ctx, _), g in self._groups.items()
                    if ctx == context_id and user_id in g.members
                ]
            )

    def tools(self) -> list[ToolRegistration]:
        """All registered tools."""
        with self._lock:
            return copy.deepcopy(list(self._tools.values()))

    def tool(self, client_id: str) -> ToolRegistration:
        """One registered tool (``KeyError`` if unknown)."""
        with self._lock:
            return copy.deepcopy(self._tools[client_id])

    def resource_links(
        self, context_id: str | None = None, client_id: str | None = None
    ) -> list[ResourceLink]:
        """Resource links (placements), optionally filtered by course and tool."""
        with self._lock:
            return copy.deepcopy(
                [
                    link
                    for link in self._links.values()
                    if (context_id is None or link.context_id == context_id)
                    and (client_id is None or link.client_id == client_id)
                ]
            )

    def line_items(
        self, context_id: str | None = None, client_id: str | None = None
    ) -> list[LineItem]:
        """Line items, optionally filtered by course and owning tool."""
        with self._lock:
            return copy.deepcopy(
                [
                    item
                    for item in self._line_items.values()
                    if (context_id is None or item.context_id == context_id)
                    and (client_id is None or item.client_id == client_id)
                ]
            )

    def received_scores(
        self,
        context_id: str | None = None,
        *,
        user_id: str | None = None,
        lineitem_id: str | None = None,
    ) -> list[Score]:
        """Every score received through AGS, oldest first (including ignored ones)."""
        with self._lock:
            return copy.deepcopy(
                [
                    s
                    for s in self._scores
                    if (context_id is None or s.context_id == context_id)
                    and (user_id is None or s.user_id == user_id)
                    and (lineitem_id is None or s.lineitem_id == lineitem_id)
                ]
            )

    def course_state(self) -> dict[str, Any]:
        """What the course's tools changed and a restart would otherwise forget: resource links
        (placements), line items and received scores, as plain JSON."""
        with self._lock:
            return {
                "version": 1,
                "links": [asdict(link) for link in self._links.values()],
                "line_items": [asdict(item) for item in self._line_items.values()],
                "scores": [asdict(score) for score in self._scores],
            }

    def restore_course_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`course_state` saved. Links of unknown courses or tools are left
        out (the demo seed may have changed since); line item ids keep counting after the
        highest restored one."""
        if state.get("version") != 1:
            raise ValueError("unknown sandbox state version")
        with self._lock:
            for data in state.get("links") or []:
                link = ResourceLink(**data)
                if link.context_id in self._courses and link.client_id in self._tools:
                    self._links[(link.context_id, link.resource_link_id)] = link
            for data in state.get("line_items") or []:
                item = LineItem(**data)
                if item.context_id in self._courses:
                    self._line_items[(item.context_id, item.lineitem_id)] = item
            self._scores.extend(Score(**data) for data in state.get("scores") or [])
            numbers = [int(i) for _, i in self._line_items if i.isdigit()]
            self._lineitem_ids = itertools.count(max(numbers, default=0) + 1)

    def register_tool(
        self,
        client_id: str,
        deployment_ids: Sequence[str],
        login_url: str,
        launch_url: str | Sequence[str],
        jwks_url: str | None,
        deep_link_url: str | None = None,
        *,
        name: str = "Learning Commons",
        target_link_uri: str | None = None,
        scopes: Iterable[str] | None = None,
        custom: Mapping[str, str] | None = None,
        claims: Iterable[str] | None = None,
        jwks: Mapping[str, Any] | None = None,
        placements: bool = True,
        placement_title: str | None = None,
    ) -> ToolRegistration:
        """Register (or re-register) a tool.

        :param launch_url: the redirect URI(s) the tool may use in the authentication
            request; the first one is the default ``target_link_uri``.
        :param jwks_url: where the tool publishes its keys (or pass ``jwks`` directly).
        :param deep_link_url: ``target_link_uri`` for deep-linking requests.
        :param scopes: service scopes the tool may obtain (default: all of them).
        :param custom: custom parameters sent with every launch of this tool.
        :param claims: restrict the personal claims sent in id_tokens (``None``: all).
        :param placements: create one resource link per existing course.
        """
        redirect_uris = (launch_url,) if isinstance(launch_url, str) else tuple(launch_url)
        if not client_id or not deployment_ids:
            raise ValueError("client_id and at least one deployment_id are required")
        urls = [login_url, *redirect_uris]
        if deep_link_url is not None:
            urls.append(deep_link_url)
        if target_link_uri is not None:
            urls.append(target_link_uri)
        if not redirect_uris or not all(_is_http_url(u) for u in urls):
            raise ValueError("login, launch and deep-link URLs must be absolute http(s) URLs")
        if jwks_url is None and jwks is None:
            raise ValueError("a jwks_url or a static jwks is required")
        if jwks_url is not None and not _is_http_url(jwks_url):
            raise ValueError("jwks_url must be an absolute http(s) URL")
        granted = frozenset(SERVICE_SCOPES if scopes is None else scopes)
        if not granted <= set(SERVICE_SCOPES):
            raise ValueError(f"unsupported scopes: {sorted(granted - set(SERVICE_SCOPES))}")
        tool = ToolRegistration(
            client_id=client_id,
            name=name,
            deployment_ids=tuple(deployment_ids),
            login_url=login_url,
            redirect_uris=redirect_uris,
            target_link_uri=target_link_uri or redirect_uris[0],
            jwks_url=jwks_url,
            jwks=dict(jwks) if jwks is not None else None,
            deep_link_url=deep_link_url,
            scopes=granted,
            custom=dict(custom or {}),
            claims=frozenset(claims) if claims is not None else None,
        )
        with self._lock:
            self._tools[client_id] = tool
            self._jwks_cache.pop(client_id, None)
            course_ids = list(self._courses)
        if placements:
            for context_id in course_ids:
                self._ensure_placement(tool, context_id, placement_title or name)
        return self.tool(client_id)

    def _ensure_placement(self, tool: ToolRegistration, context_id: str, title: str) -> None:
        link_id = f"rl-{_short_hash(tool.client_id + '|' + context_id)}"
        with self._lock:
            if (context_id, link_id) not in self._links:
                self._links[(context_id, link_id)] = ResourceLink(
                    context_id, link_id, tool.client_id, title
                )

    def add_resource_link(
        self,
        context_id: str,
        client_id: str,
        title: str,
        *,
        resource_link_id: str | None = None,
        description: str = "",
        url: str | None = None,
        custom: Mapping[str, str] | None = None,
        line_item: Mapping[str, Any] | None = None,
    ) -> ResourceLink:
        """Place a tool in a course; ``line_item`` (AGS JSON) adds a bound gradebook column."""
        link_id = resource_link_id or f"rl-{secrets.token_hex(5)}"
        _check_id(link_id, "resource_link_id")
        if url is not None and not _is_http_url(url):
            raise ValueError("url must be an absolute http(s) URL")
        with self._lock:
            if context_id not in self._courses or client_id not in self._tools:
                raise ValueError("unknown course or tool")
            link = ResourceLink(
                context_id, link_id, client_id, title, description, url, dict(custom or {})
            )
            self._links[(context_id, link_id)] = link
        if line_item is not None:
            body = {"label": title, **line_item, "resourceLinkId": link_id}
            self.create_line_item(client_id, context_id, body)
        return copy.deepcopy(link)

    @classmethod
    def demo(
        cls, issuer: str, private_key_pem: bytes | None = None, **kwargs: Any
    ) -> SandboxPlatform:
        """A platform seeded with the "Leadership Foundations" course.

        People: Ines Instructor (``u-ines``), Lea Learner (``u-lea``), five classmates,
        a teaching assistant (``u-tomas``) and a mentor of Lea (``u-grace``).  Groups
        "Cohort A" and "Cohort B" in the group set "Cohorts".
        """
        platform = cls(issuer, private_key_pem, **kwargs)
        ctx = DEMO_COURSE_ID
        platform.add_course(ctx, "LEAD-101", "Leadership Foundations")
        learner_roles = [ROLE_LEARNER, ROLE_INSTITUTION_STUDENT]
        people: list[tuple[str, str, str, str, list[str]]] = [
            (
                DEMO_INSTRUCTOR_ID,
                "Ines",
                "Instructor",
                "ines.instructor@example.edu",
                [ROLE_INSTRUCTOR, ROLE_INSTITUTION_FACULTY],
            ),
            (DEMO_LEARNER_ID, "Lea", "Learner", "lea.learner@example.edu", learner_roles),
            ("u-amara", "Amara", "Okafor", "amara.okafor@example.edu", learner_roles),
            ("u-benjamin", "Benjamin", "Hartley", "benjamin.hartley@example.edu", learner_roles),
            ("u-chen", "Chen", "Wei", "chen.wei@example.edu", learner_roles),
            ("u-diego", "Diego", "Ramírez", "diego.ramirez@example.edu", learner_roles),
            ("u-sofia", "Sofia", "Lindqvist", "sofia.lindqvist@example.edu", learner_roles),
            (
                DEMO_TA_ID,
                "Tomás",
                "Alvarez",
                "tomas.alvarez@example.edu",
                # Best practice: a sub-role comes with its principal role.
                [ROLE_INSTRUCTOR, ROLE_TEACHING_ASSISTANT, ROLE_INSTITUTION_STUDENT],
            ),
            (
                DEMO_MENTOR_ID,
                "Grace",
                "Whitfield",
                "grace.whitfield@example.edu",
                [ROLE_MENTOR, ROLE_INSTITUTION_MENTOR],
            ),
        ]
        for user_id, given, family, email, roles in people:
            platform.add_person(user_id, given, family, email)
            mentees = [DEMO_LEARNER_ID] if user_id == DEMO_MENTOR_ID else []
            platform.enroll(user_id, ctx, roles, mentees=mentees)
        platform.add_group_set(ctx, "cohorts", "Cohorts")
        platform.add_group(
            ctx,
            "cohort-a",
            "Cohort A",
            set_id="cohorts",
            members=[DEMO_LEARNER_ID, "u-amara", "u-benjamin"],
        )
        platform.add_group(
            ctx, "cohort-b", "Cohort B", set_id="cohorts", members=["u-chen", "u-diego", "u-sofia"]
        )
        return platform

    # ---------------------------------------------------------------- signing

    def make_id_token(
        self,
        claims: Mapping[str, Any],
        *,
        key_pem: bytes | str | None = None,
        kid: str | None = None,
        alg: str = "RS256",
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """Sign ``claims`` as a JWT - by default exactly like a real launch.

        Meant for security tests that forge bad tokens:

        * ``key_pem`` - another private key (RS*/PS*/ES*) or, for ``HS*``, the HMAC secret
          (defaults to the platform's *public* key PEM: the classic key-confusion attack);
        * ``kid`` - another key id; ``""`` omits the header;
        * ``alg="none"`` - an unsigned token;
        * ``headers`` - extra/overriding header fields (a ``None`` value removes a field).
        """
        header: dict[str, Any] = {"typ": "JWT", "alg": alg}
        kid = self.kid if kid is None else kid
        if kid:
            header["kid"] = kid
        header.update(headers or {})
        header = {k: v for k, v in header.items() if v is not None}
        if alg == "none" or alg.startswith("HS"):
            segments = [
                _b64url(json.dumps(header, separators=(",", ":")).encode()),
                _b64url(json.dumps(dict(claims), separators=(",", ":")).encode()),
            ]
            signing_input = ".".join(segments).encode()
            if alg == "none":
                return signing_input.decode() + "."
            digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
            secret = key_pem if key_pem is not None else self.public_key_pem
            secret_bytes = secret.encode() if isinstance(secret, str) else secret
            signature = hmac.new(secret_bytes, signing_input, digests[alg]).digest()
            return signing_input.decode() + "." + _b64url(signature)
        extra = {k: v for k, v in header.items() if k != "alg"}
        key = key_pem if key_pem is not None else self.private_key_pem
        return jwt.encode(dict(claims), key, algorithm=alg, headers=extra)

    def tamper_next_launch(
        self,
        claims_hook: ClaimsHook | None = None,
        **sign_options: Any,
    ) -> None:
        """Make the next :meth:`authorize` call emit a doctored id_token.

        ``claims_hook`` may mutate the claims in place or return new ones;
        ``sign_options`` are passed to :meth:`make_id_token` (``key_pem``, ``kid``,
        ``alg``, ``headers``).  Lets security tests go through the real HTTP flow.
        """
        with self._lock:
            self._tamper = (claims_hook, dict(sign_options))

    # ---------------------------------------------------------------- LTI core launch

    def login_initiation(
        self,
        client_id: str,
        user_id: str,
        context_id: str,
        message_type: str = MSG_RESOURCE_LINK,
        resource_link: Mapping[str, Any] | None = None,
        custom: Mapping[str, str] | None = None,
        target_link_uri: str | None = None,
        deployment_id: str | None = None,
        deep_linking_settings: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        """Start a launch: the parameters to send to the tool's OIDC login URL.

        ``resource_link`` (``{"id", "title", "description"}``) picks a placement; an
        unknown id creates it.  Without it, the tool's default placement in the course is
        used.  The returned ``lti_message_hint`` is an unguessable, short-lived key of the
        launch intent kept server-side.
        """
        intent = self._make_intent(
            client_id,
            user_id,
            context_id,
            message_type,
            resource_link,
            custom,
            target_link_uri,
            deployment_id,
            deep_linking_settings,
        )
        hint = secrets.token_urlsafe(18)
        now = time.time()
        with self._lock:
            for key in [
                k for k, v in self._intents.items() if v.created + MESSAGE_HINT_LIFETIME < now
            ]:
                del self._intents[key]
            self._intents[hint] = intent
        return {
            "iss": self.issuer,
            "login_hint": intent.login_hint,
            "target_link_uri": intent.target_link_uri,
            "lti_message_hint": hint,
            "client_id": client_id,
            "lti_deployment_id": intent.deployment_id,
        }

    def _make_intent(
        self,
        client_id: str,
        user_id: str,
        context_id: str,
        message_type: str,
        resource_link: Mapping[str, Any] | None,
        custom: Mapping[str, str] | None,
        target_link_uri: str | None,
        deployment_id: str | None,
        deep_linking_settings: Mapping[str, Any] | None,
    ) -> _LaunchIntent:
        if message_type not in SUPPORTED_MESSAGES:
            raise PlatformError("invalid_request", f"unsupported message type {message_type!r}")
        extra_custom = _string_dict(custom, "custom")
        with self._lock:
            tool = self._tools.get(client_id)
            if tool is None:
                raise PlatformError("unauthorized_client", f"unknown client_id {client_id!r}")
            deployment_id = deployment_id or tool.deployment_ids[0]
            if deployment_id not in tool.deployment_ids:
                raise PlatformError(
                    "invalid_request", f"deployment {deployment_id!r} is not the tool's"
                )
            if (context_id, user_id) not in self._enrollments:
                raise PlatformError(
                    "invalid_request", f"{user_id!r} is not enrolled in {context_id!r}"
                )
            link: ResourceLink | None = None
            if message_type == MSG_RESOURCE_LINK:
                link = self._resolve_link(tool, context_id, resource_link)
            merged = dict(tool.custom)
            if link is not None:
                merged.update(link.custom)
            merged.update(extra_custom)
        dl_settings: dict[str, Any] | None = None
        if message_type == MSG_DEEP_LINKING:
            target = target_link_uri or tool.deep_link_url or tool.target_link_uri
            dl_settings = self._deep_linking_settings(context_id, deep_linking_settings)
        else:
            assert link is not None
            target = target_link_uri or link.url or tool.target_link_uri
        if not _is_http_url(target):
            raise PlatformError("invalid_request", "target_link_uri must be an http(s) URL")
        return _LaunchIntent(
            client_id=client_id,
            deployment_id=deployment_id,
            user_id=user_id,
            context_id=context_id,
            message_type=message_type,
            login_hint=user_id,
            target_link_uri=target,
            resource_link_id=link.resource_link_id if link else None,
            custom=merged,
            dl_settings=dl_settings,
            created=time.time(),
        )

    def _resolve_link(
        self, tool: ToolRegistration, context_id: str, requested: Mapping[str, Any] | None
    ) -> ResourceLink:
        """Find (or create) the resource link of a launch. Caller holds the lock."""
        if requested is None or not requested.get("id"):
            for link in self._links.values():
                if link.context_id == context_id and link.client_id == tool.client_id:
                    return link
            requested = {"id": f"rl-{_short_hash(tool.client_id + '|' + context_id)}"}
        link_id = str(requested["id"])
        link = self._links.get((context_id, link_id))
        if link is not None:
            if link.client_id != tool.client_id:
                raise PlatformError("invalid_request", "that resource link belongs to another tool")
            return link
        try:
            _check_id(link_id, "resource link id")
        except ValueError as exc:
            raise PlatformError("invalid_request", str(exc)) from exc
        link = ResourceLink(
            context_id,
            link_id,
            tool.client_id,
            str(requested.get("title") or tool.name),
            str(requested.get("description") or ""),
        )
        self._links[(context_id, link_id)] = link
        return link

    def _deep_linking_settings(
        self, context_id: str, overrides: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        course = self.course(context_id)
        settings: dict[str, Any] = {
            "deep_link_return_url": self.deep_link_return_url,
            "accept_types": ["ltiResourceLink", "link"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_media_types": MEDIA_LTI_LINK,
            "accept_multiple": True,
            "accept_lineitem": True,
            "auto_create": True,
            "title": "Add an activity",
            "text": f"Choose Learning Commons content to add to {course.title}",
            "data": secrets.token_urlsafe(16),
        }
        settings.update(overrides or {})
        if settings.get("data") is None:
            settings["data"] = secrets.token_urlsafe(16)
        unknown = set(settings["accept_types"]) - set(DL_CONTENT_TYPES)
        if unknown:
            raise PlatformError("invalid_request", f"unknown accept_types {sorted(unknown)}")
        return settings

    def authorize(
        self,
        params: Mapping[str, str],
        *,
        claims_hook: ClaimsHook | None = None,
        sign_options: Mapping[str, Any] | None = None,
    ) -> AuthResponse:
        """Answer the tool's OIDC authentication request with a signed id_token.

        Validates the request as the LTI security framework requires; raises
        :class:`PlatformError` with an OIDC error code otherwise.  ``claims_hook`` and
        ``sign_options`` let a security test doctor the token (see
        :meth:`tamper_next_launch` for the HTTP equivalent).
        """

        def need(name: str) -> str:
            value = params.get(name)
            if not value:
                raise PlatformError("invalid_request", f"missing {name}")
            return value

        if "openid" not in need("scope").split():
            raise PlatformError("invalid_scope", "scope must contain openid")
        if need("response_type") != "id_token":
            raise PlatformError("unsupported_response_type", "response_type must be id_token")
        client_id = need("client_id")
        with self._lock:
            tool = self._tools.get(client_id)
        if tool is None:
            raise PlatformError("unauthorized_client", f"unknown client_id {client_id!r}")
        redirect_uri = need("redirect_uri")
        if redirect_uri not in tool.redirect_uris:
            raise PlatformError("invalid_request", "redirect_uri is not registered for the client")
        if need("response_mode") != "form_post":
            raise PlatformError("invalid_request", "response_mode must be form_post")
        if params.get("prompt") not in (None, "", "none"):
            raise PlatformError("invalid_request", "only prompt=none is supported")
        nonce = need("nonce")
        login_hint = need("login_hint")
        hint = need("lti_message_hint")
        with self._lock:
            intent = self._intents.get(hint)
            if intent is None or intent.created + MESSAGE_HINT_LIFETIME < time.time():
                raise PlatformError("invalid_request", "unknown or expired lti_message_hint")
            if intent.client_id != client_id:
                raise PlatformError(
                    "invalid_request", "lti_message_hint was issued to another client"
                )
            if intent.login_hint != login_hint:
                raise PlatformError("login_required", "login_hint does not match the current user")
            del self._intents[hint]
            tamper, self._tamper = self._tamper, None
        claims = self._build_claims(intent, nonce)
        key_pem, kid = self.client_key(client_id)
        options = {"key_pem": key_pem, "kid": kid, **(sign_options or {})}
        hooks = [claims_hook]
        if tamper is not None:
            hooks.append(tamper[0])
            options.update(tamper[1])
        for hook in hooks:
            if hook is not None:
                replaced = hook(claims)
                claims = replaced if replaced is not None else claims
        fields = {"id_token": self.make_id_token(claims, **options)}
        if params.get("state") is not None:
            fields["state"] = params["state"]
        return AuthResponse(action_url=redirect_uri, fields=fields)

    def base_claims(
        self,
        client_id: str,
        user_id: str,
        context_id: str,
        nonce: str,
        message_type: str = MSG_RESOURCE_LINK,
        *,
        resource_link: Mapping[str, Any] | None = None,
        custom: Mapping[str, str] | None = None,
        target_link_uri: str | None = None,
        deployment_id: str | None = None,
        deep_linking_settings: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The exact claims a real launch would carry, for tests to tamper with and sign."""
        intent = self._make_intent(
            client_id,
            user_id,
            context_id,
            message_type,
            resource_link,
            custom,
            target_link_uri,
            deployment_id,
            deep_linking_settings,
        )
        return self._build_claims(intent, nonce)

    def _build_claims(self, intent: _LaunchIntent, nonce: str) -> dict[str, Any]:
        with self._lock:
            tool = self._tools[intent.client_id]
            person = self._people[intent.user_id]
            course = self._courses[intent.context_id]
            enrollment = self._enrollments[(intent.context_id, intent.user_id)]
            link = (
                self._links.get((intent.context_id, intent.resource_link_id))
                if intent.resource_link_id
                else None
            )
            bound_items = (
                [
                    li
                    for li in self._line_items.values()
                    if li.context_id == intent.context_id
                    and li.resource_link_id == intent.resource_link_id
                    and li.client_id == tool.client_id
                ]
                if link
                else []
            )
            tool, person, course, enrollment, link = copy.deepcopy(
                (tool, person, course, enrollment, link)
            )
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": person.user_id,
            "aud": tool.client_id,
            "azp": tool.client_id,
            "exp": now + ID_TOKEN_LIFETIME,
            "iat": now,
            "nonce": nonce,
            CLAIM_MESSAGE_TYPE: intent.message_type,
            CLAIM_VERSION: LTI_VERSION,
            CLAIM_DEPLOYMENT_ID: intent.deployment_id,
            CLAIM_TARGET_LINK_URI: intent.target_link_uri,
            CLAIM_ROLES: list(enrollment.roles),
            CLAIM_CONTEXT: {
                "id": course.context_id,
                "label": course.label,
                "title": course.title,
                "type": [COURSE_OFFERING],
            },
            CLAIM_TOOL_PLATFORM: {
                "guid": self.guid,
                "name": self.name,
                "contact_email": "lms-admin@example.edu",
                "description": "Development LMS for Learning Commons",
                "url": self.issuer,
                "product_family_code": PRODUCT_FAMILY_CODE,
                "version": PRODUCT_VERSION,
            },
            CLAIM_LAUNCH_PRESENTATION: {
                "document_target": "iframe",
                "return_url": self.return_url(course.context_id),
                "locale": person.locale,
            },
            CLAIM_LIS: {
                "person_sourcedid": person.sourced_id,
                "course_offering_sourcedid": course.sourced_id,
                "course_section_sourcedid": f"{course.sourced_id}-S1",
            },
        }
        personal = {
            "name": person.name,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "email": person.email,
            "picture": person.picture or self.avatar_url(person.user_id),
            "locale": person.locale,
        }
        for claim, value in personal.items():
            if tool.claims is None or claim in tool.claims:
                claims[claim] = value
        if enrollment.mentees:
            claims[CLAIM_ROLE_SCOPE_MENTOR] = list(enrollment.mentees)
        if link is not None:
            claims[CLAIM_RESOURCE_LINK] = {"id": link.resource_link_id, "title": link.title}
            if link.description:
                claims[CLAIM_RESOURCE_LINK]["description"] = link.description
        custom = self._substitute(intent.custom, person, course, enrollment, link)
        if custom:
            claims[CLAIM_CUSTOM] = custom
        if SCOPE_NRPS in tool.scopes:
            claims[CLAIM_NRPS] = {
                "context_memberships_url": self.memberships_url(course.context_id),
                "service_versions": ["2.0"],
            }
        ags_scopes = [s for s in AGS_SCOPES if s in tool.scopes]
        if ags_scopes:
            ags: dict[str, Any] = {
                "scope": ags_scopes,
                "lineitems": self.lineitems_url(course.context_id),
            }
            if len(bound_items) == 1:
                ags["lineitem"] = self.lineitem_url(course.context_id, bound_items[0].lineitem_id)
            claims[CLAIM_AGS] = ags
        if SCOPE_GROUPS in tool.scopes:
            claims[CLAIM_GROUPS] = {
                "context_groups_url": self.groups_url(course.context_id),
                "context_group_sets_url": self.group_sets_url(course.context_id),
                "scope": [SCOPE_GROUPS],
                "service_versions": ["1.0"],
            }
        if intent.message_type == MSG_DEEP_LINKING:
            assert intent.dl_settings is not None
            claims[CLAIM_DL_SETTINGS] = dict(intent.dl_settings)
            data = intent.dl_settings.get("data")
            with self._lock:
                self._pending_deep_links[str(data)] = _PendingDeepLink(
                    tool.client_id,
                    intent.deployment_id,
                    course.context_id,
                    person.user_id,
                    dict(intent.dl_settings),
                    nonce,
                    time.time(),
                )
        return claims

    def _substitute(
        self,
        custom: Mapping[str, str],
        person: Person,
        course: Course,
        enrollment: Enrollment,
        link: ResourceLink | None,
    ) -> dict[str, str]:
        """Resolve ``$Variable`` custom parameter values; unknown ones pass unchanged."""
        values: dict[str, str | None] = {
            "User.id": person.user_id,
            "User.username": person.username,
            "Person.sourcedId": person.sourced_id,
            "Person.name.full": person.name,
            "Person.name.given": person.given_name,
            "Person.name.family": person.family_name,
            "Person.email.primary": person.email,
            "Context.id": course.context_id,
            "Context.label": course.label,
            "Context.title": course.title,
            "Context.type": COURSE_OFFERING,
            "CourseOffering.sourcedId": course.sourced_id,
            "CourseOffering.label": course.label,
            "CourseOffering.title": course.title,
            "CourseSection.sourcedId": f"{course.sourced_id}-S1",
            "ResourceLink.id": link.resource_link_id if link else None,
            "ResourceLink.title": link.title if link else None,
            "ResourceLink.description": link.description if link else None,
            "Membership.role": ",".join(enrollment.roles),
            "Membership.role.scope.mentor": ",".join(enrollment.mentees),
            "Message.locale": person.locale,
            "ToolPlatform.productFamilyCode": PRODUCT_FAMILY_CODE,
            "ToolPlatform.version": PRODUCT_VERSION,
            "ToolPlatformInstance.guid": self.guid,
            "ToolPlatformInstance.name": self.name,
        }
        out = {}
        for key, value in custom.items():
            resolved = values.get(value[1:]) if value.startswith("$") else None
            out[key] = resolved if resolved is not None else value
        return out

    # ---------------------------------------------------------------- tool keys

    def _tool_public_key(self, tool: ToolRegistration, kid: object, error: str) -> Any:
        """The tool's RSA public key with ``kid`` (fetching its JWKS over HTTP if needed)."""
        status = 401 if error == "invalid_client" else 400
        if not isinstance(kid, str) or not kid:
            raise PlatformError(error, "the JWT header has no kid", status)
        jwks = tool.jwks
        if jwks is None:
            with self._lock:
                cached = self._jwks_cache.get(tool.client_id)
            if cached and cached[0] > time.time() and _find_jwk(cached[1], kid) is not None:
                jwks = cached[1]
            else:
                assert tool.jwks_url is not None
                try:
                    resp = self._http.get(tool.jwks_url, timeout=HTTP_TIMEOUT)
                    resp.raise_for_status()
                    jwks = resp.json()
                except (requests.RequestException, ValueError) as exc:
                    raise PlatformError(
                        error, f"cannot fetch the tool's JWKS: {exc}", status
                    ) from exc
                if not isinstance(jwks, dict):
                    raise PlatformError(error, "the tool's JWKS is not a JSON object", status)
                with self._lock:
                    self._jwks_cache[tool.client_id] = (time.time() + JWKS_CACHE_SECONDS, jwks)
        jwk = _find_jwk(jwks, kid)
        if jwk is None:
            raise PlatformError(error, f"no key {kid!r} in the tool's JWKS", status)
        if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            raise PlatformError(error, f"key {kid!r} is not an RSA signing key", status)
        if jwk.get("alg", "RS256") != "RS256":
            raise PlatformError(error, f"key {kid!r} is not for RS256", status)
        try:
            return RSAAlgorithm.from_jwk(jwk)
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise PlatformError(error, f"key {kid!r} is malformed", status) from exc

    def _verify_tool_jwt(
        self, token: str, error: str, audience: str | list[str], require: list[str]
    ) -> tuple[ToolRegistration, dict[str, Any]]:
        """Verify a JWT signed by a registered tool (``iss`` = its client_id)."""
        status = 401 if error == "invalid_client" else 400
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise PlatformError(error, f"malformed JWT: {exc}", status) from exc
        if header.get("alg") != "RS256":
            raise PlatformError(error, "the JWT must be signed with RS256", status)
        client_id = unverified.get("iss")
        with self._lock:
            tool = self._tools.get(client_id) if isinstance(client_id, str) else None
            tool = copy.deepcopy(tool)
        if tool is None:
            raise PlatformError(error, f"iss {client_id!r} is not a registered client", status)
        key = self._tool_public_key(tool, header.get("kid"), error)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=audience,
                issuer=tool.client_id,
                leeway=JWT_LEEWAY,
                options={"require": require},
            )
        except jwt.PyJWTError as exc:
            raise PlatformError(error, f"JWT rejected: {exc}", status) from exc
        return tool, claims

    # ---------------------------------------------------------------- deep linking

    def receive_deep_link_response(self, jwt_str: str) -> list[dict[str, Any]]:
        """Validate a tool's ``LtiDeepLinkingResponse`` and create the returned content.

        ``ltiResourceLink`` items become resource links of the course (with a bound AGS
        line item when they carry ``lineItem``), so they can be launched afterwards.
        Returns the content items; see :meth:`accept_deep_link_response` for details.
        """
        return self.accept_deep_link_response(jwt_str).content_items

    def accept_deep_link_response(self, jwt_str: str) -> DeepLinkResult:
        """Like :meth:`receive_deep_link_response`, returning the full :class:`DeepLinkResult`
        (also appended to :attr:`deep_link_results`)."""
        tool, claims = self._verify_tool_jwt(
            jwt_str, "invalid_request", self.issuer, ["iss", "aud", "exp", "iat", "nonce"]
        )
        if not isinstance(claims.get("nonce"), str) or not claims["nonce"]:
            raise PlatformError("invalid_request", "nonce must be a non-empty string")
        if claims.get(CLAIM_MESSAGE_TYPE) != MSG_DEEP_LINKING_RESPONSE:
            raise PlatformError("invalid_request", "message_type must be LtiDeepLinkingResponse")
        if claims.get(CLAIM_VERSION) != LTI_VERSION:
            raise PlatformError("invalid_request", "version must be 1.3.0")
        deployment_id = claims.get(CLAIM_DEPLOYMENT_ID)
        if deployment_id not in tool.deployment_ids:
            raise PlatformError("invalid_request", "deployment_id is not one of the tool's")
        data = claims.get(CLAIM_DL_DATA)
        with self._lock:
            pending = self._pending_deep_links.get(data) if isinstance(data, str) else None
        if pending is None:
            raise PlatformError(
                "invalid_request", "data does not match any pending deep-linking request"
            )
        if pending.client_id != tool.client_id or pending.deployment_id != deployment_id:
            raise PlatformError("invalid_request", "the deep-linking request was for another tool")
        items = claims.get(CLAIM_DL_CONTENT_ITEMS, [])
        self._validate_content_items(items, pending.settings)
        with self._lock:
            if self._pending_deep_links.pop(data, None) is None:
                raise PlatformError("invalid_request", "this deep-linking request was answered")
        link_ids = []
        for item in items:
            if item["type"] == "ltiResourceLink":
                link = self.add_resource_link(
                    pending.context_id,
                    tool.client_id,
                    item.get("title") or "Untitled activity",
                    description=item.get("text") or "",
                    url=item.get("url"),
                    custom=item.get("custom"),
                    line_item=item.get("lineItem"),
                )
                link_ids.append(link.resource_link_id)

        def text(claim: str) -> str | None:
            value = claims.get(claim)
            return value if isinstance(value, str) else None

        result = DeepLinkResult(
            client_id=tool.client_id,
            deployment_id=deployment_id,
            context_id=pending.context_id,
            user_id=pending.user_id,
            content_items=copy.deepcopy(items),
            resource_link_ids=link_ids,
            msg=text(CLAIM_DL_MSG),
            log=text(CLAIM_DL_LOG),
            errormsg=text(CLAIM_DL_ERRORMSG),
            errorlog=text(CLAIM_DL_ERRORLOG),
        )
        with self._lock:
            self.deep_link_results.append(result)
        return copy.deepcopy(result)

    def _validate_content_items(self, items: object, settings: Mapping[str, Any]) -> None:
        def bad(message: str) -> PlatformError:
            return PlatformError("invalid_request", message)

        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise bad("content_items must be an array of objects")
        if len(items) > 1 and not settings.get("accept_multiple", True):
            raise bad("the request did not accept multiple content items")
        accept_types = settings.get("accept_types", [])
        targets = settings.get("accept_presentation_document_targets", [])
        for index, item in enumerate(items):
            where = f"content_items[{index}]"
            kind = item.get("type")
            if kind not in accept_types:
                raise bad(f"{where}: type {kind!r} was not in accept_types")
            for target in PRESENTATION_TARGETS:
                if target in item and target not in targets:
                    raise bad(f"{where}: presentation target {target!r} was not accepted")
            for key in ("title", "text", "html"):
                if key in item and not isinstance(item[key], str):
                    raise bad(f"{where}: {key} must be a string")
            needs_url = kind in ("link", "file", "image")
            if ("url" in item or needs_url) and not _is_http_url(item.get("url")):
                raise bad(f"{where}: url must be an absolute http(s) URL")
            if kind == "html" and not item.get("html"):
                raise bad(f"{where}: html items need html")
            if kind != "ltiResourceLink":
                continue
            _string_dict(item.get("custom"), f"{where}.custom")
            for block in ("available", "submission"):
                if block in item:
                    if not isinstance(item[block], dict):
                        raise bad(f"{where}: {block} must be an object")
                    for key in ("startDateTime", "endDateTime"):
                        if key in item[block]:
                            _parse_datetime(item[block][key], f"{where}.{block}.{key}")
            if "lineItem" in item:
                if not settings.get("accept_lineitem", False):
                    raise bad(f"{where}: the request did not accept line items")
                line_item = item["lineItem"]
                if not isinstance(line_item, dict):
                    raise bad(f"{where}: lineItem must be an object")
                maximum = line_item.get("scoreMaximum")
                if not _is_number(maximum) or maximum <= 0:
                    raise bad(f"{where}: lineItem.scoreMaximum must be a positive number")
                for key in ("label", "resourceId", "tag"):
                    if key in line_item and not isinstance(line_item[key], str):
                        raise bad(f"{where}: lineItem.{key} must be a string")
                if "gradesReleased" in line_item and not isinstance(
                    line_item["gradesReleased"], bool
                ):
                    raise bad(f"{where}: lineItem.gradesReleased must be a boolean")

    # ---------------------------------------------------------------- OAuth 2 token

    def issue_access_token(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Token endpoint: ``client_credentials`` grant with a JWT client assertion."""
        grant_type = form.get("grant_type")
        if not grant_type:
            raise PlatformError("invalid_request", "missing grant_type")
        if grant_type != "client_credentials":
            raise PlatformError("unsupported_grant_type", "only client_credentials is supported")
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            raise PlatformError(
                "invalid_request", f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}"
            )
        assertion = form.get("client_assertion")
        if not assertion:
            raise PlatformError("invalid_request", "missing client_assertion")
        tool, claims = self._verify_tool_jwt(
            assertion,
            "invalid_client",
            [self.token_url, self.issuer],
            ["iss", "sub", "aud", "exp", "iat", "jti"],
        )
        if claims.get("sub") != tool.client_id:
            raise PlatformError("invalid_client", "sub must equal iss (the client_id)", 401)
        with self._lock:
            suspended = tool.client_id in self._suspended_tools
        if suspended:
            raise PlatformError("invalid_client", "this tool's access is suspended", 401)
        if form.get("client_id") and form["client_id"] != tool.client_id:
            raise PlatformError("invalid_client", "client_id does not match the assertion", 401)
        requested = list(dict.fromkeys(form.get("scope", "").split()))
        now = time.time()
        with self._lock:
            for key in [k for k, exp in self._used_jtis.items() if exp + JWT_LEEWAY < now]:
                del self._used_jtis[key]
            jti_key = (tool.client_id, str(claims["jti"]))
            if jti_key in self._used_jtis:
                raise PlatformError("invalid_client", "the assertion's jti was already used", 401)
            self._used_jtis[jti_key] = float(claims["exp"])
        if not requested:
            raise PlatformError("invalid_scope", "scope is required")
        granted = [s for s in requested if s in tool.scopes]
        if not granted:
            raise PlatformError("invalid_scope", "none of the requested scopes is allowed")
        token = secrets.token_urlsafe(32)
        with self._lock:
            for key in [k for k, t in self._access_tokens.items() if t.expires_at < now]:
                del self._access_tokens[key]
            self._access_tokens[token] = AccessToken(
                token, tool.client_id, frozenset(granted), now + ACCESS_TOKEN_LIFETIME
            )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "scope": " ".join(granted),
        }

    def check_token(
        self, authorization_header: str | None, required_scope: str | Iterable[str]
    ) -> AccessToken:
        """Authorize a service call: a live bearer token holding one of the scopes.

        Raises ``PlatformError("invalid_token", status=401)`` or
        ``PlatformError("insufficient_scope", status=403)``.
        """
        scheme, _, value = (authorization_header or "").partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            raise PlatformError("invalid_token", "a Bearer access token is required", 401)
        with self._lock:
            token = copy.deepcopy(self._access_tokens.get(value))
        if token is None or token.expires_at < time.time():
            raise PlatformError("invalid_token", "unknown or expired access token", 401)
        required = {required_scope} if isinstance(required_scope, str) else set(required_scope)
        if not required & token.scopes:
            raise PlatformError(
                "insufficient_scope", f"requires one of: {' '.join(sorted(required))}", 403
            )
        return token

    def revoke_access_tokens(self, client_id: str | None = None) -> int:
        """Forget the access tokens issued so far (all, or one tool's), as a platform does when
        it restarts or an administrator revokes them: service calls with them then get 401
        ``invalid_token``. Returns how many were revoked."""
        with self._lock:
            gone = [
                key
                for key, token in self._access_tokens.items()
                if client_id is None or token.client_id == client_id
            ]
            for key in gone:
                del self._access_tokens[key]
        return len(gone)

    def suspend_tool(self, client_id: str, suspended: bool = True) -> None:
        """Refuse (or, with ``suspended=False``, allow again) the tool's token requests, as an
        administrator who disables a tool's service access does: 401 ``invalid_client``."""
        self.tool(client_id)  # KeyError for an unknown tool
        with self._lock:
            if suspended:
                self._suspended_tools.add(client_id)
            else:
                self._suspended_tools.discard(client_id)

    def live_access_tokens(self, client_id: str | None = None) -> int:
        """How many live access tokens the platform holds (all, or one tool's)."""
        with self._lock:
            return sum(
                1
                for token in self._access_tokens.values()
                if client_id is None or token.client_id == client_id
            )

    # ---------------------------------------------------------------- paging

    def _page(
        self,
        items: list[Any],
        base_url: str,
        limit: int | None,
        page: int,
        params: Mapping[str, str | None],
    ) -> tuple[list[Any], str | None, str]:
        """Slice ``items``; return the page, the ``Link`` header value and this page's URL."""
        if limit is not None and limit < 1:
            raise PlatformError("invalid_request", "limit must be a positive integer")
        if page < 1:
            raise PlatformError("invalid_request", "page must be a positive integer")
        size = limit or self.page_size
        start = (page - 1) * size
        kept = {k: v for k, v in params.items() if v is not None}

        def page_url(number: int) -> str:
            return _add_query(base_url, {**kept, "limit": str(size), "page": str(number)})

        links = []
        if start + size < len(items):
            links.append(f'<{page_url(page + 1)}>; rel="next"')
        if page > 1 or links:
            last = max(1, math.ceil(len(items) / size))
            links.append(f'<{page_url(1)}>; rel="first"')
            links.append(f'<{page_url(last)}>; rel="last"')
        current = page_url(page) if (limit or page > 1) else _add_query(base_url, kept)
        return items[start : start + size], (", ".join(links) or None), current

    def _require_course(self, context_id: str) -> Course:
        with self._lock:
            course = self._courses.get(context_id)
        if course is None:
            raise PlatformError("not_found", f"unknown context {context_id!r}", 404)
        return copy.deepcopy(course)

    # ---------------------------------------------------------------- NRPS 2.0

    def memberships(
        self,
        context_id: str,
        *,
        limit: int | None = None,
        page: int = 1,
        rlid: str | None = None,
        role: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """NRPS membership container page and its ``Link`` header (``None`` if single page).

        ``role`` filters by a role URI or a context role short name (``Learner``);
        ``rlid`` restricts to a resource link and adds each member's ``message`` section
        with the link's resolved custom parameters.
        """
        course = self._require_course(context_id)
        with self._lock:
            link = self._links.get((context_id, rlid)) if rlid else None
            if rlid and link is None:
                raise PlatformError("not_found", f"unknown resource link {rlid!r}", 404)
            tool_custom = dict(self._tools[link.client_id].custom) if link else {}
            rows = [
                (copy.deepcopy(self._people[uid]), copy.deepcopy(e))
                for (ctx, uid), e in self._enrollments.items()
                if ctx == context_id
            ]
            groups = [g for (ctx, _), g in self._groups.items() if ctx == context_id]
            group_ids = {
                person.user_id: [g.group_id for g in groups if person.user_id in g.members]
                for person, _ in rows
            }
            link = copy.deepcopy(link)
        if role:
            rows = [(p, e) for p, e in rows if any(_role_matches(r, role) for r in e.roles)]
        chunk, link_header, current = self._page(
            rows, self.memberships_url(context_id), limit, page, {"role": role, "rlid": rlid}
        )
        members = []
        for person, enrollment in chunk:
            member: dict[str, Any] = {
                "status": enrollment.status,
                "user_id": person.user_id,
                "roles": [r for r in enrollment.roles if r.startswith(_MEMBERSHIP)],
                "name": person.name,
                "given_name": person.given_name,
                "family_name": person.family_name,
                "email": person.email,
                "picture": person.picture or self.avatar_url(person.user_id),
                "lis_person_sourcedid": person.sourced_id,
                "group_enrollments": [{"group_id": gid} for gid in group_ids[person.user_id]],
            }
            if link is not None:
                custom = self._substitute(
                    {**tool_custom, **link.custom}, person, course, enrollment, link
                )
                message: dict[str, Any] = {CLAIM_MESSAGE_TYPE: MSG_RESOURCE_LINK}
                if custom:
                    message[CLAIM_CUSTOM] = custom
                member["message"] = [message]
            members.append(member)
        body = {
            "id": current,
            "context": {"id": course.context_id, "label": course.label, "title": course.title},
            "members": members,
        }
        return body, link_header

    # ---------------------------------------------------------------- Course Groups

    def groups(
        self,
        context_id: str,
        *,
        limit: int | None = None,
        page: int = 1,
        user_id: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """Course Groups container page (``{"id", "groups": [...]}``) and ``Link`` header."""
        self._require_course(context_id)
        with self._lock:
            found = [
                copy.deepcopy(g)
                for (ctx, _), g in self._groups.items()
                if ctx == context_id and (user_id is None or user_id in g.members)
            ]
        chunk, link_header, current = self._page(
            found, self.groups_url(context_id), limit, page, {"user_id": user_id}
        )
        groups = []
        for group in chunk:
            entry: dict[str, Any] = {"id": group.group_id, "name": group.name}
            if group.tag:
                entry["tag"] = group.tag
            if group.set_id:
                entry["set_id"] = group.set_id
            groups.append(entry)
        return {"id": current, "groups": groups}, link_header

    def group_sets(
        self, context_id: str, *, limit: int | None = None, page: int = 1
    ) -> tuple[dict[str, Any], str | None]:
        """Course Groups group-set container page (``{"id", "sets": [...]}``)."""
        self._require_course(context_id)
        with self._lock:
            found = [
                copy.deepcopy(s) for (ctx, _), s in self._group_sets.items() if ctx == context_id
            ]
        chunk, link_header, current = self._page(
            found, self.group_sets_url(context_id), limit, page, {}
        )
        sets = [{"id": s.set_id, "name": s.name} for s in chunk]
        return {"id": current, "sets": sets}, link_header

    # ---------------------------------------------------------------- AGS 2.0

    def _line_item_json(self, item: LineItem) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.lineitem_url(item.context_id, item.lineitem_id),
            "scoreMaximum": item.score_maximum,
            "label": item.label,
        }
        optional = {
            "resourceLinkId": item.resource_link_id,
            "resourceId": item.resource_id,
            "tag": item.tag,
            "startDateTime": item.start_date_time,
            "endDateTime": item.end_date_time,
            "gradesReleased": item.grades_released,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body

    def _validated_line_item(
        self, client_id: str, context_id: str, body: object, lineitem_id: str
    ) -> LineItem:
        if not isinstance(body, dict):
            raise PlatformError("invalid_request", "the line item must be a JSON object")
        label = body.get("label")
        if not isinstance(label, str) or not label.strip():
            raise PlatformError("invalid_request", "label is required")
        maximum = body.get("scoreMaximum")
        if not _is_number(maximum) or maximum <= 0:
            raise PlatformError("invalid_request", "scoreMaximum must be a number > 0")
        for key in ("resourceLinkId", "resourceId", "tag", "startDateTime", "endDateTime"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise PlatformError("invalid_request", f"{key} must be a string")
        if "gradesReleased" in body and not isinstance(body["gradesReleased"], bool):
            raise PlatformError("invalid_request", "gradesReleased must be a boolean")
        start, end = body.get("startDateTime"), body.get("endDateTime")
        if start is not None and end is not None:
            if _parse_datetime(start, "startDateTime") > _parse_datetime(end, "endDateTime"):
                raise PlatformError("invalid_request", "startDateTime is after endDateTime")
        elif start is not None or end is not None:
            _parse_datetime(start or end, "startDateTime/endDateTime")
        link_id = body.get("resourceLinkId")
        if link_id is not None:
            with self._lock:
                link = self._links.get((context_id, link_id))
            if link is None or link.client_id != client_id:
                raise PlatformError("invalid_request", f"unknown resourceLinkId {link_id!r}")
        return LineItem(
            context_id=context_id,
            lineitem_id=lineitem_id,
            client_id=client_id,
            label=label,
            score_maximum=maximum,
            resource_link_id=link_id,
            resource_id=body.get("resourceId"),
            tag=body.get("tag"),
            start_date_time=start,
            end_date_time=end,
            grades_released=body.get("gradesReleased"),
        )

    def _owned_line_item(self, client_id: str, context_id: str, lineitem_id: str) -> LineItem:
        self._require_course(context_id)
        with self._lock:
            item = self._line_items.get((context_id, lineitem_id))
        if item is None or item.client_id != client_id:
            raise PlatformError("not_found", f"unknown line item {lineitem_id!r}", 404)
        return copy.deepcopy(item)

    def list_line_items(
        self,
        client_id: str,
        context_id: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        page: int = 1,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The tool's line items in a course (filtered, paged) and the ``Link`` header."""
        self._require_course(context_id)
        with self._lock:
            found = [
                copy.deepcopy(li)
                for li in self._line_items.values()
                if li.context_id == context_id
                and li.client_id == client_id
                and (resource_link_id is None or li.resource_link_id == resource_link_id)
                and (resource_id is None or li.resource_id == resource_id)
                and (tag is None or li.tag == tag)
            ]
        params = {"resource_link_id": resource_link_id, "resource_id": resource_id, "tag": tag}
        chunk, link_header, _ = self._page(
            found, self.lineitems_url(context_id), limit, page, params
        )
        return [self._line_item_json(li) for li in chunk], link_header

    def create_line_item(
        self, client_id: str, context_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create a line item owned by ``client_id``; returns its JSON (with ``id``)."""
        self._require_course(context_id)
        lineitem_id = str(next(self._lineitem_ids))
        item = self._validated_line_item(client_id, context_id, dict(body), lineitem_id)
        with self._lock:
            self._line_items[(context_id, lineitem_id)] = item
        return self._line_item_json(item)

    def get_line_item(self, client_id: str, context_id: str, lineitem_id: str) -> dict[str, Any]:
        """One line item's JSON."""
        return self._line_item_json(self._owned_line_item(client_id, context_id, lineitem_id))

    def update_line_item(
        self, client_id: str, context_id: str, lineitem_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Replace a line item (PUT); its ``id`` cannot change."""
        self._owned_line_item(client_id, context_id, lineitem_id)
        if "id" in body and body["id"] != self.lineitem_url(context_id, lineitem_id):
            raise PlatformError("invalid_request", "the line item id cannot change")
        item = self._validated_line_item(client_id, context_id, dict(body), lineitem_id)
        with self._lock:
            self._line_items[(context_id, lineitem_id)] = item
        return self._line_item_json(item)

    def delete_line_item(self, client_id: str, context_id: str, lineitem_id: str) -> None:
        """Delete a line item (its results go with it; received scores are kept)."""
        self._owned_line_item(client_id, context_id, lineitem_id)
        with self._lock:
            del self._line_items[(context_id, lineitem_id)]

    def post_score(
        self, client_id: str, context_id: str, lineitem_id: str, body: Mapping[str, Any]
    ) -> Score:
        """Receive a score (AGS ``POST {lineitem}/scores``) after validating it.

        A score older than the last applied one for the same user and line item is
        recorded but does not update the result, as the spec requires.
        """
        item = self._owned_line_item(client_id, context_id, lineitem_id)
        if not isinstance(body, Mapping):
            raise PlatformError("invalid_request", "the score must be a JSON object")
        user_id = body.get("userId")
        if not isinstance(user_id, str) or not user_id:
            raise PlatformError("invalid_request", "userId is required")
        with self._lock:
            enrolled = (context_id, user_id) in self._enrollments
        if not enrolled:
            raise PlatformError("invalid_request", f"userId {user_id!r} is not in this context")
        if body.get("activityProgress") not in ACTIVITY_PROGRESS:
            raise PlatformError(
                "invalid_request", f"activityProgress must be one of {ACTIVITY_PROGRESS}"
            )
        if body.get("gradingProgress") not in GRADING_PROGRESS:
            raise PlatformError(
                "invalid_request", f"gradingProgress must be one of {GRADING_PROGRESS}"
            )
        stamp = _parse_datetime(body.get("timestamp"), "timestamp")
        given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
        if given is not None:
            if not _is_number(given) or given < 0:
                raise PlatformError("invalid_request", "scoreGiven must be a number >= 0")
            if not _is_number(maximum) or maximum <= 0:
                raise PlatformError(
                    "invalid_request", "scoreMaximum (> 0) is required with scoreGiven"
                )
            if given > maximum and not self.allow_extra_credit:
                raise PlatformError("invalid_request", "scoreGiven exceeds scoreMaximum")
        elif maximum is not None and (not _is_number(maximum) or maximum <= 0):
            raise PlatformError("invalid_request", "scoreMaximum must be a number > 0")
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise PlatformError("invalid_request", "comment must be a string")
        submission = body.get("submission")
        if submission is not None:
            if not isinstance(submission, Mapping):
                raise PlatformError("invalid_request", "submission must be an object")
            for key in ("startedAt", "submittedAt"):
                if key in submission:
                    _parse_datetime(submission[key], f"submission.{key}")
        score = Score(
            context_id=context_id,
            lineitem_id=item.lineitem_id,
            client_id=client_id,
            user_id=user_id,
            activity_progress=body["activityProgress"],
            grading_progress=body["gradingProgress"],
            timestamp=body["timestamp"],
            score_given=given,
            score_maximum=maximum,
            comment=comment,
            received_at=time.time(),
            body=copy.deepcopy(dict(body)),
        )
        with self._lock:
            for previous in reversed(self._scores):
                if (
                    previous.applied
                    and previous.context_id == context_id
                    and previous.lineitem_id == item.lineitem_id
                    and previous.user_id == user_id
                ):
                    if _parse_datetime(previous.timestamp, "timestamp") > stamp:
                        score.applied = False
                    break
            self._scores.append(score)
        return copy.deepcopy(score)

    def list_results(
        self,
        client_id: str,
        context_id: str,
        lineitem_id: str,
        *,
        user_id: str | None = None,
        limit: int | None = None,
        page: int = 1,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """AGS results of a line item (latest applied score per user), paged."""
        item = self._owned_line_item(client_id, context_id, lineitem_id)
        latest: dict[str, Score] = {}
        with self._lock:
            for score in self._scores:
                if (
                    score.applied
                    and score.context_id == context_id
                    and score.lineitem_id == lineitem_id
                ):
                    latest[score.user_id] = copy.deepcopy(score)
        rows = [s for uid, s in latest.items() if user_id is None or uid == user_id]
        lineitem_url = self.lineitem_url(context_id, lineitem_id)
        chunk, link_header, _ = self._page(
            rows, lineitem_url + "/results", limit, page, {"user_id": user_id}
        )
        results = []
        for score in chunk:
            result: dict[str, Any] = {
                "id": f"{lineitem_url}/results/{quote(score.user_id, safe='')}",
                "scoreOf": lineitem_url,
                "userId": score.user_id,
                "resultMaximum": item.score_maximum,
            }
            if score.score_given is not None and score.score_maximum:
                result["resultScore"] = round(
                    score.score_given * item.score_maximum / score.score_maximum, 6
                )
            if score.comment is not None:
                result["comment"] = score.comment
            results.append(result)
        return results, link_header

    # ---------------------------------------------------------------- Dynamic Registration

    def openid_configuration(self) -> dict[str, Any]:
        """The platform's OpenID configuration (LTI Dynamic Registration 1.0)."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.auth_url,
            "token_endpoint": self.token_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": self.jwks_url,
            "registration_endpoint": self.registration_url,
            "scopes_supported": ["openid", *SERVICE_SCOPES],
            "response_types_supported": ["id_token"],
            "response_modes_supported": ["form_post"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["iss", "sub", "aud", "nonce", *sorted(PII_CLAIMS)],
            PLATFORM_CONFIGURATION: {
                "product_family_code": PRODUCT_FAMILY_CODE,
                "version": PRODUCT_VERSION,
                "messages_supported": [{"type": MSG_RESOURCE_LINK}, {"type": MSG_DEEP_LINKING}],
                "variables": list(SUBSTITUTION_VARIABLES),
            },
        }

    def start_registration(self, tool_registration_url: str) -> str:
        """The URL an administrator's browser opens to start registering a tool."""
        if not _is_http_url(tool_registration_url):
            raise PlatformError("invalid_request", "the registration URL must be http(s)")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._registration_tokens[token] = _RegistrationToken(
                tool_registration_url, time.time() + REGISTRATION_TOKEN_LIFETIME
            )
        return _add_query(
            tool_registration_url,
            {"openid_configuration": self.openid_configuration_url, "registration_token": token},
        )

    def register_client(
        self, body: Mapping[str, Any] | None, authorization_header: str | None
    ) -> dict[str, Any]:
        """Registration endpoint: validate the tool's client registration and register it.

        The bearer registration token is single-use.  Returns the registration echoed back
        with ``client_id`` and the tool configuration's ``deployment_id``.
        """
        scheme, _, token = (authorization_header or "").partition(" ")
        token = token.strip()
        with self._lock:
            record = self._registration_tokens.get(token) if scheme.lower() == "bearer" else None
            if record is None or record.used or record.expires_at < time.time():
                raise PlatformError(
                    "invalid_token", "missing, unknown, expired or used registration token", 401
                )
        config = _validate_client_registration(body)
        tool_conf = config[TOOL_CONFIGURATION]
        messages = tool_conf.get("messages", [])
        deep_link_url = None
        placement_title = None
        for message in messages:
            if message["type"] == MSG_DEEP_LINKING:
                deep_link_url = message.get("target_link_uri") or tool_conf["target_link_uri"]
            elif message["type"] == MSG_RESOURCE_LINK and message.get("label"):
                placement_title = message["label"]
        scopes = [s for s in config.get("scope", "").split() if s in SERVICE_SCOPES]
        client_id = str(uuid.uuid4())
        deployment_id = f"deployment-{secrets.token_hex(4)}"
        with self._lock:
            # Consume the token before registering so that two racing requests can't both win.
            if record.used:
                raise PlatformError("invalid_token", "registration token already used", 401)
            record.used = True
        self.register_tool(
            client_id,
            [deployment_id],
            config["initiate_login_uri"],
            config["redirect_uris"],
            config["jwks_uri"],
            deep_link_url,
            name=config.get("client_name") or "Dynamically registered tool",
            target_link_uri=tool_conf["target_link_uri"],
            scopes=scopes,
            custom=tool_conf.get("custom_parameters") or {},
            claims=tool_conf.get("claims", []),
            placement_title=placement_title,
        )
        response = copy.deepcopy(dict(config))
        response["client_id"] = client_id
        response["scope"] = " ".join(scopes)
        response[TOOL_CONFIGURATION] = {**tool_conf, "deployment_id": deployment_id}
        with self._lock:
            self._tools[client_id].registration = copy.deepcopy(response)
        return response


def _find_jwk(jwks: Mapping[str, Any], kid: str) -> dict[str, Any] | None:
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        return None
    for jwk in keys:
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            return jwk
    return None


def _role_matches(role_uri: str, wanted: str) -> bool:
    """NRPS ``role`` filter: a full URI, or a context role short name such as ``Learner``."""
    if role_uri == wanted:
        return True
    return role_uri.startswith(_MEMBERSHIP + "#") and role_uri.split("#", 1)[1] == wanted


def _validate_client_registration(body: object) -> dict[str, Any]:
    """Check an LTI Dynamic Registration client registration request."""

    def bad(message: str, error: str = "invalid_client_metadata") -> PlatformError:
        return PlatformError(error, message)

    if not isinstance(body, Mapping):
        raise bad("the registration must be a JSON object")
    if body.get("application_type") != "web":
        raise bad("application_type must be web")
    response_types = body.get("response_types")
    if not isinstance(response_types, list) or "id_token" not in response_types:
        raise bad("response_types must include id_token")
    grant_types = body.get("grant_types")
    if not isinstance(grant_types, list) or not {"implicit", "client_credentials"} <= set(
        grant_types
    ):
        raise bad("grant_types must include implicit and client_credentials")
    if not _is_http_url(body.get("initiate_login_uri")):
        raise bad("initiate_login_uri must be an http(s) URL")
    redirect_uris = body.get("redirect_uris")
    if (
        not isinstance(redirect_uris, list)
        or not redirect_uris
        or not all(_is_http_url(u) for u in redirect_uris)
    ):
        raise bad("redirect_uris must be a non-empty list of http(s) URLs", "invalid_redirect_uri")
    if not _is_http_url(body.get("jwks_uri")):
        raise bad("jwks_uri must be an http(s) URL")
    if body.get("token_endpoint_auth_method") != "private_key_jwt":
        raise bad("token_endpoint_auth_method must be private_key_jwt")
    if "scope" in body and not isinstance(body["scope"], str):
        raise bad("scope must be a space-separated string")
    for key in ("client_name", "logo_uri", "policy_uri", "tos_uri"):
        if key in body and not isinstance(body[key], str):
            raise bad(f"{key} must be a string")
    tool_conf = body.get(TOOL_CONFIGURATION)
    if not isinstance(tool_conf, Mapping):
        raise bad(f"{TOOL_CONFIGURATION} is required")
    domain = tool_conf.get("domain")
    if not isinstance(domain, str) or not domain or "/" in domain:
        raise bad("domain must be a host name (with an optional port)")
    secondary = tool_conf.get("secondary_domains", [])
    if not isinstance(secondary, list) or not all(isinstance(d, str) for d in secondary):
        raise bad("secondary_domains must be a list of host names")
    if not _is_http_url(tool_conf.get("target_link_uri")):
        raise bad("target_link_uri must be an http(s) URL")
    try:
        _string_dict(tool_conf.get("custom_parameters"), "custom_parameters")
    except PlatformError as exc:
        raise bad(exc.description) from exc
    claims = tool_conf.get("claims", [])
    if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
        raise bad("claims must be a list of claim names")
    messages = tool_conf.get("messages", [])
    if not isinstance(messages, list) or not all(isinstance(m, Mapping) for m in messages):
        raise bad("messages must be a list of objects")
    urls = [body["initiate_login_uri"], *redirect_uris, tool_conf["target_link_uri"]]
    for message in messages:
        if message.get("type") not in SUPPORTED_MESSAGES:
            raise bad(f"unsupported message type {message.get('type')!r}")
        if "target_link_uri" in message:
            if not _is_http_url(message["target_link_uri"]):
                raise bad("message target_link_uri must be an http(s) URL")
            urls.append(message["target_link_uri"])
        try:
            _string_dict(message.get("custom_parameters"), "message custom_parameters")
        except PlatformError as exc:
            raise bad(exc.description) from exc
    domains = [domain, *secondary]
    for url in urls:
        if not any(_host_matches(url, d) for d in domains):
            error = "invalid_redirect_uri" if url in redirect_uris else "invalid_client_metadata"
            raise bad(f"{url} is outside the tool's domain(s) {domains}", error)
    return dict(body)
