"""Marshmallow schemas of the development-plan API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugin.api import longest
from plugin.ids import Id
from plugin.performance.plans.models import PLAN_STATES, WHY_CHARS
from plugin.performance.plans.plans import COMMENT_CHARS


class GoalLevelSchema(Schema):
    position = fields.Integer(metadata={"description": "1 = the scale's lowest level"})
    name = fields.String()


class GoalSchema(Schema):
    id = fields.Integer()
    competency_id = fields.Integer()
    competency_name = fields.String()
    competency_code = fields.String(allow_none=True)
    competency_iri = fields.String()
    framework = fields.String()
    target = fields.Integer(metadata={"description": "the target level's position"})
    target_name = fields.String()
    levels = fields.List(fields.Nested(GoalLevelSchema))
    due_on = fields.Date(allow_none=True)
    why = fields.String()
    state = fields.String()
    progress = fields.Integer(metadata={"description": "0-100"})
    needs_mentor = fields.Boolean()


class PlanCommentSchema(Schema):
    id = fields.Integer()
    author = fields.String(allow_none=True)
    body = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    created_at = fields.DateTime()


class PlanSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    state = fields.String(metadata={"enum": list(PLAN_STATES)})
    owner_user_id = fields.Integer()
    owner_name = fields.String(allow_none=True)
    edited_by_owner = fields.Boolean()
    share_by_default = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    state_changed_at = fields.DateTime()
    may_edit = fields.Boolean(metadata={"description": "the viewer is the owner"})
    moves = fields.List(fields.String(), metadata={"description": "states the viewer may move to"})
    goals = fields.List(fields.Nested(GoalSchema))
    history = fields.List(fields.Nested(PlanCommentSchema))


class CoursePlanSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    state = fields.String()
    owner_name = fields.String(allow_none=True)
    goals = fields.Integer()
    updated_at = fields.DateTime()


def _why() -> fields.String:
    return fields.String(metadata=longest(WHY_CHARS))


class GoalInputSchema(Schema):
    competency_id = Id(required=True)
    target = fields.Integer(required=True, metadata={"description": "a level's position"})
    due_on = fields.Date(allow_none=True, load_default=None)
    why = _why()
    needs_mentor = fields.Boolean(load_default=False)


class GoalUpdateSchema(Schema):
    target = fields.Integer()
    due_on = fields.Date(allow_none=True)
    why = _why()
    needs_mentor = fields.Boolean()


class MoveSchema(Schema):
    to = fields.String(required=True, validate=validate.OneOf(PLAN_STATES))
    comment = fields.String(load_default="", metadata=longest(COMMENT_CHARS))
