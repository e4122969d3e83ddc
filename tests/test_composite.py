"""Composite functions: srcgrad against autograd (a test-only oracle) and central differences.

Every function is written once, with numpy reached through module-level names (``np``,
``numpy``, ``tanh``, ``exp``, and ``onp`` in the helper module); to run a function under
autograd, those names are swapped for ``autograd.numpy`` for the duration of the call.
"""

import contextlib
import inspect
import math
import sys
import warnings
from types import SimpleNamespace

import autograd
import autograd.numpy as anp
import helpers_other_module as other
import numpy
import numpy as np
import pytest
from helpers_other_module import scaled_softplus
from numpy import exp, tanh

import srcgrad

THIS = sys.modules[__name__]
SCALE = 3.0
INDEX = [2, 0, 2]
RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


# -- oracles ----------------------------------------------------------------------------


@contextlib.contextmanager
def autograd_numpy():
    """Make this module's and the helper module's numpy names mean autograd.numpy."""
    swaps = [(THIS, "np"), (THIS, "numpy"), (THIS, "tanh"), (THIS, "exp"), (other, "onp")]
    saved = [getattr(m, n) for m, n in swaps]
    for m, n in swaps:
        setattr(m, n, getattr(anp, n) if n in ("tanh", "exp") else anp)
    try:
        yield
    finally:
        for (m, n), value in zip(swaps, saved):
            setattr(m, n, value)


def positions(f, wrt):
    """Indices of the positional arguments that ``wrt`` names, and whether it is a tuple."""
    params = list(inspect.signature(f).parameters)
    many = isinstance(wrt, tuple)
    items = wrt if many else (wrt,)
    return [params.index(w) if isinstance(w, str) else w % len(params) for w in items], many


def numerical_grad(f, args, i, h=1e-6):
    x = np.array(args[i], dtype=np.float64)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        values = []
        for step in (h, -h):
            moved = x.copy()
            moved[idx] += step
            arg = moved if np.ndim(args[i]) else float(moved)
            values.append(f(*args[:i], arg, *args[i + 1 :]))
        out[idx] = (values[0] - values[1]) / (2 * h)
    return out


