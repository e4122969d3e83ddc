"""What every helper asks of a value: its gradient's dtype, its size, whether it is complex,
and whether it is a numpy array or one of another library (dask, CuPy), for which helpers
avoid what that library lacks (``np.add.at``, writing into views).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import is_array, is_number, twin
from .trees import CONTAINERS, leaves

__all__ = ["grad_dtype", "size_of"]

_FLOAT64, _NDARRAY = np.float64, np.ndarray  # hot paths test classes first (isinstance costs more)


def _is_complex(x: Any) -> bool:
    """Is ``x`` a complex array or number? (Cheap for floats and arrays, the common cases.)"""
    cls = x.__class__
    if cls is _NDARRAY:
        return x.dtype.kind == "c"
    if cls is float or cls is _FLOAT64:
        return False
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype.kind == "c"
    if isinstance(x, CONTAINERS):  # a container: any of its leaves
        return any(_is_complex(leaf) for leaf in leaves(x))
    return cls is complex or np.iscomplexobj(x)


def grad_dtype(x: Any, g: Any) -> Any:
    """The dtype of ``x``'s gradient: ``x``'s float type (float32 stays float32), else float64.

    ``x`` may be a list of arrays (``np.sum([a, b])``): its elements decide.
    """
    if not hasattr(x, "dtype") and isinstance(x, (list, tuple, range)):  # (a range: a loop's, on a tape)
        x = np.asarray(x) if not _foreign(list(x)) else np.result_type(*leaves(x))
    return np.result_type(x, 1.0) if not hasattr(g, "dtype") else np.result_type(x, g, 1.0)


def size_of(x: Any) -> int:
    """``np.size(x)``: the number of entries, read from the array (dask computes the whole array
    for ``np.size``, which it does not implement)."""
    size = getattr(x, "size", None)
    return size if isinstance(size, (int, np.integer)) else np.size(x)


@twin(size_of)
def _size_of(x):
    if is_array(x):
        return lambda x: x.size
    return (lambda x: 1) if is_number(x) else None


def _foreign(value: Any) -> bool:
    """Is ``value`` (or a part of an index tuple) an array of another library than numpy (a
    dask or CuPy array)? Helpers keep numpy's fastest formulation for numpy arrays only."""
    if isinstance(value, (tuple, list)):
        return any(_foreign(v) for v in value)
    return hasattr(value, "__array_function__") and not isinstance(value, np.ndarray)


def _array_of(*values: Any) -> Any:
    """The first array of another library among ``values`` (for ``like=``), else a numpy array."""
    for v in values:
        for part in v if isinstance(v, (tuple, list)) else (v,):
            if _foreign(part):
                return part
    return np.empty(0)


def _like(value: Any, x: Any) -> Any:
    """``value`` as an array of ``x``'s library (a gradient made of constants alone is numpy's)."""
    return np.asarray(value, like=x) if _foreign(x) and not _foreign(value) else value


def _new_array(x: Any, dtype: Any) -> Any:
    """A new array of ``x``'s values in ``dtype`` and in ``x``'s library, for the caller to write into."""
    return np.array(x, dtype=dtype) if not _foreign(x) else x.astype(dtype).copy()


def _copy(x: Any) -> Any:
    """A copy of the array ``x`` in its own library (``np.copy`` would pull a dask array into
    memory); of a dict or list, a shallow copy of the same kind."""
    if isinstance(x, (dict, list)):
        return type(x)(x)
    return np.copy(x) if not _foreign(x) else x.copy()


def _bincount_add(positions: Any, values: Any, size: int, dtype: Any) -> Any:
    """``size`` zeros with each of ``values`` added at its flat position (``positions``, which
    broadcasts against it), repeated positions accumulating: ``np.bincount``, which dask and
    CuPy run (they have no ``np.add.at``). Complex values: their two parts, one at a time."""
    positions, values = np.broadcast_arrays(positions, values)  # (dask: one chunking for both)
    positions, values = np.ravel(positions), np.ravel(values)
    if np.dtype(dtype).kind == "c":
        real = np.bincount(positions, weights=np.real(values), minlength=size)
        return (real + 1j * np.bincount(positions, weights=np.imag(values), minlength=size)).astype(dtype)
    return np.bincount(positions, weights=values, minlength=size).astype(dtype)


def _add_at(total: Any, index: Any, g: Any) -> Any:
    """``total`` with ``g`` added at ``total[index]``, repeated indices accumulating (``np.add.at``).

    A numpy ``total`` is a new array the caller owns: it is updated in place. For other
    libraries the flat positions that ``index`` selects (indexing an ``arange`` as the forward
    pass indexed the array) are added up with ``np.bincount``."""
    if not _foreign(total) and not _foreign(index) and not _foreign(g):
        np.add.at(total, index, g)
        return total
    size = size_of(total)
    positions = np.reshape(np.arange(size, like=_array_of(total, index, g)), np.shape(total))[index]
    return total + np.reshape(_bincount_add(positions, g, size, total.dtype), np.shape(total))


def _is_advanced(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(not isinstance(p, (int, slice, type(None), type(Ellipsis))) for p in parts)


def _normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


def _swap(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _inverse(axes: Any) -> tuple[int, ...]:
    """The permutation that undoes ``axes``, as a tuple of ints (dask takes no array of axes)."""
    return tuple(int(i) for i in np.argsort(axes))


def _split(g: Any, sizes: Any, axis: int) -> list:
    """``g`` cut along ``axis`` into consecutive pieces of ``sizes`` (as ``np.split``, which dask
    lacks): one slice each."""
    lead, pieces, start = (slice(None),) * (axis % np.ndim(g)), [], 0
    for n in sizes:
        pieces.append(g[lead + (slice(start, start + n),)])
        start += n
    return pieces
