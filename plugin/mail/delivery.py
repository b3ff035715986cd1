"""Sends the e-mail outbox over SMTP: the worker's "E-mail outbox" loop.

One pass (:func:`send_once`):

1. claim up to ``MAIL_BATCH_SIZE`` due rows in a short transaction: PostgreSQL ``SELECT … FOR
   UPDATE SKIP LOCKED`` then mark them ``sending``; SQLite one conditional ``UPDATE … RETURNING``
   (one writer at a time). A claim sets a random token and a lease (``next_attempt_at``); rows
   of a worker that stopped become ``queued`` again when the lease ends. So two workers never
   hold the same row, and a row is sent twice only if its worker died between the SMTP server's
   "250 OK" and recording it (the Message-ID is the same then, ``<mail-<id>@<domain>>``).
2. send them over one SMTP connection (:func:`send_batch`), each message built by
   :func:`compose` with the standard library's :class:`~email.message.EmailMessage`.
3. record each outcome, only for rows that still hold this pass's claim: sent; ``dead`` for a
   permanent (5xx) refusal of that message; otherwise (server unreachable, disconnected, 4xx)
   ``queued`` again after a backoff (``MAIL_BACKOFF_BASE`` seconds doubled per attempt, capped
   at ``MAIL_BACKOFF_CAP``, with jitter), and ``dead`` after ``MAIL_MAX_ATTEMPTS`` attempts.

Without ``SMTP_HOST`` nothing is claimed or sent: the rows stay queued and the loop's summary
says so.
"""

from __future__ import annotations

import functools
import logging
import random
import smtplib
import ssl
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from markupsafe import escape
from sqlalchemy import Integer, and_, bindparam, func, select, update
from sqlalchemy.orm import Session

from plugin.db import UTCDateTime, utcnow
from plugin.mail.models import DEAD, QUEUED, SENDING, SENT, MailOutbox
from plugin.mail.services import label_of, unsubscribe_url

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
MAX_ERROR_CHARS = 1000


