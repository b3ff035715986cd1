"""Reading an uploaded or fetched document as text, for every importer: decoding, recognising the
format, JSON, and the checks every stored string passes (length, storable characters)."""

from __future__ import annotations

import json
from typing import Any

from plugin.performance.frameworks.parsed import FrameworkImportError
from plugin.performance.models import SOURCE_CASE, SOURCE_MOODLE_CSV


def decode_text(raw: bytes | str) -> str:
    """The document as text: UTF-8 (a byte-order mark dropped), else :class:`FrameworkImportError`."""
    if isinstance(raw, str):
        return raw.lstrip("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FrameworkImportError(
            "The file is not UTF-8 text. Export CASE JSON or Moodle CSV as UTF-8 and try again."
        ) from exc


def detect_format(text: str, filename: str | None = None) -> str:
    """``case`` for JSON (CASE), ``moodle-csv`` otherwise."""
    if text.lstrip()[:1] in ("{", "[") or (filename or "").lower().endswith(".json"):
        return SOURCE_CASE
    return SOURCE_MOODLE_CSV


def load_json(text: str) -> Any:
    """The parsed JSON; :class:`FrameworkImportError` saying where it is not JSON, nested too
    deeply, or holding a number too long to convert."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FrameworkImportError(
            f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc
    except RecursionError as exc:
        raise FrameworkImportError("The JSON is nested too deeply to be a CASE package.") from exc
    except ValueError as exc:  # a number with more digits than Python converts (4300)
        raise FrameworkImportError("The JSON has a number too long to read.") from exc


def clean(value: str) -> str:
    """Line breaks as ``\\n``, surrounding white space removed."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def storable(text: str) -> bool:
    """Whether a database can store the text: no NUL character, no unpaired surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def limited(value: str, max_len: int, what: str) -> str:
    """``value`` when it fits its column of ``max_len`` characters, else
    :class:`FrameworkImportError` naming ``what``."""
    if len(value) > max_len:
        raise FrameworkImportError(f"{what} is longer than {max_len} characters.")
    return value
