"""What every sandbox endpoint shares: its pages (templates under ``templates/sandbox/``) and JSON
answers, their security headers, reading arguments and bodies, and the one error handler that
turns a :class:`~sandbox.platform.model.PlatformError` into a page for a person's browser or an
OAuth-style JSON error for a tool."""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Response, g, render_template, request, url_for

from sandbox.platform.model import PlatformError

#: Endpoints a person's browser visits: their errors are shown as HTML pages.
BROWSER_ENDPOINTS = frozenset(
    {"index", "launch", "auth", "deep_link_return", "return_page", "dynamic_registration"}
)


def csp_nonce() -> str:
    """The nonce of this request's inline script (one per request)."""
    nonce = g.get("_sandbox_csp_nonce")
    if nonce is None:
        nonce = g._sandbox_csp_nonce = secrets.token_urlsafe(16)
    return nonce


def security_headers(response: Response) -> Response:
    """Nothing is cached; an HTML page runs only its own nonced script, may be framed only by the
    platform itself, and sends no referrer (launch parameters stay out of other sites' logs)."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; "
            f"script-src 'nonce-{csp_nonce()}'; "
            "style-src 'unsafe-inline'; img-src 'self' data: http: https:; "
            "frame-src http: https:; form-action http: https:; "
            "base-uri 'none'; frame-ancestors 'self'"
        )
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def html(template: str, status: int = 200, **context: Any) -> Response:
    """Render ``templates/sandbox/<template>`` as an HTML response."""
    page = render_template(f"sandbox/{template}", csp_nonce=csp_nonce(), **context)
    return Response(page, status=status, mimetype="text/html")


def as_json(
    body: Any, status: int = 200, mimetype: str = "application/json", link: str | None = None
) -> Response:
    """``body`` as JSON of ``mimetype``, with a paging ``Link`` header when there is one."""
    response = Response(json.dumps(body), status=status, mimetype=mimetype)
    if link:
        response.headers["Link"] = link
    return response


def wants_json() -> bool:
    """Whether the client prefers JSON to HTML (scripts driving the flow without a browser)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def back_url(context_id: str | None = None) -> str:
    """The course page (of ``context_id``, else the first course)."""
    return url_for(".index", context=context_id) if context_id else url_for(".index")


def int_arg(key: str) -> int | None:
    """An integer query argument (``None`` when absent or empty; ``invalid_request`` otherwise)."""
    raw = request.args.get(key)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise PlatformError("invalid_request", f"{key} must be an integer") from None


def json_body(media_type: str) -> Any:
    """The request's JSON object, sent as ``media_type`` (else 415, or 400 for a non-object)."""
    if request.mimetype != media_type:
        raise PlatformError("unsupported_media_type", f"Content-Type must be {media_type}", 415)
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise PlatformError("invalid_request", "the body must be a JSON object")
    return body


def platform_error(exc: PlatformError) -> Response:
    """A refusal: a readable page on a browser endpoint, else the OAuth-style JSON error with a
    ``WWW-Authenticate: Bearer`` challenge on a 401 or 403."""
    endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
    if endpoint in BROWSER_ENDPOINTS and not wants_json():
        lines = [f"Error: {exc.error}"] + ([exc.description] if exc.description else [])
        return html(
            "message.html",
            exc.status,
            heading="The Sandbox LMS refused this request",
            lines=lines,
            is_error=True,
            items=[],
            back_url=back_url(),
        )
    response = as_json(exc.to_dict(), exc.status)
    if exc.status in (401, 403):
        challenge = f'Bearer error="{exc.error}"'
        if exc.description:
            challenge += ', error_description="' + exc.description.replace('"', "'") + '"'
        response.headers["WWW-Authenticate"] = challenge
    return response
