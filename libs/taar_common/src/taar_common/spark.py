"""The Spark session and `clients_daily` reading shared by the Spark jobs (the `spark` extra).

The options every Spark job shares, the local session (or spark-submit's), reading
`clients_daily` with partition and column checks, and read errors that name the file. The
valid-add-on rule lives in `taar_common.validity`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from taar_common.dates import compact, last_days
from taar_common.options import check_storage_url
from taar_common.publish import OutputTarget
from taar_common.storage import Storage, join_url, local_data_root
from taar_common.validity import ADDON_FLAGS_FALSE
from taar_common.whitelist import default_whitelist_url

log = logging.getLogger(__name__)

PARTITION_COLUMN = "submission_date_s3"
PROFILE_COLUMNS = (
    "client_id",
    "channel",
    "app_name",
    "city",
    "locale",
    "os",
    "subsession_hours_sum",
    "places_bookmarks_count_mean",
    "scalar_parent_browser_engagement_tab_open_event_count_sum",
    "scalar_parent_browser_engagement_total_uri_count_sum",
    "scalar_parent_browser_engagement_unique_domains_count_mean",
    "active_addons",
)
"""The clients_daily columns a client profile is made of (the similarity features and add-ons)."""
PRODUCTION_CLIENTS_DAILY = "gs://moz-fx-data-derived-datasets-parquet/clients_daily/v6"
"""Where production reads clients_daily; the DAG passes it as `--input` (deploy config `inputs`)."""
JVM_WARNINGS_TO_STDERR = ("-Xlog:disable", "-Xlog:all=warning:stderr")
"""The JVM logs warnings to stdout by default, where a job prints its one-line summary."""


@dataclass(frozen=True, kw_only=True)
class SparkRun:
    """What every Spark job's run needs, as its CLI resolved it (`--date`, `spark_job_options`,
    `output_options`); each job's run adds its own settings."""

    run_date: dt.date
    input_url: str
    whitelist_url: str
    target: OutputTarget

    @property
    def days(self) -> list[dt.date]:
        """The days of clients_daily the run reads, oldest first: `--date` alone unless a window."""
        return [self.run_date]

    def input_details(self) -> dict[str, Any]:
        """What the run reads, for its summary's details (the same keys in every Spark job)."""
        days = [self.days[0].isoformat(), self.run_date.isoformat()]
        return {"input": self.input_url, "days": days, "whitelist": self.whitelist_url}


@dataclass(frozen=True, kw_only=True)
class WindowRun(SparkRun):
    """A run over the `--num-days` days of clients_daily ending with `--date`."""

    num_days: int

    @property
    def days(self) -> list[dt.date]:
        """The window's days, oldest first."""
        return last_days(self.run_date, self.num_days)


