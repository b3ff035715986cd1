"""Shared web pieces: the launch's cookie and tokens, the current launch, errors inside the iframe.

How a request names its launch (the model is written up in docs/security.md, "Launch sessions and
tokens"):

- the **launch cookie** ``__Host-lcs_<slot>`` (``Secure; HttpOnly; SameSite=None; Partitioned``),
  one per launch session, set by the launch when the tool's address can hold ``Secure`` cookies.
  The page's URLs then carry only ``ls=<slot>``: it says *which* launch, the cookie proves it, so
  two launches in one browser (two tabs, two courses) never mix;
- a **URL token** ``lc=…`` in the page's URLs, only where the cookie does not come back:
  short-lived (``url_token_max_age``), re-issued as pages are rendered (sliding);
- a **page token** in the page's forms (hidden ``lc`` field) and API calls (``Authorization:
  Bearer``): it lives as long as the launch session and is refused in a query string, so it
  never lands in an address, a log line or the browser's history. Unsafe methods need it (or a
  URL token): the cookie alone never changes anything (no cross-site request forgery).

Every one of them is refused once the launch session has ended (``LaunchSession.expires_at``).
"""

from __future__ import annotations

import base64
import functools
import hmac
import http
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from flask import current_app, g, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response

from plugin import access
from plugin.access import Refusal, Viewer
from plugin.config import Settings
from plugin.db import db_session, new_session, unit_of_work, utcnow
from plugin.lti.models import Context, LaunchSession, Placement, Platform, User
from plugin.lti.roles import Permissions, permissions

TOKEN_FIELD = "lc"  # noqa: S105 - query: a URL token; form field: a page token (or a URL token)
LAUNCH_FIELD = "ls"  # which launch's cookie proves the request (never a credential by itself)
COOKIE_PREFIX = "__Host-lcs_"
MAX_LAUNCH_COOKIES = 10  # per browser (partition): older launches' cookies are dropped
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

# what a signed value is for; a value made for one use is refused for another
URL_TOKEN, PAGE_TOKEN, COOKIE_VALUE = "u", "p", "c"


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
        raise Refusal(
            400,
            "Text cannot contain the NUL character (U+0000).",
            title="Please check what you sent",
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


def _settings() -> Settings:
    return current_app.config["COMMONS_SETTINGS"]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="commons-launch-v2")


def _sign(launch_id: str, kind: str) -> str:
    payload: dict[str, Any] = {"sid": launch_id, "k": kind}
    if kind == COOKIE_VALUE:  # which launch cookie is newest (the signature's clock is in seconds)
        payload["t"] = round(time.time(), 3)
    return _serializer().dumps(payload)


def issue_token(launch: LaunchSession) -> str:
    """A URL token for ``launch``: good for ``url_token_max_age`` seconds in a link (``?lc=``), a
    form field or a header."""
    return _sign(launch.id, URL_TOKEN)


def issue_page_token(launch: LaunchSession) -> str:
    """A page token for ``launch``: good in a form field or a header until the launch session ends,
    never in a URL."""
    return _sign(launch.id, PAGE_TOKEN)


def launch_slot(launch_id: str) -> str:
    """The public name of a launch session's cookie (``ls=``): derived from its id with the
    secret key, so it cannot be made up, and says nothing without the cookie."""
    digest = hmac.new(
        current_app.config["SECRET_KEY"].encode(), b"launch-slot:" + launch_id.encode(), "sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")


def cookie_name(slot: str) -> str:
    return COOKIE_PREFIX + slot


@dataclass
class _Signed:
    value: str
    sid: str
    kind: str
    age: float
    issued: float


def _unsign(value: str) -> _Signed | None:
    """A signed value's launch id, kind and age in seconds; None when it is not ours."""
    try:
        data, signed_at = _serializer().loads(value, return_timestamp=True)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
        return None
    age = time.time() - signed_at.timestamp()
    issued = data.get("t") if isinstance(data.get("t"), (int, float)) else signed_at.timestamp()
    return _Signed(
        value=value, sid=data["sid"], kind=str(data.get("k", "")), age=age, issued=float(issued)
    )


