"""Control flow in reverse mode (issue 3): srcgrad.grad against central differences and autograd.

Every construct is exercised on each branch, with zero, one and many iterations where that
means something, and with respect to each differentiable argument. autograd is the oracle
wherever it can run the code: this module's ``np`` is swapped for ``autograd.numpy`` for the
duration of the call. autograd refuses ``A[i] = x`` and ``x.copy()`` on its boxes, so those
cases are checked against finite differences only.

Refusals carry a ``# MARK: name`` comment on the line the error must point at; the expected
line number is found by reading this file, never hard-coded.
"""

import contextlib
import inspect
import os
import re
import sys
import threading
import tracemalloc
import warnings

import autograd
import numpy as np
import oracle
import pytest

import srcgrad
from srcgrad import SrcGradError, UnsupportedSyntaxError

THIS = sys.modules[__name__]
THIS_FILE = os.path.abspath(__file__)
RNG = np.random.default_rng(3)


def randn(*shape):
    return RNG.standard_normal(shape)


# -- oracles ----------------------------------------------------------------------------


def autograd_numpy():
    """This module's ``np`` means autograd.numpy in the block."""
    return oracle.autograd_numpy(THIS)


def positions(f, wrt):
    params = list(inspect.signature(f).parameters)
    many = isinstance(wrt, tuple)
    items = wrt if many else (wrt,)
    return [params.index(w) if isinstance(w, str) else w % len(params) for w in items], many


def copy_arg(a):
    if isinstance(a, list):
        return [copy_arg(v) for v in a]
    return a.copy() if isinstance(a, np.ndarray) else a


def same_arg(a, b):
    if isinstance(a, list):
        return len(a) == len(b) and all(same_arg(u, v) for u, v in zip(a, b))
    return np.array_equal(a, b)


def numerical_grad(f, args, i, h=1e-6):
    """Central differences of ``f`` in argument ``i``; ``f`` always sees fresh copies."""
    x = np.array(args[i], dtype=np.float64)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        values = []
        for step in (h, -h):
            moved = x.copy()
            moved[idx] += step
            arg = moved if np.ndim(args[i]) else float(moved)
            rest = [copy_arg(a) for a in args]
            rest[i] = arg
            values.append(f(*rest))
        out[idx] = (values[0] - values[1]) / (2 * h)
    return out


