"""Database glue: engine, session factory, declarative base, and the unit of work.

Services receive a SQLAlchemy ``Session`` and never commit on their own; the caller (a view, a CLI
command, a worker) owns the transaction through :func:`unit_of_work` so that a domain change, its
events' outbox rows and its evidence rows are committed together or not at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    kwargs: dict = {"future": True, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "before_cursor_execute")
        def _begin_before_savepoint(conn, cursor, statement, parameters, context, many) -> None:
            # Python's sqlite3 (3.11) begins a transaction only before INSERT/UPDATE/DELETE: a
            # SAVEPOINT issued first would start its own, and RELEASE would commit it at once,
            # outside the unit of work. Begin the transaction first, as other databases do.
            # Reads stay outside it, so WAL readers never hold a stale snapshot.
            if statement.startswith("SAVEPOINT") and not cursor.connection.in_transaction:
                cursor.execute("BEGIN")

    return engine


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["commons.engine"] = engine
    app.extensions["commons.sessionmaker"] = sessionmaker(
        bind=engine, expire_on_commit=False, future=True
    )

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["commons.engine"]


def new_session(app: Flask | None = None) -> Session:
    """A fresh session outside the request (CLI, worker, tests)."""
    return (app or current_app).extensions["commons.sessionmaker"]()


def db_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


@contextlib.contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """Commit on success, roll back on any error: one act, one transaction."""
    session = session or db_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
