"""Derivative rules for numpy, one line each, reverse and forward side by side.

``d_<operand>`` is the operand's adjoint (``g`` is the adjoint of the output); ``t_<operand>``
is the operand's contribution to the output's tangent (``t`` is the operand's tangent).
``ans`` is the output. Several formulas follow autograd's so that both produce the same
floating-point results.
"""

import numpy as np

from .registry import defrule, nondifferentiable

# One rule, one line: the formatter would split the long ones.
# fmt: off
# Arithmetic: the operators + - * / ** @ and unary minus map to these.
ufunc2 = dict(unbroadcast=True, elementwise=True)
defrule(np.add, "x, y", d_x="g", d_y="g", t_x="t", t_y="t", **ufunc2)
defrule(np.subtract, "x, y", d_x="g", d_y="-g", t_x="t", t_y="-t", **ufunc2)
defrule(np.multiply, "x, y", d_x="g * y", d_y="g * x", t_x="t * y", t_y="x * t", **ufunc2)
defrule(np.true_divide, "x, y", d_x="g / y", d_y="-g * x / y ** 2", t_x="t / y", t_y="-t * x / y ** 2", **ufunc2)
defrule(np.power, "x, y", d_x="g * y * x ** np.where(y, y - 1, 1.0)", d_y="g * ans * safe_log(x)", t_x="t * y * x ** np.where(y, y - 1, 1.0)", t_y="t * ans * safe_log(x)", **ufunc2)
defrule(np.negative, "x", d_x="-g", t_x="-t", elementwise=True)
defrule(np.positive, "x", d_x="g", t_x="t", elementwise=True)
defrule(np.matmul, "x1, x2", d_x1="matmul_vjp_a(g, x1, x2)", d_x2="matmul_vjp_b(g, x1, x2)", t_x1="t @ x2", t_x2="x1 @ t")

# Elementwise functions of one argument.
unary = dict(elementwise=True)
defrule(np.exp, "x", d_x="g * ans", t_x="t * ans", **unary)
defrule(np.exp2, "x", d_x="g * ans * math.log(2.0)", t_x="t * ans * math.log(2.0)", **unary)
defrule(np.expm1, "x", d_x="g * (ans + 1.0)", t_x="t * (ans + 1.0)", **unary)
defrule(np.log, "x", d_x="g / x", t_x="t / x", **unary)
defrule(np.log2, "x", d_x="g / (x * math.log(2.0))", t_x="t / (x * math.log(2.0))", **unary)
defrule(np.log10, "x", d_x="g / (x * math.log(10.0))", t_x="t / (x * math.log(10.0))", **unary)
defrule(np.log1p, "x", d_x="g / (x + 1.0)", t_x="t / (x + 1.0)", **unary)
defrule(np.sqrt, "x", d_x="g * 0.5 / ans", t_x="t * 0.5 / ans", **unary)
defrule(np.square, "x", d_x="g * 2.0 * x", t_x="t * 2.0 * x", **unary)
defrule(np.reciprocal, "x", d_x="-g / x ** 2", t_x="-t / x ** 2", **unary)
defrule(np.absolute, "x", d_x="abs_vjp(g, x)", t_x="abs_jvp(t, x)", **unary)
defrule(np.sin, "x", d_x="g * np.cos(x)", t_x="t * np.cos(x)", **unary)
defrule(np.cos, "x", d_x="-g * np.sin(x)", t_x="-t * np.sin(x)", **unary)
defrule(np.tan, "x", d_x="g / np.cos(x) ** 2", t_x="t / np.cos(x) ** 2", **unary)
defrule(np.arcsin, "x", d_x="g / np.sqrt(1.0 - x ** 2)", t_x="t / np.sqrt(1.0 - x ** 2)", **unary)
defrule(np.arccos, "x", d_x="-g / np.sqrt(1.0 - x ** 2)", t_x="-t / np.sqrt(1.0 - x ** 2)", **unary)
defrule(np.arctan, "x", d_x="g / (1.0 + x ** 2)", t_x="t / (1.0 + x ** 2)", **unary)
defrule(np.sinh, "x", d_x="g * np.cosh(x)", t_x="t * np.cosh(x)", **unary)
defrule(np.cosh, "x", d_x="g * np.sinh(x)", t_x="t * np.sinh(x)", **unary)
defrule(np.tanh, "x", d_x="g * (1.0 - ans ** 2)", t_x="t * (1.0 - ans ** 2)", **unary)
defrule(np.arcsinh, "x", d_x="g / np.sqrt(x ** 2 + 1.0)", t_x="t / np.sqrt(x ** 2 + 1.0)", **unary)
defrule(np.arccosh, "x", d_x="g / np.sqrt(x ** 2 - 1.0)", t_x="t / np.sqrt(x ** 2 - 1.0)", **unary)
defrule(np.arctanh, "x", d_x="g / (1.0 - x ** 2)", t_x="t / (1.0 - x ** 2)", **unary)

