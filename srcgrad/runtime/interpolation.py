"""``np.interp`` (its adjoint in ``fp``, and the masks and segments its other derivatives
need) and the adjoint of the coefficients of ``np.polyval``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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


def interp_inside(x: Any, xp: Any, period: Any = None) -> Any:
    """1 where ``x`` is in ``[xp[0], xp[-1])``, else 0: where ``np.interp`` has a slope (its
    right derivative: the slope of the segment starting at a knot, 0 from the last knot on)."""
    _interp_check(xp, period)
    xp = np.asarray(xp)
    return ((x >= xp[0]) & (x < xp[-1])).astype(grad_dtype(x, 1.0))


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


def interp_jvp_fp(t: Any, x: Any, xp: Any, left: Any = None, right: Any = None, period: Any = None) -> Any:
    """The tangent of ``np.interp(x, xp, fp, left, right)`` for a tangent ``t`` of ``fp``."""
    _interp_check(xp, period)
    return np.interp(x, xp, t, None if left is None else 0.0, None if right is None else 0.0)


def interp_below(x: Any, xp: Any, period: Any = None) -> Any:
    """1 where ``np.interp`` returns ``left`` (``x < xp[0]``), else 0."""
    _interp_check(xp, period)
    return (x < np.asarray(xp)[0]).astype(grad_dtype(x, 1.0))


def interp_above(x: Any, xp: Any, period: Any = None) -> Any:
    """1 where ``np.interp`` returns ``right`` (``x > xp[-1]``), else 0."""
    _interp_check(xp, period)
    return (x > np.asarray(xp)[-1]).astype(grad_dtype(x, 1.0))
