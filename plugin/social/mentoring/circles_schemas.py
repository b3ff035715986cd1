"""Marshmallow schemas of the group circles' API (a co-mentor)."""

from __future__ import annotations

from marshmallow import Schema, fields

from plugin.ids import Id


class CoMentorInputSchema(Schema):
    user_id = Id(required=True, metadata={"description": "a mentor of the programme"})


class CoMentorOptionSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    free = fields.Integer(metadata={"description": "their free places"})
