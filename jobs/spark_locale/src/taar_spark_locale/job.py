"""TAAR locale run: read the window of clients_daily and the whitelist, count, add noise, check, publish."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from taar_common.publish import publish_all
from taar_common.spark import WindowRun, local_spark_config, observe_input, read_clients_daily, run_spark_job
from taar_common.storage import Storage
from taar_common.summary import RunSummary
from taar_common.whitelist import read_whitelist

from taar_spark_locale import transform

log = logging.getLogger(__name__)

COLUMNS = ("client_id", "channel", "app_name", "locale", "active_addons")
LOCAL_SPARK_CONFIG = local_spark_config(driver_memory="512m", shuffle_partitions=16)


@dataclass(frozen=True, kw_only=True)
class LocaleRun(WindowRun):
    """One window's run: the CLI's settings beyond every windowed Spark run's."""

    num_addons: int
    epsilon: float
    max_addons_per_client: int
    seed: int


def extract(spark: SparkSession, storage: Storage, run: LocaleRun) -> tuple[DataFrame, list[str]]:
    """The window's partitions (the `--date` one required, older gaps tolerated) and the whitelist."""
    whitelist = read_whitelist(storage, run.whitelist_url)
    frame = read_clients_daily(spark, storage, run.input_url, run.days, COLUMNS, required=[run.run_date])
    return frame, whitelist


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
            run.input_details(),
            epsilon=run.epsilon,
            max_addons_per_client=run.max_addons_per_client,
        )
    frame, observation = observe_input(frame)  # counted during the transform's own pass
    with summary.timed("transform"):
        counts, top = compute(frame, whitelist, run)
        for name, value in observation.get.items():
            summary.count(name, int(value))
        summary.count("locales", len(top))
        summary.count("contributions", sum(sum(c.values()) for c in counts.values()))
    with summary.timed("publish"):  # checked and shrink-guarded, then written under the job's lease
        payloads = {"top10_dict.json": top}
        checks = {"top10_dict.json": {"num_addons": run.num_addons}}
        publish_all(storage, run.target.on(run.run_date), payloads, summary, checks)


def main(run_args: LocaleRun, summary: RunSummary, master: str | None) -> None:
    """What the CLI runs: `run` in the job's Spark session."""
    run_spark_job("taar-spark-locale", master, LOCAL_SPARK_CONFIG, run, run_args, summary)
