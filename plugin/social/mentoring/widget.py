"""Mentoring as a widget: its entry in :mod:`plugin.widgets`.

Deep linking shows :data:`SETTINGS_TEMPLATE` in the Mentoring card and turns what the instructor
chose into the link's custom parameters with :func:`custom_parameters`; the platform sends them
back with every launch, and :func:`plugin.social.mentoring.programmes.programme_for_placement`
reads them (``setting_kind``, ``setting_matching``, ``setting_duration_days``,
``setting_cadence_days``, ``setting_default_capacity``, ``setting_enrolment``) when it makes the
programme. Defaults are left out of the link.
"""

from __future__ import annotations

from collections.abc import Mapping

from plugin.access import Refusal
from plugin.social.mentoring.models import KINDS, MATCHING_MODES, MENTEE_CHOICE, ONE_TO_ONE
from plugin.social.mentoring.programmes import (
    DEFAULT_CADENCE_DAYS,
    DEFAULT_CAPACITY,
    DEFAULT_DURATION_DAYS,
    KIND_LABELS,
    MATCHING_LABELS,
    NUMBERS,
    whole_number,
)
from plugin.widgets import Widget

SETTINGS_TEMPLATE = "mentoring/_deep_link_settings.html"
DEFAULTS = {
    "kind": ONE_TO_ONE,
    "matching": MENTEE_CHOICE,
    "duration_days": DEFAULT_DURATION_DAYS,
    "cadence_days": DEFAULT_CADENCE_DAYS,
    "default_capacity": DEFAULT_CAPACITY,
    "kinds": KIND_LABELS,
    "matching_modes": MATCHING_LABELS,
    "numbers": {
        name: NUMBERS[name] for name in ("duration_days", "cadence_days", "default_capacity")
    },
}


def _refused(message: str) -> Refusal:
    return Refusal(400, message, title="Please check the mentoring settings")


def custom_parameters(form: Mapping[str, str], lineitem_ok: bool) -> dict[str, str]:
    """The programme settings chosen in deep linking (fields ``mentoring_<setting>``), as the
    link's custom parameters; a default is left out (the programme applies its own)."""
    custom: dict[str, str] = {}
    kind = form.get("mentoring_kind", "") or ONE_TO_ONE
    if kind not in KINDS:
        raise _refused("Choose the programme's type.")
    if kind != ONE_TO_ONE:
        custom["setting_kind"] = kind
    matching = form.get("mentoring_matching", "") or MENTEE_CHOICE
    if matching not in MATCHING_MODES:
        raise _refused("Choose how mentors and mentees are matched.")
    if matching != MENTEE_CHOICE:
        custom["setting_matching"] = matching
    for name in ("duration_days", "cadence_days", "default_capacity"):
        value = form.get(f"mentoring_{name}", "").strip()
        if not value:
            continue
        try:
            number = whole_number(value, name)
        except Refusal as exc:
            raise _refused(exc.message) from exc
        if number != DEFAULTS[name]:
            custom[f"setting_{name}"] = str(number)
    enrolment = form.get("mentoring_enrolment", "") or "open"
    if enrolment not in ("open", "closed"):
        raise _refused("Choose whether enrolment is open.")
    if enrolment == "closed":
        custom["setting_enrolment"] = "closed"
    return custom


MENTORING = Widget(
    name="mentoring",
    label="Mentoring",
    launch_endpoint="mentoring.placement_programme",
    settings_template=SETTINGS_TEMPLATE,
    settings_defaults=DEFAULTS,
    custom_parameters=custom_parameters,
    description="A mentoring programme: people opt in as mentors and mentees with the "
    "competencies they offer or want to grow, and are matched.",
    order=20,
)
