"""The pages issue 9 added, opened in headless Chromium (each checked with axe-core by the shared
``chromium`` fixture): the registration pages an LMS administrator meets (confirm, done, and the
refusals without or with a spent invite), a competency with its CASE associations, and a staff page
after *Refresh class list*."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import Platform
from plugin.performance import frameworks
from plugin.performance.models import Competency
from tests.data_files import case_package
from tests.support.browser import Browser
from tests.support.lti import launch, make_invite, token_of

pytestmark = pytest.mark.browser


def test_registration_pages_an_administrator_meets(
    app, lms_factory, tool_server, chromium, artifacts: Path
) -> None:
    lms = lms_factory(register_in_tool=False)
    invite = make_invite(app, "--note", "browser test")
    page = chromium.new_page()
    page.goto(lms.platform.start_registration(invite))
    page.get_by_role("heading", name="Register Learning Commons with your platform").wait_for()
    page.screenshot(path=str(artifacts / "register-confirm.png"), full_page=True)
    page.get_by_role("button", name="Register Learning Commons").click()
    page.get_by_role("heading", name="Learning Commons is registered").wait_for()
    page.screenshot(path=str(artifacts / "register-done.png"), full_page=True)
    with new_session(app) as s:
        assert s.scalars(select(Platform).where(Platform.issuer == lms.issuer)).one()

    for url, text in (
        (tool_server.url + "/lti/register", "Registration is by invitation"),
        (invite, "has been used"),
        (tool_server.url + "/lti/register/not-an-invite", "This registration link is not valid"),
    ):
        answer = page.goto(lms.platform.start_registration(url))
        assert answer is not None and answer.status == 403
        assert text in page.content()
    page.screenshot(path=str(artifacts / "register-refused.png"), full_page=True)


def test_competency_page_with_its_associations(app, lms, chromium, artifacts: Path) -> None:
    staff = launch(Browser(), lms, "u-ines", resource_link=lms.placement().resource_link_id)
    token = token_of(staff)
    tool = staff.url.split("/app", 1)[0]
    with new_session(app) as s:
        platform = s.scalars(select(Platform).where(Platform.issuer == lms.issuer)).one()
        frameworks.import_case_package(
            s, platform.id, case_package("opensalt-SmartLevelFramework.json")
        )
        s.commit()
        competency = s.scalars(select(Competency).order_by(Competency.id)).first()
        assert competency is not None
    page = chromium.new_page()
    answer = page.goto(f"{tool}/competencies/{competency.id}?lc={token}")
    assert answer is not None and answer.status == 200
    page.get_by_role("heading", name=competency.name).first.wait_for()
    page.screenshot(path=str(artifacts / "competency-page.png"), full_page=True)
    framework = page.goto(f"{tool}/competencies/frameworks/{competency.framework_id}?lc={token}")
    assert framework is not None and framework.status == 200
    assert json.dumps(competency.name)[1:-1] in page.content()
