"""CASE associations of every type (issue 9, item 12): stored on import (including those that
point into other frameworks, by URI), resolved when the other framework is imported (in either
order), shown on the competency page, exported by the API, updated in place by a re-import, and
used for evidence: evidence for a competency counts for its exact matches, never for related ones.

Packages are OpenSALT's (MIT, tests/data/case) with associations added the way CASE writes them.
Every OpenSALT test package has the same CFDocument identifier, so the second framework gets its
own document identifier and uri here (as two real frameworks would have).
"""

from __future__ import annotations

import copy
import html
import json
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, inspect, select

from plugin import access
from plugin.db import new_session
from plugin.lti import roles
from plugin.lti.models import Platform
from plugin.migrate import downgrade, upgrade
from plugin.performance import associations, evidence, frameworks, links
from plugin.performance.cli import competencies
from plugin.performance.frameworks import FrameworkImportError
from plugin.performance.models import Competency, CompetencyAssociation, Evidence, Framework
from plugin.social import boards
from plugin.social.models import Board
from tests.conftest import row_counts
from tests.data_files import CASE_DIR
from tests.performance.perf_world import Tenant, make_tenant, staff_token, token_for
from tests.social.social_world import make_course

SMART = "opensalt-SmartLevelFramework.json"
SEQUENCE = "opensalt-SequenceNumberFramework.json"
UTF8 = "opensalt-Utf8TestFramework.json"
EXEMPLAR = "https://example.org/exemplars/active-listening-video"
# The types CASE 1.0 names, and an extension type (CASE 1.1 allows "ext:" types).
OTHER_TYPES = (
    "exactMatchOf",
    "isRelatedTo",
    "precedes",
    "isPartOf",
    "exemplar",
    "hasSkillLevel",
    "replacedBy",
    "isPeerOf",
    "ext:isTranslationOf",
)


def package(name: str) -> dict[str, Any]:
    """A CASE package of the project's test data (a missing file is a failure, never a skip)."""
    return json.loads((CASE_DIR / name).read_text(encoding="utf-8"))


def renamed(data: dict[str, Any], suffix: str, items: bool = True) -> dict[str, Any]:
    """The package as a framework of its own: its CFDocument (and CFItems) get other
    identifiers and uris (the OpenSALT test packages reuse them), its associations follow."""
    data = copy.deepcopy(data)
    new_ids: dict[str, str] = {}
    for thing in [data["CFDocument"], *(data["CFItems"] if items else [])]:
        old = thing["identifier"]
        new_ids[old] = old[: -len(suffix)] + suffix
        thing["identifier"] = new_ids[old]
        thing["uri"] = thing["uri"].replace(old, new_ids[old])
    for association in data["CFAssociations"]:
        for key in ("originNodeURI", "destinationNodeURI"):
            node = association[key]
            old = node.get("identifier")
            if old in new_ids:
                node.update(identifier=new_ids[old], uri=node["uri"].replace(old, new_ids[old]))
    return data


def node(item: dict[str, Any]) -> dict[str, str]:
    return {
        "title": item.get("humanCodingScheme") or item["fullStatement"],
        "identifier": item["identifier"],
        "uri": item["uri"],
    }


def association(
    number: int, kind: str, origin: dict, destination: dict, **extra: Any
) -> dict[str, Any]:
    identifier = f"a5500000-0000-0000-0000-{number:012d}"
    return {
        "identifier": identifier,
        "uri": f"https://server/ims/case/v1p0/CFAssociations/{identifier}",
        "lastChangeDateTime": "2024-03-01T10:00:00+00:00",
        "associationType": kind,
        "originNodeURI": origin,
        "destinationNodeURI": destination,
        **extra,
    }


def smart_with_associations(seq: dict[str, Any]) -> dict[str, Any]:
    """SmartLevel with one association of every other type; exactMatchOf and isRelatedTo point
    at items of the SequenceNumber framework ``seq``, by uri, with their titles."""
    data = package(SMART)
    items = data["CFItems"]
    b0, b1 = seq["CFItems"]
    ends = {
        "exactMatchOf": (node(items[0]), node(b0)),
        "isRelatedTo": (node(items[1]), node(b1)),
        "precedes": (node(items[2]), node(items[3])),
        "isPartOf": (node(items[4]), node(items[0])),
        "exemplar": (node(items[5]), {"title": "A video", "identifier": "ex-1", "uri": EXEMPLAR}),
        "hasSkillLevel": (node(items[6]), node(items[7])),
        "replacedBy": (node(items[8]), node(items[9])),
        "isPeerOf": (node(items[10]), node(items[11])),
        "ext:isTranslationOf": (node(items[12]), {"identifier": "only-an-identifier"}),
    }
    for number, kind in enumerate(OTHER_TYPES, start=1):
        origin, destination = ends[kind]
        data["CFAssociations"].append(
            association(number, kind, origin, destination, sequenceNumber=number)
        )
    return data


