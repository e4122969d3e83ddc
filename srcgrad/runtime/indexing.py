"""The adjoints of reading and writing entries: ``x[index]``, item updates, ``np.take``,
diagonals and traces, ``np.insert`` and ``np.delete``, ``np.select``, ``np.unique`` and the
joins ``np.piecewise`` is lowered to. Repeated indices accumulate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import (
    flat_of,
    gradient_scalar,
    is_array,
    is_basic_index,
    is_complex_type,
    is_number,
    literal,
    result_scalar,
    rows_layout,
    twin,
)
from .arrays import (
    _add_at,
    _array_of,
    _bincount_add,
    _copy,
    _foreign,
    _is_advanced,
    _like,
    grad_dtype,
    size_of,
)
from .broadcasting import unbroadcast
from .checks import _call, refuse
from .containers import _items_grad
from .forward import zero_tangent
from .trees import CONTAINERS, is_namedtuple

__all__ = [
    "getitem_grad",
    "with_item",
    "without_item",
    "item_grad",
    "list_item_grad",
    "take_vjp",
    "take_along_axis_vjp",
    "sort_indices",
    "trace_vjp",
    "undiag",
    "undiagonal",
    "uninsert_arr",
    "uninsert_values",
    "undelete",
    "select_where",
    "select_untaken",
    "select_vjp",
    "unique_vjp",
    "unique_jvp",
    "piecewise_join",
    "piecewise_vjp",
    "piecewise_mask",
    "piecewise_otherwise",
    "piecewise_value",
]


def getitem_grad(g: Any, x: Any, index: Any) -> Any:
    """The adjoint of ``x[index]``: ``g`` scattered into zeros shaped like ``x``.

    Repeated integer indices accumulate (``np.add.at``); basic indices assign. For a
    container ``x`` (tuple, list, dict), a container like it (see ``items_grad``).
    """
    if isinstance(x, CONTAINERS):
        return _items_grad(x, [(index, g)])
    out = np.zeros_like(x, dtype=grad_dtype(x, g))
    if _is_advanced(index):
        return _add_at(out, index, g)
    out[index] = g
    return out


@twin(getitem_grad)
def _getitem_grad(g, x, index):
    from numba.core import types

    if not is_array(x):
        return None
    scalar = gradient_scalar(x)
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


def with_item(x: Any, index: Any, value: Any) -> Any:
    """``x[index] = value`` without touching ``x``: generated code never writes into arrays."""
    out = _copy(x)
    out[index] = value
    return out


@twin(with_item)
def _with_item(x, index, value):
    if not is_array(x):
        return None

    def impl(x, index, value):
        out = x.copy()
        out[index] = value
        return out

    return impl


def without_item(g: Any, index: Any) -> Any:
    """The adjoint of the array in ``with_item``: what was overwritten gets no gradient."""
    out = _copy(g)
    out[index] = 0.0
    return out


@twin(without_item)
def _without_item(g, index):
    if not is_array(g):
        return None

    def impl(g, index):
        out = g.copy()
        out[index] = 0.0
        return out

    return impl


def item_grad(g: Any, index: Any, value: Any) -> Any:
    """The adjoint of the value in ``with_item``: ``g`` at the places where it landed.

    With a repeated index only the last write lands, so the earlier ones get no gradient.
    (Only shapes are needed, and ``g`` has the array's: the tape need not keep the array.)
    """
    part = g[index]
    if isinstance(g, (dict, list)):  # d["k"] = v: the item's adjoint
        return part
    if _is_advanced(index) and _foreign((g, index)):
        raise refuse(
            f"srcgrad differentiates an update y[index] = v with an index array on numpy arrays only, not on "
            f"{type(g).__module__}.{type(g).__name__} (where indices repeat, only the last write lands)",
            "update with slices, or build the array with np.where or np.concatenate.",
        )
    if _is_advanced(index):
        ids = np.reshape(np.arange(size_of(part)), np.shape(part))
        written = np.full(np.shape(g), -1)
        written[index] = ids
        part = np.where(written[index] == ids, part, 0.0)
    return unbroadcast(part, value)


@twin(item_grad)
def _item_grad(g, index, value):
    if is_array(g) and is_basic_index(index):
        return lambda g, index, value: unbroadcast(g[index], value)
    return None


def list_item_grad(g: Any, items: Any, index: Any) -> list:
    """The adjoint of ``items[index]`` for a list: ``g`` at ``index``, zeros elsewhere."""
    if not isinstance(items, (list, tuple)) or is_namedtuple(items):  # an array, a dict, a namedtuple
        return getitem_grad(g, items, index)
    out = [
        zero_tangent(item)
        if isinstance(item, (list, tuple))
        else np.zeros_like(item, dtype=grad_dtype(item, g))
        for item in items
    ]
    out[index] = g
    return out


def take_vjp(g: Any, a: Any, indices: Any, axis: Any = None, mode: str = "raise") -> Any:
    """The adjoint of ``np.take(a, indices, axis, mode=mode)``: ``g`` added back where it was taken."""
    n = size_of(a) if axis is None else np.shape(a)[axis]
    if not _foreign(indices):
        indices = np.asarray(indices)
        indices = int(indices) if indices.ndim == 0 else indices  # (dask slices with ints, not 0-d arrays)
    indices = (
        np.mod(indices, n) if mode == "wrap" else np.clip(indices, 0, n - 1) if mode == "clip" else indices
    )
    out = np.zeros_like(a, dtype=grad_dtype(a, g))
    if axis is None:
        return np.reshape(_add_at(np.reshape(out, -1), indices, g), np.shape(a))
    return _add_at(out, (slice(None),) * (axis % np.ndim(a)) + (indices,), g)


def _flat_ints(t: Any) -> Any:
    """A compiled function giving an integer, or a list or array of them, as a flat int array;
    None for another numba type ``t``."""
    import numba
    from numba.core import types

    if isinstance(t, types.Integer):
        return numba.njit(lambda i: np.full(1, i, np.int64))
    if isinstance(t, types.Array) and isinstance(t.dtype, types.Integer):
        return numba.njit(lambda i: np.ascontiguousarray(i).ravel().astype(np.int64))
    if isinstance(t, types.List) and isinstance(t.dtype, types.Integer):
        return numba.njit(lambda i: np.array(i, np.int64))
    return None


def _pre_post(ndim: int, axis: Any) -> Any:
    """A compiled ``(before, n, after)``: the sizes of a ``ndim``-d shape before, along and
    after ``axis`` (a literal int; None: the flattened array), None for another ``axis``."""
    import numba

    k = literal(axis)
    if k is None:
        return numba.njit(lambda shape: (1, int(np.prod(np.array(shape))), 1))
    if not isinstance(k, int) or isinstance(k, bool) or not -ndim <= k < ndim:
        return None
    k %= ndim

    @numba.njit
    def sizes(shape):
        before, after = 1, 1
        for i in range(ndim):
            if i < k:
                before *= shape[i]
            elif i > k:
                after *= shape[i]
        return before, shape[k], after

    return sizes


@twin(take_vjp)
def _take_vjp(g, a, indices, axis=None, mode="raise"):
    mode, scalar, ids = literal(mode), result_scalar(a, g), _flat_ints(indices)
    if not is_array(a) or scalar is None or ids is None or mode not in ("raise", "wrap", "clip", None):
        return None
    sizes, flat_g, wrap, clip = _pre_post(a.ndim, axis), flat_of(g), mode == "wrap", mode == "clip"
    if sizes is None or (literal(axis) is not None and is_array(indices) and indices.ndim > 1):
        return None  # (numba's own np.take(a, indices, axis) gets n-d indices wrong: not compiled)

    def impl(g, a, indices, axis=None, mode="raise"):  # g added back where it was taken
        before, n, after = sizes(a.shape)
        out, gs, taken = np.zeros((before, n, after), scalar), flat_g(g), ids(indices)
        gs = gs.reshape((before, taken.size, after))
        for j in range(taken.size):
            i = taken[j]
            i = i % n if wrap else min(max(i, 0), n - 1) if clip else i + n if i < 0 else i
            if not 0 <= i < n:
                raise IndexError("index out of range in np.take")
            out[:, i] += gs[:, j]
        return out.reshape(a.shape)

    return impl


def take_along_axis_vjp(g: Any, arr: Any, indices: Any, axis: Any = -1) -> Any:
    """The adjoint of ``np.take_along_axis(arr, indices, axis)``: ``g`` added back where it was taken."""
    out = np.zeros_like(arr, dtype=grad_dtype(arr, g))
    if _foreign((arr, g, indices)):  # the flat position of each entry taken, added up
        size = size_of(arr)
        flat = np.arange(size, like=_array_of(arr, g, indices))
        positions = _call(
            np.take_along_axis, flat if axis is None else np.reshape(flat, np.shape(arr)), indices, axis
        )
        return np.reshape(_bincount_add(positions, g, size, out.dtype), np.shape(arr))
    if axis is None:
        np.add.at(np.reshape(out, -1), indices, g)
        return out
    where = list(np.indices(np.shape(g), sparse=True))
    where[axis % np.ndim(arr)] = indices
    np.add.at(out, tuple(where), g)
    return out


@twin(take_along_axis_vjp)
def _take_along_axis_vjp(g, arr, indices, axis=-1):
    from numba.core import types

    scalar = result_scalar(arr, g)
    if not (is_array(arr) and is_array(g) and is_array(indices) and isinstance(indices.dtype, types.Integer)):
        return None
    if scalar is None or g.ndim != indices.ndim:
        return None
    if literal(axis) is None:  # (1-d indices into the flattened arr)

        def flat(g, arr, indices, axis=-1):
            out = np.zeros(arr.size, scalar)
            for k in range(indices.size):
                i = indices[k]
                out[i + arr.size if i < 0 else i] += g[k]
            return out.reshape(arr.shape)

        return flat
    layout = rows_layout(arr.ndim, axis) if isinstance(literal(axis), int) else None
    if layout is None or arr.ndim != indices.ndim:
        return None
    to_rows, from_rows = layout

    others = np.array([i for i in range(arr.ndim) if i != literal(axis) % arr.ndim], np.int64)

    def impl(g, arr, indices, axis=-1):  # along the axis moved last
        gs, ids = to_rows(g), to_rows(np.broadcast_to(indices, g.shape))
        out = np.zeros(to_rows(arr).shape, scalar)
        n = out.shape[1]
        for r in range(gs.shape[0]):
            row, rest, step = 0, r, 1  # the row of arr that row r of g took from (arr may broadcast)
            for d in range(others.size - 1, -1, -1):
                size = arr.shape[others[d]]
                if size > 1:
                    row += (rest % g.shape[others[d]]) * step
                rest //= g.shape[others[d]]
                step *= size
            for k in range(gs.shape[1]):
                i = ids[r, k]
                out[row, i + n if i < 0 else i] += gs[r, k]
        return from_rows(out, arr)

    return impl


def sort_indices(a: Any, axis: Any = -1) -> Any:
    """The permutation ``np.sort`` applies (stable: tied entries keep their order, and their
    derivatives follow that order)."""
    return _call(np.argsort, a, axis=axis, kind="stable")


@twin(sort_indices)
def _sort_indices(a, axis=-1):
    if not is_array(a) or a.ndim == 0:
        return None
    if literal(axis) is None:
        return lambda a, axis=-1: np.argsort(a.ravel(), kind="mergesort")  # (stable)
    layout = rows_layout(a.ndim, axis) if isinstance(literal(axis), int) else None
    if layout is None:
        return None
    to_rows, from_rows = layout

    def impl(a, axis=-1):
        rows = to_rows(a)
        out = np.empty(rows.shape, np.intp)
        for r in range(rows.shape[0]):
            out[r] = np.argsort(rows[r], kind="mergesort")  # (stable)
        return from_rows(out, a)

    return impl


def trace_vjp(g: Any, x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The adjoint of ``np.trace``: ``g`` on the traced diagonal, zero elsewhere."""
    shape = np.shape(x)
    eye = np.eye(shape[axis1], shape[axis2], k=offset, dtype=grad_dtype(x, g))
    eye = np.moveaxis(eye.reshape(eye.shape + (1,) * (len(shape) - 2)), (0, 1), (axis1, axis2))
    return _like(eye * np.expand_dims(g, (axis1, axis2)) if np.ndim(g) else eye * g, x)


@twin(trace_vjp)
def _trace_vjp(g, x, offset=0, axis1=0, axis2=1):
    put = _diagonal_typing(g, x, offset, axis1, axis2, along=False)
    return None if put is None else lambda g, x, offset=0, axis1=0, axis2=1: put(g, x, offset)


def undiag(g: Any, v: Any, k: int = 0) -> Any:
    """The adjoint of ``np.diag(v, k)``: for a vector ``v`` the diagonal of ``g``; for a matrix
    ``v`` the vector ``g`` placed on its ``k``-th diagonal, zeros elsewhere."""
    if np.ndim(v) == 1:
        return np.diag(g, k)
    return undiagonal(g, v, k, 0, 1)


@twin(undiag)
def _undiag(g, v, k=0):
    if not (is_array(g) and is_array(v)) or v.ndim not in (1, 2):
        return None
    if v.ndim == 1:
        return lambda g, v, k=0: np.diag(g, k)
    return lambda g, v, k=0: undiagonal(g, v, k, 0, 1)


def _diagonal_typing(g, a, offset, axis1, axis2, along):
    """For the twins of ``undiagonal`` (``along``: ``g`` runs along the diagonal) and ``trace_vjp``
    (``g`` is the same along it): a compiled ``put(g, a, offset)``, ``g`` put on the diagonal of
    zeros shaped like ``a``; None where they do not take these types."""
    import numba
    from numba.core import types

    axes, scalar = (literal(axis1), literal(axis2)), result_scalar(a, g)
    if not is_array(a) or scalar is None or not isinstance(offset, (int, types.Integer, types.Omitted)):
        return None
    if (
        not all(isinstance(i, int) and -a.ndim <= i < a.ndim for i in axes)
        or axes[0] % a.ndim == axes[1] % a.ndim
    ):
        return None
    pair = tuple(i % a.ndim for i in axes)
    perm = tuple(i for i in range(a.ndim) if i not in pair) + pair
    back = tuple(int(i) for i in np.argsort(perm))
    flat_g = flat_of(g)

    @numba.njit
    def put(g, a, offset):
        moved = a.transpose(perm).shape
        rows, cols = moved[-2], moved[-1]
        out = np.zeros((a.size // max(rows * cols, 1), rows, cols), scalar)
        r0, c0 = max(-offset, 0), max(offset, 0)
        n = max(min(rows - r0, cols - c0), 0)
        gs = flat_g(g).reshape((out.shape[0], n if along else 1))
        for p in range(out.shape[0]):
            for i in range(n):
                out[p, r0 + i, c0 + i] = gs[p, i if along else 0]
        return np.ascontiguousarray(out.reshape(moved).transpose(back))

    return put


def undiagonal(g: Any, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The adjoint of ``np.diagonal(a, offset, axis1, axis2)``: ``g`` on that diagonal, zeros elsewhere."""
    out = np.zeros_like(a, dtype=grad_dtype(a, g))
    if _foreign(g) or _foreign(a):  # no views to write into: pick g's entry for each (row, column)
        rows, cols = np.shape(a)[axis1], np.shape(a)[axis2]
        r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        i = r - max(-offset, 0)  # the position along the diagonal of each (row, column)
        on = (c - r == offset) & (i >= 0) & (i < np.shape(g)[-1])
        picked = np.take(g, np.ravel(np.where(on, i, 0)), axis=-1)
        full = np.where(on, np.reshape(picked, np.shape(g)[:-1] + (rows, cols)), 0.0)
        return np.moveaxis(full.astype(out.dtype), (-2, -1), (axis1, axis2))
    moved = np.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writing into it writes into out
    i = np.arange(np.shape(g)[-1]) if np.ndim(g) else np.arange(0)
    moved[..., i + max(-offset, 0), i + max(offset, 0)] = g
    return out


@twin(undiagonal)
def _undiagonal(g, a, offset=0, axis1=0, axis2=1):
    put = _diagonal_typing(g, a, offset, axis1, axis2, along=True)
    return None if put is None else lambda g, a, offset=0, axis1=0, axis2=1: put(g, a, offset)


def _gather_back(g: Any, where: Any, like: Any) -> Any:
    """``g`` added back into an array shaped like ``like``: ``where`` (shaped like ``g``) is the
    flat index in ``like`` of each entry of ``g``, -1 for none."""
    dtype = grad_dtype(like, g)
    taken = where >= 0
    if _foreign(g) or _foreign(like):
        added = _bincount_add(np.where(taken, where, 0), np.where(taken, g, 0.0), size_of(like), dtype)
        return np.reshape(added, np.shape(like))
    out = np.zeros(size_of(like), dtype=dtype)
    np.add.at(out, where[taken], np.broadcast_to(g, np.shape(where))[taken])
    return np.reshape(out, np.shape(like))


def _flat_indices(x: Any) -> Any:
    return np.reshape(np.arange(size_of(x)), np.shape(x))


def uninsert_arr(g: Any, arr: Any, obj: Any, values: Any, axis: Any = None) -> Any:
    """The adjoint of ``arr`` in ``np.insert(arr, obj, values, axis)``: ``g`` where ``arr``'s entries went."""
    return _gather_back(g, np.insert(_flat_indices(arr), obj, np.full(np.shape(values), -1), axis=axis), arr)


def uninsert_values(g: Any, arr: Any, obj: Any, values: Any, axis: Any = None) -> Any:
    """The adjoint of ``values`` in ``np.insert(arr, obj, values, axis)``: ``g`` where they were
    inserted, summed over the copies that broadcasting made. (numpy inserts the flat indices of
    ``values`` exactly as it inserts the values themselves.)"""
    where = np.insert(np.full(np.shape(arr), -1), obj, _flat_indices(values), axis=axis)
    return _gather_back(g, where, values)


def undelete(g: Any, arr: Any, obj: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.delete(arr, obj, axis)``: ``g`` where the kept entries were, zeros elsewhere."""
    return _gather_back(g, np.delete(_flat_indices(arr), obj, axis=axis), arr)


@twin(undelete)
def _undelete(g, arr, obj, axis=None):
    import numba
    from numba.core import types

    scalar = result_scalar(arr, g)
    sizes = _pre_post(arr.ndim, axis) if is_array(arr) and is_array(g) and scalar is not None else None
    if sizes is None:
        return None
    if isinstance(obj, types.SliceType):

        def mark(deleted, obj):
            deleted[obj] = True

    elif isinstance(obj, types.Array) and isinstance(obj.dtype, types.Boolean) and obj.ndim == 1:

        def mark(deleted, obj):  # (a mask of the entries to delete)
            if obj.size != deleted.size:
                raise ValueError("np.delete: a boolean obj must have the length of the axis")
            deleted[:] = obj

    else:
        ids = _flat_ints(obj)
        if ids is None:
            return None

        def mark(deleted, obj):
            for i in ids(obj):
                if not -deleted.size <= i < deleted.size:
                    raise IndexError("np.delete: index out of bounds")
                deleted[i] = True

    mark = numba.njit(mark)

    def impl(g, arr, obj, axis=None):  # g where the kept entries were, zeros elsewhere
        before, n, after = sizes(arr.shape)
        deleted = np.zeros(n, np.bool_)
        mark(deleted, obj)
        out, gs = np.zeros((before, n, after), scalar), np.ascontiguousarray(g).reshape((before, -1, after))
        j = 0
        for i in range(n):
            if not deleted[i]:
                out[:, i] = gs[:, j]
                j += 1
        return out.reshape(arr.shape)

    return impl


def select_where(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """``np.select(condlist, choicelist, default)``; for other array libraries nested ``np.where``
    (dask names every result of its np.select "select": two in one graph would collide)."""
    if not _foreign((condlist, choicelist, default)):
        return np.select(condlist, choicelist, default)
    out = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        out = np.where(cond, choice, out)
    return out


@twin(select_where)
def _select_where(condlist, choicelist, default=0):
    from numba.core import types

    if not (_bool_arrays(condlist) and isinstance(choicelist, (types.List, types.UniTuple))):
        return None
    if not is_array(choicelist.dtype) or not (is_array(default) or is_number(default)):
        return None

    def impl(condlist, choicelist, default=0):  # the first choice whose condition holds
        n = len(condlist)
        if n == 0 or len(choicelist) != n:
            raise ValueError("np.select: condlist and choicelist must be non-empty and of one length")
        out = np.where(condlist[n - 1], choicelist[n - 1], default)
        for k in range(n - 2, -1, -1):
            out = np.where(condlist[k], choicelist[k], out)
        return out

    return impl


def select_untaken(condlist: Any) -> Any:
    """Where ``np.select(condlist, ...)`` falls back to its default: no condition holds."""
    if not len(condlist):
        return np.True_
    conditions = np.broadcast_arrays(*condlist)
    return ~np.any(np.stack(conditions) if _foreign(conditions) else conditions, axis=0)


def _bool_arrays(t: Any) -> bool:
    """Is ``t`` the numba type of a list or tuple of bool arrays (of one type)?"""
    from numba.core import types

    return (
        isinstance(t, (types.List, types.UniTuple))
        and is_array(t.dtype)
        and isinstance(t.dtype.dtype, types.Boolean)
    )


@twin(select_untaken)
def _select_untaken(condlist):
    if not _bool_arrays(condlist):
        return None

    def impl(condlist):  # no condition holds
        out = ~condlist[0]
        for c in condlist[1:]:
            out = out & ~c
        return out

    return impl


def select_vjp(g: Any, condlist: Any, choicelist: Any) -> list:
    """The adjoint of the choices of ``np.select``: ``g`` where a choice is the first whose
    condition holds, summed back to its shape."""
    taken = np.zeros(np.shape(g), dtype=bool)
    out = []
    for cond, choice in zip(condlist, choicelist):
        mine = np.logical_and(cond, ~taken)
        out.append(unbroadcast(np.where(mine, g, 0.0), choice))
        taken = taken | mine
    return out


@twin(select_vjp)
def _select_vjp(g, condlist, choicelist):
    from numba.core import types

    if not (is_array(g) and _bool_arrays(condlist) and isinstance(choicelist, (types.List, types.UniTuple))):
        return None
    if not is_array(choicelist.dtype) or is_complex_type(g):
        return None

    def impl(g, condlist, choicelist):  # g where each choice is the first whose condition holds
        taken, out = np.zeros(g.shape, np.bool_), []
        for k in range(len(choicelist)):
            mine = np.broadcast_to(condlist[k], g.shape) & ~taken
            out.append(unbroadcast(np.where(mine, g, 0.0), choicelist[k]))
            taken = taken | mine
        return out

    return impl


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


def _unique_kernel() -> Any:
    """A compiled ``groups(flat)``: the index of each entry's unique value and their counts, as
    ``np.unique(..., return_inverse=True, return_counts=True)`` (NaNs one value, as numpy's)."""
    import numba

    @numba.njit
    def groups(flat):
        order = np.argsort(flat, kind="mergesort")
        inverse, counts = np.empty(flat.size, np.int64), np.zeros(flat.size, np.int64)
        k = -1
        for i in range(flat.size):
            v = flat[order[i]]
            if i == 0 or not (v == flat[order[i - 1]] or (np.isnan(v) and np.isnan(flat[order[i - 1]]))):
                k += 1
            inverse[order[i]] = k
            counts[k] += 1
        return inverse, counts[: k + 1]

    return groups


@twin(unique_vjp)
def _unique_vjp(g, ar, axis=None):
    scalar = result_scalar(ar, g)
    if literal(axis) is not None or not is_array(ar) or scalar is None or is_complex_type(ar):
        return None
    groups, flat_g = _unique_kernel(), flat_of(g)

    def impl(g, ar, axis=None):  # each value's adjoint shared among its entries
        inverse, counts = groups(np.ascontiguousarray(ar).ravel())
        gs, out = flat_g(g), np.empty(inverse.size, scalar)
        for i in range(inverse.size):
            out[i] = gs[inverse[i]] / counts[inverse[i]]
        return out.reshape(ar.shape)

    return impl


@twin(unique_jvp)
def _unique_jvp(t, ar, axis=None):
    scalar = result_scalar(t)
    if (
        literal(axis) is not None
        or not (is_array(ar) and is_array(t))
        or scalar is None
        or is_complex_type(ar)
    ):
        return None
    groups = _unique_kernel()

    def impl(t, ar, axis=None):  # the mean tangent of each value's entries
        inverse, counts = groups(np.ascontiguousarray(ar).ravel())
        ts, out = np.ascontiguousarray(t).ravel(), np.zeros(counts.size, scalar)
        for i in range(inverse.size):
            out[inverse[i]] += ts[i]
        return out / counts

    return impl


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
