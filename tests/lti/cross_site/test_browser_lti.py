"""The sandbox course page in headless Chromium, with the tool on another site than the LMS (the LMS
on 127.0.0.1, the tool on localhost): launch in the iframe, deep link, frame resizing, two launches
in one browser, a page left open, and who may frame the tool. Each test runs under three cookie
policies (tests/support/chromium.py) and checks which way the launch went: the launch cookie
(``ls=``) or URL tokens (``lc=``) with the OIDC state kept in LTI Platform Storage."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from sandbox.platform.vocabulary import ROLE_INSTRUCTOR, ROLE_LEARNER
from tests.conftest import CLIENT_ID
from tests.social.browser_boards_support import (
    COURSE,
    NAMES,
    CoursePage,
    add_board,
    follow,
    goto,
    submit,
)
from tests.support.chromium import CHROMIUM, FLAGS, MODES
from tests.support.servers import LiveServer

__all__ = ["CHROMIUM", "FLAGS"]  # the other browser modules' imports

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=MODES)
def chromium(request, playwright_driver, tool_server):
    from tests.support.chromium import Chromium

    return Chromium(playwright_driver, request.param, tool_server.url)


@pytest.fixture
def course(chromium, lms):
    page = CoursePage(chromium, lms)
    yield page
    page.close()


def test_learner_launch_in_iframe_resizes_frame(app, lms, course, artifacts: Path) -> None:
    frame = course.launch("Learning Commons", "u-lea", expect=re.compile(r"/app\?"))
    frame.get_by_text("Lea Learner").first.wait_for()
    # the tool posted lti.frameResize and the course page applied it to the iframe
    course.page.wait_for_function(
        "document.getElementById('tool-frame').style.height !== ''", timeout=10000
    )
    height = course.frame_height()
    content = frame.evaluate("document.documentElement.scrollHeight")
    assert abs(height - max(content, 150)) <= 2
    course.shot(artifacts, f"sandbox-learner-launch-{course.chromium.mode}")


def test_instructor_deep_links_a_board_then_learner_opens_it(
    app, lms, course, artifacts: Path
) -> None:
    course.open_course()
    course.start_launch(
        course.page.get_by_role(
            "button", name="Add content from Learning Commons (Deep Linking) as Ines Instructor"
        )
    )
    frame = course.arrived(re.compile(r"/lti/deep-link\?"))
    frame.wait_for_selector("text=Add Learning Commons to", timeout=15000)
    frame.get_by_label("Title in the course").first.fill("Leadership circle")
    course.shot(artifacts, f"sandbox-deep-link-picker-{course.chromium.mode}")
    follow(frame, frame.get_by_role("button", name="Add to course"))
    frame.get_by_role("heading", name="Content added").wait_for()
    frame = course.launch("Leadership circle", "u-lea")
    assert "Discussion board" in frame.content() and "Leadership circle" in frame.content()
    course.shot(artifacts, f"sandbox-board-placement-{course.chromium.mode}")


def test_pages_fit_a_narrow_iframe(app, lms, chromium, artifacts: Path) -> None:
    narrow = CoursePage(chromium, lms, width=320, height=700)
    try:
        frame = narrow.launch("Learning Commons", "u-ines", expect=re.compile(r"/app\?"))
        frame.wait_for_selector("text=Choose what this link opens", timeout=15000)
        assert (
            frame.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            <= 0
        )
        narrow.frame_shot(artifacts, f"sandbox-narrow-{chromium.mode}")
    finally:
        narrow.close()


SECOND_COURSE = "coaching-skills"


def test_two_launches_in_one_browser_stay_apart(app, lms, chromium, artifacts: Path) -> None:
    """Two tabs of one browser, two courses: Lea in one, Ines in the other. Whichever way the
    launches went, each tab keeps acting as its own launch (with cookies: one cookie per launch,
    the page naming which)."""
    lms.platform.add_course(SECOND_COURSE, "COACH-201", "Coaching Skills")
    lms.platform.enroll("u-lea", SECOND_COURSE, [ROLE_LEARNER])
    lms.platform.enroll("u-ines", SECOND_COURSE, [ROLE_INSTRUCTOR])
    add_board(lms, "Feedback circle")
    add_board(lms, "Coaching circle", context=SECOND_COURSE)
    first = CoursePage(chromium, lms)
    second = CoursePage(chromium, lms, context=first.context)  # a second tab, same browser
    try:
        lea = first.launch("Feedback circle", "u-lea")
        ines = second.launch("Coaching circle", "u-ines", course=SECOND_COURSE)
        assert first.launch_query() != second.launch_query()
        # back in the first tab (its links, as they are on the page): still Lea, in Leadership
        # Foundations, on her board
        first.page.bring_to_front()
        visit(lea, lea.get_by_role("link", name=re.compile(r"^Notifications")))
        lea.get_by_role("heading", name="Notifications").wait_for()
        header = lea.locator("header").inner_text()
        assert "Lea Learner" in header and "Leadership Foundations" in header
        visit(lea, lea.get_by_role("link", name="← Back to the board"))
        assert lea.get_by_role("heading", level=1).inner_text().startswith("Feedback circle")
        # Lea starts a thread from the first tab: it lands in her course, as her
        form = lea.locator("form", has=lea.get_by_role("heading", name="Start a thread"))
        form.get_by_label("Title").fill("From the first tab")
        form.get_by_label("Your post").fill("Posted while another launch was open.")
        submit(lea, form.get_by_role("button", name="Post thread"))
        assert "Lea Learner" in lea.locator(".post.opening").inner_text()
        # ... and the second tab is still Ines, staff in Coaching Skills, who does not see it
        second.page.bring_to_front()
        visit(ines, ines.get_by_role("link", name="Board settings"))
        visit(ines, ines.get_by_role("link", name="← Back to the board"))
        header = ines.locator("header").inner_text()
        assert "Ines Instructor" in header and "Coaching Skills" in header
        assert "From the first tab" not in ines.content()
        second.shot(artifacts, f"sandbox-two-launches-{chromium.mode}")
    finally:
        second.close()
        first.close()


def test_page_left_open_past_the_url_token_life_still_works(app, lms, chromium) -> None:
    """URL tokens live briefly; a page left open longer keeps working: its links get a fresh token
    (commons.js, with the page token) and its forms carry the page token. A stale URL token itself
    is refused by the server."""
    settings = app.config["COMMONS_SETTINGS"]
    life = settings.url_token_max_age
    settings.url_token_max_age = 6
    page = CoursePage(chromium, lms)
    try:
        add_board(lms, "Patient circle")
        frame = page.launch("Patient circle", "u-lea")
        opened_with = frame.url
        time.sleep(7)  # longer than a URL token lives
        if chromium.path == "url":
            old = parse_qs(urlsplit(opened_with).query)["lc"][0]
            stale = requests.get(opened_with, timeout=10)
            assert stale.status_code == 401 and "This link has expired" in stale.text
            assert old not in frame.locator("a", has_text="Notifications").get_attribute("href")
        # a link followed after the token's life: a page, not "session ended"
        follow(frame, frame.get_by_role("link", name=re.compile(r"^Notifications")))
        frame.get_by_role("heading", name="Notifications").wait_for()
        follow(frame, frame.get_by_role("link", name="← Back to the board"))
        time.sleep(7)
        # a form posted after the token's life
        form = frame.locator("form", has=frame.get_by_role("heading", name="Start a thread"))
        form.get_by_label("Title").fill("Still here")
        form.get_by_label("Your post").fill("An hour later, so to speak.")
        submit(frame, form.get_by_role("button", name="Post thread"))
        frame.get_by_role("heading", name="Still here").wait_for()
        # reloading the page later still works: commons.js keeps the address's token fresh
        time.sleep(7)
        with frame.expect_navigation(wait_until="load"):
            frame.evaluate("location.reload()")
        frame.get_by_role("heading", name="Still here").wait_for()
        assert page.errors == []
    finally:
        settings.url_token_max_age = life
        page.close()


def test_only_the_registered_lms_may_frame_the_tool(app, lms, chromium, tool_server) -> None:
    """frame-ancestors: the launch's LMS (and, before a launch, the registered platforms) may frame
    the tool; a page of another origin may not, whether it frames a launched page or the login."""
    from tests.support.browser import Browser
    from tests.support.lti import launch

    add_board(lms, "Private circle")
    rlid = lms.platform.resource_links(COURSE, CLIENT_ID)[-1].resource_link_id
    launched = launch(Browser(), lms, "u-lea", resource_link=rlid)
    assert launched.status_code == 200
    targets = {"a launched page": launched.url, "the login page": tool_server.url + "/lti/login"}
    html = "".join(
        f'<iframe name="f{n}" title="{name}" src="{url}"></iframe>'
        for n, (name, url) in enumerate(targets.items())
    )
    rogue = LiveServer()  # 127.0.0.1 on another port: an origin no platform registered
    rogue.start(lambda environ, start: _html(start, html))
    page = chromium.new_page()
    try:
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "frame-ancestors" in m.text else 0)
        page.goto(rogue.url + "/")
        page.wait_for_timeout(1500)
        for n in range(len(targets)):
            frame = page.frame(name=f"f{n}")
            assert frame is not None
            assert not frame.url.startswith(tool_server.url), frame.url
            assert "Lea Learner" not in frame.content()
        assert len(refused) == len(targets), refused
    finally:
        page.close()
        rogue.stop()
    # the sandbox LMS frames the same launched page
    course = CoursePage(chromium, lms)
    try:
        frame = course.launch("Private circle", "u-lea")
        assert NAMES["u-lea"] in frame.locator("header").inner_text()
    finally:
        course.close()


def visit(frame, link) -> None:
    """Open a link's address in its frame (a tab in the background does not take clicks)."""
    goto(frame, urljoin(frame.url, link.get_attribute("href")))


def _html(start_response, body: str) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    page = f'<!doctype html><html lang="en"><title>Elsewhere</title><main>{body}</main></html>'
    return [page.encode()]