def autograd_grad(f, args, i):
    with autograd_numpy(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input")
        return autograd.grad(f, i)(*args)


def check(f, args, wrt=0, *, use_autograd=True, rtol=1e-5, atol=1e-7):
    """srcgrad.grad(f, wrt) agrees with finite differences and autograd, in shape and value."""
    idx, many = positions(f, wrt)
    copies = [np.copy(a) for a in args]
    got = srcgrad.grad(f, wrt)(*args)
    for a, c in zip(args, copies):
        assert np.array_equal(a, c), "the gradient call modified an argument"
    if many:
        assert isinstance(got, tuple) and len(got) == len(idx)
    else:
        got = (got,)
    for g, i in zip(got, idx):
        assert np.shape(g) == np.shape(args[i]), f"gradient shape {np.shape(g)} != argument shape"
        assert np.asarray(g).dtype.kind == "f"
        fd = numerical_grad(f, args, i)
        scale = max(1.0, float(np.max(np.abs(fd), initial=0.0)))
        assert np.allclose(g, fd, rtol=rtol, atol=atol * scale), (
            f"wrt {i}: srcgrad {g} != finite differences {fd}"
        )
        if use_autograd:
            ag = autograd_grad(f, args, i)
            assert np.allclose(g, ag, rtol=1e-10, atol=1e-12), f"wrt {i}: srcgrad {g} != autograd {ag}"
    return got if many else got[0]


# -- a 2-layer perceptron with softmax cross-entropy -------------------------------------


def log_sum_exp(z):
    m = np.max(z, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


def mlp_loss(w1, b1, w2, b2, x, labels):
    hidden = np.tanh(x @ w1 + b1)
    logits = hidden @ w2 + b2
    log_probs = logits - log_sum_exp(logits)
    return -np.mean(np.sum(labels * log_probs, axis=1))


def mlp_args():
    labels = np.eye(3)[[0, 2, 1, 1, 0]]
    return [randn(4, 6), randn(6), randn(6, 3), randn(3), randn(5, 4), labels]


@pytest.mark.parametrize("wrt", [0, 1, 2, 3, "w1", "b2", ("w1", "b1", "w2", "b2"), (3, 0)])
def test_mlp_softmax_cross_entropy(wrt):
    check(mlp_loss, mlp_args(), wrt)


def test_mlp_value_and_grad():
    args = mlp_args()
    value, grads = srcgrad.value_and_grad(mlp_loss, wrt=(0, 1, 2, 3))(*args)
    assert value == pytest.approx(mlp_loss(*args), rel=1e-14)
    for g, want in zip(grads, srcgrad.grad(mlp_loss, wrt=(0, 1, 2, 3))(*args)):
        assert np.allclose(g, want, rtol=1e-14)


# -- least squares, Gaussian log-likelihood ----------------------------------------------


def least_squares(x, A, b):
    return np.sum((A @ x - b) ** 2)


def least_squares_args():
    return [randn(3), randn(5, 3), randn(5)]


@pytest.mark.parametrize("wrt", [0, "x", 1, "A", -1, ("x", "A", "b"), (2, 0), ("x",)])
def test_least_squares(wrt):
    check(least_squares, least_squares_args(), wrt)


def test_least_squares_closed_form():
    x, A, b = least_squares_args()
    assert np.allclose(srcgrad.grad(least_squares)(x, A, b), 2 * A.T @ (A @ x - b), rtol=1e-12)


def gaussian_log_likelihood(mu, log_sigma, data):
    sigma = np.exp(log_sigma)
    z = (data - mu) / sigma
    return np.sum(-0.5 * z**2 - log_sigma - 0.5 * np.log(2 * np.pi))


def test_gaussian_log_likelihood_scalar_parameters():
    check(gaussian_log_likelihood, [0.3, -0.2, randn(7)], ("mu", "log_sigma"))


def test_gaussian_log_likelihood_vector_parameters():
    check(gaussian_log_likelihood, [randn(3), randn(3) * 0.1, randn(6, 3)], ("mu", "log_sigma"))


def test_gaussian_log_likelihood_closed_form():
    data = randn(9)
    mu, log_sigma = 0.4, 0.1
    dmu, dls = srcgrad.grad(gaussian_log_likelihood, wrt=(0, 1))(mu, log_sigma, data)
    sigma = math.exp(log_sigma)
    assert dmu == pytest.approx(np.sum(data - mu) / sigma**2, rel=1e-12)
    assert dls == pytest.approx(np.sum((data - mu) ** 2) / sigma**2 - data.size, rel=1e-12)


# -- broadcasting ------------------------------------------------------------------------


def matrix_plus_row(m, r):
    return np.sum(np.sin(m + r))


def column_times_row(c, r):
    return np.sum((c * r) ** 2)


def scalar_times_array(s, x):
    return np.sum(np.tanh(s * x))


def centered_cubes(x):
    y = x - np.mean(x, axis=1, keepdims=True)
    return np.sum(y**3)


def normalized_rows(x):
    p = x**2 + 1.0
    q = p / np.sum(p, axis=1, keepdims=True)
    return np.sum(q * np.arange(4.0))


def column_sums_keepdims(x, w):
    return np.sum(np.sum(x, axis=0, keepdims=True) * w)


def broadcast_three_ways(a, b, c):
    return np.sum(np.cos(a * b + c))


def zero_d_array_times_matrix(s, m):
    return np.sum(s * m**2)


BROADCASTING = [
    (matrix_plus_row, lambda: [randn(3, 4), randn(4)], (0, 1)),
    (matrix_plus_row, lambda: [randn(3, 4), randn(3, 1)], (0, 1)),
    (matrix_plus_row, lambda: [randn(4), randn(2, 3, 4)], (0, 1)),
    (column_times_row, lambda: [randn(3, 1), randn(1, 4)], (0, 1)),
    (column_times_row, lambda: [randn(3, 1), randn(4)], (0, 1)),
    (scalar_times_array, lambda: [0.7, randn(2, 3)], (0, 1)),
    (scalar_times_array, lambda: [randn(2, 3), 0.7], (0, 1)),
    (centered_cubes, lambda: [randn(3, 4)], 0),
    (normalized_rows, lambda: [randn(3, 4)], 0),
    (column_sums_keepdims, lambda: [randn(3, 4), randn(2, 4)], (0, 1)),
    (broadcast_three_ways, lambda: [randn(3, 1, 2), randn(4, 1), randn(2)], (0, 1, 2)),
    (zero_d_array_times_matrix, lambda: [np.array(1.5), randn(2, 2)], (0, 1)),
]


@pytest.mark.parametrize(
    "f, make_args, wrt", BROADCASTING, ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(BROADCASTING)]
)
def test_broadcasting(f, make_args, wrt):
    check(f, make_args(), wrt)


def test_elementwise_grad_with_broadcasting():
    m, r = randn(3, 4), randn(4)

    def f(m, r):
        return np.sin(m + r)

    got = srcgrad.elementwise_grad(f, wrt=1)(m, r)
    assert got.shape == (4,)
    assert np.allclose(got, np.sum(np.cos(m + r), axis=0), rtol=1e-12)


# -- softplus, helpers, helpers in other modules -----------------------------------------


def softplus(x):
    return np.log(1.0 + np.exp(x))


def softplus_log1p(x):
    return np.log1p(np.exp(x))


def softplus_loss(x):
    return np.sum(softplus(x) - 0.5 * softplus_log1p(-x))


def affine(x, w, b=0.0):
    return x @ w + b


def activation(z, slope=0.5):
    y = np.tanh(z) * slope
    return y


def layer(x, w):
    y = activation(affine(x, w, b=0.2))
    z = activation(affine(y, w.T), slope=2.0)
    return z


def helper_chain_loss(w, x):
    y = layer(x, w)
    return np.sum(y**2) + np.sum(activation(w))


def same_local_names(x):
    y = x * 2.0
    z = activation(y)  # activation assigns its own y
    return np.sum(z * y)


DEFAULT_WEIGHTS = np.array([1.0, -2.0, 0.5])


def array_default(x, weights=DEFAULT_WEIGHTS):
    return np.sum(weights * np.sin(x))


def calls_array_default(x):
    return array_default(x) + array_default(x, weights=np.ones(3))


def other_module_helpers(x):
    return np.sum(other.scaled_softplus(x) + scaled_softplus(x, sharpness=3.0))


def other_module_constants(x):
    return np.sum(SCALE * other.uses_module_scale(x))


def other_module_default(x):
    return other.weighted_sum(x) + other.weighted_sum(x, weights=np.arange(3.0))


HELPERS = [
    (softplus_loss, lambda: [randn(5)], 0),
    (helper_chain_loss, lambda: [randn(3, 3), randn(4, 3)], (0, 1)),
    (same_local_names, lambda: [randn(4)], 0),
    (calls_array_default, lambda: [randn(3)], 0),
    (other_module_helpers, lambda: [randn(2, 3)], 0),
    (other_module_constants, lambda: [randn(4)], 0),
    (other_module_default, lambda: [randn(3)], 0),
]


@pytest.mark.parametrize("f, make_args, wrt", HELPERS, ids=[f.__name__ for f, _, _ in HELPERS])
def test_helpers(f, make_args, wrt):
    check(f, make_args(), wrt)


def test_other_module_constants_values():
    x = randn(4)
    want = SCALE * other.SCALE * np.cos(x)
    assert np.allclose(srcgrad.grad(other_module_constants)(x), want, rtol=1e-14)


def test_other_module_constant_is_read_live(monkeypatch):
    x = randn(4)
    g = srcgrad.grad(other_module_constants)
    monkeypatch.setattr(other, "SCALE", 5.0)
    assert np.allclose(g(x), SCALE * 5.0 * np.cos(x), rtol=1e-14)


def test_redefined_helper_is_seen(monkeypatch):
    x = randn(3)
    g = srcgrad.grad(softplus_loss)
    first = g(x)

    def softplus(x):  # noqa: F811  (a new helper under the old name)
        return 3.0 * x

    monkeypatch.setattr(THIS, "softplus", softplus)
    second = srcgrad.grad(softplus_loss)(x)
    assert np.allclose(second, 3.0 + 0.5 / (1 + np.exp(x)), rtol=1e-12)
    assert not np.allclose(first, second)


# -- import styles and math --------------------------------------------------------------


def from_numpy_import(x):
    return np.sum(tanh(x) * exp(-(x**2)))


def plain_import_numpy(x):
    return numpy.sum(numpy.sin(x) * numpy.cos(2.0 * x)) + numpy.mean(numpy.sqrt(x**2 + 1.0))


def math_on_floats(a, b):
    return (
        math.exp(-a) * math.sin(b)
        + math.sqrt(a * a + 1.0)
        + math.log(1.0 + b * b)
        + math.tanh(a * b)
        + math.cos(a) / (2.0 + math.tan(b))
        + math.pow(a, 2.0)
        + abs(a - b)
        + float(a) * b
    )


def math_and_numpy_mixed(a, x):
    return math.exp(a) * np.sum(np.sin(x)) + math.sqrt(a * a + 2.0)


@pytest.mark.parametrize("f, args", [(from_numpy_import, [randn(5)]), (plain_import_numpy, [randn(5)])])
def test_import_styles(f, args):
    check(f, args)


@pytest.mark.parametrize("wrt", [0, 1, (0, 1)])
def test_math_on_floats(wrt):
    check(math_on_floats, [0.7, -0.4], wrt, use_autograd=False)


def test_math_closed_form():
    a, b = 0.7, -0.4
    da = srcgrad.grad(math_on_floats)(a, b)
    want = (
        -math.exp(-a) * math.sin(b)
        + a / math.sqrt(a * a + 1.0)
        + b * (1 - math.tanh(a * b) ** 2)
        - math.sin(a) / (2.0 + math.tan(b))
        + 2 * a
        + 1.0
        + b
    )
    assert da == pytest.approx(want, rel=1e-12)


def test_math_and_numpy_mixed():
    check(math_and_numpy_mixed, [0.3, randn(4)], (0, 1), use_autograd=False)


# -- methods and attributes --------------------------------------------------------------


def method_T(x, w):
    return np.sum(x.T @ w)


def method_sum_axis(x):
    return np.sum(np.sin(x.sum(axis=0)))


def method_mean(x):
    return (x**2).mean()


def method_dot(x, w):
    return np.sum(np.tanh(x.dot(w)))


def method_reshape(x):
    y = x.reshape(2, 3)
    return np.sum(y * np.arange(6.0).reshape(2, 3) + y[0] * y[1, 2])


def method_reshape_tuple(x):
    return np.sum(np.sin(x.reshape((3, 2))) @ np.ones(2))


def method_max(x):
    return x.max() + np.sum(x**2)


def method_chain(x):
    return x.T.reshape(-1).dot(np.arange(6.0)) + x.sum(axis=1).mean()


def shape_attributes(x):
    return np.sum(x**2) / x.shape[0] + np.sum(x) / x.size + np.sum(x) / len(x)


METHODS = [
    (method_T, lambda: [randn(3, 2), randn(3, 4)], (0, 1)),
    (method_sum_axis, lambda: [randn(3, 4)], 0),
    (method_mean, lambda: [randn(3, 4)], 0),
    (method_dot, lambda: [randn(3, 4), randn(4)], (0, 1)),
    (method_reshape, lambda: [randn(6)], 0),
    (method_reshape_tuple, lambda: [randn(6)], 0),
    (method_max, lambda: [np.array([0.5, 2.0, -1.0, 1.5])], 0),
    (method_chain, lambda: [randn(2, 3)], 0),
    (shape_attributes, lambda: [randn(3, 2)], 0),
]


# autograd's ArrayBox has no .dot method; these are checked with finite differences only
NO_DOT_IN_AUTOGRAD = {method_dot, method_chain}


@pytest.mark.parametrize("f, make_args, wrt", METHODS, ids=[f.__name__ for f, _, _ in METHODS])
def test_methods(f, make_args, wrt):
    check(f, make_args(), wrt, use_autograd=f not in NO_DOT_IN_AUTOGRAD)


# -- indexing ----------------------------------------------------------------------------


def index_first(x):
    return np.sum(np.sin(x[0]))


def index_column(x):
    return np.sum(x[:, 1] ** 2)


def index_tail(x):
    return np.sum(x[1:] * x[:-1])


def index_none(x):
    return np.sum(x[None] * np.ones((2, 1, 1)))


def index_int_array(x):
    return np.sum(np.sin(x[np.array([0, 2, 2, 1])]) * np.arange(4.0))


def index_int_list_constant(x):
    return np.sum(x[INDEX] ** 3)


def index_tuple(x):
    return x[1, 2] * x[0, 0] + np.sum(x[..., -1])


def index_mask(x):
    return np.sum(x[x > 0] ** 2)


def index_computed(x):
    n = x.shape[0] // 2
    return np.sum(x[:n] - x[n:])


def index_step(x):
    return np.sum(x[::2] * x[1::2])


INDEXING = [
    (index_first, lambda: [randn(3, 4)]),
    (index_column, lambda: [randn(3, 4)]),
    (index_tail, lambda: [randn(5)]),
    (index_none, lambda: [randn(2, 3)]),
    (index_int_array, lambda: [randn(3)]),
    (index_int_list_constant, lambda: [randn(3)]),
    (index_tuple, lambda: [randn(2, 3)]),
    (index_mask, lambda: [np.array([0.5, -1.0, 2.0, -0.3])]),
    (index_computed, lambda: [randn(6)]),
    (index_step, lambda: [randn(6)]),
]


@pytest.mark.parametrize("f, make_args", INDEXING, ids=[f.__name__ for f, _ in INDEXING])
def test_indexing(f, make_args):
    check(f, make_args())


# -- keyword arguments, operators, statements --------------------------------------------


def numpy_keywords(x):
    return np.sum(np.mean(x, axis=(0, 2)) * np.max(x, axis=0, keepdims=True).sum(axis=-1))


def operators(x, y):
    z = -x + (+y) - x * y / (1.0 + y**2)
    z += x**3
    z *= 2.0
    z -= 2.0**x
    return np.sum(z + abs(x) + np.abs(y) + x**y**2)


def reused_value(x):
    return np.dot(x, x) + np.sum(x * x) + np.sum(x / x) * 0.0


def stacking(x, y):
    s = np.stack([x, 2.0 * y])
    c = np.concatenate([x, y * y, x])
    return np.sum(s**2) + np.sum(np.sin(c))


def choices(x):
    relu = np.maximum(x, 0.0)
    leaky = np.where(x > 0, x, 0.01 * x)
    clipped = np.clip(x, -0.5, 0.5)
    return np.sum(relu * 2.0 + leaky * 3.0 + clipped)


def unused_argument(x, y):
    return np.sum(y**2)


def reassigned_parameter(x):
    x = np.sin(x)
    x = x * x
    return np.sum(x)


def docstring_and_assert(x):
    """A docstring is not code."""
    assert x.ndim == 1
    y = x * 2.0
    return np.sum(y**2)


def reductions(x):
    return np.prod(x) + np.var(x) + np.std(x, axis=0).sum() + np.min(x)


def inner_with_itself(x):
    return np.inner(x, x) + np.sum(np.inner(x, np.ones(3)))


def hstack_vectors(a, b):
    return np.sum(np.hstack([a, b]) ** 2) + np.sum(np.vstack([a[:2], b]) * 3.0)


def linear_algebra(a, b):
    return np.trace(a @ a.T) + np.sum(np.linalg.solve(a, b)) + np.linalg.norm(b)


OTHERS = [
    (numpy_keywords, lambda: [randn(2, 3, 4)], 0),
    (operators, lambda: [np.array([0.5, 1.5, 0.8]), randn(3)], (0, 1)),
    (reused_value, lambda: [np.array([0.5, 1.5, -0.8])], 0),
    (stacking, lambda: [randn(3), randn(3)], (0, 1)),
    (choices, lambda: [np.array([-1.2, -0.3, 0.2, 0.9])], 0),
    (unused_argument, lambda: [randn(3), randn(2)], (0, 1)),
    (reassigned_parameter, lambda: [randn(4)], 0),
    (docstring_and_assert, lambda: [randn(4)], 0),
    (reductions, lambda: [np.array([[0.5, 1.5], [0.8, -1.1], [2.0, 0.3]])], 0),
    (linear_algebra, lambda: [randn(3, 3) + 3 * np.eye(3), randn(3)], (0, 1)),
    (inner_with_itself, lambda: [randn(3)], 0),
    (hstack_vectors, lambda: [randn(3), randn(2)], (0, 1)),
]


@pytest.mark.parametrize("f, make_args, wrt", OTHERS, ids=[f.__name__ for f, _, _ in OTHERS])
def test_other_operations(f, make_args, wrt):
    # autograd's ArrayBox does not implement unary +
    check(f, make_args(), wrt, use_autograd=f is not operators)


# -- values computed from a differentiated array that carry no derivative ---------------


def unpacked_shape(x):
    rows, cols = x.shape
    return np.sum(x**2) / rows + cols


def reshape_to_computed_shape(x):
    return np.sum(np.reshape(x, (x.shape[0], -1)) ** 2)


def half_length(x):
    n = len(x) // 2
    return np.sum(x[:n] * 2.0) + np.sum(x[n:])


SHAPE_VALUES = [
    (unpacked_shape, lambda: [randn(2, 3)]),
    (reshape_to_computed_shape, lambda: [randn(3, 2, 2)]),
    (half_length, lambda: [randn(6)]),
]


@pytest.mark.parametrize("f, make_args", SHAPE_VALUES, ids=[f.__name__ for f, _ in SHAPE_VALUES])
def test_shape_values_of_differentiated_arrays(f, make_args):
    check(f, make_args())


# -- `and` / `or` return one of their operands, with its derivative ---------------------


def or_default(x, s):
    scale = s or 1.0
    return np.sum(scale * x**2)


def and_value(x, s):
    return np.sum((s and x) ** 2)


@pytest.mark.parametrize("f, wrt", [(or_default, (0, 1)), (and_value, 0)])
def test_boolean_operators_pass_values_through(f, wrt):
    check(f, [randn(3), 3.0], wrt, use_autograd=False)


def test_unused_argument_gets_zeros():
    x = randn(3)
    g = srcgrad.grad(unused_argument)(x, randn(2))
    assert np.array_equal(g, np.zeros(3))
    assert g is not x


def test_closure_and_lambda():
    offset = randn(3)
    scale = 1.5

    def closure(x):
        return np.sum(np.sin(x + offset) * scale)

    x = randn(3)
    check(closure, [x])
    assert np.allclose(srcgrad.grad(closure)(x), np.cos(x + offset) * scale, rtol=1e-14)
    square = lambda x: np.sum(x**2)  # noqa: E731
    assert np.allclose(srcgrad.grad(square)(x), 2 * x, rtol=1e-14)


# -- control flow and lists (differentiated since the control-flow and list commits) ----


def loop_power(x, n):
    y = x
    for _ in range(n - 1):
        y = y * x
    return np.sum(y)


def loop_with_break(x):
    total = 0.0
    for k in range(10):
        if k > 3:
            break
        total = total + np.sum(np.sin(x) ** k)
    return total


def while_halving(x):
    y = x
    while np.max(np.abs(y)) > 0.1:
        y = y * 0.5
    return np.sum(np.sin(y) * x)


def while_with_break(x):
    y = x
    n = 0
    while True:
        n = n + 1
        if n > 3:
            break
        y = np.sin(y) + y
    return np.sum(y)


def loop_with_continue(x):
    y = x
    for k in range(5):
        if k % 2 == 0:
            continue
        y = y * np.cos(y)
    return np.sum(y)


def nested_loops(x):
    y = x
    for i in range(2):
        for j in range(3):
            y = y * x + float(i * j)
    return np.sum(y)


def loop_over_elements(x):
    total = 0.0
    for v in x:
        total = total + v**2
    return total


def loop_over_list_of_values(x):
    total = 0.0
    for w in [x, 2.0 * x]:
        total = total + np.sum(w**2)
    return total


def reduce_list_literal(x):
    return np.sum([x, 2.0 * x]) + np.mean([x[0], x[1] * 3.0])


def reduce_list_comprehension(x):
    return np.sum([v * 2.0 for v in x]) + np.sum(np.stack([np.sin(v) for v in x]))


def reduce_tuple_literal(x):
    return np.sum((x * 2.0, x))


def branches(x):
    if np.sum(x) > 0:
        y = np.sin(x)
    elif np.sum(x) > -1:
        y = x**2
    else:
        y = np.cos(x)
    return np.sum(y * x)


def early_return(x):
    if np.sum(x) < 0:
        return np.sum(x**2)
    return np.sum(x**3)


def tuple_unpacking(x):
    a, b = x[0], x[1:]
    return a * np.sum(b**2)


def subscript_assignment(x):
    y = np.zeros(3)
    y[0] = x[1] * 2.0
    y[1:] = np.sin(x[:2])
    return np.sum(y**2)


def helper_loop_in_other_module(x):
    return np.sum(other.helper_with_loop(x) ** 2)


CONTROL_FLOW = [
    (loop_power, lambda: [randn(3), 4]),
    (loop_with_break, lambda: [randn(3)]),
    (while_halving, lambda: [np.array([0.9, -2.3, 0.4])]),
    (while_with_break, lambda: [randn(3)]),
    (loop_with_continue, lambda: [randn(3)]),
    (nested_loops, lambda: [randn(3)]),
    (loop_over_elements, lambda: [randn(3)]),
    (loop_over_list_of_values, lambda: [randn(3)]),
    (reduce_list_literal, lambda: [randn(3)]),
    (reduce_list_comprehension, lambda: [randn(3)]),
    (reduce_tuple_literal, lambda: [randn(3)]),
    (branches, lambda: [np.array([0.9, 0.3, 0.4])]),
    (branches, lambda: [np.array([-0.9, 0.3, 0.4])]),
    (branches, lambda: [np.array([-0.9, -0.3, -0.4])]),
    (early_return, lambda: [np.array([0.9, 0.3, 0.4])]),
    (early_return, lambda: [np.array([-0.9, 0.3, 0.4])]),
    (tuple_unpacking, lambda: [randn(4)]),
    (subscript_assignment, lambda: [randn(3)]),
    (helper_loop_in_other_module, lambda: [randn(3)]),
]


@pytest.mark.parametrize(
    "f, make_args", CONTROL_FLOW, ids=[f"{f.__name__}-{i}" for i, (f, _) in enumerate(CONTROL_FLOW)]
)
def test_control_flow(f, make_args):
    # autograd cannot assign into an array it differentiates, nor reduce a list of its boxes
    no_autograd = {subscript_assignment, reduce_list_literal, reduce_list_comprehension, reduce_tuple_literal}
    check(f, make_args(), use_autograd=f not in no_autograd)


# -- decorator forms and wrt -------------------------------------------------------------


@srcgrad.grad
def decorated_cube_sum(x):
    return np.sum(x**3)


@srcgrad.grad(wrt="w")
def decorated_wrt_name(x, w):
    return np.sum((x @ w) ** 2)


@srcgrad.grad(wrt=(1, "x"))
def decorated_wrt_tuple(x, w):
    return np.sum(np.sin(x * w))


@srcgrad.value_and_grad(wrt=1)
def decorated_value_and_grad(x, w):
    return np.sum(x * w**2)


@srcgrad.elementwise_grad
def decorated_elementwise(x):
    return np.exp(x) * 2.0


def test_decorator_forms():
    x, w = randn(4, 3), randn(3)
    assert np.allclose(decorated_cube_sum(w), 3 * w**2, rtol=1e-14)
    assert np.allclose(decorated_wrt_name(x, w), 2 * x.T @ (x @ w), rtol=1e-12)
    v = randn(3)
    dw, dx = decorated_wrt_tuple(v, w)
    assert np.allclose(dw, np.cos(v * w) * v, rtol=1e-14)
    assert np.allclose(dx, np.cos(v * w) * w, rtol=1e-14)
    value, dw = decorated_value_and_grad(v, w)
    assert value == pytest.approx(np.sum(v * w**2), rel=1e-14)
    assert np.allclose(dw, 2 * v * w, rtol=1e-14)
    assert np.allclose(decorated_elementwise(v), np.exp(v) * 2.0, rtol=1e-14)
    for fn in (decorated_cube_sum, decorated_wrt_name, decorated_wrt_tuple, decorated_value_and_grad):
        assert isinstance(fn.source, str)


def keyword_only(x, *, scale, shift=0.5):
    return np.sum(np.tanh(scale * x + shift))


def test_keyword_only_parameters():
    x = randn(3)
    dx, dscale = srcgrad.grad(keyword_only, wrt=("x", "scale"))(x, scale=1.3)
    assert dx.shape == (3,)
    sech2 = 1 - np.tanh(1.3 * x + 0.5) ** 2
    assert np.allclose(dx, 1.3 * sech2, rtol=1e-12)
    assert dscale == pytest.approx(np.sum(x * sech2), rel=1e-12)


def test_wrt_one_tuple_gives_one_tuple():
    args = least_squares_args()
    got = srcgrad.grad(least_squares, wrt=("A",))(*args)
    assert isinstance(got, tuple) and len(got) == 1
    assert got[0].shape == (5, 3)


# -- data dtypes -------------------------------------------------------------------------


def int_data(w, X):
    return np.sum(np.tanh(X @ w)) + np.sum(w * X[0])


def bool_data(w, mask):
    return np.sum(w**2 * mask) + np.sum(np.where(mask, w, 0.0))


def int_exponent(w, n):
    return np.sum(w**n) / n


def float32_loss(x):
    return np.sum(np.tanh(x) * 2.0) + np.mean(x**2)


def test_int_data_array():
    X = np.array([[1, -2, 3], [0, 4, -1]])
    check(int_data, [randn(3), X], 0)


def test_bool_data_array():
    check(bool_data, [randn(4), np.array([True, False, True, True])], 0)


def test_int_scalar_data():
    check(int_exponent, [randn(3), 3], 0)


def test_float32_gradient_shape_and_kind():
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    got = srcgrad.grad(float32_loss)(x)
    assert got.shape == x.shape
    assert got.dtype.kind == "f"
    want = autograd_grad(float32_loss, [x], 0)
    assert np.allclose(got, want, rtol=1e-5)


def float32_matrix_loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2) + np.sum(w**2) * 0.5


