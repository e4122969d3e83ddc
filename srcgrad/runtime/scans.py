"""Scans: the adjoints and tangents of cumsum, cumprod (exact where entries are zero) and
diff, and the initial value of ``np.cumulative_sum``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import is_array, literal, twin
from .arrays import grad_dtype

__all__ = ["cumsum_vjp", "cumprod_vjp", "cumprod_jvp", "diff_vjp", "drop_initial", "with_initial"]


def cumsum_vjp(g: Any, a: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.cumsum(a, axis)``: the sums from each entry to the end, shaped like ``a``."""
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(g))), np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


@twin(cumsum_vjp)
def _cumsum_vjp(g, a, axis=None):
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


def diff_vjp(g: Any, a: Any, n: int = 1, axis: int = -1) -> Any:
    """The adjoint of ``np.diff(a, n, axis)``: ``n`` times the adjoint of one difference."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    return g + np.zeros_like(a, dtype=grad_dtype(a, g))  # n = 0: a copy, shaped like a


def drop_initial(v: Any, axis: Any = None, include_initial: bool = False) -> Any:
    """The adjoint of prepending the initial value in ``np.cumulative_sum(..., include_initial=True)``:
    ``v`` without its first slice along ``axis`` (a copy of ``v`` without ``include_initial``)."""
    if not include_initial:
        return np.array(v, copy=True)
    return np.delete(v, 0, axis=0 if axis is None else axis)


def with_initial(v: Any, axis: Any = None, include_initial: bool = False) -> Any:
    """``v`` with a zero slice put first along ``axis`` (the tangent of the initial value of
    ``np.cumulative_sum`` or ``np.cumulative_prod`` with ``include_initial=True``)."""
    if not include_initial:
        return np.array(v, copy=True)
    return np.insert(v, 0, 0.0, axis=0 if axis is None else axis)
