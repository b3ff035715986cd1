"""Marshmallow schemas of the competency API, and the competency shapes other APIs nest
(:class:`CompetencyInfoSchema`, :class:`AssociationSchema`)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from plugin.ids import MAX_ID


class QueryArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # the launch token may ride along as ?lc=


class PageArgs(QueryArgs):
    """A keyset page: the ``after`` value the previous page gave, and how many."""

    after = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_ID))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class PageSchema(Schema):
    """A page of ``items``, and what to ask for next."""

    next_after = fields.Integer(
        allow_none=True, metadata={"description": "pass as ?after= for the next page"}
    )


class CompetencySchema(Schema):
    id = fields.Integer()
    framework_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    iri = fields.String(attribute="uri", metadata={"description": "the IRI used in xAPI"})
    identifier = fields.String()
    code = fields.String(allow_none=True)
    name = fields.String()
    description = fields.String(allow_none=True)
    item_type = fields.String(allow_none=True)
    sort_order = fields.Integer()
    retired_at = fields.DateTime(allow_none=True)


class CompetencyInfoSchema(Schema):
    id = fields.Integer()
    iri = fields.String()
    name = fields.String()
    code = fields.String(allow_none=True)
    framework_id = fields.Integer()
    retired = fields.Boolean()


class SearchArgs(QueryArgs):
    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    include_retired = fields.Boolean(load_default=False)


class SearchResultSchema(CompetencyInfoSchema):
    framework_title = fields.String()


class EndSchema(Schema):
    """One end of a CASE association: as the package gives it, and what it is on this platform."""

    uri = fields.String(allow_none=True)
    identifier = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    competency = fields.Nested(
        CompetencyInfoSchema,
        allow_none=True,
        metadata={"description": "the competency of this platform the end is, if imported"},
    )
    framework_id = fields.Integer(
        allow_none=True, metadata={"description": "when the end is a framework's CFDocument"}
    )


class AssociationSchema(Schema):
    id = fields.Integer()
    framework_id = fields.Integer(metadata={"description": "the framework that declares it"})
    association_type = fields.String(
        metadata={"description": "CASE associationType: isChildOf, exactMatchOf, isRelatedTo…"}
    )
    identifier = fields.String(allow_none=True)
    uri = fields.String(allow_none=True)
    sequence_number = fields.Integer(allow_none=True)
    last_change_date_time = fields.DateTime(allow_none=True)
    origin = fields.Nested(EndSchema)
    destination = fields.Nested(EndSchema)


class CompetencyAssociationSchema(Schema):
    direction = fields.String(
        metadata={"description": "outgoing: the competency is the origin; incoming: the target"}
    )
    association = fields.Nested(AssociationSchema)


class CompetencyDetailSchema(CompetencySchema):
    framework_title = fields.String()
    associations = fields.List(
        fields.Nested(CompetencyAssociationSchema),
        metadata={"description": "every association it is an end of, in any framework"},
    )
    exact_matches = fields.List(
        fields.Nested(CompetencyInfoSchema),
        metadata={"description": "the same competency elsewhere: their evidence counts for it"},
    )
    related = fields.List(
        fields.Nested(EndSchema),
        metadata={"description": "isRelatedTo, either way: related, not the same"},
    )
