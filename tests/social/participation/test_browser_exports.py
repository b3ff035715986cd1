"""Downloads from inside the LMS iframe in Chromium: the board's CSV and JSON exports and the
xAPI statements export download as files on the cookie path, where the page's links carry only
``ls=`` and the launch cookie (partitioned under the LMS's site) proves the request. A link with
the ``download`` attribute makes Chromium fetch it outside the frame's partition, without the
cookie: the tool then answered 401 and the file was an error page."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from tests.social.browser_boards_support import CoursePage, add_board, follow
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tool_server(cross_site_tool_server: LiveServer) -> LiveServer:
    """The tool on another site than the LMS, as in the boards' browser tests."""
    return cross_site_tool_server


@pytest.fixture(scope="module")
def app(cross_site_app: Flask) -> Flask:
    return cross_site_app


def _download(course: CoursePage, name: str) -> tuple[str, str]:
    frame = course.frame
    with course.page.expect_download() as info:
        frame.get_by_role("link", name=name, exact=True).click()
    download = info.value
    with open(download.path(), encoding="utf-8-sig") as saved:
        return download.suggested_filename, saved.read()


def test_board_and_xapi_exports_download_from_the_iframe(app, chromium, lms) -> None:
    add_board(lms, "Exported board")
    course = CoursePage(chromium, lms)
    try:
        course.launch("Exported board", "u-ines")
        assert course.launch_query().startswith("ls="), "the cookie path is the one under test"
        name, body = _download(course, "Export CSV")
        assert name.endswith(".csv") and body.splitlines()[0].startswith("thread_id,thread_title,")
        name, body = _download(course, "Export JSON")
        assert name.endswith(".json") and json.loads(body) is not None
        follow(
            course.frame,
            course.frame.get_by_role("link", name="Learning records (xAPI statements)"),
        )
        name, body = _download(course, "Download all as JSON Lines")
        assert name == "statements.jsonl"
        launched = [json.loads(line) for line in body.splitlines()]
        assert launched and all(st["verb"]["display"]["en-US"] for st in launched)
    finally:
        course.close()
