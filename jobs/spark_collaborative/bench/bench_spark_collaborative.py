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

import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

import click
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.bench import Dataset, measure_process, run_window_bench, window_bench_options

DAY = dt.date(2026, 11, 27)
SEED = 20261127
TARGET_S = {1_000_000: 120.0}
WHITELIST = "only_guids_top_200.json"


@click.command()
@window_bench_options("taar-bench-spark-collaborative")
def main(sizes: tuple[int, ...], day_counts: tuple[int, ...], repeat: int, data_dir: Path) -> None:
    guids = sorted(generate_catalogue(2_000, seed=SEED).guids)
    whitelist = json.dumps(guids[::7][:200])
    run_window_bench(
        measure, sizes=sizes, day_counts=day_counts, repeat=repeat, data_dir=data_dir,
        seed=SEED, end=DAY, addon_guids=guids, side_files={WHITELIST: whitelist},
    )  # fmt: skip


def measure(data: Dataset, n_clients: int, days: int) -> dict:
    """One run of the job on `data` as a subprocess: the benchmark record."""
    with tempfile.TemporaryDirectory() as out:
        run = measure_process([
            sys.executable, "-m", "taar_spark_collaborative", "--date", f"{DAY:%Y%m%d}", "--num-days", str(days),
            "--input", str(data.clients_daily), "--whitelist-url", str(data.folder / WHITELIST),
            "--bucket", out, "--master", "local[2]", "--seed", "1",
        ]).checked()  # fmt: skip
    summary = run.summary()
    return {
        "job": "spark_collaborative",
        "clients": n_clients,
        "days": days,
        "input_rows": data.rows,
        "wall_s": round(run.wall_s, 1),
        "target_s": TARGET_S.get(n_clients),
        "rows_per_s": round(data.rows / run.wall_s),
        "stages_s": summary["durations_s"],
        "users": summary["counts"]["users"],
        "ratings": summary["counts"]["ratings"],
        "items": summary["counts"]["items"],
        "driver_python_peak_rss_mib": round(run.peak_rss_kib(other_than="java") / 1024),
        "jvm_peak_rss_mib": round(run.peak_rss_kib(named="java") / 1024),
        "largest_child_rss_mib": round(run.largest_child_rss_kib / 1024),
        "cpu_s": round(run.cpu_s, 1),
        "load_avg_1m_before_after": [round(load, 1) for load in run.load_avg_1m],
        "master": "local[2]",
    }


if __name__ == "__main__":
    main()
