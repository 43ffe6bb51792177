"""The TAAR service's own loaders, recommenders and profile fetcher on what our jobs published.

Source of every behaviour relied on: mozilla-taar3 1.0.7 (taar/recommenders/cache.py loads
each artifact from its TAAR_* bucket/key setting and bz2-decompresses `.bz2` keys;
taar/profile_fetcher.py reads Bigtable `profile:payload` and maps it to the recommenders'
fields, `.get(key, default)` for each).
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest
from conftest import artifact

# RecommendationManager.recommend(client_id, limit): the service's entry point (taar/plugin.py).
SERVICE_LIMIT = 10
# ProfileFetcher.get: recommender field -> (payload key it reads, default it falls back to).
FETCHED_FIELDS = {
    "geo_city": ("city", ""),
    "subsession_length": ("subsession_length", 0),
    "locale": ("locale", ""),
    "os": ("os", ""),
    "installed_addons": ("active_addons", []),
    "disabled_addons_ids": ("disabled_addons_ids", []),
    "bookmark_count": ("places_bookmarks_count", 0),
    "tab_open_count": ("scalar_parent_browser_engagement_tab_open_event_count", 0),
    "total_uri": ("scalar_parent_browser_engagement_total_uri_count", 0),
    "unique_tlds": ("scalar_parent_browser_engagement_unique_domains_count", 0),
}
SAMPLE_PROFILES = 40


@pytest.fixture(scope="session")
def service(taar: Any) -> dict[str, Any]:
    """The service's app context, wired as taar/plugin.py's acquire_taar_singleton does."""
    from taar.context import app_context
    from taar.interfaces import ITAARCache
    from taar.profile_fetcher import ProfileFetcher
    from taar.recommenders.recommendation_manager import RecommendationManager, RecommenderFactory

    ctx = app_context()
    ctx["profile_fetcher"] = ProfileFetcher(ctx)
    root = ctx.child()
    root["recommender_factory"] = RecommenderFactory(root)
    cache = ctx[ITAARCache]
    cache.ensure_db_loaded()
    return {"ctx": root, "cache": cache, "manager": RecommendationManager(root.child())}


@pytest.fixture(scope="session")
def profile_keys(pipeline: Any, taar: Any) -> list[str]:
    """Row keys of the profiles our job loaded, read from the emulator the service reads."""
    from google.cloud import bigtable

    profiles = pipeline.config["profiles"]
    client = bigtable.Client(project=profiles["bigtable_project"], admin=True)
    table = client.instance(profiles["bigtable_instance"]).table(profiles["bigtable_table"])
    keys = [row.row_key.decode() for row in table.read_rows(limit=SAMPLE_PROFILES)]
    assert keys, "profile_bigtable loaded no rows into the emulator"
    return [k for k in keys if k not in pipeline.null_field_keys.values()]


@pytest.fixture(scope="session")
def profiles(service: dict[str, Any], profile_keys: list[str]) -> dict[str, dict[str, Any]]:
    fetcher = service["ctx"]["profile_fetcher"]
    fetched = {key: fetcher.get(key) for key in profile_keys}
    missing = [key[:12] for key, profile in fetched.items() if profile is None]
    assert not missing, f"the service's ProfileFetcher found no profile for rows {missing} (hashed ids, truncated)"
    return fetched


def recommender(service: dict[str, Any], name: str) -> Any:
    return service["ctx"]["recommender_factory"].create(name)


def test_service_settings_name_every_consumed_artifact(pipeline: Any, taar: Any) -> None:
    """Each config `consumer` names a real TAAR setting, and the service took our value."""
    from taar.settings import AppSettings, DefaultCacheSettings

    for setting, value in pipeline.service_env.items():
        holder = AppSettings if setting.startswith("BIGTABLE_") else DefaultCacheSettings
        assert hasattr(holder, setting), f"{setting}: not a setting of the TAAR service ({holder.__name__})"
        assert str(getattr(holder, setting)) == value, f"{setting}: service read {getattr(holder, setting)!r}"


def test_loaders_read_every_produced_artifact(service: dict[str, Any]) -> None:
    cache = service["cache"]
    assert cache.top_addons_per_locale(), "locale: top10_dict.json did not load"
    assert cache.similarity_donors(), "similarity: donors.json did not load"
    assert cache.similarity_lrcurves(), "similarity: lr_curves.json did not load"
    assert cache.similarity_num_donors == len(cache.similarity_donors())
    assert cache.whitelist_data(), "whitelist: only_guids_top_200.json did not load"
    assert cache.min_installs(None) > 0, "TAARlite: guid_install_ranking.json did not load"
    context = cache.cache_context()
    assert context["raw_item_matrix"], "collaborative: item_matrix.json did not load"
    assert context["addon_mapping"], "collaborative: addon_mapping.json did not load"
    assert context["collab_model"] is not None, "collaborative: the service built no model from item_matrix.json"
    weights = context["ensemble_weights"]
    assert set(weights) == {"collaborative", "similarity", "locale"}, f"ensemble_weight.json: {weights}"


def test_profile_payloads_carry_every_key_the_fetcher_reads(
    pipeline: Any, taar: Any, profile_keys: list[str], service: dict[str, Any]
) -> None:
    """A missing key would silently become the fetcher's default; check the raw payloads."""
    from taar.profile_fetcher import BigTableProfileController

    profiles = pipeline.config["profiles"]
    controller = BigTableProfileController(
        service["ctx"], profiles["bigtable_project"], profiles["bigtable_instance"], profiles["bigtable_table"]
    )
    for key in profile_keys:
        payload = controller.get_client_profile(key)
        assert payload is not None, f"row {key[:12]}: not a zlib JSON profile:payload"
        absent = [k for k, _ in FETCHED_FIELDS.values() if k not in payload]
        assert not absent, f"row {key[:12]}: payload lacks {absent}"
        assert payload["client_id"] == key
        assert all("addon_id" in a and "is_system" in a for a in payload["active_addons"])