def _file(data: dict[str, Any], name: str = "framework.json") -> dict[str, tuple]:
    return {"file": (name, json.dumps(data).encode(), "application/json")}


class Client:
    """The tool over real HTTP with one launch token: the JSON API and the staff pages."""

    def __init__(self, tool_server, token: str) -> None:
        self.base = tool_server.url
        self.token = token

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return requests.request(
            method, self.base + "/api" + path, headers=headers, timeout=30, **kwargs
        )

    def page(self, path: str) -> requests.Response:
        return requests.get(self.base + path, params={"lc": self.token}, timeout=30)


def _competency(app, framework_id: int, identifier: str) -> int:
    with new_session(app) as s:
        return s.scalars(
            select(Competency.id).where(
                Competency.framework_id == framework_id, Competency.identifier == identifier
            )
        ).one()


def _rows(app, framework_id: int) -> list[CompetencyAssociation]:
    with new_session(app) as s:
        return list(
            s.scalars(
                select(CompetencyAssociation)
                .where(CompetencyAssociation.framework_id == framework_id)
                .order_by(CompetencyAssociation.position)
            )
        )


def test_every_association_type_is_stored_shown_and_exported(app, tool_server, tenant) -> None:
    staff = Client(tool_server, staff_token(app, tenant))
    seq = renamed(package(SEQUENCE), "000000000099")
    smart = smart_with_associations(seq)

    imported = staff.api("POST", "/frameworks/import", files=_file(smart))
    assert imported.status_code == 201, imported.text
    result = imported.json()
    total = len(smart["CFAssociations"])  # 14 isChildOf + one of each other type
    assert result["associations"] == result["associations_added"] == total
    assert result["hierarchy_links"] == 14
    framework_id = result["framework_id"]

    rows = _rows(app, framework_id)
    assert [r.association_type for r in rows] == [
        a["associationType"] for a in smart["CFAssociations"]
    ]
    by_type = {r.association_type: r for r in rows if r.association_type != "isChildOf"}
    assert set(by_type) == set(OTHER_TYPES)
    exact = by_type["exactMatchOf"]
    b0 = seq["CFItems"][0]
    assert exact.identifier == "a5500000-0000-0000-0000-000000000001"
    assert exact.uri.endswith(exact.identifier) and exact.sequence_number == 1
    assert exact.source_changed_at.isoformat() == "2024-03-01T10:00:00+00:00"
    assert exact.origin_uri == smart["CFItems"][0]["uri"]
    assert (exact.destination_uri, exact.destination_identifier, exact.destination_title) == (
        b0["uri"],
        b0["identifier"],
        "SNT.1",
    )
    assert by_type["ext:isTranslationOf"].destination_uri is None
    assert by_type["ext:isTranslationOf"].destination_identifier == "only-an-identifier"

    # The API exports them page by page, in package order, ends resolved where imported.
    exported, after = [], None
    while True:
        params = {"limit": 5, **({"after": after} if after is not None else {})}
        page = staff.api("GET", f"/frameworks/{framework_id}/associations", params=params)
        assert page.status_code == 200, page.text
        exported += page.json()["items"]
        after = page.json()["next_after"]
        if after is None:
            break
    assert [a["identifier"] for a in exported] == [a["identifier"] for a in smart["CFAssociations"]]
    first_child = exported[0]
    assert first_child["association_type"] == "isChildOf"
    assert first_child["origin"]["competency"]["iri"] == smart["CFItems"][0]["uri"]
    exact_out = next(a for a in exported if a["association_type"] == "exactMatchOf")
    assert exact_out["destination"] == {
        "uri": b0["uri"],
        "identifier": b0["identifier"],
        "title": "SNT.1",
        "competency": None,  # the Sequence framework is not imported yet
        "framework_id": None,
    }
    assert exact_out["sequence_number"] == 1
    assert exact_out["last_change_date_time"].startswith("2024-03-01T10:00:00")
    detail = staff.api("GET", f"/frameworks/{framework_id}").json()
    assert detail["association_counts"] == {"isChildOf": 14, **{t: 1 for t in OTHER_TYPES}}

    a0 = _competency(app, framework_id, smart["CFItems"][0]["identifier"])
    one = staff.api("GET", f"/competencies/{a0}").json()
    kinds = {(x["direction"], x["association"]["association_type"]) for x in one["associations"]}
    assert kinds == {
        ("outgoing", "isChildOf"),  # to the document
        ("incoming", "isChildOf"),  # its children
        ("outgoing", "exactMatchOf"),
        ("incoming", "isPartOf"),  # item 4 is part of item 0
    }
    assert one["exact_matches"] == []  # its match is in a framework not imported here

    page = staff.page(f"/competencies/{a0}")
    assert page.status_code == 200
    assert "is an exact match of" in page.text and "SNT.1" in page.text
    assert html.escape(b0["uri"]) in page.text and "not imported" in page.text

    # Importing the other framework later resolves the association, from both sides.
    second = staff.api("POST", "/frameworks/import", files=_file(seq))
    assert second.status_code == 201, second.text
    seq_id = second.json()["framework_id"]
    assert second.json()["associations"] == 2
    b0_id = _competency(app, seq_id, b0["identifier"])
    b1_id = _competency(app, seq_id, seq["CFItems"][1]["identifier"])
    one = staff.api("GET", f"/competencies/{a0}").json()
    assert [c["id"] for c in one["exact_matches"]] == [b0_id]
    match = staff.api("GET", f"/competencies/{b0_id}").json()
    assert [c["id"] for c in match["exact_matches"]] == [a0]  # symmetric
    incoming = [x for x in match["associations"] if x["direction"] == "incoming"]
    assert [x["association"]["association_type"] for x in incoming] == ["exactMatchOf"]
    assert incoming[0]["association"]["framework_id"] == framework_id
    a1 = _competency(app, framework_id, smart["CFItems"][1]["identifier"])
    related = staff.api("GET", f"/competencies/{a1}").json()
    assert [r["competency"]["id"] for r in related["related"]] == [b1_id]
    assert related["exact_matches"] == []
    b_page = staff.page(f"/competencies/{b0_id}")
    assert "The same competency elsewhere" in b_page.text
    assert html.escape(smart["CFItems"][0]["fullStatement"], quote=False) in b_page.text
    framework_page = staff.page(f"/competencies/frameworks/{framework_id}")
    assert f"/competencies/{a0}?lc=" in framework_page.text
    assert "is an exact match of" in framework_page.text


