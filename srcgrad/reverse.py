"""Stage 4: reverse mode. The forward pass, then adjoints from the output back to the inputs.

Adjoint names follow one convention: ``d_y`` is the adjoint of ``y`` (the derivative of
the output with respect to ``y``). All contributions to ``d_y`` are collected first and
summed in one statement where ``y`` is defined, so no adjoint is ever updated in place.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Literal

import gast

from . import runtime
from .ir import Frame, Program, Stmt, assign, name
from .normalize import NAMES_FOR_GENERATED_CODE
from .optimize import simplify
from .shapes import SCALAR, infer_shapes

Seed = Literal["grad", "elementwise", "vjp"]


@dataclass
class Generated:
    """A generated function before printing: statements grouped by the primal lines they serve."""

    name: str
    args: gast.arguments
    forward: list[Stmt]
    backward: list[Stmt] = field(default_factory=list)
    returns: gast.expr | None = None
    doc: str = ""


def reverse(program: Program, wrt: list[str], seed: Seed, with_value: bool = False) -> Generated:
    """The gradient function of ``program`` with respect to the parameters ``wrt``."""
    return _Reverse(program, seed).run(wrt, with_value)


class _Reverse:
    def __init__(self, program: Program, seed: Seed) -> None:
        self.p = program
        self.seed = seed
        self.contribs: dict[str, list[gast.expr]] = {}
        self.backward: list[Stmt] = []
        self.fresh_names: set[str] = set()  # values created by generated code (safe to alias)
        self.shapes = infer_shapes(program)

    def run(self, wrt: list[str], with_value: bool) -> Generated:
        p = self.p
        forward = list(p.body)
        result = p.result
        self.fresh_names = {s.op.target for s in p.body if s.op is not None}
        args = copy.deepcopy(p.args)
        if self.seed == "vjp":
            cotangent = p.namer.fresh("g")
            args.kwonlyargs.append(
                gast.Name(id=cotangent, ctx=gast.Param(), annotation=None, type_comment=None)
            )
            args.kw_defaults.append(None)
        active_result = isinstance(result, gast.Name) and result.id in p.active
        if self.seed == "grad" and self.shapes.get(getattr(result, "id", None)) != SCALAR:
            check = gast.Call(
                func=name(self.helper("check_scalar")),
                args=[copy.deepcopy(result), gast.Constant(value=p.name, kind=None)],
                keywords=[],
            )
            forward.append(Stmt(gast.Expr(value=check), p.body[-1].origin if p.body else p.origin))
        if active_result:
            self.contribs[result.id] = [self.seed_value(result, cotangent if self.seed == "vjp" else None)]
        for stmt in reversed(p.body):
            if stmt.op is not None and stmt.op.target in self.contribs:
                self.differentiate(stmt)
        grads = [self.finish(w, None) or self.zeros(w) for w in wrt]
        out = grads[0] if len(grads) == 1 else gast.Tuple(elts=grads, ctx=gast.Load())
        if with_value:
            out = gast.Tuple(elts=[copy.deepcopy(result), out], ctx=gast.Load())
        return Generated("d_" + p.name, args, forward, self.backward, out)

    def helper(self, helper_name: str) -> str:
        if helper_name in NAMES_FOR_GENERATED_CODE:
            return self.p.bindings.value(NAMES_FOR_GENERATED_CODE[helper_name], helper_name)
        return self.p.bindings.value(getattr(runtime, helper_name), helper_name)

    def seed_value(self, result: gast.Name, cotangent: str | None) -> gast.expr:
        if self.seed == "grad":
            return gast.Constant(value=1.0, kind=None)
        if self.seed == "vjp":
            return name(cotangent)
        ones = gast.Attribute(value=name(self.helper("np")), attr="ones_like", ctx=gast.Load())
        return gast.Call(func=ones, args=[copy.deepcopy(result)], keywords=[])

    def zeros(self, param: str) -> gast.expr:
        zeros = gast.Attribute(value=name(self.helper("np")), attr="zeros_like", ctx=gast.Load())
        return gast.Call(func=zeros, args=[name(param)], keywords=[])

    def finish(self, var: str, origin: tuple[Frame, ...] | None) -> gast.expr | None:
        """Sum the contributions to ``d_var``; a name or literal needs no statement of its own."""
        parts = self.contribs.pop(var, None)
        if not parts:
            return None
        parts.sort(key=lambda part: isinstance(part, gast.UnaryOp) and isinstance(part.op, gast.USub))
        total = parts[0]
        for part in parts[1:]:
            if isinstance(part, gast.UnaryOp) and isinstance(part.op, gast.USub):
                total = gast.BinOp(left=total, op=gast.Sub(), right=part.operand)
            else:
                total = gast.BinOp(left=total, op=gast.Add(), right=part)
        total = simplify(total, self.is_fresh)
        if isinstance(total, (gast.Name, gast.Constant)) and origin is not None:
            return total
        adjoint = self.p.namer.fresh("d_" + var)
        self.fresh_names.add(adjoint)
        self.backward.append(Stmt(assign(adjoint, total), origin or ()))
        return name(adjoint)

    def is_fresh(self, node: gast.expr) -> bool:
        """May ``1.0 * node`` become ``node``? Only for values this code computed (not user data)."""
        return not isinstance(node, gast.Name) or node.id in self.fresh_names

    def differentiate(self, stmt: Stmt) -> None:
        op = stmt.op
        g = self.finish(op.target, stmt.origin)
        for param in op.active:
            atom = op.args[param]
            if op.rule is None:  # a list or tuple literal: its adjoint is a list of adjoints
                part = gast.Subscript(
                    value=copy.deepcopy(g), slice=gast.Constant(value=int(param), kind=None), ctx=gast.Load()
                )
            else:
                part = self.instantiate(op.rule.vjp[param], g, op.target, op.args)
                if op.rule.unbroadcast and self.shapes.get(atom.id) != self.shapes.get(op.target):
                    part = gast.Call(
                        func=name(self.helper("unbroadcast")), args=[part, name(atom.id)], keywords=[]
                    )
            self.contribs.setdefault(atom.id, []).append(simplify(part, self.is_fresh))

    def instantiate(
        self, template: gast.expr, g: gast.expr, ans: str, args: dict[str, gast.expr]
    ) -> gast.expr:
        """The rule's template with ``g``, ``ans`` and the parameters replaced by this call's values."""
        helper = self.helper

        class Fill(gast.NodeTransformer):
            def visit_Name(self, node: gast.Name) -> gast.expr:
                if node.id == "g":
                    return copy.deepcopy(g)
                if node.id == "ans":
                    return name(ans)
                if node.id in args:
                    return copy.deepcopy(args[node.id])
                if node.id in NAMES_FOR_GENERATED_CODE or hasattr(runtime, node.id):
                    return name(helper(node.id))
                return node

        return _drop_default_args(Fill().visit(copy.deepcopy(template)), self.p.bindings.values)


def _drop_default_args(node: gast.expr, helpers: dict) -> gast.expr:
    """``expand(g, x, None, False)`` reads better as ``expand(g, x)``: drop trailing defaults."""
    for call in gast.walk(node):
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Name) and call.func.id in helpers:
            fn = helpers[call.func.id]
            defaults = getattr(fn, "__defaults__", None) or ()
            if not callable(fn) or not hasattr(fn, "__code__"):
                continue
            first_default = fn.__code__.co_argcount - len(defaults)
            while len(call.args) > first_default and not call.keywords:
                last = call.args[-1]
                expected = defaults[len(call.args) - 1 - first_default]
                if not (isinstance(last, gast.Constant) and last.value is expected):
                    break
                call.args.pop()
    return node