@pytest.mark.parametrize("field_name", sorted(FETCHED_FIELDS))
def test_every_fetched_field_arrives_non_default(profiles: dict[str, dict[str, Any]], field_name: str) -> None:
    """Never null; mostly not the fetcher's default (a real client can have 0 tabs opened or
    only system add-ons, so not all); disabled add-ons are rare, so at least one profile."""
    _, default = FETCHED_FIELDS[field_name]
    values = [p[field_name] for p in profiles.values()]
    assert all(v is not None for v in values), f"{field_name}: null in {values.count(None)} profiles"
    non_default = sum(v != default for v in values)
    needed = 1 if field_name == "disabled_addons_ids" else len(values) // 2 + 1
    assert non_default >= needed, f"{field_name}: only {non_default}/{len(values)} profiles differ from {default!r}"


def test_locale_recommender_recommends_for_real_profiles(service: dict[str, Any], profiles: dict[str, Any]) -> None:
    locale = recommender(service, "locale")
    refused = sorted({p["locale"] for p in profiles.values() if not locale.can_recommend(p)})
    assert not refused, f"the locale recommender refuses profiles of locales {refused} (not in top10_dict)"
    served = list(profiles.values())
    for profile in served:
        results = locale.recommend(profile, 4)
        assert results and all(isinstance(guid, str) and weight > 0 for guid, weight in results)


def test_similarity_recommender_recommends_for_real_profiles(service: dict[str, Any], profiles: dict[str, Any]) -> None:
    similarity = recommender(service, "similarity")
    refused = [k[:12] for k, p in profiles.items() if not similarity.can_recommend(p)]
    assert not refused, f"the similarity recommender refuses profiles {refused}"
    whitelist = set(service["cache"].whitelist_data())
    with_results = 0
    for profile in profiles.values():
        results = similarity.recommend(profile, 10)
        assert all(guid in whitelist for guid, _ in results), "similarity recommended a GUID outside the whitelist"
        with_results += bool(results)
    assert with_results == len(profiles), f"similarity found donors for only {with_results}/{len(profiles)}"


