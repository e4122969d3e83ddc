"""The adjoints of functions that move or copy entries without arithmetic: transpose,
concatenate and stack (and their splits), tile, repeat, pad, append, ``np.array`` of nested
lists, and the joins ``np.apply_along_axis`` and ``np.vectorize`` are lowered to.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import (
    constant,
    is_array,
    is_number,
    is_numeric,
    literal,
    ndim_of,
    result_scalar,
    rows_layout,
    swap_first,
    twin,
)
from .arrays import _add_at, _array_of, _foreign, _inverse, _split, grad_dtype, size_of
from .broadcasting import expand, unbroadcast
from .checks import refuse

__all__ = [
    "untranspose",
    "unconcatenate",
    "unstack",
    "unstack_like",
    "stack_like",
    "uncolumn_stack",
    "untile",
    "unrepeat",
    "unpad",
    "unappend_arr",
    "unappend_values",
    "unarray",
    "rearray",
    "along_rows",
    "unrows",
    "join_rows",
    "unjoin_rows",
]


def untranspose(g: Any, axes: Any) -> Any:
    """The adjoint of ``np.transpose(x, axes)``: transpose back."""
    return np.transpose(g) if axes is None else np.transpose(g, _inverse(axes))


@twin(untranspose)
def _untranspose(g, axes):
    axes = literal(axes)
    if not is_array(g):
        return None
    if axes is None:
        return lambda g, axes: g.T
    if not (isinstance(axes, tuple) and all(isinstance(i, int) for i in axes)):
        return None
    back = tuple(int(i) for i in np.argsort(axes))
    return lambda g, axes: g.transpose(back)


def unconcatenate(g: Any, arrays: Any, axis: int = 0) -> list:
    """The adjoint of ``np.concatenate``: ``g`` split back into pieces shaped like the inputs."""
    return _split(g, [np.shape(a)[axis] for a in arrays], axis)


@twin(unconcatenate)
def _unconcatenate(g, arrays, axis=0):
    from numba.core import types

    if not (is_array(g) and literal(axis) == 0 and isinstance(arrays, (types.List, types.UniTuple))):
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


def unstack(g: Any, arrays: Any, axis: int = 0) -> list:
    """The adjoint of ``np.stack``: the slices of ``g`` along the new axis."""
    return [np.take(g, i, axis=axis) for i in range(len(arrays))]


@twin(unstack)
def _unstack(g, arrays, axis=0):
    if is_array(g) and literal(axis) == 0:
        return lambda g, arrays, axis=0: [g[i] for i in range(len(arrays))]
    return None


def unstack_like(g: Any, arrays: Any, axis: int) -> list:
    """The adjoint of ``hstack`` (axis 1) and ``vstack`` (axis 0): split ``g`` back into the inputs.

    Like numpy, ``vstack`` sees every input as at least 2-d and ``hstack`` as at least 1-d,
    and ``hstack`` joins 1-d inputs end to end.
    """
    ndim = 2 if axis == 0 else 1
    shapes = [(1,) * (ndim - np.ndim(a)) + np.shape(a) for a in arrays]
    if len(shapes[0]) == 1:
        axis = 0
    pieces = _split(g, [s[axis] for s in shapes], axis)
    return [np.reshape(p, np.shape(a)) for p, a in zip(pieces, arrays)]


def _items(arrays: Any) -> Any:
    """The numba type of the items of a list or tuple of one type, None for another type."""
    from numba.core import types

    if isinstance(arrays, (types.List, types.UniTuple)) and is_numeric(arrays.dtype):
        return arrays.dtype
    return None


@twin(unstack_like)
def _unstack_like(g, arrays, axis):
    item, axis = _items(arrays), literal(axis)
    if not is_array(g) or item is None or axis not in (0, 1) or isinstance(axis, bool):
        return None
    d = ndim_of(item)
    if d == 0:  # numbers: hstack laid them in a row, vstack in a column
        if axis == 1:
            return lambda g, arrays, axis: [g[k] for k in range(len(arrays))]
        return lambda g, arrays, axis: [g[k, 0] for k in range(len(arrays))]
    if d == 1 and axis == 0:  # vstack: each vector is one row
        return lambda g, arrays, axis: [g[k] for k in range(len(arrays))]
    if d == 1 or axis == 0:  # hstack of vectors (joined end to end), vstack along the first axis

        def first(g, arrays, axis):
            pieces, start = [], 0
            for a in arrays:
                pieces.append(g[start : start + a.shape[0]])
                start += a.shape[0]
            return pieces

        return first

    def second(g, arrays, axis):
        pieces, start = [], 0
        for a in arrays:
            pieces.append(g[:, start : start + a.shape[1]])
            start += a.shape[1]
        return pieces

    return second


def stack_like(parts: Any, axis: int) -> Any:
    """``np.vstack`` (axis 0) or ``np.hstack`` (axis 1) of ``parts``: the adjoint of ``unstack_like``."""
    return np.vstack(parts) if axis == 0 else np.hstack(parts)


@twin(stack_like)
def _stack_like(parts, axis):
    item, axis = _items(parts), literal(axis)
    if item is None or axis not in (0, 1) or isinstance(axis, bool):
        return None
    d = ndim_of(item)
    if d == 0:  # numbers: a row (hstack) or a column (vstack)
        if axis == 1:
            return lambda parts, axis: np.array(parts)
        return lambda parts, axis: np.array(parts).reshape((-1, 1))
    if d == 1 and axis == 0:
        return lambda parts, axis: np.stack(parts)
    if d == 1 or axis == 0:
        return lambda parts, axis: np.concatenate(parts)
    if d != 2:
        return None

    def columns(parts, axis):  # matrices side by side
        width = 0
        for p in parts:
            width += p.shape[1]
        out = np.empty((parts[0].shape[0], width), parts[0].dtype)
        start = 0
        for p in parts:
            out[:, start : start + p.shape[1]] = p
            start += p.shape[1]
        return out

    return columns


def uncolumn_stack(g: Any, arrays: Any) -> list:
    """The adjoint of ``np.column_stack``: ``g`` split back into the inputs (1-d ones were columns)."""
    widths = [1 if np.ndim(a) < 2 else np.shape(a)[1] for a in arrays]
    pieces = _split(g, widths, 1)
    return [np.reshape(p, np.shape(a)) for p, a in zip(pieces, arrays)]


@twin(uncolumn_stack)
def _uncolumn_stack(g, arrays):
    item = _items(arrays)
    if not is_array(g) or g.ndim != 2 or ndim_of(item) not in (1, 2):
        return None
    if item.ndim == 1:  # each vector is one column
        return lambda g, arrays: [np.ascontiguousarray(g[:, k]) for k in range(len(arrays))]

    def impl(g, arrays):
        pieces, start = [], 0
        for a in arrays:
            pieces.append(g[:, start : start + a.shape[1]])
            start += a.shape[1]
        return pieces

    return impl


def untile(g: Any, a: Any, reps: Any) -> Any:
    """The adjoint of ``np.tile(a, reps)``: the copies of each entry summed, shaped like ``a``."""
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    nd = max(len(reps), np.ndim(a))
    shape = (1,) * (nd - np.ndim(a)) + np.shape(a)
    reps = (1,) * (nd - len(reps)) + reps
    interleaved = np.reshape(g, [n for pair in zip(reps, shape) for n in pair])
    return np.reshape(np.sum(interleaved, axis=tuple(range(0, 2 * nd, 2))), np.shape(a))


@twin(untile)
def _untile(g, a, reps):
    reps, d = constant(reps), ndim_of(a)
    reps = (reps,) if isinstance(reps, int) else reps
    if not is_array(g) or d is None or not isinstance(reps, tuple) or g.ndim != max(len(reps), d):
        return None
    nd = g.ndim
    shaped = (lambda out, a: out.reshape(a.shape)) if d else (lambda out, a: out[0])
    shaped = _compiled(shaped)

    def impl(g, a, reps):  # each entry of g added to the entry of a it copies
        shape = np.ones(nd, np.int64)
        for i in range(d):
            shape[nd - d + i] = np.shape(a)[i]
        out, gs = np.zeros(max(shape.prod(), 1), g.dtype), np.ascontiguousarray(g).ravel()
        for f in range(gs.size):
            rest, at, step = f, 0, 1
            for i in range(nd - 1, -1, -1):
                at += (rest % g.shape[i]) % shape[i] * step
                rest //= g.shape[i]
                step *= shape[i]
            out[at] += gs[f]
        return shaped(out, a)

    return impl


def _compiled(fn: Any) -> Any:
    import numba

    return numba.njit(fn)


def unrepeat(g: Any, a: Any, repeats: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.repeat(a, repeats, axis)``: the copies of each entry summed."""
    x = np.ravel(a) if axis is None else a
    ax = 0 if axis is None else axis % np.ndim(a)
    n = np.shape(x)[ax]
    owner = np.repeat(np.arange(n), np.broadcast_to(repeats, (n,)))
    moved = np.moveaxis(g, ax, 0)
    out = np.zeros((n,) + np.shape(moved)[1:], dtype=grad_dtype(a, g), like=_array_of(g))
    out = _add_at(out, owner, moved)
    return np.reshape(np.moveaxis(out, 0, ax), np.shape(a))


