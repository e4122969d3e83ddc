"""Forward mode (issue 4): tangents, ``grad(..., mode="forward")``, ``jvp`` and ``vjp``.

Every rule is checked in both modes against finite differences by tests/test_rules.py; here
forward mode must agree with reverse mode on every control-flow function of the project's
tests (branches, loops with break and continue, in-place ``y[i] = ...``, lists), and the
JAX-style ``jvp`` and ``vjp`` must have JAX's shapes and autograd's values.
"""

import sys

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import test_composite

import srcgrad

try:  # the control-flow suite of issue 3
    import test_control_flow
except ImportError:  # pragma: no cover
    test_control_flow = None

THIS = sys.modules[__name__]
RNG = np.random.default_rng(4)


def randn(*shape):
    return RNG.standard_normal(shape)


def same(a, b, rtol=1e-9, atol=1e-12):
    """Equal values and shapes, also for tuples of arrays."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and all(map(same, a, b))
    return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=rtol, atol=atol)


# -- forward and reverse agree on the project's control-flow functions ----------------------


def control_flow_cases():
    rows = [("composite", f, make_args, 0) for f, make_args in test_composite.CONTROL_FLOW]
    tables = ("BRANCHES", "LOOPS", "ASSIGNMENTS", "IN_PLACE", "LISTS", "HELPERS", "MIXED")
    for table in tables if test_control_flow is not None else ():
        for row in getattr(test_control_flow, table, []):
            f, make_args, wrts = row[:3]
            label = row[4] if len(row) > 4 else f.__name__
            rows += [(label, f, make_args, wrt) for wrt in wrts]
    return [pytest.param(f, make_args, wrt, id=f"{label}-wrt={wrt}") for label, f, make_args, wrt in rows]


@pytest.mark.parametrize("f, make_args, wrt", control_flow_cases())
def test_forward_agrees_with_reverse_on_control_flow(f, make_args, wrt):
    args = make_args()
    copies = [test_composite.np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    try:
        want = srcgrad.grad(f, wrt)(*args)
    except srcgrad.SrcGradError:
        pytest.skip("reverse mode refuses this function")
    except Exception as reverse_error:  # a reverse-mode bug: compare with finite differences
        many = isinstance(wrt, tuple)
        indices, _ = test_composite.positions(f, wrt)
        want = tuple(test_composite.numerical_grad(f, args, i) for i in indices)
        want = want if many else want[0]
        forward_grad = srcgrad.grad(f, wrt, mode="forward")
        try:
            got = forward_grad(*args)
        except type(reverse_error):
            pytest.skip(f"the normalized primal code fails in both modes: {reverse_error}")
        assert same(got, want, rtol=1e-5, atol=1e-7), f"forward {got} != finite differences {want}"
        return
    forward_grad = srcgrad.grad(f, wrt, mode="forward")
    got = forward_grad(*args)
    assert same(got, want), f"forward {got} != reverse {want}\n{forward_grad.source}"
    for a, c in zip(args, copies):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, c), "forward mode modified an argument"


# -- the generated code ----------------------------------------------------------------------


def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


TANH_TANGENT = """\
def tangent_tanh(x, *, t_x):
    # y = np.exp(-2.0 * x)   [test_forward.py:{first}]
    y = np.exp(-2.0 * x)
    t_y = -2.0 * t_x * y
    # return (1.0 - y) / (1.0 + y)   [test_forward.py:{second}]
    sub = 1.0 - y
    add = 1.0 + y
    div = sub / add
    t_div = -t_y / add - t_y * sub / add ** 2
    if check_scalar(div, 'test_forward.py:{second}'):
        return np.reshape(t_div, ())
    return t_div
