"""JSON API: one competency (with its associations, exact matches and related items) and search.

Every route needs the launch token (``Authorization: Bearer …``); :mod:`.services` decide (reading
is open to anyone launched on the platform) and another platform's ids answer 404. The payload
builders for association ends here are shared with the frameworks API.
"""

from __future__ import annotations

from typing import Any

from plugin.api import Blueprint
from plugin.db import db_session
from plugin.performance.associations import AssociationInfo, End
from plugin.performance.competencies import services
from plugin.performance.competencies.schemas import (
    CompetencyDetailSchema,
    SearchArgs,
    SearchResultSchema,
)
from plugin.performance.links import CompetencyInfo
from plugin.web import launch_required, launch_viewer

blp = Blueprint(
    "competencies_api",
    __name__,
    url_prefix="/api",
    description="Competencies: one competency with its CASE associations, and search.",
)
SECURITY = [{"launchToken": []}]
#: the competency's own columns in :class:`CompetencyDetailSchema`
COLUMNS = (
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


def end_payload(end: End) -> dict[str, Any]:
    """An association end as ``EndSchema`` shows it."""
    return {
        "uri": end.uri,
        "identifier": end.identifier,
        "title": end.title,
        "competency": CompetencyInfo.of(end.competency) if end.competency else None,
        "framework_id": end.framework.id if end.framework else None,
    }


def association_payload(info: AssociationInfo) -> dict[str, Any]:
    """An association as ``AssociationSchema`` shows it."""
    return {
        "id": info.id,
        "framework_id": info.framework_id,
        "association_type": info.association_type,
        "identifier": info.identifier,
        "uri": info.uri,
        "sequence_number": info.sequence_number,
        "last_change_date_time": info.changed_at,
        "origin": end_payload(info.origin),
        "destination": end_payload(info.destination),
    }


@blp.route("/competencies/<int:competency_id>", methods=["GET"])
@blp.refusals(404)
@blp.doc(
    security=SECURITY,
    summary="One competency, with its associations, exact matches and related items",
)
@launch_required
@blp.response(200, CompetencyDetailSchema)
def get_competency(competency_id: int) -> dict[str, Any]:
    detail = services.competency_detail(db_session(), launch_viewer(), competency_id)
    competency = detail.competency
    return {
        **{column: getattr(competency, column) for column in COLUMNS},
        "framework_title": competency.framework.title,
        "associations": [
            {
                "direction": "outgoing" if item.outgoing else "incoming",
                "association": association_payload(item.association),
            }
            for item in detail.associations
        ],
        "exact_matches": [CompetencyInfo.of(c) for c in detail.exact_matches],
        "related": [end_payload(e) for e in detail.related],
    }


@blp.route("/competencies/search", methods=["GET"])
@blp.refusals()
@blp.doc(security=SECURITY, summary="Find competencies by name or code")
@launch_required
@blp.arguments(SearchArgs, location="query")
@blp.response(200, SearchResultSchema(many=True))
def search(args: dict[str, Any]) -> list[dict[str, Any]]:
    found = services.search(
        db_session(),
        launch_viewer(),
        args["q"],
        limit=args["limit"],
        include_retired=args["include_retired"],
    )
    return [{**vars(CompetencyInfo.of(c)), "framework_title": c.framework.title} for c in found]
