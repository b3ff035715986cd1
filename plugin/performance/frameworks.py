"""Importing competency frameworks: 1EdTech CASE 1.0 / 1.1 packages (JSON from a file or a CASE
service URL) and Moodle competency-framework CSV exports (admin/tool/lpimportcsv format).

Each import first parses and validates the whole input into a :class:`ParsedFramework` (pure, no
database); only then are rows written, in the caller's session, which the caller commits. Bad input
raises :class:`FrameworkImportError` before anything is added.

Re-importing the same framework (same CFDocument uri or identifier; for Moodle, the same framework
idnumber on the same platform) updates it in place: competencies are matched by identifier (then by
uri), keep their database ids, and so keep their links and evidence. Items that the new version no
longer has are deleted when nothing refers to them, and otherwise kept with ``retired_at`` set.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plugin import netguard
from plugin.db import Base, utcnow
from plugin.lti.models import Platform
from plugin.performance.models import (
    SOURCE_CASE,
    SOURCE_DEFAULT,
    SOURCE_MOODLE_CSV,
    Competency,
    CompetencyAssociation,
    Framework,
    Scale,
    ScaleLevel,
)

MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024
DOWNLOAD_TIMEOUT = 20.0
MAX_REDIRECTS = 5
# Moodle competencies have no IRI of their own: we derive stable urn:uuid IRIs from the platform's
# issuer (the Moodle site) and the idnumbers, so a re-import gives the same IRIs.
MOODLE_IRI_NAMESPACE = uuid.UUID("0d6c1f1e-3b0a-5e55-9a57-6d2f8c4b7e21")
DEFAULT_SCALE_LEVELS = ("Beginning", "Developing", "Proficient", "Advanced")
DEFAULT_SCALE_PROFICIENT = 3


class FrameworkImportError(ValueError):
    """The input cannot be imported; ``message`` says why, in words for the person importing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ParsedItem:
    identifier: str
    uri: str
    name: str
    code: str | None = None
    description: str | None = None
    item_type: str | None = None
    parent: str | None = None  # the parent item's identifier; None at the top level
    sort_order: int = 0


@dataclass
class ParsedNode:
    """One end of an association. An item of the same package carries that item's identifier
    and uri; the package's own CFDocument has ``is_document``; anything else is external."""

    uri: str | None
    identifier: str | None
    title: str | None = None
    item: str | None = None  # the identifier of an item of this package
    is_document: bool = False

    @property
    def key(self) -> str:
        return self.uri or f"identifier:{self.identifier}"


@dataclass
class ParsedAssociation:
    association_type: str
    origin: ParsedNode
    destination: ParsedNode
    identifier: str | None = None
    uri: str | None = None
    sequence_number: int | None = None
    changed_at: datetime | None = None

    key: str = ""  # what identifies it across imports (see _association_keys)

    @property
    def signature(self) -> str:
        return f"{self.association_type}|{self.origin.key}|{self.destination.key}"


@dataclass
class ParsedScale:
    name: str
    levels: list[str]
    proficient_position: int
    default_position: int | None = None
    external_id: str | None = None


@dataclass
class ParsedFramework:
    identifier: str
    uri: str
    title: str
    source_kind: str
    description: str | None = None
    creator: str | None = None
    version: str | None = None
    case_version: str | None = None
    changed_at: datetime | None = None
    items: list[ParsedItem] = field(default_factory=list)
    scale: ParsedScale | None = None
    hierarchy_links: int = 0  # parent/child relations read (CASE isChildOf associations)
    associations: list[ParsedAssociation] = field(default_factory=list)  # CASE: all of them
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    framework_id: int
    title: str
    source_kind: str
    created: bool
    total: int  # competencies in the imported version
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0  # gone upstream, kept because links or evidence point at them
    deleted: int = 0  # gone upstream and unreferenced
    hierarchy_links: int = 0
    associations: int = 0  # CASE associations of every type in the imported version
    associations_added: int = 0
    associations_updated: int = 0
    associations_removed: int = 0
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Entry points


def import_case_package(
    session: Session, platform_id: int, data: Any, source_url: str | None = None
) -> ImportResult:
    """Import a CASE 1.0 or 1.1 CFPackage (the parsed JSON object)."""
    _platform(session, platform_id)
    parsed = parse_case_package(data)
    return _store(session, platform_id, parsed, source_url)


