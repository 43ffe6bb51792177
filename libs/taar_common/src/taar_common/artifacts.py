"""The published artifacts: a JSON schema and named sanity rules for each.

Schemas are JSON Schema draft-07, compiled once with fastjsonschema (a 31,500-record dump
checks in ~1 s instead of ~15 s); jsonschema explains a failure. `check_artifact(name,
payload, **params)` raises `ArtifactCheckError` naming the artifact and the rule; jobs call
it (through `publish_all`) before anything is written.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import fastjsonschema
import jsonschema


class ArtifactCheckError(ValueError):
    """An artifact broke its schema or a sanity rule; nothing was published."""

    def __init__(self, artifact: str, rule: str, detail: str) -> None:
        super().__init__(f"{artifact}: check '{rule}' failed: {detail}")
        self.artifact = artifact
        self.rule = rule
        self.detail = detail


Rule = Callable[..., Iterator[str]]
"""A rule yields one message per violation; `params` come from the job's options."""


@dataclass(frozen=True)
class ArtifactSpec:
    name: str
    schema: dict[str, Any]
    rules: dict[str, Rule] = field(default_factory=dict)

    def count_records(self, payload: Any) -> int:
        return len(payload) if isinstance(payload, dict | list) else 1


ADDON_RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "guid",
        "categories",
        "default_locale",
        "description",
        "name",
        "summary",
        "tags",
        "weekly_downloads",
        "average_daily_users",
        "ratings",
        "current_version",
        "promoted",
        "is_featured",
        "created",
        "first_create_date",
    ],
    "properties": {
        "guid": {"type": "string", "minLength": 1},
        "is_featured": {"type": "boolean"},
        "first_create_date": {"type": "string"},
        "current_version": {
            "type": ["object", "null"],
            "properties": {
                "files": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "platform", "status", "is_webextension"],
                    },
                }
            },
        },
    },
}

ADDON_DATABASE_SCHEMA = {"type": "object", "additionalProperties": ADDON_RECORD_SCHEMA}
GUID_LIST_SCHEMA = {"type": "array", "items": {"type": "string", "minLength": 1}}
COUNT_MAP_SCHEMA = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}}
COINSTALLATION_SCHEMA = {"type": "object", "additionalProperties": COUNT_MAP_SCHEMA}
LOCALE_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "type": "array",
        "items": {
            "type": "array",
            "items": [{"type": "string", "minLength": 1}, {"type": "number"}],
            "minItems": 2,
            "maxItems": 2,
        },
    },
}
DONOR_CATEGORICAL_FEATURES = ("geo_city", "locale", "os")
DONOR_CONTINUOUS_FEATURES = ("subsession_length", "bookmark_count", "tab_open_count", "total_uri", "unique_tlds")
DONOR_FIELDS = (*DONOR_CATEGORICAL_FEATURES, *DONOR_CONTINUOUS_FEATURES, "active_addons")
"""A donor record: the names the similarity recommender reads (and compares), nothing identifying."""
DONORS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": list(DONOR_FIELDS),
        "properties": {"active_addons": {"type": "array", "items": {"type": "string"}}},
    },
}
LR_CURVES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "array",
        "items": [
            {"type": "number"},
            {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 2, "maxItems": 2},
        ],
        "minItems": 2,
        "maxItems": 2,
    },
}


def _not_empty(payload: Any, **_: Any) -> Iterator[str]:
    if not payload:
        yield "is empty"


def _keys_are_guids(payload: dict[str, Any], **_: Any) -> Iterator[str]:
    for key, record in payload.items():
        if record.get("guid") != key:
            yield f"key {key!r} holds the record of {record.get('guid')!r}"


def _first_create_date_parses(payload: dict[str, Any], **_: Any) -> Iterator[str]:
    for key, record in payload.items():
        try:
            dt.datetime.fromisoformat(str(record.get("first_create_date")).replace("Z", "+00:00"))
        except ValueError:
            yield f"{key!r} has unparseable first_create_date {record.get('first_create_date')!r}"


def _sorted_unique(payload: list[str], **_: Any) -> Iterator[str]:
    if payload != sorted(set(payload)):
        yield "GUIDs are not sorted and unique"


def _enough_editorial_guids(
    payload: list[str], min_guids: int = 100, allow_shortlist: bool = False, **_: Any
) -> Iterator[str]:
    if len(payload) < min_guids and not allow_shortlist:
        yield f"only {len(payload)} GUIDs (< {min_guids}); pass --allow-shortlist to accept"


def _symmetric_no_self_pairs(payload: dict[str, dict[str, int]], **_: Any) -> Iterator[str]:
    for guid, others in payload.items():
        if guid in others:
            yield f"self pair for {guid!r}"
        for other, count in others.items():
            if payload.get(other, {}).get(guid) != count:
                yield f"{guid!r}->{other!r}={count} has no equal mirror"


