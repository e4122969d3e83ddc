"""Complex numbers, as autograd and JAX define them: the gradient of a real f of z = u + iv is
df/du - i df/dv, so the rules of holomorphic functions (exp, *, @ ...) hold for complex arrays
as written. The helpers here are the rules of the functions that are not holomorphic: each
maps an adjoint g of a real output to Re(g) times the conjugate of a derivative.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import is_array, is_complex_type, is_numeric, literal, result_scalar, twin
from .arrays import _is_complex, grad_dtype
from .checks import refuse

__all__ = ["abs_vjp", "abs_jvp", "angle_vjp", "angle_jvp", "real_vjp", "imag_vjp", "imag_of", "real_zero"]


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


@twin(abs_vjp)
def _abs_vjp(g, x):
    if not (is_numeric(g) and is_numeric(x)):
        return None
    if is_complex_type(x):
        return lambda g, x: np.real(g) * (np.conj(x) / np.where(np.abs(x) == 0, 1.0, np.abs(x)))
    return lambda g, x: g * np.sign(x)


def abs_jvp(t: Any, x: Any) -> Any:
    """The tangent of ``np.abs(x)``: ``t * sign(x)``; ``Re(conj(x) t) / |x|`` for complex ``x``."""
    if not _is_complex(x):
        return t * np.sign(x)
    return np.real(_unit_conj(x) * t)


@twin(abs_jvp)
def _abs_jvp(t, x):
    if not (is_numeric(t) and is_numeric(x)):
        return None
    if is_complex_type(x):
        return lambda t, x: np.real(np.conj(x) / np.where(np.abs(x) == 0, 1.0, np.abs(x)) * t)
    return lambda t, x: t * np.sign(x)


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


def _angle_typing(g, x, deg):
    """The angle's scale (180 / pi for degrees) and its gradient's scalar type, None where the
    twins do not take these types."""
    deg, scalar = literal(deg), result_scalar(x, g)
    if not isinstance(deg, bool) or scalar is None:
        return None
    return 180.0 / np.pi if deg else 1.0, scalar


@twin(angle_vjp)
def _angle_vjp(g, x, deg=False):
    typing = _angle_typing(g, x, deg)
    if typing is None or is_complex_type(g):
        return None
    scale, scalar = typing
    if not is_complex_type(x):  # (the angle of a real number is a step: 0)
        return lambda g, x, deg=False: np.zeros_like(x, dtype=scalar) * g
    return lambda g, x, deg=False: (
        np.real(g)
        * scale
        * -1j
        * np.conj(x)
        / np.where(x.real**2 + x.imag**2 == 0, 1.0, x.real**2 + x.imag**2)
    )


@twin(angle_jvp)
def _angle_jvp(t, x, deg=False):
    typing = _angle_typing(t, x, deg)
    if typing is None:
        return None
    scale, scalar = typing
    if not is_complex_type(x):
        return lambda t, x, deg=False: np.zeros_like(x, dtype=scalar) * np.real(t)
    return lambda t, x, deg=False: (
        scale * np.imag(np.conj(x) * t) / np.where(x.real**2 + x.imag**2 == 0, 1.0, x.real**2 + x.imag**2)
    )


def real_vjp(g: Any, x: Any) -> Any:
    """The adjoint of ``np.real(x)``: ``g``; for complex ``x`` ``Re(g)`` as a complex array."""
    if not _is_complex(x):
        return g
    return np.real(g) + 0j


@twin(real_vjp)
def _real_vjp(g, x):
    if is_complex_type(x):
        return lambda g, x: np.real(g) + 0j
    return (lambda g, x: g) if is_numeric(g) else None


def imag_vjp(g: Any, x: Any) -> Any:
    """The adjoint of ``np.imag(x)``: ``-i Re(g)``; 0 for real ``x`` (its imaginary part is 0)."""
    if not _is_complex(x):
        return g * 0.0
    return -1j * np.real(g)


@twin(imag_vjp)
def _imag_vjp(g, x):
    if not (is_numeric(g) and is_numeric(x)) or is_complex_type(g):
        return None
    if is_complex_type(x):
        return lambda g, x: -1j * np.real(g)
    return lambda g, x: g * 0.0


def imag_of(g: Any, x: Any) -> Any:
    """``Im(g)`` for complex ``x``, 0 otherwise: the adjoint of ``imag_vjp`` in its first argument."""
    if not _is_complex(x):
        return np.real(g) * 0.0
    return np.imag(g)


@twin(imag_of)
def _imag_of(g, x):
    if not (is_numeric(g) and is_numeric(x)):
        return None
    if is_complex_type(x):
        return lambda g, x: np.imag(g)
    return lambda g, x: np.real(g) * 0.0


def real_zero(x: Any, what: str) -> Any:
    """0: a derivative that is zero for real ``x`` (a sign, a mask); for complex ``x`` it is not,
    and srcgrad refuses it (the second derivatives of abs, angle and norm of complex arrays)."""
    if _is_complex(x):
        raise refuse(
            f"srcgrad differentiates {what} of complex arrays once only",
            "write it with differentiable pieces, e.g. np.real(z * np.conj(z)) for np.abs(z) ** 2.",
        )
    return np.zeros_like(x, dtype=grad_dtype(x, 1.0))


@twin(real_zero)
def _real_zero(x, what):
    scalar = result_scalar(x)
    if scalar is None or is_complex_type(x):
        return None  # (complex x: refused by the helper, which says why)
    if is_array(x):
        return lambda x, what: np.zeros(x.shape, scalar)
    return lambda x, what: scalar(0.0)
