"""Seeded synthetic telemetry: clients_daily, clients_last_seen and deletion_request Parquet.

Columns are built with numpy and pyarrow, chunk by chunk (`chunk_size` clients per part
file), so a million clients take seconds and bounded memory. Output is a pure function of
the arguments (same seed, same rows, same bytes with the same pyarrow).

Skew: a client's add-ons (0..15, a quarter with none, most with 1-4) are drawn Zipf-like
(exponent 1.07, in the order of `addon_guids`: the first is the most used) from them plus
add-ons AMO does not list (system add-ons, themes,
dictionaries, language packs, unlisted extensions); locales, cities, OS and channels are
skewed like Firefox's release population. Each client has an activity rate: it appears on
a day with that probability, with metrics that change from day to day.

Dirty rows, at a few percent: null `client_id`, null or empty `active_addons`, add-on
structs with null fields or a null `addon_id`, one add-on twice in a client's list, system
/ user- or app-disabled / foreign-installed / blocklisted / unsigned / non-extension
add-ons, `pioneer-opt-in@mozilla.org`, beta / nightly / esr channels, apps other than
Firefox, null metrics, and now and then an exact duplicate row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from taar_fixtures.amo.catalogue import PIONEER_GUID, Catalogue, generate_catalogue

ADDON_FIELDS: list[tuple[str, pa.DataType]] = [
    ("addon_id", pa.string()),
    ("blocklisted", pa.bool_()),
    ("name", pa.string()),
    ("user_disabled", pa.bool_()),
    ("app_disabled", pa.bool_()),
    ("version", pa.string()),
    ("scope", pa.int64()),
    ("type", pa.string()),
    ("foreign_install", pa.bool_()),
    ("has_binary_components", pa.bool_()),
    ("install_day", pa.int64()),
    ("update_day", pa.int64()),
    ("signed_state", pa.int64()),
    ("is_system", pa.bool_()),
    ("is_web_extension", pa.bool_()),
    ("multiprocess_compatible", pa.bool_()),
]
ADDON_STRUCT = pa.struct(ADDON_FIELDS)
ACTIVE_ADDONS = pa.list_(ADDON_STRUCT)
METRIC_FIELDS: list[tuple[str, pa.DataType]] = [
    ("subsession_hours_sum", pa.float64()),
    ("places_bookmarks_count_mean", pa.float64()),
    ("scalar_parent_browser_engagement_tab_open_event_count_sum", pa.int64()),
    ("scalar_parent_browser_engagement_total_uri_count_sum", pa.int64()),
    ("scalar_parent_browser_engagement_unique_domains_count_mean", pa.float64()),
]
CLIENTS_DAILY_SCHEMA = pa.schema(
    [
        ("client_id", pa.string()),
        ("channel", pa.string()),
        ("normalized_channel", pa.string()),
        ("app_name", pa.string()),
        ("locale", pa.string()),
        ("city", pa.string()),
        ("os", pa.string()),
        *METRIC_FIELDS,
        ("active_addons", ACTIVE_ADDONS),
    ]
)
CLIENTS_LAST_SEEN_SCHEMA = pa.schema(
    [
        ("submission_date", pa.date32()),
        ("client_id", pa.string()),
        ("city", pa.string()),
        ("locale", pa.string()),
        ("os", pa.string()),
        *METRIC_FIELDS,
        ("active_addons", ACTIVE_ADDONS),
    ]
)
DELETION_REQUEST_SCHEMA = pa.schema(
    [("client_id", pa.string()), ("submission_timestamp", pa.timestamp("us", tz="UTC"))]
)

LOCALES = {
    "en-US": 40, "de": 12, "fr": 8, "es-ES": 5, "ru": 5, "pt-BR": 4, "ja": 3, "pl": 3, "it": 3, "zh-CN": 3,
    "en-GB": 3, "nl": 2, "es-MX": 2, "tr": 1, "id": 1, "sv-SE": 1, "cs": 1, "ko": 1, "uk": 1, "hu": 1,
}  # fmt: skip
CITIES = {
    "??": 20, "London": 4, "Berlin": 4, "Paris": 4, "New York": 4, "Moscow": 3, "Tokyo": 3, "São Paulo": 3,
    "Madrid": 2, "Warsaw": 2, "Los Angeles": 2, "Chicago": 2, "Toronto": 2, "Munich": 2, "Rome": 2,
    "Hamburg": 1, "Lyon": 1, "Seattle": 1, "Sydney": 1, "Mumbai": 1, "Beijing": 1, "Jakarta": 1, "Kyiv": 1,
}  # fmt: skip
OS_NAMES = {"Windows_NT": 75, "Darwin": 12, "Linux": 11, "Windows_95": 1, "FreeBSD": 1}
CHANNELS = {"release": 86, "beta": 6, "nightly": 3, "esr": 4, "release-cck-partner": 1}
APP_NAMES = {"Firefox": 97, "Fennec": 2, "Thunderbird": 1}

# Add-ons AMO does not list: (guid, type, is_system).
OFF_CATALOGUE_ADDONS = [
    ("screenshots@mozilla.org", "extension", True),
    ("webcompat@mozilla.org", "extension", True),
    ("formautofill@mozilla.org", "extension", True),
    ("pictureinpicture@mozilla.org", "extension", True),
    ("doh-rollout@mozilla.org", "extension", True),
    ("{972ce4c6-7e08-4474-a285-3208198ce6fd}", "theme", False),
    ("firefox-compact-dark@mozilla.org", "theme", False),
    ("firefox-alpenglow@mozilla.org", "theme", False),
    ("de-DE@dictionaries.addons.mozilla.org", "dictionary", False),
    ("en-GB@dictionaries.addons.mozilla.org", "dictionary", False),
    ("langpack-de@firefox.mozilla.org", "locale", False),
    ("langpack-fr@firefox.mozilla.org", "locale", False),
    *[(f"unlisted-{k}@corp.example.net", "extension", False) for k in range(40)],
]
ZIPF_EXPONENT = 1.07


@dataclass(frozen=True)
class _AddonPool:
    """Every add-on a client may have, with its popularity and fixed attributes."""

    guid: pa.Array
    name: pa.Array
    version: pa.Array
    type: pa.Array
    is_system: np.ndarray
    is_web_extension: np.ndarray
    probability: np.ndarray


def default_addon_guids(source: Catalogue | int = 0, n_addons: int = 2_000) -> list[str]:
    """The GUIDs of a catalogue (or of `generate_catalogue(n_addons, seed=source)`), most used first.

    Telemetry popularity follows list position, so ordering by AMO's average daily users keeps
    the two consistent: the editorially recommended (popular) add-ons are also common in telemetry.
    """
    catalogue = source if isinstance(source, Catalogue) else generate_catalogue(n_addons, source)
    order = np.argsort(-np.asarray(catalogue.average_daily_users), kind="stable")
    return [catalogue.guids[i] for i in order]


def _client_id_array(n_clients: int, seed: int) -> pa.StringArray:
    rng = np.random.default_rng([seed, 31337])
    raw = rng.integers(0, 256, size=(n_clients, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    hexed = np.empty((n_clients, 32), dtype=np.uint8)
    hexed[:, 0::2], hexed[:, 1::2] = digits[raw >> 4], digits[raw & 0x0F]
    text = np.full((n_clients, 36), ord("-"), dtype=np.uint8)
    for (lo, hi), start in zip(((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)), (0, 9, 14, 19, 24), strict=True):
        text[:, start : start + hi - lo] = hexed[:, lo:hi]
    offsets = np.arange(0, 36 * (n_clients + 1), 36, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n_clients, [None, pa.py_buffer(offsets), pa.py_buffer(text.tobytes())])


def generate_client_ids(n_clients: int, seed: int) -> list[str]:
    """The uuid4-like client ids the telemetry writers use for (n_clients, seed), in order."""
    return _client_id_array(n_clients, seed).to_pylist()


def _addon_pool(addon_guids: Sequence[str], seed: int) -> _AddonPool:
    listed = list(dict.fromkeys(g for g in addon_guids if g))
    if PIONEER_GUID not in listed:
        listed.append(PIONEER_GUID)
    extras = [a for a in OFF_CATALOGUE_ADDONS if a[0] not in set(listed)]
    guids = listed + [a[0] for a in extras]
    types = ["extension"] * len(listed) + [a[1] for a in extras]
    is_system = np.array([False] * len(listed) + [a[2] for a in extras])
    rng = np.random.default_rng([seed, 99])
    rank = np.arange(len(guids))  # list order is popularity order: the first GUID is the most used
    pioneer = guids.index(PIONEER_GUID)
    rank[[pioneer, 5 % len(guids)]] = rank[[5 % len(guids), pioneer]]
    weight = 1.0 / (rank + 1.0) ** ZIPF_EXPONENT
    weight[is_system] = 1.0 / 11.0**ZIPF_EXPONENT  # common, but not crowding out listed add-ons
    is_web_extension = (rng.random(len(guids)) >= 0.02) | (np.array(types) != "extension")
    return _AddonPool(
        guid=pa.array(guids, pa.string()),
        name=pa.array([f"Add-on {g.split('@')[0].strip('{}')[:24]}" for g in guids], pa.string()),
        version=pa.array([f"{i % 9 + 1}.{i % 13}.{i % 4}" for i in range(len(guids))], pa.string()),
        type=pa.array(types, pa.string()),
        is_system=is_system,
        is_web_extension=is_web_extension,
        probability=weight / weight.sum(),
    )


def _choice(rng: np.random.Generator, weights: dict[str, int], size: int) -> pa.Array:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return pa.array(keys, pa.string()).take(pa.array(rng.choice(len(keys), size=size, p=p / p.sum())))


def _nullable(values: np.ndarray, null_mask: np.ndarray, type_: pa.DataType) -> pa.Array:
    return pa.array(values, type=type_, mask=null_mask)


def _flag(rng: np.random.Generator, size: int, p_true: float, p_null: float) -> pa.Array:
    return _nullable(rng.random(size) < p_true, rng.random(size) < p_null, pa.bool_())


def _client_addons(rng: np.random.Generator, n: int, pool: _AddonPool) -> pa.ListArray:
    """Each client's add-on list (dirty entries included), fixed across days."""
    counts = np.where(rng.random(n) < 0.25, 0, np.minimum(rng.geometric(0.3, n), 15))
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    pick = rng.choice(len(pool.probability), size=total, p=pool.probability)
    missing_id = rng.random(total) < 0.003
    signed = np.where(rng.random(total) < 0.97, 2, rng.choice(np.array([-1, 0, 1, 3]), size=total))
    install_day = rng.integers(15_000, 20_400, total)
    system = pool.is_system[pick]
    struct = pa.StructArray.from_arrays(
        [
            pool.guid.take(pa.array(pick, mask=missing_id)),
            _flag(rng, total, 0.004, 0.005),
            pool.name.take(pa.array(pick)),
            _flag(rng, total, 0.03, 0.005),
            _flag(rng, total, 0.01, 0.005),
            pool.version.take(pa.array(pick)),
            pa.array(np.where(system, 8, 1), pa.int64()),
            pool.type.take(pa.array(pick)),
            _flag(rng, total, 0.01, 0.005),
            _flag(rng, total, 0.003, 0.005),
            pa.array(install_day, pa.int64()),
            pa.array(install_day + rng.integers(0, 400, total), pa.int64()),
            _nullable(signed, rng.random(total) < 0.003, pa.int64()),
            _nullable(system, rng.random(total) < 0.005, pa.bool_()),
            pa.array(pool.is_web_extension[pick], pa.bool_()),
            _nullable(rng.random(total) >= 0.01, rng.random(total) < 0.005, pa.bool_()),
        ],
        fields=[pa.field(name, type_) for name, type_ in ADDON_FIELDS],
    )
    return pa.ListArray.from_arrays(pa.array(offsets), struct, type=ACTIVE_ADDONS)


