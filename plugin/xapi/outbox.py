"""Outbox services: queue a statement with the domain change (the event subscriber), and the
queries behind the administrator views, the export and ``commons xapi resend``."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from plugin.db import utcnow
from plugin.events import DomainEvent
from plugin.lti.models import User
from plugin.xapi import statements
from plugin.xapi.models import DEAD, PENDING, STATES, XapiOutbox
from plugin.xapi.validate import validate_statement


def enqueue(session: Session, event: DomainEvent) -> str:
    """Build, validate and queue the statement for ``event`` in the caller's transaction.

    Replay-safe: the statement id is derived from the event, and an existing row with that id is
    left as it is (``INSERT … ON CONFLICT DO NOTHING``), also against a concurrent transaction.
    Raises ``ValueError`` (including :class:`~plugin.xapi.validate.InvalidStatement`) for an
    event that cannot make a valid statement; nothing is queued then."""
    base = statements.base_url()
    built = statements.build(session, event, base=base)
    validate_statement(built.statement, base=base, kind=built.kind)
    now = utcnow()
    values: dict[str, Any] = {
        "statement_id": built.statement["id"],
        "platform_id": event.platform_id,
        "context_id": event.context_id,
        "actor_user_id": event.actor_user_id,
        "event_kind": event.kind,
        "verb_id": built.statement["verb"]["id"],
        "object_id": built.statement["object"]["id"],
        "competency_iris": built.competency_iris,
        "statement": built.statement,
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(XapiOutbox).values(**values)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["statement_id"]))
    elif dialect == "sqlite":
        stmt = sqlite.insert(XapiOutbox).values(**values)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["statement_id"]))
    elif session.get(XapiOutbox, values["statement_id"]) is None:
        session.add(XapiOutbox(**values))
    return values["statement_id"]


def on_event(session: Session, event: DomainEvent) -> None:
    """The ``xapi.outbox`` subscriber of :mod:`plugin.events`."""
    enqueue(session, event)


# --- queries for the administrator views -----------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """What a viewer may see: one platform, optionally narrowed to one course."""

    platform_id: int
    context_id: int | None = None

    def apply(self, query: Select) -> Select:
        query = query.where(XapiOutbox.platform_id == self.platform_id)
        if self.context_id is not None:
            query = query.where(XapiOutbox.context_id == self.context_id)
        return query


@dataclass
class Filters:
    person: str | None = None  # an LMS user id (sub), or part of a name or e-mail address
    verb: str | None = None  # a verb IRI
    competency: str | None = None  # a competency IRI
    course: int | None = None  # a context (course) database id
    state: str | None = None

    def as_query(self) -> dict[str, str]:
        return {
            k: str(v)
            for k, v in (
                ("person", self.person),
                ("verb", self.verb),
                ("competency", self.competency),
                ("course", self.course),
                ("state", self.state),
            )
            if v not in (None, "")
        }


@dataclass
class Page:
    rows: list[XapiOutbox]
    next_cursor: str | None
    filters: Filters = field(default_factory=Filters)


def state_counts(session: Session, scope: Scope) -> dict[str, int]:
    query = scope.apply(select(XapiOutbox.state, func.count()).group_by(XapiOutbox.state))
    counts = dict.fromkeys(STATES, 0)
    for state, count in session.execute(query):
        counts[state] = count
    return counts


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(session: Session, scope: Scope, filters: Filters) -> Select:
    query = scope.apply(select(XapiOutbox))
    if filters.person:
        text = filters.person.strip()
        like = f"%{_escape_like(text.lower())}%"
        people = select(User.id).where(
            User.platform_id == scope.platform_id,
            or_(
                User.sub == text,
                func.lower(User.name).like(like, escape="\\"),
                func.lower(User.email).like(like, escape="\\"),
            ),
        )
        query = query.where(XapiOutbox.actor_user_id.in_(people))
    if filters.verb:
        query = query.where(XapiOutbox.verb_id == filters.verb)
    if filters.course is not None:
        query = query.where(XapiOutbox.context_id == filters.course)
    if filters.competency:
        needle = f"%{_escape_like(json.dumps(filters.competency.strip()))}%"
        query = query.where(cast(XapiOutbox.competency_iris, String).like(needle, escape="\\"))
    if filters.state:
        query = query.where(XapiOutbox.state == filters.state)
    return query


def encode_cursor(row: XapiOutbox) -> str:
    raw = f"{row.created_at.isoformat()}|{row.statement_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, sid = raw.split("|", 1)
        return datetime.fromisoformat(stamp), sid
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ValueError("invalid cursor") from exc


def browse(
    session: Session,
    scope: Scope,
    filters: Filters | None = None,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Statements newest first, ``limit`` per page; ``next_cursor`` continues after the last."""
    filters = filters or Filters()
    limit = max(1, min(limit, 500))
    query = _filtered(session, scope, filters)
    if cursor:
        created, sid = decode_cursor(cursor)
        query = query.where(
            or_(
                XapiOutbox.created_at < created,
                (XapiOutbox.created_at == created) & (XapiOutbox.statement_id < sid),
            )
        )
    query = query.order_by(XapiOutbox.created_at.desc(), XapiOutbox.statement_id.desc())
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor, filters)


def export(session: Session, scope: Scope, filters: Filters | None = None) -> Iterator[str]:
    """JSON Lines: one statement per line, oldest first, exactly as sent to the LRS."""
    query = _filtered(session, scope, filters or Filters()).order_by(
        XapiOutbox.created_at, XapiOutbox.statement_id
    )
    for row in session.scalars(query.execution_options(yield_per=500)):
        yield json.dumps(row.statement, separators=(",", ":"), sort_keys=True) + "\n"


def resend(
    session: Session,
    *,
    scope: Scope | None = None,
    statement_ids: list[str] | None = None,
) -> int:
    """Put dead statements back in the queue (all of the scope, or the given ids).
    Returns how many were re-queued; the caller commits."""
    query = (
        update(XapiOutbox)
        .where(XapiOutbox.state == DEAD)
        .values(state=PENDING, attempts=0, next_attempt_at=utcnow(), claim_token=None)
    )
    if scope is not None:
        query = query.where(XapiOutbox.platform_id == scope.platform_id)
        if scope.context_id is not None:
            query = query.where(XapiOutbox.context_id == scope.context_id)
    if statement_ids is not None:
        query = query.where(XapiOutbox.statement_id.in_(statement_ids))
    return session.execute(query.execution_options(synchronize_session=False)).rowcount or 0
