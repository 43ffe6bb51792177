"""TAAR lite run: read one day of clients_daily and the whitelist, count, check, publish."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from taar_common.publish import publish_all
from taar_common.spark import (
    SparkRun,
    local_spark_config,
    observe_input,
    read_clients_daily,
    run_spark_job,
)
from taar_common.storage import Storage
from taar_common.summary import RunSummary
from taar_common.whitelist import read_whitelist

from taar_spark_lite import transform

log = logging.getLogger(__name__)

COLUMNS = ("client_id", "channel", "app_name", "active_addons")
LOCAL_SPARK_CONFIG = local_spark_config(driver_memory="512m", shuffle_partitions=16)


@dataclass(frozen=True, kw_only=True)
class LiteRun(SparkRun):
    """One day's run: the CLI's settings beyond every Spark run's."""

    sample_fraction: float
    seed: int


def extract(spark: SparkSession, storage: Storage, run: LiteRun) -> tuple[DataFrame, list[str]]:
    """The `--date` partition (checked columns) and the whitelist GUIDs; fails naming what is missing."""
    whitelist = read_whitelist(storage, run.whitelist_url)
    frame = read_clients_daily(spark, storage, run.input_url, [run.run_date], COLUMNS)
    return frame, whitelist


def compute(frame: DataFrame, whitelist: list[str], *, sample_fraction: float, seed: int) -> tuple[dict, dict]:
    """(`guid_coinstallation`, `guid_install_ranking`) payloads for the day's rows."""
    clients = transform.sample_clients(transform.release_clients(frame), sample_fraction, seed)
    counts = transform.addon_counts(transform.client_addons(clients, whitelist))
    # The rows reach the driver a partition at a time (a collect would hold them all in its JVM,
    # and the pairs grow with the clients until every whitelisted pair is seen). The count fills
    # the cache and is the action that completes the input observation (see `observe_input`).
    by_guid = transform.counts_by_guid(counts).persist()
    by_guid.count()
    try:
        return transform.artifact_dicts(by_guid.toLocalIterator())
    finally:
        by_guid.unpersist()


def run(spark: SparkSession, storage: Storage, run: LiteRun, summary: RunSummary) -> None:
    """Extract -> transform -> check and publish both artifacts (nothing is written if a check fails)."""
    for key, value in transform.SQL_CONFIG.items():
        spark.conf.set(key, value)
    with summary.timed("extract"):
        frame, whitelist = extract(spark, storage, run)
        summary.count("whitelist_guids", len(whitelist))
        summary.details.update(run.input_details())
    # The input counts ride on the transform's one pass over the day: a pass of their own would
    # double the job's reading.
    release = F.col("channel").eqNullSafe("release") & F.col("app_name").eqNullSafe("Firefox")
    frame, observation = observe_input(
        frame, F.count_if(release & F.col("client_id").isNotNull()).alias("release_rows")
    )
    with summary.timed("transform"):
        coinstallation, ranking = compute(frame, whitelist, sample_fraction=run.sample_fraction, seed=run.seed)
        for name, value in observation.get.items():
            summary.count(name, int(value))
        summary.count("coinstallation_guids", len(coinstallation))
        summary.count("coinstallation_pairs", sum(len(v) for v in coinstallation.values()) // 2)
        summary.count("ranked_guids", len(ranking))
    with summary.timed("publish"):
        payloads = {"guid_coinstallation.json": coinstallation, "guid_install_ranking.json": ranking}
        publish_all(storage, run.target.on(run.run_date), payloads, summary)


def main(run_args: LiteRun, summary: RunSummary, master: str | None) -> None:
    """What the CLI runs: `run` in the job's Spark session."""
    run_spark_job("taar-spark-lite", master, LOCAL_SPARK_CONFIG, run, run_args, summary)
