"""Moderation pages: report a post, hide/unhide, dismiss reports, mute members, the moderation
queue and the audit log. Thin views over :mod:`plugin.social.moderation`.

Like the board pages, every form carries the launch token (``lc``) and every POST answers 303
back to where it came from: the thread (default), the queue (``back=queue``) or the log
(``back=log``). Refusals are readable 4xx pages with the service's message.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from plugin.access import Viewer
from plugin.db import db_session
from plugin.pages import back, course_read, id_or_none, render
from plugin.social import boards, moderation
from plugin.social.boards.views import back_to_post
from plugin.social.models import REPORT_OPEN, Board, Thread
from plugin.web import course_act, current, launch_required

bp = Blueprint("social_moderation", __name__, template_folder="templates")

STATUS_LABELS = {"open": "Open", "resolved": "Resolved", "dismissed": "Dismissed"}
LEVEL_LABELS = {"opening": "Opening post", "reply": "Reply", "comment": "Comment"}


def _form_int(name: str, what: str) -> int | None:
    return id_or_none(request.form.get(name), what)


def _return(
    thread_id: int | None = None, post_id: int | None = None, board_id: int | None = None
) -> Response:
    """303 to the page the form came from."""
    came_from = request.form.get("back")
    if came_from == "queue":
        status = request.form.get("status")
        return back("social_moderation.queue", status=status if status in STATUS_LABELS else None)
    if came_from == "log":
        return back("social_moderation.log_page")
    if thread_id is not None:
        return back_to_post(thread_id, post_id)
    if board_id is not None:
        return back("social.board_page", board_id=board_id)
    return back("social_moderation.queue")


# --- acts ----------------------------------------------------------------------------------------
@bp.post("/posts/<int:post_id>/report")
@launch_required
def report(post_id: int) -> Response:
    with course_act() as (session, who):
        post = boards.load_post(session, who, post_id)
        moderation.report_post(session, who, post, request.form.get("reason"))
        thread_id = post.thread_id
    return _return(thread_id, post_id)


@bp.post("/posts/<int:post_id>/hide")
@launch_required
def hide(post_id: int) -> Response:
    with course_act() as (session, who):
        post = moderation.find_post(session, who, post_id)
        moderation.hide_post(session, who, post, request.form.get("reason"))
        thread = session.get(Thread, post.thread_id)
        assert thread is not None
        thread_id, board_id = thread.id, thread.board_id
        # a moderator who is not staff no longer sees a thread whose opening post is hidden
        thread_shown = moderation.thread_shown_after_hiding(who, post)
    if thread_shown:
        return _return(thread_id, post_id)
    return _return(board_id=board_id)


@bp.post("/posts/<int:post_id>/unhide")
@launch_required
def unhide(post_id: int) -> Response:
    with course_act() as (session, who):
        post = moderation.find_post(session, who, post_id)
        moderation.unhide_post(session, who, post, request.form.get("reason"))
        thread_id = post.thread_id
    return _return(thread_id, post_id)


@bp.post("/reports/<int:report_id>/dismiss")
@launch_required
def dismiss(report_id: int) -> Response:
    with course_act() as (session, who):
        row = moderation.get_report(session, who, report_id)
        moderation.dismiss_report(session, who, row, request.form.get("reason"))
    if request.form.get("back") not in ("queue", "log"):
        return back("social_moderation.queue")
    return _return()


@bp.post("/members/<int:user_id>/mute")
@launch_required
def mute(user_id: int) -> Response:
    thread_id = _form_int("thread_id", "thread")
    with course_act() as (session, who):
        moderation.mute(session, who, user_id, request.form.get("reason"))
    return _return(thread_id)


@bp.post("/members/<int:user_id>/unmute")
@launch_required
def unmute(user_id: int) -> Response:
    thread_id = _form_int("thread_id", "thread")
    with course_act() as (session, who):
        moderation.unmute(session, who, user_id, request.form.get("reason"))
    return _return(thread_id)


# --- pages ---------------------------------------------------------------------------------------
def _launch_board_id(session) -> int | None:
    """The board of the launch's placement, for a "back to the board" link."""
    placement = current().placement
    if placement is None:
        return None
    return session.scalar(select(Board.id).where(Board.placement_id == placement.id))


@bp.get("/moderation")
@launch_required
def queue() -> str:
    session, who = course_read()
    status = request.args.get("status") or REPORT_OPEN
    page = moderation.list_reports(
        session, who, status=status, cursor=request.args.get("cursor") or None
    )
    authors = [i.author.user_id for i in page.items if i.author and i.author.user_id]
    return render(
        "social/moderation_queue.html",
        viewer=who,
        page=page,
        flags=moderation.member_flags(session, who.context_id, authors),
        statuses=STATUS_LABELS,
        levels=LEVEL_LABELS,
        board_id=_launch_board_id(session),
    )


@bp.get("/moderation/log")
@launch_required
def log_page() -> str:
    session, who = course_read()
    thread_id = id_or_none(request.args.get("thread"), "thread")
    page = moderation.audit_log(
        session, who, cursor=request.args.get("cursor") or None, thread_id=thread_id
    )
    thread_title = None
    if thread_id is not None:
        thread_title = session.scalar(select(Thread.title).where(Thread.id == thread_id))
    return render(
        "social/moderation_log.html",
        viewer=who,
        page=page,
        thread_id=thread_id,
        thread_title=thread_title,
        board_id=_launch_board_id(session),
    )


# --- what the board templates' moderation partials ask -------------------------------------------
class _PageState:
    """Lazy, per-request answers for the partials: one query per question and page at most."""

    def reported(self, who: Viewer, post_id: int, thread: Thread) -> bool:
        cache: dict[int, set[int]] = g.setdefault("_mod_reported", {})
        if thread.id not in cache:
            cache[thread.id] = moderation.reported_post_ids(db_session(), who, thread.id)
        return post_id in cache[thread.id]

    def author(
        self, who: Viewer, user_id: int, detail: Any = None
    ) -> moderation.MemberFlags | None:
        cache: dict[int, moderation.MemberFlags | None] = g.setdefault("_mod_members", {})
        if user_id not in cache:
            wanted = {user_id}
            if detail is not None:
                views = ([detail.opening] if detail.opening else []) + list(detail.replies)
                views += [c for r in detail.replies for c in r.comments]
                wanted |= {v.author.user_id for v in views if v.author and v.author.user_id}
            wanted -= cache.keys()
            found = moderation.member_flags(db_session(), who.context_id, wanted)
            for uid in wanted:
                cache[uid] = found.get(uid)
        return cache[user_id]

    def open_reports(self, who: Viewer) -> int:
        if "_mod_open" not in g:
            g.moderation_open_reports = moderation.open_report_count(db_session(), who)
        return g.moderation_open_reports


@bp.app_context_processor
def _moderation_state() -> dict[str, Any]:
    return {"mod_state": _PageState()}
