"""JSON API of board search: GET /api/search over :func:`plugin.social.search.search`.

Same rules as the search page: the launch token (``Authorization: Bearer …``), the launch's course
only (a board of another course answers 404), 400 with a ``message`` for a query without words,
over 200 characters, or a bad cursor.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from plugin.api import Blueprint
from plugin.db import db_session
from plugin.ids import Id
from plugin.social import search
from plugin.social.schemas import AuthorSchema, QueryArgs
from plugin.web import course_viewer, launch_required

blp = Blueprint(
    "search_api",
    __name__,
    url_prefix="/api",
    description="Full-text search across the discussion boards of the launch's course.",
)
SECURITY = [{"launchToken": []}]


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


@blp.route("/search", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Search the course's boards (ranked, keyset cursor)")
@launch_required
@blp.arguments(SearchArgs, location="query")
@blp.response(200, SearchPageSchema)
def search_posts(args: dict[str, Any]) -> search.SearchPage:
    session = db_session()
    who = course_viewer(session)
    return search.search(
        session,
        who,
        args["q"],
        limit=args["limit"],
        cursor=args["cursor"],
        board_id=args["board"],
    )
