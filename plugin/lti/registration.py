"""Registering platforms: LTI Dynamic Registration 1.0, manual registration, and the Canvas-style
JSON configuration.

Dynamic registration is allowed by an invite (:mod:`plugin.lti.invites`) or, with
``OPEN_REGISTRATION`` on, without one as a *pending* registration that cannot launch until the
operator approves it. It only ever adds a registration: if the platform answers with an issuer and
client id that are already registered, the request is refused (409) and nothing changes — keys,
URLs and deployments of a registration are changed only by the operator (``commons platform add``).
Its outbound requests go through :mod:`plugin.netguard`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin import netguard
from plugin.config import Settings
from plugin.lti import claims as C
from plugin.lti import invites
from plugin.lti.errors import RegistrationError
from plugin.lti.models import (
    PLATFORM_ACTIVE,
    PLATFORM_PENDING,
    Deployment,
    Platform,
    RegistrationLog,
)

TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_SCOPES = [
    C.NRPS_SCOPE,
    C.GROUPS_SCOPE,
    C.AGS_LINEITEM,
    C.AGS_LINEITEM_READONLY,
    C.AGS_RESULT_READONLY,
    C.AGS_SCORE,
]

# Limits of the two outbound requests of a dynamic registration (the configuration, the
# registration endpoint): small JSON documents, so a short total deadline and a small size cap.
FETCH_DEADLINE = 10.0
FETCH_MAX_BYTES = 256 * 1024
FETCH_MAX_REDIRECTS = 3


def add_platform(
    session: Session,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployment_ids: list[str],
    name: str = "",
    auth_audience: str | None = None,
    product_family_code: str | None = None,
) -> Platform:
    """Register (or update) a platform and add its deployments. The operator's path only
    (``commons platform add``, the sandbox): dynamic registration never updates a registration."""
    _check_fields(issuer, client_id, auth_login_url, auth_token_url, key_set_url, deployment_ids)
    platform = session.scalars(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).first()
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id, status=PLATFORM_ACTIVE)
        session.add(platform)
    platform.name = (name or platform.name or urlsplit(issuer).netloc)[:200]
    platform.auth_login_url = auth_login_url
    platform.auth_token_url = auth_token_url
    platform.key_set_url = key_set_url
    platform.auth_audience = auth_audience
    platform.product_family_code = product_family_code or platform.product_family_code
    session.flush()
    known = {d.deployment_id for d in platform.deployments}
    for dep in deployment_ids:
        if dep and dep not in known:
            platform.deployments.append(Deployment(deployment_id=dep))
            known.add(dep)
    session.flush()
    return platform


def _check_fields(
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployment_ids: list[str],
) -> None:
    """Refuse what the registration tables cannot hold: non-URLs, over-long or control-character
    values (a NUL byte would be a database error, not a refusal)."""
    for label, url, limit in (
        ("issuer", issuer, 500),
        ("auth login URL", auth_login_url, 1000),
        ("token URL", auth_token_url, 1000),
        ("key set URL", key_set_url, 1000),
    ):
        parts = _http_url(url)
        if parts is None:
            raise RegistrationError(f"The {label} must be an absolute http(s) URL.")
        _check_text(url, f"The {label}", limit)
    if not client_id or not isinstance(client_id, str):
        raise RegistrationError("The client id is required.")
    _check_text(client_id, "The client id", 255)
    for dep in deployment_ids:
        if not isinstance(dep, str):
            raise RegistrationError("A deployment id must be a string.")
        _check_text(dep, "A deployment id", 255)


def _check_text(value: str, what: str, limit: int) -> None:
    if len(value) > limit:
        raise RegistrationError(f"{what} is longer than {limit} characters.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise RegistrationError(f"{what} contains control characters.")


def approve_platform(session: Session, platform_id: int) -> Platform:
    """Activate a pending registration (open registration): its launches are accepted from now."""
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise RegistrationError(f"No platform with id {platform_id}.")
    platform.status = PLATFORM_ACTIVE
    session.flush()
    return platform


def remove_platform(session: Session, platform_id: int) -> None:
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise RegistrationError(f"No platform with id {platform_id}.")
    session.delete(platform)
    session.flush()


def tool_urls(settings: Settings) -> dict[str, str]:
    base = settings.tool_base_url
    return {
        "login": base + "/lti/login",
        "launch": base + "/lti/launch",
        "jwks": base + "/lti/jwks",
        "register": base + "/lti/register",
        "config": base + "/lti/config.json",
        "logo": base + "/static/logo.svg",
    }


def canvas_config(settings: Settings) -> dict[str, Any]:
    """Canvas's "Paste JSON" / "Enter URL" developer key configuration."""
    urls = tool_urls(settings)
    domain = urlsplit(settings.tool_base_url).netloc
    return {
        "title": settings.tool_name,
        "description": "Discussion boards, mentoring and development plans inside the course, "
        "recorded as xAPI and linked to competencies.",
        "oidc_initiation_url": urls["login"],
        "target_link_uri": urls["launch"],
        "public_jwk_url": urls["jwks"],
        "scopes": TOOL_SCOPES,
        "extensions": [
            {
                "domain": domain,
                "tool_id": "learning-commons",
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {
                    "text": settings.tool_name,
                    "placements": [
                        {
                            "placement": placement,
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": urls["launch"],
                            "text": settings.tool_name,
                        }
                        for placement in ("link_selection", "assignment_selection")
                    ]
                    + [
                        {
                            "placement": "course_navigation",
                            "message_type": "LtiResourceLinkRequest",
                            "target_link_uri": urls["launch"],
                            "text": settings.tool_name,
                            "default": "disabled",
                        }
                    ],
                },
            }
        ],
        "custom_fields": {"canvas_course_id": "$Canvas.course.id"},
    }


