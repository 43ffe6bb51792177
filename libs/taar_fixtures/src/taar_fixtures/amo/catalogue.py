"""A seeded synthetic AMO catalogue: add-ons, their versions and the editorial list.

Add-ons are held in a neutral internal form (`Addon`, `Version`) and rendered to the v5 or
v4 JSON shapes by `render_addon` / `render_version`; the server only pages and filters.

Distributions (deterministic from the seed; index 0 is always `pioneer-opt-in@mozilla.org`):

- `created`: 2012-01-01 .. 2026-11-01 UTC, density rising linearly with time (recent add-ons
  are more numerous), second resolution, so almost no two add-ons share an instant.
- `average_daily_users`: log-normal (median ~20, a few in the millions); ~3 % exactly 0.
- ratings: `count` grows with users, ~10 % have count 0 (average 0); average 1..5.
- ~5 % promoted `recommended`; ~3 % are not WebExtensions (visible in v4 only).
- versions per add-on: with probability 0.96, 1 + Geometric(p=0.22) capped at 50 (median 3,
  mean ~5); with probability 0.04, uniform on 51..120, so ~4 % have more than 50 versions
  (several pages at `page_size=50`). The oldest version is created 1 minute .. 5 days after
  the add-on; the others are spread up to the catalogue end; the newest is `current_version`.
- GUIDs: ~45 % `{uuid}`, the rest `name@domain` forms (`name@sub.example.com`,
  `jid1-...@jetpack`, and ~2 % with a `+` such as `tab+tools@example.org`, which must be
  URL-quoted by clients).

`dirty=True` nulls `ratings`, `current_version`, `promoted` or `created` in the rendered
JSON of a few add-ons (the server still filters and sorts on the real `created`, as AMO's
index would) and adds null, empty and duplicate GUIDs to the editorial list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

PIONEER_GUID = "pioneer-opt-in@mozilla.org"
CATALOGUE_START = int(dt.datetime(2012, 1, 1, tzinfo=dt.UTC).timestamp())
CATALOGUE_END = int(dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp())
NULLABLE_FIELDS = ("ratings", "current_version", "promoted", "created")

CATEGORIES = (
    "alerts-updates",
    "appearance",
    "bookmarks",
    "download-management",
    "feeds-news-blogging",
    "games-entertainment",
    "language-support",
    "photos-music-videos",
    "privacy-security",
    "search-tools",
    "shopping",
    "social-communication",
    "tabs",
    "web-development",
    "other",
)
TAGS = ("privacy", "youtube", "tabs", "download", "dark mode", "search", "security", "social", "shopping", "video")
LOCALES = ("en-US", "en-US", "en-US", "en-US", "de", "fr", "es-ES", "ru", "ja", "pt-BR")
ADJECTIVES = (
    "quick", "simple", "smart", "dark", "private", "tiny", "super", "easy", "clean", "better",
    "auto", "instant", "secure", "happy", "open", "lazy", "magic", "fresh", "bold", "silent",
)  # fmt: skip
NOUNS = (
    "tab", "reader", "blocker", "saver", "translator", "notes", "mark", "search", "video", "cookie",
    "password", "theme", "scroll", "zoom", "image", "proxy", "timer", "clip", "mail", "weather",
)  # fmt: skip
DOMAINS = ("example.org", "example.com", "addons.example.net", "sub.example.com", "mail.example.de", "dev.example.io")


def iso_utc(epoch_s: int) -> str:
    """`2019-03-04T05:06:07Z` for an epoch second."""
    return dt.datetime.fromtimestamp(int(epoch_s), tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Version:
    """One public version of an add-on with its single file."""

    id: int
    version: str
    created: int
    file_id: int


@dataclass(frozen=True)
class Addon:
    """Neutral internal form of one add-on; `nulled` names the fields rendered as null."""

    index: int
    id: int
    guid: str
    name: str
    summary: str
    default_locale: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    weekly_downloads: int
    average_daily_users: int
    ratings_average: float
    ratings_bayesian: float
    ratings_count: int
    ratings_text_count: int
    created: int
    promoted: bool
    is_webextension: bool
    versions: tuple[Version, ...]
    nulled: frozenset[str]

    @property
    def current_version(self) -> Version:
        return self.versions[-1]


@dataclass(frozen=True)
class EditorialEntry:
    """One item of `discovery/editorial/`; `guid` may be None or empty in a dirty list."""

    guid: str | None
    custom_description: str


class Catalogue:
    """The add-ons of a fixture AMO, as columns; `addon(guid)` builds the record."""

    def __init__(self, columns: dict[str, Any], editorial: list[EditorialEntry], seed: int, dirty: bool) -> None:
        self.seed = seed
        self.dirty = dirty
        self.editorial = editorial
        self._c = columns
        self.guids: list[str] = columns["guid"]
        self._index_by_guid = {g: i for i, g in enumerate(self.guids)}
        self._index_by_id = {int(a): i for i, a in enumerate(columns["id"])}
        self.ids: np.ndarray = columns["id"]
        self.created: np.ndarray = columns["created"]
        self.average_daily_users: np.ndarray = columns["adu"]
        self.promoted: np.ndarray = columns["promoted"]
        self.weekly_downloads: np.ndarray = columns["weekly_downloads"]
        self.bayesian_rating: np.ndarray = columns["rating_bayes"]
        self.hotness: np.ndarray = columns["hotness"]

    def last_updated(self) -> np.ndarray:
        """Epoch second of each add-on's newest version (what AMO's `updated` sort orders by)."""
        return self._c["version_created"][self._c["version_offsets"][1:] - 1]

    def __len__(self) -> int:
        return len(self.guids)

    def __iter__(self) -> Iterator[Addon]:
        return (self.addon_at(i) for i in range(len(self)))

    def __contains__(self, guid: object) -> bool:
        return guid in self._index_by_guid

    def index_of(self, guid_or_id: str) -> int | None:
        """Position of an add-on given its GUID or numeric id (as in AMO URLs), else None."""
        if guid_or_id in self._index_by_guid:
            return self._index_by_guid[guid_or_id]
        if guid_or_id.isdigit():
            return self._index_by_id.get(int(guid_or_id))
        return None

    def addon(self, guid: str) -> Addon:
        """The internal record of `guid` (KeyError if unknown)."""
        return self.addon_at(self._index_by_guid[guid])

    def addon_at(self, i: int) -> Addon:
        c = self._c
        start, stop = int(c["version_offsets"][i]), int(c["version_offsets"][i + 1])
        versions = tuple(
            Version(
                id=int(c["version_id"][k]),
                version=_version_string(k - start),
                created=int(c["version_created"][k]),
                file_id=int(c["version_id"][k]) + 50_000_000,
            )
            for k in range(start, stop)
        )
        return Addon(
            index=i,
            id=int(c["id"][i]),
            guid=self.guids[i],
            name=c["name"][i],
            summary=c["summary"][i],
            default_locale=c["default_locale"][i],
            categories=c["categories"][i],
            tags=c["tags"][i],
            weekly_downloads=int(c["weekly_downloads"][i]),
            average_daily_users=int(c["adu"][i]),
            ratings_average=float(c["rating_avg"][i]),
            ratings_bayesian=float(c["rating_bayes"][i]),
            ratings_count=int(c["rating_count"][i]),
            ratings_text_count=int(c["rating_text"][i]),
            created=int(c["created"][i]),
            promoted=bool(c["promoted"][i]),
            is_webextension=bool(c["webext"][i]),
            versions=versions,
            nulled=c["nulled"].get(i, frozenset()),
        )

    def n_versions(self, guid: str) -> int:
        i = self._index_by_guid[guid]
        return int(self._c["version_offsets"][i + 1] - self._c["version_offsets"][i])

    def first_create_date(self, guid: str) -> str:
        """ISO 8601 UTC creation time of the add-on's oldest version (what the dump records)."""
        i = self._index_by_guid[guid]
        return iso_utc(int(self._c["version_created"][self._c["version_offsets"][i]]))

    def editorial_guids(self) -> list[str]:
        """The valid, unique editorial GUIDs, sorted (what update_whitelist should publish)."""
        return sorted({e.guid for e in self.editorial if e.guid})


