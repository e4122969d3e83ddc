"""Derivative rules for numpy's long tail (issue 15): eig and eigvals, lstsq, quantiles and
percentiles, logspace and geomspace, unique and histogram, and the joins that np.piecewise,
np.apply_along_axis and np.vectorize are lowered to (srcgrad/normalize/callables.py).

Their helpers are runtime helpers (``srcgrad/runtime/``: decompositions, linear_algebra,
reductions, indexing, reshaping, ranges), which templates name as any other. These rules are
registered on demand, at the first lookup, as scipy's are.
"""

import numpy as np

from .. import runtime
from .registry import defrule, nondifferentiable

# One rule, one line: the formatter would split the long ones.
# fmt: off
# eig: a general square matrix, complex eigenvalues and eigenvectors (distinct eigenvalues; the
# eigenvectors normalized as numpy's: norm 1, largest entry real). eigvals: its eigenvalues.
defrule(np.linalg.eig, "a", d_a="eig_vjp(g, ans, a)", t_a="eig_jvp(t, ans)", sequence="eigenvalues, eigenvectors")
defrule(np.linalg.eigvals, "a", d_a="eigvals_vjp(g, a)", t_a="eigvals_jvp(t, a)")
# lstsq: (x, residuals, rank, s); x = pinv(a) b with lstsq's cutoff (the rank must not change).
defrule(np.linalg.lstsq, "a, b, rcond=None", d_a="lstsq_vjp_a(g, ans, a, b, rcond)", d_b="lstsq_vjp_b(g, ans, a, b, rcond)", t_a="lstsq_jvp(t, zero_tangent(b), ans, a, b, rcond)", t_b="lstsq_jvp(zero_tangent(a), t, ans, a, b, rcond)", t="lstsq_jvp(t_a, t_b, ans, a, b, rcond)", zero="rcond", sequence=True)
# Quantiles: the two order statistics a quantile interpolates between share its derivative; in q
# it is the slope between them (one-sided at the order statistics themselves).
quantile = "a, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False"
for _fn, _scale, _nan in ((np.quantile, "1.0", "False"), (np.percentile, "100.0", "False"), (np.nanquantile, "1.0", "True"), (np.nanpercentile, "100.0", "True")):
    _tail = f"axis, method, {_scale}, {_nan})"
    defrule(_fn, quantile, d_a=f"quantile_vjp(g, a, q, {_tail}", d_q=f"quantile_vjp_q(g, a, q, {_tail}", t_a=f"quantile_jvp(t, ans, a, q, {_tail}", t_q=f"quantile_jvp_q(t, ans, a, q, {_tail}")
