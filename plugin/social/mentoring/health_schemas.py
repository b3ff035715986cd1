"""Marshmallow schemas of the programme-health API (``GET /api/mentoring/programmes/<id>/health``)."""

from __future__ import annotations

from marshmallow import Schema, fields

from plugin.social.mentoring.health import HEALTH_STATES


class CompetencyHealthSchema(Schema):
    competency_id = fields.Integer()
    name = fields.String()
    mentors = fields.Integer(metadata={"description": "Accepting mentors holding it"})
    mentees = fields.Integer(metadata={"description": "Mentees in active pairs about it"})
    demand = fields.Integer(
        metadata={
            "description": "Distinct mentees waiting for it (open requests, unpaired mentees)"
        }
    )
    free_capacity = fields.Integer(
        metadata={"description": "Free places of the accepting mentors holding it"}
    )
    gap = fields.Integer(metadata={"description": "demand - free_capacity, at least 0"})
    mentors_needed = fields.Integer(
        metadata={"description": "The gap in mentors of the programme's default capacity"}
    )
    call_to_action = fields.String()


class PairHealthSchema(Schema):
    at_risk = fields.Integer()
    needs_check_in = fields.Integer()
    on_track = fields.Integer()


class HealthSchema(Schema):
    programme_id = fields.Integer()
    title = fields.String()
    as_of = fields.DateTime()
    active_pairs = fields.Integer()
    proposed_pairs = fields.Integer()
    open_requests = fields.Integer()
    matched_recently = fields.Integer(
        metadata={"description": "Pairs made from a request in the last 90 days"}
    )
    median_hours_to_match = fields.Float(allow_none=True)
    p90_hours_to_match = fields.Float(allow_none=True)
    check_ins_expected = fields.Integer(
        metadata={"description": "Over the active pairs: whole cadences since activation"}
    )
    check_ins_logged = fields.Integer()
    pulse_day_30_average = fields.Float(allow_none=True)
    pulse_day_30_answers = fields.Integer()
    pulse_end_average = fields.Float(allow_none=True)
    pulse_end_answers = fields.Integer()
    pair_health = fields.Method(
        "_pair_health",
        metadata={"description": f"Active pairs by health: {', '.join(HEALTH_STATES)}"},
    )
    targeted = fields.Boolean(
        metadata={
            "description": "The competencies are the programme's targets (else its profiles')"
        }
    )
    competencies = fields.List(fields.Nested(CompetencyHealthSchema))

    def _pair_health(self, health) -> dict[str, int]:
        return {state: getattr(health, state) for state in HEALTH_STATES}
