"""Derivative rules for numpy, one line each: ``d_<operand>`` is the operand's adjoint.

``g`` is the adjoint of the output and ``ans`` the output. Several formulas follow
autograd's so that both produce the same floating-point results.
"""

import numpy as np

from .registry import defvjp, nondifferentiable

# One rule, one line: the formatter would split the long ones.
# fmt: off
# Arithmetic: the operators + - * / ** @ and unary minus map to these.
ufunc2 = dict(unbroadcast=True, elementwise=True)
defvjp(np.add, "x, y", d_x="g", d_y="g", **ufunc2)
defvjp(np.subtract, "x, y", d_x="g", d_y="-g", **ufunc2)
defvjp(np.multiply, "x, y", d_x="g * y", d_y="g * x", **ufunc2)
defvjp(np.true_divide, "x, y", d_x="g / y", d_y="-g * x / y ** 2", **ufunc2)
defvjp(np.power, "x, y", d_x="g * y * x ** (y - 1)", d_y="g * xlogy(ans, x)", **ufunc2)
defvjp(np.negative, "x", d_x="-g", elementwise=True)
defvjp(np.positive, "x", d_x="g", elementwise=True)
defvjp(np.matmul, "x1, x2", d_x1="matmul_vjp_a(g, x1, x2)", d_x2="matmul_vjp_b(g, x1, x2)")

# Elementwise functions of one argument.
unary = dict(elementwise=True)
defvjp(np.exp, "x", d_x="g * ans", **unary)
defvjp(np.exp2, "x", d_x="g * ans * np.log(2.0)", **unary)
defvjp(np.expm1, "x", d_x="g * (ans + 1.0)", **unary)
defvjp(np.log, "x", d_x="g / x", **unary)
defvjp(np.log2, "x", d_x="g / (x * np.log(2.0))", **unary)
defvjp(np.log10, "x", d_x="g / (x * np.log(10.0))", **unary)
defvjp(np.log1p, "x", d_x="g / (x + 1.0)", **unary)
defvjp(np.sqrt, "x", d_x="g * 0.5 / ans", **unary)
defvjp(np.square, "x", d_x="g * 2.0 * x", **unary)
defvjp(np.reciprocal, "x", d_x="-g / x ** 2", **unary)
defvjp(np.absolute, "x", d_x="g * np.sign(x)", **unary)
defvjp(np.sin, "x", d_x="g * np.cos(x)", **unary)
defvjp(np.cos, "x", d_x="-g * np.sin(x)", **unary)
defvjp(np.tan, "x", d_x="g / np.cos(x) ** 2", **unary)
defvjp(np.arcsin, "x", d_x="g / np.sqrt(1.0 - x ** 2)", **unary)
defvjp(np.arccos, "x", d_x="-g / np.sqrt(1.0 - x ** 2)", **unary)
defvjp(np.arctan, "x", d_x="g / (1.0 + x ** 2)", **unary)
defvjp(np.sinh, "x", d_x="g * np.cosh(x)", **unary)
defvjp(np.cosh, "x", d_x="g * np.sinh(x)", **unary)
defvjp(np.tanh, "x", d_x="g * (1.0 - ans ** 2)", **unary)
defvjp(np.arcsinh, "x", d_x="g / np.sqrt(x ** 2 + 1.0)", **unary)
defvjp(np.arccosh, "x", d_x="g / np.sqrt(x ** 2 - 1.0)", **unary)
defvjp(np.arctanh, "x", d_x="g / (1.0 - x ** 2)", **unary)

