"""The tutorial's logistic-regression gradient on a dask array too large to want in memory.

    python benchmarks/dask_logistic.py [--rows 20_000_000] [--features 20] [--chunk-rows 500_000]

The data (``rows x features`` float64 inputs and boolean labels) is generated chunk by chunk
(``da.random``) inside every gradient evaluation and never held whole. For a local
``dask.distributed`` cluster of 1 and of 2 worker processes (one thread each), it reports the
time of one gradient (``srcgrad.grad``, then ``dask.compute``; median of ``--repeat``), the time
of generating the data alone in the same way, and the peak resident memory of the driver and of
each worker. Then, in a fresh process, numpy's gradient of the same data held in memory (where
it fits), and the largest relative difference between the two gradients.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402

import srcgrad  # noqa: E402


def training_loss(weights, inputs, targets):
    preds = 0.5 * (np.tanh(np.dot(inputs, weights) / 2.0) + 1)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def make_data(rows: int, features: int, chunk_rows: int) -> tuple:
    rng = da.random.default_rng(0)
    inputs = rng.standard_normal((rows, features), chunks=(chunk_rows, features))
    noise = rng.standard_normal(rows, chunks=chunk_rows)
    return inputs, inputs @ np.linspace(-1.0, 1.0, features) + noise > 0.0


def weights_for(features: int) -> np.ndarray:
    return np.linspace(0.5, -0.5, features)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def timed(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def on_cluster(workers: int, args: argparse.Namespace) -> dict:
    from distributed import Client, LocalCluster

    inputs, targets = make_data(args.rows, args.features, args.chunk_rows)
    gradient = srcgrad.grad(training_loss)
    weights = weights_for(args.features)
    result = {}
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        lazy = gradient(weights, inputs, targets)
        assert isinstance(lazy, da.Array)
        result["gradient"] = dask.compute(lazy)[0].tolist()
        result["seconds"] = timed(lambda: dask.compute(gradient(weights, inputs, targets)), args.repeat)
        result["generate_seconds"] = timed(lambda: dask.compute(inputs.sum(), targets.sum()), args.repeat)
        result["worker_peak_mib"] = sorted(client.run(peak_mib).values())
    result["driver_peak_mib"] = peak_mib()
    return result


def with_numpy(args: argparse.Namespace) -> dict:
    """numpy's gradient of the same data, held in memory (run in a fresh process)."""
    inputs, targets = make_data(args.rows, args.features, args.chunk_rows)
    with dask.config.set(scheduler="synchronous"):
        inputs, targets = dask.compute(inputs, targets)
    data_peak = peak_mib()
    gradient = srcgrad.grad(training_loss)
    weights = weights_for(args.features)
    out = gradient(weights, inputs, targets)
    seconds = timed(lambda: gradient(weights, inputs, targets), args.repeat)
    return {"gradient": out.tolist(), "seconds": seconds, "peak_mib": peak_mib(), "data_peak_mib": data_peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    number = lambda s: int(s.replace("_", ""))  # noqa: E731
    parser.add_argument("--rows", type=number, default=20_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=number, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-numpy", action="store_true", help="skip numpy (data that does not fit in memory)"
    )
    parser.add_argument("--numpy-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.numpy_only:
        print(json.dumps(with_numpy(args)))
        return
    gib = args.rows * args.features * 8 / 2**30
    chunk_mib = args.chunk_rows * args.features * 8 / 2**20
    print(
        f"# {args.rows:,} x {args.features} float64 inputs ({gib:.2f} GiB), chunks of {args.chunk_rows:,} rows ({chunk_mib:.0f} MiB)"
    )
    print(
        f"# Python {platform.python_version()}, numpy {np.__version__}, dask {dask.__version__}, {os.cpu_count()} CPUs"
    )
    results = {n: on_cluster(n, args) for n in (1, 2)}
    numpy_result = None
    if not args.no_numpy:
        done = subprocess.run(
            [sys.executable, __file__, "--numpy-only", "--rows", str(args.rows), "--features", str(args.features),
             "--chunk-rows", str(args.chunk_rows), "--repeat", str(args.repeat)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        numpy_result = json.loads(done.stdout)
    print(
        "| run | gradient (s) | generating the data alone (s) | peak memory, driver (MiB) | peak memory, each worker (MiB) |"
    )
    print("|---|---:|---:|---:|---:|")
    for n, r in results.items():
        workers = ", ".join(f"{m:,.0f}" for m in r["worker_peak_mib"])
        print(
            f"| dask, {n} worker{'s' * (n > 1)} | {r['seconds']:.2f} | {r['generate_seconds']:.2f} | {r['driver_peak_mib']:,.0f} | {workers} |"
        )
    if numpy_result is not None:
        print(
            f"| numpy, in memory | {numpy_result['seconds']:.2f} | – | {numpy_result['peak_mib']:,.0f} (data alone: {numpy_result['data_peak_mib']:,.0f}) | – |"
        )
        reference = np.array(numpy_result["gradient"])
        for n, r in results.items():
            diff = np.max(np.abs(np.array(r["gradient"]) - reference) / np.abs(reference))
            print(f"# dask on {n} worker(s) vs numpy: largest relative difference {diff:.1e}")


if __name__ == "__main__":
    main()
