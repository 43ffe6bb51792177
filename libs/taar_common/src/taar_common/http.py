"""An HTTP session that retries like a polite API client, built on urllib3's Retry.

Retries: 429 (honouring `Retry-After`), 5xx, connection errors and timeouts, with
exponential backoff and jitter. `fetch_json` also retries bodies that are not valid JSON
(truncated pages), then raises an error naming the URL.

Every attempt has an overall deadline (connect, headers and the whole body): a socket read
timeout alone bounds only the wait for each next byte, so a server that drips its answer
would hold a worker forever. An attempt past its deadline fails as a read timeout, which
the same Retry policy retries.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)


class MalformedResponseError(RuntimeError):
    """A response body was not the JSON it should be, even after retries."""


class PagingError(RuntimeError):
    """A paginated answer's `next` link leaves the API's origin, loops, or never ends; names the URL."""


@dataclass
class HttpStats:
    """Thread-safe counters of requests and retries for the run summary."""

    requests: int = 0
    retries: int = 0
    malformed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "retries": self.retries, "malformed": self.malformed}


class CountingRetry(Retry):
    """urllib3 Retry that reports each retry to an `HttpStats`."""

    def __init__(self, *args: Any, stats: HttpStats | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stats = stats

    def new(self, **kwargs: Any) -> CountingRetry:
        retry = super().new(**kwargs)
        retry.stats = self.stats
        return retry

    def increment(self, method: str | None = None, url: str | None = None, *args: Any, **kwargs: Any) -> Retry:
        if self.stats is not None:
            self.stats.add("retries")
        response = kwargs.get("response")
        error = kwargs.get("error")
        log.debug("retrying %s %s (%s)", method, url, response.status if response is not None else error)
        return super().increment(method, url, *args, **kwargs)


class ResponseDeadlineError(TimeoutError):
    """An attempt did not receive its whole answer within the overall deadline."""


class _DeadlineSocket:
    """A socket view whose reads fail once the attempt's deadline has passed.

    Each read waits at most the socket's own timeout and the time left; http.client reads the
    status line, headers and body through `makefile`, so all of them are bounded.
    """

    def __init__(self, sock: socket.socket, deadline: float, budget_s: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._budget_s = budget_s
        self._timeout = sock.gettimeout()

    def settimeout(self, value: float | None) -> None:
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise ResponseDeadlineError(f"answer not complete within {self._budget_s:g} s (--http-timeout)")
        self._sock.settimeout(remaining if self._timeout is None else min(self._timeout, remaining))
        try:
            return self._sock.recv_into(buffer, nbytes, flags)
        except TimeoutError as exc:
            if time.monotonic() >= self._deadline:
                raise ResponseDeadlineError(
                    f"answer not complete within {self._budget_s:g} s (--http-timeout)"
                ) from exc
            raise

    def makefile(self, mode: str = "r", buffering: int | None = None, **_: Any) -> Any:
        # As socket.makefile does for binary reading, with this view as the raw reader.
        self._sock._io_refs += 1  # type: ignore[attr-defined]
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        return io.BufferedReader(raw, buffering if buffering and buffering > 0 else io.DEFAULT_BUFFER_SIZE)

    def _decref_socketios(self) -> None:
        self._sock._decref_socketios()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _DeadlineConnectionMixin:
    """urllib3 connection whose every request/answer exchange ends by `overall_timeout_s`."""

    overall_timeout_s: float = 30.0
    _attempt_started: float | None = None

    def connect(self) -> None:
        self._attempt_started = time.monotonic()  # a new connection's set-up counts too
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is None or self._attempt_started is None:  # type: ignore[attr-defined]
            self._attempt_started = time.monotonic()
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        real = self.sock  # type: ignore[attr-defined]
        started, self._attempt_started = self._attempt_started, None
        if not isinstance(real, socket.socket) or started is None:
            return super().getresponse()  # type: ignore[misc]
        view = _DeadlineSocket(real, started + self.overall_timeout_s, self.overall_timeout_s)
        self.sock = view  # the answer's reader is made from this view, so it keeps the deadline
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            if self.sock is view:
                self.sock = real


def _deadline_pool_classes(overall_timeout_s: float) -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 pool classes (for `PoolManager.pool_classes_by_scheme`) with the deadline."""
    attrs = {"overall_timeout_s": overall_timeout_s}
    http_conn = type("DeadlineHTTPConnection", (_DeadlineConnectionMixin, HTTPConnection), attrs)
    https_conn = type("DeadlineHTTPSConnection", (_DeadlineConnectionMixin, HTTPSConnection), attrs)
    return {
        "http": type("DeadlineHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("DeadlineHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


class DeadlineAdapter(HTTPAdapter):
    """A requests adapter whose pools (direct and HTTP(S) proxy) bound each attempt overall."""

    def __init__(self, overall_timeout_s: float, **kwargs: Any) -> None:
        self.overall_timeout_s = overall_timeout_s
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _deadline_pool_classes(self.overall_timeout_s)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        fresh = proxy not in self.proxy_manager
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if fresh and not proxy.lower().startswith("socks"):  # SOCKS pools have their own classes
            manager.pool_classes_by_scheme = _deadline_pool_classes(self.overall_timeout_s)
        return manager


class TimeoutSession(requests.Session):
    """A requests Session with a default (connect, read) timeout and request counting."""

    def __init__(self, timeout: tuple[float, float], stats: HttpStats) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.stats = stats

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.default_timeout)
        self.stats.add("requests")
        return super().request(method, url, **kwargs)


def build_http_session(
    *,
    retries: int = 8,
    backoff_factor: float = 0.25,
    backoff_max: float = 30.0,
    timeout: tuple[float, float] = (5.0, 30.0),
    pool_size: int = 32,
    stats: HttpStats | None = None,
    user_agent: str = "taar-etl",
    deadline_s: float | None = None,
) -> TimeoutSession:
    """A pooled session retrying 429/5xx/connection errors/timeouts for GET and HEAD.

    `timeout` is (connect, read); each attempt must also complete (connect, headers, whole
    body) within `deadline_s`, by default the read timeout, i.e. the jobs' `--http-timeout`.
    """
    retry = CountingRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff_factor,
        backoff_max=backoff_max,
        backoff_jitter=0.1,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=True,
        stats=stats,
    )
    session = TimeoutSession(timeout, stats if stats is not None else HttpStats())
    adapter = DeadlineAdapter(
        deadline_s if deadline_s is not None else timeout[1],
        max_retries=retry,
        pool_connections=pool_size,
        pool_maxsize=pool_size,
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    read_environment_once(session)
    return session


def read_environment_once(session: requests.Session) -> None:
    """Stop requests from re-reading the environment on every request when nothing there applies.

    With `trust_env`, requests scans proxy variables and `~/.netrc` per request (about 1 ms of
    CPU each, a third of a dump's client time). Without any `*_proxy` variable, the CA bundle
    (`REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE`) is read here once and `trust_env` turned off; with
    one, per-request handling stays (it applies `no_proxy` per host). `.netrc` credentials are
    never sent: the jobs call public APIs.
    """
    if urllib.request.getproxies():
        return
    session.trust_env = False
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    for adapter in session.adapters.values():  # the direct pool path of fetch_json verifies like requests
        if isinstance(adapter, HTTPAdapter):
            adapter.poolmanager.connection_pool_kw.update(
                cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle or requests.utils.DEFAULT_CA_BUNDLE_PATH
            )


def _reason(exc: BaseException) -> str:
    """An error's text, with the deadline named when that is what ended the attempt."""
    cause: Any = exc
    for _ in range(10):  # a short chain: MaxRetryError -> ReadTimeoutError -> ResponseDeadlineError
        if not isinstance(cause, BaseException):
            break
        if isinstance(cause, ResponseDeadlineError):
            return f"{exc} ({cause})"
        reason = getattr(cause, "reason", None)
        cause = reason if isinstance(reason, BaseException) else cause.__cause__ or cause.__context__
    return str(exc)


def _get_body_via_requests(session: TimeoutSession, url: str, params: dict[str, Any] | None) -> bytes:
    """The body through requests (proxies apply per request).

    requests reads the body after urllib3's retries are done, so a body that fails mid-way
    (deadline, broken connection) is retried here with a copy of the same Retry policy.
    """
    adapter = session.get_adapter(url)
    retry: Retry = adapter.max_retries if isinstance(adapter, HTTPAdapter) else Retry(0)
    while True:
        try:
            response = session.get(url, params=params)
        except requests.exceptions.RetryError as exc:
            raise requests.HTTPError(f"GET {url} params={params} failed after retries: {exc}") from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            cause = exc.args[0] if exc.args else None
            if not isinstance(cause, (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError)):
                raise requests.ConnectionError(f"GET {url} params={params} failed: {_reason(exc)}") from exc
            try:
                retry = retry.increment("GET", url, error=cause)
            except urllib3.exceptions.MaxRetryError as final:
                raise requests.ConnectionError(
                    f"GET {url} params={params} failed after retries: {_reason(cause)}"
                ) from final
            retry.sleep()
            continue
        response.raise_for_status()
        return response.content


def _get_body(session: TimeoutSession, url: str, params: dict[str, Any] | None) -> bytes:
    """The body of a successful GET, through the session's own pool and Retry policy.

    Without environment proxies, the adapter's urllib3 pool is called directly: the same
    connections, retries and TLS settings, minus requests' per-request machinery (cookies,
    hooks, request preparation: about 0.8 ms of CPU per call, half a dump's client time).
    urllib3 reads the whole body inside its retry loop, so the deadline's read timeout is
    retried there like any other.
    """
    if session.trust_env or session.proxies:
        return _get_body_via_requests(session, url, params)
    full_url = f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}" if params else url
    adapter = session.get_adapter(full_url)
    connect, read = session.default_timeout
    session.stats.add("requests")
    try:
        response = adapter.poolmanager.request(
            "GET",
            full_url,
            headers=dict(session.headers),
            retries=adapter.max_retries,
            timeout=urllib3.Timeout(connect=connect, read=read),
        )
    except urllib3.exceptions.MaxRetryError as exc:
        error = (
            requests.HTTPError if isinstance(exc.reason, urllib3.exceptions.ResponseError) else requests.ConnectionError
        )
        raise error(f"GET {full_url} failed after retries: {_reason(exc.reason)}") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise requests.ConnectionError(f"GET {full_url} failed: {_reason(exc)}") from exc
    if response.status >= 400:
        raise requests.HTTPError(f"{response.status} error for GET {full_url}: {response.data[:200]!r}")
    return response.data