def _days_tables(
    client_ids: pa.StringArray, seed: int, chunk_start: int, dates: Sequence[dt.date], pool: _AddonPool
) -> list[pa.Table]:
    """One clients_daily table (no partition column) per date for one chunk of clients."""
    n = len(client_ids)
    rng = np.random.default_rng([seed, chunk_start, 1])
    addons = _client_addons(rng, n, pool)
    static = {
        "channel": _choice(rng, CHANNELS, n),
        "app_name": _choice(rng, APP_NAMES, n),
        "locale": _choice(rng, LOCALES, n),
        "city": _choice(rng, CITIES, n),
        "os": _choice(rng, OS_NAMES, n),
    }
    activity = rng.beta(2.0, 1.0, n)
    hours_scale = rng.lognormal(0.5, 1.0, n)
    bookmarks = np.floor(rng.lognormal(3.0, 1.5, n))
    tables = []
    for day in dates:
        day_rng = np.random.default_rng([seed, chunk_start, day.toordinal()])
        rows = np.flatnonzero(day_rng.random(n) < activity)
        m = len(rows)
        take = pa.array(rows)
        null_client = day_rng.random(m) < 0.005
        channel = static["channel"].take(take)
        normalized = pc.if_else(pc.starts_with(channel, "release"), "release", channel)
        tab_open = day_rng.poisson(np.maximum(hours_scale[rows] * 6, 0.1))
        columns = {
            "client_id": client_ids.take(pa.array(rows, mask=null_client)),
            "channel": channel,
            "normalized_channel": normalized,
            "app_name": static["app_name"].take(take),
            "locale": static["locale"].take(take),
            "city": static["city"].take(take),
            "os": static["os"].take(take),
            "subsession_hours_sum": _nullable(
                np.round(hours_scale[rows] * day_rng.gamma(2.0, 0.8, m), 4), day_rng.random(m) < 0.01, pa.float64()
            ),
            "places_bookmarks_count_mean": _nullable(
                bookmarks[rows] + day_rng.integers(0, 3, m), day_rng.random(m) < 0.01, pa.float64()
            ),
            "scalar_parent_browser_engagement_tab_open_event_count_sum": _nullable(
                tab_open, day_rng.random(m) < 0.01, pa.int64()
            ),
            "scalar_parent_browser_engagement_total_uri_count_sum": _nullable(
                tab_open * day_rng.integers(2, 12, m) + day_rng.integers(0, 20, m), day_rng.random(m) < 0.01, pa.int64()
            ),
            "scalar_parent_browser_engagement_unique_domains_count_mean": _nullable(
                np.round(day_rng.gamma(3.0, 3.0, m), 3), day_rng.random(m) < 0.01, pa.float64()
            ),
        }
        taken = addons.take(take)
        columns["active_addons"] = pa.ListArray.from_arrays(
            taken.offsets, taken.values, type=ACTIVE_ADDONS, mask=pa.array(day_rng.random(m) < 0.01)
        )
        table = pa.table(columns, schema=CLIENTS_DAILY_SCHEMA)
        duplicated = np.flatnonzero(day_rng.random(m) < 0.003)  # exact duplicate rows, next to their originals
        tables.append(table.take(np.sort(np.concatenate([np.arange(m), duplicated]))))
    return tables


