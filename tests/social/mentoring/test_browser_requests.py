"""Mentoring requests and bulk matching in headless Chromium, inside the sandbox LMS course
page's iframe: a learner finds a mentor and asks one, the mentor accepts in their own launch;
staff open the bulk-matching preview, give a mentee another mentor, approve, and open the
settings and roster pages. Every page opened passes axe (0 serious/critical) and the pages with
the most on them do not scroll sideways at 320 CSS px."""

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
    COURSE,
    OVERFLOW,
    CoursePage,
    follow,
    goto,
    standalone_url,
    submit,
)
from tests.social.mentoring.test_mentoring_web import Launched
from tests.social.mentoring.test_requests_web import _framework, _mentee, _mentor, _user_id
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

PROGRAMME_URL = re.compile(r"/mentoring/programmes/\d+\?")


@pytest.fixture(scope="module")
def tool_server(cross_site_tool_server: LiveServer) -> LiveServer:
    return cross_site_tool_server


@pytest.fixture(scope="module")
def app(cross_site_app: Flask) -> Flask:
    return cross_site_app


def _link(lms, title: str, **settings: str) -> str:
    custom = {"widget": "mentoring", **{f"setting_{k}": v for k, v in settings.items()}}
    return lms.platform.add_resource_link(COURSE, CLIENT_ID, title, custom=custom).resource_link_id


def _narrow(chromium, urls: dict[str, str]) -> None:
    narrow = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        small = narrow.new_page()
        for name, url in urls.items():
            goto(small, url)
            expect(small.get_by_role("heading", level=1)).to_be_visible()
            assert small.evaluate(OVERFLOW) <= 0, name
    finally:
        chromium.close_context(narrow)


def test_a_learner_finds_and_asks_a_mentor_who_accepts(app, chromium, lms) -> None:
    title = "Find a mentor circle"
    rlid = _link(lms, title)
    ines = Launched(lms, "u-ines", rlid)
    coaching, _, _ = _framework(app, lms)
    ines.api("PATCH", f"/programmes/{ines.programme_id}", json={"competency_ids": [coaching]})
    _mentor(Launched(lms, "u-amara", rlid), coaching)
    _mentee(Launched(lms, "u-lea", rlid), coaching, level=1, target=2)

    course = CoursePage(chromium, lms)
    try:
        frame = course.launch(title, "u-lea", expect=PROGRAMME_URL)
        follow(frame, frame.get_by_role("link", name="Find a mentor").first)
        expect(frame.get_by_role("heading", level=1)).to_have_text("Find a mentor")
        frame.get_by_label("The level I aim for").select_option("3")
        frame.get_by_label("My level now").select_option("1")
        frame.get_by_label("Meet every how many days").fill("14")
        submit(frame, frame.get_by_role("button", name="Find mentors"))
        expect(frame.get_by_role("heading", name="Mentors for you")).to_be_visible()
        expect(
            frame.get_by_role("heading", name=re.compile(r"Amara Okafor — .* out of 100"))
        ).to_be_visible()
        expect(frame.get_by_text("Competency fit").first).to_be_visible()
        found_url = standalone_url(frame)
        submit(frame, frame.get_by_role("button", name="Ask Amara Okafor"))
        expect(frame.get_by_role("heading", level=1)).to_have_text("My requests")
        expect(frame.get_by_role("status")).to_have_text("Request sent.")
        expect(frame.get_by_text("Waiting for an answer")).to_be_visible()
        mine_url = standalone_url(frame)
    finally:
        course.close()

    course = CoursePage(chromium, lms)
    try:
        frame = course.launch(title, "u-amara", expect=PROGRAMME_URL)
        follow(frame, frame.get_by_role("link", name="Requests to me").first)
        expect(frame.get_by_role("heading", level=1)).to_have_text("Requests to me")
        to_me_url = standalone_url(frame)  # (the page has a form while a request is open)
        frame.get_by_label("Message to Lea Learner").fill("Happy to help — Wednesdays suit me.")
        submit(frame, frame.get_by_role("button", name="Accept Lea Learner"))
        expect(frame.get_by_role("status")).to_have_text("Request accepted: you are now paired.")
    finally:
        course.close()
    with new_session(app) as s:
        pair = s.scalars(select(Pair)).one()
        assert pair.state == "proposed" and pair.cadence_days == 14
        roles = {m.user_id: m.role for m in s.scalars(select(PairMember))}
    assert roles == {_user_id(app, "u-amara"): "mentor", _user_id(app, "u-lea"): "mentee"}
    _narrow(chromium, {"find": found_url, "mine": mine_url, "to me": to_me_url})


def test_staff_preview_adjust_and_approve_a_bulk_matching(app, chromium, lms) -> None:
    title = "Bulk mentoring"
    rlid = _link(lms, title, matching="staff_bulk")
    ines = Launched(lms, "u-ines", rlid)
    coaching, _, _ = _framework(app, lms)
    ines.api("PATCH", f"/programmes/{ines.programme_id}", json={"competency_ids": [coaching]})
    _mentee(Launched(lms, "u-lea", rlid), coaching)
    _mentee(Launched(lms, "u-amara", rlid), coaching)
    _mentor(Launched(lms, "u-chen", rlid), coaching, level=3, capacity=1)
    _mentor(Launched(lms, "u-diego", rlid), coaching, level=4, capacity=1)

    course = CoursePage(chromium, lms)
    try:
        frame = course.launch(title, "u-ines", expect=PROGRAMME_URL)
        follow(frame, frame.get_by_role("link", name="Bulk matching").first)
        expect(frame.get_by_role("heading", level=1)).to_have_text("Bulk matching")
        expect(frame.get_by_role("heading", name="The best matching")).to_be_visible()
        lea_select = frame.get_by_label("Mentor for Lea Learner")
        amara_select = frame.get_by_label("Mentor for Amara Okafor")
        lea_mentor, amara_mentor = lea_select.input_value(), amara_select.input_value()
        assert lea_mentor and amara_mentor and lea_mentor != amara_mentor
        lea_select.select_option(amara_mentor)  # swap their mentors
        amara_select.select_option(lea_mentor)
        submit(frame, frame.get_by_role("button", name="Update the preview"))
        expect(frame.get_by_role("heading", name="Your adjusted matching")).to_be_visible()
        expect(frame.get_by_label("Mentor for Lea Learner")).to_have_value(amara_mentor)
        preview_url = standalone_url(frame)
        submit(frame, frame.get_by_role("button", name="Approve 2 pairs"))
        expect(frame.get_by_role("status")).to_contain_text("2 pairs made")
        expect(frame.get_by_text("No one is waiting for a mentor.")).to_be_visible()
        # the staff pages of the programme, each checked by axe on the way
        follow(frame, frame.get_by_role("link", name="Mentors and mentees"))
        expect(frame.get_by_role("heading", level=1)).to_have_text("Mentors and mentees")
        follow(frame, frame.get_by_role("link", name="Settings"))
        expect(frame.get_by_role("heading", level=1)).to_have_text("Programme settings")
    finally:
        course.close()
    with new_session(app) as s:
        made = {(m.user_id, m.role) for m in s.scalars(select(PairMember))}
    assert made == {
        (_user_id(app, "u-lea"), "mentee"),
        (int(amara_mentor), "mentor"),
        (_user_id(app, "u-amara"), "mentee"),
        (int(lea_mentor), "mentor"),
    }
    _narrow(chromium, {"bulk": preview_url})
