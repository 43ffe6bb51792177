"""Benchmark taar-spark-similarity against its scan floor (run with the job's venv python).

    .venv/spark_similarity/bin/python jobs/spark_similarity/bench/bench_spark_similarity.py \
        [--clients 100000 --clients 1000000 --clients 3000000] [--window-days 90 --window-clients 100000]
        [--skew-clients 1000000]

Cases and records: taar_fixtures.bench.run_scaling_bench. The window is the deployed 90 days
from `--from-date`; the editorial list is every 3rd add-on of a 600-add-on catalogue.
"""

from __future__ import annotations

import datetime as dt

from taar_fixtures.bench import BENCH_DAY, EDITORIAL_WHITELIST, Dataset, editorial_scaling_bench, read_leaves
from taar_spark_similarity.job import LOCAL_SPARK_CONFIG
from taar_spark_similarity.transform import INPUT_COLUMNS


def job_args(data: Dataset, days: int) -> list[str]:
    return ["--input", str(data.clients_daily), "--whitelist-url", str(data.folder / EDITORIAL_WHITELIST),
            "--date", f"{BENCH_DAY:%Y%m%d}", "--from-date", f"{BENCH_DAY - dt.timedelta(days=days - 1):%Y%m%d}",
            "--seed", "1"]  # fmt: skip


main = editorial_scaling_bench(
    "spark_similarity", leaves=read_leaves(INPUT_COLUMNS), spark_config=LOCAL_SPARK_CONFIG, job_args=job_args,
    catalogue_size=600, whitelist_step=3, window_days=90,
)  # fmt: skip

if __name__ == "__main__":
    main()
