"""Marshmallow schemas of the participation API."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from plugin.ids import Id
from plugin.social import participation


class ParticipationArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # the launch token may ride along as ?lc=

    sort = fields.String(
        load_default="name", validate=validate.OneOf(list(participation.PARTICIPATION_SORTS))
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

    def _score(self, row: participation.ParticipationRow) -> float | None:
        return participation.score_points(row.score)


class ParticipationSchema(Schema):
    board_id = fields.Method("_board_id", metadata={"type": "integer", "nullable": True})
    cohort_id = fields.Method("_cohort_id", metadata={"type": "integer", "nullable": True})
    graded = fields.Boolean()
    score_maximum = fields.Constant(participation.SCORE_MAXIMUM)
    sort = fields.String()
    descending = fields.Boolean()
    rows = fields.List(fields.Nested(ParticipationRowSchema))

    def _board_id(self, report: participation.Participation) -> int | None:
        return report.board.id if report.board is not None else None

    def _cohort_id(self, report: participation.Participation) -> int | None:
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

    def _summary(self, report: participation.GradeReport) -> str:
        return report.summary()