def _locale_weights(payload: dict[str, list[list[Any]]], num_addons: int | None = None, **_: Any) -> Iterator[str]:
    for locale, pairs in payload.items():
        weights = [w for _, w in pairs]
        if any(not (0.0 <= w <= 1.0) or math.isnan(w) for w in weights):
            yield f"{locale}: weight outside [0, 1]"
        if any(a < b for a, b in pairwise(weights)):
            yield f"{locale}: weights not in descending order"
        if sum(weights) > 1 + 1e-9:
            yield f"{locale}: weights sum to {sum(weights)} > 1"
        if num_addons is not None and len(pairs) > num_addons:
            yield f"{locale}: {len(pairs)} add-ons > {num_addons}"
        if len({g for g, _ in pairs}) != len(pairs):
            yield f"{locale}: duplicate GUIDs"


def _no_client_ids(payload: list[dict[str, Any]], **_: Any) -> Iterator[str]:
    for index, donor in enumerate(payload):
        if any("client" in key for key in donor):
            yield f"donor {index} carries a client id field"


def _num_pdf_points(payload: list[Any], num_pdf_points: int | None = None, **_: Any) -> Iterator[str]:
    if num_pdf_points is not None and len(payload) != num_pdf_points:
        yield f"{len(payload)} rows, expected --num-pdf-points={num_pdf_points}"
    scores = [row[0] for row in payload]
    if scores != sorted(scores):
        yield "scores not ascending"
    if any(not math.isfinite(v) for row in payload for v in [row[0], *row[1]]):
        yield "non-finite value"


def _positive_denominator(payload: list[Any], **_: Any) -> Iterator[str]:
    zero = [row[0] for row in payload if not row[1][1] > 0]
    if zero:
        yield f"denominator density is 0 at {len(zero)} score(s), e.g. {zero[0]} (the service divides by it)"


ARTIFACTS: dict[str, ArtifactSpec] = {
    spec.name: spec
    for spec in [
        ArtifactSpec(
            "extended_addons_database",
            ADDON_DATABASE_SCHEMA,
            {
                "non_empty": _not_empty,
                "keys_are_guids": _keys_are_guids,
                "first_create_date_parses": _first_create_date_parses,
            },
        ),
        ArtifactSpec(
            "whitelist_addons_database",
            ADDON_DATABASE_SCHEMA,
            {"non_empty": _not_empty, "keys_are_guids": _keys_are_guids},
        ),
        ArtifactSpec("featured_addons_database", ADDON_DATABASE_SCHEMA, {"keys_are_guids": _keys_are_guids}),
        ArtifactSpec("featured_whitelist_addons", ADDON_DATABASE_SCHEMA, {"keys_are_guids": _keys_are_guids}),
        ArtifactSpec(
            "only_guids_top_200",
            GUID_LIST_SCHEMA,
            {"sorted_unique": _sorted_unique, "enough_guids": _enough_editorial_guids},
        ),
        ArtifactSpec(
            "guid_coinstallation",
            COINSTALLATION_SCHEMA,
            {"non_empty": _not_empty, "symmetric_no_self_pairs": _symmetric_no_self_pairs},
        ),
        ArtifactSpec("guid_install_ranking", COUNT_MAP_SCHEMA, {"non_empty": _not_empty}),
        ArtifactSpec("top10_dict", LOCALE_SCHEMA, {"non_empty": _not_empty, "locale_weights": _locale_weights}),
        ArtifactSpec("donors", DONORS_SCHEMA, {"non_empty": _not_empty, "no_client_ids": _no_client_ids}),
        ArtifactSpec(
            "lr_curves",
            LR_CURVES_SCHEMA,
            {"non_empty": _not_empty, "num_pdf_points": _num_pdf_points, "positive_denominator": _positive_denominator},
        ),
    ]
}


def artifact_spec(name: str) -> ArtifactSpec:
    """The spec of an artifact by base name (`guid_coinstallation` or `guid_coinstallation.json`)."""
    base = name.removesuffix(".bz2").removesuffix(".json")
    try:
        return ARTIFACTS[base]
    except KeyError:
        raise KeyError(f"unknown artifact {name!r}; known: {sorted(ARTIFACTS)}") from None


@functools.cache
def _compiled_schema(name: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile(ARTIFACTS[name].schema)


def check_artifact(name: str, payload: Any, **params: Any) -> None:
    """Validate `payload` against the artifact's schema, then each named rule."""
    spec = artifact_spec(name)
    try:
        _compiled_schema(spec.name)(payload)
    except fastjsonschema.JsonSchemaException:
        # The compiled check is ~15x faster on a 31,500-record dump; jsonschema explains the failure.
        error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(spec.schema).iter_errors(payload))
        detail = error.message if error is not None else "payload does not match the schema"
        where = "/".join(str(p) for p in error.absolute_path) if error is not None else ""
        raise ArtifactCheckError(spec.name, "schema", f"at {where or '(root)'}: {detail[:300]}") from None
    for rule_name, rule in spec.rules.items():
        problems = list(rule(payload, **params))
        if problems:
            shown = "; ".join(problems[:5]) + (f"; ... {len(problems) - 5} more" if len(problems) > 5 else "")
            raise ArtifactCheckError(spec.name, rule_name, shown)


