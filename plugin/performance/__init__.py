"""Performance development: competency frameworks (CASE, Moodle CSV), competency links and
evidence. Development plans, role profiles and reports build on these."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Pages, the JSON API, the evidence subscriber, and placements as a linkable kind (a
    platform-layer object every package may read)."""
    from plugin import events, widgets
    from plugin.api import api
    from plugin.performance import links
    from plugin.performance.api import blp
    from plugin.performance.evidence import SUBSCRIBER_NAME, on_event
    from plugin.performance.views import bp

    # declared, not built yet: course links that name it show "not available yet"
    widgets.register(app, widgets.Widget(name="plan", label="Development plan"))
    widgets.add_course_tool(
        app, widgets.CourseTool("Competency frameworks", "performance.frameworks_page", order=10)
    )
    app.register_blueprint(bp)
    api.register_blueprint(blp)
    events.subscribe(SUBSCRIBER_NAME, on_event)
    links.register_kind("placement", links.resolve_placement)
    from plugin.performance.catalog import find_activity

    events.register_finder("competency", find_activity)
