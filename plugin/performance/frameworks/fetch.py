"""Fetching a CASE package from a CASE service URL, through :mod:`plugin.netguard` (the one guarded
HTTP client for URLs someone else chose)."""

from __future__ import annotations

from typing import Any

from plugin import netguard
from plugin.performance.frameworks.importers.text import decode_text, load_json
from plugin.performance.frameworks.parsed import FrameworkImportError

MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024
DOWNLOAD_TIMEOUT = 20.0
MAX_REDIRECTS = 5


def fetch_json(
    url: str,
    *,
    timeout: float = DOWNLOAD_TIMEOUT,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    allow_private_hosts: bool = False,
) -> tuple[Any, str]:
    """GET a CASE JSON document through :mod:`plugin.netguard` (a total deadline of ``timeout``
    seconds, a size limit, checked redirects, no private addresses unless allowed). Returns
    (data, final URL)."""
    limits = netguard.Limits(
        deadline=timeout,
        max_bytes=max_bytes,
        max_redirects=MAX_REDIRECTS,
        allow_private_hosts=allow_private_hosts,
    )
    try:
        fetched = netguard.fetch("GET", url, limits=limits, headers={"Accept": "application/json"})
        netguard.require_status(fetched, 200)
    except netguard.FetchError as exc:
        raise FrameworkImportError(exc.message) from exc
    text = decode_text(fetched.body)
    if text.lstrip()[:1] == "<":
        raise FrameworkImportError(
            "The URL returned a web page, not CASE JSON. Use a CASE API package URL such as "
            "https://…/ims/case/v1p0/CFPackages/{identifier}."
        )
    return load_json(text), fetched.url
