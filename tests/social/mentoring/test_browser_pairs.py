"""A mentorship in headless Chromium, inside the sandbox LMS course page's iframe: Lea (mentee)
and Benjamin (mentor) each accept the agreement on the pair's page, Benjamin logs a check-in by
its labels, and downloads the meetings' .ics; every page passes axe (0 serious/critical, checked
on every page opened) and the pair page does not scroll sideways at 320 CSS px."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from plugin.db import new_session
from plugin.social.mentoring.models import CheckIn, Pair
from tests.social.browser_boards_support import (
    OVERFLOW,
    CoursePage,
    follow,
    goto,
    standalone_url,
    submit,
)
from tests.social.mentoring.test_pairs_web import agreement, launched_pair
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

PROGRAMME_URL = re.compile(r"/mentoring/programmes/\d+\?")
PAIR_URL = re.compile(r"/mentoring/pairs/\d+\?")
TITLE = "Mentoring pairs"


@pytest.fixture(scope="module")
def tool_server(cross_site_tool_server: LiveServer) -> LiveServer:
    """The tool on another site than the LMS, as in the boards' browser tests."""
    return cross_site_tool_server


@pytest.fixture(scope="module")
def app(cross_site_app: Flask) -> Flask:
    return cross_site_app


def _open_pair(course: CoursePage, user: str):
    frame = course.launch(TITLE, user, expect=PROGRAMME_URL)
    follow(frame, frame.get_by_role("link", name="Mentorships", exact=True))
    expect(frame.get_by_role("heading", level=1)).to_have_text("Your mentorships")
    follow(frame, frame.get_by_role("link", name=re.compile("Lea Learner")).first)
    frame.wait_for_url(PAIR_URL)
    expect(frame.get_by_role("heading", name="Agreement")).to_be_visible()
    return frame


def test_both_accept_one_logs_a_check_in_and_downloads_the_ics(app, chromium, lms) -> None:
    _ines, lea, _ben, _amara, pair_id, first, _second = launched_pair(lms, TITLE)
    changed = lea.api(
        "PUT",
        f"/pairs/{pair_id}/agreement",
        json={**agreement(cadence_days=7), "competency_ids": [first]},
    )
    assert changed.status_code == 200, changed.text
    course = CoursePage(chromium, lms)
    try:
        frame = _open_pair(course, "u-lea")
        submit(frame, frame.get_by_role("button", name="Accept the agreement"))
        expect(frame.get_by_role("status")).to_contain_text("You accepted the agreement")
    finally:
        course.close()
    course = CoursePage(chromium, lms)
    try:
        frame = _open_pair(course, "u-benjamin")
        submit(frame, frame.get_by_role("button", name="Accept the agreement"))
        expect(frame.get_by_role("status")).to_contain_text("the mentorship is active")
        expect(frame.get_by_text("On track")).to_be_visible()
        frame.get_by_label("Date of the meeting").fill("2026-01-06")
        frame.get_by_label("Length in minutes").fill("50")
        frame.get_by_label("Notes (only the people of this mentorship see them)").fill(
            "Practised the opening of the team day."
        )
        frame.get_by_role("group", name="Competencies you worked on").get_by_role(
            "checkbox"
        ).first.check()
        submit(frame, frame.get_by_role("button", name="Log the check-in"))
        expect(frame.get_by_role("status")).to_have_text("Check-in logged.")
        expect(frame.get_by_role("heading", name=re.compile("50 minutes"))).to_be_visible()
        with course.page.expect_download() as info:
            frame.get_by_role("link", name=re.compile(r"Add the meetings to your calendar")).click()
        download = info.value
        assert download.suggested_filename == f"mentoring-pair-{pair_id}.ics"
        with open(download.path(), encoding="utf-8") as saved:
            body = saved.read()
        assert "BEGIN:VCALENDAR" in body and "RRULE:FREQ=WEEKLY" in body
        pair_url = urlsplit(standalone_url(frame))
        list_path = f"/mentoring/programmes/{lea.programme_id}/pairs"
        urls = {"pair": pair_url.geturl(), "list": pair_url._replace(path=list_path).geturl()}
    finally:
        course.close()
    with new_session(app) as s:
        assert s.get(Pair, pair_id).state == "active"
        check_in = s.scalars(select(CheckIn)).one()
        assert check_in.duration_minutes == 50 and check_in.notes.startswith("Practised")
    narrow = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        small = narrow.new_page()
        for name, url in urls.items():
            goto(small, url)
            expect(small.get_by_role("heading", level=1)).to_be_visible()
            assert small.evaluate(OVERFLOW) <= 0, name
    finally:
        chromium.close_context(narrow)