"""


def test_tutorial_tanh_tangent_code():
    first = tanh.__code__.co_firstlineno + 1
    source = srcgrad.grad(tanh, mode="forward").source
    assert source.startswith(TANH_TANGENT.format(first=first, second=first + 1)), source
    assert "for t_x in unit_vectors(x)" in source
    assert srcgrad.grad(tanh, mode="forward")(1.0) == pytest.approx(0.419974341614026, rel=1e-14)


def test_jvp_code_returns_value_and_tangent_without_helpers():
    fn = srcgrad.api._tangent_function(tanh, None, srcgrad.parse.parse_function(tanh), ["x"], "both", False)[
        0
    ]
    assert "def jvp_tanh(x, *, t_x):" in fn.source
    assert "return (div, t_div)" in fn.source
    assert "expand" not in fn.source and "unbroadcast" not in fn.source and "tape" not in fn.source


def test_generated_forward_code_is_deterministic():
    first = srcgrad.grad(test_composite.mlp_loss, wrt=("w1", "b2"), mode="forward").source
    srcgrad.cache.clear()
    assert srcgrad.grad(test_composite.mlp_loss, wrt=("w1", "b2"), mode="forward").source == first


def loop_and_branch(x, n):
    total = 0.0
    for k in range(n):
        if k % 2 == 0:
            total = total + np.sum(np.sin(x * k))
        else:
            total = total * 0.5
    return total


def test_loops_and_branches_stay_as_they_are_without_a_tape():
    source = srcgrad.grad(loop_and_branch, mode="forward").source
    assert "tape" not in source
    assert "for k in steps:" in source and "if cond:" in source
    x = randn(3)
    assert same(srcgrad.grad(loop_and_branch, mode="forward")(x, 5), srcgrad.grad(loop_and_branch)(x, 5))


# -- grad(mode="forward") ----------------------------------------------------------------------


def vector_out(x):
    return np.sin(x) * 2.0


def tuple_out(x):
    return x, 2.0 * x


def test_non_scalar_output_is_refused_like_reverse_mode():
    with pytest.raises(srcgrad.NonScalarOutputError, match="scalar") as forward:
        srcgrad.grad(vector_out, mode="forward")(randn(3))
    with pytest.raises(srcgrad.NonScalarOutputError, match="scalar") as reverse:
        srcgrad.grad(vector_out)(randn(3))
    assert forward.value.lineno == reverse.value.lineno == vector_out.__code__.co_firstlineno + 1


def test_tuple_output_is_refused():
    with pytest.raises(srcgrad.NonScalarOutputError, match="scalar"):
        srcgrad.grad(tuple_out, mode="forward")(randn(3))


def two_args(x, w, *, scale=2.0):
    return np.sum(np.tanh(x * w) * scale) + np.sum(w**3)


@pytest.mark.parametrize("wrt", [0, 1, "w", (0, 1), ("w",), ("w", "x")])
def test_forward_grad_wrt_forms(wrt):
    x, w = randn(3), randn(3)
    got = srcgrad.grad(two_args, wrt, mode="forward")(x, w, scale=0.5)
    want = srcgrad.grad(two_args, wrt)(x, w, scale=0.5)
    assert same(got, want)


def test_forward_grad_decorator_and_value_and_grad():
    @srcgrad.grad(wrt="w", mode="forward")
    def dw(x, w):
        return np.sum(x * w**2)

    x, w = randn(3), randn(3)
    assert same(dw(x, w), 2 * x * w)
    value, grads = srcgrad.value_and_grad(two_args, (0, 1), mode="forward")(x, w)
    assert value == pytest.approx(two_args(x, w), rel=1e-14)
    assert same(grads, srcgrad.grad(two_args, (0, 1))(x, w))


def test_forward_grad_keeps_float32_and_scalars():
    x = np.linspace(-1.0, 1.0, 4, dtype=np.float32)
    got = srcgrad.grad(test_composite.float32_loss, mode="forward")(x)
    assert got.dtype == np.float32
    assert np.allclose(got, srcgrad.grad(test_composite.float32_loss)(x), rtol=1e-5)
    assert np.ndim(srcgrad.grad(tanh, mode="forward")(0.5)) == 0


def test_elementwise_grad_has_a_forward_mode_for_elementwise_functions():
    x = randn(4)
    got = srcgrad.elementwise_grad(vector_out, mode="forward")(x)
    assert same(got, srcgrad.elementwise_grad(vector_out)(x))  # more in test_longtail.py
    with pytest.raises(srcgrad.SrcGradError):
        srcgrad.grad(tanh, mode="sideways")


# -- jvp and vjp -------------------------------------------------------------------------------


def matrix_map(A, x):
    return np.tanh(A @ x) + np.sum(A) * x[0]


def autograd_version(f):
    """Run ``f`` with this module's ``np`` meaning autograd.numpy."""

    def run(*args):
        saved, THIS.np = THIS.np, anp
        try:
            return f(*args)
        finally:
            THIS.np = saved

    return run


