"""Linear algebra other than the decompositions: ``np.linalg.norm`` (every ord, zero at the
origin), solve, matrix_power, slogdet, pinv and lstsq. Those without rules of their own are
differentiated again by inlining their source.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import is_float64_array, is_number, literal, twin, with_kept_axes
from .arrays import _is_complex, _normalize_axes, _swap, grad_dtype
from .broadcasting import _keepdims, unbroadcast
from .checks import real_only, refuse
from .decompositions import _used, numba_njit, svd_vjp

__all__ = [
    "curvature_ord",
    "norm_vjp",
    "norm_jvp",
    "solve_vjp_a",
    "solve_vjp_b",
    "solve_jvp_a",
    "matrix_power_vjp",
    "matrix_power_jvp",
    "slogdet_vjp",
    "slogdet_jvp",
    "pinv_jvp",
    "pinv_vjp",
    "lstsq_vjp_a",
    "lstsq_vjp_b",
    "lstsq_jvp",
]


def _is_two_norm(x: Any, ord: Any, axis: Any) -> bool:
    matrix = np.ndim(x) > 1 if axis is None else isinstance(axis, tuple) and len(axis) == 2
    return ord is None or ord == "fro" or (ord == 2 and not matrix)


def _shared_ties(x: Any, sums: Any, extreme: Any, axis: int) -> Any:
    """``sign(x)`` where the absolute sums reach their extreme along ``axis``, ties sharing evenly."""
    hit = sums == extreme(sums, axis=axis, keepdims=True)
    return np.sign(x) * (hit / np.sum(hit, axis=axis, keepdims=True))


def _norm_weights(x: Any, ord: Any, axis: Any) -> Any:
    """The derivative of ``np.linalg.norm(x, ord, axis)`` other than the 2-norm, shaped like ``x``.

    The reduced axes are moved last; ties of a max/min norm share the derivative evenly, and
    entries where a p-norm with p < 1 is not differentiable (zeros) get 0, like the origin.
    """
    if ord == 0:  # counts nonzero entries
        return np.zeros_like(x, dtype=grad_dtype(x, 1.0))
    axes = (
        tuple(a % np.ndim(x) for a in axis) if isinstance(axis, tuple) else _normalize_axes(axis, np.ndim(x))
    )
    last = tuple(range(np.ndim(x) - len(axes), np.ndim(x)))
    m = np.moveaxis(x, axes, last)
    extreme = np.max if not isinstance(ord, str) and ord > 0 else np.min
    if len(axes) == 1:
        if ord in (np.inf, -np.inf):
            w = _shared_ties(m, np.abs(m), extreme, -1)
        elif ord == 1:
            w = np.sign(m) * 1.0
        else:  # d/dx (sum |x|^p)^(1/p) = sign(x) (|x| / norm)^(p - 1)
            a = np.abs(m)
            n = np.sum(a**ord, axis=-1, keepdims=True) ** (1.0 / ord)
            zero = (a == 0) | (n == 0)
            w = np.where(
                zero, 0.0, np.sign(m) * (np.where(zero, 1.0, a) / np.where(n == 0, 1.0, n)) ** (ord - 1)
            )
    elif ord in (1, -1):  # the extreme column sum
        w = _shared_ties(m, np.sum(np.abs(m), axis=-2, keepdims=True), extreme, -1)
    elif ord in (np.inf, -np.inf):  # the extreme row sum
        w = _shared_ties(m, np.sum(np.abs(m), axis=-1, keepdims=True), extreme, -2)
    else:  # 'nuc': U V^T; 2 and -2: the outer product of the extreme singular vectors
        u, _, vt = np.linalg.svd(m, full_matrices=False)
        if ord == "nuc":
            w = np.matmul(u, vt)
        else:
            k = 0 if ord == 2 else -1
            w = u[..., :, k, None] * vt[..., k, None, :]
    return np.moveaxis(w, last, axes)


def curvature_ord(ord: Any, x: Any, axis: Any) -> Any:
    """The ``ord`` the 2-norm's second-derivative templates use: the 2-norm's own, or 0 (zero
    terms) for the norms that are linear in pieces; the others' second derivatives are refused."""
    real_only(x, "the second derivative of np.linalg.norm")
    if _is_two_norm(x, ord, axis) or ord == 0:
        return ord
    if not isinstance(ord, str) and ord in (1, -1, np.inf, -np.inf):  # linear in pieces
        return 0
    raise refuse(
        f"srcgrad differentiates np.linalg.norm(..., ord={ord!r}) once only: its second derivatives cover"
        " the 2-norm, 'fro', and the 0, 1, -1, inf and -inf norms",
        "write the norm out, e.g. np.sum(np.abs(x) ** p) ** (1 / p), to differentiate it again.",
    )


