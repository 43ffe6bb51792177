"""TAAR collaborative: implicit-feedback ALS over the add-ons of each client's latest row.

Spark part: the latest release-Firefox row of each client, its valid whitelisted add-ons,
one rating 1.0 per (client, add-on); the client id is replaced by its sha256 and then by a
dense integer index (ALS needs int ids), the add-on by its item id (`positive_hash`, what the
service looks up). Driver part (whitelist-sized): item ids with the collision check, the
`item_matrix.json` rows and the `addon_mapping.json` entries. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from taar_common.artifacts import positive_hash
from taar_common.validity import explode_whitelisted, release_firefox, valid_addon_ids
from taar_common.whitelist import recommendable_guids

INPUT_COLUMNS = ("client_id", "channel", "app_name", "active_addons")
RATING = 1.0
NUM_USER_BLOCKS = 8
NUM_ITEM_BLOCKS = 1
"""Fixed ALS block counts (not the cluster's parallelism): the block layout, and so the order of
every floating-point sum, is the same wherever the job runs. Items are whitelist-sized: one block."""


class ItemIdCollisionError(ValueError):
    """Two whitelisted GUIDs share an item id: the service could not tell them apart."""


@dataclass(frozen=True)
class AlsParams:
    rank: int
    reg_param: float
    alpha: float
    max_iter: int
    seed: int


def item_ids(whitelist: Iterable[str]) -> dict[str, int]:
    """`{guid: positive_hash(guid)}` over the recommendable whitelist, sorted by GUID.

    Raises `ItemIdCollisionError` naming both GUIDs when two share an id.
    """
    ids: dict[str, int] = {}
    owner: dict[int, str] = {}
    for guid in recommendable_guids(whitelist):
        item = positive_hash(guid)
        if item in owner:
            raise ItemIdCollisionError(
                f"whitelisted GUIDs {owner[item]!r} and {guid!r} share item id {item} "
                "(positive_hash); the collaborative recommender could not tell them apart"
            )
        owner[item] = guid
        ids[guid] = item
    return ids


def hashed_client_id() -> Column:
    """sha256 hex of the UTF-8 client id: `taar_common.hashing.hash_client_id` as a Spark column."""
    return F.sha2(F.col("client_id"), 256)


def latest_client_addons(frame: DataFrame) -> DataFrame:
    """`(client_key, addon_ids)`: each release-Firefox client's latest row's valid add-ons (before the whitelist).

    `client_key` is the hashed client id (the raw id goes no further). A tie on the date is
    broken by the largest add-on list, so the choice never depends on partitioning. Null
    client ids are dropped.
    """
    rows = release_firefox(frame).where(F.col("client_id").isNotNull())
    latest = rows.groupBy("client_id").agg(
        F.max(F.struct("submission_date_s3", valid_addon_ids("active_addons").alias("addon_ids"))).alias("row")
    )
    return latest.select(hashed_client_id().alias("client_key"), F.col("row.addon_ids").alias("addon_ids"))


def ratings(clients: DataFrame, items: Mapping[str, int], num_partitions: int) -> DataFrame:
    """`(user, item, rating)`: 1.0 per (client, whitelisted add-on), clients densely indexed.

    `user` = the rank of the client's hashed id among the clients with a whitelisted add-on
    (0-based, from a join with that index): dense ints, never derived from the raw id. The
    rows are hash-partitioned by user into `num_partitions` and sorted, so ALS reads them in
    the same order on every run.
    """
    spark = clients.sparkSession
    pairs = explode_whitelisted(clients, "addon_ids", items, keep=("client_key",))
    users = pairs.select("client_key").distinct()
    users = users.select("client_key", (F.row_number().over(Window.orderBy("client_key")) - 1).alias("user"))
    item_table = spark.createDataFrame(sorted(items.items()), "addon_id string, item int")
    joined = pairs.join(users, "client_key").join(F.broadcast(item_table), "addon_id")
    return (
        joined.select(F.col("user").cast("int"), "item", F.lit(RATING).cast("float").alias("rating"))
        .repartition(num_partitions, "user")
        .sortWithinPartitions("user", "item")
    )


def als(params: AlsParams) -> ALS:
    """Implicit-feedback ALS with a fixed seed, fixed blocks and no checkpointing (same input, same factors)."""
    return ALS(
        rank=params.rank,
        maxIter=params.max_iter,
        regParam=params.reg_param,
        alpha=params.alpha,
        implicitPrefs=True,
        seed=params.seed,
        numUserBlocks=NUM_USER_BLOCKS,
        numItemBlocks=NUM_ITEM_BLOCKS,
        checkpointInterval=-1,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
    )


def fit(ratings_frame: DataFrame, params: AlsParams) -> ALSModel:
    return als(params).fit(ratings_frame)


def short_float(value: float) -> float:
    """A float32 factor as the shortest decimal that reads back to the same float32 (smaller JSON)."""
    return float(np.format_float_positional(np.float32(value), unique=True, trim="0"))


def item_matrix(item_factors: Iterable[Any]) -> list[dict[str, Any]]:
    """`item_matrix.json`: `[{"id": item id, "features": [rank floats]}, ...]` sorted by id."""
    rows = sorted(item_factors, key=lambda row: int(row["id"]))
    return [{"id": int(row["id"]), "features": [short_float(v) for v in row["features"]]} for row in rows]


def addon_name(guid: str, record: Any) -> str:
    """The add-on's display name from a whitelist record (a string or `{locale: name}`), else its GUID."""
    name = record.get("name") if isinstance(record, dict) else None
    if isinstance(name, dict):
        name = name.get("en-US") or next((v for v in name.values() if isinstance(v, str) and v), None)
    return name if isinstance(name, str) and name else guid


def addon_mapping(
    matrix: Iterable[Mapping[str, Any]], items: Mapping[str, int], records: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """`addon_mapping.json`: `{str(item id): {"id": guid, "name": ..., "isWebextension": true}}` for
    every matrix row, as the service reads it (an entry counts only with `isWebextension: true`;
    every whitelisted add-on is a WebExtension, the AMO jobs keep no other)."""
    guid_of = {item: guid for guid, item in items.items()}
    records = records or {}
    mapping = {}
    for row in matrix:
        guid = guid_of[row["id"]]
        mapping[str(row["id"])] = {"id": guid, "name": addon_name(guid, records.get(guid)), "isWebextension": True}
    return mapping
