"""JSON API of staff-made cohorts: the same services and checks as the Cohorts page
(:mod:`plugin.social.cohorts`). Learners get 403; other courses' cohorts and LMS groups 404."""

from __future__ import annotations

from typing import Any

from plugin.api import Blueprint
from plugin.pages import course_read
from plugin.social import cohorts
from plugin.social.cohorts.schemas import (
    CohortCreateSchema,
    CohortListSchema,
    CohortSchema,
    CohortUpdateSchema,
)
from plugin.web import course_act, launch_required

blp = Blueprint(
    "cohorts_api",
    __name__,
    url_prefix="/api",
    description="Cohorts made by course staff, for boards in cohort mode 'cohorts'.",
)
SECURITY = [{"launchToken": []}]


def _one(session, who, cohort_id: int) -> cohorts.CohortView:
    (view,) = cohorts.list_cohorts(session, who, cohort_id)
    return view


@blp.route("/cohorts", methods=["GET"])
@blp.refusals(400, 403)
@blp.doc(security=SECURITY, summary="The course's staff-made cohorts and its learners (staff)")
@launch_required
@blp.response(200, CohortListSchema)
def list_cohorts() -> dict[str, Any]:
    session, who = course_read()
    return {
        "cohorts": cohorts.list_cohorts(session, who),
        "learners": cohorts.learners(session, who),
    }


@blp.route("/cohorts", methods=["POST"])
@blp.refusals(400, 403, 409)
@blp.doc(security=SECURITY, summary="Make a cohort (staff)")
@launch_required
@blp.arguments(CohortCreateSchema)
@blp.response(201, CohortSchema)
def create_cohort(data: dict[str, Any]) -> cohorts.CohortView:
    with course_act() as (session, who):
        cohort = cohorts.create_cohort(session, who, data["name"])
        return _one(session, who, cohort.id)


@blp.route("/cohorts/<int:cohort_id>", methods=["PATCH"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Rename a cohort and/or set its members (staff)")
@launch_required
@blp.arguments(CohortUpdateSchema)
@blp.response(200, CohortSchema)
def update_cohort(data: dict[str, Any], cohort_id: int) -> cohorts.CohortView:
    with course_act() as (session, who):
        cohorts.load(session, who, cohort_id)
        if data["name"] is not None:
            cohorts.rename_cohort(session, who, cohort_id, data["name"])
        if data["member_ids"] is not None:
            cohorts.set_members(session, who, cohort_id, data["member_ids"])
        return _one(session, who, cohort_id)


@blp.route("/cohorts/<int:cohort_id>", methods=["DELETE"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Delete a cohort without threads (staff; 409 with threads)")
@launch_required
@blp.response(204)
def delete_cohort(cohort_id: int) -> None:
    with course_act() as (session, who):
        cohorts.delete_cohort(session, who, cohort_id)
