"""Marshmallow schemas of the bulk-matching API (:mod:`.matching_api`)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugin.ids import Id
from plugin.social.mentoring.schemas import ScoreSchema

MAX_CHOICES = 5000


class ChoiceSchema(Schema):
    mentee_id = Id(required=True)
    mentor_id = Id(load_default=None, allow_none=True, metadata={"description": "null: no mentor"})


class PreviewInputSchema(Schema):
    pairs = fields.List(
        fields.Nested(ChoiceSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=MAX_CHOICES),
        metadata={"description": "an adjusted matching to check and show; left out: the best one"},
    )


class ApproveInputSchema(Schema):
    pairs = fields.List(
        fields.Nested(ChoiceSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_CHOICES),
        metadata={"description": "the pairs to make, each checked again on the server"},
    )


class MatchPersonSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()


class ProposedPairSchema(Schema):
    mentee = fields.Nested(MatchPersonSchema)
    mentor = fields.Nested(MatchPersonSchema)
    score = fields.Nested(ScoreSchema)
    competencies = fields.List(fields.String())


class UnmatchedSchema(Schema):
    mentee = fields.Nested(MatchPersonSchema)
    reason = fields.String()


class OptionSchema(Schema):
    mentor_id = fields.Integer()
    name = fields.String()
    total = fields.Float()


class PreviewSchema(Schema):
    pairs = fields.List(fields.Nested(ProposedPairSchema))
    unmatched = fields.List(fields.Nested(UnmatchedSchema))
    total = fields.Float(metadata={"description": "the sum of these pairs' scores"})
    optimal_total = fields.Float(metadata={"description": "the best possible total"})
    greedy_total = fields.Float(metadata={"description": "the greedy baseline's total"})
    greedy_pairs = fields.Integer()
    mentors = fields.Integer()
    free_places = fields.Integer()
    options = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(OptionSchema)),
        metadata={"description": "mentee id → the mentors they may be given, best first"},
    )
    adjusted = fields.Boolean()


class MadePairSchema(Schema):
    id = fields.Integer()
    state = fields.String()
    mentee_id = fields.Integer()
    mentor_id = fields.Integer()


class ApprovedSchema(Schema):
    pairs = fields.List(fields.Nested(MadePairSchema))