def test_competency_reads_stay_in_their_platform(app, tool_server, tenant) -> None:
    staff = Client(tool_server, staff_token(app, tenant))
    seq = renamed(package(SEQUENCE), "000000000099")
    framework_id = staff.api(
        "POST", "/frameworks/import", files=_file(smart_with_associations(seq))
    ).json()["framework_id"]
    a0 = _competency(app, framework_id, package(SMART)["CFItems"][0]["identifier"])
    learner = Client(tool_server, token_for(app, tenant, tenant.learner_id, [roles.LEARNER]))
    assert learner.api("GET", f"/competencies/{a0}").status_code == 200  # reading is open
    assert learner.page(f"/competencies/{a0}").status_code == 403  # the page is for staff
    other = make_tenant(app, "b")
    outsider = Client(tool_server, staff_token(app, other))
    # The other platform imports the Sequence framework: it must not resolve A's associations.
    outsider.api("POST", "/frameworks/import", files=_file(seq))
    for path in (f"/competencies/{a0}", f"/frameworks/{framework_id}/associations"):
        assert outsider.api("GET", path).status_code == 404
    assert outsider.page(f"/competencies/{a0}").status_code == 404
    mine = Client(tool_server, staff_token(app, tenant)).api("GET", f"/competencies/{a0}").json()
    assert mine["exact_matches"] == []
    for bad in (
        "/competencies/0",
        "/competencies/2147483648",
        "/competencies/99999999999999999999",
    ):
        assert staff.api("GET", bad).status_code == 404, bad
        assert staff.page(bad).status_code == 404, bad
    assert (
        staff.api("GET", f"/frameworks/{framework_id}/associations", params={"limit": 0})
    ).status_code in (400, 422)


