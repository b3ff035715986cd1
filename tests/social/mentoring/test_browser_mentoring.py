"""Mentoring in headless Chromium, inside the sandbox LMS course page's iframe: a learner opens
the programme, opts in as a mentee and fills in the profile form by label; both pages pass axe
(0 serious/critical, checked on every page opened) and do not scroll sideways at 320 CSS px."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from plugin.db import new_session
from plugin.social.mentoring.models import Profile
from tests.conftest import CLIENT_ID
from tests.social.browser_boards_support import (
    COURSE,
    OVERFLOW,
    CoursePage,
    goto,
    standalone_url,
    submit,
)
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

PROGRAMME_URL = re.compile(r"/mentoring/programmes/\d+\?")


@pytest.fixture(scope="module")
def tool_server(cross_site_tool_server: LiveServer) -> LiveServer:
    """The tool on another site than the LMS, as in the boards' browser tests."""
    return cross_site_tool_server


@pytest.fixture(scope="module")
def app(cross_site_app: Flask) -> Flask:
    return cross_site_app


def test_a_learner_opts_in_and_fills_in_the_profile_form(app, chromium, lms) -> None:
    title = "Mentoring circle"
    lms.platform.add_resource_link(COURSE, CLIENT_ID, title, custom={"widget": "mentoring"})
    course = CoursePage(chromium, lms)
    try:
        frame = course.launch(title, "u-lea", expect=PROGRAMME_URL)
        expect(frame.get_by_role("heading", level=1)).to_have_text(title)
        expect(frame.get_by_role("heading", name="About this programme")).to_be_visible()
        programme_url = standalone_url(frame)
        frame.get_by_label("A mentee").check()
        submit(frame, frame.get_by_role("button", name="Opt in"))
        expect(frame.get_by_role("heading", level=1)).to_have_text("Your mentoring profile")
        expect(frame.get_by_role("status")).to_have_text("Profile saved.")
        frame.get_by_label("Time zone").fill("Europe/Lisbon")
        wednesday = frame.get_by_role("group", name="Wednesday")
        wednesday.get_by_label("From").fill("17")
        wednesday.get_by_label("To").fill("19")
        frame.get_by_label("Languages you can meet in").fill("pt-PT, en")
        frame.get_by_label("As a mentee, your goals").fill("Lead my first team retrospective.")
        submit(frame, frame.get_by_role("button", name="Save your profile"))
        expect(frame.get_by_role("status")).to_have_text("Profile saved.")
        expect(frame.get_by_label("Time zone")).to_have_value("Europe/Lisbon")
        profile_url = standalone_url(frame)
    finally:
        course.close()
    with new_session(app) as s:
        profile = s.scalars(select(Profile)).one()
        assert profile.is_mentee and profile.time_zone == "Europe/Lisbon"
        assert profile.availability == [[2, 17, 19]] and profile.languages == ["pt-PT", "en"]
    narrow = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        small = narrow.new_page()
        for name, url in (("programme", programme_url), ("profile", profile_url)):
            goto(small, url)
            expect(small.get_by_role("heading", level=1)).to_be_visible()
            assert small.evaluate(OVERFLOW) <= 0, name
    finally:
        chromium.close_context(narrow)
