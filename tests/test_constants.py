"""Nothing unknown is a constant: an index, an object or an operator that srcgrad cannot prove
non-differentiable is differentiated (``np.r_``, ``np.c_``) or refused, never a zero gradient.

Gradients are checked against central finite differences and autograd (on the same
concatenations written with ``np.concatenate``), in both modes; refusals as in test_errors.py.
"""

import os
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from oracle import numeric_grad
from test_errors import assert_points_at, refusal

import srcgrad
from srcgrad import NoRuleError, UnsupportedSyntaxError

MODES = ["reverse", "forward"]


def r_scalars_and_vectors(x):
    return np.sum(np.r_[x, x**2] * np.r_[x[0], 2.0, x[1:], 3, -x[2]])


def r_scalars_and_vectors_oracle(x):
    a = anp.concatenate([x, x**2])
    b = anp.concatenate([anp.atleast_1d(x[0]), anp.array([2.0]), x[1:], anp.array([3.0]), -x[2:]])
    return anp.sum(a * b)


def r_ranges(x):
    return np.sum(np.r_[0:3, x, 5:2:-1, 1.0:2.0:3j][:10] ** 2 * np.r_[x, x, x, 1.0])


def r_ranges_oracle(x):
    whole = anp.concatenate([anp.arange(0, 3), x, anp.arange(5, 2, -1), anp.linspace(1.0, 2.0, 3)])
    return anp.sum(whole[:10] ** 2 * anp.concatenate([x, x, x, anp.array([1.0])]))


def r_axis(x):
    m = np.outer(x, x)
    return np.sum(np.r_["-1", m, m**2] ** 3) + np.sum(np.r_["0", m, np.sin(m)] * 2.0)


def r_axis_oracle(x):
    m = anp.outer(x, x)
    return anp.sum(anp.concatenate([m, m**2], axis=-1) ** 3) + anp.sum(
        anp.concatenate([m, anp.sin(m)], axis=0) * 2.0
    )


def r_one_piece(x):
    return np.r_[x[1]][0] * np.sum(np.r_[x])


def r_one_piece_oracle(x):
    return x[1] * anp.sum(x)


def c_columns(x):
    weights = np.arange(1.0, 1.0 + 3 * x.shape[0]).reshape(x.shape[0], 3)
    return np.sum(np.c_[x, np.sin(x), 0:3] ** 2 * weights)


def c_columns_oracle(x):
    n = x.shape[0]
    weights = anp.arange(1.0, 1.0 + 3 * n).reshape(n, 3)
    cols = anp.concatenate([x[:, None], anp.sin(x)[:, None], anp.arange(0, 3)[:, None]], axis=-1)
    return anp.sum(cols**2 * weights)


def c_matrix_and_scalars(x):
    m = np.outer(x, x)
    return np.sum(np.c_[m, x] ** 3) + np.sum(np.c_[x[0], 2.0, x[1]] * np.r_[1.0, 2.0, 3.0])


def c_matrix_and_scalars_oracle(x):
    m = anp.outer(x, x)
    row = anp.array([x[0], 2.0, x[1]])
    return anp.sum(anp.concatenate([m, x[:, None]], axis=-1) ** 3) + anp.sum(row * anp.array([1.0, 2.0, 3.0]))


