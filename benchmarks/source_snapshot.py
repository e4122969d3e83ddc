"""Snapshot the generated code of many functions, to check a change to the transform leaves it byte-for-byte equal.

    python benchmarks/source_snapshot.py OUT.json [--count 300]
    python benchmarks/source_snapshot.py --compare BEFORE.json AFTER.json

For the first ``--count`` programs of tests/random_programs.py (seed 0) and the functions of
benchmarks/transform_scaling.py, records the ``.source`` of the reverse and forward gradient and
of the Hessian (or the error's type and message when srcgrad refuses), keyed by program.
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

os.environ["SRCGRAD_CACHE"] = "0"
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402

import srcgrad  # noqa: E402


def _sources(f, args) -> dict[str, str]:
    out = {}
    operators = {
        "reverse": lambda: srcgrad.grad(f),
        "forward": lambda: srcgrad.grad(f, mode="forward"),
        "hessian": lambda: srcgrad.hessian(f),
    }
    for mode, make in operators.items():
        try:
            g = make()
            try:
                g(*args)  # (code specialized for argument types exists only after a call)
            except Exception:  # noqa: BLE001 - only the source matters here
                pass
            out[mode] = getattr(g, "source", "<no source>")
        except Exception as exc:  # noqa: BLE001
            out[mode] = f"{type(exc).__name__}: {exc}"
    return {mode: _stable(text) for mode, text in out.items()}


def _stable(text: str) -> str:
    """The text without what differs between runs: the process id in module names, temporary directories."""
    text = re.sub(r"srcgrad_random_\d+_", "srcgrad_random_PID_", text)
    return re.sub(r"/tmp/[^/\s]+/", "/tmp/DIR/", text)


def snapshot(count: int) -> dict[str, dict[str, str]]:
    import random_programs
    import transform_scaling

    result = {}
    for index in range(count):
        program = random_programs.generate(0, index)
        f = random_programs.load(random_programs.render(program.template))
        result[f"random {index}"] = _sources(f, copy_args(program.args))
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        x = np.linspace(0.1, 0.9, 5)
        for n in (25, 100):
            f = transform_scaling._load(transform_scaling.straight_line(n)[0], Path(tmp), f"snap_s{n}")
            result[f"straight {n}"] = _sources(f, (x,))
        for depth in (1, 3):
            f = transform_scaling._load(transform_scaling.nested(depth)[0], Path(tmp), f"snap_n{depth}")
            result[f"nested {depth}"] = _sources(f, (x,))
    return result


def copy_args(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(Path(p).read_text()) for p in args.compare)
        before, after = (
            {k: {m: _stable(t) for m, t in v.items()} for k, v in d.items()} for d in (before, after)
        )
        differ = [(k, m) for k in before for m in before[k] if after.get(k, {}).get(m) != before[k][m]]
        for key, mode in differ[:10]:
            print(f"differs: {key} {mode}")
        print(
            f"{len(before)} functions, {sum(len(v) for v in before.values())} sources, {len(differ)} differ"
        )
        sys.exit(1 if differ or before.keys() != after.keys() else 0)
    Path(args.out).write_text(json.dumps(snapshot(args.count), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
