"""Derivative rules for Python's builtins, ``math`` and the subscript operator."""

import builtins
import math
import operator

import numpy as np

from .. import runtime
from .registry import defvjp, nondifferentiable

# One rule, one line: the formatter would split the long ones.
# fmt: off
defvjp(operator.getitem, "x, index", d_x="getitem_grad(g, x, index)", spelling="operator.getitem")
defvjp(builtins.abs, "x", d_x="g * np.sign(x)", elementwise=True)
defvjp(builtins.float, "x", d_x="g", elementwise=True)
defvjp(builtins.pow, "x, y", d_x="g * y * x ** (y - 1)", d_y="g * xlogy(ans, x)", unbroadcast=True, elementwise=True)

scalar = dict(elementwise=True)
defvjp(math.exp, "x", d_x="g * ans", **scalar)
defvjp(math.log, "x", d_x="g / x", **scalar)
defvjp(math.sin, "x", d_x="g * math.cos(x)", **scalar)
defvjp(math.cos, "x", d_x="-g * math.sin(x)", **scalar)
defvjp(math.tan, "x", d_x="g / math.cos(x) ** 2", **scalar)
defvjp(math.sqrt, "x", d_x="g * 0.5 / ans", **scalar)
defvjp(math.tanh, "x", d_x="g * (1.0 - ans ** 2)", **scalar)
defvjp(math.pow, "x, y", d_x="g * y * x ** (y - 1)", d_y="g * ans * math.log(x)", **scalar)
# fmt: on

nondifferentiable(
    len, int, bool, range, isinstance, round, math.floor, math.ceil, math.trunc, np.shape,
    operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
)  # fmt: skip

# fmt: off
# ``y[i] = v`` in user code becomes ``y_1 = with_item(y, i, v)`` in generated code.
defvjp(runtime.with_item, "x, index, value", d_x="without_item(g, index)", d_value="item_grad(g, x, index, value)", spelling="with_item")
# fmt: on
