"""Benchmark taar-spark-collaborative on generated clients_daily (run with the job's venv python).

    .venv/spark_collaborative/bin/python jobs/spark_collaborative/bench/bench_spark_collaborative.py \
        [--clients 100000 --clients 1000000] [--days 1 --days 7] [--repeat 3]

Generates (seeded, taar_fixtures) clients_daily per size and number of days under the data
dir (reused when present), runs the job on its defaults (rank, iterations) as a subprocess
on local[2] (`--repeat` times: the shared machine is noisy) and prints one JSON line per
run: wall time, input rows per second, per-stage times and counts from the run summary, CPU
seconds, and the peak RSS of the Python driver and of the JVM (in local mode the JVM is
driver and executor at once), sampled from /proc, plus getrusage's largest child.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.bench import (
    BENCH_DAY,
    BENCH_SEED,
    EDITORIAL_WHITELIST,
    Dataset,
    measure_process,
    run_record,
    run_window_bench,
    window_bench_options,
)

TARGET_S = {1_000_000: 120.0}


@click.command()
@window_bench_options("taar-bench-spark-collaborative")
def main(sizes: tuple[int, ...], day_counts: tuple[int, ...], repeat: int, data_dir: Path) -> None:
    guids = sorted(generate_catalogue(2_000, seed=BENCH_SEED).guids)
    whitelist = json.dumps(guids[::7][:200])
    run_window_bench(
        measure, sizes=sizes, day_counts=day_counts, repeat=repeat, data_dir=data_dir,
        seed=BENCH_SEED, end=BENCH_DAY, addon_guids=guids, side_files={EDITORIAL_WHITELIST: whitelist},
    )  # fmt: skip


def measure(data: Dataset, n_clients: int, days: int) -> dict[str, Any]:
    """One run of the job on `data` as a subprocess: the benchmark record."""
    with tempfile.TemporaryDirectory() as out:
        run = measure_process([
            sys.executable, "-m", "taar_spark_collaborative", "--date", f"{BENCH_DAY:%Y%m%d}", "--num-days", str(days),
            "--input", str(data.clients_daily), "--whitelist-url", str(data.folder / EDITORIAL_WHITELIST),
            "--bucket", out, "--master", "local[2]", "--seed", "1",
        ]).checked()  # fmt: skip
    counts = run.summary()["counts"]
    return run_record("spark_collaborative", data, n_clients, days, run) | {
        "target_s": TARGET_S.get(n_clients),
        "users": counts["users"],
        "ratings": counts["ratings"],
        "items": counts["items"],
        "largest_child_rss_mib": round(run.largest_child_rss_kib / 1024),
    }


if __name__ == "__main__":
    main()
