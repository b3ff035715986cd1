"""Learning Commons: an LTI 1.3 tool for social learning and performance development."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from plugin.access import Refusal
from plugin.config import Settings, check_production

__version__ = "0.1.0"
log = logging.getLogger(__name__)


def create_app(
    overrides: dict[str, Any] | None = None, *, settings: Settings | None = None
) -> Flask:
    """The application factory: configuration, database, blueprints, error pages.

    The instance folder (the SQLite database; in development also the sandbox LMS's key and
    course) is ``instance/`` beside the package, or ``COMMONS_INSTANCE_PATH``. The sandbox LMS is
    not part of the app: the development server (``python -m sandbox``) mounts it."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("COMMONS_INSTANCE_PATH") or None,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _install_input_limits(app)
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

    if settings.trusted_proxies:
        # Behind N proxies: the client address (login cap) and scheme from X-Forwarded-For/-Proto.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )

    from plugin import db

    db.init_app(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_security_headers(app, settings)

    from plugin import widgets
    from plugin.web import launch_fields, launch_qs, launch_url, path_for, url_token_meta

    app.jinja_env.globals.update(
        path_for=path_for,
        launch_url=launch_url,
        launch_qs=launch_qs,
        launch_fields=launch_fields,
        url_token_meta=url_token_meta,
        course_tools=widgets.course_tools,
    )

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "csp_nonce": g.get("csp_nonce", ""),
            "tool_name": settings.tool_name,
            "tool_version": __version__,
        }

    return app


def _install_input_limits(app: Flask) -> None:
    """Before any route exists: ``<int:…>`` in every route only matches ids in the column range
    (others are 404, never a database error), JSON nested too deeply is a 400, and so is text with
    a NUL character."""
    from plugin.ids import IdConverter
    from plugin.web import JSONProvider, refuse_nul_characters

    app.url_map.converters["int"] = IdConverter
    app.json = JSONProvider(app)
    app.before_request(refuse_nul_characters)


def _register_blueprints(app: Flask) -> None:
    import importlib

    from plugin import api, jobs
    from plugin.lti import tasks as lti_tasks
    from plugin.lti.views import bp as lti_bp

    api.init_app(app)
    app.register_blueprint(lti_bp)
    lti_tasks.init_app(app)  # roster sync jobs, the purge of old launch state
    # Each domain package wires itself in (blueprints, API, event subscribers, jobs) via init_app.
    for name in ("plugin.xapi", "plugin.mail", "plugin.performance", "plugin.social"):
        module = importlib.import_module(name)
        if hasattr(module, "init_app"):
            module.init_app(app)
    jobs.init_app(app)  # last: the worker thread (development) runs what the packages registered


def _register_errors(app: Flask) -> None:
    """Refusals as readable pages, or as the one JSON error shape (``plugin.web.error_json``) for
    /api and for clients that ask for JSON."""
    from plugin.lti.errors import LaunchError
    from plugin.web import describe_field_errors, error_json, error_page, wants_json

    @app.errorhandler(LaunchError)
    def _launch_error(exc: LaunchError):
        log.info("refused LTI message: %s %s", exc.code, exc.message)
        title = "This launch was refused"
        if wants_json():
            body = error_json(exc.status, exc.message, title=title, hint=exc.admin_hint)
            return jsonify(body), exc.status
        return error_page(
            exc.status,
            title,
            exc.message,
            exc.admin_hint,
            exc.retry_url,
            exc.code,
        )

    @app.errorhandler(Refusal)
    def _refusal(exc: Refusal):
        if wants_json():
            body = error_json(exc.status, exc.message, title=exc.title, hint=exc.hint)
            return jsonify(body), exc.status
        return error_page(exc.status, exc.title, exc.message, exc.hint)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        data = getattr(exc, "data", None)
        data = data if isinstance(data, dict) else {}
        errors = data.get("errors") or data.get("messages")
        errors = errors if isinstance(errors, dict) else None
        message = data.get("message") or (
            describe_field_errors(errors) if errors else (exc.description or exc.name)
        )
        # keep the headers the refusal needs (``Allow`` on a 405, webargs' extra headers)
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        if wants_json():
            body = error_json(status, str(message), title=exc.name, errors=errors)
            return jsonify(body), status, headers
        page, code = error_page(status, exc.name, str(message))
        return page, code, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        if wants_json():
            return jsonify(error_json(500, "Something went wrong on our side.")), 500
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
