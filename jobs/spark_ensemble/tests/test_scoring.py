"""The recommenders re-implemented over hand-made artifacts: exact scores, orders and cut-offs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from taar_common.artifacts import positive_hash
from taar_spark_ensemble import scoring
from taar_spark_ensemble.scoring import NOT_LISTED, Batch

TOP10 = {"en-US": [["c@x", 0.5], ["a@x", 0.3], ["b@x", 0.2]], "de": [["d@x", 1.0]]}
DONORS = [
    {"geo_city": "Berlin", "locale": "de", "os": "Linux", "subsession_length": 1, "bookmark_count": 1,
     "tab_open_count": 1, "total_uri": 1, "unique_tlds": 1, "active_addons": ["a@x", "b@x"]},
    {"geo_city": "Paris", "locale": "fr", "os": "Windows", "subsession_length": 0, "bookmark_count": 0,
     "tab_open_count": 0, "total_uri": 0, "unique_tlds": 0, "active_addons": ["b@x", "c@x"]},
]  # fmt: skip
LR_CURVES = [[0.0, [4.0, 1.0]], [1.0, [1.0, 1.0]], [3.0, [2.0, 1.0]], [4.0, [3.0, 1.0]]]
# matrix order c, b, a, d, e: ties must follow it, not the GUIDs
FEATURES = {"c@x": [1.0, 1.0], "b@x": [0.0, 1.0], "a@x": [1.0, 0.0], "d@x": [2.0, 0.0], "e@x": [5.0, 5.0]}
ITEM_MATRIX = [{"id": positive_hash(g), "features": f} for g, f in FEATURES.items()]
MAPPING = {  # d@x is not mapped; e@x is not a WebExtension: the service never recommends either
    **{str(positive_hash(g)): {"id": g, "name": g, "isWebextension": True} for g in ("a@x", "b@x", "c@x")},
    str(positive_hash("e@x")): {"id": "e@x", "name": "e", "isWebextension": False},
}


@pytest.fixture(scope="module")
def models() -> scoring.Models:
    return scoring.build_models(TOP10, DONORS, LR_CURVES, ITEM_MATRIX, MAPPING, extra_guids=["f@x"])


def batch(*clients: dict) -> Batch:
    return Batch(
        installed=[c.get("installed", []) for c in clients],
        locale=[c.get("locale") for c in clients],
        categorical=[(c.get("city"), c.get("locale"), c.get("os")) for c in clients],
        continuous=np.array([c.get("continuous", [math.nan] * 5) for c in clients], dtype=float),
    )


def listing(models: scoring.Models, ranked: scoring.Ranked, row: int = 0) -> list[tuple[str, float]]:
    """The recommender's list for one client, in rank order, as (guid, score)."""
    order = sorted((r, c) for c, r in enumerate(ranked.rank[row]) if r != NOT_LISTED)
    return [(models.guids[c], float(ranked.score[row, c])) for _, c in order]


def test_universe_is_every_recommendable_guid_plus_the_whitelist_sorted(models):
    assert models.guids == ["a@x", "b@x", "c@x", "d@x", "f@x"]  # e@x: never recommendable, never held out


def test_locale_lists_the_locale_in_published_order_cut_at_the_limit(models):
    clients = batch({"locale": "en-US"}, {"locale": "fr"}, {"locale": None})
    ranked = scoring.locale_ranked(models, clients, np.array([2, 10, 10]))
    assert listing(models, ranked, 0) == [("c@x", 0.5), ("a@x", 0.3)]
    assert listing(models, ranked, 1) == [] and listing(models, ranked, 2) == []


def test_extended_limit_adds_the_installed_count(models):
    clients = batch({"installed": ["a@x", "zz@x"]}, {})
    assert scoring.extended_limits(clients).tolist() == [12, 10]


def test_similarity_sums_positive_log_lrs_of_matching_donors(models):
    client = {"city": "Berlin", "locale": "de", "os": "Windows", "continuous": [1, 1, 1, 1, 1]}
    distances = scoring.donor_distances(models, batch(client))
    # donor 0: Canberra 0, one categorical mismatch of three; donor 1: Canberra 5, two mismatches
    assert distances.tolist() == [[pytest.approx(0.001 / 3), pytest.approx(5.001 * 2 / 3)]]
    ranked = scoring.similarity_ranked(models, batch(client), np.array([10]))
    # donor 0 -> nearest curve score 0.0 -> LR 4; donor 1 (3.334) -> 3.0 -> LR 2
    assert listing(models, ranked) == [
        ("b@x", pytest.approx(math.log(8))),
        ("a@x", pytest.approx(math.log(4))),
        ("c@x", pytest.approx(math.log(2))),
    ]


