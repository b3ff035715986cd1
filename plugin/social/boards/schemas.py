"""Marshmallow schemas of the boards API (the services' read models, serialised as they are)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from plugin.api import longest, non_blank
from plugin.ids import Id
from plugin.social.boards.checks import MAX_TITLE_CHARS
from plugin.social.boards.sorts import SORTS
from plugin.social.markdown import MAX_BODY_CHARS
from plugin.social.models import COHORT_MODES, REACTION_KINDS, THREAD_KINDS
from plugin.social.schemas import AuthorSchema, QueryArgs


class ThreadListArgs(QueryArgs):
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cohort = Id(load_default=None, metadata={"description": "staff: one cohort only"})
    sort = fields.String(load_default="activity", validate=validate.OneOf(SORTS))


class ThreadArgs(QueryArgs):
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class PostPlaceArgs(QueryArgs):
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "the page size the thread is read with"},
    )


class PostPlaceSchema(Schema):
    thread_id = fields.Integer()
    cursor = fields.String(
        allow_none=True,
        metadata={"description": "the thread page's cursor that shows the post (null: first)"},
    )


class ThreadCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    title = fields.String(required=True, validate=non_blank(), metadata=longest(MAX_TITLE_CHARS))
    body = fields.String(
        required=True,
        validate=non_blank(),
        metadata={"description": "Markdown", **longest(MAX_BODY_CHARS)},
    )
    kind = fields.String(load_default="discussion", validate=validate.OneOf(THREAD_KINDS))
    anonymous = fields.Boolean(load_default=False)
    cohort_group_id = Id(load_default=None, allow_none=True)
    competency_ids = fields.List(
        Id(),
        load_default=list,
        metadata={"description": "tags: some of the course's competencies (at most 5)"},
    )


class PostCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    body = fields.String(
        required=True,
        validate=non_blank(),
        metadata={"description": "Markdown", **longest(MAX_BODY_CHARS)},
    )
    parent_id = Id(
        load_default=None, allow_none=True, metadata={"description": "comment on this reply"}
    )
    anonymous = fields.Boolean(load_default=False)


class PostUpdateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    body = fields.String(
        required=True,
        validate=non_blank(),
        metadata={"description": "Markdown", **longest(MAX_BODY_CHARS)},
    )
    title = fields.String(
        load_default=None,
        allow_none=True,
        validate=non_blank(),
        metadata={
            "description": "the opening post's thread title",
            **longest(MAX_TITLE_CHARS),
        },
    )


class ReactionCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf(REACTION_KINDS))


class ThreadSummarySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    author = fields.Nested(AuthorSchema)
    cohort_group_id = fields.Integer(allow_none=True)
    pinned = fields.Boolean()
    locked = fields.Boolean()
    closed = fields.Boolean()
    endorsed = fields.Boolean()
    answered = fields.Boolean()
    reply_count = fields.Integer()
    comment_count = fields.Integer()
    helpful_count = fields.Integer()
    last_activity_at = fields.DateTime()
    created_at = fields.DateTime()


class ThreadPageSchema(Schema):
    threads = fields.List(fields.Nested(ThreadSummarySchema))
    next_cursor = fields.String(allow_none=True)


class PostSchema(Schema):
    id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    is_opening = fields.Boolean()
    author = fields.Nested(AuthorSchema, allow_none=True)
    body_html = fields.String(metadata={"description": "sanitised HTML; empty when deleted"})
    hidden = fields.Boolean()
    deleted = fields.Boolean()
    created_at = fields.DateTime()
    edited_at = fields.DateTime(allow_none=True)
    reactions = fields.Dict(keys=fields.String(), values=fields.Integer())
    my_reactions = fields.Function(lambda p: sorted(p.my_reactions))
    endorsed = fields.Boolean()
    comments = fields.List(fields.Nested(lambda: PostSchema()))


class ThreadStateSchema(Schema):
    id = fields.Integer()
    board_id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    cohort_group_id = fields.Integer(allow_none=True)
    pinned = fields.Boolean()
    locked = fields.Boolean()
    lock_reason = fields.String(allow_none=True)
    closed = fields.Boolean()
    endorsed = fields.Boolean(metadata={"description": "a reply is endorsed by staff"})
    accepted_post_id = fields.Integer(allow_none=True)
    reply_count = fields.Integer()
    comment_count = fields.Integer()
    helpful_count = fields.Integer()
    last_activity_at = fields.DateTime()
    created_at = fields.DateTime()


class ThreadDetailSchema(Schema):
    thread = fields.Nested(ThreadStateSchema)
    opening = fields.Nested(PostSchema, allow_none=True)
    replies = fields.List(fields.Nested(PostSchema))
    next_cursor = fields.String(allow_none=True)
    answers_withheld = fields.Boolean()


class ReactionSchema(Schema):
    post_id = fields.Integer()
    kind = fields.String()
    created_at = fields.DateTime()


class CompetencyTagSchema(Schema):
    id = fields.Integer()
    iri = fields.String()
    name = fields.String()
    code = fields.String(allow_none=True)


class CompetencyIdsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    competency_ids = fields.List(Id(), required=True, validate=validate.Length(max=500))


class BoardSchema(Schema):
    id = fields.Integer()
    title = fields.Function(lambda b: (b.placement.title if b.placement else None) or "")
    cohort_mode = fields.String()
    qa_mode = fields.Boolean()
    anonymous_allowed = fields.Boolean()
    grade_threads = fields.Integer(allow_none=True)
    grade_replies = fields.Integer(allow_none=True)
    record_views = fields.Boolean()
    mentors_moderate = fields.Boolean()
    posts_per_hour = fields.Integer()


class BoardUpdateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    cohort_mode = fields.String(validate=validate.OneOf(COHORT_MODES))
    qa_mode = fields.Boolean()
    anonymous_allowed = fields.Boolean()
    grade_threads = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1000))
    grade_replies = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1000))
    record_views = fields.Boolean()
    mentors_moderate = fields.Boolean()
    posts_per_hour = fields.Integer(validate=validate.Range(min=0, max=1000))


class EndorseSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    endorsed = fields.Boolean(load_default=True)


class AcceptSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    post_id = Id(required=True, allow_none=True, metadata={"description": "null: none"})
