"""Pure functions: parsed artifacts and run summaries -> the numbers the report shows.

Nothing here reads files; every function takes JSON values (or None for a missing
artifact) and returns plain rows, so the tables are testable with hand-made inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PROFILE_JOB = "profile_bigtable"


@dataclass(frozen=True)
class Artifact:
    """One artifact as the report found it: payload is None unless it could be read."""

    name: str
    url: str
    status: str  # ok | missing | unreadable | check failed
    payload: Any = None
    size_bytes: int | None = None
    records: int | None = None
    detail: str = ""
    data_date: str | None = None  # YYYY-MM-DD of the dated copy identical to this latest copy


@dataclass(frozen=True)
class FunnelStage:
    label: str
    artifact: str
    count: int | None


@dataclass
class ReportInputs:
    """Everything the page shows, already loaded."""

    bucket: str
    locale_bucket: str
    artifacts: dict[str, Artifact]
    runs: list[dict[str, Any]] = field(default_factory=list)
    runs_url: str | None = None
    runs_problem: str | None = None
    generated_at: str = ""
    data_date: str | None = None  # `--date`; else derived from the artifacts' dated copies

    def payload(self, name: str) -> Any:
        """The payload of `name`, or None when it is missing or unreadable (a failing check still shows)."""
        artifact = self.artifacts.get(name)
        return artifact.payload if artifact is not None else None


def display_name(record: Any) -> str | None:
    """The add-on's human name: a string, or the default-locale (else en-US, else first) translation."""
    if not isinstance(record, Mapping):
        return None
    name = record.get("name")
    if isinstance(name, str):
        return name.strip() or None
    if isinstance(name, Mapping):
        for key in (record.get("default_locale"), "en-US", *name.keys()):
            value = name.get(key) if key is not None else None
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def addon_names(*databases: Any) -> dict[str, str]:
    """GUID -> name from `{guid: record}` databases; earlier databases win."""
    names: dict[str, str] = {}
    for database in databases:
        if not isinstance(database, Mapping):
            continue
        for guid, record in database.items():
            name = display_name(record)
            if name and guid not in names:
                names[guid] = name
    return names


def lr_curve_series(lr_curves: list[Any]) -> tuple[list[float], list[float], list[float]]:
    """Scores, numerator densities (same cluster) and denominator densities (other clusters)."""
    scores, numerators, denominators = [], [], []
    for score, (numerator, denominator) in lr_curves:
        scores.append(float(score))
        numerators.append(float(numerator))
        denominators.append(float(denominator))
    return scores, numerators, denominators


SEPARATION_THRESHOLD = 0.1
"""Total variation distance below which the LR curves are reported as not separating.

The distance is the largest difference in probability the two densities give any range of
scores; under 0.1 the likelihood ratio stays near 1 and barely ranks donors.
"""


@dataclass(frozen=True)
class Separation:
    """How far apart the same-cluster and other-cluster score densities are."""

    distance: float  # total variation distance of the normalised densities, in [0, 1]
    threshold: float
    numerator_mean: float
    denominator_mean: float

    @property
    def separate(self) -> bool:
        return self.distance > self.threshold

    def statement(self) -> str:
        """The verdict in words, with the numbers it rests on."""
        means = f"mean score {self.numerator_mean:.3g} within a cluster, {self.denominator_mean:.3g} across clusters"
        if self.separate:
            return (
                f"The densities separate: total variation distance {self.distance:.3f} > {self.threshold} "
                f"({means}), so the likelihood ratio can rank donors."
            )
        return (
            f"The densities do not separate: total variation distance {self.distance:.3f} <= {self.threshold} "
            f"({means}); the likelihood ratio stays near 1 and carries little signal."
        )


def _trapezoid(xs: list[float], ys: list[float]) -> float:
    return sum((xs[i + 1] - xs[i]) * (ys[i] + ys[i + 1]) / 2 for i in range(len(xs) - 1))


def lr_separation(
    scores: list[float], numerators: list[float], denominators: list[float], threshold: float = SEPARATION_THRESHOLD
) -> Separation:
    """Total variation distance and means of the two densities, each normalised over the score grid.

    Raises ValueError when the grid is not increasing or a density has no mass on it.
    """
    if len(scores) < 2 or any(b <= a for a, b in zip(scores, scores[1:], strict=False)):
        raise ValueError("LR curve scores must be at least two increasing values")
    normalised = []
    for label, density in (("numerator", numerators), ("denominator", denominators)):
        mass = _trapezoid(scores, density)
        if not mass > 0:
            raise ValueError(f"the {label} density has no mass over the score grid (integral {mass})")
        normalised.append([value / mass for value in density])
    p, q = normalised
    distance = 0.5 * _trapezoid(scores, [abs(a - b) for a, b in zip(p, q, strict=True)])
    means = [_trapezoid(scores, [s * v for s, v in zip(scores, d, strict=True)]) for d in (p, q)]
    return Separation(min(distance, 1.0), threshold, means[0], means[1])


def report_data_date(artifacts: Iterable[Artifact]) -> str | None:
    """The data date of the published artifacts: their common date, else the range they span."""
    dates = sorted({a.data_date for a in artifacts if a.data_date})
    if not dates:
        return None
    return dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"


