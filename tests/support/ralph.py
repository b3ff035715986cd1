"""A real Ralph LRS (FastAPI + uvicorn, file-system backend, Basic auth) in a subprocess on a
loopback port, and a fault-injecting HTTP proxy to put in front of it.

Ralph 5.1.0's file-system backend writes its statements file with "create" by default, which
fails once the file exists; the launcher switches the backend to "append" before the app loads.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import bcrypt
import requests

LAUNCHER = """
import sys
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend
FSLRSBackend.default_operation_type = BaseOperationType.APPEND
import uvicorn
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RalphLRS:
    """``start()`` a Ralph LRS; ``endpoint`` is its xAPI root (``…/xAPI``)."""

    def __init__(self, workdir: Path, username: str = "commons", password: str = "s3cret-lrs"):
        self.workdir = Path(workdir)
        self.username = username
        self.password = password
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = self.workdir / "ralph.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/xAPI"

    @property
    def statements_file(self) -> Path:
        return self.workdir / "lrs" / "fs_lrs.jsonl"

    def _write_auth(self) -> Path:
        # A cheap bcrypt cost keeps per-request authentication out of the measurements.
        digest = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=4)).decode()
        path = self.workdir / "auth.json"
        path.write_text(
            json.dumps(
                [
                    {
                        "agent": {
                            "mbox": "mailto:learning-commons@example.org",
                            "objectType": "Agent",
                        },
                        "scopes": ["all"],
                        "hash": digest,
                        "username": self.username,
                    }
                ]
            )
        )
        return path

    def start(self, timeout: float = 30.0) -> RalphLRS:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "lrs").mkdir(exist_ok=True)
        env = {
            **os.environ,
            "RALPH_APP_DIR": str(self.workdir / "app"),
            "RALPH_AUTH_FILE": str(self._write_auth()),
            "RALPH_HISTORY_FILE": str(self.workdir / "history.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.workdir / "lrs"),
            "RALPH_BACKENDS__DATA__FS__DEFAULT_DIRECTORY_PATH": str(self.workdir / "lrs"),
        }
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(self.port)],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Ralph exited: {self.log_path.read_text()[-2000:]}")
            try:
                r = requests.get(self.base_url + "/__heartbeat__", timeout=1)
                if r.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Ralph did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def stored_ids(self) -> list[str]:
        """Statement ids in Ralph's file, in write order (duplicates would show here)."""
        if not self.statements_file.exists():
            return []
        return [
            json.loads(line)["id"]
            for line in self.statements_file.read_text().splitlines()
            if line.strip()
        ]

    def statements_for(self, agent: dict[str, Any]) -> list[dict[str, Any]]:
        r = requests.get(
            self.endpoint + "/statements",
            params={"agent": json.dumps(agent), "limit": 1000},
            auth=(self.username, self.password),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=30,
        )
        r.raise_for_status()
        return r.json()["statements"]


@dataclass
class ProxyRecord:
    method: str
    path: str
    statement_ids: list[str]
    status: int | None


@dataclass
class Fault:
    """What the proxy does to one request instead of forwarding it."""

    status: int | None = None  # an HTTP status to answer with, or None to drop the connection
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"detail": "injected fault"}'


class FaultProxy:
    """An HTTP proxy on loopback in front of an LRS, with programmable faults:

    - ``faults``: answered in order, one per POST, before forwarding resumes;
    - ``reject_ids``: a POST containing any of these statement ids gets ``reject_status`` (422
      by default; 400 is what the xAPI spec prescribes for a bad statement);
    - ``down``: every request's connection is closed without an answer.
    ``records`` logs every request with the statement ids it carried and the answer.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[Fault] = []
        self.reject_ids: set[str] = set()
        self.reject_status = 422
        self.down = False
        self.records: list[ProxyRecord] = []
        self.lock = threading.Lock()
        self.delay = 0.0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                ids: list[str] = []
                if self.command == "POST" and body:
                    try:
                        ids = [s.get("id") for s in json.loads(body)]
                    except (ValueError, AttributeError, TypeError):
                        ids = []
                fault = proxy._fault_for(self.command, ids)
                if fault is not None and fault.status is None:
                    proxy._record(self.command, self.path, ids, None)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None:
                    payload = fault.body.encode()
                    self.send_response(fault.status)
                    for k, v in {"Content-Type": "application/json", **fault.headers}.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    proxy._record(self.command, self.path, ids, fault.status)
                    return
                if proxy.delay:
                    time.sleep(proxy.delay)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                upstream = requests.request(
                    self.command,
                    proxy.upstream + self.path.removeprefix("/xAPI"),
                    data=body or None,
                    headers=headers,
                    timeout=60,
                )
                payload = upstream.content
                self.send_response(upstream.status_code)
                ctype = upstream.headers.get("Content-Type")
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                proxy._record(self.command, self.path, ids, upstream.status_code)

            do_GET = _relay
            do_POST = _relay
            do_PUT = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI"

    def _fault_for(self, method: str, ids: list[str]) -> Fault | None:
        with self.lock:
            if self.down:
                return Fault(status=None)
            if method != "POST":
                return None
            if self.faults:
                return self.faults.pop(0)
            bad = [i for i in ids if i in self.reject_ids]
            if bad:
                return Fault(
                    self.reject_status,
                    body=json.dumps(
                        {
                            "detail": [
                                {
                                    "loc": ["body", ids.index(b)],
                                    "msg": f"statement {b} rejected (test)",
                                }
                                for b in bad
                            ]
                        }
                    ),
                )
        return None

    def _record(self, method: str, path: str, ids: list[str], status: int | None) -> None:
        with self.lock:
            self.records.append(ProxyRecord(method, path, ids, status))

    def accepted_counts(self) -> Counter:
        """How many times each statement id was part of a POST the LRS accepted (200/204)."""
        counts: Counter = Counter()
        for rec in self.records:
            if rec.method == "POST" and rec.status in (200, 204):
                counts.update(rec.statement_ids)
        return counts

    def posts(self, predicate: Callable[[ProxyRecord], bool] = lambda r: True) -> list:
        return [r for r in self.records if r.method == "POST" and predicate(r)]

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.reject_ids.clear()
            self.reject_status = 422
            self.down = False
            self.records.clear()
            self.delay = 0.0

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:  # pragma: no cover - a development helper: `make lrs`
    """Run a local Ralph LRS until Ctrl-C and print how to point the tool at it."""
    import time

    workdir = Path("instance") / "ralph"
    workdir.mkdir(parents=True, exist_ok=True)
    lrs = RalphLRS(workdir).start()
    print(f"Ralph LRS at {lrs.endpoint} (file backend in {workdir}).")
    print(
        f"Run the tool with: LRS_ENDPOINT={lrs.endpoint} LRS_USERNAME={lrs.username} "
        f"LRS_PASSWORD={lrs.password} make run"
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        lrs.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
