"""The similarity algorithm on small hand-made inputs, with exact expectations."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from conftest import DAY, WHITELIST, row
from taar_fixtures.handmade import addon
from taar_spark_similarity import transform

W = WHITELIST
EARLIER = DAY - dt.timedelta(days=3)


def test_latest_row_per_client_keeps_valid_whitelisted_addons_once(clients_frame) -> None:
    frame = clients_frame(
        {
            EARLIER: [
                row("latest-has-two", [W[0], W[1], W[2]]),
                row("dirty", [W[0], W[1], W[2], W[3]], city="Paris"),
                row(None, [W[0], W[1], W[2]]),
            ],
            DAY: [
                row("latest-has-two", [W[0], W[1]]),
                row(
                    "dirty",
                    None,
                    active_addons=[
                        addon(W[0]),
                        addon(W[0]),  # the same add-on twice counts once
                        addon(W[1], is_system=None, user_disabled=None, blocklisted=None),  # null flags = false
                        addon(W[2], signed_state=None),
                        addon(W[3], is_system=True),
                        addon(W[4], user_disabled=True),
                        addon(W[5], app_disabled=True),
                        addon(W[6], foreign_install=True),
                        addon(W[7], blocklisted=True),
                        addon(W[8], type="theme"),
                        addon(None),
                        addon("not-whitelisted@example.org"),
                        addon("pioneer-opt-in@mozilla.org"),
                    ],
                    subsession_hours_sum=None,
                    places_bookmarks_count_mean=float("nan"),
                ),
                row("null-addons", None),
                row("empty-addons", []),
                row("no-city", [W[0], W[1], W[2]], city=None),
                row("beta", [W[0], W[1], W[2]], channel="beta"),
                row("fennec", [W[0], W[1], W[2]], app_name="Fennec"),
                row(None, [W[0], W[1], W[2]]),
            ],
        }
    )
    latest = transform.latest_client_rows(frame, W).cache()
    by_id = {r["client_id"]: r.asDict() for r in latest.collect()}
    counts = latest.agg(*transform.client_count_columns()).first().asDict()

    assert set(by_id) == {"latest-has-two", "dirty", "null-addons", "empty-addons", "no-city", None}
    assert by_id["latest-has-two"]["active_addons"] is None  # an older row had three: the latest counts
    assert by_id["latest-has-two"]["n_rows"] == 2
    dirty = by_id["dirty"]
    assert dirty["active_addons"] == [W[0], W[1], W[2]]
    assert (dirty["geo_city"], dirty["locale"], dirty["os"]) == ("Berlin", "en-US", "Linux")
    assert dirty["subsession_length"] == 0.0 and dirty["bookmark_count"] == 0.0
    assert (dirty["tab_open_count"], dirty["total_uri"], dirty["unique_tlds"]) == (20.0, 100.0, 5.0)
    assert by_id["null-addons"]["geo_city"] is None and by_id["empty-addons"]["active_addons"] is None
    assert by_id["no-city"]["active_addons"] == [W[0], W[1], W[2]] and by_id["no-city"]["geo_city"] is None
    assert counts == {
        "null_client_id_rows": 2,
        "release_rows": 7,
        "clients": 5,
        "clients_with_enough_addons": 2,
        "clients_missing_geo_locale_os": 1,
        "candidate_clients": 1,
    }
    candidates = transform.candidate_clients(latest, seed=7)
    assert "client_id" not in candidates.columns
    assert set(transform.DONOR_FIELDS) <= set(candidates.columns)
    keys = [(r["sample_key"], r["fit_key"]) for r in candidates.collect()]
    other_seed = transform.candidate_clients(latest, seed=8).select("sample_key", "fit_key").collect()
    assert len(keys) == 1 and 0.0 <= keys[0][0] < 1.0 and keys[0][0] != keys[0][1]
    assert keys != [tuple(r) for r in other_seed]  # the seed decides the sampling order
    latest.unpersist()


def test_same_day_tie_prefers_the_row_with_enough_addons_then_the_greater_values(clients_frame) -> None:
    frame = clients_frame(
        {
            DAY: [
                row("tie", [W[0], W[1], W[2]], city="Athens"),
                row("tie", [W[0], W[1]], city="Zurich"),  # greater city, too few add-ons
                row("tie", [W[3], W[4], W[5]], city="Berlin"),  # the greatest row with enough
            ]
        }
    )
    for ordered in (frame, frame.orderBy("city")):
        (latest,) = transform.latest_client_rows(ordered, W).collect()
        assert (latest["geo_city"], latest["active_addons"], latest["n_rows"]) == ("Berlin", [W[3], W[4], W[5]], 3)


def test_the_addon_filter_reads_only_the_addon_fields_it_needs(clients_frame) -> None:
    frame = clients_frame({DAY: [row("a", [W[0], W[1], W[2]])]})
    frame.sparkSession.conf.set("spark.sql.maxMetadataStringLength", "10000")
    plan = transform.latest_client_rows(frame, W)._jdf.queryExecution().executedPlan().toString()
    (schema,) = [line for line in plan.splitlines() if "ReadSchema:" in line]
    assert "active_addons:array<struct<addon_id:string" in schema and "is_system:boolean" in schema
    addon_fields = schema.split("active_addons:", 1)[1]
    assert not any(f"{unused}:" in addon_fields for unused in ("name", "version", "install_day"))


def test_subsession_length_is_in_seconds(clients_frame) -> None:
    frame = clients_frame({DAY: [row("a", [W[0], W[1], W[2]], subsession_hours_sum=1.5)]})
    (latest,) = transform.latest_client_rows(frame, W).collect()
    assert latest["subsession_length"] == 5400.0


def test_donor_quotas_are_proportional_and_sum_to_num_donors() -> None:
    assert transform.donor_quotas({0: 30, 1: 10}, 8) == {0: 6, 1: 2}
    assert transform.donor_quotas({0: 1, 1: 1, 2: 1}, 2) == {0: 1, 1: 1, 2: 0}
    assert transform.donor_quotas({2: 7, 0: 50, 1: 43}, 10) == {0: 5, 1: 4, 2: 1}
    assert transform.donor_quotas({0: 3, 1: 2}, 100) == {0: 3, 1: 2}


def _donor(city: str, locale: str, os_name: str, values: tuple[float, ...]) -> dict:
    return dict(zip(transform.CATEGORICAL_FEATURES, (city, locale, os_name), strict=True)) | dict(
        zip(transform.CONTINUOUS_FEATURES, values, strict=True)
    )


def test_pair_distance_is_canberra_plus_floor_times_hamming() -> None:
    donors = [
        _donor("Berlin", "de", "Linux", (1.0, 0.0, 2.0, 3.0, 4.0)),
        _donor("Berlin", "fr", "Linux", (3.0, 0.0, 2.0, 1.0, 0.0)),
        _donor("Berlin", "de", "Linux", (9.0, 9.0, 9.0, 9.0, 9.0)),
    ]
    first, second = np.array([0, 0, 1]), np.array([1, 2, 2])
    distances = transform.pair_distances(donors, first, second)
    canberra_01 = 2 / 4 + 0 + 0 + 2 / 4 + 4 / 4  # the 0/0 term counts 0
    canberra_12 = 6 / 12 + 9 / 9 + 7 / 11 + 8 / 10 + 9 / 9
    assert distances == pytest.approx([(canberra_01 + 0.001) / 3, 0.0, (canberra_12 + 0.001) / 3])


def test_donor_pairs_are_all_pairs_or_a_seeded_sample() -> None:
    first, second = transform.donor_pairs(4, 100, np.random.default_rng(1))
    assert sorted(zip(first.tolist(), second.tolist(), strict=True)) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    first, second = transform.donor_pairs(1000, 500, np.random.default_rng(1))
    again = transform.donor_pairs(1000, 500, np.random.default_rng(1))
    assert len(first) == 500 and (first != second).all()
    assert (first == again[0]).all() and (second == again[1]).all()


def test_lr_curves_rows_ascend_and_densities_integrate_to_one() -> None:
    rng = np.random.default_rng(3)
    same, other = rng.gamma(1.0, 0.2, 400), rng.gamma(4.0, 0.5, 900)
    curves = transform.lr_curves(same, other, bandwidth=0.35, num_points=200, seed=3)
    scores = np.array([c[0] for c in curves])
    numerator = np.array([c[1][0] for c in curves])
    denominator = np.array([c[1][1] for c in curves])
    assert len(curves) == 200 and (np.diff(scores) > 0).all()
    assert scores[0] == pytest.approx(min(same.min(), other.min()) - 3 * 0.35)
    assert scores[-1] == pytest.approx(max(same.max(), other.max()) + 3 * 0.35)
    assert (numerator >= 0).all() and (denominator > 0).all()
    assert np.trapezoid(numerator, scores) == pytest.approx(1.0, abs=0.01)
    assert np.trapezoid(denominator, scores) == pytest.approx(1.0, abs=0.01)
    assert numerator[0] > denominator[0]  # close pairs are likelier within a cluster here


def test_gaussian_kde_matches_the_formula() -> None:
    samples, points, h = np.array([0.0, 1.0]), np.array([0.0, 0.5]), 0.5
    expected = [
        sum(math.exp(-0.5 * ((x - s) / h) ** 2) for s in samples) / (2 * h * math.sqrt(2 * math.pi)) for x in points
    ]
    assert transform.gaussian_kde(samples, points, h, chunk=1) == pytest.approx(expected)


def test_lr_curves_need_both_kinds_of_pairs() -> None:
    with pytest.raises(ValueError, match="no same-cluster donor pairs"):
        transform.lr_curves(np.array([]), np.array([1.0]), bandwidth=0.35, num_points=10, seed=0)


def _group(n: int, addons: list[str], geo: tuple[str, str, str], base: float, start: int) -> list[dict]:
    rows = []
    for k in range(n):
        values = (base * 3600 + k, base + k % 3, base * 2 + k % 2, base * 10 + k, base + 1)
        rows.append({"sample_key": (start + k) / 100.0, "fit_key": 0.5, "active_addons": addons} | _donor(*geo, values))
    return rows


def test_clusters_follow_addon_sets_and_same_cluster_pairs_are_closer(spark) -> None:
    group_a = _group(30, [W[0], W[1], W[2]], ("Berlin", "de", "Linux"), 1.0, 0)
    group_b = _group(10, [W[5], W[6], W[7], W[8]], ("Paris", "fr", "Windows_NT"), 40.0, 30)
    # one client of each group shares the other group's geography: distances are not all 0 within
    group_a[0].update(geo_city="Paris", locale="fr", os="Windows_NT")
    group_b[0].update(geo_city="Berlin", locale="de", os="Linux")
    candidates = spark.createDataFrame(
        group_a + group_b,
        "sample_key double, fit_key double, active_addons array<string>, geo_city string, locale string, "
        "os string, subsession_length double, bookmark_count double, tab_open_count double, "
        "total_uri double, unique_tlds double",
    )
    model = transform.fit_clusters(candidates, num_clusters=2, seed=11, fraction=1.0)
    heads = transform.cluster_heads(transform.assign_clusters(model, candidates), 8).collect()
    assert sorted(len([r for r in heads if r["cluster"] == c]) for c in (0, 1)) == [8, 8]  # capped at num_donors
    sizes, rows = transform.select_donors(heads, 8)
    assert sorted(sizes.values()) == [10, 30]
    donors, clusters = transform.donor_records(rows)

    assert len(donors) == 8 and all(list(d) == list(transform.DONOR_FIELDS) for d in donors)
    by_cluster = {
        c: [d["active_addons"] for d, k in zip(donors, clusters, strict=True) if k == c] for c in set(clusters)
    }
    assert sorted(len(v) for v in by_cluster.values()) == [2, 6]
    assert all(len({tuple(a) for a in sets}) == 1 for sets in by_cluster.values())  # each cluster is one group
    big = next(c for c, v in by_cluster.items() if len(v) == 6)
    keys = [r["sample_key"] for r in group_a[:6]]  # the lowest keys of the bigger group are drawn
    assert [d["subsession_length"] for d, k in zip(donors, clusters, strict=True) if k == big] == [
        r["subsession_length"] for r in group_a[:6]
    ], keys

    same, other = transform.cluster_pair_distances(donors, clusters, seed=11)
    assert len(same) == 15 + 1 and len(other) == 12
    assert same.mean() < other.mean()
