"""Jacobians, Hessians and higher derivatives (issue 4), against autograd and closed forms.

``hessian`` is forward mode applied to the generated gradient code; ``grad(grad(f))`` is
reverse mode applied to it. Both work because every helper generated code calls has rules
of its own (tests/test_rules.py checks them). autograd is a test-only oracle: this module's
``np`` is swapped for ``autograd.numpy`` while autograd runs a function.
"""

import sys
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import srcgrad
from srcgrad.rules import RULES

THIS = sys.modules[__name__]
RNG = np.random.default_rng(5)


def randn(*shape):
    return RNG.standard_normal(shape)


def with_autograd(operator, f, *args, argnum=0):
    saved, THIS.np = THIS.np, anp
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Output seems independent of input")
            return operator(f, argnum)(*args)
    finally:
        THIS.np = saved


def close(a, b, rtol=1e-9, atol=1e-12):
    return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=rtol, atol=atol)


# -- functions ---------------------------------------------------------------------------------


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def wide(x):  # 2 outputs of 5 inputs: reverse mode needs fewer passes
    return np.stack([np.sum(np.sin(x)), np.sum(x**3)])


def tall(x):  # 6 outputs of 2 inputs: forward mode needs fewer passes
    return np.concatenate([np.tanh(x), x * x[0], np.exp(x) / (1.0 + x**2)])


def matrix_in(W, v):
    return np.tanh(W @ v) ** 2


def quadratic_plus_tanh(x, A):
    return 0.5 * x @ A @ x + np.sum(np.tanh(x))


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def with_loop(x, n):
    y = x
    total = 0.0
    for k in range(n):
        y = np.sin(y) * x
        if k % 2 == 0:
            total = total + np.sum(y**2)
    return total


def while_loop(x):
    y = x
    while np.max(np.abs(y)) > 0.1:
        y = y * 0.5
    return np.sum(np.sin(y) * x) + np.sum(y**3)


