"""Mentoring pages of the background work: a person's pulse survey (the rating and an optional
comment, answered once). Routes join :data:`plugin.social.mentoring.views.bp`."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from plugin.pages import back, course_read, render
from plugin.social.mentoring import programmes, reminders
from plugin.social.mentoring.views import bp
from plugin.web import course_act, launch_required

RATINGS = (
    (1, "1 — Not well"),
    (2, "2 — Not so well"),
    (3, "3 — All right"),
    (4, "4 — Well"),
    (5, "5 — Very well"),
)


@bp.route("/mentoring/pulses/<int:pulse_id>", methods=["GET", "POST"])
@launch_required
def pulse_page(pulse_id: int) -> str | Response:
    """The viewer's own pulse survey (another person's: 404); POST answers it once (409 after)."""
    if request.method == "POST":
        with course_act() as (session, who):
            reminders.answer_pulse(
                session,
                who,
                pulse_id,
                rating=request.form.get("rating", ""),
                comment=request.form.get("comment", ""),
            )
        return back("mentoring.pulse_page", pulse_id=pulse_id, saved=1)
    session, who = course_read()
    pulse = reminders.get_pulse(session, who, pulse_id)
    programme = programmes.get_programme(session, who, pulse.programme_id)
    return render(
        "mentoring/pulse.html",
        pulse=pulse,
        programme=programme,
        ratings=RATINGS,
        max_comment=reminders.MAX_COMMENT_CHARS,
        may_manage=programmes.may_manage(who, programme),
        saved=request.args.get("saved", ""),
    )
