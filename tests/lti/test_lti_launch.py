"""Launches from a real LTI 1.3 platform over the real OIDC redirect flow."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from plugin import widgets
from plugin.db import new_session
from plugin.lti.models import Context, LaunchSession, Membership, OidcState, Placement, User
from tests.conftest import CLIENT_ID
from tests.support.browser import Browser
from tests.support.lti import launch, token_of


def test_learner_launch_records_identity_and_shows_placement(app, lms, browser) -> None:
    rl = lms.placement()
    page = launch(browser, lms, "u-lea", resource_link=rl.resource_link_id)
    assert page.status_code == 200, page.text[:500]
    assert "Lea Learner" in page.text and "Learner" in page.text
    assert "Leadership Foundations" in page.text
    assert (
        "lti.frameResize"
        in browser.http.get(
            urlsplit(page.url)._replace(path="/static/commons.js", query="").geturl(), timeout=10
        ).text
    )
    with new_session(app) as s:
        user = s.scalars(select(User).where(User.sub == "u-lea")).one()
        assert user.issuer == lms.issuer and user.email and user.name == "Lea Learner"
        ctx = s.scalars(select(Context)).one()
        assert ctx.context_id == "leadership-foundations" and ctx.nrps_url
        membership = s.scalars(select(Membership)).one()
        assert any(r.endswith("#Learner") for r in membership.roles)
        assert s.scalars(select(Placement)).one().resource_link_id == rl.resource_link_id
        state = s.scalars(select(OidcState)).one()
        assert state.used_at is not None


def _declare_unbuilt(app, monkeypatch) -> None:
    """A widget declared but not built (no launch endpoint), for this test only."""
    unbuilt = widgets.Widget(name="roadmap", label="Roadmap")
    monkeypatch.setitem(app.extensions["commons_widgets"], "roadmap", unbuilt)


def test_instructor_sets_up_placement_and_learner_sees_it(app, lms, browser, monkeypatch) -> None:
    _declare_unbuilt(app, monkeypatch)
    rl = lms.placement()
    page = launch(browser, lms, "u-ines", resource_link=rl.resource_link_id)
    assert "Choose what this link opens" in page.text and "Instructor" in page.text
    # only widgets that are built are offered (the board, mentoring, the development plan); one
    # declared but not built yet is refused
    assert 'value="board"' in page.text and 'value="mentoring"' in page.text
    assert 'value="plan"' in page.text and 'value="roadmap"' not in page.text
    # in their order, the discussion board first (the one preselected), whatever the order the
    # packages declared them in
    offered = re.findall(r'name="widget" value="(\w+)"', page.text)
    assert offered == ["board", "mentoring", "plan"], offered
    token = token_of(page)
    tool = f"{urlsplit(page.url).scheme}://{urlsplit(page.url).netloc}"
    unbuilt = browser.http.post(
        tool + "/app/setup", data={"lc": token, "widget": "roadmap"}, timeout=10
    )
    assert unbuilt.status_code == 400 and "Choose a widget" in unbuilt.text
    with new_session(app) as s:
        assert s.scalars(select(Placement)).one().widget is None
    done = browser.http.post(tool + "/app/setup", data={"lc": token, "widget": "board"}, timeout=10)
    assert done.status_code == 200 and "/boards/" in done.url
    learner = Browser()
    page = launch(learner, lms, "u-lea", resource_link=rl.resource_link_id)
    assert "/boards/" in page.url
    # learners cannot change it
    refused = learner.http.post(
        tool + "/app/setup", data={"lc": token_of(page), "widget": "board"}, timeout=10
    )
    assert refused.status_code == 403 and "staff" in refused.text


def test_a_link_to_a_widget_not_built_yet_says_so(app, lms, browser, monkeypatch) -> None:
    _declare_unbuilt(app, monkeypatch)
    rl = lms.placement()

    def to_roadmap(claims):
        claims["https://purl.imsglobal.org/spec/lti/claim/custom"] = {"widget": "roadmap"}

    lms.platform.tamper_next_launch(to_roadmap)
    page = launch(browser, lms, "u-lea", resource_link=rl.resource_link_id)
    assert page.status_code == 200 and "not available in Learning Commons yet" in page.text
    with new_session(app) as s:
        assert s.scalars(select(Placement)).one().widget == "roadmap"


def test_profile_fields_only_change_when_sent(app, lms, browser) -> None:
    rl = lms.placement()
    launch(browser, lms, "u-lea", resource_link=rl.resource_link_id)

    def drop_email(claims):
        claims.pop("email", None)
        claims["name"] = "Lea L. Learner"

    lms.platform.tamper_next_launch(drop_email)
    launch(Browser(), lms, "u-lea", resource_link=rl.resource_link_id)
    with new_session(app) as s:
        user = s.scalars(select(User).where(User.sub == "u-lea")).one()
        assert user.name == "Lea L. Learner"
        assert user.email  # kept: the second launch did not send it


def test_token_is_required_and_checked(app, lms, browser, tool_server) -> None:
    r = browser.http.get(tool_server.url + "/app", timeout=10)
    assert r.status_code == 401 and "open" in r.text.lower()
    r = browser.http.get(tool_server.url + "/app?lc=forged.token.value", timeout=10)
    assert r.status_code == 401 and "not valid" in r.text
    r = browser.http.get(
        tool_server.url + "/app", headers={"Accept": "application/json"}, timeout=10
    )
    assert r.status_code == 401 and r.json()["message"]


def test_two_platforms_and_two_deployments_side_by_side(app, lms_factory) -> None:
    a = lms_factory(name="LMS A", deployments=["a-1", "a-2"])
    b = lms_factory(name="LMS B", client_id="other-client", deployments=["b-1"])
    pa = launch(
        Browser(), a, "u-lea", resource_link=a.placement().resource_link_id, deployment_id="a-2"
    )
    pb = launch(
        Browser(),
        b,
        "u-lea",
        client_id="other-client",
        resource_link=b.placement("other-client").resource_link_id,
    )
    assert pa.status_code == 200 and pb.status_code == 200
    with new_session(app) as s:
        users = s.scalars(select(User).where(User.sub == "u-lea")).all()
        assert {u.issuer for u in users} == {a.issuer, b.issuer}  # same sub, two people
        assert s.query(Context).count() == 2
        launches = s.scalars(select(LaunchSession)).all()
        assert {x.deployment_id for x in launches} == {"a-2", "b-1"}


def test_session_token_is_scoped_to_its_launch(app, lms_factory, tool_server) -> None:
    """A learner's token names their launch only; another platform's data is never reachable."""
    a = lms_factory(name="LMS A")
    b = lms_factory(name="LMS B", client_id="other-client")
    pa = launch(Browser(), a, "u-lea", resource_link=a.placement().resource_link_id)
    launch(
        Browser(),
        b,
        "u-ines",
        client_id="other-client",
        resource_link=b.placement("other-client").resource_link_id,
    )
    page = Browser().http.get(tool_server.url + "/app?lc=" + token_of(pa), timeout=10)
    assert "Lea Learner" in page.text and "Ines" not in page.text
    assert a.issuer != b.issuer and CLIENT_ID != "other-client"


def test_platform_storage_launch_without_cookies(app, lms) -> None:
    """With lti_storage_target, the browser binding lives in the platform's frame (LTI Platform
    Storage), so a browser that drops the tool's cookie can still launch."""
    import re

    from tests.support.browser import forms

    first = Browser()
    page = first.get(lms.launch_url("u-lea", resource_link=lms.placement().resource_link_id))
    (login_form,) = forms(page.text)
    storage_page = first.submit(
        login_form, page.url, extra={"lti_storage_target": "post_message_forwarding"}
    )
    assert storage_page.status_code == 200 and "lti.put_data" in storage_page.text
    secret = re.search(r'value: "([^"]+)"', storage_page.text).group(1)
    auth_url = re.search(r'var next = "([^"]+)"', storage_page.text).group(1)
    auth_page = first.get(auth_url.encode().decode("unicode_escape"))
    (id_form,) = forms(auth_page.text)
    cookieless = Browser()  # the launch arrives without the state cookie
    check = cookieless.submit(id_form, id_form.action)
    assert check.status_code == 200 and "lti.get_data" in check.text
    (relaunch,) = forms(check.text)
    wrong = Browser().submit(relaunch, check.url, extra={"lti_storage_secret": "guess"})
    assert wrong.status_code == 403
    done = cookieless.submit(relaunch, check.url, extra={"lti_storage_secret": secret})
    assert done.status_code == 200 and "Lea Learner" in done.text


def test_staff_reach_course_tools_from_the_placement(app, lms) -> None:
    from tests.support.browser import Browser as _B

    rl = lms.placement()
    staff = launch(_B(), lms, "u-ines", resource_link=rl.resource_link_id)
    assert "Competency frameworks" in staff.text and "Learning records" in staff.text
    tool = f"{urlsplit(staff.url).scheme}://{urlsplit(staff.url).netloc}"
    token = token_of(staff)
    frameworks = _B().get(f"{tool}/competencies/frameworks?lc={token}")
    assert frameworks.status_code == 200
    assert _B().get(f"{tool}/xapi/admin/?lc={token}").status_code == 200
    records = _B().get(f"{tool}/xapi/admin/statements?lc={token}")
    assert records.status_code == 200 and "launched" in records.text.lower()
    learner = launch(_B(), lms, "u-lea", resource_link=rl.resource_link_id)
    assert "Competency frameworks" not in learner.text
    assert _B().get(f"{tool}/xapi/admin/?lc={token_of(learner)}").status_code == 403
    assert _B().get(f"{tool}/competencies/frameworks?lc={token_of(learner)}").status_code == 403
