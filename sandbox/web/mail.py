"""The development mailbox: ``/sandbox/mail`` lists the tool's e-mail outbox, newest first, each
message as the worker would send it (headers, text, HTML), with its state. Under ``make run``
without ``SMTP_HOST`` nothing is sent, so this page is where e-mail is seen. Mounted by
:func:`sandbox.mount.mount_sandbox` (development only); it reads the tool's database."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app
from sqlalchemy import select

from plugin.db import new_session
from plugin.mail.delivery import Claimed, MailConfig, compose
from plugin.mail.models import MailOutbox
from sandbox.web.responses import html, security_headers

SHOWN = 100
HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe")


def make_mail_blueprint() -> Blueprint:
    """The mailbox page on a blueprint of its own (``sandbox_mail``, under ``/sandbox``)."""
    bp = Blueprint("sandbox_mail", __name__, url_prefix="/sandbox", template_folder="templates")
    bp.after_request(security_headers)

    @bp.get("/mail")
    def mailbox() -> Response:
        cfg = MailConfig.from_mapping(current_app.config)
        messages: list[dict[str, Any]] = []
        with new_session(current_app) as session:
            rows = session.scalars(select(MailOutbox).order_by(MailOutbox.id.desc()).limit(SHOWN))
            for row in rows:
                message = compose(Claimed.of(row), cfg, row.sent_at or row.created_at)
                html_part = message.get_body(("html",)) if row.html_body else None
                unsubscribe = str(message["List-Unsubscribe"]).strip("<>")
                messages.append(
                    {
                        "row": row,
                        "headers": [(name, str(message[name])) for name in HEADERS],
                        "text": message.get_body(("plain",)).get_content(),
                        "html": html_part.get_content() if html_part is not None else None,
                        "unsubscribe": unsubscribe,
                    }
                )
        return html("mail.html", messages=messages, cfg=cfg, shown=SHOWN)

    return bp
