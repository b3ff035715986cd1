"""Marshmallow schemas of the competency-links API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugin.ids import Id
from plugin.performance.competencies.schemas import CompetencyInfoSchema


class LinkSetSchema(Schema):
    ref_kind = fields.String()
    ref_key = fields.String()
    competencies = fields.List(fields.Nested(CompetencyInfoSchema))


class LinkUpdateSchema(Schema):
    competency_ids = fields.List(Id(strict=True), required=True, validate=validate.Length(max=500))
