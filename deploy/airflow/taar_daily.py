"""taar_daily: the TAAR ETL on Airflow 3 (Cloud Composer), one task per job stage.

- AMO: amodump -> (amowhitelist, update_whitelist), each a GKE pod of the job's image.
- Spark: spark_lite, spark_locale, spark_similarity, spark_collaborative (and, weekly, spark_ensemble)
  on an ephemeral Dataproc cluster (created as a
  setup task, deleted as its teardown: a failed Spark job fails the run, and the cluster is deleted
  anyway), submitted from the bundles `make dataproc-bundle JOB=<job>` builds (build/dataproc/<job>.zip
  + <job>_main.py, uploaded to DATAPROC_ARTIFACTS/<job>/<version>/); they start once that day's
  clients_daily partition exists (a GCS sensor) and the AMO artifacts they read are published.
- spark_ensemble is weekly, as the original deployment's `taar_weekly` DAG was (mozilla/telemetry-airflow
  dags/taar_weekly.py, `schedule_interval="@weekly"`: its `ds` was a Sunday). Here it is a task of the
  daily run gated by a ShortCircuit on the data day being a Sunday (`ENSEMBLE_WEEKDAY`): it needs that
  day's locale, similarity and collaborative models and the same cluster, so a second DAG would
  duplicate the sensor, the cluster and the waits on the daily DAG. On other days it is skipped (a
  ShortCircuit never skips the cluster teardown).
- profile_bigtable: fill-bq -> bq-to-gcs -> gcs-to-bigtable (one pod per shard, --shard i/N) ->
  (wipe-bigquery-tmp-table, wipe-avro); delete-opt-out after the load, so a deleted client's row
  cannot come back with the same day's load.

Every artifact location (bucket, prefix, compression) comes from `taar_deployment.json` next to
this file: the same file a test holds against the TAAR service's settings (`TAAR_*_BUCKET` /
`TAAR_*_KEY`), so what the jobs publish is what the recommender reads.

Which day a run processes: the run started on day D (04:00 UTC) processes day D-1, the last
complete day of telemetry, as the original Airflow 2 deployment did (its `ds` was the start of the
daily data interval, the day before the run). `DATA_DAY` below is the only place that says so.

Images are taar-<job>:<version> with the versions below: the DAG deploys what was tested; bump a
version here with the job's pyproject (the DAG suite checks they agree).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlsplit

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.google.cloud.operators.dataproc import (
    DataprocCreateClusterOperator,
    DataprocDeleteClusterOperator,
    DataprocSubmitJobOperator,
)
from airflow.providers.google.cloud.operators.kubernetes_engine import GKEStartPodOperator
from airflow.providers.google.cloud.sensors.gcs import GCSObjectsWithPrefixExistenceSensor
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
from airflow.sdk import DAG, CronTriggerTimetable

DEPLOYMENT_FILE = Path(__file__).with_name("taar_deployment.json")
DEPLOYMENT = json.loads(DEPLOYMENT_FILE.read_text())

# Jobs listed in the deployment config that have no task yet (their job folders are not written);
# the DAG suite fails once such a folder exists and the job is still not scheduled. Every job is
# scheduled today; the literal stays for the next job (the repo test reads it).
NOT_YET_SCHEDULED = frozenset(())

IMAGE_VERSIONS = {
    "amodump": "0.1.0",
    "amowhitelist": "0.1.0",
    "update_whitelist": "0.1.0",
    "profile_bigtable": "0.1.0",
    "spark_lite": "0.1.0",
    "spark_locale": "0.1.0",
    "spark_similarity": "0.1.0",
    "spark_collaborative": "0.1.0",
    "spark_ensemble": "0.1.0",
}
IMAGE_REGISTRY = "us-docker.pkg.dev/moz-fx-data-airflow-prod-88e0/taar-etl"
GKE = {"project_id": "moz-fx-data-airflow-gke-prod", "location": "us-west1", "cluster_name": "workloads-prod-v1"}
DATAPROC = DEPLOYMENT["dataproc"]
PROFILES = DEPLOYMENT["profiles"]
CLIENTS_DAILY = DEPLOYMENT["inputs"]["clients_daily"]

# The data day, stated once. The schedule is a CronTriggerTimetable, so `ds` is the day the run
# starts (no data interval); the day to process is the one before it.
RUN_HOUR_UTC = 4
DATA_DAY_OFFSET = dt.timedelta(days=1)
DATA_DAY = f"macros.ds_add(ds, -{DATA_DAY_OFFSET.days})"
DATE = "{{ " + DATA_DAY + " }}"  # YYYY-MM-DD (every job's --date accepts it)
DATE_NODASH = "{{ " + DATA_DAY + " | replace('-', '') }}"  # YYYYMMDD (partition names)
DATAPROC_CLUSTER = f"taar-daily-{DATE_NODASH}"

CLIENTS_LAST_SEEN_HOUR_UTC = 2  # bqetl_main_summary's schedule

ENSEMBLE_WEEKDAY = 6  # Sunday (date.weekday()): the data day of the original weekly ensemble run

SENSOR_TIMEOUT = dt.timedelta(hours=8)  # give up well before the next day's run starts
SENSOR_POKE = dt.timedelta(minutes=10)


def publish_location(job: str) -> dict:
    """The one bucket/prefix/compression every artifact of `job` is published with."""
    entries = [a for a in DEPLOYMENT["artifacts"] if a["job"] == job]
    places = {(a["bucket"], a["prefix"], a["compress"]) for a in entries}
    if len(places) != 1:
        raise ValueError(f"{DEPLOYMENT_FILE.name}: {job} needs exactly one bucket/prefix/compress, got {places}")
    bucket, prefix, compress = places.pop()
    return {"bucket": bucket, "prefix": prefix, "compress": compress}


def publish_args(job: str) -> list[str]:
    """`--bucket URL --prefix P --compress bz2|none` for a job that publishes."""
    place = publish_location(job)
    return ["--bucket", place["bucket"], "--prefix", place["prefix"], "--compress", place["compress"] or "none"]


def artifact_url(name: str) -> str:
    """The latest copy's URL of the artifact `name` (`.json.bz2` when published compressed)."""
    (entry,) = [a for a in DEPLOYMENT["artifacts"] if a["name"] == name]
    suffix = ".bz2" if entry["compress"] == "bz2" else ""
    return f"{entry['bucket'].rstrip('/')}/{entry['prefix']}{name}{suffix}"


