"""``make run``: the development server of the tool with the sandbox LMS mounted under ``/sandbox``
(when ``COMMONS_SANDBOX`` is on, as it is by default in development), on SQLite by default, the
tool's URLs on ``PORT``, its state in the instance folder. Run as ``python -m sandbox`` from the
checkout (the sandbox is not part of the installed package)."""

from __future__ import annotations

import click

from plugin.devserver import development_app, serve, server_options
from sandbox.mount import ensure_sandbox_registration, mount_sandbox


@click.command()
@server_options
def main(host: str, port: int | None, no_upgrade: bool) -> None:
    """Run the tool and the sandbox LMS (migrates the database first)."""
    app = development_app(port, upgrade=not no_upgrade)
    settings = app.config["COMMONS_SETTINGS"]
    if settings.sandbox_enabled:
        mount_sandbox(app, settings)
        with app.app_context():
            ensure_sandbox_registration(app)
        click.echo(f" * Sandbox LMS: {settings.tool_base_url}/sandbox/")
    serve(app, host, port)
