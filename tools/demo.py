"""`make demo`: the daily TAAR pipeline on one machine, in dependency order.

Each job runs as its own console script from its own virtualenv (as each runs in its own pod
in production), on embedded defaults: the fixture AMO server, generated telemetry, local
Spark, DuckDB and the local profile store, `./taar-data/` for buckets. Prints a line per
step, then a table of every artifact, and writes the HTML report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from taar_common.artifacts import artifact_spec, check_artifact
from taar_common.dates import compact, parse_date
from taar_common.storage import Storage, join_url, resolve_bucket_url

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".venv"
AMO_PREFIX = "telemetry-ml/addon_recommender"
AMO_ADDONS = 3000
CLIENTS = 50_000
DAYS = 3
SEED = 42


@dataclass
class Step:
    name: str
    command: list[str]
    after: list[str] = field(default_factory=list)
    summary: dict | None = None
    seconds: float = 0.0


def console(venv: str, script: str) -> str:
    return str(VENVS / venv / "bin" / script)


def run_step(step: Step, log_dir: Path, lock: threading.Lock, counter: list[int], total: int) -> Step:
    start = time.monotonic()
    if not Path(step.command[0]).exists():
        raise RuntimeError(f"step {step.name}: {step.command[0]} is missing; run `make envs`")
    with open(log_dir / f"{step.name}.log", "w") as stderr:
        result = subprocess.run(step.command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT)
    step.seconds = time.monotonic() - start
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    step.summary = json.loads(lines[-1]) if lines else None
    with lock:
        counter[0] += 1
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"[{counter[0]:2d}/{total}] {step.name:28s} {status:10s} {step.seconds:6.1f}s", flush=True)
    if result.returncode != 0:
        tail = (log_dir / f"{step.name}.log").read_text()[-3000:]
        raise RuntimeError(f"step {step.name} failed; log {log_dir / (step.name + '.log')}:\n{tail}")
    return step


def run_dag(steps: list[Step], log_dir: Path, parallel: int) -> None:
    """Run steps as soon as their `after` steps are done, at most `parallel` at once."""
    pending = {s.name: s for s in steps}
    done: set[str] = set()
    lock = threading.Lock()
    counter = [0]
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        running: dict[Future, str] = {}
        while pending or running:
            for name, step in list(pending.items()):
                if len(running) < parallel and all(dep in done for dep in step.after):
                    running[pool.submit(run_step, step, log_dir, lock, counter, len(steps))] = name
                    del pending[name]
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                future.result()
                done.add(running.pop(future))


def start_amo_server(log_dir: Path) -> tuple[subprocess.Popen, str]:
    command = [
        console("taar_fixtures", "taar-fixtures"),
        "amo-server",
        "--addons",
        str(AMO_ADDONS),
        "--seed",
        str(SEED),
        "--port",
        "0",
    ]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=open(log_dir / "amo-server.log", "w"), text=True, cwd=ROOT
    )
    line = server.stdout.readline()
    if not line:
        raise RuntimeError(f"fixture AMO server did not start; see {log_dir / 'amo-server.log'}")
    return server, json.loads(line)["url"]


def ensure_telemetry(out: Path, day: dt.date, log_dir: Path) -> None:
    """Generate telemetry once per (date, size, seed); a second run reuses it."""
    marker = out / f".generated-{compact(day)}-{CLIENTS}-{DAYS}-{SEED}"
    if marker.exists():
        print(f"[  ] telemetry                    reused     {out}", flush=True)
        return
    start = time.monotonic()
    command = [
        console("taar_fixtures", "taar-fixtures"),
        "telemetry",
        "--out",
        str(out),
        "--clients",
        str(CLIENTS),
        "--days",
        str(DAYS),
        "--end-date",
        compact(day),
        "--seed",
        str(SEED),
        "--amo-addons",
        str(AMO_ADDONS),
        "--amo-seed",
        str(SEED),
    ]
    with open(log_dir / "telemetry.log", "w") as stderr:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT)
    marker.touch()
    print(f"[  ] telemetry                    generated  {time.monotonic() - start:6.1f}s", flush=True)


def pipeline(day: dt.date, amo_url: str, buckets: dict[str, str], telemetry: Path) -> list[Step]:
    date = ["--date", compact(day)]
    parquet, private = buckets["telemetry-parquet"], buckets["telemetry-private-analysis-2"]
    whitelist = join_url(parquet, AMO_PREFIX, "whitelist_addons_database.json")
    editorial = join_url(parquet, AMO_PREFIX, "only_guids_top_200.json")
    clients_daily = str(telemetry / "clients_daily")
    partition = join_url(clients_daily, f"submission_date_s3={compact(day)}")
    avro = join_url(parquet, "taar/profile-avro")
    profile = [
        console("profile_bigtable", "taar-profile-bigtable"),
        "--iso-date",
        compact(day),
        "--engine",
        "duckdb",
        "--sink",
        "local",
        "--source",
        str(telemetry / "clients_last_seen"),
        "--duckdb-path",
        str(ROOT / "taar-data" / "bigquery.duckdb"),
        "--avro-gcs-bucket",
        avro,
        "--sample-rate",
        "0.5",
    ]
    spark_common = [*date, "--input", clients_daily, "--seed", str(SEED)]
    return [
        Step("amodump", [console("amodump", "taar-amodump"), *date, "--amo-url", amo_url, "--bucket", parquet]),
        Step("amowhitelist", [console("amowhitelist", "taar-amowhitelist"), *date, "--bucket", parquet], ["amodump"]),
        Step(
            "update_whitelist",
            [
                console("update_whitelist", "taar-update-whitelist"),
                *date,
                "--amo-url",
                amo_url,
                "--bucket",
                parquet,
            ],
        ),
        Step(
            "wait_for_clients_daily",
            [console("taar_common", "taar-wait-for"), partition, "--timeout", "60", "--poke-interval", "1"],
        ),
        Step(
            "spark_lite",
            [
                console("spark_lite", "taar-spark-lite"),
                *spark_common,
                "--whitelist-url",
                whitelist,
                "--bucket",
                parquet,
            ],
            ["amowhitelist", "wait_for_clients_daily"],
        ),
        Step(
            "spark_locale",
            [
                console("spark_locale", "taar-spark-locale"),
                *spark_common,
                "--num-days",
                str(DAYS),
                "--whitelist-url",
                editorial,
                "--bucket",
                private,
            ],
            ["update_whitelist", "wait_for_clients_daily"],
        ),
        Step(
            "spark_similarity",
            [
                console("spark_similarity", "taar-spark-similarity"),
                *spark_common,
                "--whitelist-url",
                editorial,
                "--bucket",
                parquet,
            ],
            ["update_whitelist", "wait_for_clients_daily"],
        ),
        Step("profile_fill_bq", [*profile, "--fill-bq"]),
        Step("profile_bq_to_gcs", [*profile, "--bq-to-gcs"], ["profile_fill_bq"]),
        Step("profile_gcs_to_bigtable", [*profile, "--gcs-to-bigtable"], ["profile_bq_to_gcs"]),
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


ARTIFACTS = [
    ("amodump", "telemetry-parquet", AMO_PREFIX, "extended_addons_database"),
    ("amowhitelist", "telemetry-parquet", AMO_PREFIX, "whitelist_addons_database"),
    ("amowhitelist", "telemetry-parquet", AMO_PREFIX, "featured_addons_database"),
    ("amowhitelist", "telemetry-parquet", AMO_PREFIX, "featured_whitelist_addons"),
    ("update_whitelist", "telemetry-parquet", AMO_PREFIX, "only_guids_top_200"),
    ("spark_lite", "telemetry-parquet", "taar/lite", "guid_coinstallation"),
    ("spark_lite", "telemetry-parquet", "taar/lite", "guid_install_ranking"),
    ("spark_locale", "telemetry-private-analysis-2", "taar/locale", "top10_dict"),
    ("spark_similarity", "telemetry-parquet", "taar/similarity", "donors"),
    ("spark_similarity", "telemetry-parquet", "taar/similarity", "lr_curves"),
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
            status, records, size = f"FAILED: {exc}"[:60], "-", "-"
        rows.append([name, url, size, records, status, f"{steps[job].seconds:.1f}s"])
    for step in steps.values():
        if step.name.startswith("profile_") and step.summary:
            counts = ", ".join(f"{k}={v}" for k, v in sorted(step.summary.get("counts", {}).items()))
            rows.append([step.name, "local profile store", "-", counts[:60] or "-", "ok", f"{step.seconds:.1f}s"])
    return rows


def print_table(rows: list[list[str]]) -> None:
    header = ["artifact", "url", "size", "records", "check", "wall"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bucket", help="write every artifact under this URL instead of ./taar-data/<bucket>/")
    parser.add_argument("--date", help="run date (default: yesterday, UTC)")
    parser.add_argument("--parallel", type=int, default=2, help="steps run at once")
    args = parser.parse_args()
    day = parse_date(args.date) if args.date else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    names = ["telemetry-parquet", "telemetry-private-analysis-2"]
    buckets = {n: args.bucket.rstrip("/") if args.bucket else resolve_bucket_url(None, n) for n in names}
    data_root = ROOT / "taar-data"
    log_dir = data_root / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    telemetry = data_root / "telemetry"

    started = time.monotonic()
    print(f"taar-etl demo for {day}: artifacts under {buckets['telemetry-parquet']}, logs in {log_dir}", flush=True)
    ensure_telemetry(telemetry, day, log_dir)
    server, amo_url = start_amo_server(log_dir)
    print(f"[  ] fixture AMO server           started    {amo_url}", flush=True)
    steps = pipeline(day, amo_url, buckets, telemetry)
    try:
        run_dag(steps, log_dir, args.parallel)
    except RuntimeError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        server.terminate()
        server.wait(timeout=10)
    storage = Storage()
    runs = [s.summary for s in steps if s.summary]
    runs_url = join_url(buckets["telemetry-parquet"], "demo-runs.json")
    storage.write_json(runs_url, runs)
    report = [
        console("taar_report", "taar-report"),
        "--bucket",
        buckets["telemetry-parquet"],
        "--locale-bucket",
        buckets["telemetry-private-analysis-2"],
        "--runs",
        runs_url,
    ]
    report_step = Step("report", report)
    run_step(report_step, log_dir, threading.Lock(), [len(steps)], len(steps) + 1)
    rows = artifact_table(storage, buckets, {s.name: s for s in steps})
    print()
    print_table(rows)
    print(f"\nreport: {join_url(buckets['telemetry-parquet'], 'report.html')}")
    print(f"demo finished in {time.monotonic() - started:.1f}s")
    return 0 if all(row[4] == "ok" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
