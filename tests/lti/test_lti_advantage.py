"""Deep Linking, NRPS, AGS and Dynamic Registration round trips with the real platform."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from plugin import widgets
from plugin.db import new_session
from plugin.jobs import Job
from plugin.lti import advantage, invites
from plugin.lti.models import (
    AccessTokenCache,
    Context,
    Deployment,
    LmsGroup,
    LmsGroupMember,
    Membership,
    Placement,
    Platform,
    User,
)
from sandbox.platform.demo import DEMO_COURSE_ID
from tests.conftest import CLIENT_ID, row_counts
from tests.support.browser import Browser, forms
from tests.support.lti import launch, token_of
from tests.support.roster import refresh_class_list


def _tool(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_deep_linking_round_trip_then_launch_opens_the_widget(app, lms) -> None:
    b = Browser()
    picker = launch(b, lms, "u-ines", message_type="LtiDeepLinkingRequest")
    assert picker.status_code == 200 and "Add Learning Commons" in picker.text
    token = token_of(picker)
    before = {r.resource_link_id for r in lms.platform.resource_links(DEMO_COURSE_ID, CLIENT_ID)}
    back = b.http.post(
        _tool(picker.url) + "/lti/deep-link",
        data={
            "lc": token,
            "widget": "board",
            "title_board": "Team talk",
            "board_cohort_mode": "1",
            "points_board": "10",
        },
        timeout=10,
    )
    assert back.status_code == 200
    (form,) = forms(back.text)
    assert form.action.startswith(lms.issuer) and "JWT" in form.fields
    # the platform verifies our signed response (signature via our JWKS, aud, nonce, data...)
    result = lms.platform.accept_deep_link_response(form.fields["JWT"])
    (item,) = result.content_items
    assert item["type"] == "ltiResourceLink" and item["title"] == "Team talk"
    assert item["custom"] == {"widget": "board", "setting_cohort_mode": "groups"}
    assert item["lineItem"]["scoreMaximum"] == 10
    new = {r.resource_link_id for r in lms.platform.resource_links(DEMO_COURSE_ID, CLIENT_ID)}
    (rlid,) = new - before
    page = launch(Browser(), lms, "u-lea", resource_link=rlid)
    assert "Team talk" in page.text and "Discussion board" in page.text
    with new_session(app) as s:
        placement = s.scalars(select(Placement).where(Placement.resource_link_id == rlid)).one()
        assert placement.widget == "board" and placement.settings == {"cohort_mode": "groups"}
        assert placement.lineitem_url  # the platform bound a line item to the new link
        from plugin.social.models import Board

        board = s.scalars(select(Board).where(Board.placement_id == placement.id)).one()
        assert board.cohort_mode == "groups"
        assert board.qa_mode is False and board.anonymous_allowed is False


def test_deep_linking_sets_every_board_setting_and_refuses_bad_numbers(app, lms) -> None:
    from plugin.social.models import DEFAULT_POSTS_PER_HOUR, Board

    b = Browser()
    picker = launch(b, lms, "u-ines", message_type="LtiDeepLinkingRequest")
    token, tool = token_of(picker), _tool(picker.url)
    # the board widget's settings fields offer the boards' own default
    assert (
        f'name="board_posts_per_hour" min="0" max="1000" inputmode="numeric" value="{DEFAULT_POSTS_PER_HOUR}"'
        in picker.text
    )
    for name in ("board_record_views", "board_mentors_moderate", "board_posts_per_hour"):
        assert f'name="{name}"' in picker.text
    assert 'id="board_grade_threads"' in picker.text and 'for="board_grade_threads"' in picker.text
    fields = {
        "lc": token,
        "widget": "board",
        "title_board": "Graded talk",
        "board_cohort_mode": "cohorts",
        "board_qa_mode": "1",
        "board_anonymous": "1",
        "board_record_views": "1",
        "board_mentors_moderate": "1",
        "board_posts_per_hour": "5",
        "board_grade_threads": "2",
        "board_grade_replies": "4",
        "points_board": "10",
    }
    before = {r.resource_link_id for r in lms.platform.resource_links(DEMO_COURSE_ID, CLIENT_ID)}
    for field, bad in (
        ("board_posts_per_hour", "-1"),
        ("board_grade_threads", "2.5"),
        ("board_grade_replies", "1001"),
        ("board_posts_per_hour", "ten"),
        ("board_cohort_mode", "sideways"),
    ):
        refused = b.http.post(tool + "/lti/deep-link", data={**fields, field: bad}, timeout=10)
        assert refused.status_code == 400
        assert "whole number from 0 to 1000" in refused.text or "how cohorts work" in refused.text
        assert not forms(refused.text) or all("JWT" not in f.fields for f in forms(refused.text))
    back = b.http.post(tool + "/lti/deep-link", data=fields, timeout=10)
    assert back.status_code == 200
    (form,) = forms(back.text)
    (item,) = lms.platform.accept_deep_link_response(form.fields["JWT"]).content_items
    assert item["custom"] == {
        "widget": "board",
        "setting_cohort_mode": "cohorts",
        "setting_qa_mode": "true",
        "setting_anonymous_allowed": "true",
        "setting_record_views": "true",
        "setting_mentors_moderate": "true",
        "setting_grade_threads": "2",
        "setting_grade_replies": "4",
        "setting_posts_per_hour": "5",
    }
    new = {r.resource_link_id for r in lms.platform.resource_links(DEMO_COURSE_ID, CLIENT_ID)}
    (rlid,) = new - before  # the refused attempts added nothing
    page = launch(Browser(), lms, "u-lea", resource_link=rlid)
    assert page.status_code == 200 and "Graded talk" in page.text
    with new_session(app) as s:
        placement = s.scalars(select(Placement).where(Placement.resource_link_id == rlid)).one()
        board = s.scalars(select(Board).where(Board.placement_id == placement.id)).one()
        assert (board.qa_mode, board.anonymous_allowed, board.record_views) == (True, True, True)
        assert board.cohort_mode == "cohorts"
        assert board.mentors_moderate is True
        assert (board.grade_threads, board.grade_replies, board.posts_per_hour) == (2, 4, 5)
    # the default rate is not written out: the board's own default applies
    again = Browser()
    picker = launch(again, lms, "u-ines", message_type="LtiDeepLinkingRequest")
    plain = again.http.post(
        tool + "/lti/deep-link",
        data={
            "lc": token_of(picker),
            "widget": "board",
            "board_posts_per_hour": str(DEFAULT_POSTS_PER_HOUR),
        },
        timeout=10,
    )
    (form,) = forms(plain.text)
    (item,) = lms.platform.accept_deep_link_response(form.fields["JWT"]).content_items
    assert item["custom"] == {"widget": "board"}


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("true", True),
        ("1", True),
        ("false", False),
        ("0", False),
        ("", False),
        (None, False),
        (True, True),
    ],
)
def test_board_setting_flags_from_custom_parameters(value, on) -> None:
    from plugin.social.boards.settings import setting_flag

    assert setting_flag(value) is on


def test_deep_linking_respects_accept_multiple_and_staff_only(app, lms, monkeypatch) -> None:
    # a widget declared but not built is neither offered nor accepted (declared for this test)
    roadmap = widgets.Widget(name="roadmap", label="Roadmap")
    monkeypatch.setitem(app.extensions["commons_widgets"], "roadmap", roadmap)
    b = Browser()
    picker = launch(b, lms, "u-ines", message_type="LtiDeepLinkingRequest")
    token = token_of(picker)
    tool = _tool(picker.url)
    assert 'value="board"' in picker.text and 'value="roadmap"' not in picker.text
    unbuilt = b.http.post(
        tool + "/lti/deep-link", data={"lc": token, "widget": ["board", "roadmap"]}, timeout=10
    )
    assert unbuilt.status_code == 400 and "Choose what to add" in unbuilt.text
    # a second built widget is offered with it (declared for this test only)
    notes = widgets.Widget(name="notes", label="Notes", launch_endpoint="lti.app")
    monkeypatch.setitem(app.extensions["commons_widgets"], "notes", notes)
    two = b.http.post(
        tool + "/lti/deep-link", data={"lc": token, "widget": ["board", "notes"]}, timeout=10
    )
    with new_session(app) as s:
        from plugin.lti.models import LaunchSession

        claims = s.scalars(select(LaunchSession)).one().claims
    multiple = claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"].get(
        "accept_multiple", False
    )
    if multiple:
        (form,) = forms(two.text)
        items = lms.platform.accept_deep_link_response(form.fields["JWT"]).content_items
        assert [i["custom"]["widget"] for i in items] == ["board", "notes"]
    else:
        assert two.status_code == 400 and "only one" in two.text
    bad = b.http.post(tool + "/lti/deep-link", data={"lc": token, "widget": "quiz"}, timeout=10)
    assert bad.status_code == 400 and "Choose what to add" in bad.text
    learner = Browser()
    page = launch(learner, lms, "u-lea", message_type="LtiDeepLinkingRequest")
    assert page.status_code == 403 and "staff" in page.text


def test_nrps_roster_sync_follows_every_page_and_groups(app, lms) -> None:
    b = Browser()
    page = launch(b, lms, "u-ines", resource_link=lms.placement().resource_link_id)
    tool = _tool(page.url)
    expected = {p.user_id for p in lms.platform.people(DEMO_COURSE_ID)}
    assert len(expected) > 3  # the demo platform pages NRPS by 3: several pages to follow
    with new_session(app) as s:  # the launch queued the sync; the request did not run it
        assert set(s.scalars(select(User.sub))) == {"u-ines"}
    queued = refresh_class_list(app, b.http, tool, token_of(page))
    assert queued == {"status": "already_queued"}  # the launch's job was still waiting
    with new_session(app) as s:
        subs = set(s.scalars(select(User.sub)))
        assert subs == expected
        assert s.query(Membership).count() == len(expected)
        groups = {g.name: g for g in s.scalars(select(LmsGroup))}
        assert {"Cohort A", "Cohort B"} <= set(groups)
        assert s.query(LmsGroupMember).count() > 0
        assert s.query(AccessTokenCache).count() >= 1  # token cached for the next call
        job = s.scalars(select(Job).where(Job.kind == "lti.roster_sync")).one()
        assert job.result == f"{len(expected)} members, 0 no longer listed, 2 groups"
    # the second sync reuses the cached token and changes nothing
    issued = lms.platform.live_access_tokens()
    assert refresh_class_list(app, b.http, tool, token_of(page)) == {"status": "queued"}
    assert lms.platform.live_access_tokens() == issued
    with new_session(app) as s:
        second = s.scalars(select(Job).where(Job.kind == "lti.roster_sync").order_by(Job.id))
        assert [j.result for j in second][-1] == job.result


def test_nrps_sync_refused_for_learners(app, lms) -> None:
    b = Browser()
    page = launch(b, lms, "u-lea", resource_link=lms.placement().resource_link_id)
    r = b.http.post(_tool(page.url) + "/lti/roster/sync", data={"lc": token_of(page)}, timeout=10)
    assert r.status_code == 403


def test_ags_score_post(app, lms) -> None:
    launch(Browser(), lms, "u-lea", resource_link=lms.placement().resource_link_id)
    with new_session(app) as s:
        placement = s.scalars(select(Placement)).one()
        user = s.scalars(select(User).where(User.sub == "u-lea")).one()
        result = advantage.post_score(
            s, placement, user, score_given=7, score_maximum=10, comment="3 threads, 4 replies"
        )
        s.commit()
        assert result["lineitem"]
        with pytest.raises(ValueError):
            advantage.post_score(s, placement, user, score_given=11, score_maximum=10)
    (score,) = lms.platform.received_scores(DEMO_COURSE_ID, user_id="u-lea")
    assert score.score_given == 7 and score.score_maximum == 10


def test_dynamic_registration_round_trip(app, lms_factory, tool_server) -> None:
    lms = lms_factory(register_in_tool=False)
    b = Browser()
    with new_session(app) as s:
        _, secret = invites.create_invite(s)
        s.commit()
    invite_url = invites.invite_url(app.config["COMMONS_SETTINGS"], secret)
    start = lms.platform.start_registration(invite_url)
    confirm = b.get(start)
    assert confirm.status_code == 200 and lms.issuer in confirm.text
    (form,) = forms(confirm.text)
    assert form.action == "/lti/register/" + secret
    done = b.submit(form, confirm.url)
    assert done.status_code == 200 and "org.imsglobal.lti.close" in done.text
    with new_session(app) as s:
        platform = s.scalars(select(Platform).where(Platform.issuer == lms.issuer)).one()
        (dep,) = s.scalars(select(Deployment).where(Deployment.platform_id == platform.id))
        client_id = platform.client_id
    # the invite and the one-time registration token cannot be used twice
    again = b.submit(form, confirm.url)
    assert again.status_code == 403 and "already used" in again.text
    # and the newly registered tool launches
    link = lms.placement(client_id)
    page = launch(Browser(), lms, "u-lea", client_id=client_id, resource_link=link.resource_link_id)
    assert page.status_code == 200 and "Lea Learner" in page.text
    assert dep.deployment_id


def test_dynamic_registration_bad_input(app, lms_factory, tool_server) -> None:
    lms = lms_factory(register_in_tool=False)
    with new_session(app) as s:
        _, secret = invites.create_invite(s)
        s.commit()
    url = invites.invite_url(app.config["COMMONS_SETTINGS"], secret)
    counts = row_counts(app)
    b = Browser()
    r = b.get(url)
    assert r.status_code == 400 and "configuration" in r.text
    r = b.get(url + "?openid_configuration=http://127.0.0.1:9/x")
    assert r.status_code == 400 and "could not be read" in r.text
    for bad in ("http://[::1", "javascript:alert(1)", "http://"):
        r = b.get(url, params={"openid_configuration": bad})
        assert r.status_code == 400 and "absolute http(s) URL" in r.text
    # a registration token the platform does not know: refused by the platform, and its
    # refusal (status only) is shown, never its text
    start = lms.platform.start_registration(url).replace(
        "registration_token=", "registration_token=x"
    )
    confirm = b.get(start)
    (form,) = forms(confirm.text)
    refused = b.submit(form, confirm.url)
    assert refused.status_code == 400 and "answered 401 Unauthorized" in refused.text
    assert "invalid_token" not in refused.text and "registration token" not in refused.text
    assert row_counts(app) == counts


def test_canvas_json_config(tool_server) -> None:
    cfg = Browser().get(tool_server.url + "/lti/config.json").json()
    assert cfg["oidc_initiation_url"] == tool_server.url + "/lti/login"
    assert cfg["public_jwk_url"] == tool_server.url + "/lti/jwks"
    placements = cfg["extensions"][0]["settings"]["placements"]
    assert {p["message_type"] for p in placements} == {
        "LtiDeepLinkingRequest",
        "LtiResourceLinkRequest",
    }


def test_context_records_service_endpoints(app, lms) -> None:
    launch(Browser(), lms, "u-lea", resource_link=lms.placement().resource_link_id)
    with new_session(app) as s:
        ctx = s.scalars(select(Context)).one()
        assert ctx.nrps_url.startswith(lms.issuer) and ctx.groups_url.startswith(lms.issuer)
        assert ctx.ags_lineitems_url.startswith(lms.issuer)
