"""Participation: what each learner did on a board, for course staff: the participation summary
(page, CSV and API), the full export (CSV, JSON) and sending participation grades to the LMS.

(Moderation's abuse reports are :mod:`plugin.social.moderation`.) The package's names are its
service API (``services``); ``views``, ``api``, ``schemas`` and ``templates/`` are its pages and
JSON API, wired by :func:`init_app`.
"""

from __future__ import annotations

from flask import Flask

from plugin.social.participation.services import (
    EXPORT_BATCH,
    EXPORT_COLUMNS,
    GRADES_ACTION,
    NOT_SENT,
    NOTHING_SENT,
    PARTICIPATION_COLUMNS,
    PARTICIPATION_SORTS,
    SCORE_MAXIMUM,
    GradeOutcome,
    GradeReport,
    LastGrades,
    Participation,
    ParticipationRow,
    board_info,
    board_title,
    export_csv,
    export_filename,
    export_json,
    export_rows,
    grades_board,
    last_grades,
    neutralise,
    participation,
    participation_csv,
    participation_score,
    score_points,
    send_board_grades,
    send_grades,
)

__all__ = [
    "EXPORT_BATCH",
    "EXPORT_COLUMNS",
    "GRADES_ACTION",
    "NOTHING_SENT",
    "NOT_SENT",
    "PARTICIPATION_COLUMNS",
    "PARTICIPATION_SORTS",
    "SCORE_MAXIMUM",
    "GradeOutcome",
    "GradeReport",
    "LastGrades",
    "Participation",
    "ParticipationRow",
    "board_info",
    "board_title",
    "export_csv",
    "export_filename",
    "export_json",
    "export_rows",
    "grades_board",
    "last_grades",
    "neutralise",
    "participation",
    "participation_csv",
    "participation_score",
    "score_points",
    "send_board_grades",
    "send_grades",
]


def init_app(app: Flask) -> None:
    """Register the participation pages and API."""
    from plugin.api import api
    from plugin.social.participation.api import blp
    from plugin.social.participation.views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