def spark_job_options(whitelist_name: str, whitelist_help: str) -> Callable:
    """`--input`, `--whitelist-url` and `--master`: the options every Spark job shares.

    The command receives `input_url`, `whitelist_url` (default: where the AMO jobs publish
    `whitelist_name` on their defaults) and `master`.
    """

    def decorate(command: Callable) -> Callable:
        options = [
            click.option(
                "--input",
                "input_url",
                # Embedded default, like every output location: a run with no flags never reads production.
                default=lambda: str(local_data_root() / "telemetry" / "clients_daily"),
                show_default="<data root>/telemetry/clients_daily, where `taar-fixtures telemetry` and make demo write",
                callback=check_storage_url,
                help=f"clients_daily Parquet dataset (partitioned submission_date_s3=YYYYMMDD): URL or path. "
                f"Production: {PRODUCTION_CLIENTS_DAILY}.",
            ),
            click.option(
                "--whitelist-url",
                default=lambda: default_whitelist_url(whitelist_name),
                show_default=f"<data root>/telemetry-parquet/.../{whitelist_name}",
                callback=check_storage_url,
                help=f"{whitelist_help} ({whitelist_name}, .json or .json.bz2).",
            ),
            click.option("--master", default=None, help="Spark master (default local[*]; ignored under spark-submit)."),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


class InputError(ValueError):
    """An input dataset is missing, unreadable, or lacks a partition or column the job needs."""


# Spark's error class for a file it could not read (footer at schema inference, or data at
# run time); the message names the file: "[FAILED_READ_FILE.<SUB>] Encountered error while
# reading file <path>. ..." (Spark's error-conditions.json, FAILED_READ_FILE).
_FAILED_READ_FILE = re.compile(r"\[FAILED_READ_FILE(?:\.\w+)?\] Encountered error while reading file (\S+?)\.?(?:\s|$)")
_MAX_CAUSES = 20


def java_causes(error: BaseException) -> list[tuple[str, str]]:
    """(Java class name, message) of the JVM exception behind a PySpark error and its causes, outermost first."""
    java = getattr(error, "java_exception", None) or getattr(error, "_origin", None)
    chain: list[tuple[str, str]] = []
    while java is not None and len(chain) < _MAX_CAUSES:
        chain.append((str(java.getClass().getName()), str(java.getMessage() or "")))
        java = java.getCause()
    return chain


def input_read_error(error: BaseException, dataset: str = "clients_daily") -> InputError | None:
    """An `InputError` naming the file and the root cause when `error` is Spark failing to read
    an input file; None for any other error."""
    try:
        chain = java_causes(error)
    except Exception:  # the JVM is gone: nothing to translate, the original error stands
        return None
    paths = [m.group(1) for _, message in chain if (m := _FAILED_READ_FILE.search(message))]
    if not paths:
        return None
    name, message = chain[-1]
    first_line = message.strip().splitlines()[0] if message.strip() else ""
    cause = f"{name.rsplit('.', 1)[-1]}: {first_line}" if first_line else name.rsplit(".", 1)[-1]
    return InputError(f"cannot read {dataset} file {paths[-1]}: {cause}")


@contextmanager
def input_read_errors(dataset: str = "clients_daily") -> Iterator[None]:
    """Spark failing to read an input file inside the block becomes an `InputError` naming the
    file and the cause, so the ERROR line and the summary say which file and why; the Java
    stack trace goes to the debug log only. Any other error passes unchanged."""
    try:
        yield
    except Exception as exc:
        translated = input_read_error(exc, dataset)
        if translated is None:
            raise
        log.debug("Spark could not read a %s file; the JVM error:\n%s", dataset, exc)
        raise translated from None


def spark_session(
    app_name: str, master: str | None = None, *, local_config: Mapping[str, str] | None = None
) -> SparkSession:
    """The job's session: `local[*]` unless launched by spark-submit (which sets the master).

    `local_config` (e.g. `spark.driver.memory`) applies only when this call starts a local
    JVM; under spark-submit the submitter's settings win. A local JVM sends its warnings to
    stderr (`JVM_WARNINGS_TO_STDERR`). PySpark's DataFrame debugging is off: it records the
    Python call site of every column expression (about ten JVM round trips each, thousands
    per job) only to enrich runtime error messages.
    """
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.python.sql.dataFrameDebugging.enabled", "false")
    )
    if master or "PYSPARK_GATEWAY_PORT" not in os.environ:
        config = {"spark.ui.enabled": "false", **(local_config or {})}
        java_options = " ".join([config.get("spark.driver.extraJavaOptions", ""), *JVM_WARNINGS_TO_STDERR])
        config["spark.driver.extraJavaOptions"] = java_options.strip()
        builder = builder.master(master or "local[*]")
        for key, value in config.items():
            builder = builder.config(key, value)
    return builder.getOrCreate()


