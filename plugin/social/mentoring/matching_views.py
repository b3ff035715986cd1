"""Mentoring pages of requests and bulk matching, thin views over :mod:`.requests` and
:mod:`.bulk`, added to the mentoring blueprint.

- **Find a mentor** (GET form: competencies with level now and target, goal, cadence → ranked
  mentors with every part of their score) and **Ask** / **Send to the mentor pool** (POST);
- **My requests** (state, expiry, withdraw) and **Requests to me** (accept / decline with a
  message);
- **Bulk matching** (staff of a ``staff_bulk`` programme): the preview; **Update the preview**
  (POST) answers 303 to the preview of the chosen pairs, which travel in its address (mentee →
  mentor, stateless); **Approve** (POST) checks every pair again on the server.

Every POST answers 303 back to its page; a refused act is a readable 4xx page.
"""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from plugin.access import Refusal
from plugin.pages import back, course_read, id_or_none, render
from plugin.social.mentoring import bulk, profiles, programmes, requests
from plugin.social.mentoring.models import AS_MENTEE, MENTOR_POOL, STAFF_BULK
from plugin.social.mentoring.views import bp
from plugin.web import course_act, launch_required

STATE_LABELS = {
    "open": "Waiting for an answer",
    "accepted": "Accepted",
    "declined": "Declined",
    "expired": "Expired",
    "withdrawn": "Withdrawn",
}
MAX_FIELD_DIGITS = 6


