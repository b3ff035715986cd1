"""Writing a parsed framework into the database: the upsert every import ends in.

Re-importing the same framework (same CFDocument uri or identifier; for Moodle, the same framework
idnumber on the same platform) updates it in place: competencies are matched by identifier (then by
uri), keep their database ids, and so keep their links and evidence. Items that the new version no
longer has are deleted when nothing refers to them, and otherwise kept with ``retired_at`` set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plugin.db import Base, utcnow
from plugin.performance.common import chunks
from plugin.performance.frameworks.parsed import (
    FrameworkImportError,
    ParsedAssociation,
    ParsedFramework,
    ParsedScale,
    association_key,
)
from plugin.performance.models import (
    SOURCE_DEFAULT,
    SOURCE_MOODLE_CSV,
    Competency,
    CompetencyAssociation,
    Framework,
    Scale,
    ScaleLevel,
)

DEFAULT_SCALE_LEVELS = ("Beginning", "Developing", "Proficient", "Advanced")
DEFAULT_SCALE_PROFICIENT = 3


@dataclass
class ImportResult:
    """What an import did: the framework, and how many competencies and associations it added,
    changed, kept and removed."""

    framework_id: int
    title: str
    source_kind: str
    created: bool
    total: int  # competencies in the imported version
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0  # gone upstream, kept because links or evidence point at them
    deleted: int = 0  # gone upstream and unreferenced
    hierarchy_links: int = 0
    associations: int = 0  # CASE associations of every type in the imported version
    associations_added: int = 0
    associations_updated: int = 0
    associations_removed: int = 0
    warnings: list[str] = field(default_factory=list)


def store(
    session: Session, platform_id: int, parsed: ParsedFramework, source_url: str | None
) -> ImportResult:
    """Write a parsed framework into the platform in ``session`` (the caller commits): a new
    framework, or the same one updated in place (matched by uri or identifier). Competencies are
    matched by identifier, then uri, and keep their ids; those gone upstream are deleted when
    nothing refers to them and retired otherwise; the associations become exactly the parsed
    ones. Every check that can refuse the input runs before the first write."""
    if source_url is not None and len(source_url) > 1000:
        raise FrameworkImportError("The source URL is longer than 1000 characters.")
    framework = _existing_framework(session, platform_id, parsed)
    # Everything below writes; every check that can refuse the input has run above.
    now = utcnow()
    created = framework is None
    if framework is None:
        framework = Framework(platform_id=platform_id, created_at=now)
        session.add(framework)
    elif (
        parsed.changed_at
        and framework.source_changed_at
        and (parsed.changed_at < framework.source_changed_at)
    ):
        parsed.warnings.append(
            "This version is older than the one imported before "
            f"({parsed.changed_at:%Y-%m-%d} < {framework.source_changed_at:%Y-%m-%d})."
        )
    framework.uri = parsed.uri
    framework.identifier = parsed.identifier
    framework.title = parsed.title
    framework.description = parsed.description
    framework.creator = parsed.creator
    framework.version = parsed.version
    framework.source_kind = parsed.source_kind
    framework.case_version = parsed.case_version
    framework.source_url = source_url
    framework.source_changed_at = parsed.changed_at
    framework.last_imported_at = now
    framework.scale = _scale_for(session, platform_id, framework, parsed.scale)
    session.flush()

    result = ImportResult(
        framework_id=framework.id,
        title=framework.title,
        source_kind=framework.source_kind,
        created=created,
        total=len(parsed.items),
        hierarchy_links=parsed.hierarchy_links,
        warnings=parsed.warnings,
    )
    existing = list(
        session.scalars(select(Competency).where(Competency.framework_id == framework.id))
    )
    by_identifier = {c.identifier: c for c in existing}
    incoming = {item.identifier for item in parsed.items}
    by_uri = {c.uri: c for c in existing if c.identifier not in incoming}
    claimed: dict[str, Competency] = {}
    added: set[str] = set()
    changed: set[str] = set()
    for item in parsed.items:
        competency = by_identifier.get(item.identifier) or by_uri.pop(item.uri, None)
        if competency is None:
            competency = Competency(framework_id=framework.id, created_at=now)
            session.add(competency)
            added.add(item.identifier)
        values = {
            "identifier": item.identifier,
            "uri": item.uri,
            "code": item.code,
            "name": item.name,
            "description": item.description,
            "item_type": item.item_type,
            "sort_order": item.sort_order,
            "retired_at": None,
        }
        if item.identifier not in added and any(
            getattr(competency, key) != value for key, value in values.items()
        ):
            changed.add(item.identifier)
        for key, value in values.items():
            setattr(competency, key, value)
        claimed[item.identifier] = competency
    session.flush()
    for item in parsed.items:
        competency = claimed[item.identifier]
        parent_id = claimed[item.parent].id if item.parent else None
        if competency.parent_id != parent_id:
            if item.identifier not in added:
                changed.add(item.identifier)
            competency.parent_id = parent_id
    result.added = len(added)
    result.updated = len(changed)
    result.unchanged = len(parsed.items) - result.added - result.updated

    kept_ids = {c.id for c in claimed.values()}
    gone = [c for c in existing if c.id not in kept_ids]
    referenced = _referenced(session, [c.id for c in gone])
    doomed = {c.id for c in gone if c.id not in referenced}
    for competency in gone:
        if competency.id in doomed:
            continue
        if competency.retired_at is None:
            competency.retired_at = now
            result.retired += 1
        if competency.parent_id in doomed:
            competency.parent_id = None
    session.flush()
    _delete(session, Competency, doomed)
    result.deleted = len(doomed)
    session.flush()
    _store_associations(session, framework, parsed.associations, result, now)
    return result


def _store_associations(
    session: Session,
    framework: Framework,
    associations: list[ParsedAssociation],
    result: ImportResult,
    now: datetime,
) -> None:
    """Make the framework's association rows exactly the package's: matched by
    :func:`~plugin.performance.frameworks.parsed.association_key` (identifier, else uri, else type
    and ends), changed ones updated in place, new ones added, those the package no longer has
    removed."""
    rows = list(
        session.scalars(
            select(CompetencyAssociation)
            .where(CompetencyAssociation.framework_id == framework.id)
            .order_by(CompetencyAssociation.position, CompetencyAssociation.id)
        )
    )
    existing: dict[str, CompetencyAssociation] = {}
    keys: dict[str, str] = {}
    for row in rows:
        key = association_key(row.identifier, row.uri, _row_signature(row), keys)
        if key is not None:
            existing[key] = row
    result.associations = len(associations)
    seen: set[int] = set()
    for position, association in enumerate(associations):
        values = {
            "position": position,
            "identifier": association.identifier,
            "uri": association.uri,
            "association_type": association.association_type,
            "origin_uri": association.origin.uri,
            "origin_identifier": association.origin.identifier,
            "origin_title": association.origin.title,
            "destination_uri": association.destination.uri,
            "destination_identifier": association.destination.identifier,
            "destination_title": association.destination.title,
            "sequence_number": association.sequence_number,
            "source_changed_at": association.changed_at,
        }
        row = existing.get(association.key)
        if row is None:
            row = CompetencyAssociation(framework_id=framework.id, created_at=now)
            session.add(row)
            result.associations_added += 1
        else:
            seen.add(row.id)
            if any(
                getattr(row, key) != value for key, value in values.items() if key != "position"
            ):
                result.associations_updated += 1
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
    gone = {row.id for row in rows if row.id not in seen}
    _delete(session, CompetencyAssociation, gone)
    result.associations_removed = len(gone)
    session.flush()


def _delete(
    session: Session, model: type[Competency] | type[CompetencyAssociation], ids: set[int]
) -> None:
    """Delete these rows of ``model``, a bounded ``IN`` list at a time."""
    for chunk in chunks(sorted(ids)):
        session.execute(
            delete(model).where(model.id.in_(chunk)),
            execution_options={"synchronize_session": "fetch"},
        )


def _row_signature(row: CompetencyAssociation) -> str:
    """The :attr:`ParsedAssociation.signature` of a stored association."""
    origin = row.origin_uri or f"identifier:{row.origin_identifier}"
    destination = row.destination_uri or f"identifier:{row.destination_identifier}"
    return f"{row.association_type}|{origin}|{destination}"


def _existing_framework(
    session: Session, platform_id: int, parsed: ParsedFramework
) -> Framework | None:
    in_platform = select(Framework).where(Framework.platform_id == platform_id)
    by_uri = session.scalars(in_platform.where(Framework.uri == parsed.uri)).first()
    by_identifier = session.scalars(
        in_platform.where(Framework.identifier == parsed.identifier)
    ).first()
    if by_uri is not None and by_identifier is not None and by_uri.id != by_identifier.id:
        raise FrameworkImportError(
            f"This package's uri matches the framework “{by_uri.title}” but its identifier "
            f"matches “{by_identifier.title}”; refusing to merge two frameworks."
        )
    return by_uri or by_identifier


def default_scale(session: Session, platform_id: int) -> Scale:
    """The platform's default four-level scale (created on first use)."""
    scale = session.scalars(
        select(Scale)
        .where(Scale.platform_id == platform_id, Scale.source == SOURCE_DEFAULT)
        .order_by(Scale.id)
    ).first()
    if scale is None:
        scale = Scale(
            platform_id=platform_id,
            name="Proficiency",
            source=SOURCE_DEFAULT,
            proficient_position=DEFAULT_SCALE_PROFICIENT,
            levels=[
                ScaleLevel(position=position, name=name)
                for position, name in enumerate(DEFAULT_SCALE_LEVELS, start=1)
            ],
        )
        session.add(scale)
    return scale


