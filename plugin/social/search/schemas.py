"""Marshmallow schemas of the search API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugin.ids import Id
from plugin.social import search
from plugin.social.schemas import AuthorSchema, QueryArgs


class SearchArgs(QueryArgs):
    q = fields.String(
        load_default="",
        metadata={
            "description": "words to find (at most 200 characters); the last one as a prefix"
        },
    )
    board = Id(load_default=None, metadata={"description": "search this board only"})
    cursor = fields.String(load_default=None, metadata={"description": "next_cursor of a page"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=search.MAX_LIMIT))


class SearchHitSchema(Schema):
    board_id = fields.Integer()
    board_title = fields.String()
    thread_id = fields.Integer()
    post_id = fields.Integer()
    thread_title = fields.String()
    kind = fields.String(metadata={"description": "thread (opening post), reply or comment"})
    author = fields.Nested(AuthorSchema)
    created_at = fields.DateTime()
    snippet_html = fields.String(
        metadata={"description": "escaped text; the matched words in <mark>, no other markup"}
    )
    rank = fields.Float(metadata={"description": "higher is better, within one search"})
    hidden = fields.Boolean(metadata={"description": "hidden by a moderator (staff only)"})


class SearchPageSchema(Schema):
    hits = fields.List(fields.Nested(SearchHitSchema))
    next_cursor = fields.String(allow_none=True)