def autograd_grad(f, args, i):
    with autograd_numpy(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input")
        return autograd.grad(f, i)(*[copy_arg(a) for a in args])


def check(f, args, wrt=0, *, use_autograd=True, rtol=1e-5, atol=1e-7):
    """srcgrad.grad(f, wrt) agrees with finite differences (and autograd), in shape and value;
    the gradient call leaves the caller's arrays as they were."""
    idx, many = positions(f, wrt)
    copies = [copy_arg(a) for a in args]
    grad_f = srcgrad.grad(f, wrt)
    got = grad_f(*args)
    for a, c in zip(args, copies):
        assert same_arg(a, c), "the gradient call modified an argument"
    got = got if many else (got,)
    assert len(got) == len(idx)
    for g, i in zip(got, idx):
        assert np.shape(g) == np.shape(args[i]), f"gradient shape {np.shape(g)} != argument shape"
        fd = numerical_grad(f, args, i)
        scale = max(1.0, float(np.max(np.abs(fd), initial=0.0)))
        assert np.allclose(g, fd, rtol=rtol, atol=atol * scale), (
            f"wrt {i}: srcgrad {g} != finite differences {fd}\ngenerated:\n{grad_f.source}"
        )
        if use_autograd:
            ag = autograd_grad(f, args, i)
            assert np.allclose(g, ag, rtol=1e-9, atol=1e-11), f"wrt {i}: srcgrad {g} != autograd {ag}"
    return got if many else got[0]


def cases(table):
    """Expand ``(f, make_args, wrts[, use_autograd])`` rows into one pytest param per wrt."""
    params = []
    for row in table:
        f, make_args, wrts = row[:3]
        use_autograd = row[3] if len(row) > 3 else True
        label = row[4] if len(row) > 4 else f.__name__
        for wrt in wrts:
            params.append(pytest.param(f, make_args, wrt, use_autograd, id=f"{label}-wrt={wrt}"))
    return params


CASE_ARGS = "f, make_args, wrt, use_autograd"


# == branches ===========================================================================


def if_else_on_value(x, w):
    if np.sum(x) > 0.0:
        y = np.sin(x) * w
    else:
        y = x**2 / w
    return np.sum(y * x)


def if_without_else(x, w):
    y = x * w
    if w > 1.0:
        y = np.exp(y) - w
    return np.sum(y**2)


def if_on_shape(x):
    if x.ndim == 2:
        y = np.sum(x, axis=0) ** 2
    elif x.shape[0] > 2:
        y = np.sin(x[:2]) * x[2]
    else:
        y = np.cos(x)
    return np.sum(y)


def nested_if(x, w):
    y = x
    if np.sum(x) > 0.0:
        if w > 0.0:
            y = x * w
        else:
            y = x - w
    else:
        if np.max(x) > -0.5:
            y = np.sin(x) * w**2
        else:
            y = np.cos(w * x)
    return np.sum(y * x)


def piecewise(x, a):
    if x < -1.0:
        y = a * (x + 1.0) - a
    elif x < 0.0:
        y = a * x**3
    elif x < 1.0:
        y = np.sin(a * x)
    else:
        y = a * np.log(x) + np.sin(a)
    return y * x


def conditional_expression(x, w):
    y = np.sin(x) * w if np.sum(x) > 0.0 else np.cos(x) - w
    z = y**2 if w > 0.5 else y * x
    return np.sum(z)


def and_or_conditions(x, w):
    y = x
    if np.sum(x) > 0.0 and w > 0.0:
        y = x * w
    elif np.sum(x) < -1.0 or w < -1.0:
        y = x / w
    if not w > 2.0:
        y = y * np.tanh(w)
    return np.sum(y**2)


def or_value(x, s):
    scale = s or 1.0
    return np.sum(scale * x**2)


def and_value(x, s):
    return np.sum((s and x) ** 3)


def early_return(x, w):
    if np.sum(x) < 0.0:
        return np.sum(x**2) * w
    y = np.sin(x) * w
    return np.sum(y)


def multiple_returns(x):
    if x < -1.0:
        return x**2
    elif x < 1.0:
        return np.sin(x) * 3.0
    else:
        return np.exp(-x)


def defined_in_one_branch(x, w):
    if np.sum(x) > 0.0:
        z = x**2 * w
    if np.sum(x) > 0.0:
        return np.sum(z)
    return np.sum(x) * w


NEG = [-0.9, 0.3, -0.3]
POS = [0.9, 0.3, 0.4]
VERY_NEG = [-0.9, -0.6, -0.8]

BRANCHES = [
    (if_else_on_value, lambda: [np.array(POS), 1.3], [0, 1], True, "if-true"),
    (if_else_on_value, lambda: [np.array(NEG), 1.3], [0, 1], True, "if-false"),
    (if_without_else, lambda: [np.array(POS), 1.3], [0, 1], True, "if-no-else-taken"),
    (if_without_else, lambda: [np.array(POS), 0.7], [0, 1], True, "if-no-else-skipped"),
    (if_on_shape, lambda: [randn(2, 3)], [0], True, "shape-ndim"),
    (if_on_shape, lambda: [randn(3)], [0], True, "shape-elif"),
    (if_on_shape, lambda: [randn(2)], [0], True, "shape-else"),
    (nested_if, lambda: [np.array(POS), 0.8], [0, 1], True, "nested-tt"),
    (nested_if, lambda: [np.array(POS), -0.8], [0, 1], True, "nested-tf"),
    (nested_if, lambda: [np.array(NEG), 0.8], [0, 1], True, "nested-ft"),
    (nested_if, lambda: [np.array(VERY_NEG), 0.8], [0, 1], True, "nested-ff"),
    (piecewise, lambda: [-2.0, 1.5], [0, 1], True, "piecewise-1"),
    (piecewise, lambda: [-0.5, 1.5], [0, 1], True, "piecewise-2"),
    (piecewise, lambda: [0.5, 1.5], [0, 1], True, "piecewise-3"),
    (piecewise, lambda: [2.0, 1.5], [0, 1], True, "piecewise-4"),
    (conditional_expression, lambda: [np.array(POS), 0.8], [0, 1], True, "ifexp-tt"),
    (conditional_expression, lambda: [np.array(NEG), 0.3], [0, 1], True, "ifexp-ff"),
    (and_or_conditions, lambda: [np.array(POS), 0.8], [0, 1], True, "and-true"),
    (and_or_conditions, lambda: [np.array(VERY_NEG), 0.8], [0, 1], True, "or-left"),
    (and_or_conditions, lambda: [np.array(POS), -1.5], [0, 1], True, "or-right"),
    (and_or_conditions, lambda: [np.array(NEG), 3.0], [0, 1], True, "neither-not"),
    (or_value, lambda: [np.array(POS), 1.7], [0, 1], True, "or-value-left"),
    (or_value, lambda: [np.array(POS), 0.0], [0], True, "or-value-right"),
    (and_value, lambda: [np.array(POS), 1.7], [0], True, "and-value"),
    (early_return, lambda: [np.array(VERY_NEG), 1.3], [0, 1], True, "early-return-taken"),
    (early_return, lambda: [np.array(POS), 1.3], [0, 1], True, "early-return-skipped"),
    (defined_in_one_branch, lambda: [np.array(POS), 1.3], [0, 1], True, "defined-in-branch-taken"),
    (defined_in_one_branch, lambda: [np.array(NEG), 1.3], [0, 1], True, "defined-in-branch-skipped"),
    (multiple_returns, lambda: [-2.0], [0], True, "returns-1"),
    (multiple_returns, lambda: [0.3], [0], True, "returns-2"),
    (multiple_returns, lambda: [2.0], [0], True, "returns-3"),
]


@pytest.mark.parametrize(CASE_ARGS, cases(BRANCHES))
def test_branches(f, make_args, wrt, use_autograd):
    check(f, make_args(), wrt, use_autograd=use_autograd)


# == loops ==============================================================================


def for_range(x, n):
    y = x
    for k in range(n):
        y = np.sin(y) * x + k
    return np.sum(y)


def for_range_start_stop_step(x, n):
    total = 0.0
    for k in range(1, n, 2):
        total = total + np.sum(x**k)
    return total


def for_over_rows(m, v):
    total = 0.0
    for row in m:
        total = total + np.tanh(row @ v)
    return total


def for_over_list(x, w):
    total = 0.0
    for term in [x, w * x, np.sin(x) * w]:
        total = total + np.sum(term**2)
    return total


def for_over_tuple(x, w):
    total = 1.0
    for term in (x, w, x * w):
        total = total * np.sum(term)
    return total


def for_over_argument_list(xs, w):
    total = 0.0
    for v in xs:
        total = total + np.sum(np.sin(v * w) * v)
    return total * w


def for_enumerate(x):
    total = 0.0
    for i, v in enumerate(x):
        total = total + (i + 1.0) * v**2
    return total


def for_enumerate_start(x, w):
    total = 0.0
    for i, v in enumerate(x, 1):
        total = total + np.sin(v * w) / i
    return total


def for_zip(xs, ys):
    total = 0.0
    for a, b in zip(xs, ys):
        total = total + np.sum(a * np.sin(b))
    return total


def for_zip_lists(x, w):
    total = 0.0
    for a, b in zip([x, x * w], [w, 2.0]):
        total = total + np.sum(a) * b
    return total


def while_counted(x, n):
    y = x
    i = 0
    while i < n:
        y = y * np.cos(y) + x
        i = i + 1
    return np.sum(y)


def while_data_dependent(x):
    y = x
    while np.max(np.abs(y)) > 0.1:
        y = y * 0.5 + 0.01 * np.sin(y)
    return np.sum(np.sin(y) * x)


def while_true_break(x, w):
    y = x
    k = 0
    while True:
        y = np.sin(y) * w + x
        k += 1
        if np.sum(y**2) > 6.0 or k >= 5:
            break
    return np.sum(y)


def nested_loops(x):
    y = x
    for i in range(3):
        for j in range(i):
            y = y * x + float(i * j)
        y = np.sin(y)
    return np.sum(y)


def pairwise_energy(pos, eps):
    n = pos.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            d = pos[i] - pos[j]
            r2 = np.sum(d * d)
            inv6 = 1.0 / r2**3
            energy = energy + 4.0 * eps * (inv6 * inv6 - inv6)
    return energy


def break_data_dependent(x, limit):
    total = 0.0
    for v in x:
        total = total + v**2
        if total > limit:
            break
    return total * np.sum(x)


def break_in_nested_loop(x):
    total = 0.0
    for i in range(3):
        for j in range(3):
            if j > i:
                break
            total = total + x[i] * x[j]
        total = np.sin(total)
    return total


def continue_mid_body(x, w):
    total = 0.0
    for i in range(x.shape[0]):
        t = x[i] * w
        if t < 0.0:
            continue
        total = total + np.sin(t) * x[i]
    return total


def continue_and_break(x):
    total = 0.0
    for v in x:
        if v < 0.0:
            continue
        total = total + v**2
        if total > 1.0:
            break
    return total


def while_continue_and_break(x):
    i = 0
    total = 0.0
    while i < x.shape[0]:
        v = x[i]
        i += 1
        if v < 0.0:
            continue
        total = total + v * v
        if total > 1.0:
            break
    return total


def break_in_inner_if(x):
    y = x
    for j in range(3):
        if j > 0:
            if x[0] > -0.5:
                break
            y = np.tanh(y)
    return np.sum(y)


def break_in_inner_if_then_more(x):
    y = x
    s = 0.0
    for j in range(3):
        if j > 0:
            if x[0] > -0.5:
                break
            y = np.tanh(y)
        s = s + np.sum(y)
    return s


def continue_in_inner_if(x):
    y = x
    for i in range(3):
        if i > 0:
            if np.sum(y) > 1.5:
                continue
        y = np.sin(y) * x
    return np.sum(y)


def reused_loop_variable(x, n):
    total = 0.0
    for j in range(n):
        total = total + x[j]
    for _ in range(2):
        for j in range(n):
            if x[j] > 0.0:
                break
            total = total * x[j]
    return total + np.sum(x)


def continue_in_while(x):
    y = 0.0
    i = 0
    while i < x.shape[0]:
        i += 1
        if i % 2 == 0:
            continue
        y = y + np.exp(x[i - 1]) * y + x[i - 1]
    return y


def tape_overwrites(x, w):
    y = x
    s = w
    for _ in range(4):
        s = np.sin(s) * np.sum(y)
        y = np.tanh(y * s + w)
        y = y * y
    return np.sum(y) + s


def carried_value_used_after_loop(x, z):
    y = x
    for _ in range(2):
        y = np.sin(y) * x
    return np.sum(y * z)


def loop_variable_used_after(x):
    y = x
    for k in range(3):  # noqa: B007
        y = y * x
    return np.sum(y) * k


def overwritten_in_loop(x, n):
    y = x  # the loop overwrites y without reading it: after the loop y is its last value
    for _ in range(n):
        y = np.sum(x**2) * 0.5
    return np.sum(y)


def overwritten_in_while(x):
    y = x
    i = 0
    while i < 2:
        y = np.sin(x) * float(i)
        i += 1
    return np.sum(y)


def first_assigned_in_inner_loop(x, w):
    y = x * w
    for n in range(3):
        for j in range(2 - n):  # 2, 1, then 0 iterations: the last t is the one from n = 1
            t = x[j] * w
        y = y * np.cos(t)
    return np.sum(y)


def first_assigned_in_while(x, w):
    y = x * w
    n = 0
    while n < 2 and np.sum(y) > 0.5:  # may not run at all
        for j in range(3):
            t = x[j] * w
        y = y * np.cos(t)
        n += 1
    return np.sum(y)


def first_assigned_then_break(x, w):
    y = x * w
    for j in range(2):
        t = np.tanh(y * x) * 2.0
        if x[j] > 0.5:
            y = np.sin(y) * x
        else:
            break  # t is the value from the top of this iteration
        if np.sum(y * x) > 2.0:
            continue
        t = np.tanh(y * x)
    return np.sum(y + t * x)


def loop_variable_of_an_empty_loop(x, w):
    y = x * w
    for j in range(0):  # noqa: B007 (leaves j unbound)
        y = y * 2.0
    n = 0
    while n < 2:
        for j in range(2):  # noqa: B007
            y = y * w
        y = y + x[j]
        n += 1
    return np.sum(y)


PAIRS = np.array([[0.0, 0.0], [1.1, 0.1], [0.2, 1.2], [1.3, 1.4]])

LOOPS = [
    (for_range, lambda: [randn(3), 0], [0], True, "range-0"),
    (for_range, lambda: [randn(3), 1], [0], True, "range-1"),
    (for_range, lambda: [randn(3), 5], [0], True, "range-5"),
    (for_range_start_stop_step, lambda: [randn(3), 1], [0], True, "range-step-0"),
    (for_range_start_stop_step, lambda: [randn(3), 2], [0], True, "range-step-1"),
    (for_range_start_stop_step, lambda: [randn(3), 7], [0], True, "range-step-3"),
    (for_over_rows, lambda: [randn(0, 3), randn(3)], [0, 1], True, "rows-0"),
    (for_over_rows, lambda: [randn(1, 3), randn(3)], [0, 1], True, "rows-1"),
    (for_over_rows, lambda: [randn(4, 3), randn(3)], [0, 1], True, "rows-4"),
    (for_over_list, lambda: [randn(3), 0.7], [0, 1], True, "list"),
    (for_over_tuple, lambda: [randn(3), 0.7], [0, 1], True, "tuple"),
    (for_over_argument_list, lambda: [[randn(2), randn(3)], 0.7], [1], True, "argument-list"),
    (for_over_argument_list, lambda: [[], 0.7], [1], True, "argument-list-empty"),
    (for_enumerate, lambda: [randn(0)], [0], True, "enumerate-0"),
    (for_enumerate, lambda: [randn(1)], [0], True, "enumerate-1"),
    (for_enumerate, lambda: [randn(4)], [0], True, "enumerate-4"),
    (for_enumerate_start, lambda: [randn(4), 0.6], [0, 1], True, "enumerate-start"),
    (for_zip, lambda: [randn(4), randn(4)], [0, 1], True, "zip"),
    (for_zip, lambda: [randn(4), randn(2)], [0, 1], True, "zip-unequal"),
    (for_zip, lambda: [randn(0), randn(3)], [0, 1], True, "zip-empty"),
    (for_zip, lambda: [randn(3, 2), randn(3, 2)], [0, 1], True, "zip-rows"),
    (for_zip_lists, lambda: [randn(3), 0.7], [0, 1], True, "zip-lists"),
    (while_counted, lambda: [randn(3), 0], [0], True, "while-0"),
    (while_counted, lambda: [randn(3), 1], [0], True, "while-1"),
    (while_counted, lambda: [randn(3), 4], [0], True, "while-4"),
    (while_data_dependent, lambda: [np.array([0.9, -2.3, 0.4])], [0], True, "while-data"),
    (while_data_dependent, lambda: [np.array([0.05, -0.02, 0.04])], [0], True, "while-data-0"),
    (while_true_break, lambda: [np.array([0.3, -0.2, 0.1]), 0.5], [0, 1], True, "while-true-count"),
    (while_true_break, lambda: [np.array([1.3, 1.2, 1.1]), 0.9], [0, 1], True, "while-true-data"),
    (nested_loops, lambda: [randn(3)], [0], True, "nested"),
    (pairwise_energy, lambda: [np.zeros((0, 2)), 0.7], [0, 1], True, "pairwise-0"),
    (pairwise_energy, lambda: [PAIRS[:1].copy(), 0.7], [0, 1], True, "pairwise-1"),
    (pairwise_energy, lambda: [PAIRS[:2].copy(), 0.7], [0, 1], True, "pairwise-2"),
    (pairwise_energy, lambda: [PAIRS.copy(), 0.7], [0, 1], True, "pairwise-4"),
    (break_data_dependent, lambda: [np.array([1.5, 0.2, 0.3]), 1.0], [0, 1], True, "break-first"),
    (break_data_dependent, lambda: [np.array([0.5, 0.6, 0.9, 0.3]), 1.0], [0, 1], True, "break-third"),
    (break_data_dependent, lambda: [np.array([0.1, 0.2, 0.3]), 1.0], [0, 1], True, "break-never"),
    (break_in_nested_loop, lambda: [randn(3)], [0], True, "break-nested"),
    (continue_mid_body, lambda: [np.array([0.5, -0.3, 0.8, -1.2]), 1.1], [0, 1], True, "continue"),
    (continue_mid_body, lambda: [np.array([0.5, -0.3, 0.8, -1.2]), -1.1], [0, 1], True, "continue-other"),
    (continue_in_while, lambda: [randn(5)], [0], True, "continue-while"),
    (break_in_inner_if, lambda: [np.array([0.8, 1.0, 0.2])], [0], True, "break-in-inner-if"),
    (break_in_inner_if, lambda: [np.array([-0.8, 1.0, 0.2])], [0], True, "break-in-inner-if-never"),
    (break_in_inner_if_then_more, lambda: [np.array([0.8, 1.0, 0.2])], [0], True, "break-inner-if-more"),
    (
        break_in_inner_if_then_more,
        lambda: [np.array([-0.8, 1.0, 0.2])],
        [0],
        True,
        "break-inner-if-more-never",
    ),
    (continue_in_inner_if, lambda: [np.array([1.2, 1.3, 0.9])], [0], True, "continue-in-inner-if"),
    (continue_in_inner_if, lambda: [np.array([-0.8, 0.1, 0.2])], [0], True, "continue-in-inner-if-never"),
    (continue_and_break, lambda: [np.array([0.5, -0.2, 0.3])], [0], True, "continue-break-never"),
    (reused_loop_variable, lambda: [np.array([-0.5, 0.3, 0.8]), 0], [0], True, "reused-loop-variable-0"),
    (reused_loop_variable, lambda: [np.array([-0.5, 0.3, 0.8]), 1], [0], True, "reused-loop-variable-1"),
    (reused_loop_variable, lambda: [np.array([-0.5, 0.3, 0.8]), 3], [0], True, "reused-loop-variable-3"),
    (continue_and_break, lambda: [np.array([0.5, -0.2, 0.9, 0.3])], [0], True, "continue-then-break"),
    (continue_and_break, lambda: [np.array([0.9, 0.8, -0.7])], [0], True, "break-before-continue"),
    (while_continue_and_break, lambda: [np.array([0.5, -0.2, 0.3])], [0], True, "while-continue-break-never"),
    (
        while_continue_and_break,
        lambda: [np.array([0.5, -0.2, 0.9, 0.3])],
        [0],
        True,
        "while-continue-then-break",
    ),
    (
        while_continue_and_break,
        lambda: [np.array([0.9, 0.8, -0.7])],
        [0],
        True,
        "while-break-before-continue",
    ),
    (tape_overwrites, lambda: [randn(3) * 0.5, 0.8], [0, 1], True, "tape"),
    (carried_value_used_after_loop, lambda: [randn(3), randn(3)], [0, 1, (0, 1)], True, "carried-after"),
    (loop_variable_used_after, lambda: [randn(3)], [0], True, "loop-variable-after"),
    (overwritten_in_loop, lambda: [randn(3), 0], [0], True, "overwritten-0"),
    (overwritten_in_loop, lambda: [randn(3), 2], [0], True, "overwritten-2"),
    (overwritten_in_while, lambda: [randn(3)], [0], True, "overwritten-while"),
    (first_assigned_in_inner_loop, lambda: [randn(3), 0.7], [0, 1], True, "first-assigned-inner"),
    (
        first_assigned_then_break,
        lambda: [np.array([0.7, 0.2, 0.1]), 0.4],
        [0, 1],
        True,
        "first-assigned-break",
    ),
    (
        first_assigned_then_break,
        lambda: [np.array([0.7, 0.9, 0.2]), 0.4],
        [0, 1],
        True,
        "first-assigned-no-break",
    ),
    (loop_variable_of_an_empty_loop, lambda: [randn(3), 0.7], [0, 1], True, "empty-loop-variable"),
    (first_assigned_in_while, lambda: [np.array([0.3, 0.5, 0.8]), 0.9], [0, 1], True, "first-assigned-while"),
    (
        first_assigned_in_while,
        lambda: [np.array([0.3, 0.5, 0.8]), -0.9],
        [0, 1],
        True,
        "first-assigned-while-0",
    ),
]


@pytest.mark.parametrize(CASE_ARGS, cases(LOOPS))
def test_loops(f, make_args, wrt, use_autograd):
    check(f, make_args(), wrt, use_autograd=use_autograd)


# == assignments: tuple unpacking, augmented, chained ====================================


def polar(x, y):
    r = np.sqrt(x**2 + y**2)
    return r, np.arctan2(y, x)


def unpack_helper_tuple(x, y):
    r, theta = polar(x, y)
    return np.sum(r * np.sin(theta) + r**2)


def unpack_swap(a, b):
    for _ in range(3):
        a, b = b, a * b + 1.0
    return a + 2.0 * b


def unpack_nested(x):
    (a, b), c = (x[0], x[1] * 2.0), np.sin(x[2])
    return a * b * c


def unpack_array_rows(m):
    first, second = m
    return np.sum(first * np.exp(second))


def augmented_every_kind(x, w):
    y = x * w
    y += w
    y -= np.sin(x)
    y *= w
    y /= 1.0 + x**2
    s = 0.0
    for v in x:
        s += v * w
        s *= 0.9 + v
        s -= 0.1 * v
        s /= 1.1 + w**2
    return np.sum(y) + s


def augmented_scalar(a, b):
    c = a
    c += b
    c *= a
    c -= b * 2.0
    c /= b
    c **= 2
    return c


def chained_assignment(x):
    a = b = x * 2.0
    a = a + np.sin(b)
    c = d = np.sum(a * b)
    return c * d


ASSIGNMENTS = [
    (unpack_helper_tuple, lambda: [randn(3), randn(3)], [0, 1], True, "unpack-helper"),
    (unpack_swap, lambda: [0.3, 0.7], [0, 1], True, "unpack-swap"),
    (unpack_nested, lambda: [randn(3)], [0], True, "unpack-nested"),
    (unpack_array_rows, lambda: [randn(2, 3)], [0], True, "unpack-rows"),
    (augmented_every_kind, lambda: [randn(3) * 0.5, 0.8], [0, 1], True, "augmented"),
    (augmented_scalar, lambda: [0.6, 1.3], [0, 1], True, "augmented-scalar"),
    (chained_assignment, lambda: [randn(3)], [0], True, "chained"),
]


@pytest.mark.parametrize(CASE_ARGS, cases(ASSIGNMENTS))
def test_assignments(f, make_args, wrt, use_autograd):
    check(f, make_args(), wrt, use_autograd=use_autograd)


# == in-place subscript assignment =======================================================


def set_items_in_loop(x):
    y = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        y[i] = x[i] ** 2
    return np.sum(y * np.sin(x))


def add_items_in_loop(x, w):
    y = np.ones(x.shape[0])
    for i in range(x.shape[0]):
        y[i] += x[i] * w
        y[i] *= x[i]
        y[i] -= w
        y[i] /= 1.0 + w**2
    return np.sum(y**2)


def slice_assignment(x):
    y = np.zeros(5)
    y[1:3] = x[:2] * 2.0
    y[3:] = np.sin(x[1:3])
    y[:1] = x[2] ** 2
    y[1:3] += y[3:]
    return np.sum(y * y)


def slices_in_loop(x):
    y = np.zeros(6)
    for k in range(3):
        y[2 * k : 2 * k + 2] = x[k] * np.arange(1.0, 3.0) + y[2 * k - 1]
    return np.sum(y**2)


def copy_then_write(x):
    z = x.copy()
    z[0] = z[1] * z[2]
    z[2] = 1.0
    return np.sum(z**2 * x)


def recurrence_in_place(x):
    y = np.ones(x.shape[0])
    y[0] = x[0]
    for i in range(1, x.shape[0]):
        y[i] = y[i - 1] * x[i] + np.sin(y[i - 1])
    return np.sum(y)


def matrix_items(x):
    n = x.shape[0]
    m = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            m[i, j] = x[i] * x[j] + i
        m[i, :] += np.sin(x)
    return np.sum(m @ x)


def overwrite_argument(x):
    x[0] = x[1] * 3.0
    return np.sum(x**2)


def in_place_with_branch(x, w):
    y = x.copy()
    for i in range(x.shape[0]):
        if y[i] > 0.0:
            y[i] = y[i] * w
        else:
            y[i] += w**2
    return np.sum(np.sin(y))


def in_place_break(x):
    y = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        y[i] = np.exp(x[i])
        if np.sum(y) > 2.0:
            break
    return np.sum(y * x)


IN_PLACE = [
    (set_items_in_loop, lambda: [randn(0)], [0], False, "set-items-0"),
    (set_items_in_loop, lambda: [randn(1)], [0], False, "set-items-1"),
    (set_items_in_loop, lambda: [randn(4)], [0], False, "set-items-4"),
    (add_items_in_loop, lambda: [randn(4), 0.7], [0, 1], False, "add-items"),
    (slice_assignment, lambda: [randn(3)], [0], False, "slices"),
    (slices_in_loop, lambda: [randn(3)], [0], False, "slices-in-loop"),
    (copy_then_write, lambda: [randn(3)], [0], False, "copy-then-write"),
    (recurrence_in_place, lambda: [randn(4)], [0], False, "recurrence"),
    (matrix_items, lambda: [randn(3)], [0], False, "matrix-items"),
    (overwrite_argument, lambda: [randn(3)], [0], False, "overwrite-argument"),
    (in_place_with_branch, lambda: [np.array([0.5, -0.3, 0.8]), 1.3], [0, 1], False, "branch"),
    (in_place_break, lambda: [np.array([0.1, -0.3, 0.2, 0.5, 0.4])], [0], False, "break"),
]


@pytest.mark.parametrize(CASE_ARGS, cases(IN_PLACE))
def test_in_place(f, make_args, wrt, use_autograd):
    check(f, make_args(), wrt, use_autograd=use_autograd)


@pytest.mark.parametrize(
    "f, make_args", [(row[0], row[1]) for row in IN_PLACE], ids=[row[4] for row in IN_PLACE]
)
def test_in_place_leaves_caller_arrays_unchanged(f, make_args):
    args = make_args()
    before = [copy_arg(a) for a in args]
    array_args = tuple(i for i, a in enumerate(args) if np.ndim(a) or isinstance(a, float))
    for operator in (srcgrad.grad, srcgrad.value_and_grad):
        operator(f, wrt=array_args)(*args)
        for a, b in zip(args, before):
            assert same_arg(a, b), f"{operator.__name__} modified an argument: {b} became {a}"


# -- aliasing: numpy's in-place semantics are visible through other names -----------------
# srcgrad may differentiate these or refuse them with a SrcGradError; a silently wrong
# gradient is a bug.


def alias_then_augment(x):
    y = x
    y *= 2.0
    return np.sum(x * y)


def alias_then_set_item(x):
    z = x
    z[0] = 2.0
    return np.sum(x * z)


def write_through_view(x):
    y = np.zeros(3)
    v = y[:2]
    v[0] = x[0]
    return np.sum(y * x)


def augment_after_append(x):
    parts = []
    y = x * 1.0
    for _ in range(3):
        parts.append(y)
        y += x
    return np.sum(np.stack(parts) ** 2)


@pytest.mark.parametrize(
    "f", [alias_then_augment, alias_then_set_item, write_through_view, augment_after_append]
)
def test_aliasing_is_differentiated_or_refused(f):
    x = np.array([1.0, 2.0, 3.0])
    try:
        got = srcgrad.grad(f)(x.copy())
    except SrcGradError:
        return
    want = numerical_grad(f, [x], 0)
    assert np.allclose(got, want, rtol=1e-5, atol=1e-6), (
        f"srcgrad {got} != finite differences {want}\n{srcgrad.grad(f).source}"
    )


# == lists ==============================================================================


def list_append_stack(x, w):
    parts = []
    for i in range(3):
        parts.append(x * (i + w))
    return np.sum(np.stack(parts) ** 2)


def list_array_sum_len_index(x):
    parts = [x[0], x[1] * x[2]]
    parts.append(np.sin(x[1]))
    mean = sum(parts) / len(parts)
    return np.sum(np.array(parts) ** 2) * mean + parts[-1] * parts[0]


def list_comprehension_condition(x):
    return np.sum(np.array([v**2 for v in x if v > 0.0]))


def stack_comprehension_condition(x):
    return np.sum(np.stack([v**2 for v in x if v > 0.0]) * 2.0)


def builtin_sum_of_comprehension(x):
    return sum([v**2 for v in x if v > 0.0])


def list_comprehension_index_condition(x):
    return np.sum(np.stack([x[i] * i for i in range(x.shape[0]) if i % 2 == 0]) ** 2)


def list_empty_then_sum(x, n):
    parts = []
    for i in range(n):
        parts.append(np.sin(x * i))
    return np.sum(sum(parts, np.sum(x) * 0.0))


LISTS = [
    (list_append_stack, lambda: [randn(3), 0.7], [0, 1], True, "append-stack"),
    (list_array_sum_len_index, lambda: [randn(3)], [0], True, "array-sum-len"),
    (list_comprehension_condition, lambda: [np.array([0.5, -0.3, 0.8, -1.2])], [0], True, "comp-cond"),
    (list_comprehension_condition, lambda: [np.array([-0.5, -0.3])], [0], True, "comp-cond-empty"),
    (stack_comprehension_condition, lambda: [np.array([0.5, -0.3, 0.8, -1.2])], [0], True, "stack-comp-cond"),
    (builtin_sum_of_comprehension, lambda: [np.array([0.5, -0.3, 0.8, -1.2])], [0], True, "sum-comp"),
    (list_comprehension_index_condition, lambda: [randn(5)], [0], True, "comp-index-cond"),
    (list_empty_then_sum, lambda: [randn(3), 0], [0], True, "sum-start-0"),
    (list_empty_then_sum, lambda: [randn(3), 3], [0], True, "sum-start-3"),
]


@pytest.mark.parametrize(CASE_ARGS, cases(LISTS))
def test_lists(f, make_args, wrt, use_autograd):
    check(f, make_args(), wrt, use_autograd=use_autograd)


# == helpers: keyword arguments, defaults, keyword-only parameters =======================


def scaled(x, scale=2.0, *, shift=0.5, power=2):
    return scale * x**power + shift


def calls_helper_with_keywords(x, s):
    a = scaled(x)
    b = scaled(x, s)
    c = scaled(x, scale=s, shift=s)
    d = scaled(shift=-s, power=3, x=x)
    return np.sum(a + b * c + d)


def helper_with_loop_and_branch(x, steps=3, *, damping=0.5):
    y = x
    for _ in range(steps):
        if np.sum(y) > 0.0:
            y = y - damping * np.sin(y)
        else:
            y = y + damping * y**2
    return y


def calls_helper_with_control_flow(x, d):
    return np.sum(helper_with_loop_and_branch(x) + helper_with_loop_and_branch(x, 2, damping=d))


HELPERS = [
    (calls_helper_with_keywords, lambda: [randn(3), 0.7], [0, 1], True, "keywords"),
    (calls_helper_with_control_flow, lambda: [randn(3), 0.3], [0, 1], True, "helper-control-flow"),
]


@pytest.mark.parametrize(CASE_ARGS, cases(HELPERS))
def test_helpers(f, make_args, wrt, use_autograd):
    check(f, make_args(), wrt, use_autograd=use_autograd)


def keyword_only_parameter(x, *, w=1.5):
    return np.sum(np.sin(x) * w)


def test_keyword_only_parameter_of_differentiated_function():
    x = randn(3)
    assert np.allclose(srcgrad.grad(keyword_only_parameter)(x), 1.5 * np.cos(x), rtol=1e-14)
    assert np.allclose(srcgrad.grad(keyword_only_parameter)(x, w=0.5), 0.5 * np.cos(x), rtol=1e-14)


# == pass-through statements ==============================================================


def pass_through(x):
    """A docstring is not a value."""
    assert x.shape == (3,), "three values"
    pass
    print("pass_through value", np.sum(x))
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x**2 + 1.0)
    assert np.all(np.isfinite(y))
    return np.sum(y * x)


