"""Hand-made inputs of the Spark jobs' tests, in process: read as one DataFrame by the transform
tests, given as the common options by the CLI tests, and the input failures every job reports alike.

The rows and whitelists themselves come from `taar_fixtures.handmade` (imported where used: every
Spark job's test env declares taar-fixtures, taar_testing does not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taar_testing.spark_jobs import files_under

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def clients_daily_frame(spark: SparkSession, root: Path, rows_by_day: Mapping[dt.date, list[dict]]) -> DataFrame:
    """Hand-made rows per day written as clients_daily partitions under `root`, read back as one frame."""
    from taar_fixtures.handmade import write_partition

    for day, rows in rows_by_day.items():
        write_partition(root, day, rows)
    return spark.read.parquet(str(root))


@dataclass(frozen=True)
class HandmadeInputs:
    """A hand-made clients_daily root, its whitelist file and the output bucket of a small CLI run."""

    input: str
    whitelist_url: str
    bucket: str

    def options(self, date: str, **overrides: str) -> list[str]:
        """`--date`, `--input`, `--whitelist-url` and `--bucket`, the options every Spark job takes, with
        any of the three URLs replaced by `overrides` (keyed by field: `input=`, `whitelist_url=`, `bucket=`)."""
        urls = replace(self, **overrides)
        return ["--date", date, "--input", urls.input, "--whitelist-url", urls.whitelist_url, "--bucket", urls.bucket]


def write_handmade_inputs(
    folder: Path, day: dt.date, rows: list[dict[str, Any]], whitelist: list[str] | dict[str, dict[str, Any]]
) -> HandmadeInputs:
    """`rows` as `day`'s partition under `folder`/clients_daily, `whitelist` beside it in its published
    form (`taar_fixtures.handmade.write_whitelist`), and `folder`/out as the bucket."""
    from taar_fixtures.handmade import write_partition, write_whitelist

    root = write_partition(folder / "clients_daily", day, rows)
    return HandmadeInputs(str(root), str(write_whitelist(folder, whitelist)), str(folder / "out"))


class InputFailures:
    """The input failures every Spark job reports alike, exiting 1 with a summary whose error names what
    failed: its day's partition missing (publishing nothing), its whitelist missing, its whitelist empty.

    A job's test module subclasses it as `TestInputFailures` beside a `small_input` fixture
    (`HandmadeInputs`) and sets `run` (its small run: `(inputs, date=..., **overrides) -> (exit code,
    summary, stderr)`), `missing_date` (YYYYMMDD of a day without a partition) and `empty_whitelist`
    (the text of its whitelist's published form, empty).
    """

    run: Callable[..., tuple[int, dict, str]]
    missing_date: str
    empty_whitelist: str

    def test_missing_partition_fails_naming_it(self, small_input: HandmadeInputs) -> None:
        code, summary, _ = self.run(small_input, date=self.missing_date)
        assert code == 1, summary
        assert f"submission_date_s3={self.missing_date}" in summary["error"], summary["error"]
        assert files_under(small_input.bucket) == [], files_under(small_input.bucket)

    def test_missing_whitelist_fails_naming_the_url(self, small_input: HandmadeInputs, tmp_path: Path) -> None:
        missing = str(tmp_path / "nowhere" / Path(small_input.whitelist_url).name)
        code, summary, _ = self.run(small_input, whitelist_url=missing)
        assert code == 1, summary
        assert missing in summary["error"], summary["error"]

    def test_empty_whitelist_fails(self, small_input: HandmadeInputs) -> None:
        Path(small_input.whitelist_url).write_text(self.empty_whitelist)
        code, summary, _ = self.run(small_input)
        assert code == 1, summary
        assert "whitelist is empty" in summary["error"], summary["error"]
