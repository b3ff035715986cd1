"""Dynamic registration is by invitation, never changes an existing registration, and an open
registration waits for the operator's approval — all through the real sandbox platform's Dynamic
Registration flow over HTTP, and the real ``commons platform …`` commands."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from flask import Flask, jsonify, request
from sqlalchemy import func, inspect, select, text, update

from plugin.db import new_session, utcnow
from plugin.lti import invites, registration
from plugin.lti.errors import RegistrationError
from plugin.lti.models import OidcState, Platform, RegistrationInvite
from sandbox.platform.demo import DEMO_COURSE_ID
from sandbox.platform.vocabulary import TOOL_CONFIGURATION
from tests.conftest import CLIENT_ID, DEPLOYMENT_ID, Lms, row_counts
from tests.support.browser import Browser, forms
from tests.support.lti import cli, launch, make_invite


def open_registration(b: Browser, lms: Lms, tool_registration_url: str):
    """The LMS administrator pastes the tool's registration URL: the platform opens it with its
    configuration URL and a one-time registration token. Returns the tool's page."""
    return b.get(lms.platform.start_registration(tool_registration_url))


def register(b: Browser, lms: Lms, tool_registration_url: str):
    confirm = open_registration(b, lms, tool_registration_url)
    assert confirm.status_code == 200, confirm.text[:600]
    (form,) = forms(confirm.text)
    return b.submit(form, confirm.url)


def words(html: str) -> str:
    return " ".join(html.split())


def platform_rows(app: Flask) -> list[dict]:
    """Every registration as stored, with its deployments: what a takeover would change."""
    with new_session(app) as s:
        rows = []
        for p in s.scalars(select(Platform).order_by(Platform.id)):
            row = {c.name: getattr(p, c.name) for c in Platform.__table__.columns}
            row["deployments"] = sorted(d.deployment_id for d in p.deployments)
            rows.append(row)
        return rows


def invite_status(app: Flask, invite_id: int | None = None) -> str:
    with new_session(app) as s:
        query = select(RegistrationInvite).order_by(RegistrationInvite.id.desc())
        if invite_id is not None:
            query = query.where(RegistrationInvite.id == invite_id)
        return invites.status_of(s.scalars(query).first())


@pytest.fixture
def open_registration_on(app: Flask):
    settings = app.config["COMMONS_SETTINGS"]
    settings.open_registration = True
    yield
    settings.open_registration = False


# --- invites -----------------------------------------------------------------------------------


def test_invite_command_prints_a_registration_url_and_stores_only_a_hash(app) -> None:
    url = make_invite(app, "--expires", "2d", "--note", "Moodle of the Faculty of Arts")
    base = app.config["COMMONS_SETTINGS"].tool_base_url
    assert url.startswith(base + "/lti/register/")
    secret = url.rsplit("/", 1)[1]
    assert len(secret) >= 40
    with new_session(app) as s:
        invite = s.scalars(select(RegistrationInvite)).one()
        assert invite.secret_hash == invites.hash_secret(secret) != secret
        assert secret not in str({c.name: getattr(invite, c.name) for c in invite.__table__.c})
        assert invite.note == "Moodle of the Faculty of Arts"
        left = invite.expires_at - utcnow()
        assert timedelta(days=2) - timedelta(minutes=1) < left <= timedelta(days=2)
    listed = cli(app, "platform", "invites")
    assert listed.exit_code == 0 and "open" in listed.output and "Faculty of Arts" in listed.output
    bad = cli(app, "platform", "invite", "--expires", "forever")
    assert bad.exit_code != 0 and "30m, 12h, 7d or 2w" in bad.output


def test_registration_by_invite_is_active_and_uses_the_invite_up(app, lms_factory) -> None:
    lms = lms_factory(register_in_tool=False)
    url = make_invite(app, "--note", "test LMS")
    done = register(Browser(), lms, url)
    assert done.status_code == 200 and "org.imsglobal.lti.close" in done.text
    assert "approval" not in done.text
    (row,) = platform_rows(app)
    assert (row["issuer"], row["status"]) == (lms.issuer, "active")
    assert row["key_set_url"] == lms.platform.jwks_url and len(row["deployments"]) == 1
    listed = cli(app, "platform", "invites", "--json")
    assert '"status": "used"' in listed.output and f'"platform_id": {row["id"]}' in listed.output
    # the new registration launches at once
    link = lms.placement(row["client_id"])
    page = launch(
        Browser(), lms, "u-lea", client_id=row["client_id"], resource_link=link.resource_link_id
    )
    assert page.status_code == 200 and "Lea Learner" in page.text


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_registration_without_invite_is_refused(app, lms_factory, tool_server, method) -> None:
    lms = lms_factory(register_in_tool=False)
    counts = row_counts(app)
    start = lms.platform.start_registration(tool_server.url + "/lti/register")
    b = Browser()
    if method == "GET":
        page = b.get(start)
    else:
        query = dict(p.split("=", 1) for p in start.split("?", 1)[1].split("&"))
        page = b.http.post(tool_server.url + "/lti/register", data=query, timeout=30)
    assert page.status_code == 403
    assert "Registration is by invitation" in page.text
    assert "commons platform invite" in page.text
    assert row_counts(app) == counts


