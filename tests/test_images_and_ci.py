"""Per-job images and CI stay stamped from their templates, lint clean, and trigger per job.

The image builds themselves are `make test-images` (heavy, needs an engine; see README Deploy);
these checks are quick and run in `make test`.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import JOB_DIRS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import dataproc_bundle
import gen_workflows
import images  # tools/ is not a package

BIN = Path(sys.executable).parent
JOBS = [p.name for p in JOB_DIRS if (p / "pyproject.toml").exists()]
WORKFLOWS = ROOT / ".github" / "workflows"


def run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, cwd=cwd, timeout=300)


# --- Dockerfiles -----------------------------------------------------------------------------


def test_job_dockerfiles_are_stamped_from_the_template():
    result = run(sys.executable, ROOT / "tools" / "images.py", "dockerfiles", "--check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("dockerfile", ["templates/job/Dockerfile", *[f"jobs/{job}/Dockerfile" for job in JOBS]])
def test_hadolint_is_clean(dockerfile):
    result = run(BIN / "hadolint", dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get install curl\nRUN pip install requests\n")
    result = run(BIN / "hadolint", bad)
    assert result.returncode != 0 and "DL3008" in result.stdout, result.stdout


@pytest.mark.parametrize("job", JOBS)
def test_only_spark_images_carry_a_jre(job):
    dockerfile = (ROOT / "jobs" / job / "Dockerfile").read_text()
    assert ("openjdk-17-jre-headless" in dockerfile) == images.uses_spark(job)
    script = "taar-" + job.replace("_", "-")
    assert f'ENTRYPOINT ["{script}"]' in dockerfile and "USER 10001:10001" in dockerfile
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}$", dockerfile, re.M), (
        "the base image is pinned by digest next to its tag"
    )
    assert "pip install --no-cache-dir --require-hashes --no-deps -r /opt/taar/requirements.lock" in dockerfile


@pytest.mark.parametrize("job", JOBS)
def test_build_context_vendors_taar_common_and_carries_the_hashed_lock(job, tmp_path, monkeypatch):
    monkeypatch.setattr(images, "BUILD", tmp_path)
    context = images.prepare_context(job)
    assert (context / "vendor" / "taar_common" / "src" / "taar_common" / "storage.py").exists()
    assert not (context / "tests").exists() and not (context / "vendor" / "taar_common" / "tests").exists()
    assert (context / ".dockerignore").exists() and (context / "Dockerfile").exists()
    lock = (context / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)==([^\s;]+)", lock, re.M))
    names = {images.requirement_name(name) for name in pins}
    assert "taar-common" not in names, "the image installs the vendored taar_common, not a registry copy"
    common = images.project(images.COMMON)["dependencies"]
    assert {images.requirement_name(d) for d in common} <= names
    job_deps = images.project(ROOT / "jobs" / job)["dependencies"]
    assert {images.requirement_name(d) for d in job_deps} - {"taar-common"} <= names
    assert ("pyspark" in names) == images.uses_spark(job)
    assert "hatchling" in names, "the build backend is locked too (the code layer builds without the network)"
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[2])
    unhashed = [e.split()[0] for e in entries if e.strip() and "--hash=sha256:" not in e]
    assert not unhashed, f"lock entries without a hash: {unhashed}"


def test_image_locks_match_todays_pins():
    result = run(sys.executable, ROOT / "tools" / "images.py", "locks", "--check")
    assert result.returncode == 0, result.stderr


def test_lock_check_catches_a_changed_pin(monkeypatch, tmp_path):
    real = images.project

    def bumped(path: Path) -> dict:
        project = dict(real(path))
        if path.name == "amodump":
            project["dependencies"] = [*project["dependencies"], "six==1.17.0"]
        return project

    monkeypatch.setattr(images, "project", bumped)
    assert "stale" in images.lock_problem("amodump")
    monkeypatch.setattr(images, "BUILD", tmp_path)
    with pytest.raises(SystemExit, match="tools/images.py locks amodump"):
        images.prepare_context("amodump")


def test_lock_check_catches_a_hand_edited_entry(tmp_path):
    text = (ROOT / "jobs" / "amodump" / "requirements.lock").read_text()
    edited = tmp_path / "requirements.lock"
    edited.write_text(re.sub(r"^requests==\S+", "requests==0.0.1", text, flags=re.M))
    assert "requests==2" in (images.lock_problem("amodump", edited) or ""), "an edited entry must be reported"
    unhashed = tmp_path / "unhashed.lock"
    unhashed.write_text(text + "six==1.17.0\n")
    assert "without a hash" in (images.lock_problem("amodump", unhashed) or "")


def test_requirements_refuse_conflicting_pins(monkeypatch):
    real = images.project

    def conflicting(path: Path) -> dict:
        project = dict(real(path))
        if path.name == "amodump":
            project["dependencies"] = [*project["dependencies"], "click==0.0.1"]
        return project

    monkeypatch.setattr(images, "project", conflicting)
    with pytest.raises(SystemExit, match="click"):
        images.requirements("amodump")


def test_image_tag_is_script_and_version():
    for job in JOBS:
        version = images.project(ROOT / "jobs" / job)["version"]
        assert images.image_tag(job) == f"taar-{job.replace('_', '-')}:{version}"


def test_podman_settings_are_committed():
    conf = (ROOT / "deploy" / "podman" / "containers.conf").read_text()
    for setting in ['runtime = "runc"', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', "nofile=20000:20000"]:
        assert setting in conf


# --- workflows -------------------------------------------------------------------------------


def test_workflows_are_generated_and_up_to_date():
    result = run(sys.executable, ROOT / "tools" / "gen_workflows.py", "--check")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in WORKFLOWS.glob("job-*.yml")) == sorted(f"job-{job}.yml" for job in JOBS)


def test_actionlint_is_clean():
    result = run(BIN / "actionlint", "-no-color", *sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_bad_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    result = run(BIN / "actionlint", "-no-color", bad, cwd=tmp_path)
    assert result.returncode != 0, result.stdout


@pytest.mark.parametrize("job", JOBS)
def test_workflow_triggers_only_on_its_job_and_pushes_on_main(job):
    workflow = yaml.safe_load((WORKFLOWS / f"job-{job}.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    for event in ("push", "pull_request"):
        paths = triggers[event]["paths"]
        assert f"jobs/{job}/**" in paths and "tox.ini" in paths
        for lib in ("taar_common", "taar_fixtures", "taar_testing"):  # every lib a job's tests import
            assert f"libs/{lib}/**" in paths, f"job-{job}.yml does not trigger on libs/{lib}"
        others = [p for p in paths if p.startswith("jobs/") and p != f"jobs/{job}/**"]
        assert not others, f"job-{job}.yml also triggers on {others}"
    assert triggers["push"]["branches"] == ["main"]
    steps = workflow["jobs"]["image"]["steps"]
    push = [s for s in steps if "docker push" in s.get("run", "")]
    assert push and "refs/heads/main" in push[0]["if"], "the image is pushed on main only"
    tests = " ".join(s.get("run", "") for s in workflow["jobs"]["test"]["steps"])
    assert f"tox -e {job}" in tests and "tox-uv==" in tests
    assert ("google-cloud-cli-bigtable-emulator" in tests) == gen_workflows.uses_bigtable(job)
    java = any("setup-java" in s.get("uses", "") for s in workflow["jobs"]["test"]["steps"])
    assert java == images.uses_spark(job)


def test_repo_workflow_runs_lint_and_every_suite_with_the_emulators_on_every_change():
    workflow = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]
    for event in ("push", "pull_request"):
        assert event in triggers and not (triggers[event] or {}).get("paths"), f"ci.yml must run on every {event}"
    (job,) = workflow["jobs"].values()
    steps = " ".join(s.get("run", "") for s in job["steps"])
    assert "make lint" in steps and ".ci/run" in steps
    for package in ("google-cloud-cli-bigtable-emulator", "openjdk-17-jre-headless", "chromium"):
        assert package in steps, f"ci.yml does not install {package}"
    assert job["container"]["image"].startswith("python:3.11-slim-bookworm@sha256:")
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_tox_has_one_environment_per_suite_running_that_suite():
    import configparser

    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    suites = [name for name, _ in gen_workflows.test_suites()]
    assert tox["tox"]["env_list"].split() == suites
    assert set(tox["tox"]["requires"].split()) == set(gen_workflows.TOX_REQUIRES)
    for name in suites:
        commands = tox[f"testenv:{name}"]["commands"].strip().splitlines()
        assert commands[-1].strip() == f"python3 {{tox_root}}/tools/run-tests {name}", commands


# --- make test-images plan ---------------------------------------------------------------------


@pytest.mark.parametrize("job", JOBS)
def test_every_job_has_a_container_smoke_run_with_real_flags(job):
    """A new job gets a small run in tools/images_smoke.py, and its flags exist, before the heavy build."""
    import images_smoke

    runs = images_smoke.job_runs(job, "http://127.0.0.1:1/api/v5/")
    assert runs and any(run.artifacts for run in runs), f"jobs/{job}: the smoke run checks no artifact"
    binary = ROOT / ".venv" / job / "bin" / images.script_name(job)
    if not binary.exists():
        pytest.fail(f"{binary} missing: run `make envs`")
    helped = run(binary, "--help")
    assert helped.returncode == 0, helped.stderr[-2000:]
    known = set(re.findall(r"--[a-z][a-z0-9-]*", helped.stdout))
    used = {arg for r in runs for arg in r.args if arg.startswith("--")}
    assert used <= known, f"tools/images_smoke.py passes {sorted(used - known)} that {binary.name} --help lacks"


def test_smoke_plan_refuses_an_unknown_job():
    import images_smoke

    with pytest.raises(SystemExit, match="no small run"):
        images_smoke.job_runs("no_such_job", "http://127.0.0.1:1/")


# --- Dataproc parity -----------------------------------------------------------------------------


def dag_dataproc_image() -> str:
    """The Dataproc image the DAG creates its cluster with: the deployment config, else the DAG's constant."""
    config = ROOT / "deploy" / "airflow" / "taar_deployment.json"
    if config.exists():
        image = json.loads(config.read_text()).get("dataproc", {}).get("image_version")
        if image:
            return image
    tree = ast.parse((ROOT / "deploy" / "airflow" / "taar_daily.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "DATAPROC_IMAGE_VERSION" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("no Dataproc image version in deploy/airflow (taar_deployment.json dataproc.image_version)")


def pyspark_pins() -> dict[str, str]:
    """pyspark pin of every package that declares one (the Spark jobs and taar_common's spark extra)."""
    pins = {}
    for path in [*(ROOT / "jobs").glob("*/pyproject.toml"), *(ROOT / "libs").glob("*/pyproject.toml")]:
        project = tomllib.loads(path.read_text())["project"]
        deps = project["dependencies"] + [d for ds in project.get("optional-dependencies", {}).values() for d in ds]
        for dep in deps:
            if images.requirement_name(dep) == "pyspark":
                pins[str(path.parent.relative_to(ROOT))] = dep.replace(" ", "").split("==", 1)[-1]
    return pins


def test_spark_pins_are_the_spark_of_the_dags_dataproc_image():
    image = dag_dataproc_image()
    assert image in dataproc_bundle.DATAPROC_IMAGES, (
        f"the DAG names Dataproc image {image!r}, which tools/dataproc_bundle.py DATAPROC_IMAGES does not list: "
        "add its Spark/Python/Java from Google's release-versions page, then pin that pyspark"
    )
    spark = dataproc_bundle.DATAPROC_IMAGES[image]["spark"]
    pins = pyspark_pins()
    assert {f"jobs/{job}" for job in JOBS if images.uses_spark(job)} <= set(pins), pins
    wrong = {package: pin for package, pin in pins.items() if pin != spark}
    assert not wrong, f"Dataproc {image} runs Spark {spark}; these pin another pyspark: {wrong}"


@pytest.mark.parametrize("job", [job for job in JOBS if images.uses_spark(job)])
def test_spark_job_tests_run_the_clusters_spark_and_python(job):
    """The job's test venv (where its spark-submit tests run) holds the image's pyspark; CI runs its Python."""
    wanted = dataproc_bundle.DATAPROC_IMAGES[dag_dataproc_image()]
    installed = sorted((ROOT / ".venv" / job).glob("lib/python3*/site-packages/pyspark-*.dist-info"))
    if not installed:
        pytest.fail(f".venv/{job} has no pyspark: run `make envs`")
    version = installed[-1].name.removeprefix("pyspark-").removesuffix(".dist-info")
    assert version == wanted["spark"], f".venv/{job} runs pyspark {version}, the cluster Spark {wanted['spark']}"
    workflow = yaml.safe_load((WORKFLOWS / f"job-{job}.yml").read_text())
    pythons = {
        s["with"]["python-version"] for s in workflow["jobs"]["test"]["steps"] if "setup-python" in s.get("uses", "")
    }
    assert pythons == {wanted["python"]}, (
        f"job-{job}.yml tests on Python {pythons}, the cluster runs {wanted['python']}"
    )
    javas = {s["with"]["java-version"] for s in workflow["jobs"]["test"]["steps"] if "setup-java" in s.get("uses", "")}
    assert javas == {wanted["java"]}, f"job-{job}.yml tests on Java {javas}, the cluster runs {wanted['java']}"


def test_parity_check_catches_a_pin_off_the_image(monkeypatch):
    monkeypatch.setitem(dataproc_bundle.DATAPROC_IMAGES, dag_dataproc_image(), {"spark": "0.0.1"})
    with pytest.raises(AssertionError, match="pin another pyspark"):
        test_spark_pins_are_the_spark_of_the_dags_dataproc_image()


def test_test_images_preflight_names_the_exact_install_command_when_not_root(monkeypatch):
    monkeypatch.setattr(images.os, "geteuid", lambda: 1000)
    with pytest.raises(SystemExit) as stopped:
        images.apt_install(["podman", "runc"], "podman, runc missing")
    assert "sudo apt-get install -y --no-install-recommends podman runc" in str(stopped.value)
    assert "make test-images" in str(stopped.value)
