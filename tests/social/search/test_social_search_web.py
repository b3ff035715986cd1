"""Board search through the real LTI launch: the search form on the board page, GET /search,
GET /api/search (and its OpenAPI entry), refusals, escaping, scope, query counts, and the page at
320 px in headless Chromium."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import row_counts
from tests.social.social_web import Api, Person, board_link
from tests.social.social_world import count_queries

RESULTS = re.compile(r'<ol class="search-results">(.*?)</ol>', re.S)


def _results(page) -> str:
    """The result list of a search page ('' when there is none)."""
    found = RESULTS.search(page.text)
    return found.group(1) if found else ""


def _more_link(page) -> str | None:
    found = re.search(r'href="([^"]*cursor=[^"]*)">More results', page.text)
    return unescape(found.group(1)) if found else None


class _Tags(HTMLParser):
    """Every start tag of a page with its attribute names (what a browser would build)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [name for name, _ in attrs]))


def _assert_inert(page, scripts: int) -> None:
    """No element a payload could have made: no handlers, no images or SVG, only our scripts."""
    tags = _Tags(page.text).tags
    assert [t for t, _ in tags].count("script") == scripts
    assert not {"img", "svg", "iframe", "object"} & {t for t, _ in tags}
    assert not [(t, a) for t, names in tags for a in names if a.startswith("on")]
    assert not re.search(r'href="\s*javascript:', page.text, re.I)


def _board(lms, **settings: str) -> str:
    return board_link(lms, posts_per_hour="0", **settings)


def test_board_page_carries_a_labelled_search_form(app, lms) -> None:
    lea = Person(lms, "u-lea", _board(lms))
    form = re.search(r'<form class="board-search"[^>]*>.*?</form>', lea.page.text, re.S)
    assert form, "the board page includes the search form"
    html = form.group(0)
    assert 'role="search"' in html and 'method="get"' in html and 'action="/search"' in html
    assert '<label for="board-search-q">Search this board</label>' in html
    assert 'id="board-search-q" type="search" name="q"' in html and 'maxlength="200"' in html
    assert f'name="lc" value="{lea.token}"' in html
    assert f'name="board" value="{lea.board_id}"' in html
    assert "<button" in html and "Search</button>" in html


def test_search_page_lists_ranked_results_and_pages_on(app, lms) -> None:
    rlid = _board(lms)
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    focused = lea.new_thread("Walrus facts", "All about the **walrus**.")
    for i in range(24):
        lea.new_thread(f"Topic {i}", f"Notes {i}: a walrus was seen near the shore.")
    assert (
        amara.post(f"/threads/{focused}/posts", body="Walrus tusks are teeth.").status_code == 303
    )

    page = amara.get("/search", q="walrus", board=str(amara.board_id))
    assert page.status_code == 200
    results = _results(page)
    assert results.count("<li>") == 20
    first = results.split("</li>", 1)[0]
    link = re.search(rf'href="(/posts/\d+)\?lc={re.escape(amara.token)}"', first)
    assert link, first  # a link to the post, which leads to the thread page that shows it
    r = amara.browser.http.get(
        amara.tool + link.group(1), params={"lc": amara.token}, allow_redirects=False, timeout=10
    )
    assert urlsplit(r.headers["Location"]).path == f"/threads/{focused}"
    assert ">Walrus facts</a>" in first and '<span class="tag">Thread</span>' in first
    assert "by Lea Learner" in first and "<time datetime=" in first
    assert "<mark>walrus</mark>" in first
    assert '<span class="tag">Reply</span>' in results
    assert "<h1>Search in Team talk</h1>" in page.text and "← Back to Team talk" in page.text
    assert "Search all boards of this course instead" in page.text

    more = _more_link(page)
    assert more is not None and f"lc={amara.token}" in more
    assert parse_qs(urlsplit(more).query)["board"] == [str(amara.board_id)]
    rest = amara.browser.http.get(amara.tool + more, timeout=10)
    assert rest.status_code == 200 and _results(rest).count("<li>") == 6
    assert _more_link(rest) is None
    links = re.findall(r'href="/posts/(\d+)\?', _results(page) + _results(rest))
    assert len(links) == len(set(links)) == 26


