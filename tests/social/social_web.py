"""Boards through the real LTI launch, for the social tests: a board's resource link, a person
launched into it (their browser, token and board), and the JSON API as that person."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from tests.conftest import CLIENT_ID
from tests.support.browser import Browser
from tests.support.lti import launch, token_of

COURSE = "leadership-foundations"


def tool_of(response) -> str:
    parts = urlsplit(response.url)
    return f"{parts.scheme}://{parts.netloc}"


def board_id_of(response) -> int:
    match = re.search(r"/boards/(\d+)", urlsplit(response.url).path)
    assert match, response.url
    return int(match.group(1))


def board_link(lms, context: str = COURSE, **settings: str) -> str:
    """A resource link that opens a board (custom widget=board, as deep linking makes it)."""
    custom = {"widget": "board", **{f"setting_{k}": v for k, v in settings.items()}}
    link = lms.platform.add_resource_link(context, CLIENT_ID, "Team talk", custom=custom)
    return link.resource_link_id


class Person:
    """Someone launched into a board: their browser, token and the board page they landed on."""

    def __init__(self, lms, user: str, rlid: str, context: str = COURSE) -> None:
        self.browser = Browser()
        self.page = launch(self.browser, lms, user, resource_link=rlid, context=context)
        assert self.page.status_code == 200, self.page.text[:500]
        self.token = token_of(self.page)
        self.tool = tool_of(self.page)
        self.board_id = board_id_of(self.page)

    def get(self, path: str, **params):
        return self.browser.http.get(
            self.tool + path, params={"lc": self.token, **params}, timeout=10
        )

    def post(self, path: str, follow: bool = False, **data):
        return self.browser.http.post(
            self.tool + path,
            data={"lc": self.token, **data},
            allow_redirects=follow,
            timeout=10,
        )

    def new_thread(self, title: str, body: str, **extra) -> int:
        r = self.post(f"/boards/{self.board_id}/threads", title=title, body=body, **extra)
        assert r.status_code == 303, r.text[:500]
        match = re.search(r"/threads/(\d+)", r.headers["Location"])
        assert match and parse_qs(urlsplit(r.headers["Location"]).query)["lc"] == [self.token]
        return int(match.group(1))


class Api:
    """The JSON API as one person (their page token as the Bearer token)."""

    def __init__(self, person: Person) -> None:
        self.p = person
        self.headers = {"Authorization": f"Bearer {person.token}"}

    def __call__(self, method: str, path: str, **kw):
        return self.p.browser.http.request(
            method, self.p.tool + "/api" + path, headers=self.headers, timeout=10, **kw
        )