def locale_client_counts(runs: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Per-locale client counts, if a spark_locale summary carries a `{locale: n}` map in counts or details."""
    found: dict[str, int] = {}
    for run in runs:
        if "locale" not in str(run.get("job", "")):
            continue
        for section in (run.get("counts"), run.get("details")):
            if not isinstance(section, Mapping):
                continue
            for key, value in section.items():
                if "locale" in key and isinstance(value, Mapping):
                    found.update({k: v for k, v in value.items() if isinstance(v, int | float)})
    return found


def largest_locales(
    top10: Mapping[str, list[Any]], limit: int, client_counts: Mapping[str, int] | None = None
) -> list[str]:
    """The `limit` largest locales: by client count when known, then by number of entries, then name."""
    counts = client_counts or {}
    ranked = sorted(top10, key=lambda loc: (-counts.get(loc, 0), -len(top10[loc]), loc))
    return ranked[:limit]


def locale_top_addons(
    top10: Mapping[str, list[Any]], locales: Iterable[str], names: Mapping[str, str]
) -> dict[str, list[tuple[str, str, float]]]:
    """Per locale: (guid, name or guid, weight) in the published order."""
    return {loc: [(guid, names.get(guid, guid), float(weight)) for guid, weight in top10[loc]] for loc in locales}


def coinstalled_pairs(coinstallation: Mapping[str, Mapping[str, int]], limit: int) -> list[tuple[str, str, int]]:
    """The most co-installed unordered pairs (a, b, clients with both), a < b, most first."""
    pairs: dict[tuple[str, str], int] = {}
    for guid, others in coinstallation.items():
        for other, count in others.items():
            if guid == other:
                continue
            key = (min(guid, other), max(guid, other))
            pairs[key] = max(pairs.get(key, 0), int(count))
    ranked = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))
    return [(a, b, n) for (a, b), n in ranked[:limit]]


def coinstallation_totals(coinstallation: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """Add-ons with at least one partner and distinct unordered pairs."""
    pairs = {(min(g, o), max(g, o)) for g, others in coinstallation.items() for o in others if g != o}
    return {"addons": sum(1 for others in coinstallation.values() if others), "pairs": len(pairs)}


def install_ranking_top(ranking: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    """The most installed add-ons (guid, clients), most first, ties by GUID."""
    return sorted(((g, int(n)) for g, n in ranking.items()), key=lambda item: (-item[1], item[0]))[:limit]


FUNNEL = [
    ("AMO dump", "extended_addons_database"),
    ("whitelist", "whitelist_addons_database"),
    ("featured", "featured_addons_database"),
    ("featured whitelist", "featured_whitelist_addons"),
]


def _size(payload: Any) -> int | None:
    return len(payload) if isinstance(payload, Mapping | list) else None


def whitelist_funnel(payloads: Mapping[str, Any]) -> list[FunnelStage]:
    """dump -> whitelist -> featured -> featured whitelist counts (None where the artifact is missing)."""
    return [FunnelStage(label, name, _size(payloads.get(name))) for label, name in FUNNEL]


def editorial_overlap(editorial: Any, whitelist: Any) -> dict[str, int] | None:
    """Editorial list size and how many of its GUIDs are in the whitelist database."""
    if not isinstance(editorial, list):
        return None
    result = {"editorial": len(editorial)}
    if isinstance(whitelist, Mapping):
        result["in_whitelist"] = sum(1 for guid in set(editorial) if guid in whitelist)
    return result


def wall_time(run: Mapping[str, Any]) -> float | None:
    """A run's wall time: `durations_s.total`, else the sum of its stages."""
    durations = run.get("durations_s")
    if not isinstance(durations, Mapping):
        return None
    if isinstance(durations.get("total"), int | float):
        return float(durations["total"])
    stages = [v for v in durations.values() if isinstance(v, int | float)]
    return float(sum(stages)) if stages else None


def run_stage(run: Mapping[str, Any]) -> str:
    details = run.get("details")
    return str(details.get("stage", "")) if isinstance(details, Mapping) else ""


def profile_runs(runs: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, float | None, list[tuple[str, Any]]]]:
    """(stage, status, wall time, [(count, value), ...]) of every profile_bigtable summary.

    One row per stage with its counts listed in one cell: the stages report different
    counts, and a column per count made the table wider than the page.
    """
    rows = []
    for run in runs:
        if PROFILE_JOB not in str(run.get("job", "")).replace("-", "_"):
            continue
        counts = run.get("counts") if isinstance(run.get("counts"), Mapping) else {}
        rows.append((run_stage(run), str(run.get("status", "")), wall_time(run), list(counts.items())))
    return rows


def profiles_before_after(runs: Iterable[Mapping[str, Any]]) -> dict[str, int] | None:
    """Rows written, deleted and left, when the load and delete-opt-out summaries carry those counts."""
    written = deleted = None
    for run in runs:
        if PROFILE_JOB not in str(run.get("job", "")).replace("-", "_"):
            continue
        counts = run.get("counts") if isinstance(run.get("counts"), Mapping) else {}
        if isinstance(counts.get("rows_written"), int):
            written = (written or 0) + counts["rows_written"]
        if isinstance(counts.get("rows_deleted"), int):
            deleted = (deleted or 0) + counts["rows_deleted"]
    if written is None or deleted is None:
        return None
    return {"before_deletion": written, "deleted": deleted, "after_deletion": written - deleted}


def counts_text(run: Mapping[str, Any], limit: int = 6) -> str:
    """The first `limit` counts of a run summary as `name=value` pairs."""
    counts = run.get("counts") if isinstance(run.get("counts"), Mapping) else {}
    shown = [f"{k}={v}" for k, v in list(counts.items())[:limit]]
    return ", ".join(shown) + (f", ... {len(counts) - limit} more" if len(counts) > limit else "")


def run_rows(runs: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    """job, stage, status, wall time (s), error for each run summary, in file order."""
    return [
        [str(r.get("job", "?")), run_stage(r), str(r.get("status", "?")), wall_time(r), str(r.get("error", "") or "")]
        for r in runs
    ]
