"""Reading CASE associations: which competencies (or outside items) a competency is associated
with, resolved within one platform.

Association rows keep their ends as the package gave them (:class:`CompetencyAssociation`). An
end is matched to a competency of the platform by its uri (by identifier when the package gave no
uri), when read: an association pointing into another framework resolves as soon as that
framework is imported — in either order — and stops resolving if the item goes away.

Two types carry a rule (docs/competencies.md):

- ``exactMatchOf`` — the same competency in another framework. Symmetric, and transitive (an exact
  match of an exact match is one too): evidence for one counts for all of them
  (:func:`plugin.performance.evidence.evidence_for`).
- ``isRelatedTo`` — related, symmetric: shown and offered as related, never counted as the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from plugin.performance.common import chunks
from plugin.performance.models import Competency, CompetencyAssociation, Framework

HIERARCHY = "isChildOf"
EXACT_MATCH = "exactMatchOf"
RELATED = "isRelatedTo"
#: How the page names the CASE association types (others are shown as they are).
TYPE_LABELS = {
    "isChildOf": "is a child of",
    "isPeerOf": "is a peer of",
    "isPartOf": "is part of",
    "exactMatchOf": "is an exact match of",
    "precedes": "precedes",
    "isRelatedTo": "is related to",
    "replacedBy": "is replaced by",
    "exemplar": "has as an exemplar",
    "hasSkillLevel": "has the skill level",
}
MAX_MATCH_ROUNDS = 20  # exact-match chains longer than this are not followed further


@dataclass(frozen=True)
class End:
    """One end of an association: the package's uri/identifier/title, and what it is here — a
    competency of the platform, a framework's CFDocument, or neither (outside the platform)."""

    uri: str | None
    identifier: str | None
    title: str | None
    competency: Competency | None = None
    framework: Framework | None = None

    @property
    def label(self) -> str:
        if self.competency is not None:
            return self.competency.label
        if self.framework is not None:
            return self.framework.title
        return self.title or self.uri or self.identifier or ""


@dataclass(frozen=True)
class AssociationInfo:
    id: int
    framework_id: int
    association_type: str
    identifier: str | None
    uri: str | None
    sequence_number: int | None
    changed_at: datetime | None
    origin: End
    destination: End

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.association_type, self.association_type)


@dataclass(frozen=True)
class Related:
    """An association seen from one competency: the type, which way it points, the other end."""

    association: AssociationInfo
    outgoing: bool  # the competency is the origin
    other: End


def _in_platform(platform_id: int) -> ColumnElement[bool]:
    return CompetencyAssociation.framework_id.in_(
        select(Framework.id).where(Framework.platform_id == platform_id)
    )


def _matches(
    uri_column: Any, identifier_column: Any, competencies: Iterable[Competency]
) -> ColumnElement[bool]:
    """SQL: the end (uri, identifier columns) is one of these competencies."""
    competencies = list(competencies)
    uris = [c.uri for c in competencies]
    identifiers = [c.identifier for c in competencies]
    if not competencies:
        return false()
    return or_(
        uri_column.in_(uris),
        and_(uri_column.is_(None), identifier_column.in_(identifiers)),
    )


def _end_is(row: CompetencyAssociation, side: str, competencies: Iterable[Competency]) -> bool:
    uri = getattr(row, f"{side}_uri")
    identifier = getattr(row, f"{side}_identifier")
    return any(
        (uri == c.uri) if uri is not None else (identifier == c.identifier) for c in competencies
    )


def _competencies_at(
    session: Session, platform_id: int, ends: Iterable[tuple[str | None, str | None]]
) -> dict[tuple[str | None, str | None], list[Competency]]:
    """For each end (uri, identifier): the platform's competencies it names — by uri, or by
    identifier when the end has no uri — oldest first. Several frameworks may hold the same item
    (the same uri): then the end names each of them."""
    ends = set(ends)
    uris = sorted({u for u, _ in ends if u})
    bare = sorted({i for u, i in ends if not u and i})
    by_uri: dict[str, list[Competency]] = {}
    by_identifier: dict[str, list[Competency]] = {}
    in_platform = (
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.platform_id == platform_id)
        .order_by(Competency.id)
    )
    for chunk in chunks(uris):
        for competency in session.scalars(in_platform.where(Competency.uri.in_(chunk))):
            by_uri.setdefault(competency.uri, []).append(competency)
    for chunk in chunks(bare):
        for competency in session.scalars(in_platform.where(Competency.identifier.in_(chunk))):
            by_identifier.setdefault(competency.identifier, []).append(competency)
    return {(u, i): by_uri.get(u, []) if u else by_identifier.get(i or "", []) for u, i in ends}


def _ends(row: CompetencyAssociation) -> tuple[tuple[str | None, str | None], ...]:
    return (
        (row.origin_uri, row.origin_identifier),
        (row.destination_uri, row.destination_identifier),
    )


