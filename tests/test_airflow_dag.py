"""What the repo can check about the deployment without Airflow (the DAG itself is tested with real
Airflow in deploy/airflow/tests/, in its own venv): the DAG's image versions are the jobs' versions,
and the Dataproc cluster installs exactly what the Spark bundles need.
"""

from __future__ import annotations

import ast
import json
import sys
import tomllib

from conftest import ROOT

DAG_FILE = ROOT / "deploy" / "airflow" / "taar_daily.py"
DEPLOYMENT = json.loads((ROOT / "deploy" / "airflow" / "taar_deployment.json").read_text())


def dag_constant(name: str) -> object:
    tree = ast.parse(DAG_FILE.read_text(), filename=str(DAG_FILE))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == name for t in node.targets):
            value = node.value
            if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "frozenset":
                return frozenset(ast.literal_eval(value.args[0]))
            return ast.literal_eval(value)
    raise AssertionError(f"{DAG_FILE.name} has no literal {name}")


def test_dag_deploys_the_tested_version_of_every_job():
    versions = dag_constant("IMAGE_VERSIONS")
    # NOT_YET_SCHEDULED = frozenset({...}): jobs of the deployment config the DAG has no task for yet.
    pending = dag_constant("NOT_YET_SCHEDULED")
    jobs = {p.name for p in (ROOT / "jobs").iterdir() if (p / "pyproject.toml").exists()}
    assert set(versions) <= jobs, f"IMAGE_VERSIONS names missing jobs: {sorted(set(versions) - jobs)}"
    unscheduled = jobs - set(versions) - pending
    assert not unscheduled, f"jobs the DAG neither runs nor lists in NOT_YET_SCHEDULED: {sorted(unscheduled)}"
    for job, version in versions.items():
        project = tomllib.loads((ROOT / "jobs" / job / "pyproject.toml").read_text())["project"]
        assert version == project["version"], f"IMAGE_VERSIONS[{job!r}] = {version}, jobs/{job} is {project['version']}"


def test_dataproc_cluster_installs_what_the_bundles_need():
    sys.path.insert(0, str(ROOT / "tools"))
    import dataproc_bundle  # tools/ is not a package

    spark_jobs = {a["job"] for a in DEPLOYMENT["artifacts"] if (ROOT / "jobs" / a["job"] / "pyproject.toml").exists()}
    spark_jobs = {job for job in spark_jobs if job.startswith("spark_")}
    assert spark_jobs, "the deployment config names no Spark job that exists under jobs/"
    needed = set()
    for job in spark_jobs:
        needed |= set(dataproc_bundle.cluster_requirements(ROOT / "jobs" / job))
    declared = DEPLOYMENT["dataproc"]["pip_packages"]
    assert sorted(declared) == sorted(needed), f"dataproc.pip_packages should be {sorted(needed)}"
