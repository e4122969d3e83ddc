"""Elementwise helpers: arithmetic guarded where a derivative would divide by zero or take
the log of zero (``xlogy``, ``safe_div``, ``safe_log``), the masks of clip and fmax, and casts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import is_array, is_complex_type, is_number, is_numeric, literal, result_scalar, twin
from .arrays import _is_complex, grad_dtype
from .checks import real_like

__all__ = ["xlogy", "xdivy", "safe_div", "safe_log", "inside", "nan_max_share", "astype_vjp", "astype_jvp"]


def xlogy(a: Any, b: Any) -> Any:
    """``a * np.log(b)``, but 0 where ``a`` is 0 (as ``scipy.special.xlogy``).

    ``d(x ** y)/dy = x ** y * log(x)`` is 0, not NaN, where ``x`` is 0 and ``y`` > 0.
    """
    zero = a == 0
    out = np.where(zero, 0.0, a * np.log(np.where(zero, 1.0, b)))
    return out.astype(np.result_type(a, b, 1.0), copy=False)  # float32 stays float32


@twin(xlogy)
def _xlogy(a, b):
    scalar = result_scalar(a, b)
    if scalar is None or is_complex_type(a) or is_complex_type(b):
        return None
    if is_number(a) and is_number(b):
        return lambda a, b: scalar(0.0 if a == 0 else a * np.log(b))
    return lambda a, b: np.where(a == 0, 0.0, a * np.log(np.where(a == 0, 1.0, b))).astype(scalar)


def xdivy(a: Any, b: Any) -> Any:
    """``a / b``, but 0 where ``a`` is 0 (the derivatives of ``xlogy``)."""
    zero = a == 0
    return np.where(zero, 0.0, a / np.where(zero, 1.0, b))


@twin(xdivy)
def _xdivy(a, b):
    if not (is_numeric(a) and is_numeric(b)):
        return None
    if is_number(a) and is_number(b):
        return lambda a, b: 0.0 if a == 0 else a / b
    return lambda a, b: np.where(a == 0, 0.0, a / np.where(a == 0, 1.0, b))


def safe_div(a: Any, b: Any) -> Any:
    """``a / b``, but 0 where ``b`` is 0: the finite choice at a non-differentiable point
    (``hypot`` at the origin, ``cbrt`` at 0, the removable 0/0 of ``sinc``)."""
    zero = b == 0
    out = np.where(zero, 0.0, a / np.where(zero, 1.0, b))
    return out.astype(np.result_type(a, b, 1.0), copy=False)


@twin(safe_div)
def _safe_div(a, b):
    if not (is_numeric(a) and is_numeric(b)):
        return None
    if is_number(a) and is_number(b):
        return lambda a, b: 0.0 if b == 0 else a / b
    return lambda a, b: np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def safe_log(x: Any) -> Any:
    """``np.log(x)``, but 0 where ``x`` is 0: ``d(x ** y)/dy = x ** y * log(x)`` is 0 where ``x``
    is 0 (``0 ** y`` is constant for ``y`` > 0; autograd's value at ``y`` <= 0 too), at every order."""
    if x.__class__ is float:  # a Python float stays one (float32 arrays it meets stay float32)
        return float(np.log(x)) if x != 0 else 0.0
    zero = x == 0
    if zero is False or (zero.__class__ is np.bool_ and not zero):
        return np.log(x)
    return np.where(zero, 0.0, np.log(np.where(zero, 1.0, x)))


@twin(safe_log)
def _safe_log(x):
    if is_number(x):
        return lambda x: 0.0 if x == 0 else np.log(x)
    if is_array(x):
        return lambda x: np.where(x == 0, 0.0, np.log(np.where(x == 0, 1.0, x)))
    return None


def inside(x: Any, lo: Any, hi: Any) -> Any:
    """Where ``np.clip`` passes ``x`` through (its derivative is 1 there, 0 elsewhere)."""
    mask = np.ones_like(x, dtype=bool)
    if lo is not None:
        mask = mask & (x >= lo)
    if hi is not None:
        mask = mask & (x <= hi)
    return mask


@twin(inside)
def _inside(x, lo, hi):
    low, high = literal(lo) is not None, literal(hi) is not None

    def impl(x, lo, hi):
        mask = np.ones(np.shape(x), np.bool_)
        if low:
            mask &= x >= lo
        if high:
            mask &= x <= hi
        return mask

    return impl if is_array(x) else None


def nan_max_share(x: Any, y: Any) -> Any:
    """The share of ``x`` in ``np.fmax(x, y)``: 1 where it is picked (``y`` NaN included), 1/2 at ties."""
    share = np.where(np.isnan(y), 1.0, np.where(np.isnan(x), 0.0, (x > y) + 0.5 * (x == y)))
    return share.astype(np.result_type(x, y, 1.0), copy=False)


@twin(nan_max_share)
def _nan_max_share(x, y):
    scalar = result_scalar(x, y)
    if scalar is None or is_complex_type(x) or is_complex_type(y):
        return None
    if is_number(x) and is_number(y):
        return lambda x, y: scalar(1.0 if np.isnan(y) else 0.0 if np.isnan(x) else (x > y) + 0.5 * (x == y))

    def impl(x, y):
        share = np.where(np.isnan(y), 1.0, np.where(np.isnan(x), 0.0, (x > y) + 0.5 * (x == y)))
        return share.astype(scalar)

    return impl


def _float_cast(dtype: Any) -> bool:
    """Does casting to ``dtype`` keep derivatives? Yes for a float or complex type; an integer
    or bool type truncates (a step function: derivative 0 wherever it has one)."""
    return bool(np.issubdtype(dtype, np.inexact))


def astype_vjp(g: Any, a: Any, dtype: Any) -> Any:
    """The adjoint of ``a.astype(dtype)``: ``g`` in ``a``'s float (or complex) type for a float
    or complex ``dtype``, zero for an integer or bool one. A cast of complex ``a`` to a real
    type keeps the real part: its adjoint is ``Re(g)``."""
    dt = grad_dtype(a, 1.0)
    if not _float_cast(dtype):
        return np.zeros_like(a, dtype=dt)
    if dt.kind == "c" and not np.issubdtype(dtype, np.complexfloating):
        g = np.real(g)
    elif dt.kind != "c":
        g = real_like(g, a)
    return g.astype(dt) if hasattr(g, "astype") else dt.type(g)


def _cast_to(dtype: Any) -> Any:
    """The numpy dtype a numba type of ``astype``'s argument stands for (``np.float32``, ``float``,
    ``'float64'``), None for another."""
    from numba.core import types
    from numba.np.numpy_support import as_dtype

    if isinstance(dtype, types.NumberClass):
        return as_dtype(dtype.instance_type)
    if isinstance(dtype, types.Function) and dtype.typing_key in (float, int, bool, complex):
        return np.dtype(dtype.typing_key)
    if isinstance(literal(dtype), str):
        try:
            return np.dtype(literal(dtype))
        except TypeError:
            return None
    return None


@twin(astype_vjp)
def _astype_vjp(g, a, dtype):
    target, dt = _cast_to(dtype), result_scalar(a)
    if target is None or dt is None or not (is_numeric(g) and is_numeric(a)):
        return None
    cast = (lambda v: v.astype(dt)) if is_array(g) else (lambda v: dt(v))
    import numba

    cast = numba.njit(cast)
    if not _float_cast(target):  # (a step: no derivative)
        if is_array(a):
            return lambda g, a, dtype: np.zeros(a.shape, dt)
        return lambda g, a, dtype: dt(0)
    if np.dtype(dt).kind == "c" and target.kind != "c":  # (the real part kept)
        return lambda g, a, dtype: cast(np.real(g))
    if np.dtype(dt).kind == "c":
        return lambda g, a, dtype: cast(g)
    return lambda g, a, dtype: cast(real_like(g, a))


def astype_jvp(t: Any, dtype: Any) -> Any:
    """The tangent of ``a.astype(dtype)``: ``t`` cast to ``dtype`` for a float or complex
    ``dtype`` (the real part for a real one), zero (of float type) for an integer or bool one."""
    if not _float_cast(dtype):
        return np.zeros_like(t, dtype=np.result_type(np.real(t), 1.0))
    if _is_complex(t) and not np.issubdtype(dtype, np.complexfloating):
        t = np.real(t)
    return t.astype(dtype) if hasattr(t, "astype") else np.dtype(dtype).type(t)


@twin(astype_jvp)
def _astype_jvp(t, dtype):
    target = _cast_to(dtype)
    if target is None or not is_numeric(t):
        return None
    if not _float_cast(target):
        real = np.result_type(np.dtype(result_scalar(t)).type(0).real, 1.0).type
        if is_array(t):
            return lambda t, dtype: np.zeros(t.shape, real)
        return lambda t, dtype: real(0)
    kind = target.type
    if is_complex_type(t) and target.kind != "c":
        if is_array(t):
            return lambda t, dtype: np.real(t).astype(kind)
        return lambda t, dtype: kind(np.real(t))
    if is_array(t):
        return lambda t, dtype: t.astype(kind)
    return lambda t, dtype: kind(t)
