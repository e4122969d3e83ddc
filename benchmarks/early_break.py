"""The cost of ``break``: the gradient of a loop that breaks after 3 of ``range(10**7)``
iterations against the gradient of a loop that runs exactly 3 times, side by side in one run.

    python benchmarks/early_break.py

If the generated code ends the loop at the ``break`` (in the forward and the backward pass),
the ratio is about 1; if it ran on to the end of the range it would be about 10**6.
Medians of repeated timings, single-threaded BLAS.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import statistics  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

import srcgrad  # noqa: E402


def breaks_after_three(x):
    y = x
    for i in range(10**7):
        y = np.sin(y) * x
        if i >= 2:
            break
    return np.sum(y)


def runs_three_times(x):
    y = x
    for _ in range(3):
        y = np.sin(y) * x
    return np.sum(y)


def while_true_breaks_after_three(x):
    y = x
    i = 0
    while True:
        y = np.sin(y) * x
        i += 1
        if i >= 3:
            break
    return np.sum(y)


def median_us(fn, *args, number=2000, repeat=15):
    times = timeit.repeat(lambda: fn(*args), number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def main():
    x = np.linspace(-1.0, 1.0, 8)
    grads = {
        f.__name__: srcgrad.grad(f)
        for f in (runs_three_times, breaks_after_three, while_true_breaks_after_three)
    }
    reference = grads["runs_three_times"](x)
    for name, g in grads.items():
        assert np.allclose(g(x), reference, rtol=1e-14), name

    # interleave the measurements so that drift in the machine affects both alike
    rounds = {name: [] for name in grads}
    for _ in range(5):
        for name, g in grads.items():
            rounds[name].append(median_us(g, x, number=500, repeat=3))
    medians = {name: statistics.median(times) for name, times in rounds.items()}

    base = medians["runs_three_times"]
    print(f"gradient of a 3-iteration loop, x of shape {x.shape} (median microseconds per call)")
    print(f"  {'function':<32} {'us/call':>9} {'ratio':>7}")
    for name, us in medians.items():
        print(f"  {name:<32} {us:9.2f} {us / base:7.2f}")
    ratio = medians["breaks_after_three"] / base
    print(
        f"break after 3 of range(10**7) / exactly 3 iterations: {ratio:.2f} (about 1 means break ends the loop)"
    )


if __name__ == "__main__":
    main()