def _version_string(k: int) -> str:
    return f"{k // 10 + 1}.{k % 10}"


def _guids(seed: int, n: int) -> list[str]:
    """GUIDs deterministic from (seed, index); index 0 is the Pioneer add-on."""
    rng = np.random.default_rng([seed, 1234])
    kind = rng.random(n)
    adjective = rng.integers(len(ADJECTIVES), size=n).tolist()
    noun = rng.integers(len(NOUNS), size=n).tolist()
    domain = rng.integers(len(DOMAINS), size=n).tolist()
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # uuid4 version and variant bits
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = raw.tobytes().hex()
    guids = [PIONEER_GUID]
    for i in range(1, n):
        h = hexed[32 * i : 32 * i + 32]
        k = kind[i]
        if k < 0.45:
            guids.append(f"{{{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}}}")
        elif k < 0.47:
            guids.append(f"{NOUNS[noun[i]]}+{ADJECTIVES[adjective[i]]}{i}@{DOMAINS[domain[i]]}")
        elif k < 0.57:
            guids.append(f"jid1-{h[:18]}{i}@jetpack")
        else:
            guids.append(f"{ADJECTIVES[adjective[i]]}-{NOUNS[noun[i]]}-{i}@{DOMAINS[domain[i]]}")
    return guids


