"""Importing Moodle's own competency-framework CSV fixture (the OECD Core Competency Framework)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from plugin.db import new_session, utcnow
from plugin.performance import frameworks
from plugin.performance.frameworks import FrameworkImportError, catalog
from plugin.performance.frameworks.importers.moodle_csv import html_to_text
from plugin.performance.models import Competency, Evidence, Framework, Scale
from tests.conftest import row_counts
from tests.performance.perf_world import MOODLE_CSV, make_tenant, moodle_text


def _rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(moodle_text(), newline="")))


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _by_idnumber(session, framework_id: int) -> dict[str, Competency]:
    rows = session.scalars(select(Competency).where(Competency.framework_id == framework_id))
    return {c.identifier: c for c in rows}


def test_fixture_is_moodles_file() -> None:
    raw = MOODLE_CSV.read_bytes()
    # The copy keeps Moodle's bytes: CRLF inside quoted descriptions, LF between records.
    assert len(raw.decode("utf-8")) == 16911 and raw.count(b"\r\n") == 143
    rows = _rows()
    assert len(rows) == 66 and {len(r) for r in rows} == {14}


def test_oecd_framework_imports(app) -> None:
    tenant = make_tenant(app)
    with new_session(app) as session:
        result = frameworks.import_moodle_csv(session, tenant.platform_id, moodle_text())
        session.commit()
        assert result.created and result.source_kind == "moodle-csv"
        assert (result.title, result.total, result.added) == ("OECD", 64, 64)
        assert result.hierarchy_links == 62  # every row but the two top-level ones has a parent

        framework = session.get(Framework, result.framework_id)
        assert framework.identifier == "OECD-CORE"
        assert framework.uri.startswith("urn:uuid:")
        assert framework.description.startswith(
            "The Core Competencies summarise the capabilities that are important across all jobs "
            "and that we believe collectively contribute to the OECD\u2019s overall success."
        )
        assert framework.description.endswith(
            "• The delivery-related competencies\n• The interpersonal competencies\n"
            "• The strategic competencies"
        )
        assert "<p>" not in framework.description and "\r" not in framework.description

        scale = framework.scale
        assert scale.source == "moodle-csv" and scale.external_id == "2"
        assert [lvl.name for lvl in scale.levels] == ["Not yet competent", "Competent"]
        assert (scale.proficient_position, scale.default_position) == (2, 2)
        assert [lvl.proficient for lvl in scale.levels] == [False, True]

        c = _by_idnumber(session, framework.id)
        assert c["analytical-thinking"].name == "Analytical Thinking"
        assert c["analytical-thinking"].parent_id == c["delivery"].id
        assert c["delivery"].parent_id == c["competencies"].id
        assert c["competencies"].parent_id is None and c["levels"].parent_id is None
        assert c["DR-AT1"].parent_id == c["analytical-thinking"].id
        assert c["level-3"].parent_id == c["levels"].id
        assert c["DR-AT1"].code == "DR-AT1" and c["DR-AT1"].item_type == "competency"
        assert c["analytical-thinking"].description == (
            "Analytical Thinking is the ability to identify patterns across situations that are "
            "not obviously related, and to identify key or underlying issues in complex situations."
        )
        # Moodle cuts short names at 100 characters; the description has the whole sentence.
        assert c["S-SN-1"].name.endswith("by proactivel")
        assert c["S-SN-1"].description.endswith(
            "best practices, respective interests and areas of expertise."
        )
        assert "one\u2019s emotions under control" in c["diplomatic-sensitivity"].description

        tree = catalog.framework_tree(session, framework)
        assert [n.competency.identifier for n in tree] == ["levels", "competencies"]
        clusters = tree[1].children
        assert [n.competency.name for n in clusters] == [
            "Delivery-related",
            "Interpersonal",
            "Strategic",
        ]
        assert [n.competency.identifier for n in clusters[0].children] == [
            "analytical-thinking",
            "acheivement-focus",
            "drafting-skills",
            "flexible-thinking",
            "managing-resources",
            "teamwork",
        ]
        assert sum(len(cluster.children) for cluster in clusters) == 15  # fifteen core competencies
        assert catalog.tree_depth(tree) == 4


def test_moodle_iris_are_stable_per_site(app) -> None:
    a, b = make_tenant(app, "a"), make_tenant(app, "b")
    with new_session(app) as session:
        first = frameworks.import_moodle_csv(session, a.platform_id, moodle_text())
        iris = {k: c.uri for k, c in _by_idnumber(session, first.framework_id).items()}
        session.commit()
        again = frameworks.import_moodle_csv(session, a.platform_id, moodle_text())
        assert again.framework_id == first.framework_id and again.unchanged == 64
        assert {k: c.uri for k, c in _by_idnumber(session, first.framework_id).items()} == iris
        other = frameworks.import_moodle_csv(session, b.platform_id, moodle_text())
        other_iris = {k: c.uri for k, c in _by_idnumber(session, other.framework_id).items()}
        assert set(other_iris) == set(iris) and not set(other_iris.values()) & set(iris.values())
        assert len(set(iris.values())) == 64


def _edit(rows: list[list[str]], idnumber: str, column: int, value: str) -> None:
    for row in rows:
        if row[1] == idnumber:
            row[column] = value
            return
    raise AssertionError(idnumber)


def test_reimport_of_a_changed_export_updates_in_place(app) -> None:
    tenant = make_tenant(app)
    with new_session(app) as session:
        first = frameworks.import_moodle_csv(session, tenant.platform_id, moodle_text())
        before = _by_idnumber(session, first.framework_id)
        session.add(
            Evidence(
                platform_id=tenant.platform_id,
                user_id=tenant.learner_id,
                competency_id=before["DR-AT1"].id,
                statement_id="0b8a7f3e-5a4c-5d7e-8f9a-1b2c3d4e5f60",
                kind="social",
                source="board.reply_posted",
                occurred_at=utcnow(),
            )
        )
        scale_id = session.get(Framework, first.framework_id).scale_id
        session.commit()
        ids = {k: c.id for k, c in before.items()}

    rows = _rows()
    _edit(rows, "analytical-thinking", 2, "Analytical and Critical Thinking")
    rows = [r for r in rows if r[1] not in ("DR-AT1", "I-N-3")]
    rows.append(
        ["negotiating", "I-N-2", "Builds agreement", "<p>Builds agreement.</p>", "1"] + [""] * 9
    )
    _edit(rows, "OECD-CORE", 5, "Not yet competent,Competent,Expert")
    with new_session(app) as session:
        second = frameworks.import_moodle_csv(session, tenant.platform_id, _csv(rows))
        session.commit()
        assert second.framework_id == first.framework_id and not second.created
        assert (second.total, second.added, second.retired, second.deleted) == (63, 1, 1, 1)
        # renamed, plus DR-AT-2 which moved up to first place under analytical-thinking
        assert second.updated == 2
        after = _by_idnumber(session, first.framework_id)
        assert after["analytical-thinking"].id == ids["analytical-thinking"]
        assert after["analytical-thinking"].name == "Analytical and Critical Thinking"
        assert after["DR-AT1"].retired_at is not None and after["DR-AT1"].id == ids["DR-AT1"]
        assert "I-N-3" not in after
        assert after["I-N-2"].parent_id == ids["negotiating"]
        assert session.scalar(select(Evidence.competency_id)) == ids["DR-AT1"]
        framework = session.get(Framework, first.framework_id)
        assert framework.scale_id == scale_id  # the framework's scale is updated, not replaced
        assert [lvl.name for lvl in framework.scale.levels] == [
            "Not yet competent",
            "Competent",
            "Expert",
        ]
        assert [lvl.proficient for lvl in framework.scale.levels] == [False, True, True]
        assert session.scalar(select(func.count()).select_from(Scale)) == 1


def _set(idnumber: str, column: int, value: str) -> Callable[[list[list[str]]], None]:
    return lambda rows: _edit(rows, idnumber, column, value)


BAD_CSV: list[tuple[str, Callable[[list[list[str]]], None] | None, str, str]] = [
    ("no framework row", _set("OECD-CORE", 12, ""), "", "this file has 0"),
    ("two framework rows", _set("levels", 12, "1"), "", "this file has 2"),
    ("unknown parent", _set("DR-AT1", 0, "nope"), "", "parent id number nope is not in the file"),
    ("cycle", _set("competencies", 0, "delivery"), "", "cycle"),
    ("missing id number", _set("level-2", 1, ""), "", "has no id number"),
    ("duplicate id number", _set("level-2", 1, "level-1"), "", "level-1 is used twice"),
    ("scale config not JSON", _set("OECD-CORE", 6, "[{oops"), "", "not valid JSON"),
    ("scale config nested too deeply", _set("OECD-CORE", 6, "[" * 50_000), "", "nested too deeply"),
    (
        "scale config out of range",
        _set("OECD-CORE", 6, '[{"id":7,"proficient":1}]'),
        "",
        "names value 7",
    ),
    ("not a Moodle file", None, "a,b,c\n1,2,3\n", "neither CASE JSON nor a Moodle"),
    ("broken quoting", None, '"Parent id number","Id number\n,"OECD', "cannot be read"),
    ("binary", None, "PK\x03\x04\x00\x00", "not a text CSV"),
    ("empty", None, "\n\n", "empty"),
]


@pytest.mark.parametrize(("case", "edit", "text", "message"), BAD_CSV, ids=[b[0] for b in BAD_CSV])
def test_bad_csv_is_refused_and_changes_nothing(app, case, edit, text, message) -> None:
    tenant = make_tenant(app)
    if edit is not None:
        rows = _rows()
        edit(rows)
        text = _csv(rows)
    counts = row_counts(app)
    with new_session(app) as session:
        with pytest.raises(FrameworkImportError) as err:
            frameworks.import_document(session, tenant.platform_id, text.encode(), filename="f.csv")
        session.commit()
    assert message in err.value.message
    assert row_counts(app) == counts


def test_translated_header_is_read_by_column_order(app) -> None:
    tenant = make_tenant(app)
    rows = _rows()
    rows[0] = [f"Colonne {i}" for i in range(14)]
    with new_session(app) as session:
        result = frameworks.import_moodle_csv(session, tenant.platform_id, _csv(rows))
    assert (result.title, result.total) == ("OECD", 64)


def test_upload_autodetects_the_format(app) -> None:
    tenant = make_tenant(app)
    with new_session(app) as session:
        moodle = frameworks.import_document(session, tenant.platform_id, MOODLE_CSV.read_bytes())
        assert moodle.source_kind == "moodle-csv"
        # A UTF-8 byte order mark (as spreadsheet programs write) is fine too.
        bom = frameworks.import_document(
            session, tenant.platform_id, b"\xef\xbb\xbf" + MOODLE_CSV.read_bytes()
        )
        assert bom.framework_id == moodle.framework_id


def test_html_to_text() -> None:
    assert html_to_text("<p>One\r\ntwo &amp; three<br>four</p><p>Five</p>") == (
        "One two & three\nfour\n\nFive"
    )
    assert html_to_text("<style>p{}</style><script>alert(1)</script>plain") == "plain"