# Elementwise functions of two arguments; ties split the derivative evenly. (Python floats and
# masks times g keep float32 derivatives float32.)
defrule(np.arctan2, "y, x", d_y="g * x / (x ** 2 + y ** 2)", d_x="-g * y / (x ** 2 + y ** 2)", t_y="t * x / (x ** 2 + y ** 2)", t_x="-t * y / (x ** 2 + y ** 2)", **ufunc2)
defrule(np.maximum, "x, y", d_x="g * (x > y) + 0.5 * g * (x == y)", d_y="g * (y > x) + 0.5 * g * (x == y)", t_x="t * (x > y) + 0.5 * t * (x == y)", t_y="t * (y > x) + 0.5 * t * (x == y)", **ufunc2)
defrule(np.minimum, "x, y", d_x="g * (x < y) + 0.5 * g * (x == y)", d_y="g * (y < x) + 0.5 * g * (x == y)", t_x="t * (x < y) + 0.5 * t * (x == y)", t_y="t * (y < x) + 0.5 * t * (x == y)", **ufunc2)
defrule(np.where, "condition, x, y", d_x="np.where(condition, g, 0.0)", d_y="np.where(condition, 0.0, g)", t_x="np.where(condition, t, 0.0)", t_y="np.where(condition, 0.0, t)", **ufunc2)
defrule(np.clip, "a, a_min, a_max", d_a="g * inside(a, a_min, a_max)", t_a="t * inside(a, a_min, a_max)", **ufunc2)

# Reductions.
reduce = "a, axis=None, dtype=None, out=None, keepdims=False"  # numpy's order, for positional calls
defrule(np.sum, reduce, d_a="expand(g, a, axis, keepdims)", t_a="np.sum(t, axis=axis, dtype=dtype, keepdims=keepdims)")
defrule(np.mean, reduce, d_a="expand(g, a, axis, keepdims) / (size_of(a) / size_of(ans))", t_a="np.mean(t, axis=axis, dtype=dtype, keepdims=keepdims)")
defrule(np.prod, reduce, d_a="prod_vjp(g, a, axis, keepdims)", t_a="prod_jvp(t, a, axis, keepdims)")
extremum = "a, axis=None, out=None, keepdims=False"
defrule(np.max, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)", t_a="extremum_jvp(t, a, ans, axis, keepdims)")
defrule(np.min, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)", t_a="extremum_jvp(t, a, ans, axis, keepdims)")
moments = "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False"
centered = "(a - np.mean(a, axis=axis, keepdims=True)) / (size_of(a) / size_of(ans) - ddof)"
defrule(np.var, moments, d_a=f"expand(np.real(g), a, axis, keepdims) * 2.0 * np.conj({centered})", t_a=f"np.real(np.sum(t * 2.0 * np.conj({centered}), axis=axis, keepdims=keepdims))")
defrule(np.std, moments, d_a=f"expand(safe_div(np.real(g), ans), a, axis, keepdims) * np.conj({centered})", t_a=f"safe_div(np.real(np.sum(t * np.conj({centered}), axis=axis, keepdims=keepdims)), ans)")

# Products: each is linear in each operand, so a tangent is the product with the tangent.
defrule(np.dot, "a, b", d_a="dot_vjp_a(g, a, b)", d_b="dot_vjp_b(g, a, b)", t_a="np.dot(t, b)", t_b="np.dot(a, t)")
defrule(np.outer, "a, b", d_a="np.reshape(np.dot(g, np.ravel(b)), np.shape(a))", d_b="np.reshape(np.dot(np.ravel(a), g), np.shape(b))", t_a="np.outer(t, b)", t_b="np.outer(a, t)")
defrule(np.inner, "a, b", d_a="inner_vjp_a(g, a, b)", d_b="inner_vjp_b(g, a, b)", t_a="np.inner(t, b)", t_b="np.inner(a, t)")
defrule(np.trace, "a, offset=0, axis1=0, axis2=1", d_a="trace_vjp(g, a, offset, axis1, axis2)", t_a="np.trace(t, offset=offset, axis1=axis1, axis2=axis2)")
# einsum: any number of operands, implicit or explicit output, '...', repeated labels.
defrule(np.einsum, "subscripts, *operands, optimize=False", d_operands="einsum_vjps(g, subscripts, operands)", t_operands="einsum_jvp(t, subscripts, operands)")

