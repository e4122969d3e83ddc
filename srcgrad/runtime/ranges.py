"""Ranges: where ``np.arange``'s values move with its arguments, and the weights of
``np.linspace``, ``np.logspace`` and ``np.geomspace`` in their endpoints.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import is_number, literal, twin
from .checks import refuse

__all__ = ["is_start", "linspace_weights", "logspace_exponents", "geomspace_weights"]

# -- np.arange and np.linspace --------------------------------------------------------------


def is_start(stop: Any) -> float:
    """1.0 where ``np.arange``'s first argument is its start (a stop follows), 0.0 where it is the
    stop (``np.arange(n)``: the values do not move with it)."""
    return 0.0 if stop is None else 1.0


@twin(is_start)
def _is_start(stop):
    start = 0.0 if literal(stop) is None else 1.0
    return lambda stop: start


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


def _linspace(endpoint: Any) -> Any:
    """``np.linspace(start, stop, num, endpoint)`` compiled (numba's takes no ``endpoint``), None
    where ``endpoint`` is not a literal bool."""
    import numba

    endpoint = literal(endpoint)
    if endpoint is True:
        return numba.njit(lambda start, stop, num: np.linspace(start, stop, num))
    if endpoint is False:  # numpy's: num steps of (stop - start) / num from start
        return numba.njit(lambda start, stop, num: np.arange(num) * ((stop - start) / num) + start)
    return None


@twin(linspace_weights)
def _linspace_weights(start, stop, num=50, endpoint=True, retstep=False):
    spaced = _linspace(endpoint)
    if not (is_number(start) and is_number(stop)) or literal(retstep) not in (False, None) or spaced is None:
        return None
    return lambda start, stop, num=50, endpoint=True, retstep=False: spaced(0.0, 1.0, num)


# -- np.logspace and np.geomspace -----------------------------------------------------------


def _scalar_ends(start: Any, stop: Any, what: str, *more: Any) -> None:
    if np.ndim(start) or np.ndim(stop) or any(np.ndim(m) for m in more):
        raise refuse(
            f"srcgrad differentiates np.{what} with scalar start, stop{' and base' if more else ''} only",
            "call it once per pair of scalar ends, or build it from np.linspace.",
            what,
        )


def logspace_exponents(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0) -> Any:
    """The exponents of ``np.logspace``: ``np.linspace(start, stop, num, endpoint)``."""
    _scalar_ends(start, stop, "logspace", base)
    return np.linspace(start, stop, num, endpoint=endpoint)


@twin(logspace_exponents)
def _logspace_exponents(start, stop, num=50, endpoint=True, base=10.0):
    spaced = _linspace(endpoint)
    if not (is_number(start) and is_number(stop) and is_number(base)) or spaced is None:
        return None
    return lambda start, stop, num=50, endpoint=True, base=10.0: spaced(start, stop, num)


def geomspace_weights(start: Any, stop: Any, num: int = 50, endpoint: bool = True) -> Any:
    """``w`` of ``np.geomspace(start, stop) = start ** (1 - w) * stop ** w``: its derivative is
    ``ans (1 - w) / start`` in ``start`` and ``ans w / stop`` in ``stop``."""
    _scalar_ends(start, stop, "geomspace")
    return np.linspace(0.0, 1.0, num, endpoint=endpoint)


@twin(geomspace_weights)
def _geomspace_weights(start, stop, num=50, endpoint=True):
    spaced = _linspace(endpoint)
    if not (is_number(start) and is_number(stop)) or spaced is None:
        return None
    return lambda start, stop, num=50, endpoint=True: spaced(0.0, 1.0, num)
