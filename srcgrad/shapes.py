"""Symbolic shape analysis: which values provably have the same shape.

A shape is the set of symbols broadcast together to make it: ``{x}`` for a parameter
``x``, ``{}`` for a scalar, ``{x, w}`` for ``x * w``. Broadcasting is associative,
commutative and idempotent, so equal sets mean equal shapes; that is all the reverse
transform needs to leave out ``unbroadcast`` where no broadcasting can have happened.
"""

from __future__ import annotations

from collections import Counter

import gast
import numpy as np

from .ir import Program, statements

Shape = frozenset
SCALAR: Shape = frozenset()
REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std, np.linalg.norm}
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
            shapes[target] = _rule_shape(op.rule, op.args, shapes, target)
        else:
            shapes[target] = _expr_shape(node.value, shapes, target)
    return shapes


def _rule_shape(rule, args: dict[str, gast.expr], shapes: dict[str, Shape], target: str) -> Shape:
    if rule.elementwise:
        return frozenset().union(*(_expr_shape(a, shapes, target) for a in args.values()))
    if rule.fn in REDUCTIONS and _is(args.get("axis"), None) and _is(args.get("keepdims", False), False):
        return SCALAR
    return frozenset({("var", target)})


def _is(node: gast.expr | None, value: object) -> bool:
    if node is None:
        return value is False  # an absent keepdims is False
    return isinstance(node, gast.Constant) and node.value is value


def _expr_shape(node: gast.expr, shapes: dict[str, Shape], target: str) -> Shape:
    if isinstance(node, gast.Constant):
        return SCALAR
    if isinstance(node, gast.Name):
        return shapes.get(node.id, frozenset({("global", node.id)}))
    if isinstance(node, _ELEMENTWISE_SYNTAX):
        parts = [n for n in gast.iter_child_nodes(node) if isinstance(n, gast.expr)]
        return frozenset().union(*(_expr_shape(p, shapes, target) for p in parts))
    return frozenset({("var", target)})