# Shape manipulation: linear, so a tangent goes through the same operation.
defrule(np.transpose, "a, axes=None", d_a="untranspose(g, axes)", t_a="np.transpose(t, axes=axes)")
defrule(np.reshape, "a, shape", d_a="np.reshape(g, np.shape(a))", t_a="np.reshape(t, shape)")
defrule(np.ravel, "a", d_a="np.reshape(g, np.shape(a))", t_a="np.ravel(t)")
defrule(np.expand_dims, "a, axis", d_a="np.reshape(g, np.shape(a))", t_a="np.expand_dims(t, axis)")
defrule(np.squeeze, "a, axis=None", d_a="np.reshape(g, np.shape(a))", t_a="np.squeeze(t, axis=axis)")
defrule(np.swapaxes, "a, axis1, axis2", d_a="np.swapaxes(g, axis1, axis2)", t_a="np.swapaxes(t, axis1, axis2)")
defrule(np.concatenate, "arrays, axis=0", d_arrays="unconcatenate(g, arrays, axis)", t_arrays="np.concatenate(t, axis=axis)")
defrule(np.stack, "arrays, axis=0", d_arrays="unstack(g, arrays, axis)", t_arrays="np.stack(t, axis=axis)")
defrule(np.hstack, "tup", d_tup="unstack_like(g, tup, 1)", t_tup="np.hstack(t)")
defrule(np.vstack, "tup", d_tup="unstack_like(g, tup, 0)", t_tup="np.vstack(t)")
defrule(np.copy, "a", d_a="g", t_a="t", elementwise=True)
defrule(np.array, "object", d_object="unarray(g, object)", t_object="np.array(t)")
defrule(np.asarray, "a", d_a="unarray(g, a)", t_a="np.asarray(t)")

# Linear algebra.
defrule(np.linalg.norm, "x, ord=None, axis=None, keepdims=False", d_x="norm_vjp(g, ans, x, ord, axis, keepdims)", t_x="norm_jvp(t, ans, x, ord, axis, keepdims)")
defrule(np.linalg.inv, "a", d_a="-np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2)", t_a="-ans @ t @ ans")
defrule(np.linalg.det, "a", d_a="np.expand_dims(g * ans, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)", t_a="ans * np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)")
defrule(np.linalg.solve, "a, b", d_a="solve_vjp_a(g, ans, a, b)", d_b="solve_vjp_b(g, a, b)", t_a="solve_jvp_a(t, ans, a, b)", t_b="np.linalg.solve(a, t)")

# -- broad numpy coverage (issue 7) ----------------------------------------------------------
# More elementwise functions. Where the derivative is infinite or 0/0 (cbrt at 0, hypot at
# the origin, sinc at 0) ``safe_div`` makes it 0 (sinc's true value there); fmax and fmin
# pass the derivative to the operand they pick (the one that is not NaN).
defrule(np.cbrt, "x", d_x="safe_div(g, 3.0 * ans ** 2)", t_x="safe_div(t, 3.0 * ans ** 2)", **unary)
defrule(np.fabs, "x", d_x="g * np.sign(x)", t_x="t * np.sign(x)", **unary)
defrule(np.deg2rad, "x", d_x="g * (np.pi / 180.0)", t_x="t * (np.pi / 180.0)", **unary)
defrule(np.rad2deg, "x", d_x="g * (180.0 / np.pi)", t_x="t * (180.0 / np.pi)", **unary)
defrule(np.radians, "x", d_x="g * (np.pi / 180.0)", t_x="t * (np.pi / 180.0)", **unary)
defrule(np.degrees, "x", d_x="g * (180.0 / np.pi)", t_x="t * (180.0 / np.pi)", **unary)
defrule(np.sinc, "x", d_x="g * safe_div(np.cos(np.pi * x) - ans, x)", t_x="t * safe_div(np.cos(np.pi * x) - ans, x)", **unary)
defrule(np.logaddexp, "x, y", d_x="g * np.exp(x - ans)", d_y="g * np.exp(y - ans)", t_x="t * np.exp(x - ans)", t_y="t * np.exp(y - ans)", **ufunc2)
defrule(np.logaddexp2, "x, y", d_x="g * np.exp2(x - ans)", d_y="g * np.exp2(y - ans)", t_x="t * np.exp2(x - ans)", t_y="t * np.exp2(y - ans)", **ufunc2)
defrule(np.hypot, "x, y", d_x="safe_div(g * x, ans)", d_y="safe_div(g * y, ans)", t_x="safe_div(t * x, ans)", t_y="safe_div(t * y, ans)", **ufunc2)
defrule(np.fmax, "x, y", d_x="g * nan_max_share(x, y)", d_y="g * nan_max_share(y, x)", t_x="t * nan_max_share(x, y)", t_y="t * nan_max_share(y, x)", **ufunc2)
defrule(np.fmin, "x, y", d_x="g * nan_max_share(-x, -y)", d_y="g * nan_max_share(-y, -x)", t_x="t * nan_max_share(-x, -y)", t_y="t * nan_max_share(-y, -x)", **ufunc2)
defrule(np.float_power, "x, y", d_x="g * y * np.float_power(x, np.where(y, y - 1, 1.0))", d_y="g * ans * safe_log(x)", t_x="t * y * np.float_power(x, np.where(y, y - 1, 1.0))", t_y="t * ans * safe_log(x)", **ufunc2)

