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
        if self.thread.is_alive():  # shutdown() waits for serve_forever, which may never have run
            self.server.shutdown()
        self.server.server_close()


class RawServer:
    """A plain TCP server on a loopback port for misbehaving peers (trickling, oversized answers):
    ``handler(conn)`` runs in a thread for each connection. ``accepted`` counts connections and
    ``received`` the bytes read by :meth:`read_request`, so a test can tell that nothing reached it.
    """

    def __init__(self, handler: Callable[[RawServer, Any], None]) -> None:
        import socket

        self.handler = handler
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self.received = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: Any) -> None:
        try:
            conn.settimeout(10)
            self.handler(self, conn)
        except OSError:
            pass  # the client went away (as a guarded client does at its deadline)
        finally:
            conn.close()

    def read_request(self, conn: Any) -> bytes:
        """Read up to the end of the request's headers."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
            self.received += len(chunk)
        return data

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(2)
        self.sock.close()