def test_unknown_expired_used_and_revoked_invites_are_refused(app, lms_factory, tool_server):
    lms = lms_factory(register_in_tool=False)
    b = Browser()

    unknown = open_registration(b, lms, tool_server.url + "/lti/register/not-an-invite")
    assert unknown.status_code == 403 and "This registration link is not valid" in unknown.text

    expired_url = make_invite(app, "--expires", "1h")
    with new_session(app) as s:  # an hour passes
        s.execute(update(RegistrationInvite).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    counts = row_counts(app)
    expired = open_registration(b, lms, expired_url)
    assert expired.status_code == 403 and "This registration link has expired" in expired.text
    assert row_counts(app) == counts

    revoked_url = make_invite(app)
    with new_session(app) as s:
        revoked_id = s.scalars(select(func.max(RegistrationInvite.id))).one()
    assert cli(app, "platform", "revoke-invite", str(revoked_id)).exit_code == 0
    counts = row_counts(app)
    revoked = open_registration(b, lms, revoked_url)
    assert revoked.status_code == 403 and "This registration link was withdrawn" in revoked.text
    assert row_counts(app) == counts

    used_url = make_invite(app)
    assert register(b, lms, used_url).status_code == 200
    counts = row_counts(app)
    used = open_registration(b, lms, used_url)
    assert used.status_code == 403 and "This registration link was already used" in used.text
    assert row_counts(app) == counts
    again = cli(app, "platform", "revoke-invite", str(revoked_id + 1))
    assert again.exit_code != 0 and "already used" in again.output
    statuses = cli(app, "platform", "invites").output
    assert "expired" in statuses and "revoked" in statuses and "used" in statuses


def test_an_invite_registers_once_even_when_two_registrations_race(app, lms_factory) -> None:
    lms = lms_factory(register_in_tool=False)
    url = make_invite(app)
    # Both confirm pages open while the invite is unused; both are submitted at the same time.
    pages = [open_registration(Browser(), lms, url) for _ in range(2)]
    assert all(p.status_code == 200 for p in pages)
    submissions = [(forms(p.text)[0], p.url) for p in pages]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def submit(form, page_url) -> None:
        b = Browser()
        barrier.wait()
        results.append(b.submit(form, page_url).status_code)

    threads = [threading.Thread(target=submit, args=s) for s in submissions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [200, 403]
    assert len(platform_rows(app)) == 1


def test_the_invite_is_consumed_atomically_with_the_registration(app, lms_factory) -> None:
    """Two registrations that both passed the invite check: only the first stores anything."""
    lms = lms_factory(register_in_tool=False)
    settings = app.config["COMMONS_SETTINGS"]
    url = make_invite(app)
    secret = url.rsplit("/", 1)[1]
    limits = registration.fetch_limits(settings)
    config_url = lms.platform.openid_configuration_url
    config = registration.fetch_openid_configuration(config_url, limits)
    answers = []
    for _ in range(2):
        token = lms.platform.start_registration("http://tool.example/r").split("token=")[1]
        answers.append(registration.request_client_registration(settings, config, token, limits))
    with new_session(app) as first, new_session(app) as second:
        grants = [invites.grant_for(s, settings, secret) for s in (first, second)]
        first.rollback()
        second.rollback()
        registration.store_dynamic_registration(
            first, grants[0], openid_configuration_url=config_url, config=config, answer=answers[0]
        )
        first.commit()
        counts = row_counts(app)
        with pytest.raises(RegistrationError, match="has been used"):
            registration.store_dynamic_registration(
                second,
                grants[1],
                openid_configuration_url=config_url,
                config=config,
                answer=answers[1],
            )
        second.rollback()
    assert row_counts(app) == counts
    assert [r["client_id"] for r in platform_rows(app)] == [answers[0]["client_id"]]


# --- registrations never change an existing one -------------------------------------------------


def hostile_platform(attacker: Lms, issuer: str, client_id: str) -> Flask:
    """A real sandbox platform that answers as another platform: its configuration claims
    ``issuer`` (on the same host, so the issuer-host check passes) and its registration answer
    names ``client_id`` — with its own key set URL, endpoints and deployment."""
    app = Flask(f"hostile-{uuid.uuid4().hex[:6]}")
    platform = attacker.platform

    @app.get("/.well-known/openid-configuration")
    def configuration():
        return jsonify({**platform.openid_configuration(), "issuer": issuer})

    @app.post("/register")
    def register_client():
        answer = platform.register_client(request.get_json(), request.headers.get("Authorization"))
        answer["client_id"] = client_id
        answer[TOOL_CONFIGURATION]["deployment_id"] = "attacker-deployment"
        return jsonify(answer), 201

    return app


@pytest.fixture
def takeover(app, lms_factory, lms_server):
    """A victim platform registered in the tool, and a hostile platform on the same host."""
    victim = lms_factory()
    prefix = f"/lms-{uuid.uuid4().hex[:8]}"
    attacker = Lms(lms_server, prefix, "Hostile LMS")
    lms_server.dispatch[prefix] = hostile_platform(attacker, victim.issuer, CLIENT_ID)
    assert attacker.platform.jwks_url != victim.platform.jwks_url
    return victim, attacker


def test_takeover_without_invite_is_refused(app, takeover, tool_server) -> None:
    _victim, attacker = takeover
    before, counts = platform_rows(app), row_counts(app)
    page = register_or_refused(attacker, tool_server.url + "/lti/register")
    assert page.status_code == 403
    assert platform_rows(app) == before and row_counts(app) == counts


def test_takeover_with_an_invite_is_refused_and_changes_nothing(app, takeover) -> None:
    victim, attacker = takeover
    url = make_invite(app)
    before, counts = platform_rows(app), row_counts(app)
    assert before[0]["deployments"] == [DEPLOYMENT_ID]
    page = register(Browser(), attacker, url)
    assert page.status_code == 409, page.text[:600]
    assert "This registration already exists" in page.text and "nothing was changed" in page.text
    assert platform_rows(app) == before and row_counts(app) == counts
    assert invite_status(app) == "open"  # the refused registration did not use the invite up
    # the victim still launches with its own keys
    page = launch(Browser(), victim, "u-lea", resource_link=victim.placement().resource_link_id)
    assert page.status_code == 200 and "Lea Learner" in page.text


def test_takeover_by_open_registration_is_refused_too(app, takeover, open_registration_on):
    _victim, attacker = takeover
    before, counts = platform_rows(app), row_counts(app)
    base = app.config["COMMONS_SETTINGS"].tool_base_url
    page = register_or_refused(attacker, base + "/lti/register")
    assert page.status_code == 409
    assert platform_rows(app) == before and row_counts(app) == counts


def register_or_refused(lms: Lms, url: str):
    b = Browser()
    confirm = open_registration(b, lms, url)
    if confirm.status_code != 200:
        return confirm
    (form,) = forms(confirm.text)
    return b.submit(form, confirm.url)


def test_a_new_client_id_under_a_registered_issuer_is_a_separate_tenant(app, lms) -> None:
    before = platform_rows(app)
    done = register(Browser(), lms, make_invite(app))
    assert done.status_code == 200
    after = platform_rows(app)
    assert after[0] == before[0]  # the first registration is untouched
    assert len(after) == 2
    second = after[1]
    assert second["issuer"] == lms.issuer and second["client_id"] != CLIENT_ID
    assert second["id"] != before[0]["id"] and len(second["deployments"]) == 1


# --- open registration: pending until approved ------------------------------------------------


def until_id_token(b: Browser, lms: Lms, user: str, client_id: str, resource_link: str):
    """Run a launch up to the platform's authentication response (the form that would post the
    id_token to the tool), without posting it."""
    page = b.get(lms.launch_url(user, client_id=client_id, resource_link=resource_link))
    for _ in range(4):
        form = forms(page.text)[0]
        if "id_token" in form.fields:
            return form, page.url
        page = b.submit(form, page.url)
    raise AssertionError("no id_token form")


def test_open_registration_is_pending_until_the_operator_approves_it(
    app, lms_factory, tool_server, open_registration_on
) -> None:
    lms = lms_factory(register_in_tool=False)
    b = Browser()
    confirm = open_registration(b, lms, tool_server.url + "/lti/register")
    assert confirm.status_code == 200 and "wait for the approval" in words(confirm.text)
    (form,) = forms(confirm.text)
    done = b.submit(form, confirm.url)
    assert done.status_code == 200 and "waits for the approval" in words(done.text)
    (row,) = platform_rows(app)
    assert row["status"] == "pending"
    listed = cli(app, "platform", "list")
    assert f"{row['id']:>4}  pending" in listed.output

    # a pending registration cannot launch: the login is refused with a page, nothing written
    link = lms.placement(row["client_id"]).resource_link_id
    counts = row_counts(app)
    refused = launch(Browser(), lms, "u-lea", client_id=row["client_id"], resource_link=link)
    assert refused.status_code == 403
    assert "waits for the approval" in refused.text
    assert f"commons platform approve {row['id']}" in refused.text
    assert row_counts(app) == counts

    approved = cli(app, "platform", "approve", str(row["id"]))
    assert approved.exit_code == 0 and "is active" in approved.output
    assert f"{row['id']:>4}  active" in cli(app, "platform", "list").output
    page = launch(Browser(), lms, "u-lea", client_id=row["client_id"], resource_link=link)
    assert page.status_code == 200 and "Lea Learner" in page.text
    assert cli(app, "platform", "approve", "999999").exit_code != 0


def test_a_pending_registration_cannot_complete_a_launch(app, lms) -> None:
    """The id_token POST checks the registration too: a login that started while the registration
    was active is refused at the launch if the registration is pending by then."""
    with new_session(app) as s:
        platform_id = s.scalars(select(Platform.id)).one()
    b = Browser()
    form, page_url = until_id_token(b, lms, "u-lea", CLIENT_ID, lms.placement().resource_link_id)
    with new_session(app) as s:
        s.execute(update(Platform).values(status="pending"))
        s.commit()
    counts = row_counts(app)
    refused = b.submit(form, page_url)
    assert refused.status_code == 403 and "waits for the approval" in refused.text
    assert row_counts(app) == counts
    with new_session(app) as s:
        assert s.scalars(select(OidcState.used_at)).one() is None
        assert s.get(Platform, platform_id).status == "pending"


def test_manual_registrations_are_active(app) -> None:
    added = cli(
        app,
        "platform",
        "add",
        "--issuer",
        "https://lms.example",
        "--client-id",
        "abc",
        "--auth-login-url",
        "https://lms.example/auth",
        "--token-url",
        "https://lms.example/token",
        "--jwks-url",
        "https://lms.example/jwks",
        "--deployment-id",
        "d1",
    )
    assert added.exit_code == 0, added.output
    assert [r["status"] for r in platform_rows(app)] == ["active"]


# --- migration 0010 ---------------------------------------------------------------------------


def test_migration_0010_keeps_every_platform_going_down_and_up(fresh_url) -> None:
    from plugin.db import make_engine
    from plugin.migrate import downgrade, upgrade

    upgrade(fresh_url, "0009")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO lti_platform (name, issuer, client_id, auth_login_url, "
                    "auth_token_url, key_set_url, pseudonymise_actors, is_sandbox, created_at) "
                    "VALUES ('LMS', 'https://lms.example', 'c1', 'https://lms.example/a', "
                    "'https://lms.example/t', 'https://lms.example/k', false, false, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            pid = conn.execute(text("SELECT id FROM lti_platform")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO lti_deployment (platform_id, deployment_id, created_at) "
                    "VALUES (:p, 'd1', CURRENT_TIMESTAMP)"
                ),
                {"p": pid},
            )
        upgrade(fresh_url, "0010")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM lti_platform")).scalar_one() == "active"
            assert conn.execute(text("SELECT count(*) FROM lti_registration_invite")).scalar() == 0
        downgrade(fresh_url, "0009")
        names = set(inspect(engine).get_table_names())
        assert "lti_registration_invite" not in names
        assert "status" not in {c["name"] for c in inspect(engine).get_columns("lti_platform")}
        with engine.connect() as conn:  # nothing of the tenant was lost on the way down
            assert conn.execute(text("SELECT count(*) FROM lti_deployment")).scalar() == 1
        upgrade(fresh_url, "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM lti_platform")).scalar_one() == "active"
    finally:
        engine.dispose()


def test_a_pending_registration_does_not_disturb_the_issuers_active_one(
    app, lms, tool_server, open_registration_on
) -> None:
    """A login without client_id (it is optional) still finds the one active registration of its
    issuer when an open registration under the same issuer waits for approval."""
    done = register(Browser(), lms, tool_server.url + "/lti/register")
    assert done.status_code == 200
    assert [r["status"] for r in platform_rows(app)] == ["active", "pending"]
    params = lms.platform.login_initiation(
        CLIENT_ID, "u-lea", DEMO_COURSE_ID, resource_link={"id": lms.placement().resource_link_id}
    )
    del params["client_id"]
    b = Browser()
    page = b.autosubmit(b.http.post(tool_server.url + "/lti/login", data=params, timeout=30))
    assert page.status_code == 200 and "Lea Learner" in page.text
