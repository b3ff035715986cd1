"""Delivers the outbox to the LRS.

One pass (:func:`forward_once`):
1. claim up to ``XAPI_BATCH_SIZE`` due rows in a short transaction - PostgreSQL: ``SELECT ... FOR
   UPDATE SKIP LOCKED`` then mark them ``sending``; SQLite: one conditional ``UPDATE`` (SQLite
   serialises writers). A claim sets a random token and a lease (``next_attempt_at``): a crashed
   forwarder's rows become pending again when the lease ends.
2. POST them per LRS (a platform's own LRS, else the configured one) as JSON arrays:
   200/204 → delivered; 400/409/413/422 → split the batch in halves until the bad statement is
   alone, then park it as ``dead`` with the LRS reply (409 alone: the LRS already has that id →
   delivered); no answer, 5xx, 429 and other errors → back to ``pending`` with exponential
   backoff and jitter, never sooner than the LRS's Retry-After.
3. record the outcomes, only for rows still holding this pass's claim token.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Integer, Text, and_, bindparam, cast, select, update
from sqlalchemy.orm import Session

from plugin.db import UTCDateTime, utcnow
from plugin.lti.models import Platform
from plugin.xapi.lrs import DEFAULT_TIMEOUT, LRSReply, LRSTarget, client_for
from plugin.xapi.models import DEAD, DELIVERED, PENDING, SENDING, XapiOutbox

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
SPLIT_STATUSES = frozenset({400, 409, 413, 422})
MAX_RETRY_AFTER = 24 * 3600.0


@dataclass(frozen=True)
class ForwarderConfig:
    endpoint: str | None = None
    username: str | None = None
    password: str | None = None
    batch_size: int = 100
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    lease_seconds: float = 300.0
    backoff_base: float = 5.0
    backoff_cap: float = 3600.0

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> ForwarderConfig:
        timeout = config.get("XAPI_LRS_TIMEOUT", DEFAULT_TIMEOUT)
        if isinstance(timeout, int | float):
            timeout = (float(timeout), float(timeout))
        return cls(
            endpoint=(config.get("LRS_ENDPOINT") or None),
            username=config.get("LRS_USERNAME") or None,
            password=config.get("LRS_PASSWORD") or None,
            batch_size=int(config.get("XAPI_BATCH_SIZE") or 100),
            timeout=(float(timeout[0]), float(timeout[1])),
            lease_seconds=float(config.get("XAPI_LEASE_SECONDS") or 300.0),
            backoff_base=float(config.get("XAPI_BACKOFF_BASE") or 5.0),
            backoff_cap=float(config.get("XAPI_BACKOFF_CAP") or 3600.0),
        )


@dataclass
class ForwardStats:
    claimed: int = 0
    delivered: int = 0
    dead: int = 0
    retried: int = 0
    requests: int = 0

    def add(self, other: ForwardStats) -> None:
        for name in ("claimed", "delivered", "dead", "retried", "requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Claimed:
    statement_id: str
    platform_id: int
    statement_json: str  # the stored JSON text, sent as is (no decode/encode round trip)
    attempts: int


@dataclass
class Claim:
    """Rows claimed by one pass, and where each platform's statements go."""

    token: str
    rows: list[_Claimed]
    targets: dict[int, LRSTarget | None]


@dataclass
class _Outcome:
    state: str
    reply: str | None = None
    retry_after: float | None = None


@dataclass
class _Pass:
    stats: ForwardStats
    outcomes: dict[str, _Outcome] = field(default_factory=dict)
    down: LRSReply | None = None


def target_for(platform: Any, cfg: ForwarderConfig) -> LRSTarget | None:
    """The platform's own LRS when it has one, else the configured LRS, else None."""
    if platform.lrs_endpoint:
        return LRSTarget(platform.lrs_endpoint, platform.lrs_username, platform.lrs_password)
    if cfg.endpoint:
        return LRSTarget(cfg.endpoint, cfg.username, cfg.password)
    return None


