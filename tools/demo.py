"""`make demo`: the daily TAAR pipeline on one machine, in dependency order.

Each job runs as its own console script from its own virtualenv (as each runs in its own pod
in production), on embedded defaults: the fixture AMO server, generated telemetry, local
Spark, DuckDB and the local profile store, `<data root>/` for buckets (the checkout's
`taar-data/`, or `$TAAR_DATA`). First builds the environments it needs (and only those),
saying which and roughly how long; prints a numbered line per step and, while a step runs, a
heartbeat every --heartbeat seconds with its elapsed time and last log line (the Spark stage
when the job logs one); then a table of every artifact, and writes the HTML report. Each
run's logs stay in `<data root>/runs/<UTC timestamp>/<step>.log` (`runs/latest` links the newest).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from taar_common.amo import AMO_BUCKET, AMO_PREFIX
from taar_common.artifacts import artifact_spec, check_artifact
from taar_common.dates import DATA_DAY_HELP, compact, data_day, parse_date
from taar_common.storage import DATA_ROOT_ENV, Storage, join_url, local_data_root, resolve_bucket_url
from taar_testing.pipeline import (
    Step,
    daily_steps,
    job_console,
    profile_command,
    run_dag,
    start_amo_server,
    telemetry_command,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO_ENVS = [  # what the steps below run, and nothing else (test-only envs are `make envs`' job)
    "libs/taar_fixtures",
    "jobs/amodump",
    "jobs/amowhitelist",
    "jobs/update_whitelist",
    "jobs/spark_lite",
    "jobs/spark_locale",
    "jobs/spark_similarity",
    "jobs/spark_collaborative",
    "jobs/spark_ensemble",
    "jobs/profile_bigtable",
    "libs/taar_report",
]
SPARK_ENVS = {
    "jobs/spark_lite",
    "jobs/spark_locale",
    "jobs/spark_similarity",
    "jobs/spark_collaborative",
    "jobs/spark_ensemble",
}
# Upper estimates per env when uv must download the packages (pyspark's wheel is built once into
# .venv/wheelhouse by the first env, before the demo starts); from a warm uv cache each env took
# 1.3-2.1 s on a fresh clone (2 cores).
ENV_BUILD_S = {"spark": 20, "other": 15}
AMO_ADDONS = 3000
CLIENTS = 50_000
DAYS = 3
SEED = 42


class Progress:
    """Numbered step lines ([k/N]) and a heartbeat of the steps still running."""

    def __init__(self, total: int, heartbeat_s: float) -> None:
        self.total = total
        self.done = 0
        self.heartbeat_s = heartbeat_s
        self.running: dict[str, tuple[float, Path]] = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()

    def started(self, name: str, log: Path) -> None:
        with self.lock:
            self.running[name] = (time.monotonic(), log)

    def finished(self, name: str, status: str, seconds: float, note: str = "") -> None:
        with self.lock:
            self.running.pop(name, None)
            self.done += 1
            width = len(str(self.total))
            print(
                f"[{self.done:{width}d}/{self.total}] {name:28s} {status:10s} {seconds:6.1f}s {note}".rstrip(),
                flush=True,
            )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with self.lock:
                running = dict(self.running)
            for name, (start, log) in sorted(running.items()):
                elapsed = time.monotonic() - start
                print(f"      ... {name:24s} running {elapsed:5.0f}s  {last_activity(log)}".rstrip(), flush=True)


_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d[ T][\d:,.]+\s+")
_JOB_LOG = re.compile(r"^\d{4}-\d\d-\d\d[ T][\d:,.]+\s+(?:INFO|WARNING|ERROR)\s+taar")
# Spark's console progress bar on stderr: "[Stage 4:=====>     (1 + 1) / 2]" (done + running / total tasks)
_SPARK_STAGE = re.compile(r"\[Stage (\d+):[=> ]*\((\d+) \+ (\d+)\) / (\d+)\]")


def last_activity(log: Path, width: int = 140) -> str:
    """The step's latest own log line (else its last line), led by the Spark stage when the bar shows one."""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 16384))
            lines = [line.strip() for line in handle.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    if not lines:
        return ""
    own = [line for line in lines if _JOB_LOG.match(line)]
    text = _LOG_PREFIX.sub("", own[-1] if own else lines[-1])
    stages = [m for line in lines for m in _SPARK_STAGE.finditer(line)]
    if stages:
        stage, done, running, total = stages[-1].groups()
        text = f"Spark stage {stage}: {done}/{total} tasks done, {running} running | {text}"
    return text if len(text) <= width else text[: width - 3] + "..."


def run_step(step: Step, log_dir: Path, progress: Progress, env: dict[str, str]) -> Step:
    start = time.monotonic()
    if not Path(step.command[0]).exists():
        raise RuntimeError(f"step {step.name}: {step.command[0]} is missing; run `make demo` (it builds it)")
    log = log_dir / f"{step.name}.log"
    progress.started(step.name, log)
    with open(log, "w") as stderr:
        result = subprocess.run(step.command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT, env=env)
    step.seconds = time.monotonic() - start
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    step.summary = json.loads(lines[-1]) if lines else None
    status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
    progress.finished(step.name, status, step.seconds)
    if result.returncode != 0:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"step {step.name} failed; log {log}:\n{tail}")
    return step


