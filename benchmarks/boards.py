"""Discussion boards benchmark.

Seeds one course board (default: 100,000 posts across 5,000 threads, one thread with 500 replies;
see ``benchmarks/_boards_seed.py``) on SQLite and on a fresh PostgreSQL database, then prints
p50/p95 for:

a. the board page: first page and a deep keyset page (about 80 % down the list) for every sort,
   as a learner in a cohort, and the default sort as an instructor (who sees every cohort);
b. the thread page of the 500-reply thread: its first page of 50 replies and a later page;
c. a search (``plugin.social.search``) for a common, a mid-frequency and a rare word and a
   two-word query, when that module exists.

Each figure is timed twice: the full page through the Flask app (test client, a real signed
launch token, templates rendered) and the service call alone (fresh session, same arguments).
Ratios are against baselines measured in the same run: the tiny ``GET /lti/jwks`` page for pages
and a primary-key SELECT for service calls. Goal (issue 4, PostgreSQL, this 2-core machine):
p95 < 50 ms for pages, < 100 ms for search.

    .venv/bin/python benchmarks/boards.py [--db sqlite|postgres|both] [--posts 100000]
        [--threads 5000] [--repeat 50] [--quick] [--postgres-url postgresql+psycopg://...]
        [--sqlite-analyze]

Method, figures and findings: docs/boards-benchmark.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from benchmarks import _boards_seed as seeding  # noqa: E402
from plugin import create_app  # noqa: E402
from plugin.access import Viewer, viewer_for  # noqa: E402
from plugin.config import Settings  # noqa: E402
from plugin.db import get_engine, new_session  # noqa: E402
from plugin.lti import roles  # noqa: E402
from plugin.lti.models import User  # noqa: E402
from plugin.migrate import upgrade  # noqa: E402
from plugin.social import boards  # noqa: E402

PAGE_GOAL_MS = 50.0
SEARCH_GOAL_MS = 100.0
WARMUP = 5
DEEP = 0.8  # the deep page starts this far down the viewer's list


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class Scenario:
    name: str
    url: str | None  # the page, with its launch token (None: no page to time)
    service: Callable[[Session], object]
    goal_ms: float | None  # None for the baselines
    page: list[float] = field(default_factory=list)
    call: list[float] = field(default_factory=list)
    page_queries: int = 0
    call_queries: int = 0
    page_bytes: int = 0


# --- databases -----------------------------------------------------------------------------------
@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="boards-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database, dropped afterwards (as tests/conftest.py does for TEST_DATABASE)."""
    name = f"commons_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def postgres_reachable(admin_url: str) -> bool:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def database_size(app: Flask) -> str:
    engine = get_engine(app)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            size = conn.scalar(text("SELECT pg_database_size(current_database())"))
        else:
            pages = conn.scalar(text("PRAGMA page_count"))
            size = pages * conn.scalar(text("PRAGMA page_size"))
    return f"{size / 1e6:.0f} MB"


def server_version(app: Flask) -> str:
    engine = get_engine(app)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return "PostgreSQL " + conn.scalar(text("SHOW server_version")).split()[0]
        return "SQLite " + conn.scalar(text("SELECT sqlite_version()"))


# --- scenarios -----------------------------------------------------------------------------------
def viewer_of(app: Flask, user_id: int, context_id: int, role: str) -> Viewer:
    with new_session(app) as s:
        return viewer_for(s, user_id, context_id, roles=[role])


def board_cursor(app: Flask, who: Viewer, board_id: int, sort: str) -> tuple[str | None, int]:
    """The cursor the board page's "More threads" links reach ~80 % down this viewer's list,
    found by following next_cursor (pages of 100); and the position it starts at."""
    with new_session(app) as s:
        board = boards.get_board(s, who, board_id)
        total, cursor = 0, None
        while True:
            page = boards.list_threads(s, who, board, cursor=cursor, limit=100, sort=sort)
            total += len(page.threads)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        target = int(total * DEEP)
        seen, cursor = 0, None
        while seen < target:
            step = min(100, target - seen)
            page = boards.list_threads(s, who, board, cursor=cursor, limit=step, sort=sort)
            seen += len(page.threads)
            cursor = page.next_cursor
    return cursor, seen


def thread_cursor(app: Flask, who: Viewer, thread_id: int, after: int) -> str | None:
    """The cursor of the thread page after ``after`` replies (followed page by page)."""
    with new_session(app) as s:
        seen, cursor = 0, None
        while seen < after:
            detail = boards.get_thread(
                s, who, thread_id, cursor=cursor, limit=min(100, after - seen)
            )
            seen += len(detail.replies)
            cursor = detail.next_cursor
            if cursor is None:
                break
    return cursor


def url(path: str, token: str, **params: object) -> str:
    query = {"lc": token, **{k: v for k, v in params.items() if v is not None}}
    return f"{path}?{urlencode(query)}"


