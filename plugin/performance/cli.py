"""``commons competencies …``: import, list and show frameworks from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from flask import current_app
from flask.cli import with_appcontext

from plugin.db import new_session, unit_of_work
from plugin.performance import associations, frameworks
from plugin.performance.frameworks import FrameworkImportError, ImportResult, catalog
from plugin.performance.frameworks.catalog import TreeNode

T = TypeVar("T")


@click.group("competencies")
def competencies() -> None:
    """Competency frameworks (CASE packages, Moodle framework CSV)."""


@competencies.command("import")
@click.option(
    "--platform-id", type=int, required=True, help="The platform (tenant) to import into."
)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="A CASE package URL (…/ims/case/v1p0/CFPackages/<identifier>).")
@click.option(
    "--allow-private-hosts",
    is_flag=True,
    help="Allow a URL on a private network (default: the ALLOW_PRIVATE_HOSTS setting).",
)
@with_appcontext
def import_command(
    platform_id: int, path: Path | None, url: str | None, allow_private_hosts: bool
) -> None:
    """Import or update a framework from a file (CASE JSON or Moodle CSV) or a CASE URL."""
    if (path is None) == (url is None):
        raise click.UsageError("Give either --file or --url.")
    try:
        with unit_of_work(new_session()) as session:
            if path is not None:
                result = frameworks.import_document(
                    session, platform_id, path.read_bytes(), filename=path.name
                )
            else:
                assert url is not None
                settings = current_app.config["COMMONS_SETTINGS"]
                result = frameworks.import_case_url(
                    session,
                    platform_id,
                    url,
                    allow_private_hosts=allow_private_hosts or settings.private_hosts_allowed,
                )
    except FrameworkImportError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(_summary(result))
    if result.associations:
        click.echo(
            f"  {result.associations} CASE associations ({result.associations_added} new, "
            f"{result.associations_updated} changed, {result.associations_removed} removed)."
        )
    for warning in result.warnings:
        click.echo(f"  note: {warning}")


def _summary(result: ImportResult) -> str:
    verb = "Imported" if result.created else "Updated"
    return (
        f"{verb} framework {result.framework_id} “{result.title}”: {result.total} competencies "
        f"({result.added} new, {result.updated} changed, {result.unchanged} unchanged, "
        f"{result.retired} retired, {result.deleted} removed)."
    )


@competencies.command("list")
@click.option("--platform-id", type=int, required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(platform_id: int, as_json: bool) -> None:
    """List a platform's frameworks."""
    with new_session() as session:
        rows = [
            {
                "id": s.framework.id,
                "title": s.framework.title,
                "source": s.framework.source_kind,
                "version": s.framework.version,
                "uri": s.framework.uri,
                "competencies": s.active,
                "retired": s.retired,
                "last_imported_at": s.framework.last_imported_at.isoformat(),
            }
            for s in catalog.list_frameworks(session, platform_id)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No frameworks.")
    for r in rows:
        click.echo(
            f"{r['id']:>4}  {r['title']}  [{r['source']}]  {r['competencies']} competencies"
            + (f", {r['retired']} retired" if r["retired"] else "")
        )


@competencies.command("show")
@click.option("--platform-id", type=int, required=True)
@click.argument("framework_id", type=int)
@with_appcontext
def show_command(platform_id: int, framework_id: int) -> None:
    """Print a framework's competencies as an indented tree."""
    with new_session() as session:
        framework = catalog.get_framework(session, platform_id, framework_id)
        if framework is None:
            raise click.ClickException(f"No framework {framework_id} on platform {platform_id}.")
        click.echo(f"{framework.title}  ({framework.uri})")
        _echo_tree(catalog.framework_tree(session, framework))
        counts = associations.type_counts(session, framework)
        if counts:
            click.echo("Associations: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))


@competencies.command("export")
@click.option("--platform-id", type=int, required=True)
@click.argument("framework_id", type=int)
@with_appcontext
def export_command(platform_id: int, framework_id: int) -> None:
    """Print a framework as JSON: its facts, its competencies and its CASE associations (each
    end with the competency of this platform it resolves to, if any)."""
    with new_session() as session:
        framework = catalog.get_framework(session, platform_id, framework_id)
        if framework is None:
            raise click.ClickException(f"No framework {framework_id} on platform {platform_id}.")
        items = _every_page(
            lambda after: catalog.competencies_page(session, framework, after=after, limit=500)
        )
        links_ = _every_page(
            lambda after: associations.framework_page(session, framework, after=after, limit=500)
        )

        def end(e: associations.End) -> dict:
            return {
                "uri": e.uri,
                "identifier": e.identifier,
                "title": e.title,
                "competency_id": e.competency.id if e.competency else None,
            }

        document = {
            "framework": {
                "id": framework.id,
                "title": framework.title,
                "uri": framework.uri,
                "identifier": framework.identifier,
                "version": framework.version,
                "source_kind": framework.source_kind,
            },
            "competencies": [
                {
                    "id": c.id,
                    "iri": c.uri,
                    "identifier": c.identifier,
                    "code": c.code,
                    "name": c.name,
                    "parent_id": c.parent_id,
                    "retired": c.retired_at is not None,
                }
                for c in items
            ],
            "associations": [
                {
                    "association_type": a.association_type,
                    "identifier": a.identifier,
                    "uri": a.uri,
                    "sequence_number": a.sequence_number,
                    "last_change_date_time": a.changed_at.isoformat() if a.changed_at else None,
                    "origin": end(a.origin),
                    "destination": end(a.destination),
                }
                for a in links_
            ],
        }
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _every_page(read: Callable[[int | None], tuple[list[T], int | None]]) -> list[T]:
    """Every item of a keyset-paged reader (``read(after) -> (items, next after or None)``)."""
    items: list[T] = []
    after: int | None = None
    while True:
        page, after = read(after)
        items += page
        if after is None:
            return items


def _echo_tree(nodes: list[TreeNode]) -> None:
    for node in nodes:
        c = node.competency
        first_line = c.name.splitlines()[0] if c.name else ""
        label = f"{c.code}  {first_line}" if c.code and c.code != c.name else first_line
        retired = "  [retired]" if c.retired_at else ""
        click.echo(f"{'  ' * node.depth}{label}{retired}")
        _echo_tree(node.children)