def local_spark_config(
    driver_memory: str, shuffle_partitions: int, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A job's settings for a local JVM (`spark_session(local_config=...)`): driver heap, shuffle
    partitions, no console progress bar (the run summary and the logs report progress)."""
    return {
        "spark.driver.memory": driver_memory,
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.ui.showConsoleProgress": "false",
        **(extra or {}),
    }


def run_spark_job(
    app_name: str,
    master: str | None,
    local_config: Mapping[str, str],
    body: Callable[..., None],
    *args: Any,
) -> None:
    """What a Spark job's `main` runs: its session (local defaults unless spark-submit made one),
    then `body(spark, storage, *args)`, with a file that cannot be read named with its cause,
    not a JVM stack."""
    spark = spark_session(app_name, master, local_config=local_config)
    with input_read_errors():
        body(spark, Storage(), *args)


def partition_url(input_url: str, day: dt.date) -> str:
    return join_url(input_url, f"{PARTITION_COLUMN}={compact(day)}")


def local_path(url: str) -> str:
    """What Spark reads: URLs unchanged, plain paths made absolute."""
    return url if "://" in url else os.path.abspath(url)


def existing_partitions(storage: Storage, input_url: str, days: Iterable[dt.date]) -> list[dt.date]:
    """The days whose partition folder holds at least one object."""
    return [day for day in days if storage.list_prefix(partition_url(input_url, day) + "/")]


def read_clients_daily(
    spark: SparkSession,
    storage: Storage,
    input_url: str,
    days: list[dt.date],
    columns: Iterable[str],
    *,
    required: Collection[dt.date] | None = None,
) -> DataFrame:
    """Read `columns` of the `clients_daily` partitions for `days`.

    `required`: the days whose partition must exist (default every day); of the others, those
    present are read. Fails naming the partition when a required one is missing or none
    exists, naming the column when the data lacks one the job needs, and naming the file and
    cause when a footer cannot be read. A file that fails later, when the job's action reads
    its data, is named by running the job under `input_read_errors()` (as `run_spark_job` does).
    """
    found = existing_partitions(storage, input_url, days)
    missing = sorted(set(days) - set(found))
    absent = sorted(set(missing) & set(days if required is None else required))
    if not found or absent:
        names = ", ".join(partition_url(input_url, d) for d in (absent or missing or days)[:5])
        raise InputError(f"clients_daily partition missing: {names}")
    if missing:
        log.warning("%d of %d partitions missing under %s; reading the rest", len(missing), len(days), input_url)
    paths = [local_path(partition_url(input_url, day)) for day in found]
    with input_read_errors():  # a corrupt footer fails here, at schema inference
        frame = spark.read.option("basePath", local_path(input_url)).parquet(*paths)
    require_columns(frame, [*columns, PARTITION_COLUMN], source=input_url)
    # Partition discovery infers an integer from `=20261127`; the contract's type is a string.
    return frame.select(*columns, F.col(PARTITION_COLUMN).cast("string").alias(PARTITION_COLUMN))


def observe_input(frame: DataFrame, *extra: Column) -> tuple[DataFrame, Observation]:
    """`frame`, counting during the job's own first pass over it (no pass of its own) its rows,
    its rows with a null client id and any `extra` named counts; `Observation.get` gives them
    once an action on a frame derived from it has run (`collect` or `count`; not
    `toLocalIterator`, which never completes it, so `get` would wait forever)."""
    observation = Observation("input")
    counts = [F.count(F.lit(1)).alias("rows"), F.count_if(F.col("client_id").isNull()).alias("null_client_id_rows")]
    return frame.observe(observation, *counts, *extra), observation


def require_columns(frame: DataFrame, columns: Iterable[str], *, source: str) -> None:
    """Raise `InputError` naming every column (or `active_addons` field) the data lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{source} lacks column(s) {missing}; has {sorted(frame.columns)}")
    if "active_addons" in columns:
        element = frame.schema["active_addons"].dataType.elementType
        needed = {"addon_id", "type", *ADDON_FLAGS_FALSE, "signed_state"}
        absent = sorted(needed - set(element.fieldNames()))
        if absent:
            raise InputError(f"{source}: active_addons entries lack field(s) {absent}")
