"""Marshmallow schemas of the moderation API (the moderation services' read models as they are)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from plugin.api import longest, non_blank
from plugin.ids import Id
from plugin.social.models import REPORT_STATUSES
from plugin.social.moderation.services import MAX_REASON_CHARS
from plugin.social.schemas import AuthorSchema, QueryArgs


class ReasonSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": f"optional, for the audit log (at most {MAX_REASON_CHARS})"},
    )


class ReportCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(
        required=True,
        validate=non_blank(),
        metadata={
            "description": f"1 to {MAX_REASON_CHARS} characters",
            **longest(MAX_REASON_CHARS),
        },
    )


class ReportSchema(Schema):
    """A report as its reporter or a moderator sees it."""

    id = fields.Integer()
    post_id = fields.Integer()
    board_id = fields.Integer()
    reason = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class ReportListArgs(QueryArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(REPORT_STATUSES))
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ReportEntrySchema(Schema):
    id = fields.Integer()
    reason = fields.String()
    reporter = fields.String(allow_none=True, metadata={"description": "staff only; else null"})
    created_at = fields.DateTime()
    status = fields.String()
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class ReportedPostSchema(Schema):
    post_id = fields.Integer()
    level = fields.String(metadata={"description": "opening, reply or comment"})
    thread_id = fields.Integer()
    thread_title = fields.String()
    board_id = fields.Integer()
    board_title = fields.String()
    excerpt = fields.String(metadata={"description": "plain text; empty when not shown"})
    hidden = fields.Boolean()
    deleted = fields.Boolean()
    author = fields.Nested(AuthorSchema, allow_none=True)
    report_count = fields.Integer()
    reports = fields.List(fields.Nested(ReportEntrySchema))


class ReportPageSchema(Schema):
    status = fields.String()
    items = fields.List(fields.Nested(ReportedPostSchema))
    next_cursor = fields.String(allow_none=True)


class ModeratedPostSchema(Schema):
    id = fields.Integer()
    thread_id = fields.Integer()
    hidden = fields.Boolean()
    deleted = fields.Boolean()


class MuteSchema(Schema):
    user_id = fields.Integer()
    muted = fields.Constant(True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class LogArgs(QueryArgs):
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    thread_id = Id(load_default=None, metadata={"description": "one thread only"})


class LogEntrySchema(Schema):
    id = fields.Integer()
    action = fields.String()
    label = fields.String()
    created_at = fields.DateTime()
    actor = fields.String()
    actor_id = fields.Integer(allow_none=True)
    board_id = fields.Integer(allow_none=True)
    thread_id = fields.Integer(allow_none=True)
    thread_title = fields.String(allow_none=True)
    post_id = fields.Integer(allow_none=True)
    target = fields.String(allow_none=True)
    target_user_id = fields.Integer(allow_none=True, metadata={"description": "null if anonymous"})
    report_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)


class LogPageSchema(Schema):
    entries = fields.List(fields.Nested(LogEntrySchema))
    next_cursor = fields.String(allow_none=True)


class ThreadStateUpdateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    pinned = fields.Boolean()
    locked = fields.Boolean()
    lock_reason = fields.String(allow_none=True, validate=validate.Length(max=500))
    closed = fields.Boolean()
