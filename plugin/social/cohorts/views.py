"""The Cohorts page (course staff): make, rename, fill and delete the course's own cohorts, over
:mod:`plugin.social.cohorts`. Every form posts back here (303) with the launch token."""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.wrappers import Response

from plugin.pages import back, course_read, ids, render
from plugin.social import cohorts
from plugin.social.boards.views import board_param
from plugin.web import course_act, launch_required

bp = Blueprint("social_cohorts", __name__, template_folder="templates")


def _done(board_id: int | None, saved: str) -> Response:
    extra = {"board": board_id} if board_id is not None else {}
    return back("social_cohorts.cohorts_page", saved=saved, **extra)


@bp.get("/cohorts")
@launch_required
def cohorts_page() -> str:
    session, who = course_read()
    found = cohorts.list_cohorts(session, who)
    people = cohorts.learners(session, who)
    return render(
        "social/cohorts.html",
        viewer=who,
        cohorts=found,
        learners=people,
        board_id=board_param(session, who),
        saved=request.args.get("saved", ""),
        max_name=cohorts.MAX_NAME_CHARS,
    )


@bp.post("/cohorts")
@launch_required
def create_cohort() -> Response:
    with course_act() as (session, who):
        board_id = board_param(session, who)
        cohorts.create_cohort(session, who, request.form.get("name", ""))
    return _done(board_id, "created")


@bp.post("/cohorts/<int:cohort_id>")
@launch_required
def update_cohort(cohort_id: int) -> Response:
    """Rename and set the members in one form (the member list replaces the old one)."""
    form = request.form
    with course_act() as (session, who):
        board_id = board_param(session, who)
        if "name" in form:
            cohorts.rename_cohort(session, who, cohort_id, form.get("name", ""))
        if form.get("members_shown"):
            cohorts.set_members(session, who, cohort_id, ids(form.getlist("member_ids"), "person"))
    return _done(board_id, "saved")


@bp.post("/cohorts/<int:cohort_id>/delete")
@launch_required
def delete_cohort(cohort_id: int) -> Response:
    with course_act() as (session, who):
        board_id = board_param(session, who)
        cohorts.delete_cohort(session, who, cohort_id)
    return _done(board_id, "deleted")