def fetch_limits(settings: Settings) -> netguard.Limits:
    """The limits of a dynamic registration's outbound requests (see :mod:`plugin.netguard`)."""
    return netguard.Limits(
        deadline=FETCH_DEADLINE,
        max_bytes=FETCH_MAX_BYTES,
        max_redirects=FETCH_MAX_REDIRECTS,
        allow_private_hosts=settings.private_hosts_allowed,
    )


def fetch_openid_configuration(url: str, limits: netguard.Limits) -> dict[str, Any]:
    """GET and check the platform's OpenID configuration. Refusals never quote the answer."""
    parts = _http_url(url)
    if parts is None:
        raise RegistrationError("openid_configuration must be an absolute http(s) URL.")
    try:
        config, _ = netguard.get_json(url, limits=limits)
    except netguard.FetchError as exc:
        raise RegistrationError(
            f"The platform's configuration could not be read: {exc.message}"
        ) from exc
    if not isinstance(config, dict):
        raise RegistrationError("The platform's configuration is not a JSON object.")
    required = (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "registration_endpoint",
    )
    missing = [k for k in required if not config.get(k) or not isinstance(config[k], str)]
    if missing:
        raise RegistrationError("The platform's configuration lacks " + ", ".join(missing) + ".")
    issuer = _http_url(config["issuer"])
    # The configuration must come from the issuer's own host (Dynamic Registration 1.0, 3.5.1).
    if issuer is None or issuer.netloc != parts.netloc or issuer.scheme != parts.scheme:
        raise RegistrationError(
            f"The configuration at {parts.netloc} names an issuer on another host."
        )
    if not isinstance(config.get(PLATFORM_CONFIG), dict):
        raise RegistrationError("The configuration has no LTI platform configuration section.")
    if config.get("authorization_server") is not None and not isinstance(
        config["authorization_server"], str
    ):
        raise RegistrationError("The configuration's authorization_server is not a string.")
    return config


def client_registration(settings: Settings, platform_config: dict[str, Any]) -> dict[str, Any]:
    """The client registration request we send (Dynamic Registration 1.0, 3.5)."""
    urls = tool_urls(settings)
    offered = platform_config.get("scopes_supported")
    supported = set(_strings(offered)) if isinstance(offered, list) else set(TOOL_SCOPES)
    scopes = [s for s in TOOL_SCOPES if s in supported]
    listed = platform_config[PLATFORM_CONFIG].get("messages_supported")
    messages_supported = {
        m.get("type") for m in (listed if isinstance(listed, list) else []) if isinstance(m, dict)
    }
    messages: list[dict[str, Any]] = []
    if C.DEEP_LINKING_REQUEST in messages_supported or not messages_supported:
        messages.append(
            {
                "type": C.DEEP_LINKING_REQUEST,
                "target_link_uri": urls["launch"],
                "label": f"Add {settings.tool_name}",
                "placements": ["ContentArea"],
                "supported_types": ["ltiResourceLink"],
            }
        )
    messages.append(
        {
            "type": C.RESOURCE_LINK_REQUEST,
            "target_link_uri": urls["launch"],
            "label": settings.tool_name,
        }
    )
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls["login"],
        "redirect_uris": [urls["launch"]],
        "client_name": settings.tool_name,
        "jwks_uri": urls["jwks"],
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIG: {
            "domain": urlsplit(settings.tool_base_url).netloc,
            "target_link_uri": urls["launch"],
            "custom_parameters": {},
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email", "picture"],
            "messages": messages,
        },
    }


