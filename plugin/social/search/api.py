"""JSON API of board search: GET /api/search over :func:`plugin.social.search.search`.

Same rules as the search page: the launch token (``Authorization: Bearer …``), the launch's course
only (a board of another course answers 404), 400 with a ``message`` for a query without words,
over 200 characters, or a bad cursor.
"""

from __future__ import annotations

from typing import Any

from plugin.api import Blueprint
from plugin.pages import course_read
from plugin.social import search
from plugin.social.search.schemas import SearchArgs, SearchPageSchema
from plugin.web import launch_required

blp = Blueprint(
    "search_api",
    __name__,
    url_prefix="/api",
    description="Full-text search across the discussion boards of the launch's course.",
)
SECURITY = [{"launchToken": []}]


@blp.route("/search", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Search the course's boards (ranked, keyset cursor)")
@launch_required
@blp.arguments(SearchArgs, location="query")
@blp.response(200, SearchPageSchema)
def search_posts(args: dict[str, Any]) -> search.SearchPage:
    session, who = course_read()
    return search.search(
        session,
        who,
        args["q"],
        limit=args["limit"],
        cursor=args["cursor"],
        board_id=args["board"],
    )
