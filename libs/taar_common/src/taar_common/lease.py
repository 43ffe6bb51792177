"""One run at a time per job and target: a lease object created with a precondition.

The lease is `PREFIX/.lease-<job>.json`, created only if absent (S3 `If-None-Match: *`,
GCS `ifGenerationMatch=0`, local hard link), holding who holds it and until when. A second
run fails naming the holder; a lease past its expiry (a killed run) is taken over. The
context manager releases it on every exit path, SIGTERM included (see `RunSummary.run`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, Self

from taar_common.storage import NotFoundError, Storage, StorageError, join_url

log = logging.getLogger(__name__)

DEFAULT_LEASE_TTL = dt.timedelta(hours=6)

# The leases the running job holds for its whole run (`hold_lease`), by URL: `publish_all` inside
# the run reuses its job's lease instead of taking a second one. Context-local, never mutated.
_RUN_LEASES: ContextVar[Mapping[str, Lease]] = ContextVar("taar_run_leases", default=MappingProxyType({}))


class LeaseHeldError(RuntimeError):
    """Another run holds the lease on this job and target."""


def lease_url(bucket_url: str, prefix: str, job: str) -> str:
    """Where the lease of `job` on `bucket_url/prefix` lives."""
    return join_url(bucket_url, prefix, f".lease-{job}.json")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Lease:
    """A held-or-not lease; `acquire` raises LeaseHeldError naming the current holder."""

    storage: Storage
    url: str
    job: str
    ttl: dt.timedelta = DEFAULT_LEASE_TTL
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    held: bool = False

    def _record(self) -> dict[str, Any]:
        start = _now()
        return {
            "job": self.job,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "run_id": self.run_id,
            "started": start.isoformat(timespec="seconds"),
            "expires": (start + self.ttl).isoformat(timespec="seconds"),
        }

    def holder(self) -> dict[str, Any] | None:
        """The lease record as stored, None if there is none; an unreadable one reads as expired."""
        try:
            return json.loads(self.storage.read_bytes(self.url))
        except NotFoundError:
            return None
        except (ValueError, UnicodeDecodeError):
            return {"expires": "1970-01-01T00:00:00+00:00", "unreadable": True}

    def acquire(self) -> Self:
        """Create the lease; take over an expired one; else raise LeaseHeldError naming the holder."""
        data = json.dumps(self._record(), sort_keys=True).encode()
        if self.storage.create_bytes(self.url, data):
            self.held = True
            return self
        current = self.holder()
        if current is not None and not _expired(current):
            raise LeaseHeldError(f"another run holds {self.url}: {describe(current)}; retry after it ends")
        if current is not None:
            log.warning("taking over the expired lease %s (%s)", self.url, describe(current))
            self.storage.delete(self.url)
        # Still a precondition: of two runs taking over at once, only one creates the new lease.
        if self.storage.create_bytes(self.url, data):
            self.held = True
            return self
        raise LeaseHeldError(f"another run holds {self.url}: {describe(self.holder() or {})}; retry after it ends")

    def check(self) -> None:
        """Raise if the lease is no longer ours (it expired and another run took it over)."""
        current = self.holder()
        if not current or current.get("run_id") != self.run_id:
            self.held = False
            raise LeaseHeldError(
                f"lost the lease {self.url} (now {describe(current or {})}): the run outlived --lease-ttl"
            )

    def release(self) -> None:
        """Delete the lease if it is still ours; never raises over a storage error (logged)."""
        if not self.held:
            return
        self.held = False
        try:
            current = self.holder()
            if current and current.get("run_id") == self.run_id:
                self.storage.delete(self.url)
            else:
                log.warning("lease %s was taken over (%s); left in place", self.url, describe(current or {}))
        except StorageError as exc:
            # The run's own outcome decides the exit status; a lease left behind expires by itself.
            log.error("could not release the lease %s: %s (it expires at its ttl)", self.url, exc)

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


@contextmanager
def hold_lease(storage: Storage, url: str, job: str, ttl: dt.timedelta = DEFAULT_LEASE_TTL) -> Iterator[Lease]:
    """Hold the lease at `url` for a whole run: taken before any work (a second run fails at once,
    naming the holder), released on every exit path; `publish_all` inside reuses it."""
    with Lease(storage, url, job, ttl=ttl) as lease:
        token = _RUN_LEASES.set(MappingProxyType({**_RUN_LEASES.get(), url: lease}))
        try:
            yield lease
        finally:
            _RUN_LEASES.reset(token)


def run_lease(url: str) -> Lease | None:
    """The lease at `url` the running job holds for its whole run, if any."""
    lease = _RUN_LEASES.get().get(url)
    return lease if lease is not None and lease.held else None


def _expired(record: dict[str, Any]) -> bool:
    try:
        return dt.datetime.fromisoformat(str(record["expires"])) <= _now()
    except (KeyError, ValueError):
        return True


def describe(record: dict[str, Any]) -> str:
    """`host=... pid=... run_id=... started=... expires=...` of a lease record."""
    keys = ("job", "host", "pid", "run_id", "started", "expires")
    return " ".join(f"{key}={record[key]}" for key in keys if key in record) or "unknown holder"
