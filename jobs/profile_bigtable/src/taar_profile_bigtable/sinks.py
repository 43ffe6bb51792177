"""Where profile rows go: Cloud Bigtable (or its emulator), or an embedded SQLite store.

Both keep Bigtable's model: table -> row key -> family -> column -> timestamped cells, with
the `profile` family's GC rule (max age 90 days OR max 1 version). Writes carry an explicit
cell timestamp (the run date), so writing the same profile twice leaves one identical cell.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from taar_profile_bigtable.transform import COLUMN_FAMILY, PAYLOAD_COLUMN

log = logging.getLogger(__name__)

MAX_AGE = dt.timedelta(days=90)
MAX_VERSIONS = 1
GC_RULE_DESCRIPTION = {"union": [{"max_age_days": MAX_AGE.days}, {"max_num_versions": MAX_VERSIONS}]}

ProfileRow = tuple[bytes, bytes]
"""(row key, `profile:payload` value)."""


class SinkWriteError(RuntimeError):
    """Rows could not be written (or deleted) after every retry; names the table and the cause."""


class SinkUnreachable(RuntimeError):
    """Bigtable did not answer within --bigtable-timeout; names the host and the table."""


class ProfileSink(Protocol):
    name: str

    def ensure_table(self) -> bool:
        """Create the table and the `profile` family if missing; True when something was created."""
        ...

    def write_rows(self, rows: Sequence[ProfileRow], timestamp: dt.datetime) -> None:
        """Write every row or raise `SinkWriteError`."""
        ...

    def delete_rows(self, keys: Sequence[bytes]) -> int:
        """Delete the rows that exist among `keys`; returns how many existed."""
        ...

    def read_payload(self, key: bytes) -> bytes | None:
        """The newest `profile:payload` cell of a row, or None."""
        ...

    def close(self) -> None: ...


def micros(timestamp: dt.datetime) -> int:
    """Bigtable cell timestamps: microseconds, millisecond granularity."""
    return int(timestamp.timestamp() * 1000) * 1000


class BigtableSink:
    """Cloud Bigtable through the official client (honours `BIGTABLE_EMULATOR_HOST`)."""

    def __init__(
        self,
        project: str,
        instance_id: str,
        table_id: str,
        timeout_s: float = 30.0,
        max_attempts: int = 5,
    ) -> None:
        from google.cloud import bigtable

        self.name = f"bigtable:{project}/{instance_id}/{table_id}"
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self._client = bigtable.Client(project=project, admin=True)
        self._table = self._client.instance(instance_id).table(table_id)

    @staticmethod
    def gc_rule() -> Any:
        from google.cloud.bigtable import column_family

        return column_family.GCRuleUnion(
            [column_family.MaxAgeGCRule(MAX_AGE), column_family.MaxVersionsGCRule(MAX_VERSIONS)]
        )

    @property
    def host(self) -> str:
        """Where the admin calls go: the emulator's host:port or the service endpoint."""
        return str(self._client.table_admin_client.api_endpoint)

    def _admin_call(self, what: str, call: Any, **request: Any) -> Any:
        """One admin RPC retried on transient errors, all within `timeout_s`; raises `SinkUnreachable`."""
        from google.api_core import exceptions
        from google.api_core.retry import Retry, if_exception_type

        transient = if_exception_type(exceptions.ServiceUnavailable, exceptions.DeadlineExceeded)
        retry = Retry(predicate=transient, initial=0.1, maximum=2.0, timeout=self.timeout_s)
        try:
            return call(request=request, retry=retry, timeout=self.timeout_s)
        except (exceptions.RetryError, exceptions.ServiceUnavailable, exceptions.DeadlineExceeded) as exc:
            cause = getattr(exc, "cause", None) or exc
            reason = str(getattr(cause, "message", "") or cause).splitlines()[0][:200]
            raise SinkUnreachable(
                f"Bigtable at {self.host} not reachable within {self.timeout_s:g} s ({what} {self.name}): "
                f"{type(cause).__name__}: {reason}; check BIGTABLE_EMULATOR_HOST / network, or raise --bigtable-timeout"
            ) from exc

    def _get_table(self) -> Any:
        """The table's schema, or None when it does not exist (within `timeout_s`)."""
        from google.api_core import exceptions

        admin = self._client.table_admin_client
        try:
            return self._admin_call("looking up", admin.get_table, name=self._table.name)
        except exceptions.NotFound:
            return None

    def check_reachable(self) -> None:
        """Fail within `timeout_s`, naming the host, when Bigtable does not answer (an absent table is fine)."""
        self._get_table()

    def ensure_table(self) -> bool:
        from google.api_core import exceptions

        admin = self._client.table_admin_client
        schema = self._get_table()
        if schema is None:
            try:
                self._admin_call(
                    "creating",
                    admin.create_table,
                    parent=self._table._instance.name,
                    table_id=self._table.table_id,
                    table={"column_families": {COLUMN_FAMILY: {"gc_rule": self.gc_rule().to_pb()}}},
                )
                log.info("created %s with family %s", self.name, COLUMN_FAMILY)
                return True
            except exceptions.AlreadyExists:
                log.info("%s was created concurrently (another shard)", self.name)
                schema = self._get_table()
        if schema is None or COLUMN_FAMILY not in schema.column_families:
            self._table.column_family(COLUMN_FAMILY, self.gc_rule()).create()
            log.info("created family %s in %s", COLUMN_FAMILY, self.name)
            return True
        return False

    def _mutate(self, build: Any, keys: Sequence[Any], what: str) -> None:
        """Send one mutation per key; re-send only the rows whose status is not OK."""
        from google.cloud.bigtable.table import DEFAULT_RETRY

        pending = list(keys)
        last_error = ""
        for attempt in range(1, self.max_attempts + 1):
            rows = [build(item) for item in pending]
            statuses = self._table.mutate_rows(rows, retry=DEFAULT_RETRY.with_deadline(self.timeout_s))
            failed = [item for item, status in zip(pending, statuses, strict=True) if status.code != 0]
            if not failed:
                return
            last_error = next(s.message for s in statuses if s.code != 0)
            log.warning(
                "%s: %d of %d rows failed (attempt %d/%d): %s",
                self.name,
                len(failed),
                len(pending),
                attempt,
                self.max_attempts,
                last_error,
            )
            pending = failed
            if attempt < self.max_attempts:
                time.sleep(min(0.1 * 2**attempt, 5.0))
        raise SinkWriteError(
            f"{self.name}: {len(pending)} of {len(keys)} rows not {what} after {self.max_attempts} attempts: "
            f"{last_error}; re-run the stage (it is idempotent)"
        )

    def write_rows(self, rows: Sequence[ProfileRow], timestamp: dt.datetime) -> None:
        from google.cloud.bigtable.row import DirectRow

        def build(row: ProfileRow) -> DirectRow:
            direct = DirectRow(row[0])
            direct.set_cell(COLUMN_FAMILY, PAYLOAD_COLUMN, row[1], timestamp=timestamp)
            return direct

        self._mutate(build, rows, "written")

    def delete_rows(self, keys: Sequence[bytes]) -> int:
        from google.cloud.bigtable import row_filters
        from google.cloud.bigtable.row import DirectRow
        from google.cloud.bigtable.row_set import RowSet

        if not keys:
            return 0
        row_set = RowSet()
        for key in keys:
            row_set.add_row_key(key)
        keys_only = row_filters.RowFilterChain(
            [row_filters.CellsRowLimitFilter(1), row_filters.StripValueTransformerFilter(True)]
        )
        existing = [row.row_key for row in self._table.read_rows(row_set=row_set, filter_=keys_only)]

        def build(key: bytes) -> DirectRow:
            direct = DirectRow(key)
            direct.delete()
            return direct

        if existing:
            self._mutate(build, existing, "deleted")
        return len(existing)

    def read_payload(self, key: bytes) -> bytes | None:
        row = self._table.read_row(key)
        if row is None:
            return None
        cells = row.cells.get(COLUMN_FAMILY, {}).get(PAYLOAD_COLUMN, [])
        return cells[0].value if cells else None

    def read_versions(self, key: bytes) -> list[tuple[int, bytes]]:
        """Every stored (timestamp micros, value) of the payload column, newest first."""
        row = self._table.read_row(key)
        if row is None:
            return []
        cells = row.cells.get(COLUMN_FAMILY, {}).get(PAYLOAD_COLUMN, [])
        return [(micros(cell.timestamp), cell.value) for cell in cells]

    def close(self) -> None:
        self._client.close()


