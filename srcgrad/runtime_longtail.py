"""Helpers for the rules of numpy's long tail (issue 15): eig and eigvals, lstsq, quantiles and
percentiles, logspace and geomspace, unique, and the joins that np.piecewise,
np.apply_along_axis and np.vectorize are lowered to.

Generated code names them through ``defrule(..., names=...)`` (srcgrad/rules/numpy.py). As in
``srcgrad.runtime``, each works on whatever array type numpy dispatches to and returns new
arrays; what has no derivative is refused with :func:`srcgrad.runtime.refuse`, at the user's line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .runtime import (
    _call,
    _gaps,
    _is_complex,
    _prod_layout,
    _swap,
    _used,
    grad_dtype,
    pinv_jvp,
    pinv_vjp,
    real_only,
    refuse,
    svd_vjp,
)

# -- np.linalg.eig and eigvals -------------------------------------------------------------
# numpy (LAPACK's geev) normalizes each eigenvector to norm 1 and, when it is complex, turns it
# so that its largest entry is real. The derivative below keeps both: without the second, the
# derivative of a complex eigenvector is defined up to a phase only (autograd's is right for
# functions that ignore the phase, as |v|; this one also for the others, as finite differences).


def _largest(u: Any) -> tuple[Any, Any]:
    """For each eigenvector (a column of ``u``): a 0/1 mask of its largest entry, and that entry."""
    k = np.argmax(np.abs(u), axis=-2)
    mask = np.arange(np.shape(u)[-2])[:, None] == np.expand_dims(k, -2)
    return mask, np.sum(np.where(mask, u, 0.0), axis=-2)


def _eig_gauge_jvp(du: Any, u: Any) -> Any:
    """The tangent ``du`` of eigenvectors made to keep numpy's normalization: ``u_i`` gets
    ``u_i c_i`` with ``Re(c_i) = -Re(u_i^H du_i)`` (norm 1) and, for complex ``du``,
    ``Im(c_i) = -Im(du_ki / u_ki)`` (the largest entry ``k`` stays real)."""
    c = -np.real(np.sum(np.conj(u) * du, axis=-2))
    if _is_complex(du):
        mask, top = _largest(u)
        c = c - 1j * np.imag(np.sum(np.where(mask, du, 0.0), axis=-2) / top)
    return du + u * np.expand_dims(c, -2)


def eig_jvp(t: Any, ans: Any) -> tuple:
    """The tangent of ``(w, v) = np.linalg.eig(a)``, for distinct eigenvalues: with
    ``P = v^-1 t v``, ``dw = diag(P)`` and ``dv = v (F * P)`` normalized as numpy's ``v``."""
    w, u = ans
    p = np.linalg.solve(u, np.matmul(t, u))
    dw = np.diagonal(p, axis1=-2, axis2=-1)
    return (dw, _eig_gauge_jvp(np.matmul(u, _gaps(w) * p), u))


def eig_vjp(g: Any, ans: Any, a: Any) -> Any:
    """The adjoint of ``(w, v) = np.linalg.eig(a)``, the transpose of :func:`eig_jvp`:
    ``v^-T (diag(gw) + F * (v^T gv')) v^T``, where ``gv'`` is ``gv`` made to respect numpy's
    normalization (M. Giles 2008; autograd's, plus the phase of complex eigenvectors). Without
    an eigenvector adjoint the eigenvalues need no gaps (no infinities at ties)."""
    w, u = ans
    gw, gu = g
    n = np.shape(w)[-1]
    inner = np.expand_dims(gw, -2) * np.eye(n)
    if np.any(gu):
        s = np.sum(u * gu, axis=-2)  # diag(u^T gu)
        gu = gu - np.expand_dims(np.real(s), -2) * np.conj(u)
        if _is_complex(u):
            mask, top = _largest(u)
            gu = gu - 1j * np.where(mask, np.expand_dims(np.imag(s) / top, -2), 0.0)
        inner = inner + _gaps(w) * np.matmul(_swap(u), gu)
    out = np.linalg.solve(_swap(u), np.matmul(inner, _swap(u)))
    return out if _is_complex(a) else np.real(out)


def eigvals_vjp(g: Any, a: Any) -> Any:
    """The adjoint of ``np.linalg.eigvals(a)``: that of eig's eigenvalues, ``v^-T diag(g) v^T``."""
    w, u = np.linalg.eig(a)
    return eig_vjp([g, np.zeros_like(u)], (w, u), a)


