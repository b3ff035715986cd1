"""JSON API for notifications, following threads and the @mention member list: the same services
and permission checks as the pages (``Authorization: Bearer <launch token>``, scoped to the
launch's course; other courses' ids answer 404)."""

from __future__ import annotations

from typing import Any

from plugin.api import Blueprint
from plugin.pages import course_read
from plugin.social import boards, notifications
from plugin.social.notifications.schemas import (
    FollowSchema,
    MarkReadResultSchema,
    MarkReadSchema,
    MemberArgs,
    MemberListSchema,
    NotificationArgs,
    NotificationPageSchema,
)
from plugin.social.notifications.views import member_list
from plugin.web import course_act, launch_required

blp = Blueprint(
    "notify_api",
    __name__,
    url_prefix="/api",
    description="Board notifications, following threads and @mention suggestions.",
)
SECURITY = [{"launchToken": []}]


# --- routes --------------------------------------------------------------------------------------
@blp.route("/notifications", methods=["GET"])
@blp.refusals(400, 403)
@blp.doc(security=SECURITY, summary="Your notifications in this course, newest first (keyset)")
@launch_required
@blp.arguments(NotificationArgs, location="query")
@blp.response(200, NotificationPageSchema)
def list_notifications(args: dict[str, Any]) -> dict[str, Any]:
    session, who = course_read()
    page = notifications.list_notifications(
        session,
        who,
        cursor=args["cursor"],
        limit=args["limit"],
        unread_only=args["unread_only"],
    )
    count = notifications.unread_count(session, who)
    return {
        "notifications": page.notifications,
        "next_cursor": page.next_cursor,
        "unread_count": count,
    }


@blp.route("/notifications/read", methods=["POST"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Mark notifications read (some ids, or all)")
@launch_required
@blp.arguments(MarkReadSchema, required=False)
@blp.response(200, MarkReadResultSchema)
def mark_read(data: dict[str, Any]) -> dict[str, int]:
    with course_act() as (session, who):
        marked = notifications.mark_read(session, who, data["ids"])
        count = notifications.unread_count(session, who)
    return {"marked": marked, "unread_count": count}


@blp.route("/threads/<int:thread_id>/follow", methods=["PUT"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Follow a thread: its new posts notify you")
@launch_required
@blp.response(200, FollowSchema)
def follow(thread_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        notifications.follow(session, who, boards.load_thread(session, who, thread_id))
    return {"thread_id": thread_id, "following": True}


@blp.route("/threads/<int:thread_id>/follow", methods=["DELETE"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Stop following a thread")
@launch_required
@blp.response(200, FollowSchema)
def unfollow(thread_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        notifications.unfollow(session, who, boards.load_thread(session, who, thread_id))
    return {"thread_id": thread_id, "following": False}


@blp.route("/boards/<int:board_id>/members", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Course members to @mention whose name starts with q")
@launch_required
@blp.arguments(MemberArgs, location="query")
@blp.response(200, MemberListSchema)
def members(args: dict[str, Any], board_id: int) -> dict[str, Any]:
    session, who = course_read()
    return {"members": member_list(session, who, board_id, args)}
