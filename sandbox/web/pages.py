"""The pages a person opens in the sandbox LMS: the course page (content, people, grades, tools,
and the tool's iframe), launches into it, the tool's return page, generated avatars, and the
start of a Dynamic Registration."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, redirect, render_template_string, request

from sandbox.platform import SandboxPlatform
from sandbox.platform.model import PlatformError
from sandbox.platform.vocabulary import MSG_DEEP_LINKING, MSG_RESOURCE_LINK, ROLE_INSTRUCTOR
from sandbox.web.responses import back_url, html

_AVATAR_COLORS = ("#0b57a4", "#1e7b34", "#8e3b9a", "#b3261e", "#6d4c00", "#005f73")


def _role_name(uri: str) -> str:
    return uri.rsplit("#", 1)[-1] if "#" in uri else uri


def add_page_routes(bp: Blueprint, platform: SandboxPlatform) -> None:
    """The person-facing pages of ``platform`` on ``bp``."""

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
            "course.html",
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
            "autosubmit.html",
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
            "message.html",
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
