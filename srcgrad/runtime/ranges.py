"""Ranges: where ``np.arange``'s values move with its arguments, and the weights of
``np.linspace``, ``np.logspace`` and ``np.geomspace`` in their endpoints.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import refuse

__all__ = ["is_start", "linspace_weights", "logspace_exponents", "geomspace_weights"]

# -- np.arange and np.linspace --------------------------------------------------------------


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


def geomspace_weights(start: Any, stop: Any, num: int = 50, endpoint: bool = True) -> Any:
    """``w`` of ``np.geomspace(start, stop) = start ** (1 - w) * stop ** w``: its derivative is
    ``ans (1 - w) / start`` in ``start`` and ``ans w / stop`` in ``stop``."""
    _scalar_ends(start, stop, "geomspace")
    return np.linspace(0.0, 1.0, num, endpoint=endpoint)
