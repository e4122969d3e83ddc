"""Numba twins of runtime helpers: how ``jit=True`` code runs what generated code calls.

A twin is declared beside its helper with ``@twin(helper)``. Its body runs when numba types
a call (``numba.extending.overload``): it gets numba's types of the arguments (literal ones
where the call site spells a constant, such as ``check_scalar(x, 'f.py:3')``) and returns the
implementation numba compiles, or None where it has none (numba then names the line it
cannot compile, and srcgrad says ``jit=False`` works). Declaring a twin imports nothing:
numba is imported and the twins registered only when ``jit=True`` is first used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    """The constant a literal numba type stands for (``'f.py:3'``, ``1``, ``True``), None for
    an omitted argument or ``None``, and the type itself otherwise."""
    from numba.core import types

    if isinstance(value_type, types.Literal):
        return value_type.literal_value
    if isinstance(value_type, (types.Omitted,)):
        return value_type.value
    if value_type is None or isinstance(value_type, types.NoneType):
        return None
    return value_type
