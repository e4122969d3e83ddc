"""How the transform's time grows with the function's length: it should be linear.

    python benchmarks/transform_scaling.py [--sizes 25,50,...] [--depths 1,2,3,4] [--runs 3]

Cold transform time of ``grad(f)`` (the disk cache off, the in-memory cache cleared before each
transform) for generated functions:

- straight-line: N numpy statements, each reading the one or two before it;
- nested loops: loops nested 1 to 4 deep, eight statements at each level.

Prints total seconds (median of ``--runs``) and milliseconds per statement; the per-statement
cost should stay flat as N grows (about 1 ms). The module is written to a temporary directory,
since srcgrad reads the source from a real file.
"""

import os

os.environ["SRCGRAD_CACHE"] = "0"  # cold: every grad(f) transforms
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import srcgrad  # noqa: E402
from srcgrad import cache  # noqa: E402

# Statement templates: {a} is the previous value, {b} the one before it.
TEMPLATES = [
    "np.sin({a}) * x",
    "{a} + np.tanh({b})",
    "np.exp(-{a} ** 2) + 0.5 * {b}",
    "{a} * {b} - np.cos(x)",
    "np.log1p({a} ** 2) / (1.0 + {b} ** 2)",
    "np.maximum({a}, 0.1) + np.sum({b}) * 0.01",
]


def _line(i: int, names: list[str]) -> str:
    a, b = names[-1], names[-2] if len(names) > 1 else "x"
    return TEMPLATES[i % len(TEMPLATES)].format(a=a, b=b)


def straight_line(n: int) -> tuple[str, int]:
    """A function of ``n`` statements (``n - 1`` assignments and the return)."""
    names = ["x"]
    lines = ["def f(x):"]
    for i in range(n - 1):
        lines.append(f"    v{i} = {_line(i, names)}")
        names.append(f"v{i}")
    lines.append(f"    return np.sum({names[-1]})")
    return "\n".join(lines) + "\n", n


def nested(depth: int, per_level: int = 8) -> tuple[str, int]:
    """Loops nested ``depth`` deep, ``per_level`` statements in each loop body (and before it)."""
    lines = ["def f(x):", "    s = x"]
    count = 2
    names = ["x", "s"]
    k = 0
    for level in range(depth):
        pad = "    " * (level + 1)
        for _ in range(per_level - 1):
            lines.append(f"{pad}t{k} = {_line(k, names)}")
            names.append(f"t{k}")
            k += 1
            count += 1
        lines.append(f"{pad}s = s + 0.1 * {names[-1]}")
        lines.append(f"{pad}for i{level} in range(2):")
        count += 2
    pad = "    " * (depth + 1)
    for _ in range(per_level - 1):
        lines.append(f"{pad}t{k} = {_line(k, names)}")
        names.append(f"t{k}")
        k += 1
        count += 1
    lines.append(f"{pad}s = s + 0.1 * {names[-1]}")
    lines.append("    return np.sum(s)")
    return "\n".join(lines) + "\n", count + 1


def _load(source: str, directory: Path, name: str):
    path = directory / f"{name}.py"
    path.write_text("import numpy as np\n\n\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.f


def _time(f, runs: int) -> float:
    times = []
    for _ in range(runs):
        cache.clear()
        start = time.perf_counter()
        srcgrad.grad(f)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25,50,100,200,400,800,1600,3200")
    parser.add_argument("--depths", default="1,2,3,4")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="also run each gradient once")
    args = parser.parse_args()
    x = np.linspace(0.1, 0.9, 5)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        srcgrad.grad(_load(straight_line(5)[0], directory, "warmup"))  # imports, rule tables
        cases = [("straight", int(n), straight_line(int(n))) for n in args.sizes.split(",") if n]
        cases += [("nested", int(d), nested(int(d))) for d in args.depths.split(",") if d]
        for kind, size, (source, statements) in cases:
            f = _load(source, directory, f"scaling_{kind}_{size}")
            runs = args.runs if statements <= 800 else 1
            label = f"{kind} N={size}" if kind == "straight" else f"{kind} depth={size}"
            try:
                seconds = _time(f, runs)
            except Exception as exc:  # noqa: BLE001 - a row of the table, not a crash of the benchmark
                print(f"{label:<20} {statements:>6} statements   fails: {type(exc).__name__}", flush=True)
                continue
            if args.check:
                g = srcgrad.grad(f)(x)
                assert np.all(np.isfinite(g)), (kind, size)
            print(
                f"{label:<20} {statements:>6} statements {seconds:>9.3f} s {1000 * seconds / statements:>7.2f} ms/stmt",
                flush=True,
            )


if __name__ == "__main__":
    main()
