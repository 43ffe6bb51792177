"""Pure parts of update_whitelist: the editorial GUID list and the validation batches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taar_common.addon_ids import addon_id_problem, loggable_id


class MalformedEditorialError(ValueError):
    """The editorial response is not `{"results": [{"addon": {"guid": ...}}, ...]}`; names the URL."""


@dataclass(frozen=True)
class EditorialGuids:
    """Sorted unique valid GUIDs, and what was dropped on the way (counted, never silent).

    `rejected` holds one loggable line per GUID that is not an add-on id: its truncated
    `repr` and the reason.
    """

    guids: list[str]
    empty: int
    rejected: list[str]
    duplicates: int


def editorial_results(payload: Any, url: str) -> list[Any]:
    """The `results` list of an editorial page."""
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list):
        raise MalformedEditorialError(f"{url}: 'results' is missing or not a list")
    return results


def editorial_guids(results: list[Any]) -> EditorialGuids:
    """GUIDs of the entries' add-ons: null/empty dropped, non-ids rejected and named, sorted, unique."""
    seen: set[str] = set()
    empty = duplicates = 0
    rejected: list[str] = []
    for entry in results:
        addon = entry.get("addon") if isinstance(entry, dict) else None
        guid = addon.get("guid") if isinstance(addon, dict) else None
        if guid is None or guid == "":
            empty += 1
        elif (problem := addon_id_problem(guid)) is not None:
            rejected.append(f"{loggable_id(guid)}: {problem}")
        elif guid in seen:
            duplicates += 1
        else:
            seen.add(guid)
    return EditorialGuids(sorted(seen), empty, rejected, duplicates)


def guid_batches(guids: list[str], size: int) -> list[list[str]]:
    """Consecutive batches of at most `size` GUIDs (one `guid=a,b,...` search page each)."""
    return [guids[start : start + size] for start in range(0, len(guids), size)]


def unknown_guids(requested: list[str], found: set[str]) -> list[str]:
    """The requested GUIDs search did not return, in order."""
    return [guid for guid in requested if guid not in found]
