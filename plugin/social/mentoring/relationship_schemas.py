"""Marshmallow schemas of the mentorship (pair) API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugin.api import longest
from plugin.ids import Id
from plugin.social.mentoring import checkins, pairs
from plugin.social.mentoring.models import PAIR_STATES
from plugin.social.schemas import QueryArgs

HEALTHS = [pairs.AT_RISK, pairs.NEEDS_CHECK_IN, pairs.ON_TRACK]


class PairPersonSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    role = fields.String(metadata={"enum": ["mentor", "mentee"]})
    accepted = fields.Boolean(metadata={"description": "accepted the current agreement"})
    left = fields.Boolean(metadata={"description": "left the group circle, which went on"})


class PairCompetencyNameSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class PairSummarySchema(Schema):
    id = fields.Integer()
    programme_id = fields.Integer()
    state = fields.String(metadata={"enum": list(PAIR_STATES)})
    role = fields.String(
        allow_none=True, metadata={"description": "the viewer's role; null: staff"}
    )
    people = fields.List(fields.Nested(PairPersonSchema))
    starts_on = fields.Date()
    ends_on = fields.Date()
    cadence_days = fields.Integer()
    health = fields.String(allow_none=True, metadata={"enum": HEALTHS})
    check_in_due_at = fields.DateTime(allow_none=True)
    end_reason = fields.String(allow_none=True, metadata={"enum": list(pairs.END_REASONS)})
    left = fields.Boolean(metadata={"description": "the viewer left this group circle"})


class PairSchema(Schema):
    summary = fields.Nested(PairSummarySchema)
    place = fields.String()
    link = fields.String()
    goals = fields.String()
    competencies = fields.List(fields.Nested(PairCompetencyNameSchema))
    activated_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    staff_view = fields.Boolean(metadata={"description": "read as programme staff (no notes)"})
    may_edit = fields.Boolean()
    may_accept = fields.Boolean()
    may_log = fields.Boolean()
    may_leave = fields.Boolean()
    may_rematch = fields.Boolean()
    may_end = fields.Boolean()
    proposed_ends_on = fields.Date(
        allow_none=True, metadata={"description": "a pending extension's end date"}
    )
    proposed_by_name = fields.String()
    may_extend = fields.Boolean()
    may_confirm_extension = fields.Boolean()
    circle = fields.Boolean(metadata={"description": "a group programme's circle"})
    left = fields.Boolean(metadata={"description": "the viewer left this circle: read only"})
    may_add_co_mentor = fields.Boolean()


class AgreementInputSchema(Schema):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    cadence_days = fields.Integer(
        required=True, validate=validate.Range(pairs.MIN_CADENCE, pairs.MAX_CADENCE)
    )
    place = fields.String(load_default="", metadata=longest(pairs.MAX_PLACE_CHARS))
    link = fields.String(
        load_default="", metadata={**longest(pairs.MAX_LINK_CHARS), "format": "uri"}
    )
    goals = fields.String(load_default="", metadata=longest(pairs.MAX_GOALS_CHARS))
    competency_ids = fields.List(
        Id(),
        required=True,
        validate=validate.Length(min=1, max=pairs.MAX_COMPETENCIES),
        metadata={"description": "of the programme's offered competencies"},
    )


class AgreementEditSchema(Schema):
    pair = fields.Nested(PairSchema)
    changed = fields.Boolean()
    cleared = fields.List(
        fields.String(), metadata={"description": "members whose acceptance the edit cleared"}
    )


class CheckInInputSchema(Schema):
    held_on = fields.Date(required=True)
    duration_minutes = fields.Integer(
        required=True, validate=validate.Range(checkins.MIN_MINUTES, checkins.MAX_MINUTES)
    )
    notes = fields.String(load_default="", metadata=longest(checkins.MAX_NOTES_CHARS))
    next_steps = fields.String(load_default="", metadata=longest(checkins.MAX_NOTES_CHARS))
    competency_ids = fields.List(
        Id(), load_default=list, validate=validate.Length(max=pairs.MAX_COMPETENCIES)
    )


class CheckInSchema(Schema):
    id = fields.Integer()
    pair_id = fields.Integer()
    held_on = fields.Date()
    duration_minutes = fields.Integer()
    logged_by = fields.Integer(allow_none=True)
    logged_by_name = fields.String()
    competencies = fields.List(fields.Nested(PairCompetencyNameSchema))
    notes = fields.String(allow_none=True, metadata={"description": "null for staff"})
    next_steps = fields.String(allow_none=True, metadata={"description": "null for staff"})
    created_at = fields.DateTime()


class RematchSchema(Schema):
    pair = fields.Nested(PairSchema)
    competency_ids = fields.List(fields.Integer())
    goal = fields.String()
    request_form = fields.String(
        metadata={"description": "the Find a mentor page (the web form rematch lands on)"}
    )


class PairListArgs(QueryArgs):
    state = fields.String(load_default=None, validate=validate.OneOf(PAIR_STATES))


class ExtensionInputSchema(Schema):
    ends_on = fields.Date(required=True, metadata={"description": "after the current end date"})