def print_in_loop(x):
    y = x
    for k in range(3):
        print("print_in_loop step", k)
        y = np.sin(y) * x
    return np.sum(y)


def failing_assert(x):
    assert np.sum(x) > 100.0, "too small"
    return np.sum(x**2)


def test_pass_through_statements(capsys):
    x = randn(3)
    check(pass_through, [x])
    capsys.readouterr()
    srcgrad.grad(pass_through)(x)
    out = capsys.readouterr().out
    assert out.count("pass_through value") == 1, out


def test_print_runs_once_per_forward_iteration(capsys):
    x = randn(3)
    grad_f = srcgrad.grad(print_in_loop)
    capsys.readouterr()
    g = grad_f(x)
    out = capsys.readouterr().out
    assert out.splitlines() == [f"print_in_loop step {k}" for k in range(3)], out
    capsys.readouterr()
    assert np.allclose(g, numerical_grad(print_in_loop, [x], 0), rtol=1e-5, atol=1e-7)


def test_assert_still_checks_in_the_gradient():
    with pytest.raises(AssertionError, match="too small"):
        srcgrad.grad(failing_assert)(np.array([1.0, 2.0]))


# `del name` frees a value early; reading the name after it is refused, as Python would fail.


def del_then_use_other(x):
    y = np.sin(x)
    z = y * 2.0
    del y
    return np.sum(z * x)


