"""`iter_pages`: `next` links followed only on the API's origin, without loops, up to `page_count`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
from taar_common.http import HttpStats, PagingError, build_http_session, iter_pages
from taar_testing.http_server import LocalHttpServer, send_json

Pager = Callable[[str, dict[str, list[str]], str], dict]
"""(path, query, server URL) -> the JSON page to answer."""


class PagingServer(LocalHttpServer):
    """Answers every GET with the page that `pager` makes; records the requested paths+queries."""

    def __init__(self, pager: Pager) -> None:
        self.pager = pager
        self.requested: list[str] = []
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        self.requested.append(request.path)
        parts = urlsplit(request.path)
        send_json(request, self.pager(parts.path, parse_qs(parts.query), self.url))


@pytest.fixture
def serve() -> Iterator[Callable[[Pager], PagingServer]]:
    with contextlib.ExitStack() as servers:
        yield lambda pager: servers.enter_context(PagingServer(pager))


def envelope(page: int, page_count: int | None, next_url: str | None) -> dict:
    body = {"count": 3 * (page_count or 1), "next": next_url, "previous": None, "results": [f"r{page}"]}
    if page_count is not None:
        body["page_count"] = page_count
    return body


def walk(url: str, params: dict | None, api_url: str, **kwargs) -> list[str]:
    http = build_http_session(stats=HttpStats(), retries=0)
    return [
        result
        for _, payload in iter_pages(http, url, params, api_url=api_url, **kwargs)
        for result in payload["results"]
    ]


def page_of(query: dict[str, list[str]]) -> int:
    return int(query.get("page", ["1"])[0])


def test_follows_next_links_on_the_api_origin(serve):
    def pager(path, query, base):
        page = page_of(query)
        return envelope(page, 3, f"{base}/api/v5/search/?q=x&page={page + 1}" if page < 3 else None)

    server = serve(pager)
    api = server.url + "/api/v5/"
    assert walk(f"{api}search/", {"q": "x"}, api) == ["r1", "r2", "r3"]
    assert server.requested == ["/api/v5/search/?q=x", "/api/v5/search/?q=x&page=2", "/api/v5/search/?q=x&page=3"]


def test_relative_next_links_resolve_against_the_page(serve):
    server = serve(lambda path, query, base: envelope(page_of(query), 2, "?page=2" if page_of(query) == 1 else None))
    assert walk(server.url + "/list/", None, server.url) == ["r1", "r2"]
    assert server.requested == ["/list/", "/list/?page=2"]


def test_paging_stops_at_page_count_even_if_next_goes_on(serve, caplog):
    # A server minting a fresh `next` link forever: the first page's page_count (4) ends the walk.
    server = serve(lambda path, query, base: envelope(page_of(query), 4, f"{base}/s/?page={page_of(query) + 1}"))
    with caplog.at_level(logging.WARNING, logger="taar_common.http"):
        assert walk(server.url + "/s/", None, server.url) == ["r1", "r2", "r3", "r4"]
    assert len(server.requested) == 4
    assert "stopping at page_count=4" in caplog.text and "/s/?page=5" in caplog.text


def test_unbounded_next_without_page_count_fails_after_max_pages(serve):
    server = serve(lambda path, query, base: envelope(page_of(query), None, f"{base}/s/?page={page_of(query) + 1}"))
    with pytest.raises(PagingError, match=r"/s/\?page=5: still a next link .*/s/\?page=6.* after 5 pages"):
        walk(server.url + "/s/", None, server.url, max_pages=5)
    assert len(server.requested) == 5


def test_next_link_to_a_page_already_read_fails_naming_it(serve):
    # Page 2 links back to page 1, with its query in another order: still the same page.
    def pager(path, query, base):
        return envelope(page_of(query), 9, f"{base}/s/?page=2&q=x" if page_of(query) == 1 else f"{base}/s/?page=1&q=x")

    server = serve(pager)
    with pytest.raises(
        PagingError, match=r"/s/\?page=2&q=x: next link http://127\.0\.0\.1:\d+/s/\?page=1&q=x .*already read"
    ):
        walk(server.url + "/s/", {"q": "x", "page": 1}, server.url)
    assert len(server.requested) == 2


def test_self_referencing_next_link_fails(serve):
    server = serve(lambda path, query, base: envelope(1, 5, f"{base}/s/"))
    with pytest.raises(PagingError, match="already read"):
        walk(server.url + "/s/", None, server.url)
    assert len(server.requested) == 1


@pytest.mark.parametrize(
    "make_next",
    [
        lambda base: base.replace("127.0.0.1", "localhost") + "/s/?page=2",  # other host, same port
        lambda base: base.replace("http://", "https://") + "/s/?page=2",  # other scheme
        lambda base: "http://127.0.0.1:1/s/?page=2",  # other port
        lambda base: "//evil.example/s/?page=2",  # scheme-relative link to another host
    ],
    ids=["host", "scheme", "port", "scheme-relative"],
)
def test_next_link_off_the_api_origin_fails_without_being_requested(serve, make_next):
    server = serve(lambda path, query, base: envelope(1, 2, make_next(base)))
    with pytest.raises(PagingError, match=r"/s/: next link \S+/s/\?page=2 leaves the API's scheme, host and port"):
        walk(server.url + "/s/", None, server.url + "/api/v5/")
    assert server.requested == ["/s/"]


def test_default_ports_count_as_the_same_origin():
    from taar_common.http import url_origin

    assert url_origin("https://addons.mozilla.org/api/v5/") == url_origin("HTTPS://Addons.Mozilla.org:443/x?page=2")
    assert url_origin("http://a.example/") == ("http", "a.example", 80)
    assert url_origin("https://a.example:8443/") != url_origin("https://a.example/")


def test_first_url_off_the_api_origin_is_refused(serve):
    server = serve(lambda path, query, base: envelope(1, 1, None))
    with pytest.raises(PagingError, match="not on the API's scheme, host and port"):
        walk(server.url + "/s/", None, "https://addons.mozilla.org/api/v5/")
    assert server.requested == []
