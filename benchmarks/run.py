"""srcgrad's cached gradients against hand-written numpy gradients and every installed peer.

    python benchmarks/run.py [--quick]

Times, side by side in one run and single-threaded (the process pinned to one core, BLAS and XLA told to use one thread), the plain
function, a hand-written numpy gradient, srcgrad's cached gradient and the peers that can be
imported (autograd; JAX eager and ``jax.jit``; torch), on the workloads of
``benchmarks/workloads.py``. Every gradient is checked against the hand-written one with
``np.allclose`` before it is timed; a disagreement stops the run. The columns are timed in
interleaved rounds (so drift in the machine affects them alike) and each cell is the median
of the rounds, in µs per call. The transform time is srcgrad's ``grad(f)`` in a fresh
process: cold (empty ``SRCGRAD_CACHE_DIR``) and warm (a new process, the entry the cold one
stored is on disk); beside it, the first call of ``jax.jit``'s gradient, which compiles.
``grad(f, mode="forward")`` is timed too where the differentiated arguments have at most
four elements. ``--quick`` uses fewer rounds and smaller data, and finishes in seconds.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"
# XLA's CPU client multithreads its dots unless told not to; one core for the whole process
# makes "single thread" hold for every library, whatever threads it starts
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false " + os.environ.get("XLA_FLAGS", "")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402

import srcgrad  # noqa: E402


@contextlib.contextmanager
def swapped_numpy(module, **data):
    """Run the workloads' source with ``np`` bound to ``module`` (autograd.numpy, jax.numpy, ...),
    and module-level ``data`` (the tutorial's ``inputs``, ``targets``) replaced if given."""
    names = {"np": module, **data}
    saved = {name: getattr(workloads, name) for name in names}
    for name, value in names.items():
        setattr(workloads, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(workloads, name, value)


def as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def agrees(got, want):
    got, want = as_tuple(got), as_tuple(want)
    return len(got) == len(want) and all(
        np.shape(g) == np.shape(w) and np.allclose(g, w, rtol=1e-7, atol=1e-10) for g, w in zip(got, want)
    )


def package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


# --- peers ----------------------------------------------------------------------------------
# Each peer is (column name, make) where make(workload) returns a callable taking the
# workload's arguments, converted once by the peer's own `prepare`, and returning numpy-
# comparable gradients.


class Peer:
    def __init__(self, name, make, prepare=None, to_numpy=None, version=""):
        self.name, self.make, self.version = name, make, version
        self.prepare = prepare or (lambda w: w.args)
        self.to_numpy = to_numpy or (lambda g: g)


def find_peers():
    peers = []
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        pass
    else:

        def make_autograd(w):
            g = autograd.grad(w.f, w.wrt)

            def call(*args):
                with swapped_numpy(anp):  # the same source, traced by autograd
                    return g(*args)

            return call

        peers.append(Peer("autograd", make_autograd, version=package_version("autograd")))

    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        pass
    else:
        jax.config.update("jax_enable_x64", True)

        def jax_args(w):
            return tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in w.args)

        def jax_numpy(g):
            return tuple(np.asarray(x) for x in as_tuple(g)) if isinstance(g, tuple) else np.asarray(g)

        def make_jax(jit):
            def make(w):
                with swapped_numpy(jnp):
                    g = jax.grad(w.f, argnums=w.wrt)
                    if jit:  # integers (loop counts) are compile-time constants
                        static = tuple(i for i, a in enumerate(w.args) if isinstance(a, int))
                        g = jax.jit(g, static_argnums=static)

                def call(*args):
                    with swapped_numpy(jnp):
                        return jax.block_until_ready(g(*args))

                return call

            return make

        peers.append(Peer("jax", make_jax(False), jax_args, jax_numpy, package_version("jax")))
        peers.append(Peer("jax.jit", make_jax(True), jax_args, jax_numpy, jax.__version__))

    try:
        import torch
    except ImportError:
        pass
    else:
        torch.set_num_threads(1)

        class TorchNumpy:
            """The few numpy functions the workloads call, on torch tensors."""

            exp, log, tanh, sin = torch.exp, torch.log, torch.tanh, torch.sin

            @staticmethod
            def dot(a, b):
                return torch.matmul(a, b)

            @staticmethod
            def sum(a, axis=None, keepdims=False):
                return torch.sum(a) if axis is None else torch.sum(a, dim=axis, keepdim=keepdims)

            @staticmethod
            def max(a, axis=None, keepdims=False):
                return torch.max(a) if axis is None else torch.amax(a, dim=axis, keepdim=keepdims)

            @staticmethod
            def zeros(shape):
                return torch.zeros(shape, dtype=torch.float64)

        def torch_args(w):
            return tuple(
                torch.as_tensor(a, dtype=torch.float64)
                if isinstance(a, (np.ndarray, float))  # (torch.sin does not take floats)
                else a
                for a in w.args
            )

        def torch_numpy(g):
            return tuple(x.detach().numpy() for x in g) if len(g) > 1 else g[0].detach().numpy()

        def make_torch(w):
            # torch does not mix tensors with the tutorial's numpy data (nor subtract booleans)
            data = {
                k: torch.as_tensor(getattr(workloads, k), dtype=torch.float64) for k in ("inputs", "targets")
            }

            def call(*args):
                args = list(args)
                leaves = []
                for i in w.wrt_indices:
                    args[i] = args[i].detach().requires_grad_()
                    leaves.append(args[i])
                with swapped_numpy(TorchNumpy, **data):
                    out = w.f(*args)
                return torch.autograd.grad(out, leaves)

            return call

        peers.append(Peer("torch", make_torch, torch_args, torch_numpy, torch.__version__))
    return peers


# --- timing ---------------------------------------------------------------------------------


def calls_per_round(fn, args, seconds):
    """How many calls of ``fn`` take about ``seconds``."""
    fn(*args)  # warm up
    n, elapsed = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn(*args)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 10 or n >= 1 << 20:
            return max(1, int(n * seconds / max(elapsed, 1e-9)))
        n *= 4


def time_columns(columns, rounds, seconds):
    """Median µs per call of each (name, fn, args), timed in interleaved rounds."""
    numbers = {name: calls_per_round(fn, args, seconds) for name, fn, args in columns}
    samples = {name: [] for name, _, _ in columns}
    for _ in range(rounds):
        for name, fn, args in columns:
            number = numbers[name]
            start = time.perf_counter()
            for _ in range(number):
                fn(*args)
            samples[name].append((time.perf_counter() - start) / number * 1e6)
    return {name: statistics.median(times) for name, times in samples.items()}


# --- transform time, in fresh processes -----------------------------------------------------


def child(name, jit=False):
    """One fresh process: time srcgrad.grad(f) for the workload ``name`` (with ``jit``, the
    transform and the first call, which compiles or loads numba's cache); print JSON."""
    import srcgrad.api

    transforms = 0
    normalize = srcgrad.api.normalize

    def counting(*args, **kwargs):
        nonlocal transforms
        transforms += 1
        return normalize(*args, **kwargs)

    srcgrad.api.normalize = counting
    w = next(w for w in workloads.make_workloads(quick=True) if w.name == name)
    start = time.perf_counter()
    g = srcgrad.grad(w.f, wrt=w.wrt, jit=jit)
    if jit:
        g(*w.args)
    seconds = time.perf_counter() - start
    assert agrees(g(*w.args), w.by_hand(*w.args)), f"{name}: srcgrad's gradient disagrees in the child"
    print(json.dumps({"seconds": seconds, "transforms": transforms}))


def run_child(name, cache_dir, jit=False):
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(cache_dir), PYTHONDONTWRITEBYTECODE="1")
    env.pop("SRCGRAD_CACHE", None)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", name] + (["--jit"] if jit else []),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the transform-time process for {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def transform_times(names, runs, jit=False):
    """{name: (cold ms, warm ms, warm processes that did not transform, runs)}: medians."""
    root = Path(tempfile.mkdtemp(prefix="srcgrad-bench-"))
    try:
        out = {}
        for name in names:
            cold, warm = [], []
            for run in range(runs):
                cache_dir = root / f"{name}-{run}"  # empty: the cold process fills it
                cold.append(run_child(name, cache_dir, jit))
                warm.append(run_child(name, cache_dir, jit))
            out[name] = (
                statistics.median(r["seconds"] for r in cold) * 1e3,
                statistics.median(r["seconds"] for r in warm) * 1e3,
                sum(r["transforms"] == 0 for r in warm),
                runs,
            )
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- the run --------------------------------------------------------------------------------


