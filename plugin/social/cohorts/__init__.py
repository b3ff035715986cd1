"""Cohorts made by course staff (for boards in cohort mode "cohorts"): the service API
(``services``), its page (``views``, ``templates/``) and JSON API (``api``, ``schemas``), wired by
:func:`init_app`.
"""

from __future__ import annotations

from flask import Flask

from plugin.social.cohorts.services import (
    MAX_NAME_CHARS,
    CohortView,
    Person,
    create_cohort,
    delete_cohort,
    learners,
    list_cohorts,
    load,
    rename_cohort,
    set_members,
)

__all__ = [
    "MAX_NAME_CHARS",
    "CohortView",
    "Person",
    "create_cohort",
    "delete_cohort",
    "learners",
    "list_cohorts",
    "load",
    "rename_cohort",
    "set_members",
]


def init_app(app: Flask) -> None:
    """Register the cohorts page and API."""
    from plugin.api import api
    from plugin.social.cohorts.api import blp
    from plugin.social.cohorts.views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
