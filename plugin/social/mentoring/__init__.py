"""The Mentoring widget (issue 11). See docs/mentoring.md.

This package's names are the mentoring service API that views, the JSON API and other packages
call:

- ``programmes`` (a programme per placement, its settings and targeted competencies),
  ``platform`` (platform-wide programmes: made by administrators, joined by course links);
- ``profiles`` (opting in as mentor and/or mentee, nominations, the roster), ``invitations``
  (staff invite a suggested mentor, who accepts or declines);
- ``requests`` (a mentee's request to a mentor or the pool, ranked candidates, the mentor's
  answer), ``bulk`` (staff bulk matching: preview, adjust, approve);
- ``pairs`` (the one place a pair is made; its agreement, group circles and co-mentors, health,
  ending, extension, re-match) and ``checkins`` (its meetings, notes private to the pair);
- ``reminders`` (the worker's tasks: request expiry, pool escalation, check-in reminders,
  completion, pulse surveys; answering a pulse; the "To do" box) and ``health`` (programme
  health and its snapshots).

The matching engine is plain Python and SciPy with no database and no Flask: :mod:`.scoring`
(a mentor's score for a request, with the parts people see) and :mod:`.matching` (optimal bulk
matching under capacities and exclusions, and a greedy baseline); :mod:`.calendar` makes a
pair's meeting cadence an ``.ics`` invite and :mod:`.suggestions` finds people whose board
answers make them likely mentors. The web layer is ``views`` and the ``*_views`` modules
(pages), ``api``, the ``*_api`` and ``*_schemas`` modules (JSON API), ``health_chart`` (the
chart), ``widget`` (the course-link entry in :mod:`plugin.widgets`) and ``templates/mentoring/``;
:func:`init_app` wires them. The tables are in ``models``.
"""

from __future__ import annotations

import os

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the Mentoring widget, its pages and its API."""
    from plugin import events, jobs, mail, widgets
    from plugin.api import api
    from plugin.social.mentoring import (
        bulk,
        checkins,
        invitations,
        matching_api,  # noqa: F401 (its routes join blp)
        matching_views,  # noqa: F401 (its routes join bp)
        pairs,
        platform_api,  # noqa: F401 - its routes join blp
        platform_views,  # noqa: F401 - its routes join bp
        relationship_api,  # noqa: F401 - its routes join blp
        relationship_views,  # noqa: F401 - its routes join bp
        requests,
    )
    from plugin.social.mentoring.api import blp
    from plugin.social.mentoring.views import bp
    from plugin.social.mentoring.widget import MENTORING

    widgets.register(app, MENTORING)
    for kind in ("mentoring-request", "mentorship"):
        events.register_finder(
            kind,
            lambda session, platform_id, key, kind=kind: requests.find_activity(
                session, platform_id, kind, key
            ),
        )
    mail.register_kind(requests.MAIL_REQUESTED, "Mentoring requests to you")
    mail.register_kind(requests.MAIL_ANSWERED, "Answers to your mentoring requests")
    mail.register_kind(bulk.MAIL_MATCHED, "Mentoring matches made by programme staff")
    from plugin.social.mentoring import jobs_api, jobs_views, reminders  # noqa: F401 (routes)

    minutes = os.environ.get("MENTORING_JOBS_MINUTES") or reminders.DEFAULT_EVERY_MINUTES
    reminders.register(float(app.config.setdefault("MENTORING_JOBS_MINUTES", float(minutes))))
    mail.register_kind(invitations.MAIL_INVITATION, "Invitations to mentor")
    events.register_finder("checkin", checkins.find_activity)
    from plugin.social.mentoring import circles_api, circles_views  # noqa: F401 - their routes

    mail.register_kind(pairs.MAIL_PAIR, "Changes to your mentorships")
    from plugin.social.mentoring import health, health_api, health_views  # noqa: F401 - their routes

    jobs.every(
        health.SNAPSHOT_MAX_AGE.total_seconds() / 120,
        "mentoring.health_refresh",
        health.refresh_task,
    )

    app.register_blueprint(bp)
    api.register_blueprint(blp)
