"""The three constituent recommenders, re-implemented over our published artifacts, vectorised.

What each one does with its files follows the TAAR service (mozilla-taar3 1.0.7,
`taar/recommenders/{locale,similarity,collaborative}_recommender.py` and `cache.py`):

- locale: the client's locale's list in `top10_dict.json`, first `limit` entries, as published.
- similarity: per donor, distance = (Canberra over the five continuous features + 0.001) x
  Hamming over city/locale/os; likelihood ratio = numerator / denominator of the `lr_curves.json`
  row whose score is nearest (the first on a tie, as `np.argmin`); donors with log LR > 0 add
  their log LR to each of their add-ons; sorted by score, ties by GUID.
- collaborative: user factors = sum of the features of the matrix rows whose id is the
  `positive_hash` of an installed add-on; score = dot product with every other row that
  `addon_mapping.json` maps to a WebExtension; sorted by score, ties in matrix order.

The ensemble passes each recommender `limit + len(installed)` and drops installed add-ons after
merging, so lists here are cut at that "extended limit" too. Everything works on a batch of
clients at once over one universe of GUIDs (numpy matrices, no per-recommendation Python).
No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from taar_common.artifacts import DONOR_CATEGORICAL_FEATURES as CATEGORICAL_FEATURES
from taar_common.artifacts import DONOR_CONTINUOUS_FEATURES as CONTINUOUS_FEATURES
from taar_common.artifacts import positive_hash

TOP_N = 10
"""Recommendations the service returns by default (its TAAR_MAX_RESULTS)."""
RECOMMENDERS = ("collaborative", "similarity", "locale")
"""The ensemble's keys, in the service's order (also the order of the feature vector)."""
FLOOR_DISTANCE_ADJUSTMENT = 0.001
NOT_LISTED = np.iinfo(np.int64).max


class ModelInputError(ValueError):
    """A model artifact cannot be scored as the service would read it; the message names it."""


@dataclass(frozen=True)
class Models:
    """The artifacts as matrices over one sorted universe of GUIDs (columns)."""

    guids: list[str]
    column: dict[str, int]
    locale_row: dict[str, int]
    locale_weight: np.ndarray  # (locales + 1) x U; the last row is "no list"
    locale_position: np.ndarray  # same shape, float position in the list, inf where absent
    donor_continuous: np.ndarray  # donors x 5
    donor_categorical: np.ndarray  # donors x 3 integer codes (per-feature vocabulary)
    vocabulary: tuple[dict[Any, int], ...]
    donor_addons: np.ndarray  # donors x U, how often the donor lists the add-on
    curve_score: np.ndarray  # ascending
    curve_lr: np.ndarray
    item_row: dict[int, int]  # item id -> matrix row
    item_features: np.ndarray  # items x rank
    item_column: np.ndarray  # matrix row -> universe column, -1 when the service would skip it
    item_order: np.ndarray  # U: the matrix row recommending that GUID (tie order), large otherwise


@dataclass(frozen=True)
class Batch:
    """A batch of clients as the service would see their profiles (installed = without the held-out add-on)."""

    installed: Sequence[Sequence[str]]
    locale: Sequence[str | None]
    categorical: Sequence[Sequence[Any]]  # geo_city, locale, os
    continuous: np.ndarray  # B x 5, NaN where unknown


@dataclass(frozen=True)
class Ranked:
    """One recommender's answer for a batch: `score` and `rank` (0 = first) per client x GUID.

    `rank` is `NOT_LISTED` for what the recommender does not return within the client's
    extended limit.
    """

    score: np.ndarray
    rank: np.ndarray

    @property
    def listed(self) -> np.ndarray:
        return self.rank != NOT_LISTED

    def features(self) -> np.ndarray:
        """The score where listed, 0 elsewhere (what the ensemble adds up)."""
        return np.where(self.listed, self.score, 0.0)


def build_models(
    top10: Mapping[str, list[list[Any]]],
    donors: Sequence[Mapping[str, Any]],
    lr_curves: Sequence[Sequence[Any]],
    item_matrix: Sequence[Mapping[str, Any]],
    addon_mapping: Mapping[str, Mapping[str, Any]],
    extra_guids: Sequence[str] = (),
) -> Models:
    """Matrices of the five artifacts; `extra_guids` (the whitelist) join the universe so every
    add-on that can be held out has a column."""
    mapped = {}
    for row in item_matrix:
        entry = addon_mapping.get(str(row["id"]))
        if entry is not None and entry.get("isWebextension", False) is not False:  # the service's test
            mapped[int(row["id"])] = entry["id"]
    if len(set(mapped.values())) != len(mapped):
        raise ModelInputError("addon_mapping maps two matrix rows to the same GUID")
    universe = set(extra_guids) | set(mapped.values())
    universe |= {guid for pairs in top10.values() for guid, _ in pairs}
    universe |= {guid for donor in donors for guid in donor["active_addons"]}
    guids = sorted(universe)
    column = {guid: i for i, guid in enumerate(guids)}
    width = len(guids)

    locales = sorted(top10)
    locale_weight = np.zeros((len(locales) + 1, width))
    locale_position = np.full((len(locales) + 1, width), np.inf)
    for row, locale in enumerate(locales):
        for position, (guid, weight) in enumerate(top10[locale]):
            if np.isinf(locale_position[row, column[guid]]):  # a repeated GUID keeps its first place
                locale_position[row, column[guid]] = position
                locale_weight[row, column[guid]] = float(weight)

    vocabulary = tuple({} for _ in CATEGORICAL_FEATURES)
    donor_categorical = np.zeros((len(donors), len(CATEGORICAL_FEATURES)), dtype=np.int64)
    for d, donor in enumerate(donors):
        for f, name in enumerate(CATEGORICAL_FEATURES):
            donor_categorical[d, f] = vocabulary[f].setdefault(donor.get(name), len(vocabulary[f]))
    donor_continuous = np.array(
        [[_number(donor.get(name)) for name in CONTINUOUS_FEATURES] for donor in donors], dtype=float
    ).reshape(len(donors), len(CONTINUOUS_FEATURES))
    donor_addons = np.zeros((len(donors), width))
    for d, donor in enumerate(donors):
        for guid in donor["active_addons"]:
            donor_addons[d, column[guid]] += 1.0  # the service appends every term, repeats included

    curve = np.array([[float(score), float(num), float(den)] for score, (num, den) in lr_curves]).reshape(-1, 3)
    if len(curve) and np.any(np.diff(curve[:, 0]) < 0):
        raise ModelInputError("lr_curves scores are not ascending")
    with np.errstate(divide="ignore", invalid="ignore"):
        curve_lr = curve[:, 1] / curve[:, 2]

    item_ids = [int(row["id"]) for row in item_matrix]
    rank = len(item_matrix[0]["features"]) if item_matrix else 0
    item_features = np.array([row["features"] for row in item_matrix], dtype=float).reshape(len(item_matrix), rank)
    item_column = np.array([column[mapped[i]] if i in mapped else -1 for i in item_ids], dtype=np.int64)
    item_order = np.full(width, NOT_LISTED, dtype=np.int64)
    for row, col in enumerate(item_column):
        if col >= 0:
            item_order[col] = row
    return Models(
        guids=guids,
        column=column,
        locale_row={locale: i for i, locale in enumerate(locales)},
        locale_weight=locale_weight,
        locale_position=locale_position,
        donor_continuous=donor_continuous,
        donor_categorical=donor_categorical,
        vocabulary=vocabulary,
        donor_addons=donor_addons,
        curve_score=curve[:, 0],
        curve_lr=curve_lr,
        item_row={item: row for row, item in enumerate(item_ids)},
        item_features=item_features,
        item_column=item_column,
        item_order=item_order,
    )


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def rank_rows(candidates: np.ndarray, primary: np.ndarray, secondary: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Per row, the position of each candidate ordered by `primary` then `secondary` (ascending),
    `NOT_LISTED` beyond `limit[row]` or for non-candidates."""
    primary = np.where(candidates, primary, np.inf)
    secondary = np.broadcast_to(secondary, primary.shape)
    order = np.lexsort((secondary, primary), axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(order.shape[1]), order.shape), axis=1)
    return np.where(candidates & (ranks < limit[:, None]), ranks, NOT_LISTED)


