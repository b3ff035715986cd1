"""Mentoring pages: thin server-rendered views over :mod:`plugin.social.mentoring`.

Every page needs the launch token; every form carries it back as a hidden field and every POST
answers 303 back to its page. A refused act is a readable 4xx page with the service's message.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from plugin.access import Refusal
from plugin.pages import back, course_read, form_flag, id_or_none, render
from plugin.social.mentoring import invitations, platform, profiles, programmes, reminders
from plugin.social.mentoring.models import AS_MENTEE, AS_MENTOR
from plugin.web import course_act, current, launch_required

bp = Blueprint("mentoring", __name__, template_folder="templates")

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _number(value: str | None, what: str) -> int | None:
    """A whole number typed into a form: None when blank, 400 when not a number."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 6:
        raise Refusal(400, f"{what} must be a whole number.")
    return int(value)


def profile_from_form(form: MultiDict[str, str]) -> dict[str, object]:
    """The profile form's fields as :func:`profiles.save_profile` takes them: a competency's
    ``mentor_level_<id>`` (blank: not offered), ``mentee_level_<id>`` and ``mentee_target_<id>``
    (blank target: not wanted), one available range a day (``from_<day>``, ``to_<day>``),
    languages separated by commas or spaces."""
    mentor_levels: dict[int, object] = {}
    mentee_needs: dict[int, tuple[object, object]] = {}
    for key, value in form.items():
        if key.startswith("mentor_level_") and value.strip():
            cid = id_or_none(key.removeprefix("mentor_level_"), "competency")
            mentor_levels[cid] = _number(value, "A level")  # type: ignore[index]
        elif key.startswith("mentee_target_") and value.strip():
            cid = id_or_none(key.removeprefix("mentee_target_"), "competency")
            level = _number(form.get(f"mentee_level_{cid}"), "A level") or 0
            mentee_needs[cid] = (level, _number(value, "A target level"))  # type: ignore[index]
    availability = []
    for day in range(7):
        start, end = form.get(f"from_{day}", ""), form.get(f"to_{day}", "")
        if start.strip() or end.strip():
            availability.append(
                [day, _number(start, "A start hour") or 0, _number(end, "An end hour") or 0]
            )
    return {
        "as_mentor": form_flag("as_mentor"),
        "as_mentee": form_flag("as_mentee"),
        "mentor_levels": mentor_levels,
        "mentee_needs": mentee_needs,
        "capacity": _number(form.get("capacity"), "Capacity"),
        "accepting": form_flag("accepting") if "accepting_shown" in form else True,
        "time_zone": form.get("time_zone", "UTC") or "UTC",
        "availability": availability,
        "languages": form.get("languages", "").replace(",", " ").split(),
        "bio": form.get("bio", ""),
        "goals": form.get("goals", ""),
    }


def _levels(profile) -> tuple[Mapping[int, int], Mapping[int, tuple[int, int | None]]]:
    mentor: dict[int, int] = {}
    mentee: dict[int, tuple[int, int | None]] = {}
    for pc in profile.competencies if profile is not None else []:
        if pc.role == AS_MENTOR:
            mentor[pc.competency_id] = pc.level
        elif pc.role == AS_MENTEE:
            mentee[pc.competency_id] = (pc.level, pc.target)
    return mentor, mentee


@bp.get("/mentoring")
@launch_required
def placement_programme() -> Response:
    """The launch's placement programme (made on first use)."""
    cur = current()
    if cur.placement is None or cur.placement.widget != "mentoring":
        raise Refusal(404, "This activity is not a mentoring programme.", title="No programme here")
    with course_act() as (session, _who):
        programme = programmes.programme_for_placement(session, session.merge(cur.placement))
        programme_id = programme.id
    return back("mentoring.programme_page", programme_id=programme_id)


@bp.get("/mentoring/programmes/<int:programme_id>")
@launch_required
def programme_page(programme_id: int) -> str:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    profile = profiles.my_profile(session, who, programme)
    mentor_levels, mentee_needs = _levels(profile)
    return render(
        "mentoring/programme.html",
        programme=programme,
        profile=profile,
        active=profile is not None and (profile.is_mentor or profile.is_mentee),
        targets=programmes.targets(session, programme),
        offered=programmes.offered(session, programme),
        mentor_levels=mentor_levels,
        mentee_needs=mentee_needs,
        may_mentor=profiles.may_mentor(who, programme, profile),
        mentor_rule=profiles.mentor_rule(programme),
        may_manage=programmes.may_manage(who, programme),
        kinds=programmes.KIND_LABELS,
        matching=programmes.MATCHING_LABELS,
        who_mentors=programmes.WHO_MENTORS_LABELS,
        invitation=invitations.pending_for(session, who, programme),
        saved=request.args.get("saved", ""),
        todo=reminders.to_do(session, who, programme),
    )


