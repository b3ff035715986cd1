"""JSON API of mentoring programmes and profiles: the same services and checks as the pages
(:mod:`plugin.social.mentoring`). Programmes of other courses and platforms answer 404."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from plugin.access import Viewer, not_found
from plugin.api import Blueprint
from plugin.pages import course_read
from plugin.social.mentoring import profiles, programmes, requests
from plugin.social.mentoring.models import AS_MENTEE, AS_MENTOR, Profile, Programme, Request
from plugin.social.mentoring.schemas import (
    AnswerSchema,
    CandidateSchema,
    NeedsSchema,
    NominationSchema,
    ProfileInputSchema,
    ProfileSchema,
    ProgrammeSchema,
    ProgrammeUpdateSchema,
    RequestInputSchema,
    RequestSchema,
    RosterArgs,
    RosterPageSchema,
)
from plugin.web import course_act, launch_required

blp = Blueprint(
    "mentoring_api",
    __name__,
    url_prefix="/api/mentoring",
    description="Mentoring programmes and the profiles of their mentors and mentees.",
)
SECURITY = [{"launchToken": []}]
PROGRAMME = "/programmes/<int:programme_id>"


def _programme(session: Session, who: Viewer, programme: Programme) -> dict[str, Any]:
    profile = profiles.my_profile(session, who, programme)
    return {
        **{c.key: getattr(programme, c.key) for c in Programme.__table__.columns},
        "platform_wide": programme.context_id is None,
        "targets": programmes.targets(session, programme),
        "may_manage": programmes.may_manage(who, programme),
        "may_mentor": profiles.may_mentor(who, programme, profile),
    }


def _profile(profile: Profile) -> dict[str, Any]:
    return {
        **{c.key: getattr(profile, c.key) for c in Profile.__table__.columns},
        "mentor_competencies": [
            {"competency_id": pc.competency_id, "level": pc.level}
            for pc in profile.competencies
            if pc.role == AS_MENTOR
        ],
        "mentee_competencies": [
            {"competency_id": pc.competency_id, "level": pc.level, "target": pc.target}
            for pc in profile.competencies
            if pc.role == AS_MENTEE
        ],
    }


@blp.route(PROGRAMME, methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="A programme: its settings, targets and what the viewer may do")
@launch_required
@blp.response(200, ProgrammeSchema)
def get_programme(programme_id: int) -> dict[str, Any]:
    session, who = course_read()
    return _programme(session, who, programmes.get_programme(session, who, programme_id))


@blp.route(PROGRAMME, methods=["PATCH"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Change a programme's settings and targets (staff)")
@launch_required
@blp.arguments(ProgrammeUpdateSchema)
@blp.response(200, ProgrammeSchema)
def update_programme(data: dict[str, Any], programme_id: int) -> dict[str, Any]:
    competency_ids = data.pop("competency_ids", None)
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        programmes.update_settings(session, who, programme, **data)
        if competency_ids is not None:
            programmes.set_targets(session, who, programme, competency_ids)
        return _programme(session, who, programme)


@blp.route(PROGRAMME + "/profile", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="The viewer's profile in the programme (404 before opting in)")
@launch_required
@blp.response(200, ProfileSchema)
def get_profile(programme_id: int) -> dict[str, Any]:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    profile = profiles.my_profile(session, who, programme)
    if profile is None:
        raise not_found("Your profile in this programme")
    return _profile(profile)


@blp.route(PROGRAMME + "/profile", methods=["PUT"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Opt in, or update the viewer's profile (mentor and/or mentee)")
@launch_required
@blp.arguments(ProfileInputSchema)
@blp.response(200, ProfileSchema)
def put_profile(data: dict[str, Any], programme_id: int) -> dict[str, Any]:
    mentor = {c["competency_id"]: c["level"] for c in data.pop("mentor_competencies")}
    mentee = {
        c["competency_id"]: (c["level"], c["target"]) for c in data.pop("mentee_competencies")
    }
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        profile = profiles.save_profile(
            session, who, programme, mentor_levels=mentor, mentee_needs=mentee, **data
        )
        return _profile(profile)


@blp.route(PROGRAMME + "/profile", methods=["DELETE"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Leave the programme (the profile is kept, switched off)")
@launch_required
@blp.response(204)
def leave(programme_id: int) -> None:
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        profiles.leave(session, who, programme)


@blp.route(PROGRAMME + "/roster", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="The programme's mentors and mentees (staff; keyset pages)")
@launch_required
@blp.arguments(RosterArgs, location="query")
@blp.response(200, RosterPageSchema)
def roster(args: dict[str, Any], programme_id: int) -> profiles.RosterPage:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    return profiles.roster(session, who, programme, **args)


@blp.route(PROGRAMME + "/mentors/<int:user_id>", methods=["PUT"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Nominate a course member as a mentor, or take it back (staff)")
@launch_required
@blp.arguments(NominationSchema)
@blp.response(200, ProfileSchema)
def nominate(data: dict[str, Any], programme_id: int, user_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        profile = profiles.nominate(session, who, programme, user_id, on=data["nominated"])
        return _profile(profile)


def _needs(data: dict[str, Any]) -> dict[int, tuple[object, object]]:
    return {c["competency_id"]: (c["level"], c["target"]) for c in data.pop("competencies")}


def _request_view(session: Session, who: Viewer, request_id: int) -> requests.RequestView:
    request = session.get(Request, request_id)
    programme = programmes.get_programme(session, who, request.programme_id)  # type: ignore[union-attr]
    mine = requests.my_requests(session, who, programme) + requests.requests_to_me(
        session, who, programme
    )
    found = [v for v in mine if v.id == request_id]
    if not found:
        raise not_found("This request")
    return found[0]


@blp.route(PROGRAMME + "/candidates", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Mentors ranked for the viewer's needs, with the score's parts")
@launch_required
@blp.arguments(NeedsSchema)
@blp.response(200, CandidateSchema(many=True))
def candidates(data: dict[str, Any], programme_id: int) -> list[requests.Candidate]:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    return requests.candidates(session, who, programme, _needs(data))


@blp.route(PROGRAMME + "/requests", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="The viewer's requests in the programme, newest first")
@launch_required
@blp.response(200, RequestSchema(many=True))
def my_requests(programme_id: int) -> list[requests.RequestView]:
    session, who = course_read()
    return requests.my_requests(session, who, programmes.get_programme(session, who, programme_id))


@blp.route(PROGRAMME + "/requests/to-me", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="Requests to the viewer as a mentor (and open pool requests)")
@launch_required
@blp.response(200, RequestSchema(many=True))
def requests_to_me(programme_id: int) -> list[requests.RequestView]:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    return requests.requests_to_me(session, who, programme)


@blp.route(PROGRAMME + "/requests", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Ask a mentor, or the programme's pool, for mentoring")
@launch_required
@blp.arguments(RequestInputSchema)
@blp.response(201, RequestSchema)
def send_request(data: dict[str, Any], programme_id: int) -> requests.RequestView:
    needs = _needs(data)
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        request = requests.send_request(session, who, programme, needs, **data)
        return _request_view(session, who, request.id)


@blp.route("/requests/<int:request_id>/answer", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Accept (a proposed pair is made) or decline a request")
@launch_required
@blp.arguments(AnswerSchema)
@blp.response(200, RequestSchema)
def answer(data: dict[str, Any], request_id: int) -> requests.RequestView:
    with course_act() as (session, who):
        requests.answer(session, who, request_id, **data)
        return _request_view(session, who, request_id)


@blp.route("/requests/<int:request_id>/withdraw", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Withdraw one's open request")
@launch_required
@blp.response(200, RequestSchema)
def withdraw(request_id: int) -> requests.RequestView:
    with course_act() as (session, who):
        requests.withdraw(session, who, request_id)
        return _request_view(session, who, request_id)
