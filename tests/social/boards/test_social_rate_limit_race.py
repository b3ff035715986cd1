"""The posting rate limit holds under concurrent requests: with ``posts_per_hour=5`` a thread and
then 16 replies sent at the same moment (each its own connection to the live tool server, each
request its own database transaction) leave exactly 4 replies; the others get 429 and store
nothing. Runs on SQLite and on PostgreSQL (``TEST_DATABASE=postgres``)."""

from __future__ import annotations

import threading
from collections import Counter

import requests
from sqlalchemy import func, select

from plugin.db import new_session
from plugin.lti.models import User
from plugin.social.models import Post, PostingLock
from plugin.xapi.models import XapiOutbox
from tests.social.social_web import Person, board_link

LIMIT = 5
CONCURRENT = 16


def _count(app, model, *where) -> int:
    with new_session(app) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_concurrent_replies_never_exceed_the_hourly_limit(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour=str(LIMIT))
    lea = Person(lms, "u-lea", rlid)
    thread_id = lea.new_thread("Quick question", "Who is around?")
    with new_session(app) as s:
        lea_id = s.scalars(select(User.id).where(User.sub == "u-lea")).one()
    statements_before = _count(app, XapiOutbox)

    barrier = threading.Barrier(CONCURRENT)
    statuses: list[int] = []
    lock = threading.Lock()

    def reply(n: int) -> None:
        http = requests.Session()  # its own connection, as separate browser tabs would
        barrier.wait()
        r = http.post(
            lea.tool + f"/threads/{thread_id}/posts",
            data={"lc": lea.token, "body": f"reply {n}"},
            allow_redirects=False,
            timeout=60,
        )
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=reply, args=(n,)) for n in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert Counter(statuses) == {303: LIMIT - 1, 429: CONCURRENT - LIMIT + 1}
    assert _count(app, Post, Post.author_id == lea_id) == LIMIT  # the thread + 4 replies
    # the refused ones wrote nothing: no statement for them either
    assert _count(app, XapiOutbox) == statements_before + LIMIT - 1
    assert _count(app, PostingLock) == 1  # one lock row for Lea in this course
    # staff are not limited and take no lock
    ines = Person(lms, "u-ines", rlid)
    assert ines.post(f"/threads/{thread_id}/posts", body="Staff here").status_code == 303
    assert _count(app, PostingLock) == 1
