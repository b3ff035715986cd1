"""The pulse survey and the To-do box in headless Chromium, inside the sandbox LMS course page's
iframe: a learner with a month-old mentorship sees "To do" on the programme page, follows the
pulse link, picks a rating by its label and sends a comment; every page passes axe (0 serious or
critical, checked on every page opened) and does not scroll sideways at 320 CSS px."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect

from plugin.db import new_session
from plugin.social.mentoring.models import Pulse
from tests.conftest import CLIENT_ID
from tests.social.browser_boards_support import (
    COURSE,
    OVERFLOW,
    CoursePage,
    follow,
    goto,
    standalone_url,
    submit,
)
from tests.social.mentoring.test_jobs_web import month_old_pair
from tests.social.mentoring.test_mentoring_web import Launched
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

PROGRAMME_URL = re.compile(r"/mentoring/programmes/\d+\?")
PULSE_URL = re.compile(r"/mentoring/pulses/\d+\?")


@pytest.fixture(scope="module")
def tool_server(cross_site_tool_server: LiveServer) -> LiveServer:
    """The tool on another site than the LMS, as in the boards' browser tests."""
    return cross_site_tool_server


@pytest.fixture(scope="module")
def app(cross_site_app: Flask) -> Flask:
    return cross_site_app


def test_a_learner_answers_the_pulse_from_the_to_do_box(app, chromium, lms) -> None:
    title = "Mentoring pulse"
    link = lms.platform.add_resource_link(COURSE, CLIENT_ID, title, custom={"widget": "mentoring"})
    grace = Launched(lms, "u-grace", link.resource_link_id)
    Launched(lms, "u-lea", link.resource_link_id)
    pulse = month_old_pair(app, grace.programme_id, "u-grace", "u-lea")
    course = CoursePage(chromium, lms)
    try:
        frame = course.launch(title, "u-lea", expect=PROGRAMME_URL)
        todo = frame.get_by_role("region", name="To do")
        expect(todo).to_contain_text("A check-in with Grace")
        programme_url = standalone_url(frame)
        follow(frame, todo.get_by_role("link", name=re.compile("how your mentorship")))
        expect(frame.get_by_role("heading", level=1)).to_have_text("How is your mentorship going?")
        ratings = frame.get_by_role("group", name="How well is the mentorship working for you?")
        ratings.get_by_label("4 — Well").check()
        frame.get_by_label("A comment (optional)").fill("We meet every other Friday.")
        pulse_url = standalone_url(frame)
        submit(frame, frame.get_by_role("button", name="Send your answer"))
        expect(frame.get_by_role("status")).to_have_text("Thank you: your answer is saved.")
        expect(frame.get_by_text("4 out of 5")).to_be_visible()
    finally:
        course.close()
    with new_session(app) as s:
        answered = s.get(Pulse, pulse["u-lea"])
        assert (answered.rating, answered.comment) == (4, "We meet every other Friday.")
    narrow = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        small = narrow.new_page()
        for name, url in (("programme", programme_url), ("pulse", pulse_url)):
            goto(small, url)
            expect(small.get_by_role("heading", level=1)).to_be_visible()
            assert small.evaluate(OVERFLOW) <= 0, name
    finally:
        chromium.close_context(narrow)
