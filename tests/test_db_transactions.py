"""A savepoint belongs to its transaction on every database: rolling the transaction back undoes
what the savepoint did, even when the savepoint was the transaction's first write. (Python's
sqlite3 starts a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT opened first used to
start its own, and releasing it committed early; plugin.db begins one first.)"""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import Platform


def _platform(issuer: str) -> Platform:
    return Platform(
        name="Savepoint LMS",
        issuer=issuer,
        client_id="tool",
        auth_login_url=issuer + "/auth",
        auth_token_url=issuer + "/token",
        key_set_url=issuer + "/jwks",
    )


def _exists(app: Flask, issuer: str) -> bool:
    with new_session(app) as s:
        return s.scalar(select(Platform.id).where(Platform.issuer == issuer)) is not None


def test_rolling_back_undoes_a_released_savepoint_that_wrote_first(app: Flask) -> None:
    issuer = f"https://savepoint-{uuid.uuid4().hex[:8]}.example"
    with new_session(app) as s:
        s.scalar(select(Platform.id).limit(1))  # a read first, as a page does
        with s.begin_nested():
            s.add(_platform(issuer))
        assert s.scalar(select(Platform.id).where(Platform.issuer == issuer)) is not None
        s.rollback()
    assert not _exists(app, issuer)


def test_a_committed_savepoint_write_is_kept_and_a_failed_one_only_undoes_itself(
    app: Flask,
) -> None:
    kept, undone = (f"https://savepoint-{uuid.uuid4().hex[:8]}.example" for _ in range(2))
    with new_session(app) as s:
        with s.begin_nested():
            s.add(_platform(kept))
        try:
            with s.begin_nested():
                s.add(_platform(undone))
                s.flush()
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        s.commit()
    assert _exists(app, kept) and not _exists(app, undone)