def eigvals_jvp(t: Any, a: Any) -> Any:
    """The tangent of ``np.linalg.eigvals(a)``: ``diag(v^-1 t v)``."""
    w, u = np.linalg.eig(a)
    return np.diagonal(np.linalg.solve(u, np.matmul(t, u)), axis1=-2, axis2=-1)


# -- np.linalg.lstsq ------------------------------------------------------------------------
# (x, residuals, rank, s) = lstsq(a, b): x = pinv(a) b with lstsq's own cutoff rcond, whose rank
# must not change (as np.linalg.pinv's rule); residuals = |a x - b|^2 per column, whose
# derivative needs no dx (x minimizes it); rank is an integer; s are the singular values of a.


def _lstsq_parts(a: Any, b: Any, rcond: Any) -> tuple[Any, Any, Any]:
    """``(p, r, vector)``: ``pinv(a)`` as lstsq computes it, the residual ``a x - b`` as columns,
    and whether ``b`` is a vector."""
    real_only(a, "np.linalg.lstsq")
    real_only(b, "np.linalg.lstsq")
    eye = np.eye(np.shape(a)[0])  # (rcond=None is numpy's default; dask's lstsq takes no rcond)
    p = np.linalg.lstsq(a, eye)[0] if rcond is None else np.linalg.lstsq(a, eye, rcond=rcond)[0]
    vector = np.ndim(b) == 1
    cols = np.reshape(b, (np.shape(b)[0], -1))
    return p, np.matmul(a, np.matmul(p, cols)) - cols, vector


def _lstsq_residual_weights(g: Any, ans: Any) -> Any:
    """The adjoint of the residuals, as one weight per column (0 where lstsq returns none)."""
    res = ans[1]
    if res.size == 0:  # (np.size would compute a dask array)
        return 0.0
    return np.reshape(g[1], (1, -1))


def lstsq_vjp_a(g: Any, ans: Any, a: Any, b: Any, rcond: Any = None) -> Any:
    """The adjoint of ``a`` in ``np.linalg.lstsq(a, b)``: ``g`` lists those of its four outputs."""
    p, r, vector = _lstsq_parts(a, b, rcond)
    gx, _, _, gs = g
    cols = np.reshape(b, (np.shape(b)[0], -1))
    x = np.matmul(p, cols)
    out = pinv_vjp(np.matmul(np.reshape(gx, np.shape(x)), _swap(cols)), p, a)
    out = out + 2.0 * np.matmul(r * _lstsq_residual_weights(g, ans), _swap(x))
    if _used(gs):  # (a dask array counts as used: np.any would compute it)
        out = out + svd_vjp(gs, ans[3], a, False, False)
    return out


def lstsq_vjp_b(g: Any, ans: Any, a: Any, b: Any, rcond: Any = None) -> Any:
    """The adjoint of ``b`` in ``np.linalg.lstsq(a, b)``: ``p^T gx - 2 r gres``."""
    p, r, vector = _lstsq_parts(a, b, rcond)
    gx = np.reshape(g[0], (np.shape(p)[0], -1))
    out = np.matmul(_swap(p), gx) - 2.0 * r * _lstsq_residual_weights(g, ans)
    return np.reshape(out, np.shape(b))


def lstsq_jvp(ta: Any, tb: Any, ans: Any, a: Any, b: Any, rcond: Any = None) -> tuple:
    """The tangent of ``(x, residuals, rank, s) = np.linalg.lstsq(a, b)`` along ``ta`` and ``tb``."""
    p, r, vector = _lstsq_parts(a, b, rcond)
    cols = np.reshape(b, (np.shape(b)[0], -1))
    tcols = np.reshape(tb, np.shape(cols))
    x = np.matmul(p, cols)
    dx = np.matmul(pinv_jvp(ta, p, a), cols) + np.matmul(p, tcols)
    dres = np.zeros_like(ans[1], dtype=grad_dtype(a, 1.0))
    if ans[1].size:  # (np.size would compute a dask array)
        dres = 2.0 * np.sum(r * (np.matmul(ta, x) - tcols), axis=0)
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    ds = np.sum(u * np.matmul(ta, _swap(vh)), axis=0)
    dx = np.reshape(dx, np.shape(ans[0]))
    return (dx, dres, np.zeros_like(ans[2], dtype=grad_dtype(a, 1.0)), ds)


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


# -- np.logspace and np.geomspace -----------------------------------------------------------


