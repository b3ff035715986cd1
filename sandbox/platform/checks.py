"""Input checks and URL helpers every service of the sandbox platform shares."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sandbox.platform.model import PlatformError

#: Ids the platform makes or accepts for courses, people, groups and resource links.
ID_RE = re.compile(r"^[A-Za-z0-9._~@:-]{1,128}$")


def is_http_url(value: object) -> bool:
    """An absolute ``http(s)`` URL with a host and no fragment."""
    if not isinstance(value, str) or not value:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def is_number(value: object) -> bool:
    """A finite int or float (``True``/``False`` are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_datetime(value: object, what: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries a UTC offset."""
    if not isinstance(value, str):
        raise PlatformError("invalid_request", f"{what} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PlatformError("invalid_request", f"{what} is not ISO 8601: {value!r}") from exc
    if parsed.tzinfo is None:
        raise PlatformError("invalid_request", f"{what} must include a timezone offset")
    return parsed


def add_query(url: str, params: Mapping[str, str]) -> str:
    """Append query parameters to ``url``, keeping the ones it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def check_id(value: object, what: str) -> str:
    """``value`` if it matches :data:`ID_RE`, else ``ValueError`` naming ``what``."""
    if not isinstance(value, str) or not ID_RE.match(value):
        raise ValueError(f"{what} must match {ID_RE.pattern}: {value!r}")
    return value


def short_hash(text: str) -> str:
    """The first 10 hex digits of the SHA-256 of ``text`` (stable ids such as default links)."""
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def string_dict(value: object, what: str) -> dict[str, str]:
    """Validate a custom-parameter map: string keys and string values only."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PlatformError("invalid_request", f"{what} must map strings to strings")
    return dict(value)


def host_matches(url: str, domain: str) -> bool:
    """Whether ``url`` lives on ``domain`` (``host`` or ``host:port``; subdomains allowed)."""
    parts = urlsplit(url)
    dom = urlsplit("//" + domain)
    host, dom_host = (parts.hostname or "").lower(), (dom.hostname or "").lower()
    if not dom_host or not (host == dom_host or host.endswith("." + dom_host)):
        return False
    if dom.port is None:
        return True
    default = 443 if parts.scheme == "https" else 80
    return (parts.port or default) == dom.port
