"""Delivery to a real Ralph LRS: batches, read-back, outages, retries, refusals, dead letters,
per-platform LRSs, the worker command and concurrent forwarders."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import update

from plugin import events
from plugin.db import new_session, unit_of_work, utcnow
from plugin.jobs import start_worker_thread, stop_worker_thread
from plugin.xapi import forwarder
from plugin.xapi import outbox as xoutbox
from plugin.xapi import vocabulary as vocab
from plugin.xapi.forwarder import ForwarderConfig, forward_once, run_worker
from plugin.xapi.lrs import LRSClient, LRSTarget, parse_retry_after
from plugin.xapi.models import DEAD, DELIVERED, PENDING, SENDING, XapiOutbox
from tests.support.ralph import Fault
from tests.xapi.xapi_world import (
    LATER,
    VARIANTS,
    lrs_config,
    make_tenant,
    outbox_rows,
    publish_many,
    session_factory,
)

pytestmark = pytest.mark.lrs


def test_every_statement_is_accepted_by_ralph_and_read_back(app_ctx, tenant, ralph) -> None:
    sent = []
    for kind in events.ALL_KINDS:
        sent.append(tenant.event(kind))
    for data_kind, data in VARIANTS.values():
        sent.append(tenant.event(data_kind, data=data))
    sent.append(
        tenant.event(events.CHECKIN_LOGGED, actor_id=tenant.mentor_id, data={"role": "mentor"})
    )
    with unit_of_work(new_session(app_ctx)) as s:
        for event in sent:
            events.publish(s, event)
    stats = forward_once(session_factory(app_ctx), lrs_config(ralph.endpoint, ralph))
    assert (stats.claimed, stats.delivered, stats.dead, stats.retried) == (
        len(sent),
        len(sent),
        0,
        0,
    )
    assert stats.requests == 1  # one batch
    assert {r.state for r in outbox_rows(app_ctx).values()} == {DELIVERED}

    learner_back = ralph.statements_for(tenant.agent())
    with new_session(app_ctx) as s:
        from plugin.lti.models import User

        mentor_sub = s.get(User, tenant.mentor_id).sub
    mentor_back = ralph.statements_for(tenant.agent(mentor_sub))
    back = {st["id"]: st for st in learner_back + mentor_back}
    assert set(back) == {events.statement_id(e) for e in sent}
    stored = outbox_rows(app_ctx)
    verbs_seen = set()
    for sid, st in back.items():
        ours = stored[sid].statement
        # The LRS keeps what we sent (it adds stored/authority).
        for key in ("actor", "verb", "object", "context", "timestamp"):
            assert st[key] == ours[key], key
        verbs_seen.add(st["verb"]["id"])
    base = app_ctx.config["COMMONS_SETTINGS"].tool_base_url
    assert verbs_seen == {v.resolve(base) for v in vocab.all_verbs()}


def test_lrs_down_while_acting_then_up_delivers_each_once(app_ctx, tenant, ralph, proxy) -> None:
    proxy.down = True
    ids = publish_many(app_ctx, tenant, 12)
    config = lrs_config(proxy.endpoint, ralph, XAPI_BATCH_SIZE=5)
    first = forward_once(session_factory(app_ctx), config)
    assert (first.claimed, first.delivered, first.retried, first.requests) == (5, 0, 5, 1)
    state = outbox_rows(app_ctx)
    failed = [r for r in state.values() if r.attempts == 1]
    assert len(failed) == 5
    for r in failed:
        assert r.state == PENDING and r.claim_token is None
        assert r.next_attempt_at > utcnow() and "no answer from the LRS" in r.last_error
    # The others are still due; the failed ones wait for their backoff.
    second = forward_once(session_factory(app_ctx), config)
    assert second.claimed == 5 and second.requests == 1  # a fresh batch, also failing

    proxy.down = False
    total = run_worker(session_factory(app_ctx), ForwarderConfig.from_mapping(config), once=True)
    assert total.delivered == 2  # only the 2 never tried are due now
    later = utcnow() + LATER
    while forward_once(session_factory(app_ctx), config, now=later).claimed:
        pass
    state = outbox_rows(app_ctx)
    assert {r.state for r in state.values()} == {DELIVERED}
    assert all(r.delivered_at is not None and r.last_error is None for r in state.values())
    accepted = proxy.accepted_counts()
    assert set(accepted) == set(ids) and set(accepted.values()) == {1}
    stored = Counter(ralph.stored_ids())
    assert all(stored[i] == 1 for i in ids)
    assert forward_once(session_factory(app_ctx), config, now=later).claimed == 0


def test_server_error_then_success(app_ctx, tenant, ralph, proxy) -> None:
    ids = publish_many(app_ctx, tenant, 3)
    proxy.faults = [Fault(503, body='{"detail": "maintenance"}')]
    config = lrs_config(proxy.endpoint, ralph)
    stats = forward_once(session_factory(app_ctx), config)
    assert (stats.delivered, stats.retried) == (0, 3)
    state = outbox_rows(app_ctx)
    assert all(r.state == PENDING and r.attempts == 1 for r in state.values())
    assert all("HTTP 503" in r.last_error and "maintenance" in r.last_error for r in state.values())
    # Backoff with jitter: 5 s base → between 2.5 and 5 s.
    for r in state.values():
        wait = (r.next_attempt_at - r.created_at).total_seconds()
        assert 2.0 <= wait <= 7.0
    assert forward_once(session_factory(app_ctx), config).claimed == 0  # not due yet
    stats = forward_once(session_factory(app_ctx), config, now=utcnow() + LATER)
    assert stats.delivered == 3
    assert set(proxy.accepted_counts()) == set(ids)
    assert [r.status for r in proxy.posts()] == [503, 200]


def test_too_many_requests_respects_retry_after(app_ctx, tenant, ralph, proxy) -> None:
    publish_many(app_ctx, tenant, 2)
    proxy.faults = [Fault(429, headers={"Retry-After": "600"})]
    before = utcnow()
    forward_once(session_factory(app_ctx), lrs_config(proxy.endpoint, ralph))
    for r in outbox_rows(app_ctx).values():
        assert r.state == PENDING
        assert r.next_attempt_at >= before + timedelta(seconds=600)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_backoff_grows_and_is_capped() -> None:
    cfg = ForwarderConfig(backoff_base=5, backoff_cap=3600)
    for attempts, ceiling in ((0, 5), (1, 10), (3, 40), (20, 3600)):
        delays = [forwarder.backoff_seconds(attempts, cfg, None) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert forwarder.backoff_seconds(0, cfg, 900) == 900


def test_refused_statement_is_isolated_parked_and_resent(app_ctx, tenant, ralph, proxy) -> None:
    ids = publish_many(app_ctx, tenant, 8)
    bad = ids[5]
    proxy.reject_ids = {bad}
    config = lrs_config(proxy.endpoint, ralph)
    stats = forward_once(session_factory(app_ctx), config)
    assert (stats.delivered, stats.dead, stats.retried) == (7, 1, 0)
    # 8 → 4+4 → the bad half splits 2+2 → 1+1: 1 + 2 + 2 + 2 = 7 requests
    assert stats.requests == 7
    state = outbox_rows(app_ctx)
    assert state[bad].state == DEAD
    assert f"statement {bad} rejected" in state[bad].lrs_reply
    assert "HTTP 422" in state[bad].lrs_reply
    assert all(state[i].state == DELIVERED for i in ids if i != bad)
    assert (
        forward_once(session_factory(app_ctx), config, now=utcnow() + LATER).claimed == 0
    )  # parked

    proxy.reject_ids = set()  # the LRS was fixed
    with unit_of_work(new_session(app_ctx)) as s:
        assert xoutbox.resend(s, scope=xoutbox.Scope(tenant.platform_id)) == 1
    row = outbox_rows(app_ctx)[bad]
    assert (row.state, row.attempts) == (PENDING, 0)
    stats = forward_once(session_factory(app_ctx), config)
    assert (stats.delivered, stats.dead) == (1, 0)
    assert outbox_rows(app_ctx)[bad].state == DELIVERED
    assert proxy.accepted_counts()[bad] == 1
    assert Counter(ralph.stored_ids())[bad] == 1


def test_ralph_refusal_is_kept_with_its_reply(app_ctx, tenant, ralph) -> None:
    """A row damaged after it was queued (e.g. by an old release) is refused by the real LRS."""
    good, damaged = publish_many(app_ctx, tenant, 2)
    with new_session(app_ctx) as s:
        row = s.get(XapiOutbox, damaged)
        broken = dict(row.statement)
        broken["actor"] = {"objectType": "Agent"}
        s.execute(
            update(XapiOutbox).where(XapiOutbox.statement_id == damaged).values(statement=broken)
        )
        s.commit()
    stats = forward_once(session_factory(app_ctx), lrs_config(ralph.endpoint, ralph))
    assert (stats.delivered, stats.dead) == (1, 1)
    state = outbox_rows(app_ctx)
    assert state[good].state == DELIVERED
    assert state[damaged].state == DEAD
    assert "HTTP 422" in state[damaged].lrs_reply and "actor" in state[damaged].lrs_reply
    assert damaged not in ralph.stored_ids()


def test_conflicting_copy_already_in_lrs_is_not_retried(app_ctx, tenant, ralph) -> None:
    [sid] = publish_many(app_ctx, tenant, 1)
    with new_session(app_ctx) as s:
        statement = dict(s.get(XapiOutbox, sid).statement)
    differing = {**statement, "timestamp": "2020-01-01T00:00:00.000Z"}
    client = LRSClient(LRSTarget(ralph.endpoint, ralph.username, ralph.password))
    assert client.post_statements([differing]).status == 200
    stats = forward_once(session_factory(app_ctx), lrs_config(ralph.endpoint, ralph))
    assert stats.delivered == 1
    row = outbox_rows(app_ctx)[sid]
    assert row.state == DELIVERED and "HTTP 409" in row.lrs_reply


def test_without_an_lrs_statements_wait(app_ctx, tenant, ralph, proxy) -> None:
    ids = publish_many(app_ctx, tenant, 2)
    stats = forward_once(session_factory(app_ctx), {"LRS_ENDPOINT": None})
    assert stats.claimed == 0
    assert {r.state for r in outbox_rows(app_ctx).values()} == {PENDING}
    # A platform with its own LRS is served even when no global LRS is set...
    other = make_tenant(
        app_ctx,
        lrs_endpoint=proxy.endpoint,
        lrs_username=ralph.username,
        lrs_password=ralph.password,
    )
    other_ids = publish_many(app_ctx, other, 2)
    stats = forward_once(session_factory(app_ctx), {"LRS_ENDPOINT": None})
    assert stats.delivered == 2
    state = outbox_rows(app_ctx)
    assert {state[i].state for i in other_ids} == {DELIVERED}
    assert {state[i].state for i in ids} == {PENDING}  # ...and the others keep waiting


def test_platform_lrs_overrides_the_configured_one(app_ctx, ralph, proxy) -> None:
    own = make_tenant(
        app_ctx,
        lrs_endpoint=proxy.endpoint,
        lrs_username=ralph.username,
        lrs_password=ralph.password,
    )
    shared = make_tenant(app_ctx)
    own_ids = publish_many(app_ctx, own, 2)
    shared_ids = publish_many(app_ctx, shared, 2)
    stats = forward_once(session_factory(app_ctx), lrs_config(ralph.endpoint, ralph))
    assert (stats.delivered, stats.requests) == (4, 2)
    assert set(proxy.accepted_counts()) == set(own_ids)  # only the platform's own went there
    stored = set(ralph.stored_ids())
    assert set(own_ids + shared_ids) <= stored


def test_wrong_credentials_are_retried_not_dropped(app_ctx, tenant, ralph) -> None:
    publish_many(app_ctx, tenant, 1)
    config = {**lrs_config(ralph.endpoint, ralph), "LRS_PASSWORD": "wrong"}
    stats = forward_once(session_factory(app_ctx), config)
    assert (stats.retried, stats.dead) == (1, 0)
    [row] = outbox_rows(app_ctx).values()
    assert row.state == PENDING and "HTTP 401" in row.last_error


def test_abandoned_claim_is_taken_over_after_its_lease(app_ctx, tenant, ralph) -> None:
    ids = publish_many(app_ctx, tenant, 3)
    cfg = ForwarderConfig.from_mapping(lrs_config(ralph.endpoint, ralph, XAPI_LEASE_SECONDS=60))
    claimed = forwarder.claim(session_factory(app_ctx), cfg, utcnow())  # then "crashes"
    assert len(claimed.rows) == 3
    assert {(r.state, r.claim_token) for r in outbox_rows(app_ctx).values()} == {
        (SENDING, claimed.token)
    }
    assert forward_once(session_factory(app_ctx), cfg).claimed == 0  # leased
    stats = forward_once(session_factory(app_ctx), cfg, now=utcnow() + timedelta(seconds=61))
    assert stats.delivered == 3
    assert set(ralph.stored_ids()) >= set(ids)


def test_worker_command_and_resend_command(app_ctx, tenant, ralph, proxy, monkeypatch) -> None:
    from plugin.cli import main

    for key, value in lrs_config(proxy.endpoint, ralph).items():
        monkeypatch.setitem(app_ctx.config, key, value)
    ids = publish_many(app_ctx, tenant, 4)
    proxy.reject_ids = {ids[0]}
    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: app_ctx)
    result = runner.invoke(main, ["worker", "--once"], obj=info)
    assert result.exit_code == 0, result.output
    assert "Delivered 3, refused 1" in result.output
    status = runner.invoke(main, ["xapi", "status"], obj=info)
    assert "delivered  3" in status.output and "dead  1" in status.output
    assert runner.invoke(main, ["xapi", "resend"], obj=info).exit_code != 0  # --dead required
    proxy.reject_ids = set()
    result = runner.invoke(main, ["xapi", "resend", "--dead"], obj=info)
    assert result.exit_code == 0 and "1 statement queued again" in result.output
    result = runner.invoke(main, ["worker", "--once"], obj=info)
    assert "Delivered 1, refused 0" in result.output
    assert {r.state for r in outbox_rows(app_ctx).values()} == {DELIVERED}
    profile = runner.invoke(main, ["xapi", "profile"], obj=info)
    assert '"type": "Profile"' in profile.output


def test_worker_thread_delivers_the_outbox_in_the_background(
    app_ctx, tenant, ralph, monkeypatch
) -> None:
    for key, value in lrs_config(ralph.endpoint, ralph).items():
        monkeypatch.setitem(app_ctx.config, key, value)
    assert app_ctx.config["WORKER_THREAD"] is False  # never on in tests unless asked
    thread = start_worker_thread(app_ctx, idle_sleep=0.05)
    try:
        assert start_worker_thread(app_ctx) is thread  # idempotent
        ids = publish_many(app_ctx, tenant, 3)
        deadline = utcnow() + timedelta(seconds=15)
        while utcnow() < deadline:
            if {r.state for r in outbox_rows(app_ctx).values()} == {DELIVERED}:
                break
            threading.Event().wait(0.05)
        assert {outbox_rows(app_ctx)[i].state for i in ids} == {DELIVERED}
    finally:
        stop_worker_thread(app_ctx)
    assert not thread.is_alive()


def _two_forwarders(app, ralph, proxy, tenant, count: int) -> list[str]:
    ids = publish_many(app, tenant, count)
    proxy.delay = 0.01  # make the passes overlap
    config = ForwarderConfig.from_mapping(lrs_config(proxy.endpoint, ralph, XAPI_BATCH_SIZE=7))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        try:
            barrier.wait()
            run_worker(session_factory(app), config, once=True)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    return ids


def _assert_each_delivered_once(app, ralph, proxy, ids) -> None:
    state = outbox_rows(app)
    assert {state[i].state for i in ids} == {DELIVERED}
    accepted = proxy.accepted_counts()
    assert {i: accepted[i] for i in ids} == dict.fromkeys(ids, 1)
    posted = Counter(i for rec in proxy.posts() for i in rec.statement_ids)
    assert {i: posted[i] for i in ids} == dict.fromkeys(ids, 1)  # never even sent twice
    stored = Counter(ralph.stored_ids())
    assert all(stored[i] == 1 for i in ids)


@pytest.mark.postgres
def test_two_forwarders_on_postgresql_deliver_each_statement_once(
    app_ctx, tenant, ralph, proxy
) -> None:
    from plugin.db import get_engine

    assert get_engine(app_ctx).dialect.name == "postgresql"
    ids = _two_forwarders(app_ctx, ralph, proxy, tenant, 150)
    _assert_each_delivered_once(app_ctx, ralph, proxy, ids)
    # Both forwarders did work (SKIP LOCKED let them take different batches concurrently).
    assert len(proxy.posts()) >= 150 // 7


@pytest.mark.sqlite
def test_two_forwarders_on_sqlite_deliver_each_statement_once(
    app_ctx, tenant, ralph, proxy
) -> None:
    ids = _two_forwarders(app_ctx, ralph, proxy, tenant, 60)
    _assert_each_delivered_once(app_ctx, ralph, proxy, ids)
