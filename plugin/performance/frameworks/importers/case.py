"""The CASE importer: a 1EdTech CASE 1.0 / 1.1 CFPackage (parsed JSON) ->
:class:`~plugin.performance.frameworks.parsed.ParsedFramework`.

CASE 1.0 serves the package object itself; the CASE 1.1 REST binding wraps it as
``{"CFPackage": {...}}``. The hierarchy comes from ``isChildOf`` associations; every association, of
any type, is kept (docs/competencies.md, "Associations").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from plugin.performance.frameworks.importers.text import clean, limited, storable
from plugin.performance.frameworks.parsed import (
    FrameworkImportError,
    ParsedAssociation,
    ParsedFramework,
    ParsedItem,
    ParsedNode,
    association_key,
)
from plugin.performance.frameworks.tree import check_tree, order_siblings
from plugin.performance.models import SOURCE_CASE


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
        changed_at=utc_datetime(doc.get("lastChangeDateTime")),
    )

    items: dict[str, ParsedItem] = {}
    identifier_by_uri: dict[str, str] = {}
    for where, raw in _objects(package, "CFItems"):
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
    for where, raw in _objects(package, "CFAssociations"):
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
            changed_at=utc_datetime(raw.get("lastChangeDateTime")),
        )
        key = association_key(
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
                    f"Item {items[child].short_label} is a child of {destination[0] or destination[1]}, "
                    "which is neither this framework's CFDocument nor one of its CFItems."
                )
        if child in has_parent:
            if items[child].parent != parent:
                parsed.warnings.append(
                    f"Item {items[child].short_label} has more than one parent; the first is kept."
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
    check_tree(parsed.items)
    order_siblings(
        parsed.items,
        key=lambda item: (
            sequence.get(item.identifier) is None,
            sequence.get(item.identifier) or 0,
            positions[item.identifier],
        ),
    )
    return parsed


def _objects(package: dict[str, Any], key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The objects of the package's list ``key`` (none when absent), each with where it is
    (``CFItems[3]``); refused when it is not a list or an entry is not an object."""
    value = package.get(key)
    if value is None:
        return
    if not isinstance(value, list):
        raise FrameworkImportError(f"{key} must be a list.")
    for index, raw in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(raw, dict):
            raise FrameworkImportError(f"{where} is not an object.")
        yield where, raw


def _node(
    association: dict[str, Any], key: str, where: str
) -> tuple[str | None, str | None, str | None]:
    """(identifier, uri, title) of an association end (a LinkGenURI object, or a bare URI
    string). Values that are not strings are ignored; one longer than its column is refused."""
    node = association.get(key)
    if isinstance(node, str) and node.strip():
        return None, limited(node.strip(), 1000, f"{where}: {key}"), None
    if isinstance(node, dict):
        identifier, uri, title = (
            clean(value) if isinstance(value, str) else None
            for value in (node.get("identifier"), node.get("uri"), node.get("title"))
        )
        if identifier or uri:
            return (
                limited(identifier, 255, f"{where}: {key}.identifier") if identifier else None,
                limited(uri, 1000, f"{where}: {key}.uri") if uri else None,
                title or None,
            )
    raise FrameworkImportError(f"{where} has no {key} with an identifier or uri.")


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


def _text(obj: dict[str, Any], key: str, where: str, max_len: int | None = None) -> str | None:
    """An optional string property: None when absent or blank; an error when not a string."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FrameworkImportError(f"{where}: {key} must be a string, not {type(value).__name__}.")
    value = clean(value)
    if max_len is not None and len(value) > max_len:
        raise FrameworkImportError(f"{where}: {key} is longer than {max_len} characters.")
    return value or None


def _required(obj: dict[str, Any], key: str, where: str, max_len: int | None = None) -> str:
    value = _text(obj, key, where, max_len)
    if value is None:
        raise FrameworkImportError(f"{where} has no {key}.")
    return value


def utc_datetime(value: Any) -> datetime | None:
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
        elif isinstance(value, str) and not storable(value):
            raise FrameworkImportError(
                f"{where or 'The package'} contains a character that cannot be stored "
                "(a NUL character or an unpaired surrogate); export the package as UTF-8 text "
                "and try again."
            )
