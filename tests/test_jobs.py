"""The job queue (plugin/jobs.py) on the real database: queuing with a dedupe key, running, a
failing job that never stops the others (backoff, give up), periodic tasks, claims shared by
several workers, a stopped worker's lease, the development thread and ``commons worker``."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import select, update

from plugin import jobs
from plugin.db import get_engine, new_session, utcnow
from plugin.jobs import DONE, FAILED, QUEUED, RUNNING, Job


class Recorder:
    """Handlers for test kinds: what ran, in which thread; a kind that fails as told."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ran: list[tuple[str, dict]] = []
        self.threads: Counter[str] = Counter()

    def ok(self, session, payload, config) -> str:
        with self.lock:
            self.ran.append(("ok", payload))
            self.threads[threading.current_thread().name] += 1
        threading.Event().wait(float(payload.get("sleep", 0)))
        return f"did {payload.get('n')}"

    def boom(self, session, payload, config) -> None:
        with self.lock:
            self.ran.append(("boom", payload))
        # a write the failure must roll back: a follow-up job
        jobs.enqueue(session, "test.ok", {"n": "follow-up"})
        raise RuntimeError("the far end said no")

    def expected(self, session, payload, config) -> None:
        with self.lock:
            self.ran.append(("expected", payload))
        raise jobs.JobError("the platform could not be reached")

    def give_up(self, session, payload, config) -> None:
        raise jobs.GiveUp("the course is gone")

    def follow_up(self, session, payload, config) -> str:
        with self.lock:
            self.ran.append(("follow_up", payload))
        jobs.enqueue(session, "test.ok", {"n": "next"})
        return "queued the next one"

    def tick(self, session, payload, config) -> str:
        with self.lock:
            self.ran.append(("tick", payload))
        return "tick"


@pytest.fixture
def rec() -> Iterator[Recorder]:
    r = Recorder()
    jobs.register("test.ok", r.ok)
    jobs.register("test.boom", r.boom, max_attempts=3)
    jobs.register("test.expected", r.expected)
    jobs.register("test.give_up", r.give_up)
    jobs.register("test.follow_up", r.follow_up)
    yield r
    for kind in ("test.ok", "test.boom", "test.expected", "test.give_up", "test.follow_up"):
        jobs.unregister(kind)
    jobs.unregister("test.tick")


def queue(app: Flask, kind: str, payload: dict | None = None, **kw) -> int | None:
    with new_session(app) as s:
        job_id = jobs.enqueue(s, kind, payload or {}, **kw)
        s.commit()
        return job_id


def all_jobs(app: Flask) -> dict[int, Job]:
    with new_session(app) as s:
        return {j.id: j for j in s.scalars(select(Job))}


def run(app: Flask, **kw) -> jobs.JobStats:
    return jobs.run_jobs(lambda: new_session(app), app.config, once=True, **kw)


def mine(app: Flask) -> dict[int, Job]:
    """Jobs of the test kinds (the app's own periodic tasks run beside them)."""
    return {i: j for i, j in all_jobs(app).items() if j.kind.startswith("test.")}


def test_a_dedupe_key_is_held_while_queued_or_running_then_released(app, rec) -> None:
    first = queue(app, "test.ok", {"n": 1}, dedupe_key="sync:1")
    assert first is not None
    assert queue(app, "test.ok", {"n": 2}, dedupe_key="sync:1") is None  # already queued
    other = queue(app, "test.ok", {"n": 3}, dedupe_key="sync:2")
    assert other is not None
    assert len(mine(app)) == 2
    with new_session(app) as s:
        assert jobs.open_job(s, "sync:1").id == first
    stats = run(app)
    assert stats.failed == stats.retried == 0
    assert sorted(p["n"] for kind, p in rec.ran) == [1, 3]
    done = mine(app)[first]
    assert done.state == DONE and done.dedupe_key is None and done.result == "did 1"
    assert done.finished_at is not None and done.attempts == 1 and done.claimed_by is None
    again = queue(app, "test.ok", {"n": 4}, dedupe_key="sync:1")  # released: may queue again
    assert again not in (None, first)
    with pytest.raises(ValueError, match="no handler"):
        queue(app, "test.nobody")


