"""Reductions: the builtin sum, max and min (ties share), prod (exact where entries are zero,
to the third derivative), the NaN-ignoring forms, average, median, quantiles, trapezoid and
logsumexp. Each gives the adjoint, or the derivative's weights, shaped like the input.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..twins import (
    flat_of,
    is_array,
    is_complex_type,
    is_number,
    is_numeric,
    literal,
    reduced_axes,
    result_scalar,
    rows_layout,
    sum_to_kernel,
    twin,
    with_kept_axes,
)
from .arrays import _normalize_axes, grad_dtype
from .broadcasting import _keepdims, expand, unbroadcast
from .checks import _call, refuse

__all__ = [
    "sum_vjp",
    "sum_all",
    "extremum_grad",
    "extremum_jvp",
    "prod_vjp",
    "prod_jvp",
    "prod_others_jvp",
    "prod_others_jvp2",
    "nan_weights",
    "average_share",
    "median_weights",
    "nan_median_weights",
    "trapezoid_weights",
    "logsumexp_weights",
    "quantile_vjp",
    "quantile_jvp",
    "quantile_vjp_q",
    "quantile_jvp_q",
]


def sum_vjp(g: Any, items: Any) -> list:
    """The adjoint of the builtin ``sum(items)``: ``g`` for every item, summed to its shape."""
    return [unbroadcast(g, item) for item in items]


@twin(sum_vjp)
def _sum_vjp(g, items):
    from numba.core import types

    if isinstance(items, (types.List, types.UniTuple)) and is_numeric(items.dtype) and is_numeric(g):
        return lambda g, items: [unbroadcast(g, item) for item in items]
    return None


def sum_all(gs: Any, v: Any) -> Any:
    """The adjoint of ``sum_vjp(v, items)`` with respect to ``v``: every piece copied back and added."""
    total = np.zeros_like(v, dtype=grad_dtype(v, 1.0))
    for piece in gs:
        total = total + expand(piece, v)
    return total


def extremum_grad(g: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of max/min: ``g`` shared equally among the entries that attain it."""
    hit = x == _keepdims(ans, x, axis, keepdims)
    share = np.true_divide(hit, np.sum(hit, axis=axis, keepdims=True), dtype=grad_dtype(x, g))
    return _keepdims(g, x, axis, keepdims) * share


@twin(extremum_grad)
def _extremum_grad(g, x, ans, axis=None, keepdims=False):
    if is_number(x) and is_number(g):  # (the maximum of a number is that number)
        return lambda g, x, ans, axis=None, keepdims=False: g
    if not is_array(x):
        return None
    axes = reduced_axes(x.ndim, axis, keepdims)
    if axes and len(set(axes)) == x.ndim and is_number(g):  # (every axis: a whole reduction)
        axes = None
    if axes is None and is_number(g) and is_number(ans):

        def whole(g, x, ans, axis=None, keepdims=False):
            hit = x == ans
            return g * (hit / hit.sum())

        return whole
    if not axes or not is_array(g):
        return None
    kept, sum_to = with_kept_axes(x.ndim, axes), sum_to_kernel()

    def impl(g, x, ans, axis=None, keepdims=False):
        shape = kept(x.shape)
        hit = x == np.broadcast_to(np.ascontiguousarray(ans).reshape(shape), x.shape)
        count = sum_to(hit.astype(np.float64), shape)
        spread = np.ascontiguousarray(g).reshape(shape) / count
        return hit * np.broadcast_to(spread, x.shape)

    return impl


