"""Pages for staff: the platform's competency frameworks, importing one, and one framework's tree.

Views build the launch's viewer and call :mod:`.services`, which decide who may do what."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from plugin.access import Viewer
from plugin.db import db_session, unit_of_work
from plugin.performance.associations import TYPE_LABELS
from plugin.performance.frameworks import services
from plugin.performance.frameworks.parsed import FrameworkImportError
from plugin.performance.frameworks.services import IMPORT_MAX_BYTES
from plugin.performance.frameworks.store import ImportResult
from plugin.web import current, launch_required, launch_viewer

#: Named "performance": the course tools (plugin/lti) link to ``performance.frameworks_page``. It
#: also serves the package's stylesheet and script (plugin/performance/static), which the
#: competency page shares.
bp = Blueprint(
    "performance",
    __name__,
    template_folder="templates",
    static_folder=str(Path(__file__).resolve().parent.parent / "static"),
    static_url_path="/competencies/static",
)

IMPORT_ENDPOINTS = {"performance.import_framework", "frameworks_api.import_framework"}


def allow_large_import_bodies() -> None:
    """Framework files may be larger than the app-wide request limit; raise it for imports only
    (before anything reads the body, which includes finding the launch token in the form)."""
    if request.endpoint in IMPORT_ENDPOINTS:
        request.max_content_length = IMPORT_MAX_BYTES


bp.before_request(allow_large_import_bodies)


def perform_import(viewer: Viewer, upload: FileStorage | None, url: str | None) -> ImportResult:
    """Import an uploaded file (CASE JSON or Moodle CSV) or a CASE package URL into the viewer's
    platform (:func:`.services.import_framework`), in one transaction; two imports of the same
    framework at the same moment: the second is a 409."""
    file = (upload.filename, upload.stream) if upload is not None and upload.filename else None
    try:
        with unit_of_work() as session:
            return services.import_framework(
                session,
                viewer,
                file=file,
                url=url,
                allow_private_hosts=current_app.config["COMMONS_SETTINGS"].private_hosts_allowed,
            )
    except IntegrityError as exc:
        raise FrameworkImportError(
            "Someone else imported this framework at the same moment.",
            status=409,
            hint="Try again.",
        ) from exc


@bp.get("/competencies/frameworks")
@launch_required
def frameworks_page() -> str:
    summaries = services.staff_frameworks(db_session(), launch_viewer())
    return _frameworks_page(summaries)


def _frameworks_page(summaries: list, error: str | None = None, url: str = "") -> str:
    cur = current()
    return render_template(
        "frameworks/frameworks.html",
        cur=cur,
        token=cur.token,
        summaries=summaries,
        error=error,
        url=url,
        max_mb=IMPORT_MAX_BYTES // (1024 * 1024),
    )


@bp.post("/competencies/frameworks/import")
@launch_required
def import_framework() -> str | tuple[str, int]:
    """Import, then the result page; a refused import shows the frameworks page again with the
    reason beside the form."""
    cur = current()
    viewer = launch_viewer()
    url = request.form.get("url", "")
    try:
        result = perform_import(viewer, request.files.get("file"), url)
    except FrameworkImportError as exc:
        summaries = services.list_frameworks(db_session(), viewer)
        return _frameworks_page(summaries, error=exc.message, url=url), exc.status
    return render_template("frameworks/import_result.html", cur=cur, token=cur.token, result=result)


@bp.get("/competencies/frameworks/<int:framework_id>")
@launch_required
def framework_page(framework_id: int) -> str:
    cur = current()
    detail = services.staff_framework(db_session(), launch_viewer(), framework_id)
    return render_template(
        "frameworks/framework.html",
        cur=cur,
        token=cur.token,
        framework=detail.framework,
        summary=detail.summary,
        tree=detail.tree,
        depth=detail.depth,
        association_counts=detail.association_counts,
        type_labels=TYPE_LABELS,
    )
