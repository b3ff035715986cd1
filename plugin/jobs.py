"""Background work: a job queue in the database, periodic tasks, and the worker that runs them.

Every package can use it; nothing here knows about LTI, boards or xAPI. A package wires itself in
at ``init_app``::

    from plugin import jobs

    def sync_roster(session, payload, config):          # the job's work, in one transaction
        ...
        return "8 members"                              # a one-line summary (optional)

    jobs.register("lti.roster_sync", sync_roster)        # a kind of job
    jobs.every(10, "lti.purge", purge)                   # a periodic task, every 10 minutes
    jobs.register_loop("xAPI outbox", deliver_outbox)    # a loop of its own (see run_worker)

and anything holding a session queues work in its own transaction (the job exists only if that
transaction commits)::

    jobs.enqueue(session, "lti.roster_sync", {"context_id": 3}, dedupe_key="roster:3")

Rules:

- ``commons worker`` runs every registered loop, the due jobs and the periodic tasks (``--once``:
  until nothing is due, then exit); under ``make run`` a daemon thread of the web process does the
  same (:func:`start_worker_thread`). Requests never run jobs.
- A handler gets a fresh session and the app's config; it must not commit. Its changes and the
  job's ``done`` mark commit together, and only while the worker still holds the job's claim.
- A job runs at least once: a worker that stops while running one leaves it to be claimed again
  when its lease (``JOBS_LEASE_SECONDS``, 10 minutes) ends, so handlers must be idempotent.
- A failing job never stops the others: its error is logged and kept in ``last_error``, and it is
  tried again after an exponential backoff with jitter (``JOBS_BACKOFF_BASE`` seconds doubled per
  attempt, at most ``JOBS_BACKOFF_CAP``) until ``max_attempts`` (5), then it is ``failed``. A
  handler raises :class:`JobError` for an expected failure (logged without a stack trace) and
  :class:`GiveUp` when trying again cannot help.
- ``dedupe_key``: while a job with that key is queued or running, queuing another is a no-op
  (the key is released when the job ends), so the same roster sync is never queued twice.
- A periodic task is a job too (key ``every:<kind>``): each run queues the next one
  ``minutes`` later, whether it succeeded or failed, so several workers never run it twice at the
  same time and a failure waits for the next turn.
- Claims are safe with any number of workers: PostgreSQL picks with ``SELECT … FOR UPDATE SKIP
  LOCKED``; SQLite claims with one conditional ``UPDATE … RETURNING`` (it has one writer at a
  time). Finished jobs are deleted after ``JOBS_KEEP_DAYS`` (7) by the ``jobs.cleanup`` task.
- Payloads are plain JSON and never hold secrets: ``last_error`` and the worker's summary show
  the kind and payload of a failed job.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import (
    JSON,
    Index,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from plugin.db import Base, UTCDateTime, utcnow

log = logging.getLogger(__name__)

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)
DEFAULT_MAX_ATTEMPTS = 5
MAX_ERROR_CHARS = 1000
WORKER_KEY = "commons.worker"

SessionFactory = Callable[[], Session]
Handler = Callable[[Session, dict[str, Any], Mapping[str, Any]], str | None]


class Loop(Protocol):
    """Work with a loop of its own (the xAPI outbox): runs until ``stop`` is set (``once``: until
    nothing is due) and returns a one-line summary of what it did."""

    def __call__(
        self,
        session_factory: SessionFactory,
        config: Mapping[str, Any],
        *,
        once: bool,
        idle_sleep: float,
        stop: threading.Event,
    ) -> str: ...


class JobError(Exception):
    """An expected failure (a platform that does not answer...): logged without a stack trace,
    and the job is tried again later. The message is shown to operators: no secrets."""


class GiveUp(JobError):
    """A failure that trying again cannot fix (the course is gone...): the job fails at once."""


class Job(Base):
    """One piece of background work: queued → running (claimed) → done, or back to queued after
    a failure (later ``run_after``), or failed after ``max_attempts``."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_due", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Held while the job is queued or running (unique), released (NULL) when it ends.
    dedupe_key: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    state: Mapped[str] = mapped_column(String(10), default=QUEUED)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_ATTEMPTS)
    claimed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- the registry (filled at init_app, like plugin.events) ---------------------------------------
