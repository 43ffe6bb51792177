"""Repo-level checks: every job folder alike, dependencies declared, lint clean."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JOB_DIRS = sorted(p for p in (ROOT / "jobs").iterdir() if p.is_dir()) if (ROOT / "jobs").is_dir() else []


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