def ensure_envs(log_dir: Path, heartbeat_s: float) -> None:
    """Build the demo's environments that are missing or stale, saying which and roughly how long first."""
    ensure = str(ROOT / "tools" / "ensure-venv")
    stale = [p for p in DEMO_ENVS if subprocess.run([ensure, p, "--check"], cwd=ROOT).returncode != 0]
    if not stale:
        print(f"environments: all {len(DEMO_ENVS)} the demo uses are up to date (.venv/)", flush=True)
        return
    estimate = sum(ENV_BUILD_S["spark" if p in SPARK_ENVS else "other"] for p in stale)
    names = ", ".join(Path(p).name for p in stale)
    print(
        f"environments: building {len(stale)} of the {len(DEMO_ENVS)} the demo uses ({names}); "
        f"up to ~{max(1, round(estimate / 60))} min when uv must download them, seconds from a warm cache",
        flush=True,
    )
    progress = Progress(len(stale), heartbeat_s)
    try:
        for package in stale:
            name = f"env {Path(package).name}"
            log = log_dir / f"env-{Path(package).name}.log"
            progress.started(name, log)
            start = time.monotonic()
            with open(log, "w") as output:
                code = subprocess.run([ensure, package], stdout=output, stderr=output, cwd=ROOT).returncode
            progress.finished(name, "built" if code == 0 else f"FAILED (exit {code})", time.monotonic() - start)
            if code != 0:
                raise RuntimeError(f"building .venv/{Path(package).name} failed; log {log}:\n{log.read_text()[-3000:]}")
    finally:
        progress.stop()


def new_run_dir(data_root: Path) -> Path:
    """`<data root>/runs/<UTC timestamp>/`, never reused; `runs/latest` points at it."""
    runs = data_root / "runs"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = runs / stamp
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = runs / f"{stamp}-{suffix}"
    run_dir.mkdir(parents=True)
    latest = runs / "latest"
    latest.unlink(missing_ok=True)
    latest.symlink_to(run_dir.name)
    return run_dir


def ensure_telemetry(out: Path, day: dt.date, log_dir: Path, progress: Progress, env: dict[str, str]) -> None:
    """Generate telemetry once per (date, size, seed); a second run reuses it."""
    marker = out / f".generated-{compact(day)}-{CLIENTS}-{DAYS}-{SEED}"
    if marker.exists():
        progress.finished("telemetry", "reused", 0.0, str(out))
        return
    start = time.monotonic()
    command = telemetry_command(out, clients=CLIENTS, days=DAYS, end_date=day, seed=SEED, amo_addons=AMO_ADDONS)
    log = log_dir / "telemetry.log"
    progress.started("telemetry", log)
    with open(log, "w") as stderr:
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT, env=env)
    if result.returncode != 0:
        progress.finished("telemetry", f"FAILED (exit {result.returncode})", time.monotonic() - start)
        raise RuntimeError(f"generating telemetry failed; log {log}:\n{log.read_text()[-3000:]}")
    marker.touch()
    progress.finished("telemetry", "generated", time.monotonic() - start, str(out))