def is_ensemble_day(data_day: str) -> bool:
    """True when `data_day` (YYYY-MM-DD) is the weekday the ensemble weights are retrained for."""
    return dt.date.fromisoformat(data_day).weekday() == ENSEMBLE_WEEKDAY


def image(job: str) -> str:
    return f"{IMAGE_REGISTRY}/taar-{job.replace('_', '-')}:{IMAGE_VERSIONS[job]}"


def pod_task(task_id: str, job: str, script: str, arguments: list[str], **kwargs: object) -> KubernetesPodOperator:
    """One GKE pod running `script` (the job's console script) in the job's image."""
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
    """The job's Dataproc bundle on the day's cluster; `<job>_main.py` takes the job's CLI options.

    Deferrable: the worker submits and hands the wait to the triggerer, so a killed task does not
    sit in a blocking poll loop; `cancel_on_kill` cancels the Dataproc job when the task is killed.
    """
    bundle = f"{DATAPROC['artifacts']}/{job}/{IMAGE_VERSIONS[job]}"
    return DataprocSubmitJobOperator(
        task_id=task_id,
        project_id=DATAPROC["project_id"],
        region=DATAPROC["region"],
        job={
            "placement": {"cluster_name": DATAPROC_CLUSTER},
            "pyspark_job": {
                "main_python_file_uri": f"{bundle}/{job}_main.py",
                "python_file_uris": [f"{bundle}/{job}.zip"],
                "args": arguments,
            },
        },
        deferrable=True,
        cancel_on_kill=True,
        execution_timeout=dt.timedelta(hours=4),
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
        PROFILES["gcp_project"],
        "--bigquery-dataset-id",
        PROFILES["bigquery_dataset"],
        "--bigquery-table-id",
        PROFILES["bigquery_table"],
        "--avro-gcs-bucket",
        PROFILES["avro_bucket"],
        "--bigtable-instance-id",
        PROFILES["bigtable_instance"],
        "--bigtable-table-id",
        PROFILES["bigtable_table"],
        "--sample-rate",
        str(PROFILES["sample_rate"]),
    ]
    return pod_task(task_id, job="profile_bigtable", script="taar-profile-bigtable", arguments=common + stage)