def del_in_loop(x):
    s = 0.0
    for i in range(3):
        y = np.sin(x) * i
        s = s + np.sum(y)
        del y
    return s


def del_in_branch_unread(x):
    y = np.sin(x)
    z = y * y
    if np.sum(x) > 0:
        del y
    return np.sum(z)


def del_then_read(x):
    y = np.sin(x)
    del y
    return np.sum(y)  # noqa: F821 (the point of the test)


def del_in_branch_then_read(x):
    y = np.sin(x)
    if np.sum(x) > 0:
        del y
    return np.sum(y)


def del_read_next_iteration(x):
    y = x
    s = 0.0
    for _ in range(2):
        s = s + np.sum(y)
        del y
    return s


@pytest.mark.parametrize("f", [del_then_use_other, del_in_loop, del_in_branch_unread])
def test_del_frees_a_name(f):
    check(f, [randn(3)])


@pytest.mark.parametrize("f", [del_then_read, del_in_branch_then_read, del_read_next_iteration])
def test_reading_a_deleted_name_is_refused(f):
    with pytest.raises(UnsupportedSyntaxError, match=r"test_control_flow\.py:\d+: .*(del y|deletes y)"):
        srcgrad.grad(f)(randn(3))
    with pytest.raises(NameError):  # Python fails too (UnboundLocalError)
        f(np.abs(randn(3)) + 1.0)


