"""Learning Commons: an LTI 1.3 tool for social learning and performance development."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from plugin.config import Settings, check_production

__version__ = "0.1.0"
log = logging.getLogger(__name__)


def create_app(
    overrides: dict[str, Any] | None = None, *, settings: Settings | None = None
) -> Flask:
    """The application factory: configuration, database, blueprints, error pages."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings = settings or Settings.from_env(Path(app.instance_path))
    for key, value in (overrides or {}).items():
        setattr(settings, key, value)
    check_production(settings)
    from plugin import logredact

    logredact.install()  # no launch token in any log line (docs/security.md)
    app.config.update(
        COMMONS_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_SECURE=settings.is_https,
        SESSION_COOKIE_SAMESITE="None" if settings.is_https else "Lax",
        TEMPLATES_AUTO_RELOAD=not settings.is_production,
    )

    from plugin import db

    db.init_app(app)
    _register_blueprints(app, settings)
    _register_errors(app)
    _register_security_headers(app, settings)

    from plugin.web import launch_fields, launch_qs, launch_url, path_for, url_token_meta

    app.jinja_env.globals.update(
        path_for=path_for,
        launch_url=launch_url,
        launch_qs=launch_qs,
        launch_fields=launch_fields,
        url_token_meta=url_token_meta,
    )

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "csp_nonce": g.get("csp_nonce", ""),
            "tool_name": settings.tool_name,
            "tool_version": __version__,
        }

    return app


def _register_blueprints(app: Flask, settings: Settings) -> None:
    import importlib

    from plugin import api
    from plugin.lti.views import bp as lti_bp

    api.init_app(app)
    app.register_blueprint(lti_bp)
    # Each domain package wires itself in (blueprints, API, event subscribers) via init_app.
    for name in ("plugin.xapi", "plugin.performance", "plugin.social"):
        module = importlib.import_module(name)
        if hasattr(module, "init_app"):
            module.init_app(app)
    if settings.sandbox_enabled:
        from plugin.lti.sandbox.setup import register_sandbox

        register_sandbox(app, settings)


def _register_errors(app: Flask) -> None:
    from plugin.lti.errors import LaunchError
    from plugin.web import WebError, error_page, wants_json

    @app.errorhandler(LaunchError)
    def _launch_error(exc: LaunchError):
        log.info("refused LTI message: %s %s", exc.code, exc.message)
        if wants_json():
            return jsonify(error=exc.code, message=exc.message, hint=exc.admin_hint), exc.status
        return error_page(
            exc.status,
            "This launch was refused",
            exc.message,
            exc.admin_hint,
            exc.retry_url,
            exc.code,
        )

    @app.errorhandler(WebError)
    def _web_error(exc: WebError):
        if wants_json():
            return jsonify(error=exc.title, message=exc.message, hint=exc.hint), exc.status
        return error_page(exc.status, exc.title, exc.message, exc.hint)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        message = exc.description or exc.name
        data = getattr(exc, "data", None)
        if isinstance(data, dict) and data.get("messages"):
            message = f"{message} {data['messages']}"
        if wants_json():
            return jsonify(error=exc.name, message=message), status
        return error_page(status, exc.name, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        if wants_json():
            return jsonify(error="Internal error", message="Something went wrong on our side."), 500
        return error_page(
            500,
            "Something went wrong",
            "Something went wrong on our side.",
            "Try again; if it keeps happening, tell your administrator.",
        )


def _register_security_headers(app: Flask, settings: Settings) -> None:
    @app.before_request
    def _nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)

    from plugin.web import frame_ancestors

    @app.after_request
    def _headers(response):
        nonce = g.get("csp_nonce", "")
        # Only the launch's LMS may frame a page of a launch; before a launch, the registered
        # platforms (plugin.web.frame_ancestors). Nothing frames a non-HTML response.
        ancestors = frame_ancestors() if response.mimetype == "text/html" else "'none'"
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: https:; "
            "connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; "
            "frame-src 'self'; "
            f"frame-ancestors {ancestors}",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