def _scalar_ends(start: Any, stop: Any, what: str, *more: Any) -> None:
    if np.ndim(start) or np.ndim(stop) or any(np.ndim(m) for m in more):
        raise refuse(
            f"srcgrad differentiates np.{what} with scalar start, stop{' and base' if more else ''} only",
            "call it once per pair of scalar ends, or build it from np.linspace.",
            what,
        )


def logspace_exponents(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0) -> Any:
    """The exponents of ``np.logspace``: ``np.linspace(start, stop, num, endpoint)``."""
    _scalar_ends(start, stop, "logspace", base)
    return np.linspace(start, stop, num, endpoint=endpoint)


def geomspace_weights(start: Any, stop: Any, num: int = 50, endpoint: bool = True) -> Any:
    """``w`` of ``np.geomspace(start, stop) = start ** (1 - w) * stop ** w``: its derivative is
    ``ans (1 - w) / start`` in ``start`` and ``ans w / stop`` in ``stop``."""
    _scalar_ends(start, stop, "geomspace")
    return np.linspace(0.0, 1.0, num, endpoint=endpoint)


# -- np.unique ------------------------------------------------------------------------------
# Its values are a gather of the input (sorted, one per group of equal entries). Where entries
# are tied the output's shape changes if one moves alone: the derivative exists along moves
# that keep the group together, and the adjoint splits evenly among the group, as ties of
# np.max do. The indices, inverse and counts are integers: no derivative.


def _unique_groups(ar: Any, axis: Any) -> tuple[Any, Any]:
    """For each entry (each slice along ``axis``): the index of its unique value, and the counts."""
    _, inverse, counts = np.unique(ar, return_inverse=True, return_counts=True, axis=axis)
    return np.reshape(inverse, (-1,)), counts


