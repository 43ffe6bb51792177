"""The AMO API answers of the fixture server, independent of HTTP: (status, JSON bytes).

Every behaviour imitates mozilla/addons-server and names its source next to the code:
- `docs/topics/api/addons.rst` (v5 search: parameters, the sort table, threshold filters;
  versions list; the add-on and version objects),
- `docs/topics/api/discovery.rst` (editorial content, unpaginated),
- `src/olympia/search/filters.py` (`SortingFilter`: names, directions, the 400 body),
- `src/olympia/api/pagination.py` + `src/olympia/amo/pagination.py` (`ESPaginator`: the
  envelope, `page_count`, the result window) on Django REST framework's `PageNumberPagination`,
- `src/olympia/conf/.../settings_base.py` (`ES_MAX_RESULT_WINDOW = 25000`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from urllib.parse import parse_qs, unquote, urlencode

import numpy as np

from taar_fixtures.amo.catalogue import Catalogue, render_addon, render_version

DEFAULT_PAGE_SIZE = 25
"""addons.rst: `page_size` "Defaults to 25"."""
MAX_PAGE_SIZE = 50
"""api/pagination.py `CustomPageNumberPagination.max_page_size = 50`."""
RESULT_WINDOW = 25_000
"""settings_base.py `ES_MAX_RESULT_WINDOW = 25000`, used by amo/pagination.py `ESPaginator`."""

SORT_FIELDS = ("created", "users", "updated", "downloads", "rating", "hotness")
"""filters.py `SortingFilter.SORTING_PARAMS` / addons.rst sort table: each name has one fixed,
descending direction (`created` -> `-created`, `users` -> `-average_daily_users`, `updated` ->
`-last_updated`, `downloads` -> `-weekly_downloads`, `rating` -> `-bayesian_rating`, `hotness` ->
`-hotness`). AMO documents a few more names whose order depends on what this fixture does not
serve (`relevance`: a text query's score; `random`: only alone, for promoted add-ons;
`recommended`: the promoted state); they answer 400 here, so a client that needs them cannot
pass against this fixture by accident."""
DEFAULT_SORT = "downloads"
"""filters.py `SortingFilter`: without `q` and without `sort`, AMO sorts by weekly downloads."""
INVALID_SORT_BODY = json.dumps(['Invalid "sort" parameter.']).encode()
"""filters.py raises `serializers.ValidationError('Invalid "sort" parameter.')`; DRF renders a
ValidationError built from one string as a JSON list holding that string."""

THRESHOLD_OPERATORS = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less, "lte": np.less_equal}
"""addons.rst (v5 search): `created` and `users` take threshold parameters `__gt/__gte/__lt/__lte`."""
THRESHOLD_APIS = ("v5",)
"""Only v5 has the thresholds: the frozen `docs/topics/api/v4_frozen/addons.rst` search lists no
`created` or `users` parameter, and DRF filter backends ignore query parameters they do not
read, so on v4 the thresholds change nothing."""
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
"""addons.rst: `created` thresholds accept `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS`
or millisecond timestamps (nothing else: no zone suffix)."""

_VERSIONS = re.compile(r"^addons/addon/([^/]+)/versions/$")
_DETAIL = re.compile(r"^addons/addon/([^/]+)/$")

Answer = tuple[int, bytes]


class BadRequest(ValueError):
    """A parameter AMO would reject with 400; `body` is the JSON AMO answers."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body.decode())
        self.body = body


def _invalid_parameter(name: str) -> BadRequest:
    # filters.py `AddonQueryParam.get_value`: 'Invalid "%s" parameter.' as a DRF ValidationError.
    return BadRequest(json.dumps([f'Invalid "{name}" parameter.']).encode())


def _detail(status: int, message: str) -> Answer:
    return status, json.dumps({"detail": message}).encode()


