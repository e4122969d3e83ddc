"""The checks and errors generated code runs: a scalar and real output for ``grad``, the
objects an unrolled loop was generated for, real arrays where srcgrad differentiates real ones
only, and :func:`refuse`, the error for what a helper sees only at run time, at the user's line.
"""

from __future__ import annotations

import linecache
import re
import sys
import warnings
from typing import Any

import numpy as np

from ..errors import NonScalarOutputError, UnsupportedSyntaxError, UnsupportedValueError
from ..twins import holds_complex, is_array, is_complex_type, is_number, literal, raised_by, raising, twin
from .arrays import _FLOAT64, _NDARRAY, _array_of, _foreign, _is_complex, size_of

__all__ = [
    "SOURCES",
    "LOCATION",
    "CITED",
    "refuse",
    "not_scalar",
    "not_real",
    "check_scalar",
    "same_items",
    "not_a_dict",
    "size_one_refused",
    "size_one_gradient",
    "check_real",
    "real_like",
    "real_only",
    "aliased_update",
]

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


@twin(check_scalar)
def _check_scalar(ans, where):
    where = literal(where)
    if is_complex_type(ans):
        fail = raising(not_real(where))

        def complex_(ans, where):
            fail()
            return False

        return complex_
    if is_number(ans) or (is_array(ans) and ans.ndim == 0):
        return lambda ans, where: False
    if not is_array(ans):
        return None

    def impl(ans, where):
        if ans.size != 1:
            raise NotScalar(where, ans.shape)
        return True

    return impl


class NotScalar(NonScalarOutputError):
    """``not_scalar``'s error, made from the shape numba passes."""

    def __init__(self, where, shape):
        made = not_scalar(np.broadcast_to(0.0, shape), where)
        super().__init__(made.message, made.filename, made.lineno, made.line, made.hint)


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


@twin(not_a_dict)
def _not_a_dict(items, where):
    from numba.core import types

    if isinstance(items, (types.List, types.BaseTuple, types.Array, types.RangeType)):
        return lambda items, where: items
    return None


def size_one_refused() -> NonScalarOutputError:
    """The error where ``grad``'s code for an output of one element that is not 0-d would be
    differentiated again (a Hessian, the gradient of a gradient)."""
    return NonScalarOutputError(
        "srcgrad differentiates gradients again only for 0-d outputs; this one has one element but is not 0-d",
        hint="return a 0-d value, such as np.sum(y) or y[0, 0] for y of shape (1, 1).",
    )


@raised_by(size_one_refused)
class SizeOneRefused(NonScalarOutputError):
    def __init__(self):
        made = size_one_refused()
        super().__init__(made.message, made.filename, made.lineno, made.line, made.hint)


def size_one_gradient(gradient: Any, *args: Any, **kwargs: Any) -> Any:
    """``grad`` of an output with one element that is not 0-d (shape (1,) or (1, 1)): what
    autograd returns, the VJP with a cotangent of ones. ``gradient`` is the generated
    function, which is specialized for a 0-d output (it calls this instead)."""
    from ..api import size_one_gradient as fallback

    return fallback(gradient, *args, **kwargs)


@twin(size_one_gradient)
def _size_one_gradient(gradient, *args):
    fail = raising(
        NonScalarOutputError(
            "jit=True computes grad of 0-d outputs; this one has one element but is not 0-d",
            hint="return a 0-d value (np.sum(y), y[0]), or use jit=False.",
        )
    )

    def impl(gradient, *args):
        fail()

    return impl


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


@twin(check_real)
def _check_real(where, *values):
    where = literal(where)
    flat = list(values[0]) if len(values) == 1 and isinstance(values[0], tuple) else list(values)
    if any(is_complex_type(v) or holds_complex(v) for v in flat):
        fail = raising(not_real(where))

        def complex_(where, *values):
            fail()

        return complex_
    return lambda where, *values: None


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


@twin(real_like)
def _real_like(g, x):
    if is_complex_type(g) and not is_complex_type(x) and not holds_complex(x):
        return lambda g, x: g.real
    if is_array(g) or is_number(g):
        return lambda g, x: g
    return None


def real_only(x: Any, what: str) -> None:
    """Refuse a complex ``x``: ``what`` (a decomposition) is differentiated for real arrays only."""
    if _is_complex(x):
        raise refuse(
            f"srcgrad differentiates {what} of real arrays only, not of complex ones",
            "keep this part of the computation in float arrays.",
            what.rpartition(".")[2].partition("(")[0],
        )


def aliased_update(name: str, where: str) -> Exception:
    """The error for ``c += b`` on an array that another name also holds (generated code raises it)."""
    filename, _, lineno = where.rpartition(":")
    return UnsupportedSyntaxError(
        f"in-place update of the array {name}, which another name also holds: srcgrad's generated "
        "code updates a copy, Python would change both",
        filename,
        int(lineno),
        linecache.getline(SOURCES.get(filename, filename), int(lineno)),
        hint=f"write {name} = {name}.copy() before updating it, or {name} = {name} + ... to rebind it.",
    )


@raised_by(aliased_update)
class AliasedUpdate(UnsupportedSyntaxError):
    def __init__(self, name, where):
        made = aliased_update(name, where)
        super().__init__(made.message, made.filename, made.lineno, made.line, made.hint)


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
