#!/usr/bin/env python3
"""Build the Dataproc bundle of a Spark job (stdlib only): `make dataproc-bundle JOB=spark_lite`.

Writes, under `build/dataproc/` (or `--out`):
  <job>.zip                the job's package(s) + the vendored taar_common (their `src/` trees), for `--py-files`
  <job>_main.py            the job's entry file (`src/<package>/entry.py` or `main.py`), what spark-submit runs
  <job>_requirements.txt   the third-party packages the cluster image must provide (pinned; pyspark excluded)

The zip is deterministic (sorted entries, fixed timestamps): same sources, same bytes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMON = ROOT / "libs" / "taar_common"
ENTRY_NAMES = ("entry.py", "main.py")
SKIP_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)

# What each Dataproc image version the DAG may name runs; the Spark jobs pin this pyspark, so their
# tests (and the spark-submit runs of taar_testing.dataproc) run the cluster's Spark. A repo test holds
# the DAG's image, the jobs' pins and the test venvs to this table: a new image needs a row here first.
# Source: Google Cloud, "3.0.x release image versions"
# (https://cloud.google.com/dataproc/docs/concepts/versioning/dataproc-release-3.0) and the Dataproc
# release notes of 2025-09-08: 3.0.0-RC1-debian12 is the only 3.0 image on Debian 12 (Spark 4.0.0,
# Python 3.11, Java 17); later 3.0.x images are Debian 13 / Ubuntu 24 with Spark 4.1.x and Java 21.
DATAPROC_IMAGES = {
    "3.0-debian12": {"spark": "4.0.0", "python": "3.11", "java": "17"},
}


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())


def _packages(folder: Path) -> list[Path]:
    """The package folders a project ships (hatch's wheel `packages`, else every package under src/)."""
    declared = _project(folder).get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
    paths = declared.get("wheel", {}).get("packages")
    found = [folder / p for p in paths] if paths else sorted(p.parent for p in (folder / "src").glob("*/__init__.py"))
    missing = [p for p in found if not (p / "__init__.py").is_file()]
    if not found or missing:
        raise SystemExit(f"dataproc_bundle: no Python package under {folder / 'src'} (missing: {missing})")
    return found


def _files(package: Path) -> list[Path]:
    return sorted(
        p
        for p in package.rglob("*")
        if p.is_file() and not SKIP_PARTS.intersection(p.parts) and p.suffix not in (".pyc", ".pyo")
    )


def _requirement_name(requirement: str) -> str:
    return re.split(r"[=<>\[ ;~!]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def cluster_requirements(job_dir: Path) -> list[str]:
    """Pinned third-party deps of the job and of taar_common (with the extras the job asks for), minus pyspark."""
    job_deps = _project(job_dir)["project"]["dependencies"]
    common = _project(COMMON)["project"]
    wanted = list(common["dependencies"])
    for dep in job_deps:
        if _requirement_name(dep) == "taar-common":
            extras = re.search(r"\[([^\]]+)\]", dep)
            for extra in extras.group(1).split(",") if extras else []:
                wanted += common.get("optional-dependencies", {}).get(extra.strip(), [])
        else:
            wanted.append(dep)
    by_name = {_requirement_name(d): d for d in wanted if _requirement_name(d) not in ("pyspark", "taar-common")}
    return [by_name[name] for name in sorted(by_name)]


def build(job: str, out_dir: Path) -> dict[str, Path]:
    """Write the zip, the entry file and the requirements list for `job`; return their paths."""
    job_dir = ROOT / "jobs" / job
    if not (job_dir / "pyproject.toml").is_file():
        raise SystemExit(f"dataproc_bundle: no job {job!r} (expected {job_dir}/pyproject.toml)")
    packages = _packages(job_dir) + _packages(COMMON)
    entries = [p / name for p in _packages(job_dir) for name in ENTRY_NAMES if (p / name).is_file()]
    if not entries:
        raise SystemExit(f"dataproc_bundle: {job} has no entry file ({' or '.join(ENTRY_NAMES)} in its package)")
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{job}.zip"
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for package in packages:
            for path in _files(package):
                info = zipfile.ZipInfo(str(path.relative_to(package.parent)), date_time=FIXED_TIME)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, path.read_bytes())
    tmp.replace(zip_path)
    main_path = out_dir / f"{job}_main.py"
    shutil.copyfile(entries[0], main_path)
    requirements_path = out_dir / f"{job}_requirements.txt"
    requirements_path.write_text("".join(f"{r}\n" for r in cluster_requirements(job_dir)))
    return {"zip": zip_path, "main": main_path, "requirements": requirements_path}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("job", help="job folder name under jobs/, e.g. spark_lite")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "dataproc", help="output folder")
    args = parser.parse_args(argv)
    paths = build(args.job, args.out)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    print(
        f"submit: gcloud dataproc jobs submit pyspark {paths['main']} --cluster=CLUSTER --region=REGION "
        f"--py-files={paths['zip']} -- --date YYYYMMDD ...",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