@bp.route("/mentoring/programmes/<int:programme_id>/profile", methods=["GET", "POST"])
@launch_required
def profile_page(programme_id: int) -> str | Response:
    if request.method == "POST":
        values = profile_from_form(request.form)
        with course_act() as (session, who):
            programme = programmes.get_programme(session, who, programme_id)
            profiles.save_profile(session, who, programme, **values)  # type: ignore[arg-type]
        return back("mentoring.profile_page", programme_id=programme_id, saved=1)
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    profile = profiles.my_profile(session, who, programme)
    mentor_levels, mentee_needs = _levels(profile)
    windows = {w[0]: w for w in (profile.availability if profile is not None else [])}
    return render(
        "mentoring/profile.html",
        programme=programme,
        profile=profile,
        offered=programmes.offered(session, programme),
        mentor_levels=mentor_levels,
        mentee_needs=mentee_needs,
        windows=windows,
        days=DAYS,
        time_zones=sorted(profiles.time_zones()),
        may_mentor=profiles.may_mentor(who, programme, profile),
        mentor_rule=profiles.mentor_rule(programme),
        may_manage=programmes.may_manage(who, programme),
        max_bio=profiles.MAX_BIO_CHARS,
        max_goals=profiles.MAX_GOALS_CHARS,
        max_capacity=profiles.MAX_CAPACITY,
        saved=request.args.get("saved", ""),
    )


@bp.post("/mentoring/programmes/<int:programme_id>/profile/leave")
@launch_required
def leave(programme_id: int) -> Response:
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        profiles.leave(session, who, programme)
    return back("mentoring.programme_page", programme_id=programme_id, saved="left")


@bp.route("/mentoring/programmes/<int:programme_id>/settings", methods=["GET", "POST"])
@launch_required
def settings_page(programme_id: int) -> str | Response:
    if request.method == "POST":
        form = request.form
        changes: dict[str, object] = {
            "title": form.get("title", ""),
            "kind": form.get("kind", ""),
            "matching": form.get("matching", ""),
            "who_mentors": form.get("who_mentors", ""),
            "mentor_group_id": id_or_none(form.get("mentor_group_id"), "course group"),
            "enrolment_open": form.get("enrolment", "") == "open",
            "exclude_lti_mentor": form_flag("exclude_lti_mentor"),
        }
        for name in programmes.NUMBERS:
            changes[name] = form.get(name, "")
        wanted = [id_or_none(v, "competency") for v in form.getlist("competency_ids")]
        with course_act() as (session, who):
            programme = programmes.get_programme(session, who, programme_id)
            programmes.update_settings(session, who, programme, **changes)
            if form.get("competencies_shown"):
                programmes.set_targets(session, who, programme, [i for i in wanted if i])
        return back("mentoring.settings_page", programme_id=programme_id, saved=1)
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    choices = programmes.competency_choices(session, who, programme)
    return render(
        "mentoring/settings.html",
        programme=programme,
        choices=choices,
        targeted={t.competency.id for t in programmes.targets(session, programme)},
        groups=programmes.course_groups(session, who, programme),
        numbers=programmes.NUMBERS,
        kinds=programmes.KIND_LABELS,
        matching=programmes.MATCHING_LABELS,
        who_mentors=programmes.WHO_MENTORS_LABELS,
        may_manage=True,
        joinable=platform.joinable(session, who, programme),
        has_people=platform.has_people(session, programme),
        saved=request.args.get("saved", ""),
    )


@bp.get("/mentoring/programmes/<int:programme_id>/roster")
@launch_required
def roster_page(programme_id: int) -> str:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    role = request.args.get("role") or None
    page = profiles.roster(session, who, programme, role=role, cursor=request.args.get("cursor"))
    return render(
        "mentoring/roster.html",
        programme=programme,
        page=page,
        role=role,
        roles={AS_MENTOR: "Mentors", AS_MENTEE: "Mentees"},
        members=profiles.course_members(session, who, programme),
        suggested=invitations.suggested(session, who, programme),
        invitations=invitations.of_programme(session, who, programme),
        may_manage=True,
        saved=request.args.get("saved", ""),
    )


@bp.post("/mentoring/programmes/<int:programme_id>/mentors")
@launch_required
def nominate(programme_id: int) -> Response:
    user_id = id_or_none(request.form.get("user_id"), "person")
    if user_id is None:
        raise Refusal(400, "Choose the person to nominate.")
    on = request.form.get("nominated", "1") != "0"
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        profiles.nominate(session, who, programme, user_id, on=on)
    return back("mentoring.roster_page", programme_id=programme_id, saved="nominated")
