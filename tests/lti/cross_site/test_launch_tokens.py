"""How a page names its launch (docs/security.md, "Launch sessions and tokens"), through real
launches over HTTP: the launch cookie and ``ls=``, short-lived sliding URL tokens, page tokens that
never ride in a URL, the launch session's end, two launches in one browser, log redaction (the
app's, werkzeug's and gunicorn's) and who may frame the tool.

The tool here is the one served as http://localhost (``cross_site_app``), where it offers its
``Secure`` launch cookie; ``Browser(launch_cookies=True)`` keeps that cookie (the cookie path), a
plain ``Browser()`` drops it (the URL-token path)."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import update

from plugin.db import new_session, utcnow
from plugin.lti.models import LaunchSession
from tests.conftest import row_counts
from tests.social.social_web import board_link
from tests.support.browser import Browser, forms
from tests.support.lti import launch


@pytest.fixture
def settings(app: Flask):
    """The app's settings; a test may change one, and gets the old value back afterwards."""
    current = app.config["COMMONS_SETTINGS"]
    saved = dict(vars(current))
    yield current
    vars(current).update(saved)


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _addresses(html: str) -> list[str]:
    return [unescape(a) for a in re.findall(r'(?:href|action)="([^"]*)"', html)]


def _get_forms(html: str):
    return [f for f in forms(html) if f.method == "get"]


def _post_forms(html: str):
    return [f for f in forms(html) if f.method == "post"]


def _every_url(browser: Browser) -> list[str]:
    """Every address the browser asked for, redirects included."""
    urls = []
    for response in browser.history:
        urls += [r.url for r in response.history] + [response.url]
    return urls


def _tool(response) -> str:
    parts = urlsplit(response.url)
    return f"{parts.scheme}://{parts.netloc}"


# --- the cookie path -------------------------------------------------------------------------------
def test_with_the_launch_cookie_no_address_carries_a_token(app, lms) -> None:
    """The launch sets one Secure; HttpOnly; SameSite=None; Partitioned cookie for this launch;
    every page then names the launch with ls= and no URL, link or GET form carries lc=."""
    browser = Browser(launch_cookies=True)
    page = launch(browser, lms, "u-lea", resource_link=board_link(lms))
    assert page.status_code == 200 and "Start a thread" in page.text
    assert "ls" in _query(page.url) and "lc" not in _query(page.url)
    assert not [url for url in _every_url(browser) if "lc=" in url]
    (cookie,) = [c for c in browser.http.cookies if c.name.startswith("__Host-lcs_")]
    assert cookie.name == "__Host-lcs_" + _query(page.url)["ls"][0]
    set_cookie = next(
        h
        for r in browser.history
        for h in r.raw.headers.getlist("Set-Cookie")
        if h.startswith("__Host-lcs_")
    )
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/"):
        assert attribute in set_cookie.split("; "), set_cookie
    max_age = int(re.search(r"Max-Age=(\d+)", set_cookie).group(1))
    assert app.config["COMMONS_SETTINGS"].session_token_max_age - 60 < max_age
    # the page's own addresses: none with a token; GET forms name the launch, POST forms carry
    # the page token in their body
    assert not [a for a in _addresses(page.text) if "lc=" in a]
    assert _get_forms(page.text) and _post_forms(page.text)
    for form in _get_forms(page.text):
        assert "lc" not in form.fields and form.fields["ls"] == _query(page.url)["ls"][0]
    for form in _post_forms(page.text):
        assert form.fields["lc"]
    # following a link and posting a form keep to the cookie path
    thread = browser.submit(
        next(f for f in _post_forms(page.text) if f.action.endswith("/threads")),
        page.url,
        extra={"title": "By cookie", "body": "No token in any address."},
    )
    assert thread.status_code == 200 and "By cookie" in thread.text
    assert "ls" in _query(thread.url) and "lc" not in _query(thread.url)
    assert not [url for url in _every_url(browser) if "lc=" in url]


