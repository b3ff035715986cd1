"""JSON API of the outbox for administrators (platform) and course staff (their course).
Authenticate with the launch token: ``Authorization: Bearer <token>``."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import EXCLUDE, Schema, fields, validate

from plugin.access import Refusal
from plugin.api import Blueprint
from plugin.db import db_session, unit_of_work
from plugin.ids import Id
from plugin.web import launch_required, launch_viewer
from plugin.xapi import outbox
from plugin.xapi.access import admin_scope, parse_filters, viewer_scope
from plugin.xapi.models import STATES

blp = Blueprint(
    "xapi-api",
    __name__,
    url_prefix="/api/xapi",
    description="xAPI statements recorded by Learning Commons and their delivery to the LRS.",
)
SECURITY = [{"launchToken": []}]


class CountsSchema(Schema):
    pending = fields.Integer()
    sending = fields.Integer()
    delivered = fields.Integer()
    dead = fields.Integer()


class BrowseArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # the launch token may come as ?lc=

    person = fields.String(metadata={"description": "LMS user id, or part of a name/e-mail"})
    verb = fields.String(metadata={"description": "verb IRI"})
    competency = fields.String(metadata={"description": "competency IRI"})
    course = Id(metadata={"description": "course (context) id; admins only"})
    state = fields.String(validate=validate.OneOf(STATES))
    cursor = fields.String(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class OutboxRowSchema(Schema):
    statement_id = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    event_kind = fields.String()
    verb_id = fields.String()
    object_id = fields.String()
    context_id = fields.Integer(allow_none=True)
    actor_user_id = fields.Integer(allow_none=True)
    competency_iris = fields.List(fields.String())
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime()
    last_error = fields.String(allow_none=True)
    lrs_reply = fields.String(allow_none=True)
    statement = fields.Dict()


class PageSchema(Schema):
    items = fields.List(fields.Nested(OutboxRowSchema))
    next_cursor = fields.String(allow_none=True)


class ResendArgs(Schema):
    statement_ids = fields.List(
        fields.String(), metadata={"description": "dead statements to re-send; omit for all"}
    )


class ResendSchema(Schema):
    requeued = fields.Integer()


@blp.route("/outbox/counts")
@blp.refusals(400, 403)
@blp.doc(security=SECURITY)
@blp.response(200, CountsSchema)
@launch_required
def counts() -> dict[str, int]:
    """Statements per delivery state."""
    return outbox.state_counts(db_session(), viewer_scope(launch_viewer()))


@blp.route("/statements")
@blp.refusals(400, 403)
@blp.doc(security=SECURITY)
@blp.arguments(BrowseArgs, location="query")
@blp.response(200, PageSchema)
@launch_required
def statements(args: dict[str, Any]) -> dict[str, Any]:
    """Statements newest first, filtered; follow ``next_cursor`` for older ones."""
    scope = viewer_scope(launch_viewer())
    filters = parse_filters(request.args, scope)
    try:
        page = outbox.browse(
            db_session(), scope, filters, cursor=args.get("cursor"), limit=args["limit"]
        )
    except ValueError as exc:
        raise Refusal(400, str(exc), title="Invalid cursor") from exc
    return {"items": page.rows, "next_cursor": page.next_cursor}


@blp.route("/statements/resend", methods=["POST"])
@blp.refusals(400, 403)
@blp.doc(security=SECURITY)
@blp.arguments(ResendArgs, required=False)
@blp.response(200, ResendSchema)
@launch_required
def resend(args: dict[str, Any]) -> dict[str, int]:
    """Queue statements the LRS refused (state ``dead``) to be sent again. Administrators only."""
    scope = admin_scope(launch_viewer())
    with unit_of_work() as session:
        count = outbox.resend(session, scope=scope, statement_ids=args.get("statement_ids"))
    return {"requeued": count}