def extended_limits(batch: Batch, limit: int = TOP_N) -> np.ndarray:
    """What the ensemble asks each recommender for: `limit` plus the number of installed add-ons."""
    return np.array([limit + len(installed) for installed in batch.installed], dtype=np.int64)


def locale_ranked(models: Models, batch: Batch, limits: np.ndarray) -> Ranked:
    """The locale's published list, in its order, cut at the limit (nothing for an unknown locale)."""
    none = len(models.locale_row)
    rows = np.array([models.locale_row.get(loc, none) if isinstance(loc, str) else none for loc in batch.locale])
    position = models.locale_position[rows]
    candidates = np.isfinite(position)
    rank = rank_rows(candidates, position, np.zeros(position.shape[1]), limits)
    return Ranked(models.locale_weight[rows], rank)


def donor_distances(models: Models, batch: Batch) -> np.ndarray:
    """B x donors: (Canberra over the continuous features + 0.001) x Hamming over the categorical ones."""
    client = batch.continuous[:, None, :]
    donor = models.donor_continuous[None, :, :]
    numerator = np.abs(client - donor)
    denominator = np.abs(client) + np.abs(donor)
    with np.errstate(divide="ignore", invalid="ignore"):
        # scipy's canberra: a term whose denominator is 0 (both values 0) adds nothing
        canberra = np.where(denominator != 0, numerator / denominator, 0.0).sum(axis=2)
    codes = np.array(
        [[models.vocabulary[f].get(value, -1) for f, value in enumerate(row)] for row in batch.categorical],
        dtype=np.int64,
    ).reshape(len(batch.categorical), len(CATEGORICAL_FEATURES))
    hamming = (codes[:, None, :] != models.donor_categorical[None, :, :]).mean(axis=2)
    return (canberra + FLOOR_DISTANCE_ADJUSTMENT) * hamming


