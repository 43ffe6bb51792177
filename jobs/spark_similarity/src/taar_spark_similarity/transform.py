"""TAAR similarity: a donor pool of typical clients and the LR curves that score them.

Spark part (DataFrame -> DataFrame): each client's latest row with its valid whitelisted
add-ons, clustered by add-on set (HashingTF + IDF + BisectingKMeans), donors drawn from
every cluster in proportion to its size. Driver part (numpy over the small donor set): the
recommender's distance between donor pairs, and Gaussian KDEs of the same-cluster and
other-cluster distances. No I/O here; no client id leaves `candidate_clients`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.clustering import BisectingKMeans
from pyspark.ml.feature import IDF, HashingTF
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from taar_common.artifacts import DONOR_CATEGORICAL_FEATURES as CATEGORICAL_FEATURES
from taar_common.artifacts import DONOR_CONTINUOUS_FEATURES as CONTINUOUS_FEATURES
from taar_common.artifacts import DONOR_FIELDS
from taar_common.spark import PROFILE_COLUMNS
from taar_common.validity import addon_entries, drop_null_client_ids, release_firefox, valid_addon_ids

INPUT_COLUMNS = PROFILE_COLUMNS
FLOOR_DISTANCE_ADJUSTMENT = 0.001
"""Added to the Canberra distance so a categorical mismatch always counts (as the service does)."""
MIN_ADDONS_EXCLUSIVE = 2
HASHING_FEATURES = 1 << 12
BISECTION_ITERATIONS = 5
"""k-means iterations per bisection: each is a Spark job; 10 or 20 (Spark's default) gave no lower cost here."""
KEY_BITS = 53


def _continuous(column: str) -> Column:
    """A continuous feature as a double; null and NaN become 0 (the service needs numbers)."""
    value = F.col(column).cast("double")
    return F.when(value.isNull() | F.isnan(value), F.lit(0.0)).otherwise(value)


def client_features(frame: DataFrame, whitelist: Iterable[str]) -> DataFrame:
    """One row per input row in donor terms: features renamed, `active_addons` = valid whitelisted ids.

    Rows with at most two add-on entries get an empty `active_addons` (they cannot qualify).
    `subsession_length` is in seconds (hours * 3600), the unit of the profiles the service
    compares donors with.
    """
    allowed = sorted(set(whitelist))
    # whitelist first (a hash-set lookup per entry), then the validity rule on the few entries left
    whitelisted = F.filter(addon_entries(), lambda entry: entry["addon_id"].isin(allowed))
    # a row with at most two entries cannot qualify: most rows skip the per-entry work
    # (sized through one field: `size` of the whole column would make Parquet decode every field)
    may_qualify = F.size("active_addons.addon_id") > MIN_ADDONS_EXCLUSIVE
    addon_ids = F.when(may_qualify, valid_addon_ids(whitelisted)).otherwise(F.array().cast("array<string>"))
    return frame.select(
        "client_id",
        "submission_date_s3",
        F.col("city").alias("geo_city"),
        "locale",
        "os",
        (_continuous("subsession_hours_sum") * 3600.0).alias("subsession_length"),
        _continuous("places_bookmarks_count_mean").alias("bookmark_count"),
        _continuous("scalar_parent_browser_engagement_tab_open_event_count_sum").alias("tab_open_count"),
        _continuous("scalar_parent_browser_engagement_total_uri_count_sum").alias("total_uri"),
        _continuous("scalar_parent_browser_engagement_unique_domains_count_mean").alias("unique_tlds"),
        addon_ids.alias("active_addons"),
    )


def latest_client_rows(frame: DataFrame, whitelist: Iterable[str]) -> DataFrame:
    """Each release-Firefox client's `n_rows` and, when its latest row has more than two valid
    whitelisted add-ons, that row's `DONOR_FIELDS` (all null otherwise).

    Only such rows carry their fields through the aggregation (its cost is sorting what it
    carries). Ties on the date: a row with enough add-ons wins over one without, then the
    row's own values decide, so the choice does not depend on the input order. Null client
    ids are grouped into one row (so they can be counted in the same pass) and must be
    dropped by the caller.
    """
    features = client_features(release_firefox(frame), whitelist)
    enough_addons = F.size("active_addons") > MIN_ADDONS_EXCLUSIVE
    donor = F.when(enough_addons, F.struct(*DONOR_FIELDS)).alias("donor")
    latest = F.max(F.struct("submission_date_s3", donor)).alias("latest")
    grouped = features.groupBy("client_id").agg(latest, F.count(F.lit(1)).alias("n_rows"))
    return grouped.select("client_id", "n_rows", *[F.col(f"latest.donor.{name}").alias(name) for name in DONOR_FIELDS])


def is_candidate() -> Column:
    """More than two valid whitelisted add-ons and a known city, locale and os."""
    known = [F.col(name).isNotNull() for name in CATEGORICAL_FEATURES]
    return (F.size("active_addons") > MIN_ADDONS_EXCLUSIVE) & known[0] & known[1] & known[2]


def client_count_columns() -> list[Column]:
    """Aggregates over `latest_client_rows` for the run summary (for `agg` or `observe`)."""
    has_id = F.col("client_id").isNotNull()
    enough = F.size("active_addons") > MIN_ADDONS_EXCLUSIVE
    return [
        F.coalesce(F.sum(F.when(~has_id, F.col("n_rows"))), F.lit(0)).alias("null_client_id_rows"),
        F.coalesce(F.sum(F.when(has_id, F.col("n_rows"))), F.lit(0)).alias("release_rows"),
        F.count_if(has_id).alias("clients"),
        F.count_if(has_id & enough).alias("clients_with_enough_addons"),
        F.count_if(has_id & enough & ~is_candidate()).alias("clients_missing_geo_locale_os"),
        F.count_if(has_id & is_candidate()).alias("candidate_clients"),
    ]


def _unit_key(seed: int, salt: int) -> Column:
    """A uniform value in [0, 1) per client, from a seeded hash of its id (order independent)."""
    hashed = F.xxhash64(F.lit(seed), F.lit(salt), F.col("client_id"))
    return hashed.bitwiseAND(F.lit((1 << KEY_BITS) - 1)).cast("double") / float(1 << KEY_BITS)


def candidate_clients(latest: DataFrame, seed: int) -> DataFrame:
    """Candidate donors without their id: two seeded keys replace it (sampling order, fit sample)."""
    return (
        drop_null_client_ids(latest)
        .where(is_candidate())
        .select(
            _unit_key(seed, 0).alias("sample_key"),
            _unit_key(seed, 1).alias("fit_key"),
            *DONOR_FIELDS,
        )
    )


def clustering_pipeline(num_clusters: int, seed: int) -> Pipeline:
    """Add-on sets -> hashed binary term vectors -> IDF weights -> bisecting k-means."""
    return Pipeline(
        stages=[
            HashingTF(inputCol="active_addons", outputCol="tf", numFeatures=HASHING_FEATURES, binary=True),
            IDF(inputCol="tf", outputCol="tfidf"),
            BisectingKMeans(
                featuresCol="tfidf", predictionCol="cluster", k=num_clusters, seed=seed, maxIter=BISECTION_ITERATIONS
            ),
        ]
    )


def fit_sample(candidates: DataFrame, fraction: float) -> DataFrame:
    """The clients the clustering is fitted on: a seeded share, in one partition, in a fixed order.

    One partition in key order makes the fit independent of how the input was split
    (floating-point sums then always run in the same order).
    """
    sample = candidates if fraction >= 1.0 else candidates.where(F.col("fit_key") < F.lit(fraction))
    return sample.select("sample_key", "active_addons").coalesce(1).sortWithinPartitions("sample_key")


def fit_clusters(candidates: DataFrame, num_clusters: int, seed: int, fraction: float) -> PipelineModel:
    """Fit the clustering pipeline on `fit_sample(candidates, fraction)`, held in memory (IDF and k-means read it)."""
    sample = fit_sample(candidates, fraction).cache()
    try:
        return clustering_pipeline(num_clusters, seed).fit(sample)
    finally:
        sample.unpersist()


def assign_clusters(model: PipelineModel, candidates: DataFrame) -> DataFrame:
    """Candidates with their `cluster` (the donor fields, `sample_key`, `cluster`)."""
    return model.transform(candidates).select("cluster", "sample_key", *DONOR_FIELDS)


def cluster_heads(clustered: DataFrame, num_donors: int) -> DataFrame:
    """Each cluster's first `num_donors` clients in seeded key order, with their `rank` in it and
    the cluster's size `n_clients`: everything `select_donors` needs, in one pass.

    No quota can exceed `num_donors`, so the donors are among these rows.
    """
    in_key_order = Window.partitionBy("cluster").orderBy("sample_key")
    whole_cluster = in_key_order.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    ranked = clustered.select(
        "*",
        F.row_number().over(in_key_order).alias("rank"),
        F.count(F.lit(1)).over(whole_cluster).alias("n_clients"),
    )
    return ranked.where(F.col("rank") <= num_donors)


def select_donors(heads: Iterable[Any], num_donors: int) -> tuple[dict[int, int], list[Any]]:
    """(cluster sizes, the donor rows) from collected `cluster_heads` rows.

    Each cluster gives its first `donor_quotas(sizes, num_donors)[cluster]` clients; the rows
    come ordered by cluster, then rank.
    """
    rows = sorted(heads, key=lambda row: (int(row["cluster"]), int(row["rank"])))
    sizes = {int(row["cluster"]): int(row["n_clients"]) for row in rows}
    quotas = donor_quotas(sizes, num_donors)
    return sizes, [row for row in rows if row["rank"] <= quotas[int(row["cluster"])]]


def donor_quotas(sizes: dict[int, int], num_donors: int) -> dict[int, int]:
    """Donors per cluster, proportional to its size and summing to `num_donors` (or to every client).

    Largest remainders get the leftover places; ties go to the lower cluster id.
    """
    total = sum(sizes.values())
    if total <= num_donors:
        return dict(sorted(sizes.items()))
    exact = {c: num_donors * n / total for c, n in sizes.items()}
    quotas = {c: math.floor(v) for c, v in exact.items()}
    leftover = num_donors - sum(quotas.values())
    for cluster in sorted(exact, key=lambda c: (-(exact[c] - quotas[c]), c))[:leftover]:
        quotas[cluster] += 1
    return dict(sorted(quotas.items()))


def donor_records(rows: Iterable[Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """(`donors.json` records, their cluster ids) from `select_donors` rows."""
    donors, clusters = [], []
    for row in rows:
        record = {name: row[name] for name in CATEGORICAL_FEATURES}
        record.update({name: float(row[name]) for name in CONTINUOUS_FEATURES})
        record["active_addons"] = list(row["active_addons"])
        donors.append(record)
        clusters.append(int(row["cluster"]))
    return donors, clusters


def pair_distances(donors: Sequence[dict[str, Any]], first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The service's distance for donor pairs (`first[k]`, `second[k]`).

    (Canberra over the continuous features + 0.001) * Hamming over city, locale and os;
    a Canberra term whose denominator is 0 counts 0 (as scipy does).
    """
    values = np.array([[d[name] for name in CONTINUOUS_FEATURES] for d in donors], dtype=float)
    a, b = values[first], values[second]
    denominator = np.abs(a) + np.abs(b)
    terms = np.divide(np.abs(a - b), denominator, out=np.zeros_like(denominator), where=denominator > 0)
    canberra = terms.sum(axis=1)
    mismatches = np.zeros(len(first))
    for name in CATEGORICAL_FEATURES:
        _, codes = np.unique(np.array([str(d[name]) for d in donors], dtype=object), return_inverse=True)
        mismatches += codes[first] != codes[second]
    hamming = mismatches / len(CATEGORICAL_FEATURES)
    return (canberra + FLOOR_DISTANCE_ADJUSTMENT) * hamming


def donor_pairs(n: int, max_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair of `n` donors, or `max_pairs` random distinct-donor pairs when there are more."""
    if n * (n - 1) // 2 <= max_pairs:
        first, second = np.triu_indices(n, k=1)
        return first, second
    first = rng.integers(0, n, size=max_pairs)
    offset = rng.integers(1, n, size=max_pairs)
    return first, (first + offset) % n


def cluster_pair_distances(
    donors: Sequence[dict[str, Any]], clusters: Sequence[int], *, seed: int, max_pairs: int = 2_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """(same-cluster, other-cluster) distances over donor pairs (all pairs, or a seeded sample)."""
    rng = np.random.default_rng(seed)
    first, second = donor_pairs(len(donors), max_pairs, rng)
    distances = pair_distances(donors, first, second)
    labels = np.asarray(clusters)
    same = labels[first] == labels[second]
    return distances[same], distances[~same]


def subsample(values: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """At most `limit` of `values`, drawn without replacement (order kept)."""
    if len(values) <= limit:
        return values
    return values[np.sort(rng.choice(len(values), size=limit, replace=False))]


def gaussian_kde(samples: np.ndarray, points: np.ndarray, bandwidth: float, chunk: int = 4096) -> np.ndarray:
    """Gaussian kernel density of `samples` at `points` (kernel standard deviation = `bandwidth`)."""
    density = np.zeros(len(points))
    for start in range(0, len(samples), chunk):
        block = samples[start : start + chunk]
        z = (points[:, None] - block[None, :]) / bandwidth
        density += np.exp(-0.5 * z * z).sum(axis=1)
    return density / (len(samples) * bandwidth * math.sqrt(2.0 * math.pi))


def lr_curves(
    same_cluster: np.ndarray,
    other_cluster: np.ndarray,
    *,
    bandwidth: float,
    num_points: int,
    seed: int,
    max_kde_samples: int = 25_000,
) -> list[list[Any]]:
    """`[[score, [numerator, denominator]], ...]`: KDEs of same- and other-cluster distances.

    The `num_points` scores are evenly spaced from three bandwidths below the smallest
    distance to three above the largest, so each density integrates to ~1 over them.
    Each KDE uses at most `max_kde_samples` distances (a seeded subsample).
    """
    if len(same_cluster) == 0 or len(other_cluster) == 0:
        kind = "same-cluster" if len(same_cluster) == 0 else "other-cluster"
        raise ValueError(f"no {kind} donor pairs: LR curves need both (more clients, clusters or donors)")
    rng = np.random.default_rng(seed)
    numerator_samples = subsample(same_cluster, max_kde_samples, rng)
    denominator_samples = subsample(other_cluster, max_kde_samples, rng)
    everything = np.concatenate([same_cluster, other_cluster])
    low, high = everything.min() - 3 * bandwidth, everything.max() + 3 * bandwidth
    points = np.linspace(low, high, num_points)
    numerator = gaussian_kde(numerator_samples, points, bandwidth)
    denominator = gaussian_kde(denominator_samples, points, bandwidth)
    return [[float(x), [float(n), float(d)]] for x, n, d in zip(points, numerator, denominator, strict=True)]
