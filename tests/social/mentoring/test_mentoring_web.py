"""Mentoring through the real launch from the sandbox LMS: deep linking a Mentoring activity with
its settings, the launch opening its programme, opting in, the profile form, the staff settings
and roster pages, and the JSON API; bad input is a readable 4xx that changes nothing."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import Placement, User
from plugin.social.mentoring.models import Profile, Programme, ProgrammePlacement
from sandbox.platform.demo import DEMO_COURSE_ID
from tests.conftest import CLIENT_ID, row_counts
from tests.social.social_web import COURSE, tool_of
from tests.support.browser import Browser, forms
from tests.support.lti import launch, token_of


class Launched:
    """Someone launched into a Mentoring link: their browser, token and programme page."""

    def __init__(self, lms, user: str, rlid: str) -> None:
        self.browser = Browser()
        self.page = launch(self.browser, lms, user, resource_link=rlid, context=COURSE)
        assert self.page.status_code == 200, self.page.text[:500]
        match = re.search(r"/mentoring/programmes/(\d+)$", urlsplit(self.page.url).path)
        assert match, self.page.url
        self.programme_id = int(match.group(1))
        self.token = token_of(self.page)
        self.tool = tool_of(self.page)
        self.base = f"/mentoring/programmes/{self.programme_id}"

    def get(self, path: str, **params):
        return self.browser.http.get(
            self.tool + path, params={"lc": self.token, **params}, timeout=10
        )

    def post(self, path: str, **data):
        return self.browser.http.post(
            self.tool + path, data={"lc": self.token, **data}, allow_redirects=False, timeout=10
        )

    def api(self, method: str, path: str, **kw):
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.browser.http.request(
            method, self.tool + "/api/mentoring" + path, headers=headers, timeout=10, **kw
        )


def mentoring_link(lms, **settings: str) -> str:
    custom = {"widget": "mentoring", **{f"setting_{k}": v for k, v in settings.items()}}
    link = lms.platform.add_resource_link(COURSE, CLIENT_ID, "Peer mentoring", custom=custom)
    return link.resource_link_id


def test_deep_linking_a_mentoring_activity_with_its_settings(app, lms) -> None:
    b = Browser()
    picker = launch(b, lms, "u-ines", message_type="LtiDeepLinkingRequest")
    assert 'value="mentoring"' in picker.text and 'id="mentoring_kind"' in picker.text
    tool = tool_of(picker)
    fields = {
        "lc": token_of(picker),
        "widget": "mentoring",
        "title_mentoring": "Coaching circle",
        "mentoring_kind": "group",
        "mentoring_matching": "mentor_pool",
        "mentoring_enrolment": "closed",
        "mentoring_duration_days": "180",
        "mentoring_cadence_days": "14",
        "mentoring_default_capacity": "2",  # the default: left out of the link
    }
    before = {r.resource_link_id for r in lms.platform.resource_links(DEMO_COURSE_ID, CLIENT_ID)}
    for field, bad in (
        ("mentoring_kind", "trio"),
        ("mentoring_matching", "lottery"),
        ("mentoring_cadence_days", "0"),
        ("mentoring_duration_days", "a year"),
        ("mentoring_enrolment", "maybe"),
    ):
        refused = b.http.post(tool + "/lti/deep-link", data={**fields, field: bad}, timeout=10)
        assert refused.status_code == 400 and "mentoring settings" in refused.text, field
        assert all("JWT" not in f.fields for f in forms(refused.text))
    back = b.http.post(tool + "/lti/deep-link", data=fields, timeout=10)
    (form,) = forms(back.text)
    (item,) = lms.platform.accept_deep_link_response(form.fields["JWT"]).content_items
    assert item["custom"] == {
        "widget": "mentoring",
        "setting_kind": "group",
        "setting_matching": "mentor_pool",
        "setting_enrolment": "closed",
        "setting_duration_days": "180",
        "setting_cadence_days": "14",
    }
    (rlid,) = {
        r.resource_link_id for r in lms.platform.resource_links(DEMO_COURSE_ID, CLIENT_ID)
    } - before
    lea = Launched(lms, "u-lea", rlid)
    assert "Coaching circle" in lea.page.text and "Enrolment in this programme is closed" in (
        lea.page.text
    )
    with new_session(app) as s:
        programme = s.get(Programme, lea.programme_id)
        assert (programme.kind, programme.matching, programme.enrolment_open) == (
            "group",
            "mentor_pool",
            False,
        )
        assert (programme.duration_days, programme.cadence_days) == (180, 14)


def test_a_learner_opts_in_and_fills_in_the_profile(app, lms) -> None:
    rlid = mentoring_link(lms)
    ines = Launched(lms, "u-ines", rlid)
    lea = Launched(lms, "u-lea", rlid)
    assert lea.programme_id == ines.programme_id  # one programme per link
    assert "Opt in as" in lea.page.text and "Settings" not in lea.page.text
    opted = lea.post(lea.base + "/profile", as_mentee="1")
    assert opted.status_code == 303
    form = lea.get(lea.base + "/profile")
    assert form.status_code == 200 and "Your mentoring profile" in form.text
    assert 'value="Europe/Paris"' in form.text  # the time zones offered
    saved = lea.post(
        lea.base + "/profile",
        as_mentee="1",
        accepting_shown="1",
        time_zone="America/New_York",
        from_2="18",
        to_2="20",
        languages="en, es-419",
        bio="<b>Hi</b> I lead a small team.",
        goals="Run better one-to-ones.",
    )
    assert saved.status_code == 303 and "saved=1" in saved.headers["Location"]
    page = lea.get(lea.base + "/profile", saved="1")
    assert "Profile saved." in page.text and "&lt;b&gt;Hi&lt;/b&gt;" in page.text
    with new_session(app) as s:
        profile = s.scalars(select(Profile)).one()
        assert (profile.is_mentee, profile.is_mentor) == (True, False)
        assert profile.availability == [[2, 18, 20]] and profile.languages == ["en", "es-419"]
    before = row_counts(app)
    for bad in ({"time_zone": "Mars/Olympus"}, {"languages": "klingon"}, {"from_1": "x"}):
        refused = lea.post(lea.base + "/profile", as_mentee="1", **bad)
        assert refused.status_code == 400 and "<h1" in refused.text, bad
    assert row_counts(app) == before
    left = lea.post(lea.base + "/profile/leave")
    assert left.status_code == 303
    assert "You have left the programme." in lea.get(lea.base, saved="left").text


def test_staff_change_settings_and_read_the_roster_learners_cannot(app, lms) -> None:
    rlid = mentoring_link(lms, kind="peer")
    ines = Launched(lms, "u-ines", rlid)
    lea = Launched(lms, "u-lea", rlid)
    assert "Settings" in ines.page.text
    page = ines.get(ines.base + "/settings")
    assert page.status_code == 200 and "Programme settings" in page.text
    saved = ines.post(
        ines.base + "/settings",
        title="Peer circle",
        kind="peer",
        matching="staff_bulk",
        enrolment="open",
        who_mentors="staff_nominated",
        duration_days="90",
        cadence_days="7",
        default_capacity="3",
        escalation_hours="48",
    )
    assert saved.status_code == 303, saved.text[:300]
    with new_session(app) as s:
        programme = s.get(Programme, ines.programme_id)
        assert (programme.title, programme.matching, programme.who_mentors) == (
            "Peer circle",
            "staff_bulk",
            "staff_nominated",
        )
        assert (programme.duration_days, programme.default_capacity) == (90, 3)
    assert lea.get(lea.base + "/settings").status_code == 403
    assert lea.post(lea.base + "/settings", title="Mine").status_code == 403
    assert lea.get(lea.base + "/roster").status_code == 403
    # Lea may not mentor until nominated; staff nominate her from the roster page
    assert "nominated by course staff" in lea.get(lea.base).text
    with new_session(app) as s:
        lea_id = _user_id(s, "u-lea")
    assert ines.post(ines.base + "/mentors", user_id=str(lea_id)).status_code == 303
    roster = ines.get(ines.base + "/roster")
    assert "Lea" in roster.text and "nominated by staff" in roster.text
    assert 'id="opt-mentor"' not in lea.get(lea.base).text  # she is in: no opt-in form
    assert ines.post(ines.base + "/mentors", user_id="abc").status_code == 400


def _user_id(session, sub: str) -> int:
    return session.scalars(select(User.id).where(User.sub == sub)).one()


def test_the_json_api_through_the_launch(app, lms) -> None:
    rlid = mentoring_link(lms)
    ines = Launched(lms, "u-ines", rlid)
    lea = Launched(lms, "u-lea", rlid)
    base = f"/programmes/{lea.programme_id}"
    shown = lea.api("GET", base)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["may_manage"] is False and body["may_mentor"] is True
    assert body["platform_wide"] is False and body["targets"] == []
    assert lea.api("GET", base + "/profile").status_code == 404
    bad = lea.api("PUT", base + "/profile", json={"as_mentee": True, "time_zone": "Nowhere"})
    assert bad.status_code == 400 and "time zone" in bad.json()["message"]
    made = lea.api(
        "PUT",
        base + "/profile",
        json={
            "as_mentor": True,
            "capacity": 2,
            "languages": ["fr-CA"],
            "availability": [[0, 8, 9]],
        },
    )
    assert made.status_code == 200, made.text
    assert made.json()["languages"] == ["fr-CA"] and made.json()["is_mentor"] is True
    assert lea.api("PATCH", base, json={"cadence_days": 7}).status_code == 403
    changed = ines.api("PATCH", base, json={"cadence_days": 7, "enrolment_open": False})
    assert changed.status_code == 200 and changed.json()["cadence_days"] == 7
    roster = ines.api("GET", base + "/roster", params={"role": "mentor"})
    assert [e["name"] for e in roster.json()["entries"]] == ["Lea Learner"]
    assert lea.api("DELETE", base + "/profile").status_code == 204
    closed = lea.api("PUT", base + "/profile", json={"as_mentee": True})
    assert closed.status_code == 409 and "closed" in closed.json()["message"]
    with new_session(app) as s:
        placement = s.scalars(select(Placement).where(Placement.resource_link_id == rlid)).one()
        assert s.get(ProgrammePlacement, placement.id).programme_id == lea.programme_id
