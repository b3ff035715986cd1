"""Marshmallow schemas of the competency API."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from plugin.ids import MAX_ID, Id


class QueryArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # the launch token may ride along as ?lc=


class ScaleLevelSchema(Schema):
    position = fields.Integer()
    name = fields.String()
    proficient = fields.Boolean()


class ScaleSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    source = fields.String()
    proficient_position = fields.Integer()
    default_position = fields.Integer(allow_none=True)
    levels = fields.List(fields.Nested(ScaleLevelSchema))


class FrameworkSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    uri = fields.String(metadata={"description": "CASE CFDocument uri (urn:uuid for Moodle)"})
    identifier = fields.String()
    version = fields.String(allow_none=True)
    source_kind = fields.String(metadata={"description": "case | moodle-csv"})
    case_version = fields.String(allow_none=True)
    source_url = fields.String(allow_none=True)
    last_imported_at = fields.DateTime()
    competency_count = fields.Integer(metadata={"description": "competencies in the framework"})
    retired_count = fields.Integer(metadata={"description": "kept after removal upstream"})


class FrameworkDetailSchema(FrameworkSchema):
    description = fields.String(allow_none=True)
    creator = fields.String(allow_none=True)
    source_changed_at = fields.DateTime(allow_none=True)
    depth = fields.Integer(metadata={"description": "levels in the hierarchy"})
    scale = fields.Nested(ScaleSchema, allow_none=True)
    association_counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "CASE associations of the package, by type"},
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


class CompetencyPageSchema(Schema):
    items = fields.List(fields.Nested(CompetencySchema))
    next_after = fields.Integer(
        allow_none=True, metadata={"description": "pass as ?after= for the next page"}
    )


class CompetencyPageArgs(QueryArgs):
    after = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_ID))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    include_retired = fields.Boolean(load_default=True)


class SearchArgs(QueryArgs):
    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    include_retired = fields.Boolean(load_default=False)


class CompetencyInfoSchema(Schema):
    id = fields.Integer()
    iri = fields.String()
    name = fields.String()
    code = fields.String(allow_none=True)
    framework_id = fields.Integer()
    retired = fields.Boolean()


class SearchResultSchema(CompetencyInfoSchema):
    framework_title = fields.String()


class LinkSetSchema(Schema):
    ref_kind = fields.String()
    ref_key = fields.String()
    competencies = fields.List(fields.Nested(CompetencyInfoSchema))


class LinkUpdateSchema(Schema):
    competency_ids = fields.List(Id(strict=True), required=True, validate=validate.Length(max=500))


class ImportUrlSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=1000))


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


class AssociationPageSchema(Schema):
    items = fields.List(fields.Nested(AssociationSchema))
    next_after = fields.Integer(
        allow_none=True, metadata={"description": "pass as ?after= for the next page"}
    )


class AssociationPageArgs(QueryArgs):
    after = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_ID))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


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


class ImportResultSchema(Schema):
    framework_id = fields.Integer()
    title = fields.String()
    source_kind = fields.String()
    created = fields.Boolean()
    total = fields.Integer()
    added = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    retired = fields.Integer()
    deleted = fields.Integer()
    hierarchy_links = fields.Integer()
    associations = fields.Integer(metadata={"description": "CASE associations of every type"})
    associations_added = fields.Integer()
    associations_updated = fields.Integer()
    associations_removed = fields.Integer()
    warnings = fields.List(fields.String())
