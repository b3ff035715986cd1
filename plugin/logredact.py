"""Keep launch credentials out of logs.

A URL token (``lc=…``) may sit in a request line, a ``Referer`` or a ``Location``; a page token in an
``Authorization: Bearer`` header; a launch cookie in a ``Cookie`` header. Each is a bearer credential
for as long as it lives, so no log line may carry one (docs/security.md):

- :func:`install` wraps the process's log record factory: every record, from the app's own loggers,
  werkzeug's development server or any library, is written with those values replaced by
  ``[redacted]``. ``create_app`` installs it.
- :class:`GunicornLogger` does the same to gunicorn's access-log atoms (request line, path, query,
  every header), whatever ``access_log_format`` asks for. ``plugin/gunicorn_conf.py`` selects it:
  ``gunicorn -c python:plugin.gunicorn_conf 'plugin:create_app()'``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"

_PATTERNS = (
    # lc=<token> in a query string or form body, also percent-encoded inside another URL
    (
        re.compile(r"(?<![A-Za-z0-9_.-])(lc(?:=|%3D))[^&\s\"'<>;,]+", re.IGNORECASE),
        r"\1" + REDACTED,
    ),
    # the launch cookie's value
    (re.compile(r"(__Host-lcs_[A-Za-z0-9_-]+=)[^;\s\"']+"), r"\1" + REDACTED),
    # a bearer token
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1" + REDACTED),
)
_HINTS = ("lc=", "lc%3d", "__host-lcs_", "bearer")
_SECRET_HEADERS = ("authorization", "cookie", "x-commons-token")  # their whole value goes


def redact(text: str) -> str:
    """``text`` with every launch credential replaced by ``[redacted]``."""
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_installed = False


def install() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format is logging's to report, as it would without us
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(redacting_record)


try:  # gunicorn is the production extra; the rest of this module works without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - only without the production extra
    _GunicornLogger = None  # type: ignore[assignment,misc]


if _GunicornLogger is not None:

    class GunicornLogger(_GunicornLogger):
        """gunicorn's logger with launch credentials taken out of every access-log atom."""

        def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
            atoms = super().atoms(resp, req, environ, request_time)
            for key, value in atoms.items():
                if not isinstance(value, str):
                    continue
                # "{authorization}i" (a request header), "{http_cookie}e" (its environ twin)
                name = key[1:-2].removeprefix("http_").replace("_", "-") if key[:1] == "{" else ""
                if name in _SECRET_HEADERS:
                    atoms[key] = REDACTED
                else:
                    atoms[key] = redact(value)
            return atoms
