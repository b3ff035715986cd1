"""What a course link opens: setting up a placement, and Deep Linking content items.

Services in the house style (docs/architecture.md, "Access"): they take the session and the
:class:`~plugin.access.Viewer`, decide who may act, raise :class:`~plugin.access.Refusal`, and know
no widget by name — they loop over :mod:`plugin.widgets`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from plugin import widgets
from plugin.access import Refusal, Viewer
from plugin.lti import claims as C
from plugin.lti.models import LaunchSession, Placement

MAX_TITLE_CHARS = 200
MAX_POINTS = 10000


def set_up(session: Session, viewer: Viewer, placement_id: int | None, name: str | None) -> None:
    """Staff choose the widget a link opens when it was made without deep linking: one that is
    built, and only once (a link that opens something keeps it: 409)."""
    if not viewer.staff or placement_id is None:
        raise Refusal(
            403,
            "Ask your instructor to choose what this link opens.",
            title="Only course staff can set up this activity",
        )
    widget = widgets.get(name)
    if widget is None or not widget.available:
        raise Refusal(400, "Pick one of the widgets offered on the page.", title="Choose a widget")
    placement = session.get(Placement, placement_id)
    assert placement is not None  # the launch's own placement
    if placement.widget and placement.widget != widget.name:
        opens = widgets.get(placement.widget)
        raise Refusal(
            409,
            f"It opens the {opens.label if opens else placement.widget}.",
            title="This activity is already set up",
        )
    placement.widget = widget.name


@dataclass(frozen=True)
class DeepLinkRequest:
    """What the platform's content picker asked for (the deep-linking settings claim)."""

    settings: Mapping[str, Any]
    #: the platform takes more than one item
    multiple: bool
    #: the platform takes a gradebook column with an item
    lineitem_ok: bool


def deep_link_request(viewer: Viewer, launch: LaunchSession) -> DeepLinkRequest:
    """The content picker's request, when this launch is one and the viewer may add activities
    (staff); refused otherwise, or when the picker does not take LTI resource links here."""
    if launch.message_type != C.DEEP_LINKING_REQUEST:
        raise Refusal(
            400,
            "This page is for adding Learning Commons "
            "to a course from the platform's content picker.",
            title="Not a content selection",
        )
    if not viewer.staff:
        raise Refusal(
            403,
            "Ask your instructor to add Learning Commons to the course.",
            title="Only course staff can add activities",
        )
    settings = launch.claims.get(C.DL_SETTINGS) or {}
    accept_types = settings.get("accept_types") or []
    if "ltiResourceLink" not in accept_types:
        raise Refusal(
            400,
            "The content picker does not accept LTI resource links at this place.",
            title="This platform cannot take Learning Commons links here",
            hint=f"accept_types was {accept_types!r}; use a placement that accepts ltiResourceLink.",
        )
    return DeepLinkRequest(
        settings=settings,
        multiple=bool(settings.get("accept_multiple", False)),
        lineitem_ok=bool(settings.get("accept_lineitem", True)),
    )


def content_items(
    request: DeepLinkRequest, form: MultiDict[str, str], launch_url: str
) -> list[dict[str, Any]]:
    """The ``ltiResourceLink`` content items for the widgets chosen in the deep-linking form:
    each with its title, the widget's custom parameters and, when points were given and the
    platform takes one, a gradebook column."""
    offered = {w.name: w for w in widgets.available()}
    chosen = form.getlist("widget")
    if not chosen or any(name not in offered for name in chosen):
        raise Refusal(400, "Pick at least one of the widgets offered.", title="Choose what to add")
    if len(chosen) > 1 and not request.multiple:
        raise Refusal(400, "The platform accepts only one item here.", title="Choose one")
    return [_content_item(offered[name], form, request.lineitem_ok, launch_url) for name in chosen]


def _content_item(
    widget: widgets.Widget, form: MultiDict[str, str], lineitem_ok: bool, launch_url: str
) -> dict[str, Any]:
    title = (form.get(f"title_{widget.name}") or widget.label).strip()[:MAX_TITLE_CHARS]
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": title,
        "url": launch_url,
        "custom": {"widget": widget.name, **widget.custom_parameters(form, lineitem_ok)},
        "iframe": {"width": 1000, "height": 800},
        "window": {"targetName": "learning-commons"},
    }
    points = (form.get(f"points_{widget.name}") or "").strip()
    if lineitem_ok and points:
        try:
            maximum = float(points)
        except ValueError as exc:
            raise Refusal(
                400, f"{points!r} is not a number.", title="Points must be a number"
            ) from exc
        if not 0 < maximum <= MAX_POINTS:
            raise Refusal(
                400, f"Points must be between 0 and {MAX_POINTS}.", title="Points out of range"
            )
        item["lineItem"] = {
            "scoreMaximum": maximum,
            "label": title,
            "tag": "participation",
            "resourceId": widget.name,
        }
    return item
