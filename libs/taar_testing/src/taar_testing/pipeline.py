"""The daily TAAR pipeline as local processes: each job's console script from its own venv, as a DAG.

`make demo` (tools/demo.py) and the TAAR service contract suite both run it on the fixture AMO
server and generated telemetry. They differ in where the jobs publish (the embedded defaults,
or the deployment config's locations) and in how they report a step, so both are arguments.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taar_testing.services import repo_root

Console = Callable[[str, str], str]
"""(venv name, console script) -> the script's path."""

ENSEMBLE_MODELS = {  # spark_ensemble's option -> the artifact it reads
    "--locale-url": "top10_dict.json",
    "--donors-url": "donors.json",
    "--lr-curves-url": "lr_curves.json",
    "--item-matrix-url": "item_matrix.json",
    "--addon-mapping-url": "addon_mapping.json",
}


@dataclass
class Step:
    """One process of the pipeline; it starts once every step named in `after` has finished."""

    name: str
    command: list[str]
    after: list[str] = field(default_factory=list)
    seconds: float = 0.0
    summary: dict[str, Any] | None = None  # the job's JSON summary line, for a runner that keeps it


def job_console(venv: str, script: str) -> str:
    """`<repo>/.venv/<venv>/bin/<script>`: the console script in its package's own venv."""
    return str(repo_root() / ".venv" / venv / "bin" / script)


def run_dag(steps: Sequence[Step], run_step: Callable[[Step], object], parallel: int) -> None:
    """Call `run_step` on each step once its `after` steps are done, at most `parallel` at once.

    The first step that raises stops the scheduling; its error propagates once the running steps end.
    """
    pending = {s.name: s for s in steps}
    for step in steps:
        # A step waiting for a name no step has would never start: refuse the plan instead of hanging.
        unknown = [dep for dep in step.after if dep not in pending]
        if unknown:
            raise ValueError(f"step {step.name} runs after {unknown}, which are not steps of this run")
    done: set[str] = set()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        running: dict[Future, str] = {}
        while pending or running:
            for name, step in list(pending.items()):
                if len(running) < parallel and all(dep in done for dep in step.after):
                    running[pool.submit(run_step, step)] = name
                    del pending[name]
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                future.result()
                done.add(running.pop(future))


def start_amo_server(
    log: Path, *, addons: int, seed: int, console: Console = job_console
) -> tuple[subprocess.Popen[str], str]:
    """Start `taar-fixtures amo-server` on a free port; return the process and its URL.

    Raises RuntimeError naming `log` (its stderr) when the server exits before printing its URL.
    """
    command = [console("taar_fixtures", "taar-fixtures"), "amo-server", "--addons", str(addons)]
    command += ["--seed", str(seed), "--port", "0"]
    with open(log, "w") as stderr:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    line = server.stdout.readline() if server.stdout else ""
    if not line:
        server.kill()
        server.wait()
        raise RuntimeError(f"fixture AMO server did not start; see {log}")
    return server, json.loads(line)["url"]


def telemetry_command(
    out: Path, *, clients: int, days: int, end_date: dt.date, seed: int, amo_addons: int, console: Console = job_console
) -> list[str]:
    """`taar-fixtures telemetry` into `out`, its clients installing the add-ons of
    `start_amo_server(addons=amo_addons, seed=seed)`."""
    return [
        console("taar_fixtures", "taar-fixtures"), "telemetry", "--out", str(out), "--clients", str(clients),
        "--days", str(days), "--end-date", f"{end_date:%Y%m%d}", "--seed", str(seed),
        "--amo-addons", str(amo_addons), "--amo-seed", str(seed),
    ]  # fmt: skip


def profile_command(
    day: dt.date,
    *,
    clients_last_seen: str,
    duckdb_path: str,
    avro_bucket: str,
    sample_rate: float,
    sink_options: Sequence[str] = (),
    console: Console = job_console,
) -> list[str]:
    """taar-profile-bigtable on DuckDB over a local clients_last_seen, without its stage flag;
    `sink_options` say where the profiles load (the local store, or a Bigtable's ids)."""
    return [
        console("profile_bigtable", "taar-profile-bigtable"), "--iso-date", f"{day:%Y%m%d}", "--engine", "duckdb",
        "--source", clients_last_seen, "--duckdb-path", duckdb_path, "--avro-gcs-bucket", avro_bucket,
        "--sample-rate", str(sample_rate), *sink_options,
    ]  # fmt: skip


def daily_steps(
    day: dt.date,
    *,
    amo_url: str,
    clients_daily: str,
    seed: int,
    num_days: int,
    artifact_url: Callable[[str], str],
    publish_options: Callable[[str], list[str]],
    profile: list[str],
    spark_after: Sequence[str] = (),
    console: Console = job_console,
) -> list[Step]:
    """Every daily job as a step, each after the jobs whose artifacts it reads.

    `artifact_url(name)` is where artifact `name` (e.g. `donors.json`) is published, so each job
    reads what the one before it wrote; `publish_options(job)` are the job's output options;
    `profile` is a `profile_command`, loaded in its three stages; every Spark step also waits
    for the steps named in `spark_after`. Spark steps come first, so the longest chain starts first.
    """
    date = ["--date", f"{day:%Y%m%d}"]
    spark = [*date, "--input", clients_daily, "--seed", str(seed)]
    history = ["--num-days", str(num_days)]
    editorial = ["--whitelist-url", artifact_url("only_guids_top_200.json")]
    models = [arg for flag, name in ENSEMBLE_MODELS.items() for arg in (flag, artifact_url(name))]

    def job(name: str, *options: str, after: Sequence[str] = ()) -> Step:
        script = "taar-" + name.replace("_", "-")
        return Step(name, [console(name, script), *options, *publish_options(name)], list(after))

    return [
        job("amodump", *date, "--amo-url", amo_url),
        job("amowhitelist", *date, after=["amodump"]),
        job("update_whitelist", *date, "--amo-url", amo_url),
        job(
            "spark_lite",
            *spark,
            "--whitelist-url",
            artifact_url("whitelist_addons_database.json"),
            after=["amowhitelist", *spark_after],
        ),
        job("spark_locale", *spark, *history, *editorial, after=["update_whitelist", *spark_after]),
        job("spark_similarity", *spark, *editorial, after=["update_whitelist", *spark_after]),
        job("spark_collaborative", *spark, *history, *editorial, after=["update_whitelist", *spark_after]),
        # Weekly in production (the DAG gates it on Sundays); here always, on the models the
        # three steps before it have just published.
        job(
            "spark_ensemble",
            *spark,
            *history,
            *editorial,
            *models,
            after=["spark_locale", "spark_similarity", "spark_collaborative"],
        ),
        Step("profile_fill_bq", [*profile, "--fill-bq"]),
        Step("profile_bq_to_gcs", [*profile, "--bq-to-gcs"], ["profile_fill_bq"]),
        Step("profile_gcs_to_bigtable", [*profile, "--gcs-to-bigtable"], ["profile_bq_to_gcs"]),
    ]