@twin(unrepeat)
def _unrepeat(g, a, repeats, axis=None):
    from numba.core import types

    scalar, d = result_scalar(a, g), ndim_of(a)
    if scalar is None or not is_array(g) or isinstance(literal(axis), tuple):
        return None
    if isinstance(repeats, types.Integer):
        count = _compiled(lambda repeats, i: repeats)
    elif isinstance(repeats, (types.Array, types.List)) and isinstance(repeats.dtype, types.Integer):
        count = _compiled(lambda repeats, i: repeats[i])
    else:
        return None
    if literal(axis) is None:  # (a flattened: g is 1-d)
        to_rows = _compiled(lambda g, a: np.ascontiguousarray(g).reshape((1, g.size)))
        from_rows = _compiled((lambda out, a: out.reshape(np.shape(a))) if d else (lambda out, a: out[0, 0]))
        width = _compiled((lambda a: a.size) if d else (lambda a: 1))
    else:
        layout = rows_layout(d, axis) if d else None
        if layout is None or g.ndim != d:
            return None
        rows, from_rows = layout
        k = literal(axis) % d
        to_rows = _compiled(lambda g, a: rows(g))
        width = _compiled(lambda a: a.shape[k])

    def impl(g, a, repeats, axis=None):  # each entry's copies added up
        gs = to_rows(g, a)
        n = width(a)
        out = np.zeros((gs.shape[0], n), scalar)
        j = 0
        for i in range(n):
            for _ in range(count(repeats, i)):
                for r in range(gs.shape[0]):
                    out[r, i] += gs[r, j]
                j += 1
        return from_rows(out, a)

    return impl


