"""`tools/images.py test`: build each job's image, then run it for real, as its own user.

Per job: `--help`, then one small job on files mounted from the host: /in (read-only inputs made
on the host: synthetic telemetry from `taar-fixtures telemetry`, the AMO artifacts made by the
host venvs of the AMO jobs) and /out (the job's bucket). AMO jobs talk to the fixture AMO server
(`taar-fixtures amo-server`) on the host through `--network host`. A job passes when every run
exits 0, prints a JSON summary as its last stdout line, writes the artifacts the contract names,
and every file it wrote belongs to uid 10001 (the image's default user, not forced from outside).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "build" / "image-smoke"
REPORT = ROOT / "build" / "images" / "report.json"
UID = 10001
DATE, FROM_DATE = "20261120", "20261118"
AMO_PREFIX = "telemetry-ml/addon_recommender/"
RUN_TIMEOUT_S = 900


@dataclass
class JobRun:
    """One container invocation and the artifact file names it must leave under /out."""

    args: list[str]
    artifacts: list[str] = field(default_factory=list)


def spark_args(whitelist: str) -> list[str]:
    return [
        "--date",
        DATE,
        "--input",
        "/in/telemetry/clients_daily",
        "--whitelist-url",
        f"/in/amo/{AMO_PREFIX}{whitelist}",
        "--bucket",
        "/out",
        "--master",
        "local[2]",
        "--seed",
        "7",
    ]


def profile_stages() -> list[JobRun]:
    common = [
        "--iso-date",
        DATE,
        "--engine",
        "duckdb",
        "--source",
        "/in/telemetry/clients_last_seen",
        "--deletion-source",
        "/in/telemetry/deletion_request",
        "--duckdb-path",
        "/out/bigquery.duckdb",
        "--avro-gcs-bucket",
        "/out/avro",
        "--sink",
        "local",
        "--local-store",
        "/out/bigtable/profiles.sqlite3",
        "--sample-rate",
        "1.0",
    ]
    stages = [
        ["--fill-bq"],
        ["--bq-to-gcs"],
        ["--gcs-to-bigtable", "--shard", "0/2"],
        ["--gcs-to-bigtable", "--shard", "1/2"],
        ["--wipe-bigquery-tmp-table"],
        ["--wipe-avro"],
        ["--delete-opt-out", "--delete-days", "7"],
    ]
    runs = [JobRun(common + stage) for stage in stages]
    runs[-1].artifacts = ["profiles.sqlite3"]
    return runs


# The models spark_ensemble reads, made on the host by the Spark jobs' venvs (prepare_inputs):
# {option: (job, artifact)}, published under /in/models/<job>/ (each job's default prefix, no bz2).
ENSEMBLE_MODELS = {
    "--locale-url": ("spark_locale", "taar/locale/top10_dict.json"),
    "--donors-url": ("spark_similarity", "taar/similarity/donors.json"),
    "--lr-curves-url": ("spark_similarity", "taar/similarity/lr_curves.json"),
    "--item-matrix-url": ("spark_collaborative", "addon_recommender/item_matrix.json"),
    "--addon-mapping-url": ("spark_collaborative", "addon_recommender/addon_mapping.json"),
}


def model_args(root: str = "/in/models") -> list[str]:
    return [arg for flag, (job, key) in ENSEMBLE_MODELS.items() for arg in (flag, f"{root}/{job}/{key}")]


def job_runs(job: str, amo_url: str) -> list[JobRun]:
    """The small real run of each job; a job without an entry here fails loudly (add one)."""
    amo_bucket = ["--date", DATE, "--bucket", "/out"]
    runs = {
        "amodump": [
            JobRun(
                [*amo_bucket, "--amo-url", amo_url, "--workers", "4"],
                ["extended_addons_database.json", f"extended_addons_database{DATE}.json"],
            )
        ],
        "amowhitelist": [
            JobRun(
                [*amo_bucket, "--dump-url", f"/in/amo/{AMO_PREFIX}extended_addons_database.json"],
                ["whitelist_addons_database.json", "featured_addons_database.json", "featured_whitelist_addons.json"],
            )
        ],
        "update_whitelist": [JobRun([*amo_bucket, "--amo-url", amo_url], ["only_guids_top_200.json"])],
        "spark_lite": [
            JobRun(
                spark_args("whitelist_addons_database.json"), ["guid_coinstallation.json", "guid_install_ranking.json"]
            )
        ],
        "spark_locale": [
            JobRun([*spark_args("only_guids_top_200.json"), "--num-days", "3"], ["top10_dict.json"]),
        ],
        "spark_similarity": [
            JobRun(
                [
                    *spark_args("only_guids_top_200.json"),
                    "--from-date",
                    FROM_DATE,
                    "--num-clusters",
                    "3",
                    "--num-donors",
                    "30",
                    "--num-pdf-points",
                    "50",
                ],
                ["donors.json", "lr_curves.json"],
            )
        ],
        "profile_bigtable": profile_stages(),
        "spark_collaborative": [
            JobRun(
                [*spark_args("only_guids_top_200.json"), "--num-days", "3", "--rank", "8", "--max-iter", "5"],
                ["item_matrix.json", "addon_mapping.json"],
            )
        ],
        "spark_ensemble": [
            JobRun(
                [
                    *spark_args("only_guids_top_200.json"),
                    "--num-days",
                    "3",
                    *model_args(),
                    "--min-addons",
                    "2",
                    "--max-iter",
                    "10",
                    "--partitions",
                    "2",
                ],
                ["ensemble_weight.json"],
            )
        ],
    }
    if job not in runs:
        raise SystemExit(f"tools/images_smoke.py has no small run for jobs/{job}: add one to job_runs()")
    return runs[job]


# --- host-side inputs ------------------------------------------------------------------------


def host_script(package: str, script: str) -> Path:
    path = ROOT / ".venv" / package / "bin" / script
    if not path.exists():
        raise SystemExit(f"{path} missing: run `make envs` (make test-images does) first")
    return path


@contextlib.contextmanager
def amo_server() -> Iterator[str]:
    """The fixture AMO on 127.0.0.1 (the containers share the host network); yields its v5 URL."""
    command = [
        str(host_script("taar_fixtures", "taar-fixtures")),
        "amo-server",
        "--addons",
        "300",
        "--editorial",
        "120",
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        if not line:
            raise SystemExit(f"fixture AMO server exited before printing its URL: {' '.join(command)}")
        yield json.loads(line)["url"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_host(command: list[str | Path]) -> None:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"host step failed: {' '.join(map(str, command))}\n{result.stderr[-3000:]}")


def prepare_models(inputs: Path) -> None:
    """/in/models: the locale, similarity and collaborative models spark_ensemble reads, each made by
    the job's host venv with the same small run its own smoke test uses (so the image under test is
    only the ensemble's)."""
    host_in = ["/in/telemetry", "/in/amo/"]
    for job in sorted({job for job, _ in ENSEMBLE_MODELS.values()}):
        (run, *_) = job_runs(job, "http://127.0.0.1:1/api/v5/")
        args = [a.replace("/in/", f"{inputs}/", 1) if a.startswith(tuple(host_in)) else a for a in run.args]
        args[args.index("--bucket") + 1] = str(inputs / "models" / job)
        run_host([host_script(job, script_of(job)), *args])


