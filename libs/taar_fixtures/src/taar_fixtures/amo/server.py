"""The fixture AMO server: real HTTP/1.1 (keep-alive) on a background thread.

Serves `/api/v5/` and `/api/v4/` from a `Catalogue`, adds latency and injects faults
(`FaultPlan`). Admin endpoints for an out-of-process server: `POST /__admin__/faults`
(a `FaultPlan.to_dict()` JSON) replaces the plan, `GET /__admin__/faults` shows it,
`GET /__admin__/stats` returns request counters. Admin requests are not counted.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from taar_fixtures.amo.api import RESULT_WINDOW, AmoApi, request_kind
from taar_fixtures.amo.catalogue import Catalogue
from taar_fixtures.amo.faults import FaultInjector, FaultPlan, FaultRule

log = logging.getLogger(__name__)

API_VERSIONS = ("v5", "v4")
INVALID_BODY = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>upstream hiccup</body></html>"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: _AmoHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        try:
            self._serve_get()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if urlsplit(self.path).path != "/__admin__/faults":
            self._send(405, json.dumps({"detail": "Method not allowed."}).encode())
            return
        try:
            plan = FaultPlan.from_dict(json.loads(body or b"{}"))
        except (ValueError, TypeError) as exc:
            self._send(400, json.dumps({"detail": f"invalid fault plan: {exc}"}).encode())
            return
        self.server.fixture.set_faults(plan)
        self._send(200, json.dumps(plan.to_dict()).encode())

    def _serve_get(self) -> None:
        fixture = self.server.fixture
        split = urlsplit(self.path)
        if split.path.startswith("/__admin__/"):
            if split.path == "/__admin__/stats":
                self._send(200, json.dumps(fixture.stats()).encode())
            elif split.path == "/__admin__/faults":
                self._send(200, json.dumps(fixture.faults.to_dict()).encode())
            else:
                self._send(404, b'{"detail": "Not found."}')
            return
        parts = split.path.split("/", 3)  # ['', 'api', 'v5', 'addons/search/']
        api = parts[2] if len(parts) == 4 and parts[1] == "api" else ""
        route = parts[3] if api else ""
        fixture.count_request(request_kind(route) if api in API_VERSIONS else "other")
        injector = fixture.injector
        latency = fixture.latency_s + injector.plan.latency_s
        if latency > 0:
            time.sleep(latency)
        rule = injector.pick(self.path)
        if rule is not None:
            fixture.count_fault(rule)
            if self._inject(rule):
                return
        if api not in API_VERSIONS:
            self._send(404, b'{"detail": "Not found."}')
            return
        # This handler's own server address: a keep-alive request can still be answered while the
        # fixture is stopping, after it has dropped its server.
        page_url = f"http://{fixture.host}:{self.server.server_address[1]}{split.path}"
        status, body = fixture.api.answer(api, route, parse_qsl(split.query, keep_blank_values=True), page_url)
        self._send(status, body)

    def _inject(self, rule: FaultRule) -> bool:
        """Apply a fault; True when the request is fully handled (False: answer normally)."""
        if rule.kind == "status":
            headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
            self._send(rule.status, json.dumps({"detail": f"injected fault {rule.status}"}).encode(), headers)
        elif rule.kind == "invalid":
            self._send(200, INVALID_BODY, content_type="text/html; charset=utf-8")
        elif rule.kind == "drop":
            self.close_connection = True
        elif rule.kind == "timeout":
            self.server.fixture.stopping.wait(rule.delay_s)
            return False
        elif rule.kind == "truncate":
            self._truncate_next = True
            return False
        return True

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        if getattr(self, "_truncate_next", False):
            self._truncate_next = False
            body = body[: len(body) // 2]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _AmoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    fixture: AmoFixtureServer


class AmoFixtureServer:
    """A local AMO (v5 and v4) over real HTTP; use as a context manager or start()/stop()."""

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,
        faults: FaultPlan | None = None,
        result_window: int = RESULT_WINDOW,
    ) -> None:
        self.catalogue = catalogue
        self.host = host
        self.latency_s = latency_s
        self.api = AmoApi(catalogue, result_window=result_window)
        self.injector = FaultInjector(faults)
        self.stopping = threading.Event()
        self._requested_port = port
        self._httpd: _AmoHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._by_kind: Counter[str] = Counter()
        self._faults_fired: Counter[str] = Counter()

    def start(self) -> AmoFixtureServer:
        """Bind (port 0 picks a free one) and serve on a daemon thread."""
        if self._httpd is not None:
            return self
        self.stopping.clear()
        self._httpd = _AmoHTTPServer((self.host, self._requested_port), _Handler)
        self._httpd.fixture = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        log.info("fixture AMO server on %s (%d add-ons)", self.url, len(self.catalogue))
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (pending timeouts are cut short)."""
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> AmoFixtureServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fixture AMO server is not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The v5 API root, e.g. `http://127.0.0.1:PORT/api/v5/` (what `--amo-url` takes)."""
        return f"{self.base_url}/api/v5/"

    @property
    def v4_url(self) -> str:
        return f"{self.base_url}/api/v4/"

    @property
    def faults(self) -> FaultPlan:
        return self.injector.plan

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Replace the fault plan (its rules start with zero firings)."""
        self.injector = FaultInjector(plan)

    def count_request(self, kind: str) -> None:
        with self._lock:
            self._by_kind[kind] += 1

    def count_fault(self, rule: FaultRule) -> None:
        with self._lock:
            self._faults_fired[rule.kind if rule.kind != "status" else str(rule.status)] += 1

    @property
    def request_count(self) -> int:
        """Every API request served so far (admin requests excluded)."""
        with self._lock:
            return sum(self._by_kind.values())

    @property
    def requests_by_kind(self) -> dict[str, int]:
        """Request counts by kind: search, versions, detail, editorial, other."""
        with self._lock:
            return dict(self._by_kind)

    @property
    def faults_fired(self) -> dict[str, int]:
        """Injected faults so far by kind (a status fault under its code, e.g. "429")."""
        with self._lock:
            return dict(self._faults_fired)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.request_count,
            "by_kind": self.requests_by_kind,
            "faults_fired": self.faults_fired,
            "addons": len(self.catalogue),
        }
