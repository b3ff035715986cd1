"""``commons xapi …``: outbox status, re-sending, the profile (``commons worker`` delivers the
outbox: see plugin/cli.py and plugin/jobs.py)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext


@click.group("xapi")
def xapi_group() -> None:
    """xAPI statements: outbox status, re-sending, the published profile."""


@xapi_group.command("status")
@click.option("--platform-id", type=int, help="Only this platform.")
@with_appcontext
def status_command(platform_id: int | None) -> None:
    """Count statements per delivery state."""
    from sqlalchemy import func, select

    from plugin.db import new_session
    from plugin.xapi.models import STATES, XapiOutbox

    with new_session() as session:
        query = select(XapiOutbox.state, func.count()).group_by(XapiOutbox.state)
        if platform_id is not None:
            query = query.where(XapiOutbox.platform_id == platform_id)
        counts = dict.fromkeys(STATES, 0) | dict(session.execute(query).all())
    for state in STATES:
        click.echo(f"{state:>10}  {counts[state]}")


@xapi_group.command("resend")
@click.option(
    "--dead", "dead", is_flag=True, required=True, help="Re-queue statements the LRS refused."
)
@click.option("--platform-id", type=int, help="Only this platform.")
@click.option("--statement-id", "statement_ids", multiple=True, help="Only these statements.")
@with_appcontext
def resend_command(dead: bool, platform_id: int | None, statement_ids: tuple[str, ...]) -> None:
    """Queue dead statements to be sent again (after fixing the cause)."""
    from plugin.db import new_session, unit_of_work
    from plugin.xapi.outbox import Scope, resend

    scope = Scope(platform_id) if platform_id is not None else None
    with unit_of_work(new_session()) as session:
        count = resend(session, scope=scope, statement_ids=list(statement_ids) or None)
    click.echo(f"{count} statement{'s' if count != 1 else ''} queued again.")


@xapi_group.command("profile")
@with_appcontext
def profile_command() -> None:
    """Print our xAPI Profile (JSON-LD), as served at /xapi/profile."""
    from plugin.xapi.profile import profile_for
    from plugin.xapi.statements import base_url

    click.echo(json.dumps(profile_for(base_url()), indent=2, ensure_ascii=False))