def prepare_inputs(amo_url: str, jobs: list[str]) -> Path:
    """/in: three days of synthetic telemetry plus the AMO artifacts the Spark jobs read (and, when
    spark_ensemble is tested, the models it reads)."""
    inputs = SMOKE / "in"
    fixtures = host_script("taar_fixtures", "taar-fixtures")
    telemetry = ["telemetry", "--out", inputs / "telemetry", "--end-date", DATE, "--days", "3"]
    run_host([fixtures, *telemetry, "--clients", "400", "--amo-addons", "300"])
    amo = ["--date", DATE, "--bucket", inputs / "amo"]
    run_host([host_script("amodump", "taar-amodump"), *amo, "--amo-url", amo_url, "--workers", "4"])
    run_host([host_script("amowhitelist", "taar-amowhitelist"), *amo])
    run_host([host_script("update_whitelist", "taar-update-whitelist"), *amo, "--amo-url", amo_url])
    if "spark_ensemble" in jobs:
        prepare_models(inputs)
    for path in [inputs, *inputs.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o755 if path.is_dir() else path.stat().st_mode | 0o644)
    return inputs


# --- container runs --------------------------------------------------------------------------


def run_container(cli: list[str], tag: str, args: list[str], mounts: dict[Path, str]) -> subprocess.CompletedProcess:
    volumes = [arg for source, target in mounts.items() for arg in ("--volume", f"{source}:{target}")]
    command = [*cli, "run", "--rm", "--network", "host", "--workdir", "/app", *volumes, tag, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


def check_job(job: str, tag: str, cli: list[str], inputs: Path, amo_url: str) -> tuple[float, float]:
    """Run --help and the job's small runs in its container; returns (help_s, run_s) or raises AssertionError."""
    user = subprocess.run(
        [*cli, "image", "inspect", tag, "--format", "{{.Config.User}}"], capture_output=True, text=True
    )
    assert user.stdout.strip() == f"{UID}:{UID}", f"{tag} runs as {user.stdout.strip()!r}, not {UID}:{UID}"
    out = SMOKE / "out" / job
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    os.chown(out, UID, UID)
    mounts = {inputs: "/in:ro", out: "/out"}

    start = time.monotonic()
    helped = run_container(cli, tag, ["--help"], mounts)
    help_s = time.monotonic() - start
    assert helped.returncode == 0 and "--help" in helped.stdout, f"{tag} --help failed:\n{helped.stderr[-2000:]}"

    start = time.monotonic()
    for run in job_runs(job, amo_url):
        result = run_container(cli, tag, run.args, mounts)
        shown = " ".join(run.args)
        assert result.returncode == 0, f"{tag} {shown} exited {result.returncode}:\n{result.stderr[-4000:]}"
        last_line = (result.stdout.strip().splitlines() or [""])[-1]
        try:
            json.loads(last_line)
        except json.JSONDecodeError as error:
            raise AssertionError(
                f"{tag} {shown}: last stdout line is not the JSON summary: {last_line[:300]!r}"
            ) from error
        written = {p.name for p in out.rglob("*")}
        missing = [name for name in run.artifacts if name not in written]
        assert not missing, f"{tag} {shown}: no {missing} under /out (wrote {sorted(written)[:20]})"
    run_s = time.monotonic() - start
    foreign = [str(p.relative_to(out)) for p in out.rglob("*") if p.stat().st_uid != UID]
    assert not foreign, f"{tag} wrote files not owned by uid {UID}: {foreign[:10]}"
    return help_s, run_s


def script_of(job: str) -> str:
    return "taar-" + job.replace("_", "-")


def smoke_test_all(jobs: list[str], cli: list[str], base_image: str | None, build: Callable[..., dict]) -> int:
    """Build each image (sequentially: the machine is shared), then run it; print and save a report."""
    shutil.rmtree(SMOKE, ignore_errors=True)
    SMOKE.mkdir(parents=True)
    rows = []
    with amo_server() as amo_url:
        inputs = prepare_inputs(amo_url, jobs)
        for job in jobs:
            row = {"job": job, "ok": False}
            rows.append(row)
            try:
                row.update(build(job, cli, base_image))
                help_s, run_s = check_job(job, row["image"], cli, inputs, amo_url)
                row.update(help_seconds=round(help_s, 1), run_seconds=round(run_s, 1), ok=True)
                print(f"images: {job}: --help and small run ok as uid {UID} ({run_s:.0f} s)", file=sys.stderr)
            except (AssertionError, subprocess.SubprocessError, SystemExit) as failure:
                row["error"] = str(failure)[-4000:]
                print(f"images: {job}: FAILED: {row['error']}", file=sys.stderr)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"base_image": base_image, "engine": cli[0], "jobs": rows}, indent=2) + "\n")
    print(f"\n{'image':34s} {'build s':>8s} {'size MB':>8s} {'run s':>7s}  result   (base: {base_image or 'default'})")
    for row in rows:
        build_s, size_mb, run_s = row.get("build_seconds", 0), row.get("size_mb", 0), row.get("run_seconds", 0)
        image = row.get("image", script_of(row["job"]))
        print(f"{image:34s} {build_s:8.0f} {size_mb:8d} {run_s:7.0f}  {'ok' if row['ok'] else 'FAILED'}")
    passed = sum(row["ok"] for row in rows)
    print(f"\n{passed} passed, {len(rows) - passed} failed")
    return 0 if rows and passed == len(rows) else 1