# --- the collaborative recommender's artifacts (item_matrix.json, addon_mapping.json) ---------


def positive_hash(guid: str) -> int:
    """The collaborative item id of an add-on: Java's `String.hashCode` of `guid` masked to 23 bits.

    Computed as the TAAR service computes it when it looks up a client's installed add-ons
    (mozilla-taar3 `recommenders/collaborative_recommender.py`: `h = 31 * h + ord(c)` over the
    characters, 32-bit wrap): per code point. Java iterates UTF-16 code units, so the two differ
    only for characters outside the BMP, which AMO add-on ids never contain (ASCII only); the
    published id must be the one the reader computes.
    """
    h = 0
    for char in guid:
        h = (31 * h + ord(char)) & 0xFFFFFFFF
    return h & 0x7FFFFF  # the sign bit is above bit 23, so masking the unsigned value is the same


ITEM_MATRIX_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "features"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 0, "maximum": 0x7FFFFF},
            "features": {"type": "array", "items": {"type": "number"}, "minItems": 1},
        },
    },
}
ADDON_MAPPING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": "^(0|[1-9][0-9]*)$"},
    "additionalProperties": {
        "type": "object",
        "required": ["id", "name", "isWebextension"],
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "name": {"type": "string"},
            "isWebextension": {"const": True},
        },
    },
}


def _unique_item_ids(payload: list[dict[str, Any]], **_: Any) -> Iterator[str]:
    seen: set[int] = set()
    for row in payload:
        if row["id"] in seen:
            yield f"item id {row['id']} appears twice"
        seen.add(row["id"])


def _features(payload: list[dict[str, Any]], rank: int | None = None, **_: Any) -> Iterator[str]:
    lengths = {len(row["features"]) for row in payload}
    if len(lengths) > 1:
        yield f"rows have different feature lengths {sorted(lengths)} (the service stacks them into one matrix)"
    if rank is not None and lengths - {rank}:
        yield f"feature length {sorted(lengths - {rank})} != --rank {rank}"
    for row in payload:
        if not all(math.isfinite(v) for v in row["features"]):
            yield f"item {row['id']} has a non-finite feature"


def _keys_are_item_ids(payload: dict[str, dict[str, Any]], **_: Any) -> Iterator[str]:
    for key, entry in payload.items():
        if str(positive_hash(entry["id"])) != key:
            yield f"key {key} holds {entry['id']!r}, whose item id is {positive_hash(entry['id'])}"


def _mapping_covers_matrix(
    payload: list[dict[str, Any]], addon_mapping: dict[str, Any] | None = None, **_: Any
) -> Iterator[str]:
    """Every matrix row must be in the mapping: the service skips (never recommends) the others."""
    if addon_mapping is None:
        return
    missing = [row["id"] for row in payload if str(row["id"]) not in addon_mapping]
    if missing:
        yield f"{len(missing)} item id(s) missing from addon_mapping, e.g. {missing[0]}"


ARTIFACTS.update(
    {
        "item_matrix": ArtifactSpec(
            "item_matrix",
            ITEM_MATRIX_SCHEMA,
            {
                "non_empty": _not_empty,
                "unique_ids": _unique_item_ids,
                "features": _features,
                "mapping_covers_matrix": _mapping_covers_matrix,
            },
        ),
        "addon_mapping": ArtifactSpec(
            "addon_mapping", ADDON_MAPPING_SCHEMA, {"non_empty": _not_empty, "keys_are_item_ids": _keys_are_item_ids}
        ),
    }
)


# --- the ensemble recommender's weights (ensemble_weight.json) --------------------------------

ENSEMBLE_RECOMMENDERS = ("collaborative", "similarity", "locale")
"""The keys the service's EnsembleRecommender multiplies its recommenders' scores by."""
ENSEMBLE_WEIGHT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ensemble_weights"],
    "additionalProperties": False,
    "properties": {
        "ensemble_weights": {
            "type": "object",
            "required": list(ENSEMBLE_RECOMMENDERS),
            "additionalProperties": False,
            "properties": {name: {"type": "number", "minimum": 0, "maximum": 1} for name in ENSEMBLE_RECOMMENDERS},
        }
    },
}


def _weights_sum_to_one(payload: dict[str, dict[str, float]], **_: Any) -> Iterator[str]:
    weights = payload["ensemble_weights"].values()
    if not all(math.isfinite(w) for w in weights):
        yield "non-finite weight"
    elif abs(sum(weights) - 1.0) > 1e-9:
        yield f"weights sum to {sum(weights)}, not 1"


ARTIFACTS["ensemble_weight"] = ArtifactSpec(
    "ensemble_weight", ENSEMBLE_WEIGHT_SCHEMA, {"weights_sum_to_one": _weights_sum_to_one}
)