# (job, bucket, prefix, artifact): what each step publishes where; the later steps read it there.
ARTIFACTS = [
    ("amodump", AMO_BUCKET, AMO_PREFIX, "extended_addons_database"),
    ("amowhitelist", AMO_BUCKET, AMO_PREFIX, "whitelist_addons_database"),
    ("amowhitelist", AMO_BUCKET, AMO_PREFIX, "featured_addons_database"),
    ("amowhitelist", AMO_BUCKET, AMO_PREFIX, "featured_whitelist_addons"),
    ("update_whitelist", AMO_BUCKET, AMO_PREFIX, "only_guids_top_200"),
    ("spark_lite", "telemetry-parquet", "taar/lite", "guid_coinstallation"),
    ("spark_lite", "telemetry-parquet", "taar/lite", "guid_install_ranking"),
    ("spark_locale", "telemetry-private-analysis-2", "taar/locale", "top10_dict"),
    ("spark_similarity", "telemetry-parquet", "taar/similarity", "donors"),
    ("spark_similarity", "telemetry-parquet", "taar/similarity", "lr_curves"),
    ("spark_collaborative", "telemetry-parquet", "addon_recommender", "item_matrix"),
    ("spark_collaborative", "telemetry-parquet", "addon_recommender", "addon_mapping"),
    ("spark_ensemble", "telemetry-parquet", "taar/ensemble", "ensemble_weight"),
]


def artifact_location(buckets: dict[str, str], name: str) -> str:
    """Where the demo's jobs publish artifact `name` (e.g. `donors.json`), from its ARTIFACTS row."""
    bucket, prefix = next((b, p) for _, b, p, artifact in ARTIFACTS if f"{artifact}.json" == name)
    return join_url(buckets[bucket], prefix, name)


def publish_options(buckets: dict[str, str], job: str) -> list[str]:
    """The job's --bucket: the one bucket its ARTIFACTS rows name."""
    (bucket,) = {b for j, b, _, _ in ARTIFACTS if j == job}
    return ["--bucket", buckets[bucket]]


def pipeline(day: dt.date, amo_url: str, buckets: dict[str, str], data_root: Path) -> list[Step]:
    telemetry = data_root / "telemetry"
    clients_daily = str(telemetry / "clients_daily")
    partition = join_url(clients_daily, f"submission_date_s3={compact(day)}")
    profile = profile_command(
        day,
        clients_last_seen=str(telemetry / "clients_last_seen"),
        duckdb_path=str(data_root / "bigquery.duckdb"),
        avro_bucket=join_url(buckets["telemetry-parquet"], "taar/profile-avro"),
        sample_rate=0.5,
        sink_options=["--sink", "local"],
    )
    wait_for_clients_daily = Step(
        "wait_for_clients_daily",
        [job_console("taar_common", "taar-wait-for"), partition, "--timeout", "60", "--poke-interval", "1"],
    )
    jobs = daily_steps(
        day,
        amo_url=amo_url,
        clients_daily=clients_daily,
        seed=SEED,
        num_days=DAYS,
        artifact_url=lambda name: artifact_location(buckets, name),
        publish_options=lambda job: publish_options(buckets, job),
        profile=profile,
        spark_after=[wait_for_clients_daily.name],
    )
    return [
        wait_for_clients_daily,
        *jobs,
        Step(
            "profile_delete_opt_out",
            [
                *profile,
                "--delete-opt-out",
                "--delete-days",
                "28",
                "--deletion-source",
                str(telemetry / "deletion_request"),
            ],
            ["profile_gcs_to_bigtable"],
        ),
        Step("profile_wipe_bq_table", [*profile, "--wipe-bigquery-tmp-table"], ["profile_bq_to_gcs"]),
        Step("profile_wipe_avro", [*profile, "--wipe-avro"], ["profile_gcs_to_bigtable"]),
    ]


