"""Seeded model artifacts pass the checks the jobs publish them under, and a seed draws them again."""

from __future__ import annotations

import random

from taar_common.artifacts import check_artifact
from taar_fixtures.models import addon_mapping, random_donors, random_item_matrix

GUIDS = [f"addon-{i}@example.org" for i in range(30)]


def test_artifacts_pass_the_published_checks():
    rng = random.Random(5)
    donors = random_donors(rng, GUIDS, 50, addons_per_donor=4)
    items = random_item_matrix(rng, GUIDS, rank=4)
    mapping = addon_mapping(GUIDS)

    check_artifact("donors", donors)
    check_artifact("item_matrix", items, addon_mapping=mapping)
    check_artifact("addon_mapping", mapping)
    assert len(donors) == 50 and {len(d["active_addons"]) for d in donors} == {4}
    assert {len(item["features"]) for item in items} == {4} and len(items) == len(GUIDS)


def test_the_same_seed_draws_the_same_artifacts():
    def draw(seed: int) -> tuple[list, list]:
        rng = random.Random(seed)
        return random_donors(rng, GUIDS, 5, addons_per_donor=2), random_item_matrix(rng, GUIDS, rank=3)

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)
