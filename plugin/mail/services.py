"""Queuing e-mail, each person's preferences, and unsubscribe links.

- A package names the kinds of e-mail it sends at ``init_app`` (:func:`register_kind`): the
  kind is the unit of a person's preference and of an unsubscribe link.
- :func:`queue` adds one e-mail to the outbox in the caller's transaction: it is sent only if
  the caller's unit of work commits, and never from the request (the worker sends it; see
  :mod:`plugin.mail.delivery`). A person with no usable address, or who turned that kind off,
  gets nothing queued, and the answer says why.
- Preferences: one row per person and kind (``immediate`` or ``off``; no row is
  ``immediate``). Turning a kind off also cancels that person's e-mail of the kind still queued.
- Unsubscribe links carry a signed token (itsdangerous, the app's ``SECRET_KEY``) naming a
  user and a kind. It does not expire: a link in an old e-mail must still work. The token is the
  only credential the unsubscribe pages need (no launch); a token that does not verify is a
  404 and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from plugin.access import Refusal
from plugin.db import utcnow
from plugin.lti.models import User
from plugin.mail.models import (
    CANCELLED,
    DELIVERIES,
    IMMEDIATE,
    KIND_CHARS,
    OFF,
    QUEUED,
    SUBJECT_CHARS,
    MailOutbox,
    MailPreference,
)

NO_ADDRESS = "no usable e-mail address"
TURNED_OFF = "this kind of e-mail is turned off"
ALREADY_QUEUED = "already queued (same dedupe key)"
TOKEN_SALT = "commons.mail.unsubscribe"  # noqa: S105 - a salt, not a secret
MAX_ADDRESS_CHARS = 320


@dataclass(frozen=True)
class MailKind:
    """A kind of e-mail: ``name`` is stored with each e-mail and preference; ``label`` names it
    for people (the footer of each e-mail, the unsubscribe page)."""

    name: str
    label: str


_kinds: dict[str, MailKind] = {}


def register_kind(name: str, label: str) -> None:
    """Declare a kind of e-mail (registering it again replaces its label)."""
    if not name or len(name) > KIND_CHARS or not name.replace(".", "").replace("_", "").isalnum():
        raise ValueError(f"{name!r}: a kind is letters, digits, '.' and '_' (at most 60)")
    _kinds[name] = MailKind(name, label)


def kinds() -> list[MailKind]:
    return sorted(_kinds.values(), key=lambda k: k.label)


def label_of(kind: str) -> str:
    """The kind's label, or its name when no package declares it (any more)."""
    known = _kinds.get(kind)
    return known.label if known else kind


@dataclass(frozen=True)
class Queued:
    """What :func:`queue` did: the outbox row's id, or why nothing was queued."""

    id: int | None
    reason: str | None = None

    @property
    def queued(self) -> bool:
        return self.id is not None


