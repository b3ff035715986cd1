"""The development plan in headless Chromium, inside the sandbox LMS course page's iframe: a
learner opens their plan and adds a goal by label; the pages pass axe (0 serious/critical,
checked on every page opened) and do not scroll sideways at 320 CSS px."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import Platform
from plugin.performance.plans.models import Goal
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
from tests.social.mentoring.programme_world import make_framework
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

PLAN_URL = re.compile(r"/plans/\d+\?")
COURSE_PLANS_URL = re.compile(r"/plans/course\?")


@pytest.fixture(scope="module")
def tool_server(cross_site_tool_server: LiveServer) -> LiveServer:
    """The tool on another site than the LMS, as in the boards' browser tests."""
    return cross_site_tool_server


@pytest.fixture(scope="module")
def app(cross_site_app: Flask) -> Flask:
    return cross_site_app


def test_a_learner_adds_a_goal_to_their_plan(app, chromium, lms) -> None:
    title = "My development plan"
    lms.platform.add_resource_link(COURSE, CLIENT_ID, title, custom={"widget": "plan"})
    with new_session(app) as s:
        platform = s.scalars(select(Platform).where(Platform.issuer == lms.issuer)).one()
        make_framework(s, platform.id, ("Coaching conversations", "Giving feedback"))
        s.commit()
    course = CoursePage(chromium, lms)
    try:
        frame = course.launch(title, "u-lea", expect=PLAN_URL)
        expect(frame.get_by_role("heading", level=1)).to_have_text(title)
        expect(frame.get_by_text("No goals yet.")).to_be_visible()
        frame.get_by_label("Competency").select_option(label="Coaching conversations — Leadership")
        frame.get_by_label("Target level").select_option(label="3 — Skilled")
        frame.get_by_label("Why it matters").fill("I start leading a team in March.")
        frame.get_by_label("I would like a mentor for this").check()
        submit(frame, frame.get_by_role("button", name="Add the goal"))
        expect(frame.get_by_role("status")).to_have_text("Goal added.")
        expect(frame.get_by_role("heading", name="Coaching conversations")).to_be_visible()
        plan_url = standalone_url(frame)
    finally:
        course.close()
    staff = CoursePage(chromium, lms)
    try:
        frame = staff.launch(title, "u-ines", expect=COURSE_PLANS_URL)
        expect(frame.get_by_role("heading", level=1)).to_have_text(
            "Development plans of this course"
        )
        row = frame.get_by_role("row").filter(has_text="Lea Learner")
        expect(row).to_contain_text("Draft")
        follow(frame, row.get_by_role("link", name=title))
        expect(frame.get_by_text("read-only for you")).to_be_visible()
        expect(frame.get_by_role("button", name="Add the goal")).to_have_count(0)
    finally:
        staff.close()
    with new_session(app) as s:
        goal = s.scalars(select(Goal)).one()
        assert (goal.target_position, goal.needs_mentor) == (3, True)
        assert goal.why == "I start leading a team in March."
    narrow = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        small = narrow.new_page()
        goto(small, plan_url)
        expect(small.get_by_role("heading", level=1)).to_be_visible()
        assert small.evaluate(OVERFLOW) <= 0
    finally:
        chromium.close_context(narrow)
