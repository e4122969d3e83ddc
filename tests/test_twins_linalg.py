"""Linear algebra under ``jit=True``: the products numba lacks, as srcgrad gives them to numba
(``np.inner`` of vectors and matrices, ``np.tensordot`` with integer axes, ``np.linalg.multi_dot``
of matrices) give numpy's values and shapes; the decompositions' twins take the outputs of
numba's own decompositions (tuples, Fortran-ordered arrays) and refuse what the helpers refuse.
(tests/test_twins.py compares each twin with its helper.)"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")  # (the [test] extra installs it: this runs in CI)

import numba  # noqa: E402
from test_twins import numba_eig_is_complex  # noqa: E402

from srcgrad import SrcGradError  # noqa: E402
from srcgrad.jit import numba_module  # noqa: E402
from srcgrad.runtime import cholesky_vjp, eig_vjp, eigh_vjp, qr_vjp, svd_vjp  # noqa: E402

RNG = np.random.default_rng(3)


def inner(a, b):
    return np.inner(a, b)


def tensordot(a, b):
    return np.tensordot(a, b)


def tensordot_0(a, b):
    return np.tensordot(a, b, 0)


def tensordot_1(a, b):
    return np.tensordot(a, b, axes=1)


CASES = [
    (inner, (3,), (3,)),
    (inner, (2, 3), (3,)),
    (inner, (3,), (4, 3)),
    (inner, (2, 3), (4, 3)),
    (tensordot, (3, 4), (3, 4)),
    (tensordot, (2, 3, 4), (3, 4, 5)),
    (tensordot, (2, 3, 4), (3, 4)),
    (tensordot_0, (3,), (2, 2)),
    (tensordot_1, (2, 3), (3, 4, 2)),
    (tensordot_1, (4,), (4,)),
]


@pytest.mark.parametrize("fn, a, b", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_numpy_values(fn, a, b):
    numba_module()  # (registers srcgrad's overloads)
    x, y = RNG.normal(size=a), RNG.normal(size=b)
    got, want = numba.njit(fn)(x, y), fn(x, y)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_mismatched_shapes_are_an_error_not_a_value():
    numba_module()
    with pytest.raises(ValueError):  # (numpy: shape-mismatch for sum; the sizes agree, 6 == 6)
        numba.njit(tensordot)(np.ones((2, 3)), np.ones((3, 2)))


def test_what_numba_is_not_given_stays_refused():
    numba_module()
    with pytest.raises(numba.core.errors.TypingError):
        numba.njit(lambda a, b: np.tensordot(a, b, ([1], [0])))(np.ones((2, 3)), np.ones((3, 2)))


def singular_values(a):
    return np.linalg.svd(a, compute_uv=False)


def test_singular_values():
    numba_module()
    a = RNG.normal(size=(4, 3))
    np.testing.assert_allclose(numba.njit(singular_values)(a), singular_values(a), rtol=1e-13)


def expand_dims(a):
    return np.expand_dims(a * 2.0, (-2, -1))


def test_expand_dims_of_a_number():
    numba_module()
    got = numba.njit(expand_dims)(1.5)
    assert got.shape == expand_dims(1.5).shape == (1, 1) and got[0, 0] == 3.0


def multi_dot(a, b, c):
    return np.linalg.multi_dot([a, b, c])


def test_multi_dot():
    numba_module()
    x, y, z = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2))
    np.testing.assert_allclose(numba.njit(multi_dot)(x, y, z), multi_dot(x, y, z), rtol=1e-13)


# The adjoints as generated code computes them, with the adjoint of a decomposition a tuple
# (zeros for the outputs not used), as items_grad makes it.


def d_eigh(x, gw, gv):
    ans = np.linalg.eigh(x)
    return eigh_vjp((gw, gv), ans)


def d_svd(x, gu, gs, gvh):
    ans = np.linalg.svd(x)
    return svd_vjp((gu, gs, gvh), ans, x)


def d_reduced_svd(x, gu, gs, gvh):
    ans = np.linalg.svd(x, full_matrices=False)
    return svd_vjp((gu, gs, gvh), ans, x, False)


def d_qr(x, gq, gr):
    ans = np.linalg.qr(x)
    return qr_vjp((gq, gr), ans, x)


def d_eig(x, gw, gu):
    ans = np.linalg.eig(x)
    return eig_vjp((gw, gu), ans, x)


def d_cholesky(x, g):
    return cholesky_vjp(g, np.linalg.cholesky(x))


A33 = RNG.normal(size=(3, 3))
SPD = A33 @ A33.T + np.eye(3)
REAL_EIGENVALUES = A33 @ np.diag([1.0, 2.0, 4.0]) @ np.linalg.inv(A33)
DECOMPOSITIONS = [
    (d_eigh, (SPD, RNG.normal(size=3), RNG.normal(size=(3, 3)))),
    (d_eigh, (SPD, RNG.normal(size=3), np.zeros((3, 3)))),
    (d_svd, (A33, RNG.normal(size=(3, 3)), RNG.normal(size=3), RNG.normal(size=(3, 3)))),
    (
        d_reduced_svd,
        (RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=3), RNG.normal(size=(3, 3))),
    ),
    (
        d_reduced_svd,
        (RNG.normal(size=(3, 4)), RNG.normal(size=(3, 3)), RNG.normal(size=3), RNG.normal(size=(3, 4))),
    ),
    (d_qr, (RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=(3, 3)))),
    (d_eig, (REAL_EIGENVALUES, RNG.normal(size=3), RNG.normal(size=(3, 3)))),
    (d_cholesky, (SPD, RNG.normal(size=(3, 3)))),
]


@pytest.mark.parametrize("fn, args", DECOMPOSITIONS, ids=lambda c: getattr(c, "__name__", ""))
def test_adjoints_of_numbas_decompositions(fn, args):
    numba_module()
    if fn is d_eig and numba_eig_is_complex():
        with pytest.raises(numba.core.errors.TypingError):  # (eig's twins take real outputs)
            numba.njit(fn)(*args)
        return
    np.testing.assert_allclose(numba.njit(fn)(*args), fn(*args), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "fn, args",
    [
        (d_svd, (RNG.normal(size=(3, 4)), np.ones((3, 3)), np.ones(3), np.ones((4, 4)))),
        (d_qr, (RNG.normal(size=(3, 4)), np.ones((3, 3)), np.ones((3, 4)))),
    ],
    ids=["full svd of a wide matrix", "qr of a wide matrix"],
)
def test_what_the_helpers_refuse_the_twins_refuse(fn, args):
    numba_module()
    with pytest.raises(SrcGradError):
        fn(*args)
    with pytest.raises(SrcGradError, match="srcgrad differentiates np.linalg"):
        numba.njit(fn)(*args)
