"""Derivative rules for the normal distribution of ``scipy.stats``, with ``loc`` and ``scale``.

Registered when the program imports ``scipy.stats``. With ``z = (x - loc) / scale``:
``pdf = exp(-z ** 2 / 2) / (sqrt(2 pi) * scale)``, so ``d pdf/dx = -pdf * z / scale``,
``d pdf/dloc = pdf * z / scale`` and ``d pdf/dscale = pdf * (z ** 2 - 1) / scale``; ``d cdf/dx``
is the pdf; ``logpdf = -z ** 2 / 2 - log(scale) - log(2 pi) / 2``.

``scipy.stats.norm.pdf`` is a bound method, a new object at each attribute access: the
registry finds its rule by the distribution object and the function.
"""

import numpy as np  # noqa: F401  (templates name it)
import scipy.stats

from .registry import defrule

norm = scipy.stats.norm
loc_scale = "x, loc=0, scale=1"
options = dict(elementwise=True, unbroadcast=True, names={"scipy": scipy})
z = "((x - loc) / scale)"  # parenthesized: templates raise it to a power
PDF = "scipy.stats.norm.pdf(x, loc, scale)"
RATIO = "np.exp(scipy.stats.norm.logpdf(x, loc, scale) - ans)"  # pdf / cdf (pdf has the 1 / scale)

# One rule, one line: the formatter would split the long ones.
# fmt: off
defrule(norm.pdf, loc_scale, d_x=f"-g * ans * {z} / scale", d_loc=f"g * ans * {z} / scale", d_scale=f"g * ans * ({z} ** 2 - 1.0) / scale", t_x=f"-t * ans * {z} / scale", t_loc=f"t * ans * {z} / scale", t_scale=f"t * ans * ({z} ** 2 - 1.0) / scale", spelling="scipy.stats.norm.pdf", **options)
defrule(norm.logpdf, loc_scale, d_x=f"-g * {z} / scale", d_loc=f"g * {z} / scale", d_scale=f"g * ({z} ** 2 - 1.0) / scale", t_x=f"-t * {z} / scale", t_loc=f"t * {z} / scale", t_scale=f"t * ({z} ** 2 - 1.0) / scale", spelling="scipy.stats.norm.logpdf", **options)
defrule(norm.cdf, loc_scale, d_x=f"g * {PDF}", d_loc=f"-g * {PDF}", d_scale=f"-g * {PDF} * {z}", t_x=f"t * {PDF}", t_loc=f"-t * {PDF}", t_scale=f"-t * {PDF} * {z}", spelling="scipy.stats.norm.cdf", **options)
defrule(norm.logcdf, loc_scale, d_x=f"g * {RATIO}", d_loc=f"-g * {RATIO}", d_scale=f"-g * {RATIO} * {z}", t_x=f"t * {RATIO}", t_loc=f"-t * {RATIO}", t_scale=f"-t * {RATIO} * {z}", spelling="scipy.stats.norm.logcdf", **options)
# fmt: on