def _chunks(n_clients: int, chunk_size: int) -> list[tuple[int, int]]:
    if n_clients < 1 or chunk_size < 1:
        raise ValueError(f"n_clients and chunk_size must be >= 1, got {n_clients} and {chunk_size}")
    return [(start, min(start + chunk_size, n_clients)) for start in range(0, n_clients, chunk_size)]


def write_clients_daily(
    out_dir: str | Path,
    *,
    n_clients: int,
    dates: Sequence[dt.date],
    seed: int,
    addon_guids: Sequence[str],
    chunk_size: int = 200_000,
) -> Path:
    """Write `out_dir/clients_daily/submission_date_s3=YYYYMMDD/part-NNNNN.parquet` (one part
    per chunk of clients; the partition column lives only in the folder names)."""
    root = Path(out_dir) / "clients_daily"
    pool = _addon_pool(addon_guids, seed)
    ids = _client_id_array(n_clients, seed)
    for part, (start, stop) in enumerate(_chunks(n_clients, chunk_size)):
        for day, table in zip(dates, _days_tables(ids[start:stop], seed, start, dates, pool), strict=True):
            folder = root / f"submission_date_s3={day:%Y%m%d}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, folder / f"part-{part:05d}.parquet")
    return root


def last_seen_dates(date: dt.date) -> list[dt.date]:
    """The `submission_date`s written to clients_last_seen around `date`."""
    return [date + dt.timedelta(days=k) for k in (-2, -1, 0, 1)]


