"""The locale transforms on small hand-made rows with exact expected outputs."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from taar_fixtures.handmade import addon, client
from taar_spark_locale import transform
from taar_testing.handmade_inputs import clients_daily_frame

DAY = dt.date(2026, 11, 27)
WHITELIST = ["a@x", "b@x", "c@x", "d@x"]


@pytest.fixture(scope="module")
def clients(spark, tmp_path_factory):
    """Two days of rows: moves between locales, unsigned and dirty entries, ignored rows."""
    frame = clients_daily_frame(
        spark,
        tmp_path_factory.mktemp("clients_daily"),
        {
            DAY - dt.timedelta(days=1): [
                client("c1", [addon("a@x"), addon("b@x")], locale="de"),  # superseded by its row of DAY
                client("c3", [addon("c@x")]),
            ],
            DAY: [
                client("c1", [addon("a@x")]),
                client("c12", [addon("a@x"), addon("a@x")]),
                client("c13", [addon("a@x"), addon("b@x"), addon("x@x")]),
                client("c2", [addon("b@x"), addon("a@x", signed_state=1)]),
                client("c4", [addon("a@x"), addon("b@x"), addon("c@x")], locale="fr"),
                client(None, [addon("d@x")]),
                client("c6", [addon("d@x")], channel="beta"),
                client("c7", [addon("d@x")], locale=None),
                client("c8", [addon("d@x", signed_state=None), addon("x@x"), addon("d@x", is_system=True)]),
                client("c9", None),
                client("c10", []),
            ],
        },
    )
    return transform.latest_client_rows(frame).cache()


def test_latest_row_per_client_with_valid_signed_addons(clients):
    assert sorted((r.client_id, r.locale, list(r.addon_ids)) for r in clients.collect()) == [
        ("c1", "en-US", ["a@x"]),
        ("c10", "en-US", []),
        ("c12", "en-US", ["a@x"]),
        ("c13", "en-US", ["a@x", "b@x", "x@x"]),
        ("c2", "en-US", ["b@x"]),
        ("c3", "en-US", ["c@x"]),
        ("c4", "fr", ["a@x", "b@x", "c@x"]),
        ("c8", "en-US", ["x@x"]),  # valid but not whitelisted: dropped later
        ("c9", "en-US", []),
    ]


def test_counts_per_locale_when_every_addon_may_contribute(clients):
    contributions = transform.limited_contributions(clients, WHITELIST, max_addons_per_client=3, seed=1)
    counts = transform.counts_dict(transform.locale_addon_counts(contributions).collect())
    assert counts == {"en-US": {"a@x": 3, "b@x": 2, "c@x": 1}, "fr": {"a@x": 1, "b@x": 1, "c@x": 1}}


def test_each_client_contributes_at_most_m_seeded_addons(spark):
    rows = [(f"c{i}", "de", ["a@x", "b@x", "c@x"]) for i in range(300)]
    frame = spark.createDataFrame(rows, "client_id string, locale string, addon_ids array<string>")

    def picks(m: int, seed: int) -> dict[str, int]:
        contributions = transform.limited_contributions(frame, WHITELIST, max_addons_per_client=m, seed=seed)
        return transform.counts_dict(transform.locale_addon_counts(contributions).collect())["de"]

    one = picks(1, seed=5)
    assert sum(one.values()) == 300 and all(60 < n < 140 for n in one.values())
    assert picks(1, seed=5) == one
    assert picks(1, seed=6) != one
    assert sum(picks(2, seed=5).values()) == 600


def test_weights_are_shifted_normalised_top_with_ties_by_guid():
    counts = {"en-US": {"a@x": 3, "b@x": 2, "c@x": 1}, "fr": {"c@x": 1, "b@x": 1, "a@x": 1}}
    top = transform.noisy_top_addons(
        counts, WHITELIST, epsilon=math.inf, max_addons_per_client=1, num_addons=2, seed=0
    )  # infinite budget: no noise
    assert top == {"en-US": [["a@x", 0.5], ["b@x", 2 / 6]], "fr": [["a@x", 1 / 3], ["b@x", 1 / 3]]}
    no_noise = {"epsilon": math.inf, "max_addons_per_client": 1, "num_addons": 5, "seed": 0}
    one = transform.noisy_top_addons({"x": {"a@x": 1}}, ["a@x", "b@x"], **no_noise)
    assert one == {"x": [["a@x", 1.0], ["b@x", 0.0]]}
    flat = transform.noisy_top_addons({"x": {"a@x": 1, "b@x": 1}}, ["a@x", "b@x"], **no_noise)
    assert flat == {"x": [["a@x", 0.5], ["b@x", 0.5]]}  # all shifted counts 0: uniform


def test_noise_is_seeded_laplace_of_scale_m_over_epsilon():
    guids = [f"g{i}" for i in range(20_000)]
    noise = transform.laplace_noise("de", guids, 2.5, seed=3)
    assert np.array_equal(noise, transform.laplace_noise("de", guids, 2.5, seed=3))
    assert not np.array_equal(noise, transform.laplace_noise("de", guids, 2.5, seed=4))
    assert not np.array_equal(noise, transform.laplace_noise("fr", guids, 2.5, seed=3))
    assert abs(np.mean(np.abs(noise)) - 2.5) < 0.1  # E|Laplace(0, b)| = b
    top = transform.noisy_top_addons({"de": {"a@x": 5}}, WHITELIST, epsilon=0.4, max_addons_per_client=2,
                                     num_addons=10, seed=3)["de"]  # fmt: skip
    expected = np.array([5.0, 0, 0, 0]) + transform.laplace_noise("de", WHITELIST, 2 / 0.4, seed=3)
    shifted = (expected - expected.min()) / (expected - expected.min()).sum()
    assert {g: w for g, w in top} == pytest.approx(dict(zip(WHITELIST, shifted.tolist(), strict=True)), abs=1e-15)
    assert len(top) == 4 and sum(w for _, w in top) == pytest.approx(1.0)
