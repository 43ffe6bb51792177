"""TAAR ensemble: which constituent recommender deserves how much weight.

Spark part: the latest release-Firefox row of each (sampled) client with at least
`min_addons` valid whitelisted add-ons; the most recently installed of them is held out and the
rest of the client's valid add-ons are what the recommenders see as installed. Each partition
is scored in numpy batches (`scoring`): per client one row for the held-out add-on (label 1)
and rows for other add-ons the recommenders list (label 0: a seeded sample for training, all
of them for the test clients), each with the three recommenders' scores as features. Driver
part: the logistic regression's coefficients -> non-negative weights summing to 1, and the hit
rates of the test clients. No I/O here; no client id leaves `latest_clients` (a seeded hash
replaces it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from taar_common.spark import PROFILE_COLUMNS
from taar_common.validity import ADDON_FLAGS_FALSE, drop_null_client_ids, release_firefox, valid_addon_ids
from taar_common.whitelist import recommendable_guids

from taar_spark_ensemble import scoring
from taar_spark_ensemble.scoring import RECOMMENDERS, TOP_N, Batch, Models

INPUT_COLUMNS = PROFILE_COLUMNS
CONTINUOUS_SOURCES = {
    "subsession_length": ("subsession_hours_sum", 3600.0),  # seconds, the profiles' unit
    "bookmark_count": ("places_bookmarks_count_mean", 1.0),
    "tab_open_count": ("scalar_parent_browser_engagement_tab_open_event_count_sum", 1.0),
    "total_uri": ("scalar_parent_browser_engagement_total_uri_count_sum", 1.0),
    "unique_tlds": ("scalar_parent_browser_engagement_unique_domains_count_mean", 1.0),
}
"""The similarity recommender's continuous features: (clients_daily column, factor)."""
SCORED_SCHEMA = (
    "key long, is_test boolean, label double, guid string, listed boolean, "
    "collaborative double, similarity double, locale double, "
    "hit_collaborative boolean, hit_similarity boolean, hit_locale boolean"
)
ENTRY_FIELDS = ("addon_id", "type", *ADDON_FLAGS_FALSE, "install_day")
"""What the held-out choice reads of each active_addons entry: the validity rule's fields and the day."""
KEY_BITS = 53
BATCH_SIZE = 1024
FALLBACK_RULE = "equal"
"""When no coefficient is positive: each recommender gets 1/3 (no evidence to prefer one)."""


def _unit_key(seed: int, salt: int) -> Column:
    """A uniform value in [0, 1) per client from a seeded hash of its id (order independent)."""
    hashed = F.xxhash64(F.lit(seed), F.lit(salt), F.col("client_id"))
    return hashed.bitwiseAND(F.lit((1 << KEY_BITS) - 1)).cast("double") / float(1 << KEY_BITS)


@dataclass(frozen=True)
class ClientSample:
    """Which clients the ensemble learns from: those with `min_addons` or more valid whitelisted
    add-ons, a seeded `sample_fraction` of them, `test_fraction` of those held for the hit rates."""

    min_addons: int
    sample_fraction: float
    test_fraction: float
    seed: int