def extremum_jvp(t: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The tangent of max/min: the mean tangent of the entries that attain it."""
    hit = x == _keepdims(ans, x, axis, keepdims)
    count = np.sum(hit, axis=axis, keepdims=True)
    return np.sum(t * hit / count, axis=axis, keepdims=keepdims)


def _reduced(x, axis, keepdims):
    """For a reduction of the array type ``x`` over ``axis``: a compiled ``shaped(values, x)``
    giving one value per row (``rows_layout``'s rows) the reduction's shape (a number for a
    whole reduction without keepdims), None where ``axis`` or ``keepdims`` is not a constant."""
    import numba
    from numba.np.unsafe.ndarray import to_fixed_tuple

    keepdims = literal(keepdims)
    axes = reduced_axes(x.ndim, axis, keepdims) if is_array(x) else False
    if axes is False or not isinstance(keepdims, bool):
        return None
    axes = tuple(range(x.ndim)) if axes is None else axes
    if not keepdims and len(set(axes)) == x.ndim:
        return numba.njit(lambda values, x: values[0])
    kept = np.array([i not in axes or keepdims for i in range(x.ndim)])
    size = int(kept.sum())

    @numba.njit
    def shaped(values, x):
        shape, k = np.empty(size, np.int64), 0
        for i in range(x.ndim):
            if kept[i]:
                shape[k] = x.shape[i] if i not in axes else 1
                k += 1
        return values.reshape(to_fixed_tuple(shape, size))

    return shaped


@twin(extremum_jvp)
def _extremum_jvp(t, x, ans, axis=None, keepdims=False):
    layout, shaped = rows_layout(x.ndim, axis) if is_array(x) else None, _reduced(x, axis, keepdims)
    if layout is None or shaped is None or not (is_array(t) and t.ndim == x.ndim) or is_complex_type(x):
        return None
    to_rows, _ = layout
    flat_ans, scalar = flat_of(ans), np.result_type(result_scalar(t), np.int64).type  # (t * hit / count)

    def impl(t, x, ans, axis=None, keepdims=False):  # the mean tangent of the entries that attain it
        rows, ts, best = to_rows(x), to_rows(np.broadcast_to(t, x.shape)), flat_ans(ans)
        out = np.zeros(rows.shape[0], scalar)
        for r in range(rows.shape[0]):
            count = (rows[r] == best[r]).sum()
            for i in range(rows.shape[1]):
                if rows[r, i] == best[r]:
                    out[r] += ts[r, i] / count
        return shaped(out, x)

    return impl


def _prod_layout(x: Any, axis: Any) -> tuple:
    """``x`` with the reduced axes moved last and flattened into one: ``(flat, moved shape, axes, last)``."""
    axes = _normalize_axes(axis, np.ndim(x))
    last = tuple(range(np.ndim(x) - len(axes), np.ndim(x)))
    moved = np.moveaxis(x, axes, last)
    flat = np.reshape(moved, np.shape(moved)[: np.ndim(x) - len(axes)] + (-1,))
    return flat, np.shape(moved), axes, last


def _prod_others(x: Any, axis: Any) -> Any:
    """For each entry of ``x``, the product of the *other* entries of its reduction.

    Computed from products before and after each entry (``cumprod``), not as ``ans / x``,
    so it is exact where ``x`` has zeros.
    """
    flat, shape, axes, last = _prod_layout(x, axis)
    ones = np.ones_like(flat[..., :1])
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return np.moveaxis(np.reshape(before * after, shape), last, axes)


def prod_vjp(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of ``np.prod``: ``g`` times the product of the *other* entries."""
    return _prod_others(x, axis) * _keepdims(g, x, axis, keepdims)


@functools.cache
def others_kernel() -> Any:
    """``others_of(row, others)``: each entry of ``others`` the product of ``row``'s other
    entries, without dividing (exact where a zero is), for the twins of ``prod_vjp`` and
    ``prod_jvp``; compiled on first use."""
    import numba

    @numba.njit
    def others_of(row, others):
        before = row.dtype.type(1)
        for i in range(row.shape[0]):
            others[i] = before
            before *= row[i]
        after = row.dtype.type(1)
        for i in range(row.shape[0] - 1, -1, -1):
            others[i] *= after
            after *= row[i]

    return others_of


@twin(prod_vjp)
def _prod_vjp(g, x, axis=None, keepdims=False):
    if is_number(x) and is_number(g):  # (the product of one number)
        return lambda g, x, axis=None, keepdims=False: g * 1.0
    if is_array(x) and (is_array(g) or literal(axis) is not None):  # (g: one entry per row)
        return _prod_vjp_rows(g, x, axis)
    if not (is_array(x) and is_number(g) and literal(axis) is None):
        return None
    others_of = others_kernel()

    def impl(g, x, axis=None, keepdims=False):  # exact where x has zeros: products before and after
        flat = np.ascontiguousarray(x).reshape(-1)
        others = np.empty_like(flat)
        others_of(flat, others)
        return others.reshape(x.shape) * g

    return impl


def _prod_vjp_rows(g, x, axis):
    """``prod_vjp``'s twin for an array ``g``: a row of products for each of its entries."""
    scalar, layout = result_scalar(x, g), rows_layout(x.ndim, axis)
    if scalar is None or layout is None:
        return None
    to_rows, from_rows = layout
    flat_g, others_of = flat_of(g), others_kernel()

    def impl(g, x, axis=None, keepdims=False):  # the products before and after each entry
        rows, gs = to_rows(x), flat_g(g)
        out, others = np.empty(rows.shape, scalar), np.empty(rows.shape[1], rows.dtype)
        for r in range(rows.shape[0]):
            others_of(rows[r], others)
            out[r] = others * gs[r]
        return from_rows(out, x)

    return impl


def prod_jvp(t: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The tangent of ``np.prod``: each entry's tangent times the product of the other entries."""
    return np.sum(_prod_others(x, axis) * t, axis=axis, keepdims=keepdims)


@twin(prod_jvp)
def _prod_jvp(t, x, axis=None, keepdims=False):
    layout, shaped = rows_layout(x.ndim, axis) if is_array(x) else None, _reduced(x, axis, keepdims)
    if (
        layout is None
        or shaped is None
        or not (is_array(t) and t.ndim == x.ndim)
        or result_scalar(x, t) is None
    ):
        return None
    to_rows, _ = layout
    scalar, others_of = result_scalar(x, t), others_kernel()

    def impl(t, x, axis=None, keepdims=False):  # each tangent times the product of the other entries
        rows, ts = to_rows(x), to_rows(np.broadcast_to(t, x.shape))
        out, others = np.zeros(rows.shape[0], scalar), np.empty(rows.shape[1], rows.dtype)
        for r in range(rows.shape[0]):
            others_of(rows[r], others)
            out[r] = (others * ts[r]).sum()
        return shaped(out, x)

    return impl


def prod_others_jvp(x: Any, t: Any, axis: Any = None) -> Any:
    """The tangent of ``_prod_others(x, axis)`` (the second derivative of ``np.prod``), zeros included.

    Products before each entry grow as ``before[i + 1] = before[i] * x[i]``, so their tangents
    follow ``d_before[i + 1] = d_before[i] * x[i] + before[i] * t[i]``; likewise after it.
    The operator is symmetric, so it is its own adjoint.
    """
    flat, shape, axes, last = _prod_layout(x, axis)
    tflat = np.reshape(np.moveaxis(t, axes, last), np.shape(flat))
    n = np.shape(flat)[-1]
    before, after = np.ones_like(flat), np.ones_like(flat)
    d_before, d_after = np.zeros_like(tflat), np.zeros_like(tflat)
    for i in range(1, n):
        before[..., i] = before[..., i - 1] * flat[..., i - 1]
        d_before[..., i] = d_before[..., i - 1] * flat[..., i - 1] + before[..., i - 1] * tflat[..., i - 1]
        j = n - 1 - i
        after[..., j] = after[..., j + 1] * flat[..., j + 1]
        d_after[..., j] = d_after[..., j + 1] * flat[..., j + 1] + after[..., j + 1] * tflat[..., j + 1]
    return np.moveaxis(np.reshape(d_before * after + before * d_after, shape), last, axes)


@twin(prod_others_jvp)
def _prod_others_jvp(x, t, axis=None):
    scalar = result_scalar(x, t)
    layout = rows_layout(x.ndim, axis) if is_array(x) and is_array(t) and t.ndim == x.ndim else None
    if layout is None or scalar is None:
        return None
    to_rows, from_rows = layout

    def impl(x, t, axis=None):  # the products before and after each entry, and their tangents
        xs, ts = to_rows(x), to_rows(t)
        n = xs.shape[1]
        out = np.empty(xs.shape, scalar)
        before, after = np.ones(n, scalar), np.ones(n, scalar)
        d_before, d_after = np.zeros(n, scalar), np.zeros(n, scalar)
        for r in range(xs.shape[0]):
            for i in range(1, n):
                before[i] = before[i - 1] * xs[r, i - 1]
                d_before[i] = d_before[i - 1] * xs[r, i - 1] + before[i - 1] * ts[r, i - 1]
                j = n - 1 - i
                after[j] = after[j + 1] * xs[r, j + 1]
                d_after[j] = d_after[j + 1] * xs[r, j + 1] + after[j + 1] * ts[r, j + 1]
            out[r] = d_before * after + before * d_after
        return from_rows(out, x)

    return impl


# -- np.prod's third derivative ----------------------------------------------------------------


def prod_others_jvp2(x: Any, u: Any, s: Any, axis: Any = None) -> Any:
    """The tangent along ``s`` of ``prod_others_jvp(x, u, axis)``: for each entry ``i``, the sum
    over pairs ``j != l`` (both other than ``i``) of ``u_j s_l`` times the product of the entries
    but ``i``, ``j`` and ``l``, zeros included. It is the coefficient of ``e d`` in the product
    of ``x_k + e u_k + d s_k`` over ``k != i``, computed from the products before and after
    each entry (as ``prod_others_jvp``); symmetric in ``u`` and ``s``, and its own adjoint."""
    flat, shape, axes, last = _prod_layout(x, axis)
    uf, sf = (
        np.reshape(np.moveaxis(np.broadcast_to(v, np.shape(x)), axes, last), np.shape(flat)) for v in (u, s)
    )
    n = np.shape(flat)[-1]
    # products before (b) and after (a) each entry, as polynomials 1, e, d, e d: four arrays each
    b = [np.ones_like(flat), np.zeros_like(uf), np.zeros_like(sf), np.zeros_like(uf * sf)]
    a = [np.ones_like(flat), np.zeros_like(uf), np.zeros_like(sf), np.zeros_like(uf * sf)]
    for i in range(1, n):
        k, j = i - 1, n - i
        for p, m in ((b, k), (a, j)):
            x_, u_, s_ = flat[..., m], uf[..., m], sf[..., m]
            c0, cu, cs, cus = (q[..., i - 1] if p is b else q[..., j] for q in p)
            at = i if p is b else j - 1
            p[3][..., at] = cus * x_ + cu * s_ + cs * u_
            p[1][..., at] = cu * x_ + c0 * u_
            p[2][..., at] = cs * x_ + c0 * s_
            p[0][..., at] = c0 * x_
    out = b[0] * a[3] + b[1] * a[2] + b[2] * a[1] + b[3] * a[0]
    return np.moveaxis(np.reshape(out, shape), last, axes)


def nan_weights(a: Any, axis: Any = None, mean: bool = False) -> Any:
    """The derivative of ``np.nansum`` (``mean=False``) or ``np.nanmean`` (``mean=True``) with
    respect to each entry of ``a``: 0 at NaN, else 1 (or 1 / the number of non-NaN entries)."""
    keep = ~np.isnan(a)
    out = keep.astype(grad_dtype(a, 1.0))
    if mean:
        out = out / np.maximum(np.sum(keep, axis=axis, keepdims=True), 1)
    return out


@twin(nan_weights)
def _nan_weights(a, axis=None, mean=False):
    mean, scalar = literal(mean), result_scalar(a)
    if not is_array(a) or scalar is None or not isinstance(mean, bool):
        return None
    if not mean:
        return lambda a, axis=None, mean=False: (~np.isnan(a)).astype(scalar)
    layout = rows_layout(a.ndim, axis)
    if layout is None:
        return None
    to_rows, from_rows = layout
    divided = np.result_type(scalar, np.int64).type  # (numpy divides by the integer counts)

    def impl(a, axis=None, mean=False):  # 1 / the number of entries that are not NaN
        keep = ~np.isnan(to_rows(a))
        out = np.empty(keep.shape, divided)
        for i in range(keep.shape[0]):
            out[i] = keep[i] / divided(max(keep[i].sum(), 1))
        return from_rows(out, a)

    return impl


def average_share(a: Any, axis: Any = None, weights: Any = None, returned: bool = False) -> Any:
    """The derivative of ``np.average(a, axis, weights)`` with respect to each entry of ``a``:
    ``weights / sum(weights)`` along ``axis`` (1/n without weights), shaped like ``a``."""
    if returned:
        raise refuse(
            "srcgrad does not differentiate np.average(..., returned=True)",
            "call np.average without returned=True, and np.sum(weights) for the sum of weights.",
            "average",
        )
    if weights is None:
        w = np.ones_like(a, dtype=grad_dtype(a, 1.0))
    elif np.ndim(weights) == np.ndim(a) or axis is None:
        w = np.broadcast_to(weights, np.shape(a))
    else:
        shape = [1] * np.ndim(a)
        shape[axis] = -1  # 1-d weights along one axis, as numpy allows
        w = np.broadcast_to(np.reshape(weights, shape), np.shape(a))
    return w / np.sum(w, axis=axis, keepdims=True)


@twin(average_share)
def _average_share(a, axis=None, weights=None, returned=False):
    from numba.np.numpy_support import as_dtype

    layout = rows_layout(a.ndim, axis) if is_array(a) else None
    if layout is None or literal(returned) not in (False, None):
        return None
    to_rows, from_rows = layout
    if literal(weights) is None:
        scalar = result_scalar(a)

        def even(a, axis=None, weights=None, returned=False):  # 1 / the number of entries
            rows = to_rows(a)
            return from_rows(np.full(rows.shape, scalar(1.0) / scalar(rows.shape[1])), a)

        return even
    if not is_array(weights) or is_complex_type(weights):
        return None
    scalar = np.true_divide(np.ones(1, as_dtype(weights.dtype)), 1).dtype.type  # (int weights: float64)
    if weights.ndim == a.ndim or literal(axis) is None:
        row_of = lambda w, r: w[r]  # noqa: E731  (weights broadcast to a's shape)
    elif weights.ndim == 1 and isinstance(literal(axis), int):
        row_of = lambda w, r: w[0]  # noqa: E731  (1-d weights along the axis: the same for every row)
    else:
        return None
    import numba

    row_of = numba.njit(row_of)
    full = weights.ndim == a.ndim or literal(axis) is None

    def impl(a, axis=None, weights=None, returned=False):  # the weights / their sum, along the axis
        rows = to_rows(a)
        w = to_rows(np.broadcast_to(weights, a.shape)) if full else weights.reshape((1, weights.size))
        out = np.empty(rows.shape, scalar)
        for r in range(rows.shape[0]):
            row = row_of(w, r)
            out[r] = row / row.sum()
        return from_rows(out, a)

    return impl


def median_weights(a: Any, axis: Any = None) -> Any:
    """The derivative of ``np.median(a, axis)`` with respect to each entry of ``a``: 1 at the
    middle entry, 1/2 at each of the two middle ones for an even count (ties: in stable order)."""
    return _middle_weights(a, axis, skip_nan=False)


@twin(median_weights)
def _median_weights(a, axis=None):
    return _middle_typing(a, axis, skip_nan=False)


def _middle_weights(a: Any, axis: Any, skip_nan: bool) -> Any:
    if axis is None:
        return np.reshape(_middle_weights(np.ravel(a), 0, skip_nan), np.shape(a))
    flat, shape, axes, last = _prod_layout(a, axis)
    n = np.sum(~np.isnan(flat), axis=-1, keepdims=True) if skip_nan else np.shape(flat)[-1]  # NaNs sort last
    ranks = _call(np.argsort, _call(np.argsort, flat, axis=-1, kind="stable"), axis=-1, kind="stable")
    odd = n % 2 == 1
    weights = (ranks == n // 2) * np.where(odd, 1.0, 0.5) + (ranks == (n - 1) // 2) * np.where(odd, 0.0, 0.5)
    weights = weights * (n > 0)
    return np.moveaxis(np.reshape(weights, shape), last, axes).astype(grad_dtype(a, 1.0))


def _middle_typing(a, axis, skip_nan):
    scalar = result_scalar(a) if is_array(a) and not is_complex_type(a) else None
    layout = rows_layout(a.ndim, axis) if scalar is not None else None
    if layout is None:
        return None
    to_rows, from_rows = layout

    def impl(a, axis=None):  # 1 at the middle entry (1/2 at each of two), in stable order
        rows = to_rows(a)
        out = np.zeros(rows.shape, scalar)
        for r in range(rows.shape[0]):
            order = np.argsort(rows[r], kind="mergesort")  # (stable, NaNs last)
            n = rows.shape[1] - (np.isnan(rows[r]).sum() if skip_nan else 0)
            if n > 0:
                odd = n % 2 == 1
                out[r, order[n // 2]] += 1.0 if odd else 0.5
                out[r, order[(n - 1) // 2]] += 0.0 if odd else 0.5
        return from_rows(out, a)

    return impl


def nan_median_weights(a: Any, axis: Any = None) -> Any:
    """The derivative of ``np.nanmedian(a, axis)`` with respect to each entry of ``a``: as
    ``median_weights`` among the entries that are not NaN; 0 at NaN (and in all-NaN slices)."""
    return _middle_weights(a, axis, skip_nan=True)


@twin(nan_median_weights)
def _nan_median_weights(a, axis=None):
    return _middle_typing(a, axis, skip_nan=True)


def trapezoid_weights(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """The derivative of ``np.trapezoid(y, x, dx, axis)`` with respect to each entry of ``y``:
    half the spacing at both ends, the mean of the two neighbouring spacings inside."""
    n = np.shape(y)[axis]
    if x is None:
        spacing = np.full(n - 1, float(dx)) if n > 1 else np.zeros(0)
    else:
        spacing = np.diff(x, axis=axis if np.ndim(x) > 1 else -1)
    if np.ndim(spacing) <= 1:
        shape = [1] * np.ndim(y)
        shape[axis] = n - 1
        spacing = np.reshape(spacing, shape)
    pad = [(0, 0)] * np.ndim(y)
    pad[axis % np.ndim(y)] = (1, 0)
    left = np.pad(spacing, pad)
    pad[axis % np.ndim(y)] = (0, 1)
    return 0.5 * (left + np.pad(spacing, pad))


@twin(trapezoid_weights)
def _trapezoid_weights(y, x=None, dx=1.0, axis=-1):
    from numba.np.unsafe.ndarray import to_fixed_tuple

    k, ndim = literal(axis), y.ndim if is_array(y) else 0
    if not (ndim and isinstance(k, int) and -ndim <= k < ndim) or not is_number(dx):
        return None
    k %= ndim
    if literal(x) is None:
        scalar, spaced = np.float64, None
    elif is_array(x) and not is_complex_type(x) and x.ndim in (1, ndim):
        scalar, spaced = result_scalar(x), x.ndim == ndim
    else:
        return None
    if spaced:  # x shaped like y: the spacing along the axis, row by row
        to_rows, from_rows = rows_layout(ndim, k)

        def each(y, x=None, dx=1.0, axis=-1):
            xs = to_rows(x)
            out = np.zeros(xs.shape, scalar)
            for r in range(xs.shape[0]):
                for i in range(xs.shape[1] - 1):
                    out[r, i] += 0.5 * (xs[r, i + 1] - xs[r, i])
                    out[r, i + 1] += 0.5 * (xs[r, i + 1] - xs[r, i])
            return from_rows(out, x)

        return each
    import numba

    if spaced is None:  # (no x: dx apart)
        steps = numba.njit(lambda x, dx, n: np.full(max(n - 1, 0), float(dx)))
    else:
        steps = numba.njit(lambda x, dx, n: np.diff(x))

    def impl(y, x=None, dx=1.0, axis=-1):  # one spacing for every row: shaped 1 but along the axis
        n = y.shape[k]
        step = steps(x, dx, n)
        out = np.zeros(n, scalar)
        for i in range(n - 1):
            out[i] += 0.5 * step[i]
            out[i + 1] += 0.5 * step[i]
        shape = np.ones(ndim, np.int64)
        shape[k] = n
        return out.reshape(to_fixed_tuple(shape, ndim))

    return impl


# -- scipy.special.logsumexp (its rule is in srcgrad/rules/scipy.py) ----------------------------


def logsumexp_weights(a: Any, ans: Any, axis: Any = None, b: Any = None, keepdims: bool = False) -> Any:
    """The derivative of ``ans = scipy.special.logsumexp(a, axis, b, keepdims)`` with respect
    to ``a``: ``b * exp(a - ans)`` (``b`` is 1 when None), ``ans`` spread back over ``a``."""
    weights = np.exp(a - expand(ans, a, axis, keepdims))
    if b is not None:
        weights = weights * b
    return weights


# -- np.quantile, np.percentile and their NaN-ignoring forms ------------------------------------
# Along the reduced axes, with s the sorted values and n their count, the quantile at q is
# s[lo] + f (s[hi] - s[lo]) where numpy's method gives the position p = lo + f: for 'linear',
# p = q (n - 1). Its derivative flows to the two order statistics s[lo] and s[hi] (weights 1 - f
# and f), and in q it is the slope between them, (s[hi] - s[lo]) dp/dq: one-sided where p is
# an integer (the slope of the segment that starts there), as np.interp's.

# dp/dq per method: linear moves with q; the others are steps in q (0 where they have one).
_SLOPES = {"linear": 1.0, "lower": 0.0, "higher": 0.0, "nearest": 0.0, "midpoint": 0.0}


def _quantile_check(method: str, q: Any, scale: float) -> None:
    if method not in _SLOPES:
        raise refuse(
            f"srcgrad differentiates np.quantile and np.percentile with method in "
            f"{', '.join(map(repr, _SLOPES))}, not {method!r}",
            "use method='linear' (the default).",
            "percentile" if scale != 1.0 else "quantile",
        )


def _quantile_positions(a: Any, q: Any, axis: Any, method: str, scale: float, skip_nan: bool) -> tuple:
    """``(flat, sorted, ranks, lo, hi, frac, dpdq, layout)``: ``a`` with its reduced axes last and
    flattened, its values sorted there and the rank of each entry; ``lo``, ``hi`` and ``frac``
    (shape ``(q.size,) + others``) the two order statistics each quantile reads and the weight
    of the second; ``dpdq`` the rate at which the position moves with ``q``."""
    _quantile_check(method, q, scale)
    if np.ndim(a) == 0:
        a = np.reshape(a, (1,))
    flat, shape, axes, last = _prod_layout(a, axis)
    order = _call(np.argsort, flat, axis=-1, kind="stable")  # NaNs sort last (dask has no argsort: refused)
    ranks = _call(np.argsort, order, axis=-1, kind="stable")
    others = np.shape(flat)[:-1]
    qs = np.reshape(np.asarray(q, dtype=float) / scale, (-1,) + (1,) * len(others))
    if skip_nan:
        counts = np.sum(~np.isnan(flat), axis=-1)
    else:
        counts = np.full(others, np.shape(flat)[-1])
    positions = np.zeros(np.shape(qs)[:1] + others)
    for n in np.unique(counts):  # numpy's own position for each count (0: an all-NaN slice)
        if n > 0:
            at = np.quantile(np.arange(float(n)), np.ravel(qs), method=method)
            positions = np.where(counts == n, np.reshape(at, np.shape(qs)), positions)
    lo = np.floor(positions).astype(int)
    hi = np.minimum(lo + 1, np.maximum(counts - 1, 0))
    frac = np.where(counts > 0, positions - lo, 0.0)
    dpdq = _SLOPES[method] * np.maximum(counts - 1, 0) / scale
    return flat, np.take_along_axis(flat, order, axis=-1), ranks, lo, hi, frac, dpdq, (shape, axes, last)


def _quantile_weights(parts: tuple) -> Any:
    """``W[j, ..., i]``: the derivative of the ``j``-th quantile of a slice in its ``i``-th entry."""
    _, _, ranks, lo, hi, frac, _, _ = parts
    lo, hi, frac = (np.expand_dims(v, -1) for v in (lo, hi, frac))
    return (ranks == lo) * (1.0 - frac) + (ranks == hi) * frac


def _restore(flat: Any, layout: tuple, like: Any) -> Any:
    shape, axes, last = layout
    return np.reshape(np.moveaxis(np.reshape(flat, shape), last, axes), np.shape(like))


def quantile_vjp(
    g: Any,
    a: Any,
    q: Any,
    axis: Any = None,
    method: str = "linear",
    scale: float = 1.0,
    skip_nan: bool = False,
) -> Any:
    """The adjoint of ``a`` in ``np.quantile(a, q, axis)`` (``scale=100``: np.percentile;
    ``skip_nan``: the nan forms, whose NaNs get none)."""
    parts = _quantile_positions(a, q, axis, method, scale, skip_nan)
    weights = _quantile_weights(parts)
    gs = np.reshape(g, np.shape(weights)[:-1] + (1,))
    out = np.sum(gs * weights, axis=0).astype(grad_dtype(a, g), copy=False)
    return _restore(out, parts[-1], a)


def quantile_jvp(
    t: Any,
    ans: Any,
    a: Any,
    q: Any,
    axis: Any = None,
    method: str = "linear",
    scale: float = 1.0,
    skip_nan: bool = False,
) -> Any:
    """The tangent of ``np.quantile(a, q, axis)`` along a tangent ``t`` of ``a``."""
    parts = _quantile_positions(a, q, axis, method, scale, skip_nan)
    _, axes, last = parts[-1]
    t = np.reshape(t, np.shape(a) or (1,))
    tflat = np.reshape(np.moveaxis(t, axes, last), np.shape(parts[0]))
    tflat = np.where(np.isnan(parts[0]), 0.0, tflat) if skip_nan else tflat
    return np.reshape(np.sum(_quantile_weights(parts) * tflat, axis=-1), np.shape(ans))


def _quantile_slope(parts: tuple) -> Any:
    """d quantile / d q, shaped ``(q.size,) + others``: the slope between the two order statistics."""
    _, ordered, _, lo, hi, _, dpdq, _ = parts
    at = lambda k: np.take_along_axis(ordered, np.moveaxis(k, 0, -1), axis=-1)  # noqa: E731
    return np.moveaxis(at(hi) - at(lo), -1, 0) * dpdq


def quantile_vjp_q(
    g: Any,
    a: Any,
    q: Any,
    axis: Any = None,
    method: str = "linear",
    scale: float = 1.0,
    skip_nan: bool = False,
) -> Any:
    """The adjoint of ``q`` in ``np.quantile(a, q, axis)``: ``g`` times the slope, summed over the slices."""
    parts = _quantile_positions(a, q, axis, method, scale, skip_nan)
    slope = _quantile_slope(parts)
    total = np.sum(
        np.reshape(g, (np.shape(slope)[0], -1)) * np.reshape(slope, (np.shape(slope)[0], -1)), axis=-1
    )
    return np.reshape(total, np.shape(q)).astype(grad_dtype(q, g), copy=False)


def quantile_jvp_q(
    t: Any,
    ans: Any,
    a: Any,
    q: Any,
    axis: Any = None,
    method: str = "linear",
    scale: float = 1.0,
    skip_nan: bool = False,
) -> Any:
    """The tangent of ``np.quantile(a, q, axis)`` along a tangent ``t`` of ``q``."""
    parts = _quantile_positions(a, q, axis, method, scale, skip_nan)
    slope = _quantile_slope(parts)
    ts = np.reshape(t, (-1,) + (1,) * (np.ndim(slope) - 1))
    return np.reshape(ts * slope, np.shape(ans))


# -- their twins: one kernel computes, for every slice and quantile, the two order statistics
# and the weight of the second, as _quantile_positions (numpy's positions for 'linear', 'lower'
# and 'higher'; 'nearest' and 'midpoint' are left to jit=False).

_METHODS = {"linear": 0, "lower": 1, "higher": 2}


def _quantile_typing(a, q, axis, method, skip_nan, *others):
    """``(to_rows, from_rows, kernel)`` for a call with these numba types, None where the twins
    do not take them."""
    method, skip_nan = literal(method), literal(skip_nan)
    if method not in _METHODS or not isinstance(skip_nan, bool) or not is_array(a) or not is_numeric(q):
        return None
    if any(is_complex_type(t) or not is_numeric(t) for t in (a, q, *others)):
        return None
    layout = rows_layout(a.ndim, axis)
    return None if layout is None else (*layout, _quantile_kernel(_METHODS[method], skip_nan), flat_of(q))


def _shaped(t: Any) -> Any:
    """A compiled function giving a flat array the shape of ``t``'s value (its first entry for a number)."""
    import numba

    if is_number(t):
        return numba.njit(lambda v, like: v[0])
    return numba.njit(lambda v, like: v.reshape(like.shape))


@functools.cache
def _quantile_kernel(method: int, skip_nan: bool) -> Any:
    import numba

    @numba.njit
    def position(n, q):  # numpy's: np.quantile(np.arange(float(n)), q, method=method)
        v = (n - 1) * q
        if method == 1:
            return np.floor(v)
        if method == 2:
            return np.ceil(v)
        if v >= n - 1:
            return float(n - 1)
        lo = np.floor(v)
        t = v - lo
        return lo + 1.0 * t if t < 0.5 else (lo + 1.0) - 1.0 * (1.0 - t)

    @numba.njit
    def kernel(x, q, scale):
        """ranks (rows, m), sorted rows, lo, hi, frac (quantiles, rows) and dpdq (rows), for
        the quantiles ``q`` (flat) / ``scale``."""
        qs = q.astype(np.float64) / scale
        rows, m = x.shape
        ranks, ordered = np.empty((rows, m), np.int64), np.empty((rows, m), x.dtype)
        lo, hi = np.zeros((qs.size, rows), np.int64), np.zeros((qs.size, rows), np.int64)
        frac, dpdq = np.zeros((qs.size, rows)), np.zeros(rows)
        for r in range(rows):
            order = np.argsort(x[r], kind="mergesort")  # stable, NaNs last
            for i in range(m):
                ranks[r, order[i]] = i
                ordered[r, i] = x[r, order[i]]
            n = m
            if skip_nan:
                n = m - np.isnan(x[r]).sum()
            dpdq[r] = (1.0 if method == 0 else 0.0) * max(n - 1, 0) / scale
            for j in range(qs.size):
                p = position(n, qs[j]) if n > 0 else 0.0
                lo[j, r] = int(np.floor(p))
                hi[j, r] = min(lo[j, r] + 1, max(n - 1, 0))
                frac[j, r] = p - lo[j, r] if n > 0 else 0.0
        return ranks, ordered, lo, hi, frac, dpdq

    return kernel


@twin(quantile_vjp)
def _quantile_vjp(g, a, q, axis=None, method="linear", scale=1.0, skip_nan=False):
    typing, scalar = _quantile_typing(a, q, axis, method, skip_nan, g), result_scalar(a, g)
    if typing is None or scalar is None:
        return None
    to_rows, from_rows, kernel, flat_q = typing
    flat_g = flat_of(g)

    def impl(g, a, q, axis=None, method="linear", scale=1.0, skip_nan=False):
        ranks, _, lo, hi, frac, _ = kernel(to_rows(a), flat_q(q), scale)
        gs = flat_g(g)
        out = np.zeros(ranks.shape, scalar)
        for j in range(lo.shape[0]):
            for r in range(lo.shape[1]):
                w = gs[j * lo.shape[1] + r]
                for i in range(ranks.shape[1]):
                    out[r, i] += w * (
                        (ranks[r, i] == lo[j, r]) * (1.0 - frac[j, r])
                        + (ranks[r, i] == hi[j, r]) * frac[j, r]
                    )
        return from_rows(out, a)

    return impl


@twin(quantile_jvp)
def _quantile_jvp(t, ans, a, q, axis=None, method="linear", scale=1.0, skip_nan=False):
    typing = _quantile_typing(a, q, axis, method, skip_nan, t, ans)
    if typing is None or not (is_array(t) and t.ndim == a.ndim):
        return None
    to_rows, _, kernel, flat_q = typing
    shaped = _shaped(ans)

    def impl(t, ans, a, q, axis=None, method="linear", scale=1.0, skip_nan=False):
        x, ts = to_rows(a), to_rows(t)
        ranks, _, lo, hi, frac, _ = kernel(x, flat_q(q), scale)
        out = np.zeros(lo.size)
        for j in range(lo.shape[0]):
            for r in range(lo.shape[1]):
                for i in range(ranks.shape[1]):
                    tangent = 0.0 if skip_nan and np.isnan(x[r, i]) else ts[r, i]
                    w = (ranks[r, i] == lo[j, r]) * (1.0 - frac[j, r]) + (ranks[r, i] == hi[j, r]) * frac[
                        j, r
                    ]
                    out[j * lo.shape[1] + r] += w * tangent
        return shaped(out, ans)

    return impl


@twin(quantile_vjp_q)
def _quantile_vjp_q(g, a, q, axis=None, method="linear", scale=1.0, skip_nan=False):
    typing, scalar = _quantile_typing(a, q, axis, method, skip_nan, g), result_scalar(q, g)
    if typing is None or scalar is None:
        return None
    to_rows, _, kernel, flat_q = typing
    shaped, flat_g = _shaped(q), flat_of(g)

    def impl(g, a, q, axis=None, method="linear", scale=1.0, skip_nan=False):
        _, ordered, lo, hi, _, dpdq = kernel(to_rows(a), flat_q(q), scale)
        gs = flat_g(g)
        out = np.zeros(lo.shape[0], scalar)
        for j in range(lo.shape[0]):
            for r in range(lo.shape[1]):
                slope = (ordered[r, hi[j, r]] - ordered[r, lo[j, r]]) * dpdq[r]
                out[j] += gs[j * lo.shape[1] + r] * slope
        return shaped(out, q)

    return impl


@twin(quantile_jvp_q)
def _quantile_jvp_q(t, ans, a, q, axis=None, method="linear", scale=1.0, skip_nan=False):
    typing = _quantile_typing(a, q, axis, method, skip_nan, t, ans)
    if typing is None:
        return None
    to_rows, _, kernel, flat_q = typing
    shaped, flat_t = _shaped(ans), flat_of(t)

    def impl(t, ans, a, q, axis=None, method="linear", scale=1.0, skip_nan=False):
        _, ordered, lo, hi, _, dpdq = kernel(to_rows(a), flat_q(q), scale)
        ts = flat_t(t)
        out = np.zeros(lo.size)
        for j in range(lo.shape[0]):
            for r in range(lo.shape[1]):
                out[j * lo.shape[1] + r] = ts[j] * ((ordered[r, hi[j, r]] - ordered[r, lo[j, r]]) * dpdq[r])
        return shaped(out, ans)

    return impl
