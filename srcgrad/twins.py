"""Numba twins of runtime helpers: how ``jit=True`` code runs what generated code calls.

A twin is declared beside its helper with ``@twin(helper)``. Its body runs when numba types
a call (``numba.extending.overload``): it gets numba's types of the arguments (literal ones
where the call site spells a constant, such as ``check_scalar(x, 'f.py:3')``) and returns the
implementation numba compiles, or None where it has none (numba then names the line it
cannot compile, and srcgrad says ``jit=False`` works). Declaring a twin imports nothing:
numba is imported and the twins registered only when ``jit=True`` is first used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

TWINS: dict[Callable, Callable] = {}  # helper -> its twin's typing function
RAISED: dict[Callable, type] = {}  # helper making an error -> the class numba raises instead


def twin(helper: Callable) -> Callable[[Callable], Callable]:
    """Declare the decorated function as ``helper``'s numba twin."""

    def register(typing: Callable) -> Callable:
        TWINS[helper] = typing
        return typing

    return register


def raised_by(helper: Callable) -> Callable[[type], type]:
    """Declare the decorated exception class as what numba raises where generated code says
    ``raise helper(...)`` (numba raises classes, not what a function returns)."""

    def register(cls: type) -> type:
        RAISED[helper] = cls
        return cls

    return register


def literal(value_type: Any) -> Any:
    """The constant a literal numba type stands for (``'f.py:3'``, ``1``, ``True``, a tuple of
    them), None for an omitted argument or ``None``, and the type itself otherwise."""
    from numba.core import types

    if isinstance(value_type, types.Literal):
        return value_type.literal_value
    if isinstance(value_type, types.Omitted):
        return value_type.value
    if value_type is None or isinstance(value_type, types.NoneType):
        return None
    if isinstance(value_type, types.BaseTuple) and all(isinstance(t, types.Literal) for t in value_type):
        return tuple(t.literal_value for t in value_type)
    return value_type


# -- what twins share: numba types asked about, kernels, errors raised from compiled code ---------


