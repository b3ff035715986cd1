"""Marshmallow schemas every social feature's API shares: query arguments that let the launch
token ride along, and an author as the viewer may see them (:class:`plugin.social.display.AuthorView`)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields


class QueryArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # the launch token may ride along as ?lc=


class AuthorSchema(Schema):
    user_id = fields.Integer(allow_none=True, metadata={"description": "null when anonymous"})
    name = fields.String()
    anonymous = fields.Boolean()
