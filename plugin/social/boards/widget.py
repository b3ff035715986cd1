"""The discussion board as a widget: its entry in :mod:`plugin.widgets`.

Deep linking shows :data:`SETTINGS_TEMPLATE` in the board's card and turns what the instructor
chose into the link's custom parameters with :func:`custom_parameters`; the platform sends them
back with every launch, and :func:`plugin.social.boards.board_for_placement` reads them (the
``setting_*`` names are the boards service's vocabulary) when the board is made.
"""

from __future__ import annotations

from collections.abc import Mapping

from plugin.access import Refusal
from plugin.social.models import DEFAULT_POSTS_PER_HOUR
from plugin.widgets import Widget

SETTINGS_TEMPLATE = "social/_deep_link_settings.html"

# Whole-number board settings the deep-linking form offers (0-1000; empty: the board's default).
NUMBERS = {
    "grade_threads": "threads for full participation marks",
    "grade_replies": "replies for full participation marks",
    "posts_per_hour": "posts per person per hour",
}
# Switches the form offers: form field -> custom parameter.
FLAGS = {
    "board_qa_mode": "setting_qa_mode",
    "board_anonymous": "setting_anonymous_allowed",
    "board_record_views": "setting_record_views",
    "board_mentors_moderate": "setting_mentors_moderate",
}


def _refused(message: str) -> Refusal:
    return Refusal(400, message, title="Please check the board settings")


def _number(value: str, what: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > 1000:
        raise _refused(f"The number of {what} must be a whole number from 0 to 1000.")
    return int(value)


def custom_parameters(form: Mapping[str, str], lineitem_ok: bool) -> dict[str, str]:
    """The board settings chosen in deep linking, as the link's custom parameters; defaults are
    left out (the board applies its own)."""
    custom: dict[str, str] = {}
    cohort_mode = form.get("board_cohort_mode", "")
    if cohort_mode in ("1", "groups"):  # "1": the form's checkbox before it offered two kinds
        custom["setting_cohort_mode"] = "groups"
    elif cohort_mode == "cohorts":
        custom["setting_cohort_mode"] = "cohorts"
    elif cohort_mode not in ("", "none"):
        raise _refused("Choose how cohorts work.")
    for field, parameter in FLAGS.items():
        if form.get(field):
            custom[parameter] = "true"
    for name, what in NUMBERS.items():
        number = _number(form.get(f"board_{name}", ""), what)
        if number is not None and (name, number) != ("posts_per_hour", DEFAULT_POSTS_PER_HOUR):
            custom[f"setting_{name}"] = str(number)
    return custom


BOARD = Widget(
    name="board",
    label="Discussion board",
    launch_endpoint="social.placement_board",
    settings_template=SETTINGS_TEMPLATE,
    settings_defaults={"posts_per_hour": DEFAULT_POSTS_PER_HOUR},
    custom_parameters=custom_parameters,
    order=10,
)
