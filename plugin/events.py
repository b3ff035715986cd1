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
    CHECKIN_LOGGED,
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
    """

    kind: str
    key: str
    name: str
    description: str | None = None


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


# One namespace for all our statement ids: uuid5(namespace, platform + kind + identity). The xAPI
# builder and the evidence recorder both use it, so evidence points at the statement it came from.
STATEMENT_NAMESPACE = uuid.UUID("6f1d3c52-4a8e-5b7e-9d0c-2f6a1b3e4c5d")


def statement_id(event: DomainEvent) -> str:
    return str(
        uuid.uuid5(STATEMENT_NAMESPACE, f"{event.platform_id}|{event.kind}|{event.identity}")
    )
