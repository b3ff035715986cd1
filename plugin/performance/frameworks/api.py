"""JSON API: the platform's competency frameworks, importing one, and a framework's competencies
and CASE associations a page at a time.

Every route needs the launch token (``Authorization: Bearer …``); what a launched person may do is
decided by :mod:`.services` (reading: anyone launched on the platform; importing: course staff),
and another platform's ids answer 404.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import abort
from marshmallow import ValidationError

from plugin.access import Refusal
from plugin.api import Blueprint
from plugin.db import db_session
from plugin.performance.competencies.api import association_payload
from plugin.performance.frameworks import services
from plugin.performance.frameworks.catalog import FrameworkSummary
from plugin.performance.frameworks.schemas import (
    AssociationPageArgs,
    AssociationPageSchema,
    CompetencyPageArgs,
    CompetencyPageSchema,
    FrameworkDetailSchema,
    FrameworkSchema,
    ImportResultSchema,
    ImportUrlSchema,
)
from plugin.performance.frameworks.store import ImportResult
from plugin.performance.frameworks.views import allow_large_import_bodies, perform_import
from plugin.web import describe_field_errors, launch_required, launch_viewer

blp = Blueprint(
    "frameworks_api",
    __name__,
    url_prefix="/api",
    description="Competency frameworks (CASE, Moodle CSV): importing, reading, paging.",
)
SECURITY = [{"launchToken": []}]
blp.before_request(allow_large_import_bodies)


def _framework_payload(summary: FrameworkSummary) -> dict[str, Any]:
    framework = summary.framework
    return {
        "id": framework.id,
        "title": framework.title,
        "uri": framework.uri,
        "identifier": framework.identifier,
        "version": framework.version,
        "source_kind": framework.source_kind,
        "case_version": framework.case_version,
        "source_url": framework.source_url,
        "last_imported_at": framework.last_imported_at,
        "competency_count": summary.active,
        "retired_count": summary.retired,
        "description": framework.description,
        "creator": framework.creator,
        "source_changed_at": framework.source_changed_at,
        "scale": framework.scale,
    }


@blp.route("/frameworks", methods=["GET"])
@blp.refusals()
@blp.doc(security=SECURITY, summary="The platform's competency frameworks")
@launch_required
@blp.response(200, FrameworkSchema(many=True))
def list_frameworks() -> list[dict[str, Any]]:
    summaries = services.list_frameworks(db_session(), launch_viewer())
    return [_framework_payload(s) for s in summaries]


@blp.route("/frameworks/import", methods=["POST"])
@blp.refusals(400, 403, 409, 413, 422)
@blp.doc(
    security=SECURITY,
    summary="Import or update a framework (staff)",
    description='Send JSON `{"url": "https://…/ims/case/v1p0/CFPackages/<id>"}` to fetch a CASE '
    "package, or multipart/form-data with a `file` (CASE JSON or Moodle framework CSV). "
    "Answers 201 for a new framework, 200 for an update, 422 with a message for bad input.",
    requestBody={
        "content": {
            "application/json": {"schema": ImportUrlSchema},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        }
    },
)
@launch_required
@blp.response(200, ImportResultSchema)
@blp.alt_response(201, schema=ImportResultSchema, description="A new framework")
def import_framework() -> tuple[ImportResult, int]:
    viewer = launch_viewer()
    services.check_may_import(viewer)  # a learner is refused before the body is read
    if request.mimetype == "multipart/form-data":
        result = perform_import(viewer, request.files.get("file"), None)
    else:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Refusal(
                400, 'Send JSON {"url": …} or a multipart form with a file.', title="Bad request"
            )
        try:
            args = ImportUrlSchema().load(body)
        except ValidationError as exc:
            abort(
                422,
                message=describe_field_errors({"json": exc.messages}),
                errors={"json": exc.messages},
            )
        result = perform_import(viewer, None, args["url"])
    return result, 201 if result.created else 200


@blp.route("/frameworks/<int:framework_id>", methods=["GET"])
@blp.refusals(404)
@blp.doc(security=SECURITY, summary="One framework, with its scale")
@launch_required
@blp.response(200, FrameworkDetailSchema)
def get_framework(framework_id: int) -> dict[str, Any]:
    detail = services.framework_detail(db_session(), launch_viewer(), framework_id)
    payload = _framework_payload(detail.summary)
    payload["depth"] = detail.depth
    payload["association_counts"] = detail.association_counts
    return payload


@blp.route("/frameworks/<int:framework_id>/associations", methods=["GET"])
@blp.refusals(404)
@blp.doc(
    security=SECURITY,
    summary="A framework's CASE associations, in package order, a page at a time",
    description="Every CFAssociation of the imported package (any type), with both ends as the "
    "package gives them and, where an end is a competency imported on this platform (from this "
    "framework or another one), that competency.",
)
@launch_required
@blp.arguments(AssociationPageArgs, location="query")
@blp.response(200, AssociationPageSchema)
def list_associations(args: dict[str, Any], framework_id: int) -> dict[str, Any]:
    items, next_after = services.associations_page(
        db_session(), launch_viewer(), framework_id, after=args["after"], limit=args["limit"]
    )
    return {"items": [association_payload(i) for i in items], "next_after": next_after}


@blp.route("/frameworks/<int:framework_id>/competencies", methods=["GET"])
@blp.refusals(404)
@blp.doc(security=SECURITY, summary="A framework's competencies, by id, a page at a time")
@launch_required
@blp.arguments(CompetencyPageArgs, location="query")
@blp.response(200, CompetencyPageSchema)
def list_competencies(args: dict[str, Any], framework_id: int) -> dict[str, Any]:
    items, next_after = services.competencies_page(
        db_session(),
        launch_viewer(),
        framework_id,
        after=args["after"],
        limit=args["limit"],
        include_retired=args["include_retired"],
    )
    return {"items": items, "next_after": next_after}
