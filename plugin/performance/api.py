"""JSON API: frameworks, their competencies, search, and competency links.

Every route needs the launch token (``Authorization: Bearer …``); everything is scoped to the launch's
platform, and another platform's ids answer 404. Reading is open to any launched user (learners pick
competencies for goals and requests); importing and changing links needs course staff.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import abort
from marshmallow import ValidationError

from plugin.access import Refusal
from plugin.api import Blueprint
from plugin.db import db_session, unit_of_work
from plugin.performance import associations, catalog, links
from plugin.performance.associations import AssociationInfo, End
from plugin.performance.catalog import FrameworkSummary
from plugin.performance.models import Framework
from plugin.performance.schemas import (
    AssociationPageArgs,
    AssociationPageSchema,
    CompetencyDetailSchema,
    CompetencyPageArgs,
    CompetencyPageSchema,
    FrameworkDetailSchema,
    FrameworkSchema,
    ImportResultSchema,
    ImportUrlSchema,
    LinkSetSchema,
    LinkUpdateSchema,
    SearchArgs,
    SearchResultSchema,
)
from plugin.performance.views import allow_large_import_bodies, perform_import
from plugin.web import current, describe_field_errors, launch_required, launch_viewer

blp = Blueprint(
    "competencies_api",
    __name__,
    url_prefix="/api",
    description="Competency frameworks (CASE, Moodle CSV), competencies and competency links.",
)
SECURITY = [{"launchToken": []}]
blp.before_request(allow_large_import_bodies)


def _framework_or_404(framework_id: int) -> Framework:
    framework = catalog.get_framework(db_session(), current().platform.id, framework_id)
    if framework is None:
        raise Refusal(404, f"No framework {framework_id} in your platform.", title="Not found")
    return framework


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
    summaries = catalog.list_frameworks(db_session(), current().platform.id)
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
def import_framework() -> tuple[Any, int]:
    cur = current()
    launch_viewer().require_staff()
    if request.mimetype == "multipart/form-data":
        result = perform_import(cur, request.files.get("file"), None)
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
        result = perform_import(cur, None, args["url"])
    return result, 201 if result.created else 200


@blp.route("/frameworks/<int:framework_id>", methods=["GET"])
@blp.refusals(404)
@blp.doc(security=SECURITY, summary="One framework, with its scale")
@launch_required
@blp.response(200, FrameworkDetailSchema)
def get_framework(framework_id: int) -> dict[str, Any]:
    session = db_session()
    framework = _framework_or_404(framework_id)
    payload = _framework_payload(catalog.summarize(session, framework))
    payload["depth"] = catalog.tree_depth(catalog.framework_tree(session, framework))
    payload["association_counts"] = associations.type_counts(session, framework)
    return payload


def _end_payload(end: End) -> dict[str, Any]:
    return {
        "uri": end.uri,
        "identifier": end.identifier,
        "title": end.title,
        "competency": links.CompetencyInfo.of(end.competency) if end.competency else None,
        "framework_id": end.framework.id if end.framework else None,
    }


def _association_payload(info: AssociationInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "framework_id": info.framework_id,
        "association_type": info.association_type,
        "identifier": info.identifier,
        "uri": info.uri,
        "sequence_number": info.sequence_number,
        "last_change_date_time": info.changed_at,
        "origin": _end_payload(info.origin),
        "destination": _end_payload(info.destination),
    }


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
    framework = _framework_or_404(framework_id)
    items, next_after = associations.framework_page(
        db_session(), framework, after=args["after"], limit=args["limit"]
    )
    return {"items": [_association_payload(i) for i in items], "next_after": next_after}


@blp.route("/competencies/<int:competency_id>", methods=["GET"])
@blp.refusals(404)
@blp.doc(
    security=SECURITY,
    summary="One competency, with its associations, exact matches and related items",
)
@launch_required
@blp.response(200, CompetencyDetailSchema)
def get_competency(competency_id: int) -> dict[str, Any]:
    session = db_session()
    platform_id = current().platform.id
    competency = catalog.get_competency(session, platform_id, competency_id)
    if competency is None:
        raise Refusal(404, f"No competency {competency_id} in your platform.", title="Not found")
    return {
        **{
            column: getattr(competency, column)
            for column in (
                "id",
                "framework_id",
                "parent_id",
                "uri",
                "identifier",
                "code",
                "name",
                "description",
                "item_type",
                "sort_order",
                "retired_at",
            )
        },
        "framework_title": competency.framework.title,
        "associations": [
            {
                "direction": "outgoing" if item.outgoing else "incoming",
                "association": _association_payload(item.association),
            }
            for item in associations.of_competency(session, platform_id, competency)
        ],
        "exact_matches": [
            links.CompetencyInfo.of(c)
            for c in associations.exact_matches(session, platform_id, competency)
        ],
        "related": [
            _end_payload(e) for e in associations.related(session, platform_id, competency)
        ],
    }


@blp.route("/frameworks/<int:framework_id>/competencies", methods=["GET"])
@blp.refusals(404)
@blp.doc(security=SECURITY, summary="A framework's competencies, by id, a page at a time")
@launch_required
@blp.arguments(CompetencyPageArgs, location="query")
@blp.response(200, CompetencyPageSchema)
def list_competencies(args: dict[str, Any], framework_id: int) -> dict[str, Any]:
    framework = _framework_or_404(framework_id)
    items, next_after = catalog.competencies_page(
        db_session(),
        framework,
        after=args["after"],
        limit=args["limit"],
        include_retired=args["include_retired"],
    )
    return {"items": items, "next_after": next_after}


@blp.route("/competencies/search", methods=["GET"])
@blp.refusals()
@blp.doc(security=SECURITY, summary="Find competencies by name or code")
@launch_required
@blp.arguments(SearchArgs, location="query")
@blp.response(200, SearchResultSchema(many=True))
def search(args: dict[str, Any]) -> list[dict[str, Any]]:
    found = catalog.search_competencies(
        db_session(),
        current().platform.id,
        args["q"],
        limit=args["limit"],
        include_retired=args["include_retired"],
    )
    return [
        {**vars(links.CompetencyInfo.of(c)), "framework_title": c.framework.title} for c in found
    ]


def _link_set(kind: str, key: str, competencies: list[links.CompetencyInfo]) -> dict[str, Any]:
    return {"ref_kind": kind, "ref_key": key, "competencies": competencies}


def _requester() -> links.Requester:
    cur = current()
    return links.Requester(
        platform_id=cur.platform.id,
        user_id=cur.user.id,
        context_id=cur.context.id if cur.context is not None else None,
        roles=tuple(cur.launch.roles or ()),
    )


def _link_error(exc: links.LinkError) -> Refusal:
    if isinstance(exc, links.LinkAccessError):
        titles = {403: "You cannot do this", 404: "Not found"}
        return Refusal(exc.status, exc.message, title=titles.get(exc.status, "Not linked"))
    if isinstance(exc, links.UnknownCompetencyError):
        return Refusal(404, exc.message, title="Not found")
    return Refusal(422, exc.message, title="Not linked")


@blp.route("/links/<kind>/<key>", methods=["GET"])
@blp.doc(
    security=SECURITY,
    summary="The competencies linked to a board, thread or placement",
    description="Whoever may see the thing (by its own rules: a member of its course; for a "
    "thread, its cohort) reads its links; other courses' things and unknown kinds answer 404.",
)
@blp.refusals(403, 404)
@launch_required
@blp.response(200, LinkSetSchema)
def get_links(kind: str, key: str) -> dict[str, Any]:
    session = db_session()
    try:
        target = links.resolve(session, _requester(), kind, key)
        found = links.linked(session, current().platform.id, target.kind, target.key)
    except links.LinkError as exc:
        raise _link_error(exc) from exc
    return _link_set(target.kind, target.key, found)


@blp.route("/links/<kind>/<key>", methods=["PUT"])
@blp.doc(
    security=SECURITY,
    summary="Set the competencies linked to a thing (by its owner's rules)",
    description="A board's and a placement's links are set by course staff, a thread's tags by "
    "its author or staff (course competencies only, at most 5). 404 for things the caller "
    "cannot see and for unknown competency ids.",
)
@blp.refusals(400, 403, 404)
@launch_required
@blp.arguments(LinkUpdateSchema)
@blp.response(200, LinkSetSchema)
def put_links(args: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    try:
        with unit_of_work() as session:
            target = links.resolve(session, _requester(), kind, key)
            found = target.set(session, args["competency_ids"])
    except links.LinkError as exc:
        raise _link_error(exc) from exc
    return _link_set(target.kind, target.key, found)