@pytest.mark.parametrize("column", ["city", "os"])
def test_null_city_or_os_does_not_disable_similarity(pipeline: Any, service: dict[str, Any], column: str) -> None:
    """The fetcher substitutes '' only for a missing key: a JSON null would make similarity refuse."""
    profile = service["ctx"]["profile_fetcher"].get(pipeline.null_field_keys[column])
    assert profile is not None, f"the profile with a null {column} was not loaded"
    similarity = recommender(service, "similarity")
    assert similarity.can_recommend(profile), f"a null {column} disables the similarity recommender"
    assert similarity.recommend(profile, 10)


def test_taarlite_recommends_for_installed_guids(service: dict[str, Any], taar: Any) -> None:
    from taar.recommenders.guid_based_recommender import GuidBasedRecommender

    lite = GuidBasedRecommender(service["ctx"].child())
    donors = service["cache"].similarity_donors()
    guids = sorted({g for d in donors for g in d["active_addons"]})
    servable = [g for g in guids if lite.can_recommend({"guid": g})]
    assert servable, "TAARlite has coinstallations for none of the donors' add-ons"
    for guid in servable[:10]:
        for normalize in ("rownorm_sum", "row_count", "row_sum", "guidception"):
            results = lite.recommend({"guid": guid, "normalize": normalize}, limit=4)
            assert results, f"TAARlite ({normalize}) returned nothing for a coinstalled add-on"
            assert guid not in [g for g, _ in results]


def test_collaborative_recommender(pipeline: Any, service: dict[str, Any], profiles: dict[str, Any]) -> None:
    """Every profile with an add-on gets item-matrix recommendations, mapped to real GUIDs, none installed."""
    assert artifact(pipeline.config, "item_matrix.json")["job"] in pipeline.jobs
    collaborative = recommender(service, "collaborative")
    served = [p for p in profiles.values() if collaborative.can_recommend(p)]
    assert served, "the collaborative recommender can serve none of the profiles"
    mapped = {entry["id"] for entry in service["cache"].cache_context()["addon_mapping"].values()}
    for profile in served:
        results = collaborative.recommend(profile, 4)
        assert results, f"collaborative returned nothing for {profile['client_id'][:12]}"
        guids = [guid for guid, _ in results]
        assert set(guids) <= mapped and not set(guids) & set(profile["installed_addons"]), guids


def test_ensemble_recommends_for_real_profiles(
    pipeline: Any, service: dict[str, Any], profiles: dict[str, Any]
) -> None:
    """The service's entry point: RecommendationManager -> EnsembleRecommender, a full page for everyone."""
    assert artifact(pipeline.config, "ensemble_weight.json")["job"] in pipeline.jobs
    short = {}
    for key, profile in profiles.items():
        results = service["manager"].recommend(key, SERVICE_LIMIT)
        guids = [guid for guid, _ in results]
        assert len(set(guids)) == len(guids) and not set(guids) & set(profile["installed_addons"]), guids
        if len(results) != SERVICE_LIMIT:
            short[key[:12]] = len(results)
    assert not short, f"fewer than {SERVICE_LIMIT} results for {len(short)}/{len(profiles)} profiles: {short}"


def test_profile_rows_are_zlib_json(pipeline: Any, taar: Any, profile_keys: list[str]) -> None:
    """The fetcher decodes `profile:payload` as zlib-compressed UTF-8 JSON, latest cell only."""
    from google.cloud import bigtable

    profiles = pipeline.config["profiles"]
    table = (
        bigtable.Client(project=profiles["bigtable_project"], admin=True)
        .instance(profiles["bigtable_instance"])
        .table(profiles["bigtable_table"])
    )
    row = table.read_row(profile_keys[0].encode())
    cells = row.cells["profile"][b"payload"]
    assert len(cells) == 1
    assert zlib.decompress(cells[0].value).startswith(b"{")
