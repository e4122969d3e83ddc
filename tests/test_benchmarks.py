"""A smoke test of the benchmark script: ``benchmarks/run.py --quick`` runs to the end and
reports every workload. Timings are not checked."""

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import workloads  # noqa: E402


def test_run_quick_reports_every_workload(tmp_path):
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--no-jit"],  # (test_jit compiles them)
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    for name in workloads.NAMES:
        assert any(line.startswith(f"| {name} |") for line in table), f"{name} missing:\n{done.stdout}"
    assert len(table) == 1 + len(workloads.NAMES)  # the header and one row per workload
    assert "numpy" in done.stdout and "CPUs" in done.stdout
