"""Signing what the platform sends (id_tokens, also deliberately broken ones for security tests)
and verifying what registered tools sign (token-endpoint client assertions, deep-linking
responses) against their key sets."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import jwt
import requests
from jwt.algorithms import RSAAlgorithm

from sandbox.platform.base import PlatformState
from sandbox.platform.keys import b64url, find_jwk
from sandbox.platform.model import PlatformError, ToolRegistration
from sandbox.platform.vocabulary import HTTP_TIMEOUT, JWKS_CACHE_SECONDS, JWT_LEEWAY


class Signing(PlatformState):
    """JWTs out (:meth:`make_id_token`) and in (tools' JWTs, verified against their JWKS)."""

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
                b64url(json.dumps(header, separators=(",", ":")).encode()),
                b64url(json.dumps(dict(claims), separators=(",", ":")).encode()),
            ]
            signing_input = ".".join(segments).encode()
            if alg == "none":
                return signing_input.decode() + "."
            digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
            secret = key_pem if key_pem is not None else self.public_key_pem
            secret_bytes = secret.encode() if isinstance(secret, str) else secret
            signature = hmac.new(secret_bytes, signing_input, digests[alg]).digest()
            return signing_input.decode() + "." + b64url(signature)
        extra = {k: v for k, v in header.items() if k != "alg"}
        key = key_pem if key_pem is not None else self.private_key_pem
        return jwt.encode(dict(claims), key, algorithm=alg, headers=extra)

    # ---------------------------------------------------------------- JWTs the tools sign

    def _tool_public_key(self, tool: ToolRegistration, kid: object, error: str) -> Any:
        """The tool's RSA public key with ``kid`` (fetching its JWKS over HTTP if needed)."""
        status = 401 if error == "invalid_client" else 400
        if not isinstance(kid, str) or not kid:
            raise PlatformError(error, "the JWT header has no kid", status)
        jwks = tool.jwks
        if jwks is None:
            with self._lock:
                cached = self._jwks_cache.get(tool.client_id)
            if cached and cached[0] > time.time() and find_jwk(cached[1], kid) is not None:
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
        jwk = find_jwk(jwks, kid)
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
