"""The Moodle importer: a Moodle competency-framework CSV export (admin/tool/lpimportcsv format,
one framework per file) -> :class:`~plugin.performance.frameworks.parsed.ParsedFramework`.

Moodle competencies have no IRI of their own: stable ``urn:uuid`` IRIs are derived from the
platform's issuer (the Moodle site) and the id numbers, so a re-import gives the same IRIs.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from html.parser import HTMLParser
from typing import Any

from plugin.performance.frameworks.importers.text import clean, limited, storable
from plugin.performance.frameworks.parsed import (
    FrameworkImportError,
    ParsedFramework,
    ParsedItem,
    ParsedScale,
)
from plugin.performance.frameworks.tree import check_tree, depths, order_siblings
from plugin.performance.models import SOURCE_MOODLE_CSV

MOODLE_IRI_NAMESPACE = uuid.UUID("0d6c1f1e-3b0a-5e55-9a57-6d2f8c4b7e21")
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
    if not storable(text):
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
        return clean(row[index]) if index is not None and index < len(row) else ""

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
    limited(fw_idnumber, 255, f"Row {fw_number}: the id number")
    limited(fw_name, 1000, f"Row {fw_number}: the short name")
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
        limited(idnumber, 255, f"Row {number}: the id number")
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
    check_tree(parsed.items)
    order_siblings(parsed.items, key=lambda item: row_of[item.identifier])
    depth = depths(parsed.items)
    for item in parsed.items:
        level = depth[item.identifier]
        if level <= len(taxonomy) and taxonomy[level - 1]:
            item.item_type = taxonomy[level - 1]
    return parsed


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
        limited(level, 255, f"Row {number}: the scale value {level[:20]}…")
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