def usable_address(address: str | None) -> bool:
    """One plain ``local@domain`` address: no spaces, control characters, angle brackets,
    commas or second ``@`` (so it can never add a header or a second recipient)."""
    if not address or len(address) > MAX_ADDRESS_CHARS:
        return False
    if any(c.isspace() or ord(c) < 32 or c in '<>,;"()[]\\' for c in address):
        return False
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain) and "@" not in local and "." in domain.strip(".")


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def queue(
    session: Session,
    recipient: User,
    kind: str,
    subject: str,
    text: str,
    html: str | None = None,
    dedupe_key: str | None = None,
) -> Queued:
    """Queue one e-mail to ``recipient`` in the caller's transaction (nothing is sent now).

    ``text`` is the plain-text body and ``html`` an optional HTML alternative (the caller escapes
    what it puts in; the footer with the unsubscribe link is added to both when it is sent).
    ``subject`` is made one line and cut to 255 characters. ``dedupe_key``: the same key is
    queued at most once per recipient, ever (a reminder for one due date...). Nothing is queued
    when the user has no usable address or turned ``kind`` off; :attr:`Queued.reason` says
    which. ``kind`` must be declared with :func:`register_kind`."""
    if kind not in _kinds:
        raise ValueError(f"e-mail kind {kind!r} is not registered (plugin.mail.register_kind)")
    if not text.strip():
        raise ValueError("an e-mail needs a text body")
    address = (recipient.email or "").strip()
    if not usable_address(address):
        return Queued(None, NO_ADDRESS)
    if delivery_for(session, recipient.id, kind) == OFF:
        return Queued(None, TURNED_OFF)
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(MailOutbox.__table__)
    now = utcnow()
    statement = (
        insert.values(
            user_id=recipient.id,
            recipient=address,
            kind=kind,
            subject=_one_line(subject, SUBJECT_CHARS),
            text_body=text,
            html_body=html,
            dedupe_key=dedupe_key,
            state=QUEUED,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(MailOutbox.id)
    )
    row_id = session.execute(statement).scalar()
    return Queued(row_id) if row_id is not None else Queued(None, ALREADY_QUEUED)


# --- preferences ---------------------------------------------------------------------------------
def delivery_for(session: Session, user_id: int, kind: str) -> str:
    """``immediate`` or ``off`` for this person and kind (``immediate`` without a row)."""
    chosen = session.scalar(
        select(MailPreference.delivery).where(
            MailPreference.user_id == user_id, MailPreference.kind == kind
        )
    )
    return chosen or IMMEDIATE


def set_delivery(session: Session, user_id: int, kind: str, delivery: str) -> int:
    """Set how this person gets ``kind``. Turning it off cancels their e-mail of that kind still
    queued; returns how many were cancelled."""
    if delivery not in DELIVERIES:
        raise ValueError(f"delivery must be one of {DELIVERIES}")
    row = session.get(MailPreference, (user_id, kind))
    if row is None:
        session.add(MailPreference(user_id=user_id, kind=kind, delivery=delivery))
    else:
        row.delivery = delivery
    session.flush()
    if delivery != OFF:
        return 0
    cancelled = session.execute(
        update(MailOutbox)
        .where(MailOutbox.user_id == user_id, MailOutbox.kind == kind, MailOutbox.state == QUEUED)
        .values(state=CANCELLED, last_error="turned off by the recipient")
        .execution_options(synchronize_session=False)
    )
    return cancelled.rowcount or 0


@dataclass(frozen=True)
class Preference:
    """One registered kind of e-mail and whether this person gets it."""

    kind: MailKind
    on: bool


def preferences(session: Session, user_id: int) -> list[Preference]:
    """Every registered kind of e-mail, by label, with this person's choice (on without a row).
    One query."""
    chosen = dict(
        session.execute(
            select(MailPreference.kind, MailPreference.delivery).where(
                MailPreference.user_id == user_id
            )
        ).all()
    )
    return [Preference(k, chosen.get(k.name, IMMEDIATE) != OFF) for k in kinds()]


def save_preferences(session: Session, user_id: int, wanted: Iterable[str]) -> list[Preference]:
    """This person gets the kinds in ``wanted`` and no other registered kind (turning one off
    cancels their e-mail of that kind still queued). A kind nobody registered is a 400 and
    changes nothing."""
    on = set(wanted)
    known = {k.name for k in kinds()}
    unknown = on - known
    if unknown:
        raise Refusal(400, "Choose among the kinds of e-mail listed on the page.")
    current = {p.kind.name: p.on for p in preferences(session, user_id)}
    for name in sorted(known):
        if current.get(name) != (name in on):
            set_delivery(session, user_id, name, IMMEDIATE if name in on else OFF)
    return preferences(session, user_id)


# --- unsubscribe links ---------------------------------------------------------------------------
def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=TOKEN_SALT)


def unsubscribe_token(secret_key: str, user_id: int, kind: str) -> str:
    """A signed token naming one person and one kind (no expiry)."""
    return _serializer(secret_key).dumps([user_id, kind])


def unsubscribe_url(base_url: str, secret_key: str, user_id: int, kind: str) -> str:
    return f"{base_url.rstrip('/')}/mail/unsubscribe/{unsubscribe_token(secret_key, user_id, kind)}"


def bad_link() -> Refusal:
    """The refusal for an unsubscribe token that does not verify (a 404 page)."""
    return Refusal(
        404,
        "This unsubscribe link is not valid. It may have been cut short when it was copied.",
        title="Unsubscribe link not recognised",
        hint="Open the link from the e-mail again, or copy the whole address it shows.",
    )


@dataclass(frozen=True)
class Subscription:
    """One person's choice for one kind, as an unsubscribe link shows it."""

    user_id: int
    kind: str
    label: str
    address_hint: str  # the address with most of its local part hidden
    delivery: str

    @property
    def off(self) -> bool:
        return self.delivery == OFF


def _hint(address: str | None) -> str:
    local, _, domain = (address or "").rpartition("@")
    if not local:
        return "your address"
    return f"{local[0]}•••@{domain}"


def subscription(session: Session, secret_key: str, token: str) -> Subscription:
    """The person and kind a token names (:func:`bad_link`, a 404, when it does not verify or
    the person is gone)."""
    try:
        value = _serializer(secret_key).loads(token)
    except BadData:
        raise bad_link() from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or isinstance(value[0], bool)
        or not isinstance(value[1], str)
    ):
        raise bad_link()
    user = session.get(User, value[0])
    if user is None:
        raise bad_link()
    kind = value[1]
    return Subscription(
        user.id, kind, label_of(kind), _hint(user.email), delivery_for(session, user.id, kind)
    )


def change_subscription(
    session: Session, secret_key: str, token: str, *, subscribe: bool
) -> Subscription:
    """Turn the token's kind off for its person (``subscribe``: back on). Refuses, changing
    nothing, a token that does not verify."""
    current = subscription(session, secret_key, token)
    delivery = IMMEDIATE if subscribe else OFF
    set_delivery(session, current.user_id, current.kind, delivery)
    return Subscription(
        current.user_id, current.kind, current.label, current.address_hint, delivery
    )