def latest_clients(frame: DataFrame, whitelist: Iterable[str], sample: ClientSample) -> DataFrame:
    """One row per sampled client whose latest row has >= `sample.min_addons` valid whitelisted
    add-ons: `key` (seeded hash of the id), `is_test`, the profile fields the recommenders read,
    `installed` (its valid add-ons minus the held-out one) and `held_out`.

    Held out: the valid whitelisted add-on with the largest `install_day` (null counts as
    oldest), ties broken by the larger GUID. Ties on the row date: a row with enough add-ons
    wins, then the row's values, so the choice never depends on the input order.
    """
    rows = drop_null_client_ids(release_firefox(frame))
    if sample.sample_fraction < 1.0:
        rows = rows.where(_unit_key(sample.seed, 0) < F.lit(sample.sample_fraction))
    allowed = recommendable_guids(whitelist)
    rows = rows.select(
        "client_id",
        "submission_date_s3",
        F.col("city").alias("geo_city"),
        "locale",
        "os",
        *[(F.col(column).cast("double") * factor).alias(name) for name, (column, factor) in CONTINUOUS_SOURCES.items()],
        valid_addon_ids("active_addons").alias("valid"),
        F.arrays_zip(*[F.col(f"active_addons.{name}") for name in ENTRY_FIELDS]).alias("installs"),
    ).withColumn("whitelisted", F.filter("valid", lambda guid: guid.isin(allowed)))
    held = F.array_max(
        F.transform(
            # an entry's own install_day counts only if that entry is valid (a disabled duplicate does not)
            F.filter(
                "installs",
                lambda entry: (
                    F.array_contains(F.col("whitelisted"), entry["addon_id"])
                    & (F.size(valid_addon_ids(F.array(entry))) > 0)
                ),
            ),
            lambda entry: F.struct(
                F.coalesce(entry["install_day"], F.lit(-1)).alias("day"), entry["addon_id"].alias("guid")
            ),
        )
    )["guid"]
    profile = F.struct(
        "geo_city",
        "locale",
        "os",
        *CONTINUOUS_SOURCES,
        F.array_remove("valid", held).alias("installed"),
        held.alias("held_out"),
    )
    enough = F.size("whitelisted") >= F.lit(sample.min_addons)
    latest = F.max(F.struct("submission_date_s3", F.when(enough, profile).alias("profile"))).alias("latest")
    grouped = rows.groupBy("client_id").agg(latest).where(F.col("latest.profile").isNotNull())
    return grouped.select(
        F.xxhash64(F.lit(sample.seed), F.col("client_id")).alias("key"),
        (_unit_key(sample.seed, 1) < F.lit(sample.test_fraction)).alias("is_test"),
        "latest.profile.*",
    )


def _batch(rows: Sequence[Any]) -> Batch:
    continuous = np.array(
        [[math.nan if row[name] is None else float(row[name]) for name in CONTINUOUS_SOURCES] for row in rows],
        dtype=float,
    ).reshape(len(rows), len(CONTINUOUS_SOURCES))
    return Batch(
        installed=[row["installed"] or [] for row in rows],
        locale=[row["locale"] for row in rows],
        categorical=[(row["geo_city"], row["locale"], row["os"]) for row in rows],
        continuous=continuous,
    )


def score_batch(models: Models, rows: Sequence[Any], *, seed: int, negatives: int) -> Iterator[tuple]:
    """`SCORED_SCHEMA` rows for a batch of `latest_clients` rows (see the module docstring)."""
    batch = _batch(rows)
    ranked = scoring.rank_all(models, batch)
    installed = scoring.installed_mask(models, batch)
    held = np.array([models.column[row["held_out"]] for row in rows], dtype=np.int64)
    hit = {name: scoring.hits(ranked[name], installed, held) for name in RECOMMENDERS}
    features = np.stack([ranked[name].features() for name in RECOMMENDERS], axis=2)
    listed = np.logical_or.reduce([ranked[name].listed for name in RECOMMENDERS])
    candidates = listed & ~installed
    index = np.arange(len(rows))
    candidates[index, held] = False
    keys = np.array([row["key"] for row in rows], dtype=np.int64).astype(np.uint64)
    columns = scoring.mix64(np.arange(len(models.guids), dtype=np.uint64) + np.uint64(seed & 0xFFFFFFFF))
    draw = np.where(candidates, scoring.mix64(keys[:, None] ^ columns[None, :]), np.iinfo(np.uint64).max)
    order = np.argsort(draw, axis=1, kind="stable")
    for i, row in enumerate(rows):
        key, is_test, h = int(row["key"]), bool(row["is_test"]), held[i]
        yield (key, is_test, 1.0, row["held_out"], bool(listed[i, h]), *features[i, h].tolist(),
               *(bool(hit[name][i]) for name in RECOMMENDERS))  # fmt: skip
        chosen = order[i][: candidates[i].sum() if is_test else min(negatives, candidates[i].sum())]
        for column in sorted(chosen.tolist()):
            yield (key, is_test, 0.0, models.guids[column], True, *features[i, column].tolist(), None, None, None)


