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
defrule(np.power, "x, y", d_x="g * y * x ** (y - 1)", d_y="g * xlogy(ans, x)", t_x="t * y * x ** (y - 1)", t_y="t * xlogy(ans, x)", **ufunc2)
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
defrule(np.absolute, "x", d_x="g * np.sign(x)", t_x="t * np.sign(x)", **unary)
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
defrule(np.mean, reduce, d_a="expand(g, a, axis, keepdims) / (np.size(a) / np.size(ans))", t_a="np.mean(t, axis=axis, dtype=dtype, keepdims=keepdims)")
defrule(np.prod, reduce, d_a="prod_vjp(g, a, axis, keepdims)", t_a="prod_jvp(t, a, axis, keepdims)")
extremum = "a, axis=None, out=None, keepdims=False"
defrule(np.max, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)", t_a="extremum_jvp(t, a, ans, axis, keepdims)")
defrule(np.min, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)", t_a="extremum_jvp(t, a, ans, axis, keepdims)")
moments = "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False"
centered = "(a - np.mean(a, axis=axis, keepdims=True)) / (np.size(a) / np.size(ans) - ddof)"
defrule(np.var, moments, d_a="expand(g, a, axis, keepdims) * 2.0 * " + centered, t_a=f"np.sum(t * 2.0 * {centered}, axis=axis, keepdims=keepdims)")
defrule(np.std, moments, d_a="expand(g / ans, a, axis, keepdims) * " + centered, t_a=f"np.sum(t * {centered}, axis=axis, keepdims=keepdims) / ans")

# Products: each is linear in each operand, so a tangent is the product with the tangent.
defrule(np.dot, "a, b", d_a="dot_vjp_a(g, a, b)", d_b="dot_vjp_b(g, a, b)", t_a="np.dot(t, b)", t_b="np.dot(a, t)")
defrule(np.outer, "a, b", d_a="np.reshape(np.dot(g, np.ravel(b)), np.shape(a))", d_b="np.reshape(np.dot(np.ravel(a), g), np.shape(b))", t_a="np.outer(t, b)", t_b="np.outer(a, t)")
defrule(np.inner, "a, b", d_a="inner_vjp_a(g, a, b)", d_b="inner_vjp_b(g, a, b)", t_a="np.inner(t, b)", t_b="np.inner(a, t)")
defrule(np.trace, "a, offset=0, axis1=0, axis2=1", d_a="trace_vjp(g, a, offset, axis1, axis2)", t_a="np.trace(t, offset=offset, axis1=axis1, axis2=axis2)")
defrule(np.einsum, "subscripts, a, b", d_a="einsum_vjp_a(g, subscripts, a, b)", d_b="einsum_vjp_b(g, subscripts, a, b)", t_a="np.einsum(subscripts, t, b)", t_b="np.einsum(subscripts, a, t)")

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

# fmt: on

# No derivative: shapes, constructors, indices, rounding, tests.
nondifferentiable(
    np.shape, np.ndim, np.size, np.zeros, np.ones, np.empty, np.full, np.zeros_like,
    np.ones_like, np.empty_like, np.full_like, np.eye, np.identity, np.arange, np.linspace,
    np.argmax, np.argmin, np.argsort, np.nonzero, np.floor, np.ceil, np.round, np.rint,
    np.trunc, np.fix, np.sign, np.isnan, np.isinf, np.isfinite, np.allclose, np.isclose,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.any, np.all,
    np.count_nonzero, np.searchsorted, np.floor_divide, np.array_equal,
)  # fmt: skip