def test_the_cookie_alone_never_changes_anything(app, lms) -> None:
    """A form post needs the page token: the cookie (which a cross-site form would also carry)
    is not enough. Nor does the cookie open a page without the ls= that names its launch."""
    browser = Browser(launch_cookies=True)
    page = launch(browser, lms, "u-lea", resource_link=board_link(lms))
    board = urlsplit(page.url).path
    slot = _query(page.url)["ls"][0]
    before = row_counts(app)
    forged = browser.http.post(
        _tool(page) + board + "/threads",
        data={"ls": slot, "title": "Forged", "body": "From another site."},
        timeout=10,
    )
    assert forged.status_code == 403 and "Please reload the page" in forged.text
    forged = browser.http.post(
        _tool(page) + board + f"/threads?ls={slot}", data={"title": "x", "body": "y"}, timeout=10
    )
    assert forged.status_code == 403
    assert row_counts(app) == before
    unnamed = browser.http.get(_tool(page) + board, timeout=10)
    assert unnamed.status_code == 401 and "Please open this from your course" in unnamed.text


def test_two_launches_in_one_browser_each_keep_their_own(app, lms) -> None:
    """One cookie per launch, the page naming which: Lea's and Ines's launches in one browser
    (two tabs, two boards) stay apart, and one launch's name with another's cookie is refused."""
    browser = Browser(launch_cookies=True)
    first, second = board_link(lms), board_link(lms)
    lea = launch(browser, lms, "u-lea", resource_link=first)
    ines = launch(browser, lms, "u-ines", resource_link=second)
    assert len([c for c in browser.http.cookies if c.name.startswith("__Host-lcs_")]) == 2
    again = browser.get(lea.url)
    assert again.status_code == 200 and "Lea Learner" in again.text
    assert "Ines Instructor" not in again.text
    assert "Ines Instructor" in browser.get(ines.url).text
    # Lea's launch name with only Ines's cookie: refused
    other = Browser(launch_cookies=True)
    ines_cookie = next(
        c for c in browser.http.cookies if c.name == "__Host-lcs_" + _query(ines.url)["ls"][0]
    )
    other.http.cookies.set(
        "__Host-lcs_" + _query(lea.url)["ls"][0], ines_cookie.value, domain="localhost.local"
    )
    assert other.http.get(lea.url, timeout=10).status_code == 401


def test_old_launch_cookies_are_dropped(app, lms) -> None:
    """A browser keeps the cookies of its ten newest launches: a new launch deletes older ones."""
    browser = Browser(launch_cookies=True)
    rlid = board_link(lms)
    pages = [launch(browser, lms, "u-lea", resource_link=rlid) for _ in range(11)]
    names = {c.name for c in browser.http.cookies if c.name.startswith("__Host-lcs_")}
    assert len(names) == 10
    assert "__Host-lcs_" + _query(pages[0].url)["ls"][0] not in names
    assert "__Host-lcs_" + _query(pages[-1].url)["ls"][0] in names
    assert browser.get(pages[0].url).status_code == 401
    assert browser.get(pages[-1].url).status_code == 200


# --- the URL-token path ----------------------------------------------------------------------------
def test_without_the_cookie_pages_carry_short_lived_sliding_url_tokens(app, lms, settings) -> None:
    """URL tokens: a young one goes on into the page's links, an older one is replaced by a new
    one, an expired one is refused even while the launch session lives."""
    settings.url_token_max_age = 4
    browser = Browser()
    page = launch(browser, lms, "u-lea", resource_link=board_link(lms))
    token = _query(page.url)["lc"][0]
    assert [a for a in _addresses(page.text) if "lc=" in a]
    assert all(f"lc={token}" in a for a in _addresses(page.text) if "lc=" in a)
    for form in _get_forms(page.text):
        assert form.fields["lc"] == token and "ls" not in form.fields
    time.sleep(1.6)  # past a third of its life: the page gets a fresh token
    later = browser.get(page.url)
    fresh = {parse_qs(urlsplit(a).query)["lc"][0] for a in _addresses(later.text) if "lc=" in a}
    assert len(fresh) == 1 and token not in fresh
    meta = re.search(r'<meta name="commons-url-token" content="(\d+)"', later.text)
    assert meta and int(meta.group(1)) == 4
    time.sleep(2.6)  # the first token has expired, the second has not
    expired = browser.get(page.url)
    assert expired.status_code == 401 and "This link has expired" in expired.text
    path = urlsplit(page.url).path
    assert browser.get(f"{_tool(page)}{path}?lc={fresh.pop()}").status_code == 200