def test_without_a_query_the_page_shows_the_form_and_no_result_is_a_status(app, lms) -> None:
    lea = Person(lms, "u-lea", _board(lms))
    page = lea.get("/search")
    assert page.status_code == 200 and 'role="search"' in page.text
    assert "Search all boards of this course" in page.text and "Results for" not in page.text
    lea.new_thread("Hello", "nothing to see")
    page = lea.get("/search", q="zeppelin")
    assert page.status_code == 200 and not _results(page)
    assert '<p role="status">No posts match “zeppelin”.' in page.text


def test_bad_queries_answer_400_with_the_form_and_change_nothing(app, lms) -> None:
    lea = Person(lms, "u-lea", _board(lms))
    lea.new_thread("Hello", "walrus")
    before = row_counts(app)
    for params, message in (
        ({"q": ""}, "Type a word to search"),
        ({"q": "  ?! -- "}, "Type a word to search"),
        ({"q": "x" * 201}, "at most 200 characters"),
        ({"q": "walrus", "cursor": "garbage"}, "This page link is not valid"),
    ):
        page = lea.get("/search", **params)
        assert page.status_code == 400, params
        assert message in page.text and 'role="alert"' in page.text
        assert 'aria-invalid="true" aria-describedby="board-search-error"' in page.text
        assert 'role="search"' in page.text  # the form is there to try again
    page = lea.get("/search", q="walrus", board="abc")
    assert page.status_code == 400 and "Choose a valid board" in page.text
    assert row_counts(app) == before
    bare = requests.get(lea.tool + "/search", params={"q": "walrus"}, timeout=10)
    assert bare.status_code == 401


def test_the_query_and_the_posts_are_escaped(app, lms) -> None:
    rlid = _board(lms)
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    baseline = _Tags(lea.get("/search").text).tags.count(("script", ["src", "defer"]))
    assert baseline >= 1  # commons.js
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>"><svg onload=alert(3)>'
    lea.new_thread(f"{payload} title", f"walrus {payload} [x](javascript:alert(4))")
    query = f"walrus {payload}"
    page = amara.get("/search", q=query)
    assert page.status_code == 200
    _assert_inert(page, baseline)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # the query, escaped
    page = amara.get("/search", q="walrus")
    assert page.status_code == 200 and _results(page).count("<li>") == 1
    _assert_inert(page, baseline)
    assert "javascript:" not in _results(page)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', page.text).group(1)
    assert "<" not in re.sub(r"</?mark>", "", snippet)


def test_other_courses_and_anonymous_authors(app, lms) -> None:
    lms.platform.add_course("other-course", "OTH-1", "Other course")
    lms.platform.enroll(
        "u-lea", "other-course", ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    )
    theirs = Person(lms, "u-lea", board_link(lms, "other-course"), context="other-course")
    theirs.new_thread("Elsewhere", "walrus abroad")
    rlid = _board(lms, anonymous_allowed="true")
    lea = Person(lms, "u-lea", rlid)
    lea.new_thread("Shy walrus", "walrus at home", anonymous="1")
    amara = Person(lms, "u-amara", rlid)

    page = amara.get("/search", q="walrus")
    assert _results(page).count("<li>") == 1 and "Elsewhere" not in page.text
    assert "by Anonymous" in _results(page) and "Lea Learner" not in _results(page)
    refused = amara.get("/search", q="walrus", board=str(theirs.board_id))
    assert refused.status_code == 404 and "not in this course" in refused.text
    staff = Person(lms, "u-ines", rlid).get("/search", q="walrus")
    assert "by Lea Learner (anonymous to classmates)" in _results(staff)

    api = Api(amara)
    (hit,) = api("GET", "/search", params={"q": "walrus"}).json()["hits"]
    assert hit["author"] == {"user_id": None, "name": "Anonymous", "anonymous": True}
    assert "Lea" not in str(hit)
    r = api("GET", "/search", params={"q": "walrus", "board": theirs.board_id})
    assert r.status_code == 404 and "not in this course" in r.json()["message"]


