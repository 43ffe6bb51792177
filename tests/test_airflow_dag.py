"""deploy/airflow/taar_daily.py only uses images, console scripts and flags that exist, in the right order.

The DAG is read with `ast` (no Airflow needed): every `pod_task(...)` / `spark_task(...)` call names
its job (the image) and script literally; every `--flag` in its arguments must appear in that script's
`--help`, run from the job's own venv (.venv/<job>), so a renamed option breaks this test, not the
night's run.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from functools import cache

import pytest
from conftest import ROOT

DAG_FILE = ROOT / "deploy" / "airflow" / "taar_daily.py"
FLAG = re.compile(r"--[a-z][a-z0-9-]*")


def dag_tree() -> ast.Module:
    return ast.parse(DAG_FILE.read_text(), filename=str(DAG_FILE))


def literal_keyword(call: ast.Call, name: str) -> object:
    for keyword in call.keywords:
        if keyword.arg == name:
            return ast.literal_eval(keyword.value)
    raise AssertionError(f"line {call.lineno}: {ast.unparse(call)[:80]} has no literal {name}=")


def string_parts(node: ast.AST) -> list[str]:
    """Every string constant under `node` (f-string pieces included)."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def function_def(tree: ast.Module, name: str) -> ast.FunctionDef:
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    assert found, f"{DAG_FILE.name} has no {name}()"
    return found[0]


def calls_to(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name]


def flags_in(tree: ast.Module, call: ast.Call) -> set[str]:
    """Flags in the call's arguments, following names and helper functions they are built from."""
    flags: set[str] = set()
    seen: set[str] = set()
    pending: list[ast.AST] = [call]
    assignments = {
        t.id: n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
    }
    while pending:
        node = pending.pop()
        for text in string_parts(node):
            flags.update(FLAG.findall(text) if text.startswith("--") else [])
        for name in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - seen:
            seen.add(name)
            if name in assignments:
                pending.append(assignments[name])
    return flags


def pod_and_spark_calls(tree: ast.Module) -> list[tuple[str, str, set[str], int]]:
    """(job, script, flags, line) for each task: direct calls, and the helpers that wrap pod_task."""
    tasks = []
    for call in calls_to(tree, "pod_task"):
        job = literal_keyword(call, "job")
        script = literal_keyword(call, "script")
        tasks.append((job, script, flags_in(tree, call), call.lineno))
    for call in calls_to(tree, "spark_task"):
        job = literal_keyword(call, "job")
        tasks.append((job, script_of(job), flags_in(tree, call), call.lineno))
    # profile_stage() and wait_for() call pod_task themselves; add their callers' stage flags.
    for helper in ("profile_stage", "wait_for"):
        inner = calls_to(function_def(tree, helper), "pod_task")[0]
        job, script = literal_keyword(inner, "job"), literal_keyword(inner, "script")
        for call in calls_to(tree, helper):
            tasks.append((job, script, flags_in(tree, call), call.lineno))
    return tasks


def script_of(job: str) -> str:
    return "taar-" + job.replace("_", "-")


def job_project(job: str) -> dict:
    path = ROOT / "jobs" / job / "pyproject.toml"
    assert path.exists(), f"the DAG uses jobs/{job}, which does not exist"
    return tomllib.loads(path.read_text())["project"]


@cache
def help_flags(job: str, script: str) -> frozenset[str]:
    binary = ROOT / ".venv" / job / "bin" / script
    if not binary.exists():
        pytest.fail(f"{binary} missing: run `make envs` (tools/ensure-venv jobs/{job})")
    result = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{script} --help failed in .venv/{job}: {result.stderr[-2000:]}"
    return frozenset(FLAG.findall(result.stdout))


def test_dag_declares_a_tested_version_of_every_image():
    tree = dag_tree()
    versions = next(
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "IMAGE_VERSIONS" for t in n.targets)
    )
    for job, version in versions.items():
        assert version == job_project(job)["version"], f"IMAGE_VERSIONS[{job!r}] = {version}, jobs/{job} is at another"
    used = {job for job, *_ in pod_and_spark_calls(tree)}
    assert used <= set(versions), f"tasks use images with no version: {sorted(used - set(versions))}"


def test_dag_runs_every_job():
    used = {job for job, *_ in pod_and_spark_calls(dag_tree())}
    expected = {"amodump", "amowhitelist", "update_whitelist", "profile_bigtable", "spark_lite", "spark_locale"}
    expected.add("spark_similarity")
    assert expected <= used, f"no task runs {sorted(expected - used)}"