# == programs mixing constructs ===========================================================


def rnn_loss(w, u, b, xs, h0):
    h = h0
    outs = []
    for t in range(xs.shape[0]):
        h = np.tanh(w @ h + u @ xs[t] + b)
        outs.append(h)
    hs = np.stack(outs)
    return np.sum(hs**2) / len(outs) + np.sum(h * h0)


def rnn_args(steps):
    return [randn(4, 4) * 0.5, randn(4, 2) * 0.5, randn(4) * 0.1, randn(steps, 2), randn(4) * 0.3]


def newton_cube_root(a):
    y = np.ones_like(a)
    for _ in range(30):
        y = y - (y**3 - a) / (3.0 * y**2)
    return np.sum(y)


def kepler_newton(m, e):
    big_e = m
    for _ in range(25):
        big_e = big_e - (big_e - e * np.sin(big_e) - m) / (1.0 - e * np.cos(big_e))
    return np.sum(big_e**2)


def accumulate_stats(xs, ys):
    total = 0.0
    weights = []
    for i, (a, b) in enumerate(zip(xs, ys)):
        if a * b < 0.0:
            continue
        w = np.exp(-0.5 * i) * a
        weights.append(w)
        total += w * b
        if total > 3.0:
            break
    return total + sum(weights)


def accumulate_stats_zip(xs, ys):
    total = 0.0
    weights = []
    i = 0
    for a, b in zip(xs, ys):
        i += 1
        if a * b < 0.0:
            continue
        w = np.exp(-0.5 * i) * a
        weights.append(w)
        total += w * b
        if total > 3.0:
            break
    return total + np.sum(np.stack(weights))


