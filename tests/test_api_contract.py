"""The input limits and the error contract of issue 9, item 4, through a real launch: ids beyond
the column range, text with a NUL character and JSON nested too deeply are 4xx (never a database
error or a 500) and change nothing; every /api error has the documented ``Error`` shape, with
structured field errors for 422; a documented body is required."""

from __future__ import annotations

import base64
import json

import requests

from tests.conftest import row_counts
from tests.social.social_web import Api, Person, board_link

BEYOND_INT4 = 2**31  # PostgreSQL: NumericValueOutOfRange
BEYOND_INT8 = 2**63  # SQLite: OverflowError


def _documented_error(spec: dict) -> dict:
    return spec["components"]["schemas"]["Error"]


def _assert_error(response: requests.Response, status: int, schema: dict) -> dict:
    assert response.status_code == status, (response.request.url, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) <= set(schema["properties"]), body
    assert set(schema["required"]) <= set(body), body
    assert body["code"] == status and body["message"] and isinstance(body["status"], str)
    assert "{'" not in body["message"], body  # no Python repr of the field errors
    return body


def _cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_ids_beyond_the_column_range_are_not_found_or_refused(app, lms) -> None:
    staff = Api(Person(lms, "u-ines", board_link(lms)))
    board = staff.p.board_id
    spec = requests.get(staff.p.tool + "/api/openapi.json", timeout=10).json()
    error = _documented_error(spec)
    thread = staff("POST", f"/boards/{board}/threads", json={"title": "T", "body": "b"}).json()
    before = row_counts(app)
    for big in (BEYOND_INT4, BEYOND_INT8):
        for method, path in (
            ("GET", f"/boards/{big}"),
            ("GET", f"/boards/{big}/threads"),
            ("GET", f"/threads/{big}"),
            ("PATCH", f"/posts/{big}"),
            ("GET", f"/frameworks/{big}"),
            ("DELETE", f"/cohorts/{big}"),
            ("PUT", f"/mutes/{big}"),
            ("GET", f"/links/board/{big}"),
        ):
            body = {"body": "x"} if method != "GET" else None
            _assert_error(staff(method, path, json=body), 404, error)
        # ids inside JSON bodies and query strings: 422 with the field named
        for method, path, body, where in (
            ("PUT", f"/boards/{board}/competencies", {"competency_ids": [big]}, "competency_ids"),
            ("POST", "/notifications/read", {"ids": [big]}, "ids"),
            (
                "POST",
                f"/threads/{thread['thread']['id']}/posts",
                {"body": "b", "parent_id": big},
                "parent_id",
            ),
        ):
            refused = _assert_error(staff(method, path, json=body), 422, error)
            assert where in refused["errors"]["json"], refused
        for path, params in (
            (f"/frameworks/{1}/competencies", {"after": big}),
            ("/search", {"q": "b", "board": big}),
            (f"/boards/{board}/threads", {"cohort": big}),
        ):
            _assert_error(staff("GET", path, params=params), 422, error)
        # cursors holding an id out of range
        for path, cursor in (
            (
                f"/boards/{board}/threads",
                _cursor(["activity", False, "2026-01-01T00:00:00+00:00", big]),
            ),
            (f"/threads/{thread['thread']['id']}", _cursor(["2026-01-01T00:00:00+00:00", big])),
            ("/notifications", _cursor(["2026-01-01T00:00:00+00:00", big])),
            ("/moderation/log", _cursor(["2026-01-01T00:00:00+00:00", big])),
        ):
            _assert_error(staff("GET", path, params={"cursor": cursor}), 400, error)
        # the pages: path ids 404, form and query ids 400, with a readable page
        page = staff.p.get(f"/boards/{big}")
        assert page.status_code == 404 and "text/html" in page.headers["Content-Type"]
        assert staff.p.get(f"/boards/{board}", cohort=str(big)).status_code == 400
        assert staff.p.get("/search", q="b", board=str(big)).status_code == 400
        assert (
            staff.p.post(
                f"/boards/{board}/threads", title="T", body="b", cohort=str(big)
            ).status_code
            == 400
        )
        assert (
            staff.p.post(f"/threads/{thread['thread']['id']}/accept", post_id=str(big)).status_code
            == 400
        )
    assert row_counts(app) == before


def test_deep_json_nul_characters_and_missing_bodies_are_refused(app, lms) -> None:
    staff = Api(Person(lms, "u-ines", board_link(lms)))
    board = staff.p.board_id
    spec = requests.get(staff.p.tool + "/api/openapi.json", timeout=10).json()
    error = _documented_error(spec)
    before = row_counts(app)

    deep = "[" * 50_000
    headers = {**staff.headers, "Content-Type": "application/json"}
    for path in (f"/boards/{board}/threads", "/frameworks/import"):
        r = staff.p.browser.http.post(
            staff.p.tool + "/api" + path, data=deep, headers=headers, timeout=10
        )
        _assert_error(r, 400, error)

    for method, path, body in (
        ("POST", f"/boards/{board}/threads", {"title": "Hi\x00", "body": "b"}),
        ("POST", f"/boards/{board}/threads", {"title": "Hi", "body": "b", "x\x00": 1}),
        ("PATCH", f"/boards/{board}", {"posts_per_hour": 3, "note": ["\x00"]}),
    ):
        _assert_error(staff(method, path, json=body), 400, error)
    _assert_error(staff("GET", "/search", params={"q": "a\x00b"}), 400, error)
    assert staff.p.post(f"/boards/{board}/threads", title="Hi\x00", body="b").status_code == 400

    # A PATCH (or any operation whose body the document requires) without a JSON body: 422.
    for kwargs in ({}, {"data": "posts_per_hour=3"}):
        refused = _assert_error(staff("PATCH", f"/boards/{board}", **kwargs), 422, error)
        assert refused["errors"] == {"json": {"_schema": ["A JSON body is required."]}}
    # Field errors are structured, and the message reads as text.
    refused = _assert_error(
        staff("POST", f"/boards/{board}/threads", json={"title": " ", "kind": "poll"}), 422, error
    )
    assert set(refused["errors"]["json"]) == {"title", "body", "kind"}
    assert refused["message"].startswith("Please check: ") and "kind: " in refused["message"]
    assert row_counts(app) == before

    # Other refusals keep their status, and the headers the refusal needs.
    _assert_error(staff("GET", "/boards"), 404, error)
    anonymous = requests.get(staff.p.tool + f"/api/boards/{board}", timeout=10)
    assert _assert_error(anonymous, 401, error)["hint"]
    wrong = _assert_error(staff("DELETE", f"/boards/{board}"), 405, error)
    assert wrong["status"] == "Method Not Allowed"
    assert set(staff("DELETE", f"/boards/{board}").headers["Allow"].split(", ")) >= {"GET", "PATCH"}


def test_a_deeply_nested_id_token_is_a_refused_launch(app, tool_server) -> None:
    """The launch decodes the id_token's segments before anything else: JSON nested too deeply
    for the parser is a malformed token (400 page), not a 500, and writes nothing."""
    deep = base64.urlsafe_b64encode(b"[" * 20_000).decode().rstrip("=")
    header = base64.urlsafe_b64encode(b'{"alg": "RS256", "kid": "k"}').decode().rstrip("=")
    before = row_counts(app)
    for token in (f"{header}.{deep}.c2ln", f"{deep}.{deep}.c2ln"):
        r = requests.post(
            tool_server.url + "/lti/launch", data={"id_token": token, "state": "s"}, timeout=10
        )
        assert r.status_code == 400 and "cannot be decoded" in r.text, r.text[:300]
    assert row_counts(app) == before
