"""Registration by invitation: an administrator makes a single-use, expiring registration URL
(``commons platform invite``) and pastes it into the LMS; LTI Dynamic Registration is accepted only
through such a URL (or, with ``OPEN_REGISTRATION`` on, without one — but then the new registration
is pending until the operator approves it).

The invite's secret is a path segment of the URL (``<TOOL_BASE_URL>/lti/register/<secret>``), not a
query parameter, because platforms append ``openid_configuration`` and ``registration_token`` to the
URL's query. Only the SHA-256 of the secret is stored. The registration that uses an invite consumes
it with ``UPDATE … WHERE used_at IS NULL`` in the transaction that stores the registration, so two
registrations racing with one invite cannot both succeed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.config import Settings
from plugin.db import utcnow
from plugin.lti.errors import RegistrationError
from plugin.lti.models import RegistrationInvite

INVITE_PATH = "/lti/register/"
DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=90)
MAX_SECRET_LENGTH = 200
_LIFETIME = re.compile(r"^\s*(\d{1,5})\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

OPEN = "open"
USED = "used"
EXPIRED = "expired"
REVOKED = "revoked"

ASK_FOR_ONE = (
    "Ask the administrator of Learning Commons for a registration URL (they make one with "
    "`commons platform invite`) and paste that whole URL into your platform's tool registration "
    "screen."
)


@dataclass(frozen=True)
class Grant:
    """What allows one dynamic registration: an invite (``invite_id``), or open registration
    (``pending``: the new registration waits for the operator's approval)."""

    invite_id: int | None
    pending: bool


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_lifetime(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d`` or ``2w`` → a timedelta (at most 90 days)."""
    match = _LIFETIME.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a lifetime: use e.g. 30m, 12h, 7d or 2w.")
    lifetime = timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
        raise ValueError("An invite lives from one minute to 90 days.")
    return lifetime


def invite_url(settings: Settings, secret: str) -> str:
    """The registration URL to paste into the LMS."""
    return settings.tool_base_url + INVITE_PATH + secret


def create_invite(
    session: Session, *, lifetime: timedelta = DEFAULT_LIFETIME, note: str = ""
) -> tuple[RegistrationInvite, str]:
    """A new invite and its secret (shown once; only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    invite = RegistrationInvite(
        secret_hash=hash_secret(secret),
        note=(note or "").strip()[:500],
        expires_at=utcnow() + lifetime,
    )
    session.add(invite)
    session.flush()
    return invite, secret


def status_of(invite: RegistrationInvite, now: datetime | None = None) -> str:
    """``open``, ``used``, ``revoked`` or ``expired``."""
    if invite.used_at is not None:
        return USED
    if invite.revoked_at is not None:
        return REVOKED
    if invite.expires_at <= (now or utcnow()):
        return EXPIRED
    return OPEN


def list_invites(session: Session) -> list[RegistrationInvite]:
    return list(session.scalars(select(RegistrationInvite).order_by(RegistrationInvite.id)))


def revoke_invite(session: Session, invite_id: int) -> RegistrationInvite:
    """Withdraw an invite that has not been used (revoking twice changes nothing)."""
    invite = session.get(RegistrationInvite, invite_id)
    if invite is None:
        raise RegistrationError(f"No invite with id {invite_id}.")
    if invite.used_at is not None:
        raise RegistrationError(
            f"Invite {invite_id} was already used (platform {invite.platform_id}); "
            "remove that platform instead (`commons platform remove`)."
        )
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        session.flush()
    return invite


def grant_for(session: Session, settings: Settings, secret: str | None) -> Grant:
    """Whether a dynamic registration may go ahead, and how. Reads only; the invite is consumed
    later, by :func:`consume`, in the transaction that stores the registration."""
    if secret is None:
        if settings.open_registration:
            return Grant(invite_id=None, pending=True)
        raise RegistrationError(
            "Learning Commons registers a platform only through an invitation link from its "
            "administrator.",
            status=403,
            title="Registration is by invitation",
            hint=ASK_FOR_ONE,
        )
    invite = _find(session, secret)
    _require_open(invite)
    assert invite is not None
    return Grant(invite_id=invite.id, pending=False)


def consume(session: Session, invite_id: int, platform_id: int) -> None:
    """Mark the invite used by ``platform_id``, atomically: of two registrations racing with one
    invite, exactly one gets the row; the other is refused (and its transaction rolls back)."""
    now = utcnow()
    result = session.execute(
        update(RegistrationInvite)
        .where(
            RegistrationInvite.id == invite_id,
            RegistrationInvite.used_at.is_(None),
            RegistrationInvite.revoked_at.is_(None),
            RegistrationInvite.expires_at > now,
        )
        .values(used_at=now, platform_id=platform_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        invite = session.get(RegistrationInvite, invite_id)
        if invite is not None:
            session.refresh(invite)
        _require_open(invite, now)
        raise _refused("used")  # open a moment ago, taken since: another registration won


def _find(session: Session, secret: str) -> RegistrationInvite | None:
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    return session.scalars(
        select(RegistrationInvite).where(RegistrationInvite.secret_hash == hash_secret(secret))
    ).first()


def _require_open(invite: RegistrationInvite | None, now: datetime | None = None) -> None:
    if invite is None:
        raise _refused("unknown")
    status = status_of(invite, now)
    if status != OPEN:
        raise _refused(status, invite)


def _refused(kind: str, invite: RegistrationInvite | None = None) -> RegistrationError:
    if kind == EXPIRED:
        assert invite is not None
        return RegistrationError(
            f"This registration link was valid until {invite.expires_at:%Y-%m-%d %H:%M} UTC.",
            status=403,
            title="This registration link has expired",
            hint="Ask the administrator of Learning Commons for a new registration URL.",
        )
    if kind == USED:
        return RegistrationError(
            "Each registration link registers one platform, once; this one has been used.",
            status=403,
            title="This registration link was already used",
            hint="Ask the administrator of Learning Commons for a new registration URL.",
        )
    if kind == REVOKED:
        return RegistrationError(
            "The administrator of Learning Commons withdrew this registration link.",
            status=403,
            title="This registration link was withdrawn",
            hint="Ask the administrator of Learning Commons for a new registration URL.",
        )
    return RegistrationError(
        "This is not a registration link that Learning Commons made (or it was cut short when "
        "copied).",
        status=403,
        title="This registration link is not valid",
        hint=ASK_FOR_ONE,
    )