CASES = [
    (r_scalars_and_vectors, r_scalars_and_vectors_oracle),
    (r_ranges, r_ranges_oracle),
    (r_axis, r_axis_oracle),
    (r_one_piece, r_one_piece_oracle),
    (c_columns, c_columns_oracle),
    (c_matrix_and_scalars, c_matrix_and_scalars_oracle),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f, oracle", CASES, ids=[f.__name__ for f, _ in CASES])
def test_index_concatenators_are_differentiated(f, oracle, mode):
    x = np.array([0.5, -1.25, 2.0])
    assert np.isclose(f(x), oracle(x))
    got = srcgrad.grad(f, mode=mode)(x)
    np.testing.assert_allclose(got, autograd.grad(oracle)(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, numeric_grad(f, (x,), 0), rtol=1e-6, atol=1e-6)
    assert np.any(got != 0.0)


def test_index_concatenators_second_order():
    x = np.array([0.5, -1.25, 2.0])
    for f, oracle in CASES:
        np.testing.assert_allclose(
            srcgrad.hessian(f)(x), autograd.hessian(oracle)(x), rtol=1e-9, atol=1e-9, err_msg=f.__name__
        )


def test_index_concatenator_source_reads_as_a_concatenation():
    source = srcgrad.grad(r_scalars_and_vectors).source
    code = [line for line in source.splitlines() if not line.strip().startswith("#")]
    assert any("np.concatenate(" in line for line in code)
    assert not any("np.r_" in line for line in code)


def constant_concatenation(x):
    return np.sum(np.r_[0:3, 5] * x)  # inactive: computed as written


def test_constant_concatenation_stays_as_written():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    grad = srcgrad.grad(constant_concatenation)
    np.testing.assert_array_equal(grad(x), np.r_[0:3, 5])
    assert "np.r_[0:3, 5]" in grad.source


class Squares:
    def __getitem__(self, k):
        return k * k

    def __call__(self, k):
        return np.sin(k)


S = Squares()
with warnings.catch_warnings():  # np.matrix is deprecated: exactly why srcgrad must not guess its `*`
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    M = np.matrix([[1.0, 2.0], [3.0, 4.0]])


def getitem_of_object(x):
    return np.sum(S[x])  # MARK: getitem_of_object


def getitem_called(x):
    return np.sum(S.__getitem__(x)) + np.sum(S.__call__(x))


def call_of_object(x):
    return np.sum(S(x))  # MARK: call_of_object


def getitem_of_local(x):
    T = S
    return np.sum(T[x])  # MARK: getitem_of_local


def s_of_active(x):
    return np.sum(np.s_[x])  # MARK: s_of_active


def mgrid_of_active(x):
    return np.sum(np.mgrid[0 : x[0]])  # MARK: mgrid_of_active


def r_matrix_directive(x):
    return np.sum(np.r_["r", x, x])  # MARK: r_matrix_directive


def c_directive(x):
    return np.sum(np.c_["0", x, x])  # MARK: c_directive


def r_late_directive(x):
    return np.sum(np.r_[x, "0"])  # MARK: r_late_directive


def r_active_bound(x):
    return np.sum(np.r_[x[0] : 3.0])  # MARK: r_active_bound


def r_unknown_step(x, n):
    return np.sum(np.r_[x, 0:3:n])  # MARK: r_unknown_step


def matrix_operand(x):
    return np.sum(M * x)  # MARK: matrix_operand


REFUSED = [
    (
        getitem_of_object,
        "getitem_of_object",
        UnsupportedSyntaxError,
        ["S[x]", "Squares object", "S.__getitem__(x)"],
    ),
    (call_of_object, "call_of_object", NoRuleError, ["for S, a", "Squares object", "S.__call__(...)"]),
    (getitem_of_local, "getitem_of_local", UnsupportedSyntaxError, ["T[x]", "only known when the code runs"]),
    (s_of_active, "s_of_active", UnsupportedSyntaxError, ["np.s_[x]"]),
    (mgrid_of_active, "mgrid_of_active", UnsupportedSyntaxError, ["np.mgrid[0:x[0]]"]),
    (r_matrix_directive, "r_matrix_directive", UnsupportedSyntaxError, ["directive 'r'"]),
    (c_directive, "c_directive", UnsupportedSyntaxError, ["np.c_ with the directive '0'"]),
    (r_late_directive, "r_late_directive", UnsupportedSyntaxError, ["must come first"]),
    (r_active_bound, "r_active_bound", UnsupportedSyntaxError, ["bounds depend on the differentiated"]),
    (r_unknown_step, "r_unknown_step", UnsupportedSyntaxError, ["a step that is not an integer literal"]),
    (matrix_operand, "matrix_operand", UnsupportedSyntaxError, ["M * x", "numpy.matrix object"]),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f, marker, cls, words", REFUSED, ids=[r[1] for r in REFUSED])
def test_unknown_objects_are_refused(f, marker, cls, words, mode):
    x = np.array([0.5, 1.5])
    args = (x, 3) if f is r_unknown_step else (x,)
    exc = refusal(lambda: srcgrad.grad(f, mode=mode)(*args))
    assert isinstance(exc, cls), exc
    assert_points_at(exc, marker, os.path.abspath(__file__))
    for word in words:
        assert word in str(exc), f"{word!r} not in:\n{exc}"
    assert "object at 0x" not in str(exc)  # the object as the source names it, never its repr


@pytest.mark.parametrize("mode", MODES)
def test_methods_called_explicitly_are_differentiated(mode):
    x = np.array([0.5, 1.5])
    expected = 2 * x + np.cos(x)
    np.testing.assert_allclose(srcgrad.grad(getitem_called, mode=mode)(x), expected, rtol=1e-12)


def index_into_constants(x):
    # an index into an array, a list or a tuple selects: its derivative is zero
    return np.sum(TABLE[x.astype(int)] * x) + ITEMS[int(x[0])] * x[1] + (1.0, 2.0)[x.astype(int)[1]]


TABLE = np.array([3.0, 5.0, 7.0])
ITEMS = [10.0, 20.0, 30.0]


@pytest.mark.parametrize("mode", MODES)
def test_index_into_arrays_and_lists_selects(mode):
    x = np.array([1.25, 0.5])
    expected = TABLE[x.astype(int)] + np.array([0.0, ITEMS[1]])
    np.testing.assert_allclose(srcgrad.grad(index_into_constants, mode=mode)(x), expected)


def index_into_parameter(x, table):
    return np.sum(table[x.astype(int)] * x)  # MARK: index_into_parameter


def test_index_into_a_parameter_is_refused():
    """``table`` may be any object when the code runs: an active index into it is refused."""
    exc = refusal(lambda: srcgrad.grad(index_into_parameter)(np.array([1.25, 0.5]), TABLE))
    assert isinstance(exc, UnsupportedSyntaxError)
    assert_points_at(exc, "index_into_parameter", os.path.abspath(__file__))
    assert "srcgrad.stop_gradient" in str(exc)