def request_client_registration(
    settings: Settings,
    config: dict[str, Any],
    registration_token: str | None,
    limits: netguard.Limits,
) -> dict[str, Any]:
    """POST our client registration to the platform's registration endpoint; its answer (with the
    new ``client_id``). Refusals name the HTTP status, never the platform's text."""
    body = client_registration(settings, config)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    endpoint = config["registration_endpoint"]
    try:
        answer = netguard.fetch("POST", endpoint, json_body=body, headers=headers, limits=limits)
    except netguard.FetchError as exc:
        raise RegistrationError(
            f"The platform's registration endpoint failed: {exc.message}"
        ) from exc
    if answer.status >= 400:
        raise RegistrationError(
            f"The platform refused the registration ({answer.host} answered "
            f"{netguard.status_text(answer.status)})."
        )
    try:
        netguard.require_status(answer, 200, 201)
        data = netguard.parse_json(answer)
    except netguard.FetchError as exc:
        raise RegistrationError(f"The platform's registration answer: {exc.message}") from exc
    if not isinstance(data, dict):
        raise RegistrationError("The platform's registration answer is not a JSON object.")
    client_id = data.get("client_id")
    if not isinstance(client_id, str | int) or isinstance(client_id, bool) or client_id == "":
        raise RegistrationError("The platform's registration answer has no client_id.")
    if not isinstance(data.get(TOOL_CONFIG) or {}, dict):
        raise RegistrationError("The platform's registration answer has no tool configuration.")
    return data


def store_dynamic_registration(
    session: Session,
    grant: invites.Grant,
    *,
    openid_configuration_url: str,
    config: dict[str, Any],
    answer: dict[str, Any],
) -> Platform:
    """Add the registration the platform answered with — a new platform (tenant) row, never a
    change to an existing one — and consume the invite that allowed it, in the caller's
    transaction. An (issuer, client id) that is already registered is refused with 409."""
    issuer = config["issuer"]
    client_id = str(answer["client_id"])
    tool_conf = answer.get(TOOL_CONFIG) or {}
    deployment_id = tool_conf.get("deployment_id")
    if deployment_id is not None and not isinstance(deployment_id, str | int):
        raise RegistrationError("The platform's deployment id is not a string.")
    deployment_ids = [str(deployment_id)] if deployment_id not in (None, "") else []
    platform_conf = config[PLATFORM_CONFIG]
    family = platform_conf.get("product_family_code")
    family = family[:100] if isinstance(family, str) and family else None
    _check_fields(
        issuer,
        client_id,
        config["authorization_endpoint"],
        config["token_endpoint"],
        config["jwks_uri"],
        deployment_ids,
    )
    existing = session.scalars(
        select(Platform.id).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).first()
    if existing is not None:
        raise _clash(issuer, client_id)
    platform = Platform(
        issuer=issuer,
        client_id=client_id,
        name=(family or urlsplit(issuer).netloc)[:200],
        auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"],
        key_set_url=config["jwks_uri"],
        auth_audience=config.get("authorization_server"),
        product_family_code=family,
        status=PLATFORM_PENDING if grant.pending else PLATFORM_ACTIVE,
        deployments=[Deployment(deployment_id=dep) for dep in deployment_ids],
    )
    try:
        with session.begin_nested():
            session.add(platform)
            session.flush()
    except IntegrityError as exc:  # the same registration stored a moment ago by a racing request
        raise _clash(issuer, client_id) from exc
    if grant.invite_id is not None:
        invites.consume(session, grant.invite_id, platform.id)
    session.add(
        RegistrationLog(
            platform_id=platform.id,
            issuer=platform.issuer,
            openid_configuration_url=openid_configuration_url[:1000],
        )
    )
    session.flush()
    return platform


def _clash(issuer: str, client_id: str) -> RegistrationError:
    return RegistrationError(
        f"The platform answered with issuer {issuer} and client id {client_id}, which are "
        "already registered here. A registration request never changes an existing "
        "registration, so nothing was changed.",
        status=409,
        title="This registration already exists",
        hint="To change that registration, the administrator of Learning Commons uses "
        "`commons platform add`; to register it anew, they remove it first "
        "(`commons platform remove`).",
    )


def _http_url(value: Any) -> SplitResult | None:
    """The parts of an absolute http(s) URL, or None (also for what ``urlsplit`` cannot parse)."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return parts


def _strings(values: list[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str)]
