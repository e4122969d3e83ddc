"""srcgrad's operators inside a differentiated function (``g = srcgrad.grad(lambda t: ...)``,
then ``g(x)``), and the operators applied to lambdas.

The outer gradient is checked against autograd nested the same way and against central finite
differences, in both modes; what cannot be differentiated is refused, pointing at the line.
"""

import os

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from oracle import numeric_grad
from test_errors import assert_points_at, refusal

import srcgrad
from srcgrad import UnsupportedSyntaxError

HERE = os.path.abspath(__file__)
MODES = ["reverse", "forward"]


def closure_lambda(x, w):
    g = srcgrad.grad(lambda t: np.sum(np.sin(t * w)))
    return np.sum(g(x) ** 2)


def closure_lambda_ag(x, w):
    g = autograd.grad(lambda t: anp.sum(anp.sin(t * w)))
    return anp.sum(g(x) ** 2)


def local_defs(x, w):
    def scale(t):
        return t * w

    def inner(t, s=2.0):
        return np.sum(np.exp(scale(t)) * s)

    dg = srcgrad.elementwise_grad(inner)
    return np.sum(dg(x) * x) + srcgrad.grad(lambda t: np.sum(t**3 * w))(x)[0]


def local_defs_ag(x, w):
    def inner(t, s=2.0):
        return anp.sum(anp.exp(t * w) * s)

    return anp.sum(autograd.elementwise_grad(inner)(x) * x) + autograd.grad(lambda t: anp.sum(t**3 * w))(x)[0]


def helper(t, w):
    return np.sum(np.tanh(t * w))


def helper_ag(t, w):
    return anp.sum(anp.tanh(t * w))


def global_function(x, w):
    g = srcgrad.grad(helper, wrt=1)
    v, d = srcgrad.value_and_grad(helper, wrt="t")(x, w)
    return np.sum(g(x, w) * x) + v * np.sum(d)


def global_function_ag(x, w):
    v, d = autograd.value_and_grad(helper_ag)(x, w)
    return anp.sum(autograd.grad(helper_ag, 1)(x, w) * x) + v * anp.sum(d)


def inner_forward_mode(x, w):
    g = srcgrad.grad(lambda t: np.sum(np.sin(t * w)), mode="forward")
    (d,) = srcgrad.grad(lambda t, u: np.sum(np.cos(t * u)), wrt=("t",))(x, w)
    return np.sum(g(x) ** 2) + np.sum(d * x)


def inner_forward_mode_ag(x, w):
    d = autograd.grad(lambda t, u: anp.sum(anp.cos(t * u)))(x, w)
    return closure_lambda_ag(x, w) + anp.sum(d * x)


def jacobian_and_hessian(x, w):
    J = srcgrad.jacobian(lambda t: np.sin(t * w))
    H = srcgrad.hessian(lambda t: np.sum(np.sin(t) * w))
    return np.sum(J(x) ** 2) + np.sum(H(x) * x)


def jacobian_and_hessian_ag(x, w):
    J = autograd.jacobian(lambda t: anp.sin(t * w))
    H = autograd.hessian(lambda t: anp.sum(anp.sin(t) * w))
    return anp.sum(J(x) ** 2) + anp.sum(H(x) * x)


def late_binding(x, w):
    k = 2.0
    g = srcgrad.grad(lambda t: np.sum(np.sin(t * w * k)))
    k = 3.0  # a closure reads k when g is called
    return np.sum(g(x) ** 2)


def late_binding_ag(x, w):
    k = 2.0
    g = autograd.grad(lambda t: anp.sum(anp.sin(t * w * k)))
    k = 3.0
    return anp.sum(g(x) ** 2)


def in_a_loop(x, w):
    s = 0.0
    for i in range(3):
        g = srcgrad.grad(lambda t: np.sum(np.sin(t * w * i)))  # noqa: B023 (late binding is the point)
        s = s + np.sum(g(x) ** 2)
    return s + np.sum(g(x))  # the last iteration's g, reading i as it is now