class LocalSink:
    """Bigtable's row/family/column/timestamp model in one SQLite file a user can open.

    `cells(table_id, row_key, family, qualifier, timestamp_micros, value)`; the GC rule is
    stored per family in `column_families`. Max-versions is applied on every write; max-age,
    as in Bigtable, is a background matter a read must not rely on, and is left to
    `collect_garbage`.
    """

    def __init__(self, path: Path, table_id: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.table_id = table_id
        self.name = f"local:{path}#{table_id}"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=60.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS column_families ("
                " table_id TEXT NOT NULL, family TEXT NOT NULL, gc_rule TEXT NOT NULL,"
                " PRIMARY KEY (table_id, family))"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS cells ("
                " table_id TEXT NOT NULL, row_key BLOB NOT NULL, family TEXT NOT NULL, qualifier BLOB NOT NULL,"
                " timestamp_micros INTEGER NOT NULL, value BLOB NOT NULL,"
                " PRIMARY KEY (table_id, row_key, family, qualifier, timestamp_micros)) WITHOUT ROWID"
            )

    def ensure_table(self) -> bool:
        with self._lock, self._db:
            created = self._db.execute(
                "INSERT OR IGNORE INTO column_families VALUES (?, ?, ?)",
                (self.table_id, COLUMN_FAMILY, json.dumps(GC_RULE_DESCRIPTION, sort_keys=True)),
            ).rowcount
        return bool(created)

    def _require_table(self) -> None:
        found = self._db.execute(
            "SELECT 1 FROM column_families WHERE table_id = ? AND family = ?", (self.table_id, COLUMN_FAMILY)
        ).fetchone()
        if not found:
            raise SinkWriteError(f"{self.name}: table or family {COLUMN_FAMILY} missing; run --gcs-to-bigtable")

    def write_rows(self, rows: Sequence[ProfileRow], timestamp: dt.datetime) -> None:
        ts = micros(timestamp)
        with self._lock, self._db:
            self._require_table()
            self._db.executemany(
                "INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?, ?)",
                [(self.table_id, key, COLUMN_FAMILY, PAYLOAD_COLUMN, ts, value) for key, value in rows],
            )
            # max 1 version: keep only the newest cell of each written column
            self._db.executemany(
                "DELETE FROM cells WHERE table_id = ?1 AND row_key = ?2 AND family = ?3 AND qualifier = ?4"
                " AND timestamp_micros < (SELECT MAX(timestamp_micros) FROM cells WHERE table_id = ?1"
                " AND row_key = ?2 AND family = ?3 AND qualifier = ?4)",
                [(self.table_id, key, COLUMN_FAMILY, PAYLOAD_COLUMN) for key, _ in rows],
            )

    def delete_rows(self, keys: Sequence[bytes]) -> int:
        existed = 0
        with self._lock, self._db:
            for key in keys:
                found = self._db.execute(
                    "SELECT 1 FROM cells WHERE table_id = ? AND row_key = ? LIMIT 1", (self.table_id, key)
                ).fetchone()
                if found:
                    self._db.execute("DELETE FROM cells WHERE table_id = ? AND row_key = ?", (self.table_id, key))
                    existed += 1
        return existed

    def read_payload(self, key: bytes) -> bytes | None:
        versions = self.read_versions(key)
        return versions[0][1] if versions else None

    def read_versions(self, key: bytes) -> list[tuple[int, bytes]]:
        """Every stored (timestamp micros, value) of the payload column, newest first."""
        with self._lock:
            return self._db.execute(
                "SELECT timestamp_micros, value FROM cells WHERE table_id = ? AND row_key = ? AND family = ?"
                " AND qualifier = ? ORDER BY timestamp_micros DESC",
                (self.table_id, key, COLUMN_FAMILY, PAYLOAD_COLUMN),
            ).fetchall()

    def count_rows(self) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(DISTINCT row_key) FROM cells WHERE table_id = ?", (self.table_id,)
            ).fetchone()[0]

    def collect_garbage(self, now: dt.datetime) -> int:
        """Apply the max-age rule: drop cells older than 90 days before `now`; returns cells dropped."""
        with self._lock, self._db:
            return self._db.execute(
                "DELETE FROM cells WHERE table_id = ? AND timestamp_micros < ?",
                (self.table_id, micros(now - MAX_AGE)),
            ).rowcount

    def close(self) -> None:
        self._db.close()