@functools.cache
def _sql(only_own_lrs: bool) -> SimpleNamespace:
    """The forwarder's statements, built once (Core, bound parameters): they run for every
    batch, so neither their construction nor the ORM layer should cost anything."""
    t = XapiOutbox.__table__
    p = Platform.__table__
    now = bindparam("now", type_=UTCDateTime())
    due = and_(t.c.state == PENDING, t.c.next_attempt_at <= now)
    if only_own_lrs:  # no LRS configured: only platforms with their own LRS can deliver
        with_lrs = select(p.c.id).where(p.c.lrs_endpoint.is_not(None), p.c.lrs_endpoint != "")
        due = and_(due, t.c.platform_id.in_(with_lrs))
    # Index order (state, next_attempt_at): the scan stops after one batch, however long the
    # queue is.
    pick = (
        select(t.c.statement_id)
        .where(due)
        .order_by(t.c.next_attempt_at)
        .limit(bindparam("limit", type_=Integer()))
    )
    claimed_values = {
        "state": SENDING,
        "claim_token": bindparam("token"),
        "next_attempt_at": bindparam("lease_until", type_=UTCDateTime()),
    }
    returning = (
        t.c.statement_id,
        t.c.platform_id,
        cast(t.c.statement, Text),
        t.c.attempts,
        t.c.created_at,
    )
    return SimpleNamespace(
        # Rows of a forwarder that stopped (crash, kill) become pending again.
        expired=update(t)
        .where(t.c.state == SENDING, t.c.next_attempt_at <= now)
        .values(state=PENDING, claim_token=None),
        pick_locked=pick.with_for_update(skip_locked=True),
        claim_ids=update(t)
        .where(t.c.statement_id.in_(bindparam("ids", expanding=True)))
        .values(**claimed_values)
        .returning(*returning),
        claim_due=update(t)
        .where(t.c.statement_id.in_(pick.scalar_subquery()), due)
        .values(**claimed_values)
        .returning(*returning),
        targets=select(p.c.id, p.c.lrs_endpoint, p.c.lrs_username, p.c.lrs_password).where(
            p.c.id.in_(bindparam("platform_ids", expanding=True))
        ),
        delivered=update(t)
        .where(
            t.c.statement_id.in_(bindparam("ids", expanding=True)),
            t.c.claim_token == bindparam("token"),
        )
        .values(
            state=DELIVERED,
            delivered_at=bindparam("now", type_=UTCDateTime()),
            claim_token=None,
            lrs_reply=None,
            last_error=None,
            attempts=t.c.attempts + 1,
        ),
    )


def _claim_in(session: Session, cfg: ForwarderConfig, now: datetime) -> Claim:
    """Claim up to ``cfg.batch_size`` due rows and commit ``session``'s transaction."""
    sql = _sql(not cfg.endpoint)
    conn = session.connection()
    token = str(uuid.uuid4())
    values = {
        "now": now,
        "limit": cfg.batch_size,
        "token": token,
        "lease_until": now + timedelta(seconds=cfg.lease_seconds),
    }
    conn.execute(sql.expired, {"now": now})
    if conn.dialect.name == "postgresql":
        ids = list(conn.execute(sql.pick_locked, values).scalars())
        returned = conn.execute(sql.claim_ids, {**values, "ids": ids}).all() if ids else []
    else:  # SQLite: one statement; SQLite runs one writer at a time
        returned = conn.execute(sql.claim_due, values).all()
    returned.sort(key=lambda r: (r[4], r[0]))  # oldest first
    rows = [_Claimed(r[0], r[1], r[2], r[3]) for r in returned]
    targets: dict[int, LRSTarget | None] = {}
    if rows:
        platform_ids = sorted({r.platform_id for r in rows})
        for platform in conn.execute(sql.targets, {"platform_ids": platform_ids}):
            targets[platform.id] = target_for(platform, cfg)
    session.commit()
    return Claim(token, rows, targets)


def claim(session_factory: SessionFactory, cfg: ForwarderConfig, now: datetime) -> Claim:
    """Claim up to ``cfg.batch_size`` due rows for one pass (a short transaction of its own)."""
    with session_factory() as session:
        return _claim_in(session, cfg, now)


