"""Importing a framework into one platform: read the input, parse it with its format's importer
into the neutral structure, and store it (:mod:`.store`) in the caller's session, which the caller
commits. Bad input raises :class:`FrameworkImportError` before anything is added.

These take a platform id and check no person's permissions: they are for trusted callers (the
``commons competencies`` command, and :mod:`.services`, which checks the viewer first).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.orm import Session

from plugin.lti.models import Platform
from plugin.performance.frameworks.fetch import DOWNLOAD_TIMEOUT, MAX_DOWNLOAD_BYTES, fetch_json
from plugin.performance.frameworks.importers.case import parse_case_package
from plugin.performance.frameworks.importers.moodle_csv import parse_moodle_csv
from plugin.performance.frameworks.importers.text import decode_text, detect_format, load_json
from plugin.performance.frameworks.parsed import FrameworkImportError
from plugin.performance.frameworks.store import ImportResult, store
from plugin.performance.models import SOURCE_CASE


def import_case_package(
    session: Session, platform_id: int, data: Any, source_url: str | None = None
) -> ImportResult:
    """Import a CASE 1.0 or 1.1 CFPackage (the parsed JSON object)."""
    _platform(session, platform_id)
    parsed = parse_case_package(data)
    return store(session, platform_id, parsed, source_url)


def import_moodle_csv(
    session: Session, platform_id: int, text: str, source_url: str | None = None
) -> ImportResult:
    """Import a Moodle competency framework CSV export (one framework per file)."""
    platform = _platform(session, platform_id)
    parsed = parse_moodle_csv(text, issuer=platform.issuer)
    return store(session, platform_id, parsed, source_url)


def import_document(
    session: Session,
    platform_id: int,
    raw: bytes | str,
    *,
    filename: str | None = None,
    source_url: str | None = None,
) -> ImportResult:
    """Import an uploaded file, recognising CASE JSON or Moodle CSV by its content."""
    text = decode_text(raw)
    if detect_format(text, filename) == SOURCE_CASE:
        return import_case_package(session, platform_id, load_json(text), source_url)
    return import_moodle_csv(session, platform_id, text, source_url)


def import_case_url(
    session: Session,
    platform_id: int,
    url: str,
    *,
    timeout: float = DOWNLOAD_TIMEOUT,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    allow_private_hosts: bool = False,
) -> ImportResult:
    """Fetch a CASE package from a CASE service (``…/ims/case/v1p0/CFPackages/{id}`` or v1p1)
    and import it. A CFDocument URL works too: its ``CFPackageURI`` is followed once."""
    _platform(session, platform_id)
    fetch = functools.partial(
        fetch_json, timeout=timeout, max_bytes=max_bytes, allow_private_hosts=allow_private_hosts
    )
    data, final_url = fetch(url)
    package_link = data.get("CFPackageURI") if isinstance(data, dict) else None
    if (
        isinstance(data, dict)
        and "CFDocument" not in data
        and "CFPackage" not in data
        and isinstance(package_link, dict)
        and isinstance(package_link.get("uri"), str)
    ):
        data, final_url = fetch(package_link["uri"])
    return import_case_package(session, platform_id, data, source_url=final_url)


def _platform(session: Session, platform_id: int) -> Platform:
    """The platform imported into; :class:`FrameworkImportError` when there is none."""
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise FrameworkImportError(f"There is no platform with id {platform_id}.")
    return platform
