"""What the transform cache saves: the time from ``grad(f)`` to the first gradient.

    python benchmarks/cache.py [--runs 5]

For the tutorial's ``training_loss`` and for a 50-line model (an MLP loss with helpers),
each in fresh Python processes with their own ``SRCGRAD_CACHE_DIR``:

- cold: an empty cache directory, so ``grad(f)`` transforms;
- warm disk: a new process, the entry the cold process stored is on disk;
- memory hit: in the same process, a second ``grad(f)`` call (timeit over many calls).

The module holding the functions is written to a temporary directory (srcgrad reads source
from real files). Medians of ``--runs`` processes each; single-threaded BLAS. "disk hits"
counts the warm processes that did not transform (normalize never ran): a warm process
that transformed anyway is a miss, and its time is as slow as a cold one.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
from pathlib import Path  # noqa: E402

MODULE = "srcgrad_cache_bench_model"

# The tutorial's functions (see the tutorial check), then a 50-line model: a three-layer MLP
# with layer norm, residual connections, a gate, label-smoothed log-softmax cross-entropy, an
# entropy bonus, a Huber-loss auxiliary head and L2, written with seven helpers.
SOURCE = """\
import numpy as np

inputs = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15],
                   [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
targets = np.array([True, True, False, True])


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.) + 1)


def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights):
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


rng = np.random.default_rng(0)
X = rng.normal(size=(32, 4))
Y = np.eye(3)[rng.integers(0, 3, size=32)]
AUX = rng.normal(size=32)
SHAPES = [(4, 16), (16,), (16, 16), (16,), (16, 16), (16,), (16, 3), (16,), (16, 1)]
N_PARAMS = sum(int(np.prod(s)) for s in SHAPES)


def dense(h, w, b):
    return np.dot(h, w) + b


def layer_norm(h):
    mu = np.mean(h, axis=1, keepdims=True)
    centered = h - mu
    var = np.mean(centered ** 2, axis=1, keepdims=True)
    return centered / np.sqrt(var + 1e-5)


def softplus(z):
    return np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0.0)


def sigmoid_gate(z):
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def log_softmax(z):
    shifted = z - np.max(z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def huber(r, delta):
    small = np.abs(r) <= delta
    return np.where(small, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta))


def rms(h):
    return np.sqrt(np.mean(h * h) + 1e-8)


def cosine(a, b):
    num = np.sum(a * b, axis=1)
    den = np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1)) + 1e-8
    return num / den


def penalty(w, strength):
    return strength * np.sum(w * w)


def mlp_loss(params):
    w1 = np.reshape(params[0:64], (4, 16))
    b1 = params[64:80]
    w2 = np.reshape(params[80:336], (16, 16))
    b2 = params[336:352]
    w3 = np.reshape(params[352:608], (16, 16))
    b3 = params[608:624]
    w4 = np.reshape(params[624:672], (16, 3))
    gate = params[672:688]
    w5 = np.reshape(params[688:704], (16, 1))
    h1 = np.tanh(layer_norm(dense(X, w1, b1)))
    h2 = softplus(dense(h1, w2, b2)) + h1
    h3 = layer_norm(dense(h2, w3, b3))
    h3 = h3 * sigmoid_gate(h2 * gate) + h2
    logits = np.dot(h3, w4)
    logp = log_softmax(logits)
    smooth = 0.9 * Y + 0.1 / 3.0
    nll = -np.mean(np.sum(logp * smooth, axis=1))
    probs = np.exp(logp)
    entropy = -np.mean(np.sum(probs * logp, axis=1))
    aux = np.sum(h3 * np.reshape(w5, (1, 16)), axis=1)
    regression = np.mean(huber(aux - AUX, 1.0))
    l2 = penalty(w1, 1e-3) + penalty(w2, 1e-3) + penalty(w3, 1e-3) + penalty(w4, 1e-3)
    activity = rms(h1) + rms(h2) + rms(h3)
    agreement = np.mean(cosine(h1, h2))
    return nll - 0.01 * entropy + 0.5 * regression + l2 + 1e-3 * activity - 1e-3 * agreement


