"""``commons boards …``: discussion board tasks from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


@click.group("boards")
def boards_group() -> None:
    """Discussion boards."""


@boards_group.command("grades")
@click.argument("board_id", type=int)
@with_appcontext
def grades_command(board_id: int) -> None:
    """Send BOARD_ID's participation grades to the LMS gradebook (AGS)."""
    from plugin.db import new_session, unit_of_work
    from plugin.social import reports
    from plugin.social.boards import BoardError
    from plugin.social.models import Board

    try:
        with unit_of_work(new_session()) as session:
            board = session.get(Board, board_id)
            if board is None:
                raise click.ClickException(f"There is no board {board_id}.")
            report = reports.send_board_grades(session, board)
    except BoardError as exc:
        raise click.ClickException(exc.message) from exc
    for result in report.results:
        state = "sent" if result.posted else f"NOT SENT: {result.message}"
        click.echo(f"{result.name}: {result.score_given:g}/{report.score_maximum} {state}")
    click.echo(report.summary())
    if report.error or report.failed:
        sys.exit(1)
