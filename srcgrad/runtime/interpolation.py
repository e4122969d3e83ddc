"""``np.interp`` (its adjoint in ``fp``, and the masks and segments its other derivatives
need) and the adjoint of the coefficients of ``np.polyval``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import flat_of, is_array, is_complex_type, is_number, literal, result_scalar, twin
from .arrays import _add_at, grad_dtype, size_of
from .checks import refuse

__all__ = [
    "polyval_vjp_p",
    "interp_segment",
    "interp_inside",
    "interp_vjp_fp",
    "interp_jvp_fp",
    "interp_below",
    "interp_above",
]


def polyval_vjp_p(g: Any, p: Any, x: Any) -> Any:
    """The adjoint of the coefficients ``p`` in ``np.polyval(p, x)``: ``sum(g * x ** k)`` for
    each power ``k``, highest first."""
    powers = np.power.outer(x, np.arange(size_of(p) - 1, -1, -1))
    out = np.tensordot(g, powers, axes=np.ndim(g))
    return np.reshape(out, np.shape(p)).astype(grad_dtype(p, out), copy=False)


@twin(polyval_vjp_p)
def _polyval_vjp_p(g, p, x):
    scalar = result_scalar(p, g, x)
    if not is_array(p) or p.ndim != 1 or scalar is None or is_complex_type(scalar):
        return None
    flat_g, flat_x = flat_of(g), flat_of(x)

    def impl(g, p, x):  # sum(g * x ** k) for each power k, highest first
        gs, xs = flat_g(g), flat_x(x)
        xs = np.broadcast_to(xs, gs.shape) if xs.size == 1 else xs
        out = np.zeros(p.size, scalar)
        for k in range(p.size):
            for e in range(gs.size):
                out[k] += gs[e] * xs[e] ** (p.size - 1 - k)
        return out

    return impl


def _interp_typing(x, xp, period):
    """A compiled ``shaped(v, x)`` giving a flat result ``x``'s shape (a number for a number),
    None where the twins of np.interp's helpers do not take these types."""
    import numba

    if (
        literal(period) is not None
        or not (is_array(xp) and xp.ndim == 1)
        or not (is_array(x) or is_number(x))
    ):
        return None
    if is_complex_type(x) or is_complex_type(xp):
        return None
    return numba.njit((lambda v, x: v.reshape(x.shape)) if is_array(x) else (lambda v, x: v[0]))


def _interp_check(xp: Any, period: Any) -> None:
    if period is not None:
        raise refuse(
            "srcgrad does not differentiate np.interp with period=",
            "wrap x into one period yourself (np.mod) and call np.interp without period=.",
            "interp",
        )
    if np.ndim(xp) != 1 or size_of(xp) < 1:
        raise ValueError("np.interp needs a 1-d xp")


def interp_segment(x: Any, xp: Any, period: Any = None) -> Any:
    """For each entry of ``x``, the index ``j`` of the segment ``[xp[j], xp[j + 1])`` of
    ``np.interp`` it is in (clipped to the first and last ones): an integer array."""
    _interp_check(xp, period)
    if size_of(xp) < 2:
        return np.zeros(np.shape(x), dtype=int)
    return np.clip(np.searchsorted(xp, x, side="right") - 1, 0, size_of(xp) - 2)


@twin(interp_segment)
def _interp_segment(x, xp, period=None):
    shaped, flat_x = _interp_typing(x, xp, period), flat_of(x)
    if shaped is None:
        return None

    def impl(x, xp, period=None):
        xs = flat_x(x)
        if xp.size < 2:
            return shaped(np.zeros(xs.size, np.int64), x)
        return shaped(np.clip(np.searchsorted(xp, xs, side="right") - 1, 0, xp.size - 2), x)

    return impl


def interp_inside(x: Any, xp: Any, period: Any = None) -> Any:
    """1 where ``x`` is in ``[xp[0], xp[-1])``, else 0: where ``np.interp`` has a slope (its
    right derivative: the slope of the segment starting at a knot, 0 from the last knot on)."""
    _interp_check(xp, period)
    xp = np.asarray(xp)
    return ((x >= xp[0]) & (x < xp[-1])).astype(grad_dtype(x, 1.0))


def _interp_mask(x, xp, period, test):
    """The twins of interp_inside, interp_below and interp_above: ``test(x, first, last)`` as
    ``x``'s gradient type."""
    shaped, scalar = _interp_typing(x, xp, period), result_scalar(x)
    if shaped is None or scalar is None:
        return None
    import numba

    test, flat_x = numba.njit(test), flat_of(x)

    def impl(x, xp, period=None):
        xs = flat_x(x)
        out = np.empty(xs.size, scalar)
        for i in range(xs.size):
            out[i] = test(xs[i], xp[0], xp[-1])
        return shaped(out, x)

    return impl


