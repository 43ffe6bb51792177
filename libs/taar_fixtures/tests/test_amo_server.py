"""The fixture AMO server over real HTTP: paging, filters, shapes, the result window, faults."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import itertools
import json
from urllib.parse import quote

import pytest
import requests
from taar_fixtures.amo import PIONEER_GUID, AmoFixtureServer, FaultPlan, FaultRule, generate_catalogue
from taar_fixtures.amo.catalogue import iso_utc

N_ADDONS = 1_500


@pytest.fixture(scope="module")
def catalogue():
    return generate_catalogue(N_ADDONS, seed=7, n_editorial=120)


@pytest.fixture(scope="module")
def amo(catalogue):
    with AmoFixtureServer(catalogue) as server:
        yield server


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def search(http, base, **params):
    response = http.get(base + "addons/search/", params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def test_url_properties_name_both_api_roots(amo):
    assert amo.url == f"http://127.0.0.1:{amo.port}/api/v5/"
    assert amo.v4_url == f"http://127.0.0.1:{amo.port}/api/v4/"


def test_search_envelope_first_page(amo, http):
    page = search(http, amo.url, type="extension", app="firefox")
    assert page["count"] == N_ADDONS
    assert page["page_size"] == 25
    assert page["page_count"] == 60
    assert page["previous"] is None
    assert page["next"] == f"{amo.url}addons/search/?app=firefox&page=2&type=extension"
    assert len(page["results"]) == 25


def test_following_next_visits_every_addon_once(amo, http, catalogue):
    url, seen, pages = amo.url + "addons/search/?page_size=50&sort=created", [], 0
    while url:
        page = http.get(url, timeout=10).json()
        seen += [r["guid"] for r in page["results"]]
        pages += 1
        if pages == 2:
            assert page["previous"] == f"{amo.url}addons/search/?page_size=50&sort=created"
        url = page["next"]
    assert pages == 30
    assert sorted(seen) == sorted(catalogue.guids)
    created = [catalogue.addon(g).created for g in seen]
    assert created == sorted(created, reverse=True)


def test_page_size_above_50_is_capped(amo, http):
    page = search(http, amo.url, page_size=200)
    assert page["page_size"] == 50
    assert len(page["results"]) == 50
    assert page["page_count"] == 30


def test_page_past_the_last_result_is_invalid(amo, http):
    last = search(http, amo.url, page_size=50, page=30)
    assert len(last["results"]) == 50 and last["next"] is None
    response = http.get(amo.url + "addons/search/", params={"page_size": 50, "page": 31}, timeout=10)
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_small_result_window_hides_deep_pages_but_count_is_true(catalogue, http):
    with AmoFixtureServer(catalogue, result_window=100) as small:
        page5 = search(http, small.url, page_size=20, page=5)
        assert page5["count"] == N_ADDONS
        assert page5["page_count"] == 5
        assert page5["next"] is None
        assert len(page5["results"]) == 20
        deep = http.get(small.url + "addons/search/", params={"page_size": 20, "page": 6}, timeout=10)
        assert deep.status_code == 404
        assert deep.json() == {"detail": "Invalid page."}


def test_amo_result_window_is_25000(http):
    big = generate_catalogue(25_010, seed=3)
    with AmoFixtureServer(big) as server:
        last = search(http, server.url, page_size=50, page=500)
        assert last["count"] == 25_010
        assert last["next"] is None
        assert len(last["results"]) == 50
        deep = http.get(server.url + "addons/search/", params={"page_size": 50, "page": 501}, timeout=10)
        assert deep.status_code == 404
        assert deep.json() == {"detail": "Invalid page."}


def test_created_ranges_partition_the_catalogue(amo, http, catalogue):
    bounds = ["2000-01-01", "2016-01-01", "2020-06-15T12:00", "2024-01-01T00:00:00", str(1_893_456_000_000)]
    counts = []
    for low, high in itertools.pairwise(bounds):
        counts.append(search(http, amo.url, created__gte=low, created__lt=high, page_size=1)["count"])
    assert sum(counts) == N_ADDONS
    cut = int(dt.datetime(2016, 1, 1, tzinfo=dt.UTC).timestamp())
    assert counts[0] == sum(1 for a in catalogue if a.created < cut)
    assert all(c > 0 for c in counts)


def test_users_ranges_partition_the_catalogue(amo, http, catalogue):
    bounds = [0, 10, 100, 10_000, 10**9]
    counts = [
        search(http, amo.url, users__gte=low, users__lt=high, page_size=1)["count"]
        for low, high in itertools.pairwise(bounds)
    ]
    assert sum(counts) == N_ADDONS
    assert counts[1] == sum(1 for a in catalogue if 10 <= a.average_daily_users < 100)


def test_users_sort_descending_with_ties_by_ascending_id(amo, http):
    results = search(http, amo.url, sort="users", page_size=50)["results"]
    keys = [(-r["average_daily_users"], r["id"]) for r in results]
    assert keys == sorted(keys)


def test_bad_filter_values_answer_400(amo, http):
    assert http.get(amo.url + "addons/search/", params={"created__gte": "yesterday"}, timeout=10).status_code == 400
    assert http.get(amo.url + "addons/search/", params={"sort": "ratings"}, timeout=10).status_code == 400


def test_guid_filter_matches_url_quoted_guids(amo, http, catalogue):
    plus = next(g for g in catalogue.guids if "+" in g)
    braces = next(g for g in catalogue.guids if g.startswith("{"))
    wanted = [plus, braces, PIONEER_GUID, "unknown@example.org"]
    query = "guid=" + ",".join(quote(g, safe="@") for g in wanted)
    page = http.get(f"{amo.url}addons/search/?{query}", timeout=10).json()
    assert sorted(r["guid"] for r in page["results"]) == sorted([plus, braces, PIONEER_GUID])
    assert page["count"] == 3
    unquoted = http.get(f"{amo.url}addons/search/?guid={plus}", timeout=10).json()
    assert unquoted["count"] == 0  # a literal '+' in a query string is a space


def test_promoted_filter_returns_only_recommended(amo, http, catalogue):
    page = search(http, amo.url, promoted="recommended", page_size=50)
    assert page["count"] == int(catalogue.promoted.sum())
    assert all(r["promoted"][0]["category"] == "recommended" for r in page["results"])


def test_versions_are_newest_first_and_paged(amo, http, catalogue):
    guid = next(g for g in catalogue.guids if catalogue.n_versions(g) > 50 and "+" not in g)
    base = f"{amo.url}addons/addon/{quote(guid, safe='@')}/versions/"
    url, versions = base + "?page_size=50", []
    while url:
        page = http.get(url, timeout=10).json()
        assert page["count"] == catalogue.n_versions(guid)
        versions += page["results"]
        url = page["next"]
    created = [v["created"] for v in versions]
    assert created == sorted(created, reverse=True)
    assert versions[0]["id"] == catalogue.addon(guid).current_version.id
    assert versions[-1]["file"]["created"] == catalogue.first_create_date(guid)
    assert len({v["id"] for v in versions}) == catalogue.n_versions(guid)


def test_versions_by_quoted_plus_guid_and_by_id(amo, http, catalogue):
    guid = next(g for g in catalogue.guids if "+" in g)
    by_guid = http.get(f"{amo.url}addons/addon/{quote(guid, safe='')}/versions/", timeout=10).json()
    addon_id = catalogue.addon(guid).id
    by_id = http.get(f"{amo.url}addons/addon/{addon_id}/versions/", timeout=10).json()
    assert by_guid["results"] == by_id["results"]
    assert by_guid["count"] == catalogue.n_versions(guid)


def test_unknown_addon_is_not_found(amo, http):
    response = http.get(amo.url + "addons/addon/nobody%40example.org/versions/", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_detail_is_the_search_result_shape(amo, http, catalogue):
    guid = catalogue.guids[10]
    detail = http.get(f"{amo.url}addons/addon/{quote(guid, safe='')}/", timeout=10).json()
    found = search(http, amo.url, guid=guid)["results"][0]
    assert detail == found
    assert detail["created"] == iso_utc(catalogue.addon(guid).created)
    assert detail["type"] == "extension"


def test_v5_and_v4_shapes(amo, http, catalogue):
    promoted_guid = next(a.guid for a in catalogue if a.promoted)
    old_style = next(a.guid for a in catalogue if not a.is_webextension)
    v5 = {r["guid"]: r for r in search(http, amo.url, guid=f"{promoted_guid},{old_style}")["results"]}
    v4 = {r["guid"]: r for r in search(http, amo.v4_url, guid=f"{promoted_guid},{old_style}")["results"]}
    assert v5[promoted_guid]["promoted"][0]["category"] == "recommended"
    assert v4[promoted_guid]["promoted"]["category"] == "recommended"
    assert v4[old_style]["promoted"] is None and v5[old_style]["promoted"] == []
    assert isinstance(v5[old_style]["categories"], list)
    assert list(v4[old_style]["categories"]) == ["firefox"]
    assert set(v5[old_style]["current_version"]["file"]) >= {"id", "status", "created"}
    assert "is_webextension" not in v5[old_style]["current_version"]["file"]
    files = v4[old_style]["current_version"]["files"]
    assert files[0]["platform"] == "all" and files[0]["status"] == "public"
    assert files[0]["is_webextension"] is False
    assert v4[promoted_guid]["current_version"]["files"][0]["is_webextension"] is True
    assert set(v5[old_style]["ratings"]) == {"average", "bayesian_average", "count", "text_count"}


def test_editorial_recommended_list(amo, http, catalogue):
    body = http.get(amo.url + "discovery/editorial/", params={"recommended": "true"}, timeout=10).json()
    guids = [item["addon"]["guid"] for item in body["results"]]
    assert len(guids) == 120 and len(set(guids)) == 120
    assert all(g in catalogue for g in guids)
    assert PIONEER_GUID not in guids
    assert body["results"][0]["custom_heading"] is None
    assert sorted(guids) == catalogue.editorial_guids()


def test_request_counters_by_kind(catalogue, http):
    with AmoFixtureServer(catalogue) as server:
        search(http, server.url)
        http.get(server.v4_url + "discovery/editorial/?recommended=true", timeout=10)
        http.get(f"{server.url}addons/addon/{catalogue.ids[0]}/versions/", timeout=10)
        http.get(f"{server.url}addons/addon/{catalogue.ids[0]}/", timeout=10)
        assert server.request_count == 4
        assert server.requests_by_kind == {"search": 1, "editorial": 1, "versions": 1, "detail": 1}


def test_sustains_64_keep_alive_clients_with_latency(catalogue):
    with AmoFixtureServer(catalogue, latency_s=0.02) as server:

        def client(k: int) -> int:
            with requests.Session() as session:
                for page in range(1, 7):
                    session.get(
                        server.url + "addons/search/", params={"page": page + k % 5}, timeout=10
                    ).raise_for_status()
            return 6

        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            served = sum(pool.map(client, range(64)))
        # Throughput is a benchmark figure (jobs/amodump/bench), not a pass/fail line here.
        assert served == 384
        assert server.requests_by_kind == {"search": 384}


# --- faults -----------------------------------------------------------------------------


@pytest.fixture
def faulty(catalogue):
    with AmoFixtureServer(catalogue) as server:
        yield server


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_status_fault_fires_times_then_recovers(faulty, http, status):
    faulty.set_faults(FaultPlan([FaultRule(path="addons/search", status=status, times=2)]))
    codes = [http.get(faulty.url + "addons/search/", timeout=10).status_code for _ in range(3)]
    assert codes == [status, status, 200]
    assert faulty.faults_fired == {str(status): 2}


def test_429_with_and_without_retry_after(faulty, http):
    faulty.set_faults(FaultPlan([FaultRule(status=429, retry_after=3, times=1), FaultRule(status=429, times=1)]))
    first = http.get(faulty.url + "addons/search/", timeout=10)
    second = http.get(faulty.url + "addons/search/", timeout=10)
    assert (first.status_code, first.headers.get("Retry-After")) == (429, "3")
    assert (second.status_code, second.headers.get("Retry-After")) == (429, None)


def test_truncated_body_is_half_the_json(faulty, http):
    whole = http.get(faulty.url + "addons/search/", timeout=10).content
    faulty.set_faults(FaultPlan([FaultRule(kind="truncate", times=1)]))
    cut = http.get(faulty.url + "addons/search/", timeout=10)
    assert cut.status_code == 200
    assert cut.content == whole[: len(whole) // 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)


def test_invalid_body_is_html(faulty, http):
    faulty.set_faults(FaultPlan([FaultRule(kind="invalid", times=1)]))
    response = http.get(faulty.url + "addons/search/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_timeout_outlasts_the_client_read_timeout(faulty, http):
    faulty.set_faults(FaultPlan([FaultRule(kind="timeout", delay_s=2.0, times=1)]))
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(faulty.url + "addons/search/", timeout=(2, 0.3))
    assert requests.get(faulty.url + "addons/search/", timeout=5).status_code == 200


def test_drop_closes_the_connection_unanswered(faulty, http):
    faulty.set_faults(FaultPlan([FaultRule(kind="drop", times=1)]))
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(faulty.url + "addons/search/", timeout=5)
    assert http.get(faulty.url + "addons/search/", timeout=5).status_code == 200


def test_permanently_failing_url_leaves_others_alone(faulty, http, catalogue):
    guid = catalogue.guids[5]
    faulty.set_faults(FaultPlan([FaultRule(path=f"/addons/addon/{quote(guid, safe='')}/versions/", status=500)]))
    broken = f"{faulty.url}addons/addon/{quote(guid, safe='')}/versions/"
    assert [http.get(broken, timeout=5).status_code for _ in range(5)] == [500] * 5
    assert http.get(faulty.url + "addons/search/", timeout=5).status_code == 200


def test_probability_faults_are_seeded(catalogue, http):
    def codes(seed: int) -> list[int]:
        plan = FaultPlan([FaultRule(status=503, probability=0.3)], seed=seed)
        with AmoFixtureServer(catalogue, faults=plan) as server:
            return [http.get(server.url + "addons/search/", timeout=5).status_code for _ in range(40)]

    first = codes(11)
    assert first == codes(11)
    assert 3 <= first.count(503) <= 25


def test_admin_endpoints_set_faults_and_report_stats(faulty, http):
    plan = FaultPlan([FaultRule(path="editorial", status=502, times=1)], seed=1)
    assert http.post(faulty.base_url + "/__admin__/faults", json=plan.to_dict(), timeout=5).status_code == 200
    assert http.get(faulty.url + "discovery/editorial/", timeout=5).status_code == 502
    stats = http.get(faulty.base_url + "/__admin__/stats", timeout=5).json()
    assert stats["requests"] == 1
    assert stats["by_kind"] == {"editorial": 1}
    assert stats["faults_fired"] == {"502": 1}
    bad = http.post(faulty.base_url + "/__admin__/faults", json={"rules": [{"kind": "explode"}]}, timeout=5)
    assert bad.status_code == 400
