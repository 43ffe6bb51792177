"""The whitelists the Spark jobs read: where they live by default and how they are loaded.

Both published forms are accepted: `whitelist_addons_database.json` (`{guid: record}`) and
`only_guids_top_200.json` (`[guid, ...]`), plain or `.bz2`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from taar_common.amo import AMO_BUCKET, AMO_PREFIX
from taar_common.storage import Storage, join_url, resolve_bucket_url

PIONEER_GUID = "pioneer-opt-in@mozilla.org"
"""The one add-on the validity rule excludes by its GUID alone (never recommended)."""
EXCLUDED_GUIDS = frozenset({PIONEER_GUID})


class WhitelistError(ValueError):
    """A whitelist is empty or not in either published form; the message names the URL."""


def default_whitelist_url(name: str) -> str:
    """Where the AMO jobs publish `name` when run on their defaults (`<data root>/telemetry-parquet/...`)."""
    return join_url(resolve_bucket_url(None, AMO_BUCKET), AMO_PREFIX, name)


def whitelist_guids(payload: Any, *, source: str) -> list[str]:
    """Sorted unique GUIDs of a whitelist payload (a `{guid: record}` object or a list of GUIDs)."""
    if isinstance(payload, dict):
        guids = list(payload)
    elif isinstance(payload, list):
        guids = payload
    else:
        raise WhitelistError(f"{source}: expected a JSON object or list of GUIDs, got {type(payload).__name__}")
    bad = [g for g in guids if not isinstance(g, str) or not g]
    if bad:
        raise WhitelistError(f"{source}: {len(bad)} entries are not GUID strings, e.g. {bad[0]!r}")
    if not guids:
        raise WhitelistError(f"{source}: the whitelist is empty; re-run the job that publishes it")
    return sorted(set(guids))


def read_whitelist(storage: Storage, url: str) -> list[str]:
    """Read a whitelist (`.json` or `.json.bz2`); a missing or empty one raises, naming `url`."""
    return whitelist_guids(storage.read_artifact(url), source=url)


def recommendable_guids(guids: Iterable[str]) -> list[str]:
    """Sorted unique `guids` without those the validity rule excludes by GUID alone.

    Whatever ranks or adds noise over a whitelist uses this, so an excluded add-on that an
    upstream list still carries can never be published (e.g. by noise alone).
    """
    return sorted(set(guids) - EXCLUDED_GUIDS)
