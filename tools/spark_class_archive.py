"""Make each Spark job's JVM class archive (AppCDS): `make spark-class-archives`.

A short local Spark run spends seconds loading Spark's classes from the ~280 jars of
pyspark. `taar_common.spark.spark_session` starts a local JVM from
`.venv/<job>/share/taar-etl/spark-classes.jsa` when that file exists; this tool makes it by
running the job once on small generated telemetry with `-XX:ArchiveClassesAtExit`. The
archive lives inside the venv, so a rebuilt venv drops it; a stamp next to it records the
JDK, so a JDK update remakes it. A missing or stale archive only costs the time back.

    .venv/taar_fixtures/bin/python tools/spark_class_archive.py [JOB ...] [--force]
    (default: every Spark job; run by `make bench`)
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 27)
SEED = 7
TRAINING_CLIENTS = 5_000


def whitelist_guids(guids: list[str]) -> list[str]:
    return guids[::3][:200]


# job -> (console script, whitelist file name, whitelist payload, extra arguments)
RECIPES = {
    "spark_lite": (
        "taar-spark-lite",
        "whitelist_addons_database.json",
        lambda guids: {g: {"guid": g} for g in guids[::2]},
        [],
    ),
    "spark_locale": ("taar-spark-locale", "only_guids_top_200.json", whitelist_guids, ["--num-days", "2"]),
    "spark_similarity": (
        "taar-spark-similarity",
        "only_guids_top_200.json",
        whitelist_guids,
        ["--from-date", f"{DAY - dt.timedelta(days=1):%Y%m%d}"],
    ),
}


def java_version() -> str:
    """`java -version` as printed (names the JDK build a dynamic archive belongs to); Spark's java."""
    java = Path(os.environ["JAVA_HOME"]) / "bin" / "java" if os.environ.get("JAVA_HOME") else "java"
    return subprocess.run([str(java), "-version"], capture_output=True, text=True, check=True).stderr.strip()


def archive_settings(venv: Path) -> tuple[Path, str]:
    """(where `venv`'s jobs look for their archive, the variable that makes a JVM write one), from taar_common."""
    code = (
        "from taar_common import spark; print(spark.default_class_archive()); print(spark.ARCHIVE_CLASSES_AT_EXIT_ENV)"
    )
    result = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True)
    archive, variable = result.stdout.split()
    return Path(archive), variable


def stamp(venv: Path) -> str:
    """What the archive was made for: the venv's install digest and the JDK build."""
    installed = (venv / ".installed").read_text().strip() if (venv / ".installed").exists() else ""
    return json.dumps({"venv": installed, "java": java_version()}, sort_keys=True)


def generate_telemetry(folder: Path) -> list[str]:
    """Two days of small clients_daily under `folder` (shared by every job's run); the add-on GUIDs."""
    from taar_fixtures.amo import generate_catalogue  # the fixtures venv has it; the repo tests do not need it
    from taar_fixtures.telemetry import write_clients_daily

    guids = sorted(generate_catalogue(600, seed=SEED).guids)
    dates = [DAY - dt.timedelta(days=1), DAY]
    write_clients_daily(folder, n_clients=TRAINING_CLIENTS, dates=dates, seed=SEED, addon_guids=guids)
    return guids


def make_archive(job: str, telemetry: Path, generated_guids: Callable[[], list[str]], *, force: bool) -> str:
    """Make (or keep) `job`'s archive, training on `telemetry` (generated on first need); returns what was done."""
    venv = ROOT / ".venv" / job
    if not (venv / "bin" / "python").exists():
        raise SystemExit(f"{venv} does not exist: run `make envs` first")
    archive, dump_variable = archive_settings(venv)
    stamp_file = archive.with_suffix(".stamp")
    wanted = stamp(venv)
    if not force and archive.exists() and stamp_file.exists() and stamp_file.read_text() == wanted:
        return "up to date"
    script, whitelist_name, whitelist, extra = RECIPES[job]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"taar-cds-{job}-") as scratch:
        folder = Path(scratch)
        (folder / whitelist_name).write_text(json.dumps(whitelist(generated_guids())))
        partial = folder / "spark-classes.jsa"
        command = [
            str(venv / "bin" / script),
            "--input", str(telemetry / "clients_daily"), "--whitelist-url", str(folder / whitelist_name),
            "--date", f"{DAY:%Y%m%d}", "--bucket", str(folder / "out"), "--master", "local[2]", "--seed", "1",
            *extra,
        ]  # fmt: skip
        env = {**os.environ, dump_variable: str(partial)}
        # the JVM writes the archive as it exits, after the Python driver: reading the pipes it
        # inherited until they close waits for it
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0 or not partial.exists():
            tail = "\n".join(result.stderr.splitlines()[-30:])
            raise SystemExit(f"{job}: the training run failed (exit {result.returncode}):\n{tail}")
        archive.parent.mkdir(parents=True, exist_ok=True)
        staged = archive.with_suffix(".jsa.tmp")  # same filesystem as the archive: the replace is atomic
        shutil.move(partial, staged)
        os.replace(staged, archive)
        stamp_file.write_text(wanted)
    size_mib = archive.stat().st_size / 2**20
    return f"made in {time.monotonic() - start:.0f}s ({size_mib:.0f} MiB)"


def main() -> None:
    parser = argparse.ArgumentParser(description="Make the class archive of each Spark job's venv.")
    parser.add_argument("jobs", nargs="*", metavar="JOB", help=f"one of {', '.join(sorted(RECIPES))} (default: all)")
    parser.add_argument("--force", action="store_true", help="remake archives that are up to date")
    args = parser.parse_args()
    unknown = sorted(set(args.jobs) - set(RECIPES))
    if unknown:
        parser.error(f"not a Spark job: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="taar-cds-telemetry-") as scratch:
        telemetry = Path(scratch)
        generated_guids = functools.cache(lambda: generate_telemetry(telemetry))
        for job in args.jobs or sorted(RECIPES):
            done = make_archive(job, telemetry, generated_guids, force=args.force)
            print(f"spark-class-archive {job}: {done}", flush=True)


if __name__ == "__main__":
    main()