@functools.cache
def sum_to_kernel() -> Any:
    """``sum_to(g, shape)``: ``g`` summed over the axes it was broadcast along to ``shape`` (the
    heart of ``unbroadcast``'s twin), compiled on first use."""
    import numba

    @numba.njit
    def sum_to(g, shape):
        n, m = g.ndim, len(shape)
        out = np.zeros(shape, g.dtype)
        flat = out.reshape(-1)
        strides = np.zeros(n, np.int64)  # of out, along each axis of g (0 where summed)
        step = 1
        for i in range(m - 1, -1, -1):
            if shape[i] != 1:
                strides[n - m + i] = step
            step *= shape[i]
        values = np.ascontiguousarray(g).reshape(-1)
        width = g.shape[n - 1] if n > 0 else 1  # a row: g's last axis, kept or summed whole
        if values.size == 0:
            return out
        keep_last = n > 0 and strides[n - 1] != 0
        index = np.zeros(n, np.int64)
        for row in range(values.size // width):
            at = 0
            for i in range(n - 1):
                at += index[i] * strides[i]
            start = row * width
            if keep_last:
                flat[at : at + width] += values[start : start + width]
            else:
                total = flat[at]
                for j in range(width):
                    total += values[start + j]
                flat[at] = total
            i = n - 2
            while i >= 0:
                index[i] += 1
                if index[i] < g.shape[i]:
                    break
                index[i] = 0
                i -= 1
        return out

    return sum_to


def is_array(t: Any) -> bool:
    """Is the numba type ``t`` an array's?"""
    from numba.core import types

    return isinstance(t, types.Array)


def is_number(t: Any) -> bool:
    """Is the numba type ``t`` a number's (a bool too)?"""
    from numba.core import types

    return isinstance(t, (types.Number, types.Boolean))


def is_complex_type(t: Any) -> bool:
    """Is the numba type ``t`` a complex number's or a complex array's?"""
    from numba.core import types

    if isinstance(t, types.Array):
        t = t.dtype
    return isinstance(t, types.Complex)


def is_float64_array(t: Any, *ndims: int) -> bool:
    """Is the numba type ``t`` a float64 array (with one of ``ndims`` dimensions, if given)? What
    the linear algebra twins take: numba's ``np.linalg`` wants one dtype and matrices."""
    from numba.core import types

    return isinstance(t, types.Array) and t.dtype == types.float64 and (not ndims or t.ndim in ndims)


def raising(error: Any) -> Any:
    """A numba function that raises ``error`` (a srcgrad error made when typing the call)."""
    return _raiser(type(error), error.message, error.filename, error.lineno, error.line, error.hint)


@functools.cache
def _raiser(cls, message, filename, lineno, line, hint):
    import numba

    @numba.njit
    def fail():
        raise cls(message, filename, lineno, line, hint)

    return fail


def holds_complex(t: Any) -> bool:
    """Does the numba type ``t`` of a tuple or list hold complex values?"""
    from numba.core import types

    if isinstance(t, types.BaseTuple):
        return any(is_complex_type(i) or holds_complex(i) for i in t)
    if isinstance(t, types.List):
        return is_complex_type(t.dtype) or holds_complex(t.dtype)
    return False


def gradient_scalar(x: Any) -> Any:
    """The numpy scalar class of ``x``'s gradient: its float or complex type, else float64."""
    from numba.core import types
    from numba.np.numpy_support import as_dtype

    dtype = x.dtype if isinstance(x, types.Array) else x
    if isinstance(dtype, (types.Float, types.Complex)):
        return as_dtype(dtype).type
    return np.float64


def result_scalar(*ts: Any) -> Any:
    """numpy's result type of values of numba types ``ts`` and a Python float (as ``grad_dtype``
    and ``np.result_type(x, y, 1.0)``), None where numba's types cannot tell it: a number next
    to a float32 (or complex64) array, which is weak as a Python number and strong as a numpy
    scalar, or a type that is neither an array's nor a number's."""
    from numba.core import types
    from numba.np.numpy_support import as_dtype

    ts = [types.unliteral(t) for t in ts]
    if not all(is_array(t) or is_number(t) for t in ts):
        return None
    arrays = [as_dtype(t.dtype) for t in ts if is_array(t)]
    numbers = [as_dtype(t) for t in ts if is_number(t) and not isinstance(t, types.Boolean)]
    strong = np.result_type(*arrays, *numbers, 1.0)
    if arrays and numbers and np.result_type(*arrays, 1.0) != strong:
        return None
    return strong.type


def reduced_axes(ndim: int, axis: Any, keepdims: Any) -> Any:
    """Which axes of an ``ndim``-d array a reduction over ``axis`` removed (None: all)."""
    axis = literal(axis)
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(isinstance(a, int) for a in axes):
        return False
    return tuple(a % ndim for a in axes)


@functools.cache
def with_kept_axes(ndim: int, axes: tuple) -> Any:
    """A function of an array of shape ``s`` reduced over ``axes``: ``s`` with those axes kept as 1."""
    import numba
    from numba.np.unsafe.ndarray import to_fixed_tuple

    removed = np.zeros(ndim, np.bool_)
    removed[list(axes)] = True

    @numba.njit
    def kept(shape):
        out = np.empty(ndim, np.int64)
        for i in range(ndim):
            out[i] = 1 if removed[i] else shape[i]
        return to_fixed_tuple(out, ndim)

    return kept


def rows_layout(ndim: int, axis: Any) -> Any:
    """``(to_rows, from_rows)`` for an ``ndim``-d array and the axes ``axis`` spells (a literal
    int, tuple or None: all), None for another ``axis``: ``to_rows(a)`` is ``a`` (C-contiguous:
    a view where ``a`` already is one, never to be written into) with those axes moved last (in order) and flattened into one, one row per entry of
    the other axes (numpy's ``np.moveaxis(a, axes, last)`` reshaped); ``from_rows(rows, a)``
    puts such rows back in ``a``'s shape."""
    axis = literal(axis)
    axes = tuple(range(ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    if ndim == 0 or not all(isinstance(i, int) and not isinstance(i, bool) for i in axes):
        return None
    return _rows_layout(ndim, tuple(sorted({i % ndim for i in axes})))


@functools.cache
def _rows_layout(ndim: int, axes: tuple) -> Any:
    import numba

    perm = tuple(i for i in range(ndim) if i not in axes) + axes
    back = tuple(int(i) for i in np.argsort(perm))

    @numba.njit
    def to_rows(a):
        moved = np.ascontiguousarray(a.transpose(perm))
        width = 1
        for i in axes:
            width *= a.shape[i]
        return moved.reshape((moved.size // width if width else 0, width))

    @numba.njit
    def from_rows(rows, a):
        return np.ascontiguousarray(
            np.ascontiguousarray(rows).reshape(a.transpose(perm).shape).transpose(back)
        )

    return to_rows, from_rows


def swap_first(ndim: int, axis: Any) -> Any:
    """The permutation of ``ndim`` axes that swaps axis 0 with ``axis`` (a literal int, or None:
    0), None for another ``axis``: ``a.transpose(perm)[i]`` is ``a``'s slice ``i`` along it."""
    axis = 0 if literal(axis) is None else literal(axis)
    if not isinstance(axis, int) or isinstance(axis, bool) or not -ndim <= axis < ndim:
        return None
    perm = list(range(ndim))
    perm[0], perm[axis % ndim] = axis % ndim, 0
    return tuple(perm)


def constant(t: Any) -> Any:
    """The constant a numba type of a literal or of a (nested) tuple of literals stands for
    (``((1, 0), (2, 3))``), None for another type."""
    from numba.core import types

    if isinstance(t, types.Literal):
        return t.literal_value
    if isinstance(t, types.BaseTuple):
        items = [constant(i) for i in t]
        return None if any(i is None for i in items) else tuple(items)
    return None


def flat_of(t: Any) -> Any:
    """A compiled function giving a value of numba type ``t`` (a number or an array) as a flat
    C-contiguous array, in numpy's order."""
    import numba

    if is_number(t):
        return numba.njit(lambda v: np.full(1, v))
    return numba.njit(lambda v: np.ascontiguousarray(v).ravel())


def is_numeric(t: Any) -> bool:
    """Is the numba type ``t`` an array's or a number's?"""
    return is_array(t) or is_number(t)


def is_basic_index(index: Any) -> bool:
    """Is ``index`` (a numba type) a basic index: integers, slices, None, an Ellipsis?"""
    from numba.core import types

    parts = index.types if isinstance(index, types.BaseTuple) else (index,)
    return all(
        isinstance(p, (types.Integer, types.SliceType, types.NoneType, types.EllipsisType)) for p in parts
    )


def ndim_of(t: Any) -> int | None:
    """The dimensions of an array or number of numba type ``t`` (None for others)."""
    if is_array(t):
        return t.ndim
    return 0 if is_number(t) else None


def numpy_beyond_numba() -> None:
    """numpy functions as generated code calls them, where numba takes other types only:
    ``np.zeros_like(x)``, ``np.ones_like(x)`` and ``np.reshape(t, ())`` of a number,
    ``np.concatenate`` and ``np.stack`` of a list (numba's take tuples), ``reversed(range)``,
    ``np.take`` of n-d indices along an axis
    (and the products numba lacks: ``srcgrad.runtime.products.numpy_linear_algebra``)."""
    from numba.core import types
    from numba.extending import overload

    @overload(np.zeros_like)
    def _zeros_like(x, dtype=None):
        if is_number(x) and dtype is None:
            zero = gradient_scalar(x)(0) if not isinstance(x, types.Integer) else 0
            return lambda x, dtype=None: zero
        return None

    @overload(np.ones_like)
    def _ones_like(x, dtype=None):
        if is_number(x) and dtype is None:
            one = gradient_scalar(x)(1) if not isinstance(x, types.Integer) else 1
            return lambda x, dtype=None: one
        return None

    @overload(np.take, prefer_literal=True)
    def _take(a, indices, axis=None):
        """numba's own np.take of indices of two or more axes along an axis drops their
        shape (a (2, 1) index gives (2, 4), not (2, 1, 4)): taken flat, then shaped."""
        k = literal(axis)
        if not (is_array(a) and is_array(indices) and indices.ndim > 1 and k is not None):
            return None
        if not isinstance(k, int):

            def unknown(a, indices, axis=None):
                raise NotImplementedError("np.take of n-d indices along an axis known at run time only")

            return unknown
        from numba.np.unsafe.ndarray import to_fixed_tuple

        k %= a.ndim
        m, out = indices.ndim, a.ndim + indices.ndim - 1

        def impl(a, indices, axis=None):
            flat = np.take(a, indices.ravel(), axis=k)
            shape = np.empty(out, np.int64)  # a.shape[:k] + indices.shape + a.shape[k + 1:]
            for i in range(out):
                shape[i] = a.shape[i] if i < k else indices.shape[i - k] if i < k + m else a.shape[i - m + 1]
            return np.ascontiguousarray(flat).reshape(to_fixed_tuple(shape, out))

        return impl

    @overload(np.reshape)
    def _reshape(x, shape):
        if is_number(x) and isinstance(shape, types.BaseTuple) and len(shape) == 0:
            return lambda x, shape: x
        return None

    @overload(np.concatenate)
    def _concatenate(arrays, axis=0):
        if not (isinstance(arrays, types.List) and is_array(arrays.dtype) and literal(axis) == 0):
            return None  # (numba's own takes tuples)
        from numba.np.unsafe.ndarray import to_fixed_tuple

        ndim, dtype = arrays.dtype.ndim, arrays.dtype.dtype

        def impl(arrays, axis=0):
            total = 0
            for a in arrays:
                total += a.shape[0]
            shape = np.empty(ndim, np.int64)
            for i in range(ndim):
                shape[i] = arrays[0].shape[i]
            shape[0] = total
            out = np.empty(to_fixed_tuple(shape, ndim), dtype)
            start = 0
            for a in arrays:
                out[start : start + a.shape[0]] = a
                start += a.shape[0]
            return out

        return impl

    @overload(np.stack)
    def _stack(arrays, axis=0):
        if not (isinstance(arrays, types.List) and is_array(arrays.dtype) and literal(axis) == 0):
            return None  # (numba's own takes tuples)
        from numba.np.unsafe.ndarray import to_fixed_tuple

        ndim, dtype = arrays.dtype.ndim, arrays.dtype.dtype
        stacked = ndim + 1

        def impl(arrays, axis=0):
            shape = np.empty(stacked, np.int64)
            shape[0] = len(arrays)
            for i in range(ndim):
                shape[i + 1] = arrays[0].shape[i]
            out = np.empty(to_fixed_tuple(shape, stacked), dtype)
            for k in range(len(arrays)):
                out[k] = arrays[k]
            return out

        return impl

    @overload(reversed)
    def _reversed(r):
        if isinstance(r, types.RangeType):
            return lambda r: range(r.start + (len(r) - 1) * r.step, r.start - r.step, -r.step)
        return None


def _reduction(op, a, axis, keepdims):
    """numpy's ``op(a, axis=..., keepdims=...)`` for numba, which takes neither for most ``op``s."""
    from numba.np.unsafe.ndarray import to_fixed_tuple

    axis, keepdims = literal(axis), literal(keepdims)
    if not is_array(a) or not isinstance(keepdims, bool):  # (keepdims known when typing, or no twin)
        return None
    axes = tuple(range(a.ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    if not all(isinstance(i, int) for i in axes):
        return None
    ndim = a.ndim
    axes = tuple(sorted(i % ndim for i in axes))
    others = tuple(i for i in range(ndim) if i not in axes)
    perm = others + axes
    out_ndim = ndim if keepdims else len(others)
    reduce = _compiled_op(op)
    if out_ndim == 0:
        return lambda a, axis=None, keepdims=False: reduce(a.ravel())

    def impl(a, axis=None, keepdims=False):
        rows = np.ascontiguousarray(a.transpose(perm))
        width = 1
        for i in axes:
            width *= a.shape[i]
        rows = rows.reshape((rows.size // max(width, 1), width))
        first = reduce(rows[0])
        out = np.empty(rows.shape[0], type(first))
        for i in range(rows.shape[0]):
            out[i] = reduce(rows[i])
        shape = np.empty(out_ndim, np.int64)
        k = 0
        for i in range(ndim):
            if i in axes:
                if keepdims:
                    shape[k] = 1
                    k += 1
            else:
                shape[k] = a.shape[i]
                k += 1
        return out.reshape(to_fixed_tuple(shape, out_ndim))

    return impl


@functools.cache
def _compiled_op(op):
    import numba

    return numba.njit(op)


def numpy_reductions() -> None:
    """``axis`` and ``keepdims`` for numpy's reductions under numba (it has ``np.sum(a, axis)`` only)."""
    from numba.core import types
    from numba.extending import overload

    def declare(fn, op, always):
        def typing(a, axis=None, keepdims=False):
            omitted = keepdims is False or isinstance(keepdims, types.Omitted)
            if not always and omitted and isinstance(literal(axis), int):
                return None  # numba's own np.sum(a, axis)
            return _reduction(op, a, axis, keepdims)

        overload(fn, prefer_literal=True)(typing)

    declare(np.sum, lambda v: v.sum(), False)
    for fn in (np.max, np.amax):
        declare(fn, lambda v: v.max(), True)
    for fn in (np.min, np.amin):
        declare(fn, lambda v: v.min(), True)
    declare(np.mean, lambda v: v.mean(), True)
    declare(np.prod, lambda v: v.prod(), True)
