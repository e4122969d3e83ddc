"""Numba twins of the runtime helpers (draft; each moves beside its helper)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from . import runtime
from .errors import NonScalarOutputError, UnsupportedSyntaxError
from .twins import literal, raised_by, twin


def _kernels():
    """numba functions the twins share, compiled on first use."""
    global _KERNELS
    if _KERNELS is None:
        import numba

        @numba.njit(cache=False)
        def sum_to(g, shape):
            """``g`` summed over the axes it was broadcast along, to ``shape``."""
            n, m = g.ndim, len(shape)
            out = np.zeros(shape, g.dtype)
            flat = out.reshape(-1)
            strides = np.zeros(n, np.int64)
            step = 1
            for i in range(m - 1, -1, -1):
                if shape[i] != 1:
                    strides[n - m + i] = step
                step *= shape[i]
            values = np.ascontiguousarray(g).reshape(-1)
            index = np.zeros(n, np.int64)
            for k in range(values.size):
                at = 0
                for i in range(n):
                    at += index[i] * strides[i]
                flat[at] += values[k]
                i = n - 1
                while i >= 0:
                    index[i] += 1
                    if index[i] < g.shape[i]:
                        break
                    index[i] = 0
                    i -= 1
            return out

        _KERNELS = sum_to
    return _KERNELS


_KERNELS = None


def _is_array(t):
    from numba.core import types

    return isinstance(t, types.Array)


def _is_number(t):
    from numba.core import types

    return isinstance(t, (types.Number, types.Boolean))


def _is_complex(t):
    from numba.core import types

    if isinstance(t, types.Array):
        t = t.dtype
    return isinstance(t, types.Complex)


def _raising(error: Any) -> Any:
    """A numba function that raises ``error`` (a srcgrad error made when typing the call)."""
    return _raiser(type(error), error.message, error.filename, error.lineno, error.line, error.hint)


@functools.lru_cache(maxsize=None)
def _raiser(cls, message, filename, lineno, line, hint):
    import numba

    @numba.njit
    def fail():
        raise cls(message, filename, lineno, line, hint)

    return fail


@twin(runtime.check_scalar)
def _check_scalar(ans, where):
    where = literal(where)
    if _is_complex(ans):
        fail = _raising(runtime.not_real(where))

        def complex_(ans, where):
            fail()
            return False

        return complex_
    if _is_number(ans) or (_is_array(ans) and ans.ndim == 0):
        return lambda ans, where: False
    if not _is_array(ans):
        return None

    def impl(ans, where):
        if ans.size != 1:
            raise NotScalar(where, ans.shape)
        return True

    return impl


class NotScalar(NonScalarOutputError):
    """``runtime.not_scalar``'s error, made from the shape numba passes."""

    def __init__(self, where, shape):
        made = runtime.not_scalar(np.broadcast_to(0.0, shape), where)
        super().__init__(made.message, made.filename, made.lineno, made.line, made.hint)


@twin(runtime.size_one_gradient)
def _size_one_gradient(gradient, *args):
    fail = _raising(
        NonScalarOutputError(
            "jit=True computes grad of 0-d outputs; this one has one element but is not 0-d",
            hint="return a 0-d value (np.sum(y), y[0]), or use jit=False.",
        )
    )

    def impl(gradient, *args):
        fail()

    return impl


@raised_by(runtime.size_one_refused)
class SizeOneRefused(NonScalarOutputError):
    def __init__(self):
        made = runtime.size_one_refused()
        super().__init__(made.message, made.filename, made.lineno, made.line, made.hint)


@raised_by(runtime.aliased_update)
class AliasedUpdate(UnsupportedSyntaxError):
    def __init__(self, name, where):
        made = runtime.aliased_update(name, where)
        super().__init__(made.message, made.filename, made.lineno, made.line, made.hint)