# Remainders: x - floor(x / y) * y (trunc for fmod); the jumps, where x / y is an integer, are
# measure zero and get the one-sided derivative of the piece they start.
defrule(np.mod, "x, y", d_x="g", d_y="-g * np.floor_divide(x, y)", t_x="t", t_y="-t * np.floor_divide(x, y)", **ufunc2)
defrule(np.fmod, "x, y", d_x="g", d_y="-g * np.trunc(x / y)", t_x="t", t_y="-t * np.trunc(x / y)", **ufunc2)

# More reductions and scans. NaNs get no derivative in nansum and nanmean; average with
# weights= differentiates the array only (the weights are refused, loudly).
defrule(np.amax, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)", t_a="extremum_jvp(t, a, ans, axis, keepdims)")
defrule(np.amin, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)", t_a="extremum_jvp(t, a, ans, axis, keepdims)")
defrule(np.ptp, extremum, d_a="extremum_grad(g, a, np.max(a, axis=axis, keepdims=keepdims), axis, keepdims) - extremum_grad(g, a, np.min(a, axis=axis, keepdims=keepdims), axis, keepdims)", t_a="extremum_jvp(t, a, np.max(a, axis=axis, keepdims=keepdims), axis, keepdims) - extremum_jvp(t, a, np.min(a, axis=axis, keepdims=keepdims), axis, keepdims)")
defrule(np.nansum, reduce, d_a="expand(g, a, axis, keepdims) * nan_weights(a, axis)", t_a="np.sum(t * nan_weights(a, axis), axis=axis, keepdims=keepdims)")
defrule(np.nanmean, reduce, d_a="expand(g, a, axis, keepdims) * nan_weights(a, axis, True)", t_a="np.sum(t * nan_weights(a, axis, True), axis=axis, keepdims=keepdims)")
defrule(np.average, "a, axis=None, weights=None, returned=False, keepdims=False", d_a="expand(g, a, axis, keepdims) * average_share(a, axis, weights, returned)", t_a="np.sum(t * average_share(a, axis, weights, returned), axis=axis, keepdims=keepdims)")
defrule(np.median, "a, axis=None, out=None, overwrite_input=False, keepdims=False", d_a="expand(g, a, axis, keepdims) * median_weights(a, axis)", t_a="np.sum(t * median_weights(a, axis), axis=axis, keepdims=keepdims)")
defrule(np.trapezoid, "y, x=None, dx=1.0, axis=-1", d_y="np.expand_dims(g, axis) * trapezoid_weights(y, x, dx, axis)", t_y="np.trapezoid(t, x, dx, axis)")
scan = "a, axis=None, dtype=None, out=None"
defrule(np.cumsum, scan, d_a="cumsum_vjp(g, a, axis)", t_a="np.cumsum(t, axis=axis)")
defrule(np.cumprod, scan, d_a="cumprod_vjp(g, a, axis)", t_a="cumprod_jvp(t, a, axis)")
defrule(np.diff, "a, n=1, axis=-1", d_a="diff_vjp(g, a, n, axis)", t_a="np.diff(t, n, axis)")

