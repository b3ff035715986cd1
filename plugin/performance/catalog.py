"""Reading frameworks and competencies, always within one platform."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from plugin.events import ActivityRef
from plugin.performance.models import Competency, Framework

MAX_ID = 2_147_483_647  # ids are 32-bit columns


@dataclass
class FrameworkSummary:
    framework: Framework
    active: int = 0
    retired: int = 0


@dataclass
class TreeNode:
    competency: Competency
    depth: int
    children: list[TreeNode] = field(default_factory=list)


def list_frameworks(session: Session, platform_id: int) -> list[FrameworkSummary]:
    frameworks = session.scalars(
        select(Framework)
        .where(Framework.platform_id == platform_id)
        .order_by(func.lower(Framework.title), Framework.id)
    ).all()
    summaries = {f.id: FrameworkSummary(f) for f in frameworks}
    if summaries:
        counts = session.execute(
            select(
                Competency.framework_id,
                func.count().filter(Competency.retired_at.is_(None)),
                func.count().filter(Competency.retired_at.is_not(None)),
            )
            .where(Competency.framework_id.in_(list(summaries)))
            .group_by(Competency.framework_id)
        )
        for framework_id, active, retired in counts:
            summaries[framework_id].active = active
            summaries[framework_id].retired = retired
    return list(summaries.values())


def get_framework(session: Session, platform_id: int, framework_id: int) -> Framework | None:
    """The framework if it belongs to this platform; None otherwise (another tenant's ids too)."""
    return session.scalars(
        select(Framework).where(Framework.id == framework_id, Framework.platform_id == platform_id)
    ).first()


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


def summarize(session: Session, framework: Framework) -> FrameworkSummary:
    active, retired = session.execute(
        select(
            func.count().filter(Competency.retired_at.is_(None)),
            func.count().filter(Competency.retired_at.is_not(None)),
        ).where(Competency.framework_id == framework.id)
    ).one()
    return FrameworkSummary(framework, active, retired)


def framework_tree(session: Session, framework: Framework) -> list[TreeNode]:
    """The framework's competencies as a forest in display order (retired ones included)."""
    competencies = session.scalars(
        select(Competency)
        .where(Competency.framework_id == framework.id)
        .order_by(Competency.sort_order, Competency.id)
    ).all()
    children: dict[int | None, list[Competency]] = {}
    ids = {c.id for c in competencies}
    for competency in competencies:
        parent = competency.parent_id if competency.parent_id in ids else None
        children.setdefault(parent, []).append(competency)

    def build(parent: int | None, depth: int) -> list[TreeNode]:
        return [TreeNode(c, depth, build(c.id, depth + 1)) for c in children.get(parent, [])]

    # Retired items without a parent come after the live tree.
    roots = build(None, 1)
    return sorted(roots, key=lambda node: node.competency.retired_at is not None)


def tree_depth(nodes: list[TreeNode]) -> int:
    return max((max(node.depth, tree_depth(node.children)) for node in nodes), default=0)


def competencies_page(
    session: Session,
    framework: Framework,
    *,
    after: int | None = None,
    limit: int = 100,
    include_retired: bool = True,
) -> tuple[list[Competency], int | None]:
    """Keyset pagination by id: (items, the ``after`` value for the next page or None)."""
    query = select(Competency).where(Competency.framework_id == framework.id)
    if after is not None:
        query = query.where(Competency.id > after)
    if not include_retired:
        query = query.where(Competency.retired_at.is_(None))
    rows = list(session.scalars(query.order_by(Competency.id).limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def _like_pattern(text: str) -> str:
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
