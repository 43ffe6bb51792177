"""Benchmark taar-spark-similarity against its scan floor (run with the job's venv python).

    .venv/spark_similarity/bin/python jobs/spark_similarity/bench/bench_spark_similarity.py \
        [--clients 100000 --clients 1000000 --clients 3000000] [--window-days 90 --window-clients 100000]
        [--skew-clients 1000000]

Cases: one day at each size, the deployed window (90 days of 100,000 clients a day), and a
skewed day (90% of clients in one locale, one add-on on every client, one client with 500
more). For each, seeded clients_daily is generated once under the data dir, then the scan
floor (the same partitions and leaf columns read by taar_common, folded into one aggregate)
and the job run as subprocesses on local[2]. One JSON line per case: wall time, the floor's,
their ratio, rows/s, peak RSS of the Python driver and of the JVM, CPU seconds, load average.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.bench import Dataset, SparkBench, read_leaves, run_scaling_bench, scaling_bench_options
from taar_spark_similarity.job import LOCAL_SPARK_CONFIG
from taar_spark_similarity.transform import INPUT_COLUMNS

DAY = dt.date(2026, 11, 27)
SEED = 20261127
WHITELIST = "only_guids_top_200.json"


def job_args(data: Dataset, days: int) -> list[str]:
    return ["--input", str(data.clients_daily), "--whitelist-url", str(data.folder / WHITELIST),
            "--date", f"{DAY:%Y%m%d}", "--from-date", f"{DAY - dt.timedelta(days=days - 1):%Y%m%d}",
            "--seed", "1"]  # fmt: skip


@click.command()
@scaling_bench_options(window_days=90)
def main(sizes: tuple[int, ...], window_days: int, window_clients: int, skew_clients: int, data_dir: Path) -> None:
    guids = sorted(generate_catalogue(600, seed=SEED).guids)
    whitelisted = guids[::3][:200]
    bench = SparkBench(
        job="spark_similarity", module="taar_spark_similarity", leaves=read_leaves(INPUT_COLUMNS),
        spark_config=LOCAL_SPARK_CONFIG, job_args=job_args, addon_guids=guids,
        side_files={WHITELIST: json.dumps(whitelisted)}, seed=SEED, end=DAY,
        skew_guids=(whitelisted[0], guids[1:501]),
    )  # fmt: skip
    run_scaling_bench(bench, sizes=sizes, window_days=window_days, window_clients=window_clients,
                      skew_clients=skew_clients, data_dir=data_dir)  # fmt: skip


if __name__ == "__main__":
    main()
