"""``commons boards …``: discussion board tasks from the command line."""

from __future__ import annotations

import logging
import sys

import click
from flask.cli import with_appcontext

from plugin.access import Refusal

log = logging.getLogger(__name__)


@click.group("boards")
def boards_group() -> None:
    """Discussion boards."""


@boards_group.command("grades")
@click.argument("board_ids", nargs=-1, type=int)
@click.option(
    "--all", "every_board", is_flag=True, help="Every board with a grading rule, on every platform."
)
@with_appcontext
def grades_command(board_ids: tuple[int, ...], every_board: bool) -> None:
    """Send the participation grades of BOARD_IDS (or --all graded boards) to the LMS
    gradebooks (AGS).

    A board whose platform fails (key set, token, HTTP, no answer) is reported and the others are
    still sent. Ends with a summary; the exit status is 1 when any board or grade was not sent."""
    from sqlalchemy import or_, select

    from plugin.db import new_session, unit_of_work
    from plugin.social import participation
    from plugin.social.models import Board

    if not board_ids and not every_board:
        raise click.UsageError("Name one or more boards, or use --all.")
    if every_board:
        with new_session() as session:
            board_ids = tuple(
                session.scalars(
                    select(Board.id)
                    .where(or_(Board.grade_threads > 0, Board.grade_replies > 0))
                    .order_by(Board.context_id, Board.id)
                )
            )
    sent, failures = 0, []
    for board_id in board_ids:
        label = f"board {board_id}"
        try:
            with unit_of_work(new_session()) as session:
                board = session.get(Board, board_id)
                if board is None:
                    failures.append(f"There is no board {board_id}.")
                    continue
                label = f"board {board_id} ({participation.board_title(board)})"
                report = participation.send_board_grades(session, board)
        except Refusal as exc:
            failures.append(f"{label}: {exc.message}")
            continue
        except Exception as exc:  # one board never stops the others
            log.exception("sending the grades of board %s failed", board_id)
            failures.append(f"{label}: unexpected error ({type(exc).__name__}); see the log")
            continue
        click.echo(f"{label}:")
        for result in report.results:
            state = "sent" if result.posted else f"NOT SENT: {result.message}"
            click.echo(f"  {result.name}: {result.score_given:g}/{report.score_maximum} {state}")
        click.echo(f"  {report.summary()}")
        if report.error or report.failed:
            failures.append(f"{label}: {report.summary()}")
        else:
            sent += 1
    for failure in failures:
        click.echo(f"FAILED {failure}", err=True)
    click.echo(f"Boards: {sent} sent, {len(failures)} with grades not sent.")
    if failures:
        sys.exit(1)
