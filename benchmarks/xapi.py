"""xAPI pipeline benchmark.

Prints, in one run:
1. what an event adds to its transaction (building, validating and inserting the outbox row):
   mean and p95 over N acts, next to the same transaction without the event;
2. the forwarder's delivery rate (statements/s) to a locally started Ralph LRS;
3. Ralph's own ingestion rate for the same statements in the same batches, posted directly;
4. the ratio forwarder / direct (goal: >= 0.9).

    .venv/bin/python benchmarks/xapi.py [--events 500] [--statements 3000] [--batch 100]
                                        [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Text, cast, select, update  # noqa: E402

from plugin import create_app, events  # noqa: E402
from plugin.config import Settings  # noqa: E402
from plugin.db import new_session, utcnow  # noqa: E402
from plugin.events import ActivityRef, DomainEvent  # noqa: E402
from plugin.lti.models import Context, Placement, Platform, User  # noqa: E402
from plugin.migrate import upgrade  # noqa: E402
from plugin.xapi.forwarder import ForwarderConfig, run_worker  # noqa: E402
from plugin.xapi.lrs import LRSClient, LRSTarget  # noqa: E402
from plugin.xapi.models import XapiOutbox  # noqa: E402
from tests.support.ralph import RalphLRS  # noqa: E402


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def setup_tenant(app) -> tuple[int, int, int, int]:
    """A platform, a learner, a course and a placement (the test suite's own tenant builder)."""
    from tests.xapi.xapi_world import make_tenant

    tenant = make_tenant(app)
    return tenant.platform_id, tenant.learner_id, tenant.context_id, tenant.placement_id


def reply_event(ids: tuple[int, int, int, int], n: int) -> DomainEvent:
    platform_id, user_id, context_id, placement_id = ids
    return DomainEvent(
        kind=events.REPLY_POSTED,
        identity=f"post:{n}:{uuid.uuid4().hex}",
        occurred_at=datetime.now(UTC),
        platform_id=platform_id,
        actor_user_id=user_id,
        object=ActivityRef("post", str(n), f"Reply {n}"),
        context_id=context_id,
        placement_id=placement_id,
        parents=(ActivityRef("thread", "1", "How do we give feedback?"),),
        data={
            "competencies": [
                {"iri": "https://case.example/items/feedback", "name": "Giving feedback"}
            ]
        },
    )


def request_transaction(session, ids: tuple[int, int, int, int]) -> list:
    """The stand-in for a request's work before the event: the launch's platform, user, course
    and activity are loaded and held (as ``plugin.web.load_current`` does), then one write."""
    platform_id, user_id, context_id, placement_id = ids
    loaded = [
        session.get(Platform, platform_id),
        session.get(User, user_id),
        session.get(Context, context_id),
        session.get(Placement, placement_id),
    ]
    session.execute(update(User).where(User.id == user_id).values(updated_at=utcnow()))
    return loaded


def bench_transactions(app, ids, n: int) -> None:
    from plugin.xapi import outbox

    without, with_event, event_part, xapi_part = [], [], [], []
    real_enqueue = outbox.enqueue

    def timed_enqueue(session, event):
        t = time.perf_counter()
        try:
            return real_enqueue(session, event)
        finally:
            xapi_part.append(time.perf_counter() - t)

    outbox.enqueue = timed_enqueue  # on_event calls it through the module
    try:
        for i in range(n + 20):
            with new_session(app) as s:
                t0 = time.perf_counter()
                current = request_transaction(s, ids)
                s.commit()
                t1 = time.perf_counter()
            with new_session(app) as s:
                t2 = time.perf_counter()
                current = request_transaction(s, ids)
                t3 = time.perf_counter()
                events.publish(s, reply_event(ids, i))
                s.flush()
                t4 = time.perf_counter()
                s.commit()
                t5 = time.perf_counter()
                del current
            if i < 20:  # warm-up excluded
                xapi_part.clear()
                continue
            without.append(t1 - t0)
            with_event.append(t5 - t2)
            event_part.append(t4 - t3)
    finally:
        outbox.enqueue = real_enqueue
    subscribers = ", ".join(events.subscribers())
    print(
        f"1. Event cost inside its transaction (N={n}, "
        f"{app.config['DATABASE_URL'].split(':')[0]}; subscribers: {subscribers})"
    )
    print(
        f"   xAPI subscriber (build, validate, insert) mean {ms(statistics.mean(xapi_part))}"
        f"  p95 {ms(p95(xapi_part))}"
    )
    print(
        f"   publish, all subscribers, flushed         mean {ms(statistics.mean(event_part))}"
        f"  p95 {ms(p95(event_part))}"
    )
    print(
        f"   transaction without the event             mean {ms(statistics.mean(without))}"
        f"  p95 {ms(p95(without))}"
    )
    print(
        f"   transaction with the event                mean {ms(statistics.mean(with_event))}"
        f"  p95 {ms(p95(with_event))}"
    )
    added = [w - o for w, o in zip(with_event, without, strict=True)]
    print(
        f"   added to the transaction by the event     mean {ms(statistics.mean(added))}"
        f"  p95 {ms(p95(added))}"
    )


def queue_statements(app, ids, count: int) -> list[str]:
    with new_session(app) as s:
        s.execute(XapiOutbox.__table__.delete())
        s.commit()
    n = 0
    while n < count:
        with new_session(app) as s:
            for _ in range(min(200, count - n)):
                events.publish(s, reply_event(ids, 100000 + n))
                n += 1
            s.commit()
    with new_session(app) as s:  # the stored JSON text, in the order the forwarder sends it
        return list(
            s.scalars(
                select(cast(XapiOutbox.statement, Text)).order_by(
                    XapiOutbox.next_attempt_at, XapiOutbox.created_at, XapiOutbox.statement_id
                )
            )
        )


def warm_up(lrs: RalphLRS) -> None:
    client = LRSClient(LRSTarget(lrs.endpoint, lrs.username, lrs.password))
    for _ in range(3):
        client.get_statements(limit=1)
    client.close()


def run_forwarder(app, lrs: RalphLRS, batch: int, expected: int) -> float:
    """The worker loop end to end (claim, POST, record), as ``commons worker --once``."""
    cfg = ForwarderConfig(
        endpoint=lrs.endpoint, username=lrs.username, password=lrs.password, batch_size=batch
    )
    t0 = time.perf_counter()
    stats = run_worker(lambda: new_session(app), cfg, once=True)
    seconds = time.perf_counter() - t0
    assert stats.delivered == expected, (stats, expected)
    assert len(lrs.stored_ids()) == expected
    return seconds


def run_direct(lrs: RalphLRS, statements: list[str], batch: int) -> float:
    """Ralph alone: the same statements in the same batches, bodies prepared beforehand."""
    client = LRSClient(LRSTarget(lrs.endpoint, lrs.username, lrs.password))
    bodies = [
        ("[" + ",".join(statements[i : i + batch]) + "]").encode()
        for i in range(0, len(statements), batch)
    ]
    t0 = time.perf_counter()
    for body in bodies:
        reply = client.post_raw(body)
        assert reply.ok, reply.describe()
    seconds = time.perf_counter() - t0
    client.close()
    assert len(lrs.stored_ids()) == len(statements)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--statements", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="delivery rounds (fresh LRSs each; medians are reported)",
    )
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="xapi-bench-") as tmp:
        tmpdir = Path(tmp)
        database_url = args.database_url or f"sqlite:///{tmpdir / 'bench.db'}"
        upgrade(database_url)
        app = create_app(
            settings=Settings(
                env="testing",
                database_url=database_url,
                secret_key="bench-" + uuid.uuid4().hex,
                tool_base_url="https://commons.example",
                sandbox_enabled=False,
            )
        )
        forward_times, direct_times = [], []
        try:
            with app.app_context():
                ids = setup_tenant(app)
                bench_transactions(app, ids, args.events)
                for r in range(args.rounds):
                    statements = queue_statements(app, ids, args.statements)
                    forward_lrs = RalphLRS(tmpdir / f"ralph-forwarder-{r}").start()
                    direct_lrs = RalphLRS(tmpdir / f"ralph-direct-{r}").start()
                    try:
                        warm_up(forward_lrs)
                        warm_up(direct_lrs)
                        if r % 2:  # alternate the order to cancel drift
                            direct_times.append(run_direct(direct_lrs, statements, args.batch))
                            forward_times.append(
                                run_forwarder(app, forward_lrs, args.batch, len(statements))
                            )
                        else:
                            forward_times.append(
                                run_forwarder(app, forward_lrs, args.batch, len(statements))
                            )
                            direct_times.append(run_direct(direct_lrs, statements, args.batch))
                    finally:
                        forward_lrs.stop()
                        direct_lrs.stop()
        finally:
            app.extensions["commons.engine"].dispose()

    n = args.statements
    forward_rate = n / statistics.median(forward_times)
    direct_rate = n / statistics.median(direct_times)
    ratios = [d / f for f, d in zip(forward_times, direct_times, strict=True)]
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    print(
        f"2. Forwarder -> Ralph: {n} statements, median {statistics.median(forward_times):.2f} s"
        f" = {forward_rate:.0f} statements/s (batches of {args.batch}, {args.rounds} rounds)"
    )
    print(
        f"3. Ralph direct:       {n} statements, median {statistics.median(direct_times):.2f} s"
        f" = {direct_rate:.0f} statements/s"
    )
    ratio = statistics.median(ratios)
    print(
        f"4. Ratio forwarder / direct = {ratio:.2f} (median of rounds: {rounds}; "
        f"goal >= 0.90: {'met' if ratio >= 0.9 else 'NOT met'})"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"   ({os.cpu_count()} CPUs, load average {load:.2f}: Ralph, the forwarder and its "
        "database thread share them; a busy machine lowers the ratio)"
    )


if __name__ == "__main__":
    main()
