"""taar_daily: the TAAR ETL on Airflow (Cloud Composer), one task per job stage.

- AMO: amodump -> (amowhitelist, update_whitelist), each a GKE pod of the job's image.
- Spark: spark_lite, spark_locale, spark_similarity on an ephemeral Dataproc cluster, submitted
  from the bundles `make dataproc-bundle JOB=<job>` builds (build/dataproc/<job>.zip + <job>_main.py,
  uploaded to gs://DATAPROC_ARTIFACTS/<job>/<version>/); each waits for that day's clients_daily
  partition (`taar-wait-for`) and for the AMO artifact it reads.
- profile_bigtable: fill-bq -> bq-to-gcs -> gcs-to-bigtable (SHARDS pods, --shard i/N) ->
  (wipe-bigquery-tmp-table, wipe-avro); delete-opt-out after the load, so a deleted client's row
  cannot come back with the same day's load.

Images are taar-<job>:<version> with the versions below: the DAG deploys what was tested; bump
a version here with the job's pyproject (tests/test_airflow_dag.py checks they agree, and that
every image, console script and flag used here exists).
Choices: the AMO artifacts stay plain JSON (the Spark jobs read them); the Spark artifacts, read
only by the recommender service, are published as .json.bz2. The profile sample rate is the
job's default (the original deployment's).
"""

from __future__ import annotations

import datetime as dt

from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.google.cloud.operators.dataproc import (
    DataprocCreateClusterOperator,
    DataprocDeleteClusterOperator,
    DataprocSubmitJobOperator,
)
from airflow.providers.google.cloud.operators.kubernetes_engine import GKEStartPodOperator
from airflow.sensors.external_task import ExternalTaskSensor
from airflow.utils.trigger_rule import TriggerRule

# Deployment settings (the original deployment's projects; registry and GKE cluster per environment).
IMAGE_VERSIONS = {
    "amodump": "0.1.0",
    "amowhitelist": "0.1.0",
    "update_whitelist": "0.1.0",
    "profile_bigtable": "0.1.0",
    "spark_lite": "0.1.0",
    "spark_locale": "0.1.0",
    "spark_similarity": "0.1.0",
}
IMAGE_REGISTRY = "us-docker.pkg.dev/moz-fx-data-airflow-prod-88e0/taar-etl"
GCP_PROJECT = "moz-fx-data-taar-pr-prod-e0f7"
GKE = {"project_id": "moz-fx-data-airflow-gke-prod", "location": "us-west1", "cluster_name": "workloads-prod-v1"}
DATAPROC_REGION = "us-west1"
DATAPROC_CLUSTER = "taar-daily-{{ ds_nodash }}"
DATAPROC_ARTIFACTS = "gs://moz-fx-data-prod-dataproc-scratch/taar-etl"
# Dataproc 3.0 runs Spark 4, which the pinned pyspark (4.x) of the Spark jobs needs.
DATAPROC_IMAGE_VERSION = "3.0-debian12"
# What the bundles need from the cluster (`make dataproc-bundle` writes each job's list; a test keeps this the union).
DATAPROC_PIP_PACKAGES = [
    "boto3==1.44.8",
    "click==8.5.1",
    "google-cloud-storage==3.17.1",
    "jsonschema==4.26.0",
    "numpy==2.4.6",
    "requests==2.34.2",
    "urllib3==2.8.0",
]

DATE = "{{ ds_nodash }}"
AMO_BUCKET = "telemetry-parquet"
AMO_PREFIX = "telemetry-ml/addon_recommender/"
AMO_ARTIFACTS = f"gs://{AMO_BUCKET}/{AMO_PREFIX}"
CLIENTS_DAILY = "gs://moz-fx-data-derived-datasets-parquet/clients_daily/v6"
PROFILE = {
    "bigquery_dataset": "taar_tmp",
    "bigquery_table": "taar_tmp_profile",
    "avro_bucket": "moz-fx-data-taar-pr-prod-e0f7-prod-etl",
    "bigtable_instance": "taar-prod-202006",
    "bigtable_table": "taar_profile",
}
SHARDS = 8


def image(job: str) -> str:
    return f"{IMAGE_REGISTRY}/taar-{job.replace('_', '-')}:{IMAGE_VERSIONS[job]}"


def pod_task(task_id: str, job: str, script: str, arguments: list[str], **kwargs: object) -> KubernetesPodOperator:
    """One GKE pod running `script` (the job's console script, or taar-wait-for) in the job's image."""
    return GKEStartPodOperator(
        task_id=task_id,
        name=task_id.replace("_", "-"),
        image=image(job),
        cmds=[script],
        arguments=arguments,
        namespace="default",
        service_account_name="taar-etl",
        security_context={"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
        get_logs=True,
        on_finish_action="delete_pod",
        **GKE,
        **kwargs,
    )


def spark_task(task_id: str, job: str, arguments: list[str]) -> DataprocSubmitJobOperator:
    """The job's Dataproc bundle on the day's cluster; `<job>_main.py` takes the job's CLI options."""
    bundle = f"{DATAPROC_ARTIFACTS}/{job}/{IMAGE_VERSIONS[job]}"
    return DataprocSubmitJobOperator(
        task_id=task_id,
        project_id=GCP_PROJECT,
        region=DATAPROC_REGION,
        job={
            "placement": {"cluster_name": DATAPROC_CLUSTER},
            "pyspark_job": {
                "main_python_file_uri": f"{bundle}/{job}_main.py",
                "python_file_uris": [f"{bundle}/{job}.zip"],
                "args": arguments,
            },
        },
    )


def wait_for(task_id: str, url: str) -> KubernetesPodOperator:
    """taar-wait-for in a pod: done when the partition (or its _SUCCESS marker) exists."""
    return pod_task(
        task_id,
        job="spark_lite",
        script="taar-wait-for",
        arguments=[url, "--timeout", "36000", "--poke-interval", "300"],
        retries=0,
    )


def profile_stage(task_id: str, stage: list[str]) -> KubernetesPodOperator:
    common = [
        "--iso-date",
        DATE,
        "--engine",
        "bigquery",
        "--sink",
        "bigtable",
        "--gcp-project",
        GCP_PROJECT,
        "--bigquery-dataset-id",
        PROFILE["bigquery_dataset"],
        "--bigquery-table-id",
        PROFILE["bigquery_table"],
        "--avro-gcs-bucket",
        PROFILE["avro_bucket"],
        "--bigtable-instance-id",
        PROFILE["bigtable_instance"],
        "--bigtable-table-id",
        PROFILE["bigtable_table"],
    ]
    return pod_task(task_id, job="profile_bigtable", script="taar-profile-bigtable", arguments=common + stage)


default_args = {
    "owner": "taar-etl",
    "depends_on_past": False,
    "email_on_failure": True,
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=30),
}