def test_dag_uses_console_scripts_its_images_carry():
    common_scripts = tomllib.loads((ROOT / "libs" / "taar_common" / "pyproject.toml").read_text())["project"]["scripts"]
    for job, script, _flags, line in pod_and_spark_calls(dag_tree()):
        carried = set(job_project(job)["scripts"]) | set(common_scripts)
        assert script in carried, f"line {line}: image taar-{job} has no console script {script} ({sorted(carried)})"


DAG_JOBS = sorted({job for job, *_ in pod_and_spark_calls(dag_tree())})


@pytest.mark.parametrize("job", DAG_JOBS)
def test_dag_flags_exist_in_each_scripts_help(job):
    unknown = []
    for task_job, script, flags, line in pod_and_spark_calls(dag_tree()):
        if task_job == job:
            unknown += [f"line {line}: {script} {flag}" for flag in sorted(flags - help_flags(job, script))]
    assert not unknown, "flags the DAG passes that --help does not list:\n" + "\n".join(unknown)


def test_dag_flag_check_can_fail():
    assert "--no-such-option" not in help_flags("amodump", "taar-amodump")
    assert "--amo-url" in help_flags("amodump", "taar-amodump")


def test_dag_pod_helper_runs_the_script_in_the_jobs_image():
    pod_task = function_def(dag_tree(), "pod_task")
    source = ast.unparse(pod_task)
    assert "cmds=[script]" in source and "image=image(job)" in source, source
    assert "runAsUser': 10001" in source, "pods must run as uid 10001"


def task_edges(tree: ast.Module) -> set[tuple[str, str]]:
    """Edges `a >> b` between task variable names, lists on either side, chains included."""
    edges = set()

    def names(node: ast.AST) -> list[str]:
        if isinstance(node, ast.List):
            return [e.id for e in node.elts if isinstance(e, ast.Name)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            return names(node.right)
        return [node.id] if isinstance(node, ast.Name) else []

    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            edges |= {(a, b) for a in names(node.left) for b in names(node.right)}
    return edges


def runs_before(edges: set[tuple[str, str]], first: str, then: str) -> bool:
    frontier, seen = [first], set()
    while frontier:
        node = frontier.pop()
        for a, b in edges:
            if a == node and b not in seen:
                if b == then:
                    return True
                seen.add(b)
                frontier.append(b)
    return False


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("amodump", "amowhitelist"),
        ("amodump", "update_whitelist"),
        ("amowhitelist", "taar_lite"),
        ("update_whitelist", "taar_locale"),
        ("update_whitelist", "taar_similarity"),
        ("wait_for_clients_daily", "taar_lite"),
        ("wait_for_clients_daily", "taar_locale"),
        ("wait_for_clients_daily", "taar_similarity"),
        ("create_cluster", "taar_similarity"),
        ("taar_lite", "delete_cluster"),
        ("wait_for_clients_last_seen", "fill_bq"),
        ("fill_bq", "bq_to_gcs"),
        ("bq_to_gcs", "gcs_to_bigtable"),
        ("gcs_to_bigtable", "wipe_bigquery_tmp_table"),
        ("gcs_to_bigtable", "wipe_avro"),
        ("gcs_to_bigtable", "delete_opt_out"),
    ],
)
def test_dag_dependency_order(first, then):
    assert runs_before(task_edges(dag_tree()), first, then), f"{first} does not run before {then}"


def test_dag_order_check_can_fail():
    assert not runs_before(task_edges(dag_tree()), "taar_lite", "amodump")


def test_dag_loader_shards_over_every_pod():
    source = DAG_FILE.read_text()
    assert 'f"{i}/{SHARDS}"' in source and "for i in range(SHARDS)" in source


def test_dataproc_cluster_installs_what_the_bundles_need():
    sys.path.insert(0, str(ROOT / "tools"))
    import dataproc_bundle  # tools/ is not a package

    tree = dag_tree()
    declared = next(
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "DATAPROC_PIP_PACKAGES" for t in n.targets)
    )
    spark_jobs = {literal_keyword(call, "job") for call in calls_to(tree, "spark_task")}
    needed = set()
    for job in spark_jobs:
        needed |= set(dataproc_bundle.cluster_requirements(ROOT / "jobs" / job))
    assert sorted(declared) == sorted(needed), f"DATAPROC_PIP_PACKAGES should be {sorted(needed)}"
