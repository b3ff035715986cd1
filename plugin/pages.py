"""Helpers for server-rendered pages of every widget: reading as the launch's person, rendering a
page of the launch, the 303 back to a page of the launch, and ids and switches read from a form
or query string.

Every POST of a page answers 303 to the page it came from; what a person typed into an id field
is refused with a readable 400 (a :class:`~plugin.access.Refusal`), never a 500.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from plugin.access import Refusal, Viewer
from plugin.db import db_session
from plugin.ids import parse_id
from plugin.web import course_viewer, current, launch_url

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


def course_read() -> tuple[Session, Viewer]:
    """For a page or API read: the request's session and the launch's person in their course
    (:func:`plugin.web.course_viewer`: 400 outside a course, 403 without a membership there).
    Acts use :func:`plugin.web.course_act` instead, which commits."""
    session = db_session()
    return session, course_viewer(session)


def render(template: str, **context: Any) -> str:
    """A page of the current launch: the template gets the launch (``cur``) and the page token
    its forms carry (``token``) besides ``context``."""
    cur = current()
    return render_template(template, cur=cur, token=cur.token, **context)
