"""The report's numbers, from small hand-made artifacts (no files)."""

from __future__ import annotations

import pytest
from conftest import EXTRA, GUIDS, sample_artifacts, sample_runs
from taar_report import model

A, B, C, D = GUIDS


def test_display_name_prefers_default_locale_then_en_us():
    assert model.display_name({"name": " Ad Blocker "}) == "Ad Blocker"
    assert model.display_name({"name": {"de": "Wart", "en-US": "Keeper"}, "default_locale": "de"}) == "Wart"
    assert model.display_name({"name": {"fr": "", "en-US": "Keeper"}, "default_locale": "fr"}) == "Keeper"
    assert model.display_name({"name": {"it": "Custode"}, "default_locale": None}) == "Custode"
    assert model.display_name({"name": None}) is None
    assert model.display_name("not a record") is None


def test_addon_names_take_the_first_database_that_names_the_guid():
    names = model.addon_names(
        {A: {"name": "From dump"}}, {A: {"name": "From whitelist"}, B: {"name": "Only here"}}, None
    )
    assert names == {A: "From dump", B: "Only here"}


def test_coinstalled_pairs_are_unordered_and_ranked_by_clients():
    pairs = model.coinstalled_pairs(sample_artifacts()["guid_coinstallation"], limit=3)
    assert pairs == [(A, B, 30), (A, C, 12), (C, B, 5)]
    assert model.coinstallation_totals(sample_artifacts()["guid_coinstallation"]) == {"addons": 4, "pairs": 4}


def test_coinstalled_pairs_ignore_self_pairs():
    assert model.coinstalled_pairs({A: {A: 9, B: 1}, B: {A: 1}}, limit=10) == [(A, B, 1)]


def test_install_ranking_top_breaks_ties_by_guid():
    top = model.install_ranking_top(sample_artifacts()["guid_install_ranking"], limit=4)
    assert top == [(A, 300), (B, 120), (D, 80), (C, 80)]


def test_largest_locales_by_entries_then_by_client_counts():
    top10 = sample_artifacts()["top10_dict"]
    assert model.largest_locales(top10, 2) == ["en-US", "de"]
    assert model.largest_locales(top10, 2, {"fr": 900, "de": 50}) == ["fr", "de"]


def test_locale_client_counts_come_from_the_locale_run_summary():
    runs = [
        {"job": "spark_locale", "counts": {"clients": 10}, "details": {"clients_per_locale": {"de": 7, "fr": 3}}},
        {"job": "spark_lite", "details": {"locale_counts": {"xx": 1}}},
    ]
    assert model.locale_client_counts(runs) == {"de": 7, "fr": 3}


def test_locale_top_addons_show_names_where_known():
    top = model.locale_top_addons(sample_artifacts()["top10_dict"], ["fr"], {C: "Tab Tamer"})
    assert top == {"fr": [(C, "Tab Tamer", 0.6), (A, A, 0.4)]}


def test_whitelist_funnel_counts_each_step_and_marks_missing_ones():
    artifacts = sample_artifacts()
    stages = model.whitelist_funnel(artifacts)
    assert [(s.label, s.count) for s in stages] == [
        ("AMO dump", 6),
        ("whitelist", 4),
        ("featured", 3),
        ("featured whitelist", 2),
    ]
    del artifacts["featured_addons_database"]
    assert [s.count for s in model.whitelist_funnel(artifacts)] == [6, 4, None, 2]


def test_editorial_overlap_counts_guids_in_the_whitelist():
    whitelist = sample_artifacts()["whitelist_addons_database"]
    assert model.editorial_overlap([A, EXTRA[1], B], whitelist) == {"editorial": 3, "in_whitelist": 2}
    assert model.editorial_overlap([A], None) == {"editorial": 1}
    assert model.editorial_overlap(None, whitelist) is None


def test_profile_counts_before_and_after_deletion():
    rows = model.profile_runs(sample_runs())
    assert rows == [
        ("gcs-to-bigtable", "ok", 4.0, [("rows_written", 120), ("avro_files_loaded", 2)]),
        ("delete-opt-out", "ok", 0.5, [("deletion_requests", 9), ("rows_deleted", 7)]),
    ]
    assert model.profiles_before_after(sample_runs()) == {"before_deletion": 120, "deleted": 7, "after_deletion": 113}
    assert model.profiles_before_after(sample_runs()[:3]) is None


def test_run_rows_show_job_stage_status_wall_time_and_error():
    rows = model.run_rows(sample_runs())
    assert rows[0] == ["amodump", "", "ok", 12.5, ""]
    assert rows[3] == ["profile_bigtable", "delete-opt-out", "ok", 0.5, ""]
    assert rows[4] == ["spark_similarity", "", "failed", 2.0, "RuntimeError: boom"]
    assert model.wall_time({"durations_s": {"read": 1.5, "write": 2}}) == 3.5
    assert model.wall_time({}) is None


def test_lr_curve_series_split_numerator_and_denominator():
    assert model.lr_curve_series([[0.5, [0.1, 0.2]], [1, [0.3, 0]]]) == ([0.5, 1.0], [0.1, 0.3], [0.2, 0.0])


def test_counts_text_lists_the_first_counts():
    assert model.counts_text({"counts": {"a": 1, "b": 2, "c": 3}}, limit=2) == "a=1, b=2, ... 1 more"
    assert model.counts_text({}) == ""


def test_lr_separation_is_the_total_variation_distance_of_the_normalised_densities():
    disjoint = model.lr_separation([0, 1, 2, 3], [1, 1, 0, 0], [0, 0, 1, 1])
    assert disjoint.distance == pytest.approx(1.0) and disjoint.separate
    # masses 2.5 each; |p - q| / 2.5 = [0.4, 0, 0, 0.4] integrates to 0.4; half of it is the distance
    overlapping = model.lr_separation([0, 1, 2, 3], [1, 1, 1, 0], [0, 1, 1, 1], threshold=0.1)
    assert overlapping.distance == pytest.approx(0.2)
    assert (overlapping.numerator_mean, overlapping.denominator_mean) == (pytest.approx(1.2), pytest.approx(1.8))
    assert model.lr_separation([0, 1, 2, 3], [1, 1, 1, 0], [0, 1, 1, 1], threshold=0.25).separate is False


def test_identical_lr_curves_do_not_separate_and_the_statement_says_so():
    scores, numerators, denominators = model.lr_curve_series(sample_artifacts()["lr_curves"])
    apart = model.lr_separation(scores, numerators, denominators)
    assert apart.separate and apart.statement().startswith("The densities separate: total variation distance 0.7")
    same = model.lr_separation(scores, numerators, numerators)
    assert same.distance == pytest.approx(0.0) and not same.separate
    assert same.statement().startswith("The densities do not separate: total variation distance 0.000 <= 0.1")


def test_lr_separation_rejects_a_grid_without_mass_or_order():
    with pytest.raises(ValueError, match="no mass"):
        model.lr_separation([0, 1], [0, 0], [1, 1])
    with pytest.raises(ValueError, match="increasing"):
        model.lr_separation([1, 0], [1, 1], [1, 1])


def test_report_data_date_is_the_common_date_or_the_range():
    def dated(day: str | None) -> model.Artifact:
        return model.Artifact("x", "/x.json", "ok", data_date=day)

    assert model.report_data_date([dated("2024-05-01"), dated("2024-05-01"), dated(None)]) == "2024-05-01"
    assert model.report_data_date([dated("2024-05-02"), dated("2024-04-30")]) == "2024-04-30 to 2024-05-02"
    assert model.report_data_date([dated(None)]) is None
