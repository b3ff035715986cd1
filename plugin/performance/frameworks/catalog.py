"""Reading frameworks, always within one platform: the list with counts, one framework, its tree,
its competencies a page at a time."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.performance.models import Competency, Framework


@dataclass
class FrameworkSummary:
    """A framework and how many of its competencies are live and retired."""

    framework: Framework
    active: int = 0
    retired: int = 0


@dataclass
class TreeNode:
    """A competency in its framework's tree, at ``depth`` (top level = 1)."""

    competency: Competency
    depth: int
    children: list[TreeNode] = field(default_factory=list)


def list_frameworks(session: Session, platform_id: int) -> list[FrameworkSummary]:
    """The platform's frameworks by title, each with its counts of live and retired competencies."""
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


def summarize(session: Session, framework: Framework) -> FrameworkSummary:
    """The framework with its counts of live and retired competencies."""
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
    """How many levels the forest has (0 when empty)."""
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