def test_a_failing_job_never_stops_the_others_and_is_retried_with_backoff(app, rec) -> None:
    boom = queue(app, "test.boom", {"n": "b"})
    expected = queue(app, "test.expected", {"n": "e"})
    oks = [queue(app, "test.ok", {"n": n}) for n in range(3)]
    before = utcnow()
    stats = run(app)
    assert (stats.done, stats.retried) >= (3, 2) and stats.failed == 0
    assert [p["n"] for kind, p in rec.ran if kind == "ok"] == [0, 1, 2]
    state = mine(app)
    assert {state[i].state for i in oks} == {DONE}
    failed = state[boom]
    assert failed.state == QUEUED and failed.attempts == 1 and failed.claimed_by is None
    assert failed.last_error == "RuntimeError: the far end said no"
    base = app.config["JOBS_BACKOFF_BASE"]
    wait = (failed.run_after - before).total_seconds()
    assert base / 2 - 1 <= wait <= base + 5  # attempt 1: between half and all of the base
    assert state[expected].last_error == "the platform could not be reached"  # as written
    # its write (a follow-up job) was rolled back with it
    assert not [j for j in state.values() if j.payload.get("n") == "follow-up"]
    assert any(f"job {boom} test.boom" in f and "will retry" in f for f in stats.failures)
    assert all("Traceback" not in f for f in stats.failures)

    ran = len(rec.ran)
    run(app)
    assert len(rec.ran) == ran  # not due yet: nothing runs again at once
    later = utcnow() + timedelta(hours=3)
    run(app, now=lambda: later)
    assert mine(app)[boom].attempts == 2 and mine(app)[boom].state == QUEUED
    stats = run(app, now=lambda: later + timedelta(hours=3))
    gone = mine(app)[boom]
    assert (gone.state, gone.attempts) == (FAILED, 3)  # max_attempts=3 for this kind
    assert gone.dedupe_key is None and gone.finished_at is not None
    assert stats.failed >= 1 and any("gave up" in f for f in stats.failures)


def test_give_up_fails_at_once_and_a_handler_without_a_kind_fails(app, rec) -> None:
    gone = queue(app, "test.give_up", dedupe_key="course:9")
    orphan = queue(app, "test.ok", {"n": "orphan"})
    jobs.unregister("test.ok")  # e.g. an older version of the code queued it
    stats = run(app)
    state = mine(app)
    assert (state[gone].state, state[gone].attempts, state[gone].last_error) == (
        FAILED,
        1,
        "the course is gone",
    )
    assert state[gone].dedupe_key is None
    assert state[orphan].state == FAILED and "no handler" in state[orphan].last_error
    assert stats.failed == 2


def test_a_handlers_writes_commit_with_its_done_mark(app, rec) -> None:
    queue(app, "test.follow_up", {"n": "first"})
    run(app)
    kinds = sorted((j.kind, j.state, j.payload.get("n")) for j in mine(app).values())
    assert kinds == [("test.follow_up", DONE, "first"), ("test.ok", DONE, "next")]


def test_periodic_tasks_run_when_due_and_queue_their_next_run(app, rec) -> None:
    jobs.every(5, "test.tick", rec.tick)
    assert jobs.periodic()["test.tick"] == 5
    t0 = utcnow()
    run(app, now=lambda: t0)
    assert [k for k, _ in rec.ran].count("tick") == 1
    ticks = [j for j in all_jobs(app).values() if j.kind == "test.tick"]
    assert sorted(j.state for j in ticks) == [DONE, QUEUED]
    (nxt,) = [j for j in ticks if j.state == QUEUED]
    assert nxt.dedupe_key == "every:test.tick"
    assert timedelta(minutes=5) - timedelta(seconds=5) <= nxt.run_after - t0
    run(app, now=lambda: t0 + timedelta(minutes=1))
    assert [k for k, _ in rec.ran].count("tick") == 1  # not due
    run(app, now=lambda: t0 + timedelta(minutes=6))
    assert [k for k, _ in rec.ran].count("tick") == 2
    # the app's own periodic tasks ran too
    kinds = {j.kind for j in all_jobs(app).values() if j.state == DONE}
    assert {"lti.purge", "jobs.cleanup"} <= kinds


def test_a_periodic_failure_waits_for_its_next_turn(app, rec) -> None:
    jobs.every(5, "test.tick", rec.expected)
    t0 = utcnow()
    stats = run(app, now=lambda: t0)
    ticks = sorted((j for j in all_jobs(app).values() if j.kind == "test.tick"), key=lambda j: j.id)
    assert [j.state for j in ticks] == [FAILED, QUEUED]
    assert ticks[0].last_error == "the platform could not be reached"
    assert ticks[1].run_after - t0 >= timedelta(minutes=4)
    assert stats.failed == 1


