"""Moderation: abuse reports on posts, the moderation queue, hiding posts, muting members, and
the moderation audit log (the staff's "participation" reports are :mod:`plugin.social.participation`).

The package's names are its service API (``services``); ``views``, ``api``, ``schemas`` and
``templates/`` are its pages and JSON API, wired by :func:`init_app`. Services decide who may
act: course moderators are staff, and LTI Mentors on boards that let mentors moderate.
"""

from __future__ import annotations

from flask import Flask

from plugin.social.moderation.services import (
    ACTION_LABELS,
    ALREADY_REPORTED,
    EXCERPT_CHARS,
    MAX_REASON_CHARS,
    NOT_A_MODERATOR,
    LogEntry,
    LogPage,
    MemberFlags,
    ReportedPost,
    ReportEntry,
    ReportPage,
    audit_log,
    can_moderate_course,
    dismiss_report,
    find_post,
    get_report,
    hide_post,
    list_reports,
    member_flags,
    mute,
    open_report_count,
    report_post,
    reported_post_ids,
    require_course_moderator,
    thread_shown_after_hiding,
    unhide_post,
    unmute,
)

__all__ = [
    "ACTION_LABELS",
    "ALREADY_REPORTED",
    "EXCERPT_CHARS",
    "MAX_REASON_CHARS",
    "NOT_A_MODERATOR",
    "LogEntry",
    "LogPage",
    "MemberFlags",
    "ReportEntry",
    "ReportPage",
    "ReportedPost",
    "audit_log",
    "can_moderate_course",
    "dismiss_report",
    "find_post",
    "get_report",
    "hide_post",
    "list_reports",
    "member_flags",
    "mute",
    "open_report_count",
    "report_post",
    "reported_post_ids",
    "require_course_moderator",
    "thread_shown_after_hiding",
    "unhide_post",
    "unmute",
]


def init_app(app: Flask) -> None:
    """Register the moderation pages and API."""
    from plugin.api import api
    from plugin.social.moderation.api import blp
    from plugin.social.moderation.views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