def in_a_loop_ag(x, w):
    s = 0.0
    for i in range(3):
        g = autograd.grad(lambda t: anp.sum(anp.sin(t * w * i)))  # noqa: B023
        s = s + anp.sum(g(x) ** 2)
    return s + anp.sum(g(x))


CASES = [
    (closure_lambda, closure_lambda_ag),
    (in_a_loop, in_a_loop_ag),
    (local_defs, local_defs_ag),
    (global_function, global_function_ag),
    (inner_forward_mode, inner_forward_mode_ag),
    (jacobian_and_hessian, jacobian_and_hessian_ag),
    (late_binding, late_binding_ag),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f, oracle", CASES, ids=[f.__name__ for f, _ in CASES])
def test_nested_operators_are_differentiated(f, oracle, mode):
    x = np.array([0.3, 0.7, -0.4])
    w = np.array([1.5, -0.5, 0.8])
    assert np.isclose(f(x, w), oracle(x, w))
    got = srcgrad.grad(f, wrt=(0, 1), mode=mode)(x, w)
    expected = autograd.grad(oracle, (0, 1))(x, w)
    for i in range(2):
        np.testing.assert_allclose(got[i], expected[i], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got[i], numeric_grad(f, (x, w), i), rtol=1e-5, atol=1e-6)


def test_nested_gradient_code_is_inlined():
    source = srcgrad.grad(closure_lambda, wrt=1).source
    assert "in d_lambda:" in source  # the inner derivative's lines, cited
    assert "srcgrad" not in source.replace("[d_lambda", "")  # no call back into srcgrad at run time


def test_rebinding_the_inner_function_is_seen(monkeypatch):
    x, w = np.array([0.3, 0.5]), np.array([1.0, 2.0])
    before = srcgrad.grad(global_function)(x, w)
    monkeypatch.setitem(globals(), "helper", lambda t, w: np.sum(np.cos(t * w)))
    after = srcgrad.grad(global_function)(x, w)
    np.testing.assert_allclose(after, numeric_grad(global_function, (x, w), 0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(before, after)


LAMBDA = lambda x: np.sum(np.sin(x) * x**2)  # noqa: E731
LAMBDA_AG = lambda x: anp.sum(anp.sin(x) * x**2)  # noqa: E731
VECTOR = lambda x: np.sin(x) * x[0]  # noqa: E731
VECTOR_AG = lambda x: anp.sin(x) * x[0]  # noqa: E731


def test_operators_of_lambdas():
    x = np.array([0.3, 0.7, -0.4])
    np.testing.assert_allclose(srcgrad.grad(LAMBDA)(x), autograd.grad(LAMBDA_AG)(x), rtol=1e-12)
    np.testing.assert_allclose(
        srcgrad.grad(LAMBDA, mode="forward")(x), autograd.grad(LAMBDA_AG)(x), rtol=1e-12
    )
    np.testing.assert_allclose(srcgrad.jacobian(VECTOR)(x), autograd.jacobian(VECTOR_AG)(x), rtol=1e-12)
    np.testing.assert_allclose(
        srcgrad.jacobian(VECTOR)(x[:1]), autograd.jacobian(VECTOR_AG)(x[:1]), rtol=1e-12
    )
    np.testing.assert_allclose(srcgrad.hessian(LAMBDA)(x), autograd.hessian(LAMBDA_AG)(x), rtol=1e-12)
    np.testing.assert_allclose(
        srcgrad.elementwise_grad(VECTOR)(x), autograd.elementwise_grad(VECTOR_AG)(x), rtol=1e-12
    )
    value, grad = srcgrad.value_and_grad(LAMBDA)(x)
    assert value == LAMBDA(x)
    np.testing.assert_allclose(grad, autograd.grad(LAMBDA_AG)(x), rtol=1e-12)
    two = lambda x, y: np.sum(x * np.sin(y))  # noqa: E731
    blocks = srcgrad.hessian(two, wrt=(0, 1))(x, x + 1)
    expected = [
        [np.zeros((3, 3)), np.diag(np.cos(x + 1))],
        [np.diag(np.cos(x + 1)), np.diag(-x * np.sin(x + 1))],
    ]
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(blocks[i][j], expected[i][j], atol=1e-12)


def returns_the_derivative(x, w):
    g = srcgrad.grad(lambda t: np.sum(np.sin(t * w)))
    return g  # MARK: returns_the_derivative


def aliases_a_lambda(x, w):
    h = lambda t: t * w  # noqa: E731
    k = h  # MARK: aliases_a_lambda
    return np.sum(k(x))


def calls_vjp(x, w):
    out, pull = srcgrad.vjp(lambda t: np.sin(t * w), x)  # MARK: calls_vjp
    return np.sum(out)


def computed_wrt(x, w, i):
    g = srcgrad.grad(lambda t, u: np.sum(np.sin(t * u)), wrt=i)  # MARK: computed_wrt
    return np.sum(g(x, w))


def of_a_parameter(x, w, fn):
    return np.sum(srcgrad.grad(fn)(x))  # MARK: of_a_parameter


def reads_a_derivative(x, w):
    g = srcgrad.grad(lambda t: np.sum(np.sin(t * w)))
    g2 = srcgrad.grad(lambda t: np.sum(g(t)))  # MARK: reads_a_derivative
    return np.sum(g2(x))


def of_a_derivative(x, w):
    g = srcgrad.grad(lambda t: np.sum(np.sin(t * w)))
    return np.sum(srcgrad.elementwise_grad(g)(x))  # MARK: of_a_derivative


def default_from_outside(x, w):
    def inner(t, s=w):
        return np.sum(t * s)

    return np.sum(srcgrad.grad(inner)(x))  # MARK: default_from_outside


def defined_in_branches(x, w):
    if x[0] > 0:
        g = srcgrad.grad(lambda t: np.sum(t**3))
    else:
        g = srcgrad.grad(lambda t: np.sum(t**2))
    return np.sum(g(x))  # MARK: defined_in_branches


def lambda_in_branches(x, w):
    h = lambda t: t**3  # noqa: E731
    if x[0] > 0:
        y = h(x)
    else:
        h = lambda t: t**2  # noqa: E731
        y = h(x)
    return np.sum(y + h(x))  # MARK: lambda_in_branches


def test_functions_defined_in_branches_are_inlined_in_them():
    def branches(x):
        if x[0] > 0:
            h = lambda t: t**3  # noqa: E731
            y = h(x)
        else:
            h = lambda t: t**2  # noqa: E731
            y = h(x)
        return np.sum(y)

    x = np.array([0.3, 0.7, -0.4])
    np.testing.assert_allclose(srcgrad.grad(branches)(x), 3 * x**2)
    np.testing.assert_allclose(srcgrad.grad(branches)(-x), -2 * x)


REFUSED = [
    (defined_in_branches, "the if at line"),
    (lambda_in_branches, "cannot tell which function h is here"),
    (returns_the_derivative, "cannot use g as a value"),
    (aliases_a_lambda, "cannot use h as a value"),
    (calls_vjp, "srcgrad.vjp inside a differentiated function"),
    (computed_wrt, "wrt= of srcgrad.grad written as a literal"),
    (of_a_parameter, "srcgrad.grad of fn inside a differentiated function"),
    (reads_a_derivative, "it reads g, a derivative made by a srcgrad operator"),
    (of_a_derivative, "elementwise_grad of g, itself made by an operator"),
    (default_from_outside, "default values are literals"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f, words", REFUSED, ids=[f.__name__ for f, _ in REFUSED])
def test_nested_forms_srcgrad_cannot_differentiate_are_refused(f, words, mode):
    x = np.array([0.3, 0.7, -0.4])
    w = np.array([1.5, -0.5, 0.8])
    args = (x, w, 0) if f is computed_wrt else (x, w, np.sin) if f is of_a_parameter else (x, w)
    exc = refusal(lambda: srcgrad.grad(f, mode=mode)(*args))
    assert isinstance(exc, UnsupportedSyntaxError), exc
    assert_points_at(exc, f.__name__, HERE)
    assert words in str(exc), str(exc)
