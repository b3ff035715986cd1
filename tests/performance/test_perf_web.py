"""The JSON API and the staff pages over real HTTP (the tool on a loopback port), fetching CASE
packages from a small CASE service on another port."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from plugin.db import new_session
from plugin.performance import frameworks
from plugin.performance.frameworks import FrameworkImportError
from plugin.performance.models import Framework
from tests.conftest import row_counts
from tests.performance.perf_world import (
    MOODLE_CSV,
    Tenant,
    case_data,
    learner_token,
    make_tenant,
    staff_token,
)
from tests.support.servers import LiveServer

SMART = "opensalt-SmartLevelFramework.json"
SMART_ID = "d0000000-0000-0000-0000-000000000000"


class CaseService:
    """A CASE 1.0 service: packages, a document pointing at its package, and misbehaviour."""

    def __init__(self, package: dict) -> None:
        self.package = package
        self.server = LiveServer().start(self)
        self.url = self.server.url

    def __call__(self, environ, start_response):
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        path = request.path
        if path == f"/ims/case/v1p0/CFPackages/{SMART_ID}":
            return Response(json.dumps(self.package), content_type="application/json")
        if path == f"/ims/case/v1p0/CFDocuments/{SMART_ID}":
            link = {
                "title": "p",
                "identifier": SMART_ID,
                "uri": f"{self.url}/ims/case/v1p0/CFPackages/{SMART_ID}",
            }
            return Response(json.dumps({**self.package["CFDocument"], "CFPackageURI": link}))
        if path == "/moved":
            return Response(
                "", status=302, headers={"Location": f"/ims/case/v1p0/CFPackages/{SMART_ID}"}
            )
        if path == "/page":
            return Response("<!doctype html><title>CASE</title>", content_type="text/html")
        if path == "/big":
            return Response(b"{" + b" " * 300_000 + b"}", content_type="application/json")
        if path == "/slow":
            time.sleep(1.5)
            return Response("{}", content_type="application/json")
        return Response("not here", status=404)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def case_service() -> Iterator[CaseService]:
    service = CaseService(case_data(SMART))
    yield service
    service.stop()


@pytest.fixture
def tenant(app) -> Tenant:
    return make_tenant(app, "a")


@pytest.fixture
def other(app) -> Tenant:
    return make_tenant(app, "b")


def _api(tool_server, token: str | None):
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    base = tool_server.url + "/api"

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, base + path, timeout=30, **kwargs)

    return call


def _moodle_file() -> tuple[str, bytes, str]:
    return ("oecd.csv", MOODLE_CSV.read_bytes(), "text/csv")


def _smart_file() -> tuple[str, bytes, str]:
    return ("smart.json", json.dumps(case_data(SMART)).encode(), "application/json")


# --- service-level URL fetching ---------------------------------------------------------------


def test_import_from_a_case_service(app, tenant, case_service) -> None:
    with new_session(app) as session:
        result = frameworks.import_case_url(
            session,
            tenant.platform_id,
            f"{case_service.url}/ims/case/v1p0/CFPackages/{SMART_ID}",
            allow_private_hosts=True,
        )
        assert (result.created, result.total) == (True, 14)
        # A document URL is followed to its package; a redirect is followed too.
        for path in (f"/ims/case/v1p0/CFDocuments/{SMART_ID}", "/moved"):
            again = frameworks.import_case_url(
                session, tenant.platform_id, case_service.url + path, allow_private_hosts=True
            )
            assert (again.framework_id, again.unchanged) == (result.framework_id, 14)
        session.commit()
    with new_session(app) as session:
        stored = session.get(Framework, result.framework_id)
        assert stored.source_url == f"{case_service.url}/ims/case/v1p0/CFPackages/{SMART_ID}"


@pytest.mark.parametrize(
    ("path", "options", "message"),
    [
        ("/missing", {}, "answered 404"),
        ("/page", {}, "returned a web page"),
        ("/big", {"max_bytes": 100_000}, "larger than"),
        ("/slow", {"timeout": 0.5}, "did not answer within 0.5 seconds"),
    ],
)
def test_case_service_failures_are_explained(
    app, tenant, case_service, path, options, message
) -> None:
    counts = row_counts(app)
    with new_session(app) as session, pytest.raises(FrameworkImportError, match=message):
        frameworks.import_case_url(
            session,
            tenant.platform_id,
            case_service.url + path,
            allow_private_hosts=True,
            **options,
        )
    assert row_counts(app) == counts


def test_private_addresses_and_bad_urls_are_refused(app, tenant, case_service) -> None:
    with new_session(app) as session:
        with pytest.raises(FrameworkImportError, match="private or local address"):
            frameworks.import_case_url(session, tenant.platform_id, case_service.url + "/x")
        with pytest.raises(FrameworkImportError, match="absolute http"):
            frameworks.import_case_url(session, tenant.platform_id, "file:///etc/passwd")
        with pytest.raises(FrameworkImportError, match="Could not connect"):
            frameworks.import_case_url(
                session, tenant.platform_id, "http://127.0.0.1:9/x", allow_private_hosts=True
            )


# --- JSON API --------------------------------------------------------------------------------


def test_api_import_list_detail_and_pages(app, tool_server, tenant, case_service) -> None:
    api = _api(tool_server, staff_token(app, tenant))
    assert api("GET", "/frameworks").json() == []

    created = api("POST", "/frameworks/import", files={"file": _smart_file()})
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


def _board_of(app, tenant: Tenant) -> int:
    """The tenant's board, its staff member and learner members of the course."""
    from plugin.lti import roles
    from plugin.lti.models import Membership, Placement
    from plugin.social import boards

    with new_session(app) as session:
        session.add_all(
            [
                Membership(
                    context_id=tenant.context_id, user_id=tenant.staff_id, roles=[roles.INSTRUCTOR]
                ),
                Membership(
                    context_id=tenant.context_id, user_id=tenant.learner_id, roles=[roles.LEARNER]
                ),
            ]
        )
        board = boards.board_for_placement(session, session.get(Placement, tenant.placement_id))
        session.commit()
        return board.id