# More shape functions: each linear, undone by another (or by itself).
defrule(np.moveaxis, "a, source, destination", d_a="np.moveaxis(g, destination, source)", t_a="np.moveaxis(t, source, destination)")
defrule(np.atleast_1d, "a", d_a="np.reshape(g, np.shape(a))", t_a="np.atleast_1d(t)")
defrule(np.atleast_2d, "a", d_a="np.reshape(g, np.shape(a))", t_a="np.atleast_2d(t)")
defrule(np.atleast_3d, "a", d_a="np.reshape(g, np.shape(a))", t_a="np.atleast_3d(t)")
defrule(np.column_stack, "tup", d_tup="uncolumn_stack(g, tup)", t_tup="np.column_stack(t)")
defrule(np.split, "ary, indices_or_sections, axis=0", d_ary="np.concatenate(g, axis=axis)", t_ary="np.split(t, indices_or_sections, axis)", zero="indices_or_sections", sequence=True)
defrule(np.array_split, "ary, indices_or_sections, axis=0", d_ary="np.concatenate(g, axis=axis)", t_ary="np.array_split(t, indices_or_sections, axis)", zero="indices_or_sections", sequence=True)
defrule(np.tile, "A, reps", d_A="untile(g, A, reps)", t_A="np.tile(t, reps)", zero="reps")
defrule(np.repeat, "a, repeats, axis=None", d_a="unrepeat(g, a, repeats, axis)", t_a="np.repeat(t, repeats, axis)", zero="repeats")
defrule(np.broadcast_to, "array, shape", d_array="unbroadcast(g, array)", t_array="np.broadcast_to(t, shape)")
defrule(np.pad, "array, pad_width, mode='constant'", d_array="unpad(g, pad_width, mode)", t_array="np.pad(t, pad_width, mode)", zero="pad_width")
defrule(np.flip, "m, axis=None", d_m="np.flip(g, axis)", t_m="np.flip(t, axis)")
defrule(np.fliplr, "m", d_m="np.fliplr(g)", t_m="np.fliplr(t)")
defrule(np.flipud, "m", d_m="np.flipud(g)", t_m="np.flipud(t)")
defrule(np.rot90, "m, k=1, axes=(0, 1)", d_m="np.rot90(g, -k, axes)", t_m="np.rot90(t, k, axes)")
defrule(np.roll, "a, shift, axis=None", d_a="np.roll(g, np.negative(shift), axis)", t_a="np.roll(t, shift, axis)")
defrule(np.triu, "m, k=0", d_m="np.triu(g, k)", t_m="np.triu(t, k)")
defrule(np.tril, "m, k=0", d_m="np.tril(g, k)", t_m="np.tril(t, k)")
defrule(np.diag, "v, k=0", d_v="undiag(g, v, k)", t_v="np.diag(t, k)")
defrule(np.diagonal, "a, offset=0, axis1=0, axis2=1", d_a="undiagonal(g, a, offset, axis1, axis2)", t_a="np.diagonal(t, offset, axis1, axis2)")
defrule(np.take, "a, indices, axis=None, out=None, mode='raise'", d_a="take_vjp(g, a, indices, axis, mode)", t_a="np.take(t, indices, axis=axis, mode=mode)", zero="indices")
defrule(np.take_along_axis, "arr, indices, axis=-1", d_arr="take_along_axis_vjp(g, arr, indices, axis)", t_arr="np.take_along_axis(t, indices, axis)", zero="indices")
defrule(np.sort, "a, axis=-1, kind=None, order=None", d_a="take_along_axis_vjp(g, a, sort_indices(a, axis), axis)", t_a="np.take_along_axis(t, sort_indices(a, axis), axis)")

# More products. vdot conjugates its first operand.
defrule(np.vdot, "a, b", d_a="np.reshape(np.ravel(np.conj(g * b)), np.shape(a))", d_b="np.reshape(np.ravel(g * np.conj(a)), np.shape(b))", t_a="np.vdot(t, b)", t_b="np.vdot(a, t)")
defrule(np.tensordot, "a, b, axes=2", d_a="tensordot_vjp_a(g, a, b, axes)", d_b="tensordot_vjp_b(g, a, b, axes)", t_a="np.tensordot(t, b, axes)", t_b="np.tensordot(a, t, axes)")
defrule(np.kron, "a, b", d_a="kron_vjp_a(g, a, b)", d_b="kron_vjp_b(g, a, b)", t_a="np.kron(t, b)", t_b="np.kron(a, t)")
defrule(np.cross, "a, b", d_a="unbroadcast(np.cross(b, g), a)", d_b="unbroadcast(np.cross(g, a), b)", t_a="np.cross(t, b)", t_b="np.cross(a, t)")