def unique_vjp(g: Any, ar: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.unique(ar, axis=axis)``: each entry gets its value's adjoint, shared
    among the entries equal to it."""
    inverse, counts = _unique_groups(ar, axis)
    dt = grad_dtype(ar, g)
    if axis is None:
        return np.reshape(np.take(g, inverse) / counts[inverse], np.shape(ar)).astype(dt, copy=False)
    shares = np.reshape(
        1.0 / counts[inverse], [-1 if i == axis % np.ndim(ar) else 1 for i in range(np.ndim(ar))]
    )
    return (np.take(g, inverse, axis=axis) * shares).astype(dt, copy=False)


def unique_jvp(t: Any, ar: Any, axis: Any = None) -> Any:
    """The tangent of ``np.unique(ar, axis=axis)``: the mean tangent of each value's entries."""
    inverse, counts = _unique_groups(ar, axis)
    moved = np.reshape(t, (-1,)) if axis is None else np.moveaxis(t, axis, 0)
    out = np.zeros((np.size(counts),) + np.shape(moved)[1:], dtype=grad_dtype(t, 1.0))
    np.add.at(out, inverse, moved)
    out = out / np.reshape(counts, (-1,) + (1,) * (np.ndim(out) - 1))
    return out if axis is None else np.moveaxis(out, 0, axis)


# -- np.piecewise ---------------------------------------------------------------------------
# np.piecewise(x, condlist, funclist) is lowered (srcgrad/normalize/callables.py) to the pieces
# funclist[i](x[condlist[i]]) and this join: zeros shaped like x, each piece put where its
# condition holds, a later condition over an earlier one (as numpy).


def piecewise_join(x: Any, condlist: Any, pieces: Any) -> Any:
    """``np.piecewise``'s output from its pieces: ``y = zeros_like(x); y[c] = piece`` in order."""
    out = np.zeros_like(x)  # numpy's: x's dtype
    if not np.issubdtype(out.dtype, np.inexact) and any(
        np.iscomplexobj(p) or np.issubdtype(np.result_type(p), np.floating) for p in pieces
    ):
        raise refuse(
            "np.piecewise of an integer x truncates its pieces to integers: srcgrad does not differentiate that",
            "pass x as a float array (x.astype(float)).",
            "piecewise",
        )
    for c, piece in zip(condlist, pieces):
        out[np.asarray(c, dtype=bool)] = piece
    return out


def _piecewise_masks(x: Any, condlist: Any) -> list:
    """Where each piece shows in the output: its condition, minus the later ones."""
    masks, later = [], np.zeros(np.shape(x), dtype=bool)
    for c in reversed(condlist):
        c = np.broadcast_to(np.asarray(c, dtype=bool), np.shape(x))
        masks.append(c & ~later)
        later = later | c
    return masks[::-1]


def piecewise_vjp(g: Any, x: Any, condlist: Any, pieces: Any) -> list:
    """The adjoints of the pieces of :func:`piecewise_join`: ``g`` where each shows, 0 where a
    later piece covers it (summed for a piece given as one number)."""
    out = []
    for c, shown, piece in zip(condlist, _piecewise_masks(x, condlist), pieces):
        c = np.broadcast_to(np.asarray(c, dtype=bool), np.shape(x))
        part = np.where(shown, g, 0.0)[c]
        out.append(
            np.sum(part) if np.ndim(piece) == 0 and np.size(part) != 1 else np.reshape(part, np.shape(piece))
        )
    return out


# -- np.apply_along_axis and np.vectorize -----------------------------------------------------
# apply_along_axis(f, axis, arr) is lowered to a loop over the 1-d slices of arr along axis
# (the rows of along_rows(arr, axis)), calling f on each and joining the results with
# join_rows, which puts the dimensions of f's result where axis was, as numpy.


def along_rows(arr: Any, axis: int) -> Any:
    """The 1-d slices of ``arr`` along ``axis``, as the rows of a 2-d array (a copy)."""
    moved = np.moveaxis(arr, axis, -1)
    return np.reshape(moved, (-1, np.shape(moved)[-1])).copy()


def unrows(v: Any, arr: Any, axis: int) -> Any:
    """The adjoint of :func:`along_rows`: the rows put back in ``arr``'s shape."""
    moved = np.moveaxis(np.zeros(np.shape(arr)), axis, -1)
    return np.moveaxis(np.reshape(v, np.shape(moved)), -1, axis)


def join_rows(results: Any, arr: Any, axis: int) -> Any:
    """``np.apply_along_axis``'s output from the result of each slice: the results stacked in
    the shape of ``arr``'s other axes, their own axes where ``axis`` was."""
    stacked = np.stack([np.asarray(r) for r in results])
    others = np.shape(np.moveaxis(np.zeros(np.shape(arr)), axis, -1))[:-1]
    res = np.shape(stacked)[1:]
    out = np.reshape(stacked, others + res)
    axis = axis % np.ndim(arr)
    return np.moveaxis(
        out, tuple(range(len(others), len(others) + len(res))), tuple(range(axis, axis + len(res)))
    )


def unjoin_rows(v: Any, results: Any, arr: Any, axis: int) -> list:
    """The adjoint of :func:`join_rows`: one part of ``v`` per result, shaped like it."""
    ndim_res = np.ndim(results[0])
    axis = axis % np.ndim(arr)
    back = np.moveaxis(
        v, tuple(range(axis, axis + ndim_res)), tuple(range(np.ndim(v) - ndim_res, np.ndim(v)))
    )
    flat = np.reshape(back, (len(results),) + np.shape(results[0]))
    return [flat[i] for i in range(len(results))]


def piecewise_mask(c: Any) -> Any:
    """A condition of ``np.piecewise`` as numpy reads it: a bool array."""
    return np.asarray(c, dtype=bool)


def piecewise_otherwise(x: Any, condlist: Any) -> Any:
    """Where no condition of ``np.piecewise`` holds (its last function's piece)."""
    hit = np.zeros(np.shape(x), dtype=bool)
    for c in condlist:
        hit = hit | c
    return ~hit


def piecewise_value(piece: Any) -> Any:
    """A piece of ``np.piecewise`` given as a value; a callable srcgrad cannot see is refused."""
    if callable(piece):
        raise refuse(
            "srcgrad cannot tell which function this np.piecewise calls: it is only known when the code runs",
            "write the functions in funclist as lambdas or names of functions (module-level or def).",
            "piecewise",
        )
    return piece


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


# -- elementwise_grad in forward mode ----------------------------------------------------------


def ones_tangent(x: Any) -> Any:
    """A tangent of ones shaped like ``x`` (in its float type): the JVP with it is the row sums of
    the Jacobian, its diagonal where the function is elementwise."""
    return np.ones_like(x, dtype=grad_dtype(x, 1.0))


def diagonal_of(t: Any, x: Any) -> Any:
    """``t``, the JVP of an elementwise function with a tangent of ones: the Jacobian's diagonal,
    if the output has ``x``'s shape; an output broadcast beyond it is refused."""
    if np.shape(t) != np.shape(x):
        raise refuse(
            f"elementwise_grad(mode='forward') needs an output shaped like its argument: this one "
            f"is {np.shape(t)}, the argument {np.shape(x)}",
            "use elementwise_grad in reverse mode (the default), which sums over the broadcast axes.",
        )
    return t
