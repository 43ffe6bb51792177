"""TAAR collaborative run: clients_daily + whitelist -> ALS item factors -> checked, published."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from taar_common.publish import publish_all
from taar_common.spark import WindowRun, local_spark_config, read_clients_daily, run_spark_job
from taar_common.storage import Storage
from taar_common.summary import RunSummary
from taar_common.whitelist import whitelist_guids

from taar_spark_collaborative import transform

log = logging.getLogger(__name__)

LOCAL_SPARK_CONFIG = local_spark_config(
    driver_memory="1g",
    shuffle_partitions=8,
    # ALS without checkpointing grows its RDD lineage with every iteration; at 20 iterations the
    # default 1 MiB thread stacks overflow while (de)serialising tasks (StackOverflowError).
    extra={"spark.driver.extraJavaOptions": "-Xss16m"},
)
RATING_PARTITIONS = 8
"""Fixed, so the ratings reach ALS in the same partitions and order on any cluster."""


class NoRatingsError(ValueError):
    """No client has a valid whitelisted add-on; nothing is published."""


@dataclass(frozen=True, kw_only=True)
class CollaborativeRun(WindowRun):
    """One window's run: the ALS settings beyond every windowed Spark run's."""

    als: transform.AlsParams


def read_whitelist_records(storage: Storage, url: str) -> tuple[list[str], dict[str, Any]]:
    """(sorted GUIDs, `{guid: record}` when the whitelist carries records, else {})."""
    payload = storage.read_artifact(url)
    return whitelist_guids(payload, source=url), payload if isinstance(payload, dict) else {}


def extract(spark: SparkSession, storage: Storage, run: CollaborativeRun) -> tuple[DataFrame, list[str], dict]:
    """The window's partitions (the `--date` one required, older gaps tolerated) and the whitelist."""
    guids, records = read_whitelist_records(storage, run.whitelist_url)
    frame = read_clients_daily(
        spark, storage, run.input_url, run.days, transform.INPUT_COLUMNS, required=[run.run_date]
    )
    return frame, guids, records


def input_counts(frame: DataFrame) -> dict[str, int]:
    """Rows read and rows with a null client id: one pass over the `client_id` column only.

    Not an `Observation` on the training pass: with no rating at all, Spark skips parts of that
    plan and an observation there is never reported (its `get` would wait forever).
    """
    row = frame.agg(
        F.count(F.lit(1)).alias("rows"), F.count_if(F.col("client_id").isNull()).alias("null_client_id_rows")
    ).first()
    return {name: int(row[name]) for name in ("rows", "null_client_id_rows")}


def train(frame: DataFrame, items: dict[str, int], run: CollaborativeRun, summary: RunSummary) -> list[Any]:
    """Ratings (held in memory while ALS reads them) -> ALS -> the collected item factor rows."""
    for name, value in input_counts(frame).items():
        summary.count(name, value)
    ratings = transform.ratings(transform.latest_client_addons(frame), items, RATING_PARTITIONS).cache()
    try:
        stats = ratings.agg(F.count(F.lit(1)).alias("n"), F.count_distinct("user").alias("users")).first()
        summary.count("ratings", int(stats["n"]))
        summary.count("users", int(stats["users"]))
        if stats["n"] == 0:
            raise NoRatingsError(
                f"no release Firefox client in {run.days[0]}..{run.run_date} has a valid whitelisted add-on"
            )
        model = transform.fit(ratings, run.als)
        return model.itemFactors.collect()
    finally:
        ratings.unpersist()


def run(spark: SparkSession, storage: Storage, run: CollaborativeRun, summary: RunSummary) -> None:
    """Extract -> train -> check both artifacts and publish them (nothing is written if a check fails)."""
    params = run.als
    summary.details.update(run.input_details(), **asdict(params))
    with summary.timed("extract"):
        frame, guids, records = extract(spark, storage, run)
        items = transform.item_ids(guids)  # a collision fails here, before any Spark work
        summary.count("whitelist_guids", len(guids))
    with summary.timed("train"):
        factors = train(frame, items, run, summary)
    matrix = transform.item_matrix(factors)
    mapping = transform.addon_mapping(matrix, items, records)
    summary.count("items", len(matrix))
    with summary.timed("publish"):  # both checked before either is written, under the job's lease
        payloads = {"item_matrix.json": matrix, "addon_mapping.json": mapping}
        checks = {"item_matrix.json": {"rank": params.rank, "addon_mapping": mapping}}
        publish_all(storage, run.target.on(run.run_date), payloads, summary, checks)


def main(run_args: CollaborativeRun, summary: RunSummary, master: str | None) -> None:
    """What the CLI runs: `run` in the job's Spark session."""
    run_spark_job("taar-spark-collaborative", master, LOCAL_SPARK_CONFIG, run, run_args, summary)
