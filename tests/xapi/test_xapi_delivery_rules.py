"""Delivery rules no other test guards (issue 9, items 22 and 23), against the real Ralph LRS behind
the fault-injecting proxy:

- only 200 and 204 mean "stored": any other answer to a statement POST (202, 300, a redirect…)
  leaves every row of the batch pending, none delivered;
- the LRS refusing one statement of a batch with 400 (what the xAPI spec prescribes for a bad
  statement) splits the batch until that statement is alone: it alone is parked as dead.
"""

from __future__ import annotations

from collections import Counter

import pytest

from plugin.db import utcnow
from plugin.xapi.forwarder import forward_once
from plugin.xapi.models import DEAD, DELIVERED, PENDING
from tests.support.ralph import Fault
from tests.xapi.xapi_world import LATER, lrs_config, outbox_rows, publish_many, session_factory

pytestmark = pytest.mark.lrs


# (status, where a redirect points: the LRS's heartbeat answers a GET with 200)
ANSWERS = [
    (202, None),  # "accepted for processing": not stored yet
    (300, None),  # multiple choices
    (201, None),  # not what xAPI answers for POST /statements
    (302, "/__heartbeat__"),  # a client that follows it would GET a 200 and believe it stored
    (303, "/__heartbeat__"),
]


@pytest.mark.parametrize(("status", "location"), ANSWERS, ids=[str(a[0]) for a in ANSWERS])
def test_an_answer_other_than_200_or_204_leaves_the_batch_pending(
    app_ctx, tenant, ralph, proxy, status, location
) -> None:
    ids = publish_many(app_ctx, tenant, 3)
    headers = {"Location": ralph.base_url + location} if location else {}
    proxy.faults = [Fault(status, headers=headers, body='{"detail": "not stored"}')]
    config = lrs_config(proxy.endpoint, ralph)

    stats = forward_once(session_factory(app_ctx), config)

    assert (stats.claimed, stats.delivered, stats.dead, stats.retried) == (3, 0, 0, 3)
    state = outbox_rows(app_ctx)
    for sid in ids:
        row = state[sid]
        assert row.state == PENDING, (status, row.state)
        assert row.delivered_at is None and row.claim_token is None
        assert row.attempts == 1 and f"HTTP {status}" in row.last_error
        assert row.next_attempt_at > utcnow()  # backs off like any other failure
    assert not set(ids) & set(ralph.stored_ids())
    assert [r.status for r in proxy.posts()] == [status]
    assert [r.method for r in proxy.records] == ["POST"]  # no redirect was followed

    # When the LRS answers properly again, the rows are delivered, each once.
    stats = forward_once(session_factory(app_ctx), config, now=utcnow() + LATER)
    assert stats.delivered == 3
    assert {outbox_rows(app_ctx)[sid].state for sid in ids} == {DELIVERED}
    stored = Counter(ralph.stored_ids())
    assert all(stored[sid] == 1 for sid in ids)


def test_one_statement_refused_with_400_is_parked_alone(app_ctx, tenant, ralph, proxy) -> None:
    ids = publish_many(app_ctx, tenant, 6)
    bad = ids[2]
    proxy.reject_ids = {bad}
    proxy.reject_status = 400
    config = lrs_config(proxy.endpoint, ralph)

    stats = forward_once(session_factory(app_ctx), config)

    assert (stats.claimed, stats.delivered, stats.dead, stats.retried) == (6, 5, 1, 0)
    state = outbox_rows(app_ctx)
    assert state[bad].state == DEAD
    assert (
        "HTTP 400" in state[bad].lrs_reply and f"statement {bad} rejected" in state[bad].lrs_reply
    )
    assert state[bad].delivered_at is None
    good = [sid for sid in ids if sid != bad]
    assert {state[sid].state for sid in good} == {DELIVERED}
    # The batch was split: the whole batch was refused first, the bad statement last on its own.
    posts = proxy.posts()
    assert posts[0].statement_ids == ids and posts[0].status == 400
    refused_alone = [p for p in posts if p.statement_ids == [bad]]
    assert [p.status for p in refused_alone] == [400]
    # Ralph holds every good statement exactly once, and not the refused one.
    stored = Counter(ralph.stored_ids())
    assert all(stored[sid] == 1 for sid in good) and stored[bad] == 0
    # Parked: later passes do not send it again.
    assert forward_once(session_factory(app_ctx), config, now=utcnow() + LATER).claimed == 0
