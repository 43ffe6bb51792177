"""The page from in-memory inputs: every section, well-formed SVG, missing and broken artifacts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from conftest import GUIDS, sample_artifacts, sample_runs
from taar_report.model import Artifact, ReportInputs
from taar_report.page import SECTIONS, render_report
from taar_report.svg import bar_chart, nice_ticks

SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def inputs_with(payloads: dict, runs: list | None = None, **overrides) -> ReportInputs:
    artifacts = {
        name: Artifact(name, f"/b/{name}.json", "ok", payload, 100, len(payload)) for name, payload in payloads.items()
    }
    for name, artifact in overrides.items():
        artifacts[name] = artifact
    return ReportInputs("/b", "/b", artifacts, runs or [], generated_at="2024-05-01 00:00 UTC")


def test_every_section_and_figure_is_rendered():
    page = render_report(inputs_with(sample_artifacts(), sample_runs()))
    for section_id, _ in SECTIONS:
        assert f"<section id='{section_id}'>" in page
    figures = [ET.fromstring(svg).get("data-figure") for svg in SVG.findall(page)]
    assert figures == ["lr-curves", "locale-en-US", "locale-de", "locale-fr", "whitelist-funnel"]
    assert "This section could not be rendered" not in page


def test_tables_carry_the_exact_numbers():
    page = render_report(inputs_with(sample_artifacts(), sample_runs()))
    assert "4 add-ons with a partner, 4 distinct pairs." in page
    assert "<td class='num'>30</td>" in page and "Password Keeper" in page
    assert (
        "<td>featured whitelist</td><td>featured_whitelist_addons.json</td><td class='num'>2</td><td>33.3%</td>" in page
    )
    assert "<tr><td class='num'>120</td><td class='num'>7</td><td class='num'>113</td></tr>" in page
    assert "Editorial list (only_guids_top_200.json): 4 GUIDs, 4 of them in the whitelist." in page
    assert "RuntimeError: boom" in page and "4 of 5 job runs ok" in page
    assert "<td class='num'>12.5</td><td>addons=6</td>" in page


def test_page_is_self_contained():
    page = render_report(inputs_with(sample_artifacts(), sample_runs()))
    assert "<script" not in page and "<link" not in page and " src=" not in page
    assert set(re.findall(r"href='([^']*)'", page)) <= {f"#{sid}" for sid, _ in SECTIONS}
    assert re.findall(r"https?://[^'\" ]+", page) == ["http://www.w3.org/2000/svg"] * 5


def test_missing_artifacts_are_named_with_the_job_that_makes_them():
    missing = {
        name: Artifact(name, f"/b/{name}.json", "missing", detail="not found (nor .bz2); run taar-x")
        for name in sample_artifacts()
    }
    page = render_report(ReportInputs("/b", "/b", missing, runs_problem="runs file not found: /b/demo-runs.json"))
    assert "<svg" not in page
    assert "lr_curves.json is missing: /b/lr_curves.json (not found (nor .bz2); run taar-x)." in page
    assert "top10_dict.json is missing" in page and "guid_install_ranking.json is missing" in page
    assert "No profile counts: runs file not found: /b/demo-runs.json." in page
    assert "0 of 10 artifacts present" in page
    assert "This section could not be rendered" not in page


def test_a_malformed_artifact_breaks_only_its_section():
    page = render_report(inputs_with({**sample_artifacts(), "lr_curves": [[0.1]]}))
    lr_section = page.split("<section id='lr-curves'>")[1].split("</section>")[0]
    assert "This section could not be rendered: ValueError" in lr_section
    assert page.count("This section could not be rendered") == 1
    assert "data-figure='whitelist-funnel'" in page


def test_names_from_the_dump_are_escaped():
    artifacts = sample_artifacts()
    artifacts["extended_addons_database"][GUIDS[0]]["name"] = "<b>Ad & Co</b>"
    page = render_report(inputs_with(artifacts))
    assert "<b>Ad" not in page and "&lt;b&gt;Ad &amp; Co&lt;/b&gt;" in page
    for svg in SVG.findall(page):
        ET.fromstring(svg)


def test_nice_ticks_cover_the_range_with_round_steps():
    assert nice_ticks(0, 5.9) == [0, 2, 4, 6]
    assert nice_ticks(0, 0.57) == [0, 0.2, 0.4, 0.6]
    assert nice_ticks(3, 3) == [3, 4, 5, 6]


def test_bar_lengths_are_proportional_to_values():
    svg = bar_chart(["a", "b"], [4.0, 1.0], figure="f", title="t", width=400, label_width=100)
    widths = [float(w) for w in re.findall(r"<rect [^>]*width='([0-9.]+)' height", svg)]
    assert widths == [220.0, 55.0]
