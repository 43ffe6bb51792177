"""Avro files -> profile rows -> a sink: streaming, batched, with parallel writers."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from taar_common.storage import Storage

from taar_profile_bigtable.avro_files import read_avro_records
from taar_profile_bigtable.sinks import ProfileRow, ProfileSink
from taar_profile_bigtable.transform import ProfileRowError, profile_row

log = logging.getLogger(__name__)


class LoadAborted(RuntimeError):
    """A queued batch was not sent because another batch had already failed."""


@dataclass
class LoadResult:
    files: int = 0
    rows_written: int = 0
    rows_without_client_id: int = 0
    batches: int = 0


def profile_batches(
    storage: Storage, files: Sequence[str], batch_size: int, result: LoadResult
) -> Iterator[list[ProfileRow]]:
    """Rows of every file, `batch_size` at a time; one file is read at a time."""
    batch: list[ProfileRow] = []
    for url in files:
        for index, record in enumerate(read_avro_records(storage, url)):
            if record.get("client_id") is None:
                result.rows_without_client_id += 1
                continue
            try:
                batch.append(profile_row(record))
            except ProfileRowError as exc:
                raise ProfileRowError(f"{url} record {index}: {exc}") from exc
            if len(batch) >= batch_size:
                yield batch
                batch = []
        result.files += 1
        log.info("read %s (%d files done)", url, result.files)
    if batch:
        yield batch


def load_profiles(
    storage: Storage,
    files: Sequence[str],
    sink: ProfileSink,
    timestamp: dt.datetime,
    batch_size: int = 1000,
    workers: int = 4,
) -> LoadResult:
    """Write every profile of `files` to `sink` with `workers` writers in parallel.

    At most `2 * workers` batches are in flight, so memory stays flat however many rows
    there are. The first failed batch stops the load and is raised.
    """
    if workers < 1 or batch_size < 1:
        raise ValueError(f"--workers ({workers}) and --batch-size ({batch_size}) must be >= 1")
    result = LoadResult()
    in_flight: deque[tuple[Future[None], int]] = deque()
    stop = threading.Event()

    def write(batch: list[ProfileRow]) -> None:
        if stop.is_set():
            raise LoadAborted("an earlier batch failed")
        try:
            sink.write_rows(batch, timestamp)
        except BaseException:
            stop.set()  # before this future settles, so the next queued batch sees it
            raise

    def settle_oldest() -> None:
        future, size = in_flight.popleft()
        future.result()
        result.rows_written += size
        result.batches += 1

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bigtable-writer") as pool:
        try:
            for batch in profile_batches(storage, files, batch_size, result):
                in_flight.append((pool.submit(write, batch), len(batch)))
                while len(in_flight) >= 2 * workers or (in_flight and in_flight[0][0].done()):
                    settle_oldest()
            while in_flight:
                settle_oldest()
        except BaseException:
            stop.set()
            for future, _ in in_flight:
                future.cancel()
            raise
    return result


def delete_profiles(sink: ProfileSink, hashed_ids: Sequence[str], batch_size: int = 1000) -> int:
    """Delete the rows of `hashed_ids`; returns how many of them existed."""
    existed = 0
    keys = [hashed.encode("ascii") for hashed in hashed_ids]
    for start in range(0, len(keys), batch_size):
        existed += sink.delete_rows(keys[start : start + batch_size])
    return existed
