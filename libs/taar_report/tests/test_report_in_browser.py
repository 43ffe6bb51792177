"""End to end: `taar-report` as a subprocess, then the page rendered by headless Chromium.

Chromium is a system package (tools/ensure-system-deps installs it). Without it these tests
fail, naming the install step, unless TAAR_ALLOW_NO_BROWSER=1 turns that into a skip.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import identical_lr_curves, profile_stage_runs, sample_artifacts, sample_runs, write_bucket
from PIL import Image
from taar_report import model

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "install chromium: apt-get install -y chromium (tools/ensure-system-deps does it)"
REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOT = REPO_ROOT / ".test-results" / "report-screenshot.png"
FIGURES = ["lr-curves", "locale-en-US", "locale-de", "locale-fr", "whitelist-funnel"]
WIDTH, HEIGHT = 1400, 3000
# Appended to a copy of the page only (the report itself has no script): records how far right
# any element reaches, so the DOM dump shows whether the page overflows the window.
MEASURE = (
    "<script>document.body.dataset.maxRight = Math.ceil(Math.max(...Array.from("
    "document.querySelectorAll('body *'), e => e.getBoundingClientRect().right)));</script>"
)
SECTIONS = ["overview", "lr-curves", "locales", "coinstallation", "funnel", "profiles", "artifacts", "runs"]


def require_chromium(path: Path) -> Path:
    """`path` if it exists; else fail naming the install step (skip when TAAR_ALLOW_NO_BROWSER=1)."""
    if path.exists():
        return path
    if os.environ.get("TAAR_ALLOW_NO_BROWSER") == "1":
        pytest.skip(f"{path} missing and TAAR_ALLOW_NO_BROWSER=1; {INSTALL_HINT}")
    pytest.fail(f"{path} missing; {INSTALL_HINT}", pytrace=False)


@pytest.fixture(scope="module")
def chromium() -> Path:
    return require_chromium(CHROMIUM)


def render(chromium: Path, page: Path, workdir: Path, screenshot: Path | None = None) -> tuple[str, str]:
    """(DOM after load, Chromium's log) of `page` in a WIDTH x HEIGHT window; a screenshot when asked."""
    profile = workdir / f"chromium-profile-{page.stem}"
    command = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        f"--window-size={WIDTH},{HEIGHT}",
    ]
    if screenshot is not None:
        command += [f"--screenshot={screenshot}"]
    done = subprocess.run([*command, page.as_uri()], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout, done.stderr


def console_problems(log: str) -> list[str]:
    """Console output and uncaught errors of the page (the report has no script, so any is a fault)."""
    return [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def make_report(bucket: Path) -> Path:
    script = Path(sys.executable).parent / "taar-report"
    run = subprocess.run([str(script), "--bucket", str(bucket)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["status"] == "ok"
    return bucket / "report.html"


def lr_statement(dom: str) -> str:
    """The text of the LR-curve check paragraph as the browser shows it."""
    found = re.search(r'<p data-check="lr-separation" class="(\w+)">(.*?)</p>', dom, re.S)
    assert found, "no LR separation statement in the DOM"
    return html.unescape(found.group(2))


def test_report_page_loads_with_every_section_and_figure(chromium, tmp_path):
    artifacts = sample_artifacts()
    runs = sample_runs() + profile_stage_runs()
    page = make_report(write_bucket(tmp_path / "bucket", artifacts, runs, bz2={"guid_coinstallation"}))
    shot = tmp_path / "screenshot.png"
    measured = tmp_path / "measured.html"
    measured.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))

    dom, log = render(chromium, page, tmp_path, screenshot=shot)
    measured_dom, _ = render(chromium, measured, tmp_path)

    SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)
    for section in SECTIONS:
        assert f'<section id="{section}">' in dom, f"section {section} missing from the DOM"
    figures = re.findall(r'<svg[^>]*data-figure="([^"]+)"', dom)
    assert figures == FIGURES and page.read_text().count("<svg") == len(FIGURES)
    assert 'id="lr-numerator"' in dom and 'id="lr-denominator"' in dom
    assert "<h1>TAAR daily models report: data of 2024-05-01</h1>" in dom
    expected = model.lr_separation(*model.lr_curve_series(artifacts["lr_curves"]))
    assert expected.separate and lr_statement(dom) == expected.statement()
    assert "Ad Blocker" in dom and "enough_guids" in dom and "rows_without_client_id_skipped: 0" in dom
    assert console_problems(log) == []
    max_right = int(re.search(r'data-max-right="(\d+)"', measured_dom).group(1))
    assert max_right <= WIDTH, f"the page overflows a {WIDTH} px window: an element reaches {max_right} px"

    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    counts = {color: n for n, color in image.getcolors(maxcolors=WIDTH * HEIGHT)}
    non_white = sum(n for color, n in counts.items() if color != (255, 255, 255))
    assert non_white > 0.03 * WIDTH * HEIGHT, f"screenshot nearly blank ({non_white} non-white pixels)"
    for name, color in [("locale bars", (0x4A, 0x8F, 0x5A)), ("funnel bars", (0x7B, 0x5E, 0xA7))]:
        assert counts.get(color, 0) > 500, f"{name} not drawn in the screenshot"


def test_identical_lr_curves_flip_the_statement_in_the_browser(chromium, tmp_path):
    artifacts = {**sample_artifacts(), "lr_curves": identical_lr_curves(sample_artifacts()["lr_curves"])}
    page = make_report(write_bucket(tmp_path / "bucket", artifacts, sample_runs()))

    dom, log = render(chromium, page, tmp_path)

    statement = lr_statement(dom)
    assert statement.startswith("The densities do not separate: total variation distance 0.000 <= 0.1"), statement
    assert 'class="warn">The densities do not separate' in dom
    assert "Needs a look: the artifacts table, the job runs, the LR curves." in html.unescape(dom)
    assert console_problems(log) == []


def test_console_check_catches_a_failing_page(chromium, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><p>x</p><script>undefinedFunction();</script></body></html>")
    _, log = render(chromium, broken, tmp_path)
    assert any("undefinedFunction" in line for line in console_problems(log))


def test_missing_chromium_fails_unless_explicitly_allowed(tmp_path, monkeypatch):
    monkeypatch.delenv("TAAR_ALLOW_NO_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception, match=re.escape(INSTALL_HINT)):
        require_chromium(tmp_path / "chromium")
    monkeypatch.setenv("TAAR_ALLOW_NO_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception, match=re.escape(INSTALL_HINT)):
        require_chromium(tmp_path / "chromium")
