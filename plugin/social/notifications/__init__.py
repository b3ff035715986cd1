"""Notifications: @mentions, following threads, read markers and the notifications a person gets
for new posts, endorsements and accepted answers (a domain-event subscriber).

The package's names are its service API (``services``; ``mentions`` handles @mentions and member
suggestions); ``views``, ``api``, ``schemas`` and ``templates/`` are its pages and JSON API, wired
by :func:`init_app`, which also subscribes the service to the boards' domain events.
"""

from __future__ import annotations

from flask import Flask

from plugin.social.notifications.services import (
    ANONYMOUS_NAME,
    EXCERPT_CHARS,
    MAX_MARK_IDS,
    MAX_PAGE_SIZE,
    SOMEONE,
    SUBSCRIBER_NAME,
    ActorView,
    NotificationPage,
    NotificationView,
    follow,
    is_following,
    list_notifications,
    mark_emailed,
    mark_read,
    mark_thread_read,
    on_event,
    open_notification,
    register,
    undigested,
    unfollow,
    unread_count,
    unread_thread_ids,
)

__all__ = [
    "ANONYMOUS_NAME",
    "EXCERPT_CHARS",
    "MAX_MARK_IDS",
    "MAX_PAGE_SIZE",
    "SOMEONE",
    "SUBSCRIBER_NAME",
    "ActorView",
    "NotificationPage",
    "NotificationView",
    "follow",
    "is_following",
    "list_notifications",
    "mark_emailed",
    "mark_read",
    "mark_thread_read",
    "on_event",
    "open_notification",
    "register",
    "undigested",
    "unfollow",
    "unread_count",
    "unread_thread_ids",
]


def init_app(app: Flask) -> None:
    """Register the notification pages and API, and subscribe to the boards' domain events."""
    from plugin.api import api
    from plugin.social.notifications.api import blp
    from plugin.social.notifications.views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
    register()  # mentions, follows, read markers, notifications
