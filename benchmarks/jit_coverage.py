"""Which derivative rules ``jit=True`` compiles, and that none is silently wrong.

    python benchmarks/jit_coverage.py [--cases-per-rule K] [--only numpy|scipy|...]

Runs the finite-difference cases of ``tests/test_rules.py`` (the first K of each
differentiable rule) through ``grad(f, wrt, jit=True)`` and compares each with the
interpreted ``grad(f, wrt)``. A case is *same* (equal to rounding), *refused* (a ``JitError``
naming the line numba cannot compile: ``jit=False`` works there), *wrong* (a different value:
the bug this script exists to find) or *crash* (another exception). numba compiles each case,
a second or two apiece, so a full run takes minutes.
"""

from __future__ import annotations

import argparse
import collections
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import test_rules as rules  # noqa: E402

import srcgrad  # noqa: E402


def same(got, want) -> bool:
    got, want = (v if isinstance(v, tuple) else (v,) for v in (got, want))
    return len(got) == len(want) and all(
        np.shape(g) == np.shape(w) and np.allclose(g, w, rtol=1e-9, atol=1e-12, equal_nan=True)
        for g, w in zip(got, want)
    )


def alarm(signum, frame):
    raise TimeoutError("over the time limit")


def check(built, case) -> tuple[str, str]:
    names = list(case.args)
    wrt = tuple(names.index(w) for w in case.wrt)
    wrt = wrt[0] if len(wrt) == 1 else wrt
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = srcgrad.grad(built.fn, wrt=wrt)(*built.args)
        except Exception as exc:  # (the interpreted gradient refuses: nothing to compare)
            return "not differentiated", type(exc).__name__
        signal.alarm(120)
        try:
            got = srcgrad.grad(built.fn, wrt=wrt, jit=True)(*built.args)
        except srcgrad.JitError as exc:
            return "refused", str(exc).split(": ", 3)[-1].splitlines()[0][:100]
        except Exception as exc:
            return "crash", f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
        finally:
            signal.alarm(0)
    return ("same", "") if same(got, want) else ("wrong", f"got {got!r}, want {want!r}"[:300])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases-per-rule", type=int, default=1)
    parser.add_argument("--only", help="rules whose spelling starts with this (np, scipy, ...)")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, alarm)
    directory = Path(tempfile.mkdtemp(prefix="jit-coverage-"))
    outcomes: dict[str, list[str]] = collections.defaultdict(list)
    reasons: collections.Counter = collections.Counter()
    start = time.perf_counter()
    for rule in rules.DIFFERENTIABLE:
        if args.only and not rule.spelling.startswith(args.only):
            continue
        cases = rules.CASES.get(rule.fn, [])[: args.cases_per_rule]
        if not cases:
            continue
        module = "jitcases_" + "".join(ch if ch.isalnum() else "_" for ch in rule.spelling)
        for case, built in zip(cases, rules.build(cases, directory, module)):
            kind, detail = check(built, case)
            outcomes[kind].append(f"{rule.spelling}: {case.expr}")
            if kind in ("refused", "crash"):
                reasons[detail] += 1
            if kind in ("wrong", "crash"):
                print(f"{kind.upper()} {rule.spelling}: {case}\n    {detail}", flush=True)
    total = sum(map(len, outcomes.values()))
    print(f"\n{total} cases in {time.perf_counter() - start:.0f} s")
    for kind in ("same", "refused", "wrong", "crash", "not differentiated"):
        print(f"{kind:>20}: {len(outcomes[kind])}")
    print("\nwhat numba refused, most often first:")
    for detail, n in reasons.most_common(25):
        print(f"{n:5d}  {detail}")


if __name__ == "__main__":
    main()
