"""The shared HTTP session against a real local server that misbehaves on purpose."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests
from taar_common.http import HttpStats, MalformedResponseError, build_http_session, fetch_json
from taar_testing.http_server import LocalHttpServer, self_signed_certificate, send_reply


class ScriptedServer(LocalHttpServer):
    """Answers each path with a scripted list of replies, then keeps repeating the last."""

    def __init__(self) -> None:
        self.script: dict[str, list[tuple]] = {}
        self.hits: dict[str, list[float]] = {}
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?")[0]
        self.hits.setdefault(path, []).append(time.monotonic())
        replies = self.script[path]
        status, headers, body, delay = replies.pop(0) if len(replies) > 1 else replies[0]
        time.sleep(delay)
        send_reply(request, status, body, headers)


OK = (200, {"Content-Type": "application/json"}, json.dumps({"ok": True}).encode(), 0.0)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


def session(stats: HttpStats, **kwargs):
    kwargs.setdefault("backoff_factor", 0.01)
    return build_http_session(stats=stats, **kwargs)


def test_429_honours_retry_after(server):
    server.script["/p"] = [(429, {"Retry-After": "1"}, b"slow down", 0.0), OK]
    stats = HttpStats()
    assert fetch_json(session(stats), server.url + "/p") == {"ok": True}
    first, second = server.hits["/p"]
    assert second - first >= 0.95
    assert stats.retries == 1 and stats.requests == 1


def test_429_without_retry_after_backs_off_and_succeeds(server):
    server.script["/p"] = [(429, {}, b"", 0.0), (429, {}, b"", 0.0), OK]
    stats = HttpStats()
    assert fetch_json(session(stats), server.url + "/p") == {"ok": True}
    assert len(server.hits["/p"]) == 3 and stats.retries == 2


def test_5xx_then_success(server):
    server.script["/p"] = [(503, {}, b"", 0.0), (500, {}, b"", 0.0), (502, {}, b"", 0.0), OK]
    stats = HttpStats()
    assert fetch_json(session(stats), server.url + "/p") == {"ok": True}
    assert stats.retries == 3


def test_timeout_is_retried(server):
    server.script["/p"] = [(200, {}, b'{"late": 1}', 1.0), OK]
    stats = HttpStats()
    assert fetch_json(session(stats, timeout=(1.0, 0.3)), server.url + "/p") == {"ok": True}
    assert stats.retries >= 1


def test_truncated_json_is_retried_then_reported(server):
    server.script["/half"] = [(200, {}, b'{"results": [1, 2', 0.0), OK]
    server.script["/never"] = [(200, {}, b"<html>oops</html>", 0.0)]
    stats = HttpStats()
    http = session(stats)
    assert fetch_json(http, server.url + "/half") == {"ok": True}
    with pytest.raises(MalformedResponseError, match="/never"):
        fetch_json(http, server.url + "/never", attempts=2, backoff=0.01)
    assert stats.malformed == 3


def test_permanent_failure_raises_naming_url(server):
    server.script["/dead"] = [(500, {}, b"", 0.0)]
    with pytest.raises(requests.HTTPError, match="/dead"):
        fetch_json(session(HttpStats(), retries=2), server.url + "/dead")
    assert len(server.hits["/dead"]) == 3


def test_client_errors_are_not_retried(server):
    server.script["/missing"] = [(404, {}, b'{"detail": "Not found."}', 0.0)]
    with pytest.raises(requests.HTTPError):
        fetch_json(session(HttpStats()), server.url + "/missing")
    assert len(server.hits["/missing"]) == 1


def test_environment_is_read_once_without_proxy_variables(server, monkeypatch):
    for name in [k for k in os.environ if k.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    session = build_http_session()
    assert (session.trust_env, session.verify) == (False, "/etc/ssl/certs/ca-certificates.crt")
    server.script["/env"] = [OK]
    assert fetch_json(session, server.url + "/env") == {"ok": True}


def test_proxy_variables_keep_per_request_environment_handling(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    session = build_http_session()
    assert session.trust_env is True


def test_requests_path_with_proxy_environment_retries_the_same_way(server):
    server.script["/p"] = [(503, {}, b"", 0.0), (429, {"Retry-After": "0"}, b"", 0.0), OK]
    server.script["/dead"] = [(500, {}, b"", 0.0)]
    stats = HttpStats()
    http = session(stats, retries=2)
    http.trust_env = True  # as when *_proxy variables are set: every call goes through requests
    assert fetch_json(http, server.url + "/p") == {"ok": True}
    assert stats.retries == 2 and stats.requests == 1
    with pytest.raises(requests.HTTPError, match="/dead"):
        fetch_json(http, server.url + "/dead")


def test_params_and_errors_name_the_full_url(server):
    server.script["/q"] = [(404, {}, b'{"detail": "Invalid page."}', 0.0)]
    with pytest.raises(requests.HTTPError, match=r"404 error for GET .*/q\?page=7&guid=a%2Bb%40x.*Invalid page"):
        fetch_json(session(HttpStats()), server.url + "/q", {"page": 7, "guid": "a+b@x"})


def test_unreachable_host_raises_connection_error_naming_the_url():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(requests.ConnectionError, match=f"127.0.0.1:{port}/gone"):
        fetch_json(session(HttpStats(), retries=1), f"http://127.0.0.1:{port}/gone")


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[ScriptedServer, str]]:
    """The scripted server behind TLS with a fresh self-signed certificate for 127.0.0.1."""
    cert, key = self_signed_certificate(tmp_path)
    with ScriptedServer() as scripted:
        scripted.use_tls(cert, key)
        yield scripted, str(cert)


def test_direct_pool_path_verifies_tls_like_requests(tls_server, monkeypatch):
    server, cert = tls_server
    server.script["/tls"] = [OK]
    for name in [k for k in os.environ if k.lower().endswith("_proxy") or k.endswith("CA_BUNDLE")]:
        monkeypatch.delenv(name)
    with pytest.raises(requests.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch_json(session(HttpStats(), retries=0), server.url + "/tls")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    assert fetch_json(session(HttpStats()), server.url + "/tls") == {"ok": True}
