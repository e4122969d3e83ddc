"""Scans: the adjoints and tangents of cumsum, cumprod (exact where entries are zero) and
diff, and the initial value of ``np.cumulative_sum``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import is_array, is_number, literal, result_scalar, rows_layout, swap_first, twin
from .arrays import grad_dtype

__all__ = ["cumsum_vjp", "cumprod_vjp", "cumprod_jvp", "diff_vjp", "drop_initial", "with_initial"]


def cumsum_vjp(g: Any, a: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.cumsum(a, axis)``: the sums from each entry to the end, shaped like ``a``."""
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(g))), np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


@twin(cumsum_vjp)
def _cumsum_vjp(g, a, axis=None):
    if is_array(g) and is_array(a) and g.ndim == a.ndim and isinstance(literal(axis), int):
        to_rows, from_rows = rows_layout(g.ndim, axis)

        def along(g, a, axis=None):  # along the axis moved last: sums from each entry to the end
            rows = to_rows(g)
            out = np.empty_like(rows)
            for r in range(rows.shape[0]):
                out[r] = np.cumsum(rows[r][::-1])[::-1]
            return from_rows(out, g)

        return along
    if not (is_array(g) and literal(axis) is None):
        return None

    def impl(g, a, axis=None):  # sums from each entry to the end
        return np.ascontiguousarray(np.cumsum(g.ravel()[::-1])[::-1]).reshape(np.shape(a))

    return impl


def _scan_layout(a: Any, axis: Any) -> tuple[Any, int]:
    """``a`` with the scanned axis first (flattened when ``axis`` is None), and that axis."""
    if axis is None:
        return np.ravel(a), 0
    return np.moveaxis(a, axis, 0), axis