@dataclass
class Current:
    launch: LaunchSession
    user: User
    platform: Platform
    context: Context | None
    placement: Placement | None
    perms: Permissions
    #: the page token: forms (hidden ``lc`` field) and API calls carry it; never put it in a URL
    #: (``launch_url`` / ``launch_query`` make the page's URLs)
    token: str
    #: "cookie" when the request came with this launch's cookie, else "url"
    mode: str = "url"
    slot: str = ""
    #: the URL token the page's links carry (URL mode): the request's own while it is young,
    #: else a new one
    url_token: str | None = None
    url_token_age: float = 0.0
    _query: dict[str, str] | None = field(default=None, repr=False)


def _open_from_course() -> Refusal:
    return Refusal(
        401,
        "Learning Commons opens from a link in your course.",
        title="Please open this from your course",
        hint="Go back to the course and open the activity again.",
    )


def _session_ended() -> Refusal:
    return Refusal(
        401,
        "This launch is no longer valid.",
        title="Your session has ended",
        hint="Open the activity again from your course.",
    )


def _invalid_link() -> Refusal:
    return Refusal(
        401,
        "The page's access token is not valid.",
        title="This link is not valid",
        hint="Open the activity again from your course.",
    )


def _credentials() -> tuple[list[tuple[str, str]], str | None]:
    """The tokens the request offers (where, value), and the ``ls`` slot it names."""
    offered: list[tuple[str, str]] = []
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        offered.append(("header", auth[len("Bearer ") :].strip()))
    if request.headers.get("X-Commons-Token"):
        offered.append(("header", request.headers["X-Commons-Token"].strip()))
    if request.method not in SAFE_METHODS and request.form.get(TOKEN_FIELD):
        offered.append(("form", request.form[TOKEN_FIELD]))
    if request.args.get(TOKEN_FIELD):
        offered.append(("query", request.args[TOKEN_FIELD]))
    slot = request.args.get(LAUNCH_FIELD) or request.form.get(LAUNCH_FIELD) or None
    return offered, slot


def _cookie_launch_id(slot: str) -> str | None:
    """The launch id the browser's cookie for ``slot`` proves, if it sent a valid one."""
    value = request.cookies.get(cookie_name(slot))
    signed = _unsign(value) if value else None
    if signed is None or signed.kind != COOKIE_VALUE:
        return None
    if signed.age > _settings().session_token_max_age or launch_slot(signed.sid) != slot:
        return None
    return signed.sid


def _authenticate() -> tuple[str, _Signed | None]:
    """Which launch session the request speaks for (and the URL token it used, if any).

    A token in a header or form field (page or URL token), a URL token in the query string, or,
    for safe methods only, the cookie that ``ls`` names. Refusals are readable 401/403s."""
    offered, slot = _credentials()
    settings = _settings()
    for where, value in offered:
        signed = _unsign(value)
        if signed is None:
            raise _invalid_link()
        if signed.kind == URL_TOKEN:
            if signed.age > settings.url_token_max_age:
                raise Refusal(
                    401,
                    "Links inside Learning Commons work for a short time only.",
                    title="This link has expired",
                    hint="Open the activity again from your course.",
                )
            return signed.sid, signed
        if signed.kind == PAGE_TOKEN and where != "query":
            if signed.age > settings.session_token_max_age:
                raise _session_ended()
            return signed.sid, None
        raise _invalid_link()  # a page token in a URL, or a cookie's value used as a token
    if slot:
        launch_id = _cookie_launch_id(slot)
        if launch_id is None:
            raise Refusal(
                401,
                "This page belongs to a launch this browser no longer holds: it has ended, or "
                "the page was opened outside the course.",
                title="Please open this from your course",
                hint="Go back to the course and open the activity again.",
            )
        if request.method not in SAFE_METHODS:
            raise Refusal(
                403,
                "This request did not come from a Learning Commons page.",
                title="Please reload the page",
                hint="Reload the page and try again.",
            )
        return launch_id, None
    raise _open_from_course()


