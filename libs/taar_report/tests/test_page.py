"""The page from in-memory inputs: every section, well-formed SVG, missing and broken artifacts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from conftest import GUIDS, identical_lr_curves, sample_artifacts, sample_runs
from taar_report.charts import bar_chart
from taar_report.model import Artifact, ReportInputs
from taar_report.page import SECTIONS, render_report

SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def inputs_with(payloads: dict, runs: list | None = None, **overrides) -> ReportInputs:
    artifacts = {
        name: Artifact(name, f"/b/{name}.json", "ok", payload, 100, len(payload), data_date="2024-05-01")
        for name, payload in payloads.items()
    }
    for name, artifact in overrides.items():
        artifacts[name] = artifact
    return ReportInputs("/b", "/b", artifacts, runs or [], generated_at="2024-05-01 00:00 UTC")


def test_every_section_and_figure_is_rendered():
    page = render_report(inputs_with(sample_artifacts(), sample_runs()))
    for section_id, _ in SECTIONS:
        assert f"<section id='{section_id}'>" in page
    figures = [ET.fromstring(svg).get("data-figure") for svg in SVG.findall(page)]
    assert "<h1>TAAR daily models report: data of 2024-05-01</h1>" in page
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
    assert "<td>delete-opt-out</td><td><span class='ok'>ok</span></td><td class='num'>0.5</td>" in page
    assert "<ul class='counts'><li>deletion_requests: 9</li><li>rows_deleted: 7</li></ul>" in page
    assert "<td class='num'>60</td><td><span class='nowrap'>2024-05-01</span></td>" in page  # lr_curves
    assert "<td><span class='nowrap'>100 B</span></td>" in page and "&lt;span" not in page
    assert "Editorial list (only_guids_top_200.json): 4 GUIDs, 4 of them in the whitelist." in page
    assert "RuntimeError: boom" in page and "4 of 5 job runs ok" in page
    assert "<td class='num'>12.5</td><td>addons=6</td>" in page


def test_page_is_self_contained():
    page = render_report(inputs_with(sample_artifacts(), sample_runs()))
    assert "<script" not in page and "<link" not in page and " src=" not in page
    hrefs = set(re.findall(r"href=['\"]([^'\"]*)['\"]", page))
    assert hrefs and all(href.startswith("#") for href in hrefs), hrefs
    assert set(re.findall(r"https?://[^'\" ]+", page)) == {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_lr_statement_and_verdict_follow_the_curves():
    apart = render_report(inputs_with(sample_artifacts()))
    assert "class='ok'>The densities separate: total variation distance 0.7" in apart
    assert "All artifacts present, passing their checks, and the LR curves separate." in apart

    same = {**sample_artifacts(), "lr_curves": identical_lr_curves(sample_artifacts()["lr_curves"])}
    flat = render_report(inputs_with(same))
    assert "class='warn'>The densities do not separate: total variation distance 0.000 &lt;= 0.1" in flat
    assert "Needs a look: the LR curves." in flat and "The densities separate" not in flat


def test_title_says_when_the_data_date_is_unknown_or_given():
    undated = {n: Artifact(n, f"/b/{n}.json", "ok", p) for n, p in sample_artifacts().items()}
    assert "<h1>TAAR daily models report: data date unknown</h1>" in render_report(ReportInputs("/b", "/b", undated))
    given = ReportInputs("/b", "/b", undated, data_date="2024-04-30")
    assert "<h1>TAAR daily models report: data of 2024-04-30</h1>" in render_report(given)


def test_missing_artifacts_are_named_with_the_job_that_makes_them():
    missing = {
        name: Artifact(name, f"/b/{name}.json", "missing", detail="not found (nor .bz2); run taar-x")
        for name in sample_artifacts()
    }
    page = render_report(ReportInputs("/b", "/b", missing, runs_problem="runs file not found: /b/demo-runs.json"))
    assert "<svg" not in page and "LR curves" not in page.split("<section id='overview'>")[1].split("</section>")[0]
    assert "lr_curves.json is missing: /b/lr_curves.json (not found (nor .bz2); run taar-x)." in page
    assert "top10_dict.json is missing" in page and "guid_install_ranking.json is missing" in page
    assert "No profile counts: runs file not found: /b/demo-runs.json." in page
    assert "0 of 13 artifacts present" in page
    assert "This section could not be rendered" not in page


def test_a_malformed_artifact_breaks_only_its_section():
    page = render_report(inputs_with({**sample_artifacts(), "lr_curves": [[0.1]]}))
    lr_section = page.split("<section id='lr-curves'>")[1].split("</section>")[0]
    assert "This section could not be rendered: ValueError" in lr_section
    assert page.count("This section could not be rendered") == 1
    assert 'data-figure="whitelist-funnel"' in page


def test_names_from_the_dump_are_escaped():
    artifacts = sample_artifacts()
    artifacts["extended_addons_database"][GUIDS[0]]["name"] = "<b>Ad & Co</b>"
    page = render_report(inputs_with(artifacts))
    assert "<b>Ad" not in page and "&lt;b&gt;Ad &amp; Co&lt;/b&gt;" in page
    for svg in SVG.findall(page):
        ET.fromstring(svg)


def test_bar_chart_shows_every_label_and_value_in_order():
    svg = bar_chart(["first & co", "second"], [4.0, 1.0], figure="f", title="t", value_labels=["4 x", "1 y"])
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert root.get("data-figure") == "f"
    assert texts.index("4 x") < texts.index("1 y") and texts.index("first & co") < texts.index("second")