def scored_rows(models: Models, rows: Iterable[Any], *, seed: int, negatives: int) -> Iterator[tuple]:
    """`score_batch` over a partition's rows, `BATCH_SIZE` clients at a time."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, BATCH_SIZE)):
        yield from score_batch(models, chunk, seed=seed, negatives=negatives)


def fit_coefficients(
    training: DataFrame, *, reg_param: float, elastic_net_param: float, max_iter: int
) -> tuple[list[float], float]:
    """Coefficients (in `RECOMMENDERS` order) and intercept of the logistic regression label ~ scores."""
    assembled = VectorAssembler(inputCols=list(RECOMMENDERS), outputCol="features").transform(training)
    model = LogisticRegression(
        featuresCol="features",
        labelCol="label",
        regParam=reg_param,
        elasticNetParam=elastic_net_param,
        maxIter=max_iter,
    ).fit(assembled)
    # Spark sums the partitions' gradients in task completion order, so a rerun can differ in
    # the last bits; 9 significant digits keep the same seed giving the same bytes.
    return [_significant(c) for c in model.coefficients.toArray()], _significant(model.intercept)


def _significant(value: float, digits: int = 9) -> float:
    return float(f"{float(value):.{digits}g}")


def ensemble_weights(coefficients: Sequence[float]) -> tuple[dict[str, float], str]:
    """Weights in [0, 1] summing to 1 from the coefficients, and the rule used.

    Negative coefficients become 0 (the service multiplies scores by the weights: a negative
    weight would turn a recommender's confidence into a penalty); the rest are normalised.
    When none is positive (or one is not finite), `FALLBACK_RULE` applies.
    """
    clipped = [max(c, 0.0) if math.isfinite(c) else math.nan for c in coefficients]
    total = sum(clipped)
    if not math.isfinite(total) or total <= 0.0:
        return {name: round(1.0 / len(RECOMMENDERS), 12) for name in RECOMMENDERS}, FALLBACK_RULE
    return {name: round(c / total, 12) for name, c in zip(RECOMMENDERS, clipped, strict=True)}, "logistic_regression"


def hit_rates(test: DataFrame, weights: Mapping[str, float]) -> dict[str, float | None]:
    """Share of test clients whose held-out add-on is in the top `TOP_N` of each recommender and
    of the weighted ensemble (its scores summed per GUID, ties by GUID, as the service sorts)."""
    score = sum(F.lit(weights[name]) * F.col(name) for name in RECOMMENDERS)
    rows = test.select("key", "label", "guid", "listed", score.alias("score"), *[f"hit_{n}" for n in RECOMMENDERS])
    held = rows.where(F.col("label") == 1.0).select(
        "key",
        F.col("guid").alias("held_guid"),
        F.col("score").alias("held_score"),
        F.col("listed").alias("held_listed"),
        *[f"hit_{n}" for n in RECOMMENDERS],
    )
    others = rows.where(F.col("label") == 0.0).select("key", "guid", "score")
    beats = (F.col("score") > F.col("held_score")) | (
        (F.col("score") == F.col("held_score")) & (F.col("guid") < F.col("held_guid"))
    )
    per_client = held.join(others, "key", "left").groupBy("key", "held_listed", *[f"hit_{n}" for n in RECOMMENDERS])
    per_client = per_client.agg(F.count_if(F.coalesce(beats, F.lit(False))).alias("ahead"))
    ensemble_hit = F.col("held_listed") & (F.col("ahead") < F.lit(TOP_N))
    row = per_client.agg(
        F.count(F.lit(1)).alias("clients"),
        *[F.avg(F.col(f"hit_{n}").cast("double")).alias(n) for n in RECOMMENDERS],
        F.avg(ensemble_hit.cast("double")).alias("ensemble"),
    ).first()
    if not row["clients"]:
        return {name: None for name in (*RECOMMENDERS, "ensemble")}
    return {name: round(float(row[name]), 6) for name in (*RECOMMENDERS, "ensemble")}
