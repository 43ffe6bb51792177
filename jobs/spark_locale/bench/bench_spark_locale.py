"""Benchmark taar-spark-locale against its scan floor (run with the job's venv python).

    .venv/spark_locale/bin/python jobs/spark_locale/bench/bench_spark_locale.py \
        [--clients 100000 --clients 1000000 --clients 3000000] [--window-days 28 --window-clients 100000]
        [--skew-clients 1000000]

Cases and records: taar_fixtures.bench.run_scaling_bench; the deployed window is 28 days
(`--num-days`), the editorial list every 7th of 2,000 catalogue add-ons.
"""

from __future__ import annotations

from taar_fixtures.bench import BENCH_DAY, EDITORIAL_WHITELIST, Dataset, editorial_scaling_bench, read_leaves
from taar_spark_locale.job import COLUMNS, LOCAL_SPARK_CONFIG


def job_args(data: Dataset, days: int) -> list[str]:
    return ["--date", f"{BENCH_DAY:%Y%m%d}", "--num-days", str(days), "--input", str(data.clients_daily),
            "--whitelist-url", str(data.folder / EDITORIAL_WHITELIST), "--seed", "1"]  # fmt: skip


main = editorial_scaling_bench(
    "spark_locale", leaves=read_leaves(COLUMNS, signed=True), spark_config=LOCAL_SPARK_CONFIG, job_args=job_args,
    catalogue_size=2_000, whitelist_step=7, window_days=28,
)  # fmt: skip

if __name__ == "__main__":
    main()
