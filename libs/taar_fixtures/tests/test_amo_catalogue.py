"""The synthetic AMO catalogue: determinism, skew, the Pioneer add-on, dirty records."""

from __future__ import annotations

import numpy as np
from taar_fixtures.amo import PIONEER_GUID, generate_catalogue, render_addon


def test_same_seed_same_catalogue():
    first, second = generate_catalogue(300, seed=5), generate_catalogue(300, seed=5)
    assert first.guids == second.guids
    assert [render_addon(a, "v4") for a in first] == [render_addon(a, "v4") for a in second]
    assert generate_catalogue(300, seed=6).guids[1:] != first.guids[1:]


def test_guids_are_unique_and_mixed():
    guids = generate_catalogue(5_000, seed=1).guids
    assert len(set(guids)) == 5_000
    assert sum(g.startswith("{") for g in guids) > 2_000
    assert any("+" in g for g in guids)
    assert any(g.endswith("@sub.example.com") for g in guids)


def test_pioneer_is_old_and_well_rated():
    catalogue = generate_catalogue(50, seed=2)
    pioneer = catalogue.addon(PIONEER_GUID)
    assert pioneer.ratings_average == 4.6
    assert pioneer.is_webextension
    assert catalogue.first_create_date(PIONEER_GUID).startswith("2018-05-1")


def test_skew_of_versions_users_and_promotion():
    catalogue = generate_catalogue(10_000, seed=3)
    versions = np.array([catalogue.n_versions(g) for g in catalogue.guids])
    assert versions.min() == 1 and versions.max() <= 120
    assert 0.03 <= (versions > 50).mean() <= 0.05
    assert np.median(versions) <= 5
    users = catalogue.average_daily_users
    assert np.median(users) < 50 and users.max() > 100_000
    assert 0.04 <= catalogue.promoted.mean() <= 0.06
    assert len(np.unique(catalogue.created)) > 9_950
    assert (catalogue.created >= 1_600_000_000).sum() > (catalogue.created < 1_600_000_000).sum()


def test_oldest_version_follows_the_addon_creation():
    catalogue = generate_catalogue(500, seed=4)
    for addon in catalogue:
        oldest = addon.versions[0].created
        assert 60 <= oldest - addon.created < 5 * 86_400
        assert [v.created for v in addon.versions] == sorted(v.created for v in addon.versions)


def test_dirty_catalogue_nulls_fields_and_spoils_editorial():
    catalogue = generate_catalogue(2_000, seed=8, n_editorial=150, dirty=True)
    rendered = [render_addon(a, "v5") for a in catalogue]
    for field in ("ratings", "current_version", "promoted", "created"):
        assert sum(r[field] is None for r in rendered) == 10, field
    editorial = [e.guid for e in catalogue.editorial]
    assert None in editorial and "" in editorial
    assert len(editorial) - len(set(editorial)) >= 2
    assert len(catalogue.editorial_guids()) == 150