def board_scenarios(app: Flask, world: seeding.World, context_id: int) -> list[Scenario]:
    learner = viewer_of(app, world.learner_id, context_id, roles.LEARNER)
    staff = viewer_of(app, world.staff_id, context_id, roles.INSTRUCTOR)
    found = []
    path = f"/boards/{world.board_id}"
    for who, token, label, sorts in (
        (learner, world.learner_token, "learner", boards.SORTS),
        (staff, world.staff_token, "instructor", (boards.SORT_ACTIVITY,)),
    ):
        for sort in sorts:
            deep, position = board_cursor(app, who, world.board_id, sort)
            for cursor, where in ((None, "first page"), (deep, f"from #{position + 1}")):
                if cursor is None and where != "first page":
                    continue

                def service(s: Session, who=who, sort=sort, cursor=cursor) -> object:
                    board = boards.get_board(s, who, world.board_id)
                    return boards.list_threads(s, who, board, cursor=cursor, sort=sort)

                found.append(
                    Scenario(
                        f"board {sort:<10} {where:<11} {label}",
                        url(path, token, sort=sort, cursor=cursor),
                        service,
                        PAGE_GOAL_MS,
                    )
                )
    return found


def thread_scenarios(app: Flask, world: seeding.World, context_id: int) -> list[Scenario]:
    learner = viewer_of(app, world.learner_id, context_id, roles.LEARNER)
    path = f"/threads/{world.big_thread_id}"
    later = thread_cursor(app, learner, world.big_thread_id, 300)
    found = []
    for cursor, where in ((None, "replies 1-50"), (later, "replies 301-350")):

        def service(s: Session, cursor=cursor) -> object:
            return boards.get_thread(s, learner, world.big_thread_id, cursor=cursor)

        found.append(
            Scenario(
                f"thread (500 replies) {where:<15} learner",
                url(path, world.learner_token, cursor=cursor),
                service,
                PAGE_GOAL_MS,
            )
        )
    return found


def search_available() -> bool:
    return importlib.util.find_spec("plugin.social.search") is not None


def search_queries(world: seeding.World) -> list[tuple[str, int]]:
    """A common, a mid-frequency and a rare content word of the seeded text, and two words."""
    words = set(seeding.CONTENT_WORDS) | set(seeding.RARE_WORDS)
    counts = {w: n for w, n in world.word_posts.items() if w in words}
    posts = world.counts["posts"]

    def near(share: float) -> tuple[str, int]:
        word = min(counts, key=lambda w: abs(counts[w] - share * posts))
        return word, counts[word]

    common, mid, rare = near(0.25), near(0.02), near(0.001)
    return [common, mid, rare, (f"{mid[0]} {common[0]}", -1)]


def search_scenarios(app: Flask, world: seeding.World, context_id: int) -> list[Scenario]:
    from plugin.social import search

    learner = viewer_of(app, world.learner_id, context_id, roles.LEARNER)
    page = any(rule.rule == "/search" for rule in app.url_map.iter_rules())
    found = []
    for query, posts in search_queries(world):

        def service(s: Session, query=query) -> object:
            return search.search(s, learner, query, limit=20)

        label = f"≈{posts:,} posts" if posts >= 0 else "two words"
        found.append(
            Scenario(
                f"search {query!r} ({label})",
                url("/search", world.learner_token, q=query) if page else None,
                service,
                SEARCH_GOAL_MS,
            )
        )
    return found


# --- measuring -----------------------------------------------------------------------------------
class QueryCounter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, *_args) -> None:
        self.count += 1


def measure(app: Flask, scenarios: list[Scenario], repeat: int) -> None:
    """Round-robin over the scenarios (drift hits them all alike); the first rounds warm up."""
    client = app.test_client()
    counter = QueryCounter(get_engine(app))
    for round_ in range(WARMUP + repeat):
        for sc in scenarios:
            if sc.url is not None:
                before = counter.count
                t0 = time.perf_counter()
                response = client.get(sc.url)
                t1 = time.perf_counter()
                if response.status_code != 200:
                    body = response.get_data(as_text=True)[:300]
                    raise RuntimeError(f"{sc.name}: {response.status_code} {body}")
                if round_ >= WARMUP:
                    sc.page.append(t1 - t0)
                else:
                    sc.page_queries = counter.count - before
                    sc.page_bytes = len(response.get_data())
            with new_session(app) as s:
                before = counter.count
                t2 = time.perf_counter()
                sc.service(s)
                t3 = time.perf_counter()
                if round_ >= WARMUP:
                    sc.call.append(t3 - t2)
                else:
                    sc.call_queries = counter.count - before


