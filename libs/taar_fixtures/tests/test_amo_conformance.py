"""The fixture AMO answers as AMO does, over HTTP; each test names the addons-server source it pins.

Sources (mozilla/addons-server): `docs/topics/api/addons.rst` (v5 search, versions list),
`docs/topics/api/discovery.rst`, `src/olympia/search/filters.py` (`SortingFilter`),
`src/olympia/api/pagination.py` and `src/olympia/amo/pagination.py` (`ESPaginator`),
`settings_base.py` (`ES_MAX_RESULT_WINDOW = 25000`), and Django REST framework's
`PageNumberPagination`, which those classes extend.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import numpy as np
import pytest
import requests
from taar_fixtures.amo import RESULT_WINDOW, AmoFixtureServer, generate_catalogue

N_ADDONS = 600
INVALID_SORT = ['Invalid "sort" parameter.']


@pytest.fixture(scope="module")
def catalogue():
    cat = generate_catalogue(N_ADDONS, seed=21, n_editorial=40)
    cat.created[10:14] = cat.created[10]  # a burst created in one second
    return cat


@pytest.fixture(scope="module")
def amo(catalogue):
    with AmoFixtureServer(catalogue) as server:
        yield server


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def get(http, amo, route: str, **params) -> requests.Response:
    return http.get(amo.url + route, params=params, timeout=10)


def all_results(http, amo, **params) -> list[dict]:
    results, page = [], 1
    while True:
        body = get(http, amo, "addons/search/", page_size=50, page=page, **params).json()
        results += body["results"]
        if body["next"] is None:
            return results
        page += 1


# --- sort: filters.py SortingFilter, addons.rst sort table ---------------------------------


def test_sort_created_is_newest_first(amo, http, catalogue):
    """filters.py SORTING_PARAMS 'created' -> '-created'; addons.rst: "Creation date, descending"."""
    created = [catalogue.addon(r["guid"]).created for r in all_results(http, amo, sort="created")]
    assert len(created) == N_ADDONS
    assert created == sorted(created, reverse=True)


def test_sort_users_is_most_users_first(amo, http):
    """filters.py 'users' -> '-average_daily_users'; addons.rst: "Average number of daily users, descending"."""
    users = [r["average_daily_users"] for r in all_results(http, amo, sort="users")]
    assert users == sorted(users, reverse=True) and users[0] > users[-1]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("downloads", lambda cat, a: a.weekly_downloads),
        ("rating", lambda cat, a: a.ratings_bayesian),
        ("updated", lambda cat, a: a.current_version.created),
        ("hotness", lambda cat, a: float(cat.hotness[a.index])),
    ],
)
def test_other_documented_sorts_are_descending(amo, http, catalogue, name, key):
    """filters.py SORTING_PARAMS: downloads -> -weekly_downloads, rating -> -bayesian_rating,
    updated -> -last_updated, hotness -> -hotness; addons.rst: each "descending"."""
    values = [key(catalogue, catalogue.addon(r["guid"])) for r in all_results(http, amo, sort=name)]
    assert len(values) == N_ADDONS
    assert values == sorted(values, reverse=True)


def test_sorts_combine_with_commas(amo, http, catalogue):
    """addons.rst: "You can combine multiple parameters by separating them with a comma"
    (filters.py splits `sort` on ','), e.g. `sort=created,users`."""
    results = all_results(http, amo, sort="created,users")
    keys = [(catalogue.addon(r["guid"]).created, r["average_daily_users"]) for r in results]
    assert keys == sorted(keys, reverse=True)
    burst = [r["average_daily_users"] for r in results if catalogue.addon(r["guid"]).created == catalogue.created[10]]
    assert len(burst) >= 4 and burst == sorted(burst, reverse=True)


def test_default_sort_without_query_is_downloads(amo, http, catalogue):
    """filters.py SortingFilter: no `sort` and no `q` sorts by 'downloads' (-weekly_downloads);
    addons.rst: "otherwise sort by number of weekly downloads, descending"."""
    downloads = [r["weekly_downloads"] for r in all_results(http, amo)]
    assert downloads == sorted(downloads, reverse=True)


@pytest.mark.parametrize("sort", ["-created", "-users", "name_desc", "created,-users", "users,", "", "CREATED"])
def test_unknown_or_ascending_sort_is_400_with_amos_body(amo, http, sort):
    """filters.py SortingFilter: any name of the comma list missing from SORTING_PARAMS raises
    ValidationError('Invalid "sort" parameter.'), which DRF answers as 400 with a one-string list."""
    response = get(http, amo, "addons/search/", sort=sort)
    assert response.status_code == 400
    assert response.json() == INVALID_SORT


def test_the_old_crawlers_oldest_first_request_is_refused(amo, http):
    """filters.py SortingFilter: AMO has no ascending sort; the previous crawler's split probe
    (`sort=-created` with `created__*` thresholds, page_size 50) answers 400."""
    response = get(
        http, amo, "addons/search/", app="firefox", type="extension", sort="-created", page_size=50,
        created__gte="2016-01-01", page=1,
    )  # fmt: skip
    assert (response.status_code, response.json()) == (400, INVALID_SORT)


# --- threshold filters: addons.rst (v5 search) ---------------------------------------------


def _epoch(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp())


@pytest.mark.parametrize(
    ("value", "epoch_s"),
    [
        ("2020-06-15", _epoch("2020-06-15")),
        ("2020-06-15T12:30", _epoch("2020-06-15T12:30")),
        ("2020-06-15T12:30:45", _epoch("2020-06-15T12:30:45")),
        (str(_epoch("2020-06-15T12:30:45") * 1000), _epoch("2020-06-15T12:30:45")),
    ],
    ids=["date", "minutes", "seconds", "milliseconds"],
)
def test_created_thresholds_accept_the_documented_formats(amo, http, catalogue, value, epoch_s):
    """addons.rst (v5 search, `created`): YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS or
    millisecond timestamps, with `__gt/__gte/__lt/__lte`."""
    created = np.asarray(catalogue.created)
    expected = {
        "gt": created > epoch_s,
        "gte": created >= epoch_s,
        "lt": created < epoch_s,
        "lte": created <= epoch_s,
    }
    for op, mask in expected.items():
        body = get(http, amo, "addons/search/", page_size=1, **{f"created__{op}": value}).json()
        assert body["count"] == int(mask.sum()), op


def test_created_thresholds_are_exact_at_the_second(amo, http, catalogue):
    """addons.rst threshold semantics: `__gt` excludes and `__gte` includes the bound itself."""
    burst_ms = int(catalogue.created[10]) * 1000
    gte = get(http, amo, "addons/search/", created__gte=burst_ms, created__lte=burst_ms).json()["count"]
    gt = get(http, amo, "addons/search/", created__gt=burst_ms, created__lte=burst_ms).json()["count"]
    assert (gte, gt) == (int((catalogue.created == catalogue.created[10]).sum()), 0)


@pytest.mark.parametrize("value", ["2020-06-15T12:30:45Z", "2020-06-15T12:30:45+00:00", "yesterday", "15/06/2020"])
def test_created_threshold_in_another_form_is_400(amo, http, value):
    """addons.rst lists the only accepted `created` forms; filters.py rejects other values with
    ValidationError('Invalid "<param>" parameter.')."""
    response = get(http, amo, "addons/search/", created__gte=value)
    assert response.status_code == 400
    assert response.json() == ['Invalid "created__gte" parameter.']


def test_users_thresholds(amo, http, catalogue):
    """addons.rst (v5 search, `users`): average daily users with `__gt/__gte/__lt/__lte`."""
    adu = np.asarray(catalogue.average_daily_users)
    for op, mask in {"gt": adu > 20, "gte": adu >= 20, "lt": adu < 20, "lte": adu <= 20}.items():
        assert get(http, amo, "addons/search/", **{f"users__{op}": 20}).json()["count"] == int(mask.sum()), op
    assert get(http, amo, "addons/search/", users__gte="many").status_code == 400


def test_v4_has_no_thresholds_and_ignores_them(amo, http, catalogue):
    """docs/topics/api/v4_frozen/addons.rst lists no `created`/`users` search parameter; DRF
    ignores query parameters no filter backend reads, so v4 counts every add-on."""
    v4 = http.get(amo.v4_url + "addons/search/", params={"created__gte": "2999-01-01", "users__lt": 0}, timeout=10)
    assert v4.status_code == 200 and v4.json()["count"] == len(catalogue)
    assert get(http, amo, "addons/search/", created__gte="2999-01-01").json()["count"] == 0


# --- paging: api/pagination.py, amo/pagination.py, DRF PageNumberPagination -----------------


def test_envelope_fields_and_default_page_size(amo, http):
    """api/pagination.py CustomPageNumberPagination: page_size, page_count, count, next,
    previous, results; addons.rst: `page_size` "Defaults to 25"."""
    body = get(http, amo, "addons/search/").json()
    assert list(body) == ["page_size", "page_count", "count", "next", "previous", "results"]
    assert (body["page_size"], body["page_count"], body["count"], len(body["results"])) == (25, 24, N_ADDONS, 25)


@pytest.mark.parametrize(("asked", "served"), [("1", 1), ("50", 50), ("51", 50), ("1000", 50)])
def test_page_size_is_capped_at_50(amo, http, asked, served):
    """api/pagination.py `max_page_size = 50`: DRF silently caps larger values."""
    body = get(http, amo, "addons/search/", page_size=asked).json()
    assert (body["page_size"], len(body["results"])) == (served, served)


@pytest.mark.parametrize("asked", ["0", "-5", "ten"])
def test_zero_or_invalid_page_size_falls_back_to_the_default(amo, http, asked):
    """DRF PageNumberPagination.get_page_size: `_positive_int(strict=True)` rejects 0, negatives
    and non-integers, and the default page size (25) is used instead."""
    body = get(http, amo, "addons/search/", page_size=asked).json()
    assert body["page_size"] == 25


def test_next_and_previous_links_are_drf_style(amo, http):
    """DRF replace_query_param/remove_query_param: query re-encoded sorted by name; page 2's
    `previous` links page 1 without a `page` parameter; the last page has no `next`."""
    first = get(http, amo, "addons/search/", sort="users", page_size=50).json()
    assert first["previous"] is None
    assert first["next"] == f"{amo.url}addons/search/?page=2&page_size=50&sort=users"
    second = requests.get(first["next"], timeout=10).json()
    assert second["previous"] == f"{amo.url}addons/search/?page_size=50&sort=users"
    last = get(http, amo, "addons/search/", page_size=50, page="last").json()
    assert last["next"] is None and len(last["results"]) == N_ADDONS - 50 * 11


@pytest.mark.parametrize("page", ["0", "-1", "two", "13"])
def test_pages_out_of_range_are_404_invalid_page(amo, http, page):
    """amo/pagination.py ESPaginator.validate_number / page: not an integer, below 1 or past the
    last page -> InvalidPage, which DRF answers 404 {"detail": "Invalid page."}."""
    response = get(http, amo, "addons/search/", page_size=50, page=page)
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})


def test_empty_result_is_one_empty_page(amo, http):
    """amo/pagination.py num_pages: max(1, count) hits, so an empty query has page_count 1."""
    body = get(http, amo, "addons/search/", users__lt=-1).json()
    assert (body["count"], body["page_count"], body["results"], body["next"]) == (0, 1, [], None)


def test_result_window_is_25000():
    """settings_base.py ES_MAX_RESULT_WINDOW = 25000, used as ESPaginator.max_result_window."""
    assert RESULT_WINDOW == 25_000


def test_window_bounds_pages_and_answers_404_beyond(catalogue, http):
    """amo/pagination.py ESPaginator: page_count counts min(window, count) hits; a page whose
    last index passes the window is InvalidPage (404) even if it would hold results; `count`
    stays the true total."""
    with AmoFixtureServer(catalogue, result_window=100) as small:
        url = small.url + "addons/search/"
        last = http.get(url, params={"page_size": 50, "page": 2}, timeout=10).json()
        assert (last["count"], last["page_count"], last["next"], len(last["results"])) == (N_ADDONS, 2, None, 50)
        deep = http.get(url, params={"page_size": 50, "page": 3}, timeout=10)
        assert (deep.status_code, deep.json()) == (404, {"detail": "Invalid page."})
        straddling = http.get(url, params={"page_size": 30, "page": 4}, timeout=10)  # indices 90..119
        assert straddling.status_code == 404


# --- versions: addons.rst "Versions List" and the version object ---------------------------


def test_versions_are_newest_first_with_each_files_created(amo, http, catalogue):
    """addons.rst Versions List (newest first, paginated, page_size up to 50) and the v5 version
    object's `file` with its `created`."""
    guid = next(g for g in catalogue.guids if catalogue.n_versions(g) > 50)
    route = f"addons/addon/{quote(guid, safe='')}/versions/"
    first = get(http, amo, route, page_size=50).json()
    assert first["count"] == catalogue.n_versions(guid) and first["page_size"] == 50
    versions, body = list(first["results"]), first
    while body["next"]:
        body = requests.get(body["next"], timeout=10).json()
        versions += body["results"]
    created = [v["file"]["created"] for v in versions]
    assert created == sorted(created, reverse=True)
    assert all(v["file"]["created"] == v["created"] for v in versions)
    assert versions[-1]["file"]["created"] == catalogue.first_create_date(guid)


# --- editorial: discovery.rst ------------------------------------------------------------


def test_editorial_is_unpaginated(amo, http, catalogue):
    """discovery.rst Editorial Content: "There is no pagination, all results are returned"."""
    body = get(http, amo, "discovery/editorial/", recommended="true").json()
    assert list(body) == ["results"]
    assert len(body["results"]) == len(catalogue.editorial) == 40
    assert sorted(item["addon"]["guid"] for item in body["results"]) == catalogue.editorial_guids()
