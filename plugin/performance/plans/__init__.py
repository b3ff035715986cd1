"""The Development plan widget (issue 12). See docs/plans.md.

This package's names are the plan service API that views, the JSON API and other packages call:

- ``plans`` (the plan a link opens, made on first launch; who may read it; the course's plans
  for its staff; the owner's workflow moves with comments);
- ``goals`` (a plan's goals: competency, target level on its scale, due date, why; adding one
  publishes ``plan.goal_set``).

The web layer is ``views`` (pages), ``api`` and ``schemas`` (JSON API), ``widget`` (the
course-link entry in :mod:`plugin.widgets`) and ``templates/plans/``; :func:`init_app` wires them.
The tables — for the whole issue: templates, activities, evidence shares, ratings, reviewers,
role profiles, logged experiences — are in ``models`` (migration 0020).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the Development plan widget, its pages and its API."""
    from plugin import events, widgets
    from plugin.api import api
    from plugin.performance.plans import goals, plans
    from plugin.performance.plans.api import blp
    from plugin.performance.plans.views import bp
    from plugin.performance.plans.widget import PLAN

    widgets.register(app, PLAN)
    events.register_finder("plan", plans.find_plan)
    events.register_finder("goal", goals.find_goal)
    app.register_blueprint(bp)
    api.register_blueprint(blp)
