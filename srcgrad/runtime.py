"""The few helpers generated code calls: the parts of rules too long for one expression.

Each works on whatever array type numpy dispatches to (no ``np.asarray`` on user data),
and each returns a new array, never a view of the caller's data.
"""

from __future__ import annotations

import linecache
import operator
import re
import sys
import warnings
from typing import Any

import numpy as np

from .errors import NonScalarOutputError, UnsupportedValueError

SOURCES: dict[str, str] = {}  # file name -> path, for quoting user lines in run-time errors
LOCATION = re.compile(r"^\s*#.*\[([^\[\]]+:\d+)\]\s*$")  # a comment quoting a primal line
CITED = re.compile(r"  # \[([^\[\]]+:\d+)\]$")  # the primal line compile appends to a line of code


def refuse(message: str, hint: str, call: str | None = None) -> UnsupportedValueError:
    """The error for what a helper sees only at run time (an ``ord``, a ``mode``, a dtype),
    at the user's line: the one line quoted in the generated code's comments that calls
    ``call`` (``np.pad``), else the line the calling line of generated code belongs to."""
    frame = sys._getframe(1)
    while frame is not None and not frame.f_code.co_filename.startswith("<srcgrad "):
        frame = frame.f_back
    if frame is None:
        return UnsupportedValueError(message, hint=hint)
    lines = linecache.getlines(frame.f_code.co_filename)
    calls = re.compile(rf"(?<!\w){call}\(") if call else None
    quoted = {m.group(1) for text in lines if calls and (m := LOCATION.match(text)) and calls.search(text)}
    found = CITED.search(linecache.getline(frame.f_code.co_filename, frame.f_lineno).rstrip("\n"))
    if len(quoted) == 1:
        where, note = quoted.pop(), ""
    elif found:  # the gradient being computed belongs here: maybe a variable's definition, not the call
        where, note = found.group(1), " (while computing the gradient of this line)"
    else:
        return UnsupportedValueError(message, hint=hint)
    filename, lineno = where.rsplit(":", 1)
    line = linecache.getline(SOURCES.get(filename, filename), int(lineno)) or None
    return UnsupportedValueError(message + note, filename, int(lineno), line, hint)


def not_scalar(ans: Any, where: str) -> NonScalarOutputError:
    """The error for ``grad`` of a non-scalar output (generated code raises it).

    ``where`` is the ``file.py:LINE`` of the return statement.
    """
    return _output_error(
        f"grad needs a scalar output, but this returned an array of shape {np.shape(ans)}",
        where,
        "use srcgrad.elementwise_grad (the gradient of the sum of the outputs) "
        "or srcgrad.jacobian for a non-scalar output.",
    )


def not_real(where: str) -> NonScalarOutputError:
    """The error for ``grad`` of a complex output: a gradient needs a real-valued function."""
    return _output_error(
        "grad needs a real output, but this returned a complex value",
        where,
        "differentiate a real function of it instead, such as np.abs(...) ** 2 or np.real(...) "
        "(as autograd and JAX, srcgrad differentiates real-valued functions of complex arrays).",
    )


def _output_error(message: str, where: str, hint: str) -> NonScalarOutputError:
    filename, _, lineno = where.rpartition(":")
    line = linecache.getline(SOURCES.get(filename, filename), int(lineno))
    return NonScalarOutputError(message, filename, int(lineno), line, hint=hint)


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


def check_scalar(ans: Any, where: str) -> bool:
    """``grad`` is defined for real outputs of one element only; say so instead of returning a
    sum. True for one element that is not 0-d: the generated code then returns the gradient
    :func:`size_one_gradient` computes.

    ``ans`` is the output, or a value with its shape and dtype; ``where`` is the
    ``file.py:LINE`` of the return statement. (``np.ndim`` costs about a microsecond, more
    than the whole gradient of a scalar function: it is the last resort.)
    """
    cls = ans.__class__
    if cls is float or cls is _FLOAT64:
        return False
    dtype = getattr(ans, "dtype", None)
    if (dtype.kind == "c") if dtype is not None else cls is complex:
        raise not_real(where)
    ndim = getattr(ans, "ndim", None)
    if (np.ndim(ans) if ndim is None else ndim) == 0:
        return False
    if size_of(ans) != 1:
        raise not_scalar(ans, where)
    return True  # one element, as autograd accepts: the caller computes the gradient another way


def same_items(items: Any, expected: tuple, where: str) -> None:
    """Generated code unrolled a loop over ``items`` (layers, functions) as they were: refuse to
    run it if the sequence has changed since (another length, another object at a place)."""
    items = list(items)  # (reversed(layers) is an iterator)
    if len(items) != len(expected) or any(a is not b for a, b in zip(items, expected, strict=False)):
        filename, _, lineno = where.rpartition(":")
        line = linecache.getline(SOURCES.get(filename, filename), int(lineno)) or None
        raise UnsupportedValueError(
            "the objects whose methods this line calls changed since srcgrad generated this "
            "gradient (it inlined their methods, one copy per object)",
            filename,
            int(lineno),
            line,
            hint="do not change the sequence after differentiating, or call srcgrad.cache.clear() "
            "and take the gradient again.",
        )


def not_a_dict(items: Any, where: str) -> Any:
    """``items``, which generated code loops over by position: a dict (whose loop gives its keys)
    is refused, naming the loop's line."""
    if isinstance(items, dict):
        filename, _, lineno = where.rpartition(":")
        line = linecache.getline(SOURCES.get(filename, filename), int(lineno)) or None
        raise UnsupportedValueError(
            "srcgrad does not differentiate a loop directly over a dict",
            filename,
            int(lineno),
            line,
            hint="loop over its keys, for k in ['W1', 'W2']: ... params[k] ..., or over params.keys() made a list first.",
        )
    return items


def size_one_refused() -> NonScalarOutputError:
    """The error where ``grad``'s code for an output of one element that is not 0-d would be
    differentiated again (a Hessian, the gradient of a gradient)."""
    return NonScalarOutputError(
        "srcgrad differentiates gradients again only for 0-d outputs; this one has one element but is not 0-d",
        hint="return a 0-d value, such as np.sum(y) or y[0, 0] for y of shape (1, 1).",
    )


def size_one_gradient(gradient: Any, *args: Any, **kwargs: Any) -> Any:
    """``grad`` of an output with one element that is not 0-d (shape (1,) or (1, 1)): what
    autograd returns, the VJP with a cotangent of ones. ``gradient`` is the generated
    function, which is specialized for a 0-d output (it calls this instead)."""
    from .api import size_one_gradient as fallback

    return fallback(gradient, *args, **kwargs)


def check_real(where: str, *values: Any) -> None:
    """``grad`` needs a real output: the output is complex exactly when one of ``values`` is
    (the output itself, or the arguments and module values it is computed from)."""
    for v in values:
        if v.__class__ is _NDARRAY:
            if v.dtype.kind != "c":
                continue
        elif not _is_complex(v):
            continue
        raise not_real(where)


def real_like(g: Any, x: Any) -> Any:
    """``g``, or its real part where ``x`` is real: a real argument gets a real gradient even
    where its values met complex ones (the imaginary part of its adjoint means nothing)."""
    cls = g.__class__
    if cls is float or cls is _FLOAT64:
        return g
    if cls is _NDARRAY or hasattr(g, "dtype"):
        return g.real if g.dtype.kind == "c" and not _is_complex(x) else g
    if isinstance(g, dict):
        return {k: real_like(v, x[k]) for k, v in g.items()}
    if isinstance(g, (list, tuple)) and isinstance(x, (list, tuple)) and len(g) == len(x):
        items = [real_like(v, w) for v, w in zip(g, x)]
        return items if isinstance(g, list) else type(g)(*items) if hasattr(g, "_fields") else tuple(items)
    if cls is complex and not _is_complex(x):
        return g.real
    return g


def grad_dtype(x: Any, g: Any) -> Any:
    """The dtype of ``x``'s gradient: ``x``'s float type (float32 stays float32), else float64.

    ``x`` may be a list of arrays (``np.sum([a, b])``): its elements decide.
    """
    if not hasattr(x, "dtype") and isinstance(x, (list, tuple, range)):  # (a range: a loop's, on a tape)
        x = np.asarray(x) if not _foreign(list(x)) else np.result_type(*leaves(x))
    return np.result_type(x, 1.0) if not hasattr(g, "dtype") else np.result_type(x, g, 1.0)


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


def xlogy(a: Any, b: Any) -> Any:
    """``a * np.log(b)``, but 0 where ``a`` is 0 (as ``scipy.special.xlogy``).

    ``d(x ** y)/dy = x ** y * log(x)`` is 0, not NaN, where ``x`` is 0 and ``y`` > 0.
    """
    zero = a == 0
    out = np.where(zero, 0.0, a * np.log(np.where(zero, 1.0, b)))
    return out.astype(np.result_type(a, b, 1.0), copy=False)  # float32 stays float32


def _normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


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


