"""JSON API of the boards' staff reports: participation summary, board export and participation
grades. Same services and checks as the pages (:mod:`plugin.social.participation.views`)."""

from __future__ import annotations

from typing import Any

from flask import Response

from plugin.access import Refusal
from plugin.api import Blueprint
from plugin.pages import course_read
from plugin.social import boards, participation
from plugin.social.participation.schemas import (
    ExportArgs,
    GradeReportSchema,
    ParticipationArgs,
    ParticipationSchema,
)
from plugin.social.participation.views import stream_export
from plugin.web import course_act, launch_required

blp = Blueprint(
    "participation_api",
    __name__,
    url_prefix="/api",
    description="Discussion boards, participation (course staff): summary, export, grades.",
)
SECURITY = [{"launchToken": []}]


# --- routes --------------------------------------------------------------------------------------
@blp.route("/boards/<int:board_id>/participation", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Participation per learner (course staff)")
@launch_required
@blp.arguments(ParticipationArgs, location="query")
@blp.response(200, ParticipationSchema)
def get_participation(args: dict[str, Any], board_id: int) -> participation.Participation:
    session, who = course_read()
    order = args["order"] or ("asc" if args["sort"] == "name" else "desc")
    board = boards.get_board(session, who, board_id)
    return participation.participation(
        session,
        who,
        None if args["scope"] == "course" else board,
        cohort_group_id=args["cohort"],
        sort=args["sort"],
        descending=order == "desc",
    )


@blp.route("/boards/<int:board_id>/export", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(
    security=SECURITY,
    summary="Export the board's threads and posts as CSV or JSON (course staff, streamed)",
    responses={
        "200": {
            "description": "An attachment: CSV (one row per post) or JSON (threads with posts)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
@launch_required
@blp.arguments(ExportArgs, location="query")
def export(args: dict[str, Any], board_id: int) -> Response:
    return stream_export(board_id, args["format"])


@blp.route("/boards/<int:board_id>/grades", methods=["POST"])
@blp.refusals(400, 403, 404, 409, 502)
@blp.doc(
    security=SECURITY,
    summary="Send every learner's participation score to the LMS gradebook (course staff)",
)
@launch_required
@blp.response(200, GradeReportSchema)
def send_grades(board_id: int) -> participation.GradeReport:
    with course_act() as (session, who):
        report = participation.send_grades(session, who, boards.get_board(session, who, board_id))
    if report.error:
        raise Refusal(502, report.summary(), title="The LMS gradebook could not be reached")
    return report
