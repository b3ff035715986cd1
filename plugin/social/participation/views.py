"""Staff report pages of a board: participation summary (HTML and CSV), board export (CSV and
JSON, streamed) and sending participation grades to the LMS. Thin views over
:mod:`plugin.social.participation.services`; every link and form carries the launch token."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer
from plugin.db import new_session
from plugin.lti.models import LmsGroup
from plugin.pages import back, course_read, id_or_none, render
from plugin.social import boards, participation
from plugin.social.models import Board
from plugin.web import course_act, launch_required

bp = Blueprint("social_participation", __name__, template_folder="templates")

COLUMNS = (
    ("name", "Learner"),
    ("threads", "Threads"),
    ("replies", "Replies"),
    ("comments", "Comments"),
    ("likes", "Likes received"),
    ("helpful", "Helpful received"),
    ("endorsed", "Endorsed replies"),
    ("accepted", "Accepted answers"),
    ("first", "First post"),
    ("last", "Last post"),
    ("score", "Score"),
)


def participation_args(args) -> dict:
    """``sort``, ``order`` (asc|desc), ``cohort`` and ``scope`` (board|course) of a request."""
    sort = args.get("sort") or "name"
    order = args.get("order") or ("asc" if sort == "name" else "desc")
    if order not in ("asc", "desc"):
        raise Refusal(400, "Order is 'asc' or 'desc'.", title="Please check the link")
    scope = args.get("scope") or "board"
    if scope not in ("board", "course"):
        raise Refusal(400, "Scope is 'board' or 'course'.", title="Please check the link")
    return {
        "sort": sort,
        "descending": order == "desc",
        "cohort_group_id": id_or_none(args.get("cohort"), "cohort"),
        "course": scope == "course",
    }


def _participation(session: Session, who: Viewer, board_id: int) -> participation.Participation:
    args = participation_args(request.args)
    board = boards.get_board(session, who, board_id)
    return participation.participation(
        session,
        who,
        None if args["course"] else board,
        cohort_group_id=args["cohort_group_id"],
        sort=args["sort"],
        descending=args["descending"],
    )


def _attachment(body, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/boards/<int:board_id>/participation")
@launch_required
def participation_page(board_id: int) -> str:
    session, who = course_read()
    report = _participation(session, who, board_id)
    board = boards.get_board(session, who, board_id)
    if report.board is None:  # the whole course: every group, LMS-made or staff-made
        cohorts = list(
            session.scalars(
                select(LmsGroup)
                .where(LmsGroup.context_id == board.context_id)
                .order_by(LmsGroup.name, LmsGroup.id)
            )
        )
    else:  # the board's own kind of cohorts (none without cohort mode)
        cohorts = boards.cohort_choices(session, who, board)
    last = (
        participation.last_grades(session, who, board)
        if participation.grades_board(board)
        else None
    )
    return render(
        "social/participation.html",
        board=board,
        viewer=who,
        report=report,
        columns=[c for c in COLUMNS if c[0] != "score" or report.graded],
        sort_label=dict(COLUMNS)[report.sort],
        cohorts=cohorts,
        scope="course" if report.board is None else "board",
        order="desc" if report.descending else "asc",
        last_grades=last,
        sent=request.args.get("sent") == "1",
        title=participation.board_title(board),
    )


@bp.get("/boards/<int:board_id>/participation.csv")
@launch_required
def participation_csv(board_id: int) -> Response:
    session, who = course_read()
    report = _participation(session, who, board_id)
    board = session.get(Board, board_id)
    assert board is not None
    filename = participation.export_filename(board, "csv").replace(".csv", "-participation.csv")
    return _attachment(participation.participation_csv(report), "text/csv", filename)


def stream_export(board_id: int, fmt: str) -> Response:
    """The streamed export response (shared with the API): checks first, then streams from its
    own session, closed when the stream ends."""
    _request_session, who = course_read()
    session = new_session()
    try:
        board = boards.get_board(session, who, board_id)
        rows = participation.export_rows(session, who, board)
        filename = participation.export_filename(board, fmt)
        info = participation.board_info(board)
    except BaseException:
        session.close()
        raise

    def chunks() -> Iterator[str]:
        try:
            if fmt == "csv":
                yield from participation.export_csv(rows)
            else:
                yield from participation.export_json(info, rows)
        finally:
            session.close()

    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return _attachment(stream_with_context(chunks()), mimetype, filename)


@bp.get("/boards/<int:board_id>/export.csv")
@launch_required
def export_csv(board_id: int) -> Response:
    return stream_export(board_id, "csv")


@bp.get("/boards/<int:board_id>/export.json")
@launch_required
def export_json(board_id: int) -> Response:
    return stream_export(board_id, "json")


@bp.post("/boards/<int:board_id>/grades")
@launch_required
def send_grades(board_id: int) -> Response:
    with course_act() as (session, who):
        board = boards.get_board(session, who, board_id)
        participation.send_grades(session, who, board)
    return back("social_participation.participation_page", board_id=board_id, sent=1)
