"""Launch helpers shared by the tests of every package: a launch from a sandbox platform through
the real OIDC flow, the URL token of the page it lands on, the flow stopped at the platform's
id_token form, and the ``commons`` command run against a test app."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo

from plugin.cli import main
from tests.support.browser import Browser, Form, forms


def launch(browser: Browser, lms, user: str, **params: str) -> requests.Response:
    """Launch as ``user`` from ``lms`` (a ``tests.conftest.Lms``): the tool's page it lands on."""
    page = browser.get(lms.launch_url(user, **params))
    return browser.autosubmit(page)


def token_of(response: requests.Response) -> str:
    """The URL token (``lc=``) of the page ``response`` landed on."""
    return parse_qs(urlsplit(response.url).query)["lc"][0]


def reach_auth_form(browser: Browser, lms, user: str = "u-lea", **params: str) -> Form:
    """Run the flow up to the platform's auto-posting id_token form; return that form."""
    if "resource_link" not in params and params.get("message_type") is None:
        params["resource_link"] = lms.placement().resource_link_id
    page = browser.get(lms.launch_url(user, **params))
    (login_form,) = forms(page.text)
    auth_page = browser.submit(login_form, page.url)  # → 302 → platform /auth
    assert auth_page.status_code == 200, auth_page.text[:300]
    (form,) = forms(auth_page.text)
    assert "id_token" in form.fields and "state" in form.fields
    return form


def cli(app: Flask, *args: str) -> Result:
    """``commons <args>`` against ``app``."""
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def make_invite(app: Flask, *args: str) -> str:
    """A registration invite's URL (``commons platform invite <args>``)."""
    made = cli(app, "platform", "invite", *args)
    assert made.exit_code == 0, made.output
    return made.output.strip().splitlines()[-1]