def test_api_links(app, tool_server, tenant, other) -> None:
    staff = _api(tool_server, staff_token(app, tenant))
    staff("POST", "/frameworks/import", files={"file": _moodle_file()})
    ids = {
        c["name"]: c["id"]
        for c in staff("GET", "/competencies/search", params={"q": "e", "limit": 100}).json()
    }
    first, second = sorted(ids.values())[:2]
    other_staff = _api(tool_server, staff_token(app, other))
    theirs = other_staff("POST", "/frameworks/import", files={"file": _moodle_file()}).json()
    board, their_board = _board_of(app, tenant), _board_of(app, other)
    path = f"/links/board/{board}"

    put = staff("PUT", path, json={"competency_ids": [second, first]})
    assert put.status_code == 200, put.text
    assert [c["id"] for c in put.json()["competencies"]] == [second, first]
    got = staff("GET", path).json()
    assert got["ref_kind"] == "board" and got["ref_key"] == str(board)
    assert [c["id"] for c in got["competencies"]] == [second, first]

    learner = _api(tool_server, learner_token(app, tenant))
    assert learner("GET", path).status_code == 200  # reading is for the course's members
    refused = learner("PUT", path, json={"competency_ids": []})
    assert refused.status_code == 403 and "staff" in refused.json()["message"]

    their_item = other_staff("GET", f"/frameworks/{theirs['framework_id']}/competencies").json()[
        "items"
    ][0]
    cross = staff("PUT", path, json={"competency_ids": [their_item["id"]]})
    assert cross.status_code == 404 and "competency" in cross.json()["message"]
    assert staff("PUT", "/links/Board!/7", json={"competency_ids": []}).status_code == 404
    bad = staff("PUT", path, json={"competency_ids": ["x"]})
    assert bad.status_code == 422 and bad.json()["errors"] == {
        "json": {"competency_ids": {"0": ["Not a valid integer."]}}
    }
    assert [c["id"] for c in staff("GET", path).json()["competencies"]] == [second, first]
    # The other tenant's board is not this tenant's, whatever its id.
    assert other_staff("GET", path).status_code == 404
    assert staff("GET", f"/links/board/{their_board}").status_code == 404

    cleared = staff("PUT", path, json={"competency_ids": []})
    assert cleared.json()["competencies"] == []


def test_api_tenant_isolation_and_auth(app, tool_server, tenant, other) -> None:
    mine = _api(tool_server, staff_token(app, tenant))
    framework = mine("POST", "/frameworks/import", files={"file": _smart_file()}).json()[
        "framework_id"
    ]
    theirs = _api(tool_server, staff_token(app, other))
    assert theirs("GET", "/frameworks").json() == []
    for path in (f"/frameworks/{framework}", f"/frameworks/{framework}/competencies"):
        response = theirs("GET", path)
        assert response.status_code == 404 and response.json()["status"] == "Not Found"
    assert theirs("GET", "/competencies/search", params={"q": "Item"}).json() == []

    anonymous = _api(tool_server, None)
    assert anonymous("GET", "/frameworks").status_code == 401
    assert _api(tool_server, "forged.token")("GET", "/frameworks").status_code == 401


def test_api_refuses_bad_imports_and_changes_nothing(app, tool_server, tenant) -> None:
    staff = _api(tool_server, staff_token(app, tenant))
    learner = _api(tool_server, learner_token(app, tenant))
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
    refused = learner("POST", "/frameworks/import", files={"file": _smart_file()})
    assert refused.status_code == 403
    assert row_counts(app) == counts