# logspace: base ** linspace(start, stop); geomspace: start ** (1 - w) * stop ** w (scalar ends).
logs = "logspace_exponents(start, stop, num, endpoint, base)"
defrule(np.logspace, "start, stop, num=50, endpoint=True, base=10.0", d_start="np.sum(g * ans * np.log(base) * (1.0 - linspace_weights(start, stop, num, endpoint)))", d_stop="np.sum(g * ans * np.log(base) * linspace_weights(start, stop, num, endpoint))", d_base=f"np.sum(g * ans * {logs} / base)", t_start="t * ans * np.log(base) * (1.0 - linspace_weights(start, stop, num, endpoint))", t_stop="t * ans * np.log(base) * linspace_weights(start, stop, num, endpoint)", t_base=f"t * ans * {logs} / base", zero="num")
geo = "geomspace_weights(start, stop, num, endpoint)"
defrule(np.geomspace, "start, stop, num=50, endpoint=True", d_start=f"np.sum(g * ans * (1.0 - {geo})) / start", d_stop=f"np.sum(g * ans * {geo}) / stop", t_start=f"t * ans * (1.0 - {geo}) / start", t_stop=f"t * ans * {geo} / stop", zero="num")
# unique: a gather of the input; tied entries share their value's derivative. (Its index,
# inverse and counts outputs are lowered apart: srcgrad/normalize/callables.py.)
defrule(np.unique, "ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *, equal_nan=True", d_ar="unique_vjp(g, ar, axis)", t_ar="unique_jvp(t, ar, axis)", zero="return_index, return_inverse, return_counts, equal_nan")
# histogram: its counts are steps, but its bin edges and a density move with the data: srcgrad
# refuses a derivative through it: no template (edges given as bins are returned as they are).
defrule(np.histogram, "a, bins=10, range=None, density=None, weights=None", hint="its counts are steps and its bin edges move with the data: differentiate a smooth stand-in (a kernel density estimate), or pass constants (srcgrad.stop_gradient).")
# The joins that np.piecewise, np.apply_along_axis and np.vectorize are lowered to.
defrule(runtime.piecewise_join, "x, condlist, pieces", d_pieces="piecewise_vjp(g, x, condlist, pieces)", t_pieces="piecewise_join(x, condlist, t)", zero="x, condlist", spelling="piecewise_join")
defrule(runtime.along_rows, "arr, axis", d_arr="unrows(g, arr, axis)", t_arr="along_rows(t, axis)", zero="axis", spelling="along_rows")
defrule(runtime.join_rows, "results, arr, axis", d_results="unjoin_rows(g, results, arr, axis)", t_results="join_rows(t, arr, axis)", zero="arr, axis", spelling="join_rows")
# Their helpers, for second derivatives: linear in the adjoint or tangent (the weights of a
# quantile are steps in a; its slope's derivative in a, and the weights' in q, are refused).
defrule(runtime.quantile_vjp, "v, a, q, axis=None, method='linear', scale=1.0, skip_nan=False", d_v="quantile_jvp(g, v, a, q, axis, method, scale, skip_nan)", t_v="quantile_vjp(t, a, q, axis, method, scale, skip_nan)", zero="a", spelling="quantile_vjp")
defrule(runtime.quantile_jvp, "u, like, a, q, axis=None, method='linear', scale=1.0, skip_nan=False", d_u="quantile_vjp(g, a, q, axis, method, scale, skip_nan)", t_u="quantile_jvp(t, like, a, q, axis, method, scale, skip_nan)", zero="like, a", spelling="quantile_jvp")
defrule(runtime.quantile_vjp_q, "v, a, q, axis=None, method='linear', scale=1.0, skip_nan=False", d_v="quantile_jvp_q(g, v, a, q, axis, method, scale, skip_nan)", t_v="quantile_vjp_q(t, a, q, axis, method, scale, skip_nan)", zero="q", spelling="quantile_vjp_q")
defrule(runtime.quantile_jvp_q, "u, like, a, q, axis=None, method='linear', scale=1.0, skip_nan=False", d_u="quantile_vjp_q(g, a, q, axis, method, scale, skip_nan)", t_u="quantile_jvp_q(t, like, a, q, axis, method, scale, skip_nan)", zero="like, q", spelling="quantile_jvp_q")
defrule(runtime.unique_vjp, "v, ar, axis=None", d_v="unique_jvp(g, ar, axis)", t_v="unique_vjp(t, ar, axis)", zero="ar", spelling="unique_vjp")
defrule(runtime.unique_jvp, "u, ar, axis=None", d_u="unique_vjp(g, ar, axis)", t_u="unique_jvp(t, ar, axis)", zero="ar", spelling="unique_jvp")
defrule(runtime.piecewise_vjp, "v, x, condlist, pieces", d_v="piecewise_join(x, condlist, g)", t_v="piecewise_vjp(t, x, condlist, pieces)", zero="x, condlist, pieces", sequence=True, spelling="piecewise_vjp")
defrule(runtime.unrows, "v, arr, axis", d_v="along_rows(g, axis)", t_v="unrows(t, arr, axis)", zero="arr, axis", spelling="unrows")
defrule(runtime.unjoin_rows, "v, results, arr, axis", d_v="join_rows(g, arr, axis)", t_v="unjoin_rows(t, results, arr, axis)", zero="results, arr, axis", sequence=True, spelling="unjoin_rows")
# np.prod's second derivative multiplies pairs of other entries (prod_others_jvp), its third
# triples (prod_others_jvp2, linear in u and s); the fourth is refused.
defrule(runtime.prod_others_jvp, "x, u, axis=None", d_x="prod_others_jvp2(x, u, g, axis)", d_u="prod_others_jvp(x, g, axis)", t_x="prod_others_jvp2(x, u, t, axis)", t_u="prod_others_jvp(x, t, axis)", spelling="prod_others_jvp")
defrule(runtime.prod_others_jvp2, "x, u, s, axis=None", d_u="prod_others_jvp2(x, g, s, axis)", d_s="prod_others_jvp2(x, u, g, axis)", t_u="prod_others_jvp2(x, t, s, axis)", t_s="prod_others_jvp2(x, u, t, axis)", spelling="prod_others_jvp2")
# fmt: on
nondifferentiable(
    runtime.logspace_exponents, runtime.geomspace_weights, runtime.piecewise_mask, runtime.piecewise_otherwise
)
defrule(runtime.piecewise_value, "piece", d_piece="g", t_piece="t", spelling="piecewise_value")  # fmt: skip