# More linear algebra. pinv's derivative assumes a constant rank (full rank in the tests). cholesky reads the lower triangle only, as if a were symmetric: its
# adjoint is symmetric, so the gradient is right for the symmetric inputs it is meant for.
defrule(np.linalg.cholesky, "a", d_a="cholesky_vjp(g, ans)", t_a="cholesky_jvp(t, ans)")
defrule(np.linalg.slogdet, "a", d_a="slogdet_vjp(g, a)", t_a="slogdet_jvp(t, ans, a)", sequence="sign, logabsdet")
defrule(np.linalg.pinv, "a", d_a="pinv_vjp(g, ans, a)", t_a="pinv_jvp(t, ans, a)")
defrule(np.linalg.matrix_power, "a, n", d_a="matrix_power_vjp(g, a, n)", t_a="matrix_power_jvp(t, a, n)", zero="n")

# Decompositions, whose outputs are (named) tuples: ``g`` is a list of adjoints, one per item.
# eigh assumes distinct eigenvalues and svd distinct nonzero singular values (infinities
# otherwise, never a finite wrong number); eigh reads one triangle of its input, and its
# gradient says so (as autograd's). qr: square or tall full-rank matrices, mode='reduced'.
defrule(np.linalg.eigh, "a, UPLO='L'", d_a="eigh_vjp(g, ans, UPLO)", t_a="eigh_jvp(t, ans, UPLO)", sequence="eigenvalues, eigenvectors")
defrule(np.linalg.svd, "a, full_matrices=True, compute_uv=True, hermitian=False", d_a="svd_vjp(g, ans, a, full_matrices, compute_uv, hermitian)", t_a="svd_jvp(t, ans, a, full_matrices, compute_uv, hermitian)", sequence="U, S, Vh")
defrule(np.linalg.qr, "a, mode='reduced'", d_a="qr_vjp(g, ans, a, mode)", t_a="qr_jvp(t, ans, a, mode)", sequence="Q, R")
defrule(np.linalg.multi_dot, "arrays", d_arrays="multi_dot_vjp(g, arrays)", t_arrays="multi_dot_jvp(t, arrays)")

# np.select: the first choice whose condition holds, else the default; the conditions are masks.
defrule(np.select, "condlist, choicelist, default=0", d_choicelist="select_vjp(g, condlist, choicelist)", d_default="unbroadcast(np.where(select_untaken(condlist), g, 0.0), default)", t_choicelist="select_where(condlist, t, zero_tangent(default))", t_default="select_where(condlist, zero_tangent(choicelist), t)", zero="condlist")

# NaN-ignoring reductions: NaN entries get no derivative (all-NaN slices give NaN, as numpy).
nan_centered = "np.where(np.isnan(a), 0.0, a - np.nanmean(a, axis=axis, keepdims=True)) / (np.sum(~np.isnan(a), axis=axis, keepdims=True) - ddof)"
defrule(np.nanmax, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)", t_a="extremum_jvp(t, a, ans, axis, keepdims)")
defrule(np.nanmin, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)", t_a="extremum_jvp(t, a, ans, axis, keepdims)")
defrule(np.nanprod, reduce, d_a="prod_vjp(g, np.where(np.isnan(a), 1.0, a), axis, keepdims) * nan_weights(a)", t_a="prod_jvp(t * nan_weights(a), np.where(np.isnan(a), 1.0, a), axis, keepdims)")
defrule(np.nanvar, moments, d_a=f"expand(np.real(g), a, axis, keepdims) * 2.0 * np.conj({nan_centered})", t_a=f"np.real(np.sum(t * 2.0 * np.conj({nan_centered}), axis=axis, keepdims=keepdims))")
defrule(np.nanstd, moments, d_a=f"expand(safe_div(np.real(g), ans), a, axis, keepdims) * np.conj({nan_centered})", t_a=f"safe_div(np.real(np.sum(t * np.conj({nan_centered}), axis=axis, keepdims=keepdims)), ans)")

# x.astype(dtype): a float type passes the derivative through (in the argument's float type);
# an integer or bool type truncates, a step function, so the derivative is zero.
defrule(np.ndarray.astype, "a, dtype, order='K', casting='unsafe', subok=True, copy=True", d_a="astype_vjp(g, a, dtype)", t_a="astype_jvp(t, dtype)", spelling="np.ndarray.astype")

