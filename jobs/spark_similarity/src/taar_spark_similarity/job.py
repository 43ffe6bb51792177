"""TAAR similarity run: clients_daily + whitelist -> donors and LR curves -> checked, published."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, Observation, SparkSession
from taar_common.dates import days_between
from taar_common.publish import publish_all
from taar_common.spark import SparkRun, local_spark_config, read_clients_daily, run_spark_job
from taar_common.storage import Storage
from taar_common.summary import RunSummary
from taar_common.whitelist import read_whitelist

from taar_spark_similarity import transform

log = logging.getLogger(__name__)

LOCAL_SPARK_CONFIG = local_spark_config(driver_memory="512m", shuffle_partitions=8)


class NoDonorsError(ValueError):
    """No client qualifies as a donor; nothing is published."""


@dataclass(frozen=True, kw_only=True)
class SimilarityRun(SparkRun):
    """A --from-date..--date run: the CLI's settings beyond every Spark run's."""

    from_date: dt.date
    num_clusters: int
    num_donors: int
    kernel_bandwidth: float
    num_pdf_points: int
    cluster_sample_size: int
    seed: int

    @property
    def days(self) -> list[dt.date]:
        return days_between(self.from_date, self.run_date)


def extract(spark: SparkSession, storage: Storage, run: SimilarityRun) -> tuple[DataFrame, list[str]]:
    """The partitions of the date range that exist (checked columns) and the whitelist GUIDs."""
    whitelist = read_whitelist(storage, run.whitelist_url)
    frame = read_clients_daily(spark, storage, run.input_url, run.days, transform.INPUT_COLUMNS, required=())
    return frame, whitelist


def candidate_clients(frame: DataFrame, whitelist: list[str], run: SimilarityRun, summary: RunSummary) -> DataFrame:
    """The candidates (`transform.candidate_clients`), held in memory; the input counts go to `summary`.

    One pass: the counts are observed on the latest rows while the candidates are cached.
    Fails with `NoDonorsError` when there is none. The caller unpersists the result.
    """
    observation = Observation("clients")
    latest = transform.latest_client_rows(frame, whitelist).observe(observation, *transform.client_count_columns())
    candidates = transform.candidate_clients(latest, run.seed).cache()
    candidates.count()
    for name, value in observation.get.items():
        summary.count(name, int(value))
    if summary.counts["candidate_clients"] == 0:
        candidates.unpersist()
        raise NoDonorsError(
            f"no release Firefox client in {run.from_date}..{run.run_date} has more than "
            f"{transform.MIN_ADDONS_EXCLUSIVE} valid whitelisted add-ons and a city, locale and os"
        )
    return candidates


def build_donors(
    candidates: DataFrame, run: SimilarityRun, summary: RunSummary
) -> tuple[list[dict[str, Any]], list[int]]:
    """Cluster the candidates, then draw the donors cluster by cluster (seeded)."""
    fraction = min(1.0, run.cluster_sample_size / summary.counts["candidate_clients"])
    model = transform.fit_clusters(candidates, run.num_clusters, run.seed, fraction)
    clustered = transform.assign_clusters(model, candidates)
    sizes, rows = transform.select_donors(transform.cluster_heads(clustered, run.num_donors).collect(), run.num_donors)
    summary.count("clusters", len(sizes))
    summary.details["cluster_sizes"] = [sizes[c] for c in sorted(sizes)]
    return transform.donor_records(rows)


def run(spark: SparkSession, storage: Storage, run: SimilarityRun, summary: RunSummary) -> None:
    """Extract -> transform -> check and publish both artifacts (nothing is written if a check fails)."""
    summary.details.update(
        run.input_details(),
        seed=run.seed,
    )
    with summary.timed("extract"):
        frame, whitelist = extract(spark, storage, run)
        summary.count("whitelist_guids", len(whitelist))
    with summary.timed("clients"):
        candidates = candidate_clients(frame, whitelist, run, summary)
    try:
        with summary.timed("donors"):
            donors, clusters = build_donors(candidates, run, summary)
            summary.count("donors", len(donors))
    finally:
        candidates.unpersist()
    with summary.timed("lr_curves"):
        same, other = transform.cluster_pair_distances(donors, clusters, seed=run.seed)
        summary.count("same_cluster_pairs", len(same))
        summary.count("other_cluster_pairs", len(other))
        curves = transform.lr_curves(
            same, other, bandwidth=run.kernel_bandwidth, num_points=run.num_pdf_points, seed=run.seed
        )
    with summary.timed("publish"):  # both checked before either is written, under the job's lease
        payloads = {"donors.json": donors, "lr_curves.json": curves}
        checks = {"lr_curves.json": {"num_pdf_points": run.num_pdf_points}}
        publish_all(storage, run.target.on(run.run_date), payloads, summary, checks)


def main(run_args: SimilarityRun, summary: RunSummary, master: str | None) -> None:
    """What the CLI runs: `run` in the job's Spark session."""
    run_spark_job("taar-spark-similarity", master, LOCAL_SPARK_CONFIG, run, run_args, summary)