@twin(runtime.check_real)
def _check_real(where, *values):
    where = literal(where)
    flat = list(values[0]) if len(values) == 1 and isinstance(values[0], tuple) else list(values)
    if any(_is_complex(v) or _holds_complex(v) for v in flat):
        fail = _raising(runtime.not_real(where))

        def complex_(where, *values):
            fail()

        return complex_
    return lambda where, *values: None


def _holds_complex(t):
    from numba.core import types

    if isinstance(t, types.BaseTuple):
        return any(_is_complex(i) or _holds_complex(i) for i in t)
    if isinstance(t, types.List):
        return _is_complex(t.dtype) or _holds_complex(t.dtype)
    return False


@twin(runtime.real_like)
def _real_like(g, x):
    if _is_complex(g) and not _is_complex(x) and not _holds_complex(x):
        return lambda g, x: g.real
    if _is_array(g) or _is_number(g):
        return lambda g, x: g
    return None


def _gradient_scalar(x):
    """The numpy scalar class of ``x``'s gradient: its float or complex type, else float64."""
    from numba.core import types
    from numba.np.numpy_support import as_dtype

    dtype = x.dtype if isinstance(x, types.Array) else x
    if isinstance(dtype, (types.Float, types.Complex)):
        return as_dtype(dtype).type
    return np.float64


@twin(runtime.filled)
def _filled(value, x):
    if not (_is_number(value) and (_is_array(x) or _is_number(x))):
        return None
    scalar = _gradient_scalar(x)
    return lambda value, x: scalar(value)


def _kept(ndim: int, axis, keepdims):
    """Which axes of an ``ndim``-d array a reduction over ``axis`` removed (None: all)."""
    axis = literal(axis)
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(isinstance(a, int) for a in axes):
        return False
    return tuple(a % ndim for a in axes)


@twin(runtime.unbroadcast)
def _unbroadcast(g, x):
    if _is_number(g):
        return lambda g, x: g
    if not _is_array(g):
        return None
    if _is_number(x):
        return lambda g, x: g.sum()
    if not _is_array(x):
        return None
    sum_to = _kernels()
    if g.ndim == x.ndim:

        def same(g, x):
            if g.shape == x.shape:
                return g
            return sum_to(g, x.shape)

        return same
    if g.ndim > x.ndim:
        return lambda g, x: sum_to(g, x.shape)
    return None


def _with_kept_axes(ndim: int, axes: tuple):
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


@twin(runtime.expand)
def _expand(g, x, axis=None, keepdims=False):
    if not _is_array(x):
        return None
    axes = _kept(x.ndim, axis, keepdims)
    scalar = _gradient_scalar(x)
    if axes is None and _is_number(g):
        return lambda g, x, axis=None, keepdims=False: np.full(x.shape, scalar(g))
    if not axes or not _is_array(g):
        return None
    kept = _with_kept_axes(x.ndim, axes)

    def impl(g, x, axis=None, keepdims=False):
        out = np.empty(x.shape, scalar)
        out[...] = np.broadcast_to(np.ascontiguousarray(g).reshape(kept(x.shape)), x.shape)
        return out

    return impl


@twin(runtime.extremum_grad)
def _extremum_grad(g, x, ans, axis=None, keepdims=False):
    if not _is_array(x):
        return None
    axes = _kept(x.ndim, axis, keepdims)
    if axes is None and _is_number(g) and _is_number(ans):

        def whole(g, x, ans, axis=None, keepdims=False):
            hit = x == ans
            return g * (hit / hit.sum())

        return whole
    if not axes or not _is_array(g):
        return None
    kept, sum_to = _with_kept_axes(x.ndim, axes), _kernels()

    def impl(g, x, ans, axis=None, keepdims=False):
        shape = kept(x.shape)
        hit = x == np.broadcast_to(np.ascontiguousarray(ans).reshape(shape), x.shape)
        count = sum_to(hit.astype(np.float64), shape)
        spread = np.ascontiguousarray(g).reshape(shape) / count
        return hit * np.broadcast_to(spread, x.shape)

    return impl


