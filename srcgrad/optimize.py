"""Stage 5: make generated code short. Algebraic simplification and dead-code elimination.

Simplifications never change a value's dtype or let a result alias the caller's data:
``1.0 * y`` becomes ``y`` only when ``y`` is a value the generated code computed itself.
"""

from __future__ import annotations

import contextvars
import operator
from collections.abc import Callable

import gast

from .ir import IfBlock, Stmt

_FOLD = {
    gast.Add: operator.add,
    gast.Sub: operator.sub,
    gast.Mult: operator.mul,
    gast.Div: operator.truediv,
    gast.Pow: operator.pow,
}


def _number(node: gast.expr) -> float | int | None:
    if isinstance(node, gast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _const(value: float | int) -> gast.expr:
    return gast.Constant(value=value, kind=None)


def _neg(node: gast.expr) -> gast.expr:
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return node.operand
    return gast.UnaryOp(op=gast.USub(), operand=node)


ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("srcgrad_optimize", default=True)


def simplify(node: gast.expr, is_fresh: Callable[[gast.expr], bool]) -> gast.expr:
    """Fold constants and drop multiplications by one, bottom-up."""
    if not ENABLED.get():
        return node

    class Simplify(gast.NodeTransformer):
        # Inside arithmetic a result is a new array anyway; elsewhere (the root, a call's
        # argument) dropping ``1.0 *`` could hand back the caller's own array.
        inside_arithmetic = [False]

        def visit(self, n: gast.AST) -> gast.AST:
            arithmetic = isinstance(n, (gast.BinOp, gast.UnaryOp))
            self.inside_arithmetic.append(arithmetic)
            try:
                return super().visit(n)
            finally:
                self.inside_arithmetic.pop()

        def may_drop(self, other: gast.expr) -> bool:
            return self.inside_arithmetic[-2] or is_fresh(other)

        def visit_UnaryOp(self, n: gast.UnaryOp) -> gast.expr:
            self.generic_visit(n)
            if isinstance(n.op, gast.USub):
                value = _number(n.operand)
                if value is not None:
                    return _const(-value)
                if isinstance(n.operand, gast.UnaryOp) and isinstance(n.operand.op, gast.USub):
                    return n.operand.operand
            return n

        def visit_BinOp(self, n: gast.BinOp) -> gast.expr:
            self.generic_visit(n)
            left, right = _number(n.left), _number(n.right)
            fold = _FOLD.get(type(n.op))
            if fold is not None and left is not None and right is not None:
                try:
                    return _const(fold(left, right))
                except (ZeroDivisionError, OverflowError):
                    return n
            if isinstance(n.op, gast.Mult):
                for one, other in ((left, n.right), (right, n.left)):
                    if one in (1, -1) and self.may_drop(other):
                        return other if one == 1 else _neg(other)
            if isinstance(n.op, gast.Div) and right in (1, -1) and self.may_drop(n.left):
                return n.left if right == 1 else _neg(n.left)
            if isinstance(n.op, gast.Pow) and right == 1 and self.may_drop(n.left):
                return n.left
            return n

    return Simplify().visit(node)


def read_names(node: gast.AST) -> set[str]:
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def read_names_of(items: list) -> set[str]:
    """Names a block of generated statements reads, at any depth."""
    names: set[str] = set()
    for item in items:
        if isinstance(item, Stmt):
            names |= read_names(item.node)
        elif isinstance(item, IfBlock):
            names |= read_names(item.cond) | read_names_of(item.body) | read_names_of(item.orelse)
        else:
            for part in (item.iterable, item.test):
                if part is not None:
                    names |= read_names(part)
            names |= read_names_of(item.body)
    return names


def eliminate_dead_code(items: list, live: set[str]) -> list:
    """Drop assignments whose value nothing reads; branches and loops are kept whole."""
    if not ENABLED.get():
        return list(items)
    kept = []
    for item in reversed(items):
        if not isinstance(item, Stmt):
            live |= read_names_of([item])
            kept.append(item)
            continue
        node = item.node
        if isinstance(node, gast.Assign):
            targets = {n.id for t in node.targets for n in gast.walk(t) if isinstance(n, gast.Name)}
            if not targets & live:
                continue
            live -= targets
        live |= read_names(node)
        kept.append(item)
    kept.reverse()
    return kept
