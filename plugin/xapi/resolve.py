"""What each IRI we mint resolves to (the public pages in :mod:`plugin.xapi.views` serve it).

- Profile IRIs — the profile, its version, every concept (verbs, activity types, extensions),
  every Statement Template and Pattern — resolve to their object in our xAPI Profile document,
  as JSON-LD with the Profiles context. Whatever the profile defines resolves: the index is built
  from the document itself, so a new concept cannot be forgotten.
- Activity IRIs ``{base}/xapi/activities/{platform}/{kind}/{key}`` resolve to the activity's id
  and type when that thing exists on that platform (:func:`plugin.events.find_activity`), and to
  nothing otherwise. Names and descriptions stay inside the tenant.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin import events
from plugin.events import ActivityRef
from plugin.lti.models import Context, Placement
from plugin.xapi import statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.profile import PROFILES_CONTEXT, profile_for

# Parts of the profile document whose members have their own IRI.
_MEMBER_LISTS = ("concepts", "templates", "patterns")

_index_cache: dict[str, dict[str, dict[str, Any]]] = {}


def _index(base: str) -> dict[str, dict[str, Any]]:
    base = base.rstrip("/")
    if base not in _index_cache:
        document = profile_for(base)
        index: dict[str, dict[str, Any]] = {document["id"]: document}
        for version in document.get("versions", ()):
            index[version["id"]] = document  # a version IRI answers with the profile document
        for key in _MEMBER_LISTS:
            for member in document.get(key, ()):
                index[member["id"]] = {"@context": PROFILES_CONTEXT, **member}
        _index_cache[base] = index
    return _index_cache[base]


def profile_object(base: str, iri: str) -> dict[str, Any] | None:
    """The JSON-LD object our profile defines for ``iri`` (the whole profile for the profile and
    version IRIs), or None when the profile has no such IRI. Do not mutate the result."""
    return _index(base).get(iri)


def activity_document(
    session: Session, base: str, platform_id: int, kind: str, key: str
) -> dict[str, Any] | None:
    """The activity at ``{base}/xapi/activities/{platform_id}/{kind}/{key}``: its id and type
    (the same type every statement gives it), or None when no such thing exists there."""
    if kind not in vocab.ACTIVITY_TYPES or events.key_id(str(platform_id)) is None:
        return None
    ref = events.find_activity(session, platform_id, kind, key)
    if ref is None:
        return None
    term = vocab.activity_type(ref.kind, ref.variant)
    return {
        "id": statements.activity_id(base, platform_id, kind, key),
        "objectType": "Activity",
        "definition": {"type": term.resolve(base)},
    }


# --- the LMS's things: courses (contexts) and course activities (placements) -----------------
def _find_course(session: Session, platform_id: int, key: str) -> ActivityRef | None:
    row_id = events.key_id(key)
    if row_id is None:
        return None
    context = session.scalars(
        select(Context).where(Context.id == row_id, Context.platform_id == platform_id)
    ).first()
    if context is None:
        return None
    return ActivityRef("course", str(context.id), context.display_title)


def _find_placement(session: Session, platform_id: int, key: str) -> ActivityRef | None:
    row_id = events.key_id(key)
    if row_id is None:
        return None
    placement = session.scalars(
        select(Placement)
        .join(Context, Context.id == Placement.context_id)
        .where(Placement.id == row_id, Context.platform_id == platform_id)
    ).first()
    if placement is None:
        return None
    return ActivityRef(
        "placement", str(placement.id), placement.title or placement.resource_link_id
    )


def register_lms_finders() -> None:
    """Courses and placements belong to the LTI core; xAPI names them, so it finds them."""
    events.register_finder("course", _find_course)
    events.register_finder("placement", _find_placement)
