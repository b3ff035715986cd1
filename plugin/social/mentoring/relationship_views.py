"""Mentorship pages (slice "relationship"): the viewer's mentorships, a pair's page with its
agreement, check-ins, health and actions, and its meetings as an ``.ics`` file. Thin views over
:mod:`.pairs` and :mod:`.checkins`; every POST answers 303 back to its page."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from plugin.pages import back, course_read, id_or_none, render
from plugin.social.mentoring import calendar, checkins, pairs, programmes, requests
from plugin.social.mentoring.views import bp
from plugin.web import course_act, launch_required


def _ids(values: list[str]) -> list[int]:
    found = [id_or_none(v, "competency") for v in values]
    return [i for i in found if i is not None]


@bp.get("/mentoring/programmes/<int:programme_id>/pairs")
@launch_required
def pairs_page(programme_id: int) -> str:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    manage = programmes.may_manage(who, programme)
    return render(
        "mentoring/pairs.html",
        programme=programme,
        mine=pairs.my_pairs(session, who, programme),
        everyone=pairs.programme_pairs(session, who, programme) if manage else None,
        health_labels=pairs.HEALTH_LABELS,
        end_labels=pairs.END_LABELS,
        may_manage=manage,
        saved=request.args.get("saved", ""),
    )


@bp.get("/mentoring/pairs/<int:pair_id>")
@launch_required
def pair_page(pair_id: int) -> str:
    session, who = course_read()
    detail = pairs.detail(session, who, pair_id)
    return render(
        "mentoring/pair.html",
        pair=detail,
        programme=detail.programme,
        checkins=checkins.list_checkins(session, who, pair_id),
        offered=programmes.offered(session, detail.programme) if detail.may_edit else [],
        co_mentors=pairs.co_mentor_options(session, who, pair_id)
        if detail.may_add_co_mentor
        else [],
        chosen={c.id for c in detail.competencies},
        health_labels=pairs.HEALTH_LABELS,
        end_labels=pairs.END_LABELS,
        may_manage=programmes.may_manage(who, detail.programme),
        saved=request.args.get("saved", ""),
        cleared=request.args.get("cleared", ""),
        min_minutes=checkins.MIN_MINUTES,
        max_minutes=checkins.MAX_MINUTES,
        max_notes=checkins.MAX_NOTES_CHARS,
        max_goals=pairs.MAX_GOALS_CHARS,
    )


@bp.post("/mentoring/pairs/<int:pair_id>/agreement")
@launch_required
def edit_agreement(pair_id: int) -> Response:
    form = request.form
    with course_act() as (session, who):
        edit = pairs.update_agreement(
            session,
            who,
            pair_id,
            starts_on=form.get("starts_on", ""),
            ends_on=form.get("ends_on", ""),
            cadence_days=form.get("cadence_days", ""),
            place=form.get("place", ""),
            link=form.get("link", ""),
            goals=form.get("goals", ""),
            competency_ids=_ids(form.getlist("competency_ids")),
        )
        cleared = ", ".join(edit.cleared)
    saved = "agreement" if edit.changed else "unchanged"
    return back("mentoring.pair_page", pair_id=pair_id, saved=saved, cleared=cleared)


@bp.post("/mentoring/pairs/<int:pair_id>/accept")
@launch_required
def accept_agreement(pair_id: int) -> Response:
    with course_act() as (session, who):
        pair = pairs.accept_agreement(session, who, pair_id)
        saved = "active" if pair.state == "active" else "accepted"
    return back("mentoring.pair_page", pair_id=pair_id, saved=saved)


@bp.post("/mentoring/pairs/<int:pair_id>/checkins")
@launch_required
def log_checkin(pair_id: int) -> Response:
    form = request.form
    with course_act() as (session, who):
        checkins.log(
            session,
            who,
            pair_id,
            held_on=form.get("held_on", ""),
            duration_minutes=form.get("duration_minutes", ""),
            notes=form.get("notes", ""),
            next_steps=form.get("next_steps", ""),
            competency_ids=_ids(form.getlist("competency_ids")),
        )
    return back("mentoring.pair_page", pair_id=pair_id, saved="checkin")


@bp.get("/mentoring/pairs/<int:pair_id>/meetings.ics")
@launch_required
def meetings_ics(pair_id: int) -> Response:
    session, who = course_read()
    body = pairs.meetings_invite(session, who, pair_id, uid_domain=request.host.split(":")[0])
    return Response(
        body,
        mimetype="text/calendar",
        content_type=calendar.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{calendar.filename(pair_id)}"'},
    )


@bp.post("/mentoring/pairs/<int:pair_id>/leave")
@launch_required
def leave_pair(pair_id: int) -> Response:
    with course_act() as (session, who):
        pair = pairs.leave(session, who, pair_id)
        programme_id = pair.programme_id
    return back("mentoring.pairs_page", programme_id=programme_id, saved="left")


@bp.post("/mentoring/pairs/<int:pair_id>/rematch")
@launch_required
def rematch(pair_id: int) -> Response:
    """The mentee ends the pair and lands on Find a mentor with the pair's competencies (their
    level and target), goal and cadence filled in and searched (``search=1``, ``level_<id>``,
    ``target_<id>``, ``goal``, ``cadence_days``: the find form's own fields)."""
    with course_act() as (session, who):
        found = pairs.rematch(session, who, pair_id)
        programme_id = found.pair.programme_id
    if not found.needs:
        return back("mentoring.find_page", programme_id=programme_id)
    fields: dict[str, object] = {}
    for cid, (level, target) in found.needs.items():
        fields[f"level_{cid}"], fields[f"target_{cid}"] = level, target
    return back(
        "mentoring.find_page",
        programme_id=programme_id,
        search=1,
        goal=found.goal[: requests.MAX_GOAL_CHARS],
        cadence_days=found.cadence_days,
        **fields,
    )


@bp.post("/mentoring/pairs/<int:pair_id>/end")
@launch_required
def staff_end(pair_id: int) -> Response:
    with course_act() as (session, who):
        pairs.staff_end(session, who, pair_id)
    return back("mentoring.pair_page", pair_id=pair_id, saved="ended")


@bp.post("/mentoring/pairs/<int:pair_id>/extension")
@launch_required
def propose_extension(pair_id: int) -> Response:
    with course_act() as (session, who):
        pairs.propose_extension(session, who, pair_id, ends_on=request.form.get("ends_on", ""))
    return back("mentoring.pair_page", pair_id=pair_id, saved="extension")


@bp.post("/mentoring/pairs/<int:pair_id>/extension/confirm")
@launch_required
def confirm_extension(pair_id: int) -> Response:
    with course_act() as (session, who):
        pair = pairs.confirm_extension(session, who, pair_id)
        saved = "extended" if pair.proposed_ends_on is None else "confirmed"
    return back("mentoring.pair_page", pair_id=pair_id, saved=saved)


@bp.post("/mentoring/pairs/<int:pair_id>/extension/decline")
@launch_required
def decline_extension(pair_id: int) -> Response:
    with course_act() as (session, who):
        pairs.decline_extension(session, who, pair_id)
    return back("mentoring.pair_page", pair_id=pair_id, saved="declined")
