"""The operations normalization knows by syntax: operators, array methods, copies, lists."""

from __future__ import annotations

import operator

import gast
import numpy as np

from ..rules import Rule
from ..rules.registry import Param

BINOPS = {
    gast.Add: (np.add, "add"),
    gast.Sub: (np.subtract, "sub"),
    gast.Mult: (np.multiply, "mul"),
    gast.Div: (np.true_divide, "div"),
    gast.Pow: (np.power, "pow"),
    gast.MatMult: (np.matmul, "matmul"),
    gast.Mod: (np.remainder, "mod"),  # np.mod is np.remainder; x // y is a step: no derivative
}


# Array methods and attributes on active values, as the numpy functions they call (with the
# same parameters after the array). Those without a derivative (round, argmax ...) leave the
# call as written; astype's rule is keyed by the method itself.
METHODS = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
    "var": np.var, "std": np.std, "dot": np.dot, "reshape": np.reshape, "ravel": np.ravel,
    "flatten": np.ravel, "transpose": np.transpose, "squeeze": np.squeeze, "clip": np.clip,
    "copy": np.copy, "cumsum": np.cumsum, "cumprod": np.cumprod, "diagonal": np.diagonal,
    "repeat": np.repeat, "trace": np.trace, "take": np.take, "swapaxes": np.swapaxes,
    "astype": np.ndarray.astype, "round": np.round, "argmax": np.argmax, "argmin": np.argmin,
    "argsort": np.argsort, "any": np.any, "all": np.all, "nonzero": np.nonzero,
    "conj": np.conjugate, "conjugate": np.conjugate,
}  # fmt: skip

# Attributes that compute a value, as the numpy functions that compute it.
ATTRIBUTES = {"T": np.transpose, "real": np.real, "imag": np.imag}

# Method keywords that differ from the numpy function's: x.clip(min=0.0) is np.clip(x, 0.0, None).
METHOD_KEYWORDS = {"clip": {"min": "a_min", "max": "a_max"}}


SHAPE_ATTRIBUTES = {"shape", "ndim", "size", "dtype"}


VIEWS = {operator.getitem, np.reshape, np.ravel, np.transpose, np.squeeze, np.expand_dims, np.swapaxes}


def _template(text: str) -> gast.expr:
    return gast.parse(text, mode="eval").body


RESULT = "<return>"  # the key of the function's return value among the user's names


COPY = Rule(None, "copy", (Param("x"),), {"x": _template("g")}, elementwise=True, jvp={"x": _template("t")})


# Lists are values too: ``items.append(v)`` becomes ``items_1 = items + [v]``, and the adjoint
# (and the tangent) of a list is the list of its elements' adjoints (tangents).
APPEND = Rule(
    None,
    "append",
    (Param("items"), Param("item")),
    {"items": _template("g[:-1]"), "item": _template("g[-1]")},
    jvp={"items": _template("t + [zero_tangent(item)]"), "item": _template("zero_tangent(items) + [t]")},
    joint=_template("t_items + [t_item]"),
)


# ``items + more``, where either is a list: the adjoint splits where the first list ends.
CONCAT = Rule(
    None,
    "concat",
    (Param("items"), Param("more")),
    {"items": _template("g[:len(items)]"), "more": _template("g[len(items):]")},
    jvp={"items": _template("t + zero_tangent(more)"), "more": _template("zero_tangent(items) + t")},
    joint=_template("t_items + t_more"),
)


LIST_ITEM = Rule(
    None,
    "list_item",
    (Param("items"), Param("index")),
    {"items": _template("list_item_grad(g, items, index)")},
    jvp={"items": _template("t[index]")},
)


# A field of a namedtuple passed in (``p.W``): its adjoint is a namedtuple like ``p``, ``g`` at
# that field (items_grad gathers the fields read into one).
FIELD = Rule(
    None,
    "field",
    (Param("x"), Param("key")),
    {"x": _template("field_grad(g, x, key)")},
    jvp={"x": _template("field_of(t, key)")},
)


DELETED = gast.Name(id="<deleted>", ctx=gast.Load(), annotation=None, type_comment=None)  # after ``del y``

REFUSED = {
    gast.Try: "try/except",
    gast.Global: "a global declaration",
    gast.Nonlocal: "a nonlocal declaration",
    gast.FunctionDef: "a nested def (define the helper at module level)",
    gast.AsyncFunctionDef: "async code",
    gast.AsyncFor: "async code",
    gast.AsyncWith: "async code",
    gast.ClassDef: "a class definition",
    gast.Delete: "del",
    gast.With: "this with block (only `with np.errstate(...)` is passed through)",
    gast.Import: "an import (import at module level)",
    gast.ImportFrom: "an import (import at module level)",
}
