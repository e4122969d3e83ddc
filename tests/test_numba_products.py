"""The products numba lacks, as srcgrad gives them to ``jit=True`` code (``np.inner`` of vectors
and matrices, ``np.tensordot`` with integer axes): numpy's values, numpy's shapes."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")  # (the [test] extra installs it: this runs in CI)

import numba  # noqa: E402

from srcgrad.jit import numba_module  # noqa: E402

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


def multi_dot(a, b, c):
    return np.linalg.multi_dot([a, b, c])


def test_multi_dot():
    numba_module()
    x, y, z = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2))
    np.testing.assert_allclose(numba.njit(multi_dot)(x, y, z), multi_dot(x, y, z), rtol=1e-13)
