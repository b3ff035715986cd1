"""Development plans through the real launch from the sandbox LMS: deep linking a Development
plan with its settings, the launch opening the learner's own plan (made on first launch, a
draft) and course staff the course's plans, adding, editing and removing goals on the page and
through the JSON API, the workflow with a comment; bad input is a readable 4xx that changes
nothing, and another learner's plan is not found."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from plugin.db import new_session
from plugin.performance.plans.models import Goal, Plan, PlanComment
from plugin.xapi.models import XapiOutbox
from sandbox.platform.demo import DEMO_COURSE_ID
from tests.conftest import CLIENT_ID, row_counts
from tests.data_files import MOODLE_CSV
from tests.social.social_web import COURSE, tool_of
from tests.support.browser import Browser, forms
from tests.support.lti import launch, token_of


class Launched:
    """Someone launched into a Development plan link: their browser, token and landing page."""

    def __init__(self, lms, user: str, rlid: str) -> None:
        self.browser = Browser()
        self.page = launch(self.browser, lms, user, resource_link=rlid, context=COURSE)
        assert self.page.status_code == 200, self.page.text[:500]
        self.token = token_of(self.page)
        self.tool = tool_of(self.page)
        match = re.search(r"/plans/(\d+)$", urlsplit(self.page.url).path)
        self.plan_id = int(match.group(1)) if match else None
        self.base = f"/plans/{self.plan_id}"

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
            method, self.tool + "/api" + path, headers=headers, timeout=10, **kw
        )


def plan_link(lms, **settings: str) -> str:
    custom = {"widget": "plan", **{f"setting_{k}": v for k, v in settings.items()}}
    link = lms.platform.add_resource_link(COURSE, CLIENT_ID, "My growth plan", custom=custom)
    return link.resource_link_id


def import_framework(staff: Launched) -> list[dict]:
    """The OECD example framework imported by course staff; its competencies."""
    upload = ("oecd.csv", MOODLE_CSV.read_bytes(), "text/csv")
    made = staff.api("POST", "/frameworks/import", files={"file": upload})
    assert made.status_code == 201, made.text
    items = staff.api("GET", f"/frameworks/{made.json()['framework_id']}/competencies")
    return items.json()["items"]


def test_deep_linking_offers_the_plan_with_its_settings(app, lms) -> None:
    b = Browser()
    picker = launch(b, lms, "u-ines", message_type="LtiDeepLinkingRequest")
    assert 'value="plan"' in picker.text and 'id="plan_share_evidence"' in picker.text
    tool = tool_of(picker)
    fields = {
        "lc": token_of(picker),
        "widget": "plan",
        "title_plan": "Growth plan",
        "plan_share_evidence": "shared",
    }
    refused = b.http.post(
        tool + "/lti/deep-link", data={**fields, "plan_share_evidence": "all"}, timeout=10
    )
    assert refused.status_code == 400 and "development plan settings" in refused.text
    assert all("JWT" not in f.fields for f in forms(refused.text))
    before = {r.resource_link_id for r in lms.platform.resource_links(DEMO_COURSE_ID, CLIENT_ID)}
    back = b.http.post(tool + "/lti/deep-link", data=fields, timeout=10)
    (form,) = forms(back.text)
    (item,) = lms.platform.accept_deep_link_response(form.fields["JWT"]).content_items
    assert item["custom"] == {"widget": "plan", "setting_share_evidence": "shared"}
    (rlid,) = {
        r.resource_link_id for r in lms.platform.resource_links(DEMO_COURSE_ID, CLIENT_ID)
    } - before
    lea = Launched(lms, "u-lea", rlid)
    assert lea.plan_id and "Growth plan" in lea.page.text and "Draft" in lea.page.text
    with new_session(app) as s:
        plan = s.get(Plan, lea.plan_id)
        assert (plan.state, plan.share_by_default, plan.title) == ("draft", True, "Growth plan")


def test_a_learner_builds_a_plan_on_the_page(app, lms) -> None:
    rlid = plan_link(lms)
    ines = Launched(lms, "u-ines", rlid)
    assert ines.plan_id is None and "Development plans of this course" in ines.page.text
    competencies = import_framework(ines)
    lea = Launched(lms, "u-lea", rlid)
    again = Launched(lms, "u-lea", rlid)
    assert lea.plan_id == again.plan_id  # made once
    assert "No goals yet" in lea.page.text and "Add a goal" in lea.page.text
    first, second = competencies[0], competencies[1]
    before = row_counts(app)
    future = (date.today() + timedelta(days=60)).isoformat()
    for bad, status in (
        ({"competency_id": "abc", "target": "2"}, 400),
        ({"competency_id": "", "target": "2"}, 400),
        ({"competency_id": str(first["id"]), "target": "99"}, 400),
        ({"competency_id": str(first["id"]), "target": "two"}, 400),
        ({"competency_id": "999999", "target": "1"}, 404),
        ({"competency_id": str(first["id"]), "target": "1", "due_on": "2001-01-01"}, 400),
        ({"competency_id": str(first["id"]), "target": "1", "due_on": "tomorrow"}, 400),
        ({"competency_id": str(first["id"]), "target": "1", "why": "w" * 2001}, 400),
    ):
        r = lea.post(lea.base + "/goals", **bad)
        assert r.status_code == status, (bad, r.status_code, r.text[:300])
        assert "<h1" in r.text and "Traceback" not in r.text
    assert row_counts(app) == before
    added = lea.post(
        lea.base + "/goals",
        competency_id=str(first["id"]),
        target="1",
        due_on=future,
        why="<b>My team</b> needs it",
        needs_mentor="1",
    )
    assert added.status_code == 303 and "saved=goal" in added.headers["Location"]
    page = lea.get(lea.base, saved="goal")
    assert "Goal added." in page.text and first["name"] in page.text
    assert "&lt;b&gt;My team&lt;/b&gt;" in page.text and "would like a mentor" in page.text
    twice = lea.post(lea.base + "/goals", competency_id=str(first["id"]), target="1")
    assert twice.status_code == 409 and "already" in twice.text
    with new_session(app) as s:
        goal = s.scalars(select(Goal)).one()
        assert (goal.target_position, goal.due_on.isoformat(), goal.needs_mentor) == (
            1,
            future,
            True,
        )
        goal_id = goal.id
        (statement,) = s.scalars(
            select(XapiOutbox.statement).where(XapiOutbox.event_kind == "plan.goal_set")
        )
        assert statement["object"]["id"].endswith(f"/goal/{goal_id}")
    # edit it
    form = lea.get(f"/plans/goals/{goal_id}")
    assert form.status_code == 200 and "Edit the goal" in form.text
    too_high = lea.post(f"/plans/goals/{goal_id}", target="3", why="Changed")
    assert too_high.status_code == 400 and "Competent" in too_high.text  # a two-level scale
    edited = lea.post(f"/plans/goals/{goal_id}", target="2", why="Changed", due_on="")
    assert edited.status_code == 303 and "saved=edited" in edited.headers["Location"]
    with new_session(app) as s:
        goal = s.get(Goal, goal_id)
        assert (goal.target_position, goal.why, goal.due_on, goal.needs_mentor) == (
            2,
            "Changed",
            None,
            False,
        )
    # the workflow, with a comment
    moved = lea.post(lea.base + "/state", to="active", comment="Off we go")
    assert moved.status_code == 303
    wrong = lea.post(lea.base + "/state", to="complete")
    assert wrong.status_code == 409 and "cannot become" in wrong.text
    asked = lea.post(lea.base + "/state", to="review_requested", comment="Ready for a look")
    assert asked.status_code == 303
    page = lea.get(lea.base, saved="moved")
    assert "Review requested" in page.text and "Ready for a look" in page.text
    # staff read it, without forms to change it
    listed = ines.get("/plans/course")
    assert "Lea" in listed.text and "Review requested" in listed.text
    read = ines.get(lea.base)
    assert read.status_code == 200 and "read-only for you" in read.text
    assert "Add a goal" not in read.text and f"/plans/goals/{goal_id}/remove" not in read.text
    refused = ines.post(lea.base + "/state", to="active")
    assert refused.status_code == 403
    # another learner: not found
    amara = Launched(lms, "u-amara", rlid)
    assert amara.plan_id != lea.plan_id
    assert amara.get(lea.base).status_code == 404
    assert amara.get(f"/plans/goals/{goal_id}").status_code == 404
    assert amara.post(f"/plans/goals/{goal_id}/remove").status_code == 404
    assert amara.get("/plans/course").status_code == 403
    # the owner removes the goal (back to active first: goals change in review only after it)
    lea.post(lea.base + "/state", to="active")
    removed = lea.post(f"/plans/goals/{goal_id}/remove")
    assert removed.status_code == 303
    with new_session(app) as s:
        assert s.get(Goal, goal_id) is None
        assert len(s.scalars(select(PlanComment)).all()) == 3
    assert second  # a second competency exists for the API test


def test_the_plan_api(app, lms) -> None:
    rlid = plan_link(lms)
    ines = Launched(lms, "u-ines", rlid)
    competencies = import_framework(ines)
    lea = Launched(lms, "u-lea", rlid)
    plan = lea.api("GET", f"/plans/{lea.plan_id}")
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert body["state"] == "draft" and body["goals"] == [] and body["may_edit"] is True
    assert body["moves"] == ["active"]
    cid = competencies[0]["id"]
    before = row_counts(app)
    for bad, status in (
        ({"target": 2}, 422),
        ({"competency_id": cid, "target": 50}, 400),
        ({"competency_id": cid, "target": 2, "due_on": "2001-01-01"}, 400),
        ({"competency_id": cid, "target": 2, "why": "y" * 2001}, 400),
        ({"competency_id": 999_999, "target": 2}, 404),
    ):
        r = lea.api("POST", f"/plans/{lea.plan_id}/goals", json=bad)
        assert r.status_code == status, (bad, r.text)
        assert r.json()["message"]
    assert row_counts(app) == before
    made = lea.api("POST", f"/plans/{lea.plan_id}/goals", json={"competency_id": cid, "target": 2})
    assert made.status_code == 201, made.text
    goal = made.json()
    assert goal["competency_id"] == cid and goal["target"] == 2 and goal["levels"]
    changed = lea.api("PATCH", f"/plans/goals/{goal['id']}", json={"why": "For my team"})
    assert changed.status_code == 200 and changed.json()["why"] == "For my team"
    moved = lea.api("POST", f"/plans/{lea.plan_id}/state", json={"to": "active", "comment": "Go"})
    assert moved.status_code == 200 and moved.json()["state"] == "active"
    assert moved.json()["history"][0]["body"] == "Go"
    # staff read; they do not change
    staff_view = ines.api("GET", f"/plans/{lea.plan_id}")
    assert staff_view.status_code == 200 and staff_view.json()["may_edit"] is False
    assert ines.api("PATCH", f"/plans/goals/{goal['id']}", json={"why": "x"}).status_code == 403
    listed = ines.api("GET", "/plans/course")
    assert [p["goals"] for p in listed.json()] == [1]
    assert lea.api("GET", "/plans/course").status_code == 403
    amara = Launched(lms, "u-amara", rlid)
    assert amara.api("GET", f"/plans/{lea.plan_id}").status_code == 404
    assert amara.api("DELETE", f"/plans/goals/{goal['id']}").status_code == 404
    gone = lea.api("DELETE", f"/plans/goals/{goal['id']}")
    assert gone.status_code == 204
    assert lea.api("GET", f"/plans/{lea.plan_id}").json()["goals"] == []


def test_a_launch_into_another_widget_is_not_a_plan(app, lms) -> None:
    custom = {"widget": "board"}
    link = lms.platform.add_resource_link(COURSE, CLIENT_ID, "Talk", custom=custom)
    b = Browser()
    page = launch(b, lms, "u-lea", resource_link=link.resource_link_id, context=COURSE)
    r = b.http.get(tool_of(page) + "/plans", params={"lc": token_of(page)}, timeout=10)
    assert r.status_code == 404 and "not a development plan" in r.text
