"""Times the tutorial's gradients side by side in one run: plain function, a hand-written
numpy gradient, srcgrad's cached gradient, and autograd's (when installed).

    python benchmarks/tutorial.py

Medians of repeated timings, single-threaded BLAS. Ratios are what to compare.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import statistics  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

import srcgrad  # noqa: E402


def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def tanh_grad_by_hand(x):
    y = np.exp(-2.0 * x)
    return 4.0 * y / (1.0 + y) ** 2


inputs = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
targets = np.array([True, True, False, True])


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights):
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def training_loss_grad_by_hand(weights):
    preds = sigmoid(np.dot(inputs, weights))
    return np.dot(inputs.T, preds - targets)


def median_us(fn, *args, number=2000, repeat=15):
    times = timeit.repeat(lambda: fn(*args), number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def main():
    workloads = [
        ("tanh at 1.0", tanh, tanh_grad_by_hand, 1.0),
        ("logistic loss, 4x3", training_loss, training_loss_grad_by_hand, np.array([0.1, -0.2, 0.3])),
    ]
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        autograd = None
    print(
        f"numpy {np.__version__}, srcgrad {srcgrad.__version__}"
        + (f", autograd {autograd.__version__}" if autograd and hasattr(autograd, "__version__") else "")
    )
    header = f"{'workload':<22}{'function':>10}{'by hand':>10}{'srcgrad':>10}{'autograd':>10}{'srcgrad/by hand':>17}{'autograd/srcgrad':>18}"
    print(header)
    for label, f, by_hand, x in workloads:
        g = srcgrad.grad(f)
        assert np.allclose(g(x), by_hand(x)), label
        row = [median_us(f, x), median_us(by_hand, x), median_us(g, x)]
        if autograd is not None:
            f.__globals__["np"] = anp  # the same source, traced by autograd
            ag = autograd.grad(f)
            assert np.allclose(ag(x), by_hand(x)), label
            row.append(median_us(ag, x, number=200))
            f.__globals__["np"] = np
        else:
            row.append(float("nan"))
        print(
            f"{label:<22}"
            + "".join(f"{t:>9.2f}µ" for t in row)
            + f"{row[2] / row[1]:>16.2f}x{row[3] / row[2]:>17.1f}x"
        )


if __name__ == "__main__":
    main()
