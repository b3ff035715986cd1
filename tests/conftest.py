"""Test fixtures: a migrated database (SQLite, or PostgreSQL with TEST_DATABASE=postgres), the tool
served on a real loopback port, and a real LTI 1.3 platform (the sandbox platform) on another port."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

import plugin.models_registry  # noqa: F401
from plugin import create_app
from plugin.config import Settings
from plugin.db import Base, new_session
from plugin.lti.registration import add_platform
from plugin.lti.toolconf import clear_jwks_cache
from plugin.migrate import upgrade
from tests.support.browser import Browser
from tests.support.servers import LiveServer

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ON_POSTGRES = os.environ.get("TEST_DATABASE") == "postgres"


# --- skips: only the database-specific ones are expected; any other skip fails the run ------------
_skips: dict[str, list[str]] = {"expected": [], "unexpected": []}
_items: dict[str, pytest.Item] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        _items[item.nodeid] = item
        if item.get_closest_marker("postgres") and not ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (TEST_DATABASE=postgres)"))
        if item.get_closest_marker("sqlite") and ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="the SQLite variant of a PostgreSQL test"))


def _expected_skip(item: pytest.Item) -> bool:
    return bool(
        (item.get_closest_marker("postgres") and not ON_POSTGRES)
        or (item.get_closest_marker("sqlite") and ON_POSTGRES)
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.skipped or getattr(report, "wasxfail", None) is not None:
        return
    item = _items.get(report.nodeid)
    kind = "expected" if item is not None and _expected_skip(item) else "unexpected"
    _skips[kind].append(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    expected, unexpected = _skips["expected"], _skips["unexpected"]
    terminalreporter.write_line(
        f"skips: {len(expected) + len(unexpected)} "
        f"({len(expected)} expected on this database, {len(unexpected)} unexpected)"
    )
    for nodeid in unexpected:
        terminalreporter.write_line(f"UNEXPECTED SKIP: {nodeid}", red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skips["unexpected"] and exitstatus == 0:
        session.exitstatus = 1  # a skip nobody planned hides a test that no longer runs


def _postgres_database() -> Iterator[str]:
    admin_url = os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    name = f"commons_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("TEST_DATABASE") == "postgres":
        yield from _postgres_database()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'commons.db'}"


@pytest.fixture(scope="session")
def tool_server() -> Iterator[LiveServer]:
    server = LiveServer()
    yield server
    server.stop()


def _serve_tool(database_url: str, server: LiveServer) -> Flask:
    upgrade(database_url)  # the schema comes from the migrations, never from create_all
    settings = Settings(
        env="testing",
        database_url=database_url,
        secret_key="test-secret-" + uuid.uuid4().hex,
        tool_base_url=server.url,
        sandbox_enabled=False,
    )
    application = create_app(settings=settings)
    server.start(application)
    return application


@pytest.fixture(scope="session")
def app(database_url: str, tool_server: LiveServer, tmp_path_factory) -> Flask:
    return _serve_tool(database_url, tool_server)


# --- the tool on another site than the LMS ---------------------------------------------------------
# The sandbox LMS is served as http://127.0.0.1:<port>; this second instance of the tool (same
# database) as http://localhost:<port>: another site, so browsers apply their third-party cookie
# rules inside the LMS's iframe. On localhost the tool offers its Secure launch cookie. A module
# uses it by overriding its ``tool_server`` and ``app`` fixtures with these two.
@pytest.fixture(scope="session")
def cross_site_tool_server() -> Iterator[LiveServer]:
    server = LiveServer(hostname="localhost")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cross_site_app(database_url: str, cross_site_tool_server: LiveServer) -> Flask:
    return _serve_tool(database_url, cross_site_tool_server)


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    clear_jwks_cache()
    with new_session(application) as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        session.commit()


@pytest.fixture
def db(app: Flask):
    with new_session(app) as session:
        yield session


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table: a refused request must leave these unchanged."""
    with new_session(app) as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def browser() -> Browser:
    return Browser()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def register_platform_with_tool(app: Flask, lms, client_id: str, deployments: list[str]) -> int:
    with new_session(app) as session:
        platform = add_platform(
            session,
            issuer=lms.issuer,
            client_id=client_id,
            auth_login_url=lms.issuer + "/auth",
            auth_token_url=lms.issuer + "/token",
            key_set_url=lms.issuer + "/jwks",
            deployment_ids=deployments,
            name="Test LMS",
        )
        session.commit()
        return platform.id