def test_the_page_token_works_in_forms_and_headers_never_in_a_url(app, lms, settings) -> None:
    """The page token (in POST forms and for API calls) outlives URL tokens, and is refused in a
    query string, so it cannot become a link."""
    settings.url_token_max_age = 2
    browser = Browser()
    page = launch(browser, lms, "u-lea", resource_link=board_link(lms))
    form = next(f for f in _post_forms(page.text) if f.action.endswith("/threads"))
    page_token = form.fields["lc"]
    assert page_token != _query(page.url)["lc"][0]
    time.sleep(2.5)  # the URL tokens of the page have expired
    posted = Browser().submit(form, page.url, extra={"title": "Later", "body": "Still works."})
    assert posted.status_code == 200 and "Later" in posted.text
    api = requests.get(
        _tool(page) + "/api/notifications",
        headers={"Authorization": f"Bearer {page_token}"},
        timeout=10,
    )
    assert api.status_code == 200
    path = urlsplit(page.url).path
    as_link = requests.get(f"{_tool(page)}{path}?lc={page_token}", timeout=10)
    assert as_link.status_code == 401 and "This link is not valid" in as_link.text
    # a fresh URL token for commons.js: with the page token in a header, never from a link
    fresh = requests.post(
        _tool(page) + "/app/url-token", headers={"X-Commons-Token": page_token}, timeout=10
    )
    assert fresh.status_code == 200 and fresh.json()["expires_in"] == 2
    assert requests.get(f"{_tool(page)}{path}?lc={fresh.json()['lc']}", timeout=10).ok
    assert (
        requests.post(f"{_tool(page)}/app/url-token?lc={page_token}", timeout=10).status_code == 401
    )


