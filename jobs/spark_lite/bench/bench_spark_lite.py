"""Benchmark taar-spark-lite against its scan floor (run with the job's venv python).

    .venv/spark_lite/bin/python jobs/spark_lite/bench/bench_spark_lite.py \
        [--clients 100000 --clients 1000000 --clients 3000000] [--skew-clients 1000000]

Per case (one day at each size; a skewed day: 90% of clients in one locale, one add-on on
every client, one client with 500 more), seeded clients_daily is generated once under the
data dir, then the scan floor (the same partition and leaf columns read by taar_common and
folded into one aggregate) and the job run as subprocesses on local[2]. One JSON line per
case: wall time, the floor's, their ratio, rows/s, peak RSS of the Python driver and of the
JVM (driver and executor at once in local mode), CPU seconds and load average.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.bench import (
    HEAVY_CLIENT_ADDONS,
    Dataset,
    SparkBench,
    read_leaves,
    run_scaling_bench,
    scaling_bench_options,
)
from taar_spark_lite.job import COLUMNS, LOCAL_SPARK_CONFIG

DAY = dt.date(2026, 11, 27)
SEED = 20261127
WHITELIST = "whitelist_addons_database.json"


def job_args(data: Dataset, days: int) -> list[str]:
    return ["--date", f"{DAY:%Y%m%d}", "--input", str(data.clients_daily),
            "--whitelist-url", str(data.folder / WHITELIST), "--seed", "1"]  # fmt: skip


@click.command()
@scaling_bench_options(window_days=1)
def main(sizes: tuple[int, ...], window_days: int, window_clients: int, skew_clients: int, data_dir: Path) -> None:
    guids = sorted(generate_catalogue(2_000, seed=SEED).guids)
    whitelisted = guids[::2]
    bench = SparkBench(
        job="spark_lite", module="taar_spark_lite", leaves=read_leaves(COLUMNS), spark_config=LOCAL_SPARK_CONFIG,
        job_args=job_args, addon_guids=guids, side_files={WHITELIST: json.dumps({g: {"guid": g} for g in whitelisted})},
        seed=SEED, end=DAY, skew_guids=(whitelisted[0], whitelisted[1 : HEAVY_CLIENT_ADDONS + 1]),
    )  # fmt: skip
    run_scaling_bench(bench, sizes=sizes, window_days=1, window_clients=0, skew_clients=skew_clients, data_dir=data_dir)


if __name__ == "__main__":
    main()
