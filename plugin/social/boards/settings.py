"""A board and its settings: made from its placement's (deep-linked) settings on first use, changed
by course staff (each change in the moderation log)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer, not_found
from plugin.db import utcnow
from plugin.lti.models import Placement
from plugin.performance import links
from plugin.social.boards.log import audit
from plugin.social.boards.tags import board_competencies, competency_choices
from plugin.social.boards.visibility import check_board
from plugin.social.models import COHORT_MODES, COHORT_NONE, DEFAULT_POSTS_PER_HOUR, Board


def setting_flag(value: object) -> bool:
    """A switch among the board settings: from LTI custom parameters it arrives as a string, and
    only "true", "1", "yes" or "on" switch it on; otherwise only ``True`` does."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return value is True


def _count_setting(value: object, what: str, *, high: int) -> int | None:
    """A whole-number board setting (from a form or LTI custom parameters): blank = None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise Refusal(400, f"{what} must be a whole number.")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError as exc:
        raise Refusal(400, f"{what} must be a whole number.") from exc
    if number < 0 or number > high:
        raise Refusal(400, f"{what} must be between 0 and {high}.")
    return number


def _settings_from_placement(settings: dict) -> dict:
    """Board settings from the placement's (deep-linked) settings; bad values fall back to the
    defaults rather than refusing the launch."""
    cohort_mode = settings.get("cohort_mode", COHORT_NONE)
    values: dict = {
        "cohort_mode": cohort_mode if cohort_mode in COHORT_MODES else COHORT_NONE,
        "qa_mode": setting_flag(settings.get("qa_mode")),
        "anonymous_allowed": setting_flag(settings.get("anonymous_allowed")),
        "record_views": setting_flag(settings.get("record_views")),
        "mentors_moderate": setting_flag(settings.get("mentors_moderate")),
        "posts_per_hour": DEFAULT_POSTS_PER_HOUR,
    }
    for name, high in (("grade_threads", 1000), ("grade_replies", 1000), ("posts_per_hour", 1000)):
        try:
            number = _count_setting(settings.get(name), name, high=high)
        except Refusal:
            number = None
        if number is not None:
            values[name] = number
    return values


def board_for_placement(session: Session, placement: Placement) -> Board:
    """The placement's board, made on first use from the placement's settings (``cohort_mode``,
    ``qa_mode``, ``anonymous_allowed``, ``grade_threads``, ``grade_replies``, ``record_views``,
    ``mentors_moderate``, ``posts_per_hour``)."""
    board = session.scalar(select(Board).where(Board.placement_id == placement.id))
    if board is not None:
        return board
    board = Board(
        placement_id=placement.id,
        context_id=placement.context_id,
        created_at=utcnow(),
        **_settings_from_placement(placement.settings or {}),
    )
    try:
        with session.begin_nested():
            session.add(board)
    except IntegrityError:  # another request made it first
        board = session.scalars(select(Board).where(Board.placement_id == placement.id)).one()
    return board


BOARD_SETTINGS = (
    "cohort_mode",
    "qa_mode",
    "anonymous_allowed",
    "grade_threads",
    "grade_replies",
    "record_views",
    "mentors_moderate",
    "posts_per_hour",
)


def update_settings(session: Session, viewer: Viewer, board: Board, **changes: object) -> Board:
    """Course staff change the board's settings (only the names in :data:`BOARD_SETTINGS`);
    the change is written to the moderation audit log."""
    check_board(viewer, board)
    if not viewer.staff:
        raise Refusal(403, "Only course staff can change the board's settings.")
    unknown = set(changes) - set(BOARD_SETTINGS)
    if unknown:
        raise Refusal(400, f"Unknown setting: {', '.join(sorted(unknown))}.")
    values: dict[str, object] = {}
    for name, value in changes.items():
        if name == "cohort_mode":
            if value not in COHORT_MODES:
                raise Refusal(400, "Cohort mode is 'none' or 'groups'.")
            values[name] = value
        elif name in ("grade_threads", "grade_replies"):
            values[name] = _count_setting(value, name.replace("_", " ").capitalize(), high=1000)
        elif name == "posts_per_hour":
            number = _count_setting(value, "Posts per hour", high=1000)
            values[name] = DEFAULT_POSTS_PER_HOUR if number is None else number
        else:
            values[name] = setting_flag(value)
    changed = [n for n, v in values.items() if getattr(board, n) != v]
    for name in changed:
        setattr(board, name, values[name])
    if changed:
        audit(
            session,
            viewer,
            board,
            "settings",
            reason=", ".join(f"{n}={values[n]}" for n in changed),
        )
        session.flush()
    return board


@dataclass(frozen=True)
class SettingsForm:
    """What the board's settings page offers: the competencies the board is linked to, and the
    ones staff may link it to (the platform's current ones, then any linked one not among them)."""

    linked: list[links.CompetencyInfo]
    choices: list[links.CompetencyInfo]


def settings_form(session: Session, viewer: Viewer, board: Board) -> SettingsForm:
    """The board's settings page, for course staff only (403 for anyone else)."""
    check_board(viewer, board)
    if not viewer.staff:
        raise Refusal(403, "Only course staff can change the board's settings.")
    linked = board_competencies(session, viewer, board)
    choices = competency_choices(session, viewer)
    shown = {c.id for c in choices}
    choices += [c for c in linked if c.id not in shown]
    return SettingsForm(linked, choices)


def get_board(session: Session, viewer: Viewer, board_id: int) -> Board:
    """A board of the viewer's course (404 for any other)."""
    board = session.get(Board, board_id)
    if board is None or board.context_id != viewer.context_id:
        raise not_found("This board")
    return board