START = {
    "training_loss": np.array([0.0, 0.0, 0.0]),
    "mlp_loss": np.random.default_rng(1).normal(scale=0.3, size=N_PARAMS),
}
"""

CASES = ("training_loss", "mlp_loss")


def child(func: str, hit_calls: int) -> None:
    """One fresh process: grad(f) to the first gradient, then the in-memory hit."""
    import importlib

    module = importlib.import_module(MODULE)
    import numpy as np

    import srcgrad
    import srcgrad.api

    transforms = 0
    normalize = srcgrad.api.normalize

    def counting(*args, **kwargs):
        nonlocal transforms
        transforms += 1
        return normalize(*args, **kwargs)

    srcgrad.api.normalize = counting
    f, x = getattr(module, func), module.START[func]

    start = time.perf_counter()
    g = srcgrad.grad(f)
    gradient = g(x)
    first = time.perf_counter() - start

    h = 1e-6
    e = np.zeros_like(x)
    e[-1] = h
    assert np.isclose(gradient[-1], (f(x + e) - f(x - e)) / (2 * h), rtol=1e-4, atol=1e-7), "wrong gradient"
    hit = statistics.median(timeit.repeat(lambda: srcgrad.grad(f), number=hit_calls, repeat=7)) / hit_calls
    print(json.dumps({"first": first, "transforms": transforms, "hit": hit}))


def run_child(folder: Path, cache_dir: Path, func: str, hit_calls: int) -> dict:
    env = dict(os.environ)
    env["SRCGRAD_CACHE_DIR"] = str(cache_dir)
    env.pop("SRCGRAD_CACHE", None)
    env.pop("SRCGRAD_CACHE_SIZE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", func, "--hit-calls", str(hit_calls)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the child process for {func} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def function_lines(func: str) -> int:
    """Non-blank lines of the function and of the helpers it calls, as written in SOURCE."""
    import ast

    defs = {node.name: node for node in ast.parse(SOURCE).body if isinstance(node, ast.FunctionDef)}
    found, todo = set(), [func]
    while todo:
        name = todo.pop()
        if name in found or name not in defs:
            continue
        found.add(name)
        todo += [
            c.func.id
            for c in ast.walk(defs[name])
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
        ]
    lines = SOURCE.splitlines()
    return sum(
        bool(line.strip()) for name in found for line in lines[defs[name].lineno - 1 : defs[name].end_lineno]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per measurement (default: 5)")
    parser.add_argument("--hit-calls", type=int, default=3000, help="grad(f) calls per timeit repeat")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.hit_calls)
        return

    import numpy as np

    import srcgrad

    root = Path(tempfile.mkdtemp(prefix="srcgrad-cache-bench-"))
    try:
        (root / f"{MODULE}.py").write_text(SOURCE)
        results = {}
        for func in CASES:
            cold, warm = [], []
            for run in range(args.runs):
                cache_dir = root / f"cache-{func}-{run}"  # empty: created by the cold process
                cold.append(run_child(root, cache_dir, func, args.hit_calls))
                warm.append(run_child(root, cache_dir, func, args.hit_calls))
            results[func] = (cold, warm)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(
        f"machine: Python {platform.python_version()} ({platform.python_implementation()}), "
        f"numpy {np.__version__}, srcgrad {srcgrad.__version__}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print(f"time from grad(f) to the first gradient; medians of {args.runs} fresh processes each\n")
    header = (
        f"{'function':<15}{'lines':>6}{'cold (ms)':>11}{'warm disk (ms)':>16}{'warm/cold':>11}"
        f"{'disk hits':>11}{'memory hit (µs)':>17}"
    )
    print(header)
    print("-" * len(header))
    for func, (cold, warm) in results.items():
        cold_ms = statistics.median(r["first"] for r in cold) * 1e3
        warm_ms = statistics.median(r["first"] for r in warm) * 1e3
        hits = sum(r["transforms"] == 0 for r in warm)
        hit_us = statistics.median(r["hit"] for r in cold + warm) * 1e6
        print(
            f"{func:<15}{function_lines(func):>6}{cold_ms:>11.2f}{warm_ms:>16.2f}{warm_ms / cold_ms:>11.2f}"
            f"{f'{hits}/{len(warm)}':>11}{hit_us:>17.2f}"
        )
    print("\ntargets (issue 6): warm/cold <= 0.25; memory hit <= 5 µs")


if __name__ == "__main__":
    main()
