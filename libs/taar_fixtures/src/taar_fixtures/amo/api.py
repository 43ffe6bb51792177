"""The AMO API answers of the fixture server, independent of HTTP: (status, JSON bytes).

Paging follows AMO/DRF: `page` is 1-based, `page_size` defaults to 25 and is capped at 50,
`count` is the true number of matches, `page_count` counts the pages that can be fetched
(inside the result window), `next`/`previous` are absolute URLs (null at the ends). A page
whose first result index is at or past the result window (30,000 on AMO), or past the last
result, answers 404 `{"detail": "Invalid page."}`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from urllib.parse import unquote, urlencode

import numpy as np

from taar_fixtures.amo.catalogue import Catalogue, render_addon, render_version

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 50
RESULT_WINDOW = 30_000
EDITORIAL_WITHOUT_RECOMMENDED = 10
SORTS = ("created", "-created", "users", "-users")

_VERSIONS = re.compile(r"^addons/addon/([^/]+)/versions/$")
_DETAIL = re.compile(r"^addons/addon/([^/]+)/$")

Answer = tuple[int, bytes]


class BadRequest(ValueError):
    """A parameter AMO would reject with 400."""


def _detail(status: int, message: str) -> Answer:
    return status, json.dumps({"detail": message}).encode()


def _parse_time(name: str, value: str) -> int:
    """Epoch seconds of an ISO datetime or date (naive means UTC)."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadRequest(f"Invalid value for {name}: {value!r} (expected an ISO 8601 date or datetime)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return math.ceil(parsed.timestamp())


def _parse_int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise BadRequest(f"Invalid value for {name}: {value!r} (expected an integer)") from exc


def _previous_url(page_url: str, others: list[tuple[str, str]], page: int) -> str | None:
    """DRF style: none on page 1, and page 1 is linked without a `page` parameter."""
    if page == 1:
        return None
    query = others + ([("page", str(page - 1))] if page > 2 else [])
    return f"{page_url}?{urlencode(query)}" if query else page_url


def request_kind(route: str) -> str:
    """The counter a request path (after `/api/vN/`) falls under."""
    if route == "addons/search/":
        return "search"
    if _VERSIONS.match(route):
        return "versions"
    if _DETAIL.match(route):
        return "detail"
    if route == "discovery/editorial/":
        return "editorial"
    return "other"


