"""Pages of platform-wide programmes and of inviting suggested mentors (added to the mentoring
blueprint of :mod:`.views`): the administrators' list and form, a course link joining a
platform-wide programme, staff inviting a suggested mentor and the invitee's answer.

Thin views over :mod:`.platform` and :mod:`.invitations`; every form carries the launch token and
every POST answers 303 back to its page.
"""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from plugin.access import Refusal
from plugin.db import db_session, unit_of_work
from plugin.pages import back, id_or_none, ids, render
from plugin.social.mentoring import invitations, platform, programmes
from plugin.social.mentoring.views import bp
from plugin.web import course_act, launch_required, launch_viewer

ANSWERS = {"accept": True, "decline": False}


def settings_from_form() -> dict[str, object]:
    """A programme's settings as the administrators' form sends them."""
    form = request.form
    changes: dict[str, object] = {
        "title": form.get("title", ""),
        "kind": form.get("kind", ""),
        "matching": form.get("matching", ""),
        "who_mentors": form.get("who_mentors", ""),
        "enrolment_open": form.get("enrolment", "") == "open",
    }
    for name in programmes.NUMBERS:
        changes[name] = form.get(name, "")
    return changes


@bp.route("/mentoring/platform-programmes", methods=["GET", "POST"])
@launch_required
def platform_programmes() -> str | Response:
    """The platform's platform-wide programmes and the form making one (administrators)."""
    if request.method == "POST":
        changes = settings_from_form()
        wanted = ids(request.form.getlist("competency_ids"))
        with unit_of_work() as session:
            platform.create(session, launch_viewer(), changes, wanted)
        return back("mentoring.platform_programmes", saved=1)
    session, who = db_session(), launch_viewer()
    found = platform.listed(session, who)
    return render(
        "mentoring/platform_programmes.html",
        listed=found,
        choices=platform.competency_choices(session, who),
        numbers=programmes.NUMBERS,
        defaults=programmes.settings_from_placement({}),
        kinds=programmes.KIND_LABELS,
        matching=programmes.MATCHING_LABELS,
        who_mentors={
            k: v
            for k, v in programmes.WHO_MENTORS_LABELS.items()
            if k in platform.PLATFORM_WHO_MENTORS
        },
        saved=request.args.get("saved", ""),
    )


@bp.post("/mentoring/programmes/<int:programme_id>/platform-programme")
@launch_required
def join_platform_programme(programme_id: int) -> Response:
    """Course staff make this link open a platform-wide programme (the settings page's choice)."""
    chosen = id_or_none(request.form.get("platform_programme_id"), "platform-wide programme")
    if chosen is None:
        raise Refusal(400, "Choose the platform-wide programme this link opens.")
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        target = platform.join(session, who, programme, chosen)
        target_id = target.id
    return back("mentoring.programme_page", programme_id=target_id, saved="joined")


@bp.post("/mentoring/programmes/<int:programme_id>/invitations")
@launch_required
def invite(programme_id: int) -> Response:
    """Staff invite a suggested person to mentor (from the roster page)."""
    user_id = id_or_none(request.form.get("user_id"), "person")
    if user_id is None:
        raise Refusal(400, "Choose the person to invite.")
    wanted = ids(request.form.getlist("competency_ids"))
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        invitations.invite(session, who, programme, user_id, wanted)
    return back("mentoring.roster_page", programme_id=programme_id, saved="invited")


@bp.post("/mentoring/invitations/<int:invitation_id>/answer")
@launch_required
def answer_invitation(invitation_id: int) -> Response:
    """The invited person accepts or declines (the programme page's invitation)."""
    choice = request.form.get("answer", "")
    if choice not in ANSWERS:
        raise Refusal(400, "Choose to accept or to decline the invitation.")
    with course_act() as (session, who):
        found = invitations.answer(session, who, invitation_id, accept=ANSWERS[choice])
        programme_id = found.programme_id
    return back("mentoring.programme_page", programme_id=programme_id, saved=f"invitation-{choice}")
