"""Performance development: competency frameworks (CASE, Moodle CSV), competencies, competency
links and evidence, and the Development plan widget that builds on them (docs/plans.md).

A package per feature — ``frameworks/``, ``competencies/``, ``links/``, ``plans/`` — each with
its services, views, API, schemas and templates side by side; ``associations.py`` (reading CASE
associations) and ``evidence.py`` (the evidence subscriber) are single modules; ``common.py``
holds the helpers they share (docs/competencies.md).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Pages, the JSON API, the evidence subscriber, and placements as a linkable kind (a
    platform-layer object every package may read)."""
    from plugin import events, widgets
    from plugin.api import api
    from plugin.performance import links, plans
    from plugin.performance.competencies import api as competencies_api
    from plugin.performance.competencies import views as competencies_views
    from plugin.performance.competencies.catalog import find_activity
    from plugin.performance.evidence import SUBSCRIBER_NAME, on_event
    from plugin.performance.frameworks import api as frameworks_api
    from plugin.performance.frameworks import views as frameworks_views
    from plugin.performance.links import api as links_api

    plans.init_app(app)  # the Development plan widget
    widgets.add_course_tool(
        app, widgets.CourseTool("Competency frameworks", "performance.frameworks_page", order=10)
    )
    app.register_blueprint(frameworks_views.bp)
    app.register_blueprint(competencies_views.bp)
    api.register_blueprint(frameworks_api.blp)
    api.register_blueprint(competencies_api.blp)
    api.register_blueprint(links_api.blp)
    events.subscribe(SUBSCRIBER_NAME, on_event)
    links.register_kind("placement", links.resolve_placement)
    events.register_finder("competency", find_activity)
