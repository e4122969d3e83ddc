"""Derivative rules for ``scipy.signal.convolve`` (n-dimensional, modes full, valid and same).

Registered when the program imports ``scipy.signal``. The output is a window of the full
convolution, which is bilinear: its adjoint for ``in1`` correlates the adjoint, placed in the
full output's shape (``convolve_full``), with ``in2``: ``convolve(full(g), flip(in2), 'valid')``
(no complex conjugate: autograd's convention for holomorphic functions).
"""

import numpy as np  # noqa: F401  (templates name it)
import scipy.signal

from ..runtime import scipy_helpers as rs
from .registry import defrule

names = {"scipy": scipy, "convolve_full": rs.convolve_full, "convolve_crop": rs.convolve_crop}

# One rule, one line: the formatter would split the long ones.
# fmt: off
defrule(scipy.signal.convolve, "in1, in2, mode='full', method='auto'", d_in1="scipy.signal.convolve(convolve_full(g, in1, in2, mode), np.flip(in2), 'valid')", d_in2="scipy.signal.convolve(convolve_full(g, in1, in2, mode), np.flip(in1), 'valid')", t_in1="scipy.signal.convolve(t, in2, mode)", t_in2="scipy.signal.convolve(in1, t, mode)", names=names)
# The helpers: placing an adjoint in the full output's shape and cutting the window out undo each other.
defrule(rs.convolve_full, "v, in1, in2, mode='full'", d_v="convolve_crop(g, in1, in2, mode)", t_v="convolve_full(t, in1, in2, mode)", zero="in1, in2", spelling="convolve_full", names=names)
defrule(rs.convolve_crop, "v, in1, in2, mode='full'", d_v="convolve_full(g, in1, in2, mode)", t_v="convolve_crop(t, in1, in2, mode)", zero="in1, in2", spelling="convolve_crop", names=names)
# fmt: on
