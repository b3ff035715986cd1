"""What a launched person may do with competency frameworks. The services decide (docs/
architecture.md, "Access"); views and API endpoints build the viewer and call them.

- Reading frameworks (the list, one framework, its competencies and associations) is open to any
  launched person of the platform: learners pick competencies for goals and requests.
- The staff pages (the list with its import form, one framework's tree) and importing are for
  course staff (:meth:`plugin.access.Viewer.require_staff`).
- Everything is the viewer's platform's: another platform's framework is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer
from plugin.performance import associations
from plugin.performance.associations import AssociationInfo
from plugin.performance.frameworks import catalog, imports
from plugin.performance.frameworks.catalog import FrameworkSummary, TreeNode
from plugin.performance.frameworks.fetch import MAX_DOWNLOAD_BYTES
from plugin.performance.frameworks.parsed import FrameworkImportError
from plugin.performance.frameworks.store import ImportResult
from plugin.performance.models import Competency, Framework

#: the largest file an import takes (the largest a CASE URL may answer with, too)
IMPORT_MAX_BYTES = MAX_DOWNLOAD_BYTES


@dataclass(frozen=True)
class FrameworkDetail:
    """One framework as its page and the API show it."""

    summary: FrameworkSummary
    tree: list[TreeNode]
    depth: int
    association_counts: dict[str, int]

    @property
    def framework(self) -> Framework:
        """The framework itself."""
        return self.summary.framework


def list_frameworks(session: Session, viewer: Viewer) -> list[FrameworkSummary]:
    """The viewer's platform's frameworks, by title."""
    return catalog.list_frameworks(session, viewer.platform_id)


def get_framework(session: Session, viewer: Viewer, framework_id: int) -> Framework:
    """A framework of the viewer's platform; 404 for any other id."""
    framework = catalog.get_framework(session, viewer.platform_id, framework_id)
    if framework is None:
        raise Refusal(404, f"No framework {framework_id} in your platform.", title="Not found")
    return framework


def framework_detail(session: Session, viewer: Viewer, framework_id: int) -> FrameworkDetail:
    """One framework with its counts, tree and association types (404 as :func:`get_framework`)."""
    return _detail(session, get_framework(session, viewer, framework_id))


def competencies_page(
    session: Session,
    viewer: Viewer,
    framework_id: int,
    *,
    after: int | None,
    limit: int,
    include_retired: bool,
) -> tuple[list[Competency], int | None]:
    """A framework's competencies by id, a page at a time (``after``: the last page's value)."""
    framework = get_framework(session, viewer, framework_id)
    return catalog.competencies_page(
        session, framework, after=after, limit=limit, include_retired=include_retired
    )


def associations_page(
    session: Session, viewer: Viewer, framework_id: int, *, after: int | None, limit: int
) -> tuple[list[AssociationInfo], int | None]:
    """A framework's CASE associations in package order, a page at a time."""
    framework = get_framework(session, viewer, framework_id)
    return associations.framework_page(session, framework, after=after, limit=limit)


def staff_frameworks(session: Session, viewer: Viewer) -> list[FrameworkSummary]:
    """The frameworks page, with its import form: course staff only."""
    viewer.require_staff()
    return list_frameworks(session, viewer)


def staff_framework(session: Session, viewer: Viewer, framework_id: int) -> FrameworkDetail:
    """One framework's page (its tree): course staff only; 404 for another platform's."""
    viewer.require_staff()
    framework = catalog.get_framework(session, viewer.platform_id, framework_id)
    if framework is None:
        raise Refusal(
            404, "There is no such framework in your platform.", title="Framework not found"
        )
    return _detail(session, framework)


def _detail(session: Session, framework: Framework) -> FrameworkDetail:
    tree = catalog.framework_tree(session, framework)
    return FrameworkDetail(
        summary=catalog.summarize(session, framework),
        tree=tree,
        depth=catalog.tree_depth(tree),
        association_counts=associations.type_counts(session, framework),
    )


def check_may_import(viewer: Viewer) -> None:
    """Who may import frameworks (course staff), for callers that must refuse before they read
    what is being imported."""
    viewer.require_staff()


def import_framework(
    session: Session,
    viewer: Viewer,
    *,
    file: tuple[str, IO[bytes]] | None = None,
    url: str | None = None,
    allow_private_hosts: bool = False,
) -> ImportResult:
    """Course staff import a framework into their platform, or update it: one uploaded file
    (``(filename, stream)``: CASE JSON or Moodle CSV, at most :data:`IMPORT_MAX_BYTES`) or one
    CASE package URL (fetched through :mod:`plugin.netguard`; ``allow_private_hosts`` is the
    ``ALLOW_PRIVATE_HOSTS`` setting). 400 unless exactly one is given; bad input is a
    :class:`FrameworkImportError` (422) before anything is written."""
    check_may_import(viewer)
    url = (url or "").strip()
    if (file is None) == (not url):
        raise FrameworkImportError(
            "Upload one file (CASE JSON or Moodle CSV) or give one CASE package URL.",
            status=400,
            title="Choose what to import",
        )
    if file is not None:
        filename, stream = file
        raw = stream.read(IMPORT_MAX_BYTES + 1)
        if len(raw) > IMPORT_MAX_BYTES:
            raise FrameworkImportError(
                f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB."
            )
        return imports.import_document(session, viewer.platform_id, raw, filename=filename)
    return imports.import_case_url(
        session, viewer.platform_id, url, allow_private_hosts=allow_private_hosts
    )