def test_reimport_updates_associations_in_place(app, tenant) -> None:
    seq = renamed(package(SEQUENCE), "000000000099")
    smart = smart_with_associations(seq)
    with new_session(app) as s:
        first = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(smart))
        s.commit()
    before = {r.identifier: (r.id, r.updated_at) for r in _rows(app, first.framework_id)}
    counts = row_counts(app)

    with new_session(app) as s:
        again = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(smart))
        s.commit()
    assert (again.associations_added, again.associations_updated, again.associations_removed) == (
        0,
        0,
        0,
    )
    assert row_counts(app) == counts
    assert {r.identifier: (r.id, r.updated_at) for r in _rows(app, first.framework_id)} == before

    changed = copy.deepcopy(smart)
    by_type = {a["associationType"]: a for a in changed["CFAssociations"]}
    by_type["precedes"]["sequenceNumber"] = 42  # changed
    by_type["exemplar"]["destinationNodeURI"]["title"] = "A better video"  # changed
    changed["CFAssociations"].remove(by_type["isPeerOf"])  # removed
    changed["CFAssociations"].append(  # added
        association(77, "isRelatedTo", node(changed["CFItems"][13]), node(changed["CFItems"][0]))
    )
    with new_session(app) as s:
        third = frameworks.import_case_package(s, tenant.platform_id, changed)
        s.commit()
    assert (third.associations_added, third.associations_updated, third.associations_removed) == (
        1,
        2,
        1,
    )
    after = {r.identifier: r for r in _rows(app, first.framework_id)}
    assert set(after) == {a["identifier"] for a in changed["CFAssociations"]}
    assert after[by_type["precedes"]["identifier"]].sequence_number == 42
    assert after[by_type["exemplar"]["identifier"]].destination_title == "A better video"
    for identifier, (row_id, _) in before.items():
        if identifier in after:
            assert after[identifier].id == row_id  # updated in place, not replaced


def _link_board_and_post(app, platform_id: int, competency_ids: list[int]) -> dict[str, int]:
    """A real board on the platform, linked to the competencies; a learner starts a thread."""
    with new_session(app) as s:
        course = make_course(s, platform=s.get(Platform, platform_id), context_key="c-evidence")
        board = boards.board_for_placement(s, course.placement)
        s.flush()
        links.link(s, platform_id, "board", str(board.id), competency_ids)
        boards.create_thread(s, course.viewer(s, "lea"), board, "Listening", "I tried it today.")
        s.commit()
        return {
            "context_id": course.context.id,
            "lea": course.users["lea"].id,
            "ines": course.users["ines"].id,
            "placement_id": course.placement.id,
        }


def _counting(app, platform_id: int, competency_id: int) -> list[tuple[int, int]]:
    """(user, competency the row was recorded for) of the evidence that counts."""
    with new_session(app) as s:
        competency = s.get(Competency, competency_id)
        return [
            (r.user_id, r.competency_id) for r in evidence.evidence_for(s, platform_id, competency)
        ]


