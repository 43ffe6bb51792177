"""TAAR locale: the most installed whitelisted add-ons of each locale, with Laplace noise.

Spark part: the latest release-Firefox row of each client, its valid signed whitelisted
add-ons, at most `m` of them per client (a seeded hash picks which), counted per locale.
Driver part (locales x whitelist is small): seeded Laplace noise of scale `m / epsilon` on
every whitelisted add-on of each locale, shift by the locale minimum, normalise, keep the top.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

import numpy as np
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from taar_common.validity import drop_null_client_ids, explode_whitelisted, release_firefox, valid_addon_ids
from taar_common.whitelist import recommendable_guids

LocaleCounts = dict[str, dict[str, int]]


def latest_client_rows(frame: DataFrame) -> DataFrame:
    """`(client_id, locale, addon_ids)` from each release-Firefox client's latest row.

    `addon_ids` are the valid signed add-ons (before the whitelist). A tie on the date is
    broken by the largest (locale, addon_ids), so the choice never depends on partitioning.
    Clients whose latest row has no locale are dropped: they belong to no locale.
    """
    rows = drop_null_client_ids(release_firefox(frame)).select(
        "client_id",
        F.struct(
            F.col("submission_date_s3").alias("day"),
            F.col("locale").alias("locale"),
            valid_addon_ids("active_addons", require_signed=True).alias("addon_ids"),
        ).alias("row"),
    )
    latest = rows.groupBy("client_id").agg(F.max("row").alias("row"))
    return latest.select("client_id", "row.locale", "row.addon_ids").where(F.col("locale").isNotNull())


def limited_contributions(
    clients: DataFrame, whitelist: Iterable[str], max_addons_per_client: int, seed: int
) -> DataFrame:
    """`(client_id, locale, addon_id)`: at most `max_addons_per_client` whitelisted add-ons per client.

    Which ones is random but reproducible: the smallest seeded hashes of (client, add-on).
    """
    exploded = explode_whitelisted(clients, "addon_ids", whitelist, keep=("client_id", "locale"))
    draw = F.xxhash64(F.lit(seed), F.col("client_id"), F.col("addon_id"))
    order = Window.partitionBy("client_id").orderBy(draw, F.col("addon_id"))
    ranked = exploded.withColumn("pick", F.row_number().over(order))
    return ranked.where(F.col("pick") <= max_addons_per_client).drop("pick")


def locale_addon_counts(contributions: DataFrame) -> DataFrame:
    """`(locale, addon_id, n_clients)` for every pair with at least one contribution."""
    return contributions.groupBy("locale", "addon_id").agg(F.count(F.lit(1)).alias("n_clients"))


def counts_dict(rows: Iterable) -> LocaleCounts:
    """`{locale: {guid: n}}` from collected `locale_addon_counts` rows."""
    counts: LocaleCounts = {}
    for row in rows:
        counts.setdefault(row["locale"], {})[row["addon_id"]] = int(row["n_clients"])
    return counts


def laplace_noise(locale: str, whitelist: list[str], scale: float, seed: int) -> np.ndarray:
    """Noise for `sorted(whitelist)` in `locale`: seeded by (seed, locale), so a locale's noise
    does not depend on which other locales are present."""
    rng = np.random.default_rng([seed, zlib.crc32(locale.encode("utf-8"))])
    return rng.laplace(0.0, scale, size=len(whitelist))


def noisy_top_addons(
    counts: Mapping[str, Mapping[str, int]],
    whitelist: Iterable[str],
    *,
    epsilon: float,
    max_addons_per_client: int,
    num_addons: int,
    seed: int,
) -> dict[str, list[list]]:
    """`{locale: [[guid, weight], ...]}`: the top `num_addons` noisy weights, descending (ties by guid).

    Every whitelisted add-on gets noise, a zero count included; weights are the noisy
    counts minus the locale's minimum, divided by their sum over the whole whitelist
    (uniform if that sum is 0), so each locale's kept weights sum to at most 1. The noise
    domain leaves out what the validity rule excludes by GUID (Pioneer): such an add-on
    never has a count, and noise alone must not publish it.
    """
    guids = recommendable_guids(whitelist)
    scale = max_addons_per_client / epsilon
    result: dict[str, list[list]] = {}
    for locale in sorted(counts):
        observed = np.array([counts[locale].get(g, 0) for g in guids], dtype=float)
        noisy = observed + laplace_noise(locale, guids, scale, seed)
        shifted = noisy - noisy.min()
        total = shifted.sum()
        weights = shifted / total if total > 0 else np.full(len(guids), 1.0 / len(guids))
        ranked = sorted(zip(guids, weights.tolist(), strict=True), key=lambda pair: (-pair[1], pair[0]))
        result[locale] = [[guid, weight] for guid, weight in ranked[:num_addons]]
    return result
