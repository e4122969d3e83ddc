"""The workloads of ``benchmarks/run.py``: each function, its hand-written numpy gradient and
its inputs.

srcgrad reads source from real files, so the functions live here. autograd and JAX run the
same source with this module's ``np`` swapped for ``autograd.numpy`` or ``jax.numpy`` (see
``swapped_numpy`` in run.py); the hand-written gradients always use plain numpy (``onp``).
"""

import numpy as np
import numpy as onp  # the hand-written gradients and the data: never swapped

# --- the tutorial's tanh ----------------------------------------------------------------


def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def tanh_grad_by_hand(x):
    y = onp.exp(-2.0 * x)
    return 4.0 * y / (1.0 + y) ** 2


# --- the tutorial's logistic regression loss (see the tutorial check) -----------------------

inputs = onp.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
targets = onp.array([True, True, False, True])


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights):
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def training_loss_grad_by_hand(weights):
    preds = 0.5 * (onp.tanh(onp.dot(inputs, weights) / 2.0) + 1)
    return onp.dot(inputs.T, preds - targets)


# the same loss on data passed as arguments (the gradient is taken with respect to weights)


def logistic_loss(weights, inputs, targets):
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def logistic_loss_grad_by_hand(weights, inputs, targets):
    preds = 0.5 * (onp.tanh(onp.dot(inputs, weights) / 2.0) + 1)
    return onp.dot(inputs.T, preds - targets)


# --- a 2-layer tanh MLP with softmax cross-entropy ------------------------------------------


def mlp_loss(w1, b1, w2, b2, x, y):
    h = np.tanh(np.dot(x, w1) + b1)
    logits = np.dot(h, w2) + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(logp * y) / x.shape[0]


def mlp_loss_grad_by_hand(w1, b1, w2, b2, x, y):
    h = onp.tanh(onp.dot(x, w1) + b1)
    logits = onp.dot(h, w2) + b2
    e = onp.exp(logits - onp.max(logits, axis=1, keepdims=True))
    probs = e / onp.sum(e, axis=1, keepdims=True)
    d_logits = (probs * onp.sum(y, axis=1, keepdims=True) - y) / x.shape[0]
    d_h = onp.dot(d_logits, w2.T) * (1.0 - h * h)
    return onp.dot(x.T, d_h), onp.sum(d_h, axis=0), onp.dot(h.T, d_logits), onp.sum(d_logits, axis=0)


# --- an RNN unrolled in a Python loop ---------------------------------------------------------


def rnn_loss(wx, wh, b, xs, target):
    h = np.zeros(wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(np.dot(xs[t], wx) + np.dot(h, wh) + b)
    return np.sum((h - target) ** 2)


def rnn_loss_grad_by_hand(wx, wh, b, xs, target):
    steps = xs.shape[0]
    hs = [onp.zeros(wh.shape[0])]
    for t in range(steps):
        hs.append(onp.tanh(onp.dot(xs[t], wx) + onp.dot(hs[-1], wh) + b))
    d_wx = onp.zeros_like(wx)
    d_wh = onp.zeros_like(wh)
    d_b = onp.zeros_like(b)
    d_h = 2.0 * (hs[-1] - target)
    for t in range(steps - 1, -1, -1):
        d_z = d_h * (1.0 - hs[t + 1] ** 2)
        d_wx += onp.outer(xs[t], d_z)
        d_wh += onp.outer(hs[t], d_z)
        d_b += d_z
        d_h = onp.dot(wh, d_z)
    return d_wx, d_wh, d_b


# --- a scalar Euler integration in a Python loop --------------------------------------------


def euler(k, x0, dt, steps):
    x = x0
    for _ in range(steps):
        x = x + dt * (np.sin(x) - k * x)
    return x


def euler_grad_by_hand(k, x0, dt, steps):
    # forward-mode by hand: carry dx/dk along the loop
    x = x0
    dx = 0.0
    for _ in range(steps):
        dx = dx + dt * (onp.cos(x) * dx - x - k * dx)
        x = x + dt * (onp.sin(x) - k * x)
    return dx


# --- Rosenbrock -------------------------------------------------------------------------------


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad_by_hand(x):
    head = x[:-1]
    r = x[1:] - head**2
    g = onp.zeros_like(x)
    g[:-1] = -400.0 * head * r - 2.0 * (1.0 - head)
    g[1:] += 200.0 * r
    return g


# --- the workloads ----------------------------------------------------------------------------


class Workload:
    """A named function, its gradient by hand, its arguments and what to differentiate."""

    def __init__(self, name, size, f, by_hand, args, wrt=0):
        self.name, self.size, self.f, self.by_hand, self.args, self.wrt = name, size, f, by_hand, args, wrt

    @property
    def wrt_indices(self):
        return self.wrt if isinstance(self.wrt, tuple) else (self.wrt,)


def make_workloads(quick=False):
    """The workloads with their data; ``quick`` makes the big ones smaller."""
    rng = onp.random.default_rng(0)

    n, d = (2000, 100) if quick else (20000, 100)
    big_inputs = rng.normal(size=(n, d))
    big_targets = rng.random(n) < 0.5
    big_weights = rng.normal(scale=0.1, size=d)

    batch, n_in, n_hidden, n_out = (64, 784, 128, 10) if quick else (256, 784, 128, 10)
    mlp_args = (
        rng.normal(scale=n_in**-0.5, size=(n_in, n_hidden)),
        onp.zeros(n_hidden),
        rng.normal(scale=n_hidden**-0.5, size=(n_hidden, n_out)),
        onp.zeros(n_out),
        rng.normal(size=(batch, n_in)),
        onp.eye(n_out)[rng.integers(0, n_out, size=batch)],
    )

    n_rosen = 1000 if quick else 10_000
    steps, n_x, hidden = 50, 8, 32
    rnn_args = (
        rng.normal(scale=n_x**-0.5, size=(n_x, hidden)),
        rng.normal(scale=hidden**-0.5, size=(hidden, hidden)),
        onp.zeros(hidden),
        rng.normal(size=(steps, n_x)),
        rng.normal(scale=0.5, size=hidden),
    )

    return [
        Workload("tanh", "x = 1.0", tanh, tanh_grad_by_hand, (1.0,)),
        Workload(
            "logistic-4x3", "4x3", training_loss, training_loss_grad_by_hand, (onp.array([0.1, -0.2, 0.3]),)
        ),
        Workload(
            "logistic-large",
            f"{n}x{d}",
            logistic_loss,
            logistic_loss_grad_by_hand,
            (big_weights, big_inputs, big_targets),
        ),
        Workload(
            "mlp",
            f"{batch}x{n_in}-{n_hidden}-{n_out}",
            mlp_loss,
            mlp_loss_grad_by_hand,
            mlp_args,
            (0, 1, 2, 3),
        ),
        Workload("rnn", f"{steps} steps, h={hidden}", rnn_loss, rnn_loss_grad_by_hand, rnn_args, (0, 1, 2)),
        Workload("euler", "200 steps", euler, euler_grad_by_hand, (0.5, 1.0, 0.01, 200)),
        Workload(
            "rosenbrock",
            f"{n_rosen} values",
            rosenbrock,
            rosenbrock_grad_by_hand,
            (rng.normal(size=n_rosen),),
        ),
    ]


NAMES = ("tanh", "logistic-4x3", "logistic-large", "mlp", "rnn", "euler", "rosenbrock")
