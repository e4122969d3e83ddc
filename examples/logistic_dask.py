"""The tutorial's logistic regression on data too large to hold at once, with dask.

The loss is the tutorial's, written with numpy; only the data is a dask array, generated chunk
by chunk (``da.random``) and never held whole: each step streams it through the gradient that
srcgrad generated, which dask runs lazily, chunk by chunk. Needs ``pip install 'srcgrad[dask]'``.

Run:  python examples/logistic_dask.py --rows 100_000_000 --features 20   (by hand: minutes)
      python examples/logistic_dask.py --rows 200_000 --chunk-rows 50_000 --steps 3
Each step prints dask's progress bar and the loss.
"""

import argparse
import contextlib

import dask
import dask.array as da
import numpy as np
from dask.diagnostics import ProgressBar

import srcgrad


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def logistic_predictions(weights, inputs):
    # Outputs probability of a label being true according to logistic model.
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights, inputs, targets):
    # Training loss is the negative log-likelihood of the training labels.
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def make_data(rows: int, features: int, chunk_rows: int, seed: int = 0) -> tuple:
    """Inputs and labels of a noisy linear classifier, as lazy dask arrays made chunk by chunk."""
    rng = da.random.default_rng(seed)
    inputs = rng.standard_normal((rows, features), chunks=(chunk_rows, features))
    true_weights = np.linspace(-1.0, 1.0, features)
    noise = rng.standard_normal(rows, chunks=chunk_rows)
    targets = inputs @ true_weights + noise > 0.0
    return inputs, targets


def train(inputs, targets, steps: int, rate: float, progress: bool = True) -> tuple[np.ndarray, list[float]]:
    """Gradient descent from zero weights; returns the weights and the loss before each step."""
    loss_and_gradient = srcgrad.value_and_grad(training_loss)
    weights = np.zeros(inputs.shape[1])
    losses = []
    for step in range(steps):
        loss, gradient = loss_and_gradient(weights, inputs, targets)  # lazy: nothing computed yet
        with ProgressBar() if progress else contextlib.nullcontext():
            loss, gradient = dask.compute(loss, gradient)  # one pass over the data for both
        print(f"step {step}: loss {float(loss) / inputs.shape[0]:.6f} per row", flush=True)
        losses.append(float(loss))
        weights = weights - rate / inputs.shape[0] * gradient
    return weights, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=10**6)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=lambda s: int(s.replace("_", "")), default=10**6)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rate", type=float, default=4.0)
    args = parser.parse_args()
    inputs, targets = make_data(args.rows, args.features, min(args.chunk_rows, args.rows))
    size = inputs.nbytes / 2**30
    print(f"{args.rows} rows x {args.features} features ({size:.2f} GiB of inputs, never held at once)")
    weights, _ = train(inputs, targets, args.steps, args.rate)
    print("weights:", np.round(weights, 3))


if __name__ == "__main__":
    main()
