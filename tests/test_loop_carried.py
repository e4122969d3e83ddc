"""Values and adjoints that cross loop iterations (docs/loops.md): every class of loop program
that once gave a silently wrong gradient or a crash, checked in reverse mode, forward mode and
second order, against autograd where it can run the code and central differences otherwise.

Each function is the smallest form of one class; the arguments include loops that run zero
times. The Hessian is checked against central differences of srcgrad's (checked) gradient.
"""

import sys
import warnings

import autograd
import numpy as np
import oracle
import pytest

import srcgrad

THIS = sys.modules[__name__]
X = np.array([-0.722, -0.043, -0.209])
W = 0.402


def assigned_not_read(x, w):  # the example: u is the last iteration's value
    for _ in range(3):
        u = x * 1.0
    return np.sum(u) + w * np.sum(x)


def assigned_not_read_zip(x, w):
    c = 0.0
    for a, b in zip(x, x * w):  # noqa: B007 (a is read after the loop)
        c = w * b
    return c * np.sum(x) + a


def swap(x, w):
    a = x * 1.0
    b = x * w
    for _ in range(3):
        a, b = b, a
    return np.sum(a) + 2.0 * np.sum(b)


def swap_scaled(x, w):
    a = x * 1.0
    b = w
    for _ in range(3):
        a, b = b, a * 2.0
    return np.sum(a) + 3.0 * np.sum(b)


def rotation(x, w):
    u, v, t = x[0], x[1] * w, x[2]
    for _ in range(4):
        v, u, t = u, t * w, v
    return u + 2.0 * v + 3.0 * t


def scalar_then_array(x, w):
    u = w
    s = 0.0
    for _ in range(3):
        u = np.concatenate([x[:1] * w, x[1:]])
        s = s + np.sum(u * x)
    return s + np.sum(u)


def scalar_then_array_n(x, w, n):
    z = np.cos(x[-1]) * w
    for _ in range(n):
        z = np.zeros_like(x) + x * w
    return np.sum(z) * w


def subscript_in_tuple_target(x, w):
    v = x * 1.0
    b = w
    for i in range(3):
        v[i], b = i * 0.25 * b, v[i]
    return np.sum(v) * b


def nested_unpacking(x, w, n):
    a, b, c = w, x[0], x[1]
    for _ in range(n):
        (a, b), c = (b, a * c), c * w
    return a * b + c


def zero_trip(x, w, n):
    s = w
    for i in range(n):
        s = s * x[i]
    return s * np.sum(x)


def scalars_appended(x, w):
    items = []
    for i in range(3):
        items.append(x[i] * w)
    return sum(items) * w


def growing_slice_in_branch(x, w):
    s = 0.0
    for i in range(1, 4):
        y = x[:i] * w  # a new shape every iteration
        if i % 2 == 0:
            s = s + np.sum(y)
    return s * w


def first_assigned_in_branch(x, w):
    s = w
    for i in range(3):
        if x[i] > -0.1:
            t = x[i] * w
        s = s + t * t if i > 0 else s
    return s


def while_break_swap(x, w):
    a, b = x[0] * w, x[1]
    n = 0
    while True:
        if n >= 3:
            break
        a, b = b * w, a
        n += 1
    return a * b


def reversed_list(x, w):
    xs = [x[0], x[1] * w, x[2]]
    s = 0.0
    for v in reversed(xs):
        s = s * w + v
    return s


def inner_range_per_iteration(x, w):
    s = w
    for i in range(3):
        for j in range(i):  # the inner loop's range is saved for each outer iteration
            s = s * np.cos(x[j]) + w
    return s


def list_concatenation(x, w):
    items = [x[0] * w]
    for i in range(2):
        items = items + [x[i + 1] * items[-1]]
    return sum(items)


def comprehension_in_loop(x, w):
    s = w
    for _ in range(2):
        c = [np.cos(v) for v in x]  # v is the comprehension's own name, not the loop's
        s = s * sum(c)
    return s


def return_in_loop(x, w):
    for i in range(3):
        if x[i] * w > -0.2:
            return x[i] * w
    return w * 0.5


def return_in_nested_loops(x, w):
    s = w
    for i in range(3):
        for j in range(3):
            s = s * np.cos(x[j]) + x[i]
            if s > 0.8:
                return s * x[j]
    return s


