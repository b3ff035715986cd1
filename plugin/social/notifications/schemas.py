"""Marshmallow schemas of the notifications API."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from plugin.ids import Id
from plugin.social import notifications
from plugin.social.models import NOTIFICATION_KINDS
from plugin.social.notifications.views import describe


class NotificationArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # the launch token may ride along as ?lc=

    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    unread_only = fields.Boolean(load_default=False)


class ActorSchema(Schema):
    user_id = fields.Integer(allow_none=True, metadata={"description": "null when anonymous"})
    name = fields.String()


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(NOTIFICATION_KINDS)})
    text = fields.Function(describe, metadata={"description": "what happened, in words"})
    thread_id = fields.Integer()
    thread_title = fields.String()
    post_id = fields.Integer(allow_none=True)
    actor = fields.Nested(ActorSchema)
    excerpt = fields.String(
        allow_none=True, metadata={"description": "plain text; null when deleted or withheld"}
    )
    withheld = fields.Boolean(
        metadata={"description": "Q&A mode: shown once you have answered the question"}
    )
    deleted = fields.Boolean()
    read = fields.Boolean()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationPageSchema(Schema):
    notifications = fields.List(fields.Nested(NotificationSchema))
    next_cursor = fields.String(allow_none=True)
    unread_count = fields.Integer()


class MarkReadSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    ids = fields.List(
        Id(),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=notifications.MAX_MARK_IDS),
        metadata={"description": "null or absent: all of them"},
    )


class MarkReadResultSchema(Schema):
    marked = fields.Integer()
    unread_count = fields.Integer()


class FollowSchema(Schema):
    thread_id = fields.Integer()
    following = fields.Boolean()


class MemberArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(required=True, metadata={"description": "the start of a name or handle"})
    thread = Id(load_default=None, metadata={"description": "only who can see it"})
    limit = fields.Integer(load_default=8, validate=validate.Range(min=1, max=20))


class MemberSchema(Schema):
    handle = fields.String(metadata={"description": "type @handle to mention"})
    name = fields.String()


class MemberListSchema(Schema):
    members = fields.List(fields.Nested(MemberSchema))