@twin(interp_inside)
def _interp_inside(x, xp, period=None):
    return _interp_mask(x, xp, period, lambda v, first, last: first <= v < last)


def interp_vjp_fp(g: Any, x: Any, xp: Any, left: Any = None, right: Any = None, period: Any = None) -> Any:
    """The adjoint of ``fp`` in ``np.interp(x, xp, fp, left, right)``: each entry of ``g`` split
    between the two ends of its segment (all on ``fp[0]`` left of the range unless ``left`` is
    given, all on ``fp[-1]`` right of it unless ``right`` is given)."""
    j = interp_segment(x, xp, period)
    xp = np.asarray(xp)
    n = size_of(xp)
    g = np.broadcast_to(g, np.shape(x))
    out = np.zeros(n, dtype=grad_dtype(xp, g))
    if n == 1:
        w = np.zeros(np.shape(x))
    else:
        w = np.clip((x - xp[j]) / (xp[j + 1] - xp[j]), 0.0, 1.0)
    keep = np.ones(np.shape(x))
    if left is not None:
        keep = keep * (x >= xp[0])
    if right is not None:
        keep = keep * (x <= xp[-1])
    out = _add_at(out, j, g * keep * (1.0 - w))
    if n > 1:
        out = _add_at(out, j + 1, g * keep * w)
    return out


@twin(interp_vjp_fp)
def _interp_vjp_fp(g, x, xp, left=None, right=None, period=None):
    scalar = result_scalar(xp, g)
    if _interp_typing(x, xp, period) is None or scalar is None or is_complex_type(g):
        return None
    has_left, has_right, flat_g, flat_x = (
        literal(left) is not None,
        literal(right) is not None,
        flat_of(g),
        flat_of(x),
    )

    def impl(g, x, xp, left=None, right=None, period=None):  # each entry split between its segment's ends
        xs = flat_x(x)
        gs = np.broadcast_to(flat_g(g), xs.shape)
        n = xp.size
        out = np.zeros(n, scalar)
        for e in range(xs.size):
            v = xs[e]
            j = 0 if n < 2 else min(max(np.searchsorted(xp, v, side="right") - 1, 0), n - 2)
            w = 0.0 if n == 1 else min(max((v - xp[j]) / (xp[j + 1] - xp[j]), 0.0), 1.0)
            keep = 1.0
            if has_left and not v >= xp[0]:
                keep = 0.0
            if has_right and not v <= xp[-1]:
                keep = 0.0
            out[j] += gs[e] * keep * (1.0 - w)
            if n > 1:
                out[j + 1] += gs[e] * keep * w
        return out

    return impl


def interp_jvp_fp(t: Any, x: Any, xp: Any, left: Any = None, right: Any = None, period: Any = None) -> Any:
    """The tangent of ``np.interp(x, xp, fp, left, right)`` for a tangent ``t`` of ``fp``."""
    _interp_check(xp, period)
    return np.interp(x, xp, t, None if left is None else 0.0, None if right is None else 0.0)


def interp_below(x: Any, xp: Any, period: Any = None) -> Any:
    """1 where ``np.interp`` returns ``left`` (``x < xp[0]``), else 0."""
    _interp_check(xp, period)
    return (x < np.asarray(xp)[0]).astype(grad_dtype(x, 1.0))


@twin(interp_below)
def _interp_below(x, xp, period=None):
    return _interp_mask(x, xp, period, lambda v, first, last: v < first)


def interp_above(x: Any, xp: Any, period: Any = None) -> Any:
    """1 where ``np.interp`` returns ``right`` (``x > xp[-1]``), else 0."""
    _interp_check(xp, period)
    return (x > np.asarray(xp)[-1]).astype(grad_dtype(x, 1.0))


@twin(interp_above)
def _interp_above(x, xp, period=None):
    return _interp_mask(x, xp, period, lambda v, first, last: v > last)


@twin(interp_jvp_fp)
def _interp_jvp_fp(t, x, xp, left=None, right=None, period=None):
    shaped = _interp_typing(x, xp, period)
    if shaped is None or not is_array(t) or is_complex_type(t):
        return None
    has_left, has_right, flat_x = literal(left) is not None, literal(right) is not None, flat_of(x)

    def impl(
        t, x, xp, left=None, right=None, period=None
    ):  # np.interp of the tangents (0 outside where given)
        xs = flat_x(x)
        out = np.interp(xs, xp, t)
        for e in range(xs.size):
            if (has_left and xs[e] < xp[0]) or (has_right and xs[e] > xp[-1]):
                out[e] = 0.0
        return shaped(out, x)

    return impl
