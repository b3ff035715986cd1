"""JSON API of the boards' staff reports: participation summary, board export and participation
grades. Same services and checks as the pages (:mod:`plugin.social.report_views`)."""

from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import EXCLUDE, Schema, fields, validate

from plugin.access import Refusal
from plugin.api import Blueprint
from plugin.db import db_session
from plugin.ids import Id
from plugin.social import boards, reports
from plugin.social.report_views import stream_export
from plugin.web import course_act, course_viewer, launch_required

blp = Blueprint(
    "boards_reports_api",
    __name__,
    url_prefix="/api",
    description="Discussion boards, staff reports: participation, export, grades.",
)
SECURITY = [{"launchToken": []}]


# --- schemas -------------------------------------------------------------------------------------
class ParticipationArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # the launch token may ride along as ?lc=

    sort = fields.String(
        load_default="name", validate=validate.OneOf(list(reports.PARTICIPATION_SORTS))
    )
    order = fields.String(load_default=None, validate=validate.OneOf(["asc", "desc"]))
    cohort = Id(load_default=None, metadata={"description": "one cohort's members"})
    scope = fields.String(
        load_default="board",
        validate=validate.OneOf(["board", "course"]),
        metadata={"description": "course: every board of the course (no score)"},
    )


class ExportArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    format = fields.String(required=True, validate=validate.OneOf(["csv", "json"]))


class ParticipationRowSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    threads = fields.Integer()
    replies = fields.Integer()
    comments = fields.Integer()
    likes_received = fields.Integer()
    helpful_received = fields.Integer()
    endorsed = fields.Integer(metadata={"description": "replies endorsed by staff"})
    accepted = fields.Integer(metadata={"description": "replies accepted as the answer"})
    first_activity = fields.DateTime(allow_none=True)
    last_activity = fields.DateTime(allow_none=True)
    score = fields.Method(
        "_score",
        metadata={"type": "number", "nullable": True, "description": "out of 100"},
    )

    def _score(self, row: reports.ParticipationRow) -> float | None:
        return reports.score_points(row.score)


class ParticipationSchema(Schema):
    board_id = fields.Method("_board_id", metadata={"type": "integer", "nullable": True})
    cohort_id = fields.Method("_cohort_id", metadata={"type": "integer", "nullable": True})
    graded = fields.Boolean()
    score_maximum = fields.Constant(reports.SCORE_MAXIMUM)
    sort = fields.String()
    descending = fields.Boolean()
    rows = fields.List(fields.Nested(ParticipationRowSchema))

    def _board_id(self, report: reports.Participation) -> int | None:
        return report.board.id if report.board is not None else None

    def _cohort_id(self, report: reports.Participation) -> int | None:
        return report.cohort.id if report.cohort is not None else None


class GradeOutcomeSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    score_given = fields.Float()
    posted = fields.Boolean()
    message = fields.String(allow_none=True)


class GradeReportSchema(Schema):
    lineitem_url = fields.String(allow_none=True)
    score_maximum = fields.Integer()
    posted = fields.Integer()
    results = fields.List(fields.Nested(GradeOutcomeSchema))
    summary = fields.Method("_summary", metadata={"type": "string"})

    def _summary(self, report: reports.GradeReport) -> str:
        return report.summary()


# --- routes --------------------------------------------------------------------------------------
@blp.route("/boards/<int:board_id>/participation", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Participation per learner (course staff)")
@launch_required
@blp.arguments(ParticipationArgs, location="query")
@blp.response(200, ParticipationSchema)
def participation(args: dict[str, Any], board_id: int) -> reports.Participation:
    session = db_session()
    who = course_viewer(session)
    order = args["order"] or ("asc" if args["sort"] == "name" else "desc")
    board = boards.get_board(session, who, board_id)
    return reports.participation(
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
def send_grades(board_id: int) -> reports.GradeReport:
    with course_act() as (session, who):
        report = reports.send_grades(session, who, boards.get_board(session, who, board_id))
    if report.error:
        raise Refusal(502, report.summary(), title="The LMS gradebook could not be reached")
    return report
