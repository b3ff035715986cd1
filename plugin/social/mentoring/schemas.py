"""Marshmallow schemas of the mentoring API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugin.api import longest
from plugin.ids import Id
from plugin.social.mentoring import profiles, programmes
from plugin.social.mentoring.models import KINDS, MATCHING_MODES, ROLES, TITLE_CHARS, WHO_MENTORS
from plugin.social.schemas import QueryArgs


class LevelSchema(Schema):
    position = fields.Integer(metadata={"description": "1 = the scale's lowest level"})
    name = fields.String()


class TargetSchema(Schema):
    id = fields.Integer(attribute="competency.id")
    name = fields.String(attribute="competency.name")
    code = fields.String(attribute="competency.code", allow_none=True)
    iri = fields.String(attribute="competency.iri")
    levels = fields.List(fields.Nested(LevelSchema))


class ProgrammeSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    kind = fields.String(metadata={"enum": list(KINDS)})
    matching = fields.String(metadata={"enum": list(MATCHING_MODES)})
    duration_days = fields.Integer()
    cadence_days = fields.Integer()
    default_capacity = fields.Integer()
    enrolment_open = fields.Boolean()
    who_mentors = fields.String(metadata={"enum": list(WHO_MENTORS)})
    mentor_group_id = fields.Integer(allow_none=True)
    escalation_hours = fields.Integer()
    exclude_lti_mentor = fields.Boolean()
    platform_wide = fields.Boolean()
    targets = fields.List(fields.Nested(TargetSchema))
    may_manage = fields.Boolean(metadata={"description": "the viewer may change the settings"})
    may_mentor = fields.Boolean(metadata={"description": "the programme lets the viewer mentor"})


def _number(name: str) -> fields.Integer:
    _, low, high = programmes.NUMBERS[name]
    return fields.Integer(validate=validate.Range(low, high))


class ProgrammeUpdateSchema(Schema):
    title = fields.String(validate=validate.Length(1, TITLE_CHARS), metadata=longest(TITLE_CHARS))
    kind = fields.String(validate=validate.OneOf(KINDS))
    matching = fields.String(validate=validate.OneOf(MATCHING_MODES))
    duration_days = _number("duration_days")
    cadence_days = _number("cadence_days")
    default_capacity = _number("default_capacity")
    escalation_hours = _number("escalation_hours")
    enrolment_open = fields.Boolean()
    who_mentors = fields.String(validate=validate.OneOf(WHO_MENTORS))
    mentor_group_id = Id(allow_none=True)
    exclude_lti_mentor = fields.Boolean()
    competency_ids = fields.List(
        Id(),
        validate=validate.Length(max=programmes.MAX_TARGETS),
        metadata={"description": "the targeted competencies from now on (replaces the list)"},
    )


class MentorCompetencySchema(Schema):
    competency_id = Id(required=True)
    level = fields.Integer(
        required=True,
        validate=validate.Range(1, 1000),
        metadata={"description": "self-rated position on the framework's scale (1 = lowest)"},
    )


class MenteeCompetencySchema(Schema):
    competency_id = Id(required=True)
    level = fields.Integer(
        required=True, validate=validate.Range(0, 1000), metadata={"description": "0 = none yet"}
    )
    target = fields.Integer(required=True, validate=validate.Range(1, 1000))


class ProfileSchema(Schema):
    programme_id = fields.Integer()
    user_id = fields.Integer()
    is_mentor = fields.Boolean()
    is_mentee = fields.Boolean()
    nominated = fields.Boolean()
    capacity = fields.Integer()
    accepting = fields.Boolean()
    time_zone = fields.String()
    availability = fields.List(
        fields.List(fields.Integer()),
        metadata={"description": "[day 0=Monday..6, start hour, end hour] in the time zone"},
    )
    languages = fields.List(fields.String())
    bio = fields.String()
    goals = fields.String()
    mentor_competencies = fields.List(fields.Nested(MentorCompetencySchema))
    mentee_competencies = fields.List(fields.Nested(MenteeCompetencySchema))


class ProfileInputSchema(Schema):
    as_mentor = fields.Boolean(load_default=False)
    as_mentee = fields.Boolean(load_default=False)
    mentor_competencies = fields.List(
        fields.Nested(MentorCompetencySchema),
        load_default=list,
        validate=validate.Length(max=profiles.MAX_COMPETENCIES),
    )
    mentee_competencies = fields.List(
        fields.Nested(MenteeCompetencySchema),
        load_default=list,
        validate=validate.Length(max=profiles.MAX_COMPETENCIES),
    )
    capacity = fields.Integer(
        load_default=None, validate=validate.Range(1, profiles.MAX_CAPACITY), allow_none=True
    )
    accepting = fields.Boolean(load_default=True)
    time_zone = fields.String(load_default="UTC", validate=validate.Length(1, 64))
    availability = fields.List(
        fields.List(fields.Integer(), validate=validate.Length(equal=3)),
        load_default=list,
        validate=validate.Length(max=profiles.MAX_WINDOWS),
    )
    languages = fields.List(
        fields.String(validate=validate.Length(max=35)),
        load_default=list,
        validate=validate.Length(max=profiles.MAX_LANGUAGES),
    )
    bio = fields.String(load_default="", metadata=longest(profiles.MAX_BIO_CHARS))
    goals = fields.String(load_default="", metadata=longest(profiles.MAX_GOALS_CHARS))


class RatedSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    level = fields.Integer()
    target = fields.Integer(allow_none=True)


class RosterEntrySchema(Schema):
    profile_id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    is_mentor = fields.Boolean()
    is_mentee = fields.Boolean()
    nominated = fields.Boolean()
    capacity = fields.Integer()
    accepting = fields.Boolean()
    mentor_competencies = fields.List(fields.Nested(RatedSchema))
    mentee_competencies = fields.List(fields.Nested(RatedSchema))


class RosterPageSchema(Schema):
    entries = fields.List(fields.Nested(RosterEntrySchema))
    next_cursor = fields.String(allow_none=True)


class RosterArgs(QueryArgs):
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    limit = fields.Integer(load_default=profiles.ROSTER_PAGE, validate=validate.Range(1, 100))


class NominationSchema(Schema):
    nominated = fields.Boolean(required=True)


class NeedsSchema(Schema):
    competencies = fields.List(
        fields.Nested(MenteeCompetencySchema),
        required=True,
        validate=validate.Length(min=1, max=profiles.MAX_COMPETENCIES),
        metadata={"description": "what the mentee wants help with: level and target"},
    )


class RequestInputSchema(NeedsSchema):
    goal = fields.String(load_default="", validate=validate.Length(max=2000))
    cadence_days = fields.Integer(load_default=None, allow_none=True)
    mentor_id = Id(load_default=None, allow_none=True)
    to_pool = fields.Boolean(load_default=False)


class AnswerSchema(Schema):
    accept = fields.Boolean(required=True)
    message = fields.String(load_default="", validate=validate.Length(max=2000))


class PartSchema(Schema):
    name = fields.String()
    label = fields.String()
    value = fields.Float(metadata={"description": "0 to 1"})
    weight = fields.Float()
    points = fields.Float()
    explanation = fields.String()


class ScoreSchema(Schema):
    total = fields.Float(metadata={"description": "out of 100"})
    parts = fields.List(fields.Nested(PartSchema))


class CandidateSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    bio = fields.String()
    score = fields.Nested(ScoreSchema)


class RequestedCompetencySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    level = fields.Integer()
    target = fields.Integer()


class RequestSchema(Schema):
    id = fields.Integer()
    programme_id = fields.Integer()
    mentee_id = fields.Integer()
    mentee_name = fields.String()
    mentor_id = fields.Integer(allow_none=True)
    mentor_name = fields.String(allow_none=True)
    to_pool = fields.Boolean()
    goal = fields.String()
    cadence_days = fields.Integer()
    state = fields.String(
        metadata={"enum": ["open", "accepted", "declined", "expired", "withdrawn"]}
    )
    reply = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    competencies = fields.List(fields.Nested(RequestedCompetencySchema))