MIXED = [
    (rnn_loss, lambda: rnn_args(1), [0, 1, 2, 3, 4, (0, 1, 2)], True, "rnn-1"),
    (rnn_loss, lambda: rnn_args(5), [0, 1, 2, 3, 4, ("w", "h0")], True, "rnn-5"),
    (newton_cube_root, lambda: [np.array([0.5, 2.0, 8.0])], [0], True, "newton-cube-root"),
    (kepler_newton, lambda: [np.array([0.3, 1.2, 2.5]), 0.4], [0, 1], True, "kepler"),
    (accumulate_stats_zip, lambda: [np.array([0.5, -0.4, 1.2, 0.9]), np.array([0.8, 0.3, 0.7, 1.5])], [0, 1]),
    (
        accumulate_stats_zip,
        lambda: [np.array([2.5, 1.4, 1.2]), np.array([2.8, 3.0, 0.7])],
        [0, 1],
        True,
        "zip-break",
    ),
    (accumulate_stats, lambda: [np.array([0.5, -0.4, 1.2, 0.9]), np.array([0.8, 0.3, 0.7, 1.5])], [0, 1]),
    (
        accumulate_stats,
        lambda: [np.array([2.5, 1.4, 1.2]), np.array([0.8, 3.0, 0.7])],
        [0, 1],
        True,
        "stats-break",
    ),
]


