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

from .ir import Bindings, IfBlock, Program, Stmt, assigned_names, names_of, statements
from .trees import walk

Shape = frozenset
SCALAR: Shape = frozenset()
REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std, np.linalg.norm}
SCALAR_FUNCTIONS = {np.size, np.ndim, len, int, float, bool}
_ELEMENTWISE_SYNTAX = (gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp)


def infer_shapes(program: Program) -> dict[str, Shape]:
    """The symbolic shape of every variable the program assigns, and of its parameters."""
    shapes: dict[str, Shape] = {p: frozenset({("arg", p)}) for p in program.params}
    assigns = [s for s in statements(program.body) if isinstance(s.node, gast.Assign)]
    counts = Counter(n for s in assigns for t in s.node.targets for n in names_of(t))
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
    if isinstance(node, _ELEMENTWISE_SYNTAX) and not (
        isinstance(node, gast.BinOp) and isinstance(node.op, gast.MatMult)
    ):
        parts = [n for n in gast.iter_child_nodes(node) if isinstance(n, gast.expr)]
        return frozenset().union(*(_expr_shape(p, shapes, target, bindings) for p in parts))
    if isinstance(node, gast.Call) and bindings.denoted(node.func) in SCALAR_FUNCTIONS:
        return SCALAR  # np.size(x), len(x), float(v)
    shape_item = isinstance(node, gast.Subscript) and isinstance(node.value, gast.Attribute)
    if shape_item and node.value.attr == "shape" and _literal_int(node.slice, None) is not None:
        return SCALAR  # x.shape[0]
    return frozenset({("var", target)})


def after_scalar_check(program: Program, shapes: dict[str, Shape]) -> dict[str, Shape]:
    """The shapes as the backward pass of ``grad`` sees them: after ``check_scalar`` passed.

    The output is then 0-d, and it broadcasts every symbol of its shape, so each of those is
    0-d too and drops out of every shape: in ``x = x0; for ...: x = x + dt * f(x)`` with a
    scalar result, no ``unbroadcast`` is left in the loop.
    """
    zero = _checked_zero_dim(program, shapes)
    if not zero:
        return shapes
    return {v: shape - zero for v, shape in shapes.items()}


def _checked_zero_dim(program: Program, shapes: dict[str, Shape]) -> set:
    """The symbols that are 0-d once the output is.

    A parameter the output broadcasts is one value: 0-d. So is a name assigned once at the
    top of the function. A name assigned several times is 0-d in every one of its values if
    the output broadcasts its last value and every assignment but the first (at the top of
    the function, or the argument) broadcasts its current value, as ``x = x + dt * f(x)``:
    each value is broadcast into the next. The parameters those assignments broadcast with it
    are then 0-d too.
    """
    result = program.result
    if not isinstance(result, gast.Name) or result.id not in shapes:
        return set()
    defs = _definitions(program)

    def once(v: str) -> bool:
        found = defs.get(v, "irregular")
        return (
            v not in program.params
            and found != "irregular"
            and len(found) == 1
            and found[0][1] is program.body
        )

    def chained(v: str) -> bool:
        found = defs.get(v, "irregular")
        if found == "irregular":
            return False
        later = found if v in program.params else found[1:]  # (a parameter's first value is the argument)
        first_at_top = v in program.params or found[0][1] is program.body
        return first_at_top and all(_reads_current(v, block, i) for _, block, i in later)

    def last_value_read(v: str) -> bool:
        return v == result.id or (once(result.id) and _reads_current(v, program.body, defs[result.id][0][2]))

    zero = {(kind, v) for kind, v in shapes[result.id] if kind == "arg" or (kind == "var" and once(v))}
    for kind, v in shapes[result.id]:
        if kind == "var" and not once(v) and chained(v) and last_value_read(v):
            zero.add((kind, v))
            for _, block, i in defs[v]:
                broadcast = _assigned_shape(block[i], shapes, program.bindings)
                zero |= {(k, u) for k, u in broadcast if k == "arg" or (k == "var" and once(u))}
    return zero


def _definitions(program: Program) -> dict[str, object]:
    """Where each name is assigned, in program order: (top-level index, block, position);
    "irregular" for a name also assigned otherwise (a loop target, a tuple target)."""
    defs: dict[str, object] = {}

    def visit(block: list, top: int | None) -> None:
        for i, item in enumerate(block):
            at = i if top is None else top
            if isinstance(item, Stmt):
                for n in assigned_names([item]):
                    if _one(item) and defs.get(n) != "irregular":
                        defs.setdefault(n, []).append((at, block, i))
                    else:
                        defs[n] = "irregular"
            elif isinstance(item, IfBlock):
                visit(item.body, at)
                visit(item.orelse, at)
            else:
                if item.target is not None:
                    defs[item.target] = "irregular"
                visit(item.body, at)

    visit(program.body, None)
    return defs


def _broadcasts(stmt: Stmt) -> bool:
    """Does the statement's value broadcast every name it reads (an elementwise op, a copy)?"""
    if not _one(stmt):
        return False
    if stmt.op is None:
        return isinstance(stmt.node.value, gast.Name)
    return stmt.op.rule is not None and stmt.op.rule.elementwise


def _reads_current(v: str, block: list, position: int) -> bool:
    """Does ``block[position]`` broadcast ``v``'s current value, directly or through names
    computed from it earlier in the same block?"""
    current = {v}
    for item in block[:position]:
        assigned = assigned_names([item])
        if v in assigned:  # a new value of v: what was computed from the old one is stale
            current = {v}
        elif isinstance(item, Stmt) and _broadcasts(item) and _reads(item) & current:
            current |= assigned
        else:
            current -= assigned
    stmt = block[position]
    return _broadcasts(stmt) and bool(_reads(stmt) & current)


def _reads(stmt: Stmt) -> set[str]:
    return {n.id for n in walk(stmt.node.value) if isinstance(n, gast.Name)}


def _one(stmt: Stmt) -> bool:
    node = stmt.node
    return isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name)


def _assigned_shape(stmt: Stmt, shapes: dict[str, Shape], bindings: Bindings) -> Shape:
    """The shape of the value an assignment stores, computed afresh (its target may be
    reassigned, so ``shapes`` has only a symbol for it)."""
    op = stmt.op
    if op is not None and op.rule is not None:
        return _rule_shape(op.rule, op.args, shapes, "", bindings)
    return _expr_shape(stmt.node.value, shapes, "", bindings)
