"""Shared web pieces: the signed launch token, the current launch, errors inside the iframe."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, render_template, request, url_for
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
