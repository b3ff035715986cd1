"""JSON API of the discussion boards: the same services and permission checks as the pages.

Every route needs the launch token (``Authorization: Bearer …``) and is scoped to the launch's
course: other courses' ids answer 404. Refusals answer the service's status with a ``message``.
"""

from __future__ import annotations

from typing import Any

from plugin import paging
from plugin.access import Viewer
from plugin.api import Blueprint
from plugin.pages import course_read
from plugin.social import boards
from plugin.social.boards.schemas import (
    AcceptSchema,
    BoardSchema,
    BoardUpdateSchema,
    CompetencyIdsSchema,
    CompetencyTagSchema,
    EndorseSchema,
    PostCreateSchema,
    PostPlaceArgs,
    PostPlaceSchema,
    PostSchema,
    PostUpdateSchema,
    ReactionCreateSchema,
    ReactionSchema,
    ThreadArgs,
    ThreadCreateSchema,
    ThreadDetailSchema,
    ThreadListArgs,
    ThreadPageSchema,
)
from plugin.social.display import AuthorView
from plugin.social.models import Post
from plugin.web import course_act, current, launch_required

blp = Blueprint(
    "boards_api",
    __name__,
    url_prefix="/api",
    description="Discussion boards: threads, posts (replies and comments) and reactions.",
)
SECURITY = [{"launchToken": []}]


def _one_post(session, who: Viewer, post_id: int, thread_id: int) -> boards.PostView:
    """The post as the viewer sees it, read back through the thread's read model."""
    detail = boards.get_thread(session, who, thread_id, limit=paging.MAX_PAGE_SIZE)
    views = ([detail.opening] if detail.opening else []) + detail.replies
    views += [c for r in detail.replies for c in r.comments]
    for view in views:
        if view.id == post_id:
            return view
    # Beyond the first page of replies: the viewer's own post (they just wrote or edited it).
    post = session.get(Post, post_id)
    assert post is not None and post.author_id == who.user_id
    author = AuthorView(who.user_id, current().user.display_name, post.anonymous)
    return boards.PostView(
        id=post.id,
        parent_id=post.parent_id,
        is_opening=post.is_opening,
        author=None if post.deleted else author,
        body_html="" if post.deleted else post.body_html,
        hidden=post.hidden,
        deleted=post.deleted,
        created_at=post.created_at,
        edited_at=post.edited_at,
        reactions={},
        my_reactions=frozenset(),
        endorsed=post.endorsed_at is not None and not post.deleted,
    )


@blp.route("/boards/<int:board_id>/threads", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="A page of the board's threads (pinned first, keyset cursor)")
@launch_required
@blp.arguments(ThreadListArgs, location="query")
@blp.response(200, ThreadPageSchema)
def list_threads(args: dict[str, Any], board_id: int) -> boards.ThreadPage:
    session, who = course_read()
    board = boards.get_board(session, who, board_id)
    return boards.list_threads(
        session,
        who,
        board,
        cursor=args["cursor"],
        limit=args["limit"],
        cohort_group_id=args["cohort"],
        sort=args["sort"],
    )


@blp.route("/boards/<int:board_id>/threads", methods=["POST"])
@blp.refusals(400, 403, 404, 413, 429)
@blp.doc(security=SECURITY, summary="Start a thread")
@launch_required
@blp.arguments(ThreadCreateSchema)
@blp.response(201, ThreadDetailSchema)
def create_thread(data: dict[str, Any], board_id: int) -> boards.ThreadDetail:
    with course_act() as (session, who):
        board = boards.get_board(session, who, board_id)
        thread = boards.create_thread(session, who, board, **data)
        thread_id = thread.id
    session, who = course_read()
    return boards.get_thread(session, who, thread_id)


@blp.route("/threads/<int:thread_id>", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="A thread with a page of replies and their comments")
@launch_required
@blp.arguments(ThreadArgs, location="query")
@blp.response(200, ThreadDetailSchema)
def get_thread(args: dict[str, Any], thread_id: int) -> boards.ThreadDetail:
    session, who = course_read()
    return boards.get_thread(session, who, thread_id, cursor=args["cursor"], limit=args["limit"])


