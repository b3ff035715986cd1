"""Domain event → xAPI 1.0.3 statement (a plain dict, ready for JSON and the LRS).

The statement is built directly in the shape LRSs store: no ``version`` (the xAPI spec asks
Learning Record Providers not to set it), timestamp in UTC with ``Z`` and millisecond precision,
durations as ``PT1H30M``, ids and names as our vocabulary defines them. Every property that would
be empty is left out.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

import plugin
import plugin.performance.links
from plugin.events import ActivityRef, DomainEvent, statement_id
from plugin.lti.models import Context, Placement, Platform, User
from plugin.xapi import vocabulary as vocab
from plugin.xapi.vocabulary import StatementKind

PLATFORM_NAME = "Learning Commons"
LANGUAGE = "en-US"
_default_base_url = "http://localhost:5000"


@dataclass(frozen=True)
class Competency:
    """A competency linked to an act: its IRI (CASE item URI) and name."""

    iri: str
    name: str


def set_default_base_url(url: str) -> None:
    """The base URL used when no Flask app context is active (set by ``init_app``)."""
    global _default_base_url
    _default_base_url = url.rstrip("/")


def base_url() -> str:
    if has_app_context():
        settings = current_app.config.get("COMMONS_SETTINGS")
        if settings is not None:
            return settings.tool_base_url.rstrip("/")
    return _default_base_url


def profile_id(base: str) -> str:
    return f"{vocab.xapi_base(base)}/profile"


def profile_version_id(base: str) -> str:
    return f"{vocab.xapi_base(base)}/profile/v1"


def activity_id(base: str, platform_id: int, kind: str, key: str) -> str:
    """Stable IRI of a thing in the tool (resolvable: GET answers with its activity type)."""
    return (
        f"{vocab.xapi_base(base)}/activities/{platform_id}/{quote(kind, safe='')}/"
        f"{quote(str(key), safe='')}"
    )


def _is_absolute_iri(value: str) -> bool:
    return value.startswith(("http://", "https://", "urn:"))


def ref_activity_id(base: str, platform_id: int, ref: ActivityRef) -> str:
    # A competency keyed by its own IRI (a CASE item URI) keeps that IRI as the activity id.
    if ref.kind == "competency" and _is_absolute_iri(ref.key):
        return ref.key
    return activity_id(base, platform_id, ref.kind, ref.key)


# A statement id as xAPI writes it: a lowercase, hyphenated RFC 4122 UUID (versions 1-5).
_STATEMENT_ID = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


def _lang(text: str) -> dict[str, str]:
    return {LANGUAGE: text}


def _activity(
    iri: str, type_iri: str, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """An Activity: its id (raises ValueError when empty), and a definition with the name, the
    description when there is text in it, and the type."""
    if not iri:
        raise ValueError(f"an activity of type {type_iri} needs an id")
    definition: dict[str, Any] = {}
    if name is not None:
        definition["name"] = _lang(name)
    if description and description.strip():
        definition["description"] = _lang(description.strip())
    definition["type"] = type_iri
    return {"id": iri, "objectType": "Activity", "definition": definition}


def _statement_ref(value: str) -> dict[str, str]:
    """A reference to another statement by its id (raises ValueError when it is not one)."""
    if not _STATEMENT_ID.match(value):
        raise ValueError(f"{value!r} is not a statement id (a lowercase UUID)")
    return {"objectType": "StatementRef", "id": value}


def _ref_activity(base: str, platform_id: int, ref: ActivityRef) -> dict[str, Any]:
    # The type follows the thing (kind + variant), wherever it sits in the statement.
    term = vocab.activity_type(ref.kind, ref.variant)
    name = (ref.name or "").strip() or f"{term.label} {ref.key}"
    return _activity(
        ref_activity_id(base, platform_id, ref), term.resolve(base), name, ref.description
    )


def actor_name(platform: Platform, user: User) -> str:
    """The account name: the LMS ``sub``, or a keyed hash of it when the platform pseudonymises."""
    if platform.pseudonymise_actors and platform.actor_key:
        return hmac.new(platform.actor_key.encode(), user.sub.encode(), hashlib.sha256).hexdigest()
    return user.sub


def _agent(platform: Platform, user: User) -> dict[str, Any]:
    """The Agent for ``user``: an account on the platform (never a name or an email)."""
    return {
        "objectType": "Agent",
        "account": {"name": actor_name(platform, user), "homePage": platform.issuer},
    }


def competencies_for(session: Session, event: DomainEvent) -> list[Competency]:
    """Competencies linked to the act: the links of :mod:`plugin.performance.links` first, then
    ``event.data["competencies"]`` ([{"iri", "name"}]), de-duplicated by IRI, in order."""
    found = [
        Competency(iri=str(item.iri), name=str(item.name))
        for item in plugin.performance.links.competencies_for(session, event)
    ]
    for item in (event.data or {}).get("competencies") or ():
        found.append(Competency(iri=str(item["iri"]), name=str(item.get("name") or item["iri"])))
    unique: dict[str, Competency] = {}
    for c in found:
        unique.setdefault(c.iri, c)
    return list(unique.values())


@dataclass
class BuiltStatement:
    """A statement and the facts the outbox row indexes."""

    statement: dict[str, Any]
    kind: StatementKind
    competency_iris: list[str]


def timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("event.occurred_at must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _score(data: dict[str, Any]) -> dict[str, Any]:
    """``data["rating"]`` as result.score: raw on the scale ``rating_min``..``rating_max``
    (1-5 unless given) and scaled to 0..1."""
    low, high = int(data.get("rating_min", 1)), int(data.get("rating_max", 5))
    raw = data.get("rating")
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high or low >= high:
        raise ValueError(f"rating must be a whole number from {low} to {high}, not {raw!r}")
    return {"raw": raw, "min": low, "max": high, "scaled": round((raw - low) / (high - low), 4)}


def _duration(minutes: Any) -> str | None:
    try:
        total = int(minutes)
    except (TypeError, ValueError):
        return None
    if total <= 0:
        return None
    hours, mins = divmod(total, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")


def _progress_percent(value: Any) -> int:
    try:
        fraction = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError("goal progress needs event.data['progress'] as a number 0..1") from exc
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("event.data['progress'] must be a fraction between 0 and 1")
    return round(fraction * 100)


def build(session: Session, event: DomainEvent, *, base: str | None = None) -> BuiltStatement:
    """Build the statement for ``event`` (raises ValueError when the event is malformed)."""
    base = (base or base_url()).rstrip("/")
    kind = vocab.statement_kind(event)
    if event.object.kind != kind.object_kind:
        raise ValueError(
            f"{event.kind} needs an object of kind {kind.object_kind!r}, got {event.object.kind!r}"
        )
    platform = session.get(Platform, event.platform_id)
    if platform is None:
        raise ValueError(f"platform {event.platform_id} does not exist")
    user = session.get(User, event.actor_user_id)
    if user is None or user.platform_id != platform.id:
        raise ValueError(f"user {event.actor_user_id} is not a user of platform {platform.id}")
    data = event.data or {}
    _check_thread_kind(event)

    parents = [_ref_activity(base, platform.id, p) for p in event.parents]
    parent_kinds = {p.kind for p in event.parents}
    missing = [k for k in kind.parent_kinds if k not in parent_kinds]
    if missing:
        raise ValueError(f"{event.kind} needs a parent of kind {', '.join(missing)}")

    grouping = []
    if event.context_id is not None:
        ctx = session.get(Context, event.context_id)
        if ctx is None or ctx.platform_id != platform.id:
            raise ValueError(f"context {event.context_id} is not on platform {platform.id}")
        grouping.append(
            _activity(
                activity_id(base, platform.id, "course", str(ctx.id)),
                vocab.Types.COURSE.resolve(base),
                ctx.display_title,
            )
        )
    if event.placement_id is not None:
        placement = session.get(Placement, event.placement_id)
        if placement is None or (
            event.context_id is not None and placement.context_id != event.context_id
        ):
            raise ValueError(f"placement {event.placement_id} is not in the event's course")
        if event.context_id is None:
            raise ValueError("an event with a placement must name its course (context_id)")
        grouping.append(
            _activity(
                activity_id(base, platform.id, "placement", str(placement.id)),
                vocab.Types.PLACEMENT.resolve(base),
                placement.title or placement.resource_link_id,
            )
        )
    if "course" in kind.grouping_kinds and event.context_id is None:
        raise ValueError(f"{event.kind} needs the course it happened in (context_id)")
    if "placement" in kind.grouping_kinds and event.placement_id is None:
        raise ValueError(f"{event.kind} needs the course activity it happened in (placement_id)")

    competencies = competencies_for(session, event)
    other = [_activity(c.iri, vocab.Types.COMPETENCY.resolve(base), c.name) for c in competencies]
    context_activities: dict[str, Any] = {
        "category": [_activity(profile_version_id(base), vocab.PROFILE_ACTIVITY_TYPE)]
    }
    if parents:
        context_activities["parent"] = parents
    if grouping:
        context_activities["grouping"] = grouping
    if other:
        context_activities["other"] = other
    context: dict[str, Any] = {}
    if kind.context_statement and data.get("reviewer_user_id") is not None:
        reviewer = session.get(User, data["reviewer_user_id"])
        if reviewer is None or reviewer.platform_id != platform.id:
            raise ValueError(f"reviewer {data['reviewer_user_id']} is not a user of this platform")
        context["instructor"] = _agent(platform, reviewer)
    context["contextActivities"] = context_activities
    context["platform"] = PLATFORM_NAME
    context["language"] = LANGUAGE
    if kind.context_statement and data.get("evidence_statement_id"):
        context["statement"] = _statement_ref(str(data["evidence_statement_id"]))
    context["extensions"] = {vocab.Extensions.TOOL_VERSION.resolve(base): plugin.__version__}

    result_extensions: dict[str, Any] = {}
    if kind.result_progress:
        result_extensions[vocab.PROGRESS_EXTENSION] = _progress_percent(data.get("progress"))
    if kind.result_reaction and data.get("reaction"):
        result_extensions[vocab.Extensions.REACTION.resolve(base)] = str(data["reaction"])
    result: dict[str, Any] = {}
    if kind.result_completion:
        result["completion"] = True
    if kind.result_score:
        result["score"] = _score(data)
    duration = _duration(data.get("duration_minutes"))
    if duration:
        result["duration"] = duration
    if _include_response(data):
        result["response"] = str(data["text"])
    if result_extensions:
        result["extensions"] = result_extensions

    obj = _ref_activity(base, platform.id, event.object)
    if obj["definition"]["type"] != kind.object_type.resolve(base):
        raise ValueError(
            f"{kind.slug} needs an object of type {kind.object_type.resolve(base)}, "
            f"got {obj['definition']['type']}"
        )
    statement: dict[str, Any] = {"id": statement_id(event)}
    if result:
        statement["result"] = result
    statement["actor"] = _agent(platform, user)
    statement["verb"] = {"id": kind.verb.resolve(base), "display": _lang(kind.verb.label)}
    statement["object"] = obj
    statement["context"] = context
    statement["timestamp"] = timestamp(event.occurred_at)
    iris = [c.iri for c in competencies]
    if event.object.kind == "competency":
        iris.insert(0, obj["id"])
    return BuiltStatement(statement, kind, list(dict.fromkeys(iris)))


def _check_thread_kind(event: DomainEvent) -> None:
    """``data["thread_kind"]`` (kept for other subscribers) must agree with the variant of the
    thread the event names: the thread's activity type comes from its ActivityRef, so a
    disagreement means a service built the reference wrongly."""
    named = (event.data or {}).get("thread_kind")
    if named is None:
        return
    for ref in (event.object, *event.parents):
        if ref.kind == "thread" and vocab.activity_type(
            "thread", ref.variant
        ) is not vocab.activity_type("thread", str(named)):
            raise ValueError(
                f"thread {ref.key} is referenced as {ref.variant or 'discussion'!r} but the "
                f"event's data says thread_kind={named!r}"
            )


def _include_response(data: dict[str, Any]) -> bool:
    """Post text goes to result.response only when the deployment opts in and the author is not
    anonymous: LRS data is read by analysts who are not members of the course."""
    if not data.get("text") or data.get("anonymous"):
        return False
    return bool(has_app_context() and current_app.config.get("XAPI_INCLUDE_RESPONSE_TEXT"))