class AmoApi:
    """Answers AMO requests from a catalogue; JSON of each add-on is rendered once per API version."""

    def __init__(self, catalogue: Catalogue, *, result_window: int = RESULT_WINDOW) -> None:
        self.catalogue = catalogue
        self.result_window = result_window
        self._rendered: dict[tuple[str, int], bytes] = {}
        self._created_order = np.lexsort((catalogue.ids, catalogue.created))
        self._users_order = np.lexsort((catalogue.ids, catalogue.average_daily_users))

    def answer(self, api: str, route: str, params: list[tuple[str, str]], page_url: str) -> Answer:
        """Answer `GET /api/<api>/<route>?<params>`; `page_url` is the absolute URL without query."""
        try:
            kind = request_kind(route)
            if kind == "search":
                return self.search(api, params, page_url)
            if kind == "versions":
                return self.versions(api, unquote(_VERSIONS.match(route).group(1)), params, page_url)
            if kind == "detail":
                return self.detail(api, unquote(_DETAIL.match(route).group(1)))
            if kind == "editorial":
                return self.editorial(dict(params))
        except BadRequest as exc:
            return _detail(400, str(exc))
        return _detail(404, "Not found.")

    def _addon_json(self, api: str, i: int) -> bytes:
        key = (api, i)
        body = self._rendered.get(key)
        if body is None:
            body = json.dumps(render_addon(self.catalogue.addon_at(i), api)).encode()
            self._rendered[key] = body
        return body

    def matching(self, params: dict[str, str]) -> np.ndarray:
        """Indices of the add-ons matching the search filters, in the requested order."""
        cat = self.catalogue
        mask = np.ones(len(cat), dtype=bool)
        if params.get("type", "extension") and "extension" not in params.get("type", "extension").split(","):
            mask[:] = False
        for name, op in (("created__gte", np.greater_equal), ("created__lt", np.less)):
            if name in params:
                mask &= op(cat.created, _parse_time(name, params[name]))
        for name, op in (("users__gte", np.greater_equal), ("users__lt", np.less)):
            if name in params:
                mask &= op(cat.average_daily_users, _parse_int(name, params[name]))
        if params.get("guid"):
            wanted = np.zeros(len(cat), dtype=bool)
            for guid in params["guid"].split(","):
                if guid in cat:
                    wanted[cat.index_of(guid)] = True
            mask &= wanted
        if params.get("promoted"):
            mask &= cat.promoted if params["promoted"] == "recommended" else False
        sort = params.get("sort", "-created")
        if sort not in SORTS:
            raise BadRequest(f'Invalid "sort" parameter: {sort!r} (supported: {", ".join(SORTS)})')
        order = self._created_order if sort.endswith("created") else self._users_order
        if sort.startswith("-"):
            order = order[::-1]
        return order[mask[order]]

    def _page(self, params: list[tuple[str, str]], total: int, page_url: str, window: int | None) -> tuple:
        """(first index, page size, envelope without results) or raise via an Answer."""
        values = dict(params)
        try:
            page = int(values.get("page", "1"))
        except ValueError:
            page = 0
        try:
            size = int(values.get("page_size", DEFAULT_PAGE_SIZE))
        except ValueError as exc:
            raise BadRequest(f"Invalid page_size: {values['page_size']!r}") from exc
        if size < 1:
            raise BadRequest(f"Invalid page_size: {size} (must be >= 1)")
        size = min(size, MAX_PAGE_SIZE)
        first = (page - 1) * size
        reachable = total if window is None else min(total, window)
        page_count = max(1, math.ceil(reachable / size))
        if page < 1 or page > page_count:
            return None, None, None
        others = [(k, v) for k, v in params if k != "page"]
        envelope = {
            "page_size": size,
            "page_count": page_count,
            "count": total,
            "next": f"{page_url}?{urlencode([*others, ('page', str(page + 1))])}" if page < page_count else None,
            "previous": _previous_url(page_url, others, page),
        }
        return first, size, envelope

    @staticmethod
    def _envelope(envelope: dict, results: list[bytes]) -> bytes:
        head = json.dumps(envelope).encode()
        return head[:-1] + b', "results": [' + b", ".join(results) + b"]}"

    def search(self, api: str, params: list[tuple[str, str]], page_url: str) -> Answer:
        """`addons/search/`: filters, sort, paging, the result window."""
        found = self.matching(dict(params))
        first, size, envelope = self._page(params, len(found), page_url, self.result_window)
        if envelope is None:
            return _detail(404, "Invalid page.")
        results = [self._addon_json(api, int(i)) for i in found[first : first + size]]
        return 200, self._envelope(envelope, results)

    def versions(self, api: str, guid_or_id: str, params: list[tuple[str, str]], page_url: str) -> Answer:
        """`addons/addon/<guid-or-id>/versions/`: newest first, paged."""
        i = self.catalogue.index_of(guid_or_id)
        if i is None:
            return _detail(404, "Not found.")
        addon = self.catalogue.addon_at(i)
        newest_first = addon.versions[::-1]
        first, size, envelope = self._page(params, len(newest_first), page_url, None)
        if envelope is None:
            return _detail(404, "Invalid page.")
        results = [json.dumps(render_version(addon, v, api)).encode() for v in newest_first[first : first + size]]
        return 200, self._envelope(envelope, results)

    def detail(self, api: str, guid_or_id: str) -> Answer:
        """`addons/addon/<guid-or-id>/`: the same shape as a search result."""
        i = self.catalogue.index_of(guid_or_id)
        if i is None:
            return _detail(404, "Not found.")
        return 200, self._addon_json(api, i)

    def editorial(self, params: dict[str, str]) -> Answer:
        """`discovery/editorial/`: every recommended entry with `recommended=true`, else the first few."""
        entries = self.catalogue.editorial
        if params.get("recommended", "").lower() != "true":
            entries = entries[:EDITORIAL_WITHOUT_RECOMMENDED]
        results = [
            {"addon": {"guid": e.guid}, "custom_heading": None, "custom_description": e.custom_description}
            for e in entries
        ]
        return 200, json.dumps({"results": results}).encode()
