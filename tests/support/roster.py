"""The class list as staff refresh it: *Refresh class list* queues a roster sync job (202), and
the worker runs it (one pass of the job queue, as ``commons worker --once`` does)."""

from __future__ import annotations

import requests
from flask import Flask

from plugin import jobs
from plugin.db import new_session


def worker_pass(app: Flask) -> jobs.JobStats:
    """Run every due job (roster syncs, periodic tasks) once; none may fail."""
    stats = jobs.run_jobs(lambda: new_session(app), app.config, once=True)
    assert not stats.failures, stats.failures
    return stats


def refresh_class_list(app: Flask, http: requests.Session, tool: str, token: str) -> dict:
    """Press *Refresh class list* (JSON), then let the worker run the sync it queued."""
    r = http.post(
        tool + "/lti/roster/sync",
        data={"lc": token},
        headers={"Accept": "application/json"},
        timeout=20,
    )
    assert r.status_code == 202, r.text
    worker_pass(app)
    return r.json()
