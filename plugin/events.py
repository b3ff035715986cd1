"""Domain events: services publish, subscribers (xAPI outbox, competency evidence) react in the
same database session, so the domain change and everything derived from it commit together.

A service does::

    events.publish(session, DomainEvent(kind=events.THREAD_POSTED, ...))

and never commits; the caller's unit of work does. Subscribers must only add rows to ``session``
(no commits, no network): delivery to the LRS happens later from the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

# Event kinds (the xAPI vocabulary maps each to a verb and object type; see docs/xapi.md).
LAUNCHED = "tool.launched"
THREAD_POSTED = "board.thread_posted"
REPLY_POSTED = "board.reply_posted"
COMMENT_POSTED = "board.comment_posted"
POST_EDITED = "board.post_edited"
REACTION_ADDED = "board.reaction_added"
ANSWER_ENDORSED = "board.answer_endorsed"
ANSWER_ACCEPTED = "board.answer_accepted"
POST_REPORTED = "board.post_reported"
THREAD_VIEWED = "board.thread_viewed"  # only where the board's instructor turned it on
MENTOR_REQUESTED = "mentoring.requested"
MENTORSHIP_ACCEPTED = "mentoring.accepted"
MENTORSHIP_DECLINED = "mentoring.declined"  # a mentor declined a request
MENTORSHIP_MATCHED = "mentoring.matched"  # staff approved a bulk-matched pair
AGREEMENT_MADE = "mentoring.agreed"  # a member of a pair accepted its agreement
FEEDBACK_GIVEN = "mentoring.feedback_given"  # a pulse survey answered (rating 1-5)
CHECKIN_LOGGED = "mentoring.checkin_logged"
EXPERIENCE_LOGGED = "plan.experience_logged"
GOAL_SET = "plan.goal_set"
GOAL_PROGRESSED = "plan.goal_progressed"
GOAL_COMPLETED = "plan.goal_completed"
EVIDENCE_ACCEPTED = "competency.evidence_accepted"

ALL_KINDS = (
    LAUNCHED,
    THREAD_POSTED,
    REPLY_POSTED,
    COMMENT_POSTED,
    POST_EDITED,
    REACTION_ADDED,
    ANSWER_ENDORSED,
    ANSWER_ACCEPTED,
    THREAD_VIEWED,
    POST_REPORTED,
    MENTOR_REQUESTED,
    MENTORSHIP_ACCEPTED,
    MENTORSHIP_DECLINED,
    MENTORSHIP_MATCHED,
    AGREEMENT_MADE,
    CHECKIN_LOGGED,
    FEEDBACK_GIVEN,
    EXPERIENCE_LOGGED,
    GOAL_SET,
    GOAL_PROGRESSED,
    GOAL_COMPLETED,
    EVIDENCE_ACCEPTED,
)


@dataclass(frozen=True)
class ActivityRef:
    """Something in the tool an xAPI statement can be about (a board, thread, post, goal...).

    ``kind`` is our own short type name ("board", "thread", "post", "placement", "course",
    "mentoring-request", "mentorship", "checkin", "goal", "plan", "experience", "competency");
    ``key`` is its stable identifier within the platform (usually the database id as a string).
    ``variant`` tells apart things of one kind that have different xAPI activity types: a thread
    is a ``"discussion"`` or a ``"question"``. It belongs to the thing (fixed when it is made), so
    every event naming the thing — as object or as parent — must give the same variant.
    """

    kind: str
    key: str
    name: str
    description: str | None = None
    variant: str | None = None


@dataclass(frozen=True)
class DomainEvent:
    kind: str
    # Stable identity of this occurrence: the same act always gives the same id (uuid5 source).
    identity: str
    occurred_at: datetime
    platform_id: int
    actor_user_id: int
    object: ActivityRef
    context_id: int | None = None
    placement_id: int | None = None
    parents: tuple[ActivityRef, ...] = ()
    # Extra facts for the statement: e.g. {"progress": 0.5}, {"text": "..."}, {"role": "mentor"},
    # {"evidence_statement_id": "..."}.
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[Session, DomainEvent], None]
_subscribers: list[tuple[str, Subscriber]] = []


def subscribe(name: str, handler: Subscriber) -> None:
    """Register a handler once (by name); handlers run in registration order."""
    if any(existing == name for existing, _ in _subscribers):
        return
    _subscribers.append((name, handler))


def subscribers() -> list[str]:
    return [name for name, _ in _subscribers]


def publish(session: Session, event: DomainEvent) -> None:
    """Run every subscriber inside the caller's transaction. An exception propagates, so the
    caller's unit of work rolls back the domain change too: nothing is half-recorded."""
    if event.kind not in ALL_KINDS:
        raise ValueError(f"unknown event kind {event.kind!r}")
    for _name, handler in list(_subscribers):
        handler(session, event)


# --- finding the thing an ActivityRef names ---------------------------------------------------
# The package that owns a kind of thing registers a finder for it, so that others (the xAPI
# activity IRIs) can tell whether ``kind``/``key`` exists on a platform without importing it.
ActivityFinder = Callable[[Session, int, str], ActivityRef | None]
_finders: dict[str, ActivityFinder] = {}


def register_finder(kind: str, finder: ActivityFinder) -> None:
    """``finder(session, platform_id, key)`` returns the ActivityRef of the thing of ``kind``
    with that key on that platform, or None when there is none (another platform's too)."""
    _finders[kind] = finder


def find_activity(session: Session, platform_id: int, kind: str, key: str) -> ActivityRef | None:
    """The thing ``kind``/``key`` of the platform as an ActivityRef (its variant included), or
    None when it does not exist or no package knows the kind."""
    finder = _finders.get(kind)
    return finder(session, platform_id, key) if finder is not None else None


def key_id(key: str) -> int | None:
    """A database id from an ActivityRef key (decimal digits within a 32-bit column), else None:
    finders use it so that no key reaches a query the database would refuse."""
    if not (key.isascii() and key.isdigit()) or len(key) > 10:
        return None
    value = int(key)
    return value if 0 < value <= 2_147_483_647 else None


# One namespace for all our statement ids: uuid5(namespace, platform + kind + identity). The xAPI
# builder and the evidence recorder both use it, so evidence points at the statement it came from.
STATEMENT_NAMESPACE = uuid.UUID("6f1d3c52-4a8e-5b7e-9d0c-2f6a1b3e4c5d")


def statement_id(event: DomainEvent) -> str:
    return str(
        uuid.uuid5(STATEMENT_NAMESPACE, f"{event.platform_id}|{event.kind}|{event.identity}")
    )
