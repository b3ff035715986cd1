"""LTI endpoints: OIDC login, launch, JWKS, configuration, dynamic registration, deep linking,
roster sync, and the placement page that opens a widget. Views stay thin: services do the work."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from plugin import jobs, widgets
from plugin.access import Refusal
from plugin.config import Settings
from plugin.db import db_session, unit_of_work
from plugin.lti import advantage, invites, keys, launch, placements, registration, tasks
from plugin.lti import claims as C
from plugin.lti.errors import RegistrationError
from plugin.web import (
    LAUNCH_FIELD,
    TOKEN_FIELD,
    current,
    issue_page_token,
    issue_token,
    launch_required,
    launch_url,
    launch_viewer,
    set_launch_cookie,
)

bp = Blueprint("lti", __name__, template_folder="templates")

STATE_COOKIE_PREFIX = "lc_oidc_"


def _settings() -> Settings:
    return current_app.config["COMMONS_SETTINGS"]


def _params() -> dict[str, str]:
    """The OIDC login or launch parameters (a NUL in any of them was refused app-wide before the
    view ran: ``plugin.web.refuse_nul_characters``)."""
    source = request.form if request.method == "POST" else request.args
    return {k: v for k, v in source.items()}


def _state_cookie_options() -> dict[str, Any]:
    """Where the browser keeps ``Secure`` cookies (HTTPS, http://localhost) the state cookie is
    ``SameSite=None; Partitioned``, so it comes back to the launch inside the LMS's iframe;
    elsewhere (plain-HTTP development) ``Lax``. Setting and deleting use the same attributes: a
    deletion without ``Partitioned`` would not reach the partitioned cookie."""
    secure = _settings().secure_cookies
    return {
        "path": "/lti/",
        "secure": secure,
        "httponly": True,
        "samesite": "None" if secure else "Lax",
        "partitioned": secure,
    }


def _set_state_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, **_state_cookie_options())


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> Response | str:
    """OIDC third-party initiated login (LTI 1.3 Core §5.1.1)."""
    params = _params()
    with unit_of_work() as session:
        plan = launch.start_login(session, _settings(), params, client_ip=request.remote_addr)
    if plan.storage_target and not params.get("new_window"):
        # LTI Platform Storage: keep the browser binding in the platform's frame, not a cookie.
        response = make_response(
            render_template(
                "lti/storage_login.html",
                plan=plan,
                key=f"lc_state_{plan.state}",
            )
        )
    else:
        response = redirect(plan.auth_url, code=302)
    _set_state_cookie(
        response, STATE_COOKIE_PREFIX + plan.state, plan.browser_secret, plan.cookie_max_age
    )
    return response


@bp.route("/lti/launch", methods=["POST"])
def launch_view() -> Response | str:
    """The id_token arrives here (form_post). Valid launches get a signed token for the widget."""
    params = _params()
    state = params.get("state", "")
    browser_secret = request.cookies.get(STATE_COOKIE_PREFIX + state) or params.get(
        "lti_storage_secret"
    )
    if not browser_secret and state and not params.get("lti_storage_checked"):
        oidc = db_session().get(launch.OidcState, state)
        if oidc is not None and oidc.storage_target and oidc.used_at is None:
            # No cookie came back: read the binding from LTI Platform Storage, then post again.
            return render_template(
                "lti/storage_launch.html",
                params=params,
                key=f"lc_state_{state}",
                target=oidc.storage_target,
                origin=_origin(oidc.login_params.get("iss", "")),
            )
    with unit_of_work() as session:
        result = launch.complete_launch(session, _settings(), params, browser_secret=browser_secret)
        g.frame_launch = result.launch
        page_token = issue_page_token(result.launch)
    # The page token travels in a form post, never in the address; the next step learns whether
    # the launch cookie came back and sends the browser on with ``ls`` or a URL token.
    response = make_response(render_template("lti/launch_continue.html", token=page_token), 200)
    set_launch_cookie(response, result.launch)
    response.delete_cookie(STATE_COOKIE_PREFIX + state, **_state_cookie_options())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/lti/continue")
@launch_required
def launch_continue() -> Response:
    """The launch's second step: to the widget (or the deep-linking picker), with ``ls=<slot>``
    when the browser sent the launch cookie, else with a URL token."""
    cur = current()
    target = "lti.deep_link" if cur.launch.message_type == C.DEEP_LINKING_REQUEST else "lti.app"
    return redirect(launch_url(target), code=303)


@bp.post("/app/url-token")
@launch_required
def url_token() -> Response:
    """A fresh URL token for the page's links (commons.js asks before the old one expires, with
    the page token in a header). JSON: ``{"lc": …, "expires_in": seconds}``."""
    cur = current()
    response = jsonify(
        {TOKEN_FIELD: issue_token(cur.launch), "expires_in": _settings().url_token_max_age}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "*"


@bp.get("/lti/jwks")
@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    with unit_of_work() as session:
        body = keys.jwks(session)
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/lti/config.json")
def canvas_config() -> Response:
    return jsonify(registration.canvas_config(_settings()))


@bp.route("/lti/register", methods=["GET", "POST"], defaults={"secret": None})
@bp.route("/lti/register/<secret>", methods=["GET", "POST"])
def dynamic_registration(secret: str | None) -> Response | str:
    """LTI Dynamic Registration 1.0: the platform opens this URL with its configuration URL (GET:
    a page to confirm; POST: register). Allowed through an invite URL (``/lti/register/<secret>``,
    made by ``commons platform invite``), or without one only when ``OPEN_REGISTRATION`` is on — then
    the new registration is pending until the operator approves it."""
    params = _params()
    settings = _settings()
    config_url = params.get("openid_configuration", "")
    token = params.get("registration_token")
    try:
        with unit_of_work() as session:
            grant = invites.grant_for(session, settings, secret)  # reads only; nothing fetched yet
        if not config_url:
            raise Refusal(
                400,
                "Open this address from your platform's “register a tool” screen.",
                title="Registration needs the platform's configuration",
                hint="The platform must pass openid_configuration (and registration_token).",
            )
        limits = registration.fetch_limits(settings)
        config = registration.fetch_openid_configuration(config_url, limits)
        if request.method == "GET":
            return render_template(
                "lti/register_confirm.html",
                config=config,
                config_url=config_url,
                token=token or "",
                action=url_for("lti.dynamic_registration", secret=secret),
                pending=grant.pending,
                platform_conf=config[registration.PLATFORM_CONFIG],
            )
        answer = registration.request_client_registration(settings, config, token, limits)
        with unit_of_work() as session:
            platform = registration.store_dynamic_registration(
                session, grant, openid_configuration_url=config_url, config=config, answer=answer
            )
            info = {
                "issuer": platform.issuer,
                "client_id": platform.client_id,
                "deployments": [d.deployment_id for d in platform.deployments],
                "pending": grant.pending,
            }
    except RegistrationError as exc:
        raise Refusal(exc.status, exc.message, title=exc.title, hint=exc.hint) from exc
    return render_template("lti/register_done.html", info=info)


@bp.get("/app")
@launch_required
def app() -> Response | str:
    """The placement page: opens the widget this resource link was set up for."""
    cur = current()
    placement = cur.placement
    if placement is None:
        raise Refusal(
            400,
            "This launch did not come from an activity link in a course.",
            title="Nothing to show here",
            hint="Launch Learning Commons from a course link.",
        )
    widget = widgets.get(placement.widget)
    if widget is not None and widget.launch_endpoint is not None:
        return redirect(launch_url(widget.launch_endpoint), code=303)
    return render_template(
        "lti/placement.html",
        cur=cur,
        placement=placement,
        widget_label=widget.label if widget else "Not set up yet",
        choices=list(widgets.available()),
        token=cur.token,
    )


@bp.post("/app/setup")
@launch_required
def setup_placement() -> Response:
    """Staff choose the widget for a link that was created without deep linking."""
    cur = current()
    with unit_of_work() as session:
        placement_id = cur.placement.id if cur.placement is not None else None
        placements.set_up(session, launch_viewer(), placement_id, request.form.get("widget"))
    return redirect(launch_url("lti.app"), code=303)


@bp.route("/lti/deep-link", methods=["GET", "POST"])
@launch_required
def deep_link() -> Response | str:
    """Deep Linking 2.0: an instructor picks widgets; we return ltiResourceLink content items."""
    cur = current()
    picker = placements.deep_link_request(launch_viewer(), cur.launch)
    if request.method == "GET":
        return render_template(
            "lti/deep_link.html",
            cur=cur,
            dl=picker.settings,
            multiple=picker.multiple,
            lineitem_ok=picker.lineitem_ok,
            widgets=list(widgets.available()),
            token=cur.token,
        )
    items = placements.content_items(
        picker, request.form, _settings().tool_base_url + "/lti/launch"
    )
    with unit_of_work() as session:
        return_url, token = advantage.deep_link_response_jwt(session, cur.launch, items)
    return render_template(
        "lti/deep_link_return.html", return_url=return_url, jwt=token, items=items
    )


@bp.post("/lti/roster/sync")
@launch_required
def roster_sync() -> Response | tuple[Response, int]:
    """Staff ask for a fresh class list (*Refresh class list*): a roster sync job is queued, at
    most one per course, for the worker (the development server's worker thread is woken at once);
    the request never calls the platform. Back to ``return_to`` (a page of this tool) with
    ``roster=queued``; JSON callers get 202."""
    back = _local_page(request.form.get("return_to", ""))
    with unit_of_work() as session:
        job_id = tasks.request_roster_sync(session, launch_viewer())
    jobs.wake(current_app._get_current_object())  # type: ignore[attr-defined]
    if request.accept_mimetypes.best == "application/json":
        return jsonify(status="queued" if job_id else "already_queued"), 202
    endpoint, values = back or ("lti.app", {})
    return redirect(launch_url(endpoint, **values, roster="queued"), 303)


def _local_page(value: str) -> tuple[str, dict[str, Any]] | None:
    """A page of this tool to go back to: (endpoint, values) of a GET route, or None. Anything
    else (another site, an unknown path) is ignored; the launch (token or cookie slot) is added again by
    the caller, never taken from ``value``."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        endpoint, args = current_app.url_map.bind("local").match(parts.path, method="GET")
    except HTTPException:
        return None
    query = {
        k: v for k, v in parse_qsl(parts.query) if k not in (TOKEN_FIELD, LAUNCH_FIELD, "roster")
    }
    return str(endpoint), {**query, **args}
