"""Property tests of the framework parsers (hypothesis, bounded: seconds, not minutes).

- CASE: any JSON value gives a parsed framework or a FrameworkImportError, never another
  exception; a generated valid package parses to exactly its items, tree, sibling order and
  associations, and imports into the database as that tree.
- Moodle CSV: any text gives a parsed framework or a FrameworkImportError; a generated valid CSV
  parses to exactly its tree.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from plugin.db import new_session
from plugin.performance import frameworks
from plugin.performance.frameworks import FrameworkImportError, ParsedFramework, catalog
from plugin.performance.frameworks.importers.case import utc_datetime
from plugin.performance.frameworks.importers.text import detect_format, load_json
from plugin.performance.models import Framework
from tests.conftest import row_counts
from tests.data_files import CASE_DIR
from tests.performance.perf_world import make_tenant, staff_token

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ISSUER = "https://moodle.example"

# --- any input: a result or FrameworkImportError -------------------------------------------------
CASE_KEYS = [
    "CFDocument",
    "CFPackage",
    "CFItems",
    "CFAssociations",
    "CFDefinitions",
    "identifier",
    "uri",
    "title",
    "fullStatement",
    "abbreviatedStatement",
    "humanCodingScheme",
    "notes",
    "CFItemType",
    "caseVersion",
    "lastChangeDateTime",
    "creator",
    "version",
    "description",
    "associationType",
    "originNodeURI",
    "destinationNodeURI",
    "sequenceNumber",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "isChildOf",
            "exactMatchOf",
            "d1",
            "i1",
            "https://x/i1",
            "2024-01-01T00:00Z",
            "9999-12-31T23:59:59-23:59",  # a valid date whose UTC time is in year 10000
            "0001-01-01T00:00:00+23:59",
            "\x00",
            "\ud800",  # a lone surrogate: JSON allows the escape, no database stores it
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
# Values that break databases rather than parsers: unbounded integers, NUL, lone surrogates
# (JSON allows "\ud800"), dates whose UTC time falls outside the calendar.
hostile = st.one_of(
    st.integers(),
    st.floats(),
    st.text(st.characters(blacklist_categories=()), max_size=12),
    st.sampled_from(
        ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "a\x00b", "a\ud800b", ""]
    ),
    st.booleans(),
    st.none(),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(CASE_KEYS), st.text(max_size=8)), inner, max_size=5
        ),
    ),
    max_leaves=25,
)


def _parse_case(data: Any) -> None:
    try:
        parsed = frameworks.parse_case_package(data)
    except FrameworkImportError as exc:
        assert exc.message
        return
    assert isinstance(parsed, ParsedFramework)


@FAST
@given(json_values)
def test_case_parser_on_any_json(data: Any) -> None:
    _parse_case(data)


# --- generated valid CASE packages ----------------------------------------------------------------
@st.composite
def case_packages(draw) -> tuple[dict[str, Any], dict[str, str | None], dict[str, int]]:
    """A valid package: (package, parent of each item identifier, sequence number of each)."""
    count = draw(st.integers(min_value=0, max_value=12))
    doc_id = "doc-" + uuid.UUID(int=draw(st.integers(0, 2**32))).hex[:8]
    doc_uri = f"https://case.example/CFDocuments/{doc_id}"
    ids = [f"item-{n}" for n in range(count)]
    parents: dict[str, str | None] = {}
    for index, identifier in enumerate(ids):
        # a parent that comes earlier keeps the tree acyclic
        choice = draw(st.integers(min_value=-1, max_value=index - 1))
        parents[identifier] = ids[choice] if choice >= 0 else None
    names = draw(
        st.lists(
            st.text(
                alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"),
                min_size=1,
                max_size=40,
            ).filter(lambda t: t.strip() and t == t.strip()),
            min_size=count,
            max_size=count,
        )
    )
    sequence = {i: draw(st.integers(min_value=-5, max_value=1000)) for i in ids}
    items = [
        {
            "identifier": identifier,
            "uri": f"https://case.example/CFItems/{doc_id}/{identifier}",
            "fullStatement": name,
            **({"humanCodingScheme": f"C.{n}"} if n % 2 else {}),
        }
        for n, (identifier, name) in enumerate(zip(ids, names, strict=True))
    ]
    uri_of = {item["identifier"]: item["uri"] for item in items}
    associations = []
    for n, identifier in enumerate(ids):
        parent = parents[identifier]
        destination = (
            {"identifier": parent, "uri": uri_of[parent], "title": parent}
            if parent
            else {"identifier": doc_id, "uri": doc_uri, "title": "doc"}
        )
        associations.append(
            {
                "identifier": f"assoc-{n}",
                "uri": f"https://case.example/CFAssociations/{doc_id}/{n}",
                "associationType": "isChildOf",
                "originNodeURI": {"identifier": identifier, "uri": uri_of[identifier]},
                "destinationNodeURI": destination,
                "sequenceNumber": sequence[identifier],
            }
        )
    extra_types = draw(
        st.lists(
            st.sampled_from(["exactMatchOf", "isRelatedTo", "precedes", "ext:custom"]),
            max_size=4,
        )
    )
    for n, kind in enumerate(extra_types):
        if not ids:
            break
        associations.append(
            {
                "identifier": f"extra-{n}",
                "associationType": kind,
                "originNodeURI": {
                    "identifier": ids[n % len(ids)],
                    "uri": uri_of[ids[n % len(ids)]],
                },
                "destinationNodeURI": {
                    "identifier": f"elsewhere-{n}",
                    "uri": f"https://other.example/items/{n}",
                    "title": f"Elsewhere {n}",
                },
            }
        )
    order = draw(st.permutations(range(len(associations))))
    package = {
        "CFDocument": {"identifier": doc_id, "uri": doc_uri, "title": "Generated"},
        "CFItems": draw(st.permutations(items)),
        "CFAssociations": [associations[i] for i in order],
    }
    if draw(st.booleans()):
        package = {"CFPackage": package}
    return package, parents, sequence


@FAST
@given(case_packages())
def test_generated_case_packages_parse_to_their_tree(generated) -> None:
    package, parents, sequence = generated
    parsed = frameworks.parse_case_package(copy.deepcopy(package))
    assert {i.identifier: i.parent for i in parsed.items} == parents
    inner = package.get("CFPackage", package)
    names = {i["identifier"]: i["fullStatement"] for i in inner["CFItems"]}
    assert {i.identifier: i.name for i in parsed.items} == names
    assert parsed.hierarchy_links == len(parents)
    assert len(parsed.associations) == len(inner["CFAssociations"])
    assert [a.association_type for a in parsed.associations] == [
        a["associationType"] for a in inner["CFAssociations"]
    ]
    by_parent: dict[str | None, list[tuple[int, str]]] = {}
    for item in parsed.items:
        by_parent.setdefault(item.parent, []).append((item.sort_order, item.identifier))
    got = {parent: [i for _, i in sorted(children)] for parent, children in by_parent.items()}
    # Siblings: by sequence number; items in package order break ties.
    position = {i["identifier"]: n for n, i in enumerate(inner["CFItems"])}
    siblings: dict[str | None, list[str]] = {}
    for identifier, parent in parents.items():
        siblings.setdefault(parent, []).append(identifier)
    expected = {
        parent: sorted(children, key=lambda i: (sequence[i], position[i]))
        for parent, children in siblings.items()
    }
    assert got == expected


def _places(document: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a JSON document, the document's own first."""
    places: list[tuple[Any, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key in value:
                places.append((value, key))
                walk(value[key])
        elif isinstance(value, list):
            for index in range(len(value)):
                places.append((value, index))
                walk(value[index])

    walk(document)
    return places


@FAST
@given(case_packages(), st.data())
def test_damaged_case_packages_are_refused_or_parsed(generated, data) -> None:
    """A valid package with one value anywhere replaced by any JSON value."""
    package = copy.deepcopy(generated[0])
    paths = _places(package)
    holder, key = data.draw(st.sampled_from(paths))
    holder[key] = data.draw(json_values)
    _parse_case(package)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(case_packages(), st.data())
def test_damaged_case_packages_import_or_are_refused(app, generated, data) -> None:
    """Through the database: whatever the package holds, the import writes it or refuses it with
    a FrameworkImportError — never a database error. Nothing is committed."""
    package = copy.deepcopy(generated[0])
    paths = _places(package)
    leaves = [(h, k) for h, k in paths if not isinstance(h[k], dict | list)]
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        holder, key = data.draw(st.sampled_from(leaves))
        holder[key] = data.draw(hostile)
    tenant = make_tenant(app, uuid.uuid4().hex[:6])
    with new_session(app) as s:
        try:
            frameworks.import_case_package(s, tenant.platform_id, package)
        except FrameworkImportError as exc:
            assert exc.message
        finally:
            s.rollback()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(case_packages())
def test_generated_case_packages_import_as_their_tree(app, generated) -> None:
    """Through the database: each example in a platform of its own (no cleanup needed)."""
    package, parents, _ = generated
    tenant = make_tenant(app, uuid.uuid4().hex[:6])
    with new_session(app) as s:
        result = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(package))
        s.commit()
        again = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(package))
        s.commit()
        assert (again.added, again.updated, again.deleted, again.associations_added) == (0, 0, 0, 0)
        framework = s.get(Framework, result.framework_id)
        tree = catalog.framework_tree(s, framework)

    def flatten(nodes, parent=None):
        for node in nodes:
            yield node.competency.identifier, parent
            yield from flatten(node.children, node.competency.identifier)

    assert dict(flatten(tree)) == parents


