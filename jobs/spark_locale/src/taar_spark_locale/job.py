"""TAAR locale run: read the window of clients_daily and the whitelist, count, add noise, check, publish."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from taar_common.publish import OutputTarget, publish_all
from taar_common.spark import (
    InputError,
    existing_partitions,
    input_read_errors,
    partition_url,
    read_clients_daily,
    spark_session,
)
from taar_common.storage import Storage
from taar_common.summary import RunSummary
from taar_common.whitelist import read_whitelist

from taar_spark_locale import transform

log = logging.getLogger(__name__)

COLUMNS = ("client_id", "channel", "app_name", "locale", "active_addons")
LOCAL_SPARK_CONFIG = {"spark.driver.memory": "512m", "spark.sql.shuffle.partitions": "16"}


@dataclass(frozen=True)
class LocaleRun:
    """Everything one run needs, as resolved by the CLI."""

    run_date: dt.date
    input_url: str
    whitelist_url: str
    num_days: int
    num_addons: int
    epsilon: float
    max_addons_per_client: int
    seed: int
    target: OutputTarget

    @property
    def days(self) -> list[dt.date]:
        """The `--num-days` days ending with `--date`, oldest first."""
        return [self.run_date - dt.timedelta(days=k) for k in reversed(range(self.num_days))]


def extract(spark: SparkSession, storage: Storage, run: LocaleRun) -> tuple[DataFrame, list[str]]:
    """The window's partitions (the `--date` one required, older gaps tolerated) and the whitelist."""
    whitelist = read_whitelist(storage, run.whitelist_url)
    if not existing_partitions(storage, run.input_url, [run.run_date]):
        raise InputError(f"clients_daily partition missing: {partition_url(run.input_url, run.run_date)}")
    frame = read_clients_daily(spark, storage, run.input_url, run.days, COLUMNS, require_all=False)
    return frame, whitelist


def input_count_columns() -> list[Column]:
    """Rows read and rows dropped for a null client id (observed during the transform's own pass)."""
    return [
        F.count(F.lit(1)).alias("rows"),
        F.count_if(F.col("client_id").isNull()).alias("null_client_id_rows"),
    ]


def compute(frame: DataFrame, whitelist: list[str], run: LocaleRun) -> tuple[transform.LocaleCounts, dict]:
    """(per-locale counts, `top10_dict` payload)."""
    clients = transform.latest_client_rows(frame)
    contributions = transform.limited_contributions(clients, whitelist, run.max_addons_per_client, run.seed)
    counts = transform.counts_dict(transform.locale_addon_counts(contributions).collect())
    top = transform.noisy_top_addons(
        counts,
        whitelist,
        epsilon=run.epsilon,
        max_addons_per_client=run.max_addons_per_client,
        num_addons=run.num_addons,
        seed=run.seed,
    )
    return counts, top


def run(spark: SparkSession, storage: Storage, run: LocaleRun, summary: RunSummary) -> None:
    """Extract -> transform -> check and publish `top10_dict.json` (nothing is written if a check fails)."""
    with summary.timed("extract"):
        frame, whitelist = extract(spark, storage, run)
        summary.count("whitelist_guids", len(whitelist))
        summary.details.update(
            input=run.input_url,
            days=[run.days[0].isoformat(), run.run_date.isoformat()],
            whitelist=run.whitelist_url,
            epsilon=run.epsilon,
            max_addons_per_client=run.max_addons_per_client,
        )
    observation = Observation("input")
    with summary.timed("transform"):
        counts, top = compute(frame.observe(observation, *input_count_columns()), whitelist, run)
        for name, value in observation.get.items():
            summary.count(name, int(value))
        summary.count("locales", len(top))
        summary.count("contributions", sum(sum(c.values()) for c in counts.values()))
    with summary.timed("publish"):  # checked and shrink-guarded, then written under the job's lease
        publish_all(
            storage,
            run.target.on(run.run_date),
            {"top10_dict.json": top},
            summary,
            job="spark_locale",
            policy=run.target.policy,
            check_params={"top10_dict.json": {"num_addons": run.num_addons}},
        )


def main(run_args: LocaleRun, summary: RunSummary, master: str | None) -> None:
    """What the CLI runs: a session (local defaults unless spark-submit made one), then `run`."""
    spark = spark_session("taar-spark-locale", master, local_config=LOCAL_SPARK_CONFIG)
    with input_read_errors():  # a file that cannot be read is named with its cause, not a JVM stack
        run(spark, Storage(), run_args, summary)
