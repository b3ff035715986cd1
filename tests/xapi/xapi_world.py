"""Test helpers for the xAPI tests: a small tenant (platform, people, course, activity) and
well-formed events of every kind for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin import events
from plugin.db import new_session, unit_of_work
from plugin.events import ActivityRef, DomainEvent
from plugin.lti.models import Context, Placement, Platform, User
from plugin.xapi.models import XapiOutbox
from tests.support.ralph import RalphLRS

LATER = timedelta(days=2)  # "now" for a forwarder pass after every backoff has run out


def lrs_config(endpoint: str, ralph: RalphLRS, **extra: Any) -> dict[str, Any]:
    return {
        "LRS_ENDPOINT": endpoint,
        "LRS_USERNAME": ralph.username,
        "LRS_PASSWORD": ralph.password,
        "XAPI_BATCH_SIZE": 100,
        "XAPI_LRS_TIMEOUT": (2.0, 10.0),
        **extra,
    }


# What each event kind is about, and what it sits in (mirrors plugin.xapi.vocabulary).
_OBJECTS: dict[str, tuple[str, tuple[str, ...]]] = {
    events.LAUNCHED: ("placement", ()),
    events.THREAD_POSTED: ("thread", ("board",)),
    events.REPLY_POSTED: ("post", ("thread",)),
    events.COMMENT_POSTED: ("post", ("thread",)),
    events.POST_EDITED: ("post", ("thread",)),
    events.REACTION_ADDED: ("post", ("thread",)),
    events.ANSWER_ENDORSED: ("post", ("thread",)),
    events.ANSWER_ACCEPTED: ("post", ("thread",)),
    events.POST_REPORTED: ("post", ("thread",)),
    events.THREAD_VIEWED: ("thread", ("board",)),
    events.MENTOR_REQUESTED: ("mentoring-request", ()),
    events.MENTORSHIP_ACCEPTED: ("mentorship", ()),
    events.MENTORSHIP_DECLINED: ("mentoring-request", ()),
    events.MENTORSHIP_MATCHED: ("mentorship", ()),
    events.AGREEMENT_MADE: ("mentorship", ()),
    events.FEEDBACK_GIVEN: ("mentorship", ()),
    events.CHECKIN_LOGGED: ("checkin", ("mentorship",)),
    events.EXPERIENCE_LOGGED: ("experience", ("goal",)),
    events.GOAL_SET: ("goal", ("plan",)),
    events.GOAL_PROGRESSED: ("goal", ("plan",)),
    events.GOAL_COMPLETED: ("goal", ("plan",)),
    events.EVIDENCE_ACCEPTED: ("competency", ()),
}
BOARD_KINDS = {k for k in events.ALL_KINDS if k.startswith("board.")}


@dataclass
class Tenant:
    platform_id: int
    issuer: str
    learner_id: int
    learner_sub: str
    mentor_id: int
    context_id: int
    placement_id: int

    def agent(self, sub: str | None = None) -> dict[str, Any]:
        return {
            "objectType": "Agent",
            "account": {"homePage": self.issuer, "name": sub or self.learner_sub},
        }

    def event(
        self,
        kind: str,
        identity: str | None = None,
        *,
        actor_id: int | None = None,
        data: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> DomainEvent:
        """A well-formed event of ``kind`` (the shape services are expected to publish)."""
        object_kind, parent_kinds = _OBJECTS[kind]
        key = key or uuid.uuid4().hex[:8]
        obj_key = f"https://case.example/items/{key}" if object_kind == "competency" else key
        in_course = kind in BOARD_KINDS or kind == events.LAUNCHED
        extra: dict[str, Any] = {}
        if kind == events.GOAL_PROGRESSED:
            extra["progress"] = 0.4
        if kind == events.EVIDENCE_ACCEPTED:
            extra["evidence_statement_id"] = str(uuid.uuid4())
        if kind == events.FEEDBACK_GIVEN:
            extra["rating"] = 4
        if kind == events.MENTOR_REQUESTED:
            extra["competencies"] = [
                {"iri": "https://case.example/items/feedback", "name": "Giving feedback"}
            ]
        data = {**extra, **(data or {})}
        # A thread carries its own variant (its activity type), as plugin.social's refs do.
        variant = data.get("thread_kind")
        return DomainEvent(
            kind=kind,
            identity=identity or f"{kind}:{key}",
            occurred_at=datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC),
            platform_id=self.platform_id,
            actor_user_id=actor_id or self.learner_id,
            object=ActivityRef(
                object_kind,
                obj_key,
                f"The {object_kind} {key}",
                description=f"About {object_kind} {key}",
                variant=variant if object_kind == "thread" else None,
            ),
            context_id=self.context_id if in_course else None,
            placement_id=self.placement_id if in_course else None,
            parents=tuple(
                ActivityRef(p, f"{p}-1", f"The {p}", variant=variant if p == "thread" else None)
                for p in parent_kinds
            ),
            data=data,
        )


def make_tenant(app: Flask, **platform_fields: Any) -> Tenant:
    issuer = f"https://lms-{uuid.uuid4().hex[:8]}.example"
    with new_session(app) as s:
        platform = Platform(
            name="Test LMS",
            issuer=issuer,
            client_id="tool",
            auth_login_url=issuer + "/auth",
            auth_token_url=issuer + "/token",
            key_set_url=issuer + "/jwks",
            **platform_fields,
        )
        s.add(platform)
        s.flush()
        learner = User(
            platform_id=platform.id,
            issuer=issuer,
            sub=f"learner-{uuid.uuid4().hex[:8]}",
            name="Lee Learner",
            email="lee@example.org",
        )
        mentor = User(
            platform_id=platform.id,
            issuer=issuer,
            sub=f"mentor-{uuid.uuid4().hex[:8]}",
            name="Mo Mentor",
        )
        ctx = Context(
            platform_id=platform.id, issuer=issuer, context_id="c-101", title="Leadership 101"
        )
        s.add_all([learner, mentor, ctx])
        s.flush()
        placement = Placement(
            context_id=ctx.id, resource_link_id="rl-1", title="Cohort board", widget="board"
        )
        s.add(placement)
        s.commit()
        return Tenant(platform.id, issuer, learner.id, learner.sub, mentor.id, ctx.id, placement.id)


# Each Statement Template, with the event data that selects it.
VARIANTS = {
    "thread-posted": (events.THREAD_POSTED, {}),
    "question-asked": (events.THREAD_POSTED, {"thread_kind": "question"}),
    "question-viewed": (events.THREAD_VIEWED, {"thread_kind": "question"}),
    "post-liked": (events.REACTION_ADDED, {"reaction": "like"}),
    "post-voted-up": (events.REACTION_ADDED, {"reaction": "helpful"}),
    "checkin-attended": (events.CHECKIN_LOGGED, {"role": "mentee", "duration_minutes": 45}),
    "checkin-mentored": (events.CHECKIN_LOGGED, {"role": "mentor", "duration_minutes": 90}),
}


def publish_many(
    app: Flask, tenant: Tenant, count: int, kind: str = events.REPLY_POSTED
) -> list[str]:
    """Publish ``count`` events of ``kind``, each in its own unit of work; their statement ids."""
    ids = []
    for _ in range(count):
        event = tenant.event(kind)
        with unit_of_work(new_session(app)) as s:
            events.publish(s, event)
        ids.append(events.statement_id(event))
    return ids


def outbox_rows(app: Flask) -> dict[str, XapiOutbox]:
    """Every outbox row, by statement id."""
    with new_session(app) as s:
        return {r.statement_id: r for r in s.scalars(select(XapiOutbox))}


def session_factory(app: Flask) -> Callable[[], Session]:
    """What the forwarder takes to open its sessions."""
    return lambda: new_session(app)