@twin(runtime.dot_vjp_a)
def _dot_vjp_a(g, a, b):
    na, nb = _ndim(a), _ndim(b)
    if na is None or nb is None:
        return None
    if na == 0 or nb == 0:
        return (lambda g, a, b: (g * b).sum()) if nb != 0 and na == 0 else None
    if nb == 1:
        return (lambda g, a, b: g * b) if na == 1 else (lambda g, a, b: np.outer(g, b)) if na == 2 else None
    if nb == 2 and na <= 2:
        return lambda g, a, b: np.dot(g, b.T)
    return None


@twin(runtime.dot_vjp_b)
def _dot_vjp_b(g, a, b):
    na, nb = _ndim(a), _ndim(b)
    if na is None or nb is None:
        return None
    if na == 0 or nb == 0:
        return (lambda g, a, b: (g * a).sum()) if na != 0 and nb == 0 else None
    if na == 1 and nb == 1:
        return lambda g, a, b: g * a
    if na == 2 and nb == 1:
        return lambda g, a, b: np.dot(g, a)
    if na == 2 and nb == 2:
        return lambda g, a, b: np.dot(a.T, g)
    if na == 1 and nb == 2:
        return lambda g, a, b: np.outer(a, g)
    return None


@twin(runtime.matmul_vjp_a)
def _matmul_vjp_a(g, a, b):
    if _ndim(a) in (1, 2) and _ndim(b) in (1, 2):  # (there a @ b is np.dot(a, b))
        return _dot_vjp_a(g, a, b)
    return None


@twin(runtime.matmul_vjp_b)
def _matmul_vjp_b(g, a, b):
    if _ndim(a) in (1, 2) and _ndim(b) in (1, 2):
        return _dot_vjp_b(g, a, b)
    return None


@twin(runtime.prod_vjp)
def _prod_vjp(g, x, axis=None, keepdims=False):
    if not (_is_array(x) and _is_number(g) and literal(axis) is None):
        return None

    def impl(g, x, axis=None, keepdims=False):  # exact where x has zeros: products before and after
        flat = np.ascontiguousarray(x).reshape(-1)
        others = np.empty_like(flat)
        before = flat.dtype.type(1)
        for i in range(flat.size):
            others[i] = before
            before *= flat[i]
        after = flat.dtype.type(1)
        for i in range(flat.size - 1, -1, -1):
            others[i] *= after
            after *= flat[i]
        return others.reshape(x.shape) * g

    return impl


@twin(runtime.inside)
def _inside(x, lo, hi):
    low, high = literal(lo) is not None, literal(hi) is not None

    def impl(x, lo, hi):
        mask = np.ones(np.shape(x), np.bool_)
        if low:
            mask &= x >= lo
        if high:
            mask &= x <= hi
        return mask

    return impl if _is_array(x) else None


@twin(runtime.size_of)
def _size_of(x):
    if _is_array(x):
        return lambda x: x.size
    return (lambda x: 1) if _is_number(x) else None


def _elementwise(t):
    return _is_array(t) or _is_number(t)


@twin(runtime.safe_div)
def _safe_div(a, b):
    if not (_elementwise(a) and _elementwise(b)):
        return None
    if _is_number(a) and _is_number(b):
        return lambda a, b: 0.0 if b == 0 else a / b
    return lambda a, b: np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


@twin(runtime.xdivy)
def _xdivy(a, b):
    if not (_elementwise(a) and _elementwise(b)):
        return None
    if _is_number(a) and _is_number(b):
        return lambda a, b: 0.0 if a == 0 else a / b
    return lambda a, b: np.where(a == 0, 0.0, a / np.where(a == 0, 1.0, b))


@twin(runtime.safe_log)
def _safe_log(x):
    if _is_number(x):
        return lambda x: 0.0 if x == 0 else np.log(x)
    if _is_array(x):
        return lambda x: np.where(x == 0, 0.0, np.log(np.where(x == 0, 1.0, x)))
    return None


