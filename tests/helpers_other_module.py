"""Helpers that srcgrad must inline from a module other than the differentiated function's.

numpy is imported under another alias, and the module has its own constants (one of them
shares its name with a constant of the test module, but not its value).
"""

import os

import numpy as onp

OFFSET = 0.25
SCALE = 0.5  # test_composite.py has a SCALE too, with another value


def _inner(z):
    return onp.log(1.0 + onp.exp(z))


def scaled_softplus(x, sharpness=2.0):
    return _inner(sharpness * x) / sharpness + OFFSET


def uses_module_scale(x):
    return SCALE * onp.sin(x)


WEIGHTS = onp.array([1.0, 2.0, 3.0])


def weighted_sum(x, weights=WEIGHTS):
    return onp.sum(weights * x**2)


def helper_with_loop(x):
    total = 0.0
    for k in range(3):
        total = total + x * k
    return total


def helper_with_with(x):
    with open(os.devnull) as _:  # MARK: other-with
        y = x * 2.0
    return y


def helper_without_rule(x):
    return onp.sum(onp.corrcoef(x, x * 2.0))  # MARK: other-no-rule
