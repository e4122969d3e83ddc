"""Sums and broadcasts, each the other's adjoint: ``unbroadcast`` sums an adjoint back to an
operand's shape, ``expand`` copies the adjoint of a sum back over the reduced axes, ``filled``
is what every entry of such a copy would be; and the adjoints of ``np.broadcast_arrays`` and
``np.meshgrid``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import (
    gradient_scalar,
    is_array,
    is_number,
    literal,
    reduced_axes,
    result_scalar,
    sum_to_kernel,
    twin,
    with_kept_axes,
)
from .arrays import _FLOAT64, _NDARRAY, _copy, _foreign, _normalize_axes, grad_dtype

__all__ = [
    "unbroadcast",
    "filled",
    "expand",
    "unexpand",
    "meshgrid_vjp",
    "meshgrid_jvp",
    "broadcast_arrays_vjp",
    "broadcast_arrays_jvp",
]


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum ``g`` over the axes along which ``x`` was broadcast in the forward pass.

    ``g`` has the shape of the operation's output, which contains ``x``'s: if ``g`` is not an
    array the output was a scalar, so ``x`` was one too. These checks come first because the
    call is on the hot path of every broadcasting operation.
    """
    cls = g.__class__
    if cls is _FLOAT64 or cls is float:
        return g
    if cls is _NDARRAY:
        gshape = g.shape
    else:  # any array library (dask, CuPy): read its shape, never its class
        gshape = getattr(g, "shape", ())
        if not gshape:
            return g
    shape = x.shape if x.__class__ is _NDARRAY else np.shape(x)
    if gshape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = np.sum(g, axis=stretched, keepdims=True)
    return g


@twin(unbroadcast)
def _unbroadcast(g, x):
    if is_number(g):
        return lambda g, x: g
    if not is_array(g):
        return None
    if is_number(x):
        return lambda g, x: g.sum()
    if not is_array(x):
        return None
    sum_to = sum_to_kernel()
    if g.ndim == x.ndim:

        def same(g, x):
            if g.shape == x.shape:
                return g
            return sum_to(g, x.shape)

        return same
    if g.ndim > x.ndim:
        return lambda g, x: sum_to(g, x.shape)
    return None