lin = "linspace_weights(start, stop, num, endpoint, retstep)"
defrule(np.linspace, "start, stop, num=50, endpoint=True, retstep=False", d_start=f"np.sum(g * (1.0 - {lin}))", d_stop=f"np.sum(g * {lin})", t_start=f"t * (1.0 - {lin})", t_stop=f"t * {lin}", zero="num")
# arange(start, stop, step) is start + k * step; its length (and arange(stop)) is piecewise constant in the ends.
defrule(np.arange, "start, stop=None, step=None, dtype=None", d_start="np.sum(g) * is_start(stop)", d_step="np.sum(g * np.arange(size_of(g)))", t_start="np.full(np.shape(ans), t * is_start(stop))", t_step="t * np.arange(size_of(ans))", zero="stop, dtype")

# fmt: on

# No derivative: shapes, constructors, indices, rounding, tests.
nondifferentiable(
    np.shape, np.ndim, np.size, np.zeros, np.ones, np.empty, np.full, np.zeros_like,
    np.ones_like, np.empty_like, np.full_like, np.eye, np.identity,
    np.argmax, np.argmin, np.argsort, np.nonzero, np.floor, np.ceil, np.round, np.rint,
    np.trunc, np.fix, np.sign, np.isnan, np.isinf, np.isfinite, np.allclose, np.isclose,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.any, np.all,
    np.count_nonzero, np.searchsorted, np.floor_divide, np.array_equal,
)  # fmt: skip

# -- more numpy functions --------------------------------------------------------------------
# fmt: off
# Scans. cumulative_sum and cumulative_prod may put the initial value (0 or 1, a constant) first.
defrule(np.cumulative_sum, "x, *, axis=None, dtype=None, out=None, include_initial=False", d_x="cumsum_vjp(drop_initial(g, axis, include_initial), x, axis)", t_x="np.cumulative_sum(t, axis=axis, include_initial=include_initial)")
defrule(np.cumulative_prod, "x, *, axis=None, dtype=None, out=None, include_initial=False", d_x="cumprod_vjp(drop_initial(g, axis, include_initial), x, axis)", t_x="with_initial(cumprod_jvp(t, x, axis), axis, include_initial)")
defrule(np.nancumsum, scan, d_a="cumsum_vjp(g, a, axis) * nan_weights(a)", t_a="np.cumsum(t * nan_weights(a), axis=axis)")
defrule(np.nanmedian, "a, axis=None, out=None, overwrite_input=False, keepdims=False", d_a="expand(g, a, axis, keepdims) * nan_median_weights(a, axis)", t_a="np.sum(t * nan_median_weights(a, axis), axis=axis, keepdims=keepdims)")

# Elementwise. nan_to_num passes the derivative where x is finite, and to the replacement values
# elsewhere. copysign
# is |x1| with x2's sign: 0 at x1 = 0 (as abs), and a step in x2. nextafter(x1, x2) is x1 moved
# by one unit in the last place: derivative 1 in x1 and 0 in x2 (its direction).
defrule(np.nan_to_num, "x, copy=True, nan=0.0, posinf=None, neginf=None", d_x="g * np.isfinite(x)", d_nan="g * np.isnan(x)", d_posinf="g * np.isposinf(x)", d_neginf="g * np.isneginf(x)", t_x="t * np.isfinite(x)", t_nan="t * np.isnan(x)", t_posinf="t * np.isposinf(x)", t_neginf="t * np.isneginf(x)", zero="copy", unbroadcast=True)
defrule(np.copysign, "x1, x2", d_x1="g * np.sign(x1) * np.copysign(1.0, x2)", t_x1="t * np.sign(x1) * np.copysign(1.0, x2)", zero="x2", **ufunc2)
defrule(np.nextafter, "x1, x2", d_x1="g", t_x1="t", zero="x2", **ufunc2)
# heaviside(x1, x2) is 0, x2 or 1: a step in x1; where x1 is 0 it is x2.
defrule(np.heaviside, "x1, x2", d_x2="g * (x1 == 0)", t_x2="t * (x1 == 0)", zero="x1", **ufunc2)

# Joining and cutting: linear in the values, the indices give positions only.
defrule(np.append, "arr, values, axis=None", d_arr="unappend_arr(g, arr, values, axis)", d_values="unappend_values(g, arr, values, axis)", t_arr="np.append(t, zero_tangent(values), axis)", t_values="np.append(zero_tangent(arr), t, axis)")
defrule(np.insert, "arr, obj, values, axis=None", d_arr="uninsert_arr(g, arr, obj, values, axis)", d_values="uninsert_values(g, arr, obj, values, axis)", t_arr="np.insert(t, obj, zero_tangent(values), axis)", t_values="np.insert(zero_tangent(arr), obj, t, axis)", zero="obj")
defrule(np.delete, "arr, obj, axis=None", d_arr="undelete(g, arr, obj, axis)", t_arr="np.delete(t, obj, axis)", zero="obj")

