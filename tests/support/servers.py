"""Real HTTP servers on loopback ports for the tool and the platform, each in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class Slot:
    """A WSGI app that can be swapped after the server has its port."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        assert self.app is not None, "no app mounted on this test server"
        return self.app(environ, start_response)


class LiveServer:
    """A threaded werkzeug server on 127.0.0.1. ``hostname`` is the name its URL uses:
    ``localhost`` makes it another *site* than the servers named ``127.0.0.1`` (browsers then apply
    their third-party cookie rules between them), on the same loopback address."""

    def __init__(self, hostname: str = "127.0.0.1") -> None:
        self.slot = Slot()
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, self.slot, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://{hostname}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self, app: Callable[..., Any]) -> LiveServer:
        self.slot.app = app
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
