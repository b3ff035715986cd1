"""The staff page of one competency. The view builds the launch's viewer and calls
:mod:`.services`, which decide who may see what."""

from __future__ import annotations

from flask import Blueprint, render_template

from plugin.db import db_session
from plugin.performance.competencies import services
from plugin.web import current, launch_required, launch_viewer

bp = Blueprint("competencies", __name__, template_folder="templates")


@bp.get("/competencies/<int:competency_id>")
@launch_required
def competency_page(competency_id: int) -> str:
    """One competency: its facts, every CASE association it is an end of (its own framework's and
    other frameworks'), its exact matches and related items, and the evidence that counts for it
    in this course (its own and its exact matches')."""
    cur = current()
    page = services.staff_competency(db_session(), launch_viewer(), competency_id)
    competency = page.detail.competency
    return render_template(
        "competencies/competency.html",
        cur=cur,
        token=cur.token,
        competency=competency,
        framework=competency.framework,
        parent=page.parent,
        associations=page.associations,
        exact_matches=page.detail.exact_matches,
        related=page.detail.related,
        framework_titles=page.framework_titles,
        evidence=page.evidence,
    )
