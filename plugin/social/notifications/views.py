"""Pages for notifications, following threads and the @mention autocomplete (blueprint
``social_notify``): thin views over :mod:`plugin.social.notifications` and
:mod:`plugin.social.mentions`. Every form carries the launch token (``lc``); every POST answers 303.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from plugin.access import Refusal, Viewer
from plugin.db import db_session
from plugin.pages import back, course_read, id_or_none, render
from plugin.social import boards, notifications
from plugin.social.boards.views import back_to_post, board_param
from plugin.social.models import NOTIFY_ACCEPTED, NOTIFY_ENDORSED, NOTIFY_MENTION, Thread
from plugin.social.notifications import mentions
from plugin.web import course_act, launch_required

bp = Blueprint("social_notify", __name__, template_folder="templates")


def describe(n: notifications.NotificationView) -> str:
    """One line saying what happened, as the recipient may know it."""
    title = f"“{n.thread_title}”"
    if n.kind == NOTIFY_MENTION:
        return f"{n.actor.name} mentioned you in {title}"
    if n.kind == NOTIFY_ENDORSED:
        return f"{n.actor.name} endorsed your answer in {title}"
    if n.kind == NOTIFY_ACCEPTED:
        return f"{n.actor.name} accepted your answer in {title}"
    return f"{n.actor.name} {'commented' if n.is_comment else 'replied'} in {title}"


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    """Helpers for the includes on the lead's board and thread pages (one query each)."""

    def unread(who: Viewer) -> int:
        return notifications.unread_count(db_session(), who)

    def following(who: Viewer, thread: Thread) -> bool:
        return notifications.is_following(db_session(), who, thread)

    return {"social_unread_notifications": unread, "social_is_following": following}


@bp.get("/notifications")
@launch_required
def notifications_page() -> str:
    session, who = course_read()
    unread_only = request.args.get("unread") == "1"
    board_id = board_param(session, who)
    page = notifications.list_notifications(
        session, who, cursor=request.args.get("cursor") or None, unread_only=unread_only
    )
    count = notifications.unread_count(session, who)
    return render(
        "social/notifications.html",
        viewer=who,
        page=page,
        unread=count,
        unread_only=unread_only,
        board_id=board_id,
        describe=describe,
        title="Notifications",
    )


@bp.post("/notifications/read")
@launch_required
def mark_read() -> Response:
    values = request.form.getlist("id")
    ids = None
    if values:
        ids = [id_or_none(v, "notification") for v in values]
        if any(i is None for i in ids):
            raise Refusal(400, "Choose a valid notification.", title="Please check what you wrote")
    with course_act() as (session, who):
        board_id = board_param(session, who)
        notifications.mark_read(session, who, ids)  # type: ignore[arg-type]
    extra: dict[str, Any] = {"board": board_id} if board_id is not None else {}
    if request.form.get("unread") == "1":
        extra["unread"] = "1"
    return back("social_notify.notifications_page", **extra)


@bp.post("/notifications/<int:notification_id>/open")
@launch_required
def open_notification(notification_id: int) -> Response:
    with course_act() as (session, who):
        n = notifications.open_notification(session, who, notification_id)
        thread_id, post_id, cursor = n.thread_id, n.post_id, None
        if post_id is not None:  # the thread page that shows the post, even past the first
            try:
                cursor = boards.locate_post(session, who, post_id).cursor
            except Refusal:  # hidden since: the thread (which they may see) instead
                post_id = None
    return back_to_post(thread_id, post_id, cursor)


@bp.post("/threads/<int:thread_id>/follow")
@launch_required
def follow(thread_id: int) -> Response:
    with course_act() as (session, who):
        notifications.follow(session, who, boards.load_thread(session, who, thread_id))
    return back("social.thread_page", thread_id=thread_id)


@bp.post("/threads/<int:thread_id>/unfollow")
@launch_required
def unfollow(thread_id: int) -> Response:
    with course_act() as (session, who):
        notifications.unfollow(session, who, boards.load_thread(session, who, thread_id))
    return back("social.thread_page", thread_id=thread_id)


def member_list(session, who: Viewer, board_id: int, args: dict[str, Any]) -> list[dict]:
    """The autocomplete's suggestions as JSON-ready dicts (shared with the API)."""
    board = boards.get_board(session, who, board_id)
    thread = None
    if args.get("thread") is not None:
        thread = boards.load_thread(session, who, args["thread"])
    found = mentions.member_suggestions(
        session,
        who,
        board,
        args.get("q") or "",
        8 if args.get("limit") is None else args["limit"],
        thread=thread,
    )
    return [{"handle": m.handle, "name": m.name} for m in found]


@bp.get("/boards/<int:board_id>/members")
@launch_required
def members(board_id: int) -> Response:
    """Course members for the @mention autocomplete (JSON; ``?q=`` the start of a name)."""
    session, who = course_read()
    args = {
        "q": request.args.get("q", ""),
        "thread": id_or_none(request.args.get("thread"), "thread"),
        "limit": id_or_none(request.args.get("limit"), "number of suggestions"),
    }
    return jsonify(members=member_list(session, who, board_id, args))