def test_api_search_pages_and_refuses(app, lms) -> None:
    rlid = _board(lms)
    lea = Api(Person(lms, "u-lea", rlid))
    for i in range(5):
        body = {"title": f"Walrus {i}", "body": "The *walrus* again."}
        assert lea("POST", f"/boards/{lea.p.board_id}/threads", json=body).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"q": "walrus", "limit": 2, "board": lea.p.board_id}
        r = lea("GET", "/search", params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        seen += body["hits"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and len({h["post_id"] for h in seen}) == 5
    hit = seen[0]
    assert set(hit) == {
        "board_id",
        "board_title",
        "thread_id",
        "post_id",
        "thread_title",
        "kind",
        "author",
        "created_at",
        "snippet_html",
        "rank",
        "hidden",
    }
    assert hit["kind"] == "thread" and "<mark>walrus</mark>" in hit["snippet_html"]
    assert hit["board_title"] == "Team talk" and hit["hidden"] is False
    ranks = [h["rank"] for h in seen]
    assert ranks == sorted(ranks, reverse=True)

    before = row_counts(app)
    for params, status in (
        ({}, 400),
        ({"q": "?!"}, 400),
        ({"q": "x" * 201}, 400),
        ({"q": "walrus", "cursor": "garbage"}, 400),
        ({"q": "walrus", "board": 999999}, 404),
        ({"q": "walrus", "limit": 0}, 422),
        ({"q": "walrus", "limit": 51}, 422),
        ({"q": "walrus", "board": "abc"}, 422),
    ):
        r = lea("GET", "/search", params=params)
        assert r.status_code == status, (params, r.status_code, r.text[:200])
        assert r.headers["Content-Type"].startswith("application/json") and r.json()["message"]
    assert "Type a word to search" in lea("GET", "/search").json()["message"]
    assert row_counts(app) == before
    r = lea.p.browser.http.get(lea.p.tool + "/api/search", params={"q": "walrus"}, timeout=10)
    assert r.status_code == 401 and r.json()["message"]


def test_openapi_documents_the_search_route(app, tool_server) -> None:
    spec = requests.get(tool_server.url + "/api/openapi.json", timeout=10).json()
    route = spec["paths"]["/api/search"]["get"]
    assert {p["name"] for p in route["parameters"]} >= {"q", "board", "cursor", "limit"}
    assert route["security"] == [{"launchToken": []}]
    assert "SearchPage" in spec["components"]["schemas"]


def test_search_page_queries_do_not_grow_with_the_results(app, lms) -> None:
    rlid = _board(lms)
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)

    def count(query: str) -> tuple[int, int]:
        with count_queries(app) as seen:
            page = amara.get("/search", q=query, board=str(amara.board_id))
        assert page.status_code == 200
        return len(seen), _results(page).count("<li>")

    for i in range(2):
        lea.new_thread(f"Seal {i}", "seal")
    small, hits = count("seal")
    assert hits == 2
    for i in range(25):
        lea.new_thread(f"More seals {i}", "seal colony")
    large, hits = count("seal")
    assert hits == 20 and large == small


# --- in a real browser ---------------------------------------------------------------------------
@pytest.mark.browser
def test_search_by_keyboard_at_320px(app, lms, chromium, artifacts: Path) -> None:
    from tests.social.browser_boards_support import goto
    from tests.support.chromium import wait_for_axe

    rlid = _board(lms)
    lea = Person(lms, "u-lea", rlid)
    lea.new_thread(
        "A very long thread title about giving and receiving walrus feedback in teams",
        "The walrus: " + "long words without breaks " * 20 + "https://example.com/" + "x" * 80,
    )
    lea.new_thread(
        '<img src=x onerror="window.__pwned=1">', "walrus <script>window.__pwned=2</script>"
    )
    page = chromium.new_page(viewport={"width": 320, "height": 640})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    goto(page, f"{lea.tool}/boards/{lea.board_id}?lc={lea.token}")
    for _ in range(15):  # keyboard only: Tab to the search field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "board-search-q":
            break
    assert page.evaluate("document.activeElement.id") == "board-search-q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.type("walrus")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    wait_for_axe(page)
    assert "/search?" in page.url
    page.wait_for_selector("ol.search-results li")
    assert page.locator("ol.search-results li").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    sizes = page.evaluate(
        "[...document.querySelectorAll('main a, main button, main input:not([type=hidden])')]"
        ".map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert sizes and all(w >= 24 and h >= 24 for w, h in sizes), sizes
    assert page.evaluate("window.__pwned") is None and not dialogs
    page.screenshot(path=str(artifacts / "board-search-320.png"), full_page=True)