def return_in_with(x, w):
    for i in range(3):
        with np.errstate(all="ignore"):
            if x[i] * w < 0.0:
                return np.sqrt(-x[i] * w)
    return w


def return_in_while(x, w):
    k = 0
    s = w
    while True:
        s = np.sin(s) + x[k % 3]
        k += 1
        if k > 4:
            return s * w


def dead_loop_overflows(x, w):
    z = x * w
    for _ in range(12):
        with np.errstate(over="ignore", invalid="ignore"):
            z = z * z * 1e30  # inf: but nothing after the loop reads z
    z = np.sum(x * w)
    return z


def list_of_arrays_and_numbers(x, w):
    acc = [np.sin(x * w)]
    k = 0
    while k < 2:
        k += 1
        acc.append(0.9 * w)
        z = w
        for _ in range(1):
            (w, z), x = (z, w), x * 0.9
    return np.sum(x) + w + (np.sum(np.stack(acc[:1])) if w > 5.0 else 0.0)


def swapped_with_the_iterated(x, w):
    z = x.copy()
    for _i, e in enumerate(z):  # noqa: B007 (e is read after the loop)
        z, x = x, z
        x = x + w  # a rebinding: the iterated array is untouched (`x += w` is refused)
    return e * np.sum(x)


CASES = [
    (assigned_not_read, ()),
    (assigned_not_read_zip, ()),
    (swap, ()),
    (swap_scaled, ()),
    (rotation, ()),
    (scalar_then_array, ()),
    (scalar_then_array_n, (0,)),
    (scalar_then_array_n, (2,)),
    (subscript_in_tuple_target, ()),
    (nested_unpacking, (0,)),
    (nested_unpacking, (3,)),
    (zero_trip, (0,)),
    (zero_trip, (2,)),
    (scalars_appended, ()),
    (growing_slice_in_branch, ()),
    (first_assigned_in_branch, ()),
    (while_break_swap, ()),
    (reversed_list, ()),
    (inner_range_per_iteration, ()),
    (list_concatenation, ()),
    (comprehension_in_loop, ()),
    (return_in_loop, ()),
    (return_in_nested_loops, ()),
    (return_in_while, ()),
    (return_in_with, ()),
    (dead_loop_overflows, ()),
    (list_of_arrays_and_numbers, ()),
    (swapped_with_the_iterated, ()),
]
IDS = [f"{f.__name__}{extra}" for f, extra in CASES]


def expected(f, args, i):
    """autograd's gradient where it runs f (no writes into arrays), else central differences."""
    try:
        with oracle.autograd_numpy(THIS), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Output seems independent of input")
            return autograd.grad(f, i)(*args), 1e-9
    except (TypeError, ValueError, NotImplementedError, AttributeError):
        return oracle.numeric_grad(f, [a.copy() if isinstance(a, np.ndarray) else a for a in args], i), 1e-5


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("f, extra", CASES, ids=IDS)
def test_gradient(f, extra, mode):
    args = (X.copy(), W, *extra)
    got = srcgrad.grad(f, wrt=(0, 1), mode=mode)(*args)
    for g, i in zip(got, (0, 1)):
        want, rtol = expected(f, args, i)
        assert np.shape(g) == np.shape(args[i])
        np.testing.assert_allclose(g, want, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(args[0], X)  # the caller's array is untouched


@pytest.mark.parametrize("f, extra", CASES, ids=IDS)
def test_second_order(f, extra):
    args = (X.copy(), W, *extra)
    hessian = srcgrad.hessian(f, wrt=1)(*args)
    slope = srcgrad.grad(f, wrt=1)
    want = oracle.numeric_grad(lambda x, w: slope(x, w, *extra), [X.copy(), W], 1)
    np.testing.assert_allclose(hessian, want, rtol=1e-5, atol=1e-6)


def updates_the_iterated_through_a_swap(x, w):
    z = x.copy()
    for _, e in enumerate(z):  # noqa: B007 (e is read after the loop)
        z, x = x, z
        x += w  # the iterator's array, changed in place under another name  # MARK: iterated
    return e


def test_in_place_update_of_the_iterated_array_is_refused():
    # Python's iterator sees the change; srcgrad's generated code updates a copy: refused, not wrong
    for mode in ("reverse", "forward"):
        with pytest.raises(srcgrad.SrcGradError, match="in-place update"):
            srcgrad.grad(updates_the_iterated_through_a_swap, mode=mode)(X.copy(), W)
