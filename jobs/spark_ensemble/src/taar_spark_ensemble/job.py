"""TAAR ensemble run: clients_daily + the published models -> held-out scores -> weights -> checked, published."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from taar_common.artifacts import check_artifact
from taar_common.publish import publish_all
from taar_common.spark import WindowRun, local_spark_config, read_clients_daily, run_spark_job
from taar_common.storage import Storage
from taar_common.summary import RunSummary
from taar_common.whitelist import read_whitelist

from taar_spark_ensemble import scoring, transform

log = logging.getLogger(__name__)

ARTIFACT = "ensemble_weight.json"
LOCAL_SPARK_CONFIG = local_spark_config(driver_memory="768m", shuffle_partitions=8)


class NoTrainingClientsError(ValueError):
    """No client qualifies for training; nothing is published."""


@dataclass(frozen=True)
class ModelUrls:
    """Where the constituent recommenders' artifacts are read from."""

    locale: str
    donors: str
    lr_curves: str
    item_matrix: str
    addon_mapping: str


@dataclass(frozen=True, kw_only=True)
class EnsembleRun(WindowRun):
    """One window's run: the models read and the training settings beyond every windowed Spark run's."""

    models: ModelUrls
    min_addons: int
    sample_fraction: float
    test_fraction: float
    negatives: int
    reg_param: float
    elastic_net_param: float
    max_iter: int
    partitions: int
    seed: int

    @property
    def client_sample(self) -> transform.ClientSample:
        """The clients this run learns from (`transform.latest_clients`)."""
        return transform.ClientSample(self.min_addons, self.sample_fraction, self.test_fraction, self.seed)


def read_model_artifact(storage: Storage, name: str, url: str, **params: Any) -> Any:
    """One input artifact, checked with the rules its publisher obeys (the error names the URL)."""
    payload = storage.read_artifact(url)
    try:
        check_artifact(name, payload, **params)
    except ValueError as exc:
        raise ValueError(f"{url}: {exc}") from exc
    return payload


def load_models(storage: Storage, urls: ModelUrls, whitelist: list[str]) -> scoring.Models:
    """The five model artifacts as `scoring.Models`; a missing or malformed one fails naming its URL."""
    mapping = read_model_artifact(storage, "addon_mapping", urls.addon_mapping)
    return scoring.build_models(
        read_model_artifact(storage, "top10_dict", urls.locale),
        read_model_artifact(storage, "donors", urls.donors),
        read_model_artifact(storage, "lr_curves", urls.lr_curves),
        read_model_artifact(storage, "item_matrix", urls.item_matrix, addon_mapping=mapping),
        mapping,
        extra_guids=whitelist,
    )


def score_clients(spark: SparkSession, clients: DataFrame, models: scoring.Models, run: EnsembleRun) -> DataFrame:
    """`transform.SCORED_SCHEMA` rows; partitions are fixed by the client key and sorted, so every
    numpy batch (and so every float) is the same from run to run."""
    shared = spark.sparkContext.broadcast(models)
    seed, negatives = run.seed, run.negatives
    ordered = clients.repartition(run.partitions, "key").sortWithinPartitions("key")
    scored = ordered.rdd.mapPartitions(
        lambda rows: transform.scored_rows(shared.value, rows, seed=seed, negatives=negatives)
    )
    return spark.createDataFrame(scored, transform.SCORED_SCHEMA)


def run(spark: SparkSession, storage: Storage, run: EnsembleRun, summary: RunSummary) -> None:
    """Extract -> score -> fit -> check and publish `ensemble_weight.json` (nothing written if a check fails)."""
    summary.details.update(
        run.input_details(),
        models=vars(run.models),
        seed=run.seed,
    )
    with summary.timed("extract"):
        whitelist = read_whitelist(storage, run.whitelist_url)
        summary.count("whitelist_guids", len(whitelist))
        models = load_models(storage, run.models, whitelist)
        summary.count("model_guids", len(models.guids))
        frame = read_clients_daily(spark, storage, run.input_url, run.days, transform.INPUT_COLUMNS, required=())
    with summary.timed("score"):
        clients = transform.latest_clients(frame, whitelist, run.client_sample)
        scored = score_clients(spark, clients, models, run).cache()
        counts = scored.agg(
            F.count_if((F.col("label") == 1.0) & ~F.col("is_test")).alias("train_clients"),
            F.count_if((F.col("label") == 1.0) & F.col("is_test")).alias("test_clients"),
            F.count_if(~F.col("is_test")).alias("training_rows"),
            F.count_if((F.col("label") == 1.0) & F.col("listed")).alias("held_out_listed"),
        ).first()
        for name in ("train_clients", "test_clients", "training_rows", "held_out_listed"):
            summary.count(name, int(counts[name]))
    try:
        if counts["train_clients"] == 0:
            raise NoTrainingClientsError(
                f"no sampled release Firefox client in {run.days[0]}..{run.run_date} has {run.min_addons} or more "
                "valid whitelisted add-ons (outside the test share); nothing to train on"
            )
        with summary.timed("fit"):
            coefficients, intercept = transform.fit_coefficients(
                scored.where(~F.col("is_test")),
                reg_param=run.reg_param,
                elastic_net_param=run.elastic_net_param,
                max_iter=run.max_iter,
            )
            weights, rule = transform.ensemble_weights(coefficients)
            summary.details.update(
                coefficients=dict(zip(scoring.RECOMMENDERS, coefficients, strict=True)),
                intercept=intercept,
                weights=weights,
                weights_rule=rule,
            )
            if rule != "logistic_regression":
                log.warning("no positive coefficient (%s): weights fall back to the '%s' rule", coefficients, rule)
        with summary.timed("evaluate"):
            summary.details["hit_rate_at_10"] = transform.hit_rates(scored.where(F.col("is_test")), weights)
    finally:
        scored.unpersist()
    with summary.timed("publish"):
        publish_all(storage, run.target.on(run.run_date), {ARTIFACT: {"ensemble_weights": weights}}, summary)


def main(run_args: EnsembleRun, summary: RunSummary, master: str | None) -> None:
    """What the CLI runs: `run` in the job's Spark session."""
    # The scoring runs in Python workers. PySpark starts them with $PYSPARK_PYTHON (default `python3`,
    # which may lack the job): locally that must be this interpreter. Under spark-submit the context
    # exists already and the cluster's setting stands.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    run_spark_job("taar-spark-ensemble", master, LOCAL_SPARK_CONFIG, run, run_args, summary)
