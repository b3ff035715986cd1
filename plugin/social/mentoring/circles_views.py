"""Group circles' page action (slice "circles"): programme staff or a mentor of a circle add a
co-mentor from the pair's page. A thin view over :func:`.pairs.add_co_mentor`; the POST answers
303 back to the pair's page."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from plugin.access import Refusal
from plugin.pages import back, id_or_none
from plugin.social.mentoring import pairs
from plugin.social.mentoring.views import bp
from plugin.web import course_act, launch_required


@bp.post("/mentoring/pairs/<int:pair_id>/co-mentor")
@launch_required
def add_co_mentor(pair_id: int) -> Response:
    user_id = id_or_none(request.form.get("user_id"), "mentor")
    with course_act() as (session, who):
        if user_id is None:
            pairs.access(session, who, pair_id)  # 404 before saying what is missing
            raise Refusal(400, "Choose a mentor to add as co-mentor.")
        pairs.add_co_mentor(session, who, pair_id, user_id)
    return back("mentoring.pair_page", pair_id=pair_id, saved="co_mentor")
