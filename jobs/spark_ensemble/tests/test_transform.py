"""Weights from coefficients: non-negative, normalised, a documented fallback; the artifact check."""

from __future__ import annotations

import pytest
from taar_common.artifacts import ArtifactCheckError, check_artifact
from taar_spark_ensemble.transform import FALLBACK_RULE, ensemble_weights


def test_negative_coefficients_get_zero_and_the_rest_are_normalised():
    weights, rule = ensemble_weights([0.2, -1.0, 0.6])
    assert weights == {"collaborative": 0.25, "similarity": 0.0, "locale": 0.75}
    assert rule == "logistic_regression"
    check_artifact("ensemble_weight.json", {"ensemble_weights": weights})


@pytest.mark.parametrize("coefficients", [[0.0, -0.5, -2.0], [0.0, 0.0, 0.0], [float("nan"), 1.0, 1.0]])
def test_no_usable_positive_coefficient_falls_back_to_equal_weights(coefficients):
    weights, rule = ensemble_weights(coefficients)
    assert rule == FALLBACK_RULE
    assert list(weights.values()) == [pytest.approx(1 / 3)] * 3
    assert abs(sum(weights.values()) - 1.0) < 1e-9
    check_artifact("ensemble_weight", {"ensemble_weights": weights})


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ({"ensemble_weights": {"collaborative": 0.5, "similarity": 0.2, "locale": 0.2}}, "weights_sum_to_one"),
        ({"ensemble_weights": {"collaborative": 1.5, "similarity": 0.0, "locale": -0.5}}, "schema"),
        ({"ensemble_weights": {"collaborative": 0.5, "similarity": 0.5}}, "schema"),
        ({"weights": {"collaborative": 1.0, "similarity": 0.0, "locale": 0.0}}, "schema"),
    ],
)
def test_artifact_check_refuses_bad_weights(payload, rule):
    with pytest.raises(ArtifactCheckError) as error:
        check_artifact("ensemble_weight.json", payload)
    assert error.value.rule == rule
