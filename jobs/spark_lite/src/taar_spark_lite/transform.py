"""TAAR lite: which add-ons are installed together, and how often each add-on is installed.

Pure DataFrame functions over `clients_daily` rows (`client_id`, `channel`, `app_name`,
`active_addons`); the caller reads the input and publishes the results.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from taar_common.validity import drop_null_client_ids, explode_whitelisted, release_firefox, valid_addon_ids

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


def install_ranking(clients: DataFrame) -> DataFrame:
    """`(addon_id, n_clients)`: every add-on id seen, once per client (no validity or whitelist filter)."""
    ids = F.array_distinct(F.transform(F.coalesce(F.col("active_addons"), F.array()), lambda a: a["addon_id"]))
    installs = clients.select("client_id", F.explode(ids).alias("addon_id")).where(F.col("addon_id").isNotNull())
    return installs.distinct().groupBy("addon_id").agg(F.count(F.lit(1)).alias("n_clients"))


def whitelisted_addon_sets(clients: DataFrame, whitelist: Iterable[str]) -> DataFrame:
    """`(client_id, addon_ids)`: each client's sorted distinct valid whitelisted add-ons (over all its rows)."""
    valid = clients.select("client_id", valid_addon_ids("active_addons").alias("addon_ids"))
    exploded = explode_whitelisted(valid, "addon_ids", whitelist)
    return exploded.groupBy("client_id").agg(F.array_sort(F.collect_set("addon_id")).alias("addon_ids"))


def coinstallation_counts(addon_sets: DataFrame) -> DataFrame:
    """`(guid, other_guid, n_clients)`: clients with both add-ons, over clients with >= 2 of them.

    Both orders of every pair are produced, so the result is symmetric by construction (two plain
    explodes: generated code, faster than nested array lambdas).
    """
    sets = addon_sets.where(F.size("addon_ids") >= 2)
    firsts = sets.select(F.explode("addon_ids").alias("guid"), "addon_ids")
    pairs = firsts.select("guid", F.explode("addon_ids").alias("other_guid"))
    pairs = pairs.where(F.col("guid") != F.col("other_guid"))
    return pairs.groupBy("guid", "other_guid").agg(F.count(F.lit(1)).alias("n_clients"))


def coinstallation_by_guid(counts: DataFrame) -> DataFrame:
    """One row per guid with a `(other_guid -> n_clients)` map: what the driver collects."""
    entries = F.map_from_entries(F.collect_list(F.struct("other_guid", "n_clients")))
    return counts.groupBy("guid").agg(entries.alias("others"))


def coinstallation_dict(rows: Iterable) -> dict[str, dict[str, int]]:
    """`{guid: {other_guid: n}}` from collected `coinstallation_by_guid` rows, keys sorted."""
    return {row["guid"]: {k: int(v) for k, v in sorted(row["others"].items())} for row in sorted(rows, key=_guid)}


def ranking_dict(rows: Iterable) -> dict[str, int]:
    """`{guid: n_clients}` from collected `install_ranking` rows."""
    return {row["addon_id"]: int(row["n_clients"]) for row in sorted(rows, key=lambda r: r["addon_id"])}


def _guid(row) -> str:  # noqa: ANN001 - pyspark Row
    return row["guid"]