# --- the platform side ----------------------------------------------------------------------------

CLIENT_ID = "lc-client-1"
DEPLOYMENT_ID = "dep-1"


class Lms:
    """A real LTI 1.3 platform (the sandbox platform) on its own loopback port."""

    def __init__(self, server: LiveServer, prefix: str, name: str) -> None:
        from flask import Flask as _Flask

        from sandbox.platform import SandboxPlatform
        from sandbox.web import make_platform_blueprint

        self.platform = SandboxPlatform.demo(server.url + prefix, name=name)
        self.issuer = self.platform.issuer
        self.app = _Flask(f"lms{prefix.replace('/', '_')}")
        self.app.register_blueprint(make_platform_blueprint(self.platform, "lms", ""))
        self.server = server

    def register_tool(self, tool_url: str, client_id: str, deployments: list[str]) -> None:
        self.platform.register_tool(
            client_id,
            deployments,
            login_url=tool_url + "/lti/login",
            launch_url=tool_url + "/lti/launch",
            jwks_url=tool_url + "/lti/jwks",
            deep_link_url=tool_url + "/lti/launch",
            target_link_uri=tool_url + "/lti/launch",
        )

    def launch_url(self, user: str, client_id: str = CLIENT_ID, **params: str) -> str:
        from urllib.parse import urlencode

        return (
            self.issuer + "/launch?" + urlencode({"client_id": client_id, "user": user, **params})
        )

    def placement(self, client_id: str = CLIENT_ID, context: str = "leadership-foundations"):
        return self.platform.resource_links(context, client_id)[0]


@pytest.fixture(scope="session")
def lms_server() -> Iterator[LiveServer]:
    server = LiveServer()
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    server.dispatch = {}  # type: ignore[attr-defined]

    def _not_found(environ, start_response):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no platform here"]

    server.start(lambda env, sr: DispatcherMiddleware(_not_found, server.dispatch)(env, sr))
    yield server
    server.stop()


@pytest.fixture
def lms_factory(app: Flask, lms_server: LiveServer, tool_server: LiveServer):
    """Make platforms (tenants) registered on both sides, each under its own path."""
    made: list[Lms] = []

    def make(
        name: str = "Test LMS",
        client_id: str = CLIENT_ID,
        deployments: list[str] | None = None,
        register_in_tool: bool = True,
    ) -> Lms:
        prefix = f"/lms-{uuid.uuid4().hex[:8]}"
        lms = Lms(lms_server, prefix, name)
        lms_server.dispatch[prefix] = lms.app  # type: ignore[attr-defined]
        deps = deployments or [DEPLOYMENT_ID]
        lms.register_tool(tool_server.url, client_id, deps)
        if register_in_tool:
            register_platform_with_tool(app, lms, client_id, deps)
        made.append(lms)
        return lms

    return make


@pytest.fixture
def lms(lms_factory) -> Lms:
    return lms_factory()


# --- headless Chromium (browser tests) ---------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright_driver():
    import shutil

    from tests.support.chromium import CHROMIUM

    if not shutil.which(CHROMIUM):
        pytest.fail("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium(request: pytest.FixtureRequest, playwright_driver, tool_server: LiveServer):
    """Chromium under the module's cookie policy (``COOKIE_POLICY``, default ``phaseout``; see
    tests/support/chromium.py). Every page a test opens with it is checked with axe-core."""
    from tests.support.chromium import Chromium

    mode = getattr(request, "param", None) or getattr(request.module, "COOKIE_POLICY", "phaseout")
    return Chromium(playwright_driver, mode, tool_server.url)


@pytest.fixture(autouse=True)
def _accessible_pages(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that used Chromium fails on any serious or critical axe violation of a page it
    opened (after its own fixtures closed their pages)."""
    yield
    if "chromium" in request.fixturenames:
        request.getfixturevalue("chromium").assert_accessible()
