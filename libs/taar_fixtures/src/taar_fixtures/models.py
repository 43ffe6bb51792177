"""Seeded model artifacts in the formats the TAAR jobs publish, as inputs of the jobs that read them.

Each function draws from the `random.Random` it is given, in a fixed order, so a caller that
draws the same things in the same order from the same seed gets the same artifacts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from taar_common.artifacts import positive_hash

from taar_fixtures.telemetry import CITIES, LOCALES, OS_NAMES


def random_donors(rng: random.Random, guids: Sequence[str], n: int, *, addons_per_donor: int) -> list[dict[str, Any]]:
    """`n` donors in the `donors.json` form (spark_similarity's): a client's categorical and
    continuous features and `addons_per_donor` of `guids` as its add-ons."""
    return [
        {"geo_city": rng.choice(list(CITIES)), "locale": rng.choice(list(LOCALES)), "os": rng.choice(list(OS_NAMES)),
         "subsession_length": rng.uniform(0, 40000), "bookmark_count": rng.uniform(0, 500),
         "tab_open_count": rng.uniform(0, 200), "total_uri": rng.uniform(0, 2000), "unique_tlds": rng.uniform(0, 80),
         "active_addons": rng.sample(list(guids), addons_per_donor)}
        for _ in range(n)
    ]  # fmt: skip


def random_item_matrix(rng: random.Random, guids: Sequence[str], rank: int) -> list[dict[str, Any]]:
    """An `item_matrix.json` (spark_collaborative's): one item per GUID, keyed by its positive hash,
    with `rank` features drawn uniformly from [-1, 1]."""
    return [{"id": positive_hash(g), "features": [rng.uniform(-1, 1) for _ in range(rank)]} for g in guids]


def addon_mapping(guids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The `addon_mapping.json` of `guids` (item id -> add-on), each named by its GUID."""
    return {str(positive_hash(g)): {"id": g, "name": g, "isWebextension": True} for g in guids}
