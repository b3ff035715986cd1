"""The frameworks and competencies JSON API over real HTTP (the tool on a loopback port): import,
list, detail, pages, search, tenant isolation, refusals, the OpenAPI document."""

from __future__ import annotations

import copy
import json

import requests

from tests.conftest import row_counts
from tests.performance.perf_world import (
    MOODLE_CSV,
    SMART,
    SMART_ID,
    api_client,
    case_data,
    learner_token,
    open_page,
    smart_file,
    staff_token,
)


def test_api_import_list_detail_and_pages(app, tool_server, tenant, case_service) -> None:
    api = api_client(tool_server, staff_token(app, tenant))
    assert api("GET", "/frameworks").json() == []

    created = api("POST", "/frameworks/import", files={"file": smart_file()})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["title"], body["total"], body["added"], body["created"]) == (
        "SmartLevel Test",
        14,
        14,
        True,
    )

    again = api(
        "POST",
        "/frameworks/import",
        json={"url": f"{case_service.url}/ims/case/v1p0/CFPackages/{SMART_ID}"},
    )
    assert again.status_code == 200, again.text
    assert (again.json()["framework_id"], again.json()["unchanged"]) == (body["framework_id"], 14)

    moodle = api(
        "POST",
        "/frameworks/import",
        files={"file": ("oecd.csv", MOODLE_CSV.read_bytes(), "text/csv")},
    )
    assert moodle.status_code == 201 and moodle.json()["total"] == 64

    listed = api("GET", "/frameworks").json()
    assert [(f["title"], f["competency_count"], f["source_kind"]) for f in listed] == [
        ("OECD", 64, "moodle-csv"),
        ("SmartLevel Test", 14, "case"),
    ]
    detail = api("GET", f"/frameworks/{body['framework_id']}").json()
    assert detail["depth"] == 2 and detail["case_version"] == "1.0"
    assert detail["uri"] == f"https://server/ims/case/v1p0/CFDocuments/{SMART_ID}"
    assert [lvl["proficient"] for lvl in detail["scale"]["levels"]] == [False, False, True, True]
    assert detail["source_url"].endswith(f"/CFPackages/{SMART_ID}")

    seen, after = [], None
    for _ in range(10):
        params = {"limit": 5} | ({"after": after} if after is not None else {})
        page = api("GET", f"/frameworks/{body['framework_id']}/competencies", params=params).json()
        seen += page["items"]
        after = page["next_after"]
        if after is None:
            break
    assert len(seen) == 14 and len({c["id"] for c in seen}) == 14
    assert [c["id"] for c in seen] == sorted(c["id"] for c in seen)
    item11 = next(c for c in seen if c["name"] == "Item 1.1")
    assert (
        item11["iri"] == "https://server/ims/case/v1p0/CFItems/00000000-0000-0000-0000-000000000003"
    )
    assert item11["parent_id"] == next(c["id"] for c in seen if c["name"] == "Item 1")
    bad_page = api("GET", f"/frameworks/{body['framework_id']}/competencies", params={"limit": 0})
    assert bad_page.status_code == 422

    found = api("GET", "/competencies/search", params={"q": "1.1"}).json()
    assert [c["name"] for c in found][:2] == ["Item 1.1", "Item 1.10"]
    exact = api("GET", "/competencies/search", params={"q": "dr-at1"}).json()
    assert exact[0]["code"] == "DR-AT1" and exact[0]["framework_title"] == "OECD"
    assert api("GET", "/competencies/search", params={"q": "100%_"}).json() == []
    assert api("GET", "/competencies/search").status_code == 422


def test_api_tenant_isolation_and_auth(app, tool_server, tenant, other) -> None:
    mine = api_client(tool_server, staff_token(app, tenant))
    framework = mine("POST", "/frameworks/import", files={"file": smart_file()}).json()[
        "framework_id"
    ]
    theirs = api_client(tool_server, staff_token(app, other))
    assert theirs("GET", "/frameworks").json() == []
    for path in (f"/frameworks/{framework}", f"/frameworks/{framework}/competencies"):
        response = theirs("GET", path)
        assert response.status_code == 404 and response.json()["status"] == "Not Found"
    assert theirs("GET", "/competencies/search", params={"q": "Item"}).json() == []

    anonymous = api_client(tool_server, None)
    assert anonymous("GET", "/frameworks").status_code == 401
    assert api_client(tool_server, "forged.token")("GET", "/frameworks").status_code == 401


def test_api_refuses_bad_imports_and_changes_nothing(app, tool_server, tenant) -> None:
    staff = api_client(tool_server, staff_token(app, tenant))
    learner = api_client(tool_server, learner_token(app, tenant))
    counts = row_counts(app)
    bad = staff(
        "POST",
        "/frameworks/import",
        files={"file": ("x.json", b'{"CFDocument": ', "application/json")},
    )
    assert bad.status_code == 422 and "not valid JSON" in bad.json()["message"]
    no_doc = staff(
        "POST",
        "/frameworks/import",
        files={"file": ("x.json", b'{"CFItems": []}', "application/json")},
    )
    assert no_doc.status_code == 422 and "no CFDocument" in no_doc.json()["message"]
    missing = staff("POST", "/frameworks/import", json={})
    assert missing.status_code == 422 and missing.json()["errors"] == {
        "json": {"url": ["Missing data for required field."]}
    }
    assert staff("POST", "/frameworks/import", json=["x"]).status_code == 400
    assert (
        staff(
            "POST", "/frameworks/import", data={"nothing": "here"}, files={"x": ("a", b"b")}
        ).status_code
        == 400
    )
    refused = learner("POST", "/frameworks/import", files={"file": smart_file()})
    assert refused.status_code == 403
    # a learner is refused before the body is looked at: no hint about what a good body is
    for body in ({}, ["x"]):
        assert learner("POST", "/frameworks/import", json=body).status_code == 403
    assert row_counts(app) == counts


def test_imports_accept_files_larger_than_the_app_wide_limit(app, tool_server, tenant) -> None:
    data = copy.deepcopy(case_data(SMART))
    data["CFItems"][0]["notes"] = "n" * (3 * 1024 * 1024)  # 3 MB, over the 2 MB app-wide limit
    token = staff_token(app, tenant)
    upload = ("big.json", json.dumps(data).encode(), "application/json")
    response = api_client(tool_server, token)("POST", "/frameworks/import", files={"file": upload})
    assert response.status_code == 201, response.text[:300]
    page = open_page(tool_server, "/competencies/frameworks/import", token, files={"file": upload})
    assert page.status_code == 200 and "SmartLevel Test was updated" in page.text


def test_openapi_documents_the_competencyapi_client(app, tool_server) -> None:
    spec = requests.get(tool_server.url + "/api/openapi.json", timeout=10).json()
    for path in (
        "/api/frameworks",
        "/api/frameworks/import",
        "/api/frameworks/{framework_id}",
        "/api/frameworks/{framework_id}/competencies",
        "/api/competencies/search",
        "/api/links/{kind}/{key}",
    ):
        assert path in spec["paths"], path
    assert set(spec["paths"]["/api/links/{kind}/{key}"]) >= {"get", "put"}
