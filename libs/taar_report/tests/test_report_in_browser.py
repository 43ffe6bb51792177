"""End to end: `taar-report` as a subprocess, then the page rendered by headless Chromium.

Chromium is a system package (tools/ensure-system-deps installs it). Without it these tests
fail, naming the install step, unless TAAR_ALLOW_NO_BROWSER=1 turns that into a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import sample_artifacts, sample_runs, write_bucket
from PIL import Image

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "install chromium: apt-get install -y chromium (tools/ensure-system-deps does it)"
REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOT = REPO_ROOT / ".test-results" / "report-screenshot.png"
FIGURES = ["lr-curves", "locale-en-US", "locale-de", "locale-fr", "whitelist-funnel"]
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
    """(DOM after load, Chromium's log) of `page`; writes a 1280x2400 screenshot when asked."""
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
    ]
    if screenshot is not None:
        command += [f"--screenshot={screenshot}", "--window-size=1280,2400"]
    done = subprocess.run([*command, page.as_uri()], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout, done.stderr


def console_problems(log: str) -> list[str]:
    """Console output and uncaught errors of the page (the report has no script, so any is a fault)."""
    return [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def test_report_page_loads_with_every_section_and_figure(chromium, tmp_path):
    bucket = write_bucket(tmp_path / "bucket", sample_artifacts(), sample_runs(), bz2={"guid_coinstallation"})
    script = Path(sys.executable).parent / "taar-report"
    run = subprocess.run([str(script), "--bucket", str(bucket)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["status"] == "ok"
    page = bucket / "report.html"
    shot = tmp_path / "screenshot.png"

    dom, log = render(chromium, page, tmp_path, screenshot=shot)

    SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)
    for section in SECTIONS:
        assert f'<section id="{section}">' in dom, f"section {section} missing from the DOM"
    figures = re.findall(r'<svg[^>]*data-figure="([^"]+)"', dom)
    assert figures == FIGURES and page.read_text().count("<svg") == len(FIGURES)
    assert dom.count("<polyline") == 2 and dom.count("</svg>") == len(FIGURES)
    assert "Ad Blocker" in dom and "enough_guids" in dom
    assert console_problems(log) == []

    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2400)
    counts = {color: n for n, color in image.getcolors(maxcolors=1280 * 2400)}
    non_white = sum(n for color, n in counts.items() if color != (255, 255, 255))
    assert non_white > 0.03 * 1280 * 2400, f"screenshot nearly blank ({non_white} non-white pixels)"
    for name, color in [("locale bars", (0x4A, 0x8F, 0x5A)), ("funnel bars", (0x7B, 0x5E, 0xA7))]:
        assert counts.get(color, 0) > 500, f"{name} not drawn in the screenshot"


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
