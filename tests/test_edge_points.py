"""Derivatives at edge points (x ** y at 0, 0 ** y, the std of one element ...), first and
second order, in both modes: autograd's values (NaN or inf where autograd also gives them)."""

from __future__ import annotations

import types
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import srcgrad


def power_zero(x):
    return x**0.0


def power_zero_int(x):
    return x**0


def power_one(x):
    return x**1


def power_two(x):
    return x**2


def power_three(x):
    return x**3.0


def zero_to_the(y):
    return 0.0**y


def np_power_zero(x):
    return np.power(x, 0.0)


def np_power_one(x):
    return np.power(x, 1.0)


def np_zero_to_the(y):
    return np.power(0.0, y)


def x_to_the_y(x, y):
    return x**y


def std_one(x):
    return np.std(x)


def var_one(x):
    return np.var(x)


def std_of_one_element(x):
    return np.sum(np.std(x, axis=0))


def std_of_a_row(x):
    return np.std(x * 2.0, ddof=0)


def sqrt(x):
    return np.sqrt(x)


CASES = [
    (power_zero, 0.0),
    (power_zero_int, 0.0),
    (power_one, 0.0),
    (power_two, 0.0),
    (power_three, 0.0),
    (zero_to_the, 2.0),
    (zero_to_the, 1.0),
    (zero_to_the, 0.5),
    (zero_to_the, 0.0),
    (np_power_zero, 0.0),
    (np_power_one, 0.0),
    (np_zero_to_the, 2.0),
    (np_zero_to_the, 0.0),
    (std_one, 2.0),
    (var_one, 2.0),
    (std_one, np.array([2.0])),
    (var_one, np.array([2.0])),
    (std_of_one_element, np.array([[1.0, 2.0, 3.0]])),
    (std_of_a_row, np.array([[3.0]])),
    (power_two, np.array([0.0, 1.0, -2.0])),
    (zero_to_the, np.array([0.0, 1.0, 2.5])),
]


def _autograd(f):
    return types.FunctionType(f.__code__, {**f.__globals__, "np": anp}, f.__name__)


def _same(got, want):
    np.testing.assert_allclose(
        np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-12, atol=0
    )


def _ids(case):
    return f"{case[0].__name__}-{np.ravel(case[1]).tolist()}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_first_and_second_derivatives_as_autograd(case):
    f, x = case
    scalar = np.ndim(x) == 0 or f in (std_one, var_one, std_of_one_element, std_of_a_row)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = autograd.grad(_autograd(f) if scalar else _autograd(_sum_source(f)))(x)
        second = autograd.hessian(_autograd(f) if scalar else _autograd(_sum_source(f)))(x)
    g = f if scalar else _sum_source(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same(srcgrad.grad(g)(x), first)
        _same(srcgrad.grad(g, mode="forward")(x), first)
        _same(srcgrad.hessian(g)(x), second)
        if np.ndim(x) == 0:
            _same(srcgrad.grad(srcgrad.grad(g))(x), second)
            _same(srcgrad.grad(srcgrad.grad(g), mode="forward")(x), second)


_SUMMED = {}


def _sum_source(f):
    """``np.sum(f(x))`` as a function with source (srcgrad reads it)."""
    if f not in _SUMMED:
        summed = {
            power_two: summed_power_two,
            zero_to_the: summed_zero_to_the,
        }[f]
        _SUMMED[f] = summed
    return _SUMMED[f]


def summed_power_two(x):
    return np.sum(power_two(x))


def summed_zero_to_the(x):
    return np.sum(zero_to_the(x))


def test_sqrt_at_zero():
    """autograd raises ZeroDivisionError (0.0 ** -0.5); srcgrad's derivative is inf, as JAX's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert srcgrad.grad(sqrt)(0.0) == np.inf
        assert srcgrad.grad(sqrt, mode="forward")(0.0) == np.inf
    with pytest.raises(ZeroDivisionError):
        autograd.grad(_autograd(sqrt))(0.0)


@pytest.mark.parametrize("at", [(0.0, 2.0), (0.0, 0.0), (0.0, 1.0), (2.0, 0.0), (0.5, 3.0)])
def test_power_in_both_arguments(at):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = autograd.grad(_autograd(x_to_the_y), (0, 1))(*at)
        want_h = autograd.hessian(_autograd(x_to_the_y))(*at)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same(srcgrad.grad(x_to_the_y, (0, 1))(*at), want)
        _same(srcgrad.grad(x_to_the_y, (0, 1), mode="forward")(*at), want)
        _same(srcgrad.hessian(x_to_the_y)(*at), want_h)


def test_generated_code_of_a_literal_power_is_unchanged():
    source = srcgrad.grad(power_two).source
    assert "np.where" not in source and "2.0 * x" in source
    assert "np.where(y, y - 1, 1.0)" in srcgrad.grad(x_to_the_y).source
