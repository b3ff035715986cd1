"""The OAuth 2 token endpoint of the LTI Advantage security framework: the ``client_credentials``
grant authenticated with a tool's JWT client assertion (each ``jti`` once), bearer tokens checked on
every service call, and the administrator's levers (revoke tokens, suspend a tool)."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.platform.base import PlatformState
from sandbox.platform.model import AccessToken, PlatformError
from sandbox.platform.vocabulary import ACCESS_TOKEN_LIFETIME, CLIENT_ASSERTION_TYPE, JWT_LEEWAY


class TokenEndpoint(PlatformState):
    """Access tokens for the platform's services."""

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
