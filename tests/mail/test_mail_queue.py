"""Queuing e-mail in the caller's transaction: who gets nothing (and why), dedupe keys, and the
preferences that turn a kind off (also for mail already queued)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugin.db import new_session
from plugin.mail import ALREADY_QUEUED, NO_ADDRESS, TURNED_OFF, queue
from plugin.mail.models import CANCELLED, OFF, QUEUED, MailOutbox, MailPreference
from plugin.mail.services import delivery_for, set_delivery, usable_address
from tests.mail.conftest import KIND, OTHER_KIND


def _rows(app) -> list[MailOutbox]:
    with new_session(app) as session:
        return list(session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


def test_queue_writes_a_row_only_when_the_callers_unit_of_work_commits(app, people) -> None:
    with new_session(app) as session:
        result = queue(session, people.user(session, "ada"), KIND, "Hello", "Body")
        assert result.queued and result.reason is None
        session.rollback()  # the act failed: its e-mail goes with it
    assert _rows(app) == []
    with new_session(app) as session:
        result = queue(
            session,
            people.user(session, "ada"),
            KIND,
            "A subject\r\nBcc: someone@else.test",
            "Plain body",
            html="<p>Body</p>",
        )
        session.commit()
    [row] = _rows(app)
    assert row.id == result.id and row.state == QUEUED and row.attempts == 0
    assert row.recipient == "ada@school.test" and row.kind == KIND
    assert row.subject == "A subject Bcc: someone@else.test"  # one line: no header injection
    assert row.text_body == "Plain body" and row.html_body == "<p>Body</p>"


def test_nothing_is_queued_for_a_person_without_an_address(app, people) -> None:
    with new_session(app) as session:
        result = queue(session, people.user(session, "nobody"), KIND, "Hello", "Body")
        session.commit()
    assert not result.queued and result.reason == NO_ADDRESS
    assert _rows(app) == []


@pytest.mark.parametrize(
    "address",
    [
        "",
        "plain",
        "a@b",
        "two@@x.test",
        "a b@x.test",
        "a@x.test, c@y.test",
        "<a@x.test>",
        "a@x\n.test",
    ],
)
def test_addresses_that_could_add_a_recipient_or_header_are_not_used(address: str) -> None:
    assert not usable_address(address)
    assert usable_address("first.last+tag@mail.school.test")


def test_a_kind_turned_off_queues_nothing_and_cancels_what_waits(app, people) -> None:
    with new_session(app) as session:
        ada = people.user(session, "ada")
        waiting = queue(session, ada, KIND, "Waiting", "Body")
        other = queue(session, ada, OTHER_KIND, "Other kind", "Body")
        session.commit()
    with new_session(app) as session:
        assert delivery_for(session, people.ids["ada"], KIND) == "immediate"  # the default
        assert set_delivery(session, people.ids["ada"], KIND, OFF) == 1
        session.commit()
    with new_session(app) as session:
        refused = queue(session, people.user(session, "ada"), KIND, "After", "Body")
        kept = queue(session, people.user(session, "bob"), KIND, "Bob's", "Body")
        session.commit()
    assert not refused.queued and refused.reason == TURNED_OFF
    assert kept.queued  # one person's choice only
    states = {row.id: row.state for row in _rows(app)}
    assert states == {waiting.id: CANCELLED, other.id: QUEUED, kept.id: QUEUED}
    with new_session(app) as session:
        set_delivery(session, people.ids["ada"], KIND, "immediate")
        again = queue(session, people.user(session, "ada"), KIND, "Back on", "Body")
        session.commit()
        [pref] = session.scalars(select(MailPreference)).all()
        assert (pref.user_id, pref.kind, pref.delivery) == (people.ids["ada"], KIND, "immediate")
    assert again.queued


def test_a_dedupe_key_is_queued_once_per_person(app, people) -> None:
    with new_session(app) as session:
        ada, bob = people.user(session, "ada"), people.user(session, "bob")
        first = queue(session, ada, KIND, "Due", "Body", dedupe_key="checkin:1:2026-05-01")
        second = queue(session, ada, KIND, "Due", "Body", dedupe_key="checkin:1:2026-05-01")
        bobs = queue(session, bob, KIND, "Due", "Body", dedupe_key="checkin:1:2026-05-01")
        session.commit()
    assert first.queued and bobs.queued
    assert not second.queued and second.reason == ALREADY_QUEUED
    assert len(_rows(app)) == 2


def test_queue_refuses_an_undeclared_kind_and_an_empty_body(app, people) -> None:
    with new_session(app) as session:
        ada = people.user(session, "ada")
        with pytest.raises(ValueError, match="not registered"):
            queue(session, ada, "nobody.declared", "Hi", "Body")
        with pytest.raises(ValueError, match="text body"):
            queue(session, ada, KIND, "Hi", "  \n")


def test_migration_0014_down_and_up(tmp_path) -> None:
    from sqlalchemy import create_engine, inspect

    from plugin.migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        assert {"mail_outbox", "mail_preference"} <= set(inspect(engine).get_table_names())
        downgrade(url, "0014-1")
        assert not {"mail_outbox", "mail_preference"} & set(inspect(engine).get_table_names())
        upgrade(url)
        engine.dispose()
        indexes = {i["name"] for i in inspect(engine).get_indexes("mail_outbox")}
        assert indexes == {"ix_mail_outbox_claim", "ix_mail_outbox_user_kind"}
    finally:
        engine.dispose()
