"""Pages for staff: the platform's competency frameworks, importing one, and one framework's tree."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from plugin.access import Refusal
from plugin.db import db_session, unit_of_work
from plugin.performance import associations, catalog, evidence, frameworks
from plugin.performance.frameworks import FrameworkImportError, ImportResult
from plugin.web import Current, current, launch_required, launch_viewer

bp = Blueprint(
    "performance",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/competencies/static",
)

IMPORT_MAX_BYTES = frameworks.MAX_DOWNLOAD_BYTES
IMPORT_ENDPOINTS = {"performance.import_framework", "competencies_api.import_framework"}


def allow_large_import_bodies() -> None:
    """Framework files may be larger than the app-wide request limit; raise it for imports only
    (before anything reads the body, which includes finding the launch token in the form)."""
    if request.endpoint in IMPORT_ENDPOINTS:
        request.max_content_length = IMPORT_MAX_BYTES


bp.before_request(allow_large_import_bodies)


def _allow_private_hosts() -> bool:
    """The one outbound-fetch setting (``ALLOW_PRIVATE_HOSTS``; see :mod:`plugin.netguard`)."""
    return current_app.config["COMMONS_SETTINGS"].private_hosts_allowed


def perform_import(cur: Current, upload: FileStorage | None, url: str | None) -> ImportResult:
    """Import an uploaded file (CASE JSON or Moodle CSV) or a CASE package URL into the current
    platform, in one transaction. Refusals become a 4xx :class:`Refusal`."""
    launch_viewer().require_staff()
    has_file = upload is not None and bool(upload.filename)
    url = (url or "").strip()
    if has_file == bool(url):
        raise Refusal(
            400,
            "Upload one file (CASE JSON or Moodle CSV) or give one CASE package URL.",
            title="Choose what to import",
        )
    try:
        with unit_of_work() as session:
            if has_file:
                assert upload is not None
                raw = upload.read(IMPORT_MAX_BYTES + 1)
                if len(raw) > IMPORT_MAX_BYTES:
                    raise FrameworkImportError(
                        f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB."
                    )
                return frameworks.import_document(
                    session, cur.platform.id, raw, filename=upload.filename
                )
            return frameworks.import_case_url(
                session, cur.platform.id, url, allow_private_hosts=_allow_private_hosts()
            )
    except FrameworkImportError as exc:
        raise Refusal(422, exc.message, title="The framework was not imported") from exc
    except IntegrityError as exc:
        raise Refusal(
            409,
            "Someone else imported this framework at the same moment.",
            title="The framework was not imported",
            hint="Try again.",
        ) from exc


@bp.get("/competencies/frameworks")
@launch_required
def frameworks_page() -> str:
    cur = current()
    launch_viewer().require_staff()
    return _frameworks_page(cur)


def _frameworks_page(cur: Current, error: str | None = None, url: str = "") -> str:
    summaries = catalog.list_frameworks(db_session(), cur.platform.id)
    return render_template(
        "performance/frameworks.html",
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
    cur = current()
    launch_viewer().require_staff()
    url = request.form.get("url", "")
    try:
        result = perform_import(cur, request.files.get("file"), url)
    except Refusal as exc:
        return _frameworks_page(cur, error=exc.message, url=url), exc.status
    return render_template(
        "performance/import_result.html", cur=cur, token=cur.token, result=result
    )


@bp.get("/competencies/frameworks/<int:framework_id>")
@launch_required
def framework_page(framework_id: int) -> str:
    cur = current()
    launch_viewer().require_staff()
    session = db_session()
    framework = catalog.get_framework(session, cur.platform.id, framework_id)
    if framework is None:
        raise Refusal(
            404, "There is no such framework in your platform.", title="Framework not found"
        )
    tree = catalog.framework_tree(session, framework)
    return render_template(
        "performance/framework.html",
        cur=cur,
        token=cur.token,
        framework=framework,
        summary=catalog.summarize(session, framework),
        tree=tree,
        depth=catalog.tree_depth(tree),
        association_counts=associations.type_counts(session, framework),
        type_labels=associations.TYPE_LABELS,
    )


@bp.get("/competencies/<int:competency_id>")
@launch_required
def competency_page(competency_id: int) -> str:
    """One competency: its facts, every CASE association it is an end of (its own framework's and
    other frameworks'), its exact matches and related items, and the evidence that counts for it
    in this course (its own and its exact matches')."""
    cur = current()
    launch_viewer().require_staff()
    session = db_session()
    competency = catalog.get_competency(session, cur.platform.id, competency_id)
    if competency is None:
        raise Refusal(
            404, "There is no such competency in your platform.", title="Competency not found"
        )
    parent = (
        catalog.get_competency(session, cur.platform.id, competency.parent_id)
        if competency.parent_id is not None
        else None
    )
    return render_template(
        "performance/competency.html",
        cur=cur,
        token=cur.token,
        competency=competency,
        framework=competency.framework,
        parent=parent,
        associations=[
            a
            for a in associations.of_competency(session, cur.platform.id, competency)
            if a.association.association_type != associations.HIERARCHY
        ],
        exact_matches=associations.exact_matches(session, cur.platform.id, competency),
        related=associations.related(session, cur.platform.id, competency),
        framework_titles={
            summary.framework.id: summary.framework.title
            for summary in catalog.list_frameworks(session, cur.platform.id)
        },
        # Evidence of this course only: staff see their own course's learners.
        evidence=evidence.summarize_evidence(
            session, cur.platform.id, competency, context_id=cur.context.id
        )
        if cur.context is not None
        else None,
    )
