"""The tool's signing keys: creation, rotation, retirement and the public JWKS."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pylti1p3.registration import Registration
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.lti.models import ToolKey


def _generate_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def public_jwk(public_pem: str) -> dict:
    """The JWK pylti1p3 derives for a key (its ``kid`` is the RFC 7638 thumbprint)."""
    return dict(Registration.get_jwk(public_pem))


def create_key(session: Session) -> ToolKey:
    private_pem, public_pem = _generate_pem_pair()
    key = ToolKey(
        kid=public_jwk(public_pem)["kid"],
        private_key_pem=private_pem,
        public_key_pem=public_pem,
        status="active",
    )
    session.add(key)
    session.flush()
    return key


def active_key(session: Session) -> ToolKey:
    """The newest active key; one is created on first use so a fresh install can sign."""
    key = session.scalars(
        select(ToolKey)
        .where(ToolKey.status == "active")
        .order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
        .limit(1)
    ).first()
    return key or create_key(session)


def rotate(session: Session) -> ToolKey:
    """Add a new signing key. Older keys stay published until :func:`retire` removes them, so
    platforms holding a cached JWKS can still verify messages signed just before the rotation."""
    return create_key(session)


def retire(session: Session, kid: str) -> ToolKey:
    key = session.scalars(select(ToolKey).where(ToolKey.kid == kid)).first()
    if key is None:
        raise LookupError(f"No tool key with kid {kid!r}.")
    newest = active_key(session)
    if newest.kid == kid:
        raise ValueError("The newest key signs everything; rotate first, then retire the old one.")
    key.status = "retired"
    key.retired_at = utcnow()
    return key


def jwks(session: Session) -> dict:
    keys = session.scalars(
        select(ToolKey).where(ToolKey.status == "active").order_by(ToolKey.id)
    ).all()
    if not keys:
        keys = [create_key(session)]
    return {"keys": [public_jwk(k.public_key_pem) for k in keys]}