def release(session_factory: SessionFactory, token: str) -> None:
    """Give back a claim that will not be sent (the rows become due again at once)."""
    with session_factory() as session:
        session.execute(
            update(XapiOutbox)
            .where(XapiOutbox.claim_token == token, XapiOutbox.state == SENDING)
            .values(state=PENDING, claim_token=None, next_attempt_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _send(client, items: list[_Claimed], run: _Pass) -> None:
    if run.down is not None:  # this LRS already failed in this pass: do not hammer it
        for item in items:
            run.outcomes[item.statement_id] = _Outcome(
                PENDING, run.down.describe(), run.down.retry_after
            )
        return
    body = "[" + ",".join(item.statement_json for item in items) + "]"
    reply = client.post_raw(body.encode())
    run.stats.requests += 1
    if reply.ok:
        for item in items:
            run.outcomes[item.statement_id] = _Outcome(DELIVERED, f"HTTP {reply.status}")
        return
    if reply.status in SPLIT_STATUSES:
        if len(items) > 1:
            middle = len(items) // 2
            _send(client, items[:middle], run)
            _send(client, items[middle:], run)
            return
        state = DELIVERED if reply.status == 409 else DEAD
        run.outcomes[items[0].statement_id] = _Outcome(state, reply.describe())
        return
    run.down = reply
    for item in items:
        run.outcomes[item.statement_id] = _Outcome(PENDING, reply.describe(), reply.retry_after)


def deliver(cfg: ForwarderConfig, claimed: Claim) -> _Pass:
    """POST the claimed rows to their LRSs (no database work here)."""
    run = _Pass(ForwardStats(claimed=len(claimed.rows)))
    groups: dict[LRSTarget, list[_Claimed]] = {}
    for item in claimed.rows:
        target = claimed.targets.get(item.platform_id)
        if target is None:  # the LRS setting disappeared since the claim: try again later
            run.outcomes[item.statement_id] = _Outcome(PENDING, "no LRS configured")
            continue
        groups.setdefault(target, []).append(item)
    for target, items in groups.items():
        run.down = None
        _send(client_for(target, cfg.timeout), items, run)
    for outcome in run.outcomes.values():
        if outcome.state == DELIVERED:
            run.stats.delivered += 1
        elif outcome.state == DEAD:
            run.stats.dead += 1
        else:
            run.stats.retried += 1
    if run.stats.dead or run.stats.retried:
        log.warning(
            "xAPI forwarder: %d delivered, %d refused, %d to retry",
            run.stats.delivered,
            run.stats.dead,
            run.stats.retried,
        )
    return run


def backoff_seconds(attempts: int, cfg: ForwarderConfig, retry_after: float | None) -> float:
    """Exponential backoff with jitter (between half and all of base*2^attempts, capped),
    and never sooner than the LRS asked."""
    ceiling = min(cfg.backoff_cap, cfg.backoff_base * (2 ** min(attempts, 30)))
    delay = ceiling * random.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def record(
    session_factory: SessionFactory, claimed: Claim, run: _Pass, cfg: ForwarderConfig
) -> None:
    """Write the outcomes, only for rows that still hold this pass's claim."""
    with session_factory() as session:
        _record_in(session, claimed, run, cfg)
        session.commit()


def _record_in(session: Session, claimed: Claim, run: _Pass, cfg: ForwarderConfig) -> None:
    now = utcnow()
    mine = XapiOutbox.claim_token == claimed.token
    plain = [
        i.statement_id
        for i in claimed.rows
        if run.outcomes[i.statement_id].state == DELIVERED
        and run.outcomes[i.statement_id].reply in ("HTTP 200", "HTTP 204")
    ]
    if plain:
        session.connection().execute(
            _sql(False).delivered, {"ids": plain, "token": claimed.token, "now": now}
        )
    done = set(plain)
    for item in claimed.rows:
        if item.statement_id in done:
            continue
        outcome = run.outcomes[item.statement_id]
        if outcome.state == DELIVERED:
            values: dict[str, Any] = {
                "state": DELIVERED,
                "delivered_at": now,
                "lrs_reply": outcome.reply,
                "last_error": None,
            }
        elif outcome.state == DEAD:
            values = {"state": DEAD, "lrs_reply": outcome.reply, "last_error": outcome.reply}
        else:
            delay = backoff_seconds(item.attempts, cfg, outcome.retry_after)
            values = {
                "state": PENDING,
                "next_attempt_at": now + timedelta(seconds=delay),
                "last_error": outcome.reply,
            }
        values.update(claim_token=None, attempts=XapiOutbox.attempts + 1)
        session.execute(
            update(XapiOutbox)
            .where(XapiOutbox.statement_id == item.statement_id, mine)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _config(config: Mapping[str, Any] | ForwarderConfig) -> ForwarderConfig:
    return config if isinstance(config, ForwarderConfig) else ForwarderConfig.from_mapping(config)


def forward_once(
    session_factory: SessionFactory,
    config: Mapping[str, Any] | ForwarderConfig,
    *,
    now: datetime | None = None,
) -> ForwardStats:
    """Claim one batch of due statements, deliver it, record the outcome."""
    cfg = _config(config)
    claimed = claim(session_factory, cfg, now or utcnow())
    if not claimed.rows:
        return ForwardStats()
    run = deliver(cfg, claimed)
    record(session_factory, claimed, run, cfg)
    return run.stats


def _record_and_claim(
    session_factory: SessionFactory,
    cfg: ForwarderConfig,
    done: tuple[Claim, _Pass] | None,
    now: datetime,
) -> Claim:
    """One transaction: record a finished batch (if any), claim the next one."""
    with session_factory() as session:
        if done is not None:
            _record_in(session, done[0], done[1], cfg)
        return _claim_in(session, cfg, now)


def run_worker(
    session_factory: SessionFactory,
    config: Mapping[str, Any] | ForwarderConfig,
    *,
    once: bool = False,
    idle_sleep: float = 2.0,
    stop: threading.Event | None = None,
) -> ForwardStats:
    """Forward until stopped (or, with ``once``, until nothing is due), sleeping when idle.

    Pipelined: while batch k is on its way to the LRS, a helper thread records batch k-1 and
    claims batch k+1 in one transaction, so the database work does not add to the time the LRS
    takes. (``config`` is re-read each pass: a mapping such as ``app.config`` may change.)"""
    stop = stop or threading.Event()
    total = ForwardStats()
    db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xapi-forwarder-db")
    upcoming: Future | None = None  # record(k-1) + claim(k+1), running
    finished: tuple[Claim, _Pass] | None = None  # delivered, not yet recorded

    def settle() -> None:
        """Record what was delivered; give back a claim made ahead."""
        nonlocal upcoming, finished
        if upcoming is not None:
            future, upcoming = upcoming, None
            ahead = future.result()
            if ahead.rows:
                release(session_factory, ahead.token)
        if finished is not None:
            done, finished = finished, None
            record(session_factory, done[0], done[1], _config(config))

    try:
        while not stop.is_set():
            cfg = _config(config)
            try:
                if upcoming is not None:
                    future, upcoming = upcoming, None
                    claimed = future.result()
                else:
                    claimed = _record_and_claim(session_factory, cfg, finished, utcnow())
                    finished = None
                if not claimed.rows and finished is not None:
                    claimed = _record_and_claim(session_factory, cfg, finished, utcnow())
                    finished = None
                if not claimed.rows:
                    if once:
                        break
                    stop.wait(idle_sleep)
                    continue
                upcoming = db.submit(_record_and_claim, session_factory, cfg, finished, utcnow())
                finished = None
                run = deliver(cfg, claimed)
                finished = (claimed, run)
                total.add(run.stats)
                if run.stats.retried and not run.stats.delivered:  # the LRS is failing
                    settle()
                    if once:
                        break
                    stop.wait(idle_sleep)  # let backoff do its work
            except Exception:
                log.exception("xAPI forwarder pass failed")
                try:
                    settle()
                except Exception:  # leases expire; the LRS de-duplicates re-sent statements
                    log.exception("xAPI forwarder could not record a pass")
                    upcoming = finished = None
                if once:
                    raise
                stop.wait(idle_sleep)
    finally:
        try:
            settle()
        finally:
            db.shutdown(wait=True)
    return total