@pytest.mark.parametrize(CASE_ARGS, cases(MIXED))
def test_mixed_programs(f, make_args, wrt, use_autograd):
    check(f, make_args(), wrt, use_autograd=use_autograd)


def test_newton_cube_root_closed_form():
    a = np.array([0.5, 2.0, 8.0])
    assert np.allclose(srcgrad.grad(newton_cube_root)(a), a ** (-2.0 / 3.0) / 3.0, rtol=1e-10)


def test_pairwise_energy_closed_form():
    pos = PAIRS[:2].copy()
    r2 = np.sum((pos[0] - pos[1]) ** 2)
    # E = 4 eps (r^-12 - r^-6); dE/dr2 = 4 eps (-6 r2^-7 + 3 r2^-4)
    de_dr2 = 4.0 * 0.7 * (-6.0 * r2**-7 + 3.0 * r2**-4)
    want = np.array([2.0 * (pos[0] - pos[1]), -2.0 * (pos[0] - pos[1])]) * de_dr2
    assert np.allclose(srcgrad.grad(pairwise_energy)(pos, 0.7), want, rtol=1e-10)


# == break really ends the loop in the generated code =====================================


def break_after_three(x):
    y = x
    for i in range(10**7):
        print("break_after_three step", i)
        y = np.sin(y) * x
        if i >= 2:
            break
    return np.sum(y)


def exactly_three(x):
    y = x
    for _ in range(3):
        y = np.sin(y) * x
    return np.sum(y)


def while_true_three(x):
    y = x
    i = 0
    while True:
        print("while_true_three step", i)
        y = np.sin(y) * x
        i += 1
        if i >= 3:
            break
    return np.sum(y)


@pytest.mark.parametrize("f", [break_after_three, while_true_three])
def test_break_stops_the_generated_loop(f, capsys):
    grad_f = srcgrad.grad(f)
    assert re.search(r"^\s+break$", grad_f.source, re.MULTILINE), grad_f.source
    x = np.array([0.4, -0.8, 1.1])
    capsys.readouterr()
    g = grad_f(x)
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 3, f"the generated loop ran {len(out.splitlines())} times"
    assert np.allclose(g, srcgrad.grad(exactly_three)(x), rtol=1e-14)
    assert np.allclose(g, numerical_grad(exactly_three, [x], 0), rtol=1e-5, atol=1e-7)


# == memory: the tape holds what the backward pass needs, per iteration run ===============


def traced_peak(run):
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_in_place_loop_tape_grows_linearly():
    # each iteration writes one element; keeping a copy of the whole array per iteration
    # on the tape costs n * n * 8 bytes (32 MB here) instead of O(n)
    n = 2000
    x = randn(n)
    grad_f = srcgrad.grad(set_items_in_loop)
    grad_f(x[:3])
    peak = traced_peak(lambda: grad_f(x))
    assert peak < 100 * n * 8, f"peak {peak / 1e6:.1f} MB for n={n}\n{grad_f.source}"


