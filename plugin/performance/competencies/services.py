"""What a launched person may see of competencies. The services decide (docs/architecture.md,
"Access"); views and API endpoints build the viewer and call them.

- Reading a competency and searching are open to any launched person of the platform (learners
  pick competencies for goals and requests).
- The competency page, with the evidence of the viewer's course, is for course staff.
- Everything is the viewer's platform's: another platform's competency is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer
from plugin.performance import associations, evidence
from plugin.performance.associations import End, Related
from plugin.performance.competencies import catalog
from plugin.performance.evidence import EvidenceSummary
from plugin.performance.frameworks import catalog as frameworks_catalog
from plugin.performance.models import Competency


@dataclass(frozen=True)
class CompetencyDetail:
    """A competency with what the page and the API show of its CASE associations."""

    competency: Competency
    associations: list[Related]  # every association it is an end of, in any framework
    exact_matches: list[Competency]
    related: list[End]


@dataclass(frozen=True)
class CompetencyPage:
    """The staff page of one competency."""

    detail: CompetencyDetail
    parent: Competency | None
    framework_titles: dict[int, str]  # the platform's frameworks, for "declared by"
    evidence: EvidenceSummary | None  # in the viewer's course; None outside a course

    @property
    def associations(self) -> list[Related]:
        """Its associations but the hierarchy (the page shows the parent on its own)."""
        return [
            a
            for a in self.detail.associations
            if a.association.association_type != associations.HIERARCHY
        ]


def competency_detail(session: Session, viewer: Viewer, competency_id: int) -> CompetencyDetail:
    """One competency of the viewer's platform with its associations; 404 for any other id."""
    competency = catalog.get_competency(session, viewer.platform_id, competency_id)
    if competency is None:
        raise Refusal(404, f"No competency {competency_id} in your platform.", title="Not found")
    return _detail(session, viewer, competency)


def _detail(session: Session, viewer: Viewer, competency: Competency) -> CompetencyDetail:
    platform_id = viewer.platform_id
    return CompetencyDetail(
        competency=competency,
        associations=associations.of_competency(session, platform_id, competency),
        exact_matches=associations.exact_matches(session, platform_id, competency),
        related=associations.related(session, platform_id, competency),
    )


def staff_competency(session: Session, viewer: Viewer, competency_id: int) -> CompetencyPage:
    """One competency's page: course staff only. Its evidence is that of the viewer's course
    (its own and its exact matches'): staff see their own course's learners."""
    viewer.require_staff()
    competency = catalog.get_competency(session, viewer.platform_id, competency_id)
    if competency is None:
        raise Refusal(
            404, "There is no such competency in your platform.", title="Competency not found"
        )
    parent = (
        catalog.get_competency(session, viewer.platform_id, competency.parent_id)
        if competency.parent_id is not None
        else None
    )
    return CompetencyPage(
        detail=_detail(session, viewer, competency),
        parent=parent,
        framework_titles={
            summary.framework.id: summary.framework.title
            for summary in frameworks_catalog.list_frameworks(session, viewer.platform_id)
        },
        evidence=evidence.summarize_evidence(
            session, viewer.platform_id, competency, context_id=viewer.context_id
        )
        if viewer.context_id is not None
        else None,
    )


def search(
    session: Session, viewer: Viewer, q: str, *, limit: int, include_retired: bool
) -> list[Competency]:
    """Competencies of the viewer's platform whose name, code or identifier contains ``q``."""
    return catalog.search_competencies(
        session, viewer.platform_id, q, limit=limit, include_retired=include_retired
    )