# Elementwise functions of two arguments; ties split the adjoint evenly.
defvjp(np.arctan2, "y, x", d_y="g * x / (x ** 2 + y ** 2)", d_x="-g * y / (x ** 2 + y ** 2)", **ufunc2)
defvjp(np.maximum, "x, y", d_x="g * ((x > y) + 0.5 * (x == y))", d_y="g * ((y > x) + 0.5 * (x == y))", **ufunc2)
defvjp(np.minimum, "x, y", d_x="g * ((x < y) + 0.5 * (x == y))", d_y="g * ((y < x) + 0.5 * (x == y))", **ufunc2)
defvjp(np.where, "condition, x, y", d_x="np.where(condition, g, 0.0)", d_y="np.where(condition, 0.0, g)", **ufunc2)
defvjp(np.clip, "a, a_min, a_max", d_a="g * inside(a, a_min, a_max)", **ufunc2)

# Reductions.
reduce = "a, axis=None, dtype=None, out=None, keepdims=False"  # numpy's order, for positional calls
defvjp(np.sum, reduce, d_a="expand(g, a, axis, keepdims)")
defvjp(np.mean, reduce, d_a="expand(g, a, axis, keepdims) / (np.size(a) / np.size(ans))")
defvjp(np.prod, reduce, d_a="prod_vjp(g, a, axis, keepdims)")
extremum = "a, axis=None, out=None, keepdims=False"
defvjp(np.max, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)")
defvjp(np.min, extremum, d_a="extremum_grad(g, a, ans, axis, keepdims)")
moments = "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False"
centered = "(a - np.mean(a, axis=axis, keepdims=True)) / (np.size(a) / np.size(ans) - ddof)"
defvjp(np.var, moments, d_a="expand(g, a, axis, keepdims) * 2.0 * " + centered)
defvjp(np.std, moments, d_a="expand(g / ans, a, axis, keepdims) * " + centered)

# Products.
defvjp(np.dot, "a, b", d_a="dot_vjp_a(g, a, b)", d_b="dot_vjp_b(g, a, b)")
defvjp(np.outer, "a, b", d_a="np.reshape(np.dot(g, np.ravel(b)), np.shape(a))", d_b="np.reshape(np.dot(np.ravel(a), g), np.shape(b))")
defvjp(np.inner, "a, b", d_a="inner_vjp(g, a, b, 0)", d_b="inner_vjp(g, a, b, 1)")
defvjp(np.trace, "a, offset=0, axis1=0, axis2=1", d_a="trace_vjp(g, a, offset, axis1, axis2)")
defvjp(np.einsum, "subscripts, a, b", d_a="einsum_vjp(g, subscripts, a, b, 0)", d_b="einsum_vjp(g, subscripts, a, b, 1)")

# Shape manipulation.
defvjp(np.transpose, "a, axes=None", d_a="untranspose(g, axes)")
defvjp(np.reshape, "a, shape", d_a="np.reshape(g, np.shape(a))")
defvjp(np.ravel, "a", d_a="np.reshape(g, np.shape(a))")
defvjp(np.expand_dims, "a, axis", d_a="np.reshape(g, np.shape(a))")
defvjp(np.squeeze, "a, axis=None", d_a="np.reshape(g, np.shape(a))")
defvjp(np.concatenate, "arrays, axis=0", d_arrays="unconcatenate(g, arrays, axis)")
defvjp(np.stack, "arrays, axis=0", d_arrays="unstack(g, arrays, axis)")
defvjp(np.hstack, "tup", d_tup="unstack_like(g, tup, 1)")
defvjp(np.vstack, "tup", d_tup="unstack_like(g, tup, 0)")

# Linear algebra.
defvjp(np.linalg.norm, "x, ord=None, axis=None, keepdims=False", d_x="norm_vjp(g, ans, x, ord, axis, keepdims)")
defvjp(np.linalg.inv, "a", d_a="-np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2)")
defvjp(np.linalg.det, "a", d_a="np.expand_dims(g * ans, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)")
defvjp(np.linalg.solve, "a, b", d_a="solve_vjp_a(g, ans, a, b)", d_b="solve_vjp_b(g, a, b)")

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
defvjp(np.copy, "a", d_a="g", elementwise=True)