@twin(runtime.zero_tangent)
def _zero_tangent(x):
    scalar = _gradient_scalar(x) if _elementwise(x) else None
    if _is_number(x):
        return lambda x: scalar(0)
    return (lambda x: np.zeros(x.shape, scalar)) if _is_array(x) else None


@twin(runtime.unexpand)
def _unexpand(g, v, axis=None, keepdims=False):
    if literal(axis) is None and _is_array(g):
        return _unbroadcast(g, v) and (lambda g, v, axis=None, keepdims=False: runtime.unbroadcast(g, v))
    return None


@twin(runtime.zero_adjoint)
def _zero_adjoint(x):
    from numba.core import types

    if isinstance(x, (types.NoneType, types.Omitted)) or x is None:
        return lambda x: 0.0
    if _is_array(x):
        return lambda x: np.zeros_like(x)
    if _is_number(x):
        zero = _gradient_scalar(x)(0)
        return lambda x: zero
    return None


@twin(runtime.not_a_dict)
def _not_a_dict(items, where):
    from numba.core import types

    if isinstance(items, (types.List, types.BaseTuple, types.Array, types.RangeType)):
        return lambda items, where: items
    return None


@twin(runtime.with_item)
def _with_item(x, index, value):
    if not _is_array(x):
        return None

    def impl(x, index, value):
        out = x.copy()
        out[index] = value
        return out

    return impl


@twin(runtime.without_item)
def _without_item(g, index):
    if not _is_array(g):
        return None

    def impl(g, index):
        out = g.copy()
        out[index] = 0.0
        return out

    return impl


@twin(runtime.unconcatenate)
def _unconcatenate(g, arrays, axis=0):
    from numba.core import types

    if not (_is_array(g) and literal(axis) == 0 and isinstance(arrays, (types.List, types.UniTuple))):
        return None

    def impl(g, arrays, axis=0):
        pieces = []
        start = 0
        for a in arrays:
            n = a.shape[0]
            pieces.append(g[start : start + n])
            start += n
        return pieces

    return impl


def _basic(index):
    """Is ``index`` (a numba type) a basic index: integers, slices, None, an Ellipsis?"""
    from numba.core import types

    parts = index.types if isinstance(index, types.BaseTuple) else (index,)
    return all(
        isinstance(p, (types.Integer, types.SliceType, types.NoneType, types.EllipsisType)) for p in parts
    )


@twin(runtime.item_grad)
def _item_grad(g, index, value):
    if _is_array(g) and _basic(index):
        return lambda g, index, value: runtime.unbroadcast(g[index], value)
    return None


@twin(runtime.add_item)
def _add_item(total, index, g):
    from numba.core import types

    if not _is_array(total):
        return None
    if _basic(index):

        def basic(total, index, g):
            out = (
                total.astype(np.result_type(total.dtype, np.float64))
                if total.dtype.kind != "f"
                else total.copy()
            )
            out[index] += g
            return out

        return basic if isinstance(total.dtype, types.Float) else None
    return None


@twin(runtime.add_lists)
def _add_lists(a, b):
    from numba.core import types

    if _elementwise(a) and _elementwise(b):
        return lambda a, b: a + b
    if isinstance(a, types.Float) and isinstance(b, types.List):
        return lambda a, b: b
    if isinstance(b, types.Float) and isinstance(a, types.List):
        return lambda a, b: a
    if isinstance(a, types.List) and isinstance(b, types.List) and _elementwise(a.dtype):
        return lambda a, b: [x + y for x, y in zip(a, b)]
    return None


@twin(runtime.sum_vjp)
def _sum_vjp(g, items):
    from numba.core import types

    if isinstance(items, (types.List, types.UniTuple)) and _elementwise(items.dtype) and _elementwise(g):
        return lambda g, items: [runtime.unbroadcast(g, item) for item in items]
    return None


