"""taar_daily as real Airflow 3 sees it: parsed, wired, rendered, and every rendered argument list
accepted by the job's own click command (run in the job's venv, .venv/<job>, built by `make envs`).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
from collections import defaultdict

import pytest
from conftest import ROOT

# A scheduled run that starts on 2026-11-02 04:00 UTC processes 2026-11-01.
LOGICAL_DATE = dt.datetime(2026, 11, 2, 4, 0, tzinfo=dt.UTC)
DATA_DAY = dt.date(2026, 11, 1)
SHARDS = [f"profile_gcs_to_bigtable_{i}" for i in range(8)]
SPARK = ["taar_lite", "taar_locale", "taar_similarity", "taar_collaborative", "taar_ensemble"]
ENSEMBLE_INPUTS = ["taar_locale", "taar_similarity", "taar_collaborative"]
PROFILE_WIPES = ["profile_delete_opt_out", "profile_wipe_avro", "profile_wipe_bigquery_tmp_table"]

# Every task's downstream tasks: the whole graph, so an added, dropped or rewired edge fails.
EXPECTED_DOWNSTREAM = {
    "amodump": ["amowhitelist", "update_whitelist"],
    "amowhitelist": ["create_dataproc_cluster", "taar_lite"],
    "update_whitelist": ["create_dataproc_cluster", "taar_locale", "taar_similarity", "taar_collaborative"],
    "wait_for_clients_daily": ["create_dataproc_cluster"],
    "create_dataproc_cluster": ["delete_dataproc_cluster", *SPARK],
    "taar_lite": ["delete_dataproc_cluster"],
    **{task: ["delete_dataproc_cluster", "taar_ensemble"] for task in ENSEMBLE_INPUTS},
    "is_ensemble_day": ["taar_ensemble"],
    "taar_ensemble": ["delete_dataproc_cluster"],
    "delete_dataproc_cluster": [],
    "wait_for_clients_last_seen": ["profile_fill_bq"],
    "profile_fill_bq": ["profile_bq_to_gcs"],
    "profile_bq_to_gcs": SHARDS,
    **{task: PROFILE_WIPES for task in SHARDS},
    **{task: [] for task in PROFILE_WIPES},
}


def test_dagbag_imports_without_errors_or_warnings(dagbag):
    assert dagbag.import_errors == {}
    assert list(dagbag.dags) == ["taar_daily"]
    captured = getattr(dagbag, "captured_warnings", {})
    assert not captured, f"warnings while parsing: {captured}"


def test_task_graph(dag):
    actual = {task_id: sorted(task.downstream_task_ids) for task_id, task in dag.task_dict.items()}
    expected = {task_id: sorted(downstream) for task_id, downstream in EXPECTED_DOWNSTREAM.items()}
    assert actual == expected
    upstream = defaultdict(list)
    for task_id, downstream in expected.items():
        for other in downstream:
            upstream[other].append(task_id)
    assert {t: sorted(task.upstream_task_ids) for t, task in dag.task_dict.items()} == {
        t: sorted(upstream[t]) for t in expected
    }


def test_cluster_is_a_setup_teardown_pair(dag):
    create, delete = dag.task_dict["create_dataproc_cluster"], dag.task_dict["delete_dataproc_cluster"]
    assert create.is_setup and not create.is_teardown
    assert delete.is_teardown and not delete.is_setup
    # A teardown does not decide the run's state: a failed Spark job fails the run.
    assert delete.on_failure_fail_dagrun is False
    assert all(not dag.task_dict[t].is_teardown for t in SPARK)


def test_schedule_has_no_data_interval_so_the_data_day_is_the_day_before(dag):
    from airflow.sdk import CronTriggerTimetable
    from airflow.timetables.trigger import CronTriggerTimetable as Scheduled

    assert isinstance(dag.timetable, CronTriggerTimetable)
    # What the scheduler computes for a run at 04:00: no interval, so data_interval_start (and ds) is
    # the run's own day and cannot name the data day; the DAG takes ds - 1.
    interval = Scheduled("0 4 * * *", timezone="UTC").infer_manual_data_interval(run_after=LOGICAL_DATE)
    assert interval.start == interval.end == LOGICAL_DATE


def test_ensemble_runs_weekly_for_a_sunday_data_day(dag, dag_module):
    from airflow.providers.standard.operators.python import ShortCircuitOperator

    gate = dag.task_dict["is_ensemble_day"]
    assert isinstance(gate, ShortCircuitOperator) and gate.ignore_downstream_trigger_rules
    assert gate.op_kwargs == {"data_day": dag_module.DATE}
    week = [DATA_DAY + dt.timedelta(days=n) for n in range(7)]
    assert [d for d in week if gate.python_callable(d.isoformat())] == [DATA_DAY]  # 2026-11-01, a Sunday
    # A skipped ensemble never skips the cluster teardown (ShortCircuitOperator leaves teardowns alone).
    assert dag.task_dict["delete_dataproc_cluster"].is_teardown


def test_sensors_are_bounded_and_do_not_hold_a_worker(dag):
    from airflow.providers.google.cloud.sensors.gcs import GCSObjectsWithPrefixExistenceSensor
    from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

    gcs, external = dag.task_dict["wait_for_clients_daily"], dag.task_dict["wait_for_clients_last_seen"]
    assert isinstance(gcs, GCSObjectsWithPrefixExistenceSensor)
    assert isinstance(external, ExternalTaskSensor)
    for sensor in (gcs, external):
        assert sensor.mode == "reschedule" or sensor.deferrable, f"{sensor.task_id} pokes from a worker slot"
        assert 0 < sensor.timeout <= 12 * 3600, f"{sensor.task_id}: timeout {sensor.timeout}"
    assert set(external.failed_states) >= {"failed", "upstream_failed"}
    # It waits for the upstream run of the same data day: bqetl_main_summary (02:00, Airflow 2
    # data intervals) has logical date DATA_DAY 02:00 for it.
    assert LOGICAL_DATE - external.execution_delta == dt.datetime.combine(DATA_DAY, dt.time(2), dt.UTC)


def test_dataproc_submits_are_cancelled_when_killed(dag):
    # Deferrable: the worker submits and the triggerer waits; on kill the Dataproc job is cancelled.
    for task_id in SPARK:
        task = dag.task_dict[task_id]
        assert task.deferrable and task.cancel_on_kill, task_id
        assert task.execution_timeout is not None, task_id


@pytest.fixture(scope="session")
def rendered(dag):
    """Every task with every templated field rendered for LOGICAL_DATE (on copies)."""
    from airflow.sdk import macros

    context = {
        "ds": LOGICAL_DATE.strftime("%Y-%m-%d"),
        "ds_nodash": LOGICAL_DATE.strftime("%Y%m%d"),
        "logical_date": LOGICAL_DATE,
        "macros": macros,
        "dag": dag,
        "params": {},
    }
    env = dag.get_template_env()
    tasks = {}
    for task_id, task in dag.task_dict.items():
        copied = copy.deepcopy(task)
        copied.render_template_fields(context, jinja_env=env)
        tasks[task_id] = copied
    return tasks


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list | tuple | set):
        return [s for v in value for s in strings_in(v)]
    return []


def test_every_templated_field_renders(rendered):
    leftovers = [
        f"{task_id}.{field}: {text}"
        for task_id, task in rendered.items()
        for field in task.template_fields
        for text in strings_in(getattr(task, field))
        if "{{" in text or "{%" in text
    ]
    assert not leftovers, leftovers
    assert rendered["wait_for_clients_daily"].prefix == f"clients_daily/v6/submission_date_s3={DATA_DAY:%Y%m%d}/"
    assert rendered["create_dataproc_cluster"].cluster_name == f"taar-daily-{DATA_DAY:%Y%m%d}"


def job_invocations(rendered) -> dict[str, list[tuple[str, list[str]]]]:
    """{job: [(task_id, rendered argument list), ...]} for every task that runs a job."""
    from airflow.providers.google.cloud.operators.dataproc import DataprocSubmitJobOperator
    from airflow.providers.google.cloud.operators.kubernetes_engine import GKEStartPodOperator

    found = defaultdict(list)
    for task_id, task in rendered.items():
        if isinstance(task, GKEStartPodOperator):
            job = task.image.rsplit("/", 1)[1].split(":")[0].removeprefix("taar-").replace("-", "_")
            assert task.cmds == ["taar-" + job.replace("_", "-")], f"{task_id} runs {task.cmds} in {task.image}"
            found[job].append((task_id, list(task.arguments)))
        elif isinstance(task, DataprocSubmitJobOperator):
            main = task.job["pyspark_job"]["main_python_file_uri"].rsplit("/", 1)[1]
            found[main.removesuffix("_main.py")].append((task_id, list(task.job["pyspark_job"]["args"])))
    return found


# Parses each argument list with the job's own click command, in the job's venv; prints the params.
PARSE = """
import json, sys
from taar_{job}.cli import main
out = {{}}
for task_id, args in json.loads(sys.argv[1]):
    ctx = main.make_context(main.name, list(args))
    out[task_id] = {{k: v if isinstance(v, (int, float, bool, type(None))) else str(v) for k, v in ctx.params.items()}}