def generate_catalogue(n_addons: int, seed: int = 0, *, n_editorial: int = 200, dirty: bool = False) -> Catalogue:
    """A deterministic catalogue of `n_addons` extensions (see the module docstring)."""
    if n_addons < 1:
        raise ValueError(f"n_addons must be >= 1, got {n_addons}")
    rng = np.random.default_rng([seed, 5150])
    n = n_addons
    span = CATALOGUE_END - CATALOGUE_START
    created = CATALOGUE_START + (span * np.sqrt(rng.random(n))).astype(np.int64)
    adu = np.floor(rng.lognormal(mean=3.0, sigma=2.3, size=n)).astype(np.int64)
    adu = np.minimum(adu, 25_000_000)
    adu[rng.random(n) < 0.03] = 0
    weekly = np.floor(adu * rng.uniform(0.01, 0.3, n)).astype(np.int64)
    rating_count = rng.poisson(np.sqrt(adu) * rng.uniform(0.05, 1.5, n)).astype(np.int64)
    rating_count[rng.random(n) < 0.10] = 0
    rating_avg = np.round(1.0 + 4.0 * rng.beta(4.0, 1.6, n), 4)
    rating_avg[rating_count == 0] = 0.0
    rating_bayes = np.where(
        rating_count > 0, np.round((rating_avg * rating_count + 3.0 * 5) / (rating_count + 5), 4), 0.0
    )
    rating_text = np.floor(rating_count * rng.uniform(0.1, 0.6, n)).astype(np.int64)
    promoted = rng.random(n) < 0.05
    webext = rng.random(n) >= 0.03
    ids = 400_000 + np.arange(n, dtype=np.int64) * 7 + rng.integers(0, 7, n)

    many = rng.random(n) < 0.04
    n_versions = np.where(many, rng.integers(51, 121, n), np.minimum(rng.geometric(0.22, n), 50)).astype(np.int64)

    # Pioneer: old, popular, well rated, a WebExtension - only its GUID excludes it from the whitelist.
    created[0] = int(dt.datetime(2018, 5, 14, 9, 30, 11, tzinfo=dt.UTC).timestamp())
    adu[0], weekly[0], rating_count[0], rating_avg[0], rating_bayes[0], rating_text[0] = (
        48_213,
        3_100,
        812,
        4.6,
        4.58,
        301,
    )
    promoted[0], webext[0], n_versions[0] = False, True, 12

    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_versions, out=offsets[1:])
    total = int(offsets[-1])
    owner = np.repeat(np.arange(n), n_versions)
    oldest = created + rng.integers(60, 5 * 86_400, n)
    end = np.maximum(CATALOGUE_END, oldest + 3_600)
    spread = oldest[owner] + (rng.random(total) * (end - oldest)[owner]).astype(np.int64)
    spread[offsets[:-1]] = oldest
    order = np.lexsort((spread, owner))
    version_created = spread[order]
    version_id = 1_000_000 + np.arange(total, dtype=np.int64) * 3

    guids = _guids(seed, n)
    text_rng = np.random.default_rng([seed, 42])
    adjective_ix = text_rng.integers(len(ADJECTIVES), size=n).tolist()
    noun_ix = text_rng.integers(len(NOUNS), size=n).tolist()
    locale_ix = text_rng.integers(len(LOCALES), size=n).tolist()
    category_ix = text_rng.integers(len(CATEGORIES), size=(n, 2)).tolist()
    two_categories = (text_rng.random(n) < 0.3).tolist()
    tag_mask = (text_rng.random((n, len(TAGS))) < 0.12).tolist()
    names = [
        f"{ADJECTIVES[a].title()} {NOUNS[b].title()} {i}"
        for i, (a, b) in enumerate(zip(adjective_ix, noun_ix, strict=True))
    ]
    names[0] = "Firefox Pioneer"
    columns: dict[str, Any] = {
        "id": ids,
        "guid": guids,
        "name": names,
        "summary": [f"A {ADJECTIVES[a]} {NOUNS[b]} add-on." for a, b in zip(adjective_ix, noun_ix, strict=True)],
        "default_locale": [LOCALES[k] for k in locale_ix],
        "categories": [
            tuple(dict.fromkeys(CATEGORIES[k] for k in (row if two else row[:1])))
            for row, two in zip(category_ix, two_categories, strict=True)
        ],
        "tags": [tuple(tag for tag, on in zip(TAGS, row, strict=True) if on) for row in tag_mask],
        "weekly_downloads": weekly,
        "adu": adu,
        "rating_avg": rating_avg,
        "rating_bayes": rating_bayes,
        "rating_count": rating_count,
        "rating_text": rating_text,
        "created": created,
        "promoted": promoted,
        "webext": webext,
        "version_offsets": offsets,
        "version_created": version_created,
        "version_id": version_id,
        "nulled": {},
        # AMO's `hotness` (users progression) is not in the API body; drawn from its own stream so
        # the other columns stay as they were for a given seed.
        "hotness": np.round(np.random.default_rng([seed, 4242]).normal(0.0, 0.3, n), 4),
    }
    editorial = _editorial(rng, n, guids, promoted, adu, n_editorial)
    if dirty:
        dirty_rng = np.random.default_rng([seed, 666])
        for field in NULLABLE_FIELDS:
            for i in (
                dirty_rng.choice(np.arange(1, n), size=min(max(1, n // 200), n - 1), replace=False) if n > 1 else []
            ):
                columns["nulled"][int(i)] = columns["nulled"].get(int(i), frozenset()) | {field}
        if editorial:
            editorial += [
                EditorialEntry(None, "An entry whose add-on lost its GUID."),
                EditorialEntry("", "An entry with an empty GUID."),
                EditorialEntry(editorial[0].guid, "A duplicate of the first entry."),
                EditorialEntry(editorial[len(editorial) // 2].guid, "Another duplicate."),
            ]
    return Catalogue(columns, editorial, seed, dirty)


def _editorial(
    rng: np.random.Generator, n: int, guids: list[str], promoted: np.ndarray, adu: np.ndarray, n_editorial: int
) -> list[EditorialEntry]:
    """Recommended add-ons first, then the most used others; never the Pioneer add-on."""
    candidates = np.arange(1, n)
    ranked = candidates[np.lexsort((-adu[candidates], ~promoted[candidates]))]
    chosen = ranked[: max(0, n_editorial)]
    chosen = chosen[rng.permutation(len(chosen))]
    return [EditorialEntry(guids[i], f"Editors like {guids[i]} for its {NOUNS[i % len(NOUNS)]}s.") for i in chosen]


def _translated(text: str | None) -> dict[str, str] | None:
    return None if text is None else {"en-US": text}


def render_version(addon: Addon, version: Version, api: str) -> dict[str, Any]:
    """A version object in the `api` ("v5" or "v4") shape."""
    file = {
        "id": version.file_id,
        "created": iso_utc(version.created),
        "status": "public",
        "size": 10_000 + version.file_id % 900_000,
        "url": f"https://addons.example.invalid/firefox/downloads/file/{version.file_id}/",
    }
    shaped: dict[str, Any] = {"id": version.id, "version": version.version, "created": iso_utc(version.created)}
    if api == "v4":
        shaped["files"] = [{**file, "platform": "all", "is_webextension": addon.is_webextension}]
    else:
        shaped["file"] = file
    return shaped


def render_addon(addon: Addon, api: str) -> dict[str, Any]:
    """An add-on detail / search result in the `api` ("v5" or "v4") shape."""
    nulled = addon.nulled
    apps = ["firefox", "android"] if addon.id % 3 else ["firefox"]
    if "promoted" in nulled:
        promoted: Any = None
    elif api == "v4":
        promoted = {"category": "recommended", "apps": apps} if addon.promoted else None
    else:
        promoted = [{"category": "recommended", "apps": apps}] if addon.promoted else []
    return {
        "id": addon.id,
        "guid": addon.guid,
        "type": "extension",
        "slug": f"addon-{addon.id}",
        "name": _translated(addon.name),
        "summary": _translated(addon.summary),
        "description": _translated(f"{addon.summary} Tags: {', '.join(addon.tags) or 'none'}."),
        "default_locale": addon.default_locale,
        "categories": {"firefox": list(addon.categories)} if api == "v4" else list(addon.categories),
        "tags": list(addon.tags),
        "weekly_downloads": addon.weekly_downloads,
        "average_daily_users": addon.average_daily_users,
        "ratings": None
        if "ratings" in nulled
        else {
            "average": addon.ratings_average,
            "bayesian_average": addon.ratings_bayesian,
            "count": addon.ratings_count,
            "text_count": addon.ratings_text_count,
        },
        "current_version": None if "current_version" in nulled else render_version(addon, addon.current_version, api),
        "promoted": promoted,
        "created": None if "created" in nulled else iso_utc(addon.created),
        "status": "public",
    }