def baseline(app: Flask, world: seeding.World) -> Scenario:
    def pk_select(s: Session) -> object:
        return s.get(User, world.learner_id)

    return Scenario("baseline: GET /lti/jwks | PK SELECT", "/lti/jwks", pk_select, None)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def report(title: str, scenarios: list[Scenario], base: Scenario) -> list[str]:
    page_base, call_base = p95(base.page), p95(base.call)
    lines = [
        title,
        f"{'':52} {'page (Flask test client)':^38} {'service call':^28}",
        f"{'scenario':52} {'q':>3} {'KB':>4} {'p50 ms':>7} {'p95 ms':>7} {'x base':>6} "
        f"{'goal':>6}  {'q':>3} {'p50 ms':>7} {'p95 ms':>7} {'x base':>6}",
    ]
    for sc in [base, *scenarios]:
        call95 = p95(sc.call)
        if sc.page:
            page95 = p95(sc.page)
            goal = "-" if sc.goal_ms is None else "ok" if page95 * 1000 < sc.goal_ms else "MISSED"
            page = (
                f"{sc.page_queries:3d} {sc.page_bytes / 1024:4.0f} {ms(statistics.median(sc.page))}"
                f" {ms(page95)} {page95 / page_base:6.1f} {goal:>6}"
            )
        else:
            page = f"{'(no page)':^37}"
        lines.append(
            f"{sc.name:52} {page}  {sc.call_queries:3d} {ms(statistics.median(sc.call))}"
            f" {ms(call95)} {call95 / call_base:6.1f}"
        )
    return lines


def run_one(kind: str, database_url: str, args: argparse.Namespace) -> list[str]:
    started = time.perf_counter()
    upgrade(database_url)  # the schema from the project's migrations (search index included)
    app = create_app(
        settings=Settings(
            env="testing",
            database_url=database_url,
            secret_key="bench-" + uuid.uuid4().hex,
            tool_base_url="https://commons.example",
            sandbox_enabled=False,
            # the scenarios reuse one URL token per person for the whole run
            url_token_max_age=8 * 3600,
        )
    )
    try:
        t0 = time.perf_counter()
        world = seeding.seed(app, posts=args.posts, threads=args.threads)
        seeded = time.perf_counter() - t0
        t1 = time.perf_counter()
        if kind == "postgres" or args.sqlite_analyze:
            seeding.analyze(app)
        indexed = seeding.check(app)
        t2 = time.perf_counter()
        with new_session(app) as s:
            context_id = s.scalar(
                text("SELECT context_id FROM social_board WHERE id = :b"), {"b": world.board_id}
            )
        scenarios = board_scenarios(app, world, context_id)
        scenarios += thread_scenarios(app, world, context_id)
        searching = search_available()
        if searching:
            scenarios += search_scenarios(app, world, context_id)
        base = baseline(app, world)
        t3 = time.perf_counter()
        measure(app, [base, *scenarios], args.repeat)
        t4 = time.perf_counter()
        c = world.counts
        title = (
            f"== {server_version(app)}: {c['posts']:,} posts in {c['threads']:,} threads "
            f"({c['course-wide threads']:,} course-wide, the rest in {c['cohorts']} cohorts), "
            f"{c['reactions']:,} reactions, {c['learners']} learners; seeded in {seeded:.1f} s, "
            f"database {database_size(app)}; "
            + (f"{indexed:,} posts in the search index; " if indexed >= 0 else "no search index; ")
            + f"N={args.repeat} per figure"
        )
        lines = report(title, scenarios, base)
        if not searching:
            lines.append("search not available: plugin/social/search.py does not exist yet")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        lines.append(
            f"({kind} run took {time.perf_counter() - started:.0f} s: migrations {t0 - started:.0f},"
            f" seed {t1 - t0:.0f}, ANALYZE and checks {t2 - t1:.0f}, cursors {t3 - t2:.0f},"
            f" timing {t4 - t3:.0f}; load average now {load:.2f} on {os.cpu_count()} CPUs:"
            " other work on the machine inflates every figure)"
        )
        return lines
    finally:
        get_engine(app).dispose()


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {cpu} · {os.cpu_count()} CPUs · "
        f"load {load:.2f} · Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per figure")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 5,000 posts, 250 threads, N=10"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a server to create (and afterwards drop) a fresh database on",
    )
    parser.add_argument(
        "--sqlite-analyze",
        action="store_true",
        help="run ANALYZE on SQLite after seeding (the tool never does; PostgreSQL always is)",
    )
    args = parser.parse_args()
    if args.quick:
        args.posts, args.threads, args.repeat = 5_000, 250, 10
    started = time.perf_counter()
    print("Discussion boards benchmark ·", machine())
    print(
        f"Goal (PostgreSQL): page p95 < {PAGE_GOAL_MS:.0f} ms, search p95 < {SEARCH_GOAL_MS:.0f} ms"
        " (the goal column judges the page figure; q = SQL statements, KB = HTML size)"
    )
    failed = False
    for kind in ("sqlite", "postgres"):
        if args.db not in (kind, "both"):
            continue
        print()
        if kind == "postgres" and not postgres_reachable(args.postgres_url):
            print(f"PostgreSQL is not reachable at {args.postgres_url}: its figures are missing.")
            failed = True
            continue
        database = sqlite_database() if kind == "sqlite" else postgres_database(args.postgres_url)
        with database as database_url:
            print("\n".join(run_one(kind, database_url, args)), flush=True)
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
