"""Our jobs publish into fake-gcs-server and cbtemulator at the deployment config's locations;
the TAAR service (mozilla-taar3, unchanged) then reads them with its own loaders and fetcher.

The pipeline runs once per session on small generated data (each job as its console script
from its own `.venv/<job>`, as in production one pod per job); the service's settings come
from the config's `consumer` entries, so a wrong bucket, key or compression fails here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from taar_testing.pipeline import (
    Step,
    daily_steps,
    job_console,
    profile_command,
    run_dag,
    start_amo_server,
    telemetry_command,
)

ROOT = Path(__file__).resolve().parents[3]
CONFIG_PATH = ROOT / "deploy" / "airflow" / "taar_deployment.json"
# Small enough for ~2 minutes of Spark on 2 cores, large enough that every recommender has data.
CLIENTS = 3000
DAYS = 3
AMO_ADDONS = 400
SEED = 7
# Test clients appended to clients_last_seen: the same profile with a null city, a null os.
NULL_FIELD_CLIENTS = {"city": "contract-null-city-client", "os": "contract-null-os-client"}


@dataclass
class Pipeline:
    """What the session's pipeline run left behind for the tests."""

    config: dict[str, Any]
    day: dt.date
    telemetry: Path
    service_env: dict[str, str]
    seconds: dict[str, float]
    null_field_keys: dict[str, str]
    jobs: set[str]


def console(venv: str, script: str) -> str:
    path = job_console(venv, script)
    if not Path(path).exists():
        pytest.fail(f"{path} is missing: run `make envs` (the suite runs each job from its own venv)", pytrace=False)
    return path


def hashed(client_id: str) -> str:
    """The profile row key: the SQL's TO_HEX(SHA256(client_id))."""
    return hashlib.sha256(client_id.encode()).hexdigest()


def artifact(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in config["artifacts"] if a["name"] == name)


def artifact_url(entry: dict[str, Any]) -> str:
    """Where the job's publish lands: bucket/prefix/name, `.bz2` when compressed."""
    suffix = ".bz2" if entry["compress"] == "bz2" else ""
    return f"{entry['bucket'].rstrip('/')}/{entry['prefix'].strip('/')}/{entry['name']}{suffix}"


def publish_options(config: dict[str, Any], job: str) -> list[str]:
    """--bucket/--prefix/--compress of one job, from the config (one location per job)."""
    entries = [a for a in config["artifacts"] if a["job"] == job]
    locations = {(a["bucket"], a["prefix"], a["compress"]) for a in entries}
    assert len(locations) == 1, f"{job}: one publish location per job expected, config has {locations}"
    bucket, prefix, compress = locations.pop()
    return ["--bucket", bucket, "--prefix", prefix, "--compress", compress or "none"]


def consumer_env(config: dict[str, Any]) -> dict[str, str]:
    """The TAAR service's settings (taar/settings.py names) as the config maps them."""
    env: dict[str, str] = {}
    for entry in config["artifacts"]:
        consumer = entry["consumer"]
        if not consumer:
            continue
        bucket = entry["bucket"].removeprefix("gs://").rstrip("/")
        key = artifact_url(entry).removeprefix(entry["bucket"].rstrip("/") + "/")
        assert env.get(consumer["bucket_setting"], bucket) == bucket, f"{consumer['bucket_setting']}: two buckets"
        env[consumer["bucket_setting"]] = bucket
        env[consumer["key_setting"]] = key
    profiles = config["profiles"]
    env[profiles["consumer"]["project_setting"]] = profiles["bigtable_project"]
    env[profiles["consumer"]["instance_setting"]] = profiles["bigtable_instance"]
    env[profiles["consumer"]["table_setting"]] = profiles["bigtable_table"]
    return env


def run_steps(steps: list[Step], log_dir: Path, env: dict[str, str], parallel: int = 2) -> dict[str, float]:
    """Run steps once their `after` steps are done, at most `parallel` at once; any failure fails."""

    def run(step: Step) -> None:
        start = time.monotonic()
        log = log_dir / f"{step.name}.log"
        with open(log, "w") as stderr:
            result = subprocess.run(step.command, stdout=stderr, stderr=subprocess.STDOUT, cwd=log_dir, env=env)
        step.seconds = time.monotonic() - start
        print(f"contract pipeline: {step.name} exit {result.returncode} in {step.seconds:.1f}s", file=sys.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"{step.name} failed (exit {result.returncode}); log {log}:\n{log.read_text()[-3000:]}")

    run_dag(steps, run, parallel)
    return {s.name: s.seconds for s in steps}