def resolve(
    session: Session, platform_id: int, rows: list[CompetencyAssociation]
) -> list[AssociationInfo]:
    """The rows with their ends matched to the platform's competencies and frameworks. When
    several competencies share an end's uri, the association's own framework wins, then a
    competency that is not retired, then the oldest."""
    at = _competencies_at(session, platform_id, (e for r in rows for e in _ends(r)))
    uris = sorted({u for r in rows for u, _ in _ends(r) if u})
    frameworks: dict[str, Framework] = {}
    for chunk in chunks(uris):
        for framework in session.scalars(
            select(Framework).where(Framework.platform_id == platform_id, Framework.uri.in_(chunk))
        ):
            frameworks[framework.uri] = framework

    def end(row: CompetencyAssociation, side: str) -> End:
        uri = getattr(row, f"{side}_uri")
        identifier = getattr(row, f"{side}_identifier")
        candidates = at.get((uri, identifier), [])
        competency = None
        if candidates:
            competency = min(
                candidates,
                key=lambda c: (c.framework_id != row.framework_id, c.retired_at is not None, c.id),
            )
        framework = frameworks.get(uri) if uri and competency is None else None
        return End(uri, identifier, getattr(row, f"{side}_title"), competency, framework)

    return [
        AssociationInfo(
            id=row.id,
            framework_id=row.framework_id,
            association_type=row.association_type,
            identifier=row.identifier,
            uri=row.uri,
            sequence_number=row.sequence_number,
            changed_at=row.source_changed_at,
            origin=end(row, "origin"),
            destination=end(row, "destination"),
        )
        for row in rows
    ]


def of_competency(session: Session, platform_id: int, competency: Competency) -> list[Related]:
    """Every association of the platform with the competency at one end — declared by its own
    framework or by another one — seen from the competency (package order, own framework first)."""
    rows = list(
        session.scalars(
            select(CompetencyAssociation)
            .where(
                _in_platform(platform_id),
                or_(
                    _matches(
                        CompetencyAssociation.origin_uri,
                        CompetencyAssociation.origin_identifier,
                        [competency],
                    ),
                    _matches(
                        CompetencyAssociation.destination_uri,
                        CompetencyAssociation.destination_identifier,
                        [competency],
                    ),
                ),
            )
            .order_by(
                CompetencyAssociation.framework_id != competency.framework_id,
                CompetencyAssociation.framework_id,
                CompetencyAssociation.position,
            )
        )
    )
    out: list[Related] = []
    for row, info in zip(rows, resolve(session, platform_id, rows), strict=True):
        outgoing = _end_is(row, "origin", [competency])
        out.append(Related(info, outgoing, info.destination if outgoing else info.origin))
    return out


def exact_matches(session: Session, platform_id: int, competency: Competency) -> list[Competency]:
    """The competencies of the platform that are the same as this one: ``exactMatchOf`` in
    either direction, followed through chains (A = B and B = C make A = C), and the same item
    (the same uri) imported in another framework. Not itself; in the order they were found."""
    found: dict[int, Competency] = {competency.id: competency}
    same_item = _competencies_at(session, platform_id, [(competency.uri, None)])
    for other in same_item[(competency.uri, None)]:
        found.setdefault(other.id, other)
    frontier = list(found.values())
    for _ in range(MAX_MATCH_ROUNDS):
        if not frontier:
            break
        rows = list(
            session.scalars(
                select(CompetencyAssociation)
                .where(
                    _in_platform(platform_id),
                    CompetencyAssociation.association_type == EXACT_MATCH,
                    or_(
                        _matches(
                            CompetencyAssociation.origin_uri,
                            CompetencyAssociation.origin_identifier,
                            frontier,
                        ),
                        _matches(
                            CompetencyAssociation.destination_uri,
                            CompetencyAssociation.destination_identifier,
                            frontier,
                        ),
                    ),
                )
                .order_by(CompetencyAssociation.framework_id, CompetencyAssociation.position)
            )
        )
        others: list[tuple[str | None, str | None]] = []
        for row in rows:
            origin, destination = _ends(row)
            if _end_is(row, "origin", frontier):
                others.append(destination)
            if _end_is(row, "destination", frontier):
                others.append(origin)
        at = _competencies_at(session, platform_id, others)
        following: list[Competency] = []
        for other_end in others:
            for other in at.get(other_end, []):
                if other.id not in found:
                    found[other.id] = other
                    following.append(other)
        frontier = following
    return [c for c in found.values() if c.id != competency.id]


def related(session: Session, platform_id: int, competency: Competency) -> list[End]:
    """What the competency ``isRelatedTo`` (in either direction): competencies of the platform
    or outside items. Related is not the same: their evidence does not count for it."""
    seen: set[str] = set()
    out: list[End] = []
    for item in of_competency(session, platform_id, competency):
        if item.association.association_type != RELATED:
            continue
        key = f"c:{item.other.competency.id}" if item.other.competency else f"u:{item.other.uri}"
        if key not in seen and not (
            item.other.competency is not None and item.other.competency.id == competency.id
        ):
            seen.add(key)
            out.append(item.other)
    return out


def framework_page(
    session: Session, framework: Framework, *, after: int | None = None, limit: int = 100
) -> tuple[list[AssociationInfo], int | None]:
    """The framework's own associations in package order, a page at a time (keyset on
    ``position``): (items, the ``after`` value for the next page or None)."""
    query = select(CompetencyAssociation).where(CompetencyAssociation.framework_id == framework.id)
    if after is not None:
        query = query.where(CompetencyAssociation.position > after)
    rows = list(session.scalars(query.order_by(CompetencyAssociation.position).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    infos = resolve(session, framework.platform_id, rows)
    return infos, (rows[-1].position if more else None)


def type_counts(session: Session, framework: Framework) -> dict[str, int]:
    """How many associations of each type the framework's package has."""
    rows = session.execute(
        select(CompetencyAssociation.association_type, func.count())
        .where(CompetencyAssociation.framework_id == framework.id)
        .group_by(CompetencyAssociation.association_type)
        .order_by(CompetencyAssociation.association_type)
    )
    return {kind: count for kind, count in rows}