@dataclass(frozen=True)
class _Kind:
    handler: Handler
    max_attempts: int
    every_minutes: float | None = None


_kinds: dict[str, _Kind] = {}
_loops: dict[str, Loop] = {}


def register(kind: str, handler: Handler, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
    """Say which function runs jobs of ``kind`` (registering a kind again replaces it)."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    _kinds[kind] = _Kind(handler, max_attempts)


def every(minutes: float, kind: str, handler: Handler) -> None:
    """Run ``handler`` every ``minutes`` (at most one run at a time over all workers)."""
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    _kinds[kind] = _Kind(handler, 1, float(minutes))


def unregister(kind: str) -> None:
    """Forget a kind of job or periodic task (queued jobs of it then fail: no handler)."""
    _kinds.pop(kind, None)


def register_loop(name: str, loop: Loop) -> None:
    """Work that keeps its own loop (``name`` titles its summary line)."""
    _loops[name] = loop


def kinds() -> list[str]:
    return sorted(_kinds)


def periodic() -> dict[str, float]:
    """Periodic task kinds and their interval in minutes."""
    return {k: v.every_minutes for k, v in sorted(_kinds.items()) if v.every_minutes}


# --- queuing -------------------------------------------------------------------------------------
def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(Job.__table__)


def enqueue(
    session: Session,
    kind: str,
    payload: Mapping[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    run_after: datetime | None = None,
    max_attempts: int | None = None,
) -> int | None:
    """Queue a job in the caller's transaction. Returns its id, or None when a job with the same
    ``dedupe_key`` is already queued or running (nothing is added then)."""
    known = _kinds.get(kind)
    if known is None:
        raise ValueError(f"no handler is registered for jobs of kind {kind!r}")
    now = utcnow()
    values = {
        "kind": kind,
        "payload": json.loads(json.dumps(dict(payload or {}))),  # plain JSON only
        "dedupe_key": dedupe_key,
        "state": QUEUED,
        "run_after": run_after or now,
        "attempts": 0,
        "max_attempts": max_attempts or known.max_attempts,
        "created_at": now,
    }
    statement = _insert(session).values(**values).on_conflict_do_nothing().returning(Job.id)
    return session.execute(statement).scalar()


def open_job(session: Session, dedupe_key: str) -> Job | None:
    """The queued or running job holding ``dedupe_key``, if any."""
    return session.scalars(select(Job).where(Job.dedupe_key == dedupe_key)).first()


def _periodic_key(kind: str) -> str:
    return f"every:{kind}"


def schedule_periodic(session: Session, now: datetime | None = None) -> int:
    """Queue each periodic task that has no queued or running run (the first run is due now).
    Returns how many were queued."""
    queued = 0
    for kind, minutes in periodic().items():
        del minutes
        if enqueue(session, kind, dedupe_key=_periodic_key(kind), run_after=now) is not None:
            queued += 1
    return queued


# --- the worker's side ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerConfig:
    lease_seconds: float = 600.0
    backoff_base: float = 30.0
    backoff_cap: float = 3600.0
    keep_days: float = 7.0

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> WorkerConfig:
        return cls(
            lease_seconds=float(config.get("JOBS_LEASE_SECONDS") or 600.0),
            backoff_base=float(config.get("JOBS_BACKOFF_BASE") or 30.0),
            backoff_cap=float(config.get("JOBS_BACKOFF_CAP") or 3600.0),
            keep_days=float(config.get("JOBS_KEEP_DAYS") or 7.0),
        )


@dataclass
class JobStats:
    """What a run of the job queue did; ``failures`` are one-line descriptions."""

    done: int = 0
    retried: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ran(self) -> int:
        return self.done + self.retried + self.failed

    def add(self, other: JobStats) -> None:
        self.done += other.done
        self.retried += other.retried
        self.failed += other.failed
        self.failures.extend(other.failures)

    def summary(self) -> str:
        return f"Jobs: {self.done} done, {self.retried} to retry, {self.failed} failed."


@dataclass
class _Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    token: str

    def describe(self) -> str:
        payload = json.dumps(self.payload, sort_keys=True, ensure_ascii=False)
        if len(payload) > 120:
            payload = payload[:117] + "..."
        return f"job {self.id} {self.kind} {payload}"


def worker_name() -> str:
    """This process, for ``claimed_by`` (host and pid; each claim adds a random part)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


@functools.cache
def _sql() -> SimpleNamespace:
    t = Job.__table__
    now = bindparam("now", type_=UTCDateTime())
    due = or_(
        and_(t.c.state == QUEUED, t.c.run_after <= now),
        and_(t.c.state == RUNNING, t.c.claimed_until <= now),  # its worker stopped
    )
    pick = select(t.c.id).where(due).order_by(t.c.run_after, t.c.id).limit(1)
    claimed = {
        "state": RUNNING,
        "claimed_by": bindparam("token"),
        "claimed_until": bindparam("lease_until", type_=UTCDateTime()),
        "attempts": t.c.attempts + 1,
    }
    returning = (t.c.id, t.c.kind, t.c.payload, t.c.attempts, t.c.max_attempts)
    return SimpleNamespace(
        pick_locked=pick.with_for_update(skip_locked=True),
        claim_id=update(t)
        .where(t.c.id == bindparam("job_id"))
        .values(**claimed)
        .returning(*returning),
        claim_due=update(t)
        .where(t.c.id.in_(pick.scalar_subquery()), due)
        .values(**claimed)
        .returning(*returning),
    )


def claim(
    session_factory: SessionFactory, cfg: WorkerConfig, now: datetime, worker: str
) -> _Claimed | None:
    """Claim the next due job (a short transaction of its own), or None."""
    token = f"{worker}:{uuid.uuid4().hex[:8]}"
    values = {"now": now, "token": token, "lease_until": now + timedelta(seconds=cfg.lease_seconds)}
    with session_factory() as session:
        conn = session.connection()
        sql = _sql()
        if conn.dialect.name == "postgresql":
            picked = conn.execute(sql.pick_locked, values).scalar()
            row = (
                conn.execute(sql.claim_id, {**values, "job_id": picked}).first() if picked else None
            )
        else:  # SQLite: one statement; SQLite runs one writer at a time
            row = conn.execute(sql.claim_due, values).first()
        session.commit()
    if row is None:
        return None
    payload = row.payload if isinstance(row.payload, dict) else {}
    return _Claimed(row.id, row.kind, payload, row.attempts, row.max_attempts, token)


def backoff_seconds(attempts: int, cfg: WorkerConfig) -> float:
    """``backoff_base`` doubled per attempt, capped, with jitter (between half and all of it)."""
    ceiling = min(cfg.backoff_cap, cfg.backoff_base * (2 ** min(max(attempts - 1, 0), 30)))
    return ceiling * random.uniform(0.5, 1.0)


def _error_text(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, JobError) else f"{type(exc).__name__}: {exc}"
    return (text or type(exc).__name__)[:MAX_ERROR_CHARS]


def _mine(job: _Claimed):
    return and_(Job.id == job.id, Job.claimed_by == job.token, Job.state == RUNNING)


def _ended(session: Session, job: _Claimed, now: datetime) -> None:
    """A periodic task queues its next run when one ends (in the same transaction)."""
    known = _kinds.get(job.kind)
    if known is not None and known.every_minutes:
        enqueue(
            session,
            job.kind,
            dedupe_key=_periodic_key(job.kind),
            run_after=now + timedelta(minutes=known.every_minutes),
        )


def _finish(session: Session, job: _Claimed, values: dict[str, Any], now: datetime) -> bool:
    ended = values["state"] in (DONE, FAILED)
    if ended:
        values = {**values, "dedupe_key": None, "finished_at": now}
    changed = session.execute(
        update(Job)
        .where(_mine(job))
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return False
    if ended:
        _ended(session, job, now)
    return True


def _record_failure(
    session_factory: SessionFactory,
    cfg: WorkerConfig,
    job: _Claimed,
    error: str,
    retry: bool,
    stats: JobStats,
    now: datetime,
) -> None:
    if retry and job.attempts < job.max_attempts:
        delay = backoff_seconds(job.attempts, cfg)
        values: dict[str, Any] = {
            "state": QUEUED,
            "run_after": now + timedelta(seconds=delay),
            "last_error": error,
        }
    else:
        values = {"state": FAILED, "last_error": error}
    with session_factory() as session:
        if not _finish(session, job, values, now):
            session.rollback()
            log.warning("%s: its claim ended before its failure was recorded", job.describe())
            return
        session.commit()
    if values["state"] == QUEUED:
        stats.retried += 1
        stats.failures.append(f"{job.describe()}: {error} (attempt {job.attempts}, will retry)")
    else:
        stats.failed += 1
        stats.failures.append(f"{job.describe()}: {error} (attempt {job.attempts}, gave up)")


def run_one(
    session_factory: SessionFactory,
    config: Mapping[str, Any],
    job: _Claimed,
    cfg: WorkerConfig | None = None,
    now: Callable[[], datetime] = utcnow,
) -> JobStats:
    """Run one claimed job and record how it went (``now``: the worker's clock, for the backoff
    and the next run of a periodic task). Never raises for the job's own failure."""
    cfg = cfg or WorkerConfig.from_mapping(config)
    stats = JobStats()
    known = _kinds.get(job.kind)
    if known is None:
        log.error("%s: no handler is registered for this kind", job.describe())
        _record_failure(
            session_factory,
            cfg,
            job,
            f"no handler for jobs of kind {job.kind!r}",
            False,
            stats,
            now(),
        )
        return stats
    if job.attempts > job.max_attempts:  # its worker stopped while running it, every time
        _record_failure(
            session_factory, cfg, job, "the worker stopped while running it", False, stats, now()
        )
        return stats
    session = session_factory()
    try:
        try:
            result = known.handler(session, dict(job.payload), config)
        except Exception as exc:
            session.rollback()
            if isinstance(exc, JobError):
                log.warning("%s failed: %s", job.describe(), exc)
            else:
                log.exception("%s failed", job.describe())
            retry = not isinstance(exc, GiveUp)
            _record_failure(session_factory, cfg, job, _error_text(exc), retry, stats, now())
            return stats
        summary = str(result)[:MAX_ERROR_CHARS] if result is not None else None
        values = {"state": DONE, "result": summary, "last_error": None}
        if not _finish(session, job, values, now()):
            session.rollback()  # another worker took it over (lease ended): its run counts
            log.warning("%s: its claim ended before it finished; not recorded", job.describe())
            return stats
        session.commit()
        stats.done += 1
        return stats
    finally:
        session.close()


def cleanup(session: Session, keep_days: float, now: datetime | None = None) -> int:
    """Delete jobs that ended more than ``keep_days`` ago. Returns how many."""
    before = (now or utcnow()) - timedelta(days=keep_days)
    result = session.execute(
        delete(Job)
        .where(Job.state.in_((DONE, FAILED)), Job.finished_at < before)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _cleanup_task(session: Session, payload: dict[str, Any], config: Mapping[str, Any]) -> str:
    count = cleanup(session, WorkerConfig.from_mapping(config).keep_days)
    return f"{count} finished job{'s' if count != 1 else ''} deleted"


def run_jobs(
    session_factory: SessionFactory,
    config: Mapping[str, Any],
    *,
    once: bool = False,
    idle_sleep: float = 2.0,
    stop: threading.Event | None = None,
    wake: threading.Event | None = None,
    now: Callable[[], datetime] = utcnow,
    worker: str | None = None,
) -> JobStats:
    """Run due jobs one at a time until stopped (``once``: until none is due), queuing the
    periodic tasks first. ``wake`` cuts an idle wait short (a job was just queued)."""
    stop = stop or threading.Event()
    worker = worker or worker_name()
    total = JobStats()
    scheduled = False
    while not stop.is_set():
        cfg = WorkerConfig.from_mapping(config)
        try:
            if not scheduled:
                with session_factory() as session:
                    schedule_periodic(session, now())
                    session.commit()
                scheduled = True
            job = claim(session_factory, cfg, now(), worker)
        except Exception:
            log.exception("the job queue could not be read")
            if once:
                raise
            stop.wait(idle_sleep)
            continue
        if job is None:
            if once:
                break
            scheduled = False  # look again after the wait (a cleared database, a new task)
            (wake or stop).wait(idle_sleep)
            if wake is not None:
                wake.clear()
            continue
        total.add(run_one(session_factory, config, job, cfg, now))
    return total


# --- the worker: every loop and the job queue ----------------------------------------------------
@dataclass
class WorkerReport:
    """Each loop's summary line, the job queue's stats, and loops that failed."""

    lines: list[str] = field(default_factory=list)
    jobs: JobStats = field(default_factory=JobStats)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.errors or self.jobs.retried or self.jobs.failed)


def _run_loop(
    name: str,
    loop: Loop,
    session_factory: SessionFactory,
    config: Mapping[str, Any],
    report: WorkerReport,
    **kwargs: Any,
) -> None:
    try:
        report.lines.append(loop(session_factory, config, **kwargs))
    except Exception as exc:
        log.exception("%s failed", name)
        report.errors.append(f"{name}: {_error_text(exc)}")


def run_worker(
    app: Flask,
    *,
    once: bool = False,
    idle_sleep: float = 2.0,
    stop: threading.Event | None = None,
    wake: threading.Event | None = None,
) -> WorkerReport:
    """Everything ``commons worker`` runs: each registered loop (its own thread), and the job
    queue with the periodic tasks (this thread). ``once``: each in turn until nothing is due. One
    failing loop or job never stops the others."""
    from plugin.db import new_session

    stop = stop or threading.Event()

    def session_factory() -> Session:
        return new_session(app)

    report = WorkerReport()
    loop_kwargs = {"once": once, "idle_sleep": idle_sleep, "stop": stop}
    if once:
        for name, loop in list(_loops.items()):
            _run_loop(name, loop, session_factory, app.config, report, **loop_kwargs)
        try:
            report.jobs = run_jobs(session_factory, app.config, once=True, stop=stop)
        except Exception as exc:
            report.errors.append(f"job queue: {_error_text(exc)}")
        return report
    threads = [
        threading.Thread(
            target=_run_loop,
            args=(name, loop, session_factory, app.config, report),
            kwargs=loop_kwargs,
            name=f"worker-{name}",
            daemon=True,
        )
        for name, loop in _loops.items()
    ]
    for thread in threads:
        thread.start()
    try:
        report.jobs = run_jobs(
            session_factory, app.config, idle_sleep=idle_sleep, stop=stop, wake=wake
        )
    finally:
        stop.set()
        if wake is not None:
            wake.set()
        for thread in threads:
            thread.join(30)
    return report


# --- the development thread ----------------------------------------------------------------------
def start_worker_thread(app: Flask, *, idle_sleep: float = 2.0) -> threading.Thread:
    """Run the worker in a daemon thread of this process (``make run``; idempotent per app)."""
    running = app.extensions.get(WORKER_KEY)
    if running and running[0].is_alive():
        return running[0]
    stop, wake = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(app,),
        kwargs={"idle_sleep": idle_sleep, "stop": stop, "wake": wake},
        name="commons-worker",
        daemon=True,
    )
    app.extensions[WORKER_KEY] = (thread, stop, wake)
    thread.start()
    log.info("worker thread started (xAPI outbox, jobs, periodic tasks)")
    return thread


def stop_worker_thread(app: Flask, timeout: float = 30.0) -> None:
    running = app.extensions.pop(WORKER_KEY, None)
    if running:
        thread, stop, wake = running
        stop.set()
        wake.set()
        thread.join(timeout)


def wake(app: Flask) -> bool:
    """Ask this process's worker thread, if it runs one, to look at the queue now."""
    running = app.extensions.get(WORKER_KEY)
    if running and running[0].is_alive():
        running[2].set()
        return True
    return False


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


def init_app(app: Flask) -> None:
    """Read the worker settings, register the cleanup task, and start the worker thread when
    ``WORKER_THREAD`` is on (development only; ``XAPI_FORWARDER_THREAD`` is its older name).
    Call it after every package's ``init_app``: the thread runs what they registered."""
    env = os.environ
    settings = app.config["COMMONS_SETTINGS"]
    for key, default in (
        ("JOBS_LEASE_SECONDS", 600.0),
        ("JOBS_BACKOFF_BASE", 30.0),
        ("JOBS_BACKOFF_CAP", 3600.0),
        ("JOBS_KEEP_DAYS", 7.0),
    ):
        app.config.setdefault(key, float(env.get(key) or default))
    wanted = _flag(env.get("WORKER_THREAD")) or _flag(app.config.get("XAPI_FORWARDER_THREAD"))
    app.config.setdefault("WORKER_THREAD", wanted and settings.env == "development")
    every(60, "jobs.cleanup", _cleanup_task)
    if _flag(app.config.get("WORKER_THREAD")):
        start_worker_thread(app)
