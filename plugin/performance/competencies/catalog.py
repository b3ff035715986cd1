"""Reading competencies, always within one platform: one competency, search, and the competency an
``ActivityRef`` names (the events finder for kind ``competency``)."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from plugin.events import ActivityRef
from plugin.ids import MAX_ID
from plugin.performance.models import Competency, Framework


def get_competency(session: Session, platform_id: int, competency_id: int) -> Competency | None:
    """The competency if its framework belongs to this platform; None otherwise (also for an id
    no column can hold)."""
    if not 0 < competency_id <= MAX_ID:
        return None
    return session.scalars(
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.id == competency_id, Framework.platform_id == platform_id)
    ).first()


def _like_pattern(text: str) -> str:
    """A ``LIKE … ESCAPE '\\'`` pattern for text contained anywhere (its wildcards escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_competencies(
    session: Session,
    platform_id: int,
    q: str,
    *,
    limit: int = 20,
    include_retired: bool = False,
) -> list[Competency]:
    """Competencies of the platform whose name, code or identifier contains ``q`` (any case):
    exact codes first, then names that start with it, then shorter names."""
    q = q.strip()
    if not q:
        return []
    pattern = _like_pattern(q)
    query = (
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(
            Framework.platform_id == platform_id,
            Competency.name.ilike(pattern, escape="\\")
            | Competency.code.ilike(pattern, escape="\\")
            | Competency.identifier.ilike(pattern, escape="\\"),
        )
    )
    if not include_retired:
        query = query.where(Competency.retired_at.is_(None))
    rank = case(
        (func.lower(Competency.code) == q.lower(), 0),
        (Competency.name.ilike(_like_pattern(q)[1:], escape="\\"), 1),
        else_=2,
    )
    return list(
        session.scalars(
            query.order_by(rank, func.length(Competency.name), Competency.id).limit(limit)
        )
    )


def find_activity(session: Session, platform_id: int, key: str) -> ActivityRef | None:
    """The competency an ActivityRef key names on the platform — its IRI, as events use it — or
    None. (A competency's activity id is its own IRI; only a key that is not an absolute IRI
    becomes an activity IRI of ours, which then resolves through this.)"""
    if not key or len(key) > 1000:
        return None
    competency = session.scalars(
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.platform_id == platform_id, Competency.uri == key)
        .order_by(Competency.id)
    ).first()
    if competency is None:
        return None
    return ActivityRef("competency", competency.uri, competency.name)
