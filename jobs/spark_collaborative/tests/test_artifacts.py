"""The item_matrix / addon_mapping checks in taar_common.artifacts, each rule made to fail."""

from __future__ import annotations

import math

import pytest
from taar_common.artifacts import ArtifactCheckError, check_artifact, positive_hash

GUIDS = ["a@x", "b@x"]


def good() -> tuple[list, dict]:
    matrix = [{"id": positive_hash(g), "features": [0.5, -1.0]} for g in GUIDS]
    mapping = {str(positive_hash(g)): {"id": g, "name": g, "isWebextension": True} for g in GUIDS}
    return matrix, mapping


def test_good_artifacts_pass():
    matrix, mapping = good()
    check_artifact("item_matrix.json", matrix, rank=2, addon_mapping=mapping)
    check_artifact("addon_mapping.json", mapping)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda m, _: m[0]["features"].__setitem__(0, math.nan), "features"),
        (lambda m, _: m[0]["features"].__setitem__(0, math.inf), "features"),
        (lambda m, _: m[0]["features"].append(1.0), "features"),
        (lambda m, _: m.append(dict(m[0])), "unique_ids"),
        (lambda _, p: p.pop(str(positive_hash("b@x"))), "mapping_covers_matrix"),
        (lambda m, _: m.clear(), "non_empty"),
        (lambda m, _: m[0].update(id="7"), "schema"),
        (lambda m, _: m[0].update(id=1 << 23), "schema"),
    ],
)
def test_item_matrix_rule_fails(change, rule):
    matrix, mapping = good()
    change(matrix, mapping)
    with pytest.raises(ArtifactCheckError) as failed:
        check_artifact("item_matrix.json", matrix, rank=2, addon_mapping=mapping)
    assert failed.value.rule == rule


def test_feature_length_must_be_the_rank():
    matrix, mapping = good()
    with pytest.raises(ArtifactCheckError, match="--rank 3"):
        check_artifact("item_matrix.json", matrix, rank=3, addon_mapping=mapping)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda p: p[str(positive_hash("a@x"))].update(isWebextension=False), "schema"),
        (lambda p: p[str(positive_hash("a@x"))].pop("id"), "schema"),
        (lambda p: p.update({"12": {"id": "a@x", "name": "a", "isWebextension": True}}), "keys_are_item_ids"),
        (lambda p: p.update({"x1": {"id": "a@x", "name": "a", "isWebextension": True}}), "schema"),
    ],
)
def test_addon_mapping_rule_fails(change, rule):
    _, mapping = good()
    change(mapping)
    with pytest.raises(ArtifactCheckError) as failed:
        check_artifact("addon_mapping.json", mapping)
    assert failed.value.rule == rule
