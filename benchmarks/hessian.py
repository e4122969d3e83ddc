"""Times ``srcgrad.hessian`` against ``autograd.hessian`` side by side in one run.

    python benchmarks/hessian.py

The workload is a 50-dimensional quadratic plus tanh, ``0.5 * x @ A @ x + sum(tanh(x))``,
whose Hessian is ``(A + A.T) / 2 + diag(-2 tanh(x) (1 - tanh(x)**2))``. srcgrad's Hessian
is forward mode over the generated gradient code (one tangent pass per input element);
autograd's is reverse over reverse (one backward pass per output element of the traced
gradient). Medians of repeated timings, single-threaded BLAS; transforming once is timed
separately.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import statistics  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402

import numpy  # noqa: E402
import numpy as np  # noqa: E402

import srcgrad  # noqa: E402

N = 50
A = np.random.default_rng(0).standard_normal((N, N))


def quadratic_plus_tanh(x):
    return 0.5 * x @ A @ x + np.sum(np.tanh(x))


def hessian_by_hand(x):
    t = np.tanh(x)
    return 0.5 * (A + A.T) + np.diag(-2.0 * t * (1.0 - t**2))


def median_ms(fn, *args, number=20, repeat=9):
    times = timeit.repeat(lambda: fn(*args), number=number, repeat=repeat)
    return statistics.median(times) / number * 1e3


def main():
    x = np.random.default_rng(1).standard_normal(N)
    start = time.perf_counter()
    hessian = srcgrad.hessian(quadratic_plus_tanh)
    transform_ms = (time.perf_counter() - start) * 1e3
    assert np.allclose(hessian(x), hessian_by_hand(x), rtol=1e-10, atol=1e-12)
    rows = [
        ("by hand (closed form)", median_ms(hessian_by_hand, x)),
        ("srcgrad.hessian", median_ms(hessian, x)),
    ]
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        autograd = None
    if autograd is not None:
        module = globals()
        module["np"] = anp  # the same function, with np meaning autograd.numpy while autograd runs it
        try:
            autograd_hessian = autograd.hessian(quadratic_plus_tanh)
            want = autograd_hessian(x)
            rows.append(("autograd.hessian", median_ms(autograd_hessian, x)))
        finally:
            module["np"] = numpy
        assert numpy.allclose(want, hessian_by_hand(x), rtol=1e-10, atol=1e-12)
    print(f"numpy {np.__version__}, srcgrad {srcgrad.__version__}, BLAS threads pinned to 1")
    print(f"Hessian of 0.5 * x @ A @ x + sum(tanh(x)), x of {N} elements (median per call)")
    print(f"{'':<24}{'ms per call':>12}{'vs srcgrad':>12}")
    srcgrad_ms = rows[1][1]
    for label, ms in rows:
        print(f"{label:<24}{ms:>12.3f}{ms / srcgrad_ms:>11.2f}x")
    print(
        f"srcgrad's one-time transform (parse, normalize, reverse, forward, compile): {transform_ms:.1f} ms"
    )


if __name__ == "__main__":
    main()
