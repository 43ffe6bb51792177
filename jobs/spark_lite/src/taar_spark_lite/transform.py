"""TAAR lite: which add-ons are installed together, and how often each add-on is installed.

Pure DataFrame functions over `clients_daily` rows (`client_id`, `channel`, `app_name`,
`active_addons`); the caller reads the input and publishes the results.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from taar_common.validity import addon_entries, drop_null_client_ids, is_valid_addon, release_firefox

SAMPLE_BUCKETS = 1_000_000
SQL_CONFIG = {
    "spark.sql.execution.replaceHashWithSortAgg": "true",
    "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
}
"""Session settings these plans are written for (the job sets them): an aggregation over input
already sorted by its keys runs as one sort-based pass (`client_addons`), and adaptive execution
may merge the small partitions of a cached frame, so the per-add-on rows the driver streams come
in a few partitions, each a job of its own, rather than one per shuffle partition (200 on Dataproc)."""


def sample_clients(frame: DataFrame, fraction: float, seed: int) -> DataFrame:
    """Keep about `fraction` of the clients, chosen by a seeded hash of the client id.

    Hashing (rather than `DataFrame.sample`) keeps or drops all rows of a client together
    and gives the same choice for the same seed whatever the input's partitioning.
    """
    if fraction >= 1.0:
        return frame
    bucket = F.pmod(F.xxhash64(F.lit(seed), F.col("client_id")), F.lit(SAMPLE_BUCKETS))
    return frame.where(bucket < F.lit(int(round(fraction * SAMPLE_BUCKETS))))


def release_clients(frame: DataFrame) -> DataFrame:
    """Release-Firefox rows with a client id (the rows every count is built from)."""
    return drop_null_client_ids(release_firefox(frame))


def client_addons(clients: DataFrame, whitelist: Iterable[str]) -> DataFrame:
    """`(client_id, installed, whitelisted)`, one row per client over all its rows: the distinct ids
    of every add-on it has (the ranking's: no validity or whitelist filter) and the sorted distinct
    ids of its valid whitelisted ones (the co-installations'). Both artifacts are counted from this
    one shuffle of the day's add-on entries, so the input is read once.

    The entries are shuffled by client and sorted within each partition, so with
    `SQL_CONFIG` Spark folds each client's run of entries in one sort-based pass. The hash
    aggregation it would plan for `collect_set` holds 128 keys before it falls back to sorting
    (`spark.sql.objectHashAggregate.sortBased.fallbackThreshold`), and its map-side half merges
    nearly nothing: almost every client has one row a day.
    """
    entries = clients.select("client_id", F.explode(addon_entries("active_addons")).alias("addon"))
    # `isin` over the whitelist becomes a hash-set lookup (Spark's InSet) in generated code.
    counted = is_valid_addon(F.col("addon")) & F.col("addon.addon_id").isin(sorted(set(whitelist)))
    entries = entries.select("client_id", F.col("addon.addon_id").alias("addon_id"), counted.alias("counted"))
    return (
        entries.where(F.col("addon_id").isNotNull())
        .repartition("client_id")
        .sortWithinPartitions("client_id")
        .groupBy("client_id")
        .agg(
            F.collect_set("addon_id").alias("installed"),
            F.array_sort(F.collect_set(F.when(F.col("counted"), F.col("addon_id")))).alias("whitelisted"),
        )
    )


def addon_counts(per_client: DataFrame) -> DataFrame:
    """`(guid, other_guid, n_clients)`, both artifacts' counts in one frame: a row with a null
    `other_guid` counts the clients with `guid` installed; the others count the clients with both
    valid whitelisted add-ons, over clients with two or more, once per pair (`guid < other_guid`;
    `counts_by_guid` adds the other order).

    One frame from one projection of `per_client`: a union of two branches would each be pruned
    to the column it needs, and the two different plans would read and shuffle the day twice.
    Each client's `installed ++ whitelisted` is exploded with positions: an installed id pairs
    with null, the whitelisted id at index j with the sorted ids after it (none for the last, so
    a client with one has no pair). Plain generated code, no array lambdas, and half the rows
    that both orders would take.
    """
    n_installed = F.size("installed")
    listed = per_client.select(
        "whitelisted",
        n_installed.alias("n_installed"),
        F.posexplode(F.concat("installed", "whitelisted")).alias("position", "guid"),
    )
    later = F.col("position") - F.col("n_installed") + 2  # 1-based index of the next whitelisted id
    others = F.when(F.col("position") < F.col("n_installed"), F.array(F.lit(None).cast("string"))).otherwise(
        F.slice("whitelisted", later, F.size("whitelisted") - later + 1)
    )
    rows = listed.select("guid", F.explode(others).alias("other_guid"))
    return rows.groupBy("guid", "other_guid").agg(F.count(F.lit(1)).alias("n_clients"))


def counts_by_guid(counts: DataFrame) -> DataFrame:
    """One row per guid seen, what the driver collects (bounded by the add-ons, not their pairs):
    `installs` (clients with it installed) and `others` (`other_guid -> n_clients` over both
    orders of `counts`' pairs, so symmetric; empty without pairs)."""
    swapped = F.struct(F.col("other_guid").alias("guid"), F.col("guid").alias("other_guid"))
    as_counted = F.struct("guid", "other_guid")
    both_orders = F.when(F.col("other_guid").isNull(), F.array(as_counted)).otherwise(F.array(as_counted, swapped))
    rows = counts.select(F.inline(both_orders), "n_clients")
    pair = F.when(F.col("other_guid").isNotNull(), F.struct("other_guid", "n_clients"))
    return rows.groupBy("guid").agg(
        F.max(F.when(F.col("other_guid").isNull(), F.col("n_clients"))).alias("installs"),
        F.map_from_entries(F.collect_list(pair)).alias("others"),
    )


def artifact_dicts(rows: Iterable) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """(`{guid: {other_guid: n}}` of the guids with pairs, `{guid: n_clients}`) from `counts_by_guid`
    rows, keys sorted; one pass, so the rows can stream to the driver a partition at a time."""
    coinstallation: dict[str, dict[str, int]] = {}
    ranking: dict[str, int] = {}
    for row in rows:
        guid = row["guid"]
        if row["installs"] is not None:
            ranking[guid] = int(row["installs"])
        if row["others"]:
            coinstallation[guid] = {other: int(n) for other, n in sorted(row["others"].items())}
    return dict(sorted(coinstallation.items())), dict(sorted(ranking.items()))