def write_clients_last_seen(
    out_dir: str | Path,
    *,
    n_clients: int,
    date: dt.date,
    seed: int,
    addon_guids: Sequence[str],
    chunk_size: int = 200_000,
) -> Path:
    """Write `out_dir/clients_last_seen/part-NNNNN.parquet`: rows dated `last_seen_dates(date)`
    (most clients have a row at `date`), the clients and add-ons of `write_clients_daily`."""
    root = Path(out_dir) / "clients_last_seen"
    root.mkdir(parents=True, exist_ok=True)
    pool = _addon_pool(addon_guids, seed)
    ids = _client_id_array(n_clients, seed)
    days = last_seen_dates(date)
    for part, (start, stop) in enumerate(_chunks(n_clients, chunk_size)):
        tables = []
        for day, table in zip(days, _days_tables(ids[start:stop], seed, start, days, pool), strict=True):
            dated = table.select([name for name in CLIENTS_LAST_SEEN_SCHEMA.names if name != "submission_date"])
            tables.append(dated.add_column(0, "submission_date", pa.array([day] * len(table), pa.date32())))
        pq.write_table(pa.concat_tables(tables).cast(CLIENTS_LAST_SEEN_SCHEMA), root / f"part-{part:05d}.parquet")
    return root


def write_deletion_requests(
    out_dir: str | Path,
    *,
    date: dt.date,
    seed: int,
    client_ids: Sequence[str] | None = None,
    n_clients: int | None = None,
    days: int = 7,
    n_requests: int | None = None,
) -> Path:
    """Write `out_dir/deletion_request/part-00000.parquet` (`client_id`, `submission_timestamp`).

    Clients come from `client_ids`, else `generate_client_ids(n_clients, seed)`. About 60 % of
    the requests name known clients inside [date - days, date] (both ends included), 20 %
    known clients outside that window (the day before it, the day after `date`, or weeks
    earlier), 20 % unknown ids; one row has a null `client_id`.
    """
    known = list(client_ids) if client_ids is not None else None
    if known is None:
        if n_clients is None:
            raise ValueError("write_deletion_requests needs client_ids or n_clients")
        known = generate_client_ids(n_clients, seed)
    rng = np.random.default_rng([seed, 4242])
    total = n_requests if n_requests is not None else max(20, len(known) // 50)
    n_inside, n_outside = int(total * 0.6), int(total * 0.2)
    n_unknown = total - n_inside - n_outside
    chosen = rng.choice(len(known), size=min(len(known), n_inside + n_outside), replace=False)
    n_inside = min(n_inside, len(chosen))
    ids = [known[i] for i in chosen] + _client_id_array(n_unknown, seed + 7_919_000).to_pylist() + [None]
    window_start = np.datetime64(date - dt.timedelta(days=days), "us")
    inside = window_start + _seconds(rng.integers(0, (days + 1) * 86_400, n_inside))
    outside_days = rng.choice(np.array([-1, days + 1, -30, -60]), size=len(chosen) - n_inside)
    outside = window_start + _seconds(outside_days * 86_400 + rng.integers(0, 86_400, len(outside_days)))
    unknown = window_start + _seconds(rng.integers(0, (days + 1) * 86_400, n_unknown + 1))
    stamps = np.concatenate([inside, outside, unknown])
    order = rng.permutation(len(ids))
    table = pa.table(
        {
            "client_id": pa.array([ids[i] for i in order], pa.string()),
            "submission_timestamp": pa.array(stamps[order], pa.timestamp("us", tz="UTC")),
        },
        schema=DELETION_REQUEST_SCHEMA,
    )
    root = Path(out_dir) / "deletion_request"
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "part-00000.parquet")
    return root


def _seconds(values: np.ndarray) -> np.ndarray:
    return values.astype("timedelta64[s]").astype("timedelta64[us]")