@blp.route("/posts/<int:post_id>/place", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(
    security=SECURITY,
    summary="Where a post is shown: its thread and the cursor of the thread page that holds it",
)
@launch_required
@blp.arguments(PostPlaceArgs, location="query")
@blp.response(200, PostPlaceSchema)
def get_post_place(args: dict[str, Any], post_id: int) -> boards.PostPlace:
    session, who = course_read()
    return boards.locate_post(session, who, post_id, limit=args["limit"])


@blp.route("/threads/<int:thread_id>/posts", methods=["POST"])
@blp.refusals(400, 403, 404, 409, 413, 429)
@blp.doc(security=SECURITY, summary="Reply in a thread, or comment on a reply (parent_id)")
@launch_required
@blp.arguments(PostCreateSchema)
@blp.response(201, PostSchema)
def create_post(data: dict[str, Any], thread_id: int) -> boards.PostView:
    with course_act() as (session, who):
        thread = boards.load_thread(session, who, thread_id)
        parent = None
        if data["parent_id"] is not None:
            parent = boards.load_post(session, who, data["parent_id"])
        post = boards.reply(
            session, who, thread, data["body"], parent_post=parent, anonymous=data["anonymous"]
        )
        post_id = post.id
    session, who = course_read()
    return _one_post(session, who, post_id, thread_id)


@blp.route("/posts/<int:post_id>", methods=["PATCH"])
@blp.refusals(400, 403, 404, 409, 413)
@blp.doc(security=SECURITY, summary="Edit your post (the old text is kept as a revision)")
@launch_required
@blp.arguments(PostUpdateSchema)
@blp.response(200, PostSchema)
def update_post(data: dict[str, Any], post_id: int) -> boards.PostView:
    with course_act() as (session, who):
        post = boards.load_post(session, who, post_id)
        boards.edit_post(session, who, post, data["body"], title=data["title"])
        thread_id = post.thread_id
    session, who = course_read()
    return _one_post(session, who, post_id, thread_id)


@blp.route("/posts/<int:post_id>", methods=["DELETE"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Delete a post (a placeholder stays in the thread)")
@launch_required
@blp.response(204)
def delete_post(post_id: int) -> None:
    with course_act() as (session, who):
        boards.delete_post(session, who, boards.load_post(session, who, post_id))


@blp.route("/posts/<int:post_id>/reactions", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Like a post or mark it helpful (again is a no-op)")
@launch_required
@blp.arguments(ReactionCreateSchema)
@blp.response(201, ReactionSchema)
def add_reaction(data: dict[str, Any], post_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        reaction = boards.react(session, who, boards.load_post(session, who, post_id), data["kind"])
        return {
            "post_id": reaction.post_id,
            "kind": reaction.kind,
            "created_at": reaction.created_at,
        }


@blp.route("/boards/<int:board_id>", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="A board and its settings")
@launch_required
@blp.response(200, BoardSchema)
def get_board(board_id: int) -> Any:
    session, who = course_read()
    return boards.get_board(session, who, board_id)


@blp.route("/boards/<int:board_id>", methods=["PATCH"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Change the board's settings (course staff)")
@launch_required
@blp.arguments(BoardUpdateSchema)
@blp.response(200, BoardSchema)
def update_board(data: dict[str, Any], board_id: int) -> Any:
    with course_act() as (session, who):
        board = boards.update_settings(
            session, who, boards.get_board(session, who, board_id), **data
        )
        board_id = board.id
    session, who = course_read()
    return boards.get_board(session, who, board_id)


@blp.route("/boards/<int:board_id>/competencies", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="The competencies every act on the board counts toward")
@launch_required
@blp.response(200, CompetencyTagSchema(many=True))
def get_board_competencies(board_id: int) -> Any:
    session, who = course_read()
    return boards.board_competencies(session, who, boards.get_board(session, who, board_id))


@blp.route("/boards/<int:board_id>/competencies", methods=["PUT"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Link the board to competencies (course staff)")
@launch_required
@blp.arguments(CompetencyIdsSchema)
@blp.response(200, CompetencyTagSchema(many=True))
def put_board_competencies(data: dict[str, Any], board_id: int) -> Any:
    with course_act() as (session, who):
        board = boards.get_board(session, who, board_id)
        return boards.set_board_competencies(session, who, board, data["competency_ids"])


@blp.route("/threads/<int:thread_id>/competencies", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="The thread's competency tags")
@launch_required
@blp.response(200, CompetencyTagSchema(many=True))
def get_thread_competencies(thread_id: int) -> Any:
    session, who = course_read()
    thread = boards.load_thread(session, who, thread_id)
    return boards.thread_competencies(session, thread)


@blp.route("/threads/<int:thread_id>/competencies", methods=["PUT"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Tag the thread with course competencies (author or staff)")
@launch_required
@blp.arguments(CompetencyIdsSchema)
@blp.response(200, CompetencyTagSchema(many=True))
def put_thread_competencies(data: dict[str, Any], thread_id: int) -> Any:
    with course_act() as (session, who):
        thread = boards.load_thread(session, who, thread_id)
        return boards.set_thread_competencies(session, who, thread, data["competency_ids"])


@blp.route("/posts/<int:post_id>/endorsement", methods=["PUT"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Endorse a reply, or take the endorsement back (staff)")
@launch_required
@blp.arguments(EndorseSchema, required=False)
@blp.response(200, PostSchema)
def endorse(data: dict[str, Any], post_id: int) -> boards.PostView:
    with course_act() as (session, who):
        post = boards.load_post(session, who, post_id)
        boards.endorse(session, who, post, endorsed=data["endorsed"])
        thread_id = post.thread_id
    session, who = course_read()
    return _one_post(session, who, post_id, thread_id)


@blp.route("/threads/<int:thread_id>/accepted", methods=["PUT"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Accept a reply as the question's answer (asker or staff)")
@launch_required
@blp.arguments(AcceptSchema)
@blp.response(200, ThreadDetailSchema)
def accept(data: dict[str, Any], thread_id: int) -> boards.ThreadDetail:
    with course_act() as (session, who):
        thread = boards.load_thread(session, who, thread_id)
        post = boards.load_post(session, who, data["post_id"]) if data["post_id"] else None
        boards.accept_answer(session, who, thread, post)
    session, who = course_read()
    return boards.get_thread(session, who, thread_id)
