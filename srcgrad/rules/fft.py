"""Derivative rules for ``np.fft``, one line each, reverse and forward side by side.

Every transform is linear: its tangent is the transform of the tangent, and its adjoint the
transpose, in autograd's convention for complex numbers (the transpose, not the conjugate
transpose; see ``srcgrad/dtypes.py``). The Fourier matrix is symmetric, so the adjoint of
``fft`` is ``fft`` itself, cut or zero-padded back to the input's shape where ``n=`` padded or
cut it (``unresize``); the real transforms and the n-d forms have helpers that say how
(``srcgrad/runtime/fft.py``), and those helpers have rules below, so that generated code can be
differentiated again (the adjoint of each helper is the transform it is the adjoint of).

``hfft`` is ``irfft`` of the conjugate and ``ihfft`` the conjugate of ``rfft``, each with the
other direction's scaling (``swap_norm``), as numpy defines them. ``fftfreq`` and ``rfftfreq``
depend on the sample spacing ``d`` only (as ``1 / d``), never on the number of samples.
"""

import numpy as np

from .. import runtime
from .registry import defrule, nondifferentiable

fft = np.fft
one = "a, n=None, axis=-1, norm=None"  # numpy's order, for positional calls
two = "a, s=None, axes=(-2, -1), norm=None"
many = "a, s=None, axes=None, norm=None"

# One rule, one line: the formatter would split the long ones.
# fmt: off
# Complex to complex: the transposed transform is the transform.
defrule(fft.fft, one, d_a="unresize(np.fft.fft(g, axis=axis, norm=norm), a)", t_a="np.fft.fft(t, n=n, axis=axis, norm=norm)", spelling="np.fft.fft")
defrule(fft.ifft, one, d_a="unresize(np.fft.ifft(g, axis=axis, norm=norm), a)", t_a="np.fft.ifft(t, n=n, axis=axis, norm=norm)", spelling="np.fft.ifft")
defrule(fft.fft2, two, d_a="fftn_vjp(g, a, s, axes, norm)", t_a="np.fft.fft2(t, s=s, axes=axes, norm=norm)", spelling="np.fft.fft2")
defrule(fft.ifft2, two, d_a="ifftn_vjp(g, a, s, axes, norm)", t_a="np.fft.ifft2(t, s=s, axes=axes, norm=norm)", spelling="np.fft.ifft2")
defrule(fft.fftn, many, d_a="fftn_vjp(g, a, s, axes, norm)", t_a="np.fft.fftn(t, s=s, axes=axes, norm=norm)", spelling="np.fft.fftn")
defrule(fft.ifftn, many, d_a="ifftn_vjp(g, a, s, axes, norm)", t_a="np.fft.ifftn(t, s=s, axes=axes, norm=norm)", spelling="np.fft.ifftn")

# Real to complex (half the spectrum of a real array) and back (a real array from half a spectrum).
defrule(fft.rfft, one, d_a="rfft_vjp(g, a, n, axis, norm)", t_a="np.fft.rfft(t, n=n, axis=axis, norm=norm)", spelling="np.fft.rfft")
defrule(fft.irfft, one, d_a="irfft_vjp(g, a, n, axis, norm)", t_a="np.fft.irfft(t, n=n, axis=axis, norm=norm)", spelling="np.fft.irfft")
defrule(fft.rfft2, two, d_a="rfftn_vjp(g, a, s, axes, norm)", t_a="np.fft.rfft2(t, s=s, axes=axes, norm=norm)", spelling="np.fft.rfft2")
defrule(fft.irfft2, two, d_a="irfftn_vjp(g, a, s, axes, norm)", t_a="np.fft.irfft2(t, s=s, axes=axes, norm=norm)", spelling="np.fft.irfft2")
defrule(fft.rfftn, many, d_a="rfftn_vjp(g, a, s, axes, norm)", t_a="np.fft.rfftn(t, s=s, axes=axes, norm=norm)", spelling="np.fft.rfftn")
defrule(fft.irfftn, many, d_a="irfftn_vjp(g, a, s, axes, norm)", t_a="np.fft.irfftn(t, s=s, axes=axes, norm=norm)", spelling="np.fft.irfftn")
defrule(fft.hfft, one, d_a="np.conj(irfft_vjp(g, a, n, axis, swap_norm(norm)))", t_a="np.fft.hfft(t, n=n, axis=axis, norm=norm)", spelling="np.fft.hfft")
defrule(fft.ihfft, one, d_a="rfft_vjp(np.conj(g), a, n, axis, swap_norm(norm))", t_a="np.fft.ihfft(t, n=n, axis=axis, norm=norm)", spelling="np.fft.ihfft")

# Shifts: permutations, each undone by the other.
defrule(fft.fftshift, "x, axes=None", d_x="np.fft.ifftshift(g, axes=axes)", t_x="np.fft.fftshift(t, axes=axes)", spelling="np.fft.fftshift")
defrule(fft.ifftshift, "x, axes=None", d_x="np.fft.fftshift(g, axes=axes)", t_x="np.fft.ifftshift(t, axes=axes)", spelling="np.fft.ifftshift")

# Sample frequencies: k / (n d), in d only.
defrule(fft.fftfreq, "n, d=1.0, device=None", d_d="-np.sum(g * ans) / d", t_d="-t * ans / d", zero="n, device", spelling="np.fft.fftfreq")
defrule(fft.rfftfreq, "n, d=1.0, device=None", d_d="-np.sum(g * ans) / d", t_d="-t * ans / d", zero="n, device", spelling="np.fft.rfftfreq")

# The helpers, for generated code differentiated again: each is linear in v, and its adjoint is
# the transform it is the adjoint of (with the real part of g where the helper's output is real).
defrule(runtime.unresize, "v, x", d_v="unresize(g, v)", t_v="unresize(t, x)", zero="x", spelling="unresize")
defrule(runtime.rfft_vjp, "v, a, n=None, axis=-1, norm=None", d_v="np.fft.rfft(np.real(g), n=n, axis=axis, norm=norm)", t_v="rfft_vjp(t, a, n, axis, norm)", zero="a", spelling="rfft_vjp")
defrule(runtime.irfft_vjp, "v, a, n=None, axis=-1, norm=None", d_v="np.fft.irfft(g, n=n, axis=axis, norm=norm)", t_v="irfft_vjp(t, a, n, axis, norm)", zero="a", spelling="irfft_vjp")
defrule(runtime.fftn_vjp, "v, a, s=None, axes=None, norm=None", d_v="np.fft.fftn(g, s=s, axes=axes, norm=norm)", t_v="fftn_vjp(t, a, s, axes, norm)", zero="a", spelling="fftn_vjp")
defrule(runtime.ifftn_vjp, "v, a, s=None, axes=None, norm=None", d_v="np.fft.ifftn(g, s=s, axes=axes, norm=norm)", t_v="ifftn_vjp(t, a, s, axes, norm)", zero="a", spelling="ifftn_vjp")
defrule(runtime.rfftn_vjp, "v, a, s=None, axes=None, norm=None", d_v="np.fft.rfftn(np.real(g), s=s, axes=axes, norm=norm)", t_v="rfftn_vjp(t, a, s, axes, norm)", zero="a", spelling="rfftn_vjp")
defrule(runtime.irfftn_vjp, "v, a, s=None, axes=None, norm=None", d_v="np.fft.irfftn(g, s=s, axes=axes, norm=norm)", t_v="irfftn_vjp(t, a, s, axes, norm)", zero="a", spelling="irfftn_vjp")
# fmt: on
nondifferentiable(runtime.swap_norm)
