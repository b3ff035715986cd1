"""Marshmallow schemas of the cohorts API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugin.api import longest, non_blank
from plugin.ids import Id
from plugin.social import cohorts


class PersonSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()


class CohortSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    members = fields.List(fields.Nested(PersonSchema))
    thread_count = fields.Integer()


class CohortListSchema(Schema):
    cohorts = fields.List(fields.Nested(CohortSchema))
    learners = fields.List(
        fields.Nested(PersonSchema), metadata={"description": "whom a cohort can hold"}
    )


class CohortCreateSchema(Schema):
    name = fields.String(
        required=True, validate=non_blank(), metadata=longest(cohorts.MAX_NAME_CHARS)
    )


class CohortUpdateSchema(Schema):
    name = fields.String(
        load_default=None, validate=non_blank(), metadata=longest(cohorts.MAX_NAME_CHARS)
    )
    member_ids = fields.List(
        Id(),
        load_default=None,
        validate=validate.Length(max=5000),
        metadata={"description": "the cohort's members from now on (replaces the list)"},
    )
