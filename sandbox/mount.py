"""Mounting the sandbox LMS on the tool's app (the development server, :mod:`sandbox.devserver`):
one platform under ``/sandbox`` with a stable key and its course's placements, line items and
scores kept in the instance folder (so a restart keeps what deep linking added, as the tool keeps
its boards), the tool registered on both sides; and the development mailbox, ``/sandbox/mail``
(the tool's e-mail outbox). The product never imports this package; the sandbox builds on the
product's app."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from flask import Flask, request

from plugin.config import Settings
from plugin.db import new_session, unit_of_work
from plugin.lti.registration import add_platform
from sandbox.platform import SandboxPlatform
from sandbox.web import make_platform_blueprint
from sandbox.web.mail import make_mail_blueprint

SANDBOX_CLIENT_ID = "learning-commons-sandbox"
SANDBOX_DEPLOYMENT_ID = "sandbox-deployment-1"
STATE_FILE = "sandbox_course.json"
log = logging.getLogger(__name__)


def mount_sandbox(app: Flask, settings: Settings) -> None:
    """Mount the sandbox platform on the tool's ``app`` (never in production)."""
    if settings.is_production:
        raise RuntimeError("The sandbox platform is never served in production.")
    key_file = Path(app.instance_path) / "sandbox_platform_key.pem"
    pem = key_file.read_bytes() if key_file.exists() else None
    base = settings.tool_base_url
    platform = SandboxPlatform.demo(base + "/sandbox", pem)
    if pem is None:
        key_file.write_bytes(platform.private_key_pem)
        key_file.chmod(0o600)
    platform.register_tool(
        SANDBOX_CLIENT_ID,
        [SANDBOX_DEPLOYMENT_ID],
        login_url=base + "/lti/login",
        launch_url=base + "/lti/launch",
        jwks_url=base + "/lti/jwks",
        deep_link_url=base + "/lti/launch",
        name=settings.tool_name,
        target_link_uri=base + "/lti/launch",
    )
    app.extensions["commons.sandbox"] = platform
    app.register_blueprint(make_platform_blueprint(platform, "sandbox", "/sandbox"))
    app.register_blueprint(make_mail_blueprint())  # /sandbox/mail: the e-mail outbox
    state_file = Path(app.instance_path) / STATE_FILE
    _restore(platform, state_file)

    @app.after_request
    def _save_course(response):
        # Deep linking returns, line items and scores all arrive as writes to the sandbox.
        if (
            request.blueprint == "sandbox"
            and request.method != "GET"
            and response.status_code < 400
        ):
            _save(platform, state_file)
        return response

    state = {"done": False}

    @app.before_request
    def _ensure_registration() -> None:
        if not state["done"]:
            ensure_sandbox_registration(app)
            state["done"] = True


def _restore(platform: SandboxPlatform, path: Path) -> None:
    if not path.exists():
        return
    try:
        platform.restore_course_state(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:  # a damaged file: start from the demo seed
        log.warning("sandbox: could not restore %s (%s); starting from the demo course", path, exc)


def _save(platform: SandboxPlatform, path: Path) -> None:
    """Write the course state atomically (a crash never leaves half a file)."""
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(platform.course_state(), indent=1), encoding="utf-8")
    os.replace(partial, path)


def ensure_sandbox_registration(app: Flask) -> None:
    """Register the mounted sandbox platform in the tool's database (idempotent; nothing when no
    sandbox is mounted)."""
    platform = app.extensions.get("commons.sandbox")
    if platform is None:
        return
    with unit_of_work(new_session(app)) as session:
        row = add_platform(
            session,
            issuer=platform.issuer,
            client_id=SANDBOX_CLIENT_ID,
            auth_login_url=platform.auth_url,
            auth_token_url=platform.token_url,
            key_set_url=platform.jwks_url,
            deployment_ids=[SANDBOX_DEPLOYMENT_ID],
            name="Sandbox LMS",
            product_family_code="sandbox",
        )
        row.is_sandbox = True
