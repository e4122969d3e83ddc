"""Derivative rules for ``scipy.special``, one line each, reverse and forward side by side.

Registered when the program imports ``scipy.special`` (see ``srcgrad/rules/__init__.py``).
Formulas from scipy's documentation and the NIST DLMF: ``d gammaln = digamma`` (5.15),
``d J_v(z) = (J_(v-1) - J_(v+1)) / 2`` and ``d I_v(z) = (I_(v-1) + I_(v+1)) / 2`` (10.6.1,
10.29.1), ``d P(a, x) / dx = x ** (a - 1) exp(-x) / gamma(a)`` (8.8.13),
``d digamma = polygamma(1, .)`` and ``d polygamma(n, .) = polygamma(n + 1, .)``, ``d erf(x)
= 2 / sqrt(pi) * exp(-x ** 2)`` (7.10), ``ndtr`` is the standard normal CDF, ``logsumexp(a,
b=b) = log(sum(b * exp(a)))``.
"""

import math  # noqa: F401  (templates name it)

import numpy as np  # noqa: F401
import scipy.special

from .registry import defrule

names = {"scipy": scipy}
unary = dict(elementwise=True, names=names)
binary = dict(elementwise=True, unbroadcast=True, names=names)
SQRT_2PI = "math.sqrt(2.0 * math.pi)"
sp = scipy.special

# One rule, one line: the formatter would split the long ones.
# fmt: off
# The gamma function and its relatives: n, polygamma's order, is an integer. (psi is digamma.)
defrule(sp.gammaln, "x", d_x="g * scipy.special.digamma(x)", t_x="t * scipy.special.digamma(x)", **unary)
defrule(sp.gamma, "x", d_x="g * ans * scipy.special.digamma(x)", t_x="t * ans * scipy.special.digamma(x)", **unary)
defrule(sp.digamma, "x", d_x="g * scipy.special.polygamma(1, x)", t_x="t * scipy.special.polygamma(1, x)", spelling="scipy.special.digamma", **unary)  # also psi
defrule(sp.polygamma, "n, x", d_x="g * scipy.special.polygamma(n + 1, x)", t_x="t * scipy.special.polygamma(n + 1, x)", zero="n", **binary)
defrule(sp.betaln, "a, b", d_a="g * (scipy.special.digamma(a) - scipy.special.digamma(a + b))", d_b="g * (scipy.special.digamma(b) - scipy.special.digamma(a + b))", t_a="t * (scipy.special.digamma(a) - scipy.special.digamma(a + b))", t_b="t * (scipy.special.digamma(b) - scipy.special.digamma(a + b))", **binary)
defrule(sp.rgamma, "x", d_x="-g * ans * scipy.special.digamma(x)", t_x="-t * ans * scipy.special.digamma(x)", **unary)
defrule(sp.beta, "a, b", d_a="g * ans * (scipy.special.digamma(a) - scipy.special.digamma(a + b))", d_b="g * ans * (scipy.special.digamma(b) - scipy.special.digamma(a + b))", t_a="t * ans * (scipy.special.digamma(a) - scipy.special.digamma(a + b))", t_b="t * ans * (scipy.special.digamma(b) - scipy.special.digamma(a + b))", **binary)
defrule(sp.multigammaln, "a, d", d_a="g * np.sum(scipy.special.digamma(np.expand_dims(a, -1) - np.arange(d) / 2.0), -1)", t_a="t * np.sum(scipy.special.digamma(np.expand_dims(a, -1) - np.arange(d) / 2.0), -1)", zero="d", **unary)
# The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x), in x only: their
# derivative in a has no closed form (a differentiated a is refused with a NoRuleError).
defrule(sp.gammainc, "a, x", d_x="g * np.exp(scipy.special.xlogy(a - 1.0, x) - x - scipy.special.gammaln(a))", t_x="t * np.exp(scipy.special.xlogy(a - 1.0, x) - x - scipy.special.gammaln(a))", **binary)
defrule(sp.gammaincc, "a, x", d_x="-g * np.exp(scipy.special.xlogy(a - 1.0, x) - x - scipy.special.gammaln(a))", t_x="-t * np.exp(scipy.special.xlogy(a - 1.0, x) - x - scipy.special.gammaln(a))", **binary)

