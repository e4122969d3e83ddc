"""The helpers the rules of ``np.fft`` call (``srcgrad/rules/fft.py``): adjoints of the transforms.

Every transform is linear, so its adjoint is its transpose (autograd's convention for complex
numbers: the transpose, not the conjugate transpose). The discrete Fourier matrix is symmetric,
so the adjoint of ``fft`` is ``fft`` again; what is left to the helpers is the bookkeeping:

- ``n=`` and ``s=`` cut or zero-pad the input before transforming: the adjoint zero-pads or
  cuts back to the input's shape (:func:`unresize`);
- the n-d transforms are 1-d transforms along each axis in turn (numpy's own definition): the
  adjoint applies the adjoints in the reverse order, so repeated axes come out right too;
- ``rfft`` keeps the first ``n // 2 + 1`` bins of the transform of a real array, and ``irfft``
  reads those bins as a Hermitian spectrum, counting each bin but the first (and the last, for
  even ``n``) twice, and dropping the imaginary parts it cannot use: the weights ``1, 2, ..., 2,
  (1)`` of :func:`_weights`.

Each helper is linear in its first argument and has a rule (``srcgrad/rules/fft.py``) whose
adjoint is the transform itself, so generated code can be differentiated again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "swap_norm",
    "unresize",
    "rfft_vjp",
    "irfft_vjp",
    "fftn_vjp",
    "ifftn_vjp",
    "rfftn_vjp",
    "irfftn_vjp",
]

# norm= of the transform whose scaling is the other one's: fft(x, norm) and ifft(x, dual(norm))
# scale by the same factor (1, 1/sqrt(n) or 1/n)
_DUAL = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def swap_norm(norm: str | None) -> str:
    """The ``norm`` numpy passes on in ``hfft`` and ``ihfft`` (which are ``irfft`` and ``rfft``
    with the other direction's scaling)."""
    return _DUAL[norm]


def unresize(v: Any, x: Any) -> Any:
    """``v`` cut or zero-padded at the end of each axis to ``x``'s shape: the adjoint of the
    cutting or zero-padding that ``n=`` and ``s=`` do to an fft's input (and its own adjoint)."""
    return _fit(v, np.shape(x))


def _fit(v: Any, shape: tuple) -> Any:
    if np.shape(v) == tuple(shape):
        return v
    v = v[tuple(slice(0, n) for n in shape)]
    pad = [(0, n - m) for n, m in zip(shape, np.shape(v))]
    return np.pad(v, pad) if any(p for _, p in pad) else v


def _resize(v: Any, size: int, axis: int) -> Any:
    """``v`` cut or zero-padded at the end of ``axis`` to ``size`` entries."""
    shape = list(np.shape(v))
    shape[axis] = size
    return _fit(v, tuple(shape))


def _plan(shape: tuple, s: Any, axes: Any) -> tuple[list[int], list[int]]:
    """The sizes and axes of the 1-d transforms an n-d transform is made of, as numpy decides
    them (``numpy.fft._pocketfft._cook_nd_args``, without its deprecation warnings)."""
    if axes is None:
        axes = range(len(shape)) if s is None else range(-len(s), 0)
    axes = [int(a) for a in axes]
    s = [None] * len(axes) if s is None else s
    return [shape[a] if n is None or n == -1 else int(n) for n, a in zip(s, axes)], axes


def _weights(n: int, axis: int, ndim: int, dtype: Any) -> np.ndarray:
    """How many bins of a length-``n`` spectrum each of the first ``n // 2 + 1`` stands for (its
    Hermitian twin's too): 1 for the first and, for even ``n``, the last; 2 for the others.
    Shaped to broadcast along ``axis``."""
    w = np.full(n // 2 + 1, 2.0, dtype=dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = -1
    return w.reshape(shape)


def _rfft_vjp(v: Any, size: int, n: int, axis: int, norm: Any) -> Any:
    """The adjoint of ``rfft(x, n, axis, norm)`` for ``x`` with ``size`` entries along ``axis``:
    ``Re(F^T v)`` for ``v`` zero-padded to ``n`` bins, computed as an inverse real transform of
    ``conj(v)`` with each bin divided by the number of bins ``irfft`` makes of it."""
    v = np.conj(v) / _weights(n, axis, np.ndim(v), np.real(v).dtype)
    return _resize(np.fft.irfft(v, n, axis, _DUAL[norm]), size, axis)


def _irfft_vjp(v: Any, size: int, axis: int, norm: Any) -> Any:
    """The adjoint of ``irfft(x, n, axis, norm)`` for ``x`` with ``size`` entries along ``axis``
    (``n`` is ``v``'s length there): the transpose of the Hermitian inverse transform, each bin
    counted as often as ``irfft`` uses it. ``v`` is an adjoint of real values (its imaginary part
    means nothing)."""
    v = np.real(v)
    n = np.shape(v)[axis]
    spectrum = np.conj(np.fft.rfft(v, axis=axis, norm=_DUAL[norm]))
    return _resize(spectrum * _weights(n, axis, np.ndim(v), v.dtype), size, axis)


def rfft_vjp(v: Any, a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """The adjoint of ``np.fft.rfft(a, n, axis, norm)`` (a real array, shaped like ``a``)."""
    size = np.shape(a)[axis]
    return _rfft_vjp(v, size, size if n is None else n, axis, norm)


def irfft_vjp(v: Any, a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """The adjoint of ``np.fft.irfft(a, n, axis, norm)`` (complex, shaped like ``a``)."""
    return _irfft_vjp(v, np.shape(a)[axis], axis, norm)


def _fftn_vjp(fn: Any, v: Any, a: Any, s: Any, axes: Any, norm: Any) -> Any:
    """The adjoint of numpy's n-d transform made of ``fn`` (``fft`` or ``ifft``): numpy applies
    ``fn`` along ``axes[-1]`` first, cutting or padding to ``s[-1]``, and along ``axes[0]`` last;
    the adjoint applies ``fn`` (the Fourier matrix is symmetric) along ``axes[0]`` first, each
    time cutting or padding back to the size that axis had before."""
    sizes, axes = _plan(np.shape(a), s, axes)
    shape, before = list(np.shape(a)), {}
    for i in reversed(range(len(axes))):
        before[i], shape[axes[i]] = shape[axes[i]], sizes[i]
    for i, axis in enumerate(axes):
        v = _resize(fn(v, axis=axis, norm=norm), before[i], axis)
    return v


def fftn_vjp(v: Any, a: Any, s: Any = None, axes: Any = None, norm: str | None = None) -> Any:
    """The adjoint of ``np.fft.fftn(a, s, axes, norm)`` (and of ``fft2``)."""
    return _fftn_vjp(np.fft.fft, v, a, s, axes, norm)


def ifftn_vjp(v: Any, a: Any, s: Any = None, axes: Any = None, norm: str | None = None) -> Any:
    """The adjoint of ``np.fft.ifftn(a, s, axes, norm)`` (and of ``ifft2``)."""
    return _fftn_vjp(np.fft.ifft, v, a, s, axes, norm)


def rfftn_vjp(v: Any, a: Any, s: Any = None, axes: Any = None, norm: str | None = None) -> Any:
    """The adjoint of ``np.fft.rfftn(a, s, axes, norm)`` (and of ``rfft2``): numpy applies
    ``rfft`` along ``axes[-1]``, then ``fft`` along the others from the last to the first."""
    sizes, axes = _plan(np.shape(a), s, axes)
    shape, before = list(np.shape(a)), {}
    before[-1], shape[axes[-1]] = shape[axes[-1]], sizes[-1] // 2 + 1
    for i in reversed(range(len(axes) - 1)):
        before[i], shape[axes[i]] = shape[axes[i]], sizes[i]
    for i in range(len(axes) - 1):
        v = _resize(np.fft.fft(v, axis=axes[i], norm=norm), before[i], axes[i])
    return _rfft_vjp(v, before[-1], sizes[-1], axes[-1], norm)


def irfftn_vjp(v: Any, a: Any, s: Any = None, axes: Any = None, norm: str | None = None) -> Any:
    """The adjoint of ``np.fft.irfftn(a, s, axes, norm)`` (and of ``irfft2``): numpy applies
    ``ifft`` along ``axes[0]``, ..., ``axes[-2]``, then ``irfft`` along ``axes[-1]``."""
    sizes, axes = _plan(np.shape(a), s, axes)  # (irfft: the output length is v's, not sizes[-1])
    shape, before = list(np.shape(a)), {}
    for i in range(len(axes) - 1):
        before[i], shape[axes[i]] = shape[axes[i]], sizes[i]
    v = _irfft_vjp(v, shape[axes[-1]], axes[-1], norm)
    for i in reversed(range(len(axes) - 1)):
        v = _resize(np.fft.ifft(v, axis=axes[i], norm=norm), before[i], axes[i])
    return v
