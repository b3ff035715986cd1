"""The search page: GET /search?q=…&board=…&cursor=…&lc=… over :func:`plugin.social.search.search`.

Without ``q`` it shows the search form; a query the service refuses (no word, too long, a bad page
link) shows the form again with the message and answers 400; a board of another course is a
readable 404 page.
"""

from __future__ import annotations

from flask import Blueprint, request

from plugin.access import Refusal
from plugin.ids import parse_id
from plugin.pages import course_read, render
from plugin.social import boards, search
from plugin.web import launch_required

bp = Blueprint("social_search", __name__, template_folder="templates")

KIND_LABELS = {
    search.KIND_THREAD: "Thread",
    search.KIND_REPLY: "Reply",
    search.KIND_COMMENT: "Comment",
}


def _board_id(value: str | None) -> int | None:
    try:
        return parse_id(value)
    except ValueError as exc:
        raise Refusal(400, "Choose a valid board.", title="Please check the link") from exc


@bp.get("/search")
@launch_required
def search_page() -> tuple[str, int]:
    session, who = course_read()
    board_id = _board_id(request.args.get("board"))
    board = None
    if board_id is not None:
        board = boards.get_board(session, who, board_id)
    query = request.args.get("q")
    page, error, status = None, None, 200
    if query is not None:
        try:
            page = search.search(
                session,
                who,
                query,
                cursor=request.args.get("cursor") or None,
                board_id=board_id,
            )
        except Refusal as exc:
            if exc.status != 400:
                raise
            error, status = exc.message, 400
    board_title = None
    if board is not None:
        board_title = (board.placement.title if board.placement else None) or "Discussion board"
    return (
        render(
            "social/search.html",
            viewer=who,
            board=board,
            board_title=board_title,
            search_query=query or "",
            searched=query is not None,
            search_error=error,
            page=page,
            kind_labels=KIND_LABELS,
            max_chars=search.MAX_QUERY_CHARS,
        ),
        status,
    )