def load_current() -> Current:
    launch_id, url_token = _authenticate()
    session = db_session()
    # the launch and the four things every page reads from it, in one statement
    launch = session.get(
        LaunchSession,
        launch_id,
        options=[
            joinedload(LaunchSession.user),
            joinedload(LaunchSession.platform),
            joinedload(LaunchSession.context),
            joinedload(LaunchSession.placement),
        ],
    )
    if launch is None or launch.expires_at < utcnow():
        raise _session_ended()
    slot = launch_slot(launch.id)
    has_cookie = _settings().secure_cookies and _cookie_launch_id(slot) == launch.id
    return Current(
        launch=launch,
        user=launch.user,
        platform=launch.platform,
        context=launch.context,
        placement=launch.placement,
        perms=permissions(launch.roles),
        token=issue_page_token(launch),
        mode="cookie" if has_cookie else "url",
        slot=slot,
        # the request's own URL token goes on into the page's links while it is in the first
        # third of its life; after that a new one is issued, so links always have time left
        **(
            {"url_token": url_token.value, "url_token_age": url_token.age}
            if url_token is not None and url_token.age <= _settings().url_token_max_age / 3
            else {}
        ),
    )


def launch_query() -> dict[str, str]:
    """What the current page's URLs carry to stay in this launch: ``{"ls": slot}`` when the
    browser sends the launch cookie, else ``{"lc": <URL token>}``."""
    cur = current()
    if cur._query is None:
        if cur.mode == "cookie":
            cur._query = {LAUNCH_FIELD: cur.slot}
        else:
            if cur.url_token is None:
                cur.url_token = issue_token(cur.launch)
                cur.url_token_age = 0.0
            cur._query = {TOKEN_FIELD: cur.url_token}
    return cur._query


def launch_url(endpoint: str, **values: Any) -> str:
    """``url_for`` for a page of the current launch (the launch query added)."""
    return url_for(endpoint, **values, **launch_query())


def launch_qs() -> str:
    """The launch query as a string, for ``path_for(...)`` links: ``ls=…`` or ``lc=…``."""
    return urlencode(launch_query())


def launch_fields() -> Markup:
    """Hidden inputs for a GET form of the current launch (a POST form carries the page token
    in its ``lc`` field instead)."""
    return Markup("").join(
        Markup('<input type="hidden" name="{}" value="{}">').format(name, value)
        for name, value in launch_query().items()
    )


def url_token_meta() -> Markup:
    """For commons.js, on pages whose links carry a URL token: where to get a fresh one before
    they expire (with the page token), and how long the current one has left."""
    cur = g.get("current")
    if cur is None or launch_query().get(TOKEN_FIELD) is None:
        return Markup("")
    left = max(0, int(_settings().url_token_max_age - cur.url_token_age))
    return Markup(
        '<meta name="commons-url-token" content="{}" data-refresh="{}" data-token="{}">'
    ).format(left, url_for("lti.url_token"), cur.token)


def set_launch_cookie(response: Response, launch: LaunchSession) -> None:
    """Give the browser this launch's cookie (where it can keep a ``Secure`` one), and drop the
    cookies of launches that ended or beyond the newest ``MAX_LAUNCH_COOKIES``."""
    if not _settings().secure_cookies:
        return
    kept: list[tuple[float, str]] = []  # (issued, name)
    for name, value in request.cookies.items():
        if not name.startswith(COOKIE_PREFIX):
            continue
        signed = _unsign(value)
        if (
            signed is None
            or signed.kind != COOKIE_VALUE
            or signed.age > _settings().session_token_max_age
        ):
            _delete_launch_cookie(response, name)
        else:
            kept.append((signed.issued, name))
    for _issued, name in sorted(kept, reverse=True)[MAX_LAUNCH_COOKIES - 1 :]:
        _delete_launch_cookie(response, name)
    lifetime = int((launch.expires_at - utcnow()).total_seconds())
    response.set_cookie(
        cookie_name(launch_slot(launch.id)),
        _sign(launch.id, COOKIE_VALUE),
        max_age=max(lifetime, 0),
        path="/",
        secure=True,
        httponly=True,
        samesite="None",
        partitioned=True,
    )