def test_nothing_is_accepted_after_the_launch_session_ends(app, lms) -> None:
    browser = Browser(launch_cookies=True)
    page = launch(browser, lms, "u-lea", resource_link=board_link(lms))
    url_mode = launch(Browser(), lms, "u-lea", resource_link=board_link(lms))
    page_token = _post_forms(page.text)[0].fields["lc"]
    with new_session(app) as s:
        s.execute(update(LaunchSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    by_cookie = browser.get(page.url)
    by_url_token = Browser().get(url_mode.url)
    by_page_token = requests.get(
        _tool(page) + "/api/notifications",
        headers={"Authorization": f"Bearer {page_token}"},
        timeout=10,
    )
    for refused in (by_cookie, by_url_token, by_page_token):
        assert refused.status_code == 401
    assert "Your session has ended" in by_cookie.text and "session has ended" in by_url_token.text


# --- logs ----------------------------------------------------------------------------------------
def test_launch_tokens_never_reach_the_logs(app, lms, caplog) -> None:
    """werkzeug's request lines and the app's own log records carry [redacted] for lc=, bearer
    tokens and launch cookies."""
    caplog.set_level(logging.INFO)
    page = launch(Browser(), lms, "u-lea", resource_link=board_link(lms))
    token = _query(page.url)["lc"][0]
    Browser().get(page.url)
    logging.getLogger("plugin.web").warning(
        "asked for %s with Authorization: Bearer %s and Cookie: __Host-lcs_abc=%s",
        page.url,
        token,
        token,
    )
    text = caplog.text
    assert token not in text and "lc=[redacted]" in text
    assert "Bearer [redacted]" in text and "__Host-lcs_abc=[redacted]" in text
    assert any(r.name == "werkzeug" and "lc=[redacted]" in r.getMessage() for r in caplog.records)


def test_gunicorn_access_log_is_redacted(database_url: str, tmp_path) -> None:
    """The packaged gunicorn settings (gunicorn -c python:plugin.gunicorn_conf) write the access
    log without lc= tokens, bearer tokens or cookies, whatever the log format asks for."""
    env = dict(
        os.environ,
        COMMONS_ENV="testing",
        DATABASE_URL=database_url,
        SECRET_KEY="gunicorn-test-" + "x" * 32,
        TOOL_BASE_URL="http://127.0.0.1:8000",
        COMMONS_SANDBOX="0",
    )
    log_format = '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s %(q)s %({authorization}i)s %({cookie}i)s'
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:plugin.gunicorn_conf",
            "-b",
            "127.0.0.1:0",
            "-w",
            "1",
            "--access-logformat",
            log_format,
            "plugin:create_app()",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        for line in server.stdout:  # type: ignore[union-attr]
            output.append(line)
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
            if found:
                base = found.group(1)
                break
        else:
            pytest.fail("gunicorn did not start:\n" + "".join(output))
        for _ in range(60):  # the worker takes a moment to import the app
            try:
                requests.get(base + "/static/commons.css", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.5)
        secrets = ["URLTOKEN1abc", "BEARER2def", "REFERER3ghi", "COOKIE4jkl"]
        answer = requests.get(
            base + f"/boards/1?lc={secrets[0]}&sort=new",
            headers={
                "Authorization": f"Bearer {secrets[1]}",
                "Referer": f"https://lms.example/course?x=1&lc={secrets[2]}",
                "Cookie": f"__Host-lcs_slot={secrets[3]}",
            },
            timeout=10,
        )
        assert answer.status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        rest, _ = server.communicate(timeout=30)
        output.append(rest)
    log = "".join(output)
    access = [line for line in log.splitlines() if "/boards/1" in line]
    assert access, log
    for secret in secrets:
        assert secret not in log
    assert "lc=[redacted]" in access[0] and "sort=new" in access[0]
    assert "[redacted]" in access[0].split('"')[3]  # the referer


# --- framing ----------------------------------------------------------------------------------------
def _frame_ancestors(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    (directive,) = [d.strip() for d in policy.split(";") if "frame-ancestors" in d]
    return directive.split()[1:]


def test_only_the_launch_platform_may_frame_a_launched_page(app, lms, lms_factory, settings):
    other = lms_factory(name="Another LMS", client_id="other-client")
    lms.platform.tamper_next_launch(
        lambda claims: claims[
            "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
        ].update(return_url="https://courses.example.edu/course/7")
    )
    page = launch(Browser(), lms, "u-lea", resource_link=board_link(lms))
    lms_origin = _tool_origin(lms.issuer)
    assert sorted(_frame_ancestors(page)) == sorted([lms_origin, "https://courses.example.edu"])
    assert "*" not in _frame_ancestors(page)
    # before a launch: the registered platforms (both LMSs here share one origin)
    refused = requests.get(_tool(page) + "/lti/login", timeout=10)
    assert refused.status_code == 400 and _frame_ancestors(refused) == [lms_origin]
    assert _tool_origin(other.issuer) == lms_origin
    # JSON is never framed
    assert _frame_ancestors(requests.get(_tool(page) + "/lti/jwks", timeout=10)) == ["'none'"]
    # FRAME_ANCESTORS widens it
    settings.frame_ancestors = ["https://*.instructure.com"]
    again = Browser().get(page.url)
    assert "https://*.instructure.com" in _frame_ancestors(again)
    assert lms_origin in _frame_ancestors(again)


def _tool_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_frame_ancestors_setting_takes_origins_only() -> None:
    from plugin.config import ConfigError, parse_frame_ancestors

    assert parse_frame_ancestors("https://a.example.edu, https://*.instructure.com/") == [
        "https://a.example.edu",
        "https://*.instructure.com",
    ]
    assert parse_frame_ancestors("") == []
    for bad in ("'unsafe-inline'", "javascript:alert(1)", "https://a.example; script-src *"):
        with pytest.raises(ConfigError):
            parse_frame_ancestors(bad)


def test_registered_platforms_only_when_nothing_is_registered(app) -> None:
    """With no platform registered, nothing may frame the pages before a launch."""
    response = requests.get(app.config["COMMONS_SETTINGS"].tool_base_url + "/lti/login", timeout=10)
    assert _frame_ancestors(response) == ["'none'"]


def test_only_plain_origins_go_into_the_header() -> None:
    """A return URL from a launch's claims goes into frame-ancestors only as scheme://host:port;
    anything that could add to the header (a ';', user info, a space) is left out."""
    from plugin.web import origin_of

    assert origin_of("https://School.Instructure.com/courses/1") == "https://school.instructure.com"
    assert origin_of("http://127.0.0.1:8000/x") == "http://127.0.0.1:8000"
    for bad in (
        "https://a.example;script-src *",
        "https://a.example frame-ancestors *",
        "http://user:pw@a.example",
        "javascript:alert(1)",
        "//a.example",
        None,
        42,
    ):
        assert origin_of(bad) is None, bad
