"""The endpoints of the LTI messages and OAuth: the OIDC authorization endpoint, the key sets, the
token endpoint, the OpenID configuration and registration endpoint of Dynamic Registration, and
the return of a deep-linking response."""

from __future__ import annotations

from flask import Blueprint, Response, request

from sandbox.platform import SandboxPlatform
from sandbox.platform.model import PlatformError
from sandbox.web.responses import as_json, back_url, html, wants_json


def add_protocol_routes(bp: Blueprint, platform: SandboxPlatform) -> None:
    """OIDC, keys, token, registration and deep-linking return endpoints of ``platform`` on
    ``bp``."""

    @bp.route("/auth", methods=["GET", "POST"])
    def auth() -> Response:
        """OIDC authorization endpoint: answers with a form_post of the id_token."""
        result = platform.authorize(request.values.to_dict())
        if wants_json():
            return as_json({"action_url": result.action_url, "fields": result.fields})
        return html(
            "autosubmit.html",
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
            "message.html",
            heading="Content added" if items else "Nothing was added",
            lines=lines,
            is_error=bool(result.errormsg) and not items,
            items=items,
            back_url=back_url(result.context_id),
        )
