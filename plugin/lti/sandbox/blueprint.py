"""HTTP face of the sandbox LTI platform: a Flask blueprint around :class:`SandboxPlatform`.

The blueprint works on an app of its own (the test-suite serves it on a loopback port) or
mounted inside the tool's app (the ``make run`` sandbox).  Mount it so that
``platform.issuer`` is the absolute URL of ``url_prefix``: every URL the platform hands
out is built from the issuer, never from the incoming request.

The course page (``index``) launches tools into its ``tool-frame`` iframe, applies their
``lti.frameResize`` messages, and offers LTI Platform Storage: its launch forms send
``lti_storage_target=_parent`` (passed on in the login initiation), and it answers
``lti.capabilities``, ``lti.put_data`` and ``lti.get_data`` from the frame, keeping each tool
origin's values apart, for as long as the page is open.

Endpoints (``<name>.<endpoint>`` for ``url_for``), relative to ``url_prefix``:

==========================================================  ===================  ==========
Path                                                        Endpoint             Methods
==========================================================  ===================  ==========
``/``                                                       ``index``            GET
``/launch``                                                 ``launch``           GET
``/auth``                                                   ``auth``             GET, POST
``/jwks``                                                   ``jwks``             GET
``/jwks/<client_id>``                                       ``client_jwks``      GET
``/token``                                                  ``token``            POST
``/.well-known/openid-configuration``                       ``openid_configuration`` GET
``/register``                                               ``register``         POST
``/dynamic_registration``                                   ``dynamic_registration`` GET
``/deep_link_return``                                       ``deep_link_return`` POST
``/return``                                                 ``return_page``      GET
``/avatars/<user_id>.svg``                                  ``avatar``           GET
``/courses/<context_id>/memberships``                       ``memberships``      GET
``/courses/<context_id>/groups``                            ``groups``           GET
``/courses/<context_id>/group_sets``                        ``group_sets``       GET
``/courses/<context_id>/lineitems``                         ``lineitems``        GET, POST
``/courses/<context_id>/lineitems/<lineitem_id>``           ``lineitem``         GET, PUT, DELETE
``/courses/<context_id>/lineitems/<lineitem_id>/scores``    ``scores``           POST
``/courses/<context_id>/lineitems/<lineitem_id>/results``   ``results``          GET
==========================================================  ===================  ==========
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template_string, request, url_for

from .platform import (
    MEDIA_GROUP_SETS,
    MEDIA_GROUPS,
    MEDIA_LINEITEM,
    MEDIA_LINEITEMS,
    MEDIA_MEMBERSHIPS,
    MEDIA_RESULTS,
    MEDIA_SCORE,
    MSG_DEEP_LINKING,
    MSG_RESOURCE_LINK,
    ROLE_INSTRUCTOR,
    SCOPE_GROUPS,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    PlatformError,
    SandboxPlatform,
)

__all__ = ["make_platform_blueprint"]

#: Endpoints a person's browser visits: their errors are shown as HTML pages.
_BROWSER_ENDPOINTS = frozenset(
    {"index", "launch", "auth", "deep_link_return", "return_page", "dynamic_registration"}
)

_CSS = """
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 line-height:1.5;color:#1b1b1b;background:#f6f7f9}
body{margin:0}
a{color:#0b57a4}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem}
.skip:focus{left:1rem}
header.bar{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;
 background:#22313f;color:#fff;padding:.75rem 1.5rem}
header.bar p{margin:0;font-weight:600}
header.bar label{margin-right:.5rem}
.tag{font-weight:400;font-size:.875rem;background:#f2c94c;color:#1b1b1b;border-radius:4px;
 padding:.1rem .4rem;margin-left:.5rem}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}
section{margin-top:2rem}
.card{background:#fff;border:1px solid #c9ced6;border-radius:8px;padding:1rem;margin:1rem 0}
.card h3{margin-top:0}
.muted{color:#4a5360}
ul.actions{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.5rem}
button{font:inherit;min-height:2.75rem;min-width:2.75rem;padding:.4rem .9rem;border-radius:6px;
 border:1px solid #0b57a4;background:#0b57a4;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b57a4}
input,select{font:inherit;min-height:2.75rem;padding:.3rem .5rem;border:1px solid #6b7480;
 border-radius:6px}
:focus-visible{outline:3px solid #d35400;outline-offset:2px}
table{border-collapse:collapse;width:100%;background:#fff}
caption{text-align:left;font-weight:600;padding:.5rem 0}
th,td{border:1px solid #c9ced6;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#eef1f5}
img.avatar{width:2rem;height:2rem;border-radius:50%;vertical-align:middle;margin-right:.5rem}
iframe{width:100%;height:600px;border:1px solid #6b7480;border-radius:8px;background:#fff}
.error{border-left:6px solid #b3261e;background:#fff;padding:1rem}
.ok{border-left:6px solid #1e7b34;background:#fff;padding:1rem}
code{overflow-wrap:anywhere}
"""

_AUTOSUBMIT_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ heading }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
<h1>{{ heading }}</h1>
<p>{{ explanation }}</p>
<form id="lti-autosubmit" method="post" action="{{ action }}">
{%- for key, value in fields.items() %}
<input type="hidden" name="{{ key }}" value="{{ value }}">
{%- endfor %}
<noscript><button type="submit">Continue</button></noscript>
</form>
</main>
<script nonce="{{ csp_nonce }}">document.getElementById("lti-autosubmit").submit();</script>
</body>
</html>
"""

_MESSAGE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ heading }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
<h1>{{ heading }}</h1>
<div class="{{ 'error' if is_error else 'ok' }}" role="{{ 'alert' if is_error else 'status' }}">
{% for line in lines %}<p>{{ line }}</p>{% endfor %}
</div>
{% if items %}
<h2>Content received</h2>
<ul>
{% for item in items %}
<li><strong>{{ item.get("title") or "Untitled" }}</strong> ({{ item.get("type") }})
{%- if item.get("lineItem") %} - graded out of {{ item["lineItem"].get("scoreMaximum") }}{% endif %}
{%- if item.get("url") %} - <code>{{ item["url"] }}</code>{% endif %}</li>
{% endfor %}
</ul>
{% endif %}
<p><a href="{{ back_url }}" target="_top">Back to the course</a></p>
</main>
</body>
</html>
"""

_INDEX_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ course.title if course else "No course" }} - Sandbox LMS</title>
<style>{{ css }}</style>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header class="bar">
  <p>Sandbox LMS <span class="tag">development platform</span></p>
  {% if courses|length > 1 %}
  <form method="get" action="{{ url_for('.index') }}">
    <label for="course-select">Course</label>
    <select id="course-select" name="context">
      {% for c in courses %}
      <option value="{{ c.context_id }}"{% if course and c.context_id == course.context_id %}
        selected{% endif %}>{{ c.title }}</option>
      {% endfor %}
    </select>
    <button type="submit" class="secondary">Open course</button>
  </form>
  {% endif %}
</header>
<main id="main">
{% if not course %}
  <h1>No course yet</h1>
  <p>Add a course to the sandbox platform to see it here.</p>
{% else %}
  <h1>{{ course.title }} <span class="muted">({{ course.label }})</span></h1>

  <section aria-labelledby="content-heading">
    <h2 id="content-heading">Course content</h2>
    {% if not placements %}<p>No tool has been placed in this course yet.</p>{% endif %}
    {% for p in placements %}
    <article class="card" aria-labelledby="placement-{{ loop.index }}">
      <h3 id="placement-{{ loop.index }}">{{ p.link.title }}</h3>
      <p class="muted">{{ p.tool.name }} - resource link <code>{{ p.link.resource_link_id }}</code>
        {%- if p.lineitem %} - graded out of {{ p.lineitem.score_maximum }}{% endif %}</p>
      {% if p.link.description %}<p>{{ p.link.description }}</p>{% endif %}
      <ul class="actions">
        {% for person in people %}
        <li>
          <form method="get" action="{{ url_for('.launch') }}" target="tool-frame">
            <input type="hidden" name="client_id" value="{{ p.tool.client_id }}">
            <input type="hidden" name="context" value="{{ course.context_id }}">
            <input type="hidden" name="resource_link" value="{{ p.link.resource_link_id }}">
            <input type="hidden" name="user" value="{{ person.user_id }}">
            <input type="hidden" name="lti_storage_target" value="_parent">
            <button type="submit">Launch as {{ person.name }}</button>
          </form>
        </li>
        {% endfor %}
      </ul>
    </article>
    {% endfor %}
    {% if tools and instructors %}
    <h3>Add content</h3>
    <ul class="actions">
      {% for tool in tools %}{% for person in instructors %}
      <li>
        <form method="get" action="{{ url_for('.launch') }}" target="tool-frame">
          <input type="hidden" name="client_id" value="{{ tool.client_id }}">
          <input type="hidden" name="context" value="{{ course.context_id }}">
          <input type="hidden" name="message_type" value="{{ deep_linking }}">
          <input type="hidden" name="user" value="{{ person.user_id }}">
          <input type="hidden" name="lti_storage_target" value="_parent">
          <button type="submit" class="secondary">Add content from {{ tool.name }}
            (Deep Linking) as {{ person.name }}</button>
        </form>
      </li>
      {% endfor %}{% endfor %}
    </ul>
    {% endif %}
  </section>

  <section aria-labelledby="tool-heading">
    <h2 id="tool-heading">Tool</h2>
    <iframe name="tool-frame" id="tool-frame" title="Tool launched from the Sandbox LMS"
      src="about:blank"></iframe>
  </section>

  <section aria-labelledby="people-heading">
    <h2 id="people-heading">People</h2>
    <table>
      <caption>{{ people|length }} people in {{ course.title }}</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Roles</th>
        <th scope="col">Groups</th><th scope="col">Status</th></tr></thead>
      <tbody>
      {% for person in people %}
        <tr>
          <th scope="row"><img class="avatar" alt="" src="{{ person.picture_url }}">{{ person.name }}
            <span class="muted">({{ person.user_id }})</span></th>
          <td>{{ person.email }}</td>
          <td>{{ person.role_names|join(", ") }}</td>
          <td>{{ person.group_names|join(", ") or "-" }}</td>
          <td>{{ person.status }}</td>
        </tr>
      {% endfor %}
      </tbody>
    </table>
  </section>

  <section aria-labelledby="grades-heading">
    <h2 id="grades-heading">Grades received through AGS</h2>
    {% if scores %}
    <table>
      <caption>Scores posted by tools, oldest first
        (<a href="{{ url_for('.index', context=course.context_id) }}">refresh</a>)</caption>
      <thead><tr><th scope="col">Line item</th><th scope="col">Person</th>
        <th scope="col">Score</th><th scope="col">Activity</th><th scope="col">Grading</th>
        <th scope="col">Timestamp</th><th scope="col">Comment</th></tr></thead>
      <tbody>
      {% for s in scores %}
        <tr>
          <td>{{ s.label }}</td>
          <td>{{ s.person }}</td>
          <td>{% if s.score.score_given is not none %}{{ s.score.score_given }} / {{
            s.score.score_maximum }}{% else %}-{% endif %}
            {%- if not s.score.applied %} (ignored: older than the last score){% endif %}</td>
          <td>{{ s.score.activity_progress }}</td>
          <td>{{ s.score.grading_progress }}</td>
          <td>{{ s.score.timestamp }}</td>
          <td>{{ s.score.comment or "" }}</td>
        </tr>
      {% endfor %}
      </tbody>
    </table>
    {% else %}
    <p>No scores yet (<a href="{{ url_for('.index', context=course.context_id) }}">refresh</a>).</p>
    {% endif %}
  </section>
{% endif %}

  <section aria-labelledby="tools-heading">
    <h2 id="tools-heading">Tools</h2>
    {% if tools %}
    <ul>
      {% for tool in tools %}
      <li><strong>{{ tool.name }}</strong> - client_id <code>{{ tool.client_id }}</code>,
        deployments <code>{{ tool.deployment_ids|join(", ") }}</code></li>
      {% endfor %}
    </ul>
    {% else %}<p>No tool is registered.</p>{% endif %}
    <form method="get" action="{{ url_for('.dynamic_registration') }}" target="tool-frame">
      <p><label for="registration-url">Tool registration URL (Dynamic Registration)</label><br>
      <input id="registration-url" name="url" type="url" required size="50"
        aria-describedby="registration-url-help"
        placeholder="https://tool.example/lti/register/…">
      <button type="submit" class="secondary">Register tool</button></p>
      <p id="registration-url-help" class="muted">Paste the tool's registration URL as it was
        given to you, e.g. a Learning Commons invite (<code>commons platform invite</code>); the
        platform adds <code>openid_configuration</code> and a one-time
        <code>registration_token</code> to it.</p>
    </form>
    <p class="muted">Issuer <code>{{ issuer }}</code> - JWKS <code>{{ jwks_url }}</code> -
      OpenID configuration <code>{{ openid_url }}</code></p>
  </section>
</main>
<script nonce="{{ csp_nonce }}">
(function () {
  var frame = document.getElementById("tool-frame");
  // LTI Platform Storage (lti.put_data / lti.get_data): the tool keeps small values in this page
  // when the browser does not give it cookies; each tool origin sees only its own keys.
  var stored = new Map();
  function answer(event, reply) {
    event.source.postMessage(reply, event.origin);
  }
  function storage(event, data) {
    var reply = { subject: data.subject + ".response", message_id: data.message_id };
    if (data.subject === "lti.capabilities") {
      reply.supported_messages = [{ subject: "lti.put_data" }, { subject: "lti.get_data" },
        { subject: "lti.capabilities" }];
    } else if (typeof data.key !== "string" || !data.key) {
      reply.error = { code: "bad_request", message: "key is required" };
    } else if (data.subject === "lti.put_data") {
      stored.set(event.origin + " " + data.key, String(data.value));
      reply.key = data.key;
      reply.value = String(data.value);
    } else {
      reply.key = data.key;
      var value = stored.get(event.origin + " " + data.key);
      if (value === undefined) {
        reply.error = { code: "bad_request", message: "no such key" };
      } else {
        reply.value = value;
      }
    }
    answer(event, reply);
  }
  window.addEventListener("message", function (event) {
    if (!frame || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (typeof data === "string") {
      try { data = JSON.parse(data); } catch (e) { return; }
    }
    if (!data || typeof data !== "object") { return; }
    if (["lti.capabilities", "lti.put_data", "lti.get_data"].indexOf(data.subject) >= 0) {
      storage(event, data);
    } else if (data.subject === "lti.frameResize") {
      var height = parseFloat(data.height);
      if (isFinite(height) && height > 0) {
        frame.style.height = Math.min(Math.max(height, 150), 20000) + "px";
      }
    } else if (data.subject === "org.imsglobal.lti.close") {
      window.location.reload();
    }
  });
})();
</script>
</body>
</html>
"""

_AVATAR_COLORS = ("#0b57a4", "#1e7b34", "#8e3b9a", "#b3261e", "#6d4c00", "#005f73")


def _role_name(uri: str) -> str:
    return uri.rsplit("#", 1)[-1] if "#" in uri else uri


def make_platform_blueprint(
    platform: SandboxPlatform, name: str = "sandbox", url_prefix: str = "/sandbox"
) -> Blueprint:
    """Expose ``platform`` over HTTP under ``url_prefix`` (see the module docstring)."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    # ------------------------------------------------------------ plumbing

    def csp_nonce() -> str:
        nonce = g.get("_sandbox_csp_nonce")
        if nonce is None:
            nonce = g._sandbox_csp_nonce = secrets.token_urlsafe(16)
        return nonce

    @bp.after_request
    def security_headers(response: Response) -> Response:
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
        page = render_template_string(template, css=_CSS, csp_nonce=csp_nonce(), **context)
        return Response(page, status=status, mimetype="text/html")

    def as_json(
        body: Any, status: int = 200, mimetype: str = "application/json", link: str | None = None
    ) -> Response:
        response = Response(json.dumps(body), status=status, mimetype=mimetype)
        if link:
            response.headers["Link"] = link
        return response

    def wants_json() -> bool:
        best = request.accept_mimetypes.best_match(["text/html", "application/json"])
        return best == "application/json"

    def back_url(context_id: str | None = None) -> str:
        return url_for(".index", context=context_id) if context_id else url_for(".index")

    @bp.errorhandler(PlatformError)
    def platform_error(exc: PlatformError) -> Response:
        endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
        if endpoint in _BROWSER_ENDPOINTS and not wants_json():
            lines = [f"Error: {exc.error}"] + ([exc.description] if exc.description else [])
            return html(
                _MESSAGE_PAGE,
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

    def int_arg(key: str) -> int | None:
        raw = request.args.get(key)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise PlatformError("invalid_request", f"{key} must be an integer") from None

    def token_for(scopes: str | Iterable[str]) -> str:
        """The calling tool's client_id, after checking its bearer token."""
        return platform.check_token(request.headers.get("Authorization"), scopes).client_id

    def json_body(media_type: str) -> Any:
        if request.mimetype != media_type:
            raise PlatformError("unsupported_media_type", f"Content-Type must be {media_type}", 415)
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise PlatformError("invalid_request", "the body must be a JSON object")
        return body

    # ------------------------------------------------------------ human pages

    @bp.get("/")
    def index() -> Response:
        courses = platform.courses()
        wanted = request.args.get("context")
        course = next((c for c in courses if c.context_id == wanted), None)
        if course is None and courses:
            course = courses[0]
        tools = platform.tools()
        people: list[dict[str, Any]] = []
        placements: list[dict[str, Any]] = []
        scores: list[dict[str, Any]] = []
        instructors: list[dict[str, Any]] = []
        if course is not None:
            ctx = course.context_id
            for person in platform.people(ctx):
                enrollment = platform.enrollment(ctx, person.user_id)
                roles = enrollment.roles if enrollment else []
                entry = {
                    "user_id": person.user_id,
                    "name": person.name,
                    "email": person.email,
                    "picture_url": person.picture or platform.avatar_url(person.user_id),
                    "role_names": [_role_name(r) for r in roles],
                    "group_names": [grp.name for grp in platform.groups_of(ctx, person.user_id)],
                    "status": enrollment.status if enrollment else "",
                }
                people.append(entry)
                if ROLE_INSTRUCTOR in roles:
                    instructors.append(entry)
            items = platform.line_items(ctx)
            by_tool = {t.client_id: t for t in tools}
            for link in platform.resource_links(ctx):
                tool = by_tool.get(link.client_id)
                if tool is None:
                    continue
                bound = [li for li in items if li.resource_link_id == link.resource_link_id]
                placements.append(
                    {"link": link, "tool": tool, "lineitem": bound[0] if bound else None}
                )
            labels = {li.lineitem_id: li.label for li in items}
            names = {p["user_id"]: p["name"] for p in people}
            for score in platform.received_scores(ctx):
                scores.append(
                    {
                        "score": score,
                        "label": labels.get(score.lineitem_id, "(deleted line item)"),
                        "person": names.get(score.user_id, score.user_id),
                    }
                )
        return html(
            _INDEX_PAGE,
            courses=courses,
            course=course,
            tools=tools,
            people=people,
            instructors=instructors,
            placements=placements,
            scores=scores,
            deep_linking=MSG_DEEP_LINKING,
            issuer=platform.issuer,
            jwks_url=platform.jwks_url,
            openid_url=platform.openid_configuration_url,
        )

    @bp.get("/launch")
    def launch() -> Response:
        """Third-party-initiated login: auto-post the login initiation to the tool."""
        args = request.args
        tools = platform.tools()
        client_id = args.get("client_id") or (tools[0].client_id if tools else "")
        courses = platform.courses()
        context_id = args.get("context") or args.get("context_id")
        context_id = context_id or (courses[0].context_id if courses else "")
        user_id = args.get("user") or args.get("user_id")
        if not client_id or not context_id or not user_id:
            raise PlatformError("invalid_request", "client_id, context and user are required")
        link_id = args.get("resource_link") or args.get("resource_link_id")
        params = platform.login_initiation(
            client_id,
            user_id,
            context_id,
            message_type=args.get("message_type", MSG_RESOURCE_LINK),
            resource_link={"id": link_id} if link_id else None,
            target_link_uri=args.get("target_link_uri") or None,
            deployment_id=args.get("deployment_id") or None,
        )
        if args.get("lti_storage_target"):  # the course page offers LTI Platform Storage
            params["lti_storage_target"] = args["lti_storage_target"]
        tool = platform.tool(client_id)
        return html(
            _AUTOSUBMIT_PAGE,
            heading=f"Opening {tool.name}",
            explanation="Starting the LTI launch (OpenID Connect login initiation).",
            action=tool.login_url,
            fields=params,
        )

    @bp.get("/dynamic_registration")
    def dynamic_registration() -> Response:
        """Open a tool's registration URL with a fresh one-time registration token."""
        target = platform.start_registration(request.args.get("url", ""))
        return redirect(target, code=302)

    @bp.get("/return")
    def return_page() -> Response:
        """``launch_presentation.return_url``: shows ``lti_msg`` / ``lti_errormsg``."""
        errormsg = request.args.get("lti_errormsg")
        msg = request.args.get("lti_msg")
        lines = [line for line in (errormsg, msg) if line] or ["The tool returned control."]
        return html(
            _MESSAGE_PAGE,
            heading="Back from the tool",
            lines=lines,
            is_error=bool(errormsg),
            items=[],
            back_url=back_url(request.args.get("context_id")),
        )

    @bp.get("/avatars/<user_id>.svg")
    def avatar(user_id: str) -> Response:
        try:
            person = platform.person(user_id)
        except KeyError:
            raise PlatformError("not_found", "unknown person", 404) from None
        initials = (person.given_name[:1] + person.family_name[:1]).upper() or "?"
        digest = hashlib.sha256(user_id.encode()).digest()
        color = _AVATAR_COLORS[digest[0] % len(_AVATAR_COLORS)]
        svg = render_template_string(
            '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" '
            'viewBox="0 0 96 96" role="img" aria-label="{{ name }}">'
            '<circle cx="48" cy="48" r="48" fill="{{ color }}"/>'
            '<text x="48" y="60" font-family="sans-serif" font-size="36" fill="#fff" '
            'text-anchor="middle">{{ initials }}</text></svg>',
            name=person.name,
            color=color,
            initials=initials,
        )
        response = Response(svg, mimetype="image/svg+xml")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    # ------------------------------------------------------------ OIDC / OAuth / keys

    @bp.route("/auth", methods=["GET", "POST"])
    def auth() -> Response:
        """OIDC authorization endpoint: answers with a form_post of the id_token."""
        result = platform.authorize(request.values.to_dict())
        if wants_json():
            return as_json({"action_url": result.action_url, "fields": result.fields})
        return html(
            _AUTOSUBMIT_PAGE,
            heading="Signing you in to the tool",
            explanation="Sending your LTI launch to the tool.",
            action=result.action_url,
            fields=result.fields,
        )

    @bp.get("/jwks")
    def jwks() -> Response:
        response = as_json(platform.public_jwks())
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    @bp.get("/jwks/<client_id>")
    def client_jwks(client_id: str) -> Response:
        """The key set of a registration with a key of its own (``use_client_key``)."""
        response = as_json(platform.public_jwks(client_id))
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    @bp.post("/token")
    def token() -> Response:
        response = as_json(platform.issue_access_token(request.form.to_dict()))
        response.headers["Pragma"] = "no-cache"
        return response

    @bp.get("/.well-known/openid-configuration")
    def openid_configuration() -> Response:
        return as_json(platform.openid_configuration())

    @bp.post("/register")
    def register() -> Response:
        body = request.get_json(force=True, silent=True)
        result = platform.register_client(body, request.headers.get("Authorization"))
        return as_json(result, 201)

    @bp.post("/deep_link_return")
    def deep_link_return() -> Response:
        token_value = request.form.get("JWT")
        if not token_value:
            raise PlatformError("invalid_request", "the deep-linking response JWT is missing")
        result = platform.accept_deep_link_response(token_value)
        items = result.content_items
        if wants_json():
            return as_json({"content_items": items, "resource_link_ids": result.resource_link_ids})
        lines = [f"{len(items)} item(s) added to the course."]
        lines += [line for line in (result.msg, result.errormsg) if line]
        return html(
            _MESSAGE_PAGE,
            heading="Content added" if items else "Nothing was added",
            lines=lines,
            is_error=bool(result.errormsg) and not items,
            items=items,
            back_url=back_url(result.context_id),
        )

    # ------------------------------------------------------------ NRPS and Course Groups

    @bp.get("/courses/<context_id>/memberships")
    def memberships(context_id: str) -> Response:
        token_for(SCOPE_NRPS)
        body, link = platform.memberships(
            context_id,
            limit=int_arg("limit"),
            page=int_arg("page") or 1,
            rlid=request.args.get("rlid") or None,
            role=request.args.get("role") or None,
        )
        return as_json(body, mimetype=MEDIA_MEMBERSHIPS, link=link)

    @bp.get("/courses/<context_id>/groups")
    def groups(context_id: str) -> Response:
        token_for(SCOPE_GROUPS)
        body, link = platform.groups(
            context_id,
            limit=int_arg("limit"),
            page=int_arg("page") or 1,
            user_id=request.args.get("user_id") or None,
        )
        return as_json(body, mimetype=MEDIA_GROUPS, link=link)

    @bp.get("/courses/<context_id>/group_sets")
    def group_sets(context_id: str) -> Response:
        token_for(SCOPE_GROUPS)
        body, link = platform.group_sets(
            context_id, limit=int_arg("limit"), page=int_arg("page") or 1
        )
        return as_json(body, mimetype=MEDIA_GROUP_SETS, link=link)

    # ------------------------------------------------------------ AGS 2.0

    @bp.route("/courses/<context_id>/lineitems", methods=["GET", "POST"])
    def lineitems(context_id: str) -> Response:
        if request.method == "POST":
            client_id = token_for(SCOPE_LINEITEM)
            created = platform.create_line_item(client_id, context_id, json_body(MEDIA_LINEITEM))
            response = as_json(created, 201, MEDIA_LINEITEM)
            response.headers["Location"] = created["id"]
            return response
        client_id = token_for((SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))
        found, link = platform.list_line_items(
            client_id,
            context_id,
            resource_link_id=request.args.get("resource_link_id") or None,
            resource_id=request.args.get("resource_id") or None,
            tag=request.args.get("tag") or None,
            limit=int_arg("limit"),
            page=int_arg("page") or 1,
        )
        return as_json(found, mimetype=MEDIA_LINEITEMS, link=link)

    @bp.route("/courses/<context_id>/lineitems/<lineitem_id>", methods=["GET", "PUT", "DELETE"])
    def lineitem(context_id: str, lineitem_id: str) -> Response:
        if request.method == "GET":
            client_id = token_for((SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))
            found = platform.get_line_item(client_id, context_id, lineitem_id)
            return as_json(found, mimetype=MEDIA_LINEITEM)
        client_id = token_for(SCOPE_LINEITEM)
        if request.method == "DELETE":
            platform.delete_line_item(client_id, context_id, lineitem_id)
            return Response(status=204)
        updated = platform.update_line_item(
            client_id, context_id, lineitem_id, json_body(MEDIA_LINEITEM)
        )
        return as_json(updated, mimetype=MEDIA_LINEITEM)

    @bp.post("/courses/<context_id>/lineitems/<lineitem_id>/scores")
    def scores(context_id: str, lineitem_id: str) -> Response:
        client_id = token_for(SCOPE_SCORE)
        platform.post_score(client_id, context_id, lineitem_id, json_body(MEDIA_SCORE))
        return Response(status=204)

    @bp.get("/courses/<context_id>/lineitems/<lineitem_id>/results")
    def results(context_id: str, lineitem_id: str) -> Response:
        client_id = token_for(SCOPE_RESULT_READONLY)
        found, link = platform.list_results(
            client_id,
            context_id,
            lineitem_id,
            user_id=request.args.get("user_id") or None,
            limit=int_arg("limit"),
            page=int_arg("page") or 1,
        )
        return as_json(found, mimetype=MEDIA_RESULTS, link=link)

    return bp
