"""Unsubscribe links through the real app, with no launch: the confirmation page (axe-clean), the
RFC 8058 one-click POST a mail program sends, turning e-mail back on, and tokens that do not
verify (a readable 404 that changes no row)."""

from __future__ import annotations

import pytest
import requests
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from plugin.db import new_session
from plugin.mail import queue
from plugin.mail.delivery import send_once
from plugin.mail.models import CANCELLED, MailOutbox, MailPreference
from plugin.mail.services import TOKEN_SALT, delivery_for, unsubscribe_token
from tests.conftest import row_counts
from tests.mail.conftest import KIND, OTHER_KIND


def _url(tool_server, token: str) -> str:
    return f"{tool_server.url}/mail/unsubscribe/{token}"


def _delivery(app, user_id: int, kind: str = KIND) -> str:
    with new_session(app) as session:
        return delivery_for(session, user_id, kind)


def test_the_page_asks_first_and_a_get_changes_nothing(app, people, tool_server) -> None:
    token = unsubscribe_token(app.config["SECRET_KEY"], people.ids["ada"], KIND)
    before = row_counts(app)
    page = requests.get(_url(tool_server, token), timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Stop e-mails about Test notices?" in page.text
    assert "a•••@school.test" in page.text and "ada@school.test" not in page.text
    assert '<form method="post"' in page.text and "Unsubscribe from Test notices" in page.text
    assert row_counts(app) == before


def test_one_click_post_unsubscribes_that_kind_only(app, people, tool_server) -> None:
    with new_session(app) as session:
        waiting = queue(session, people.user(session, "ada"), KIND, "Waiting", "Body")
        session.commit()
    token = unsubscribe_token(app.config["SECRET_KEY"], people.ids["ada"], KIND)
    # what a mail program sends for List-Unsubscribe-Post (RFC 8058): no cookie, no launch
    done = requests.post(
        _url(tool_server, token), data={"List-Unsubscribe": "One-Click"}, timeout=10
    )
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert _delivery(app, people.ids["ada"]) == "off"
    assert _delivery(app, people.ids["ada"], OTHER_KIND) == "immediate"
    assert _delivery(app, people.ids["bob"]) == "immediate"
    with new_session(app) as session:
        assert session.get(MailOutbox, waiting.id).state == CANCELLED
    again = requests.post(_url(tool_server, token), timeout=10)  # twice is fine
    assert again.status_code == 200 and _delivery(app, people.ids["ada"]) == "off"
    back = requests.post(_url(tool_server, token), data={"resubscribe": "1"}, timeout=10)
    assert back.status_code == 200 and "E-mails are on again" in back.text
    assert _delivery(app, people.ids["ada"]) == "immediate"


def test_the_link_in_a_sent_message_unsubscribes(
    app, people, tool_server, smtp, mail_config, sessions
) -> None:
    with new_session(app) as session:
        queue(session, people.user(session, "bob"), KIND, "Hello", "Body")
        session.commit()
    send_once(sessions, mail_config(smtp.port, base_url=tool_server.url))
    [message] = smtp.sink.messages
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith(tool_server.url + "/mail/unsubscribe/")
    answer = requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert answer.status_code == 200
    assert _delivery(app, people.ids["bob"]) == "off"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_tokens_that_do_not_verify_are_a_readable_404_and_change_nothing(
    app, people, tool_server, method: str
) -> None:
    forged = URLSafeSerializer("not-the-secret", salt=TOKEN_SALT).dumps([people.ids["ada"], KIND])
    secret = app.config["SECRET_KEY"]
    other_salt = URLSafeSerializer(secret, salt="other").dumps([people.ids["ada"], KIND])
    wrong_shape = URLSafeSerializer(secret, salt=TOKEN_SALT).dumps({"u": people.ids["ada"]})
    gone = unsubscribe_token(secret, 2_000_000_000, KIND)
    real = unsubscribe_token(secret, people.ids["ada"], KIND)
    before = row_counts(app)
    for token in (forged, other_salt, wrong_shape, gone, real[:-3], "x", "a" * 600):
        answer = requests.request(
            method,
            _url(tool_server, token),
            data={"List-Unsubscribe": "One-Click"} if method == "POST" else None,
            timeout=10,
        )
        assert answer.status_code == 404, (token, answer.status_code)
        assert "Unsubscribe link not recognised" in answer.text
        assert "This unsubscribe link is not valid" in answer.text
    assert row_counts(app) == before
    with new_session(app) as session:
        assert session.scalars(select(MailPreference)).all() == []


@pytest.mark.browser
def test_a_person_unsubscribes_in_the_browser(app, people, tool_server, chromium) -> None:
    token = unsubscribe_token(app.config["SECRET_KEY"], people.ids["ada"], KIND)
    page = chromium.new_page()
    page.goto(_url(tool_server, token))
    assert page.locator("h1").inner_text() == "Stop e-mails about Test notices?"
    page.get_by_role("button", name="Unsubscribe from Test notices").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "You are unsubscribed"
    assert _delivery(app, people.ids["ada"]) == "off"
    page.get_by_role("button", name="Send me these e-mails again").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "E-mails are on again"
    assert _delivery(app, people.ids["ada"]) == "immediate"
    page.goto(_url(tool_server, "forged.token"))
    assert page.locator("h1").inner_text() == "Unsubscribe link not recognised"
