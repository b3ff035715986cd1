"""``make run`` shows e-mail on the sandbox's development mailbox (``/sandbox/mail``): without
SMTP_HOST nothing is sent, the e-mail stays queued, and the page shows it as it would be sent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import make_engine
from plugin.lti.models import Platform, User
from plugin.mail import queue
from plugin.mail.models import QUEUED, MailOutbox
from tests.mail.conftest import KIND
from tests.sandbox.test_dev_server import dev_server


@contextmanager
def _running_with_mail(instance: Path) -> Iterator[tuple[str, int]]:
    """``make run`` (no SMTP_HOST) with one e-mail queued for a sandbox user: (base URL, row)."""
    with dev_server(instance, env={"SMTP_HOST": ""}) as base:
        requests.get(base + "/sandbox/", timeout=10)  # registers the sandbox platform
        engine = make_engine(f"sqlite:///{instance / 'commons.db'}")
        try:
            with Session(engine) as session:
                platform = session.scalars(select(Platform).where(Platform.is_sandbox)).one()
                user = User(
                    platform_id=platform.id,
                    issuer=platform.issuer,
                    sub="mail-reader",
                    name="Mia Reader",
                    email="mia@sandbox.test",
                )
                session.add(user)
                session.flush()
                result = queue(
                    session,
                    user,
                    KIND,
                    "Your mentor replied",
                    "Hello Mia,\nyour mentor replied.",
                    html="<p>Hello <em>Mia</em></p>",
                )
                session.commit()
            yield base, result.id
        finally:
            engine.dispose()


def test_make_run_shows_queued_mail_on_the_mailbox_page(tmp_path: Path) -> None:
    with _running_with_mail(tmp_path) as (base, row_id):
        time.sleep(3)  # the worker thread has looked at the outbox by now
        page = requests.get(base + "/sandbox/mail", timeout=10)
        assert page.status_code == 200
        text = page.text
        assert "SMTP_HOST is not set, so nothing is sent" in text
        assert "Your mentor replied" in text and "mia@sandbox.test" in text
        assert "Hello Mia,\nyour mentor replied." in text.replace("\r\n", "\n")
        assert "&lt;p&gt;Hello &lt;em&gt;Mia&lt;/em&gt;&lt;/p&gt;" in text  # HTML as source
        assert f"{base}/mail/unsubscribe/" in text
        assert "<strong>queued</strong>" in text
        engine = make_engine(f"sqlite:///{tmp_path / 'commons.db'}")
        try:
            with Session(engine) as session:
                assert session.get(MailOutbox, row_id).state == QUEUED
        finally:
            engine.dispose()


@pytest.mark.browser
def test_the_mailbox_page_is_accessible(tmp_path: Path, chromium) -> None:
    with _running_with_mail(tmp_path) as (base, _row_id):
        page = chromium.new_page()
        page.goto(base + "/sandbox/mail")
        assert page.locator("h1").inner_text() == "E-mail outbox"
        assert page.get_by_role("heading", name="Your mentor replied").count() == 1