def test_imports_accept_files_larger_than_the_app_wide_limit(app, tool_server, tenant) -> None:
    data = copy.deepcopy(case_data(SMART))
    data["CFItems"][0]["notes"] = "n" * (3 * 1024 * 1024)  # 3 MB, over the 2 MB app-wide limit
    token = staff_token(app, tenant)
    upload = ("big.json", json.dumps(data).encode(), "application/json")
    response = _api(tool_server, token)("POST", "/frameworks/import", files={"file": upload})
    assert response.status_code == 201, response.text[:300]
    page = _page(tool_server, "/competencies/frameworks/import", token, files={"file": upload})
    assert page.status_code == 200 and "SmartLevel Test was updated" in page.text


def test_openapi_documents_the_competency_api(app, tool_server) -> None:
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


# --- pages -----------------------------------------------------------------------------------


def _page(tool_server, path: str, token: str, **kwargs) -> requests.Response:
    method = "POST" if "files" in kwargs or "data" in kwargs else "GET"
    if method == "GET":
        kwargs["params"] = {"lc": token}
    else:
        kwargs.setdefault("data", {})["lc"] = token
    return requests.request(method, tool_server.url + path, timeout=30, **kwargs)


def test_staff_pages_import_and_show_the_tree(app, tool_server, tenant, case_service) -> None:
    token = staff_token(app, tenant)
    listing = _page(tool_server, "/competencies/frameworks", token)
    assert listing.status_code == 200
    html = listing.text
    assert "<h1>Competency frameworks</h1>" in html and "No frameworks yet" in html
    assert 'name="lc" value="' in html  # the form's page token (docs/security.md)
    assert (
        '<label for="file">' in html
        and 'id="file"' in html
        and 'enctype="multipart/form-data"' in html
    )
    assert '<label for="url">' in html and 'type="url"' in html

    result = _page(
        tool_server, "/competencies/frameworks/import", token, files={"file": _smart_file()}
    )
    assert result.status_code == 200
    assert "SmartLevel Test was imported" in result.text and "14 competencies" in result.text

    by_url = _page(
        tool_server,
        "/competencies/frameworks/import",
        token,
        data={"url": f"{case_service.url}/ims/case/v1p0/CFPackages/{SMART_ID}"},
    )
    assert by_url.status_code == 200 and "SmartLevel Test was updated" in by_url.text

    listing = _page(tool_server, "/competencies/frameworks", token).text
    assert "SmartLevel Test" in listing and "<td>14</td>" in listing
    with new_session(app) as session:
        framework_id = session.scalar(select(Framework.id))
    tree = _page(tool_server, f"/competencies/frameworks/{framework_id}", token)
    assert tree.status_code == 200
    assert tree.text.count("<details") == 2  # Item 1 and Item 2 have children
    assert "Item 1.10" in tree.text and "in 2 levels" in tree.text
    assert 'aria-controls="tree"' in tree.text and "Proficient" in tree.text


def test_pages_refuse_bad_input_learners_and_other_tenants(app, tool_server, tenant, other) -> None:
    token = staff_token(app, tenant)
    counts = row_counts(app)
    bad = _page(
        tool_server,
        "/competencies/frameworks/import",
        token,
        files={"file": ("oops.csv", b"a,b,c\n1,2,3\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text and "neither CASE JSON nor a Moodle" in bad.text
    assert "Nothing was changed" in bad.text
    empty = _page(tool_server, "/competencies/frameworks/import", token, data={"url": ""})
    assert empty.status_code == 400 and "Upload one file" in empty.text
    assert row_counts(app) == counts

    learner = _page(tool_server, "/competencies/frameworks", learner_token(app, tenant))
    assert learner.status_code == 403 and "Only course staff" in learner.text

    theirs = _page(
        tool_server,
        "/competencies/frameworks/import",
        staff_token(app, other),
        files={"file": _smart_file()},
    )
    assert theirs.status_code == 200
    with new_session(app) as session:
        their_id = session.scalar(select(Framework.id))
    missing = _page(tool_server, f"/competencies/frameworks/{their_id}", token)
    assert missing.status_code == 404 and "Framework not found" in missing.text


def test_framework_text_is_escaped(app, tool_server, tenant) -> None:
    data = copy.deepcopy(case_data("opensalt-AdoptedTestFramework.json"))
    data["CFItems"][0]["fullStatement"] = '<script>alert("x")</script> & more'
    data["CFDocument"]["title"] = "<b>Bold</b> title"
    token = staff_token(app, tenant)
    _page(
        tool_server,
        "/competencies/frameworks/import",
        token,
        files={"file": ("x.json", json.dumps(data).encode(), "application/json")},
    )
    with new_session(app) as session:
        framework_id = session.scalar(select(Framework.id))
    html = _page(tool_server, f"/competencies/frameworks/{framework_id}", token).text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html
    assert "<script>alert" not in html and "&lt;b&gt;Bold&lt;/b&gt; title" in html
