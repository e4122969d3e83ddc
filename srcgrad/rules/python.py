"""Derivative rules for Python's builtins, ``math`` and the subscript operator."""

import builtins
import math
import operator

import numpy as np

from .. import runtime
from .registry import defrule, nondifferentiable

# One rule, one line: the formatter would split the long ones.
# fmt: off
defrule(operator.getitem, "x, index", d_x="getitem_grad(g, x, index)", t_x="t[index]", zero="index", spelling="operator.getitem")
defrule(builtins.abs, "x", d_x="abs_vjp(g, x)", t_x="abs_jvp(t, x)", elementwise=True)
defrule(builtins.float, "x", d_x="g", t_x="t", elementwise=True)
defrule(builtins.sum, "iterable, start=0", d_iterable="sum_vjp(g, iterable)", d_start="unbroadcast(g, start)", t_iterable="sum_all(t, ans)", t_start="t")
defrule(builtins.pow, "x, y", d_x="g * y * x ** np.where(y, y - 1, 1.0)", d_y="g * ans * safe_log(x)", t_x="t * y * x ** np.where(y, y - 1, 1.0)", t_y="t * ans * safe_log(x)", unbroadcast=True, elementwise=True)

scalar = dict(elementwise=True)
defrule(math.exp, "x", d_x="g * ans", t_x="t * ans", **scalar)
defrule(math.log, "x", d_x="g / x", t_x="t / x", **scalar)
defrule(math.sin, "x", d_x="g * math.cos(x)", t_x="t * math.cos(x)", **scalar)
defrule(math.cos, "x", d_x="-g * math.sin(x)", t_x="-t * math.sin(x)", **scalar)
defrule(math.tan, "x", d_x="g / math.cos(x) ** 2", t_x="t / math.cos(x) ** 2", **scalar)
defrule(math.sqrt, "x", d_x="g * 0.5 / ans", t_x="t * 0.5 / ans", **scalar)
defrule(math.tanh, "x", d_x="g * (1.0 - ans ** 2)", t_x="t * (1.0 - ans ** 2)", **scalar)
defrule(math.pow, "x, y", d_x="g * y * x ** np.where(y, y - 1, 1.0)", d_y="g * ans * safe_log(x)", t_x="t * y * x ** np.where(y, y - 1, 1.0)", t_y="t * ans * safe_log(x)", **scalar)
defrule(math.expm1, "x", d_x="g * (ans + 1.0)", t_x="t * (ans + 1.0)", **scalar)
defrule(math.log1p, "x", d_x="g / (1.0 + x)", t_x="t / (1.0 + x)", **scalar)
defrule(math.log2, "x", d_x="g / (x * math.log(2.0))", t_x="t / (x * math.log(2.0))", **scalar)
defrule(math.log10, "x", d_x="g / (x * math.log(10.0))", t_x="t / (x * math.log(10.0))", **scalar)
defrule(math.asin, "x", d_x="g / math.sqrt(1.0 - x ** 2)", t_x="t / math.sqrt(1.0 - x ** 2)", **scalar)
defrule(math.acos, "x", d_x="-g / math.sqrt(1.0 - x ** 2)", t_x="-t / math.sqrt(1.0 - x ** 2)", **scalar)
defrule(math.atan, "x", d_x="g / (1.0 + x ** 2)", t_x="t / (1.0 + x ** 2)", **scalar)
defrule(math.sinh, "x", d_x="g * math.cosh(x)", t_x="t * math.cosh(x)", **scalar)
defrule(math.cosh, "x", d_x="g * math.sinh(x)", t_x="t * math.sinh(x)", **scalar)
defrule(math.asinh, "x", d_x="g / math.sqrt(x ** 2 + 1.0)", t_x="t / math.sqrt(x ** 2 + 1.0)", **scalar)
defrule(math.acosh, "x", d_x="g / math.sqrt(x ** 2 - 1.0)", t_x="t / math.sqrt(x ** 2 - 1.0)", **scalar)
defrule(math.atanh, "x", d_x="g / (1.0 - x ** 2)", t_x="t / (1.0 - x ** 2)", **scalar)
defrule(math.erf, "x", d_x="g * 2.0 / math.sqrt(math.pi) * math.exp(-x ** 2)", t_x="t * 2.0 / math.sqrt(math.pi) * math.exp(-x ** 2)", **scalar)
defrule(math.erfc, "x", d_x="-g * 2.0 / math.sqrt(math.pi) * math.exp(-x ** 2)", t_x="-t * 2.0 / math.sqrt(math.pi) * math.exp(-x ** 2)", **scalar)
defrule(math.fabs, "x", d_x="g * np.sign(x)", t_x="t * np.sign(x)", **scalar)
defrule(math.degrees, "x", d_x="g * (180.0 / math.pi)", t_x="t * (180.0 / math.pi)", **scalar)
defrule(math.radians, "x", d_x="g * (math.pi / 180.0)", t_x="t * (math.pi / 180.0)", **scalar)
defrule(math.atan2, "y, x", d_y="g * x / (x ** 2 + y ** 2)", d_x="-g * y / (x ** 2 + y ** 2)", t_y="t * x / (x ** 2 + y ** 2)", t_x="-t * y / (x ** 2 + y ** 2)", **scalar)
defrule(math.hypot, "x, y", d_x="g * x / ans", d_y="g * y / ans", t_x="t * x / ans", t_y="t * y / ans", **scalar)
defrule(math.copysign, "x, y", d_x="g * np.sign(x) * np.sign(ans)", t_x="t * np.sign(x) * np.sign(ans)", zero="y", **scalar)
# max(a, b) and min(a, b) of numbers: the derivative of the one chosen (the first on a tie, as Python chooses)
defrule(builtins.max, "a, b", d_a="g * (a >= b)", d_b="g * (b > a)", t_a="t * (a >= b)", t_b="t * (b > a)", **scalar)
defrule(builtins.min, "a, b", d_a="g * (a <= b)", d_b="g * (b < a)", t_a="t * (a <= b)", t_b="t * (b < a)", **scalar)
# fmt: on

nondifferentiable(
    len, int, bool, range, isinstance, round, math.floor, math.ceil, math.trunc, np.shape,
    operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
)  # fmt: skip

# fmt: off
# ``y[i] = v`` in user code becomes ``y_1 = with_item(y, i, v)`` in generated code.
defrule(runtime.with_item, "x, index, value", d_x="without_item(g, index)", d_value="item_grad(g, index, value)", t_x="without_item(t, index)", t_value="with_item(np.zeros_like(x), index, t)", t="with_item(t_x, index, t_value)", zero="index", spelling="with_item")
# fmt: on
