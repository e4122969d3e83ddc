"""Every script in examples/ runs as a user runs it and prints the tutorial's numbers."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# The numbers each example prints, in order (the tutorial's outputs, autograd's digits).
EXPECTED = {
    "slope.py": [0.5],
    "tanh_slope.py": [0.419974341614026],
    "logistic_regression.py": [2.772588722239781, 1.0672706757870163],
}


def run_example(name, tmp_path):
    """Run a copy of the example in tmp_path (so a saved plot lands there) and return its stdout."""
    script = tmp_path / name
    shutil.copy(EXAMPLES / name, script)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def floats(text):
    """The whitespace-separated words of ``text`` that are numbers, as floats."""
    found = []
    for word in text.split():
        try:
            found.append(float(word))
        except ValueError:
            pass
    return found


# Examples tested elsewhere: their size is set on the command line, their numbers depend on it.
ELSEWHERE = {"logistic_dask.py": "tests/test_dask.py"}


def test_every_example_has_expected_output():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted([*EXPECTED, *ELSEWHERE])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_prints_tutorial_numbers(name, tmp_path):
    out = run_example(name, tmp_path)
    assert floats(out) == EXPECTED[name], out


def test_logistic_regression_labels(tmp_path):
    lines = run_example("logistic_regression.py", tmp_path).splitlines()
    assert lines == ["Initial loss: 2.772588722239781", "Trained loss: 1.0672706757870163"]


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed")
def test_tanh_slope_saves_png(tmp_path):
    run_example("tanh_slope.py", tmp_path)
    png = tmp_path / "tanh_slope.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
