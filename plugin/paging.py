"""Keyset page cursors, shared by every widget's lists.

A cursor is the last row's sort values (a JSON list) in URL-safe base64 without padding. It is
not signed: whatever a person edits into it is checked here, and a cursor that does not decode to
what the list expects is refused with 400 "This page link is not valid." (never a 500, never a
value the query's columns could not hold).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from plugin.access import Refusal
from plugin.ids import is_id

MAX_PAGE_SIZE = 100
INVALID = "This page link is not valid."


def encode(values: list) -> str:
    """The cursor for a page that starts after a row with these sort values."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode(cursor: str, size: int) -> list:
    """The ``size`` values a cursor holds (400 unless it decodes to a JSON list of that size)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refusal(400, INVALID) from exc
    if not isinstance(values, list) or len(values) != size:
        raise Refusal(400, INVALID)
    return values


def cursor_id(value: object) -> int:
    """A row id from a page cursor (an edited cursor may hold any number): 400 unless in the id
    range, so the query never sees a number its column cannot hold."""
    if not is_id(value):
        raise Refusal(400, INVALID)
    return value  # type: ignore[return-value]


def cursor_count(value: object) -> int:
    """A count from a page cursor (e.g. helpful reactions): a whole number within the id range."""
    if value != 0 and not is_id(value):
        raise Refusal(400, INVALID)
    return value  # type: ignore[return-value]


def when(value: object) -> datetime:
    """A timestamp from a page cursor: ISO 8601 with a time zone (400 otherwise)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise Refusal(400, INVALID) from exc
    if moment.tzinfo is None:
        raise Refusal(400, INVALID)
    return moment


def limit(value: object, maximum: int = MAX_PAGE_SIZE) -> int:
    """A requested page size: a positive whole number (400 otherwise), at most ``maximum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise Refusal(400, "The page size must be a positive number.")
    return min(value, maximum)
