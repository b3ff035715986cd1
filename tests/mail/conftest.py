"""Fixtures for the e-mail tests: a real SMTP server (aiosmtpd) on a free loopback port, people
of one platform with and without addresses, and the settings the worker would read."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy.orm import Session

from plugin.db import new_session
from plugin.lti.models import User
from plugin.lti.registration import add_platform
from plugin.mail import register_kind
from plugin.mail.delivery import MailConfig
from tests.support.ralph import free_port

KIND = "test.notice"
OTHER_KIND = "test.digest"


class Sink:
    """aiosmtpd handler: keeps every message it accepts; ``refuse`` maps an address to the
    reply its RCPT TO gets (``"550 5.1.1 No such user"``)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def by_subject(self, subject: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["Subject"] == subject]


@dataclass
class SmtpServer:
    """A real SMTP server on ``port`` (127.0.0.1), started and stopped at will (the port stays
    the same, so a stopped server is an SMTP server that is down)."""

    port: int = field(default_factory=free_port)
    sink: Sink = field(default_factory=Sink)
    controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """An SMTP server that is not running yet (nothing listens on its port)."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture(autouse=True, scope="session")
def _kinds() -> None:
    register_kind(KIND, "Test notices")
    register_kind(OTHER_KIND, "Test digests")


@dataclass
class People:
    platform_id: int
    ids: dict[str, int]

    def user(self, session: Session, name: str) -> User:
        return session.get(User, self.ids[name])


@pytest.fixture
def people(app: Flask) -> People:
    """ada and bob have addresses, nobody has none, bounce's address the server refuses."""
    with new_session(app) as session:
        platform = add_platform(
            session,
            issuer="https://lms.mail.test",
            client_id="mail-client",
            auth_login_url="https://lms.mail.test/auth",
            auth_token_url="https://lms.mail.test/token",
            key_set_url="https://lms.mail.test/jwks",
            deployment_ids=["d1"],
            name="Mail LMS",
        )
        session.flush()
        addresses = {
            "ada": "ada@school.test",
            "bob": "bob@school.test",
            "nobody": None,
            "bounce": "bounce@school.test",
        }
        users = {
            name: User(
                platform_id=platform.id,
                issuer=platform.issuer,
                sub=f"sub-{name}",
                name=name.title(),
                email=email,
            )
            for name, email in addresses.items()
        }
        session.add_all(users.values())
        session.commit()
        return People(platform.id, {name: user.id for name, user in users.items()})


@pytest.fixture
def mail_config(app: Flask) -> Callable[..., MailConfig]:
    """The worker's settings for a server on ``port`` (short backoff: tests move the clock)."""

    def make(port: int, **changes) -> MailConfig:
        values = {
            "host": "127.0.0.1",
            "port": port,
            "mail_from": '"Learning Commons" <noreply@commons.test>',
            "base_url": app.config["MAIL_BASE_URL"],
            "secret_key": app.config["SECRET_KEY"],
            "timeout": 5.0,
            "backoff_base": 60.0,
            "backoff_cap": 600.0,
            "max_attempts": 3,
            **changes,
        }
        return MailConfig(**values)

    return make


@pytest.fixture
def sessions(app: Flask) -> Callable[[], Session]:
    return lambda: new_session(app)