default_args = {
    "owner": "taar-etl",
    "depends_on_past": False,
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=30),
}

with DAG(
    "taar_daily",
    default_args=default_args,
    start_date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    schedule=CronTriggerTimetable(f"0 {RUN_HOUR_UTC} * * *", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["taar"],
) as dag:
    amo_date = ["--date", DATE]
    amodump = pod_task("amodump", "amodump", "taar-amodump", [*amo_date, *publish_args("amodump")])
    amowhitelist = pod_task(
        "amowhitelist", "amowhitelist", "taar-amowhitelist", [*amo_date, *publish_args("amowhitelist")]
    )
    update_whitelist = pod_task(
        "update_whitelist",
        "update_whitelist",
        "taar-update-whitelist",
        [*amo_date, *publish_args("update_whitelist"), "--validate-guids"],
    )

    clients_daily = urlsplit(CLIENTS_DAILY)
    wait_for_clients_daily = GCSObjectsWithPrefixExistenceSensor(
        task_id="wait_for_clients_daily",
        bucket=clients_daily.netloc,
        prefix=f"{clients_daily.path.strip('/')}/submission_date_s3={DATE_NODASH}/",
        mode="reschedule",
        poke_interval=SENSOR_POKE.total_seconds(),
        timeout=SENSOR_TIMEOUT.total_seconds(),
        retries=0,
    )
    create_cluster = DataprocCreateClusterOperator(
        task_id="create_dataproc_cluster",
        project_id=DATAPROC["project_id"],
        region=DATAPROC["region"],
        cluster_name=DATAPROC_CLUSTER,
        cluster_config={
            "master_config": {"num_instances": 1, "machine_type_uri": DATAPROC["master_machine_type"]},
            "worker_config": {
                "num_instances": DATAPROC["num_workers"],
                "machine_type_uri": DATAPROC["worker_machine_type"],
            },
            "software_config": {
                "image_version": DATAPROC["image_version"],
                "properties": {"dataproc:pip.packages": ",".join(DATAPROC["pip_packages"])},
            },
            "lifecycle_config": {"idle_delete_ttl": {"seconds": DATAPROC["idle_delete_ttl_seconds"]}},
        },
    ).as_setup()
    spark = ["--date", DATE, "--input", CLIENTS_DAILY]
    taar_lite = spark_task(
        "taar_lite",
        "spark_lite",
        [*spark, *publish_args("spark_lite"), "--whitelist-url", artifact_url("whitelist_addons_database.json")],
    )
    taar_locale = spark_task(
        "taar_locale",
        "spark_locale",
        [*spark, *publish_args("spark_locale"), "--whitelist-url", artifact_url("only_guids_top_200.json")],
    )
    taar_similarity = spark_task(
        "taar_similarity",
        "spark_similarity",
        [*spark, *publish_args("spark_similarity"), "--whitelist-url", artifact_url("only_guids_top_200.json")],
    )
    taar_collaborative = spark_task(
        "taar_collaborative",
        "spark_collaborative",
        [*spark, *publish_args("spark_collaborative"), "--whitelist-url", artifact_url("only_guids_top_200.json")],
    )
    ensemble_day = ShortCircuitOperator(
        task_id="is_ensemble_day",
        python_callable=is_ensemble_day,
        op_kwargs={"data_day": DATE},
        retries=0,
    )
    taar_ensemble = spark_task(
        "taar_ensemble",
        "spark_ensemble",
        [
            *spark,
            *publish_args("spark_ensemble"),
            "--whitelist-url",
            artifact_url("only_guids_top_200.json"),
            "--locale-url",
            artifact_url("top10_dict.json"),
            "--donors-url",
            artifact_url("donors.json"),
            "--lr-curves-url",
            artifact_url("lr_curves.json"),
            "--item-matrix-url",
            artifact_url("item_matrix.json"),
            "--addon-mapping-url",
            artifact_url("addon_mapping.json"),
        ],
    )
    delete_cluster = DataprocDeleteClusterOperator(
        task_id="delete_dataproc_cluster",
        project_id=DATAPROC["project_id"],
        region=DATAPROC["region"],
        cluster_name=DATAPROC_CLUSTER,
    ).as_teardown(setups=create_cluster)

    # clients_last_seen lives in BigQuery (no storage partition to poll): wait for the task writing
    # it. bqetl_main_summary runs at 02:00 with Airflow 2 data intervals, so its run for the data
    # day has logical date DATA_DAY 02:00: the data-day offset plus the two hours between the
    # schedules before this run's logical date.
    wait_for_clients_last_seen = ExternalTaskSensor(
        task_id="wait_for_clients_last_seen",
        external_dag_id="bqetl_main_summary",
        external_task_id="telemetry_derived__clients_last_seen__v1",
        execution_delta=DATA_DAY_OFFSET + dt.timedelta(hours=RUN_HOUR_UTC - CLIENTS_LAST_SEEN_HOUR_UTC),
        allowed_states=["success"],
        failed_states=["failed", "upstream_failed", "skipped"],
        mode="reschedule",
        poke_interval=SENSOR_POKE.total_seconds(),
        timeout=SENSOR_TIMEOUT.total_seconds(),
        retries=0,
    )
    fill_bq = profile_stage("profile_fill_bq", ["--fill-bq"])
    bq_to_gcs = profile_stage("profile_bq_to_gcs", ["--bq-to-gcs"])
    shards = PROFILES["shards"]
    gcs_to_bigtable = [
        profile_stage(f"profile_gcs_to_bigtable_{i}", ["--gcs-to-bigtable", "--shard", f"{i}/{shards}"])
        for i in range(shards)
    ]
    wipe_bigquery_tmp_table = profile_stage("profile_wipe_bigquery_tmp_table", ["--wipe-bigquery-tmp-table"])
    wipe_avro = profile_stage("profile_wipe_avro", ["--wipe-avro"])
    delete_opt_out = profile_stage(
        "profile_delete_opt_out", ["--delete-opt-out", "--delete-days", str(PROFILES["delete_days"])]
    )

    amodump >> [amowhitelist, update_whitelist]
    [wait_for_clients_daily, amowhitelist, update_whitelist] >> create_cluster
    spark_jobs = [taar_lite, taar_locale, taar_similarity, taar_collaborative, taar_ensemble]
    create_cluster >> spark_jobs >> delete_cluster
    amowhitelist >> taar_lite
    update_whitelist >> [taar_locale, taar_similarity, taar_collaborative]
    # Weekly: the weights are fitted on the models this run has just published.
    ensemble_day >> taar_ensemble
    [taar_locale, taar_similarity, taar_collaborative] >> taar_ensemble

    wait_for_clients_last_seen >> fill_bq >> bq_to_gcs >> gcs_to_bigtable
    gcs_to_bigtable >> wipe_bigquery_tmp_table
    gcs_to_bigtable >> wipe_avro
    gcs_to_bigtable >> delete_opt_out
