"""Programme health in headless Chromium, inside the sandbox LMS course page's iframe: staff open
the programme, follow "Programme health", read the chart (an image named by its title, described
by its numbers) and the same numbers in its table, and the call to action leads to the roster's
nomination form; the page passes axe (0 serious/critical, checked on every page opened) and does
not scroll sideways at 320 CSS px."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect

from plugin.db import new_session, utcnow
from plugin.lti.models import Platform
from plugin.social.mentoring.models import Programme, ProgrammeCompetency
from tests.conftest import CLIENT_ID
from tests.social.browser_boards_support import (
    COURSE,
    OVERFLOW,
    CoursePage,
    follow,
    goto,
    standalone_url,
)
from tests.social.mentoring.health_world import seed_health
from tests.social.mentoring.programme_world import make_framework
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


def _seed(app: Flask) -> None:
    with new_session(app) as s:
        programme = s.query(Programme).order_by(Programme.id.desc()).first()
        issuer = s.get(Platform, programme.platform_id).issuer
        competencies = make_framework(
            s, programme.platform_id, ("Coaching conversations", "Giving feedback", "Delegating")
        )
        s.add_all(
            ProgrammeCompetency(programme_id=programme.id, competency_id=c.id)
            for c in competencies[:2]
        )
        s.flush()
        seed_health(
            s,
            programme,
            competencies,
            platform_id=programme.platform_id,
            issuer=issuer,
            now=utcnow(),
        )


def test_staff_read_programme_health_with_its_chart(app, chromium, lms) -> None:
    title = "Mentoring for leaders"
    lms.platform.add_resource_link(COURSE, CLIENT_ID, title, custom={"widget": "mentoring"})
    course = CoursePage(chromium, lms)
    try:
        frame = course.launch(title, "u-ines", expect=PROGRAMME_URL)
        expect(frame.get_by_role("heading", level=1)).to_have_text(title)
        _seed(app)
        follow(frame, frame.get_by_role("link", name="Programme health"))
        expect(frame.get_by_role("heading", level=1)).to_have_text("Programme health")
        chart = frame.get_by_role("img", name="Open demand and free mentor capacity per competency")
        expect(chart).to_be_visible()
        expect(chart).to_have_accessible_description(
            re.compile(r"Coaching conversations: open demand 3, free capacity 0, a gap of 3")
        )
        table = frame.get_by_role("table", name="Supply and demand per competency")
        coaching = table.get_by_role("row", name=re.compile("Coaching conversations"))
        expect(coaching.get_by_role("cell")).to_have_text(["2", "3", "3", "0", "3"])
        expect(
            frame.get_by_text("Recruit 2 more mentors for Coaching conversations")
        ).to_be_visible()
        expect(frame.get_by_role("link", name="Download this table (CSV)")).to_be_visible()
        follow(frame, frame.get_by_role("link", name="Nominate mentors for Coaching conversations"))
        expect(frame.get_by_role("heading", name="Nominate a mentor")).to_be_visible()
        # the health page has no form to borrow a page token from: the roster's does
        health_url = standalone_url(frame).split("#")[0].replace("/roster?", "/health?")
    finally:
        course.close()
    narrow = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        small = narrow.new_page()
        goto(small, health_url)
        expect(small.get_by_role("heading", level=1)).to_have_text("Programme health")
        assert small.evaluate(OVERFLOW) <= 0
        box = small.get_by_role("img", name=re.compile("Open demand")).bounding_box()
        assert box is not None and box["width"] <= 320
    finally:
        chromium.close_context(narrow)