class _OneLineHeader(UnstructuredHeader):
    """A header written on one line (up to RFC 5322's 998 characters): the standard folding
    would turn a long List-Unsubscribe URL, which has no space to fold at, into encoded words
    that no mail program reads as a URL."""

    def fold(self, *, policy: EmailPolicy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


_headers = HeaderRegistry()
_headers.map_to_type("list-unsubscribe", _OneLineHeader)
MESSAGE_POLICY = policy.default.clone(header_factory=_headers)


@dataclass(frozen=True)
class MailConfig:
    """The SMTP and outbox settings (``SMTP_*``, ``MAIL_*`` in the app's config)."""

    host: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False
    use_ssl: bool = False
    mail_from: str = ""
    base_url: str = ""
    secret_key: str = ""
    timeout: float = 30.0
    batch_size: int = 20
    lease_seconds: float = 600.0
    backoff_base: float = 60.0
    backoff_cap: float = 3600.0
    max_attempts: int = 10

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> MailConfig:
        return cls(
            host=str(config.get("SMTP_HOST") or ""),
            port=int(config.get("SMTP_PORT") or 25),
            username=str(config.get("SMTP_USERNAME") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            starttls=bool(config.get("SMTP_STARTTLS")),
            use_ssl=bool(config.get("SMTP_SSL")),
            mail_from=str(config.get("MAIL_FROM") or ""),
            base_url=str(config.get("MAIL_BASE_URL") or ""),
            secret_key=str(config.get("SECRET_KEY") or ""),
            timeout=float(config.get("MAIL_TIMEOUT") or 30.0),
            batch_size=int(config.get("MAIL_BATCH_SIZE") or 20),
            lease_seconds=float(config.get("MAIL_LEASE_SECONDS") or 600.0),
            backoff_base=float(config.get("MAIL_BACKOFF_BASE") or 60.0),
            backoff_cap=float(config.get("MAIL_BACKOFF_CAP") or 3600.0),
            max_attempts=int(config.get("MAIL_MAX_ATTEMPTS") or 10),
        )


@dataclass
class MailStats:
    """What passes of the outbox did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0

    def add(self, other: MailStats) -> None:
        for name in ("claimed", "sent", "retried", "dead"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def summary(self) -> str:
        return f"Sent {self.sent}, refused {self.dead}, to retry {self.retried}."


@dataclass
class Claimed:
    """One claimed row: what :func:`compose` needs."""

    id: int
    user_id: int
    recipient: str
    kind: str
    subject: str
    text_body: str
    html_body: str | None
    attempts: int

    @classmethod
    def of(cls, row: MailOutbox) -> Claimed:
        """An outbox row as :func:`compose` takes it (the development mailbox shows any row)."""
        return cls(
            row.id,
            row.user_id,
            row.recipient,
            row.kind,
            row.subject,
            row.text_body,
            row.html_body,
            row.attempts,
        )


@dataclass
class Claim:
    token: str
    rows: list[Claimed] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    state: str  # SENT, DEAD, or QUEUED (try again)
    error: str | None = None


# --- the message ---------------------------------------------------------------------------------
def _domain(cfg: MailConfig) -> str:
    address = parseaddr(cfg.mail_from)[1]
    return address.rpartition("@")[2] or urlsplit(cfg.base_url).hostname or "localhost"


def compose(row: Claimed, cfg: MailConfig, now: datetime | None = None) -> EmailMessage:
    """The e-mail of one outbox row: From ``MAIL_FROM``, To the row's address, its subject, a
    stable Message-ID, the RFC 8058 one-click unsubscribe headers, and the text body (with an
    HTML alternative when the row has one), each ending with the unsubscribe link."""
    url = unsubscribe_url(cfg.base_url, cfg.secret_key, row.user_id, row.kind)
    label = label_of(row.kind)
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = cfg.mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now or utcnow())
    message["Message-ID"] = f"<mail-{row.id}@{_domain(cfg)}>"
    message["List-Unsubscribe"] = f"<{url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    footer = f"You get this e-mail for: {label}.\nTo stop these e-mails, open {url}"
    message.set_content(f"{row.text_body.rstrip()}\n\n-- \n{footer}\n")
    if row.html_body:
        html_footer = (
            f'<hr><p style="font-size:small">You get this e-mail for: {escape(label)}. '
            f'<a href="{escape(url)}">Stop these e-mails</a>.</p>'
        )
        message.add_alternative(f"{row.html_body}\n{html_footer}\n", subtype="html")
    return message


# --- claiming and recording ----------------------------------------------------------------------
@functools.cache
def _sql() -> SimpleNamespace:
    t = MailOutbox.__table__
    now = bindparam("now", type_=UTCDateTime())
    due = and_(t.c.state == QUEUED, t.c.next_attempt_at <= now)
    pick = (
        select(t.c.id)
        .where(due)
        .order_by(t.c.next_attempt_at, t.c.id)
        .limit(bindparam("limit", type_=Integer()))
    )
    claimed = {
        "state": SENDING,
        "claim_token": bindparam("token"),
        "next_attempt_at": bindparam("lease_until", type_=UTCDateTime()),
    }
    returning = (
        t.c.id,
        t.c.user_id,
        t.c.recipient,
        t.c.kind,
        t.c.subject,
        t.c.text_body,
        t.c.html_body,
        t.c.attempts,
    )
    return SimpleNamespace(
        expired=update(t)
        .where(t.c.state == SENDING, t.c.next_attempt_at <= now)
        .values(state=QUEUED, claim_token=None),
        pick_locked=pick.with_for_update(skip_locked=True),
        claim_ids=update(t)
        .where(t.c.id.in_(bindparam("ids", expanding=True)), t.c.state == QUEUED)
        .values(**claimed)
        .returning(*returning),
        claim_due=update(t)
        .where(t.c.id.in_(pick.scalar_subquery()), due)
        .values(**claimed)
        .returning(*returning),
    )


def claim(session_factory: SessionFactory, cfg: MailConfig, now: datetime) -> Claim:
    """Claim up to ``cfg.batch_size`` due rows (a short transaction of its own); rows whose
    lease ended are given back first."""
    sql = _sql()
    token = str(uuid.uuid4())
    values = {
        "now": now,
        "limit": cfg.batch_size,
        "token": token,
        "lease_until": now + timedelta(seconds=cfg.lease_seconds),
    }
    with session_factory() as session:
        conn = session.connection()
        conn.execute(sql.expired, {"now": now})
        if conn.dialect.name == "postgresql":
            ids = list(conn.execute(sql.pick_locked, values).scalars())
            rows = conn.execute(sql.claim_ids, {**values, "ids": ids}).all() if ids else []
        else:  # SQLite: one statement; SQLite runs one writer at a time
            rows = conn.execute(sql.claim_due, values).all()
        session.commit()
    claimed = sorted((Claimed(*row) for row in rows), key=lambda r: r.id)
    return Claim(token, claimed)


def backoff_seconds(attempts: int, cfg: MailConfig) -> float:
    """``backoff_base`` doubled per attempt made, capped, with jitter (half to all of it)."""
    ceiling = min(cfg.backoff_cap, cfg.backoff_base * (2 ** min(max(attempts - 1, 0), 30)))
    return ceiling * random.uniform(0.5, 1.0)


def record(
    session_factory: SessionFactory,
    cfg: MailConfig,
    claimed: Claim,
    outcomes: Mapping[int, Outcome],
    now: datetime,
) -> MailStats:
    """Write each row's outcome while it still holds this claim; a failure that may pass is
    ``dead`` once the row has had ``cfg.max_attempts`` attempts."""
    stats = MailStats(claimed=len(claimed.rows))
    with session_factory() as session:
        for row in claimed.rows:
            outcome = outcomes.get(row.id) or Outcome(QUEUED, "not sent in this pass")
            attempts = row.attempts + 1
            values: dict[str, Any] = {"claim_token": None, "attempts": attempts}
            if outcome.state == SENT:
                values.update(state=SENT, sent_at=now, last_error=None)
                stats.sent += 1
            elif outcome.state == DEAD or attempts >= cfg.max_attempts:
                error = outcome.error or "refused"
                if outcome.state != DEAD:
                    error = f"{error} (gave up after {attempts} attempts)"
                values.update(state=DEAD, last_error=error[:MAX_ERROR_CHARS])
                stats.dead += 1
            else:
                delay = backoff_seconds(attempts, cfg)
                values.update(
                    state=QUEUED,
                    next_attempt_at=now + timedelta(seconds=delay),
                    last_error=(outcome.error or "")[:MAX_ERROR_CHARS] or None,
                )
                stats.retried += 1
            session.execute(
                update(MailOutbox)
                .where(
                    MailOutbox.id == row.id,
                    MailOutbox.claim_token == claimed.token,
                    MailOutbox.state == SENDING,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        session.commit()
    return stats


# --- SMTP ----------------------------------------------------------------------------------------
def _response_text(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{exc.smtp_code} {' '.join(str(text).split())}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _response_text(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def connect(cfg: MailConfig) -> smtplib.SMTP:
    """An SMTP connection as configured: TLS from the start (``SMTP_SSL``) or upgraded with
    STARTTLS (``SMTP_STARTTLS``), certificates checked; then the login when a user is set."""
    context = ssl.create_default_context()
    if cfg.use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            cfg.host, cfg.port, timeout=cfg.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    try:
        if cfg.starttls:
            smtp.starttls(context=context)
        if cfg.username:
            smtp.login(cfg.username, cfg.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def send_batch(
    cfg: MailConfig, rows: list[Claimed], now: datetime | None = None
) -> dict[int, Outcome]:
    """Send ``rows`` over one connection; no database work here. A refusal of one message
    (its recipient, its data) is that row's outcome and the others are still sent; a server that
    cannot be reached, or goes away, leaves every row not yet sent to be tried again."""
    outcomes: dict[int, Outcome] = {}
    try:
        smtp = connect(cfg)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"SMTP server {cfg.host}:{cfg.port}: {_describe(exc)}"
        log.warning("e-mail outbox: %s", error)
        return {row.id: Outcome(QUEUED, error) for row in rows}
    try:
        for row in rows:
            try:
                message = compose(row, cfg, now)
            except (ValueError, TypeError) as exc:  # an address or header the library refuses
                outcomes[row.id] = Outcome(DEAD, f"cannot be written as an e-mail: {exc}")
                continue
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()), (550, b"refused"))
                error = _response_text(smtplib.SMTPResponseException(code, text))
                outcomes[row.id] = Outcome(DEAD if _permanent(code) else QUEUED, error)
            except smtplib.SMTPSenderRefused as exc:  # about MAIL_FROM, not this message
                outcomes[row.id] = Outcome(QUEUED, f"sender refused: {_response_text(exc)}")
            except smtplib.SMTPResponseException as exc:
                state = DEAD if _permanent(exc.smtp_code) else QUEUED
                outcomes[row.id] = Outcome(state, _response_text(exc))
            except smtplib.SMTPNotSupportedError as exc:  # e.g. an address needing SMTPUTF8
                outcomes[row.id] = Outcome(DEAD, f"the SMTP server cannot take it: {exc}")
            except (OSError, smtplib.SMTPException) as exc:  # the connection is gone
                error = f"SMTP server {cfg.host}:{cfg.port}: {_describe(exc)}"
                log.warning("e-mail outbox: %s", error)
                for rest in rows:
                    outcomes.setdefault(rest.id, Outcome(QUEUED, error))
                break
            else:
                outcomes[row.id] = Outcome(SENT)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return outcomes


# --- the loop ------------------------------------------------------------------------------------
def waiting(session_factory: SessionFactory) -> int:
    """How many e-mails are queued."""
    with session_factory() as session:
        count = session.scalar(select(func.count()).where(MailOutbox.state == QUEUED))
    return int(count or 0)


def send_once(
    session_factory: SessionFactory, cfg: MailConfig, now: datetime | None = None
) -> MailStats:
    """Claim one batch of due e-mails, send it, record the outcomes (nothing without a host)."""
    if not cfg.host:
        return MailStats()
    at = now or utcnow()
    claimed = claim(session_factory, cfg, at)
    if not claimed.rows:
        return MailStats()
    outcomes = send_batch(cfg, claimed.rows, at)
    return record(session_factory, cfg, claimed, outcomes, at)


def unset_message(count: int) -> str:
    return (
        f"SMTP_HOST is not set: nothing sent; {count} e-mail{'s' if count != 1 else ''} "
        "wait in the outbox."
    )


def deliver_outbox(
    session_factory: SessionFactory,
    config: Mapping[str, Any],
    *,
    once: bool,
    idle_sleep: float,
    stop: threading.Event,
) -> str:
    """The worker's "E-mail outbox" loop: send due e-mail until ``stop`` (``once``: until none
    is due, or the server fails a whole batch). Returns its summary line."""
    total = MailStats()
    told = False
    while not stop.is_set():
        cfg = MailConfig.from_mapping(config)  # re-read: the mapping may change
        if not cfg.host:
            if once:
                return unset_message(waiting(session_factory))
            if not told:
                log.info("e-mail outbox: %s", unset_message(waiting(session_factory)))
                told = True
            stop.wait(idle_sleep)
            continue
        try:
            stats = send_once(session_factory, cfg)
        except Exception:
            log.exception("e-mail outbox pass failed")
            if once:
                raise
            stop.wait(idle_sleep)
            continue
        total.add(stats)
        if not stats.claimed or (stats.retried and not stats.sent):
            if once:
                break
            stop.wait(idle_sleep)  # nothing due, or the server is failing: let backoff work
    return total.summary()
