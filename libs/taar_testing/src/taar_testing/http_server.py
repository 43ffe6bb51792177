"""A real local HTTP server whose answers a test scripts, for HTTP clients against APIs that misbehave.

Subclass `LocalHttpServer` and override `answer` (one call per GET). It listens on a free
127.0.0.1 port in its own thread from construction on; `close()` (or leaving the `with`
block) stops it.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest


class LocalHttpServer:
    """A threaded HTTP/1.1 server on 127.0.0.1; `url` is `http://127.0.0.1:<port>`."""

    def __init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as the real APIs answer, so the clients' connection reuse is exercised too.
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Daemon request threads: closing never waits for an answer the client gave up on.
        self.httpd.daemon_threads = True
        self.port: int = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        """Answer one GET (`request.path` holds path and query); subclasses decide how."""
        raise NotImplementedError(f"{type(self).__name__} must override answer()")

    def use_tls(self, cert: Path, key: Path) -> None:
        """Serve HTTPS with this certificate from now on; `url` becomes `https://...`."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = self.url.replace("http://", "https://", 1)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def send_reply(
    request: BaseHTTPRequestHandler, status: int, body: bytes, headers: Mapping[str, str] | None = None
) -> None:
    """Answer `status` with `headers` and `body`, plus the Content-Length a keep-alive client needs."""
    request.send_response(status)
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def send_json(request: BaseHTTPRequestHandler, payload: Any, status: int = 200) -> None:
    """Answer `status` with `payload` as an application/json body."""
    send_reply(request, status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A fresh certificate and key for 127.0.0.1 in `folder` (cert.pem, key.pem); skips without openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not found: apt-get install openssl (needed to make a test certificate)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key
