"""Fixtures for the xAPI tests: a real Ralph LRS, a fault proxy in front of it, a tenant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support.ralph import FaultProxy, RalphLRS
from tests.xapi.xapi_world import Tenant, make_tenant


@pytest.fixture(scope="session")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLRS]:
    lrs = RalphLRS(Path(tmp_path_factory.mktemp("ralph"))).start()
    yield lrs
    lrs.stop()


@pytest.fixture
def proxy(ralph: RalphLRS) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(ralph.endpoint)
    yield fault_proxy
    fault_proxy.stop()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def tenant(app: Flask) -> Tenant:
    return make_tenant(app)
