#!/usr/bin/env python3
"""Write .github/workflows/job-<job>.yml for every jobs/* folder from templates/ci/job-workflow.yml.

Usage: tools/gen_workflows.py [--check]
--check writes nothing and exits 1 naming every workflow that is missing, stale, or left over
from a job that no longer exists (the repo tests run it, so the workflows cannot drift).
"""

from __future__ import annotations

import argparse
import re
import sys

from images import ROOT, SPARK_BEGIN, SPARK_END, job_names, script_name, uses_spark

TEMPLATE = ROOT / "templates" / "ci" / "job-workflow.yml"
WORKFLOWS = ROOT / ".github" / "workflows"


def render_workflow(job: str) -> str:
    """The template for one job; the JRE set-up block is kept only for Spark jobs."""
    text = TEMPLATE.read_text().replace("__JOB__", job).replace("__SCRIPT__", script_name(job).removeprefix("taar-"))
    if not uses_spark(job):
        text = re.sub(rf"{re.escape(SPARK_BEGIN)}.*?{re.escape(SPARK_END)}\n", "", text, flags=re.S)
    return text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report drift instead of writing")
    check = parser.parse_args(argv).check
    wanted = {WORKFLOWS / f"job-{job}.yml": render_workflow(job) for job in job_names()}
    problems = []
    for path, text in wanted.items():
        if path.exists() and path.read_text() == text:
            continue
        problems.append(f"{path.relative_to(ROOT)} {'stale' if path.exists() else 'missing'}")
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in sorted(WORKFLOWS.glob("job-*.yml")):
        if path not in wanted:
            problems.append(f"{path.relative_to(ROOT)} has no jobs/ folder")
            if not check:
                path.unlink()
    for problem in problems:
        print(f"gen_workflows: {problem}{' (run `make workflows`)' if check else ': rewritten'}", file=sys.stderr)
    return 1 if check and problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