# --- Moodle CSV -------------------------------------------------------------------------------
HEADER = [
    "Parent id number",
    "Id number",
    "Shortname",
    "Description",
    "Description format",
    "Scale values",
    "Scale configuration",
    "Rule type (optional)",
    "Rule outcome (optional)",
    "Rule config (optional)",
    "Cross referenced competency id numbers",
    "Exported id (optional)",
    "Is framework",
    "Taxonomy",
]


def _parse_csv(text: str) -> None:
    try:
        parsed = frameworks.parse_moodle_csv(text, issuer=ISSUER)
    except FrameworkImportError as exc:
        assert exc.message
        return
    assert isinstance(parsed, ParsedFramework)


csvish = st.one_of(
    st.text(max_size=400),
    st.lists(
        st.sampled_from(
            [",", '"', '""', "\n", "\r\n", "\r", "1", "0", "x", "fw", "a", "b", "\ufeff", "\x00"]
            + [h + "," for h in HEADER]
            + ['[{"scaleid":"2"},{"id":2,"scaledefault":1,"proficient":1}]', "Low,High", "<p>"]
        ),
        max_size=80,
    ).map("".join),
)


@FAST
@given(csvish)
def test_moodle_parser_on_any_text(text: str) -> None:
    _parse_csv(text)


cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    max_size=30,
)


@st.composite
def moodle_csvs(draw) -> tuple[str, dict[str, str | None], dict[str, str]]:
    """A valid Moodle export: (CSV text, parent of each id number, short name of each)."""
    count = draw(st.integers(min_value=0, max_value=12))
    ids = [f"c{n}" for n in range(count)]
    parents: dict[str, str | None] = {}
    for index, identifier in enumerate(ids):
        choice = draw(st.integers(min_value=-1, max_value=index - 1))
        parents[identifier] = ids[choice] if choice >= 0 else None
    names = {
        i: draw(cells.filter(lambda t: t.strip() and t == t.strip() and "\n" not in t)) for i in ids
    }
    rows = [
        [
            "",
            "FW",
            "Framework",
            "<p>About</p>",
            "1",
            "Low,Mid,High",
            "",
            "",
            "",
            "",
            "",
            "",
            "1",
            "",
        ]
    ]
    order = draw(st.permutations(ids))  # children may come before their parents
    for identifier in order:
        parent = parents[identifier]
        rows.append(
            [
                parent or draw(st.sampled_from(["", "FW"])),
                identifier,
                names[identifier],
                draw(cells),
                *["1", "", "", "", "", "", "", "", "0", ""],
            ]
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue(), parents, names


@FAST
@given(moodle_csvs())
def test_generated_moodle_csvs_parse_to_their_tree(generated) -> None:
    text, parents, names = generated
    parsed = frameworks.parse_moodle_csv(text, issuer=ISSUER)
    assert parsed.identifier == "FW" and parsed.title == "Framework"
    assert {i.identifier: i.parent for i in parsed.items} == parents
    assert {i.identifier: i.name for i in parsed.items} == names
    assert parsed.scale is not None and parsed.scale.levels == ["Low", "Mid", "High"]
    # Siblings keep file order.
    rows = list(csv.reader(io.StringIO(text)))[2:]
    file_order = {row[1]: n for n, row in enumerate(rows)}
    for item in parsed.items:
        earlier = [
            other
            for other in parsed.items
            if other.parent == item.parent
            and file_order[other.identifier] < file_order[item.identifier]
        ]
        assert item.sort_order == len(earlier)


@FAST
@given(moodle_csvs(), st.data())
def test_damaged_moodle_csvs_are_refused_or_parsed(generated, data) -> None:
    text = generated[0]
    start = data.draw(st.integers(min_value=0, max_value=len(text)))
    end = data.draw(st.integers(min_value=start, max_value=min(len(text), start + 20)))
    _parse_csv(text[:start] + data.draw(csvish) + text[end:])


scale_configurations = st.lists(
    st.dictionaries(st.sampled_from(["scaleid", "id", "scaledefault", "proficient"]), hostile),
    max_size=3,
)


@FAST
@given(
    moodle_csvs(),
    st.one_of(st.just(6), st.integers(min_value=0, max_value=13)),
    st.one_of(scale_configurations, json_values),
)
def test_moodle_cells_of_any_json_are_refused_or_parsed(generated, column, value) -> None:
    """The framework row's cells (the scale configuration is JSON) holding any JSON text."""
    rows = list(csv.reader(io.StringIO(generated[0])))
    rows[1][column] = json.dumps(value)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    _parse_csv(buffer.getvalue())


json_texts = st.one_of(
    json_values.map(json.dumps),
    st.lists(
        st.sampled_from(
            ["{", "}", "[", "]", ",", ":", '"', '"CFDocument"', "1" * 4400, "-", "1e999", "\\u0000"]
        ),
        max_size=30,
    ).map("".join),
)


@FAST
@given(json_texts)
def test_any_upload_text_is_read_or_refused(text: str) -> None:
    """What an upload goes through before the parsers: detecting and reading JSON."""
    try:
        if detect_format(text, "upload.json") == "case":
            _parse_case(load_json(text))
    except FrameworkImportError as exc:
        assert exc.message


# --- crashes the properties found, kept as plain tests ----------------------------------------
SEQUENCE_PACKAGE = CASE_DIR / "opensalt-SequenceNumberFramework.json"


def _upload(app, tool_server, text: str, token: str | None = None) -> requests.Response:
    token = token or staff_token(app, make_tenant(app, uuid.uuid4().hex[:6]))
    return requests.post(
        f"{tool_server.url}/api/frameworks/import",
        headers={"Authorization": f"Bearer {token}"},
        files={
            "file": ("framework.json", text.encode("utf-8", "surrogatepass"), "application/json")
        },
        timeout=30,
    )


def _sequence_text(change) -> str:
    data = json.loads(SEQUENCE_PACKAGE.read_text(encoding="utf-8"))
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # found: a lone surrogate (JSON escape) reached the database driver (UnicodeEncodeError)
        (
            _sequence_text(lambda d: d["CFDocument"].update(identifier="\ud800")),
            "cannot be stored",
        ),
        # the same for a NUL character (PostgreSQL refuses it in text)
        (
            _sequence_text(lambda d: d["CFItems"][0].update(fullStatement="a\x00b")),
            "cannot be stored",
        ),
        # a sequence number beyond the column (OverflowError / NumericValueOutOfRange)
        (
            _sequence_text(lambda d: d["CFAssociations"][0].update(sequenceNumber=2**70)),
            "between -2147483648 and 2147483647",
        ),
        # a number with more digits than Python converts: ValueError from json.loads
        ('{"CFDocument": ' + "1" * 4400 + "}", "number too long"),
    ],
    ids=["lone surrogate", "NUL", "huge sequenceNumber", "4400-digit number"],
)
def test_uploads_that_crashed_are_refused_with_422(app, tool_server, text, message) -> None:
    token = staff_token(app, make_tenant(app, "crash"))
    counts = row_counts(app)
    response = _upload(app, tool_server, text, token)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert row_counts(app) == counts


