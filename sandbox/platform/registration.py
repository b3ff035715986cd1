"""LTI Dynamic Registration 1.0 from the platform's side: its OpenID configuration, one-time
registration tokens, and the registration endpoint that validates a tool's client registration
and registers it."""

from __future__ import annotations

import copy
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

from sandbox.platform.base import PlatformState
from sandbox.platform.checks import add_query, host_matches, is_http_url, string_dict
from sandbox.platform.model import PlatformError, RegistrationToken
from sandbox.platform.vocabulary import (
    MSG_DEEP_LINKING,
    MSG_RESOURCE_LINK,
    PII_CLAIMS,
    PLATFORM_CONFIGURATION,
    PRODUCT_FAMILY_CODE,
    PRODUCT_VERSION,
    REGISTRATION_TOKEN_LIFETIME,
    SERVICE_SCOPES,
    SUBSTITUTION_VARIABLES,
    SUPPORTED_MESSAGES,
    TOOL_CONFIGURATION,
)


class DynamicRegistration(PlatformState):
    """The OpenID configuration, registration tokens and the registration endpoint."""

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
        if not is_http_url(tool_registration_url):
            raise PlatformError("invalid_request", "the registration URL must be http(s)")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._registration_tokens[token] = RegistrationToken(
                tool_registration_url, time.time() + REGISTRATION_TOKEN_LIFETIME
            )
        return add_query(
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
    if not is_http_url(body.get("initiate_login_uri")):
        raise bad("initiate_login_uri must be an http(s) URL")
    redirect_uris = body.get("redirect_uris")
    if (
        not isinstance(redirect_uris, list)
        or not redirect_uris
        or not all(is_http_url(u) for u in redirect_uris)
    ):
        raise bad("redirect_uris must be a non-empty list of http(s) URLs", "invalid_redirect_uri")
    if not is_http_url(body.get("jwks_uri")):
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
    if not is_http_url(tool_conf.get("target_link_uri")):
        raise bad("target_link_uri must be an http(s) URL")
    try:
        string_dict(tool_conf.get("custom_parameters"), "custom_parameters")
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
            if not is_http_url(message["target_link_uri"]):
                raise bad("message target_link_uri must be an http(s) URL")
            urls.append(message["target_link_uri"])
        try:
            string_dict(message.get("custom_parameters"), "message custom_parameters")
        except PlatformError as exc:
            raise bad(exc.description) from exc
    domains = [domain, *secondary]
    for url in urls:
        if not any(host_matches(url, d) for d in domains):
            error = "invalid_redirect_uri" if url in redirect_uris else "invalid_client_metadata"
            raise bad(f"{url} is outside the tool's domain(s) {domains}", error)
    return dict(body)