def cumprod_vjp(g: Any, a: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.cumprod(a, axis)``, exact where ``a`` has zeros (no division).

    ``d_a[i] = before[i] * r[i]`` with ``before[i]`` the product of the entries before ``i``
    and ``r[i] = g[i] + a[i + 1] * r[i + 1]``.
    """
    x, _ = _scan_layout(a, axis)
    gm, _ = _scan_layout(g, axis)
    n = np.shape(x)[0] if np.ndim(x) else 0
    dtype = grad_dtype(a, g)
    if n == 0:
        return np.reshape(np.zeros_like(x, dtype=dtype), np.shape(a))
    before = np.cumprod(np.concatenate([np.ones_like(x[:1]), x[:-1]]), axis=0)
    r = gm[n - 1] * 1.0
    rows = [before[n - 1] * r]  # from the last entry back (stacked, never written into an array)
    for i in range(n - 2, -1, -1):
        r = gm[i] + x[i + 1] * r
        rows.append(before[i] * r)
    out = np.stack(rows[::-1]).astype(dtype, copy=False)
    return np.reshape(out, np.shape(a)) if axis is None else np.moveaxis(out, 0, axis)


@twin(cumprod_vjp)
def _cumprod_vjp(g, a, axis=None):
    scalar = result_scalar(a, g)
    layout = rows_layout(a.ndim, axis) if is_array(a) and is_array(g) else None
    if layout is None or scalar is None:
        return None
    to_rows, from_rows = layout
    flat = literal(axis) is None

    def impl(g, a, axis=None):  # from the last entry back, as the helper
        x = to_rows(a)
        gs = np.ascontiguousarray(g).reshape((1, g.size)) if flat else to_rows(g)
        out = np.zeros(x.shape, scalar)
        n = x.shape[1]
        for k in range(x.shape[0]):
            before = np.ones(n, x.dtype)
            for i in range(1, n):
                before[i] = before[i - 1] * x[k, i - 1]
            r = gs[k, n - 1] * 1.0 if n else 0.0
            for i in range(n - 1, -1, -1):
                if i < n - 1:
                    r = gs[k, i] + x[k, i + 1] * r
                out[k, i] = before[i] * r
        return from_rows(out, a)

    return impl


def cumprod_jvp(t: Any, a: Any, axis: Any = None) -> Any:
    """The tangent of ``np.cumprod(a, axis)``: ``d[i] = d[i - 1] * a[i] + ans[i - 1] * t[i]``."""
    x, _ = _scan_layout(a, axis)
    tm, _ = _scan_layout(np.broadcast_to(t, np.shape(a)), axis)
    dtype = grad_dtype(a, t)
    if np.shape(x)[0] == 0:
        out = np.zeros_like(x, dtype=dtype)
        return out if axis is None else np.moveaxis(out, 0, axis)
    prod, d = x[0], tm[0]
    rows = [d]
    for i in range(1, np.shape(x)[0]):
        d = d * x[i] + prod * tm[i]
        prod = prod * x[i]
        rows.append(d)
    out = np.stack(rows).astype(dtype, copy=False)
    return out if axis is None else np.moveaxis(out, 0, axis)


@twin(cumprod_jvp)
def _cumprod_jvp(t, a, axis=None):
    scalar = result_scalar(a, t)
    layout = rows_layout(a.ndim, axis) if is_array(a) else None
    if layout is None or scalar is None or not (is_number(t) or (is_array(t) and t.ndim == a.ndim)):
        return None
    to_rows, from_rows = layout
    flat = literal(axis) is None

    def impl(t, a, axis=None):  # d[i] = d[i - 1] * a[i] + prod[i - 1] * t[i]
        x = to_rows(a)
        ts = to_rows(np.broadcast_to(t, a.shape))
        out = np.zeros(x.shape, scalar)
        for k in range(x.shape[0]):
            if x.shape[1]:
                prod, d = x[k, 0], ts[k, 0]
                out[k, 0] = d
                for i in range(1, x.shape[1]):
                    d = d * x[k, i] + prod * ts[k, i]
                    prod = prod * x[k, i]
                    out[k, i] = d
        return out.reshape(a.size) if flat else from_rows(out, a)

    return impl


def diff_vjp(g: Any, a: Any, n: int = 1, axis: int = -1) -> Any:
    """The adjoint of ``np.diff(a, n, axis)``: ``n`` times the adjoint of one difference."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    return g + np.zeros_like(a, dtype=grad_dtype(a, g))  # n = 0: a copy, shaped like a


@twin(diff_vjp)
def _diff_vjp(g, a, n=1, axis=-1):
    scalar = result_scalar(a, g)
    if not (is_array(a) and is_array(g) and g.ndim == a.ndim) or scalar is None or literal(axis) is None:
        return None
    layout = rows_layout(a.ndim, axis)
    if layout is None:
        return None
    to_rows, from_rows = layout

    def impl(g, a, n=1, axis=-1):  # each time: minus the differences of g padded with a zero each side
        rows = to_rows(g).astype(scalar)
        for _ in range(n):
            m = rows.shape[1]
            out = np.empty((rows.shape[0], m + 1), scalar)
            for k in range(rows.shape[0]):
                for j in range(m + 1):
                    out[k, j] = (rows[k, j - 1] if j else 0.0) - (rows[k, j] if j < m else 0.0)
            rows = out
        return from_rows(rows, a)

    return impl


def drop_initial(v: Any, axis: Any = None, include_initial: bool = False) -> Any:
    """The adjoint of prepending the initial value in ``np.cumulative_sum(..., include_initial=True)``:
    ``v`` without its first slice along ``axis`` (a copy of ``v`` without ``include_initial``)."""
    if not include_initial:
        return np.array(v, copy=True)
    return np.delete(v, 0, axis=0 if axis is None else axis)


def _initial_twin(v: Any, axis: Any, include_initial: Any) -> Any:
    """What the twins of ``drop_initial`` and ``with_initial`` decide when typing: None (no
    twin), a copy of ``v`` (no initial slice), or the permutation putting ``axis`` first."""
    include = literal(include_initial)
    if not is_array(v) or not isinstance(include, bool):
        return None
    if not include:
        return lambda v, axis=None, include_initial=False: v.copy()
    return swap_first(v.ndim, axis)


@twin(drop_initial)
def _drop_initial(v, axis=None, include_initial=False):
    perm = _initial_twin(v, axis, include_initial)
    if not isinstance(perm, tuple):
        return perm
    return lambda v, axis=None, include_initial=False: np.ascontiguousarray(
        v.transpose(perm)[1:].transpose(perm)
    )


def with_initial(v: Any, axis: Any = None, include_initial: bool = False) -> Any:
    """``v`` with a zero slice put first along ``axis`` (the tangent of the initial value of
    ``np.cumulative_sum`` or ``np.cumulative_prod`` with ``include_initial=True``)."""
    if not include_initial:
        return np.array(v, copy=True)
    return np.insert(v, 0, 0.0, axis=0 if axis is None else axis)


@twin(with_initial)
def _with_initial(v, axis=None, include_initial=False):
    perm = _initial_twin(v, axis, include_initial)
    if not isinstance(perm, tuple):
        return perm
    from numba.np.unsafe.ndarray import to_fixed_tuple

    ndim = v.ndim

    def impl(v, axis=None, include_initial=False):  # a zero slice first along axis
        shape = np.array(v.transpose(perm).shape)
        shape[0] += 1
        out = np.zeros(to_fixed_tuple(shape, ndim), v.dtype)
        out[1:] = v.transpose(perm)
        return np.ascontiguousarray(out.transpose(perm))

    return impl