def _keepdims(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    if keepdims or axis is None or np.ndim(x) == 0:
        return g
    return np.expand_dims(g, _normalize_axes(axis, np.ndim(x)))


def filled(value: Any, x: Any) -> Any:
    """What every entry of ``expand(value, x)`` would be: ``value`` as a numpy scalar of the
    gradient's dtype, which broadcasts and promotes as that array would (generated code uses
    it where each use meets an array of ``x``'s shape, so the array is never made)."""
    if x.__class__ is _NDARRAY and x.dtype == _FLOAT64 and not hasattr(value, "dtype"):
        return _FLOAT64(value)
    dtype = np.dtype(grad_dtype(x, value))
    return dtype.type(value) if not _foreign(value) else value.astype(dtype)  # (a lazy value stays lazy)


@twin(filled)
def _filled(value, x):
    if not (is_number(value) and (is_array(x) or is_number(x))):
        return None
    scalar = gradient_scalar(x)
    return lambda value, x: scalar(value)


def expand(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of a sum: ``g`` copied back over the reduced axes, shaped like ``x``."""
    if axis is None and type(g) is float and type(x) is np.ndarray and x.dtype == np.float64:
        return np.full(x.shape, g)  # the common case, without working out the dtype
    out = np.zeros_like(x, dtype=grad_dtype(x, g))
    out[...] = _keepdims(g, x, axis, keepdims)
    return out


@twin(expand)
def _expand(g, x, axis=None, keepdims=False):
    if is_number(x) and is_number(g):  # (a sum of a number)
        scalar = gradient_scalar(x)
        return lambda g, x, axis=None, keepdims=False: scalar(g)
    if not is_array(x):
        return None
    axes = reduced_axes(x.ndim, axis, keepdims)
    if axes and len(set(axes)) == x.ndim and is_number(g):  # (every axis: a whole reduction)
        axes = None
    scalar = gradient_scalar(x)
    if axes is None and is_number(g):
        return lambda g, x, axis=None, keepdims=False: np.full(x.shape, scalar(g))
    if not axes or not is_array(g):
        return None
    kept = with_kept_axes(x.ndim, axes)

    def impl(g, x, axis=None, keepdims=False):
        out = np.empty(x.shape, scalar)
        out[...] = np.broadcast_to(np.ascontiguousarray(g).reshape(kept(x.shape)), x.shape)
        return out

    return impl


def unexpand(g: Any, v: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of ``expand(v, x, axis, keepdims)``: ``g`` summed back to the shape of ``v``."""
    if axis is not None:
        g = np.sum(g, axis=axis, keepdims=keepdims)
    return unbroadcast(g, v)


@twin(unexpand)
def _unexpand(g, v, axis=None, keepdims=False):
    if literal(axis) is None and is_array(g):
        return lambda g, v, axis=None, keepdims=False: unbroadcast(g, v)
    return None


def _meshgrid_axes(n: int, indexing: str) -> list[int]:
    """The output axis along which ``np.meshgrid`` lays out each of its ``n`` inputs."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"indexing must be 'xy' or 'ij', not {indexing!r}")
    axes = list(range(n))
    if indexing == "xy" and n > 1:
        axes[0], axes[1] = 1, 0
    return axes


def meshgrid_vjp(g: Any, xi: Any, sparse: bool = False, indexing: str = "xy") -> list:
    """The adjoints of the inputs of ``np.meshgrid(*xi, sparse=sparse, indexing=indexing)``: each
    output's adjoint summed over every axis but its input's, shaped like that input."""
    axes = _meshgrid_axes(len(xi), indexing)
    out = []
    for gi, x, k in zip(g, xi, axes):
        others = tuple(i for i in range(np.ndim(gi)) if i != k)
        summed = np.sum(gi, axis=others) if others else _copy(gi)
        out.append(np.reshape(summed, np.shape(x)).astype(grad_dtype(x, summed), copy=False))
    return out


def _same_arrays(t: Any) -> bool:
    """Is ``t`` the numba type of a list or tuple of arrays of one type?"""
    from numba.core import types

    return isinstance(t, (types.List, types.UniTuple)) and is_array(t.dtype)


@twin(meshgrid_vjp)
def _meshgrid_vjp(g, xi, sparse=False, indexing="xy"):
    indexing = literal(indexing)
    if indexing not in ("xy", "ij") or not (_same_arrays(g) and _same_arrays(xi)):
        return None
    scalar = result_scalar(xi.dtype, g.dtype)
    if scalar is None:
        return None
    swap = indexing == "xy"

    def impl(g, xi, sparse=False, indexing="xy"):  # each output summed over all axes but its input's
        out = []
        for i in range(len(xi)):
            k = (1 - i if i < 2 else i) if swap and len(xi) > 1 else i
            gi = np.ascontiguousarray(g[i])
            flat, summed = gi.ravel(), np.zeros(gi.shape[k], scalar)
            inner = 1
            for d in range(k + 1, gi.ndim):
                inner *= gi.shape[d]
            for f in range(flat.size):
                summed[(f // inner) % gi.shape[k]] += flat[f]
            out.append(summed.reshape(xi[i].shape))
        return out

    return impl


def meshgrid_jvp(ts: Any, sparse: bool = False, indexing: str = "xy") -> list:
    """The tangents of ``np.meshgrid``'s outputs: the meshgrid of the inputs' tangents (copies)."""
    return [_copy(t) for t in np.meshgrid(*ts, sparse=sparse, indexing=indexing)]


def broadcast_arrays_vjp(g: Any, args: Any) -> list:
    """The adjoints of the inputs of ``np.broadcast_arrays(*args)``: each summed back to its shape."""
    return [unbroadcast(gi, x) for gi, x in zip(g, args)]


@twin(broadcast_arrays_vjp)
def _broadcast_arrays_vjp(g, args):
    if _same_arrays(g) and _same_arrays(args):
        return lambda g, args: [unbroadcast(g[i], args[i]) for i in range(len(args))]
    return None


def broadcast_arrays_jvp(ts: Any) -> list:
    """The tangents of ``np.broadcast_arrays``'s outputs: the tangents broadcast together (copies)."""
    return [_copy(t) for t in np.broadcast_arrays(*ts)]
