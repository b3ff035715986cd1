"""Registering platforms: LTI Dynamic Registration 1.0, manual registration, and the Canvas-style
JSON configuration."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.config import Settings
from plugin.lti import claims as C
from plugin.lti.models import Deployment, Platform, RegistrationLog

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


class RegistrationError(ValueError):
    """Registration input was refused; the message says why."""


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
    """Register (or update) a platform and add its deployments."""
    for label, url in (
        ("issuer", issuer),
        ("auth login URL", auth_login_url),
        ("token URL", auth_token_url),
        ("key set URL", key_set_url),
    ):
        parts = urlsplit(url or "")
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise RegistrationError(f"The {label} must be an absolute http(s) URL, not {url!r}.")
    if not client_id:
        raise RegistrationError("The client id is required.")
    platform = session.scalars(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).first()
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id)
        session.add(platform)
    platform.name = name or platform.name or urlsplit(issuer).netloc
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


def fetch_openid_configuration(url: str, http: requests.Session | None = None) -> dict[str, Any]:
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise RegistrationError("openid_configuration must be an absolute http(s) URL.")
    try:
        resp = (http or requests).get(url, timeout=15, headers={"Accept": "application/json"})
        resp.raise_for_status()
        config = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise RegistrationError(f"The platform's configuration could not be read: {exc}") from exc
    if not isinstance(config, dict):
        raise RegistrationError("The platform's configuration is not a JSON object.")
    required = (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "registration_endpoint",
    )
    missing = [k for k in required if not config.get(k)]
    if missing:
        raise RegistrationError("The platform's configuration lacks " + ", ".join(missing) + ".")
    issuer = config["issuer"]
    # The configuration must come from the issuer's own host (Dynamic Registration 1.0, 3.5.1).
    if urlsplit(issuer).netloc != parts.netloc or urlsplit(issuer).scheme != parts.scheme:
        raise RegistrationError(
            f"The configuration at {url} claims issuer {issuer}, which is on another host."
        )
    if PLATFORM_CONFIG not in config:
        raise RegistrationError("The configuration has no LTI platform configuration section.")
    return config


def client_registration(settings: Settings, platform_config: dict[str, Any]) -> dict[str, Any]:
    urls = tool_urls(settings)
    supported = set(platform_config.get("scopes_supported") or TOOL_SCOPES)
    scopes = [s for s in TOOL_SCOPES if s in supported]
    messages_supported = {
        m.get("type")
        for m in platform_config.get(PLATFORM_CONFIG, {}).get("messages_supported", [])
        if isinstance(m, dict)
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


def dynamic_register(
    session: Session,
    settings: Settings,
    openid_configuration_url: str,
    registration_token: str | None,
    http: requests.Session | None = None,
) -> Platform:
    """Run LTI Dynamic Registration against a platform and store what it answers."""
    config = fetch_openid_configuration(openid_configuration_url, http)
    body = client_registration(settings, config)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        resp = (http or requests).post(
            config["registration_endpoint"], json=body, headers=headers, timeout=15
        )
    except requests.RequestException as exc:
        raise RegistrationError(f"The platform's registration endpoint failed: {exc}") from exc
    if resp.status_code >= 400:
        raise RegistrationError(
            f"The platform refused the registration (HTTP {resp.status_code}): {resp.text[:300]}"
        )
    try:
        answer = resp.json()
    except ValueError as exc:
        raise RegistrationError("The platform's registration answer is not JSON.") from exc
    client_id = answer.get("client_id")
    if not client_id:
        raise RegistrationError("The platform's registration answer has no client_id.")
    tool_conf = answer.get(TOOL_CONFIG) or {}
    deployment_id = tool_conf.get("deployment_id")
    platform_conf = config.get(PLATFORM_CONFIG, {})
    platform = add_platform(
        session,
        issuer=config["issuer"],
        client_id=str(client_id),
        auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"],
        key_set_url=config["jwks_uri"],
        deployment_ids=[str(deployment_id)] if deployment_id else [],
        name=platform_conf.get("product_family_code") or "",
        auth_audience=config.get("authorization_server"),
        product_family_code=platform_conf.get("product_family_code"),
    )
    session.add(
        RegistrationLog(
            platform_id=platform.id,
            issuer=platform.issuer,
            openid_configuration_url=openid_configuration_url,
        )
    )
    session.flush()
    return platform