def artifact_table(storage: Storage, buckets: dict[str, str], steps: dict[str, Step]) -> list[list[str]]:
    rows = []
    for job, bucket, prefix, name in ARTIFACTS:
        url = join_url(buckets[bucket], prefix, f"{name}.json")
        try:
            data = storage.read_bytes(url)
            payload = json.loads(data)
            check_artifact(name, payload, allow_shortlist=True)
            status = "ok"
            records = str(artifact_spec(name).count_records(payload))
            size = f"{len(data) / 1024:.1f} KiB"
        except Exception as exc:  # shown in the table; the demo then exits non-zero
            status, records, size = f"FAILED: {exc}", "-", "-"
        rows.append([name, url, size, records, status, f"{steps[job].seconds:.1f}s"])
    for step in steps.values():
        if step.name.startswith("profile_") and step.summary:
            counts = ", ".join(f"{k}={v}" for k, v in sorted(step.summary.get("counts", {}).items()))
            rows.append([step.name, "local profile store", "-", counts or "-", "ok", f"{step.seconds:.1f}s"])
    return rows


def print_table(rows: list[list[str]]) -> None:
    header = ["artifact", "url", "size", "records", "check", "wall"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bucket", help="write every artifact under this URL instead of <data root>/<bucket>/")
    parser.add_argument("--date", help=f"data day, YYYYMMDD or YYYY-MM-DD (default: {DATA_DAY_HELP}, as every job)")
    parser.add_argument("--parallel", type=int, default=2, help="steps run at once (default 2)")
    parser.add_argument("--heartbeat", type=float, default=15.0, help="seconds between progress lines (default 15)")
    args = parser.parse_args()
    day = parse_date(args.date) if args.date else data_day()
    data_root = local_data_root(ROOT)
    # Every child resolves its embedded defaults to the same root, wherever `make demo` started.
    env = {**os.environ, DATA_ROOT_ENV: str(data_root)}
    os.environ[DATA_ROOT_ENV] = str(data_root)
    names = ["telemetry-parquet", "telemetry-private-analysis-2"]
    buckets = {n: args.bucket.rstrip("/") if args.bucket else resolve_bucket_url(None, n) for n in names}
    log_dir = new_run_dir(data_root)

    started = time.monotonic()
    print(f"taar-etl demo for {day}: artifacts under {buckets['telemetry-parquet']}, logs in {log_dir}", flush=True)
    try:
        ensure_envs(log_dir, args.heartbeat)
    except RuntimeError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    server, amo_url = start_amo_server(log_dir / "amo-server.log", addons=AMO_ADDONS, seed=SEED)
    print(f"fixture AMO server started at {amo_url}", flush=True)
    steps = pipeline(day, amo_url, buckets, data_root)
    progress = Progress(len(steps) + 2, args.heartbeat)  # + telemetry + report
    try:
        ensure_telemetry(data_root / "telemetry", day, log_dir, progress, env)
        run_dag(steps, lambda step: run_step(step, log_dir, progress, env), args.parallel)
        storage = Storage()
        runs = [s.summary for s in steps if s.summary]
        runs_url = join_url(buckets["telemetry-parquet"], "demo-runs.json")
        storage.write_json(runs_url, runs)
        report = [
            job_console("taar_report", "taar-report"),
            "--bucket",
            buckets["telemetry-parquet"],
            "--locale-bucket",
            buckets["telemetry-private-analysis-2"],
            "--runs",
            runs_url,
        ]
        run_step(Step("report", report), log_dir, progress, env)
    except RuntimeError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        progress.stop()
        server.terminate()
        server.wait(timeout=10)
    rows = artifact_table(storage, buckets, {s.name: s for s in steps})
    print()
    print_table(rows)
    print(f"\nreport: {join_url(buckets['telemetry-parquet'], 'report.html')}")
    print(f"logs:   {log_dir}")
    print(f"demo finished in {time.monotonic() - started:.1f}s")
    return 0 if all(row[4] == "ok" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
