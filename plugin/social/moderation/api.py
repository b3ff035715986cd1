"""JSON API of board moderation: reports, the queue, hide/unhide, mutes, the audit log and thread
state. The same services and permission checks as the moderation pages; other courses' ids
answer 404, refusals the service's status with a ``message``."""

from __future__ import annotations

from typing import Any

from plugin.api import Blueprint
from plugin.pages import course_read
from plugin.social import boards, moderation
from plugin.social.boards.schemas import ThreadStateSchema
from plugin.social.models import Report, Thread
from plugin.social.moderation.schemas import (
    LogArgs,
    LogPageSchema,
    ModeratedPostSchema,
    MuteSchema,
    ReasonSchema,
    ReportCreateSchema,
    ReportListArgs,
    ReportPageSchema,
    ReportSchema,
    ThreadStateUpdateSchema,
)
from plugin.web import course_act, launch_required

blp = Blueprint(
    "moderation_api",
    __name__,
    url_prefix="/api",
    description="Board moderation: reports, the moderation queue, hiding posts, mutes, the log.",
)
SECURITY = [{"launchToken": []}]


@blp.route("/posts/<int:post_id>/reports", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Report a post to the course's moderators (once per post)")
@launch_required
@blp.arguments(ReportCreateSchema)
@blp.response(201, ReportSchema)
def create_report(data: dict[str, Any], post_id: int) -> Report:
    with course_act() as (session, who):
        post = boards.load_post(session, who, post_id)
        return moderation.report_post(session, who, post, data["reason"])


@blp.route("/moderation/reports", methods=["GET"])
@blp.refusals(400, 403)
@blp.doc(security=SECURITY, summary="The moderation queue: reported posts (moderators)")
@launch_required
@blp.arguments(ReportListArgs, location="query")
@blp.response(200, ReportPageSchema)
def list_reports(args: dict[str, Any]) -> moderation.ReportPage:
    session, who = course_read()
    return moderation.list_reports(
        session, who, status=args["status"], cursor=args["cursor"], limit=args["limit"]
    )


@blp.route("/posts/<int:post_id>/hide", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Hide a post from learners; resolves its open reports")
@launch_required
@blp.arguments(ReasonSchema, required=False)
@blp.response(200, ModeratedPostSchema)
def hide_post(data: dict[str, Any], post_id: int) -> Any:
    with course_act() as (session, who):
        post = moderation.find_post(session, who, post_id)
        return moderation.hide_post(session, who, post, data["reason"])


@blp.route("/posts/<int:post_id>/unhide", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Show a hidden post again (moderators)")
@launch_required
@blp.arguments(ReasonSchema, required=False)
@blp.response(200, ModeratedPostSchema)
def unhide_post(data: dict[str, Any], post_id: int) -> Any:
    with course_act() as (session, who):
        post = moderation.find_post(session, who, post_id)
        return moderation.unhide_post(session, who, post, data["reason"])


@blp.route("/reports/<int:report_id>/dismiss", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Dismiss the open reports of a post (moderators)")
@launch_required
@blp.arguments(ReasonSchema, required=False)
@blp.response(200, ReportSchema)
def dismiss_report(data: dict[str, Any], report_id: int) -> Report:
    with course_act() as (session, who):
        report = moderation.get_report(session, who, report_id)
        return moderation.dismiss_report(session, who, report, data["reason"])


@blp.route("/mutes/<int:user_id>", methods=["PUT"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Mute a member in this course (moderators; idempotent)")
@launch_required
@blp.arguments(ReasonSchema, required=False)
@blp.response(200, MuteSchema)
def put_mute(data: dict[str, Any], user_id: int) -> Any:
    with course_act() as (session, who):
        return moderation.mute(session, who, user_id, data["reason"])


@blp.route("/mutes/<int:user_id>", methods=["DELETE"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Lift a member's mute (moderators; idempotent)")
@launch_required
@blp.response(204)
def delete_mute(user_id: int) -> None:
    with course_act() as (session, who):
        moderation.unmute(session, who, user_id)


@blp.route("/moderation/log", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="The moderation audit log, newest first (moderators)")
@launch_required
@blp.arguments(LogArgs, location="query")
@blp.response(200, LogPageSchema)
def audit_log(args: dict[str, Any]) -> moderation.LogPage:
    session, who = course_read()
    return moderation.audit_log(
        session, who, cursor=args["cursor"], limit=args["limit"], thread_id=args["thread_id"]
    )


@blp.route("/threads/<int:thread_id>/state", methods=["PATCH"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Pin, lock (with a reason) or close a thread (moderators)")
@launch_required
@blp.arguments(ThreadStateUpdateSchema)
@blp.response(200, ThreadStateSchema)
def thread_state(data: dict[str, Any], thread_id: int) -> Thread:
    with course_act() as (session, who):
        thread = boards.load_thread(session, who, thread_id)
        return boards.set_thread_state(session, who, thread, **data)