def machine(peers):
    versions = ", ".join(f"{p.name} {p.version}" for p in peers if p.name != "jax.jit")
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), numpy {np.__version__}, "
        f"srcgrad {srcgrad.__version__}" + (f", {versions}" if versions else "") + "; "
        f"{platform.system()} {platform.machine()} ({platform.processor() or 'unknown CPU'}), "
        f"{os.cpu_count()} CPUs; pinned to one core, BLAS and XLA single-threaded"
    )


FORWARD_UP_TO = 4


def peers_names(peers):
    return [p.name for p in peers]


def fmt(us):
    if us != us:  # nan
        return "–"
    return f"{us:,.1f}" if us < 1e4 else f"{us:,.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller data (a smoke run)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--jit", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--no-jit", action="store_true", help="no srcgrad jit column (numba compiles for minutes)"
    )
    parser.add_argument("--only", nargs="+", choices=workloads.NAMES, help="time these workloads only")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.jit)
        return
    try:
        import numba  # noqa: F401
    except ImportError:
        jit = False
        print("numba is not installed: no srcgrad jit column (pip install 'srcgrad[jit]')")
    else:
        jit = not args.no_jit

    rounds, seconds, processes = (3, 0.004, 1) if args.quick else (11, 0.05, 3)
    peers = find_peers()
    print(machine(peers))
    print(
        f"peers found: {', '.join(p.name for p in peers) or 'none'} (jax and torch are used only if importable)"
    )
    print()

    rows = []
    for w in workloads.make_workloads(quick=args.quick):
        if args.only and w.name not in args.only:
            continue
        want = w.by_hand(*w.args)
        g = srcgrad.grad(w.f, wrt=w.wrt)
        if not agrees(g(*w.args), want):
            sys.exit(f"FAIL {w.name}: srcgrad's gradient disagrees with the hand-written one")
        columns = [("function", w.f, w.args), ("by hand", w.by_hand, w.args), ("srcgrad", g, w.args)]
        if sum(np.size(w.args[i]) for i in w.wrt_indices) <= FORWARD_UP_TO:  # one pass per input element
            forward = srcgrad.grad(w.f, wrt=w.wrt, mode="forward")
            if not agrees(forward(*w.args), want):
                sys.exit(
                    f"FAIL {w.name}: srcgrad's forward-mode gradient disagrees with the hand-written one"
                )
            columns.append(("srcgrad forward", forward, w.args))
        firsts = {}
        if jit:
            compiled = srcgrad.grad(w.f, wrt=w.wrt, jit=True)
            if not agrees(compiled(*w.args), want):
                sys.exit(f"FAIL {w.name}: srcgrad's compiled gradient disagrees with the hand-written one")
            columns.append(("srcgrad jit", compiled, w.args))
        for p in peers:
            fn, peer_args = p.make(w), p.prepare(w)
            start = time.perf_counter()
            first = fn(*peer_args)  # for jax.jit, this call compiles
            firsts[p.name] = (time.perf_counter() - start) * 1e3
            if not agrees(p.to_numpy(first), want):
                sys.exit(f"FAIL {w.name}: {p.name}'s gradient disagrees with the hand-written one")
            columns.append((p.name, fn, peer_args))
        medians = time_columns(columns, rounds, seconds)
        rows.append((w, medians, firsts))
        print(f"timed {w.name}", file=sys.stderr)

    transforms = transform_times([w.name for w, _, _ in rows], processes)
    compiles = transform_times([w.name for w, _, _ in rows], processes, jit=True) if jit else {}

    names = (
        ["function", "by hand", "srcgrad", "srcgrad forward"]
        + ["srcgrad jit"] * jit
        + [p.name for p in peers]
    )
    header = (
        ["workload", "size"]
        + [f"{n} (µs)" for n in names]
        + ["srcgrad / by hand", "forward / by hand"]
        + ["jit / by hand"] * jit
        + [f"{p.name} / srcgrad" for p in peers]
        + (["best srcgrad / jax.jit"] if "jax.jit" in names else [])
        + ["transform cold (ms)", "warm disk (ms)"]
        + ["jit first call cold (ms)", "warm disk (ms)"] * jit
        + (["jax.jit first call (ms)"] if "jax.jit" in names else [])
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---", "---"] + ["---:"] * (len(header) - 2)) + "|")
    for w, m, firsts in rows:
        cold, warm, hits, runs = transforms[w.name]
        cells = [w.name, w.size] + [fmt(m.get(n, float("nan"))) for n in names]
        cells.append(f"{m['srcgrad'] / m['by hand']:.2f}x")
        cells.append(f"{m['srcgrad forward'] / m['by hand']:.2f}x" if "srcgrad forward" in m else "–")
        if jit:
            cells.append(f"{m['srcgrad jit'] / m['by hand']:.2f}x")
        cells += [f"{m[p.name] / m['srcgrad']:.1f}x" for p in peers]
        if "jax.jit" in m:
            best = min(m["srcgrad"], m.get("srcgrad jit", float("inf")))
            cells.append(f"{best / m['jax.jit']:.2f}x")
        cells += [f"{cold:.1f}", f"{warm:.1f}" + ("" if hits == runs else f" ({runs - hits}/{runs} missed)")]
        if jit:
            jit_cold, jit_warm, _, _ = compiles[w.name]
            cells += [f"{jit_cold:,.0f}", f"{jit_warm:,.0f}"]
        if "jax.jit" in firsts:
            cells.append(f"{firsts['jax.jit']:,.0f}")
        print("| " + " | ".join(cells) + " |")
    print()
    print(
        f"µs per call: median of {rounds} interleaved rounds; transform: srcgrad.grad(f) in a fresh "
        f"process, median of {processes} process(es) each (cold: empty SRCGRAD_CACHE_DIR; warm: the "
        f"entry on disk)."
    )
    print(
        f"srcgrad forward: grad(f, mode='forward'), timed where the differentiated arguments have at "
        f"most {FORWARD_UP_TO} elements (it makes one pass per element)."
    )
    if jit:
        print(
            "srcgrad jit: grad(f, jit=True), the same generated code compiled by numba; its first call "
            "in a fresh process (grad(f) and one call): cold compiles, warm loads numba's cache "
            "from srcgrad's cache directory."
        )
        if "jax.jit" in peers_names(peers):
            behind = [w.name for w, m, _ in rows if min(m["srcgrad"], m["srcgrad jit"]) > m["jax.jit"]]
            print(f"srcgrad (interpreted or compiled) behind jax.jit: {', '.join(behind) or 'none'}")
    within = [w.name for w, m, _ in rows if m["srcgrad"] <= 1.25 * m["by hand"]]
    beyond = [w.name for w, m, _ in rows if m["srcgrad"] > 1.25 * m["by hand"]]
    print(f"srcgrad within 1.25x of by hand: {', '.join(within) or 'none'}")
    print(f"srcgrad beyond 1.25x of by hand: {', '.join(beyond) or 'none'}")


if __name__ == "__main__":
    main()