def _delete_launch_cookie(response: Response, name: str) -> None:
    response.delete_cookie(
        name, path="/", secure=True, httponly=True, samesite="None", partitioned=True
    )


_HOST_PORT = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?")


def origin_of(url: Any) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, else None (also for anything that could not
    stand in a CSP header as it is: user info, odd characters)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    netloc = parts.netloc.lower()
    if parts.scheme not in ("http", "https") or not _HOST_PORT.fullmatch(netloc):
        return None
    return f"{parts.scheme}://{netloc}"


def launch_origins(launch: LaunchSession) -> set[str]:
    """The origins a page of ``launch`` may be framed by: its platform's issuer and login URL,
    and the return URLs its claims name (the LMS may serve courses on another host than its
    issuer: Canvas's courses are on school.instructure.com, its issuer canvas.instructure.com)."""
    from plugin.lti import claims as C

    claims = launch.claims if isinstance(launch.claims, dict) else {}
    presentation = claims.get(C.LAUNCH_PRESENTATION)
    deep_linking = claims.get(C.DL_SETTINGS)
    urls = [
        launch.platform.issuer,
        launch.platform.auth_login_url,
        presentation.get("return_url") if isinstance(presentation, dict) else None,
        deep_linking.get("deep_link_return_url") if isinstance(deep_linking, dict) else None,
    ]
    return {origin for url in urls if (origin := origin_of(url))}


def platform_origins() -> set[str]:
    """The origins of every registered platform (issuer and login URL): who may frame the pages
    shown before a launch (login, launch errors, registration)."""
    # a session of its own: the request's may be in a failed transaction by now
    with new_session() as session:
        rows = session.execute(select(Platform.issuer, Platform.auth_login_url)).all()
    return {origin for row in rows for url in row if (origin := origin_of(url))}


def frame_ancestors() -> str:
    """The CSP ``frame-ancestors`` value for this response (see ``launch_origins`` and
    ``platform_origins``), widened by the ``FRAME_ANCESTORS`` setting."""
    launch = g.get("frame_launch")
    try:
        origins = launch_origins(launch) if launch is not None else platform_origins()
    except SQLAlchemyError:  # the page says what went wrong; framing falls back to the setting
        log.warning("frame-ancestors: the registered platforms could not be read", exc_info=True)
        origins = set()
    sources = sorted(origins) + [s for s in _settings().frame_ancestors if s not in origins]
    return " ".join(sources) if sources else "'none'"


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
        g.frame_launch = g.current.launch
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current() -> Current:
    return g.current


def launch_viewer() -> Viewer:
    """The launch's person with the launch's permissions, read from the launch alone (no query):
    for services that need no course membership (administrators' pages, a launch's own data)."""
    cur = current()
    return Viewer(
        user_id=cur.user.id,
        platform_id=cur.platform.id,
        context_id=cur.context.id if cur.context is not None else None,
        perms=cur.perms,
    )


def course_viewer(session: Session) -> Viewer:
    """The launch's person in the launch's course, with their groups: 400 for a launch outside a
    course, 403 without an active membership there (:func:`plugin.access.viewer_for`)."""
    cur = current()
    course = launch_viewer().course()  # the one "outside a course" refusal (plugin.access)
    return access.viewer_for(session, cur.user.id, course, roles=cur.launch.roles)


@contextmanager
def course_act() -> Iterator[tuple[Session, Viewer]]:
    """One act of the launch's person in their course: a unit of work (committed when the block
    ends, rolled back on a refusal) and the viewer in it."""
    with unit_of_work() as session:
        yield session, course_viewer(session)


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
