"""JSON API of bulk matching (:mod:`.bulk`), on the mentoring API blueprint: the preview (the
best matching, or an adjusted one checked) and the approval (every pair checked again, then
made)."""

from __future__ import annotations

from typing import Any

from plugin.pages import course_read
from plugin.social.mentoring import bulk, programmes
from plugin.social.mentoring.api import PROGRAMME, SECURITY, blp
from plugin.social.mentoring.matching_schemas import (
    ApprovedSchema,
    ApproveInputSchema,
    PreviewInputSchema,
    PreviewSchema,
)
from plugin.web import course_act, launch_required


def _choices(data: dict[str, Any]) -> dict[int, int | None] | None:
    if data.get("pairs") is None:
        return None
    return {c["mentee_id"]: c["mentor_id"] for c in data["pairs"]}


@blp.route(PROGRAMME + "/bulk/preview", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Preview the bulk matching, or check an adjusted one (staff)")
@launch_required
@blp.arguments(PreviewInputSchema)
@blp.response(200, PreviewSchema)
def bulk_preview(data: dict[str, Any], programme_id: int) -> bulk.Preview:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    return bulk.preview(session, who, programme, choices=_choices(data))


@blp.route(PROGRAMME + "/bulk/approve", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Make the chosen pairs of a bulk matching (staff)")
@launch_required
@blp.arguments(ApproveInputSchema)
@blp.response(201, ApprovedSchema)
def bulk_approve(data: dict[str, Any], programme_id: int) -> dict[str, Any]:
    choices = _choices(data) or {}
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        made = bulk.approve(session, who, programme, choices)
        return {
            "pairs": [
                {"id": p.id, "state": p.state, "mentee_id": mentee, "mentor_id": choices[mentee]}
                for mentee, p in zip(sorted(c for c in choices if choices[c]), made, strict=True)
            ]
        }