@twin(runtime.unarray)
def _unarray(g, obj):
    from numba.core import types

    if _is_array(g) and isinstance(obj, (types.List, types.UniTuple)) and _elementwise(obj.dtype):
        return lambda g, obj: [runtime.unbroadcast(g[i], obj[i]) for i in range(len(obj))]
    if _is_array(g) and _elementwise(obj):
        return lambda g, obj: runtime.unbroadcast(g, obj)
    return None


def _ndim(t):
    if _is_array(t):
        return t.ndim
    return 0 if _is_number(t) else None


@twin(runtime.getitem_grad)
def _getitem_grad(g, x, index):
    from numba.core import types

    if not _is_array(x):
        return None
    scalar = _gradient_scalar(x)
    parts = index.types if isinstance(index, types.BaseTuple) else (index,)
    if all(
        isinstance(p, (types.Integer, types.SliceType, types.NoneType, types.EllipsisType)) for p in parts
    ):

        def basic(g, x, index):
            out = np.zeros(x.shape, scalar)
            out[index] = g
            return out

        return basic
    if isinstance(index, types.Array) and isinstance(index.dtype, types.Integer) and index.ndim == 1:

        def gather(g, x, index) -> Any:  # repeated indices add up, as np.add.at
            out = np.zeros(x.shape, scalar)
            for k in range(index.shape[0]):
                out[index[k]] += g[k]
            return out

        return gather
    return None


def numpy_for_scalars():
    """numpy functions generated code calls on Python and numpy scalars, which numba types
    for arrays only: ``np.zeros_like(x)`` and ``np.reshape(t, ())`` of a float, and a
    reversed ``range``."""
    from numba.core import types
    from numba.extending import overload

    @overload(np.zeros_like)
    def _zeros_like(x, dtype=None):
        if _is_number(x) and dtype is None:
            zero = _gradient_scalar(x)(0) if not isinstance(x, types.Integer) else 0
            return lambda x, dtype=None: zero
        return None

    @overload(np.ones_like)
    def _ones_like(x, dtype=None):
        if _is_number(x) and dtype is None:
            one = _gradient_scalar(x)(1) if not isinstance(x, types.Integer) else 1
            return lambda x, dtype=None: one
        return None

    @overload(np.reshape)
    def _reshape(x, shape):
        if _is_number(x) and isinstance(shape, types.BaseTuple) and len(shape) == 0:
            return lambda x, shape: x
        return None

    @overload(np.concatenate)
    def _concatenate(arrays, axis=0):
        if not (isinstance(arrays, types.List) and _is_array(arrays.dtype) and literal(axis) == 0):
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

    @overload(reversed)
    def _reversed(r):
        if isinstance(r, types.RangeType):
            return lambda r: range(r.start + (len(r) - 1) * r.step, r.start - r.step, -r.step)
        return None


def _reduction(op, a, axis, keepdims):
    """numpy's ``op(a, axis=..., keepdims=...)`` for numba, which takes neither for most ``op``s."""
    import numba
    from numba.np.unsafe.ndarray import to_fixed_tuple

    axis, keepdims = literal(axis), bool(literal(keepdims))
    if not _is_array(a) or (axis is None and not keepdims):
        return None
    axes = tuple(range(a.ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    if not all(isinstance(i, int) for i in axes) or not isinstance(keepdims, bool):
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


@functools.lru_cache(maxsize=None)
def _compiled_op(op):
    import numba

    return numba.njit(op)


def numpy_reductions() -> None:
    """``axis`` and ``keepdims`` for numpy's reductions under numba (it has ``np.sum(a, axis)`` only)."""
    from numba.extending import overload

    def declare(fn, op, always):
        def typing(a, axis=None, keepdims=False):
            if not always and literal(keepdims) is False and not isinstance(literal(axis), tuple):
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
