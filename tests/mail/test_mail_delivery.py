"""The worker sends the outbox to a real SMTP server (aiosmtpd): the message as received, a
server that is down (nothing lost, retried, then sent), a refused recipient among others, no
SMTP_HOST (nothing sent), and two workers at once (no e-mail sent twice)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from plugin import jobs
from plugin.db import new_session, utcnow
from plugin.mail import queue
from plugin.mail.delivery import deliver_outbox, send_once
from plugin.mail.models import DEAD, QUEUED, SENT, MailOutbox
from plugin.mail.services import delivery_for, unsubscribe_url
from tests.mail.conftest import KIND


def _queue(app, people, *who: str, subject: str = "Your check-in", html: str | None = None):
    ids = []
    with new_session(app) as session:
        for name in who:
            text = f"Hello {name.title()},\nyour check-in is due on Friday."
            result = queue(session, people.user(session, name), KIND, subject, text, html=html)
            ids.append(result.id)
        session.commit()
    return ids


def _states(app) -> dict[int, tuple[str, int, str | None]]:
    with new_session(app) as session:
        return {
            r.id: (r.state, r.attempts, r.last_error)
            for r in session.scalars(select(MailOutbox).order_by(MailOutbox.id))
        }


def test_the_received_message_has_its_headers_bodies_and_unsubscribe_link(
    app, people, smtp, mail_config, sessions, tool_server
) -> None:
    [row_id] = _queue(app, people, "ada", html="<p>Hello <strong>Ada</strong></p>")
    stats = send_once(sessions, mail_config(smtp.port))
    assert (stats.claimed, stats.sent, stats.retried, stats.dead) == (1, 1, 0, 0)
    [message] = smtp.sink.messages
    assert smtp.sink.envelopes == [("noreply@commons.test", ["ada@school.test"])]
    url = unsubscribe_url(tool_server.url, app.config["SECRET_KEY"], people.ids["ada"], KIND)
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Learning Commons", "noreply@commons.test")
    assert message["To"] == "ada@school.test"
    assert message["Subject"] == "Your check-in"
    assert message["Message-ID"] == f"<mail-{row_id}@commons.test>"
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Hello Ada,\nyour check-in is due on Friday." in text
    assert "You get this e-mail for: Test notices." in text and url in text
    html = message.get_body(("html",)).get_content()
    assert "<p>Hello <strong>Ada</strong></p>" in html and f'href="{url}"' in html
    state, attempts, error = _states(app)[row_id]
    assert (state, attempts, error) == (SENT, 1, None)
    with new_session(app) as session:
        assert session.get(MailOutbox, row_id).sent_at is not None
    assert send_once(sessions, mail_config(smtp.port)).claimed == 0  # sent once only


def test_a_message_without_html_is_plain_text_only(
    app, people, smtp, mail_config, sessions
) -> None:
    _queue(app, people, "bob")
    send_once(sessions, mail_config(smtp.port))
    [message] = smtp.sink.messages
    assert not message.is_multipart() and message.get_content_type() == "text/plain"


def test_smtp_down_loses_nothing_retries_later_then_delivers(
    app, people, smtp_down, mail_config, sessions
) -> None:
    ids = _queue(app, people, "ada", "bob")
    cfg = mail_config(smtp_down.port)
    stats = send_once(sessions, cfg)
    assert (stats.claimed, stats.sent, stats.retried) == (2, 0, 2)
    states = _states(app)
    for row_id in ids:
        state, attempts, error = states[row_id]
        assert state == QUEUED and attempts == 1
        assert f"SMTP server 127.0.0.1:{smtp_down.port}" in error
    # backoff: not due again right away, even once the server is up
    smtp_down.start()
    assert send_once(sessions, cfg).claimed == 0
    later = utcnow() + timedelta(seconds=cfg.backoff_base + 1)
    stats = send_once(sessions, cfg, now=later)
    assert (stats.claimed, stats.sent) == (2, 2)
    assert {m["To"] for m in smtp_down.sink.messages} == {"ada@school.test", "bob@school.test"}
    assert {row_id: s[0] for row_id, s in _states(app).items()} == {i: SENT for i in ids}


def test_a_server_down_too_long_makes_the_row_dead_after_max_attempts(
    app, people, smtp_down, mail_config, sessions
) -> None:
    [row_id] = _queue(app, people, "ada")
    cfg = mail_config(smtp_down.port, max_attempts=3)
    at = utcnow()
    for attempt in (1, 2, 3):
        stats = send_once(sessions, cfg, now=at)
        assert stats.claimed == 1
        at += timedelta(seconds=cfg.backoff_cap + 1)
        state, attempts, error = _states(app)[row_id]
        assert attempts == attempt
    assert state == DEAD and "gave up after 3 attempts" in error


def test_a_refused_recipient_is_dead_and_does_not_block_the_others(
    app, people, smtp, mail_config, sessions
) -> None:
    smtp.sink.refuse["bounce@school.test"] = "550 5.1.1 No such user here"
    ada, bounce, bob = _queue(app, people, "ada", "bounce", "bob")
    stats = send_once(sessions, mail_config(smtp.port))
    assert (stats.sent, stats.dead, stats.retried) == (2, 1, 0)
    assert sorted(m["To"] for m in smtp.sink.messages) == ["ada@school.test", "bob@school.test"]
    states = _states(app)
    assert states[ada][0] == SENT and states[bob][0] == SENT
    assert states[bounce][0] == DEAD and states[bounce][2].startswith("550 5.1.1 No such user")


def test_a_temporary_refusal_is_tried_again(app, people, smtp, mail_config, sessions) -> None:
    smtp.sink.refuse["bounce@school.test"] = "451 4.3.0 Try again later"
    [row_id] = _queue(app, people, "bounce")
    cfg = mail_config(smtp.port)
    assert send_once(sessions, cfg).retried == 1
    assert _states(app)[row_id][:2] == (QUEUED, 1)
    del smtp.sink.refuse["bounce@school.test"]
    later = utcnow() + timedelta(seconds=cfg.backoff_cap + 1)
    assert send_once(sessions, cfg, now=later).sent == 1
    assert [m["To"] for m in smtp.sink.messages] == ["bounce@school.test"]


def test_without_smtp_host_nothing_is_sent_and_the_worker_says_so(
    app, people, smtp, sessions
) -> None:
    ids = _queue(app, people, "ada", "bob")
    config = {**app.config, "SMTP_HOST": "", "SMTP_PORT": smtp.port}
    line = deliver_outbox(sessions, config, once=True, idle_sleep=0, stop=threading.Event())
    assert line == "SMTP_HOST is not set: nothing sent; 2 e-mails wait in the outbox."
    assert smtp.sink.messages == []
    assert {i: s[:2] for i, s in _states(app).items()} == {i: (QUEUED, 0) for i in ids}
    # ``commons worker --once`` runs the same loop: its report carries that line
    assert not app.config["SMTP_HOST"]
    report = jobs.run_worker(app, once=True)
    assert "SMTP_HOST is not set: nothing sent; 2 e-mails wait in the outbox." in report.lines
    assert smtp.sink.messages == []


def test_the_worker_loop_sends_with_smtp_set(app, people, smtp, sessions) -> None:
    _queue(app, people, "ada", "bob")
    config = {
        **app.config,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "MAIL_FROM": "noreply@commons.test",
    }
    line = deliver_outbox(sessions, config, once=True, idle_sleep=0, stop=threading.Event())
    assert line == "Sent 2, refused 0, to retry 0."
    assert len(smtp.sink.messages) == 2


def test_two_workers_never_send_one_row_twice(app, people, smtp, mail_config, sessions) -> None:
    with new_session(app) as session:
        for n in range(30):
            person = people.user(session, "ada" if n % 2 else "bob")
            queue(session, person, KIND, f"Message {n}", f"Body {n}")
        session.commit()
    cfg = mail_config(smtp.port, batch_size=4)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            while send_once(sessions, cfg).claimed:
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    ids = [m["Message-ID"] for m in smtp.sink.messages]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert sorted(m["Subject"] for m in smtp.sink.messages) == sorted(
        f"Message {n}" for n in range(30)
    )
    assert {s[:2] for s in _states(app).values()} == {(SENT, 1)}


def test_unsubscribing_cancels_what_waits_so_it_is_never_sent(
    app, people, smtp, mail_config, sessions
) -> None:
    from plugin.mail.services import set_delivery

    _queue(app, people, "ada", "bob")
    with new_session(app) as session:
        set_delivery(session, people.ids["ada"], KIND, "off")
        session.commit()
        assert delivery_for(session, people.ids["ada"], KIND) == "off"
    assert send_once(sessions, mail_config(smtp.port)).sent == 1
    assert [m["To"] for m in smtp.sink.messages] == ["bob@school.test"]


def test_a_long_unsubscribe_url_stays_one_readable_header(
    app, people, smtp, mail_config, sessions
) -> None:
    """Folding at 78 characters would write a long URL as encoded words; it is kept whole."""
    base = "https://commons.a-rather-long-university-name.example.edu/tools/learning-commons"
    _queue(app, people, "ada", subject="Ünïcode subject " * 5)
    send_once(sessions, mail_config(smtp.port, base_url=base))
    [message] = smtp.sink.messages
    url = unsubscribe_url(base, app.config["SECRET_KEY"], people.ids["ada"], KIND)
    assert message["List-Unsubscribe"] == f"<{url}>" and len(url) > 78
    assert message["Subject"] == ("Ünïcode subject " * 5).strip()
