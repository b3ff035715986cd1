"""Helpers for the competency tests: test data, tenants, launch tokens, events, and calling the tool
over HTTP (the fixtures built on them are in conftest.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from flask import Flask
from sqlalchemy import select

from plugin.db import new_session, utcnow
from plugin.events import ActivityRef, DomainEvent
from plugin.lti import roles
from plugin.lti.models import Context, LaunchSession, Placement, User
from plugin.lti.registration import add_platform
from plugin.performance import frameworks
from plugin.performance.models import Competency
from plugin.web import issue_token
from tests.data_files import MOODLE_CSV, moodle_text
from tests.data_files import case_package as case_data

__all__ = ["MOODLE_CSV", "case_data", "moodle_text"]  # the test data, for the competency tests

SMART = "opensalt-SmartLevelFramework.json"
SMART_ID = "d0000000-0000-0000-0000-000000000000"  # its CFDocument's identifier


@dataclass
class Tenant:
    platform_id: int
    issuer: str
    staff_id: int
    learner_id: int
    context_id: int
    placement_id: int


def make_tenant(app: Flask, name: str = "a") -> Tenant:
    issuer = f"https://lms-{name}-{uuid.uuid4().hex[:6]}.example"
    with new_session(app) as session:
        platform = add_platform(
            session,
            issuer=issuer,
            client_id=f"client-{name}",
            auth_login_url=issuer + "/auth",
            auth_token_url=issuer + "/token",
            key_set_url=issuer + "/jwks",
            deployment_ids=["d1"],
            name=f"LMS {name.upper()}",
        )
        session.flush()
        staff = User(
            platform_id=platform.id,
            issuer=issuer,
            sub=f"staff-{name}",
            name=f"Teacher {name.upper()}",
        )
        learner = User(
            platform_id=platform.id,
            issuer=issuer,
            sub=f"learner-{name}",
            name=f"Learner {name.upper()}",
        )
        context = Context(platform_id=platform.id, issuer=issuer, context_id="c1", title="Course")
        session.add_all([staff, learner, context])
        session.flush()
        placement = Placement(context_id=context.id, resource_link_id="rl1", widget="board")
        session.add(placement)
        session.commit()
        return Tenant(platform.id, issuer, staff.id, learner.id, context.id, placement.id)


def import_smart(app: Flask, tenant: Tenant) -> dict[str, int]:
    """SmartLevel into the tenant; returns competency ids by name ("Item 1.3" …)."""
    with new_session(app) as session:
        result = frameworks.import_case_package(session, tenant.platform_id, case_data(SMART))
        session.commit()
        rows = session.scalars(
            select(Competency).where(Competency.framework_id == result.framework_id)
        )
        return {c.name: c.id for c in rows}


def token_for(app: Flask, tenant: Tenant, user_id: int, role_uris: list[str]) -> str:
    with new_session(app) as session:
        launch = LaunchSession(
            platform_id=tenant.platform_id,
            deployment_id="d1",
            user_id=user_id,
            context_id=tenant.context_id,
            placement_id=tenant.placement_id,
            message_type="LtiResourceLinkRequest",
            roles=role_uris,
            claims={},
            expires_at=utcnow() + timedelta(hours=1),
        )
        session.add(launch)
        session.commit()
        with app.app_context():
            return issue_token(launch)


def staff_token(app: Flask, tenant: Tenant) -> str:
    return token_for(app, tenant, tenant.staff_id, [roles.INSTRUCTOR])


def learner_token(app: Flask, tenant: Tenant) -> str:
    return token_for(app, tenant, tenant.learner_id, [roles.LEARNER])


def thread_posted(tenant: Tenant, thread: str = "1", board: str = "7", **data: Any) -> DomainEvent:
    """A learner starts a thread on a board (a valid event for every subscriber)."""
    return DomainEvent(
        kind="board.thread_posted",
        identity=f"thread:{thread}",
        occurred_at=utcnow(),
        platform_id=tenant.platform_id,
        actor_user_id=tenant.learner_id,
        object=ActivityRef("thread", thread, f"Thread {thread}"),
        context_id=tenant.context_id,
        placement_id=tenant.placement_id,
        parents=(ActivityRef("board", board, f"Board {board}"),),
        data=data,
    )


def experience_logged(tenant: Tenant, experience: str, goal: str, **data: Any) -> DomainEvent:
    return DomainEvent(
        kind="plan.experience_logged",
        identity=f"experience:{experience}",
        occurred_at=utcnow(),
        platform_id=tenant.platform_id,
        actor_user_id=tenant.learner_id,
        object=ActivityRef("experience", experience, f"Experience {experience}"),
        parents=(ActivityRef("goal", goal, f"Goal {goal}"),),
        data=data,
    )


# --- over HTTP ---------------------------------------------------------------------------------
def api_client(tool_server, token: str | None) -> Callable[..., requests.Response]:
    """``call(method, path, **kwargs)`` against the tool's /api with the launch token (if any)."""
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    base = tool_server.url + "/api"

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, base + path, timeout=30, **kwargs)

    return call


def open_page(tool_server, path: str, token: str, **kwargs) -> requests.Response:
    """A page of the tool: GET with the URL token, POST (files or data) with it in the form."""
    method = "POST" if "files" in kwargs or "data" in kwargs else "GET"
    if method == "GET":
        kwargs["params"] = {"lc": token}
    else:
        kwargs.setdefault("data", {})["lc"] = token
    return requests.request(method, tool_server.url + path, timeout=30, **kwargs)


def moodle_file() -> tuple[str, bytes, str]:
    """The OECD Moodle CSV as an upload."""
    return ("oecd.csv", MOODLE_CSV.read_bytes(), "text/csv")


def smart_file() -> tuple[str, bytes, str]:
    """The SmartLevel CASE package as an upload."""
    return ("smart.json", json.dumps(case_data(SMART)).encode(), "application/json")