def test_evidence_counts_for_exact_matches_but_not_related(app, tool_server, tenant) -> None:
    seq = renamed(package(SEQUENCE), "000000000099")
    utf8 = renamed(package(UTF8), "000000000098")
    smart = smart_with_associations(seq)
    # The Sequence framework says its first item is the same as the UTF-8 framework's item:
    # a chain A0 = B0 = C0.
    seq["CFAssociations"].append(
        association(90, "exactMatchOf", node(seq["CFItems"][0]), node(utf8["CFItems"][0]))
    )
    with new_session(app) as s:
        a = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(smart))
        s.commit()
    a0 = _competency(app, a.framework_id, smart["CFItems"][0]["identifier"])
    a1 = _competency(app, a.framework_id, smart["CFItems"][1]["identifier"])
    course = _link_board_and_post(app, tenant.platform_id, [a0, a1])
    lea = course["lea"]
    with new_session(app) as s:
        rows = s.scalars(select(Evidence.competency_id).where(Evidence.user_id == lea)).all()
    assert sorted(rows) == sorted([a0, a1])  # recorded once, for the linked competencies

    # The matching frameworks arrive after the act: the act counts for them all the same.
    with new_session(app) as s:
        b = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(seq))
        c = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(utf8))
        s.commit()
    b0 = _competency(app, b.framework_id, seq["CFItems"][0]["identifier"])
    b1 = _competency(app, b.framework_id, seq["CFItems"][1]["identifier"])
    c0 = _competency(app, c.framework_id, utf8["CFItems"][0]["identifier"])
    assert _counting(app, tenant.platform_id, a0) == [(lea, a0)]
    assert _counting(app, tenant.platform_id, b0) == [(lea, a0)]  # exact match
    assert _counting(app, tenant.platform_id, c0) == [(lea, a0)]  # through the chain
    assert _counting(app, tenant.platform_id, b1) == []  # a1 is only related to b1
    with new_session(app) as s:
        assert [c.id for c in evidence.evidence_for(s, tenant.platform_id, s.get(Competency, a1))]
        summary = evidence.summarize_evidence(
            s, tenant.platform_id, s.get(Competency, b0), context_id=course["context_id"]
        )
    assert (summary.acts, summary.learners, summary.through_matches) == (1, 1, 1)

    # The staff page of the match shows it; and an act linked to both counts once.
    staff = Client(
        tool_server,
        token_for(
            app,
            Tenant(
                tenant.platform_id,
                tenant.issuer,
                course["ines"],
                lea,
                course["context_id"],
                course["placement_id"],
            ),
            course["ines"],
            [roles.INSTRUCTOR],
        ),
    )
    page = staff.page(f"/competencies/{b0}")
    assert page.status_code == 200
    assert "1 act by 1 learner, of which 1 recorded for an exact match" in page.text
    related_page = staff.page(f"/competencies/{b1}")
    assert "0 acts by 0 learners" in related_page.text
    assert "not the same" in related_page.text

    with new_session(app) as s:
        board_id = s.scalars(select(Board.id)).one()
        links.link(s, tenant.platform_id, "board", str(board_id), [b0])
        board = s.get(Board, board_id)
        viewer = access.viewer_for(s, lea, course["context_id"])
        boards.create_thread(s, viewer, board, "Again", "Second act, linked to A0 and B0.")
        s.commit()
    counted = _counting(app, tenant.platform_id, b0)
    assert len(counted) == 2  # two acts, not three rows
    assert counted[1] == (lea, b0)  # its own row is the one kept for the second act

    # The exact match removed upstream: the act no longer counts for B0 (nor, so, for C0).
    without = copy.deepcopy(smart)
    without["CFAssociations"] = [
        x for x in without["CFAssociations"] if x["associationType"] != "exactMatchOf"
    ]
    with new_session(app) as s:
        frameworks.import_case_package(s, tenant.platform_id, without)
        s.commit()
    assert _counting(app, tenant.platform_id, c0) == [(lea, b0)]  # the second act only
    assert _counting(app, tenant.platform_id, a0) == [(lea, a0), (lea, a0)]  # its own two


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.update(associationType=7), "associationType must be a string"),
        (lambda a: a.update(associationType=""), "has no associationType"),
        (lambda a: a.update(associationType="x" * 256), "longer than 255"),
        (lambda a: a.update(identifier=["x"]), "identifier must be a string"),
        (lambda a: a.update(uri="https://x/" + "u" * 1000), "longer than 1000"),
        (lambda a: a.update(sequenceNumber="first"), "sequenceNumber must be an integer"),
        (lambda a: a["destinationNodeURI"].update(uri="https://x/" + "u" * 1000), "longer than"),
        (lambda a: a.update(destinationNodeURI={"title": "no ids"}), "no destinationNodeURI"),
    ],
)
def test_bad_associations_are_refused_and_change_nothing(app, tenant, change, message) -> None:
    data = smart_with_associations(renamed(package(SEQUENCE), "000000000099"))
    change(next(a for a in data["CFAssociations"] if a["associationType"] == "exactMatchOf"))
    counts = row_counts(app)
    with new_session(app) as s, pytest.raises(FrameworkImportError, match=message):
        frameworks.import_case_package(s, tenant.platform_id, data)
    assert row_counts(app) == counts


