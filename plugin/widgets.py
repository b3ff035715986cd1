"""The widget registry: what a course link (an LTI placement) can open.

A widget is a feature a course link opens inside the LMS — a discussion board, mentoring, a
development plan. Each widget package declares its :class:`Widget` in its ``init_app`` with
:func:`register`; the LTI layer (``plugin.lti``) knows no widget by name: deep linking offers the
available widgets, renders each one's settings fields, turns the instructor's choices into the
content item's custom parameters, and the placement page sends a launch to the widget's launch
endpoint — all by looping over this registry.

The custom parameters a widget returns travel with the link: the platform sends them back in every
launch of it, and ``plugin.lti.launch`` stores those named ``setting_*`` on the placement
(``Placement.settings``) for the widget to read when it opens the placement.

Packages also declare the **course tools** staff reach from every widget's page (competency
frameworks, learning records) with :func:`add_course_tool`; the shared "Course tools" box lists them.

A widget that is declared but not yet built (``launch_endpoint`` None) is not offered anywhere; a
course link that already names it shows a "not available yet" page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

#: parses the deep-linking form for one widget: (the submitted form, whether the platform takes a
#: gradebook column) -> the custom parameters of its content item; raises ``plugin.access.Refusal``
#: for a bad value
SettingsParser = Callable[[Mapping[str, str], bool], dict[str, str]]


def _no_settings(form: Mapping[str, str], lineitem_ok: bool) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Widget:
    """One widget as the LTI layer sees it."""

    #: the value of the ``widget`` custom parameter and of ``Placement.widget``
    name: str
    #: what people call it ("Discussion board")
    label: str
    #: the Flask endpoint that opens the launch's placement of this widget (it reads
    #: ``current().placement``); None while the widget is not built yet
    launch_endpoint: str | None = None
    #: a template included in the widget's card of the deep-linking form, or None; its fields
    #: are named ``<name>_<setting>`` and it sees ``lineitem_ok`` and :attr:`settings_defaults`
    settings_template: str | None = None
    #: values the settings template shows as defaults
    settings_defaults: Mapping[str, Any] = field(default_factory=dict)
    #: the deep-linking form -> the content item's custom parameters (besides ``widget``)
    custom_parameters: SettingsParser = _no_settings
    #: a sentence for the deep-linking card and the placement set-up form
    description: str = ""
    #: where deep linking and placement set-up list it (lowest first; the first is preselected)
    order: int = 100

    @property
    def available(self) -> bool:
        """Built and offered: it has a launch endpoint."""
        return self.launch_endpoint is not None


def _registry(app: Flask) -> dict[str, Widget]:
    return app.extensions.setdefault("commons_widgets", {})


def register(app: Flask, widget: Widget) -> None:
    """Declare a widget for this app (in the widget package's ``init_app``); a name is declared
    once."""
    registry = _registry(app)
    if widget.name in registry:
        raise ValueError(f"widget {widget.name!r} is declared twice")
    registry[widget.name] = widget


def get(name: str | None) -> Widget | None:
    """The declared widget of this name, available or not; None for an unknown name."""
    return _registry(current_app).get(name or "")


def available() -> Iterator[Widget]:
    """The widgets deep linking and placement set-up offer, by their ``order`` (then the order
    they were declared): the first is the one preselected."""
    widgets = [w for w in _registry(current_app).values() if w.available]
    return iter(sorted(widgets, key=lambda w: w.order))


def labels() -> dict[str, str]:
    """Every declared widget's label by name (for pages that name a placement's widget)."""
    return {w.name: w.label for w in _registry(current_app).values()}


@dataclass(frozen=True)
class CourseTool:
    """A staff page every widget's page links to from its "Course tools" box."""

    label: str
    #: the Flask endpoint of the page (it takes no URL values)
    endpoint: str
    #: where it sits in the list (smaller first)
    order: int = 100


def add_course_tool(app: Flask, tool: CourseTool) -> None:
    """Declare a course tool for this app (in the owning package's ``init_app``)."""
    app.extensions.setdefault("commons_course_tools", []).append(tool)


def course_tools() -> list[CourseTool]:
    """The course tools, by their ``order``."""
    return sorted(current_app.extensions.get("commons_course_tools", []), key=lambda t: t.order)
