"""Symbolic shape analysis: which values provably have the same shape.

A shape is the set of symbols broadcast together to make it: ``{x}`` for a parameter
``x``, ``{}`` for a scalar, ``{x, w}`` for ``x * w``. Broadcasting is associative,
commutative and idempotent, so equal sets mean equal shapes; that is all the reverse
transform needs to leave out ``unbroadcast`` where no broadcasting can have happened.
"""

from __future__ import annotations

import operator
from collections import Counter

import gast
import numpy as np

from .ir import Bindings, Program, statements

Shape = frozenset
SCALAR: Shape = frozenset()
REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std, np.linalg.norm}
SCALAR_FUNCTIONS = {np.size, np.ndim, len, int, float, bool}
_ELEMENTWISE_SYNTAX = (gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp)


def infer_shapes(program: Program) -> dict[str, Shape]:
    """The symbolic shape of every variable the program assigns, and of its parameters."""
    shapes: dict[str, Shape] = {p: frozenset({("arg", p)}) for p in program.params}
    assigns = [s for s in statements(program.body) if isinstance(s.node, gast.Assign)]
    counts = Counter(
        n.id for s in assigns for t in s.node.targets for n in gast.walk(t) if isinstance(n, gast.Name)
    )
    for stmt in assigns:
        node = stmt.node
        if not isinstance(node.targets[0], gast.Name):
            continue
        target = node.targets[0].id
        if counts[target] > 1 or target in program.params:  # reassigned (in a loop or a branch)
            shapes[target] = frozenset({("var", target)})
            continue
        op = stmt.op
        if op is not None and op.rule is not None:
            shapes[target] = _rule_shape(op.rule, op.args, shapes, target, program.bindings)
        else:
            shapes[target] = _expr_shape(node.value, shapes, target, program.bindings)
    return shapes


def symbols(shape: Shape):
    """The symbols a shape is made of, at any depth: ``("arg", "x")``, ``("var", "h")``, ..."""
    for kind, value in shape:
        if kind == "drop":
            yield from symbols(value[0])
        else:
            yield kind, value


def _rule_shape(
    rule, args: dict[str, gast.expr], shapes: dict[str, Shape], target: str, bindings: Bindings
) -> Shape:
    if rule.elementwise:
        return frozenset().union(*(_expr_shape(a, shapes, target, bindings) for a in args.values()))
    if rule.fn in SCALAR_FUNCTIONS:
        return SCALAR
    if rule.fn is operator.getitem:
        return _slice_shape(args["x"], args["index"], shapes, target, bindings)
    if rule.fn in REDUCTIONS and _is(args.get("axis"), None) and _is(args.get("keepdims", False), False):
        return SCALAR
    return frozenset({("var", target)})


def _slice_shape(
    x: gast.expr, index: gast.expr, shapes: dict[str, Shape], target: str, bindings: Bindings
) -> Shape:
    """``x[a:-b]`` (a, b >= 0 literals) keeps ``max(len(x) - a - b, 0)`` rows whatever ``len(x)``
    is: ``x[1:]`` and ``x[:-1]`` have one shape."""
    unknown = frozenset({("var", target)})
    is_slice = isinstance(index, gast.Call) and isinstance(index.func, gast.Name)
    if (
        not isinstance(x, gast.Name)
        or not is_slice
        or bindings.denoted(index.func) is not slice
        or len(index.args) != 3
    ):
        return unknown
    start, stop, step = (_literal_int(p, default) for p, default in zip(index.args, (0, 0, 1)))
    if (
        start is None
        or stop is None
        or step != 1
        or start < 0
        or stop > 0
        or (stop == 0 and not _is(index.args[1], None))
    ):
        return unknown  # (x[:0] and x[:-0] are empty)
    shape = _expr_shape(x, shapes, target, bindings)
    return shape if start == stop == 0 else frozenset({("drop", (shape, start - stop))})


def _literal_int(node: gast.expr, default: int) -> int | None:
    """A literal int, ``default`` for None, or None for anything else."""
    if isinstance(node, gast.Constant) and node.value is None:
        return default
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        value = _literal_int(node.operand, None)
        return None if value is None else -value
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    return None


def _is(node: gast.expr | None, value: object) -> bool:
    if node is None:
        return value is False  # an absent keepdims is False
    return isinstance(node, gast.Constant) and node.value is value


def _expr_shape(node: gast.expr, shapes: dict[str, Shape], target: str, bindings: Bindings) -> Shape:
    if isinstance(node, gast.Constant):
        return SCALAR
    if isinstance(node, gast.Name):
        return shapes.get(node.id, frozenset({("global", node.id)}))
    if isinstance(node, _ELEMENTWISE_SYNTAX):
        parts = [n for n in gast.iter_child_nodes(node) if isinstance(n, gast.expr)]
        return frozenset().union(*(_expr_shape(p, shapes, target, bindings) for p in parts))
    if isinstance(node, gast.Call) and bindings.denoted(node.func) in SCALAR_FUNCTIONS:
        return SCALAR  # np.size(x), len(x), float(v)
    shape_item = isinstance(node, gast.Subscript) and isinstance(node.value, gast.Attribute)
    if shape_item and node.value.attr == "shape" and _literal_int(node.slice, None) is not None:
        return SCALAR  # x.shape[0]
    return frozenset({("var", target)})
