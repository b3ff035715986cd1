"""Importing the OpenSALT CASE packages as they are, re-importing changed versions, refusing bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from plugin.db import new_session, utcnow
from plugin.performance import frameworks, links
from plugin.performance.frameworks import FrameworkImportError, catalog
from plugin.performance.models import Competency, CompetencyLink, Evidence, Framework, Scale
from tests.conftest import row_counts
from tests.performance.perf_world import case_data, make_tenant

SMART = "opensalt-SmartLevelFramework.json"

# Counted by hand from the files in tests/data/case:
# (file, title, CFItems, isChildOf associations, hierarchy depth, CASE version)
CASE_FILES = [
    ("opensalt-AdoptedTestFramework.json", "Adopted Test", 1, 1, 1, "1.0"),
    ("opensalt-ItemTypeTestFramework.json", "Item Type Test", 1, 1, 1, "1.0"),
    ("opensalt-MarkdownFramework.json", "Test Markdown Framework", 2, 2, 1, "1.0"),
    ("opensalt-SequenceNumberFramework.json", "Sequence Number Test", 2, 2, 1, "1.0"),
    ("opensalt-SmartLevelFramework.json", "SmartLevel Test", 14, 14, 2, "1.0"),
    ("opensalt-Utf8TestFramework.json", "UTF8 \U0001d451 Test", 1, 1, 1, "1.0"),
]


def _competencies(session, framework_id: int) -> dict[str, Competency]:
    rows = session.scalars(select(Competency).where(Competency.framework_id == framework_id))
    return {c.identifier: c for c in rows}


@pytest.mark.parametrize(("name", "title", "items", "associations", "depth", "version"), CASE_FILES)
def test_each_opensalt_package_imports_as_it_is(
    app, name, title, items, associations, depth, version
) -> None:
    data = case_data(name)
    assert len(data["CFItems"]) == items and len(data["CFAssociations"]) == associations
    tenant = make_tenant(app)
    with new_session(app) as session:
        result = frameworks.import_case_package(session, tenant.platform_id, data)
        session.commit()
        assert result.created and result.title == title
        assert (result.total, result.added, result.hierarchy_links) == (items, items, associations)
        assert result.warnings == []

        framework = session.get(Framework, result.framework_id)
        assert framework.uri == data["CFDocument"]["uri"]
        assert framework.identifier == data["CFDocument"]["identifier"]
        assert framework.case_version == version and framework.source_kind == "case"
        assert framework.platform_id == tenant.platform_id
        assert framework.scale.source == "default"
        assert [lvl.name for lvl in framework.scale.levels] == [
            "Beginning",
            "Developing",
            "Proficient",
            "Advanced",
        ]
        assert [lvl.proficient for lvl in framework.scale.levels] == [False, False, True, True]

        stored = _competencies(session, framework.id)
        assert len(stored) == items
        for item in data["CFItems"]:
            competency = stored[item["identifier"]]
            assert competency.uri == item["uri"]  # the CASE item URI is the IRI
            assert competency.name == item["fullStatement"].replace("\r\n", "\n")
            assert competency.code == item.get("humanCodingScheme")
        assert catalog.tree_depth(catalog.framework_tree(session, framework)) == depth


def test_utf8_names_survive_the_database(app) -> None:
    tenant = make_tenant(app)
    with new_session(app) as session:
        result = frameworks.import_case_package(
            session, tenant.platform_id, case_data("opensalt-Utf8TestFramework.json")
        )
        session.commit()
    with new_session(app) as session:  # read back through a fresh connection
        framework = session.get(Framework, result.framework_id)
        assert framework.title == "UTF8 \U0001d451 Test"
        (item,) = _competencies(session, framework.id).values()
        assert item.name == "Item \U0001d451 1" and len("\U0001d451".encode()) == 4


def test_hierarchy_and_sequence_numbers(app) -> None:
    tenant, other = make_tenant(app), make_tenant(app, "seq")
    with new_session(app) as session:
        smart = frameworks.import_case_package(session, tenant.platform_id, case_data(SMART))
        tree = catalog.framework_tree(session, session.get(Framework, smart.framework_id))
        assert [n.competency.name for n in tree] == ["Item 1", "Item 2"]
        item1, item2 = tree
        assert [n.competency.name for n in item1.children] == [f"Item 1.{i}" for i in range(1, 11)]
        assert [n.competency.name for n in item2.children] == ["Item 2.1", "Item 2.2"]
        assert all(n.depth == 2 and not n.children for n in item1.children)
        assert item1.children[0].competency.parent_id == item1.competency.id

        seq = frameworks.import_case_package(
            session, other.platform_id, case_data("opensalt-SequenceNumberFramework.json")
        )
        tree = catalog.framework_tree(session, session.get(Framework, seq.framework_id))
        # SNT.2 has sequenceNumber 1 and SNT.1 has 2: "Second added item, but should be first".
        assert [n.competency.code for n in tree] == ["SNT.2", "SNT.1"]


def test_markdown_statement_is_kept_verbatim_with_normalised_newlines(app) -> None:
    tenant = make_tenant(app)
    with new_session(app) as session:
        result = frameworks.import_case_package(
            session, tenant.platform_id, case_data("opensalt-MarkdownFramework.json")
        )
        table = _competencies(session, result.framework_id)["c496e222-b8df-11e7-ba24-039ffdae3771"]
        assert table.code == "MD.Table"
        assert "| Column 1 | Column 2 |\n| --- | --- |" in table.name and "\r" not in table.name
        assert table.uri.startswith("http://server/ims/case/v1p0/CFItems/")


def test_item_type_is_kept(app) -> None:
    tenant = make_tenant(app)
    with new_session(app) as session:
        result = frameworks.import_case_package(
            session, tenant.platform_id, case_data("opensalt-ItemTypeTestFramework.json")
        )
        (item,) = _competencies(session, result.framework_id).values()
        assert item.item_type == "Standard"


def _as_case_1p1(data: dict[str, Any]) -> dict[str, Any]:
    """The same package as the CASE 1.1 REST binding serves it: wrapped in CFPackage, with the 1.1
    properties (caseVersion, frameworkType, CFDocumentURI, extensions, targetType)."""
    package = copy.deepcopy(data)
    doc = package["CFDocument"]
    doc.update(caseVersion="1.1", frameworkType="Competency", extensions={"x": 1})
    link = {"title": doc["title"], "identifier": doc["identifier"], "uri": doc["uri"]}
    for item in package["CFItems"]:
        item["CFDocumentURI"] = link
    for association in package["CFAssociations"]:
        association["destinationNodeURI"]["targetType"] = "CFItem"
        association["notes"] = "1.1 allows notes"
    return {"CFPackage": package}


def test_case_1p1_package_is_accepted(app) -> None:
    tenant = make_tenant(app)
    data = _as_case_1p1(case_data(SMART))
    with new_session(app) as session:
        result = frameworks.import_case_package(session, tenant.platform_id, data)
        framework = session.get(Framework, result.framework_id)
        assert framework.case_version == "1.1"
        assert (result.total, result.hierarchy_links) == (14, 14)
        assert catalog.tree_depth(catalog.framework_tree(session, framework)) == 2


def _modified_smart_level() -> dict[str, Any]:
    """A newer SmartLevel: one item renamed, 1.3 and 1.4 removed, a new item 3, 2.2 moved under 1."""
    data = copy.deepcopy(case_data(SMART))
    doc = data["CFDocument"]
    doc["title"] = "SmartLevel Test (2018)"
    doc["version"] = "2"
    doc["lastChangeDateTime"] = "2018-01-01T00:00:00+00:00"
    removed = {"00000000-0000-0000-0000-000000000005", "00000000-0000-0000-0000-000000000006"}
    items = [i for i in data["CFItems"] if i["identifier"] not in removed]
    for item in items:
        if item["identifier"] == "00000000-0000-0000-0000-000000000004":
            item["fullStatement"] = "Item 1.2, reworded"
    new_item = {
        "uri": "https://server/ims/case/v1p0/CFItems/00000000-0000-0000-0000-000000000099",
        "identifier": "00000000-0000-0000-0000-000000000099",
        "lastChangeDateTime": "2018-01-01T00:00:00+00:00",
        "fullStatement": "Item 3",
    }
    items.append(new_item)
    associations = [
        a for a in data["CFAssociations"] if a["originNodeURI"]["identifier"] not in removed
    ]
    item1 = {k: items[0][k] for k in ("identifier", "uri")} | {"title": "Item 1"}
    for association in associations:
        if association["originNodeURI"]["identifier"] == "00000000-0000-0000-0000-000000000014":
            association["destinationNodeURI"] = item1
    associations.append(
        {
            "uri": "https://server/ims/case/v1p0/CFAssociations/a0000000-0000-0000-0000-000000000099",
            "identifier": "a0000000-0000-0000-0000-000000000099",
            "lastChangeDateTime": "2018-01-01T00:00:00+00:00",
            "originNodeURI": {k: new_item[k] for k in ("identifier", "uri")} | {"title": "3"},
            "associationType": "isChildOf",
            "destinationNodeURI": {k: doc[k] for k in ("identifier", "uri", "title")},
        }
    )
    data["CFItems"], data["CFAssociations"] = items, associations
    return data


def test_reimport_updates_in_place_and_keeps_links_and_evidence(app) -> None:
    tenant = make_tenant(app)
    item = "00000000-0000-0000-0000-00000000000{}".format
    with new_session(app) as session:
        first = frameworks.import_case_package(session, tenant.platform_id, case_data(SMART))
        before = _competencies(session, first.framework_id)
        # 1.3 is linked to a board, 1.1 has evidence; 1.4 has neither.
        links.link(session, tenant.platform_id, "board", "7", [before[item(5)].id])
        session.add(
            Evidence(
                platform_id=tenant.platform_id,
                user_id=tenant.learner_id,
                competency_id=before[item(3)].id,
                statement_id="7d5c1f7e-0d9b-5b1e-9f33-3f3d6f6d0a11",
                kind="social",
                source="board.thread_posted",
                occurred_at=utcnow(),
            )
        )
        session.commit()
        ids_before = {k: c.id for k, c in before.items()}

    with new_session(app) as session:
        second = frameworks.import_case_package(
            session, tenant.platform_id, _modified_smart_level(), source_url="https://x.test/p"
        )
        session.commit()
        assert second.framework_id == first.framework_id and not second.created
        assert (second.total, second.added, second.retired, second.deleted) == (13, 1, 1, 1)
        # 1.2 reworded, 2.2 moved under Item 1; 1.5 … 1.10 changed position among Item 1's
        # children; everything else is as it was.
        assert second.updated == 1 + 1 + 6
        assert second.unchanged == 13 - 1 - second.updated

        framework = session.get(Framework, first.framework_id)
        assert (framework.title, framework.version) == ("SmartLevel Test (2018)", "2")
        assert framework.source_url == "https://x.test/p"
        after = _competencies(session, framework.id)
        for key, competency in after.items():
            if key in ids_before:
                assert competency.id == ids_before[key]  # same rows: links and evidence stay
        assert item(6) not in after  # removed upstream, nothing referred to it: deleted
        retired = after[item(5)]
        assert retired.retired_at is not None and retired.name == "Item 1.3"
        assert after[item(4)].name == "Item 1.2, reworded" and after[item(4)].retired_at is None
        assert after["00000000-0000-0000-0000-000000000014"].parent_id == after[item(1)].id
        assert after["00000000-0000-0000-0000-000000000099"].parent_id is None
        assert session.scalar(select(func.count()).select_from(CompetencyLink)) == 1
        assert session.scalar(select(Evidence.competency_id)) == ids_before[item(3)]
        assert [c.id for c in links.linked(session, tenant.platform_id, "board", "7")] == [
            ids_before[item(5)]
        ]
        summary = catalog.summarize(session, framework)
        assert (summary.active, summary.retired) == (13, 1)

    with new_session(app) as session:  # the original again: 1.3 is back, 1.4 is new again
        third = frameworks.import_case_package(session, tenant.platform_id, case_data(SMART))
        session.commit()
        assert (third.added, third.retired, third.deleted, third.total) == (1, 0, 1, 14)
        again = _competencies(session, first.framework_id)
        assert again[item(5)].id == ids_before[item(5)] and again[item(5)].retired_at is None
        assert again[item(6)].id != ids_before[item(6)]
        assert session.scalar(select(func.count()).select_from(Framework)) == 1


def test_reimport_of_identical_package_changes_nothing(app) -> None:
    tenant = make_tenant(app)
    with new_session(app) as session:
        frameworks.import_case_package(session, tenant.platform_id, case_data(SMART))
        session.commit()
        again = frameworks.import_case_package(session, tenant.platform_id, case_data(SMART))
        session.commit()
        assert (again.added, again.updated, again.unchanged, again.retired, again.deleted) == (
            0,
            0,
            14,
            0,
            0,
        )
        assert session.scalar(select(func.count()).select_from(Competency)) == 14
        assert session.scalar(select(func.count()).select_from(Scale)) == 1  # one default scale


def test_same_package_in_two_platforms_stays_separate(app) -> None:
    a, b = make_tenant(app, "a"), make_tenant(app, "b")
    with new_session(app) as session:
        fa = frameworks.import_case_package(session, a.platform_id, case_data(SMART))
        fb = frameworks.import_case_package(session, b.platform_id, case_data(SMART))
        session.commit()
        assert fa.framework_id != fb.framework_id and fb.created
        assert catalog.get_framework(session, a.platform_id, fb.framework_id) is None
        assert [s.framework.id for s in catalog.list_frameworks(session, a.platform_id)] == [
            fa.framework_id
        ]
        assert session.scalar(select(func.count()).select_from(Competency)) == 28


def _with(data: dict[str, Any], change) -> dict[str, Any]:
    data = copy.deepcopy(data)
    change(data)
    return data


def _cycle(data: dict[str, Any]) -> None:
    # Item 1 becomes a child of its own child Item 1.1.
    for association in data["CFAssociations"]:
        if association["originNodeURI"]["identifier"].endswith("0001"):
            association["destinationNodeURI"] = {
                "title": "Item 1.1",
                "identifier": "00000000-0000-0000-0000-000000000003",
                "uri": "https://server/ims/case/v1p0/CFItems/00000000-0000-0000-0000-000000000003",
            }


def _unknown_parent(data: dict[str, Any]) -> None:
    data["CFAssociations"][2]["destinationNodeURI"] = {
        "title": "?",
        "identifier": "ffffffff-0000-0000-0000-000000000000",
        "uri": "https://elsewhere/ims/case/v1p0/CFItems/ffffffff-0000-0000-0000-000000000000",
    }


BAD_PACKAGES = [
    ("not an object", lambda d: ["CFDocument"], "JSON object"),
    ("no CFDocument", lambda d: {"CFItems": d["CFItems"]}, "no CFDocument"),
    (
        "CFDocument without identifier",
        lambda d: _with(d, lambda x: x["CFDocument"].pop("identifier")),
        "CFDocument has no identifier",
    ),
    (
        "item without fullStatement",
        lambda d: _with(d, lambda x: x["CFItems"][0].pop("fullStatement")),
        "has no fullStatement",
    ),
    (
        "duplicate item",
        lambda d: _with(d, lambda x: x["CFItems"].append(dict(x["CFItems"][0]))),
        "used twice",
    ),
    ("cycle", lambda d: _with(d, _cycle), "cycle"),
    ("unknown parent", lambda d: _with(d, _unknown_parent), "neither this framework"),
    (
        "items not a list",
        lambda d: _with(d, lambda x: x.update(CFItems={"a": 1})),
        "CFItems must be a list",
    ),
    (
        "bad sequence number",
        lambda d: _with(d, lambda x: x["CFAssociations"][0].update(sequenceNumber="first")),
        "sequenceNumber must be an integer",
    ),
    (
        "title not a string",
        lambda d: _with(d, lambda x: x["CFDocument"].update(title=["x"])),
        "title must be a string",
    ),
]


@pytest.mark.parametrize(
    ("case", "make", "message"), BAD_PACKAGES, ids=[b[0] for b in BAD_PACKAGES]
)
def test_bad_packages_are_refused_and_change_nothing(app, case, make, message) -> None:
    tenant = make_tenant(app)
    with new_session(app) as session:
        frameworks.import_case_package(session, tenant.platform_id, case_data(SMART))
        session.commit()
    counts = row_counts(app)
    with new_session(app) as session:
        with pytest.raises(FrameworkImportError) as err:
            frameworks.import_case_package(session, tenant.platform_id, make(case_data(SMART)))
        session.commit()  # even a caller that commits anyway writes nothing
    assert message in err.value.message
    assert row_counts(app) == counts


def test_bad_json_text_is_refused_with_position(app) -> None:
    tenant = make_tenant(app)
    counts = row_counts(app)
    with new_session(app) as session:
        with pytest.raises(FrameworkImportError, match=r"not valid JSON: .* line 2, column"):
            frameworks.import_document(session, tenant.platform_id, b'{"CFDocument":\n  {,}}')
        with pytest.raises(FrameworkImportError, match="not UTF-8"):
            frameworks.import_document(session, tenant.platform_id, b"\xff\xfe{\x00")
        session.commit()
    assert row_counts(app) == counts


def test_a_package_matching_two_frameworks_is_refused(app) -> None:
    tenant = make_tenant(app)
    with new_session(app) as session:
        frameworks.import_case_package(session, tenant.platform_id, case_data(SMART))
        markdown = case_data("opensalt-MarkdownFramework.json")
        markdown["CFDocument"]["identifier"] = "d0000000-0000-0000-0000-00000000000f"
        frameworks.import_case_package(session, tenant.platform_id, markdown)
        session.commit()
        counts = row_counts(app)
        # The uri of SmartLevel's document with the identifier of the (changed) Markdown one.
        mixed = case_data(SMART)
        mixed["CFDocument"]["identifier"] = "d0000000-0000-0000-0000-00000000000f"
        with pytest.raises(FrameworkImportError, match="refusing to merge"):
            frameworks.import_case_package(session, tenant.platform_id, mixed)
    assert row_counts(app) == counts


def test_association_from_an_outside_item_is_a_warning(app) -> None:
    tenant = make_tenant(app)
    data = case_data("opensalt-AdoptedTestFramework.json")
    extra = copy.deepcopy(data["CFAssociations"][0])
    extra["originNodeURI"] = {"title": "x", "identifier": "eeee", "uri": "https://other/x"}
    data["CFAssociations"].append(extra)
    data["CFAssociations"].append(dict(data["CFAssociations"][0], associationType="isRelatedTo"))
    with new_session(app) as session:
        result = frameworks.import_case_package(session, tenant.platform_id, data)
    assert result.total == 1 and result.hierarchy_links == 1
    assert len(result.warnings) == 1 and "not an item of this package" in result.warnings[0]
