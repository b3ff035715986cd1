"""A group circle in headless Chromium, inside the sandbox LMS course page's iframe: Ines adds a
co-mentor with the pair page's labelled select, Amara leaves the circle, which goes on, and her
list shows it as left; every page passes axe (0 serious/critical, checked on every page opened)
and the circle's page does not scroll sideways at 320 CSS px."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from plugin.db import new_session
from plugin.social.mentoring.models import Pair, PairMember
from tests.conftest import CLIENT_ID
from tests.social.browser_boards_support import (
    OVERFLOW,
    CoursePage,
    follow,
    goto,
    standalone_url,
    submit,
)
from tests.social.mentoring.test_circles_web import ask_mentor, import_competency, opt_in_mentor
from tests.social.mentoring.test_mentoring_web import Launched
from tests.social.social_web import COURSE
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

PROGRAMME_URL = re.compile(r"/mentoring/programmes/\d+\?")
PAIR_URL = re.compile(r"/mentoring/pairs/\d+\?")
TITLE = "Mentoring circles"


@pytest.fixture(scope="module")
def tool_server(cross_site_tool_server: LiveServer) -> LiveServer:
    """The tool on another site than the LMS, as in the boards' browser tests."""
    return cross_site_tool_server


@pytest.fixture(scope="module")
def app(cross_site_app: Flask) -> Flask:
    return cross_site_app


def _open_circle(course: CoursePage, user: str):
    frame = course.launch(TITLE, user, expect=PROGRAMME_URL)
    follow(frame, frame.get_by_role("link", name="Mentorships", exact=True))
    follow(frame, frame.get_by_role("link", name=re.compile("Lea Learner")).first)
    frame.wait_for_url(PAIR_URL)
    expect(frame.get_by_role("heading", level=1)).to_contain_text("Mentoring circle")
    return frame


def test_a_co_mentor_is_added_and_a_mentee_leaves_the_circle(app, chromium, lms) -> None:
    custom = {"widget": "mentoring", "setting_kind": "group"}
    rlid = lms.platform.add_resource_link(COURSE, CLIENT_ID, TITLE, custom=custom).resource_link_id
    ines = Launched(lms, "u-ines", rlid)
    competency = import_competency(ines)
    ben = Launched(lms, "u-benjamin", rlid)
    ben_id = opt_in_mentor(ben, competency, 3)
    chen_id = opt_in_mentor(Launched(lms, "u-chen", rlid), competency, 2)
    for sub in ("u-lea", "u-amara"):
        request_id = ask_mentor(Launched(lms, sub, rlid), competency, ben_id)
        answered = ben.post(f"/mentoring/requests/{request_id}/answer", decision="accept")
        assert answered.status_code == 303
    course = CoursePage(chromium, lms)
    try:
        frame = _open_circle(course, "u-ines")
        expect(frame.get_by_role("heading", name="Add a co-mentor")).to_be_visible()
        frame.get_by_label("Mentor", exact=True).select_option(str(chen_id))
        submit(frame, frame.get_by_role("button", name="Add as co-mentor"))
        expect(frame.get_by_role("status")).to_contain_text("Co-mentor added")
        expect(frame.get_by_text("Chen Wei, mentor: not accepted yet")).to_be_visible()
        pair_url = standalone_url(frame)
    finally:
        course.close()
    course = CoursePage(chromium, lms)
    try:
        frame = _open_circle(course, "u-amara")
        submit(frame, frame.get_by_role("button", name="Leave this mentorship"))
        expect(frame.get_by_role("status")).to_contain_text("You have left")
        expect(frame.get_by_text("You left this circle")).to_be_visible()
        follow(frame, frame.get_by_role("link", name=re.compile("Lea Learner")).first)
        frame.wait_for_url(PAIR_URL)
        expect(frame.get_by_role("status")).to_contain_text("You left this circle")
        expect(frame.get_by_role("button", name="Leave this mentorship")).to_have_count(0)
    finally:
        course.close()
    with new_session(app) as s:
        pair = s.scalars(select(Pair)).one()
        assert pair.state == "proposed"
        members = {m.user_id: m.left_at is not None for m in s.scalars(select(PairMember))}
        assert members[chen_id] is False and sum(members.values()) == 1
    narrow = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        small = narrow.new_page()
        goto(small, pair_url)
        expect(small.get_by_role("heading", level=1)).to_be_visible()
        assert small.evaluate(OVERFLOW) <= 0
    finally:
        chromium.close_context(narrow)
