"""Shared web pieces: the signed launch token, the current launch, errors inside the iframe."""

from __future__ import annotations

import functools
import http
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload

from plugin.db import db_session, utcnow
from plugin.lti.models import Context, LaunchSession, Placement, Platform, User
from plugin.lti.roles import Permissions, permissions

TOKEN_FIELD = "lc"  # noqa: S105 - the form field that carries the launch token
F = TypeVar("F", bound=Callable[..., Any])


class WebError(Exception):
    """A readable 4xx page (or JSON error) with a message for the person."""

    def __init__(self, status: int, title: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.hint = hint


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing a document nested too deeply for Python's parser as invalid JSON
    (so ``request.get_json`` and the API's argument parser answer 400, never a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise json.JSONDecodeError("The JSON is nested too deeply", "[…]", 0) from exc


def _holds_nul(document: object) -> bool:
    """A NUL character in any string (or key) of a parsed JSON document (walked without
    recursion: the document may be nested as deeply as the parser allows)."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def refuse_nul_characters() -> None:
    """``before_request``: no text with a NUL character gets in (PostgreSQL cannot store one in a
    text column, and no person types one): in the query string, a form, or a JSON body.
    Multipart bodies (file imports, with their own size limit) are read by their importers."""
    values = [*request.args.keys(), *request.args.values()]
    if request.mimetype == "application/x-www-form-urlencoded":
        values += [*request.form.keys(), *request.form.values()]
    found = any("\x00" in value for value in values)
    if not found and request.is_json:
        found = _holds_nul(request.get_json(silent=True))
    if found:
        raise WebError(
            400,
            "Please check what you sent",
            "Text cannot contain the NUL character (U+0000).",
        )


def error_json(
    status: int,
    message: str,
    *,
    title: str | None = None,
    hint: str | None = None,
    errors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one JSON shape of every error: ``Error`` in /api/openapi.json
    (:class:`plugin.api.ErrorSchema`)."""
    try:
        name = http.HTTPStatus(status).phrase
    except ValueError:
        name = "Error"
    body: dict[str, Any] = {"code": status, "status": name, "message": message}
    if title:
        body["title"] = title
    if hint:
        body["hint"] = hint
    if errors:
        body["errors"] = errors
    return body


_LOCATIONS = {"json", "query", "querystring", "form", "files", "headers", "cookies", "path"}


def _field_messages(errors: object, path: tuple[str, ...] = ()) -> Iterator[str]:
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = str(key)
            keep = not (not path and name in _LOCATIONS) and name != "_schema"
            yield from _field_messages(value, (*path, name) if keep else path)
    elif isinstance(errors, list | tuple):
        texts = [str(e) for e in errors if not isinstance(e, dict | list | tuple)]
        if texts:
            where = ".".join(path)
            yield f"{where}: {' '.join(texts)}" if where else " ".join(texts)
        for nested in errors:
            if isinstance(nested, dict | list | tuple):
                yield from _field_messages(nested, path)
    else:
        where = ".".join(path)
        yield f"{where}: {errors}" if where else str(errors)


def describe_field_errors(errors: dict[str, Any]) -> str:
    """Readable text for marshmallow/webargs field errors: ``"title: Missing data…; …"``."""
    parts = list(_field_messages(errors))
    return "Please check: " + "; ".join(parts) if parts else "The request is not valid."


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="commons-launch")


def issue_token(launch: LaunchSession) -> str:
    return _serializer().dumps({"sid": launch.id})


@dataclass
class Current:
    launch: LaunchSession
    user: User
    platform: Platform
    context: Context | None
    placement: Placement | None
    perms: Permissions
    token: str


def _token_from_request() -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[len("Bearer ") :].strip()
    return (
        request.headers.get("X-Commons-Token")
        or request.form.get(TOKEN_FIELD)
        or request.args.get(TOKEN_FIELD)
    )


def load_current() -> Current:
    token = _token_from_request()
    if not token:
        raise WebError(
            401,
            "Please open this from your course",
            "Learning Commons opens from a link in your course.",
            "Go back to the course and open the activity again.",
        )
    max_age = current_app.config["COMMONS_SETTINGS"].session_token_max_age
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise WebError(
            401,
            "Your session has ended",
            "This page was opened too long ago.",
            "Open the activity again from your course.",
        ) from exc
    except BadSignature as exc:
        raise WebError(
            401,
            "This link is not valid",
            "The page's access token is not valid.",
            "Open the activity again from your course.",
        ) from exc
    session = db_session()
    sid = data.get("sid") if isinstance(data, dict) else None
    # the launch and the four things every page reads from it, in one statement
    launch = (
        session.get(
            LaunchSession,
            sid,
            options=[
                joinedload(LaunchSession.user),
                joinedload(LaunchSession.platform),
                joinedload(LaunchSession.context),
                joinedload(LaunchSession.placement),
            ],
        )
        if isinstance(sid, str)
        else None
    )
    if launch is None or launch.expires_at < utcnow():
        raise WebError(
            401,
            "Your session has ended",
            "This launch is no longer valid.",
            "Open the activity again from your course.",
        )
    return Current(
        launch=launch,
        user=launch.user,
        platform=launch.platform,
        context=launch.context,
        placement=launch.placement,
        perms=permissions(launch.roles),
        token=token,
    )


_MARK = 7_391_846_205  # a placeholder id no real route value is built from


def path_for(endpoint: str, **ids: int) -> str:
    """``url_for(endpoint, **ids)`` for the many per-post URLs of one page (a thread page builds a
    few hundred): the URL is built once per endpoint and request with placeholder ids, and then
    only filled in. Only integer path values; query strings go through ``url_for``."""
    patterns: dict[tuple[str, tuple[str, ...]], str] = g.setdefault("_path_patterns", {})
    key = (endpoint, tuple(sorted(ids)))
    pattern = patterns.get(key)
    if pattern is None:
        marks = {name: _MARK * 10 + n for n, name in enumerate(key[1])}
        pattern = url_for(endpoint, **marks).replace("{", "{{").replace("}", "}}")
        for name, mark in marks.items():
            if pattern.partition("?")[0].count(str(mark)) != 1:
                raise ValueError(f"{endpoint}: {name} is not a path value")
            pattern = pattern.replace(str(mark), "{" + name + "}")
        patterns[key] = pattern
    return pattern.format(**{name: int(value) for name, value in ids.items()})


def launch_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.current = load_current()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current() -> Current:
    return g.current


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_page(
    status: int,
    title: str,
    message: str,
    hint: str = "",
    retry_url: str | None = None,
    code: str | None = None,
) -> tuple[str, int]:
    return (
        render_template(
            "error.html",
            status=status,
            title=title,
            message=message,
            hint=hint,
            retry_url=retry_url,
            code=code,
        ),
        status,
    )
