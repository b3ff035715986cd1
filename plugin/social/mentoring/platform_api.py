"""JSON API of platform-wide programmes and of inviting suggested mentors (added to the mentoring
API blueprint of :mod:`.api`): the same services and checks as the pages."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from plugin.access import Viewer, not_found
from plugin.api import longest
from plugin.db import db_session, unit_of_work
from plugin.ids import Id
from plugin.pages import course_read
from plugin.social.mentoring import invitations, platform, profiles, programmes, suggestions
from plugin.social.mentoring.api import PROGRAMME, SECURITY, blp
from plugin.social.mentoring.models import (
    INVITATION_STATES,
    KINDS,
    MATCHING_MODES,
    TITLE_CHARS,
    Programme,
)
from plugin.social.mentoring.schemas import ProgrammeSchema
from plugin.web import course_act, launch_required, launch_viewer


def _number(name: str) -> fields.Integer:
    _, low, high = programmes.NUMBERS[name]
    return fields.Integer(validate=validate.Range(low, high))


class PlatformProgrammeInputSchema(Schema):
    title = fields.String(
        required=True, validate=validate.Length(1, TITLE_CHARS), metadata=longest(TITLE_CHARS)
    )
    kind = fields.String(validate=validate.OneOf(KINDS))
    matching = fields.String(validate=validate.OneOf(MATCHING_MODES))
    duration_days = _number("duration_days")
    cadence_days = _number("cadence_days")
    default_capacity = _number("default_capacity")
    escalation_hours = _number("escalation_hours")
    enrolment_open = fields.Boolean()
    who_mentors = fields.String(validate=validate.OneOf(platform.PLATFORM_WHO_MENTORS))
    exclude_lti_mentor = fields.Boolean()
    competency_ids = fields.List(
        Id(),
        load_default=list,
        validate=validate.Length(max=programmes.MAX_TARGETS),
        metadata={"description": "the targeted competencies"},
    )


class ListedProgrammeSchema(ProgrammeSchema):
    links = fields.Integer(metadata={"description": "course links that open it"})
    courses = fields.Integer(metadata={"description": "courses whose links open it"})


class JoinSchema(Schema):
    platform_programme_id = Id(required=True)


class SuggestedPersonSchema(Schema):
    person_id = fields.Integer()
    name = fields.String()
    competency_ids = fields.List(fields.Integer())
    reasons = fields.List(
        fields.String(), metadata={"description": "“5 endorsed answers on …”, one a competency"}
    )
    invitation = fields.String(
        allow_none=True, metadata={"enum": list(INVITATION_STATES), "description": "if invited"}
    )


class InvitationInputSchema(Schema):
    user_id = Id(required=True)
    competency_ids = fields.List(
        Id(), required=True, validate=validate.Length(1, suggestions.MAX_COMPETENCIES)
    )


class CompetencyNameSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class InvitationSchema(Schema):
    id = fields.Integer()
    programme_id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    invited_by = fields.String()
    competencies = fields.Method("_competencies")
    state = fields.String(metadata={"enum": list(INVITATION_STATES)})
    created_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)

    def _competencies(self, view: invitations.InvitationView) -> list[dict[str, Any]]:
        return [{"id": i, "name": name} for i, name in view.competencies]


class InvitationAnswerSchema(Schema):
    accept = fields.Boolean(required=True)


def programme_out(session: Session, who: Viewer, programme: Programme) -> dict[str, Any]:
    """A programme as :class:`ProgrammeSchema` shows it to the viewer."""
    profile = profiles.my_profile(session, who, programme)
    return {
        **{c.key: getattr(programme, c.key) for c in Programme.__table__.columns},
        "platform_wide": programme.context_id is None,
        "targets": programmes.targets(session, programme),
        "may_manage": programmes.may_manage(who, programme),
        "may_mentor": profiles.may_mentor(who, programme, profile),
    }


@blp.route("/platform-programmes", methods=["GET"])
@blp.refusals(403)
@blp.doc(security=SECURITY, summary="The platform's platform-wide programmes (administrators)")
@launch_required
@blp.response(200, ListedProgrammeSchema(many=True))
def list_platform_programmes() -> list[dict[str, Any]]:
    session, who = db_session(), launch_viewer()
    return [
        {
            **programme_out(session, who, item.programme),
            "links": item.links,
            "courses": item.courses,
        }
        for item in platform.listed(session, who)
    ]


@blp.route("/platform-programmes", methods=["POST"])
@blp.refusals(403, 404)
@blp.doc(security=SECURITY, summary="Create a platform-wide programme (administrators)")
@launch_required
@blp.arguments(PlatformProgrammeInputSchema)
@blp.response(201, ProgrammeSchema)
def create_platform_programme(data: dict[str, Any]) -> dict[str, Any]:
    competency_ids = data.pop("competency_ids")
    with unit_of_work() as session:
        who = launch_viewer()
        programme = platform.create(session, who, data, competency_ids)
        return programme_out(session, who, programme)


@blp.route(PROGRAMME + "/platform-programme", methods=["PUT"])
@blp.refusals(403, 404, 409)
@blp.doc(
    security=SECURITY,
    summary="Make the course programme's link open a platform-wide programme (course staff)",
)
@launch_required
@blp.arguments(JoinSchema)
@blp.response(200, ProgrammeSchema)
def join_platform_programme(data: dict[str, Any], programme_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        target = platform.join(session, who, programme, data["platform_programme_id"])
        return programme_out(session, who, target)


@blp.route(PROGRAMME + "/suggested-mentors", methods=["GET"])
@blp.refusals(403, 404)
@blp.doc(security=SECURITY, summary="People the boards suggest as mentors (staff)")
@launch_required
@blp.response(200, SuggestedPersonSchema(many=True))
def suggested_mentors(programme_id: int) -> list[invitations.SuggestedPerson]:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    return invitations.suggested(session, who, programme)


@blp.route(PROGRAMME + "/invitations", methods=["GET"])
@blp.refusals(403, 404)
@blp.doc(security=SECURITY, summary="The programme's invitations to mentor, newest first (staff)")
@launch_required
@blp.response(200, InvitationSchema(many=True))
def list_invitations(programme_id: int) -> list[invitations.InvitationView]:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    return invitations.of_programme(session, who, programme)


@blp.route(PROGRAMME + "/invitations", methods=["POST"])
@blp.refusals(403, 404, 409)
@blp.doc(security=SECURITY, summary="Invite a person to mentor; they accept or decline (staff)")
@launch_required
@blp.arguments(InvitationInputSchema)
@blp.response(201, InvitationSchema)
def invite(data: dict[str, Any], programme_id: int) -> invitations.InvitationView:
    with course_act() as (session, who):
        programme = programmes.get_programme(session, who, programme_id)
        made = invitations.invite(session, who, programme, data["user_id"], data["competency_ids"])
        return invitations.view(session, programme, made)


@blp.route(PROGRAMME + "/invitation", methods=["GET"])
@blp.refusals(403, 404)
@blp.doc(security=SECURITY, summary="The viewer's invitation to mentor, waiting for an answer")
@launch_required
@blp.response(200, InvitationSchema)
def my_invitation(programme_id: int) -> invitations.InvitationView:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    found = invitations.pending_for(session, who, programme)
    if found is None:
        raise not_found("An invitation to you")
    return found


@blp.route("/invitations/<int:invitation_id>/answer", methods=["POST"])
@blp.refusals(403, 404, 409)
@blp.doc(security=SECURITY, summary="Accept (become a mentor) or decline an invitation")
@launch_required
@blp.arguments(InvitationAnswerSchema)
@blp.response(200, InvitationSchema)
def answer_invitation(data: dict[str, Any], invitation_id: int) -> invitations.InvitationView:
    with course_act() as (session, who):
        return invitations.answer(session, who, invitation_id, accept=data["accept"])