def expand(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of a sum: ``g`` copied back over the reduced axes, shaped like ``x``."""
    if axis is None and type(g) is float and type(x) is np.ndarray and x.dtype == np.float64:
        return np.full(x.shape, g)  # the common case, without working out the dtype
    out = np.zeros_like(x, dtype=grad_dtype(x, g))
    out[...] = _keepdims(g, x, axis, keepdims)
    return out


def extremum_grad(g: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of max/min: ``g`` shared equally among the entries that attain it."""
    hit = x == _keepdims(ans, x, axis, keepdims)
    share = np.true_divide(hit, np.sum(hit, axis=axis, keepdims=True), dtype=grad_dtype(x, g))
    return _keepdims(g, x, axis, keepdims) * share


def inside(x: Any, lo: Any, hi: Any) -> Any:
    """Where ``np.clip`` passes ``x`` through (its derivative is 1 there, 0 elsewhere)."""
    mask = np.ones_like(x, dtype=bool)
    if lo is not None:
        mask = mask & (x >= lo)
    if hi is not None:
        mask = mask & (x <= hi)
    return mask


def _swap(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _ndim(x: Any) -> int:
    """``np.ndim(x)``, without its dispatch overhead for arrays (the products' hot path)."""
    return x.ndim if isinstance(x, np.ndarray) else np.ndim(x)


def _transposed(x: Any) -> Any:
    return x.T if isinstance(x, np.ndarray) else np.transpose(x)


def dot_vjp_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``np.dot(a, b)``, for any dimensions."""
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * b, a) if nb == 0 else np.sum(g * b)
    if nb == 1:  # an outer product; indexing is cheaper than np.multiply.outer
        return g[..., None] * b if g.__class__ is _NDARRAY else np.multiply.outer(g, b)
    if nb == 2:
        return np.dot(g, _transposed(b))
    # g has shape a.shape[:-1] + b.shape[:-2] + b.shape[-1:]
    axes_g = list(range(na - 1, na - 1 + nb - 2)) + [_ndim(g) - 1]
    axes_b = list(range(nb - 2)) + [nb - 1]
    return np.tensordot(g, b, (axes_g, axes_b))


def dot_vjp_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``np.dot(a, b)``, for any dimensions."""
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * a, b) if na == 0 else np.sum(g * a)
    if na == 1 and nb == 1:
        return g * a
    if na == 2 and nb <= 2:  # the common matrix case, without tensordot's overhead
        return np.dot(g, a) if nb == 1 else np.dot(_transposed(a), g)
    if na == 1 and nb == 2:  # a row vector times a matrix: an outer product
        return a[:, None] * g if a.__class__ is _NDARRAY else np.outer(a, g)
    lead = list(range(na - 1))
    out = np.tensordot(a, g, (lead, lead))  # shape a.shape[-1:] + b.shape[:-2] + b.shape[-1:]
    if nb == 1:
        return out
    return np.moveaxis(out, 0, -2)


def matmul_vjp_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``a @ b`` (vectors, matrices and stacks of matrices)."""
    if _ndim(b) == 1:
        out = np.expand_dims(g, -1) * b
    elif _ndim(a) == 1:
        out = np.matmul(np.expand_dims(g, -2), _swap(b))[..., 0, :]
    else:
        out = np.matmul(g, _swap(b))
    return unbroadcast(out, a)


def matmul_vjp_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``a @ b`` (vectors, matrices and stacks of matrices)."""
    if _ndim(a) == 1:
        out = np.expand_dims(a, -1) * np.expand_dims(g, -2) if _ndim(b) > 1 else g * a
    elif _ndim(b) == 1:
        out = np.matmul(_swap(a), np.expand_dims(g, -1))[..., 0]
    else:
        out = np.matmul(_swap(a), g)
    return unbroadcast(out, b)


def untranspose(g: Any, axes: Any) -> Any:
    """The adjoint of ``np.transpose(x, axes)``: transpose back."""
    return np.transpose(g) if axes is None else np.transpose(g, _inverse(axes))


def _inverse(axes: Any) -> tuple[int, ...]:
    """The permutation that undoes ``axes``, as a tuple of ints (dask takes no array of axes)."""
    return tuple(int(i) for i in np.argsort(axes))


def _prod_layout(x: Any, axis: Any) -> tuple:
    """``x`` with the reduced axes moved last and flattened into one: ``(flat, moved shape, axes, last)``."""
    axes = _normalize_axes(axis, np.ndim(x))
    last = tuple(range(np.ndim(x) - len(axes), np.ndim(x)))
    moved = np.moveaxis(x, axes, last)
    flat = np.reshape(moved, np.shape(moved)[: np.ndim(x) - len(axes)] + (-1,))
    return flat, np.shape(moved), axes, last


def _prod_others(x: Any, axis: Any) -> Any:
    """For each entry of ``x``, the product of the *other* entries of its reduction.

    Computed from products before and after each entry (``cumprod``), not as ``ans / x``,
    so it is exact where ``x`` has zeros.
    """
    flat, shape, axes, last = _prod_layout(x, axis)
    ones = np.ones_like(flat[..., :1])
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return np.moveaxis(np.reshape(before * after, shape), last, axes)


def prod_vjp(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of ``np.prod``: ``g`` times the product of the *other* entries."""
    return _prod_others(x, axis) * _keepdims(g, x, axis, keepdims)


def inner_vjp(g: Any, a: Any, b: Any, which: int) -> Any:
    """The adjoint of operand ``which`` (0 or 1) of ``np.inner(a, b)``, for any dimensions."""
    x, other = (a, b) if which == 0 else (b, a)
    if np.ndim(a) == 0 or np.ndim(b) == 0:  # inner with a scalar multiplies
        return unbroadcast(g * other, x)
    lead = np.ndim(other) - 1  # the axes of ``other`` that are not summed over
    axes_g = range(np.ndim(g) - lead, np.ndim(g)) if which == 0 else range(lead)
    return np.tensordot(g, other, (list(axes_g), list(range(lead))))


def trace_vjp(g: Any, x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The adjoint of ``np.trace``: ``g`` on the traced diagonal, zero elsewhere."""
    shape = np.shape(x)
    eye = np.eye(shape[axis1], shape[axis2], k=offset, dtype=grad_dtype(x, g))
    eye = np.moveaxis(eye.reshape(eye.shape + (1,) * (len(shape) - 2)), (0, 1), (axis1, axis2))
    return _like(eye * np.expand_dims(g, (axis1, axis2)) if np.ndim(g) else eye * g, x)


def _like(value: Any, x: Any) -> Any:
    """``value`` as an array of ``x``'s library (a gradient made of constants alone is numpy's)."""
    return np.asarray(value, like=x) if _foreign(x) and not _foreign(value) else value


def _split(g: Any, sizes: Any, axis: int) -> list:
    """``g`` cut along ``axis`` into consecutive pieces of ``sizes`` (as ``np.split``, which dask
    lacks): one slice each."""
    lead, pieces, start = (slice(None),) * (axis % np.ndim(g)), [], 0
    for n in sizes:
        pieces.append(g[lead + (slice(start, start + n),)])
        start += n
    return pieces


def unconcatenate(g: Any, arrays: Any, axis: int = 0) -> list:
    """The adjoint of ``np.concatenate``: ``g`` split back into pieces shaped like the inputs."""
    return _split(g, [np.shape(a)[axis] for a in arrays], axis)


def unstack(g: Any, arrays: Any, axis: int = 0) -> list:
    """The adjoint of ``np.stack``: the slices of ``g`` along the new axis."""
    return [np.take(g, i, axis=axis) for i in range(len(arrays))]


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


def size_of(x: Any) -> int:
    """``np.size(x)``: the number of entries, read from the array (dask computes the whole array
    for ``np.size``, which it does not implement)."""
    size = getattr(x, "size", None)
    return size if isinstance(size, (int, np.integer)) else np.size(x)


def _foreign(value: Any) -> bool:
    """Is ``value`` (or a part of an index tuple) an array of another library than numpy (a
    dask or CuPy array)? Helpers keep numpy's fastest formulation for numpy arrays only."""
    if isinstance(value, (tuple, list)):
        return any(_foreign(v) for v in value)
    return hasattr(value, "__array_function__") and not isinstance(value, np.ndarray)


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


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, for a numpy function that some array libraries lack. dask warns,
    then computes the whole array to call numpy's: that is refused instead, at the user's line."""
    if not _foreign(args):
        return fn(*args, **kwargs)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "The `.*` function is not implemented", FutureWarning)
        try:
            return fn(*args, **kwargs)
        except FutureWarning:
            pass
    kind = type(_array_of(*args))
    raise refuse(
        f"srcgrad's gradient of this line needs np.{fn.__name__}, which {kind.__module__}.{kind.__name__} "
        "does not implement (it would compute the whole array in memory)",
        "compute the gradient of this part on numpy arrays, or write it with functions the array library has.",
    )


def _array_of(*values: Any) -> Any:
    """The first array of another library among ``values`` (for ``like=``), else a numpy array."""
    for v in values:
        for part in v if isinstance(v, (tuple, list)) else (v,):
            if _foreign(part):
                return part
    return np.empty(0)


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


def _is_advanced(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(not isinstance(p, (int, slice, type(None), type(Ellipsis))) for p in parts)


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


def with_item(x: Any, index: Any, value: Any) -> Any:
    """``x[index] = value`` without touching ``x``: generated code never writes into arrays."""
    out = _copy(x)
    out[index] = value
    return out


def without_item(g: Any, index: Any) -> Any:
    """The adjoint of the array in ``with_item``: what was overwritten gets no gradient."""
    out = _copy(g)
    out[index] = 0.0
    return out


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


def add_lists(a: Any, b: Any) -> list:
    """The sum of two adjoints of one list: element by element (and tuple by tuple), never concatenated.
    A number meeting a container is ``zero_adjoint`` of a name with no value: it adds as nothing."""
    if type(a) is float and isinstance(b, CONTAINERS):
        return b
    if type(b) is float and isinstance(a, CONTAINERS):
        return a
    if isinstance(a, dict):  # a container's adjoint keeps its type (containers, below)
        return rebuild(a, {k: add_lists(v, b[k]) for k, v in a.items()})
    if not isinstance(a, (list, tuple)):  # a name that may hold a container holds an array
        return a + b
    added = [add_lists(x, y) if isinstance(x, CONTAINERS) else x + y for x, y in zip(a, b)]
    return rebuild(a, added) if isinstance(a, tuple) else added


# -- forward mode and higher order ---------------------------------------------------------
# The tangents of rules above that need more than one expression, the adjoints of the
# helpers above (so that generated code can be differentiated again), and the pieces of the
# loops that build gradients, Jacobians and Hessians from forward-mode passes.


def zero_tangent(x: Any) -> Any:
    """A zero tangent for ``x``: zeros of its shape in its float type; a list of them for a list."""
    if isinstance(x, dict) or is_namedtuple(x):
        return zeros_like_tree(x)
    if isinstance(x, (list, tuple)):  # a tuple, not the namedtuple of eigh or svd
        items = [zero_tangent(v) for v in x]
        return items if isinstance(x, list) else tuple(items)
    return np.zeros_like(x, dtype=grad_dtype(x, 1.0))


def unit_vectors(x: Any) -> list:
    """One array per element of ``x``, shaped like ``x``: 1 at that element, 0 elsewhere.

    For a scalar ``x``, a numpy scalar: arithmetic on a 0-d array costs ten times more.
    """
    if type(x) is float:
        return [1.0]
    if isinstance(x, CONTAINERS):  # one container per number in it: that number 1, the others 0
        parts = leaves(x)
        zeros = [zero_leaf(leaf) for leaf in parts]
        return [
            from_leaves(x, zeros[:i] + [unit] + zeros[i + 1 :])
            for i, leaf in enumerate(parts)
            for unit in unit_vectors(float(leaf) if type(leaf) is int else leaf)
        ]
    units = []
    for index in np.ndindex(np.shape(x)):
        for step in (1.0, 1j) if _is_complex(x) else (1.0,):  # complex: along u, then along v
            unit = zero_tangent(x)
            unit[index] = step
            units.append(unit if unit.ndim else unit[()])
    return units


def from_columns(columns: list, x: Any, like: Any = 0.0) -> Any:
    """The Jacobian, shaped ``out.shape + x.shape``, from one forward-mode column per element of ``x``.

    ``like`` has the output's shape; it matters only when ``x`` is empty. For a complex
    ``x`` the columns come in pairs, the derivatives along the real and imaginary parts
    ``df/du`` and ``df/dv``: its gradient is ``df/du - i df/dv`` (autograd's convention).
    A container ``x`` or output gives containers, as ``jax.jacobian`` does: the output's
    structure outside, ``x``'s inside, each leaf shaped ``out_leaf.shape + x_leaf.shape``.
    """
    if (
        isinstance(x, CONTAINERS)
        or isinstance(like, CONTAINERS)
        or (columns and isinstance(columns[0], CONTAINERS))
    ):
        return _tree_jacobian(columns, x, like, from_columns, by_input=True)
    if not columns:
        return np.zeros(np.shape(like) + np.shape(x))
    if len(columns) == 1 and type(x) is float:  # the derivative of anything by one number
        return columns[0]
    if like.__class__ is not float and _is_complex(like):
        raise refuse(
            "srcgrad computes Jacobians of real outputs and Hessians of functions of real arguments only, "
            "as autograd: this one is complex",
            "differentiate the real and imaginary parts (np.real, np.imag) separately.",
        )
    if _is_complex(x):
        columns = [u - 1j * v for u, v in zip(columns[0::2], columns[1::2])]
    stacked = np.stack(columns)  # (x.size,) + out.shape
    jacobian = np.reshape(stacked, np.shape(x) + np.shape(stacked)[1:])
    first = list(range(np.ndim(x)))
    return np.moveaxis(jacobian, first, [a - len(first) for a in first])[()]


def columns_of(g: Any, x: Any) -> list:
    """The adjoint of ``from_columns``: ``g`` (``out.shape + x.shape``) split into one column per element of ``x``."""
    real_only(x, "forward-mode gradient code (grad(..., mode='forward'))")
    n = np.ndim(x)
    moved = np.moveaxis(g, list(range(np.ndim(g) - n, np.ndim(g))), list(range(n)))
    return list(np.reshape(moved, (-1,) + np.shape(moved)[n:]))


def from_rows(rows: list, like: Any, x: Any) -> Any:
    """The Jacobian, shaped ``out.shape + x.shape``, from one reverse-mode row per element of the output.

    ``like`` has the output's shape. Containers as in ``from_columns``.
    """
    if isinstance(x, CONTAINERS) or isinstance(like, CONTAINERS):
        return _tree_jacobian(rows, x, like, lambda r, xl, ol: from_rows(r, ol, xl), by_input=False)
    if not rows:
        return np.zeros(np.shape(like) + np.shape(x))
    if _is_complex(like):
        raise refuse(
            "srcgrad computes Jacobians of real outputs only, as autograd: this one is complex",
            "differentiate the real and imaginary parts (np.real, np.imag) separately.",
        )
    return np.reshape(np.stack(rows), np.shape(like) + np.shape(x))[()]


def safe_log(x: Any) -> Any:
    """``np.log(x)``, but 0 where ``x`` is 0: ``d(x ** y)/dy = x ** y * log(x)`` is 0 where ``x``
    is 0 (``0 ** y`` is constant for ``y`` > 0; autograd's value at ``y`` <= 0 too), at every order."""
    if x.__class__ is float:  # a Python float stays one (float32 arrays it meets stay float32)
        return float(np.log(x)) if x != 0 else 0.0
    zero = x == 0
    if zero is False or (zero.__class__ is np.bool_ and not zero):
        return np.log(x)
    return np.where(zero, 0.0, np.log(np.where(zero, 1.0, x)))


def xdivy(a: Any, b: Any) -> Any:
    """``a / b``, but 0 where ``a`` is 0 (the derivatives of ``xlogy``)."""
    zero = a == 0
    return np.where(zero, 0.0, a / np.where(zero, 1.0, b))


def unexpand(g: Any, v: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of ``expand(v, x, axis, keepdims)``: ``g`` summed back to the shape of ``v``."""
    if axis is not None:
        g = np.sum(g, axis=axis, keepdims=keepdims)
    return unbroadcast(g, v)


def extremum_jvp(t: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The tangent of max/min: the mean tangent of the entries that attain it."""
    hit = x == _keepdims(ans, x, axis, keepdims)
    count = np.sum(hit, axis=axis, keepdims=True)
    return np.sum(t * hit / count, axis=axis, keepdims=keepdims)


def prod_jvp(t: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The tangent of ``np.prod``: each entry's tangent times the product of the other entries."""
    return np.sum(_prod_others(x, axis) * t, axis=axis, keepdims=keepdims)


def prod_others_jvp(x: Any, t: Any, axis: Any = None) -> Any:
    """The tangent of ``_prod_others(x, axis)`` (the second derivative of ``np.prod``), zeros included.

    Products before each entry grow as ``before[i + 1] = before[i] * x[i]``, so their tangents
    follow ``d_before[i + 1] = d_before[i] * x[i] + before[i] * t[i]``; likewise after it.
    The operator is symmetric, so it is its own adjoint.
    """
    flat, shape, axes, last = _prod_layout(x, axis)
    tflat = np.reshape(np.moveaxis(t, axes, last), np.shape(flat))
    n = np.shape(flat)[-1]
    before, after = np.ones_like(flat), np.ones_like(flat)
    d_before, d_after = np.zeros_like(tflat), np.zeros_like(tflat)
    for i in range(1, n):
        before[..., i] = before[..., i - 1] * flat[..., i - 1]
        d_before[..., i] = d_before[..., i - 1] * flat[..., i - 1] + before[..., i - 1] * tflat[..., i - 1]
        j = n - 1 - i
        after[..., j] = after[..., j + 1] * flat[..., j + 1]
        d_after[..., j] = d_after[..., j + 1] * flat[..., j + 1] + after[..., j + 1] * tflat[..., j + 1]
    return np.moveaxis(np.reshape(d_before * after + before * d_after, shape), last, axes)


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


def solve_jvp_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    """The tangent of ``ans = np.linalg.solve(a, b)`` for a tangent ``t`` of ``a``: ``-solve(a, t @ ans)``."""
    x = np.expand_dims(ans, -1) if np.ndim(b) == 1 else ans
    out = -np.linalg.solve(a, np.matmul(t, x))
    return out[..., 0] if np.ndim(b) == 1 else out


def inner_vjp_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``np.inner(a, b)``."""
    return inner_vjp(g, a, b, 0)


def inner_vjp_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``np.inner(a, b)``."""
    return inner_vjp(g, a, b, 1)


def stack_like(parts: Any, axis: int) -> Any:
    """``np.vstack`` (axis 0) or ``np.hstack`` (axis 1) of ``parts``: the adjoint of ``unstack_like``."""
    return np.vstack(parts) if axis == 0 else np.hstack(parts)


def zeros_like_list(items: Any) -> list:
    """The zero adjoint of a list: one zero array per element, each shaped like it."""
    return [
        zeros_like_tree(item)
        if isinstance(item, CONTAINERS)
        else np.zeros_like(item, dtype=grad_dtype(item, 1.0))
        for item in items
    ]


def zero_adjoint(x: Any) -> Any:
    """The zero adjoint of a name that may have no value yet (None: first assigned in a loop or
    a branch): 0.0, which adds as nothing; else zeros shaped like its value (a list of them)."""
    if x is None:
        return 0.0
    return zeros_like_tree(x) if isinstance(x, CONTAINERS) else np.zeros_like(x)


def aliased_update(name: str, where: str) -> Exception:
    """The error for ``c += b`` on an array that another name also holds (generated code raises it)."""
    from .errors import UnsupportedSyntaxError

    filename, _, lineno = where.rpartition(":")
    return UnsupportedSyntaxError(
        f"in-place update of the array {name}, which another name also holds: srcgrad's generated "
        "code updates a copy, Python would change both",
        filename,
        int(lineno),
        linecache.getline(SOURCES.get(filename, filename), int(lineno)),
        hint=f"write {name} = {name}.copy() before updating it, or {name} = {name} + ... to rebind it.",
    )


def unarray(g: Any, obj: Any) -> Any:
    """The adjoint of ``np.array(obj)``: for a (nested) list, the list of the rows of ``g``."""
    if isinstance(obj, (list, tuple)):
        return [unarray(g[i], item) for i, item in enumerate(obj)]
    return unbroadcast(g, obj)


def sum_vjp(g: Any, items: Any) -> list:
    """The adjoint of the builtin ``sum(items)``: ``g`` for every item, summed to its shape."""
    return [unbroadcast(g, item) for item in items]


def rearray(g: Any, v: Any, obj: Any) -> Any:
    """The adjoint of ``unarray(v, obj)`` with respect to ``v``: the rows stacked back (a sum
    copied back over broadcast axes where ``obj`` was an array)."""
    if isinstance(obj, (list, tuple)):
        rows = [rearray(g[i], v[i], item) for i, item in enumerate(obj)]
        return np.stack(rows) if _foreign(rows) else np.array(rows)
    return expand(g, v)


def sum_all(gs: Any, v: Any) -> Any:
    """The adjoint of ``sum_vjp(v, items)`` with respect to ``v``: every piece copied back and added."""
    total = np.zeros_like(v, dtype=grad_dtype(v, 1.0))
    for piece in gs:
        total = total + expand(piece, v)
    return total


# -- broad numpy coverage (issue 7) ----------------------------------------------------------
# Helpers of the rules for ufuncs, scans, shape functions, products and linear algebra added
# for issue 7. Each linear helper's rule (srcgrad/rules/runtime.py) is another helper or a
# numpy function, so generated code that calls them can be differentiated again.


def safe_div(a: Any, b: Any) -> Any:
    """``a / b``, but 0 where ``b`` is 0: the finite choice at a non-differentiable point
    (``hypot`` at the origin, ``cbrt`` at 0, the removable 0/0 of ``sinc``)."""
    zero = b == 0
    out = np.where(zero, 0.0, a / np.where(zero, 1.0, b))
    return out.astype(np.result_type(a, b, 1.0), copy=False)


def nan_max_share(x: Any, y: Any) -> Any:
    """The share of ``x`` in ``np.fmax(x, y)``: 1 where it is picked (``y`` NaN included), 1/2 at ties."""
    share = np.where(np.isnan(y), 1.0, np.where(np.isnan(x), 0.0, (x > y) + 0.5 * (x == y)))
    return share.astype(np.result_type(x, y, 1.0), copy=False)


def nan_weights(a: Any, axis: Any = None, mean: bool = False) -> Any:
    """The derivative of ``np.nansum`` (``mean=False``) or ``np.nanmean`` (``mean=True``) with
    respect to each entry of ``a``: 0 at NaN, else 1 (or 1 / the number of non-NaN entries)."""
    keep = ~np.isnan(a)
    out = keep.astype(grad_dtype(a, 1.0))
    if mean:
        out = out / np.maximum(np.sum(keep, axis=axis, keepdims=True), 1)
    return out


def average_share(a: Any, axis: Any = None, weights: Any = None, returned: bool = False) -> Any:
    """The derivative of ``np.average(a, axis, weights)`` with respect to each entry of ``a``:
    ``weights / sum(weights)`` along ``axis`` (1/n without weights), shaped like ``a``."""
    if returned:
        raise refuse(
            "srcgrad does not differentiate np.average(..., returned=True)",
            "call np.average without returned=True, and np.sum(weights) for the sum of weights.",
            "average",
        )
    if weights is None:
        w = np.ones_like(a, dtype=grad_dtype(a, 1.0))
    elif np.ndim(weights) == np.ndim(a) or axis is None:
        w = np.broadcast_to(weights, np.shape(a))
    else:
        shape = [1] * np.ndim(a)
        shape[axis] = -1  # 1-d weights along one axis, as numpy allows
        w = np.broadcast_to(np.reshape(weights, shape), np.shape(a))
    return w / np.sum(w, axis=axis, keepdims=True)


def cumsum_vjp(g: Any, a: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.cumsum(a, axis)``: the sums from each entry to the end, shaped like ``a``."""
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(g))), np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def _scan_layout(a: Any, axis: Any) -> tuple[Any, int]:
    """``a`` with the scanned axis first (flattened when ``axis`` is None), and that axis."""
    if axis is None:
        return np.ravel(a), 0
    return np.moveaxis(a, axis, 0), axis


def cumprod_vjp(g: Any, a: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.cumprod(a, axis)``, exact where ``a`` has zeros (no division).

    ``d_a[i] = before[i] * r[i]`` with ``before[i]`` the product of the entries before ``i``
    and ``r[i] = g[i] + a[i + 1] * r[i + 1]``.
    """
    x, _ = _scan_layout(a, axis)
    gm, _ = _scan_layout(g, axis)
    n = np.shape(x)[0] if np.ndim(x) else 0
    dtype = grad_dtype(a, g)
    if n == 0:
        return np.reshape(np.zeros_like(x, dtype=dtype), np.shape(a))
    before = np.cumprod(np.concatenate([np.ones_like(x[:1]), x[:-1]]), axis=0)
    r = gm[n - 1] * 1.0
    rows = [before[n - 1] * r]  # from the last entry back (stacked, never written into an array)
    for i in range(n - 2, -1, -1):
        r = gm[i] + x[i + 1] * r
        rows.append(before[i] * r)
    out = np.stack(rows[::-1]).astype(dtype, copy=False)
    return np.reshape(out, np.shape(a)) if axis is None else np.moveaxis(out, 0, axis)


def cumprod_jvp(t: Any, a: Any, axis: Any = None) -> Any:
    """The tangent of ``np.cumprod(a, axis)``: ``d[i] = d[i - 1] * a[i] + ans[i - 1] * t[i]``."""
    x, _ = _scan_layout(a, axis)
    tm, _ = _scan_layout(np.broadcast_to(t, np.shape(a)), axis)
    dtype = grad_dtype(a, t)
    if np.shape(x)[0] == 0:
        out = np.zeros_like(x, dtype=dtype)
        return out if axis is None else np.moveaxis(out, 0, axis)
    prod, d = x[0], tm[0]
    rows = [d]
    for i in range(1, np.shape(x)[0]):
        d = d * x[i] + prod * tm[i]
        prod = prod * x[i]
        rows.append(d)
    out = np.stack(rows).astype(dtype, copy=False)
    return out if axis is None else np.moveaxis(out, 0, axis)


def diff_vjp(g: Any, a: Any, n: int = 1, axis: int = -1) -> Any:
    """The adjoint of ``np.diff(a, n, axis)``: ``n`` times the adjoint of one difference."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    return g + np.zeros_like(a, dtype=grad_dtype(a, g))  # n = 0: a copy, shaped like a


def uncolumn_stack(g: Any, arrays: Any) -> list:
    """The adjoint of ``np.column_stack``: ``g`` split back into the inputs (1-d ones were columns)."""
    widths = [1 if np.ndim(a) < 2 else np.shape(a)[1] for a in arrays]
    pieces = _split(g, widths, 1)
    return [np.reshape(p, np.shape(a)) for p, a in zip(pieces, arrays)]


def untile(g: Any, a: Any, reps: Any) -> Any:
    """The adjoint of ``np.tile(a, reps)``: the copies of each entry summed, shaped like ``a``."""
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    nd = max(len(reps), np.ndim(a))
    shape = (1,) * (nd - np.ndim(a)) + np.shape(a)
    reps = (1,) * (nd - len(reps)) + reps
    interleaved = np.reshape(g, [n for pair in zip(reps, shape) for n in pair])
    return np.reshape(np.sum(interleaved, axis=tuple(range(0, 2 * nd, 2))), np.shape(a))


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


def undiag(g: Any, v: Any, k: int = 0) -> Any:
    """The adjoint of ``np.diag(v, k)``: for a vector ``v`` the diagonal of ``g``; for a matrix
    ``v`` the vector ``g`` placed on its ``k``-th diagonal, zeros elsewhere."""
    if np.ndim(v) == 1:
        return np.diag(g, k)
    return undiagonal(g, v, k, 0, 1)


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


def sort_indices(a: Any, axis: Any = -1) -> Any:
    """The permutation ``np.sort`` applies (stable: tied entries keep their order, and their
    derivatives follow that order)."""
    return _call(np.argsort, a, axis=axis, kind="stable")


def _tensordot_axes(a: Any, b: Any, axes: Any) -> tuple[list[int], list[int]]:
    if np.ndim(axes) == 0:
        n = int(axes)
        return list(range(np.ndim(a) - n, np.ndim(a))), list(range(n))
    xa, xb = axes
    xa = [xa] if np.ndim(xa) == 0 else list(xa)
    xb = [xb] if np.ndim(xb) == 0 else list(xb)
    return [i % np.ndim(a) for i in xa], [i % np.ndim(b) for i in xb]


def tensordot_vjp_a(g: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """The adjoint of ``a`` in ``np.tensordot(a, b, axes)``."""
    xa, xb = _tensordot_axes(a, b, axes)
    free_b = [i for i in range(np.ndim(b)) if i not in xb]
    n_free_a = np.ndim(a) - len(xa)
    out = np.tensordot(g, b, (list(range(n_free_a, np.ndim(g))), free_b))
    # out: the free axes of a, then the contracted axes of b in b's order
    order = sorted(range(len(xb)), key=lambda k: xb[k])
    free_a = [i for i in range(np.ndim(a)) if i not in xa]
    source = free_a + [xa[k] for k in order]
    return np.transpose(out, _inverse(source)) if source else out


def tensordot_vjp_b(g: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """The adjoint of ``b`` in ``np.tensordot(a, b, axes)``."""
    xa, xb = _tensordot_axes(a, b, axes)
    free_a = [i for i in range(np.ndim(a)) if i not in xa]
    out = np.tensordot(a, g, (free_a, list(range(len(free_a)))))
    # out: the contracted axes of a in a's order, then the free axes of b
    order = sorted(range(len(xa)), key=lambda k: xa[k])
    free_b = [i for i in range(np.ndim(b)) if i not in xb]
    source = [xb[k] for k in order] + free_b
    return np.transpose(out, _inverse(source)) if source else out


def _kron_layout(g: Any, a: Any, b: Any) -> tuple:
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [n for pair in zip(sa, sb) for n in pair])  # (a0, b0, a1, b1, ...)
    return blocks, nd, sa, sb


def kron_vjp_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``np.kron(a, b)``: each block of ``g`` dotted with ``b``."""
    blocks, nd, sa, sb = _kron_layout(g, a, b)
    out = np.tensordot(blocks, np.reshape(b, sb), (list(range(1, 2 * nd, 2)), list(range(nd))))
    return np.reshape(out, np.shape(a))


def kron_vjp_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``np.kron(a, b)``: the blocks of ``g`` weighted by ``a`` and summed."""
    blocks, nd, sa, sb = _kron_layout(g, a, b)
    out = np.tensordot(np.reshape(a, sa), blocks, (list(range(nd)), list(range(0, 2 * nd, 2))))
    return np.reshape(out, np.shape(b))


def cholesky_vjp(g: Any, L: Any) -> Any:
    """The adjoint of ``L = np.linalg.cholesky(a)`` (symmetric, as ``a`` is): with
    ``phi`` the lower triangle with its diagonal halved, ``sym(L^-T phi(L^T g) L^-1)``."""
    real_only(L, "np.linalg.cholesky")
    n = np.shape(L)[-1]
    phi = np.tril(np.matmul(np.swapaxes(L, -1, -2), g)) / (1.0 + np.eye(n))
    lt = np.swapaxes(L, -1, -2)
    s = np.linalg.solve(lt, np.swapaxes(np.linalg.solve(lt, np.swapaxes(phi, -1, -2)), -1, -2))
    return 0.5 * (s + np.swapaxes(s, -1, -2))


def cholesky_jvp(t: Any, L: Any) -> Any:
    """The tangent of ``L = np.linalg.cholesky(a)``: ``L phi(L^-1 t L^-T)`` (``t`` symmetric)."""
    real_only(L, "np.linalg.cholesky")
    n = np.shape(L)[-1]
    x = np.linalg.solve(L, np.swapaxes(np.linalg.solve(L, np.swapaxes(t, -1, -2)), -1, -2))
    return np.matmul(L, np.tril(x) / (1.0 + np.eye(n)))


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


def slogdet_vjp(g: Any, a: Any) -> Any:
    """The adjoint of ``np.linalg.slogdet(a)``: ``g`` is that of ``(sign, logabsdet)``; the sign
    is piecewise constant, so only ``g[1]`` counts: ``g[1] * inv(a).T``."""
    real_only(a, "np.linalg.slogdet")
    return np.expand_dims(g[1], (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


def slogdet_jvp(t: Any, ans: Any, a: Any) -> tuple:
    """The tangent of ``(sign, logabsdet) = np.linalg.slogdet(a)``: ``(0, trace(solve(a, t)))``."""
    real_only(a, "np.linalg.slogdet")
    return (np.zeros_like(ans[0]), np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1))


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


def trapezoid_weights(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """The derivative of ``np.trapezoid(y, x, dx, axis)`` with respect to each entry of ``y``:
    half the spacing at both ends, the mean of the two neighbouring spacings inside."""
    n = np.shape(y)[axis]
    if x is None:
        spacing = np.full(n - 1, float(dx)) if n > 1 else np.zeros(0)
    else:
        spacing = np.diff(x, axis=axis if np.ndim(x) > 1 else -1)
    if np.ndim(spacing) <= 1:
        shape = [1] * np.ndim(y)
        shape[axis] = n - 1
        spacing = np.reshape(spacing, shape)
    pad = [(0, 0)] * np.ndim(y)
    pad[axis % np.ndim(y)] = (1, 0)
    left = np.pad(spacing, pad)
    pad[axis % np.ndim(y)] = (0, 1)
    return 0.5 * (left + np.pad(spacing, pad))


def median_weights(a: Any, axis: Any = None) -> Any:
    """The derivative of ``np.median(a, axis)`` with respect to each entry of ``a``: 1 at the
    middle entry, 1/2 at each of the two middle ones for an even count (ties: in stable order)."""
    return _middle_weights(a, axis, skip_nan=False)


def _middle_weights(a: Any, axis: Any, skip_nan: bool) -> Any:
    if axis is None:
        return np.reshape(_middle_weights(np.ravel(a), 0, skip_nan), np.shape(a))
    flat, shape, axes, last = _prod_layout(a, axis)
    n = np.sum(~np.isnan(flat), axis=-1, keepdims=True) if skip_nan else np.shape(flat)[-1]  # NaNs sort last
    ranks = _call(np.argsort, _call(np.argsort, flat, axis=-1, kind="stable"), axis=-1, kind="stable")
    odd = n % 2 == 1
    weights = (ranks == n // 2) * np.where(odd, 1.0, 0.5) + (ranks == (n - 1) // 2) * np.where(odd, 0.0, 0.5)
    weights = weights * (n > 0)
    return np.moveaxis(np.reshape(weights, shape), last, axes).astype(grad_dtype(a, 1.0))


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


def astype_jvp(t: Any, dtype: Any) -> Any:
    """The tangent of ``a.astype(dtype)``: ``t`` cast to ``dtype`` for a float or complex
    ``dtype`` (the real part for a real one), zero (of float type) for an integer or bool one."""
    if not _float_cast(dtype):
        return np.zeros_like(t, dtype=np.result_type(np.real(t), 1.0))
    if _is_complex(t) and not np.issubdtype(dtype, np.complexfloating):
        t = np.real(t)
    return t.astype(dtype) if hasattr(t, "astype") else np.dtype(dtype).type(t)


# Decompositions. Their outputs are tuples (``sequence=`` rules): ``g`` is a list with one
# adjoint per output (zeros for those not used), and the tangent is a tuple. Formulas: M. Giles,
# "An extended collection of matrix derivative results for forward and reverse mode AD" (2008);
# J. Townsend, "Differentiating the singular value decomposition" (2016); S. Walter and
# A. Lehmann, "Algorithmic differentiation of linear algebra functions" (2018) for QR.


def _used(g: Any) -> bool:
    """Can the adjoint ``g`` of a decomposition's output be nonzero? Read for numpy arrays only:
    another library's (dask) would be computed to answer, so it counts as used."""
    return g is not None and (_foreign(g) or bool(np.any(g)))


def _gaps(w: Any) -> Any:
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal and 0 on it: how eigenvectors (or
    singular vectors, with ``w`` the squared singular values) turn into each other. The
    values must be distinct; equal ones give infinities, never a finite wrong number."""
    eye = np.eye(np.shape(w)[-1], dtype=bool)
    diff = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))


def _triangle(n: int, uplo: str) -> Any:
    """The strict triangle that ``eigh(a, UPLO)`` reads, as a 0/1 matrix."""
    if uplo not in ("L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', not {uplo!r}")
    ones = np.ones((n, n))
    return np.tril(ones, -1) if uplo == "L" else np.triu(ones, 1)


def eigh_vjp(g: Any, ans: Any, uplo: str = "L") -> Any:
    """The adjoint of ``(w, v) = np.linalg.eigh(a)``, for distinct eigenvalues.

    With ``P = v^T da v``: ``dw = diag(P)`` and ``dv = v (F * P)`` (``F`` from ``_gaps``), so
    the adjoint of the symmetric matrix is ``v (diag(gw) + F * (v^T gv)) v^T``. eigh reads one
    triangle only: an entry off the diagonal there stands for itself and its mirror image,
    the other triangle gets zero (autograd's convention; it is the true derivative of eigh).
    Without an eigenvector adjoint the eigenvalues need no gaps (no infinities at ties).
    """
    real_only(ans[1], "np.linalg.eigh")
    w, v = ans
    gw, gv = g
    vt = _swap(v)
    inner = np.expand_dims(gw, -2) * np.eye(np.shape(w)[-1])
    if _used(gv):
        inner = inner + _gaps(w) * np.matmul(vt, gv)
    full = np.matmul(v, np.matmul(inner, vt))
    n = np.shape(w)[-1]
    return full * np.eye(n) + (full + _swap(full)) * _triangle(n, uplo)


def eigh_jvp(t: Any, ans: Any, uplo: str = "L") -> tuple:
    """The tangent of ``(w, v) = np.linalg.eigh(a)``: ``(diag(P), v (F * P))`` with
    ``P = v^T s v``, where ``s`` is the symmetric tangent eigh sees (one triangle mirrored)."""
    real_only(ans[1], "np.linalg.eigh")
    w, v = ans
    n = np.shape(w)[-1]
    tri = _triangle(n, uplo)
    s = t * np.eye(n) + t * tri + _swap(t * tri)
    p = np.matmul(_swap(v), np.matmul(s, v))
    return (np.diagonal(p, axis1=-2, axis2=-1), np.matmul(v, _gaps(w) * p))


def _svd_parts(ans: Any, a: Any, full_matrices: bool, compute_uv: bool, hermitian: bool) -> tuple:
    """``(u, s, vh)`` of the reduced SVD of ``a``, refusing what has no unique derivative."""
    m, n = np.shape(a)[-2:]
    if hermitian:
        raise refuse(
            "srcgrad does not differentiate np.linalg.svd(..., hermitian=True)",
            "call np.linalg.svd without hermitian=True, or np.linalg.eigh for a symmetric matrix.",
            "svd",
        )
    if compute_uv and full_matrices and m != n:
        raise refuse(
            "srcgrad differentiates np.linalg.svd of a non-square matrix with full_matrices=False "
            "only: the extra columns of the full U or V have no unique derivative",
            "pass full_matrices=False.",
            "svd",
        )
    if compute_uv:
        return ans
    return np.linalg.svd(a, full_matrices=False)


def svd_vjp(
    g: Any, ans: Any, a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """The adjoint of ``np.linalg.svd(a)`` (``u s vh``), for distinct nonzero singular values:

    ``u (diag(gs) + (J + J^T) s + s (K + K^T)) vh + (I - u u^T) gu s^-1 vh + u s^-1 gvh (I - v vh)``
    with ``J = F * (u^T gu)``, ``K = F * (vh gvh^T)`` and ``F`` the gaps of ``s**2`` (Townsend).
    """
    u, s, vh = _svd_parts(ans, a, full_matrices, compute_uv, hermitian)
    gu, gs, gvh = None, g, None
    if compute_uv:
        gu, gs, gvh = g
    if _is_complex(a):  # the singular values only: d s_i = Re(u_i^H da v_i)
        if _used(gu) or _used(gvh):
            real_only(a, "np.linalg.svd (its singular vectors)")
        return np.conj(np.matmul(u * np.expand_dims(np.real(gs), -2), vh))
    rows, cols = np.expand_dims(s, -1), np.expand_dims(s, -2)  # s times a matrix: by row, by column
    core = np.expand_dims(gs, -2) * np.eye(np.shape(s)[-1])
    if _used(gu):
        j = _gaps(s**2) * np.matmul(_swap(u), gu)
        core = core + (j + _swap(j)) * cols
    if _used(gvh):
        k = _gaps(s**2) * np.matmul(vh, _swap(gvh))
        core = core + rows * (k + _swap(k))
    out = np.matmul(u, np.matmul(core, vh))
    m, n = np.shape(a)[-2:]
    if gu is not None and m > np.shape(s)[-1]:
        out = out + np.matmul(gu - np.matmul(u, np.matmul(_swap(u), gu)), vh / rows)
    if gvh is not None and n > np.shape(s)[-1]:
        out = out + np.matmul(u / cols, gvh - np.matmul(np.matmul(gvh, _swap(vh)), vh))
    return out


def svd_jvp(
    t: Any, ans: Any, a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """The tangent of ``np.linalg.svd(a)``: with ``P = u^T t v``, ``ds = diag(P)``,
    ``du = u (F * (P s + s P^T)) + (I - u u^T) t v s^-1`` and
    ``dv = v (F * (s P + P^T s)) + (I - v v^T) t^T u s^-1`` (``F``: gaps of ``s**2``)."""
    u, s, vh = _svd_parts(ans, a, full_matrices, compute_uv, hermitian)
    if _is_complex(a) or _is_complex(t):  # the singular values only: d s_i = Re(u_i^H da v_i)
        if compute_uv:
            real_only(a if _is_complex(a) else t, "np.linalg.svd (its singular vectors)")
        p = np.matmul(np.conj(_swap(u)), np.matmul(t, np.conj(_swap(vh))))
        return np.real(np.diagonal(p, axis1=-2, axis2=-1))
    v = _swap(vh)
    p = np.matmul(_swap(u), np.matmul(t, v))
    ds = np.diagonal(p, axis1=-2, axis2=-1)
    if not compute_uv:
        return ds
    rows, cols = np.expand_dims(s, -1), np.expand_dims(s, -2)
    f = _gaps(s**2)
    du = np.matmul(u, f * (p * cols + rows * _swap(p)))
    dv = np.matmul(v, f * (rows * p + _swap(p) * cols))
    m, n = np.shape(a)[-2:]
    if m > np.shape(s)[-1]:
        tv = np.matmul(t, v)
        du = du + (tv - np.matmul(u, np.matmul(_swap(u), tv))) / cols
    if n > np.shape(s)[-1]:
        tu = np.matmul(_swap(t), u)
        dv = dv + (tu - np.matmul(v, np.matmul(vh, tu))) / cols
    return (du, ds, _swap(dv))


def _qr_check(a: Any, mode: str) -> None:
    m, n = np.shape(a)[-2:]
    if m < n or mode not in ("reduced", "complete") or (mode == "complete" and m != n):
        raise refuse(
            "srcgrad differentiates np.linalg.qr of a square or tall matrix in mode='reduced' only "
            f"(here {m}x{n}, mode={mode!r})",
            "use mode='reduced'; for a wide matrix, factor its transpose.",
            "qr",
        )


def _right_solve(x: Any, r: Any) -> Any:
    """``x r^-1`` for an invertible ``r``, without forming the inverse."""
    return _swap(np.linalg.solve(_swap(r), _swap(x)))


def qr_vjp(g: Any, ans: Any, a: Any, mode: str = "reduced") -> Any:
    """The adjoint of ``(q, r) = np.linalg.qr(a)`` for a full-rank ``a`` with at least as many
    rows as columns: ``(gq + q copyltu(M)) r^-T`` with ``M = r gr^T - gq^T q`` and
    ``copyltu(M)`` the lower triangle of ``M`` mirrored into the upper one."""
    real_only(a, "np.linalg.qr")
    _qr_check(a, mode)
    q, r = ans
    gq, gr = g
    m = np.matmul(r, _swap(gr)) - np.matmul(_swap(gq), q)
    m = np.tril(m) + _swap(np.tril(m, -1))
    return _swap(np.linalg.solve(r, _swap(gq + np.matmul(q, m))))


def qr_jvp(t: Any, ans: Any, a: Any, mode: str = "reduced") -> tuple:
    """The tangent of ``(q, r) = np.linalg.qr(a)``: with ``C = q^T t r^-1`` and the antisymmetric
    ``W = tril(C, -1) - tril(C, -1)^T``: ``dq = q W + (I - q q^T) t r^-1``, ``dr = (C - W) r``."""
    real_only(a, "np.linalg.qr")
    _qr_check(a, mode)
    q, r = ans
    tr = _right_solve(t, r)
    c = np.matmul(_swap(q), tr)
    low = np.tril(c, -1)
    w = low - _swap(low)
    return (np.matmul(q, w) + tr - np.matmul(q, c), np.matmul(c - w, r))


def _chain(arrays: Any) -> list:
    """The operands of ``multi_dot`` as matrices: a 1-d first one is a row, a 1-d last one a column."""
    mats = list(arrays)
    if np.ndim(mats[0]) == 1:
        mats[0] = np.reshape(mats[0], (1, -1))
    if np.ndim(mats[-1]) == 1:
        mats[-1] = np.reshape(mats[-1], (-1, 1))
    return mats


def multi_dot_vjp(g: Any, arrays: Any) -> list:
    """The adjoint of ``np.linalg.multi_dot(arrays)``: for the i-th factor, the product of the
    factors before it, transposed, times ``g`` times the product of those after it, transposed."""
    mats = _chain(arrays)
    g = np.reshape(g, (np.shape(mats[0])[0], np.shape(mats[-1])[1]))
    out = []
    for i, x in enumerate(arrays):
        part = g if i == 0 else np.matmul(_swap(np.linalg.multi_dot(mats[:i]) if i > 1 else mats[0]), g)
        after = mats[i + 1 :]
        if after:
            part = np.matmul(part, _swap(np.linalg.multi_dot(after) if len(after) > 1 else after[0]))
        out.append(np.reshape(part, np.shape(x)))
    return out


def multi_dot_jvp(t: Any, arrays: Any) -> Any:
    """The tangent of ``np.linalg.multi_dot(arrays)``: multilinear, so the sum over the factors
    of the product with that factor replaced by its tangent."""
    arrays = list(arrays)
    return sum(np.linalg.multi_dot(arrays[:i] + [t[i]] + arrays[i + 1 :]) for i in range(len(arrays)))


def select_where(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """``np.select(condlist, choicelist, default)``; for other array libraries nested ``np.where``
    (dask names every result of its np.select "select": two in one graph would collide)."""
    if not _foreign((condlist, choicelist, default)):
        return np.select(condlist, choicelist, default)
    out = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        out = np.where(cond, choice, out)
    return out


def select_untaken(condlist: Any) -> Any:
    """Where ``np.select(condlist, ...)`` falls back to its default: no condition holds."""
    if not len(condlist):
        return np.True_
    conditions = np.broadcast_arrays(*condlist)
    return ~np.any(np.stack(conditions) if _foreign(conditions) else conditions, axis=0)


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


# np.einsum with any subscripts: each operand's adjoint is another einsum, of the output's
# adjoint with the other operands, into that operand's labels (then copied along the labels
# summed in that operand alone, summed over those it broadcast, put on the diagonal of
# repeated ones). '...' is spelled out with unused letters first.


def _einsum_specs(subscripts: Any, operands: Any) -> tuple[list[str], str]:
    """The labels of each operand and of the output, with '...' spelled out and the output explicit."""
    if not isinstance(subscripts, str):
        raise refuse(
            "srcgrad differentiates np.einsum with subscripts in a string only",
            "write the subscripts as a string, e.g. np.einsum('ij,j->i', a, b).",
            "einsum",
        )
    spec = subscripts.replace(" ", "")
    inputs, arrow, out = spec.partition("->")
    specs = inputs.split(",")
    free = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec]
    width = max((np.ndim(x) - len(s) + 3 for s, x in zip(specs, operands) if "..." in s), default=0)
    dots = "".join(free[:width])
    filled = [
        s.replace("...", dots[width - (np.ndim(x) - len(s) + 3) :]) if "..." in s else s
        for s, x in zip(specs, operands)
    ]
    if arrow:
        return filled, out.replace("...", dots)
    labels = inputs.replace(".", "").replace(",", "")
    return filled, dots + "".join(sorted(c for c in set(labels) if labels.count(c) == 1))


def _einsum_vjp(g: Any, specs: list[str], out: str, operands: Any, i: int) -> Any:
    """The adjoint of operand ``i`` of the einsum ``specs -> out``."""
    mine, x = specs[i], operands[i]
    others = [s for j, s in enumerate(specs) if j != i]
    unique = "".join(dict.fromkeys(mine))
    known = set(out).union(*others)
    kept = "".join(c for c in unique if c in known)
    rest = [y for j, y in enumerate(operands) if j != i]
    part = np.einsum(",".join([out, *others]) + "->" + kept, g, *rest, optimize=len(rest) > 1)
    sizes = dict(zip(mine, np.shape(x)))
    summed = tuple(k for k, c in enumerate(kept) if np.shape(part)[k] != sizes[c])
    if summed:  # x broadcast along these (size 1 against n)
        part = np.sum(part, axis=summed, keepdims=True)
    if kept != unique:  # labels summed in x alone: the adjoint is the same all along them
        part = np.expand_dims(part, tuple(k for k, c in enumerate(unique) if c not in known))
        part = np.broadcast_to(part, tuple(sizes[c] for c in unique))
    dtype = grad_dtype(x, g)
    if unique == mine:
        if _foreign(part) or _foreign(x):  # (in x's library even where g and the others are numpy)
            return np.asarray(part, like=_array_of(part, x)).astype(dtype)
        return np.array(part, dtype=dtype)  # a copy: never a read-only broadcast view
    if _foreign(part):
        raise refuse(
            f"srcgrad differentiates einsum with a repeated label ({mine}) on numpy arrays only, not on "
            f"{type(part).__module__}.{type(part).__name__}",
            "take the diagonal first (np.diagonal), then einsum without the repeated label.",
            "einsum",
        )
    out_ = np.zeros(np.shape(x), dtype=dtype)  # repeated labels: only the diagonal moves the output
    view = np.einsum(f"{mine}->{unique}", out_)
    if not np.shares_memory(view, out_):
        raise refuse(
            "srcgrad cannot differentiate this einsum with repeated labels",
            "take the diagonal first (np.diagonal), then einsum without the repeated label.",
            "einsum",
        )
    view[...] = part
    return _like(out_, x)


def einsum_vjps(g: Any, subscripts: str, operands: Any) -> list:
    """The adjoints of all operands of ``np.einsum(subscripts, *operands)``."""
    specs, out = _einsum_specs(subscripts, operands)
    return [_einsum_vjp(g, specs, out, operands, i) for i in range(len(operands))]


def einsum_jvp(t: Any, subscripts: str, operands: Any) -> Any:
    """The tangent of ``np.einsum(subscripts, *operands)``, multilinear: the sum over the operands
    of the einsum with that operand replaced by its tangent ``t[i]``."""
    ops, many = list(operands), len(operands) > 2
    return sum(np.einsum(subscripts, *ops[:i], t[i], *ops[i + 1 :], optimize=many) for i in range(len(ops)))


def einsum_cross(g: Any, subscripts: str, operands: Any, other: Any) -> list:
    """The derivative of ``einsum_vjps(g, subscripts, operands)`` with respect to the operands,
    along ``other`` (a tangent, or an adjoint: the map is its own transpose). Operand ``k``'s
    adjoint is linear in every other operand and does not depend on its own value, so it gets
    ``sum over j != k of einsum_vjps(g, subscripts, operands with j replaced by other[j])[k]``."""
    ops = list(operands)
    out = [zero_tangent(x) for x in ops]
    for j in range(len(ops)):
        parts = einsum_vjps(g, subscripts, ops[:j] + [other[j]] + ops[j + 1 :])
        out = [o if k == j else o + p for k, (o, p) in enumerate(zip(out, parts))]
    return out


def einsum_jvp_cross(u: Any, t: Any, subscripts: str, operands: Any) -> Any:
    """The derivative of ``einsum_jvp(u, subscripts, operands)`` with respect to the operands
    along ``t``: the einsums with two different operands replaced, one by ``u``, one by ``t``."""
    ops = list(operands)
    return sum(
        einsum_jvp(u, subscripts, ops[:j] + [t[j]] + ops[j + 1 :])
        - np.einsum(subscripts, *ops[:j], u[j], *ops[j + 1 :])
        for j in range(len(ops))
    )


def chain_subscripts(arrays: Any) -> str:
    """``np.linalg.multi_dot(arrays)`` as einsum subscripts (``'ab,bc,cd->ad'``; a 1-d first or
    last operand drops its outer label), so that multi_dot's helpers can be differentiated
    again with einsum's."""
    labels = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(arrays) + 1]
    specs = [labels[i : i + 2] for i in range(len(arrays))]
    first, last = np.ndim(arrays[0]) == 1, np.ndim(arrays[-1]) == 1
    specs[0] = specs[0][first:]  # multi_dot takes two arrays or more
    specs[-1] = specs[-1][: 2 - last]
    return ",".join(specs) + "->" + labels[0] * (not first) + labels[-1] * (not last)


# -- scipy.special.logsumexp (its rule is in srcgrad/rules/scipy.py) ----------------------------


def logsumexp_weights(a: Any, ans: Any, axis: Any = None, b: Any = None, keepdims: bool = False) -> Any:
    """The derivative of ``ans = scipy.special.logsumexp(a, axis, b, keepdims)`` with respect
    to ``a``: ``b * exp(a - ans)`` (``b`` is 1 when None), ``ans`` spread back over ``a``."""
    weights = np.exp(a - expand(ans, a, axis, keepdims))
    if b is not None:
        weights = weights * b
    return weights


# -- more numpy functions ----------------------------------------------------------------------
# Helpers of the rules for cumulative_sum/prod, real/conj, append, insert, delete, nanmedian,
# convolve/correlate, polyval, interp and eigvalsh. The linear ones have rules of their own in
# srcgrad/rules/runtime.py (each undone by another helper or a numpy function).


# Complex numbers, as autograd and JAX define them: the gradient of a real f of z = u + iv is
# df/du - i df/dv, so the rules of holomorphic functions (exp, *, @ ...) hold for complex arrays
# as written. The helpers below are the rules of the functions that are not holomorphic: each
# maps an adjoint g of a real output to Re(g) times the conjugate of a derivative.


def _unit_conj(x: Any) -> Any:
    """``conj(x) / |x|``, 0 where ``x`` is 0."""
    a = np.abs(x)
    return np.conj(x) / np.where(a == 0, 1.0, a)


def abs_vjp(g: Any, x: Any) -> Any:
    """The adjoint of ``np.abs(x)``: ``g * sign(x)``; ``Re(g) conj(x) / |x|`` for complex ``x``
    (0 at 0, as autograd)."""
    if not _is_complex(x):
        return g * np.sign(x)
    return np.real(g) * _unit_conj(x)


def abs_jvp(t: Any, x: Any) -> Any:
    """The tangent of ``np.abs(x)``: ``t * sign(x)``; ``Re(conj(x) t) / |x|`` for complex ``x``."""
    if not _is_complex(x):
        return t * np.sign(x)
    return np.real(_unit_conj(x) * t)


def angle_vjp(g: Any, x: Any, deg: bool = False) -> Any:
    """The adjoint of ``np.angle(x)``: ``Re(g) (-i conj(x)) / |x|^2`` (0 at 0 and for real ``x``)."""
    scale = 180.0 / np.pi if deg else 1.0
    if not _is_complex(x):
        return np.zeros_like(x, dtype=grad_dtype(x, g)) * g
    a2 = np.real(x * np.conj(x))
    return np.real(g) * scale * -1j * np.conj(x) / np.where(a2 == 0, 1.0, a2)


def angle_jvp(t: Any, x: Any, deg: bool = False) -> Any:
    """The tangent of ``np.angle(x)``: ``Im(conj(x) t) / |x|^2`` (0 for real ``x``)."""
    scale = 180.0 / np.pi if deg else 1.0
    if not _is_complex(x):
        return np.zeros_like(x, dtype=grad_dtype(x, t)) * np.real(t)
    a2 = np.real(x * np.conj(x))
    return scale * np.imag(np.conj(x) * t) / np.where(a2 == 0, 1.0, a2)


def real_vjp(g: Any, x: Any) -> Any:
    """The adjoint of ``np.real(x)``: ``g``; for complex ``x`` ``Re(g)`` as a complex array."""
    if not _is_complex(x):
        return g
    return np.real(g) + 0j


def imag_vjp(g: Any, x: Any) -> Any:
    """The adjoint of ``np.imag(x)``: ``-i Re(g)``; 0 for real ``x`` (its imaginary part is 0)."""
    if not _is_complex(x):
        return g * 0.0
    return -1j * np.real(g)


def imag_of(g: Any, x: Any) -> Any:
    """``Im(g)`` for complex ``x``, 0 otherwise: the adjoint of ``imag_vjp`` in its first argument."""
    if not _is_complex(x):
        return np.real(g) * 0.0
    return np.imag(g)


def real_zero(x: Any, what: str) -> Any:
    """0: a derivative that is zero for real ``x`` (a sign, a mask); for complex ``x`` it is not,
    and srcgrad refuses it (the second derivatives of abs, angle and norm of complex arrays)."""
    if _is_complex(x):
        raise refuse(
            f"srcgrad differentiates {what} of complex arrays once only",
            "write it with differentiable pieces, e.g. np.real(z * np.conj(z)) for np.abs(z) ** 2.",
        )
    return np.zeros_like(x, dtype=grad_dtype(x, 1.0))


def real_only(x: Any, what: str) -> None:
    """Refuse a complex ``x``: ``what`` (a decomposition) is differentiated for real arrays only."""
    if _is_complex(x):
        raise refuse(
            f"srcgrad differentiates {what} of real arrays only, not of complex ones",
            "keep this part of the computation in float arrays.",
            what.rpartition(".")[2].partition("(")[0],
        )


def drop_initial(v: Any, axis: Any = None, include_initial: bool = False) -> Any:
    """The adjoint of prepending the initial value in ``np.cumulative_sum(..., include_initial=True)``:
    ``v`` without its first slice along ``axis`` (a copy of ``v`` without ``include_initial``)."""
    if not include_initial:
        return np.array(v, copy=True)
    return np.delete(v, 0, axis=0 if axis is None else axis)


def with_initial(v: Any, axis: Any = None, include_initial: bool = False) -> Any:
    """``v`` with a zero slice put first along ``axis`` (the tangent of the initial value of
    ``np.cumulative_sum`` or ``np.cumulative_prod`` with ``include_initial=True``)."""
    if not include_initial:
        return np.array(v, copy=True)
    return np.insert(v, 0, 0.0, axis=0 if axis is None else axis)


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


def nan_median_weights(a: Any, axis: Any = None) -> Any:
    """The derivative of ``np.nanmedian(a, axis)`` with respect to each entry of ``a``: as
    ``median_weights`` among the entries that are not NaN; 0 at NaN (and in all-NaN slices)."""
    return _middle_weights(a, axis, skip_nan=True)


def _conv_offset(n: int, m: int, mode: str, correlate: bool) -> int:
    """Where the output of ``np.convolve(a, v, mode)`` (``np.correlate``) starts in the full one."""
    if mode == "full":
        return 0
    if mode == "valid":
        return min(n, m) - 1
    if mode == "same":
        k = min(n, m) - 1
        return k - k // 2 if correlate and n < m else k // 2
    raise ValueError(f"mode must be 'full', 'same' or 'valid', not {mode!r}")


def _conv_vjp(g: Any, a: Any, v: Any, mode: str, correlate: bool, wrt_a: bool) -> Any:
    """The adjoint of ``a`` (``wrt_a``) or ``v`` in ``np.convolve(a, v, mode)`` (``np.correlate``):
    ``g`` put back into the full output, correlated with the other operand."""
    a1, v1 = np.ravel(a), np.ravel(v)  # numpy takes a scalar as a 1-d array
    n, m = size_of(a1), size_of(v1)
    full = np.zeros(n + m - 1, dtype=grad_dtype(a, grad_dtype(v, g)))
    offset = _conv_offset(n, m, mode, correlate)
    full[offset : offset + size_of(g)] = g
    kernel = np.flip(v1) if correlate else v1  # correlate(a, v) is the convolution with v reversed
    if wrt_a:
        return np.reshape(np.correlate(full, kernel, "valid"), np.shape(a))
    d_kernel = np.correlate(full, a1, "valid")
    return np.reshape(np.flip(d_kernel) if correlate else d_kernel, np.shape(v))


def convolve_vjp_a(g: Any, a: Any, v: Any, mode: str = "full") -> Any:
    """The adjoint of ``a`` in ``np.convolve(a, v, mode)``."""
    return _conv_vjp(g, a, v, mode, False, True)


def convolve_vjp_v(g: Any, a: Any, v: Any, mode: str = "full") -> Any:
    """The adjoint of ``v`` in ``np.convolve(a, v, mode)``."""
    return _conv_vjp(g, a, v, mode, False, False)


def correlate_vjp_a(g: Any, a: Any, v: Any, mode: str = "valid") -> Any:
    """The adjoint of ``a`` in ``np.correlate(a, v, mode)`` (real arrays)."""
    real_only(v, "np.correlate")
    return _conv_vjp(g, a, v, mode, True, True)


def correlate_vjp_v(g: Any, a: Any, v: Any, mode: str = "valid") -> Any:
    """The adjoint of ``v`` in ``np.correlate(a, v, mode)`` (real arrays)."""
    real_only(v, "np.correlate")
    return _conv_vjp(g, a, v, mode, True, False)


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


def eigvalsh_vjp(g: Any, a: Any, uplo: str = "L") -> Any:
    """The adjoint of ``np.linalg.eigvalsh(a, UPLO)``: that of the eigenvalues of ``eigh``
    (no eigenvector adjoint, so no gaps: ties are fine)."""
    real_only(a, "np.linalg.eigvalsh")
    w, v = np.linalg.eigh(a, uplo)
    return eigh_vjp([g, np.zeros_like(v)], (w, v), uplo)


def eigvalsh_jvp(t: Any, a: Any, uplo: str = "L") -> Any:
    """The tangent of ``np.linalg.eigvalsh(a, UPLO)``: ``diag(v^T s v)``, ``s`` the symmetric
    tangent eigh sees (one triangle mirrored)."""
    real_only(a, "np.linalg.eigvalsh")
    w, v = np.linalg.eigh(a, uplo)
    n = np.shape(w)[-1]
    tri = _triangle(n, uplo)
    s = t * np.eye(n) + t * tri + _swap(t * tri)
    return np.sum(v * np.matmul(s, v), axis=-2)


def interp_below(x: Any, xp: Any, period: Any = None) -> Any:
    """1 where ``np.interp`` returns ``left`` (``x < xp[0]``), else 0."""
    _interp_check(xp, period)
    return (x < np.asarray(xp)[0]).astype(grad_dtype(x, 1.0))


def interp_above(x: Any, xp: Any, period: Any = None) -> Any:
    """1 where ``np.interp`` returns ``right`` (``x > xp[-1]``), else 0."""
    _interp_check(xp, period)
    return (x > np.asarray(xp)[-1]).astype(grad_dtype(x, 1.0))


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


def meshgrid_jvp(ts: Any, sparse: bool = False, indexing: str = "xy") -> list:
    """The tangents of ``np.meshgrid``'s outputs: the meshgrid of the inputs' tangents (copies)."""
    return [_copy(t) for t in np.meshgrid(*ts, sparse=sparse, indexing=indexing)]


def broadcast_arrays_vjp(g: Any, args: Any) -> list:
    """The adjoints of the inputs of ``np.broadcast_arrays(*args)``: each summed back to its shape."""
    return [unbroadcast(gi, x) for gi, x in zip(g, args)]


def broadcast_arrays_jvp(ts: Any) -> list:
    """The tangents of ``np.broadcast_arrays``'s outputs: the tangents broadcast together (copies)."""
    return [_copy(t) for t in np.broadcast_arrays(*ts)]


# -- np.linspace ---------------------------------------------------------------------------


def is_start(stop: Any) -> float:
    """1.0 where ``np.arange``'s first argument is its start (a stop follows), 0.0 where it is the
    stop (``np.arange(n)``: the values do not move with it)."""
    return 0.0 if stop is None else 1.0


def linspace_weights(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False
) -> Any:
    """The weights ``w`` of ``np.linspace(start, stop) = start + (stop - start) * w``: its
    derivative is ``1 - w`` in ``start`` and ``w`` in ``stop``. Scalar endpoints only."""
    if np.ndim(start) or np.ndim(stop) or retstep:
        raise refuse(
            "srcgrad differentiates np.linspace with scalar start and stop, without retstep",
            "pass scalar start and stop, and compute the step as (stop - start) / (num - 1).",
            "linspace",
        )
    return np.linspace(0.0, 1.0, num, endpoint=endpoint)


# -- containers (pytrees) ----------------------------------------------------------------------
# Arguments and outputs may be tuples, lists, dicts and namedtuples of arrays and numbers, nested.
# The adjoint (and the tangent) of a container is a container of the same type and structure. A
# name that may hold one is in ``Program.lists``: its adjoints add with ``add_lists``, its zero is
# ``zero_adjoint``, and the adjoints of the items read from it are gathered once, where it is
# defined: ``d_params = items_grad(params, {'W': d_W, 'b': d_b})`` (zeros only for the items never
# read). Every helper here also takes an array, for which it does what indexing does.

CONTAINERS = (list, tuple, dict)


def is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def rebuild(like: Any, values: Any) -> Any:
    """A container of ``like``'s type holding ``values`` (a list, or a dict for a dict)."""
    if isinstance(like, dict):
        return values if type(like) is dict else type(like)(values)
    if is_namedtuple(like):
        return type(like)(*values)
    return tuple(values) if isinstance(like, tuple) else list(values)


def leaves(x: Any) -> list:
    """The arrays and numbers of a (nested) container, in order (dicts in their own order)."""
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in leaves(v)]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in leaves(v)]
    return [x]


def from_leaves(like: Any, values: Any) -> Any:
    """``like``'s structure with ``values`` (an iterator or list of leaves) in place of its leaves."""
    values = iter(values)

    def build(x: Any) -> Any:
        if isinstance(x, dict):
            return rebuild(x, {k: build(v) for k, v in x.items()})
        if isinstance(x, (list, tuple)):
            return rebuild(x, [build(v) for v in x])
        return next(values)

    return build(like)


def zero_leaf(x: Any) -> Any:
    """The zero adjoint of one leaf: ``0.0`` for a number, zeros of an array's shape (float)."""
    if x is None or isinstance(x, (str, bytes)) or callable(x):  # (a function has no derivative)
        return None
    if isinstance(x, (bool, int, float, complex)) and not hasattr(x, "dtype"):
        return 0.0 if not isinstance(x, complex) else 0j
    return np.zeros_like(x, dtype=grad_dtype(x, 1.0))


def zeros_like_tree(x: Any) -> Any:
    """Zeros shaped like every leaf of the container ``x``."""
    return from_leaves(x, map(zero_leaf, leaves(x)))


def _position(x: Any, key: Any) -> Any:
    """Where ``key`` reads ``x``: a dict key, or a position (a field name of a namedtuple too)."""
    if isinstance(x, dict):
        return key
    if isinstance(key, str):
        if not is_namedtuple(x):
            raise refuse(
                f"srcgrad reads .{key} as a field of a namedtuple, but the value is a {type(x).__name__}",
                "pass a namedtuple, a tuple, a list or a dict of arrays.",
            )
        return type(x)._fields.index(key)
    if isinstance(key, slice):
        return key
    key = operator.index(key)
    return key + len(x) if key < 0 else key


def _add(a: Any, b: Any) -> Any:
    return b if a is None else add_lists(a, b)


def _items_grad(x: Any, pairs: Any) -> Any:
    """``items_grad`` for ``(key, adjoint)`` pairs (a slice is no dict key before Python 3.12)."""
    if isinstance(x, dict):
        slots: Any = {}
        for key, g in pairs:
            slots[key] = _add(slots.get(key), g)
        return rebuild(x, {k: slots[k] if k in slots else zeros_like_tree(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        slots = [None] * len(x)
        for key, g in pairs:
            at = _position(x, key)
            if isinstance(at, slice):
                for i, gi in zip(range(len(x))[at], g):
                    slots[i] = _add(slots[i], gi)
            else:
                slots[at] = _add(slots[at], g)
        return rebuild(x, [zeros_like_tree(v) if s is None else s for s, v in zip(slots, x)])
    pairs = list(pairs)
    if any(isinstance(key, str) for key, _ in pairs):
        _position(x, next(key for key, _ in pairs if isinstance(key, str)))  # refuses
    out = np.zeros_like(x, dtype=grad_dtype(x, pairs[0][1] if pairs else 1.0))
    for key, g in pairs:
        if _is_advanced(key):
            out = _add_at(out, key, g)
        else:
            out[key] += g
    return out


def items_grad(x: Any, items: dict) -> Any:
    """The adjoint of ``x`` from the adjoints of the items read from it, ``{key: adjoint}``:
    a container like ``x`` (zeros for the items never read), or for an array, the adjoints
    added into zeros shaped like it. A key may be a position, a dict key or a field name."""
    return _items_grad(x, items.items())


def add_items(total: Any, items: dict) -> Any:
    """``total``, an adjoint of a container (or an array), with ``items`` added at their keys:
    only those items are added, the others are shared (nothing is copied but the container)."""
    if type(total) is float:  # the zero of a name without a value yet: nothing to add to
        raise refuse("internal: add_items on a zero without structure", "report this as a bug.")
    if isinstance(total, dict):
        out = dict(total)
        for key, g in items.items():
            out[key] = add_lists(out[key], g)
        return rebuild(total, out)
    if isinstance(total, (list, tuple)):
        out = list(total)
        for key, g in items.items():
            at = _position(total, key)
            out[at] = add_lists(out[at], g)
        return rebuild(total, out)
    out = _new_array(total, grad_dtype(total, 1.0))
    for key, g in items.items():
        if _is_advanced(key):
            out = _add_at(out, key, g)
        else:
            out[key] += g
    return out


def add_item(total: Any, index: Any, g: Any) -> Any:
    """``total`` with ``g`` added at ``index`` (any index: a loop's, a slice, an index array)."""
    if isinstance(total, CONTAINERS):
        at = _position(total, index)
        if isinstance(at, slice):
            return add_lists(total, _items_grad(total, [(at, g)]))
        return add_items(total, {at: g})
    out = _new_array(total, grad_dtype(total, g))
    if _is_advanced(index):
        return _add_at(out, index, g)
    out[index] += g
    return out


def items_of(g: Any, items: dict, like: Any = None) -> dict:
    """The adjoint of ``items`` in ``items_grad(x, items)``: ``g``'s item at each key (``like``,
    shaped as ``g``, places a field name when ``g`` is a plain sequence)."""
    return {key: field_of(g, key, like) for key in items}


def field_of(x: Any, key: Any, like: Any = None) -> Any:
    """``x[key]``, or ``x.key`` for a field name of a namedtuple (``like``'s field, when ``x``
    is a plain sequence shaped as the namedtuple ``like``)."""
    if isinstance(key, str) and not isinstance(x, dict):
        if is_namedtuple(x):
            return getattr(x, key)
        return x[_position(like, key)]
    return x[key]


def field_grad(g: Any, x: Any, key: str) -> Any:
    """The adjoint of ``x.key`` (a field of a namedtuple): ``g`` there, zeros elsewhere."""
    return _items_grad(x, [(key, g)])


def tree_size(x: Any) -> int:
    """The number of numbers in ``x``: an array, a number, or a container of them."""
    if isinstance(x, CONTAINERS):
        return sum(int(size_of(leaf)) for leaf in leaves(x))
    return int(size_of(x))


def _tree_jacobian(parts: list, x: Any, like: Any, stack: Any, by_input: bool) -> Any:
    """The Jacobian of a container output and/or input from forward-mode columns (``by_input``:
    one per number of ``x``) or reverse-mode rows (one per number of the output)."""
    x_leaves, out_leaves = leaves(x), leaves(like)
    outer, inner = (x_leaves, out_leaves) if by_input else (out_leaves, x_leaves)
    groups, start = [], 0
    for leaf in outer:  # the parts that belong to each leaf of x (of the output)
        n = tree_size(leaf)
        groups.append(parts[start : start + n])
        start += n
    blocks = []
    for j, out_leaf in enumerate(out_leaves):
        row = []
        for i, x_leaf in enumerate(x_leaves):
            group = groups[i] if by_input else groups[j]
            pick = j if by_input else i
            row.append(stack([leaves(p)[pick] for p in group], x_leaf, out_leaf))
        blocks.append(from_leaves(x, row) if isinstance(x, CONTAINERS) else row[0])
    return from_leaves(like, blocks) if isinstance(like, CONTAINERS) else blocks[0]


def rows_of(g: Any, x: Any) -> list:
    """The adjoint of ``from_rows``: ``g`` (``out.shape + x.shape``) split into rows shaped like ``x``."""
    return list(np.reshape(g, (-1,) + np.shape(x)))