def test_a_stopped_workers_job_is_claimed_again_after_its_lease(app, rec) -> None:
    job_id = queue(app, "test.ok", {"n": "lease"})
    cfg = jobs.WorkerConfig.from_mapping(app.config)
    now = utcnow()
    claimed = jobs.claim(lambda: new_session(app), cfg, now, "crashed-worker:1")
    assert claimed is not None and claimed.id == job_id  # ... and that worker dies
    assert mine(app)[job_id].state == RUNNING
    run(app, now=lambda: now + timedelta(seconds=60))
    assert mine(app)[job_id].state == RUNNING and not rec.ran  # its lease is still running
    run(app, now=lambda: now + timedelta(seconds=cfg.lease_seconds + 1))
    assert rec.ran == [("ok", {"n": "lease"})]
    again = mine(app)[job_id]
    assert (again.state, again.attempts) == (DONE, 2)
    # the stopped worker's late finish does not count: the claim is no longer its own
    with new_session(app) as s:
        assert not jobs._finish(s, claimed, {"state": DONE}, utcnow())
        s.rollback()


def test_finished_jobs_are_deleted_after_the_keep_time(app, rec) -> None:
    old, recent = queue(app, "test.ok", {"n": 1}), queue(app, "test.ok", {"n": 2})
    waiting = queue(app, "test.ok", {"n": 3}, run_after=utcnow() + timedelta(days=30))
    run(app)
    with new_session(app) as s:
        s.execute(update(Job).where(Job.id == old).values(finished_at=utcnow() - timedelta(days=8)))
        assert jobs.cleanup(s, keep_days=7) == 1
        s.commit()
    assert set(mine(app)) == {recent, waiting}


def _two_workers(app: Flask, count: int) -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            run(app, worker=name)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",), name=f"w{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors


def test_two_workers_run_each_job_once(app, rec) -> None:
    count = 40
    ids = [queue(app, "test.ok", {"n": n, "sleep": 0.01}) for n in range(count)]
    _two_workers(app, count)
    ran = Counter(p["n"] for kind, p in rec.ran if kind == "ok")
    assert ran == Counter(range(count))  # every job exactly once
    state = mine(app)
    assert {state[i].state for i in ids} == {DONE}
    assert {state[i].attempts for i in ids} == {1}
    if get_engine(app).dialect.name == "postgresql":  # SKIP LOCKED: both took their share
        assert len(rec.threads) == 2 and min(rec.threads.values()) >= 5


def test_the_development_thread_runs_a_queued_job_when_woken(app, rec) -> None:
    assert app.config["WORKER_THREAD"] is False  # never on in tests unless asked
    assert jobs.wake(app) is False  # no thread: nothing to wake
    thread = jobs.start_worker_thread(app, idle_sleep=60)
    try:
        assert jobs.start_worker_thread(app) is thread  # idempotent
        job_id = queue(app, "test.ok", {"n": "woken"})
        assert jobs.wake(app) is True
        deadline = utcnow() + timedelta(seconds=15)
        while utcnow() < deadline and mine(app)[job_id].state != DONE:
            threading.Event().wait(0.05)
        assert mine(app)[job_id].state == DONE  # long before the 60 s idle sleep
    finally:
        jobs.stop_worker_thread(app)
    assert not thread.is_alive()


def test_worker_command_runs_the_outbox_the_jobs_and_the_periodic_tasks(app, rec) -> None:
    from plugin.cli import main

    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: app)
    queue(app, "test.ok", {"n": "cli"})
    result = runner.invoke(main, ["worker", "--once"], obj=info)
    assert result.exit_code == 0, result.output
    assert "Delivered 0, refused 0, to retry 0" in result.output  # the xAPI outbox loop
    assert "Jobs: " in result.output and "0 to retry, 0 failed" in result.output
    kinds = {j.kind for j in all_jobs(app).values() if j.state == DONE}
    assert {"test.ok", "lti.purge", "jobs.cleanup"} <= kinds

    queue(app, "test.boom", {"n": "cli"})
    queue(app, "test.ok", {"n": "after"})
    result = runner.invoke(main, ["worker", "--once"], obj=info)
    assert result.exit_code == 1  # a job failed in this run: cron sees it
    assert "1 to retry" in result.output and "the far end said no" in result.output
    assert "Traceback" not in result.output
    assert ("ok", {"n": "after"}) in rec.ran  # the failure did not stop the next job