def test_similarity_needs_every_feature_and_drops_non_positive_log_lrs(models):
    unknown = {"city": "Berlin", "locale": "de", "os": None, "continuous": [1, 1, 1, 1, 1]}
    far = {"city": "Rome", "locale": "it", "os": "Mac", "continuous": [1, 1, 1, 1, 1]}  # distances 0.001 and 5.001
    ranked = scoring.similarity_ranked(models, batch(unknown, far), np.array([10, 10]))
    assert listing(models, ranked, 0) == []
    # donor 0 -> 0.0 (LR 4); donor 1 -> 4.0 (LR 3): both positive
    assert listing(models, ranked, 1) == [
        ("b@x", pytest.approx(math.log(12))),
        ("a@x", pytest.approx(math.log(4))),
        ("c@x", pytest.approx(math.log(3))),
    ]


def test_lr_lookup_takes_the_first_nearest_curve_row_like_argmin():
    curves = [[0.0, [1.0, 1.0]], [1.0, [2.0, 1.0]], [1.0, [3.0, 1.0]], [2.0, [4.0, 1.0]]]
    models = scoring.build_models({}, [], curves, [], {})
    distances = np.array([[-1.0, 0.0, 0.5, 1.0, 1.5, 1.9, 2.0, 7.0], np.linspace(-0.5, 2.5, 8)])
    xs = np.array([c[0] for c in curves])
    expected = [[curves[int(np.argmin(abs(d - xs)))][1][0] for d in row] for row in distances]
    assert scoring.likelihood_ratios(models, distances).tolist() == expected
    assert expected[0][:6] == [1.0, 1.0, 1.0, 2.0, 2.0, 4.0]


def test_collaborative_scores_dot_products_with_the_summed_installed_factors(models):
    clients = batch({"installed": ["a@x", "d@x"]}, {"installed": ["d@x"]}, {"installed": []}, {"installed": ["q@x"]})
    ranked = scoring.collaborative_ranked(models, clients, np.array([10, 10, 10, 10]))
    # user factors a + d = [3, 0]: c = 3, b = 0; a is installed; d unmapped; e not a WebExtension
    assert listing(models, ranked, 0) == [("c@x", 3.0), ("b@x", 0.0)]
    # factors d = [2, 0]: c = 2 and a = 2 tie, broken by matrix order (c first), then b = 0
    assert listing(models, ranked, 1) == [("c@x", 2.0), ("a@x", 2.0), ("b@x", 0.0)]
    assert listing(models, ranked, 2) == []  # no installed add-on: the service cannot recommend
    assert listing(models, ranked, 3) == [("c@x", 0.0), ("b@x", 0.0), ("a@x", 0.0)]  # no known item: all zero


def test_hits_drop_installed_then_look_at_the_first_n(models):
    clients = batch({"locale": "en-US", "installed": ["c@x"]}, {"locale": "en-US", "installed": []})
    ranked = scoring.locale_ranked(models, clients, scoring.extended_limits(clients))
    held = np.array([models.column["a@x"], models.column["b@x"]])
    installed = scoring.installed_mask(models, clients)
    assert scoring.hits(ranked, installed, held, limit=1).tolist() == [True, False]
    assert scoring.hits(ranked, installed, held, limit=3).tolist() == [True, True]


def test_ensemble_ranking_weights_each_listed_score(models):
    client = {"locale": "en-US", "installed": ["d@x"], "city": "Berlin", "os": "Windows",
              "continuous": [1, 1, 1, 1, 1]}  # fmt: skip
    clients = batch(client)
    ranked = scoring.rank_all(models, clients)
    installed = scoring.installed_mask(models, clients)
    weights = {"collaborative": 0.5, "similarity": 0.25, "locale": 0.25}
    score, listed = scoring.ensemble_ranking(ranked, weights, installed)
    col = models.column
    assert not listed[0, col["d@x"]] and "e@x" not in col
    # c: collaborative 2 (d's factors), similarity log 2 (donor 1 at 3.334 -> LR 2), locale 0.5
    assert score[0, col["c@x"]] == pytest.approx(0.5 * 2 + 0.25 * math.log(2) + 0.25 * 0.5)


def test_mix64_is_a_fixed_function():
    values = scoring.mix64(np.array([0, 1, 2], dtype=np.uint64))
    assert values.tolist() == scoring.mix64(np.array([0, 1, 2], dtype=np.uint64)).tolist()
    assert len(set(values.tolist())) == 3