# Bessel functions of the first and second kind (jn is jv) and modified ones (ive(v, z) =
# iv(v, z) exp(-|z|)), in z only: a differentiated real order v is refused; yn's n is an integer.
defrule(sp.j0, "x", d_x="-g * scipy.special.j1(x)", t_x="-t * scipy.special.j1(x)", **unary)
defrule(sp.j1, "x", d_x="g * (scipy.special.j0(x) - scipy.special.jv(2, x)) / 2.0", t_x="t * (scipy.special.j0(x) - scipy.special.jv(2, x)) / 2.0", **unary)
defrule(sp.y0, "x", d_x="-g * scipy.special.y1(x)", t_x="-t * scipy.special.y1(x)", **unary)
defrule(sp.y1, "x", d_x="g * (scipy.special.y0(x) - scipy.special.yn(2, x)) / 2.0", t_x="t * (scipy.special.y0(x) - scipy.special.yn(2, x)) / 2.0", **unary)
defrule(sp.jv, "v, z", d_z="g * (scipy.special.jv(v - 1, z) - scipy.special.jv(v + 1, z)) / 2.0", t_z="t * (scipy.special.jv(v - 1, z) - scipy.special.jv(v + 1, z)) / 2.0", spelling="scipy.special.jv", **binary)  # also jn
defrule(sp.yn, "n, x", d_x="g * (scipy.special.yn(n - 1, x) - scipy.special.yn(n + 1, x)) / 2.0", t_x="t * (scipy.special.yn(n - 1, x) - scipy.special.yn(n + 1, x)) / 2.0", zero="n", **binary)
defrule(sp.i0, "x", d_x="g * scipy.special.i1(x)", t_x="t * scipy.special.i1(x)", **unary)
defrule(sp.i1, "x", d_x="g * (scipy.special.i0(x) + scipy.special.iv(2, x)) / 2.0", t_x="t * (scipy.special.i0(x) + scipy.special.iv(2, x)) / 2.0", **unary)
defrule(sp.iv, "v, z", d_z="g * (scipy.special.iv(v - 1, z) + scipy.special.iv(v + 1, z)) / 2.0", t_z="t * (scipy.special.iv(v - 1, z) + scipy.special.iv(v + 1, z)) / 2.0", **binary)
defrule(sp.ive, "v, z", d_z="g * (ans * (v / z - np.sign(z)) + scipy.special.ive(v + 1, z))", t_z="t * (ans * (v / z - np.sign(z)) + scipy.special.ive(v + 1, z))", **binary)

# The error function and the normal distribution's CDF, their inverses and logarithms.
defrule(sp.erf, "x", d_x="g * 2.0 / math.sqrt(math.pi) * np.exp(-x ** 2)", t_x="t * 2.0 / math.sqrt(math.pi) * np.exp(-x ** 2)", **unary)
defrule(sp.erfc, "x", d_x="-g * 2.0 / math.sqrt(math.pi) * np.exp(-x ** 2)", t_x="-t * 2.0 / math.sqrt(math.pi) * np.exp(-x ** 2)", **unary)
defrule(sp.erfcx, "x", d_x="g * (2.0 * x * ans - 2.0 / math.sqrt(math.pi))", t_x="t * (2.0 * x * ans - 2.0 / math.sqrt(math.pi))", **unary)
defrule(sp.erfinv, "y", d_y="g * math.sqrt(math.pi) / 2.0 * np.exp(ans ** 2)", t_y="t * math.sqrt(math.pi) / 2.0 * np.exp(ans ** 2)", **unary)
defrule(sp.erfcinv, "y", d_y="-g * math.sqrt(math.pi) / 2.0 * np.exp(ans ** 2)", t_y="-t * math.sqrt(math.pi) / 2.0 * np.exp(ans ** 2)", **unary)
defrule(sp.ndtr, "x", d_x=f"g * np.exp(-0.5 * x ** 2) / {SQRT_2PI}", t_x=f"t * np.exp(-0.5 * x ** 2) / {SQRT_2PI}", **unary)
defrule(sp.log_ndtr, "x", d_x=f"g * np.exp(-0.5 * x ** 2 - ans) / {SQRT_2PI}", t_x=f"t * np.exp(-0.5 * x ** 2 - ans) / {SQRT_2PI}", **unary)
defrule(sp.ndtri, "y", d_y=f"g * {SQRT_2PI} * np.exp(0.5 * ans ** 2)", t_y=f"t * {SQRT_2PI} * np.exp(0.5 * ans ** 2)", **unary)

# The logistic function and its inverse.
defrule(sp.expit, "x", d_x="g * ans * (1.0 - ans)", t_x="t * ans * (1.0 - ans)", **unary)
defrule(sp.log_expit, "x", d_x="g * scipy.special.expit(-x)", t_x="t * scipy.special.expit(-x)", **unary)
defrule(sp.logit, "x", d_x="g / (x * (1.0 - x))", t_x="t / (x * (1.0 - x))", **unary)

# x * log(y) and x * log1p(y), 0 where x is 0.
defrule(sp.xlogy, "x, y", d_x="g * np.log(y)", d_y="g * x / y", t_x="t * np.log(y)", t_y="t * x / y", **binary)
defrule(sp.xlog1py, "x, y", d_x="g * np.log1p(y)", d_y="g * x / (1.0 + y)", t_x="t * np.log1p(y)", t_y="t * x / (1.0 + y)", **binary)

# Entropy -x log(x).
defrule(sp.entr, "x", d_x="-g * (np.log(x) + 1.0)", t_x="-t * (np.log(x) + 1.0)", **unary)

# Reductions: log(sum(b * exp(a))) and the (log-)softmax along an axis (all axes for None).
defrule(sp.logsumexp, "a, axis=None, b=None, keepdims=False", d_a="expand(g, a, axis, keepdims) * logsumexp_weights(a, ans, axis, b, keepdims)", d_b="expand(g, a, axis, keepdims) * logsumexp_weights(a, ans, axis, None, keepdims)", t_a="np.sum(t * logsumexp_weights(a, ans, axis, b, keepdims), axis=axis, keepdims=keepdims)", t_b="np.sum(t * logsumexp_weights(a, ans, axis, None, keepdims), axis=axis, keepdims=keepdims)", unbroadcast=True, names=names)
defrule(sp.softmax, "x, axis=None", d_x="ans * (g - np.sum(g * ans, axis=axis, keepdims=True))", t_x="ans * (t - np.sum(t * ans, axis=axis, keepdims=True))", names=names)
defrule(sp.log_softmax, "x, axis=None", d_x="g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)", t_x="t - np.sum(np.exp(ans) * t, axis=axis, keepdims=True)", names=names)
# fmt: on
