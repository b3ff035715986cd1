"""The LTI Advantage service endpoints a tool calls with a bearer token: NRPS memberships, Course
Groups, and AGS line items, scores and results."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Response, request

from sandbox.platform import SandboxPlatform
from sandbox.platform.vocabulary import (
    MEDIA_GROUP_SETS,
    MEDIA_GROUPS,
    MEDIA_LINEITEM,
    MEDIA_LINEITEMS,
    MEDIA_MEMBERSHIPS,
    MEDIA_RESULTS,
    MEDIA_SCORE,
    SCOPE_GROUPS,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
)
from sandbox.web.responses import as_json, int_arg, json_body


def add_service_routes(bp: Blueprint, platform: SandboxPlatform) -> None:
    """NRPS, Course Groups and AGS endpoints of ``platform`` on ``bp``; each checks the caller's
    bearer token for the service's scope first."""

    def token_for(scopes: str | Iterable[str]) -> str:
        """The calling tool's client_id, after checking its bearer token."""
        return platform.check_token(request.headers.get("Authorization"), scopes).client_id

    @bp.get("/courses/<context_id>/memberships")
    def memberships(context_id: str) -> Response:
        token_for(SCOPE_NRPS)
        body, link = platform.memberships(
            context_id,
            limit=int_arg("limit"),
            page=int_arg("page") or 1,
            rlid=request.args.get("rlid") or None,
            role=request.args.get("role") or None,
        )
        return as_json(body, mimetype=MEDIA_MEMBERSHIPS, link=link)

    @bp.get("/courses/<context_id>/groups")
    def groups(context_id: str) -> Response:
        token_for(SCOPE_GROUPS)
        body, link = platform.groups(
            context_id,
            limit=int_arg("limit"),
            page=int_arg("page") or 1,
            user_id=request.args.get("user_id") or None,
        )
        return as_json(body, mimetype=MEDIA_GROUPS, link=link)

    @bp.get("/courses/<context_id>/group_sets")
    def group_sets(context_id: str) -> Response:
        token_for(SCOPE_GROUPS)
        body, link = platform.group_sets(
            context_id, limit=int_arg("limit"), page=int_arg("page") or 1
        )
        return as_json(body, mimetype=MEDIA_GROUP_SETS, link=link)

    # ------------------------------------------------------------ AGS 2.0

    @bp.route("/courses/<context_id>/lineitems", methods=["GET", "POST"])
    def lineitems(context_id: str) -> Response:
        if request.method == "POST":
            client_id = token_for(SCOPE_LINEITEM)
            created = platform.create_line_item(client_id, context_id, json_body(MEDIA_LINEITEM))
            response = as_json(created, 201, MEDIA_LINEITEM)
            response.headers["Location"] = created["id"]
            return response
        client_id = token_for((SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))
        found, link = platform.list_line_items(
            client_id,
            context_id,
            resource_link_id=request.args.get("resource_link_id") or None,
            resource_id=request.args.get("resource_id") or None,
            tag=request.args.get("tag") or None,
            limit=int_arg("limit"),
            page=int_arg("page") or 1,
        )
        return as_json(found, mimetype=MEDIA_LINEITEMS, link=link)

    @bp.route("/courses/<context_id>/lineitems/<lineitem_id>", methods=["GET", "PUT", "DELETE"])
    def lineitem(context_id: str, lineitem_id: str) -> Response:
        if request.method == "GET":
            client_id = token_for((SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))
            found = platform.get_line_item(client_id, context_id, lineitem_id)
            return as_json(found, mimetype=MEDIA_LINEITEM)
        client_id = token_for(SCOPE_LINEITEM)
        if request.method == "DELETE":
            platform.delete_line_item(client_id, context_id, lineitem_id)
            return Response(status=204)
        updated = platform.update_line_item(
            client_id, context_id, lineitem_id, json_body(MEDIA_LINEITEM)
        )
        return as_json(updated, mimetype=MEDIA_LINEITEM)

    @bp.post("/courses/<context_id>/lineitems/<lineitem_id>/scores")
    def scores(context_id: str, lineitem_id: str) -> Response:
        client_id = token_for(SCOPE_SCORE)
        platform.post_score(client_id, context_id, lineitem_id, json_body(MEDIA_SCORE))
        return Response(status=204)

    @bp.get("/courses/<context_id>/lineitems/<lineitem_id>/results")
    def results(context_id: str, lineitem_id: str) -> Response:
        client_id = token_for(SCOPE_RESULT_READONLY)
        found, link = platform.list_results(
            client_id,
            context_id,
            lineitem_id,
            user_id=request.args.get("user_id") or None,
            limit=int_arg("limit"),
            page=int_arg("page") or 1,
        )
        return as_json(found, mimetype=MEDIA_RESULTS, link=link)
