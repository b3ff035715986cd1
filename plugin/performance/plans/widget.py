"""The Development plan as a widget: its entry in :mod:`plugin.widgets`.

Deep linking shows :data:`SETTINGS_TEMPLATE` in the Development plan card and turns what the
instructor chose into the link's custom parameters with :func:`custom_parameters`; the platform
sends them back with every launch, and :func:`plugin.performance.plans.plans.plan_for_placement`
reads ``setting_share_evidence`` when it makes a learner's plan; ``setting_ags_completion``
("on", offered only when the platform takes a gradebook column) is kept for sending goal
completion to the gradebook. Defaults are left out of the link.
"""

from __future__ import annotations

from collections.abc import Mapping

from plugin.access import Refusal
from plugin.widgets import Widget

SETTINGS_TEMPLATE = "plans/_deep_link_settings.html"
SHARE_CHOICES = {
    "private": "Private until the learner shares each item",
    "shared": "Shared with reviewers unless the learner withholds it",
}
DEFAULTS = {"share_evidence": "private", "share_choices": SHARE_CHOICES}


def _refused(message: str) -> Refusal:
    return Refusal(400, message, title="Please check the development plan settings")


def custom_parameters(form: Mapping[str, str], lineitem_ok: bool) -> dict[str, str]:
    """The plan settings chosen in deep linking (fields ``plan_<setting>``) as the link's
    custom parameters; a default is left out."""
    custom: dict[str, str] = {}
    share = form.get("plan_share_evidence", "") or "private"
    if share not in SHARE_CHOICES:
        raise _refused("Choose whether evidence is shared with reviewers by default.")
    if share != "private":
        custom["setting_share_evidence"] = share
    ags = form.get("plan_ags_completion", "") or "off"
    if ags not in ("on", "off"):
        raise _refused("Choose whether goal completion goes to the gradebook.")
    if ags == "on":
        if not lineitem_ok:
            raise _refused("This platform takes no gradebook column from this link.")
        custom["setting_ags_completion"] = "on"
    return custom


PLAN = Widget(
    name="plan",
    label="Development plan",
    launch_endpoint="plans.placement_plan",
    settings_template=SETTINGS_TEMPLATE,
    settings_defaults=DEFAULTS,
    custom_parameters=custom_parameters,
    description="Each learner's development plan: goals on the competencies they want to grow, "
    "with what they learn in boards, mentoring and work as evidence.",
    order=30,
)
