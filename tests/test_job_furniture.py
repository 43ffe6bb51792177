"""Every jobs/* folder carries the same furniture, so the jobs stay alike."""

from __future__ import annotations

import re
import tomllib

import pytest
from conftest import JOB_DIRS, ROOT

MACHINE_PATH = re.compile("/" + "work/(main|steering)")  # split so this file does not match itself
PINNED = re.compile(r"^[A-Za-z0-9_.\-]+(\[[a-z,]+\])?==[0-9][^,;]*$")


def job_ids() -> list[str]:
    return [p.name for p in JOB_DIRS]


def test_there_are_jobs():
    assert JOB_DIRS, "no jobs/* folders"


@pytest.mark.parametrize("job", job_ids())
def test_job_has_furniture(job):
    folder = ROOT / "jobs" / job
    for name in ["Dockerfile", ".dockerignore", "README.md", "pyproject.toml", "src", "tests"]:
        assert (folder / name).exists(), f"jobs/{job} has no {name}"
    package = folder / "src" / f"taar_{job}"
    for module in ["__init__.py", "__main__.py", "cli.py"]:
        assert (package / module).is_file(), f"jobs/{job}: {package.relative_to(ROOT)}/{module} missing"
    assert list((folder / "tests").glob("test_*.py")), f"jobs/{job}/tests has no test_*.py"


@pytest.mark.parametrize("job", job_ids())
def test_job_pyproject_pins_and_names(job):
    folder = ROOT / "jobs" / job
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    script = "taar-" + job.replace("_", "-")
    assert project["scripts"] == {script: f"taar_{job}.cli:main"}, f"jobs/{job}: console script must be {script}"
    unpinned = [d for d in project["dependencies"] if not PINNED.match(d.replace(" ", ""))]
    assert not unpinned, f"jobs/{job}: unpinned dependencies {unpinned}"
    assert any(d.startswith("taar-common") for d in project["dependencies"]), f"jobs/{job} must pin taar-common"
    dockerfile = (folder / "Dockerfile").read_text()
    assert f'ENTRYPOINT ["{script}"]' in dockerfile, f'jobs/{job}/Dockerfile must have ENTRYPOINT ["{script}"]'
    assert "USER 10001" in dockerfile and "ARG BASE_IMAGE" in dockerfile


@pytest.mark.parametrize("lib", sorted(p.name for p in (ROOT / "libs").iterdir() if p.is_dir()))
def test_libs_pin_dependencies(lib):
    project = tomllib.loads((ROOT / "libs" / lib / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"]) + [
        d for extra in project.get("optional-dependencies", {}).values() for d in extra
    ]
    unpinned = [d for d in deps if not PINNED.match(d.replace(" ", ""))]
    assert not unpinned, f"libs/{lib}: unpinned dependencies {unpinned}"


def test_readme_and_ci_agree_on_the_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make test" in readme and "make demo" in readme
    first_commands = [line for line in readme.splitlines() if line.startswith("make ")][:2]
    assert first_commands == ["make demo", "make test"], first_commands


def test_job_readmes_document_every_option():
    missing = {}
    for folder in JOB_DIRS:
        package = folder / "src" / f"taar_{folder.name}"
        # a job may declare its options in an options.py next to cli.py
        cli = "".join((package / name).read_text() for name in ("cli.py", "options.py") if (package / name).exists())
        readme = (folder / "README.md").read_text()
        options = set(re.findall(r'"(--[a-z][a-z0-9-]+)', cli))
        undocumented = sorted(o for o in options if o not in readme)
        if undocumented:
            missing[folder.name] = undocumented
    assert not missing, f"options missing from job READMEs: {missing}"


def test_repo_has_no_machine_paths():
    offenders = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT).parts
        if any(part.startswith(".") and part not in {".ci", ".github"} for part in relative) or any(
            part in {"taar-data", "build", "bench-results"} for part in relative
        ):
            continue
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".sql", ".txt", ".yml", ".yaml", ""}:
            text = path.read_text(errors="ignore")
            if MACHINE_PATH.search(text):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
