"""The one definition of a valid add-on for recommendation, as Spark expressions (no per-row Python).

Valid: type `extension`, not system, not user/app disabled, not foreign-installed, not
blocklisted (a null flag counts as false), not the Pioneer add-on, in the job's whitelist;
each add-on counts once per client, and rows without a client id are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from taar_common.whitelist import PIONEER_GUID

ADDON_FLAGS_FALSE = ("is_system", "user_disabled", "app_disabled", "foreign_install", "blocklisted")
"""The entry flags a valid add-on must not have set."""


def release_firefox(frame: DataFrame) -> DataFrame:
    """Rows of release-channel Firefox only (null channel or app name is neither)."""
    return frame.where((F.col("channel") == "release") & (F.col("app_name") == "Firefox"))


def addon_entries(column: str = "active_addons", *, require_signed: bool = False) -> Column:
    """`column`'s entries cut down to the fields `valid_addon_ids` reads.

    Built from one array per field, so Parquet decodes only those fields: Spark's nested
    schema pruning stops at lambdas, and a lambda over the whole entry reads all of it.
    """
    fields = ["addon_id", "type", *ADDON_FLAGS_FALSE, *(["signed_state"] if require_signed else [])]
    return F.arrays_zip(*[F.col(f"{column}.{name}") for name in fields])


def is_valid_addon(addon: Column, *, require_signed: bool = False) -> Column:
    """True for a valid entry (one of `addon_entries`), never null.

    Valid: type `extension`, not system, user/app disabled, foreign-installed or
    blocklisted (a null flag counts as false), not the Pioneer add-on, a non-null id;
    with `require_signed` also `signed_state = 2`.
    """
    condition = (addon["type"] == "extension") & addon["addon_id"].isNotNull()
    condition = condition & (addon["addon_id"] != PIONEER_GUID)
    for flag in ADDON_FLAGS_FALSE:
        condition = condition & ~F.coalesce(addon[flag], F.lit(False))
    if require_signed:
        condition = condition & (F.coalesce(addon["signed_state"], F.lit(0)) == 2)
    return F.coalesce(condition, F.lit(False))


def valid_addon_ids(addons: str | Column = "active_addons", *, require_signed: bool = False) -> Column:
    """Sorted distinct ids of a client's valid add-ons (`is_valid_addon`, before the whitelist).

    A null array gives an empty one. `addons` is a column name (read through `addon_entries`)
    or an array of entries already built from `addon_entries`.
    """
    source = addon_entries(addons, require_signed=require_signed) if isinstance(addons, str) else addons
    entries = F.coalesce(source, F.array())

    def is_valid(addon: Column) -> Column:
        return is_valid_addon(addon, require_signed=require_signed)

    return F.array_sort(F.array_distinct(F.transform(F.filter(entries, is_valid), lambda a: a["addon_id"])))


def explode_whitelisted(
    frame: DataFrame, ids_column: str, whitelist: Iterable[str], *, keep: Iterable[str] = ("client_id",)
) -> DataFrame:
    """One row per (kept columns, addon_id) for the ids that are in the whitelist.

    A broadcast join rather than a per-row array lookup: the whitelist can hold thousands.
    """
    spark = frame.sparkSession
    allowed = spark.createDataFrame([(guid,) for guid in sorted(set(whitelist))], "addon_id string")
    exploded = frame.select(*keep, F.explode(ids_column).alias("addon_id"))
    return exploded.join(F.broadcast(allowed), "addon_id").select(*keep, "addon_id")


def drop_null_client_ids(frame: DataFrame) -> DataFrame:
    """Rows with a client id (the dropped ones are counted by the caller when it needs to)."""
    return frame.where(F.col("client_id").isNotNull())