def test_jvp_shapes_and_values():
    A, x = randn(4, 3), randn(3)
    tA, tx = randn(4, 3), randn(3)
    out, tangent = srcgrad.jvp(matrix_map, (A, x), (tA, tx))
    assert same(out, matrix_map(A, x))
    jac_A = autograd.jacobian(autograd_version(matrix_map), 0)(A, x)
    jac_x = autograd.jacobian(autograd_version(matrix_map), 1)(A, x)
    want = np.tensordot(jac_A, tA, axes=2) + jac_x @ tx
    assert tangent.shape == (4,)
    assert same(tangent, want)


def test_jvp_scalar_and_integer_primals():
    out, tangent = srcgrad.jvp(tanh, (0.3,), (2.0,))
    assert out == pytest.approx(np.tanh(0.3)) and tangent == pytest.approx(2.0 * (1 - np.tanh(0.3) ** 2))
    out, tangent = srcgrad.jvp(test_composite.loop_power, (np.array([0.5, -1.0]), 3), (np.ones(2), 0))
    assert tangent == pytest.approx(np.sum(3 * np.array([0.5, -1.0]) ** 2))


def test_jvp_needs_one_tangent_per_primal():
    with pytest.raises(srcgrad.SrcGradError, match="tangent"):
        srcgrad.jvp(tanh, (0.3,), ())


def test_vjp_shapes_and_values():
    A, x = randn(4, 3), randn(3)
    out, pullback = srcgrad.vjp(matrix_map, A, x)
    assert same(out, matrix_map(A, x))
    g = randn(4)
    grads = pullback(g)
    assert isinstance(grads, tuple) and len(grads) == 2
    assert grads[0].shape == A.shape and grads[1].shape == x.shape
    jac_A = autograd.jacobian(autograd_version(matrix_map), 0)(A, x)
    jac_x = autograd.jacobian(autograd_version(matrix_map), 1)(A, x)
    assert same(grads[0], np.tensordot(g, jac_A, axes=1))
    assert same(grads[1], g @ jac_x)
    assert "def vjp_matrix_map(A, x, *, g):" in pullback.source


def test_vjp_one_primal_and_tuple_outputs():
    _, pullback = srcgrad.vjp(tanh, 0.3)
    (d,) = pullback(1.0)
    assert d == pytest.approx(1 - np.tanh(0.3) ** 2)
    x = randn(3)
    out, pullback = srcgrad.vjp(tuple_out, x)
    assert isinstance(out, tuple)
    (d,) = pullback((np.ones(3), np.full(3, 2.0)))
    assert same(d, np.full(3, 5.0))


def test_vjp_integer_primal_gets_zeros():
    x = np.array([0.5, -1.0])
    _, pullback = srcgrad.vjp(test_composite.loop_power, x, 3)
    dx, dn = pullback(1.0)
    assert same(dx, 3 * x**2) and np.all(dn == 0)


def test_readme_forward_listing_is_current():
    from pathlib import Path

    from srcgrad.cli import load_module

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    marker = "<!-- the forward-mode listing of examples/tanh_slope.py:tanh"
    listing = readme[readme.index(marker) :].split("```python\n", 1)[1].split("```", 1)[0]
    module = load_module(str(root / "examples" / "tanh_slope.py"))
    assert listing == srcgrad.grad(module.tanh, mode="forward").source
