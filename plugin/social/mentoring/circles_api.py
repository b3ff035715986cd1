"""JSON API of group circles (slice "circles"): the mentors who could join a circle as
co-mentor, and adding one (programme staff or a mentor of the circle); the same service as the
page (:func:`.pairs.add_co_mentor`)."""

from __future__ import annotations

from typing import Any

from plugin.pages import course_read
from plugin.social.mentoring import pairs
from plugin.social.mentoring.api import SECURITY, blp
from plugin.social.mentoring.circles_schemas import CoMentorInputSchema, CoMentorOptionSchema
from plugin.social.mentoring.relationship_schemas import PairSchema
from plugin.web import course_act, launch_required

CO_MENTORS = "/pairs/<int:pair_id>/co-mentors"


@blp.route(CO_MENTORS, methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(
    security=SECURITY,
    summary="Mentors who could join a group circle as co-mentor (staff, a mentor of it)",
)
@launch_required
@blp.response(200, CoMentorOptionSchema(many=True))
def co_mentor_options(pair_id: int) -> list[pairs.CoMentorOption]:
    session, who = course_read()
    return pairs.co_mentor_options(session, who, pair_id)


@blp.route(CO_MENTORS, methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(
    security=SECURITY,
    summary="Add a co-mentor to a group circle (at most 2 mentors; they accept the agreement)",
)
@launch_required
@blp.arguments(CoMentorInputSchema)
@blp.response(201, PairSchema)
def add_co_mentor(data: dict[str, Any], pair_id: int) -> pairs.PairDetail:
    with course_act() as (session, who):
        pairs.add_co_mentor(session, who, pair_id, data["user_id"])
        return pairs.detail(session, who, pair_id)