def test_a_change_date_beyond_year_9999_in_utc_is_ignored(app, tool_server) -> None:
    """found: 9999-12-31T23:59:59-23:59 is valid ISO 8601 but year 10000 in UTC: storing it
    raised OverflowError. Such a date is treated as absent."""
    text = _sequence_text(
        lambda d: (
            d["CFDocument"].update(lastChangeDateTime="9999-12-31T23:59:59-23:59"),
            d["CFAssociations"][0].update(lastChangeDateTime="0001-01-01T00:00:00+23:59"),
        )
    )
    response = _upload(app, tool_server, text)
    assert response.status_code == 201, response.text
    with new_session(app) as s:
        framework = s.scalars(select(Framework)).one()
        assert framework.source_changed_at is None
    assert utc_datetime("2024-03-01T12:00:00+02:00").isoformat() == "2024-03-01T10:00:00+00:00"


def test_moodle_scale_configuration_with_infinity_is_refused() -> None:
    """found: a scale configuration naming value 1e999 (infinity) raised OverflowError."""
    rows = [
        HEADER,
        ["", "FW", "Framework", "", "1", "Low,High", '[{"id": 1e999}]'] + [""] * 5 + ["1", ""],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    with pytest.raises(FrameworkImportError, match="names value inf"):
        frameworks.parse_moodle_csv(buffer.getvalue(), issuer=ISSUER)
