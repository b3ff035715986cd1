"""Helpers for server-rendered pages of every widget: the 303 back to a page of the launch, and
ids and switches read from a form or query string.

Every POST of a page answers 303 to the page it came from; what a person typed into an id field
is refused with a readable 400 (a :class:`~plugin.access.Refusal`), never a 500.
"""

from __future__ import annotations

from flask import redirect, request
from werkzeug.wrappers import Response

from plugin.access import Refusal
from plugin.ids import parse_id
from plugin.web import launch_url

TRUE_VALUES = ("1", "true", "on", "yes")


def back(endpoint: str, **values: object) -> Response:
    """303 to a page of the current launch (``url_for`` values, the launch query added)."""
    return redirect(launch_url(endpoint, **values), code=303)


def form_flag(name: str) -> bool:
    """A checkbox or switch of the submitted form: on for "1", "true", "on" or "yes"."""
    return request.form.get(name, "") in TRUE_VALUES


def id_or_none(value: str | None, what: str) -> int | None:
    """An id (or a count) from a form or query value: None when blank; 400 unless it is a whole
    number from 1 to :data:`plugin.ids.MAX_ID`."""
    try:
        return parse_id(value)
    except ValueError as exc:
        raise Refusal(400, f"Choose a valid {what}.") from exc


def ids(values: list[str], what: str = "competency") -> list[int]:
    """The ids of a multi-value form field (blank values left out), each checked as
    :func:`id_or_none` checks one."""
    found = []
    for value in values:
        number = id_or_none(value, what)
        if number is not None:
            found.append(number)
    return found