def add_null_field_clients(clients_last_seen: Path, day: dt.date) -> None:
    """Copy one generated profile row twice, once with a null city, once with a null os.

    The generator never writes null city/os, while real clients_last_seen rows have them.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(clients_last_seen)
    usable = pc.and_(
        pc.equal(table["submission_date"], pa.scalar(day, pa.date32())),
        pc.greater(pc.list_value_length(table["active_addons"]), 2),
    )
    rows = table.filter(usable).slice(0, 1)
    assert rows.num_rows == 1, f"no generated clients_last_seen row of {day} with add-ons to copy"
    extra = []
    for column, client_id in NULL_FIELD_CLIENTS.items():
        row = rows.set_column(rows.schema.get_field_index("client_id"), "client_id", pa.array([client_id]))
        index = row.schema.get_field_index(column)
        field_ = row.schema.field(index)
        row = row.set_column(index, field_, pa.nulls(1, field_.type))
        extra.append(row)
    pq.write_table(pa.concat_tables(extra), clients_last_seen / f"contract-null-fields-{day:%Y%m%d}.parquet")


def pipeline_steps(config: dict[str, Any], day: dt.date, amo_url: str, telemetry: Path, work: Path) -> list[Step]:
    """The daily jobs reading and publishing where the config says; profiles into its Bigtable."""
    profiles = config["profiles"]
    bigtable = [
        "--gcp-project", profiles["bigtable_project"], "--bigtable-instance-id", profiles["bigtable_instance"],
        "--bigtable-table-id", profiles["bigtable_table"],
    ]  # fmt: skip
    profile = profile_command(
        day,
        clients_last_seen=str(telemetry / "clients_last_seen"),
        duckdb_path=str(work / "bigquery.duckdb"),
        avro_bucket=profiles["avro_bucket"],
        sample_rate=profiles["sample_rate"],
        sink_options=bigtable,
        console=console,
    )
    return daily_steps(
        day,
        amo_url=amo_url,
        clients_daily=str(telemetry / "clients_daily"),
        seed=SEED,
        num_days=DAYS,
        artifact_url=lambda name: artifact_url(artifact(config, name)),
        publish_options=lambda job: publish_options(config, job),
        profile=profile,
        console=console,
    )


def create_buckets(config: dict[str, Any]) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="taar-local", credentials=AnonymousCredentials())
    names = {a["bucket"] for a in config["artifacts"]} | {config["profiles"]["avro_bucket"]}
    for name in sorted(names):
        client.create_bucket(name.removeprefix("gs://").rstrip("/"))


@pytest.fixture(scope="session")
def deployment_config() -> dict[str, Any]:
    return json.loads(CONFIG_PATH.read_text())


@pytest.fixture(scope="session")
def pipeline(
    deployment_config: dict[str, Any], fake_gcs: Any, bigtable_emulator: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    """Run our jobs once into the emulators; give the service's settings for what they wrote."""
    work = tmp_path_factory.mktemp("pipeline")
    log_dir = work / "logs"
    log_dir.mkdir()
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    telemetry = work / "telemetry"
    started = time.monotonic()
    command = telemetry_command(
        telemetry, clients=CLIENTS, days=DAYS, end_date=day, seed=SEED, amo_addons=AMO_ADDONS, console=console
    )
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    add_null_field_clients(telemetry / "clients_last_seen", day)
    create_buckets(deployment_config)
    # Jobs see the emulators only through the environment the fixtures set.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    seconds = {"telemetry": time.monotonic() - started}
    try:
        server, amo_url = start_amo_server(log_dir / "amo-server.log", addons=AMO_ADDONS, seed=SEED, console=console)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        seconds |= run_steps(pipeline_steps(deployment_config, day, amo_url, telemetry, work), log_dir, env)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        server.terminate()
        server.wait(timeout=10)
    seconds["pipeline"] = time.monotonic() - started
    steps = set(seconds) - {"telemetry", "pipeline"}
    jobs = {"profile_bigtable" if name.startswith("profile_") else name for name in steps}
    print(f"contract pipeline: {json.dumps({k: round(v, 1) for k, v in seconds.items()})}", file=sys.stderr)
    service_env = consumer_env(deployment_config)
    yield Pipeline(
        config=deployment_config,
        day=day,
        telemetry=telemetry,
        service_env=service_env,
        seconds=seconds,
        null_field_keys={column: hashed(cid) for column, cid in NULL_FIELD_CLIENTS.items()},
        jobs=jobs,
    )


@pytest.fixture(scope="session")
def taar(pipeline: Pipeline) -> Iterator[Any]:
    """The service's modules, imported after its settings are in the environment.

    python-decouple reads each setting when `taar.settings` is imported, so the environment
    is set first and kept for the session.
    """
    saved = {k: os.environ.get(k) for k in [*pipeline.service_env, "NO_REDIS"]}
    os.environ.update(pipeline.service_env)
    os.environ["NO_REDIS"] = "true"  # the in-memory cache: same loaders, no Redis server
    import taar.context
    import taar.settings

    yield taar
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
