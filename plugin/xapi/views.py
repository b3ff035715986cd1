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

from plugin.access import Refusal
from plugin.db import db_session, new_session, unit_of_work
from plugin.lti.models import Context, User
from plugin.web import current, launch_required, launch_url, launch_viewer
from plugin.xapi import outbox, resolve, statements
from plugin.xapi import vocabulary as vocab
from plugin.xapi.access import admin_scope, may_resend, parse_filters, viewer_scope
from plugin.xapi.models import DEAD, XapiOutbox
from plugin.xapi.profile import profile_for

bp = Blueprint("xapi", __name__, url_prefix="/xapi", template_folder="templates")

JSONLD = "application/ld+json"


# --- public: every IRI we mint resolves ---------------------------------------------------------
# JSON-LD for a client that asks for application/ld+json or application/json by name (the
# response has the type it asked for), a readable page for everyone else (a browser, "*/*").
JSON_TYPES = (JSONLD, "application/json")
HTML_TYPES = ("text/html", "application/xhtml+xml")


def negotiated_json_type() -> str | None:
    """The JSON media type the client asked for by name (preferring the one it rates higher),
    or None when it did not, or rates HTML higher: then it gets HTML."""
    accept = request.accept_mimetypes
    html_quality = max((q for value, q in accept if value.lower() in HTML_TYPES), default=0)
    best, best_quality = None, 0.0
    for value, quality in accept:
        if value.lower() in JSON_TYPES and quality > best_quality:
            best, best_quality = value.lower(), quality
    if best is not None and best_quality >= html_quality:
        return best
    return None


def _definition_response(body: dict[str, Any], html: str, max_age: int) -> Response:
    media_type = negotiated_json_type()
    if media_type is not None:
        response = Response(json.dumps(body, indent=2, ensure_ascii=False), mimetype=media_type)
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response = Response(html, mimetype="text/html")
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def _not_ours() -> Refusal:
    return Refusal(404, "Learning Commons defines nothing at this address.", title="Unknown IRI")


@bp.get("/profile")
@bp.get("/profile/v1")
@bp.get("/profile/<path:name>")
@bp.get("/verbs/<path:name>")
@bp.get("/activity-types/<path:name>")
@bp.get("/extensions/<path:name>")
def definition(name: str | None = None) -> Response:
    """The profile, or one concept / Statement Template / Pattern of it, at its own IRI."""
    base = statements.base_url()
    iri = base + request.path
    body = resolve.profile_object(base, iri)
    if body is None:
        raise _not_ours()
    document = profile_for(base)
    html = render_template(
        "xapi/definition.html",
        iri=iri,
        item=body,
        profile=document,
        is_profile=body is document,
        labels=_labels(document),
        pretty=json.dumps(body, indent=2, ensure_ascii=False),
    )
    return _definition_response(body, html, 3600)


def _labels(document: dict[str, Any]) -> dict[str, str]:
    """IRI → English label for the profile's own members, and the reused vocabulary we name."""
    labels = {term.resolve(statements.base_url()): term.label for term in vocab.all_terms()}
    for key in ("concepts", "templates", "patterns"):
        for member in document.get(key, ()):
            labels[member["id"]] = (member.get("prefLabel") or {}).get("en", member["id"])
    return labels


@bp.get("/activities/<int:platform_id>/<kind>/<path:key>")
def activity(platform_id: int, kind: str, key: str) -> Response:
    """An activity IRI resolves to its id and type while the thing exists on that platform (and
    is 404 otherwise): names stay inside the tenant."""
    base = statements.base_url()
    body = resolve.activity_document(db_session(), base, platform_id, kind, key)
    if body is None:
        raise Refusal(404, "There is no such Learning Commons activity.", title="Unknown activity")
    type_iri = body["definition"]["type"]
    if negotiated_json_type() == JSONLD:
        body = {"@context": {"id": "@id"}, **body}
    html = render_template(
        "xapi/activity.html",
        iri=body["id"],
        type_iri=type_iri,
        type_label=_labels(profile_for(base)).get(type_iri, type_iri),
        pretty=json.dumps(body, indent=2, ensure_ascii=False),
    )
    return _definition_response(body, html, 300)


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
    return {"cur": cur, "token": cur.token, "is_admin": may_resend(launch_viewer())}


def _outbox_page(scope: outbox.Scope, filters: outbox.Filters) -> outbox.Page:
    """One page (25 rows) of the outbox rows ``scope`` may see that match ``filters``, from the
    request's ``cursor``; a cursor that does not parse is a 400 page."""
    try:
        return outbox.browse(
            db_session(), scope, filters, cursor=request.args.get("cursor") or None, limit=25
        )
    except ValueError as exc:
        raise Refusal(400, str(exc), title="This page link is not valid") from exc


def _pretty(statement: dict[str, Any]) -> str:
    """A statement as indented JSON for the statement cards (keys sorted, text as it is)."""
    return json.dumps(statement, indent=2, ensure_ascii=False, sort_keys=True)


@bp.get("/admin")
@bp.get("/admin/")
@launch_required
def overview() -> str:
    scope = viewer_scope(launch_viewer())
    counts = outbox.state_counts(db_session(), scope)
    return render_template("xapi/overview.html", counts=counts, scope=scope, **_common())


@bp.get("/admin/statements")
@launch_required
def browse() -> str:
    scope = viewer_scope(launch_viewer())
    filters = parse_filters(request.args, scope)
    page = _outbox_page(scope, filters)
    return render_template(
        "xapi/statements.html",
        page=page,
        filters=filters,
        people=_people(page.rows),
        verbs=vocab.all_verbs(),
        base=statements.base_url(),
        courses=_courses(scope),
        scope=scope,
        pretty=_pretty,
        **_common(),
    )


@bp.get("/admin/dead")
@launch_required
def dead_letters() -> str:
    scope = admin_scope(launch_viewer())
    page = _outbox_page(scope, outbox.Filters(state=DEAD))
    return render_template(
        "xapi/dead.html",
        page=page,
        people=_people(page.rows),
        resent=request.args.get("resent"),
        pretty=_pretty,
        **_common(),
    )


@bp.post("/admin/dead/resend")
@launch_required
def resend_dead():
    scope = admin_scope(launch_viewer())
    ids = [i for i in request.form.getlist("statement_id") if i]
    with unit_of_work() as session:
        count = outbox.resend(session, scope=scope, statement_ids=ids or None)
    return redirect(launch_url("xapi.dead_letters", resent=count), code=303)


@bp.get("/admin/export.jsonl")
@launch_required
def export() -> Response:
    scope = viewer_scope(launch_viewer())
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
