"""Fixtures of the competency tests: two tenants (platforms with a course, staff and a learner)
and a small CASE service on a loopback port."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from werkzeug.wrappers import Request, Response

from tests.performance.perf_world import SMART, SMART_ID, Tenant, case_data, make_tenant
from tests.support.servers import LiveServer


@pytest.fixture
def tenant(app) -> Tenant:
    """Platform "a", with a course, a staff member, a learner and a placement."""
    return make_tenant(app, "a")


@pytest.fixture
def other(app) -> Tenant:
    """Another platform ("b"): what "a" must never see."""
    return make_tenant(app, "b")


class CaseService:
    """A CASE 1.0 service: packages, a document pointing at its package, and misbehaviour."""

    def __init__(self, package: dict) -> None:
        self.package = package
        self.server = LiveServer().start(self)
        self.url = self.server.url

    def __call__(self, environ, start_response):
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        path = request.path
        if path == f"/ims/case/v1p0/CFPackages/{SMART_ID}":
            return Response(json.dumps(self.package), content_type="application/json")
        if path == f"/ims/case/v1p0/CFDocuments/{SMART_ID}":
            link = {
                "title": "p",
                "identifier": SMART_ID,
                "uri": f"{self.url}/ims/case/v1p0/CFPackages/{SMART_ID}",
            }
            return Response(json.dumps({**self.package["CFDocument"], "CFPackageURI": link}))
        if path == "/moved":
            return Response(
                "", status=302, headers={"Location": f"/ims/case/v1p0/CFPackages/{SMART_ID}"}
            )
        if path == "/page":
            return Response("<!doctype html><title>CASE</title>", content_type="text/html")
        if path == "/big":
            return Response(b"{" + b" " * 300_000 + b"}", content_type="application/json")
        if path == "/slow":
            time.sleep(1.5)
            return Response("{}", content_type="application/json")
        return Response("not here", status=404)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def case_service() -> Iterator[CaseService]:
    service = CaseService(case_data(SMART))
    yield service
    service.stop()
