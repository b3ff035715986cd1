"""JSON API of programme health: the same service and checks as the page."""

from __future__ import annotations

from plugin.db import unit_of_work
from plugin.pages import course_read
from plugin.social.mentoring import health, programmes
from plugin.social.mentoring.api import PROGRAMME, SECURITY, blp
from plugin.social.mentoring.health_schemas import HealthSchema
from plugin.web import launch_required


@blp.route(PROGRAMME + "/health", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(
    security=SECURITY,
    summary="The programme's health: pairs, time to match, check-ins, pulses, supply and demand "
    "per competency (staff)",
)
@launch_required
@blp.response(200, HealthSchema)
def programme_health(programme_id: int) -> health.Health:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    with unit_of_work(session):  # a new snapshot, when the kept one is too old
        return health.current_health(session, who, programme)
