"""The publish protocol (docs/ARCHITECTURE.md, section 2): check, dated copy, then latest copy.

`publish_all` publishes a job's whole artifact set under one lease (one run at a time per job
and target), checks every payload and the shrink guard before the first write, then writes
every dated copy and then every latest copy, in one fixed order.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taar_common.artifacts import artifact_spec, check_artifact
from taar_common.dates import compact
from taar_common.lease import DEFAULT_LEASE_TTL, Lease, lease_url, run_lease
from taar_common.storage import NotFoundError, Storage, StorageError, check_key, encode_json, join_url

if TYPE_CHECKING:
    from taar_common.summary import RunSummary

log = logging.getLogger(__name__)

DEFAULT_MAX_SHRINK = 0.2


class PublishGuardError(ValueError):
    """The new artifact is much smaller than the latest copy it would replace; nothing was written."""


@dataclass(frozen=True)
class PublishPolicy:
    """How far a new latest copy may shrink, and how long a run's lease lasts (`--max-shrink`...)."""

    max_shrink: float = DEFAULT_MAX_SHRINK
    allow_shrink: bool = False
    lease_ttl: dt.timedelta = DEFAULT_LEASE_TTL


@dataclass(frozen=True)
class PublishTarget:
    """Where a job's artifacts go and how they are named."""

    bucket_url: str
    prefix: str
    day: dt.date
    compress: str | None = None
    policy: PublishPolicy = PublishPolicy()


@dataclass(frozen=True)
class OutputTarget:
    """Where a run publishes and under which policy, as the output options resolved it."""

    bucket_url: str
    prefix: str
    compress: str | None = None
    policy: PublishPolicy = PublishPolicy()

    def on(self, day: dt.date) -> PublishTarget:
        """The target of the artifacts dated `day`."""
        return PublishTarget(self.bucket_url, self.prefix, day, self.compress, self.policy)


@dataclass(frozen=True)
class PublishedArtifact:
    name: str
    latest_url: str
    dated_url: str
    size_bytes: int
    records: int


def artifact_urls(bucket_url: str, prefix: str, name: str, day: dt.date, compress: str | None) -> tuple[str, str]:
    """(dated, latest) URLs of artifact `name` (e.g. `donors.json`); refuses a prefix or name leaving the bucket."""
    check_key(prefix, "prefix")
    check_key(name, "artifact name")
    base = name.removesuffix(".json")
    suffix = ".json.bz2" if compress == "bz2" else ".json"
    return (
        join_url(bucket_url, prefix, f"{base}{compact(day)}{suffix}"),
        join_url(bucket_url, prefix, f"{base}{suffix}"),
    )


def check_shrink(storage: Storage, name: str, payload: Any, latest_url: str, policy: PublishPolicy) -> None:
    """Fail if `payload` has far fewer records than the latest copy it would replace.

    Records = the length of the top-level list or object. An empty artifact replacing a
    non-empty one, or a fall by more than `policy.max_shrink`, fails unless `allow_shrink`.
    """
    if policy.allow_shrink:
        return
    try:
        previous = storage.read_artifact(latest_url)
    except NotFoundError:
        return
    except StorageError as exc:
        log.warning("shrink guard: the previous %s is unreadable (%s); it will be replaced", latest_url, exc)
        return
    spec = artifact_spec(name)
    old, new = spec.count_records(previous), spec.count_records(payload)
    if old == 0:
        return
    if new == 0 or (old - new) / old > policy.max_shrink:
        raise PublishGuardError(
            f"{name}: the new artifact has {new} records, the latest copy {latest_url} has {old} "
            f"(a fall of {(old - new) / old:.0%}, over --max-shrink {policy.max_shrink:.0%}); "
            "nothing was written. Check the inputs, or rerun with --allow-shrink if the fall is expected."
        )


def publish_all(
    storage: Storage,
    target: PublishTarget,
    payloads: Mapping[str, Any],
    summary: RunSummary,
    check_params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[PublishedArtifact]:
    """Publish a job's artifact set as one unit, under the job's (`summary.job`) lease on the
    target, with the target's shrink policy; the URLs written are recorded in `summary`.

    Order: take the lease, or reuse the one the run holds since it started (`RunSummary.run`
    with `lease_on`); LeaseHeldError names the holder if another run has it; check every
    payload and the shrink guard; write every dated copy, then, still holding the lease,
    every latest copy, in the order of `payloads`. A lease taken here is released on every
    exit path, so two runs never interleave their sets.
    """
    policy, check_params = target.policy, check_params or {}
    url = lease_url(target.bucket_url, target.prefix, summary.job)
    held = run_lease(url)
    with nullcontext(held) if held is not None else Lease(storage, url, summary.job, ttl=policy.lease_ttl) as lease:
        prepared = []
        for name, payload in payloads.items():
            check_artifact(name, payload, **check_params.get(name, {}))
            dated_url, latest_url = artifact_urls(target.bucket_url, target.prefix, name, target.day, target.compress)
            prepared.append((name, payload, dated_url, latest_url))
        for name, payload, _, latest_url in prepared:
            check_shrink(storage, name, payload, latest_url, policy)
        content_type = "application/x-bzip2" if target.compress == "bz2" else "application/json"
        encoded = {name: encode_json(payload, compress=target.compress) for name, payload, _, _ in prepared}
        for name, _, dated_url, _ in prepared:
            storage.write_bytes(dated_url, encoded[name], content_type)
        lease.check()
        published = []
        for name, payload, dated_url, latest_url in prepared:
            storage.write_bytes(latest_url, encoded[name], content_type)
            records = artifact_spec(name).count_records(payload)
            log.info("published %s (%d records, %d bytes) to %s", name, records, len(encoded[name]), latest_url)
            published.append(PublishedArtifact(name, latest_url, dated_url, len(encoded[name]), records))
    for artifact in published:
        summary.add_artifact(artifact.dated_url)
        summary.add_artifact(artifact.latest_url)
    return published
