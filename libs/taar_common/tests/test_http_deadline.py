"""The overall deadline per request: a server that drips its answer fails like a slow one."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests
from taar_common.http import HttpStats, build_http_session, fetch_json
from taar_testing.http_server import LocalHttpServer, self_signed_certificate

BODY = json.dumps({"ok": True, "pad": "x" * 200}).encode()
DRIP_INTERVAL_S = 0.02  # each byte arrives well within any per-read timeout


class DrippingServer(LocalHttpServer):
    """Answers each request of a path with the next scripted mode, then repeats the last.

    Modes: `ok` (whole answer at once), `drip-body` (headers at once, then the body one byte
    per DRIP_INTERVAL_S), `drip-headers` (the status line and headers one byte at a time).
    """

    def __init__(self) -> None:
        self.script: dict[str, list[str]] = {}
        self.hits: dict[str, list[float]] = {}
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?")[0]
        self.hits.setdefault(path, []).append(time.monotonic())
        modes = self.script[path]
        mode = modes.pop(0) if len(modes) > 1 else modes[0]
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"X-Padding: {'p' * 100}\r\nContent-Length: {len(BODY)}\r\n\r\n"
        ).encode()
        try:
            if mode == "ok":
                request.wfile.write(head + BODY)
            elif mode == "drip-body":
                request.wfile.write(head)
                request.wfile.flush()
                drip(request, BODY)
            elif mode == "drip-headers":
                drip(request, head)
                request.wfile.write(BODY)
            request.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            request.close_connection = True  # the client gave up, as it should


def drip(request: BaseHTTPRequestHandler, data: bytes) -> None:
    """Write `data` one byte per DRIP_INTERVAL_S."""
    for index in range(len(data)):
        request.wfile.write(data[index : index + 1])
        request.wfile.flush()
        time.sleep(DRIP_INTERVAL_S)


@pytest.fixture
def server() -> Iterator[DrippingServer]:
    with DrippingServer() as dripping:
        yield dripping


def session(stats: HttpStats, deadline_s: float, retries: int = 3):
    # The per-read timeout equals the deadline, as the jobs build it from --http-timeout.
    return build_http_session(stats=stats, retries=retries, backoff_factor=0.01, timeout=(1.0, deadline_s))


@pytest.mark.parametrize("mode", ["drip-body", "drip-headers"])
def test_dripping_answer_is_cut_at_the_deadline_and_retried(server, mode):
    # A full drip takes ~5 s (body) or ~3.5 s (headers); the deadline is 0.5 s.
    server.script["/p"] = [mode, "ok"]
    stats = HttpStats()
    started = time.monotonic()
    assert fetch_json(session(stats, 0.5), server.url + "/p") == json.loads(BODY)
    elapsed = time.monotonic() - started
    assert len(server.hits["/p"]) == 2
    assert server.hits["/p"][1] - server.hits["/p"][0] < 1.0  # cut near 0.5 s, not after the drip
    assert elapsed < 1.5
    assert stats.retries == 1


@pytest.mark.parametrize("mode", ["drip-body", "drip-headers"])
def test_dripping_answer_fails_after_retries_naming_the_url(server, mode):
    server.script["/slow"] = [mode]
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError, match=r"GET http://127\.0\.0\.1:\d+/slow\?page=2 .*0\.4 s"):
        fetch_json(session(HttpStats(), 0.4, retries=2), server.url + "/slow", {"page": 2})
    elapsed = time.monotonic() - started
    assert len(server.hits["/slow"]) == 3
    assert 3 * 0.4 <= elapsed < 3 * 0.4 + 1.0  # three attempts of ~the deadline each, plus backoff


def test_requests_path_cuts_a_dripping_body_too(server):
    server.script["/p"] = ["drip-body", "ok"]
    server.script["/slow"] = ["drip-body"]
    stats = HttpStats()
    http = session(stats, 0.5, retries=2)
    http.trust_env = True  # as when *_proxy variables are set: every call goes through requests
    started = time.monotonic()
    assert fetch_json(http, server.url + "/p") == json.loads(BODY)
    assert time.monotonic() - started < 1.5 and stats.retries == 1
    with pytest.raises(requests.ConnectionError, match=r"GET http://127\.0\.0\.1:\d+/slow .*0\.5 s"):
        fetch_json(http, server.url + "/slow")
    assert len(server.hits["/slow"]) == 3


def test_a_prompt_answer_on_a_kept_alive_connection_is_not_cut(server):
    # The deadline restarts per request: five quick requests over one connection in > 0.3 s all pass.
    server.script["/p"] = ["ok"]
    stats = HttpStats()
    http = session(stats, 0.3)
    for _ in range(5):
        assert fetch_json(http, server.url + "/p") == json.loads(BODY)
        time.sleep(0.1)
    assert stats.retries == 0


def test_dripping_answer_over_tls_is_cut_too(tmp_path, monkeypatch):
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with DrippingServer() as server:
        server.use_tls(cert, key)
        server.script["/p"] = ["drip-body", "ok"]
        stats = HttpStats()
        started = time.monotonic()
        assert fetch_json(session(stats, 0.5), server.url + "/p") == json.loads(BODY)
        assert time.monotonic() - started < 2.0
        assert stats.retries == 1 and len(server.hits["/p"]) == 2