def in_place(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = x[i] ** 2 * x[(i + 1) % 3]
    return np.sum(y * np.cos(x))


def two_args(x, w):
    return np.sum(np.tanh(x * w)) + np.sum(x**2 * w**3)


# The tutorial's logistic regression (see /work/shared/hooks/tutorial_check.py).
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


# -- jacobian ----------------------------------------------------------------------------------

JACOBIANS = [
    (softmax, lambda: [randn(4)]),
    (wide, lambda: [randn(5)]),
    (tall, lambda: [randn(2)]),
    (matrix_in, lambda: [randn(3, 4), randn(4)]),
    (logistic_predictions, lambda: [randn(3), inputs]),
]


@pytest.mark.parametrize("f, make_args", JACOBIANS, ids=lambda v: getattr(v, "__name__", ""))
def test_jacobian_against_autograd(f, make_args):
    args = make_args()
    got = srcgrad.jacobian(f)(*args)
    want = with_autograd(autograd.jacobian, f, *args)
    assert close(got, want), f"{got}\n!=\n{want}"


def test_jacobian_of_matrix_argument_and_several_arguments():
    W, v = randn(3, 4), randn(4)
    dW, dv = srcgrad.jacobian(matrix_in, wrt=(0, 1))(W, v)
    assert dW.shape == (3, 3, 4) and dv.shape == (3, 4)
    assert close(dW, with_autograd(autograd.jacobian, matrix_in, W, v, argnum=0))
    assert close(dv, with_autograd(autograd.jacobian, matrix_in, W, v, argnum=1))
    (only,) = srcgrad.jacobian(matrix_in, wrt=("v",))(W, v)
    assert close(only, dv)


def test_jacobian_chooses_the_mode_with_fewer_passes():
    source = srcgrad.jacobian(wide).source
    assert "def tangent_wide(x, *, t_x):" in source and "def vjp_wide(x, *, g):" in source
    assert "if tree_size(out) < tree_size(x):" in source
    for f, n_in, forward_passes, reverse_passes in ((wide, 5, 0, 2), (tall, 2, 2, 0)):
        jacobian = srcgrad.jacobian(f)
        counts = {"tangent": 0, "vjp": 0}
        for kind in counts:
            cell = jacobian.__closure__[jacobian.__code__.co_freevars.index(f"{kind}_{f.__name__}")]
            generated = cell.cell_contents

            def counted(*args, _generated=generated, _kind=kind, _counts=counts, **kwargs):
                _counts[_kind] += 1
                return _generated(*args, **kwargs)

            cell.cell_contents = counted
        x = randn(n_in)
        assert close(jacobian(x), with_autograd(autograd.jacobian, f, x))
        assert counts == {"tangent": forward_passes, "vjp": reverse_passes}


def test_jacobian_of_scalar_function_is_its_gradient():
    x = randn(4)
    assert close(srcgrad.jacobian(rosenbrock)(x), srcgrad.grad(rosenbrock)(x))


# -- hessian -----------------------------------------------------------------------------------

HESSIANS = [
    (rosenbrock, lambda: [randn(4)]),
    (quadratic_plus_tanh, lambda: [randn(5), randn(5, 5)]),
    (training_loss, lambda: [randn(3)]),
    (with_loop, lambda: [randn(3), 4]),
    (while_loop, lambda: [np.array([0.9, -2.3, 0.4])]),
]


@pytest.mark.parametrize("f, make_args", HESSIANS, ids=lambda v: getattr(v, "__name__", ""))
def test_hessian_against_autograd(f, make_args):
    args = make_args()
    got = srcgrad.hessian(f)(*args)
    want = with_autograd(autograd.hessian, f, *args)
    assert got.shape == np.shape(args[0]) * 2
    assert close(got, want, rtol=1e-8, atol=1e-10), f"{got}\n!=\n{want}"


def test_hessian_with_in_place_assignment_against_finite_differences():
    x = randn(3)
    got = srcgrad.hessian(in_place)(x)
    gradient = srcgrad.grad(in_place)
    h = 1e-6
    columns = [(gradient(x + h * e) - gradient(x - h * e)) / (2 * h) for e in np.eye(3)]
    assert close(got, np.stack(columns, axis=-1), rtol=1e-6, atol=1e-8)


def test_hessian_of_several_arguments_gives_blocks():
    x, w = randn(3), randn(3)
    blocks = srcgrad.hessian(two_args, wrt=(0, 1))(x, w)
    for i in range(2):
        for j in range(2):

            def gradient(x, w, i=i):
                return autograd.grad(two_args, i)(x, w)

            want = with_autograd(autograd.jacobian, gradient, x, w, argnum=j)
            assert close(blocks[i][j], want), (i, j)


def test_hessian_of_matrix_argument():
    A = randn(2, 3)

    got = srcgrad.hessian(frobenius_cubed)(A)
    want = with_autograd(autograd.hessian, frobenius_cubed, A)
    assert got.shape == (2, 3, 2, 3)
    assert close(got, want)


def frobenius_cubed(A):
    return np.sum(A**2) ** 1.5 + np.sum(np.sin(A))


def test_hessian_source_is_forward_over_reverse():
    source = srcgrad.hessian(two_args, wrt=(0, 1)).source
    assert "def tangent_d_two_args(x, w, *, t_x, t_w):" in source
    assert "def hessian_two_args(x, w):" in source
    assert "# d_x = " in source  # the comments quote the gradient code's lines
    loop = srcgrad.hessian(with_loop).source
    assert "t_tape" in loop  # the tape of the gradient code has a tangent tape beside it


# -- third derivatives and nested grad -----------------------------------------------------------


def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def polynomial(x):
    return 3.0 * x**5 - 2.0 * x**3 + x**2 - 7.0 * x + 1.0


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.4, 2.1])
def test_third_derivative_of_tanh(x):
    t = np.tanh(x)
    want = -2.0 * (1 - t**2) * (1 - 3 * t**2)
    reverse = srcgrad.grad(srcgrad.grad(srcgrad.grad(tanh)))
    assert reverse(x) == pytest.approx(want, rel=1e-9, abs=1e-12)
    mixed = srcgrad.grad(srcgrad.grad(srcgrad.grad(tanh), mode="forward"), mode="forward")
    assert mixed(x) == pytest.approx(want, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("x", [-1.5, 0.0, 0.7])
def test_third_derivative_of_a_polynomial(x):
    want = 180.0 * x**2 - 12.0
    assert srcgrad.grad(srcgrad.grad(srcgrad.grad(polynomial)))(x) == pytest.approx(
        want, rel=1e-12, abs=1e-12
    )
    assert srcgrad.grad(srcgrad.grad(polynomial))(x) == pytest.approx(60.0 * x**3 - 12.0 * x + 2.0, abs=1e-12)
    fourth = srcgrad.grad(srcgrad.grad(srcgrad.grad(srcgrad.grad(polynomial))))
    assert fourth(x) == pytest.approx(360.0 * x, abs=1e-12)


def test_nested_grad_of_forward_mode_code():
    t = np.tanh(0.4)
    assert srcgrad.grad(srcgrad.grad(tanh, mode="forward"))(0.4) == pytest.approx(
        -2 * t * (1 - t**2), rel=1e-12
    )


def test_nested_grad_source_is_the_code_that_runs():
    inner = srcgrad.grad(tanh)
    outer = srcgrad.grad(inner)
    assert outer.source.startswith("def d_d_tanh(x):")
    assert "d_d_mul" in outer.source or "d_mul" in outer.source
    assert outer(0.3) == pytest.approx(-2 * np.tanh(0.3) * (1 - np.tanh(0.3) ** 2), rel=1e-12)


# -- check_grads -----------------------------------------------------------------------------------


def cube(x):
    return x * x * x


def uses_cube(x):
    return np.sum(np.sin(cube(x)))


@pytest.mark.parametrize(
    "f, args",
    [
        (tanh, [0.3]),
        (rosenbrock, [randn(4)]),
        (with_loop, [randn(3), 3]),
        (softmax, [randn(4)]),
        (in_place, [randn(3)]),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_check_grads_passes_for_correct_derivatives(f, args):
    srcgrad.check_grads(f, *args, order=2)


def test_check_grads_catches_a_wrong_custom_rule():
    x = randn(3)
    try:  # the forward template is right, the adjoint wrong by a factor
        srcgrad.defrule(cube, "x", d_x="g * 2.0 * x ** 2", t_x="t * 3.0 * x ** 2", spelling="cube")
        srcgrad.check_grads(uses_cube, x, modes=("forward",))
        with pytest.raises(AssertionError, match="worst relative error") as caught:
            srcgrad.check_grads(uses_cube, x)
        assert "reverse mode" in str(caught.value) and "forward mode" not in str(caught.value)
        srcgrad.defrule(cube, "x", d_x="g * 3.0 * x ** 2", t_x="t * 3.0 * x", spelling="cube")
        with pytest.raises(AssertionError, match="forward mode"):
            srcgrad.check_grads(uses_cube, x)
        srcgrad.defrule(cube, "x", d_x="g * 3.0 * x ** 2", t_x="t * 3.0 * x ** 2", spelling="cube")
        srcgrad.check_grads(uses_cube, x, order=1)
    finally:
        RULES.pop(id(cube), None)
        srcgrad.cache.clear()


def cube_slope(x):
    return 3.0 * x**2


def test_check_grads_order_two_checks_the_generated_derivative():
    x = randn(3)
    try:  # right first derivatives, a wrong second derivative: only order 2 sees it
        srcgrad.defrule(cube, "x", d_x="g * cube_slope(x)", t_x="t * cube_slope(x)", spelling="cube")
        srcgrad.defrule(cube_slope, "x", d_x="g * 5.0 * x", t_x="t * 5.0 * x", spelling="cube_slope")
        srcgrad.check_grads(uses_cube, x, order=1)
        with pytest.raises(AssertionError, match="order 2"):
            srcgrad.check_grads(uses_cube, x, order=2)
    finally:
        RULES.pop(id(cube), None)
        RULES.pop(id(cube_slope), None)
        srcgrad.cache.clear()


def test_check_grads_arguments():
    with pytest.raises(ValueError):
        srcgrad.check_grads(tanh, 0.3, modes=("sideways",))
    with pytest.raises(ValueError):
        srcgrad.check_grads(tanh, 0.3, order=0)