def _scale_for(
    session: Session, platform_id: int, framework: Framework, parsed: ParsedScale | None
) -> Scale:
    if parsed is None:
        return default_scale(session, platform_id)
    scale = framework.scale
    if scale is None or scale.source != SOURCE_MOODLE_CSV:
        scale = Scale(platform_id=platform_id, source=SOURCE_MOODLE_CSV)
        session.add(scale)
    scale.name = parsed.name
    scale.external_id = parsed.external_id
    scale.proficient_position = parsed.proficient_position
    scale.default_position = parsed.default_position
    current = {level.position: level for level in scale.levels}
    for position, name in enumerate(parsed.levels, start=1):
        if position in current:
            current[position].name = name
        else:
            scale.levels.append(ScaleLevel(position=position, name=name))
    for position, level in current.items():
        if position > len(parsed.levels):
            scale.levels.remove(level)
    return scale


def _referenced(session: Session, competency_ids: list[int]) -> set[int]:
    """Those of ``competency_ids`` that any other table points at (links, evidence, and whatever
    later tables add a foreign key to competencies: goals, mentor profiles...)."""
    if not competency_ids:
        return set()
    target = Competency.__table__.c.id
    found: set[int] = set()
    for table in Base.metadata.sorted_tables:
        if table is Competency.__table__:
            continue
        for fk in table.foreign_keys:
            if fk.column is not target:
                continue
            column = fk.parent
            for chunk in chunks(competency_ids):
                found.update(session.scalars(select(column).where(column.in_(chunk)).distinct()))
    return found
