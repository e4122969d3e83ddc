"""Derivative rules for Python's builtins, ``math`` and the subscript operator."""

import builtins
import math
import operator

import numpy as np

from .registry import defvjp, nondifferentiable

defvjp(operator.getitem, "x, index", d_x="getitem_grad(g, x, index)", spelling="operator.getitem")
defvjp(builtins.abs, "x", d_x="g * np.sign(x)", elementwise=True)
defvjp(builtins.float, "x", d_x="g", elementwise=True)
defvjp(builtins.pow, "x, y", d_x="g * y * x ** (y - 1)", d_y="g * ans * np.log(x)", elementwise=True)

scalar = dict(elementwise=True)
defvjp(math.exp, "x", d_x="g * ans", **scalar)
defvjp(math.log, "x", d_x="g / x", **scalar)
defvjp(math.sin, "x", d_x="g * math.cos(x)", **scalar)
defvjp(math.cos, "x", d_x="-g * math.sin(x)", **scalar)
defvjp(math.tan, "x", d_x="g / math.cos(x) ** 2", **scalar)
defvjp(math.sqrt, "x", d_x="g * 0.5 / ans", **scalar)
defvjp(math.tanh, "x", d_x="g * (1.0 - ans ** 2)", **scalar)
defvjp(math.pow, "x, y", d_x="g * y * x ** (y - 1)", d_y="g * ans * math.log(x)", **scalar)

nondifferentiable(
    len, int, bool, range, isinstance, round, math.floor, math.ceil, math.trunc, np.shape,
    operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
)  # fmt: skip