def import_moodle_csv(
    session: Session, platform_id: int, text: str, source_url: str | None = None
) -> ImportResult:
    """Import a Moodle competency framework CSV export (one framework per file)."""
    platform = _platform(session, platform_id)
    parsed = parse_moodle_csv(text, issuer=platform.issuer)
    return _store(session, platform_id, parsed, source_url)


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
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise FrameworkImportError(f"There is no platform with id {platform_id}.")
    return platform


# --------------------------------------------------------------------------------------------
# Reading input


def decode_text(raw: bytes | str) -> str:
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


def _clean(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _text(obj: dict[str, Any], key: str, where: str, max_len: int | None = None) -> str | None:
    """An optional string property: None when absent or blank; an error when not a string."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FrameworkImportError(f"{where}: {key} must be a string, not {type(value).__name__}.")
    value = _clean(value)
    if max_len is not None and len(value) > max_len:
        raise FrameworkImportError(f"{where}: {key} is longer than {max_len} characters.")
    return value or None


def _required(obj: dict[str, Any], key: str, where: str, max_len: int | None = None) -> str:
    value = _text(obj, key, where, max_len)
    if value is None:
        raise FrameworkImportError(f"{where} has no {key}.")
    return value


def _when(value: Any) -> datetime | None:
    """A date-time with a UTC offset, in UTC; None when absent, not one, or outside the years
    a database stores (``9999-12-31T23:59-01:00`` is in year 10000 in UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def _check_text(data: Any) -> None:
    """Refuse strings no database can store — a NUL character, or a lone surrogate (JSON allows
    the escape ``\\ud800``) — anywhere in the package, naming where. Iterative: the JSON may be
    nested as deeply as the parser allowed."""
    pending: list[tuple[Any, str]] = [(data, "")]
    while pending:
        value, where = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                pending.append((key, where or "the package"))
                pending.append((item, f"{where}.{key}" if where else str(key)))
        elif isinstance(value, list):
            pending.extend((item, f"{where}[{index}]") for index, item in enumerate(value))
        elif isinstance(value, str) and not _storable(value):
            raise FrameworkImportError(
                f"{where or 'The package'} contains a character that cannot be stored "
                "(a NUL character or an unpaired surrogate); export the package as UTF-8 text "
                "and try again."
            )


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(item: ParsedItem) -> str:
    name = item.name if len(item.name) <= 60 else item.name[:57] + "…"
    return f"{item.code} “{name}”" if item.code else f"“{name}” ({item.identifier})"


# --------------------------------------------------------------------------------------------
# CASE


def parse_case_package(data: Any) -> ParsedFramework:
    """Validate a CASE CFPackage and turn it into a :class:`ParsedFramework`.

    CASE 1.0 serves the package object itself; the CASE 1.1 REST binding wraps it as
    ``{"CFPackage": {...}}``. Both are accepted. Hierarchy comes from ``isChildOf`` associations
    (origin = child, destination = parent item or the CFDocument); ``sequenceNumber`` orders
    siblings, and items without one follow in package order.
    """
    if not isinstance(data, dict):
        raise FrameworkImportError(
            "A CASE package is a JSON object with CFDocument, CFItems and CFAssociations."
        )
    _check_text(data)
    package, wrapped = data, False
    if "CFDocument" not in data and isinstance(data.get("CFPackage"), dict):
        package, wrapped = data["CFPackage"], True
    doc = package.get("CFDocument")
    if not isinstance(doc, dict):
        raise FrameworkImportError(
            "This is not a CASE package: it has no CFDocument. Use a CFPackage "
            "(…/ims/case/v1p0/CFPackages/{identifier}), not a single document or item."
        )
    doc_identifier = _required(doc, "identifier", "CFDocument", 255)
    doc_uri = _required(doc, "uri", "CFDocument", 1000)
    title = _required(doc, "title", "CFDocument", 1000)
    case_version = _text(doc, "caseVersion", "CFDocument", 10)
    if case_version is None:
        case_version = "1.1" if wrapped or "/v1p1/" in doc_uri else "1.0"
    parsed = ParsedFramework(
        identifier=doc_identifier,
        uri=doc_uri,
        title=title,
        source_kind=SOURCE_CASE,
        description=_text(doc, "description", "CFDocument"),
        creator=_text(doc, "creator", "CFDocument", 255),
        version=_text(doc, "version", "CFDocument", 100),
        case_version=case_version,
        changed_at=_when(doc.get("lastChangeDateTime")),
    )

    items: dict[str, ParsedItem] = {}
    identifier_by_uri: dict[str, str] = {}
    for index, raw in enumerate(_array(package, "CFItems")):
        where = f"CFItems[{index}]"
        if not isinstance(raw, dict):
            raise FrameworkImportError(f"{where} is not an object.")
        identifier = _required(raw, "identifier", where, 255)
        where = f"CFItem {identifier}"
        uri = _required(raw, "uri", where, 1000)
        name = (
            _text(raw, "fullStatement", where)
            or _text(raw, "abbreviatedStatement", where)
            or _text(raw, "humanCodingScheme", where)
        )
        if name is None:
            raise FrameworkImportError(f"{where} has no fullStatement.")
        if identifier in items or identifier == doc_identifier:
            raise FrameworkImportError(f"The identifier {identifier} is used twice in the package.")
        if uri in identifier_by_uri:
            raise FrameworkImportError(
                f"CFItems {identifier_by_uri[uri]} and {identifier} have the same uri {uri}."
            )
        items[identifier] = ParsedItem(
            identifier=identifier,
            uri=uri,
            name=name,
            code=_text(raw, "humanCodingScheme", where, 255),
            description=_text(raw, "notes", where),
            item_type=_text(raw, "CFItemType", where, 255),
        )
        identifier_by_uri[uri] = identifier

    def resolve(node: tuple[str | None, str | None]) -> str | None:
        identifier, uri = node
        if identifier in items:
            return identifier
        return identifier_by_uri.get(uri or "")

    def end(node: tuple[str | None, str | None, str | None]) -> ParsedNode:
        identifier, uri, title = node
        item = resolve((identifier, uri))
        if item is not None:
            return ParsedNode(items[item].uri, item, title, item=item)
        if identifier == doc_identifier or uri == doc_uri:
            return ParsedNode(doc_uri, doc_identifier, title, is_document=True)
        return ParsedNode(uri, identifier, title)

    positions = {identifier: index for index, identifier in enumerate(items)}
    sequence: dict[str, int | None] = {}
    has_parent: set[str] = set()
    association_keys: dict[str, str] = {}
    for index, raw in enumerate(_array(package, "CFAssociations")):
        where = f"CFAssociations[{index}]"
        if not isinstance(raw, dict):
            raise FrameworkImportError(f"{where} is not an object.")
        association_type = _text(raw, "associationType", where, 255)
        if association_type is None:
            raise FrameworkImportError(f"{where} has no associationType.")
        origin_node = _node(raw, "originNodeURI", where)
        destination_node = _node(raw, "destinationNodeURI", where)
        number = _sequence_number(raw.get("sequenceNumber"), where)
        association = ParsedAssociation(
            association_type=association_type,
            origin=end(origin_node),
            destination=end(destination_node),
            identifier=_text(raw, "identifier", where, 255),
            uri=_text(raw, "uri", where, 1000),
            sequence_number=number,
            changed_at=_when(raw.get("lastChangeDateTime")),
        )
        key = _association_key(
            association.identifier, association.uri, association.signature, association_keys
        )
        if key is None:
            parsed.warnings.append(f"{where} repeats an earlier association; the first is kept.")
        else:
            association.key = key
            parsed.associations.append(association)
        if association_type != "isChildOf":
            continue
        origin = origin_node[:2]
        destination = destination_node[:2]
        child = resolve(origin)
        if child is None:
            parsed.warnings.append(
                f"{where}: isChildOf from {origin[0] or origin[1]}, which is not an item of this "
                "package; ignored."
            )
            continue
        if destination[0] == doc_identifier or destination[1] == doc_uri:
            parent = None
        else:
            parent = resolve(destination)
            if parent is None:
                raise FrameworkImportError(
                    f"Item {_short(items[child])} is a child of {destination[0] or destination[1]}, "
                    "which is neither this framework's CFDocument nor one of its CFItems."
                )
        if child in has_parent:
            if items[child].parent != parent:
                parsed.warnings.append(
                    f"Item {_short(items[child])} has more than one parent; the first is kept."
                )
            continue
        has_parent.add(child)
        items[child].parent = parent
        sequence[child] = number
        parsed.hierarchy_links += 1

    orphans = len(items) - len(has_parent)
    if orphans:
        parsed.warnings.append(
            f"{orphans} item(s) have no isChildOf association and are shown at the top level."
        )
    parsed.items = list(items.values())
    _check_tree(parsed.items)
    _order_siblings(
        parsed.items,
        key=lambda item: (
            sequence.get(item.identifier) is None,
            sequence.get(item.identifier) or 0,
            positions[item.identifier],
        ),
    )
    return parsed


def _array(package: dict[str, Any], key: str) -> list[Any]:
    value = package.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FrameworkImportError(f"{key} must be a list.")
    return value


def _node(
    association: dict[str, Any], key: str, where: str
) -> tuple[str | None, str | None, str | None]:
    """(identifier, uri, title) of an association end (a LinkGenURI object, or a bare URI
    string). Values that are not strings are ignored; one longer than its column is refused."""
    node = association.get(key)
    if isinstance(node, str) and node.strip():
        return None, _limited(node.strip(), 1000, f"{where}: {key}"), None
    if isinstance(node, dict):
        identifier, uri, title = (
            _clean(value) if isinstance(value, str) else None
            for value in (node.get("identifier"), node.get("uri"), node.get("title"))
        )
        if identifier or uri:
            return (
                _limited(identifier, 255, f"{where}: {key}.identifier") if identifier else None,
                _limited(uri, 1000, f"{where}: {key}.uri") if uri else None,
                title or None,
            )
    raise FrameworkImportError(f"{where} has no {key} with an identifier or uri.")


def _association_key(
    identifier: str | None, uri: str | None, signature: str, seen: dict[str, str]
) -> str | None:
    """What identifies an association across imports, so that a re-import updates it in place:
    its identifier, else its uri, else its type and ends. Packages are read in order; an
    identifier (or uri) that an earlier association with other ends or type already used gets
    those appended, and a repeat of an earlier association (same key, type and ends) gives None.
    ``seen`` maps the keys given so far to their signatures."""
    base = f"id:{identifier}" if identifier else f"uri:{uri}" if uri else f"ends:{signature}"
    for key in (base, f"{base}|{signature}"):
        if key not in seen:
            seen[key] = signature
            return key
        if seen[key] == signature:
            return None
    return None


def _limited(value: str, max_len: int, what: str) -> str:
    _limit(value, max_len, what)
    return value


SEQUENCE_RANGE = (-(2**31), 2**31 - 1)  # CASE's int32, and the column's


def _sequence_number(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FrameworkImportError(f"{where}: sequenceNumber must be an integer.")
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d{1,20}", value.strip()):
        number = int(value)
    if number is None:
        shown = repr(value) if isinstance(value, str | float) else type(value).__name__
        shown = shown if len(shown) <= 40 else shown[:37] + "…"
        raise FrameworkImportError(f"{where}: sequenceNumber must be an integer, not {shown}.")
    low, high = SEQUENCE_RANGE
    if not low <= number <= high:
        raise FrameworkImportError(
            f"{where}: sequenceNumber must be an integer between {low} and {high}."
        )
    return number


# --------------------------------------------------------------------------------------------
# Moodle CSV

MOODLE_COLUMNS = (
    "parentidnumber",
    "idnumber",
    "shortname",
    "description",
    "descriptionformat",
    "scalevalues",
    "scaleconfiguration",
    "ruletype",
    "ruleoutcome",
    "ruleconfig",
    "crossreferencedcompetencyidnumbers",
    "exportedid",
    "isframework",
    "taxonomy",
)
MOODLE_REQUIRED = ("parentidnumber", "idnumber", "shortname", "isframework")
MOODLE_HTML_FORMATS = ("", "0", "1")  # FORMAT_MOODLE and FORMAT_HTML may carry HTML


def _header_key(cell: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", cell.lower())
    return key.removesuffix("optional")


def parse_moodle_csv(text: str, *, issuer: str) -> ParsedFramework:
    """Validate a Moodle competency framework CSV and turn it into a :class:`ParsedFramework`.

    Columns are found by their (English) header names — "Parent id number", "Id number",
    "Shortname", "Description", "Description format", "Scale values", "Scale configuration", …,
    "Is framework", "Taxonomy" — or, for a translated header, by Moodle's column order.
    """
    text = text.lstrip("\ufeff")
    if not _storable(text):
        raise FrameworkImportError("The file is not a text CSV file.")
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((len(rows) + 1, row))
    except csv.Error as exc:
        raise FrameworkImportError(
            f"The CSV cannot be read near line {reader.line_num}: {exc}."
        ) from exc
    if not rows:
        raise FrameworkImportError("The file is empty.")

    header = [_header_key(cell) for cell in rows[0][1]]
    columns = {key: index for index, key in enumerate(header) if key}
    if any(name not in columns for name in MOODLE_REQUIRED):
        if len(header) != len(MOODLE_COLUMNS):
            raise FrameworkImportError(
                "This is neither CASE JSON nor a Moodle competency framework CSV: the header "
                "needs the columns Parent id number, Id number, Shortname, Description, …, "
                "Is framework, Taxonomy."
            )
        columns = {key: index for index, key in enumerate(MOODLE_COLUMNS)}

    def cell(row: list[str], key: str) -> str:
        index = columns.get(key)
        return _clean(row[index]) if index is not None and index < len(row) else ""

    framework_rows = [(n, r) for n, r in rows[1:] if cell(r, "isframework") in ("1", "true")]
    if len(framework_rows) != 1:
        raise FrameworkImportError(
            "A Moodle framework CSV has exactly one row with “Is framework” set to 1; "
            f"this file has {len(framework_rows)}."
        )
    fw_number, fw_row = framework_rows[0]
    fw_idnumber = cell(fw_row, "idnumber")
    fw_name = cell(fw_row, "shortname")
    if not fw_idnumber or not fw_name:
        raise FrameworkImportError(f"Row {fw_number}: the framework needs an id number and a name.")
    _limit(fw_idnumber, 255, f"Row {fw_number}: the id number")
    _limit(fw_name, 1000, f"Row {fw_number}: the short name")
    taxonomy = [t.strip() for t in cell(fw_row, "taxonomy").split(",")]

    parsed = ParsedFramework(
        identifier=fw_idnumber,
        uri=_moodle_iri(issuer, fw_idnumber),
        title=fw_name,
        source_kind=SOURCE_MOODLE_CSV,
        description=_moodle_description(fw_row, cell),
        scale=_moodle_scale(fw_row, cell, fw_number, fw_name),
    )

    items: dict[str, ParsedItem] = {}
    row_of: dict[str, int] = {}
    for number, row in rows[1:]:
        if row is fw_row:
            continue
        idnumber = cell(row, "idnumber")
        name = cell(row, "shortname")
        if not idnumber:
            raise FrameworkImportError(f"Row {number} has no id number.")
        if not name:
            raise FrameworkImportError(f"Row {number} ({idnumber}) has no short name.")
        _limit(idnumber, 255, f"Row {number}: the id number")
        if idnumber in items or idnumber == fw_idnumber:
            raise FrameworkImportError(f"Row {number}: the id number {idnumber} is used twice.")
        parent = cell(row, "parentidnumber") or None
        items[idnumber] = ParsedItem(
            identifier=idnumber,
            uri=_moodle_iri(issuer, fw_idnumber, idnumber),
            name=name,
            code=idnumber,
            description=_moodle_description(row, cell),
            parent=None if parent == fw_idnumber else parent,
        )
        row_of[idnumber] = number
    for item in items.values():
        if item.parent is not None and item.parent not in items:
            raise FrameworkImportError(
                f"Row {row_of[item.identifier]} ({item.identifier}): its parent id number "
                f"{item.parent} is not in the file."
            )
    parsed.items = list(items.values())
    parsed.hierarchy_links = sum(1 for item in parsed.items if item.parent is not None)
    _check_tree(parsed.items)
    _order_siblings(parsed.items, key=lambda item: row_of[item.identifier])
    depth = _depths(parsed.items)
    for item in parsed.items:
        level = depth[item.identifier]
        if level <= len(taxonomy) and taxonomy[level - 1]:
            item.item_type = taxonomy[level - 1]
    return parsed


def _limit(value: str, max_len: int, what: str) -> None:
    if len(value) > max_len:
        raise FrameworkImportError(f"{what} is longer than {max_len} characters.")


def _moodle_iri(issuer: str, framework_idnumber: str, idnumber: str | None = None) -> str:
    name = f"{issuer}|{framework_idnumber}" + (f"|{idnumber}" if idnumber is not None else "")
    return f"urn:uuid:{uuid.uuid5(MOODLE_IRI_NAMESPACE, name)}"


def _moodle_description(row: list[str], cell: Any) -> str | None:
    text = cell(row, "description")
    if cell(row, "descriptionformat") in MOODLE_HTML_FORMATS:
        text = html_to_text(text)
    return text or None


def _moodle_scale(
    row: list[str], cell: Any, number: int, framework_name: str
) -> ParsedScale | None:
    levels = [value.strip() for value in cell(row, "scalevalues").split(",") if value.strip()]
    if not levels:
        return None
    for level in levels:
        _limit(level, 255, f"Row {number}: the scale value {level[:20]}…")
    config_text = cell(row, "scaleconfiguration")
    external_id = None
    proficient: list[int] = []
    default = None
    if config_text:
        try:
            config = json.loads(config_text)
        except json.JSONDecodeError as exc:
            raise FrameworkImportError(
                f"Row {number}: the scale configuration is not valid JSON ({exc.msg})."
            ) from exc
        except RecursionError as exc:
            raise FrameworkImportError(
                f"Row {number}: the scale configuration is nested too deeply to be a scale."
            ) from exc
        if not isinstance(config, list) or not all(isinstance(e, dict) for e in config):
            raise FrameworkImportError(
                f"Row {number}: the scale configuration must be a JSON list of objects."
            )
        for entry in config:
            if "scaleid" in entry:
                external_id = str(entry["scaleid"])[:100]
                continue
            try:
                position = int(entry.get("id"))
            except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 is infinity
                position = 0
            if not 1 <= position <= len(levels):
                raise FrameworkImportError(
                    f"Row {number}: the scale configuration names value {entry.get('id')!r}, but "
                    f"the scale has {len(levels)} values."
                )
            if str(entry.get("proficient", "0")) == "1":
                proficient.append(position)
            if str(entry.get("scaledefault", "0")) == "1":
                default = position
    return ParsedScale(
        name=f"{framework_name} scale"[:255],
        levels=levels,
        proficient_position=min(proficient) if proficient else len(levels),
        default_position=default,
        external_id=external_id,
    )


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset(
        {"p", "div", "br", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    )

    HIDDEN = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS and tag != "br":
            self.parts.append("\n")
        elif tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: paragraphs and line breaks kept, markup dropped."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [line.strip() for line in "".join(extractor.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --------------------------------------------------------------------------------------------
# Tree checks shared by both formats


def _check_tree(items: list[ParsedItem]) -> None:
    parent_of = {item.identifier: item.parent for item in items}
    by_identifier = {item.identifier: item for item in items}
    done: set[str] = set()
    for start in parent_of:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in done:
            if node in on_path:
                cycle = [*path[path.index(node) :], node]
                raise FrameworkImportError(
                    "The hierarchy has a cycle: "
                    + " → ".join(_short(by_identifier[n]) for n in cycle)
                    + " (each is a child of the next)."
                )
            on_path.add(node)
            path.append(node)
            node = parent_of.get(node)
        done.update(path)


def _order_siblings(items: list[ParsedItem], key: Any) -> None:
    groups: dict[str | None, list[ParsedItem]] = {}
    for item in items:
        groups.setdefault(item.parent, []).append(item)
    for siblings in groups.values():
        for order, item in enumerate(sorted(siblings, key=key)):
            item.sort_order = order


def _depths(items: list[ParsedItem]) -> dict[str, int]:
    """Level of each item (top level = 1); the tree is known to be acyclic."""
    parent_of = {item.identifier: item.parent for item in items}
    depth: dict[str, int] = {}
    for item in items:
        chain: list[str] = []
        node: str | None = item.identifier
        while node is not None and node not in depth:
            chain.append(node)
            node = parent_of[node]
        level = depth[node] if node is not None else 0
        for member in reversed(chain):
            level += 1
            depth[member] = level
    return depth


# --------------------------------------------------------------------------------------------
# Writing


def _store(
    session: Session, platform_id: int, parsed: ParsedFramework, source_url: str | None
) -> ImportResult:
    if source_url is not None and len(source_url) > 1000:
        raise FrameworkImportError("The source URL is longer than 1000 characters.")
    framework = _existing_framework(session, platform_id, parsed)
    # Everything below writes; every check that can refuse the input has run above.
    now = utcnow()
    created = framework is None
    if framework is None:
        framework = Framework(platform_id=platform_id, created_at=now)
        session.add(framework)
    elif (
        parsed.changed_at
        and framework.source_changed_at
        and (parsed.changed_at < framework.source_changed_at)
    ):
        parsed.warnings.append(
            "This version is older than the one imported before "
            f"({parsed.changed_at:%Y-%m-%d} < {framework.source_changed_at:%Y-%m-%d})."
        )
    framework.uri = parsed.uri
    framework.identifier = parsed.identifier
    framework.title = parsed.title
    framework.description = parsed.description
    framework.creator = parsed.creator
    framework.version = parsed.version
    framework.source_kind = parsed.source_kind
    framework.case_version = parsed.case_version
    framework.source_url = source_url
    framework.source_changed_at = parsed.changed_at
    framework.last_imported_at = now
    framework.scale = _scale_for(session, platform_id, framework, parsed.scale)
    session.flush()

    result = ImportResult(
        framework_id=framework.id,
        title=framework.title,
        source_kind=framework.source_kind,
        created=created,
        total=len(parsed.items),
        hierarchy_links=parsed.hierarchy_links,
        warnings=parsed.warnings,
    )
    existing = list(
        session.scalars(select(Competency).where(Competency.framework_id == framework.id))
    )
    by_identifier = {c.identifier: c for c in existing}
    incoming = {item.identifier for item in parsed.items}
    by_uri = {c.uri: c for c in existing if c.identifier not in incoming}
    claimed: dict[str, Competency] = {}
    added: set[str] = set()
    changed: set[str] = set()
    for item in parsed.items:
        competency = by_identifier.get(item.identifier) or by_uri.pop(item.uri, None)
        if competency is None:
            competency = Competency(framework_id=framework.id, created_at=now)
            session.add(competency)
            added.add(item.identifier)
        values = {
            "identifier": item.identifier,
            "uri": item.uri,
            "code": item.code,
            "name": item.name,
            "description": item.description,
            "item_type": item.item_type,
            "sort_order": item.sort_order,
            "retired_at": None,
        }
        if item.identifier not in added and any(
            getattr(competency, key) != value for key, value in values.items()
        ):
            changed.add(item.identifier)
        for key, value in values.items():
            setattr(competency, key, value)
        claimed[item.identifier] = competency
    session.flush()
    for item in parsed.items:
        competency = claimed[item.identifier]
        parent_id = claimed[item.parent].id if item.parent else None
        if competency.parent_id != parent_id:
            if item.identifier not in added:
                changed.add(item.identifier)
            competency.parent_id = parent_id
    result.added = len(added)
    result.updated = len(changed)
    result.unchanged = len(parsed.items) - result.added - result.updated

    kept_ids = {c.id for c in claimed.values()}
    gone = [c for c in existing if c.id not in kept_ids]
    referenced = _referenced(session, [c.id for c in gone])
    doomed = {c.id for c in gone if c.id not in referenced}
    for competency in gone:
        if competency.id in doomed:
            continue
        if competency.retired_at is None:
            competency.retired_at = now
            result.retired += 1
        if competency.parent_id in doomed:
            competency.parent_id = None
    session.flush()
    if doomed:
        for chunk in _chunks(sorted(doomed)):
            session.execute(
                delete(Competency).where(Competency.id.in_(chunk)),
                execution_options={"synchronize_session": "fetch"},
            )
        result.deleted = len(doomed)
    session.flush()
    _store_associations(session, framework, parsed.associations, result, now)
    return result


def _store_associations(
    session: Session,
    framework: Framework,
    associations: list[ParsedAssociation],
    result: ImportResult,
    now: datetime,
) -> None:
    """Make the framework's association rows exactly the package's: matched by
    :func:`_association_key` (identifier, else uri, else type and ends), changed ones updated in
    place, new ones added, those the package no longer has removed."""
    rows = list(
        session.scalars(
            select(CompetencyAssociation)
            .where(CompetencyAssociation.framework_id == framework.id)
            .order_by(CompetencyAssociation.position, CompetencyAssociation.id)
        )
    )
    existing: dict[str, CompetencyAssociation] = {}
    keys: dict[str, str] = {}
    for row in rows:
        key = _association_key(row.identifier, row.uri, _row_signature(row), keys)
        if key is not None:
            existing[key] = row
    result.associations = len(associations)
    seen: set[int] = set()
    for position, association in enumerate(associations):
        values = {
            "position": position,
            "identifier": association.identifier,
            "uri": association.uri,
            "association_type": association.association_type,
            "origin_uri": association.origin.uri,
            "origin_identifier": association.origin.identifier,
            "origin_title": association.origin.title,
            "destination_uri": association.destination.uri,
            "destination_identifier": association.destination.identifier,
            "destination_title": association.destination.title,
            "sequence_number": association.sequence_number,
            "source_changed_at": association.changed_at,
        }
        row = existing.get(association.key)
        if row is None:
            row = CompetencyAssociation(framework_id=framework.id, created_at=now)
            session.add(row)
            result.associations_added += 1
        else:
            seen.add(row.id)
            if any(
                getattr(row, key) != value for key, value in values.items() if key != "position"
            ):
                result.associations_updated += 1
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
    gone = [row.id for row in rows if row.id not in seen]
    for chunk in _chunks(sorted(gone)):
        session.execute(
            delete(CompetencyAssociation).where(CompetencyAssociation.id.in_(chunk)),
            execution_options={"synchronize_session": "fetch"},
        )
    result.associations_removed = len(gone)
    session.flush()


def _row_signature(row: CompetencyAssociation) -> str:
    """The :attr:`ParsedAssociation.signature` of a stored association."""
    origin = row.origin_uri or f"identifier:{row.origin_identifier}"
    destination = row.destination_uri or f"identifier:{row.destination_identifier}"
    return f"{row.association_type}|{origin}|{destination}"


def _existing_framework(
    session: Session, platform_id: int, parsed: ParsedFramework
) -> Framework | None:
    in_platform = select(Framework).where(Framework.platform_id == platform_id)
    by_uri = session.scalars(in_platform.where(Framework.uri == parsed.uri)).first()
    by_identifier = session.scalars(
        in_platform.where(Framework.identifier == parsed.identifier)
    ).first()
    if by_uri is not None and by_identifier is not None and by_uri.id != by_identifier.id:
        raise FrameworkImportError(
            f"This package's uri matches the framework “{by_uri.title}” but its identifier "
            f"matches “{by_identifier.title}”; refusing to merge two frameworks."
        )
    return by_uri or by_identifier


def default_scale(session: Session, platform_id: int) -> Scale:
    """The platform's default four-level scale (created on first use)."""
    scale = session.scalars(
        select(Scale)
        .where(Scale.platform_id == platform_id, Scale.source == SOURCE_DEFAULT)
        .order_by(Scale.id)
    ).first()
    if scale is None:
        scale = Scale(
            platform_id=platform_id,
            name="Proficiency",
            source=SOURCE_DEFAULT,
            proficient_position=DEFAULT_SCALE_PROFICIENT,
            levels=[
                ScaleLevel(position=position, name=name)
                for position, name in enumerate(DEFAULT_SCALE_LEVELS, start=1)
            ],
        )
        session.add(scale)
    return scale


def _scale_for(
    session: Session, platform_id: int, framework: Framework, parsed: ParsedScale | None
) -> Scale:
    if parsed is None:
        return default_scale(session, platform_id)
    scale = framework.scale
    if scale is None or scale.source != SOURCE_MOODLE_CSV:
        scale = Scale(platform_id=platform_id, source=SOURCE_MOODLE_CSV)
        session.add(scale)
    scale.name = parsed.name
    scale.external_id = parsed.external_id
    scale.proficient_position = parsed.proficient_position
    scale.default_position = parsed.default_position
    current = {level.position: level for level in scale.levels}
    for position, name in enumerate(parsed.levels, start=1):
        if position in current:
            current[position].name = name
        else:
            scale.levels.append(ScaleLevel(position=position, name=name))
    for position, level in current.items():
        if position > len(parsed.levels):
            scale.levels.remove(level)
    return scale


def _referenced(session: Session, competency_ids: list[int]) -> set[int]:
    """Those of ``competency_ids`` that any other table points at (links, evidence, and whatever
    later tables add a foreign key to competencies: goals, mentor profiles...)."""
    if not competency_ids:
        return set()
    target = Competency.__table__.c.id
    found: set[int] = set()
    for table in Base.metadata.sorted_tables:
        if table is Competency.__table__:
            continue
        for fk in table.foreign_keys:
            if fk.column is not target:
                continue
            column = fk.parent
            for chunk in _chunks(competency_ids):
                found.update(session.scalars(select(column).where(column.in_(chunk)).distinct()))
    return found


def _chunks(values: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --------------------------------------------------------------------------------------------
# Fetching from a CASE service


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