def fetch_json(
    session: TimeoutSession,
    url: str,
    params: dict[str, Any] | None = None,
    *,
    attempts: int = 4,
    backoff: float = 0.2,
) -> Any:
    """GET `url` and parse JSON, retrying bodies that do not parse; errors name the URL.

    HTTP errors (after the session's own retries) raise `requests.HTTPError`.
    """
    last_error: Exception | None = None
    for attempt in range(attempts):
        body = _get_body(session, url, params)
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            last_error = exc
            session.stats.add("malformed")
            if attempt + 1 < attempts:
                session.stats.add("retries")
                time.sleep(backoff * (2**attempt))
    raise MalformedResponseError(
        f"GET {url} params={params}: body is not valid JSON after {attempts} attempts ({last_error})"
    )


DEFAULT_PORTS = {"http": 80, "https": 443}

MAX_PAGES = 500
"""Pages followed when an answer declares no `page_count`: AMO's 25,000-result window at 50 a page."""


def url_origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, lower-cased, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme)


def _page_key(url: str) -> tuple[Any, ...]:
    """A page's identity: origin, path and the query pairs in any order."""
    parts = urlsplit(url)
    return (*url_origin(url), parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True))))


def iter_pages(
    session: TimeoutSession,
    url: str,
    params: dict[str, Any] | None = None,
    *,
    api_url: str,
    max_pages: int = MAX_PAGES,
) -> Iterator[tuple[str, Any]]:
    """(page URL, JSON payload) of each page of a paginated answer, following `next` links.

    A `next` is followed only on the scheme, host and port of `api_url` (the jobs' `--amo-url`)
    and only to a page not read yet; otherwise `PagingError` names the link. The first page's
    `page_count` bounds the walk (a server minting fresh `next` links cannot keep a job
    paging); without one, `max_pages` does, and exceeding it is an error.
    """
    origin = url_origin(api_url)
    page_url = f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}" if params else url
    if url_origin(page_url) != origin:
        raise PagingError(f"{page_url}: not on the API's scheme, host and port ({api_url})")
    seen = {_page_key(page_url)}
    request_url, request_params = url, params
    page_limit: int | None = None
    limit_declared = False
    pages = 0
    while True:
        payload = fetch_json(session, request_url, request_params)
        pages += 1
        yield page_url, payload
        if not isinstance(payload, dict) or payload.get("next") is None:
            return
        if page_limit is None:
            declared = payload.get("page_count")
            limit_declared = isinstance(declared, int) and not isinstance(declared, bool) and declared >= 1
            page_limit = declared if limit_declared else max_pages
        link = payload["next"]
        if not isinstance(link, str) or not link:
            raise PagingError(f"{page_url}: 'next' is not a URL ({link!r})")
        next_url = urljoin(page_url, link)
        if url_origin(next_url) != origin:
            raise PagingError(f"{page_url}: next link {next_url} leaves the API's scheme, host and port ({api_url})")
        key = _page_key(next_url)
        if key in seen:
            raise PagingError(f"{page_url}: next link {next_url} points to a page already read (a paging loop)")
        if pages >= page_limit:
            if not limit_declared:
                raise PagingError(f"{page_url}: still a next link ({next_url}) after {max_pages} pages")
            log.warning("%s: stopping at page_count=%d; ignoring next link %s", page_url, page_limit, next_url)
            return
        seen.add(key)
        request_url, request_params, page_url = next_url, None, next_url
