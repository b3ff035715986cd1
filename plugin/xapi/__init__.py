"""xAPI: domain events become statements in a transactional outbox, delivered to an LRS.

``init_app`` subscribes the statement builder to domain events, registers the pages and the JSON
API, and reads the LRS settings from the environment:

- ``LRS_ENDPOINT`` (e.g. ``https://lrs.example/xAPI``), ``LRS_USERNAME``, ``LRS_PASSWORD``
  (a platform's own ``lrs_*`` settings take precedence for its statements);
- ``XAPI_BATCH_SIZE`` (default 100) statements per POST;
- ``XAPI_FORWARDER_THREAD`` (1/true): the older name of ``WORKER_THREAD`` (plugin/jobs.py), which
  runs the whole worker - this outbox included - in a thread of the web process (development;
  ``commons worker`` is the production way);
- ``XAPI_INCLUDE_RESPONSE_TEXT`` (1/true) to put post text in ``result.response`` (off by
  default; never for anonymous posts).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from plugin import events, jobs

log = logging.getLogger(__name__)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


def init_app(app: Flask) -> None:
    from plugin import api, widgets
    from plugin.xapi import api as xapi_api
    from plugin.xapi import outbox, resolve, statements, views

    widgets.add_course_tool(
        app, widgets.CourseTool("Learning records (xAPI statements)", "xapi.overview", order=20)
    )
    env = os.environ
    app.config.setdefault("LRS_ENDPOINT", env.get("LRS_ENDPOINT") or None)
    app.config.setdefault("LRS_USERNAME", env.get("LRS_USERNAME") or None)
    app.config.setdefault("LRS_PASSWORD", env.get("LRS_PASSWORD") or None)
    app.config.setdefault("XAPI_BATCH_SIZE", int(env.get("XAPI_BATCH_SIZE") or 100))
    app.config.setdefault(
        "XAPI_INCLUDE_RESPONSE_TEXT", _flag(env.get("XAPI_INCLUDE_RESPONSE_TEXT"))
    )
    settings = app.config["COMMONS_SETTINGS"]
    # The worker thread is for development only, and never in tests unless asked.
    app.config.setdefault(
        "XAPI_FORWARDER_THREAD",
        _flag(env.get("XAPI_FORWARDER_THREAD")) and settings.env == "development",
    )
    statements.set_default_base_url(settings.tool_base_url)

    events.subscribe("xapi.outbox", outbox.on_event)
    resolve.register_lms_finders()
    app.register_blueprint(views.bp)
    api.api.register_blueprint(xapi_api.blp)
    jobs.register_loop("xAPI outbox", deliver_outbox)


def deliver_outbox(
    session_factory: Callable[[], Session],
    config: Mapping[str, Any],
    *,
    once: bool,
    idle_sleep: float,
    stop: threading.Event,
) -> str:
    """The worker's outbox loop (:func:`plugin.xapi.forwarder.run_worker`) and its summary."""
    from plugin.xapi.forwarder import run_worker

    if not config.get("LRS_ENDPOINT"):
        log.info("No LRS_ENDPOINT set: only platforms with their own LRS will be served.")
    total = run_worker(session_factory, config, once=once, idle_sleep=idle_sleep, stop=stop)
    return (
        f"Delivered {total.delivered}, refused {total.dead}, to retry {total.retried} "
        f"({total.requests} requests)."
    )