def test_break_loop_tape_grows_with_iterations_run():
    grad_f = srcgrad.grad(break_after_three)
    x = randn(1000)
    with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115
        grad_f(x)
        peak = traced_peak(lambda: grad_f(x))
    assert peak < 200 * x.nbytes, f"peak {peak / 1e6:.1f} MB"


# == refusals =============================================================================


def marked_line(marker, path=THIS_FILE):
    pattern = re.compile(rf"# MARK: {re.escape(marker)}(\s|$)")
    with open(path) as fh:
        hits = [(n, line) for n, line in enumerate(fh, 1) if pattern.search(line)]
    assert len(hits) == 1, f"marker {marker!r} found {len(hits)} times"
    return hits[0]


def refusal(run):
    try:
        run()
    except SrcGradError as exc:
        return exc
    pytest.fail("srcgrad accepted a function it should refuse")


def assert_points_at(exc, marker):
    lineno, text = marked_line(marker)
    assert exc.filename is not None and exc.filename.endswith(os.path.basename(THIS_FILE)), exc.filename
    assert exc.lineno == lineno, f"lineno {exc.lineno}, offending line is {lineno}:\n{exc}"
    code = text.split("# MARK:")[0].strip()
    assert code in str(exc), f"the message does not quote {code!r}:\n{exc}"


def generator_function(x):
    for k in range(3):
        yield x * k  # MARK: yield


def generator_in_loop_body(x):
    y = x
    for _ in range(2):
        y = y * 2.0
        if np.sum(y) > 100.0:
            y = yield y  # MARK: yield-in-loop
    return np.sum(y)


async def async_function(x):  # MARK: async
    return x * 2.0


def try_except(x):
    y = x
    for _ in range(2):
        try:  # MARK: try
            y = np.sin(y)
        except FloatingPointError:
            y = x
    return np.sum(y)


def try_finally(x):
    if np.sum(x) > 0.0:
        try:  # MARK: try-finally
            y = x * 2.0
        finally:
            pass
    else:
        y = x
    return np.sum(y)


TOTAL = 0.0


def global_write(x):
    global TOTAL  # MARK: global
    TOTAL = np.sum(x)
    return np.sum(x**2)


def make_nonlocal_writer():
    count = 0.0

    def nonlocal_write(x):
        nonlocal count  # MARK: nonlocal
        count = count + 1.0
        return np.sum(x**2)

    return nonlocal_write


def uses_eval(x):
    y = eval("x * 2.0")  # MARK: eval
    return np.sum(y)


def uses_exec(x):
    y = x * 2.0
    exec("z = 1")  # MARK: exec
    return np.sum(y)


def with_open(x):
    with open(os.devnull) as fh:  # MARK: with-open
        y = x * len(fh.name)
    return np.sum(y)


LOCK = threading.Lock()


def with_lock_in_loop(x):
    y = x
    for _ in range(2):
        with LOCK:  # MARK: with-lock
            y = y * 2.0
    return np.sum(y)


def recursion(x, n):
    if n == 0:
        return np.sum(x)
    return recursion(x * 2.0, n - 1)  # MARK: recursion


def ping(x, n):
    if n <= 0:
        return np.sum(x)
    return pong(x * 2.0, n - 1)  # MARK: ping


def pong(x, n):
    return ping(np.sin(x), n - 1)  # MARK: pong


X = np.array([0.5, 1.5, -0.7])

REFUSALS = [
    (generator_function, (X,), "yield"),
    (generator_in_loop_body, (X,), "yield-in-loop"),
    (async_function, (X,), "async"),
    (try_except, (X,), "try"),
    (try_finally, (X,), "try-finally"),
    (global_write, (X,), "global"),
    (make_nonlocal_writer(), (X,), "nonlocal"),
    (uses_eval, (X,), "eval"),
    (uses_exec, (X,), "exec"),
    (with_open, (X,), "with-open"),
    (with_lock_in_loop, (X,), "with-lock"),
]


@pytest.mark.parametrize("f, args, marker", REFUSALS, ids=[r[2] for r in REFUSALS])
def test_refusal(f, args, marker):
    exc = refusal(lambda: srcgrad.grad(f)(*args))
    assert isinstance(exc, UnsupportedSyntaxError), f"{type(exc).__name__}: {exc}"
    assert_points_at(exc, marker)


@pytest.mark.parametrize(
    "f, markers", [(recursion, ["recursion"]), (ping, ["ping", "pong"])], ids=["direct", "mutual"]
)
def test_recursion_is_refused_or_differentiated(f, markers):
    x = np.array([0.5, 1.5, -0.7])
    try:
        got = srcgrad.grad(f)(x, 3)
    except SrcGradError as exc:
        assert isinstance(exc, UnsupportedSyntaxError), f"{type(exc).__name__}: {exc}"
        hits = [m for m in markers if exc.lineno == marked_line(m)[0]]
        assert hits, f"lineno {exc.lineno} is none of the recursive calls:\n{exc}"
        assert_points_at(exc, hits[0])
        return
    assert np.allclose(got, numerical_grad(f, [x, 3], 0), rtol=1e-5, atol=1e-7)


# == a user's name that is also a generated name =========================================


def conditional_reads_shadowed_name(x, w):
    a = w
    if x[2] > 0.5:
        a = 2.0  # generated code names this value `a`, the merged one `a_1`
    return (a if a > 1.5 else a * 3.0) * np.sum(x)


@pytest.mark.parametrize("x2", [0.9, 0.1])
@pytest.mark.parametrize("w", [-0.9, 1.7])
def test_conditional_reads_the_users_name(x2, w):
    # `a if ... else ...` read the generated `a` (the other branch's 2.0): a wrong gradient, or
    # UnboundLocalError where that branch did not run
    check(conditional_reads_shadowed_name, [np.array([0.3, 0.2, x2]), w], (0, 1))


# == shapes ============================================================================


def matmul_in_the_output(x, w):
    s = x * w
    return x @ x + np.sum(s)  # x @ x is a number: x need not be one for the output to be


def index_with_an_expression(m, w):
    k = 1
    return np.sum(m[:, k % 3] * w) + np.sum(m[k + 1, :] ** 2)


@pytest.mark.parametrize(
    "f, args", [(matmul_in_the_output, [randn(3), 0.8]), (index_with_an_expression, [randn(3, 3), 0.6])]
)
def test_shapes_and_indices(f, args):
    # x @ x was taken for an elementwise product: w's gradient came back shaped like x;
    # m[:, k % 3] was generated as `index = (:, k % 3)`, a SyntaxError
    check(f, args, (0, 1))
    hessian = srcgrad.hessian(f, wrt=1)(*args)
    assert np.shape(hessian) == ()
