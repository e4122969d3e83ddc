"""Stage 4, forward mode: tangents computed beside the primal values, statement by statement.

Tangent names follow one convention: ``t_y`` is the tangent of ``y``, the derivative of
``y`` along the input tangents ``t_x`` that the generated function takes as keyword-only
parameters. Each primal statement is followed by the one that computes its tangent, from
the rule's ``t_<operand>`` templates (the sum of the contributions of the operands that
carry derivatives). Branches and loops stay as they are, with tangents assigned in them
like the values they follow, so forward mode needs no tape.

Generated gradient code uses a tape (``tape_1 = tape + [y]``, ``y = tape_1[-1]`` after
normalization); its tangent is a list of tangents built beside it (``t_tape_1 = t_tape +
[t_y]``), so forward mode also applies to reverse-mode code: that is how ``hessian`` works.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Literal

import gast

from . import runtime
from .dtypes import infer_sources, output_checks
from .errors import SrcGradError
from .ir import IfBlock, Program, Stmt, assign, drop_default_args, missing_half, name, statements
from .normalize import NAMES_FOR_GENERATED_CODE
from .optimize import simplify
from .reverse import Generated
from .rules import Rule
from .rules.registry import REQUIRED
from .shapes import SCALAR, Shape, infer_shapes
from .trees import gc_paused, walk

Returns = Literal["tangent", "both"]


@gc_paused
def forward(
    program: Program, wrt: list[str], returns: Returns = "tangent", check_scalar: bool = False
) -> Generated:
    """The tangent function of ``program``: ``f(*args, t_<w>=...)`` for each ``w`` in ``wrt``.

    It returns the output's tangent, or ``(output, tangent)`` when ``returns="both"``.
    With ``check_scalar`` it raises ``NonScalarOutputError`` for a non-scalar output,
    as ``grad`` does in reverse mode.
    """
    return _Forward(program).run(wrt, returns, check_scalar)


def tangent_parameters(generated: Generated, wrt: list[str]) -> dict[str, str]:
    """The keyword-only tangent parameter of each ``wrt`` parameter, by name."""
    names = [a.id for a in generated.args.kwonlyargs][-len(wrt) :]
    return dict(zip(wrt, names))


class _Forward:
    def __init__(self, program: Program) -> None:
        self.p = program
        self.tangents: dict[str, gast.expr] = {}  # primal name -> its tangent (a name)
        self.names: dict[str, str] = {}  # primal name -> the name of its tangent
        self.shapes = infer_shapes(program)
        counts: Counter = Counter()
        for stmt in statements(program.body):
            for target in getattr(stmt.node, "targets", ()):
                counts.update(n.id for n in walk(target) if isinstance(n, gast.Name))
        self.reassigned = {n for n, c in counts.items() if c > 1}  # in branches or loops
        self.fresh: set[str] = {s.op.target for s in statements(program.body) if s.op is not None}

    # -- names --------------------------------------------------------------------------

    def tangent_name(self, var: str) -> str:
        if var not in self.names:
            self.names[var] = self.p.namer.fresh("t_" + var)
            self.fresh.add(self.names[var])
        return self.names[var]

    def helper(self, helper_name: str) -> str:
        if helper_name in NAMES_FOR_GENERATED_CODE:
            return self.p.bindings.value(NAMES_FOR_GENERATED_CODE[helper_name], helper_name)
        return self.p.bindings.value(getattr(runtime, helper_name), helper_name)

    def is_fresh(self, node: gast.expr) -> bool:
        """May ``1.0 * node`` become ``node``? Not for the caller's arrays (arguments, tangents)."""
        return not isinstance(node, gast.Name) or node.id in self.fresh

    # -- the function -------------------------------------------------------------------

    def run(self, wrt: list[str], returns: Returns, check_scalar: bool) -> Generated:
        p = self.p
        args = copy.deepcopy(p.args)
        for w in wrt:
            tangent = self.tangent_name(w)
            self.fresh.discard(tangent)
            self.tangents[w] = name(tangent)
            args.kwonlyargs.append(
                gast.Name(id=tangent, ctx=gast.Param(), annotation=None, type_comment=None)
            )
            args.kw_defaults.append(None)
        body = self.block(p.body)
        result = p.result
        tangent = self.tangent_of(result)

        def output(tangent: gast.expr) -> gast.expr:
            if returns == "both":
                return gast.Tuple(elts=[copy.deepcopy(result), tangent], ctx=gast.Load())
            return tangent

        if check_scalar:  # a real scalar output (dtypes.py); one element of shape (1,): its number
            reshape = gast.Attribute(value=name(self.helper("np")), attr="reshape", ctx=gast.Load())
            number = gast.Call(
                func=reshape, args=[copy.deepcopy(tangent), gast.Tuple(elts=[], ctx=gast.Load())], keywords=[]
            )
            size_one = gast.Return(value=output(number))
            for check in output_checks(p, self.shapes, infer_sources(p), self.helper, True, size_one):
                body.append(Stmt(check, p.body[-1].origin if p.body else p.origin))
        out = output(tangent)
        prefix = "jvp_" if returns == "both" else "tangent_"
        return Generated(prefix + p.name, args, body, [], out)

    def tangent_of(self, atom: gast.expr) -> gast.expr:
        """The tangent of an atom: its tangent's name, or a zero for a value without one."""
        if isinstance(atom, gast.Name) and atom.id in self.tangents:
            return copy.deepcopy(self.tangents[atom.id])
        if isinstance(atom, gast.Name) and atom.id in self.p.active:
            raise SrcGradError(f"internal error: forward mode found no tangent for {atom.id!r}")
        if isinstance(atom, (gast.Tuple, gast.List)):
            return type(atom)(elts=[self.tangent_of(e) for e in atom.elts], ctx=gast.Load())
        return self.zero(atom)

    def zero(self, atom: gast.expr) -> gast.expr:
        """A zero tangent for ``atom``: ``0.0`` for a number, ``np.zeros_like(y)``, or a list of zeros."""
        if isinstance(atom, gast.Constant) and type(atom.value) in (int, float, bool):
            return gast.Constant(value=0.0, kind=None)
        if isinstance(atom, gast.Name) and atom.id in self.p.lists:
            return gast.Call(func=name(self.helper("zero_tangent")), args=[copy.deepcopy(atom)], keywords=[])
        zeros = gast.Attribute(value=name(self.helper("np")), attr="zeros_like", ctx=gast.Load())
        return gast.Call(func=zeros, args=[copy.deepcopy(atom)], keywords=[])

    # -- blocks -------------------------------------------------------------------------

    def block(self, items: list) -> list:
        out: list = []
        for item in items:
            if isinstance(item, Stmt):
                out.append(item)
                tangent = self.statement(item)
                if tangent is not None:
                    out.append(tangent)
            elif isinstance(item, IfBlock):
                body, orelse = self.block(item.body), self.block(item.orelse)
                out.append(IfBlock(item.cond, body, orelse, item.origin, list(item.merged)))
            else:
                loop = copy.copy(item)
                loop.body = self.block(item.body)
                out.append(loop)
        return out

    def statement(self, stmt: Stmt) -> Stmt | None:
        """The statement that computes the tangent of ``stmt``'s target, if it has one."""
        op = stmt.op
        if op is None:
            targets = [t.id for t in getattr(stmt.node, "targets", ()) if isinstance(t, gast.Name)]
            if len(targets) == 1 and targets[0] in self.p.active:  # an active name given a constant
                return self.define(targets[0], self.zero(name(targets[0])), stmt, force=True)
            return None
        if op.rule is None:  # a tuple, list or dict literal: the same literal of tangents
            value = stmt.node.value
            if isinstance(value, gast.Dict):
                tangents = [self.tangent_of(v) for v in value.values]
                return self.define(
                    op.target, gast.Dict(keys=copy.deepcopy(value.keys), values=tangents), stmt
                )
            elts = [self.tangent_of(e) for e in value.elts]
            return self.define(op.target, type(value)(elts=elts, ctx=gast.Load()), stmt)
        return self.define(op.target, self.total(op.rule, op.target, op.args, op.active, stmt), stmt)

    def define(self, var: str, value: gast.expr, stmt: Stmt, force: bool = False) -> Stmt | None:
        """``t_var = value``; a name needs no statement when ``var`` is assigned only once."""
        value = simplify(value, self.is_fresh)
        if (
            not force
            and isinstance(value, gast.Name)
            and var not in self.reassigned
            and value.id not in {self.names.get(r) for r in self.reassigned}
        ):
            self.tangents[var] = value
            return None
        tangent = self.tangent_name(var)
        self.tangents[var] = name(tangent)
        return Stmt(assign(tangent, value), stmt.origin)

    def total(
        self, rule: Rule, target: str, args: dict[str, gast.expr], active: list[str], stmt: Stmt
    ) -> gast.expr:
        """The output's tangent: the sum of the active operands' contributions (or the joint template)."""
        missing = [p for p in active if p not in rule.jvp]
        if missing:
            raise missing_half(rule, missing[0], stmt.origin, "forward")
        if len(active) > 1 and rule.joint is not None:
            tangents = {
                f"t_{p}": self.tangent_of(args[p]) if p in active else self.zero(args[p]) for p in rule.jvp
            }
            total = self.instantiate(rule, rule.joint, None, target, args, tangents)
        else:
            parts = [
                self.instantiate(rule, rule.jvp[p], self.tangent_of(args[p]), target, args) for p in active
            ]
            total = _sum(parts)
            if target in self.p.lists:  # list tangents add element by element
                total = parts[0]
                for part in parts[1:]:
                    total = gast.Call(func=name(self.helper("add_lists")), args=[total, part], keywords=[])
        if rule.unbroadcast and self.shape_of(total) != self.shape_of(*args.values()):
            # an operand smaller than the output: its tangent is broadcast to the output's shape
            total = gast.Call(func=name(self.helper("expand")), args=[total, name(target)], keywords=[])
        return total

    def shape_of(self, *nodes: gast.expr) -> Shape:
        """The symbolic shape of elementwise expressions: their operands broadcast together."""
        by_tangent = {t: v for v, t in self.names.items()}
        shape: Shape = SCALAR
        for sub in (sub for node in nodes for sub in walk(node)):
            if isinstance(sub, gast.Name) and sub.id not in self.p.bindings.values:
                var = by_tangent.get(sub.id, sub.id)
                shape = shape | self.shapes.get(var, frozenset({("global", var)}))
        return shape

    def instantiate(
        self,
        rule: Rule,
        template: gast.expr,
        t: gast.expr | None,
        ans: str,
        args: dict[str, gast.expr],
        tangents: dict[str, gast.expr] | None = None,
    ) -> gast.expr:
        """The template with ``t``, ``ans`` and the parameters replaced by this call's values."""
        helper, tangents = self.helper, tangents or {}
        at_default = {
            p.name for p in rule.params if p.default is not REQUIRED and _same(args[p.name], p.default)
        }

        class Fill(gast.NodeTransformer):
            def visit_Call(self, node: gast.Call) -> gast.expr:
                # a keyword passing a parameter at its default value is left out: np.sum(t_x)
                node.keywords = [
                    k
                    for k in node.keywords
                    if not (isinstance(k.value, gast.Name) and k.value.id in at_default)
                ]
                return self.generic_visit(node)

            def visit_Name(self, node: gast.Name) -> gast.expr:
                if node.id == "t" and t is not None:
                    return copy.deepcopy(t)
                if node.id in tangents:
                    return copy.deepcopy(tangents[node.id])
                if node.id == "ans":
                    return name(ans)
                if node.id in args:
                    return copy.deepcopy(args[node.id])
                if node.id in NAMES_FOR_GENERATED_CODE or node.id in runtime.HELPERS:
                    return name(helper(node.id))
                return node

        filled = Fill().visit(copy.deepcopy(template))
        return _slices(drop_default_args(filled, self.p.bindings.values), self.p.bindings.values)