@twin(curvature_ord)
def _curvature_ord(ord, x, axis):
    # the default ord only: it comes back None, which norm_vjp's twin reads when typing (an ord
    # computed in compiled code is no literal)
    if literal(ord) is None and is_float64_array(x):
        return lambda ord, x, axis: None
    return None


def norm_vjp(g: Any, ans: Any, x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of ``np.linalg.norm``; zero at the origin, never NaN. For complex ``x`` the
    conjugate of the real formula's, with ``Re(g)`` (``g conj(x) / norm`` for the 2-norm)."""
    if _is_complex(x):
        return np.conj(_norm_vjp(np.real(g), ans, x, ord, axis, keepdims))
    return _norm_vjp(g, ans, x, ord, axis, keepdims)


def _norm_vjp(g: Any, ans: Any, x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:
    g = _keepdims(g, x, axis, keepdims)
    if not _is_two_norm(x, ord, axis):
        return g * _norm_weights(x, ord, axis)
    ans = _keepdims(ans, x, axis, keepdims)
    safe = np.where(ans == 0, 1.0, ans)
    return np.where(ans == 0, 0.0, g * x / safe)


@twin(norm_vjp)
def _norm_vjp_twin(g, ans, x, ord=None, axis=None, keepdims=False):
    order, axis_, keep = literal(ord), literal(axis), literal(keepdims)
    if not (is_float64_array(x) and isinstance(keep, bool)) or isinstance(order, bool):
        return None
    # An ord known at run time only is not taken (numba has no float literals: np.inf is one),
    # nor 'fro' (numba's own np.linalg.norm(x, 'fro') raises at run time: the line stays refused).
    if not (order is None or isinstance(order, int)):
        return None
    ndim = x.ndim
    if axis_ is None:
        axes = tuple(range(ndim))
    elif isinstance(axis_, int) or (isinstance(axis_, tuple) and all(isinstance(a, int) for a in axis_)):
        axes = tuple(a % ndim for a in (axis_ if isinstance(axis_, tuple) else (axis_,)))
    else:
        return None
    matrix = ndim > 1 if axis_ is None else len(axes) == 2
    if order is None or (order == 2 and not matrix):
        if len(axes) == ndim and not keep:  # a number: zero at the origin
            if not (is_number(g) and is_number(ans)):
                return None
            return lambda g, ans, x, ord=None, axis=None, keepdims=False: (
                np.zeros(x.shape) if ans == 0 else g * x / ans
            )
        reduced = ndim if keep else ndim - len(axes)
        if not (is_float64_array(g, reduced) and is_float64_array(ans, reduced)):
            return None
        kept = with_kept_axes(ndim, axes)

        def two_norm(g, ans, x, ord=None, axis=None, keepdims=False):
            shape = kept(x.shape)
            gk, ak = np.ascontiguousarray(g).reshape(shape), np.ascontiguousarray(ans).reshape(shape)
            return np.where(ak == 0, 0.0, gk * x / np.where(ak == 0, 1.0, ak))

        return two_norm
    if ndim != 1 or keep or not is_number(g):
        return None  # (the other norms of vectors only)
    if order == 0:  # counts nonzero entries
        return lambda g, ans, x, ord=None, axis=None, keepdims=False: np.zeros(x.shape)
    if order == 1:
        return lambda g, ans, x, ord=None, axis=None, keepdims=False: g * np.sign(x)
    p = float(order)

    def p_norm(g, ans, x, ord=None, axis=None, keepdims=False):  # zeros get 0, as the origin
        a = np.abs(x)
        n = np.sum(a**p) ** (1.0 / p)
        zero = (a == 0) | (n == 0)
        w = np.sign(x) * (np.where(zero, 1.0, a) / (1.0 if n == 0 else n)) ** (p - 1)
        return g * np.where(zero, 0.0, w)

    return p_norm


def norm_jvp(t: Any, ans: Any, x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """The tangent of ``np.linalg.norm``, for the 2-norm ``sum(x * t) / ans``; zero at the origin, never NaN.
    For complex ``x``: ``Re(sum(conj(x) t)) / ans``, and likewise for the other ords."""
    if _is_complex(x) or _is_complex(t):
        return np.real(_norm_jvp(t, ans, np.conj(x), ord, axis, keepdims))
    return _norm_jvp(t, ans, x, ord, axis, keepdims)


def _norm_jvp(t: Any, ans: Any, x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:
    if not _is_two_norm(x, ord, axis):
        axes = _normalize_axes(axis, np.ndim(x))
        return np.sum(_norm_weights(x, ord, axis) * t, axis=axes, keepdims=keepdims)
    dot = np.sum(x * t, axis=axis, keepdims=keepdims)
    safe = np.where(ans == 0, 1.0, ans)
    return np.where(ans == 0, 0.0, dot / safe)


@twin(norm_jvp)
def _norm_jvp_twin(t, ans, x, ord=None, axis=None, keepdims=False):
    # the norm of a whole array, a number: the 2-norm (the Frobenius norm of a matrix), and the
    # 0 and 1 norms of a vector (numba's np.linalg.norm takes no axis)
    order, axis_, keep = literal(ord), literal(axis), literal(keepdims)
    if axis_ is not None or keep is not False or not is_number(ans) or isinstance(order, bool):
        return None
    if not (is_float64_array(x) and is_float64_array(t, x.ndim)):
        return None
    if order is None or (order == 2 and x.ndim == 1):
        return lambda t, ans, x, ord=None, axis=None, keepdims=False: 0.0 if ans == 0 else np.sum(x * t) / ans
    if x.ndim == 1 and order == 1:
        return lambda t, ans, x, ord=None, axis=None, keepdims=False: np.sum(np.sign(x) * t)
    if x.ndim == 1 and order == 0:
        return lambda t, ans, x, ord=None, axis=None, keepdims=False: 0.0
    return None


def _solve_transposed(a: Any, g: Any, b: Any) -> Any:
    """``solve(a.T, g)`` for the adjoint ``g`` of ``solve(a, b)``, as a (stack of) matrices."""
    return np.linalg.solve(_swap(a), np.expand_dims(g, -1) if np.ndim(b) == 1 else g)


def solve_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``ans = np.linalg.solve(a, b)``: ``-solve(a.T, g) @ ans.T``."""
    x = np.expand_dims(ans, -1) if np.ndim(b) == 1 else ans
    return unbroadcast(-np.matmul(_solve_transposed(a, g, b), _swap(x)), a)


def solve_vjp_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``np.linalg.solve(a, b)``: solve with ``a`` transposed."""
    out = _solve_transposed(a, g, b)
    return unbroadcast(out[..., 0] if np.ndim(b) == 1 else out, b)


def _solvable(g: Any, a: Any, b: Any) -> bool:
    """Do the numba types fit numba's ``np.linalg.solve``: a matrix and a vector or matrix?"""
    return is_float64_array(a, 2) and is_float64_array(b, 1, 2) and is_float64_array(g, b.ndim)


@twin(solve_vjp_a)
def _solve_vjp_a(g, ans, a, b):
    if not (_solvable(g, a, b) and is_float64_array(ans, b.ndim)):
        return None
    if b.ndim == 1:
        return lambda g, ans, a, b: -np.outer(np.linalg.solve(a.T, g), ans)
    return lambda g, ans, a, b: -(np.linalg.solve(a.T, g) @ ans.T)


@twin(solve_vjp_b)
def _solve_vjp_b(g, a, b):
    if not _solvable(g, a, b):
        return None
    return lambda g, a, b: np.linalg.solve(a.T, g)


def solve_jvp_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    """The tangent of ``ans = np.linalg.solve(a, b)`` for a tangent ``t`` of ``a``: ``-solve(a, t @ ans)``."""
    x = np.expand_dims(ans, -1) if np.ndim(b) == 1 else ans
    out = -np.linalg.solve(a, np.matmul(t, x))
    return out[..., 0] if np.ndim(b) == 1 else out


@twin(solve_jvp_a)
def _solve_jvp_a(t, ans, a, b):
    if not (is_float64_array(t, 2) and _solvable(ans, a, b)):
        return None
    return lambda t, ans, a, b: -np.linalg.solve(a, t @ ans)


def _powers(b: Any, m: int) -> list:
    """``[I, b, b^2, ..., b^(m-1)]`` (compiled by numba in the twins)."""
    powers = [np.eye(b.shape[0])]
    for _ in range(1, m):
        powers.append(powers[-1] @ b)
    return powers


def matrix_power_vjp(g: Any, a: Any, n: int) -> Any:
    """The adjoint of ``np.linalg.matrix_power(a, n)``: ``sum_k (b^T)^k g (b^T)^(m-1-k)`` with
    ``b^m = a^n`` (``b = inv(a)`` for ``n < 0``, then through the inverse)."""
    b = np.linalg.inv(a) if n < 0 else a
    m = -n if n < 0 else n
    bt = np.swapaxes(b, -1, -2)
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(1, m):
        powers.append(np.matmul(powers[-1], bt))
    out = np.zeros_like(a, dtype=grad_dtype(a, g))
    for k in range(m):
        out = out + np.matmul(powers[k], np.matmul(g, powers[m - 1 - k]))
    if n < 0:
        out = -np.matmul(bt, np.matmul(out, bt))
    return out


@twin(matrix_power_vjp)
def _matrix_power_vjp(g, a, n):
    from numba.core import types

    if not (is_float64_array(g, 2) and is_float64_array(a, 2) and isinstance(n, types.Integer)):
        return None
    powers = numba_njit(_powers)

    def impl(g, a, n):
        b = np.linalg.inv(a) if n < 0 else np.ascontiguousarray(a)
        m = -n if n < 0 else n
        bt = np.ascontiguousarray(b.T)
        p = powers(bt, m)
        out = np.zeros(a.shape)
        for k in range(m):
            out = out + p[k] @ (g @ p[m - 1 - k])
        if n < 0:
            out = -(bt @ (out @ bt))
        return out

    return impl


def matrix_power_jvp(t: Any, a: Any, n: int) -> Any:
    """The tangent of ``np.linalg.matrix_power(a, n)``: ``sum_k b^k u b^(m-1-k)`` with ``b^m = a^n``
    and ``u`` the tangent of ``b`` (``-inv(a) t inv(a)`` for ``n < 0``)."""
    b = np.linalg.inv(a) if n < 0 else a
    m = -n if n < 0 else n
    u = -np.matmul(b, np.matmul(t, b)) if n < 0 else t
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(1, m):
        powers.append(np.matmul(powers[-1], b))
    out = np.zeros_like(a, dtype=grad_dtype(a, t))
    for k in range(m):
        out = out + np.matmul(powers[k], np.matmul(u, powers[m - 1 - k]))
    return out


@twin(matrix_power_jvp)
def _matrix_power_jvp(t, a, n):
    from numba.core import types

    if not (is_float64_array(t, 2) and is_float64_array(a, 2) and isinstance(n, types.Integer)):
        return None
    powers = numba_njit(_powers)

    def impl(t, a, n):
        b = np.linalg.inv(a) if n < 0 else np.ascontiguousarray(a)
        m = -n if n < 0 else n
        u = -(b @ (t @ b)) if n < 0 else np.ascontiguousarray(t)
        p = powers(b, m)
        out = np.zeros(a.shape)
        for k in range(m):
            out = out + p[k] @ (u @ p[m - 1 - k])
        return out

    return impl


def slogdet_vjp(g: Any, a: Any) -> Any:
    """The adjoint of ``np.linalg.slogdet(a)``: ``g`` is that of ``(sign, logabsdet)``; the sign
    is piecewise constant, so only ``g[1]`` counts: ``g[1] * inv(a).T``."""
    real_only(a, "np.linalg.slogdet")
    return np.expand_dims(g[1], (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@twin(slogdet_vjp)
def _slogdet_vjp(g, a):
    from numba.core import types

    if not (isinstance(g, types.BaseTuple) and len(g) == 2 and is_number(g[1]) and is_float64_array(a, 2)):
        return None
    return lambda g, a: g[1] * np.linalg.inv(a).T


def slogdet_jvp(t: Any, ans: Any, a: Any) -> tuple:
    """The tangent of ``(sign, logabsdet) = np.linalg.slogdet(a)``: ``(0, trace(solve(a, t)))``."""
    real_only(a, "np.linalg.slogdet")
    return (np.zeros_like(ans[0]), np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1))


@twin(slogdet_jvp)
def _slogdet_jvp(t, ans, a):
    from numba.core import types

    if not (is_float64_array(t, 2) and is_float64_array(a, 2) and isinstance(ans, types.BaseTuple)):
        return None
    if not (len(ans) == 2 and is_number(ans[0])):
        return None
    return lambda t, ans, a: (0.0, np.trace(np.linalg.solve(a, t)))


def pinv_jvp(t: Any, p: Any, a: Any) -> Any:
    """The tangent of ``p = np.linalg.pinv(a)`` where the rank of ``a`` is constant (Golub and
    Pereyra): ``-p t p + p p^T t^T (I - a p) + (I - p a) t^T p^T p``."""
    real_only(a, "np.linalg.pinv")
    tt, pt = _swap(t), _swap(p)
    left = np.eye(np.shape(a)[-2]) - np.matmul(a, p)
    right = np.eye(np.shape(a)[-1]) - np.matmul(p, a)
    return (
        -np.matmul(p, np.matmul(t, p))
        + np.matmul(np.matmul(p, pt), np.matmul(tt, left))
        + np.matmul(right, np.matmul(tt, np.matmul(pt, p)))
    )


@twin(pinv_jvp)
def _pinv_jvp(t, p, a):
    if not (is_float64_array(t, 2) and is_float64_array(p, 2) and is_float64_array(a, 2)):
        return None

    def impl(t, p, a):
        left = np.eye(a.shape[0]) - a @ p
        right = np.eye(a.shape[1]) - p @ a
        return -(p @ (t @ p)) + (p @ p.T) @ (t.T @ left) + right @ (t.T @ (p.T @ p))

    return impl


def pinv_vjp(g: Any, p: Any, a: Any) -> Any:
    """The adjoint of ``p = np.linalg.pinv(a)`` (constant rank), the transpose of ``pinv_jvp``:
    ``-p^T g p^T + (I - a p) g^T p p^T + p^T p g^T (I - p a)``."""
    real_only(a, "np.linalg.pinv")
    gt, pt = _swap(g), _swap(p)
    left = np.eye(np.shape(a)[-2]) - np.matmul(a, p)
    right = np.eye(np.shape(a)[-1]) - np.matmul(p, a)
    return (
        -np.matmul(pt, np.matmul(g, pt))
        + np.matmul(left, np.matmul(gt, np.matmul(p, pt)))
        + np.matmul(np.matmul(pt, p), np.matmul(gt, right))
    )


@twin(pinv_vjp)
def _pinv_vjp(g, p, a):
    if not (is_float64_array(g, 2) and is_float64_array(p, 2) and is_float64_array(a, 2)):
        return None

    def impl(g, p, a):
        left = np.eye(a.shape[0]) - a @ p
        right = np.eye(a.shape[1]) - p @ a
        return -(p.T @ (g @ p.T)) + left @ (g.T @ (p @ p.T)) + (p.T @ p) @ (g.T @ right)

    return impl


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
