"""Driving a launch over real HTTP without a browser: follow the auto-submitting pages of the OIDC
flow between a tool and a sandbox platform served at its issuer (used by the platform's tests)."""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser

import requests

from sandbox.platform import SandboxPlatform
from sandbox.platform.vocabulary import HTTP_TIMEOUT


class _FormParser(HTMLParser):
    """Collects the first ``<form>`` of a page with its hidden/plain input fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.method = "get"
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and self.action is None:
            self.action = attributes.get("action", "")
            self.method = attributes.get("method", "get").lower()
            self._in_form = True
        elif tag == "input" and self._in_form and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
            self._done = True


def extract_form(html: str) -> tuple[str, str, dict[str, str]] | None:
    """Return ``(action, method, fields)`` of the first form in ``html`` (or ``None``).

    Handy to follow the auto-submitting pages of the OIDC flow without a browser.
    """
    parser = _FormParser()
    parser.feed(html)
    if parser.action is None:
        return None
    return parser.action, parser.method, parser.fields


def drive_launch(
    session: requests.Session,
    platform: SandboxPlatform,
    login_params: Mapping[str, str],
    *,
    method: str = "POST",
    timeout: float = HTTP_TIMEOUT,
) -> requests.Response:
    """Run a launch like a browser would, over real HTTP, and return the tool's answer.

    Sends ``login_params`` (from :meth:`SandboxPlatform.login_initiation`) to the tool's
    OIDC login URL, follows its redirect to the platform's ``/auth`` endpoint (which must
    be served at ``platform.issuer``), then form-posts the ``id_token`` and ``state`` to
    the tool.  If the tool answers the login initiation with a self-submitting form
    instead of a redirect, that form is followed too.  Cookies stay in ``session``.
    """
    tool = platform.tool(login_params["client_id"])
    if method.upper() == "GET":
        resp = session.get(tool.login_url, params=dict(login_params), timeout=timeout)
    else:
        resp = session.post(tool.login_url, data=dict(login_params), timeout=timeout)
    for _ in range(3):
        form = extract_form(resp.text) if resp.ok else None
        if form is None:
            return resp
        action, form_method, fields = form
        at_auth = resp.url.split("?", 1)[0] == platform.auth_url
        if not at_auth and not action.startswith(platform.auth_url):
            return resp  # an ordinary page of the tool
        if form_method == "post":
            resp = session.post(action, data=fields, timeout=timeout)
        else:
            resp = session.get(action, params=fields, timeout=timeout)
        if at_auth:
            return resp  # the tool's answer to the authentication response
    return resp
