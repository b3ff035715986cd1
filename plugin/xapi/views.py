"""Pages: the published xAPI Profile and activity IRIs (public), and the administrator's outbox
views inside the LMS iframe (overview, statement browser, dead letters, JSON Lines export)."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    stream_with_context,
)
from sqlalchemy import select

from plugin import policy
from plugin.db import db_session, new_session, unit_of_work
from plugin.lti.models import Context, User
from plugin.web import WebError, current, launch_required, launch_url
from plugin.xapi import outbox, statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.access import parse_filters, viewer_scope
from plugin.xapi.models import DEAD, XapiOutbox
from plugin.xapi.profile import profile_for

bp = Blueprint("xapi", __name__, url_prefix="/xapi", template_folder="templates")

JSONLD = "application/ld+json"


# --- public: the profile and our activity IRIs -----------------------------------------------
@bp.get("/profile")
@bp.get("/profile/v1")
def profile() -> Response:
    body = json.dumps(profile_for(statements.base_url()), indent=2, ensure_ascii=False)
    response = Response(body, mimetype=JSONLD)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/activities/<int:platform_id>/<kind>/<path:key>")
def activity(platform_id: int, kind: str, key: str) -> Response:
    """An activity IRI resolves to its type only: names stay inside the tenant."""
    term = vocab.ACTIVITY_TYPES.get(kind)
    if term is None:
        raise WebError(404, "Unknown activity", "This is not a Learning Commons activity.")
    base = statements.base_url()
    body = {
        "id": statements.activity_id(base, platform_id, kind, key),
        "objectType": "Activity",
        "definition": {"type": term.resolve(base)},
    }
    response = Response(json.dumps(body), mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- administrator views (inside the LMS) ---------------------------------------------------------
def _people(rows: list[XapiOutbox]) -> dict[int, str]:
    ids = {r.actor_user_id for r in rows if r.actor_user_id is not None}
    if not ids:
        return {}
    users = db_session().scalars(select(User).where(User.id.in_(ids)))
    return {u.id: u.display_name for u in users}


def _courses(scope: outbox.Scope) -> list[Context]:
    query = select(Context).where(Context.platform_id == scope.platform_id)
    if scope.context_id is not None:
        query = query.where(Context.id == scope.context_id)
    return list(db_session().scalars(query.order_by(Context.title, Context.id)))


def _common() -> dict[str, Any]:
    cur = current()
    return {"cur": cur, "token": cur.token, "is_admin": cur.perms.admin}


@bp.get("/admin")
@bp.get("/admin/")
@launch_required
def overview() -> str:
    scope = viewer_scope(current())
    counts = outbox.state_counts(db_session(), scope)
    return render_template("xapi/overview.html", counts=counts, scope=scope, **_common())


@bp.get("/admin/statements")
@launch_required
def browse() -> str:
    scope = viewer_scope(current())
    filters = parse_filters(request.args, scope)
    try:
        page = outbox.browse(
            db_session(), scope, filters, cursor=request.args.get("cursor") or None, limit=25
        )
    except ValueError as exc:
        raise WebError(400, "This page link is not valid", str(exc)) from exc
    return render_template(
        "xapi/statements.html",
        page=page,
        filters=filters,
        people=_people(page.rows),
        verbs=vocab.all_verbs(),
        base=statements.base_url(),
        courses=_courses(scope),
        scope=scope,
        pretty=lambda doc: json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True),
        **_common(),
    )


@bp.get("/admin/dead")
@launch_required
def dead_letters() -> str:
    cur = current()
    policy.require_admin(cur)
    scope = viewer_scope(cur)
    filters = outbox.Filters(state=DEAD)
    try:
        page = outbox.browse(
            db_session(), scope, filters, cursor=request.args.get("cursor") or None, limit=25
        )
    except ValueError as exc:
        raise WebError(400, "This page link is not valid", str(exc)) from exc
    return render_template(
        "xapi/dead.html",
        page=page,
        people=_people(page.rows),
        resent=request.args.get("resent"),
        pretty=lambda doc: json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True),
        **_common(),
    )


@bp.post("/admin/dead/resend")
@launch_required
def resend_dead():
    cur = current()
    policy.require_admin(cur)
    scope = viewer_scope(cur)
    ids = [i for i in request.form.getlist("statement_id") if i]
    with unit_of_work() as session:
        count = outbox.resend(session, scope=scope, statement_ids=ids or None)
    return redirect(launch_url("xapi.dead_letters", resent=count), code=303)


@bp.get("/admin/export.jsonl")
@launch_required
def export() -> Response:
    cur = current()
    scope = viewer_scope(cur)
    filters = parse_filters(request.args, scope)
    session = new_session()

    def lines():
        try:
            yield from outbox.export(session, scope, filters)
        finally:
            session.close()

    response = Response(stream_with_context(lines()), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = 'attachment; filename="statements.jsonl"'
    response.headers["Cache-Control"] = "no-store"
    return response
