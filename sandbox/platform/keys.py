"""The platform's keys: the RSA key it signs id_tokens with (rotatable, old keys kept in the key set
during a rollover), keys of its own for single registrations, and the public key sets it serves."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from sandbox.platform.base import PlatformState
from sandbox.platform.model import PlatformError


def b64url(data: bytes) -> str:
    """Base64url without padding (JWT segments, key thumbprints)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signing_key(private_key_pem: bytes | None) -> tuple[rsa.RSAPrivateKey, bytes, str]:
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
    return key, private_key_pem, b64url(hashlib.sha256(canonical.encode()).digest())


def find_jwk(jwks: Mapping[str, Any], kid: str) -> dict[str, Any] | None:
    """The key with ``kid`` in a JSON Web Key Set, if it has one."""
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        return None
    for jwk in keys:
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            return jwk
    return None


class Keys(PlatformState):
    """Signing keys and key sets."""

    def rotate_key(self, private_key_pem: bytes | None = None, *, keep_old: bool = True) -> str:
        """Start signing with a new key (generated if ``None``) and return its ``kid``.

        With ``keep_old`` the previous public key stays in the JWKS, as during a real
        key rollover; without it, tokens signed by the old key no longer verify.
        """
        key, private_key_pem, kid = signing_key(private_key_pem)
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
        key, private_key_pem, kid = signing_key(private_key_pem)
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