def likelihood_ratios(models: Models, distances: np.ndarray) -> np.ndarray:
    """The LR of the curve row nearest each distance; on a tie the first row (`np.argmin`'s choice)."""
    xs = models.curve_score
    right = np.clip(np.searchsorted(xs, distances, side="left"), 0, len(xs) - 1)
    left = np.clip(right - 1, 0, len(xs) - 1)
    take_left = np.abs(distances - xs[left]) <= np.abs(distances - xs[right])
    nearest = np.where(take_left, left, right)
    first = np.searchsorted(xs, xs[nearest], side="left")  # repeated scores: argmin returns the first
    return models.curve_lr[first]


def similarity_ranked(models: Models, batch: Batch, limits: np.ndarray) -> Ranked:
    """Donors' add-ons weighted by the donors' positive log LRs; only clients with every feature known."""
    known = np.isfinite(batch.continuous).all(axis=1) & np.array(
        [all(isinstance(v, str) for v in row) for row in batch.categorical], dtype=bool
    )
    width = len(models.guids)
    if not len(models.donor_addons) or not len(models.curve_score):
        return Ranked(np.zeros((len(known), width)), np.full((len(known), width), NOT_LISTED))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_lr = np.log(likelihood_ratios(models, donor_distances(models, batch)))
    positive = (log_lr > 0.0) & known[:, None]
    score = np.where(positive, log_lr, 0.0) @ models.donor_addons
    candidates = (positive.astype(float) @ (models.donor_addons > 0)) > 0
    rank = rank_rows(candidates, -score, np.zeros(width), limits)  # columns are GUID-sorted: ties by GUID
    return Ranked(score, rank)


def installed_item_rows(models: Models, batch: Batch) -> np.ndarray:
    """B x items: 1 where the row's id is the positive_hash of an installed add-on."""
    query = np.zeros((len(batch.installed), len(models.item_row)))
    for i, installed in enumerate(batch.installed):
        rows = [models.item_row[h] for h in {positive_hash(g) for g in installed} if h in models.item_row]
        query[i, rows] = 1.0
    return query


def collaborative_ranked(models: Models, batch: Batch, limits: np.ndarray) -> Ranked:
    """Dot products of the user factors with every mapped, not installed item; nothing without installs."""
    width = len(models.guids)
    has_installs = np.array([len(installed) > 0 for installed in batch.installed], dtype=bool)
    query = installed_item_rows(models, batch)
    item_scores = (query @ models.item_features) @ models.item_features.T
    mapped = models.item_column >= 0
    score = np.zeros((len(query), width))
    candidates = np.zeros((len(query), width), dtype=bool)
    score[:, models.item_column[mapped]] = item_scores[:, mapped]
    candidates[:, models.item_column[mapped]] = query[:, mapped] == 0
    candidates &= has_installs[:, None]
    rank = rank_rows(candidates, -score, models.item_order, limits)
    return Ranked(score, rank)


def rank_all(models: Models, batch: Batch, limit: int = TOP_N) -> dict[str, Ranked]:
    """Every recommender's answer for the batch, keyed as the ensemble keys them."""
    limits = extended_limits(batch, limit)
    return {
        "collaborative": collaborative_ranked(models, batch, limits),
        "similarity": similarity_ranked(models, batch, limits),
        "locale": locale_ranked(models, batch, limits),
    }


def installed_mask(models: Models, batch: Batch) -> np.ndarray:
    mask = np.zeros((len(batch.installed), len(models.guids)), dtype=bool)
    for i, installed in enumerate(batch.installed):
        mask[i, [models.column[g] for g in installed if g in models.column]] = True
    return mask


def hits(ranked: Ranked, installed: np.ndarray, held_out: np.ndarray, limit: int = TOP_N) -> np.ndarray:
    """Per client: is the held-out add-on (a column index) among the first `limit` results once the
    installed add-ons are dropped (as the ensemble shows them)?"""
    rows = np.arange(len(held_out))
    visible = ranked.listed & ~installed
    held_rank = ranked.rank[rows, held_out]
    ahead = (visible & (ranked.rank < held_rank[:, None])).sum(axis=1)
    return visible[rows, held_out] & (ahead < limit)


def ensemble_ranking(
    ranked: Mapping[str, Ranked], weights: Mapping[str, float], installed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(score, listed) of the ensemble: the weighted sum of each recommender's listed scores over the
    GUIDs any of them lists, installed add-ons dropped; the service sorts by score, ties by GUID."""
    score = sum(weights[name] * ranked[name].features() for name in RECOMMENDERS)
    listed = np.logical_or.reduce([ranked[name].listed for name in RECOMMENDERS]) & ~installed
    return score, listed


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over uint64 values: a seeded, order-independent pseudo-random key."""
    z = values.astype(np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
