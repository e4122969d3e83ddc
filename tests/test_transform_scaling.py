"""The transform's linear-time passes give what the quadratic ones gave, and long functions transform."""

import importlib.util
import random
import re
import subprocess
import sys
from pathlib import Path

import gast
import numpy as np
import pytest

import srcgrad
from srcgrad import cache, reverse
from srcgrad.ir import Namer
from srcgrad.normalize import analysis

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from random_programs import generate  # noqa: E402


def _load(source: str, tmp_path, name: str, numpy: str = "numpy"):
    path = tmp_path / f"{name}.py"
    path.write_text(f"import {numpy} as np\n\n\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


# -- liveness: the old definition, walking the rest of the block for every statement -------------


def _exposed_quadratic(body, assigned=frozenset()):
    exposed, assigned = set(), set(assigned)
    for stmt in body:
        if isinstance(stmt, gast.For):
            targets = {n.id for n in gast.walk(stmt.target) if isinstance(n, gast.Name)}
            exposed |= (analysis._read(stmt.iter) - assigned) | _exposed_quadratic(
                stmt.body, assigned | targets
            )
        elif isinstance(stmt, gast.While):
            exposed |= (analysis._read(stmt.test) - assigned) | _exposed_quadratic(stmt.body, assigned)
        elif isinstance(stmt, gast.If):
            exposed |= analysis._read(stmt.test) - assigned
            exposed |= _exposed_quadratic(stmt.body, assigned) | _exposed_quadratic(stmt.orelse, assigned)
        else:
            exposed |= analysis._read(stmt) - assigned
        assigned |= analysis._killed(stmt)
    return exposed


def _live_after_quadratic(body, after, out):
    for i, stmt in enumerate(body):
        live = _exposed_quadratic(body[i + 1 :]) | after
        out[id(stmt)] = live
        if isinstance(stmt, (gast.For, gast.While)):
            again = _exposed_quadratic(stmt.body) | (
                analysis._read(stmt.test) if isinstance(stmt, gast.While) else set()
            )
            _live_after_quadratic(stmt.body, live | again, out)
        elif isinstance(stmt, gast.If):
            _live_after_quadratic(stmt.body, live, out)
            _live_after_quadratic(stmt.orelse, live, out)


@pytest.mark.parametrize("index", range(0, 200, 5))
def test_liveness_sweep_matches_the_quadratic_definition(index):
    """On random programs' functions (loops, branches, breaks, tuple targets, in-place updates)."""
    tree = gast.parse(generate(0, index).template)
    for fn in (n for n in tree.body if isinstance(n, gast.FunctionDef)):
        want, got = {}, {}
        _live_after_quadratic(fn.body, set(), want)
        analysis._live_after(fn.body, set(), got)
        assert got == want
        assert analysis._exposed(fn.body) == _exposed_quadratic(fn.body)


# -- names ----------------------------------------------------------------------------------------


class _NaiveNamer:
    def __init__(self, reserved):
        self.reserved, self.taken = set(reserved), set()

    def fresh(self, base):
        candidate, n = base, 0
        while candidate in self.taken or candidate in self.reserved:
            n += 1
            candidate = f"{base}_{n}"
        self.taken.add(candidate)
        return candidate


def test_namer_gives_the_names_the_search_from_zero_gives():
    """Also after names are given back (a hint discarded) and taken from outside."""
    rng = random.Random(0)
    reserved = {"sin_2", "d_x"}
    fast, naive = Namer(reserved), _NaiveNamer(reserved)
    for _ in range(3000):
        roll = rng.random()
        base = rng.choice(["sin", "d_x", "mul", "sin_1", "tmp"])
        if roll < 0.1 and naive.taken:
            gone = rng.choice(sorted(naive.taken))
            fast.taken.discard(gone)
            naive.taken.discard(gone)
        elif roll < 0.15:
            taken = f"{base}_{rng.randrange(8)}"
            fast.taken.add(taken)
            naive.taken.add(taken)
        else:
            assert fast.fresh(base) == naive.fresh(base)
    assert fast.taken == naive.taken


# -- long functions -------------------------------------------------------------------------------


def _reads_x(n: int) -> str:
    """A function of ``n`` statements each reading x: x's adjoint is a sum of n terms."""
    lines = ["def f(x):", "    v0 = np.sin(x) * x"]
    lines += [f"    v{i} = np.sin(v{i - 1}) * x" for i in range(1, n)]
    return "\n".join([*lines, f"    return np.sum(v{n - 1})"]) + "\n"


def test_long_sum_of_adjoints_is_split_and_adds_in_the_same_order(tmp_path, monkeypatch):
    """x's adjoint has 131 terms: they are added in statements of SUM_TERMS terms, bit for bit
    the value of the one long sum, and equal to autograd's gradient."""
    monkeypatch.setenv("SRCGRAD_CACHE", "0")  # (the disk's entry would not see SUM_TERMS change)
    source = _reads_x(130)
    f = _load(source, tmp_path, "long_f")
    x = np.linspace(0.1, 0.9, 5)
    cache.clear()
    g = srcgrad.grad(f)
    split = g(x)
    sums = [line for line in g.source.splitlines() if re.match(r" *d_x(_\d+)? = ", line)]
    assert len(sums) == 2  # (the first SUM_TERMS terms, then that total and the rest)

    monkeypatch.setattr(reverse, "SUM_TERMS", 1000)  # one expression, as before the split
    cache.clear()
    whole = srcgrad.grad(f)
    assert sum(bool(re.match(r" *d_x(_\d+)? = ", line)) for line in whole.source.splitlines()) == 1
    np.testing.assert_array_equal(split, whole(x))

    autograd = pytest.importorskip("autograd")
    want = autograd.grad(_load(source, tmp_path, "long_f_autograd", "autograd.numpy"))(x)
    np.testing.assert_allclose(split, want, rtol=1e-12, atol=1e-12)


def test_an_adjoint_of_400_terms_transforms(tmp_path):
    """One sum of 400 terms used to exceed the recursion limit (in simplifying it)."""
    f = _load(_reads_x(400), tmp_path, "longer_f")
    x = np.linspace(0.1, 0.9, 5)
    cache.clear()
    g = srcgrad.grad(f)(x)
    step = 1e-6
    e = np.zeros_like(x)
    e[2] = step
    assert g[2] == pytest.approx((f(x + e) - f(x - e)) / (2 * step), rel=1e-5)


def test_scaling_benchmark_runs(tmp_path):
    """``benchmarks/transform_scaling.py`` prints one row per size, each gradient finite (--check)."""
    script = HERE.parent / "benchmarks" / "transform_scaling.py"
    done = subprocess.run(
        [sys.executable, str(script), "--sizes", "25,50", "--depths", "1,2", "--runs", "1", "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if "ms/stmt" in line]
    assert [row.split()[:2] for row in rows] == [
        ["straight", "N=25"],
        ["straight", "N=50"],
        ["nested", "depth=1"],
        ["nested", "depth=2"],
    ]
