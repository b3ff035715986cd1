"""Social learning: discussion boards (and, later, mentoring).

The domain core lives in :mod:`plugin.social.models` and :mod:`plugin.social.boards`; the board
pages (:mod:`plugin.social.views`) and the JSON API (:mod:`plugin.social.api`) sit on top of those
services.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin import events, widgets
    from plugin.api import api
    from plugin.social import boards
    from plugin.social.board_widget import BOARD

    widgets.register(app, BOARD)
    # declared, not built yet: course links that name it show "not available yet"
    widgets.register(app, widgets.Widget(name="mentoring", label="Mentoring"))

    # Boards, threads and posts can be found by the key their events name (xAPI activity IRIs).
    for kind in ("board", "thread", "post"):
        events.register_finder(
            kind,
            lambda session, platform_id, key, kind=kind: boards.find_activity(
                session, platform_id, kind, key
            ),
        )
    from plugin.social import models  # noqa: F401  (tables known to the metadata)
    from plugin.social.api import blp
    from plugin.social.views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
    from plugin.social.search_api import blp as search_blp
    from plugin.social.search_views import bp as search_bp

    app.register_blueprint(search_bp)
    api.register_blueprint(search_blp)
    from plugin.social.moderation_api import blp as moderation_blp
    from plugin.social.moderation_views import bp as moderation_bp

    app.register_blueprint(moderation_bp)
    api.register_blueprint(moderation_blp)
    from plugin.social.report_api import blp as reports_blp
    from plugin.social.report_views import bp as reports_bp

    app.register_blueprint(reports_bp)
    api.register_blueprint(reports_blp)
    from plugin.social import notifications
    from plugin.social.notify_api import blp as notify_blp
    from plugin.social.notify_views import bp as notify_bp

    app.register_blueprint(notify_bp)
    api.register_blueprint(notify_blp)
    notifications.register()  # mentions, follows, read markers, notifications
    from plugin.social.cohort_api import blp as cohorts_blp
    from plugin.social.cohort_views import bp as cohorts_bp

    app.register_blueprint(cohorts_bp)
    api.register_blueprint(cohorts_blp)
    from plugin.social import linking

    linking.register()  # boards and threads in the competency-links API
