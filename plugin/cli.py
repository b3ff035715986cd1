"""The ``commons`` command: run, worker, database, platforms, keys, roster."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from plugin import create_app
from plugin.devserver import development_app, serve, server_options

log = logging.getLogger(__name__)


def _app_factory():
    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_app_factory, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """Learning Commons — LTI 1.3 tool for social learning and development plans."""


@main.command("run", with_appcontext=False)  # the app is made after --port is read
@server_options
def run_cmd(host: str, port: int | None, no_upgrade: bool) -> None:
    """Run the development server for the tool alone (migrates the database first); `make run`
    serves the tool with the sandbox LMS."""
    from flask.cli import ScriptInfo

    load_app = click.get_current_context().ensure_object(ScriptInfo).load_app
    serve(development_app(port, load_app, upgrade=not no_upgrade), host, port)


@main.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, then exit (cron, tests).")
@click.option(
    "--idle-sleep",
    default=2.0,
    show_default=True,
    type=float,
    help="Seconds to wait when nothing is due.",
)
@with_appcontext
def worker_command(once: bool, idle_sleep: float) -> None:
    """Background work: deliver the xAPI outbox, run queued jobs and periodic tasks (runs until
    stopped). One failing job never stops the others; with --once the exit status is 1 when a
    job failed in this run (see the summary)."""
    import signal
    import threading

    from plugin import jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    if not once and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    if not (app.config.get("LRS_ENDPOINT") or once):
        click.echo("No LRS_ENDPOINT set: only platforms with their own LRS will be served.")
    report = jobs.run_worker(app, once=once, idle_sleep=idle_sleep, stop=stop)
    for line in report.lines:
        click.echo(line)
    click.echo(report.jobs.summary())
    for failure in report.jobs.failures:
        click.echo(f"  {failure}", err=True)
    for error in report.errors:
        click.echo(f"FAILED {error}", err=True)
    if once and not report.ok:
        sys.exit(1)


@main.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from plugin.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database at {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from plugin.migrate import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)


@main.group("platform")
def platform_group() -> None:
    """Platforms (LMS registrations)."""


@platform_group.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization URL.")
@click.option("--token-url", required=True, help="The platform's OAuth2 token URL.")
@click.option("--jwks-url", required=True, help="The platform's public key set URL.")
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True)
@click.option("--name", default="")
@click.option("--audience", default=None, help="Token endpoint audience, if not the token URL.")
@with_appcontext
def platform_add(
    issuer: str,
    client_id: str,
    auth_login_url: str,
    token_url: str,
    jwks_url: str,
    deployment_ids: tuple[str, ...],
    name: str,
    audience: str | None,
) -> None:
    """Register a platform by hand (the fields an LMS shows for a manual LTI 1.3 tool)."""
    from plugin.db import new_session, unit_of_work
    from plugin.lti.registration import RegistrationError, add_platform

    try:
        with unit_of_work(new_session()) as session:
            platform = add_platform(
                session,
                issuer=issuer,
                client_id=client_id,
                auth_login_url=auth_login_url,
                auth_token_url=token_url,
                key_set_url=jwks_url,
                deployment_ids=list(deployment_ids),
                name=name,
                auth_audience=audience,
            )
            click.echo(f"Platform {platform.id} registered: {issuer} / {client_id}")
    except RegistrationError as exc:
        raise click.ClickException(str(exc)) from exc


@platform_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def platform_list(as_json: bool) -> None:
    """List registered platforms, their status (active | pending) and deployments."""
    from plugin.db import new_session
    from plugin.lti.models import Platform

    with new_session() as session:
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "issuer": p.issuer,
                "client_id": p.client_id,
                "status": p.status,
                "deployments": [d.deployment_id for d in p.deployments],
            }
            for p in session.scalars(select(Platform).order_by(Platform.id))
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No platforms registered.")
    for r in rows:
        click.echo(
            f"{r['id']:>4}  {r['status']:<7}  {r['issuer']}  client={r['client_id']}  "
            f"deployments={','.join(r['deployments']) or '-'}"
        )


@platform_group.command("approve")
@click.argument("platform_id", type=int)
@with_appcontext
def platform_approve(platform_id: int) -> None:
    """Approve a pending registration (made by open registration): its launches are accepted."""
    from plugin.db import new_session, unit_of_work
    from plugin.lti.models import Platform
    from plugin.lti.registration import RegistrationError, approve_platform

    try:
        with unit_of_work(new_session()) as session:
            platform = approve_platform(session, platform_id)
            others = list(
                session.scalars(
                    select(Platform.id).where(
                        Platform.issuer == platform.issuer, Platform.id != platform.id
                    )
                )
            )
            click.echo(
                f"Platform {platform.id} is active: {platform.issuer} / {platform.client_id}"
            )
    except RegistrationError as exc:
        raise click.ClickException(str(exc)) from exc
    if others:
        click.echo(
            f"Note: issuer {platform.issuer} is also registered as platform "
            f"{', '.join(map(str, others))}; this registration is a separate tenant.",
            err=True,
        )


@platform_group.command("invite")
@click.option(
    "--expires",
    "lifetime",
    default="7d",
    show_default=True,
    help="How long the invite is valid: 30m, 12h, 7d, 2w (at most 90 days).",
)
@click.option("--note", default="", help="Who or what the invite is for (shown by `invites`).")
@with_appcontext
def platform_invite(lifetime: str, note: str) -> None:
    """Make a single-use registration URL to paste into the LMS (LTI Dynamic Registration)."""
    from plugin.db import new_session, unit_of_work
    from plugin.lti import invites

    try:
        duration = invites.parse_lifetime(lifetime)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expires") from exc
    settings = current_app.config["COMMONS_SETTINGS"]
    with unit_of_work(new_session()) as session:
        invite, secret = invites.create_invite(session, lifetime=duration, note=note)
        expires = f"{invite.expires_at:%Y-%m-%d %H:%M} UTC"
        invite_id = invite.id
    click.echo(f"Invite {invite_id}, valid until {expires}, registers one platform once.")
    click.echo("Paste this URL into the LMS's tool registration screen (shown only now):")
    click.echo(invites.invite_url(settings, secret))


@platform_group.command("invites")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def platform_invites(as_json: bool) -> None:
    """List registration invites and their status (open | used | expired | revoked)."""
    from plugin.db import new_session
    from plugin.lti import invites

    def when(value: datetime | None) -> str | None:
        return f"{value:%Y-%m-%d %H:%M}" if value else None

    with new_session() as session:
        rows = [
            {
                "id": i.id,
                "status": invites.status_of(i),
                "note": i.note,
                "created": when(i.created_at),
                "expires": when(i.expires_at),
                "used": when(i.used_at),
                "revoked": when(i.revoked_at),
                "platform_id": i.platform_id,
            }
            for i in invites.list_invites(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No invites.")
    for r in rows:
        made = f"  platform={r['platform_id']}" if r["platform_id"] else ""
        click.echo(
            f"{r['id']:>4}  {r['status']:<7}  created {r['created']}  expires {r['expires']}"
            f"{made}  {r['note']}".rstrip()
        )


@platform_group.command("revoke-invite")
@click.argument("invite_id", type=int)
@with_appcontext
def platform_revoke_invite(invite_id: int) -> None:
    """Withdraw an unused registration invite."""
    from plugin.db import new_session, unit_of_work
    from plugin.lti.invites import revoke_invite
    from plugin.lti.registration import RegistrationError

    try:
        with unit_of_work(new_session()) as session:
            revoke_invite(session, invite_id)
    except RegistrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Invite {invite_id} revoked.")


@platform_group.command("remove")
@click.argument("platform_id", type=int)
@click.confirmation_option(prompt="Remove this platform and all its courses' data?")
@with_appcontext
def platform_remove(platform_id: int) -> None:
    """Remove a platform registration (and everything of its tenants)."""
    from plugin.db import new_session, unit_of_work
    from plugin.lti.registration import RegistrationError, remove_platform

    try:
        with unit_of_work(new_session()) as session:
            remove_platform(session, platform_id)
    except RegistrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Platform {platform_id} removed.")


@main.group("keys")
def keys_group() -> None:
    """The tool's signing keys."""


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Create a new signing key; older keys stay in the JWKS until retired."""
    from plugin.db import new_session, unit_of_work
    from plugin.lti import keys

    with unit_of_work(new_session()) as session:
        key = keys.rotate(session)
        click.echo(f"New signing key {key.kid}.")


@keys_group.command("retire")
@click.argument("kid")
@with_appcontext
def keys_retire(kid: str) -> None:
    """Remove an old key from the JWKS."""
    from plugin.db import new_session, unit_of_work
    from plugin.lti import keys

    try:
        with unit_of_work(new_session()) as session:
            keys.retire(session, kid)
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Key {kid} retired.")


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """List signing keys."""
    from plugin.db import new_session
    from plugin.lti.models import ToolKey

    with new_session() as session:
        for key in session.scalars(select(ToolKey).order_by(ToolKey.id)):
            click.echo(f"{key.kid}  {key.status}  created {key.created_at:%Y-%m-%d %H:%M}")


@main.group("roster")
def roster_group() -> None:
    """Course rosters (NRPS)."""


@roster_group.command("sync")
@click.option("--context-id", "context_pk", type=int, help="Only this context (database id).")
@with_appcontext
def roster_sync(context_pk: int | None) -> None:
    """Fetch rosters from platforms for every course that offered NRPS.

    A course whose platform fails (key set, token, HTTP, no answer) is reported and the others
    are still synced; once a platform does not answer at all, its remaining courses are skipped
    in this run. Ends with a summary; the exit status is 1 when any course failed."""
    from plugin.db import new_session, unit_of_work
    from plugin.lti.advantage import ServiceError, sync_roster
    from plugin.lti.models import Context, Platform

    with new_session() as session:
        query = (
            select(
                Context.id, Context.platform_id, Context.title, Context.context_id, Platform.name
            )
            .join(Platform, Platform.id == Context.platform_id)
            .where(Context.nrps_url.is_not(None))
            .order_by(Context.platform_id, Context.id)
        )
        if context_pk:
            query = query.where(Context.id == context_pk)
        courses = session.execute(query).all()
    synced, failures = 0, []
    down: set[int] = set()
    for cid, platform_id, title, lti_id, platform_name in courses:
        label = f"course {cid} ({title or lti_id}, platform {platform_id} {platform_name})".strip()
        if platform_id in down:
            failures.append(f"{label}: skipped, the platform did not answer earlier in this run")
            continue
        try:
            with unit_of_work(new_session()) as session:
                ctx = session.get(Context, cid)
                counts = sync_roster(session, ctx)
        except ServiceError as exc:
            failures.append(f"{label}: {exc}")
            if exc.unreachable:
                down.add(platform_id)
        except Exception as exc:  # one course never stops the others
            log.exception("roster sync of context %s failed", cid)
            failures.append(f"{label}: unexpected error ({type(exc).__name__}); see the log")
        else:
            synced += 1
            click.echo(
                f"{label}: {counts['members']} members, {counts['deactivated']} no longer "
                f"listed, {counts['groups']} groups"
            )
    for failure in failures:
        click.echo(f"FAILED {failure}", err=True)
    click.echo(f"Rosters: {synced} synced, {len(failures)} failed.")
    if failures:
        sys.exit(1)


# xAPI: ``commons xapi …`` manages the outbox (``commons worker`` above delivers it).
from plugin.xapi.cli import xapi_group  # noqa: E402

main.add_command(xapi_group)

if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("FLASK_APP", "plugin:create_app")
    main()

# Competencies: ``commons competencies import|list|show``.
from plugin.performance.cli import competencies  # noqa: E402

main.add_command(competencies)

# Discussion boards: ``commons boards grades <board_id>``.
from plugin.social.cli import boards_group  # noqa: E402

main.add_command(boards_group)
