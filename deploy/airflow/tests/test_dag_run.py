"""taar_daily run by Airflow's own `dag.test()`: the DAG's wiring, rendering and run state are real.

Only the cloud work of each operator is replaced, by the same work done on this machine:
- a GKE pod runs its `cmds` with its rendered `arguments` from `.venv/<job>/bin/` (the console
  script the image carries);
- a Dataproc submit runs the job's console script with the submitted `args` (`<job>_main.py`
  calls the same click command);
- `gs://BUCKET/KEY` in any argument becomes `<data root>/BUCKET/KEY`; the GCS sensor looks there;
- local stand-ins the deployment cannot name: the fixture AMO server (`--amo-url`), DuckDB and the
  local profile store instead of BigQuery/Bigtable, `--num-days 3` for locale (3 generated days);
- cluster create/delete and the external sensor (another DAG) record that they ran.
The sample data day is a Sunday, so the weekly spark_ensemble runs too (on the models the run just
published); a Monday run checks that it is skipped while the cluster is still deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

LOGICAL_DATE = dt.datetime(2026, 11, 2, 4, 0, tzinfo=dt.UTC)
DATA_DAY = "20261101"
AMO_ADDONS = 600
SEED = 42


@pytest.fixture(scope="session")
def airflow_db():
    """A fresh metadata database (sqlite in the session's AIRFLOW_HOME) for dag.test()."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def operators():
    """The operator classes the DAG uses, restored after each test."""
    from airflow.providers.google.cloud.operators.dataproc import (
        DataprocCreateClusterOperator,
        DataprocDeleteClusterOperator,
        DataprocSubmitJobOperator,
    )
    from airflow.providers.google.cloud.operators.kubernetes_engine import GKEStartPodOperator
    from airflow.providers.google.cloud.sensors.gcs import GCSObjectsWithPrefixExistenceSensor
    from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

    classes = {
        "pod": GKEStartPodOperator,
        "create": DataprocCreateClusterOperator,
        "delete": DataprocDeleteClusterOperator,
        "submit": DataprocSubmitJobOperator,
        "gcs_sensor": GCSObjectsWithPrefixExistenceSensor,
        "external_sensor": ExternalTaskSensor,
    }
    saved = {cls: dict(vars(cls)) for cls in classes.values()}
    yield classes
    for cls, attributes in saved.items():
        for name in ("execute", "poke"):
            if name in attributes:
                setattr(cls, name, attributes[name])
            elif name in vars(cls):
                delattr(cls, name)


def run(dag, retries: int = 0, logical_date: dt.datetime = LOGICAL_DATE):
    """dag.test() for the sample date, without retries (a failure is final); returns {task: state}."""
    for task in dag.tasks:
        task.retries = retries
    dag_run = dag.test(logical_date=logical_date)
    return dag_run.state, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def test_failed_spark_job_fails_the_run_and_the_cluster_is_still_deleted(dag, airflow_db, operators):
    ran = []

    def done(self, context):
        ran.append(self.task_id)

    def submit(self, context):
        ran.append(self.task_id)
        if self.task_id == "taar_locale":
            raise RuntimeError("Dataproc job failed")

    for key in ("pod", "create", "delete"):
        operators[key].execute = done
    operators["submit"].execute = submit
    operators["gcs_sensor"].poke = lambda self, context: True
    operators["external_sensor"].poke = lambda self, context: True

    state, states = run(dag)
    assert states["taar_locale"] == "failed"
    assert states["delete_dataproc_cluster"] == "success" and "delete_dataproc_cluster" in ran
    assert states["taar_lite"] == states["taar_similarity"] == states["taar_collaborative"] == "success"
    assert states["taar_ensemble"] == "upstream_failed" and "taar_ensemble" not in ran
    assert state == "failed"


def test_ensemble_is_skipped_on_other_days_and_the_cluster_is_still_deleted(dag, airflow_db, operators):
    ran = []

    def done(self, context):
        ran.append(self.task_id)

    for key in ("pod", "create", "delete", "submit"):
        operators[key].execute = done
    operators["gcs_sensor"].poke = lambda self, context: True
    operators["external_sensor"].poke = lambda self, context: True

    state, states = run(dag, logical_date=LOGICAL_DATE + dt.timedelta(days=1))  # data day: a Monday
    assert states["is_ensemble_day"] == "success"
    assert states["taar_ensemble"] == "skipped" and "taar_ensemble" not in ran
    assert states["taar_collaborative"] == "success" and "taar_collaborative" in ran
    assert states["delete_dataproc_cluster"] == "success" and "delete_dataproc_cluster" in ran
    assert state == "success"


def localize(args: list[str], root: Path) -> list[str]:
    return [f"{root}/{a.removeprefix('gs://')}" if a.startswith("gs://") else a for a in args]


def replace_value(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(flag) + 1] = value
    return out


def last_summary(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """Generated telemetry at the clients_daily URL's local path, and the fixture AMO server."""
    root = tmp_path_factory.mktemp("gcs")
    telemetry = tmp_path_factory.mktemp("telemetry")
    fixtures = ROOT / ".venv" / "taar_fixtures" / "bin" / "taar-fixtures"
    if not fixtures.exists():
        pytest.fail(f"{fixtures} missing: run `make envs`")
    command = [str(fixtures), "telemetry", "--out", str(telemetry), "--clients", "3000", "--days", "3"]
    command += ["--end-date", DATA_DAY, "--seed", str(SEED), "--amo-addons", str(AMO_ADDONS)]
    subprocess.run([*command, "--amo-seed", str(SEED)], check=True, stdout=subprocess.DEVNULL, timeout=600)
    daily = root / "moz-fx-data-derived-datasets-parquet" / "clients_daily"
    daily.mkdir(parents=True)
    (daily / "v6").symlink_to(telemetry / "clients_daily")
    server = subprocess.Popen(
        [str(fixtures), "amo-server", "--addons", str(AMO_ADDONS), "--seed", str(SEED), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        assert line, "the fixture AMO server did not start"
        yield {"root": root, "telemetry": telemetry, "amo_url": json.loads(line)["url"]}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_dag_runs_the_whole_pipeline_locally(dag, dag_module, airflow_db, operators, world, tmp_path):
    from airflow.sdk.exceptions import AirflowException

    root, telemetry = world["root"], world["telemetry"]
    calls: dict[str, list[str]] = {}
    summaries: dict[str, dict] = {}

    def run_script(task_id: str, job: str, script: str, args: list[str]) -> None:
        binary = ROOT / ".venv" / job / "bin" / script
        calls[task_id] = args
        result = subprocess.run([str(binary), *args], capture_output=True, text=True, cwd=tmp_path, timeout=1800)
        if result.returncode != 0:
            raise AirflowException(f"{task_id}: {script} exited {result.returncode}:\n{result.stderr[-3000:]}")
        summaries[task_id] = last_summary(result.stdout)

    def pod(self, context):
        job = self.image.rsplit("/", 1)[1].split(":")[0].removeprefix("taar-").replace("-", "_")
        args = localize(list(self.arguments), root)
        if job in ("amodump", "update_whitelist"):
            args += ["--amo-url", world["amo_url"]]
        if job == "profile_bigtable":
            args = replace_value(replace_value(args, "--engine", "duckdb"), "--sink", "local")
            args += ["--source", str(telemetry / "clients_last_seen"), "--duckdb-path", str(tmp_path / "bq.duckdb")]
            args += ["--deletion-source", str(telemetry / "deletion_request")]
        run_script(self.task_id, job, self.cmds[0], args)

    def submit(self, context):
        spark = self.job["pyspark_job"]
        job = spark["main_python_file_uri"].rsplit("/", 1)[1].removesuffix("_main.py")
        args = localize(list(spark["args"]), root)
        if job == "spark_locale":
            args += ["--num-days", "3"]
        run_script(self.task_id, job, "taar-" + job.replace("_", "-"), args)

    def partition_exists(self, context):
        folder = root / self.bucket / self.prefix
        return folder.is_dir() and any(folder.iterdir())

    cluster = []
    operators["pod"].execute = pod
    operators["submit"].execute = submit
    operators["create"].execute = lambda self, context: cluster.append(("create", self.cluster_name))
    operators["delete"].execute = lambda self, context: cluster.append(("delete", self.cluster_name))
    operators["gcs_sensor"].poke = partition_exists
    operators["external_sensor"].poke = lambda self, context: True

    state, states = run(dag)
    assert {s for s in states.values()} == {"success"}, states
    assert state == "success"
    assert cluster == [("create", f"taar-daily-{DATA_DAY}"), ("delete", f"taar-daily-{DATA_DAY}")]
    assert len(calls) == 21
    for task_id, args in calls.items():
        date = args[args.index("--iso-date" if task_id.startswith("profile_") else "--date") + 1]
        assert date.replace("-", "") == DATA_DAY, (task_id, args)
    assert {"taar_collaborative", "taar_ensemble"} <= set(calls)
    for entry in dag_module.DEPLOYMENT["artifacts"]:
        if entry["job"] in dag_module.NOT_YET_SCHEDULED:
            continue
        folder = root / entry["bucket"].removeprefix("gs://") / entry["prefix"]
        stem, suffix = entry["name"].removesuffix(".json"), ".json" + (".bz2" if entry["compress"] else "")
        for name in (stem + suffix, stem + DATA_DAY + suffix):
            assert (folder / name).is_file(), f"{entry['job']} did not publish {folder / name}"
    loaded = [summaries[f"profile_gcs_to_bigtable_{i}"] for i in range(dag_module.PROFILES["shards"])]
    assert any(json.dumps(s.get("counts", {})) != "{}" for s in loaded), loaded