def test_repeated_association_is_kept_once_with_a_note(app, tenant) -> None:
    data = smart_with_associations(renamed(package(SEQUENCE), "000000000099"))
    data["CFAssociations"].append(copy.deepcopy(data["CFAssociations"][-1]))
    # Another association reusing an identifier with other ends is kept, apart.
    reuse = copy.deepcopy(data["CFAssociations"][-2])
    reuse["destinationNodeURI"] = {"identifier": "other-end", "uri": "https://other.example/x"}
    data["CFAssociations"].append(reuse)
    with new_session(app) as s:
        result = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(data))
        s.commit()
    assert result.associations == len(data["CFAssociations"]) - 1
    assert [w for w in result.warnings if "repeats" in w] == [
        f"CFAssociations[{len(data['CFAssociations']) - 2}] repeats an earlier association; "
        "the first is kept."
    ]
    with new_session(app) as s:
        again = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(data))
        s.commit()
    assert (again.associations_added, again.associations_updated, again.associations_removed) == (
        0,
        0,
        0,
    )
    with new_session(app) as s:
        assert s.scalars(select(Framework)).one().title == data["CFDocument"]["title"]


def test_the_same_item_in_two_frameworks_is_the_same_competency(app, tenant) -> None:
    """A CASE item keeps its uri wherever it is published: two frameworks holding the same item
    (an adopted copy) hold the same competency, and its evidence counts in both."""
    original = renamed(package(SEQUENCE), "000000000097")
    adopted = renamed(original, "000000000096", items=False)
    with new_session(app) as s:
        x = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(original))
        y = frameworks.import_case_package(s, tenant.platform_id, copy.deepcopy(adopted))
        s.commit()
    assert x.framework_id != y.framework_id
    item = original["CFItems"][0]["identifier"]
    x0, y0 = _competency(app, x.framework_id, item), _competency(app, y.framework_id, item)
    course = _link_board_and_post(app, tenant.platform_id, [x0])
    assert _counting(app, tenant.platform_id, y0) == [(course["lea"], x0)]
    with new_session(app) as s:
        same = associations.exact_matches(s, tenant.platform_id, s.get(Competency, y0))
        assert [c.id for c in same] == [x0]


def test_cli_shows_and_exports_associations(app, tenant, tmp_path) -> None:
    seq = renamed(package(SEQUENCE), "000000000099")
    smart = smart_with_associations(seq)
    path = tmp_path / "smart.json"
    path.write_text(json.dumps(smart), encoding="utf-8")
    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: app)
    pid = str(tenant.platform_id)
    done = runner.invoke(
        competencies, ["import", "--platform-id", pid, "--file", str(path)], obj=info
    )
    assert done.exit_code == 0, done.output
    assert f"{len(smart['CFAssociations'])} CASE associations" in done.output
    with new_session(app) as s:
        framework_id = s.scalars(select(Framework.id)).one()
    shown = runner.invoke(competencies, ["show", "--platform-id", pid, str(framework_id)], obj=info)
    assert "Associations: 1 exactMatchOf" in shown.output and "14 isChildOf" in shown.output
    exported = runner.invoke(
        competencies, ["export", "--platform-id", pid, str(framework_id)], obj=info
    )
    assert exported.exit_code == 0, exported.output
    document = json.loads(exported.output)
    assert len(document["competencies"]) == 14
    assert [a["identifier"] for a in document["associations"]] == [
        a["identifier"] for a in smart["CFAssociations"]
    ]
    exact = next(a for a in document["associations"] if a["association_type"] == "exactMatchOf")
    assert (
        exact["destination"]["title"] == "SNT.1" and exact["destination"]["competency_id"] is None
    )
    hidden = runner.invoke(
        competencies, ["export", "--platform-id", "999", str(framework_id)], obj=info
    )
    assert hidden.exit_code != 0


def test_migration_0013_down_and_up(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        assert "perf_competency_association" in inspect(engine).get_table_names()
        downgrade(url, "0013-1")  # the revision before 0013, wherever the chain puts it
        assert "perf_competency_association" not in inspect(engine).get_table_names()
        upgrade(url)
        engine.dispose()
        indexes = {i["name"] for i in inspect(engine).get_indexes("perf_competency_association")}
        assert indexes == {
            "ix_perf_competency_association_framework",
            "ix_perf_competency_association_origin",
            "ix_perf_competency_association_destination",
        }
    finally:
        engine.dispose()
