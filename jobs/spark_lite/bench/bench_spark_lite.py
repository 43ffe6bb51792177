"""Benchmark taar-spark-lite on generated clients_daily (run with the job's venv python).

    .venv/spark_lite/bin/python jobs/spark_lite/bench/bench_spark_lite.py [--clients 100000 --clients 1000000]

Generates (seeded, taar_fixtures) one day of clients_daily per size under the data dir
(reused when present), runs the job as a subprocess on local[2] and prints one JSON line
per size: wall time, input rows per second, per-stage times from the run summary, and the
peak RSS of the Python driver and of the JVM (in local mode the JVM is driver and
executor at once), sampled from /proc, plus getrusage's largest child.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

import click
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.bench import clients_daily_dataset, measure_process

DAY = dt.date(2026, 11, 27)
SEED = 20261127
TARGET_S = {1_000_000: 80.0}
WHITELIST = "whitelist_addons_database.json"


@click.command()
@click.option("--clients", "sizes", type=int, multiple=True, default=[100_000, 1_000_000], show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), show_default=True,
              default=Path(tempfile.gettempdir()) / "taar-bench-spark-lite",
              help="Where generated inputs are kept and reused.")  # fmt: skip
def main(sizes: tuple[int, ...], data_dir: Path) -> None:
    guids = sorted(generate_catalogue(2_000, seed=SEED).guids)
    whitelist = json.dumps({g: {"guid": g} for g in guids[::2]})
    for n_clients in sizes:
        data = clients_daily_dataset(
            data_dir, n_clients, 1, SEED, end=DAY, addon_guids=guids, side_files={WHITELIST: whitelist}
        )
        with tempfile.TemporaryDirectory() as out:
            run = measure_process([
                sys.executable, "-m", "taar_spark_lite", "--date", f"{DAY:%Y%m%d}", "--input", str(data.clients_daily),
                "--whitelist-url", str(data.folder / WHITELIST), "--bucket", out, "--master", "local[2]", "--seed", "1",
            ]).checked()  # fmt: skip
        summary = run.summary()
        record = {
            "job": "spark_lite",
            "clients": n_clients,
            "input_rows": data.rows,
            "wall_s": round(run.wall_s, 1),
            "target_s": TARGET_S.get(n_clients),
            "rows_per_s": round(data.rows / run.wall_s),
            "stages_s": summary["durations_s"],
            "coinstallation_guids": summary["counts"]["coinstallation_guids"],
            "ranked_guids": summary["counts"]["ranked_guids"],
            "driver_python_peak_rss_mib": round(run.peak_rss_kib(other_than="java") / 1024),
            "jvm_peak_rss_mib": round(run.peak_rss_kib(named="java") / 1024),
            "largest_child_rss_mib": round(run.largest_child_rss_kib / 1024),
            "master": "local[2]",
        }
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
