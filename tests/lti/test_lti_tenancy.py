"""Registrations are tenants: two client ids of one issuer (two Canvas developer keys) launching
into the same course as the same person make two tool users and two tool courses, whose xAPI
statements share one actor; a token of one registration never verifies for another."""

from __future__ import annotations

from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import Context, LaunchSession, Membership, Placement, Platform, User
from plugin.lti.registration import add_platform, remove_platform
from plugin.social.models import Board
from plugin.xapi.forwarder import forward_once
from plugin.xapi.lrs import LRSClient, LRSTarget
from plugin.xapi.models import XapiOutbox
from plugin.xapi.validate import validate_statement
from plugin.xapi.vocabulary import STATEMENT_KINDS
from tests.conftest import CLIENT_ID, row_counts
from tests.social.social_web import COURSE, Person, board_id_of, tool_of
from tests.support.browser import Browser
from tests.support.lti import launch, reach_auth_form, token_of
from tests.xapi.conftest import ralph  # noqa: F401 - the real LRS fixture
from tests.xapi.xapi_world import lrs_config

SECOND = "lc-client-2"


def add_second_registration(app, lms, tool_server, *, own_key: bool = False) -> int:
    """The issuer's second developer key: registered in the LMS (with a key set of its own when
    ``own_key``) and, by hand, in the tool."""
    lms.register_tool(tool_server.url, SECOND, ["dep-2"])
    if own_key:
        lms.platform.use_client_key(SECOND)
    with new_session(app) as session:
        platform = add_platform(
            session,
            issuer=lms.issuer,
            client_id=SECOND,
            auth_login_url=lms.issuer + "/auth",
            auth_token_url=lms.issuer + "/token",
            key_set_url=lms.platform.jwks_url_for(SECOND),
            deployment_ids=["dep-2"],
            name="Test LMS, second key",
        )
        session.commit()
        return platform.id


class Member(Person):
    """Someone launched into a board placement of one registration (client id)."""

    def __init__(self, lms, user: str, rlid: str, client_id: str) -> None:
        self.browser = Browser()
        self.page = launch(self.browser, lms, user, client_id=client_id, resource_link=rlid)
        assert self.page.status_code == 200, self.page.text[:500]
        self.token = token_of(self.page)
        self.tool = tool_of(self.page)
        self.board_id = board_id_of(self.page)


def board_link(lms, client_id: str) -> str:
    custom = {"widget": "board"}
    return lms.platform.add_resource_link(
        COURSE, client_id, "Team talk", custom=custom
    ).resource_link_id


def test_two_registrations_of_one_issuer_are_two_tenants(app, lms, tool_server, ralph) -> None:  # noqa: F811
    add_second_registration(app, lms, tool_server)
    first_link, second_link = board_link(lms, CLIENT_ID), board_link(lms, SECOND)
    # The course is first seen through the first registration, then through the second.
    ines_1 = Member(lms, "u-ines", first_link, CLIENT_ID)
    lea_1 = Member(lms, "u-lea", first_link, CLIENT_ID)
    ines_2 = Member(lms, "u-ines", second_link, SECOND)  # a 500 before registrations were tenants
    lea_2 = Member(lms, "u-lea", second_link, SECOND)
    assert ines_1.board_id != ines_2.board_id
    assert (lea_1.board_id, lea_2.board_id) == (ines_1.board_id, ines_2.board_id)

    with new_session(app) as s:
        platforms = {p.client_id: p.id for p in s.scalars(select(Platform))}
        leas = s.scalars(select(User).where(User.sub == "u-lea").order_by(User.id)).all()
        assert [(u.platform_id, u.issuer) for u in leas] == [
            (platforms[CLIENT_ID], lms.issuer),
            (platforms[SECOND], lms.issuer),
        ]
        contexts = s.scalars(select(Context).order_by(Context.id)).all()
        assert [(c.platform_id, c.context_id) for c in contexts] == [
            (platforms[CLIENT_ID], COURSE),
            (platforms[SECOND], COURSE),
        ]
        for ctx in contexts:
            members = s.scalars(select(Membership).where(Membership.context_id == ctx.id)).all()
            assert {m.user.platform_id for m in members} == {ctx.platform_id}
            assert len(members) == 2
            placement = s.scalars(select(Placement).where(Placement.context_id == ctx.id)).one()
            board = s.scalars(select(Board).where(Board.placement_id == placement.id)).one()
            assert board.context_id == ctx.id
        for session_row in s.scalars(select(LaunchSession)):
            assert session_row.user.platform_id == session_row.platform_id
            assert session_row.context.platform_id == session_row.platform_id

    # Nothing of one tenant is visible from the other.
    thread_2 = lea_2.new_thread("Second key thread", "Only the second tenant sees this.")
    own = lea_2.get(f"/threads/{thread_2}")
    assert own.status_code == 200 and "Only the second tenant" in own.text
    board_1 = lea_1.get(f"/boards/{lea_1.board_id}")
    assert board_1.status_code == 200 and "Second key thread" not in board_1.text
    before = row_counts(app)
    for person, other_board in ((lea_1, lea_2.board_id), (ines_2, ines_1.board_id)):
        assert person.get(f"/boards/{other_board}").status_code in (403, 404)
        assert person.post(f"/boards/{other_board}/threads", title="x", body="y").status_code in (
            403,
            404,
        )
    for person in (lea_1, ines_1):
        refused = person.get(f"/threads/{thread_2}")
        assert refused.status_code in (403, 404) and "Only the second tenant" not in refused.text
    assert row_counts(app) == before

    # One person for the LRS: both registrations' statements name the same actor.
    actor = {"objectType": "Agent", "account": {"homePage": lms.issuer, "name": "u-lea"}}
    kinds = {k.slug: k for k in STATEMENT_KINDS}
    with new_session(app) as s:
        rows = [
            r
            for r in s.scalars(select(XapiOutbox).order_by(XapiOutbox.created_at))
            if r.statement["actor"] == actor
        ]
        assert {r.platform_id for r in rows} == set(platforms.values())
        course_ids = {
            a["id"]
            for r in rows
            for a in r.statement["context"]["contextActivities"]["grouping"]
            if a["definition"]["type"].endswith("course")
        }
        assert len(course_ids) == 2  # two tool courses, one per registration
        base = rows[0].statement["object"]["id"].split("/xapi/")[0]
        for row in rows:
            kind = next(k for k in kinds.values() if k.verb.resolve(base) == row.verb_id)
            validate_statement(row.statement, base=base, kind=kind)
        wanted = {r.statement_id for r in rows}
    stats = forward_once(lambda: new_session(app), lrs_config(ralph.endpoint, ralph))
    assert stats.delivered >= len(wanted)
    client = LRSClient(LRSTarget(ralph.endpoint, ralph.username, ralph.password))
    stored = {st["id"] for st in client.iter_statements(agent=actor)}
    assert wanted <= stored


