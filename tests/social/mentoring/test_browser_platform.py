"""Inviting a suggested mentor and the e-mail preferences page in headless Chromium, inside the
sandbox LMS course page's iframe: Ines sees Amara suggested on the roster page (her endorsed
answer) and invites her; Amara accepts on the programme page and becomes a mentor; she turns one
kind of e-mail off on the preferences page. Every page opened passes axe (0 serious/critical),
and the pages do not scroll sideways at 320 CSS px (the administrators' page too)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import User
from plugin.mail.models import MailPreference
from plugin.social.mentoring.models import Profile
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
from tests.social.mentoring.platform_world import ADMIN, add_admin, endorsed_answers
from tests.social.mentoring.test_mentoring_web import Launched
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


def test_staff_invite_a_suggested_mentor_who_accepts(app, chromium, lms) -> None:
    answers = endorsed_answers(lms)
    title = "Mentoring circle"
    custom = {"widget": "mentoring"}
    link = lms.platform.add_resource_link(COURSE, CLIENT_ID, title, custom=custom)
    ines_http = Launched(lms, "u-ines", link.resource_link_id)
    patched = ines_http.api(
        "PATCH",
        f"/programmes/{ines_http.programme_id}",
        json={"who_mentors": "staff_nominated", "competency_ids": [answers.competency_id]},
    )
    assert patched.status_code == 200, patched.text
    urls: dict[str, str] = {}
    course = CoursePage(chromium, lms)
    try:
        frame = course.launch(title, "u-ines", expect=PROGRAMME_URL)
        follow(frame, frame.get_by_role("link", name="Mentors and mentees"))
        expect(frame.get_by_role("heading", name="Suggested mentors")).to_be_visible()
        expect(frame.get_by_text(f"1 endorsed answer on {answers.competency_name}")).to_be_visible()
        submit(frame, frame.get_by_role("button", name="Invite Amara Okafor to mentor"))
        expect(frame.get_by_text("Invited: waiting for their answer.")).to_be_visible()
        urls["roster"] = standalone_url(frame)
    finally:
        course.close()
    with new_session(app) as s:
        amara = s.scalars(select(User).where(User.sub == "u-amara")).one()
        assert s.scalar(select(Profile).where(Profile.user_id == amara.id)) is None
    course = CoursePage(chromium, lms)
    try:
        frame = course.launch(title, "u-amara", expect=PROGRAMME_URL)
        invitation = frame.get_by_role("region", name="You are invited to mentor")
        expect(invitation).to_contain_text(answers.competency_name)
        submit(frame, frame.get_by_role("button", name="Accept and become a mentor"))
        expect(frame.get_by_role("status")).to_contain_text("You are now a mentor")
        expect(frame.get_by_role("heading", name="You are invited to mentor")).to_have_count(0)
        urls["programme"] = standalone_url(frame)
        follow(frame, frame.get_by_role("link", name="E-mail preferences"))
        expect(frame.get_by_role("heading", level=1)).to_have_text("E-mail preferences")
        frame.get_by_label("Invitations to mentor").uncheck()
        submit(frame, frame.get_by_role("button", name="Save preferences"))
        expect(frame.get_by_role("status")).to_have_text("Preferences saved.")
        expect(frame.get_by_label("Invitations to mentor")).not_to_be_checked()
        expect(frame.get_by_label("Mentoring requests to you")).to_be_checked()
        urls["preferences"] = standalone_url(frame)
    finally:
        course.close()
    with new_session(app) as s:
        profile = s.scalars(select(Profile).where(Profile.user_id == amara.id)).one()
        assert profile.is_mentor and profile.nominated
        assert s.get(MailPreference, (amara.id, "mentoring.invitation")).delivery == "off"
    add_admin(lms)
    ada = Launched(lms, ADMIN, link.resource_link_id)
    urls["platform"] = ada.tool + "/mentoring/platform-programmes?lc=" + ada.token
    narrow = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        small = narrow.new_page()
        for name, url in urls.items():
            goto(small, url)
            expect(small.get_by_role("heading", level=1)).to_be_visible()
            assert small.evaluate(OVERFLOW) <= 0, name
        expect(
            small.get_by_role("heading", name="Create a platform-wide programme")
        ).to_be_visible()
    finally:
        chromium.close_context(narrow)
