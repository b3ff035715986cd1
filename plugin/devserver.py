"""The development server: the app on ``PORT`` (every URL the tool hands out uses it when
``TOOL_BASE_URL`` is not set), its database migrated, the worker in a thread of the process.

``commons run`` serves the tool alone; ``make run`` (``python -m sandbox``, outside the product
package) builds the same app and mounts the sandbox LMS on it before serving."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask

from plugin import create_app


def server_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every development server command takes: ``--host``, ``--port`` and
    ``--no-upgrade``."""
    command = click.option(
        "--no-upgrade", is_flag=True, help="Do not run database migrations first."
    )(command)
    command = click.option(
        "--port",
        default=None,
        type=click.IntRange(1, 65535),
        help="Default: PORT, or the port of TOOL_BASE_URL.",
    )(command)
    return click.option("--host", default="127.0.0.1", show_default=True)(command)


def development_app(
    port: int | None, load_app: Callable[[], Flask] = create_app, *, upgrade: bool = True
) -> Flask:
    """The app a development server serves, made by ``load_app``: with ``port`` and no
    ``TOOL_BASE_URL``, ``PORT`` is set first so the tool's own URLs (launch, login, JWKS) use
    that port. Refuses a production configuration; migrates the database unless ``upgrade`` is
    off."""
    if port is not None and not os.environ.get("TOOL_BASE_URL"):
        os.environ["PORT"] = str(port)
    app = load_app()
    settings = app.config["COMMONS_SETTINGS"]
    if settings.is_production:
        raise click.ClickException("Use gunicorn in production: gunicorn 'plugin:create_app()'.")
    if upgrade:
        from plugin.migrate import upgrade as migrate

        with app.app_context():
            migrate(settings.database_url)
    return app


def serve(app: Flask, host: str, port: int | None) -> None:
    """Serve ``app`` on ``port`` (default: the port of ``TOOL_BASE_URL``) until stopped, with the
    worker (outbox, jobs, periodic tasks) in a daemon thread; warns when ``port`` is not the port
    of ``TOOL_BASE_URL``."""
    from werkzeug.serving import run_simple

    from plugin import jobs

    base_url = app.config["COMMONS_SETTINGS"].tool_base_url
    base_port = urlsplit(base_url).port or 80
    if port is not None and port != base_port:
        click.echo(f" ! TOOL_BASE_URL is {base_url}: set it to match port {port}.")
    jobs.start_worker_thread(app)
    run_simple(host, port or base_port, app, threaded=True, use_reloader=False)