def test_second_registration_launches_and_refuses_the_first_ones_key(app, lms, tool_server):
    """Item 19: the issuer's second client, with a key set of its own, launches; an id_token
    signed with the first client's key but addressed to the second is refused and writes
    nothing (the tool verifies against the key set of the registration aud/azp name)."""
    second_id = add_second_registration(app, lms, tool_server, own_key=True)
    assert lms.platform.jwks_url_for(SECOND) != lms.platform.jwks_url_for(CLIENT_ID)
    second_kid = lms.platform.client_key(SECOND)[1]
    link = lms.placement(SECOND).resource_link_id
    ok = launch(Browser(), lms, "u-lea", client_id=SECOND, resource_link=link)
    assert ok.status_code == 200 and "Lea Learner" in ok.text
    with new_session(app) as s:
        (session_row,) = s.scalars(select(LaunchSession)).all()
        assert session_row.platform.client_id == SECOND and session_row.claims["aud"] == SECOND

    first_pem, first_kid = lms.platform.client_key(CLIENT_ID)
    assert first_kid != second_kid
    browser = Browser()
    lms.platform.tamper_next_launch(key_pem=first_pem, kid=first_kid)
    form = reach_auth_form(browser, lms, client_id=SECOND, resource_link=link)
    before = row_counts(app)
    refused = browser.submit(form, form.action)
    assert refused.status_code == 403, refused.text[:400]
    assert "<h1>" in refused.text and "Traceback" not in refused.text
    assert row_counts(app) == before
    # and the first client still launches with its own key
    first = launch(Browser(), lms, "u-lea", resource_link=lms.placement().resource_link_id)
    assert first.status_code == 200

    # Removing the second registration removes its tenant: its users and courses, not the first's.
    with new_session(app) as s:
        remove_platform(s, second_id)
        s.commit()
        assert {u.platform_id for u in s.scalars(select(User))} == {
            s.scalars(select(Platform.id).where(Platform.client_id == CLIENT_ID)).one()
        }
        assert len(s.scalars(select(Context)).all()) == 1


def _refused_with_deployment(app, lms, deployment_id: str, **params: str) -> None:
    def foreign_deployment(claims):
        claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = deployment_id

    browser = Browser()
    lms.platform.tamper_next_launch(foreign_deployment)
    form = reach_auth_form(browser, lms, **params)
    before = row_counts(app)
    refused = browser.submit(form, form.action)
    assert refused.status_code == 403, refused.text[:400]
    assert "<h1>" in refused.text and "Traceback" not in refused.text
    assert row_counts(app) == before


def test_deployment_of_another_registration_is_refused(app, lms_factory, tool_server) -> None:
    """Item 18: a launch on platform A naming a deployment registered only for platform B (another
    issuer, or another client id of the same issuer) is a 403 that writes nothing."""
    a = lms_factory(name="LMS A", deployments=["a-1"])
    lms_factory(name="LMS B", client_id="other-client", deployments=["b-1"])
    add_second_registration(app, a, tool_server)  # A's issuer, second client: deployment dep-2
    _refused_with_deployment(app, a, "b-1")
    _refused_with_deployment(app, a, "dep-2")
    _refused_with_deployment(
        app, a, "a-1", client_id=SECOND, resource_link=a.placement(SECOND).resource_link_id
    )
    ok = launch(Browser(), a, "u-lea", resource_link=a.placement().resource_link_id)
    assert ok.status_code == 200  # its own deployment launches
