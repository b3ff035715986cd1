"""The programme-health page (staff): figures, the demand/capacity chart with its table, and the
same table as CSV (``?format=csv``)."""

from __future__ import annotations

from flask import request
from markupsafe import Markup
from werkzeug.wrappers import Response

from plugin.access import Refusal
from plugin.db import unit_of_work
from plugin.pages import back, course_read, render
from plugin.social.mentoring import health, programmes
from plugin.social.mentoring.health_chart import demand_chart
from plugin.social.mentoring.views import bp
from plugin.web import course_act, launch_required


@bp.get("/mentoring/programmes/<int:programme_id>/health")
@launch_required
def health_page(programme_id: int) -> str | Response:
    fmt = request.args.get("format", "html")
    if fmt not in ("html", "csv"):
        raise Refusal(400, "Choose the format html (the page) or csv (the table as a file).")
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    with unit_of_work(session):  # a new snapshot, when the kept one is too old
        figures = health.current_health(session, who, programme)
    if fmt == "csv":
        response = Response(health.health_csv(figures), mimetype="text/csv")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="programme-{programme.id}-health.csv"'
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return render(
        "mentoring/health.html",
        programme=programme,
        health=figures,
        chart=Markup(demand_chart(figures)),  # built from numbers and escaped names  # noqa: S704
        labels=health.HEALTH_LABELS,
        may_manage=True,
    )


@bp.post("/mentoring/programmes/<int:programme_id>/health")
@launch_required
def refresh_health(programme_id: int) -> Response:
    """ "Refresh now": the figures computed again at once."""
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        health.current_health(session, who, programme, refresh=True)
    return back("mentoring.health_page", programme_id=programme_id)
