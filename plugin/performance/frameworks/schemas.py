"""Marshmallow schemas of the frameworks API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugin.performance.competencies.schemas import (
    AssociationSchema,
    CompetencySchema,
    PageArgs,
    PageSchema,
)


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


class CompetencyPageSchema(PageSchema):
    items = fields.List(fields.Nested(CompetencySchema))


class CompetencyPageArgs(PageArgs):
    include_retired = fields.Boolean(load_default=True)


class AssociationPageSchema(PageSchema):
    items = fields.List(fields.Nested(AssociationSchema))


class AssociationPageArgs(PageArgs):
    """A page of a framework's associations, in package order."""


class ImportUrlSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=1000))


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