def test_float32_gradient_dtype_is_float32():
    # JAX and autograd (for elementwise code) keep float32; a float64 gradient doubles memory
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    assert srcgrad.grad(float32_loss)(x).dtype == np.float32
    w, data = np.ones(3, dtype=np.float32), np.ones((4, 3), dtype=np.float32)
    dw, dx = srcgrad.grad(float32_matrix_loss, wrt=(0, 1))(w, data)
    assert dw.dtype == np.float32 and dx.dtype == np.float32


def f32_maximum(x):
    return np.sum(np.maximum(x, 0.0) + np.minimum(x, 0.5))


def f32_max_min(x):
    return np.max(x) + np.sum(np.min(x, axis=0))


def f32_base_two(x):
    return np.sum(2.0**x + np.exp2(x) + np.log2(x**2 + 1.0))


def f32_trace(x):
    return np.trace(x @ x.T)


def f32_others(x):
    return np.sum(np.clip(x, -0.5, 0.5) + np.abs(x) + np.where(x > 0, x, 0.1 * x)) + np.std(x) + np.prod(x)


@pytest.mark.parametrize(
    "f", [f32_maximum, f32_max_min, f32_base_two, f32_trace, f32_others], ids=lambda f: f.__name__
)
def test_float32_gradient_dtype_through_rules(f):
    x = np.array([[0.3, -0.7, 1.2], [0.5, 0.1, -0.4]], dtype=np.float32)
    g = srcgrad.grad(f)(x)
    assert g.dtype == np.float32
    assert np.allclose(g, srcgrad.grad(f)(x.astype(np.float64)), rtol=1e-4, atol=1e-5)


def test_function_reached_through_an_attribute_chain():
    # names resolve by object, also through attributes of non-module objects
    ns = SimpleNamespace(fn=np.sin)

    def f(x):
        return np.sum(ns.fn(x))

    x = randn(3)
    assert np.allclose(srcgrad.grad(f)(x), np.cos(x), rtol=1e-14)
