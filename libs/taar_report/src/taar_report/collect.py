"""The report's I/O: where each artifact lives, reading it, checking it, reading the runs file.

A missing or broken artifact becomes an `Artifact` with a status, never an exception:
the page must still render and say what is wrong.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from taar_common.amo import AMO_PREFIX
from taar_common.artifacts import ArtifactCheckError, artifact_spec, check_artifact
from taar_common.storage import NotFoundError, Storage, StorageError, join_url

from taar_report.model import Artifact

log = logging.getLogger(__name__)

LITE_PREFIX = "taar/lite/"
LOCALE_PREFIX = "taar/locale/"
SIMILARITY_PREFIX = "taar/similarity/"
COLLABORATIVE_PREFIX = "addon_recommender/"
ENSEMBLE_PREFIX = "taar/ensemble/"

# (artifact, prefix, lives in the locale bucket)
ARTIFACT_LAYOUT = [
    ("extended_addons_database", AMO_PREFIX, False),
    ("whitelist_addons_database", AMO_PREFIX, False),
    ("featured_addons_database", AMO_PREFIX, False),
    ("featured_whitelist_addons", AMO_PREFIX, False),
    ("only_guids_top_200", AMO_PREFIX, False),
    ("guid_coinstallation", LITE_PREFIX, False),
    ("guid_install_ranking", LITE_PREFIX, False),
    ("top10_dict", LOCALE_PREFIX, True),
    ("lr_curves", SIMILARITY_PREFIX, False),
    ("donors", SIMILARITY_PREFIX, False),
    ("item_matrix", COLLABORATIVE_PREFIX, False),
    ("addon_mapping", COLLABORATIVE_PREFIX, False),
    ("ensemble_weight", ENSEMBLE_PREFIX, False),
]

PRODUCED_BY = {
    "extended_addons_database": "taar-amodump",
    "whitelist_addons_database": "taar-amowhitelist",
    "featured_addons_database": "taar-amowhitelist",
    "featured_whitelist_addons": "taar-amowhitelist",
    "only_guids_top_200": "taar-update-whitelist",
    "guid_coinstallation": "taar-spark-lite",
    "guid_install_ranking": "taar-spark-lite",
    "top10_dict": "taar-spark-locale",
    "lr_curves": "taar-spark-similarity",
    "donors": "taar-spark-similarity",
    "item_matrix": "taar-spark-collaborative",
    "addon_mapping": "taar-spark-collaborative",
    "ensemble_weight": "taar-spark-ensemble",
}


def artifact_urls(bucket: str, locale_bucket: str) -> dict[str, str]:
    """The latest-copy URL (`NAME.json`) of every artifact the report reads."""
    return {
        name: join_url(locale_bucket if in_locale_bucket else bucket, prefix, f"{name}.json")
        for name, prefix, in_locale_bucket in ARTIFACT_LAYOUT
    }


def load_artifact(storage: Storage, name: str, url: str, check_params: Mapping[str, Any] | None = None) -> Artifact:
    """Read `url` (or its `.bz2` form), measure it and run `check_artifact` on it."""
    try:
        found = next((u for u in (url, url + ".bz2") if storage.exists(u)), None)
    except StorageError as exc:
        return Artifact(name, url, "unreadable", detail=str(exc))
    if found is None:
        return Artifact(name, url, "missing", detail=f"not found (nor .bz2); run {PRODUCED_BY.get(name, 'its job')}")
    try:
        raw = storage.read_bytes(found)  # read_artifact does not report sizes; a second read is cheap here
        payload = storage.read_artifact(found)
    except NotFoundError as exc:
        return Artifact(name, found, "missing", detail=str(exc))
    except StorageError as exc:
        return Artifact(name, found, "unreadable", detail=str(exc))
    size, records = len(raw), artifact_spec(name).count_records(payload)
    data_date = dated_copy_date(storage, name, found, raw)
    try:
        check_artifact(name, payload, **dict(check_params or {}))
    except ArtifactCheckError as exc:
        log.warning("%s: %s", found, exc)
        return Artifact(name, found, "check failed", payload, size, records, f"{exc.rule}: {exc.detail}", data_date)
    return Artifact(name, found, "ok", payload, size, records, data_date=data_date)


def dated_copy_date(storage: Storage, name: str, latest_url: str, latest: bytes, *, tries: int = 3) -> str | None:
    """YYYY-MM-DD of the newest dated copy (`NAME<YYYYMMDD>.json[.bz2]`) with the latest copy's bytes.

    Publishing writes the dated copy, then the latest, with the same bytes; so this is the day
    the latest copy was made for. Only the `tries` newest dated copies are read: an older
    match would mean the newest runs did not reach the latest copy. None when none matches.
    """
    folder, _, filename = latest_url.rpartition("/")
    suffix = filename[len(name) :]  # .json or .json.bz2
    pattern = re.compile(re.escape(name) + r"(\d{8})" + re.escape(suffix) + "$")
    try:
        dated = sorted(
            ((m.group(1), url) for url in storage.list_prefix(f"{folder}/{name}") if (m := pattern.search(url))),
            reverse=True,
        )
        for day, url in dated[:tries]:
            if storage.read_bytes(url) == latest:
                return f"{day[:4]}-{day[4:6]}-{day[6:]}"
    except StorageError as exc:  # the date is a label; the artifact itself was read fine
        log.warning("cannot find the dated copy of %s: %s", latest_url, exc)
    return None


def load_artifacts(
    storage: Storage, urls: Mapping[str, str], check_params: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Artifact]:
    """`load_artifact` for each named URL; `check_params` holds per-artifact rule parameters."""
    params = check_params or {}
    return {name: load_artifact(storage, name, url, params.get(name)) for name, url in urls.items()}


def load_runs(storage: Storage, url: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The demo's run summaries (a JSON list, or `{"runs": [...]}`) and a problem message, if any."""
    if url is None:
        return [], "no runs file (pass --runs URL; the demo writes <bucket>/demo-runs.json)"
    try:
        payload = storage.read_json(url)
    except NotFoundError:
        return [], f"runs file not found: {url}"
    except StorageError as exc:
        return [], f"runs file unreadable: {exc}"
    if isinstance(payload, Mapping) and isinstance(payload.get("runs"), list):
        payload = payload["runs"]
    if not isinstance(payload, list):
        return [], f"runs file {url} is not a JSON list of run summaries"
    runs = [run for run in payload if isinstance(run, Mapping)]
    skipped = len(payload) - len(runs)
    return [dict(run) for run in runs], (f"{skipped} entries of {url} are not objects; skipped" if skipped else None)