with DAG(
    "taar_daily",
    default_args=default_args,
    start_date=dt.datetime(2026, 11, 1),
    schedule="0 4 * * *",
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["taar"],
) as dag:
    amo = ["--date", DATE, "--gcs-bucket", AMO_BUCKET, "--prefix", AMO_PREFIX]
    amodump = pod_task("amodump", job="amodump", script="taar-amodump", arguments=amo)
    amowhitelist = pod_task("amowhitelist", job="amowhitelist", script="taar-amowhitelist", arguments=amo)
    update_whitelist = pod_task(
        "update_whitelist",
        job="update_whitelist",
        script="taar-update-whitelist",
        arguments=[*amo, "--validate-guids"],
    )

    wait_for_clients_daily = wait_for("wait_for_clients_daily", f"{CLIENTS_DAILY}/submission_date_s3={DATE}")
    create_cluster = DataprocCreateClusterOperator(
        task_id="create_dataproc_cluster",
        project_id=GCP_PROJECT,
        region=DATAPROC_REGION,
        cluster_name=DATAPROC_CLUSTER,
        cluster_config={
            "master_config": {"num_instances": 1, "machine_type_uri": "n2-standard-8"},
            "worker_config": {"num_instances": 5, "machine_type_uri": "n2-highmem-8"},
            "software_config": {
                "image_version": DATAPROC_IMAGE_VERSION,
                "properties": {"dataproc:pip.packages": ",".join(DATAPROC_PIP_PACKAGES)},
            },
            "lifecycle_config": {"idle_delete_ttl": {"seconds": 3600}},
        },
    )
    spark = ["--date", DATE, "--input", CLIENTS_DAILY, "--compress", "bz2"]
    taar_lite = spark_task(
        "taar_lite",
        job="spark_lite",
        arguments=[*spark, "--whitelist-url", f"{AMO_ARTIFACTS}whitelist_addons_database.json"],
    )
    taar_locale = spark_task(
        "taar_locale",
        job="spark_locale",
        arguments=[*spark, "--whitelist-url", f"{AMO_ARTIFACTS}only_guids_top_200.json"],
    )
    taar_similarity = spark_task(
        "taar_similarity",
        job="spark_similarity",
        arguments=[*spark, "--whitelist-url", f"{AMO_ARTIFACTS}only_guids_top_200.json"],
    )
    delete_cluster = DataprocDeleteClusterOperator(
        task_id="delete_dataproc_cluster",
        project_id=GCP_PROJECT,
        region=DATAPROC_REGION,
        cluster_name=DATAPROC_CLUSTER,
        trigger_rule=TriggerRule.ALL_DONE,
    )

    # clients_last_seen lives in BigQuery (no storage partition to poll): wait for the task writing it.
    wait_for_clients_last_seen = ExternalTaskSensor(
        task_id="wait_for_clients_last_seen",
        external_dag_id="bqetl_main_summary",
        external_task_id="telemetry_derived__clients_last_seen__v1",
        execution_delta=dt.timedelta(hours=2),
        mode="reschedule",
        timeout=36000,
    )
    fill_bq = profile_stage("profile_fill_bq", ["--fill-bq"])
    bq_to_gcs = profile_stage("profile_bq_to_gcs", ["--bq-to-gcs"])
    gcs_to_bigtable = [
        profile_stage(f"profile_gcs_to_bigtable_{i}", ["--gcs-to-bigtable", "--shard", f"{i}/{SHARDS}"])
        for i in range(SHARDS)
    ]
    wipe_bigquery_tmp_table = profile_stage("profile_wipe_bigquery_tmp_table", ["--wipe-bigquery-tmp-table"])
    wipe_avro = profile_stage("profile_wipe_avro", ["--wipe-avro"])
    delete_opt_out = profile_stage("profile_delete_opt_out", ["--delete-opt-out", "--delete-days", "28"])

    amodump >> [amowhitelist, update_whitelist]
    [wait_for_clients_daily, amowhitelist, update_whitelist] >> create_cluster
    create_cluster >> [taar_lite, taar_locale, taar_similarity]
    amowhitelist >> taar_lite
    update_whitelist >> taar_locale
    update_whitelist >> taar_similarity
    [taar_lite, taar_locale, taar_similarity] >> delete_cluster

    wait_for_clients_last_seen >> fill_bq >> bq_to_gcs >> gcs_to_bigtable
    gcs_to_bigtable >> wipe_bigquery_tmp_table
    gcs_to_bigtable >> wipe_avro
    gcs_to_bigtable >> delete_opt_out