def _whole(value: str | None, what: str) -> int | None:
    """A whole number typed into a form: None when blank, 400 when not a number."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > MAX_FIELD_DIGITS:
        raise Refusal(400, f"{what} must be a whole number.")
    return int(value)


def needs_from_form(form: MultiDict[str, str]) -> dict[int, tuple[object, object]]:
    """The competencies asked for: ``target_<id>`` (blank: not wanted) and ``level_<id>`` (the
    level now, 0 when blank), as :func:`.requests.check_needs` takes them."""
    needs: dict[int, tuple[object, object]] = {}
    for key, value in form.items():
        if key.startswith("target_") and value.strip():
            cid = id_or_none(key.removeprefix("target_"), "competency")
            level = _whole(form.get(f"level_{cid}"), "A level") or 0
            needs[cid] = (level, _whole(value, "A target level"))  # type: ignore[index]
    return needs


def choices_from_form(form: MultiDict[str, str]) -> dict[int, int | None]:
    """The bulk preview's pairs: ``mentor_<mentee id>`` = the mentor's id (blank: no mentor)."""
    chosen: dict[int, int | None] = {}
    for key, value in form.items():
        if key.startswith("mentor_"):
            mentee = id_or_none(key.removeprefix("mentor_"), "mentee")
            chosen[mentee] = id_or_none(value, "mentor")  # type: ignore[index]
    return chosen


def _mentee_needs(profile) -> dict[int, tuple[int, int | None]]:
    return {
        pc.competency_id: (pc.level, pc.target)
        for pc in (profile.competencies if profile is not None else [])
        if pc.role == AS_MENTEE
    }


@bp.get("/mentoring/programmes/<int:programme_id>/find")
@launch_required
def find_page(programme_id: int) -> str:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    profile = profiles.my_profile(session, who, programme)
    searched = request.args.get("search") == "1"
    needs: dict[int, tuple[object, object]] = dict(_mentee_needs(profile))
    goal = profile.goals if profile is not None else ""
    cadence: object = programme.cadence_days
    found: list[requests.Candidate] = []
    is_mentee = profile is not None and profile.is_mentee
    if searched and programme.matching != STAFF_BULK and is_mentee:
        needs = needs_from_form(request.args)
        goal = profiles.check_text(
            request.args.get("goal", ""), requests.MAX_GOAL_CHARS, "The goal"
        )
        typed = _whole(request.args.get("cadence_days"), "The meeting cadence")
        if typed is not None:
            cadence = programmes.whole_number(typed, "cadence_days")
        found = requests.candidates(session, who, programme, needs)
    return render(
        "mentoring/find.html",
        programme=programme,
        profile=profile,
        is_mentee=is_mentee,
        offered=programmes.offered(session, programme),
        needs=needs,
        goal=goal,
        cadence=cadence,
        searched=searched,
        candidates=found,
        pool=programme.matching == MENTOR_POOL,
        bulk=programme.matching == STAFF_BULK,
        max_goal=requests.MAX_GOAL_CHARS,
        may_manage=programmes.may_manage(who, programme),
    )


@bp.route("/mentoring/programmes/<int:programme_id>/requests", methods=["GET", "POST"])
@launch_required
def my_requests_page(programme_id: int) -> str | Response:
    if request.method == "POST":
        form = request.form
        with course_act() as (session, who):
            programme = programmes.get_programme(session, who, programme_id)
            needs = needs_from_form(form)
            mentor_id = id_or_none(form.get("mentor_id"), "mentor")
            requests.send_request(
                session,
                who,
                programme,
                needs,
                goal=form.get("goal", ""),
                cadence_days=_whole(form.get("cadence_days"), "The meeting cadence"),
                mentor_id=mentor_id,
                to_pool=form.get("to_pool") == "1",
            )
        return back("mentoring.my_requests_page", programme_id=programme_id, saved="sent")
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    return render(
        "mentoring/my_requests.html",
        programme=programme,
        profile=profiles.my_profile(session, who, programme),
        entries=requests.my_requests(session, who, programme),
        states=STATE_LABELS,
        may_manage=programmes.may_manage(who, programme),
        saved=request.args.get("saved", ""),
    )


@bp.get("/mentoring/programmes/<int:programme_id>/requests/to-me")
@launch_required
def requests_to_me_page(programme_id: int) -> str:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    return render(
        "mentoring/requests_to_me.html",
        programme=programme,
        profile=profiles.my_profile(session, who, programme),
        entries=requests.requests_to_me(session, who, programme),
        states=STATE_LABELS,
        max_message=requests.MAX_MESSAGE_CHARS,
        may_manage=programmes.may_manage(who, programme),
        saved=request.args.get("saved", ""),
    )


@bp.post("/mentoring/requests/<int:request_id>/answer")
@launch_required
def answer_request(request_id: int) -> Response:
    decision = request.form.get("decision", "")
    if decision not in ("accept", "decline"):
        raise Refusal(400, "Choose Accept or Decline.")
    with course_act() as (session, who):
        answered = requests.answer(
            session,
            who,
            request_id,
            accept=decision == "accept",
            message=request.form.get("message", ""),
        )
        programme_id = answered.programme_id
    return back(
        "mentoring.requests_to_me_page",
        programme_id=programme_id,
        saved="accepted" if decision == "accept" else "declined",
    )


@bp.post("/mentoring/requests/<int:request_id>/withdraw")
@launch_required
def withdraw_request(request_id: int) -> Response:
    with course_act() as (session, who):
        programme_id = requests.withdraw(session, who, request_id).programme_id
    return back("mentoring.my_requests_page", programme_id=programme_id, saved="withdrawn")


@bp.route("/mentoring/programmes/<int:programme_id>/bulk", methods=["GET", "POST"])
@launch_required
def bulk_page(programme_id: int) -> str | Response:
    """The preview; a POST (Update the preview) answers 303 to the preview of the pairs it
    names, which travel in the page's address (stateless)."""
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    bulk.check_access(session, who, programme)
    if request.method == "POST":
        choices = choices_from_form(request.form)
        fields = {f"mentor_{m}": str(t) if t else "" for m, t in sorted(choices.items())}
        return back("mentoring.bulk_page", programme_id=programme_id, adjusted="1", **fields)
    adjusted = request.args.get("adjusted") == "1"
    choices = choices_from_form(request.args) if adjusted else None
    shown = bulk.preview(session, who, programme, choices=choices)
    return render(
        "mentoring/bulk.html",
        programme=programme,
        preview=shown,
        may_manage=True,
        saved=request.args.get("saved", ""),
    )


@bp.post("/mentoring/programmes/<int:programme_id>/bulk/approve")
@launch_required
def bulk_approve(programme_id: int) -> Response:
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        bulk.check_access(session, who, programme)
        choices = choices_from_form(request.form)
        made = bulk.approve(session, who, programme, choices)
        count = len({p.id for p in made})  # a group circle counts once
    return back("mentoring.bulk_page", programme_id=programme_id, saved=str(count))
