"""Row ids as the outside world sends them: whole numbers from 1 to 2^31 - 1.

Every primary key is an ``INTEGER`` column: PostgreSQL refuses a larger value in a query
(``NumericValueOutOfRange``) and SQLite's driver cannot even bind one beyond 2^63
(``OverflowError``). So an id that arrives in a URL, a query string, a form or a JSON body is
checked against this range where it is read, and a value outside it is "not found" (in a path) or
a 4xx with a message (elsewhere), never a query:

- :class:`IdConverter` replaces Flask's ``int`` URL converter for the whole app (see
  :func:`plugin.create_app`), so ``/boards/<int:board_id>`` answers 404 for ``/boards/2147483648``
  on every page and API route at once, and the OpenAPI document states the bounds;
- :class:`Id` is the marshmallow field for ids in API bodies and query strings (422 outside);
- :func:`parse_id` reads one from a form or query value (``ValueError`` outside);
- :func:`is_id` checks a value decoded from a page cursor.
"""

from __future__ import annotations

import builtins
from typing import Any

from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter, Map

MIN_ID = 1
MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; also well inside SQLite's 64-bit integers


def is_id(value: object) -> bool:
    """A whole number (not a bool) that can be a row id."""
    return isinstance(value, int) and not isinstance(value, bool) and MIN_ID <= value <= MAX_ID


def parse_id(value: str | None) -> int | None:
    """An id from a form or query value: None when blank, ``ValueError`` unless it is digits
    within the id range."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        raise ValueError(f"not an id: {value!r}")
    number = int(text)
    if not is_id(number):
        raise ValueError(f"not an id: {value!r}")
    return number


def _range_pattern(high: int) -> str:
    """A regular expression for the decimal numbers 1..``high`` without leading zeros, so a path
    with any other number matches no rule at all (werkzeug answers 405, not 404, when a rule's
    converter refuses a value that another method's rule on the same path would have taken)."""
    digits = str(high)
    shorter = f"[1-9]\\d{{0,{len(digits) - 2}}}" if len(digits) > 1 else ""
    same_length = []
    for i, digit in enumerate(digits):
        head, rest = digits[:i], len(digits) - i - 1
        low = "1" if i == 0 else "0"
        if int(digit) > int(low):
            tail = f"\\d{{{rest}}}" if rest else ""
            same_length.append(f"{head}[{low}-{int(digit) - 1}]{tail}")
    same_length.append(digits)
    return "(?:" + "|".join(p for p in (shorter, *same_length) if p) + ")"


ID_PATTERN = _range_pattern(MAX_ID)


class IdConverter(IntegerConverter):
    """Flask's ``int`` converter limited to the id range: other numbers match no route (404)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = MIN_ID,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        low = MIN_ID if min is None else builtins.max(min, MIN_ID)
        high = MAX_ID if max is None else builtins.min(max, MAX_ID)
        super().__init__(map, fixed_digits=fixed_digits, min=low, max=high, signed=signed)
        if not fixed_digits and not signed:
            self.regex = ID_PATTERN


class Id(fields.Integer):
    """An id in a JSON body or query string: a whole number in the id range (422 outside).
    Extra keyword arguments are those of :class:`marshmallow.fields.Integer`."""

    def __init__(self, **kwargs: Any) -> None:
        extra = kwargs.pop("validate", None)
        checks: list[Any] = [validate.Range(min=MIN_ID, max=MAX_ID)]
        if extra is not None:
            checks.extend(extra if isinstance(extra, list | tuple) else [extra])
        super().__init__(validate=checks, **kwargs)
