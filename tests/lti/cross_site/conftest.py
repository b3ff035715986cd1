"""LTI tests with the tool on another site than the LMS: the tool served as
``http://localhost:<port>`` (``cross_site_app``, where it offers its ``Secure`` launch cookie), the
sandbox LMS as ``http://127.0.0.1:<port>``, so browsers apply their third-party cookie rules to the
tool inside the LMS's iframe."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.servers import LiveServer


@pytest.fixture(scope="module")
def tool_server(cross_site_tool_server: LiveServer) -> LiveServer:
    return cross_site_tool_server


@pytest.fixture(scope="module")
def app(cross_site_app: Flask) -> Flask:
    return cross_site_app