# Products of 1-d arrays, linear in each operand: the adjoint of one is g (put back into the
# full output) correlated with the other. polyval: p's adjoint sums g times the powers of x;
# x's derivative is the derivative polynomial.
defrule(np.convolve, "a, v, mode='full'", d_a="convolve_vjp_a(g, a, v, mode)", d_v="convolve_vjp_v(g, a, v, mode)", t_a="np.convolve(t, v, mode)", t_v="np.convolve(a, t, mode)")
defrule(np.correlate, "a, v, mode='valid'", d_a="correlate_vjp_a(g, a, v, mode)", d_v="correlate_vjp_v(g, a, v, mode)", t_a="np.correlate(t, v, mode)", t_v="np.correlate(a, t, mode)")
defrule(np.polyval, "p, x", d_p="polyval_vjp_p(g, p, x)", d_x="g * np.polyval(p[:-1] * np.arange(np.size(p) - 1, 0, -1), x)", t_p="np.polyval(t, x)", t_x="t * np.polyval(p[:-1] * np.arange(np.size(p) - 1, 0, -1), x)")
# interp: x's derivative is the slope of its segment, the right derivative at a knot (0 from the
# last knot on, and outside the range, where interp is constant); fp's adjoint splits g between
# the ends of each segment; left and right get g where they are returned. The knots xp are
# refused (no template: their derivative is not zero), and so is period=.
interp_slope = "interp_inside(x, xp, period) * safe_div(np.take(fp, interp_segment(x, xp, period) + 1, mode='clip') - np.take(fp, interp_segment(x, xp, period)), np.take(xp, interp_segment(x, xp, period) + 1, mode='clip') - np.take(xp, interp_segment(x, xp, period)))"
defrule(np.interp, "x, xp, fp, left=None, right=None, period=None", d_x="g * " + interp_slope, d_fp="interp_vjp_fp(g, x, xp, left, right, period)", d_left="g * interp_below(x, xp, period)", d_right="g * interp_above(x, xp, period)", t_x="t * " + interp_slope, t_fp="interp_jvp_fp(t, x, xp, left, right, period)", t_left="t * interp_below(x, xp, period)", t_right="t * interp_above(x, xp, period)", zero="period", unbroadcast=True)

# eigvalsh: the eigenvalues of eigh (it reads one triangle, as eigh). meshgrid and
# broadcast_arrays return one array per input: each input's adjoint is its output's, summed
# back to its shape.
defrule(np.linalg.eigvalsh, "a, UPLO='L'", d_a="eigvalsh_vjp(g, a, UPLO)", t_a="eigvalsh_jvp(t, a, UPLO)")
defrule(np.meshgrid, "*xi, copy=True, sparse=False, indexing='xy'", d_xi="meshgrid_vjp(g, xi, sparse, indexing)", t_xi="meshgrid_jvp(t, sparse, indexing)", sequence=True)
defrule(np.broadcast_arrays, "*args, subok=False", d_args="broadcast_arrays_vjp(g, args)", t_args="broadcast_arrays_jvp(t)", sequence=True)
# fmt: on

# Complex numbers (autograd's and JAX's convention): the gradient of a real f of z = u + iv is
# df/du - i df/dv. The rules above are those of real numbers and, for holomorphic functions,
# of complex ones as written; these functions are not holomorphic. Each maps the adjoint of a
# real output to Re(g) times a conjugated derivative (abs_vjp, angle_vjp ... in
# srcgrad/runtime/complex_numbers.py).
# fmt: off
defrule(np.real, "val", d_val="real_vjp(g, val)", t_val="np.real(t)", elementwise=True)
defrule(np.imag, "val", d_val="imag_vjp(g, val)", t_val="np.imag(t)", elementwise=True)
defrule(np.conjugate, "x", d_x="np.conj(g)", t_x="np.conj(t)", elementwise=True)
defrule(np.angle, "z, deg=False", d_z="angle_vjp(g, z, deg)", t_z="angle_jvp(t, z, deg)", elementwise=True)
# fmt: on

nondifferentiable(
    np.tril_indices, np.triu_indices, np.argwhere, np.flatnonzero, np.around, np.ravel_multi_index,
    np.unravel_index, np.spacing, np.isposinf, np.isneginf,
)  # fmt: skip
