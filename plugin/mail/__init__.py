"""Outbound e-mail, a shared service every widget may use (docs/email.md).

A widget declares its kinds of e-mail and queues mail in the transaction of its act::

    from plugin import mail

    def init_app(app):
        mail.register_kind("mentoring.reminder", "Mentoring check-in reminders")

    def remind(session, pair, person):                  # inside the caller's unit of work
        result = mail.queue(session, person, "mentoring.reminder", "Time for a check-in",
                            text, html=None, dedupe_key=f"checkin:{pair.id}:{due:%Y-%m-%d}")
        if not result.queued:                           # no address, or turned off
            log.info("no e-mail to %s: %s", person.id, result.reason)

The worker (``commons worker``; a thread under ``make run``) sends the outbox over SMTP
(:mod:`plugin.mail.delivery`); requests never send. ``init_app`` copies the SMTP settings of
:class:`plugin.config.Settings` (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USERNAME``,
``SMTP_PASSWORD``, ``SMTP_STARTTLS``, ``SMTP_SSL``, ``MAIL_FROM``) into the app's config, where
the worker reads them, registers the unsubscribe pages and the worker's "E-mail outbox" loop.
This package imports no widget.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from plugin import jobs
from plugin.mail.services import (
    ALREADY_QUEUED,
    NO_ADDRESS,
    TURNED_OFF,
    Queued,
    queue,
    register_kind,
)

__all__ = [
    "ALREADY_QUEUED",
    "NO_ADDRESS",
    "TURNED_OFF",
    "Queued",
    "init_app",
    "queue",
    "register_kind",
]


def init_app(app: Flask) -> None:
    from plugin.mail import delivery, views

    settings = app.config["COMMONS_SETTINGS"]
    host = urlsplit(settings.tool_base_url).hostname or "localhost"
    default_from = f'"{settings.tool_name}" <noreply@{host}>'
    for key, value in (
        ("SMTP_HOST", settings.smtp_host),
        ("SMTP_PORT", settings.smtp_effective_port),
        ("SMTP_USERNAME", settings.smtp_username),
        ("SMTP_PASSWORD", settings.smtp_password),
        ("SMTP_STARTTLS", settings.smtp_starttls),
        ("SMTP_SSL", settings.smtp_ssl),
        ("MAIL_FROM", settings.mail_from or default_from),
        ("MAIL_BASE_URL", settings.tool_base_url),
    ):
        app.config.setdefault(key, value)
    app.register_blueprint(views.bp)
    jobs.register_loop("E-mail outbox", delivery.deliver_outbox)