def unpad(g: Any, pad_width: Any, mode: str = "constant") -> Any:
    """The adjoint of ``np.pad(a, pad_width)`` with constant padding: the middle of ``g``."""
    if mode != "constant":
        raise refuse(
            f"srcgrad differentiates np.pad with mode='constant' only, not {mode!r}",
            "pad with mode='constant', or build the border with np.concatenate.",
            "pad",
        )
    widths = np.broadcast_to(pad_width, (np.ndim(g), 2))
    return g[tuple(slice(int(lo), n - int(hi)) for (lo, hi), n in zip(widths, np.shape(g)))]


@twin(unpad)
def _unpad(g, pad_width, mode="constant"):
    from numba.core import types

    def integers(t, count):
        return (
            isinstance(t, types.BaseTuple)
            and len(t) in count
            and all(isinstance(i, types.Integer) for i in t)
        )

    if not is_array(g) or literal(mode) not in ("constant", None):
        return None
    if isinstance(pad_width, types.Integer):  # the same width everywhere
        lo, hi = ["pad_width"] * g.ndim, ["pad_width"] * g.ndim
    elif integers(pad_width, (1, 2)):  # (before, after) for every axis
        lo, hi = ["pad_width[0]"] * g.ndim, [f"pad_width[{len(pad_width) - 1}]"] * g.ndim
    elif (
        isinstance(pad_width, types.BaseTuple)
        and len(pad_width) == g.ndim
        and all(integers(t, (2,)) for t in pad_width)
    ):
        lo, hi = [f"pad_width[{i}][0]" for i in range(g.ndim)], [f"pad_width[{i}][1]" for i in range(g.ndim)]
    else:
        return None
    cut = ", ".join(f"{lo[i]} : g.shape[{i}] - {hi[i]}" for i in range(g.ndim))
    namespace: dict = {}
    exec(f"def impl(g, pad_width, mode='constant'):\n    return g[{cut}]\n", namespace)  # noqa: S102
    return namespace["impl"]  # (the slices written out: numba takes no tuple of slices built in a loop)


