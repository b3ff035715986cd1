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
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
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


@pytest.fixture(scope="session")
def app(database_url: str, tool_server: LiveServer, tmp_path_factory) -> Flask:
    upgrade(database_url)  # the schema comes from the migrations, never from create_all
    settings = Settings(
        env="testing",
        database_url=database_url,
        secret_key="test-secret-" + uuid.uuid4().hex,
        tool_base_url=tool_server.url,
        sandbox_enabled=False,
    )
    application = create_app(settings=settings)
    tool_server.start(application)
    return application


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
