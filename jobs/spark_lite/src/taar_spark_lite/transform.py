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
    one shuffle of the day's add-on entries, so the input is read once."""
    entries = clients.select("client_id", F.explode(addon_entries("active_addons")).alias("addon"))
    # `isin` over the whitelist becomes a hash-set lookup (Spark's InSet) in generated code.
    counted = is_valid_addon(F.col("addon")) & F.col("addon.addon_id").isin(sorted(set(whitelist)))
    entries = entries.select("client_id", F.col("addon.addon_id").alias("addon_id"), counted.alias("counted"))
    return (
        entries.where(F.col("addon_id").isNotNull())
        .groupBy("client_id")
        .agg(
            F.collect_set("addon_id").alias("installed"),
            F.array_sort(F.collect_set(F.when(F.col("counted"), F.col("addon_id")))).alias("whitelisted"),
        )
    )


def addon_counts(per_client: DataFrame) -> DataFrame:
    """`(guid, other_guid, n_clients)`, both artifacts' counts in one frame: a row with a null
    `other_guid` counts the clients with `guid` installed; the others count the clients with both
    valid whitelisted add-ons, over clients with two or more.

    One frame from one projection of `per_client`: a union of two branches would each be pruned
    to the column it needs, and the two different plans would read and shuffle the day twice.
    Each client's entries are `(guid, others)` pairs, exploded twice (plain generated code, faster
    than nested array lambdas): `others` is `[null]` for an install, the client's whitelisted
    add-ons for a pair, so both orders of every pair are produced and the result is symmetric.
    """
    no_other = F.array(F.lit(None).cast("string"))
    pairable = F.when(F.size("whitelisted") >= 2, F.col("whitelisted")).otherwise(F.array())
    entries = F.concat(
        F.transform("installed", lambda guid: F.struct(guid.alias("guid"), no_other.alias("others"))),
        F.transform(pairable, lambda guid: F.struct(guid.alias("guid"), F.col("whitelisted").alias("others"))),
    )
    firsts = per_client.select(F.explode(entries).alias("entry"))
    rows = firsts.select("entry.guid", F.explode("entry.others").alias("other_guid"))
    rows = rows.where(F.col("other_guid").isNull() | (F.col("guid") != F.col("other_guid")))
    return rows.groupBy("guid", "other_guid").agg(F.count(F.lit(1)).alias("n_clients"))


def counts_by_guid(counts: DataFrame) -> DataFrame:
    """One row per guid seen, what the driver collects (bounded by the add-ons, not their pairs):
    `installs` (clients with it installed) and `others` (`other_guid -> n_clients`, empty without pairs)."""
    pair = F.when(F.col("other_guid").isNotNull(), F.struct("other_guid", "n_clients"))
    return counts.groupBy("guid").agg(
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