print(json.dumps(out))
"""


def parse_with_click(job: str, invocations: list[tuple[str, list[str]]]) -> dict[str, dict]:
    python = ROOT / ".venv" / job / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} missing: run `make envs` (tools/ensure-venv jobs/{job})")
    result = subprocess.run(
        [str(python), "-c", PARSE.format(job=job), json.dumps(invocations)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"taar_{job}'s click command rejects the DAG's arguments:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def parsed(rendered) -> dict[str, dict]:
    """{task_id: click params} for every job task."""
    params = {}
    for job, invocations in sorted(job_invocations(rendered).items()):
        params |= parse_with_click(job, invocations)
    return params


def test_click_parse_can_fail():
    with pytest.raises(AssertionError, match="No such option"):
        parse_with_click("amodump", [("t", ["--date", "2026-11-01", "--no-such-option"])])


def test_every_job_task_is_accepted_by_its_click_command(rendered, parsed):
    tasks = {task_id for invocations in job_invocations(rendered).values() for task_id, _ in invocations}
    assert tasks == set(parsed)
    assert len(parsed) == 3 + 5 + 13  # AMO pods, Spark submits, profile stages


def test_every_job_processes_the_data_day(parsed):
    for task_id, params in parsed.items():
        assert params.get("run_date", params.get("day")) == DATA_DAY.isoformat(), (task_id, params)


def test_publishing_tasks_write_where_the_deployment_config_says(rendered, parsed, dag_module):
    by_job = {job: [t for t, _ in inv] for job, inv in job_invocations(rendered).items()}
    artifacts = dag_module.DEPLOYMENT["artifacts"]
    for job in sorted({a["job"] for a in artifacts} - dag_module.NOT_YET_SCHEDULED):
        (entry, *_) = [a for a in artifacts if a["job"] == job]
        assert by_job.get(job), f"no task runs {job}, which the deployment config lists"
        for task_id in by_job[job]:
            params = parsed[task_id]
            assert params["bucket"] == entry["bucket"], (task_id, params)
            assert params["prefix"] == entry["prefix"], (task_id, params)
            assert params["compress"] == (entry["compress"] or "none"), (task_id, params)


def test_spark_arguments_carry_bucket(rendered):
    for task_id in SPARK:
        args = rendered[task_id].job["pyspark_job"]["args"]
        assert "--bucket" in args and args[args.index("--bucket") + 1].startswith("gs://"), (task_id, args)


def published_url(dag_module, name: str) -> str:
    (entry,) = [a for a in dag_module.DEPLOYMENT["artifacts"] if a["name"] == name]
    suffix = ".bz2" if entry["compress"] == "bz2" else ""
    return f"{entry['bucket']}/{entry['prefix']}{name}{suffix}"


def test_spark_jobs_read_the_whitelists_where_they_are_published(parsed, dag_module):
    reads = {"taar_lite": "whitelist_addons_database.json", "taar_locale": "only_guids_top_200.json"}
    reads |= {task: "only_guids_top_200.json" for task in ("taar_similarity", "taar_collaborative", "taar_ensemble")}
    for task_id, name in reads.items():
        assert parsed[task_id]["whitelist_url"] == published_url(dag_module, name), task_id


def test_ensemble_reads_the_models_where_their_jobs_publish_them(parsed, dag_module):
    models = {
        "locale_url": "top10_dict.json",
        "donors_url": "donors.json",
        "lr_curves_url": "lr_curves.json",
        "item_matrix_url": "item_matrix.json",
        "addon_mapping_url": "addon_mapping.json",
    }
    for option, name in models.items():
        assert parsed["taar_ensemble"][option] == published_url(dag_module, name), option


def test_profiles_load_every_client_into_the_service_table(parsed, dag_module):
    profiles = dag_module.DEPLOYMENT["profiles"]
    stages = {t: p for t, p in parsed.items() if t.startswith("profile_")}
    assert len(stages) == 13
    for task_id, params in stages.items():
        assert params["sample_rate"] == 1.0 == profiles["sample_rate"], (task_id, params)
        assert params["bigtable_table_id"] == profiles["bigtable_table"], (task_id, params)
        assert params["gcp_project"] == profiles["bigtable_project"], "one project serves BigQuery and Bigtable"


def test_every_config_job_is_scheduled_or_declared_pending(rendered, dag_module):
    scheduled = set(job_invocations(rendered))
    listed = {a["job"] for a in dag_module.DEPLOYMENT["artifacts"]}
    assert listed - dag_module.NOT_YET_SCHEDULED <= scheduled
    assert not scheduled & dag_module.NOT_YET_SCHEDULED
