"""Real Airflow for the DAG suite: a private AIRFLOW_HOME and one DagBag parse per session.

The environment is set before anything imports Airflow (it reads its configuration on import).
Parsing imports the Google and Kubernetes providers (~13 s of CPU, far more on a busy machine), so
the DagBag is built once per session and the import timeout is raised for a loaded 2-core machine.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import pytest

AIRFLOW_DIR = Path(__file__).resolve().parent.parent
ROOT = AIRFLOW_DIR.parent.parent
DAG_FILE = AIRFLOW_DIR / "taar_daily.py"
_HOME = tempfile.mkdtemp(prefix="taar-airflow-home-")
os.environ.update(
    {
        "AIRFLOW_HOME": _HOME,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(AIRFLOW_DIR),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "900",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME}/airflow.db",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    }
)


@pytest.fixture(scope="session")
def dagbag():
    """The DAG file parsed once, every warning raised as an error (a deprecation is an import error)."""
    from airflow.dag_processing.dagbag import DagBag

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bag = DagBag(dag_folder=str(DAG_FILE))
    return bag


@pytest.fixture(scope="session")
def dag(dagbag):
    assert not dagbag.import_errors, dagbag.import_errors
    return dagbag.dags["taar_daily"]


@pytest.fixture(scope="session")
def dag_module(dag):
    """The module the DagBag imported (its constants and helpers)."""
    import sys

    found = [m for m in sys.modules.values() if getattr(m, "__file__", None) == str(DAG_FILE)]
    assert found, "the DagBag did not import taar_daily.py as a module"
    return found[0]