def parse_created_threshold(name: str, value: str) -> int:
    """Epoch milliseconds of a `created__*` value (UTC); 400 for any other form."""
    if value.isdigit():
        return int(value)
    for fmt in _DATE_FORMATS:
        try:
            moment = dt.datetime.strptime(value, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
        return int(moment.timestamp()) * 1000
    raise _invalid_parameter(name)


def _parse_users_threshold(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise _invalid_parameter(name) from exc


def page_size_of(values: dict[str, str]) -> int:
    """DRF `PageNumberPagination.get_page_size`: a positive int capped at `max_page_size`;
    0, negative or not an integer silently falls back to the default."""
    try:
        size = int(values["page_size"])
    except (KeyError, ValueError):
        return DEFAULT_PAGE_SIZE
    return DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)


def _page_link(page_url: str, query: str, page: int | None) -> str:
    """DRF `replace_query_param` / `remove_query_param`: the query re-encoded sorted by name."""
    values = parse_qs(query, keep_blank_values=True)
    values.pop("page", None)
    if page is not None:
        values["page"] = [str(page)]
    encoded = urlencode(sorted(values.items()), doseq=True)
    return f"{page_url}?{encoded}" if encoded else page_url


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
        self._orders: dict[str, np.ndarray] = {}
        self._sort_keys = {
            "created": catalogue.created,
            "users": catalogue.average_daily_users,
            "updated": catalogue.last_updated(),
            "downloads": catalogue.weekly_downloads,
            "rating": catalogue.bayesian_rating,
            "hotness": catalogue.hotness,
        }

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
            return 400, exc.body
        return _detail(404, "Not found.")

    def _addon_json(self, api: str, i: int) -> bytes:
        key = (api, i)
        body = self._rendered.get(key)
        if body is None:
            body = json.dumps(render_addon(self.catalogue.addon_at(i), api)).encode()
            self._rendered[key] = body
        return body

    def order(self, sort: str | None) -> np.ndarray:
        """Indices in `sort` order: filters.py `SortingFilter` validates every comma-separated
        name (an unknown one, `-created` included, is a 400) and sorts each one descending.
        Ties keep ascending add-on id (Elasticsearch leaves their order unspecified)."""
        names = (DEFAULT_SORT if sort is None else sort).split(",")
        if any(name not in SORT_FIELDS for name in names):
            raise BadRequest(INVALID_SORT_BODY)
        key = ",".join(names)
        order = self._orders.get(key)
        if order is None:
            columns = [self.catalogue.ids] + [-self._sort_keys[name] for name in reversed(names)]
            order = self._orders[key] = np.lexsort(columns)
        return order

    def matching(self, params: dict[str, str], api: str = "v5") -> np.ndarray:
        """Indices of the add-ons matching the search filters of `api`, in the requested order."""
        cat = self.catalogue
        mask = np.ones(len(cat), dtype=bool)
        # addons.rst: `type` filters by add-on type; this catalogue holds extensions only.
        if "type" in params and "extension" not in params["type"].split(","):
            mask[:] = False
        # addons.rst (v5): `created` / `users` threshold parameters.
        for op_name, op in THRESHOLD_OPERATORS.items() if api in THRESHOLD_APIS else ():
            name = f"created__{op_name}"
            if name in params:
                mask &= op(cat.created * 1000, parse_created_threshold(name, params[name]))
            name = f"users__{op_name}"
            if name in params:
                mask &= op(cat.average_daily_users, _parse_users_threshold(name, params[name]))
        # addons.rst: `guid` takes comma-separated GUIDs, any of which match.
        if params.get("guid"):
            wanted = np.zeros(len(cat), dtype=bool)
            for guid in params["guid"].split(","):
                if guid in cat:
                    wanted[cat.index_of(guid)] = True
            mask &= wanted
        if params.get("promoted"):
            mask &= cat.promoted if params["promoted"] == "recommended" else False
        order = self.order(params.get("sort"))
        return order[mask[order]]

    def _page(
        self, params: list[tuple[str, str]], total: int, page_url: str, window: int | None
    ) -> tuple[int, int, dict] | None:
        """(first index, page size, envelope without results), or None for 404 "Invalid page."."""
        values = dict(params)
        size = page_size_of(values)
        # amo/pagination.py `ESPaginator.num_pages` (Django's formula, orphans 0), bounded by the window.
        hits = max(1, total) if window is None else min(window, max(1, total))
        page_count = math.ceil(hits / size)
        raw_page = values.get("page", "1")
        if raw_page == "last":  # DRF `PageNumberPagination.last_page_strings`
            raw_page = str(page_count)
        try:
            page = int(raw_page)
        except ValueError:
            return None  # PageNotAnInteger -> DRF NotFound "Invalid page."
        if page < 1:
            return None  # EmptyPage
        if window is not None and page * size > window:
            return None  # ESPaginator.page: the page's last index is past max_result_window
        if page > page_count and page != 1:
            return None  # EmptyPage, except an empty first page
        query = urlencode(params)
        envelope = {
            # api/pagination.py `CustomPageNumberPagination.get_paginated_response` order.
            "page_size": size,
            "page_count": page_count,
            "count": total,
            "next": _page_link(page_url, query, page + 1) if page < page_count else None,
            "previous": None if page == 1 else _page_link(page_url, query, page - 1 if page > 2 else None),
        }
        return (page - 1) * size, size, envelope

    @staticmethod
    def _envelope(envelope: dict, results: list[bytes]) -> bytes:
        head = json.dumps(envelope).encode()
        return head[:-1] + b', "results": [' + b", ".join(results) + b"]}"

    def search(self, api: str, params: list[tuple[str, str]], page_url: str) -> Answer:
        """`addons/search/`: filters, sort, paging, the result window."""
        found = self.matching(dict(params), api)
        paged = self._page(params, len(found), page_url, self.result_window)
        if paged is None:
            return _detail(404, "Invalid page.")
        first, size, envelope = paged
        results = [self._addon_json(api, int(i)) for i in found[first : first + size]]
        return 200, self._envelope(envelope, results)

    def versions(self, api: str, guid_or_id: str, params: list[tuple[str, str]], page_url: str) -> Answer:
        """`addons/addon/<id|slug|guid>/versions/` (addons.rst "Versions List"): newest first,
        paged by the database paginator (no search window)."""
        i = self.catalogue.index_of(guid_or_id)
        if i is None:
            return _detail(404, "Not found.")
        addon = self.catalogue.addon_at(i)
        newest_first = addon.versions[::-1]
        paged = self._page(params, len(newest_first), page_url, None)
        if paged is None:
            return _detail(404, "Invalid page.")
        first, size, envelope = paged
        results = [json.dumps(render_version(addon, v, api)).encode() for v in newest_first[first : first + size]]
        return 200, self._envelope(envelope, results)

    def detail(self, api: str, guid_or_id: str) -> Answer:
        """`addons/addon/<id|slug|guid>/` (addons.rst "Detail"): the add-on object."""
        i = self.catalogue.index_of(guid_or_id)
        if i is None:
            return _detail(404, "Not found.")
        return 200, self._addon_json(api, i)

    def editorial(self, params: dict[str, str]) -> Answer:
        """`discovery/editorial/` (discovery.rst "Editorial Content"): every item, no pagination.

        The fixture's editorial list is the recommended one, so `recommended=true` keeps all of it.
        """
        results = [
            {"addon": {"guid": e.guid}, "custom_heading": None, "custom_description": e.custom_description}
            for e in self.catalogue.editorial
        ]
        return 200, json.dumps({"results": results}).encode()