def unappend_arr(g: Any, arr: Any, values: Any, axis: Any = None) -> Any:
    """The adjoint of ``arr`` in ``np.append(arr, values, axis)``: its part of ``g``, shaped like ``arr``."""
    if axis is None:
        return np.reshape(np.ravel(g)[: size_of(arr)], np.shape(arr)).copy()
    return _split(g, [np.shape(arr)[axis]], axis)[0].copy()


def unappend_values(g: Any, arr: Any, values: Any, axis: Any = None) -> Any:
    """The adjoint of ``values`` in ``np.append(arr, values, axis)``: its part of ``g``, shaped like ``values``."""
    if axis is None:
        return np.reshape(np.ravel(g)[size_of(arr) :], np.shape(values)).copy()
    return _split(g, [np.shape(arr)[axis], np.shape(g)[axis] - np.shape(arr)[axis]], axis)[1].copy()


def _unappend(g, arr, values, axis, own):
    """The twins of ``unappend_arr`` (``own``: the part of ``arr``) and ``unappend_values``."""
    if not (is_array(g) and is_array(arr) and (is_numeric(values) or own)):
        return None
    if literal(axis) is None:  # (both flattened, one after the other)
        if own:
            return lambda g, arr, values, axis=None: g.ravel()[: arr.size].reshape(arr.shape).copy()
        if is_number(values):
            return lambda g, arr, values, axis=None: g.ravel()[arr.size]
        return lambda g, arr, values, axis=None: g.ravel()[arr.size :].reshape(values.shape).copy()
    perm = swap_first(g.ndim, axis)
    if perm is None or arr.ndim != g.ndim:
        return None
    if own:
        return lambda g, arr, values, axis=None: np.ascontiguousarray(
            g.transpose(perm)[: arr.transpose(perm).shape[0]].transpose(perm)
        )
    return lambda g, arr, values, axis=None: np.ascontiguousarray(
        g.transpose(perm)[arr.transpose(perm).shape[0] :].transpose(perm)
    )


@twin(unappend_arr)
def _unappend_arr(g, arr, values, axis=None):
    return _unappend(g, arr, values, axis, own=True)


@twin(unappend_values)
def _unappend_values(g, arr, values, axis=None):
    return _unappend(g, arr, values, axis, own=False)


def unarray(g: Any, obj: Any) -> Any:
    """The adjoint of ``np.array(obj)``: for a (nested) list, the list of the rows of ``g``."""
    if isinstance(obj, (list, tuple)):
        return [unarray(g[i], item) for i, item in enumerate(obj)]
    return unbroadcast(g, obj)


@twin(unarray)
def _unarray(g, obj):
    from numba.core import types

    if is_array(g) and isinstance(obj, (types.List, types.UniTuple)) and is_numeric(obj.dtype):
        return lambda g, obj: [unbroadcast(g[i], obj[i]) for i in range(len(obj))]
    if is_array(g) and is_numeric(obj):
        return lambda g, obj: unbroadcast(g, obj)
    return None


def rearray(g: Any, v: Any, obj: Any) -> Any:
    """The adjoint of ``unarray(v, obj)`` with respect to ``v``: the rows stacked back (a sum
    copied back over broadcast axes where ``obj`` was an array)."""
    if isinstance(obj, (list, tuple)):
        rows = [rearray(g[i], v[i], item) for i, item in enumerate(obj)]
        return np.stack(rows) if _foreign(rows) else np.array(rows)
    return expand(g, v)


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