def _same(a: gast.AST, b: gast.AST) -> bool:
    return gast.dump(a) == gast.dump(b)


def _negated(part: gast.expr) -> gast.expr | None:
    """``b`` for ``-b``, and ``b * c / d`` for ``-b * c / d``; None when ``part`` is not negated."""
    if isinstance(part, gast.UnaryOp) and isinstance(part.op, gast.USub):
        return part.operand
    if isinstance(part, gast.BinOp) and isinstance(part.op, (gast.Mult, gast.Div)):
        left = _negated(part.left)
        if left is not None:
            return gast.BinOp(left=left, op=part.op, right=part.right)
    return None


def _sum(parts: list[gast.expr]) -> gast.expr:
    """``a + b + c``, with ``a + -b`` written ``a - b``."""
    parts = sorted(parts, key=lambda part: _negated(part) is not None)
    total = parts[0]
    for part in parts[1:]:
        positive = _negated(part)
        op = gast.Add() if positive is None else gast.Sub()
        total = gast.BinOp(left=total, op=op, right=part if positive is None else positive)
    return total


def _slices(node: gast.expr, helpers: dict) -> gast.expr:
    """``t_x[slice(1, None, None)]`` reads better as ``t_x[1:]``, as the user wrote it."""

    def as_slice(index: gast.expr) -> gast.expr:
        if (
            isinstance(index, gast.Call)
            and isinstance(index.func, gast.Name)
            and helpers.get(index.func.id) is slice
            and len(index.args) == 3
            and not index.keywords
        ):
            parts = [None if isinstance(a, gast.Constant) and a.value is None else a for a in index.args]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(index, gast.Tuple):
            index.elts = [as_slice(e) for e in index.elts]
        return index

    for sub in walk(node):
        if isinstance(sub, gast.Subscript):
            sub.slice = as_slice(sub.slice)
    return node
