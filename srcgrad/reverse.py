"""Stage 4: reverse mode. The forward pass, then adjoints from the output back to the inputs.

Adjoint names follow one convention: ``d_y`` is the adjoint of ``y`` (the derivative of
the output with respect to ``y``). All contributions to ``d_y`` are collected first and
summed in one statement where ``y`` is defined, so no adjoint is ever updated in place.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import gast
import numpy as np

from . import runtime
from .dtypes import infer_sources, output_checks, real_gradients, unsafe_scatter
from .errors import NonScalarOutputError
from .ir import (
    Frame,
    IfBlock,
    LoopBlock,
    Program,
    Stmt,
    assign,
    assigned_names,
    drop_default_args,
    missing_half,
    name,
    names_of,
    statements,
    store,
)
from .normalize import NAMES_FOR_GENERATED_CODE
from .optimize import (
    computed_once,
    eliminate_dead_code,
    lazy_fills,
    read_counts,
    read_names,
    read_names_of,
    reuse,
    scatter_in_place,
    simplify,
)
from .shapes import after_scalar_check, infer_shapes, symbols
from .trees import clone, gc_paused, walk, walk_values

Seed = Literal["grad", "elementwise", "vjp"]
SUM_TERMS = 100  # the most adjoint contributions one statement adds up (see _Reverse.total)


@dataclass
class Generated:
    """A generated function before printing: statements grouped by the primal lines they serve."""

    name: str
    args: gast.arguments
    forward: list[Stmt]
    backward: list[Stmt] = field(default_factory=list)
    returns: gast.expr | None = None
    doc: str = ""


@gc_paused
def reverse(
    program: Program, wrt: list[str], seed: Seed, with_value: bool = False, has_aux: bool = False
) -> Generated:
    """The gradient function of ``program`` with respect to the parameters ``wrt``.

    ``has_aux``: the program returns ``(loss, aux)`` and only ``loss`` is differentiated; the
    function returns ``((loss, aux), grad)`` with ``with_value``, else ``(grad, aux)`` (JAX's forms).
    """
    return _Reverse(program, seed, _aux_pack(program) if has_aux else None).run(wrt, with_value)


def _aux_pack(program: Program) -> list[gast.expr]:
    """The two atoms of the ``(loss, aux)`` a program returns, or a refusal naming the return."""
    result = program.result
    for stmt in statements(program.body):
        op = stmt.op
        value = getattr(stmt.node, "value", None)
        if (
            isinstance(result, gast.Name)
            and op is not None
            and op.rule is None
            and op.target == result.id
            and isinstance(value, (gast.Tuple, gast.List))
            and len(value.elts) == 2
        ):
            return value.elts
    if isinstance(result, gast.Name) and result.id not in program.active:
        for stmt in statements(program.body):  # (loss, aux) with neither differentiated: a plain tuple
            value = getattr(stmt.node, "value", None)
            targets = getattr(stmt.node, "targets", [])
            if (
                len(targets) == 1
                and isinstance(targets[0], gast.Name)
                and targets[0].id == result.id
                and isinstance(value, (gast.Tuple, gast.List))
                and len(value.elts) == 2
            ):
                return value.elts
    filename, _, lineno = program.returns_at.rpartition(":")
    raise NonScalarOutputError(
        f"has_aux=True needs {program.name} to return a pair (loss, aux) written in its return statement",
        filename or None,
        int(lineno) if lineno.isdigit() else None,
        hint="return loss, aux",
    )


@dataclass
class _Loop:
    """What the backward pass must restore while it runs one loop in reverse."""

    assigned: set[str]  # every name the loop body (re)assigns, at any depth
    conds: list[str] = field(default_factory=list)  # branch conditions between here and a break
    cond_pushes: list = field(default_factory=list)  # (block, push) saving a condition before a break


class _Reverse:
    def __init__(self, program: Program, seed: Seed, aux: list[gast.expr] | None = None) -> None:
        self.p = program
        self.seed = seed
        self.aux = aux  # has_aux: the atoms of the (loss, aux) pair the program returns
        self.contribs: dict[str, list[gast.expr]] = {}
        self.out: list = []  # the backward block being written
        self.fresh_names: set[str] = {s.op.target for s in statements(program.body) if s.op is not None}
        self.available = computed_once(program)  # forward values a rule may read by name
        self.unchecked_shapes = infer_shapes(program)  # for the scalar check itself
        checked = program if aux is None else dataclasses.replace(program, result=aux[0])
        self.shapes = (  # for the backward pass, which runs once the check has passed
            after_scalar_check(checked, self.unchecked_shapes) if seed == "grad" else self.unchecked_shapes
        )
        self.loops: list[_Loop] = []
        self.tape: str | None = None
        self.unbound = _maybe_none(program.body)  # None where Python would have no value for them yet

    def run(self, wrt: list[str], with_value: bool) -> Generated:
        p = self.p
        result = p.result if self.aux is None else self.aux[0]  # the value differentiated
        args = copy.deepcopy(p.args)
        cotangent = None
        if self.seed == "vjp":
            cotangent = p.namer.fresh("g")
            args.kwonlyargs.append(
                gast.Name(id=cotangent, ctx=gast.Param(), annotation=None, type_comment=None)
            )
            args.kw_defaults.append(None)
        self.cotangent = cotangent
        backward = self.block(p.body)
        forward = list(p.body)
        if self.tape is not None:
            forward.insert(0, Stmt(assign(self.tape, gast.List(elts=[], ctx=gast.Load())), ()))
        sources = infer_sources(p)  # which values may be complex (dtypes.py)
        if self.seed == "grad":  # the output must be a real scalar: checked on a cheap witness
            checked = (
                p if self.aux is None else dataclasses.replace(p, result=result)
            )  # (loss, aux): the loss
            again = gast.Call(  # the VJP with a cotangent of ones (autograd's gradient)
                func=name(self.helper("size_one_gradient")),
                args=[name(self.function_name(with_value))] + _passed(p.args),
                keywords=_passed_keywords(p.args),
            )
            size_one = gast.Return(value=again)
            if self.aux is not None:  # (loss, aux), JAX's convention: the loss must be 0-d
                refuse = gast.Call(
                    func=name(self.helper("not_scalar")),
                    args=[copy.deepcopy(result), gast.Constant(value=p.returns_at, kind=None)],
                    keywords=[],
                )
                size_one = gast.Raise(exc=refuse, cause=None)
            for check in output_checks(
                checked, self.unchecked_shapes, sources, self.helper, size_one=size_one
            ):
                forward.append(Stmt(check, p.body[-1].origin if p.body else p.origin))
        self.out = []
        grads = [self.finish(w, None) or self.zeros(w) for w in wrt]
        grads = real_gradients(grads, wrt, p, sources, self.helper)
        out = grads[0] if len(grads) == 1 else gast.Tuple(elts=grads, ctx=gast.Load())
        if with_value:
            out = gast.Tuple(elts=[copy.deepcopy(p.result), out], ctx=gast.Load())
        elif self.aux is not None:
            out = gast.Tuple(elts=[out, copy.deepcopy(self.aux[1])], ctx=gast.Load())
        backward = scatter_in_place(
            backward + self.out, self.is_helper("getitem_grad"), unsafe_scatter(p, sources)
        )
        backward = lazy_fills(
            backward, out, self.shapes, self.p.bindings.denoted, lambda: self.helper("filled")
        )
        self.shape_witnesses(forward, backward, out)
        return Generated(self.function_name(with_value), args, forward, backward, out)

    def function_name(self, with_value: bool) -> str:
        prefix = "value_and_d_" if with_value else "vjp_" if self.seed == "vjp" else "d_"
        return prefix + self.p.name

    def seeded(self) -> None:
        result = self.p.result
        if self.aux is not None:  # (loss, aux): the loss is the output
            if isinstance(self.aux[0], gast.Name) and self.aux[0].id in self.p.active:
                self.contribs[self.aux[0].id] = [self.seed_value(self.aux[0], self.cotangent)]
            return
        packed = isinstance(result, gast.Name) and any(
            s.op is not None and s.op.rule is None and s.op.target == result.id
            for s in statements(self.p.body)
        )
        if packed and self.seed != "vjp":
            frame = self.p.body[-1].origin[0] if self.p.body and self.p.body[-1].origin else None
            raise NonScalarOutputError(
                f"{self.p.name} returns a tuple, but grad needs a scalar output",
                frame and frame.filename,
                frame and frame.lineno,
                frame and frame.text,
                hint="differentiate each output separately, or use srcgrad.vjp with one cotangent per output.",
            )
        if isinstance(result, gast.Name) and result.id in self.p.active:
            seed = self.seed_value(result, self.cotangent)
            self.contribs[result.id] = [seed]

    def helper(self, helper_name: str) -> str:
        if helper_name in NAMES_FOR_GENERATED_CODE:
            return self.p.bindings.value(NAMES_FOR_GENERATED_CODE[helper_name], helper_name)
        return self.p.bindings.value(getattr(runtime, helper_name), helper_name)

    def shape_witnesses(self, forward: list, backward: list, returns: gast.expr) -> None:
        """In ``unbroadcast(g, v)``, ``expand(1.0, v)`` and ``filled(1.0, v)``, which read only
        ``v``'s shape (and dtype), read instead a value of provably the same shape that is kept
        anyway (a parameter, or a value the backward pass reads) if nothing else needs ``v``:
        then ``v`` is never computed, as ``x ** 2`` in ``np.sum(x ** 2)``. (For ``expand`` and
        ``filled`` only with an exact constant: ``v``'s dtype also sets the result's.)"""
        unbroadcast, expand, filled = (self.is_helper(h) for h in ("unbroadcast", "expand", "filled"))
        calls = [
            n
            for s in statements(backward)
            for n in walk_values(s.node)
            if isinstance(n, gast.Call)
            and len(n.args) == 2
            and not n.keywords
            and isinstance(n.args[1], gast.Name)
            and (unbroadcast(n.func) or ((expand(n.func) or filled(n.func)) and _exact(n.args[0])))
        ]
        if not calls:
            return
        reads: dict[str, int] = {}  # reads other than of shapes, in code that stays
        read_counts(backward + [Stmt(gast.Expr(value=returns), ())], reads)
        for call in calls:
            reads[call.args[1].id] -= 1
        top = [s.node.targets[0].id for s in self.p.body if isinstance(s, Stmt) and _assigns_one_name(s)]
        kept = [*self.p.params, *(v for v in top if reads.get(v))]
        read_counts(eliminate_dead_code(forward, {v for v, n in reads.items() if n}), reads)
        assigned = Counter(
            n
            for s in statements(self.p.body)
            if isinstance(s.node, gast.Assign)
            for t in s.node.targets
            for n in names_of(t)
        )
        for call in calls:
            shape = self.shapes.get(call.args[1].id)
            if reads.get(call.args[1].id) or shape is None:
                continue
            if any(kind == "var" and assigned[n] > 1 for kind, n in symbols(shape)):
                continue  # the shape of a name reassigned in a loop or a branch is not one shape
            witness = next((v for v in kept if self.shapes.get(v) == shape), None)
            if witness is not None:
                call.args[1] = name(witness)

    def is_helper(self, helper_name: str) -> Callable[[gast.expr], bool]:
        """Does an expression name the runtime helper ``helper_name`` in the generated code?"""
        helper = getattr(runtime, helper_name)
        return lambda node: isinstance(node, gast.Name) and self.p.bindings.values.get(node.id) is helper

    def seed_value(self, result: gast.Name, cotangent: str | None) -> gast.expr:
        if self.seed == "grad":
            return gast.Constant(value=1.0, kind=None)
        if self.seed == "vjp":
            return name(cotangent)
        ones = gast.Attribute(value=name(self.helper("np")), attr="ones_like", ctx=gast.Load())
        return gast.Call(func=ones, args=[copy.deepcopy(result)], keywords=[])

    def zeros(self, var: str) -> gast.expr:
        if var in self.unbound:  # None where it has no value yet
            return gast.Call(func=name(self.helper("zero_adjoint")), args=[name(var)], keywords=[])
        if var in self.p.lists:  # elements may differ in shape; a container keeps its type
            return gast.Call(func=name(self.helper("zero_adjoint")), args=[name(var)], keywords=[])
        zeros = gast.Attribute(value=name(self.helper("np")), attr="zeros_like", ctx=gast.Load())
        return gast.Call(func=zeros, args=[name(var)], keywords=[])

    def total(self, parts: list[gast.expr], var: str, origin: tuple[Frame, ...] | None = None) -> gast.expr:
        """The sum of adjoint contributions, with ``a + -b`` written ``a - b``.

        Given ``origin``, a sum of more than ``SUM_TERMS`` terms is added up in statements of that
        many terms each, in the same order (the same rounding): one expression nested thousands
        deep would exceed Python's recursion limit in this code, in printing and in compiling.
        """
        negative = lambda part: isinstance(part, gast.UnaryOp) and isinstance(part.op, gast.USub)  # noqa: E731
        parts = sorted(parts, key=negative)
        if var in self.p.lists:  # list adjoints add element by element
            return self.container_total(parts, var)
        while origin is not None and len(parts) > SUM_TERMS:
            head = self.total(parts[:SUM_TERMS], var)
            parts[:SUM_TERMS] = [name(self.assign_adjoint(self.p.namer.fresh("d_" + var), head, origin))]
        total = parts[0]
        for part in parts[1:]:
            op = gast.Sub() if negative(part) else gast.Add()
            total = gast.BinOp(left=total, op=op, right=part.operand if negative(part) else part)
        return simplify(total, self.is_fresh)

    def item_parts(self, var: str, parts: list[gast.expr]) -> bool:
        """Are ``parts`` adjoints of items of the container ``var`` that read no value the loop's
        tape restores? They may then wait for the end of the iteration, and add only those items."""
        getitem = self.is_helper("getitem_grad")
        return (
            var in self.p.lists
            and all(
                isinstance(p, gast.Call)
                and getitem(p.func)
                and isinstance(p.args[1], gast.Name)
                and p.args[1].id == var
                for p in parts
            )
            and not read_names_of([Stmt(gast.Expr(value=p), ()) for p in parts]) & self.loops[-1].assigned
        )

    def container_total(self, parts: list[gast.expr], var: str) -> gast.expr:
        """The sum of the adjoints of a container (or list): the adjoints of its items read by a
        constant key gathered in one ``items_grad(var, {key: adjoint, ...})`` (a dict literal,
        zeros only for items never read), added to the other parts with ``add_items``; an item
        read by another index (a loop's) is added with ``add_item``; the rest with ``add_lists``."""
        call = lambda helper, *args: gast.Call(func=name(self.helper(helper)), args=list(args), keywords=[])  # noqa: E731
        items = (
            self.is_helper("getitem_grad"),
            self.is_helper("list_item_grad"),
            self.is_helper("field_grad"),
        )
        groups: list[dict] = [{}]  # constant keys, each group's keys distinct
        indexed, others = [], []  # (index, adjoint) read by another index; whole adjoints
        for part in reversed(parts):  # the items in the order the function reads them
            if (
                isinstance(part, gast.Call)
                and any(f(part.func) for f in items)
                and len(part.args) == 3
                and isinstance(part.args[1], gast.Name)
                and part.args[1].id == var
            ):
                g, _, key = part.args
                value = _constant_key(key)
                if value is not None:
                    group = next((d for d in groups if value not in d), None)
                    if group is None:
                        groups.append(group := {})
                    group[value] = (key, g)
                    continue
                indexed.append((key, g))
                continue
            others.insert(0, part)
        total = others[0] if others else None
        for part in others[1:]:
            total = call("add_lists", total, part)
        for group in groups:
            if not group:
                continue
            literal = gast.Dict(keys=[k for k, _ in group.values()], values=[g for _, g in group.values()])
            total = (
                call("items_grad", name(var), literal) if total is None else call("add_items", total, literal)
            )
        for key, g in indexed:
            total = (
                call("getitem_grad", g, name(var), key) if total is None else call("add_item", total, key, g)
            )
        return total

    def finish(self, var: str, origin: tuple[Frame, ...] | None, read_once: bool = False) -> gast.expr | None:
        """Sum the contributions to ``d_var``; a name or literal needs no statement of its own,
        nor does a negated name read once (its sign joins a literal factor: ``d_sub * -2``)."""
        parts = self.contribs.pop(var, None)
        if not parts:
            return None
        total = self.total(parts, var, origin or ())
        if isinstance(total, (gast.Name, gast.Constant)) and (origin is not None or self.is_fresh(total)):
            return total
        negated_name = isinstance(total, gast.UnaryOp) and isinstance(total.op, gast.USub)
        if read_once and negated_name and isinstance(total.operand, gast.Name) and origin is not None:
            return total
        return name(self.assign_adjoint(self.p.namer.fresh("d_" + var), total, origin or ()))

    def assign_adjoint(
        self, adjoint: str, value: gast.expr, origin: tuple[Frame, ...], block: list | None = None
    ) -> str:
        self.fresh_names.add(adjoint)
        (self.out if block is None else block).append(Stmt(assign(adjoint, value), origin))
        return adjoint

    def is_fresh(self, node: gast.expr) -> bool:
        """May ``1.0 * node`` become ``node``? Only for values this code computed (not user data)."""
        return not isinstance(node, gast.Name) or node.id in self.fresh_names

    # -- blocks ---------------------------------------------------------------------------

    def block(self, items: list) -> list:
        """The backward pass of a block; inserts into ``items`` what the forward pass must save."""
        outer, self.out = self.out, []
        if items is self.p.body:
            self.seeded()
        runs, start = [], 0  # runs of simple statements, and compound blocks, in order
        for position, item in enumerate(items + [None]):
            if not isinstance(item, Stmt):
                if position > start:
                    runs.append(items[start:position])
                if item is not None:
                    runs.append(item)
                start = position + 1
        for run in reversed(runs):
            if isinstance(run, list):
                self.segment(items, run)
            elif isinstance(run, IfBlock):
                self.if_block(items, run)
            else:
                self.loop_block(items, run)
        block, self.out = self.out, outer
        return block

    def segment(self, items: list, run: list[Stmt]) -> None:
        """Straight-line statements: their adjoints in reverse order."""
        first = len(self.out)
        origin = run[-1].origin
        for stmt in reversed(run):
            if stmt.op is not None and stmt.op.target in self.contribs:
                self.differentiate(stmt)
            elif stmt.op is None and isinstance(stmt.node, gast.Assign):  # a constant: the adjoint ends here
                for target in stmt.node.targets:
                    for n in names_of(target):
                        self.contribs.pop(n, None)
        if not self.loops:
            return
        for var in list(self.contribs):  # a pending sum would read values a later pop overwrites
            parts = self.contribs[var]
            if self.item_parts(var, parts):  # added where the iteration ends: add_item(d_xs, i, d_x)
                continue
            if len(parts) > 1 or not isinstance(parts[0], (gast.Name, gast.Constant)):
                adjoint = self.assign_adjoint(
                    self.p.namer.fresh("d_" + var), self.total(parts, var, run[0].origin), run[0].origin
                )
                self.contribs[var] = [name(adjoint)]
        saved = sorted(read_names_of(self.out[first:]) & self.loops[-1].assigned)
        last = _index(items, run[-1])
        if saved:
            position = last + 1  # the push goes before the copies into carried names and a break
            while (
                position > 0
                and any(x is items[position - 1] for x in run)
                and _is_exit_tail(items[position - 1])
            ):
                position -= 1
            items.insert(position, self.push(saved, origin))
            self.out.insert(first, self.pop(saved, origin))
        if isinstance(run[-1].node, gast.Break):
            position = _index(items, run[-1])
            for cond in reversed(self.loops[-1].conds):  # innermost branch first
                push = self.push([cond], origin)
                items.insert(position, push)
                self.loops[-1].cond_pushes.append((items, push))
                position += 1

    def push(self, names_: list[str], origin: tuple[Frame, ...]) -> Stmt:
        if self.tape is None:
            self.tape = self.p.namer.fresh("tape")
        value = (
            name(names_[0])
            if len(names_) == 1
            else gast.Tuple(elts=[name(n) for n in names_], ctx=gast.Load())
        )
        append = gast.Attribute(value=name(self.tape), attr="append", ctx=gast.Load())
        return Stmt(gast.Expr(value=gast.Call(func=append, args=[value], keywords=[])), origin)

    def pop(self, names_: list[str], origin: tuple[Frame, ...]) -> Stmt:
        target = (
            store(names_[0])
            if len(names_) == 1
            else gast.Tuple(elts=[store(n) for n in names_], ctx=gast.Store())
        )
        pop = gast.Call(
            func=gast.Attribute(value=name(self.tape), attr="pop", ctx=gast.Load()), args=[], keywords=[]
        )
        return Stmt(gast.Assign(targets=[target], value=pop, type_comment=None), origin)

    def if_block(self, items: list, blk: IfBlock) -> None:
        """Both branches in reverse, under the same condition as in the forward pass."""
        cond = blk.cond.id if isinstance(blk.cond, gast.Name) else None
        in_loop = bool(self.loops) and cond is not None
        outer = self.contribs
        starts = {}  # adjoints flowing into the branches: of the merged names, and of names a branch assigns
        for var in sorted(set(blk.merged) | (set(self.contribs) & assigned_names(blk.body + blk.orelse))):
            adjoint = self.finish(var, blk.origin)
            if adjoint is not None:
                starts[var] = adjoint
        if in_loop:
            self.loops[-1].conds.append(cond)
        branches = []
        for branch in (blk.body, blk.orelse):  # a branch that does not assign a name passes its adjoint on
            self.contribs = {m: [copy.deepcopy(a)] for m, a in starts.items()}
            backward = self.block(branch)
            branches.append((backward, self.contribs))
        if in_loop:
            self.loops[-1].conds.pop()
        self.contribs = outer
        joins: list[list] = [[], []]  # per branch: the adjoints of the names before the branch
        for var in sorted(set(branches[0][1]) | set(branches[1][1])):
            adjoint = self.p.namer.fresh("d_" + var)
            for (_, contribs), join in zip(branches, joins):
                parts = contribs.get(var)
                self.assign_adjoint(
                    adjoint, self.total(parts, var) if parts else self.zeros(var), blk.origin, join
                )
            outer.setdefault(var, []).append(name(adjoint))
        for (backward, _), join, forward in zip(branches, joins, (blk.body, blk.orelse)):
            # a zero reads the value from before the branch, which the loop may have changed since
            restore = sorted(read_names_of(join) & self.loops[-1].assigned) if self.loops else []
            if restore:
                forward.insert(0, self.push(restore, blk.origin))
                backward.append(self.pop(restore, blk.origin))
            backward.extend(join)
        body, orelse = (b or [Stmt(gast.Pass(), blk.origin)] for b, _ in branches)
        same = _shape_of_code(branches[0][0]) == _shape_of_code(branches[1][0])
        if same or not any(_has_code(b) for b, _ in branches):
            if in_loop:  # both branches go back the same way: no need to save the condition
                for block, push in self.loops[-1].cond_pushes:
                    if push.node.value.args[0].id == cond:
                        del block[_index(block, push)]
            self.out.extend(branches[0][0])
            return
        if in_loop:  # the branch taken in each iteration is saved, even when it breaks out
            if not (_exits_block(blk.body) and _exits_block(blk.orelse)):
                items.insert(_index(items, blk) + 1, self.push([cond], blk.origin))
            self.out.append(self.pop([cond], blk.origin))
        self.out.append(IfBlock(copy.deepcopy(blk.cond), body, orelse, blk.origin))

    def loop_block(self, items: list, blk: LoopBlock) -> None:
        """The loop run backwards, its iterations restored from the tape."""
        assigned = assigned_names(blk.body) | {n for n in (blk.target, blk.counter) if n}
        if not set(self.contribs) & assigned & self.p.active:
            # Nothing the loop computes reaches the output: its backward pass would only carry
            # zeros (and 0 * inf is nan where the loop's dead values overflowed).
            return
        for var, parts in list(self.contribs.items()):  # sums reading values the loop will restore
            if len(parts) > 1 or read_names_of([Stmt(gast.Expr(value=p), ()) for p in parts]) & assigned:
                adjoint = self.assign_adjoint(
                    self.p.namer.fresh("d_" + var), self.total(parts, var), blk.origin
                )
                self.contribs[var] = [name(adjoint)]
        before: list = []  # adjoint accumulators, set up before the backward loop
        carried = {}
        for var in sorted(set(blk.carried) | (set(self.contribs) & assigned)):
            if var not in self.p.active:
                continue
            parts = self.contribs.pop(var, None)
            carried[var] = self.assign_adjoint(
                self.p.namer.fresh("d_" + var),
                self.total(parts, var) if parts else self.zeros(var),
                blk.origin,
                before,
            )
        outer = self.contribs
        self.contribs = {var: [name(adjoint)] for var, adjoint in carried.items()}
        # A loop run as `for t in reversed(steps)` sets t itself: the tape need not keep it.
        self.loops.append(_Loop(assigned - {blk.target} if blk.counter is None else assigned))
        try:
            body = self.block(blk.body)
        finally:
            self.loops.pop()
        inner, self.contribs = self.contribs, outer
        updates = []  # the adjoints at the start of this iteration: one parallel assignment
        for var, adjoint in carried.items():  # the carried names' adjoints, for the previous iteration
            parts = inner.pop(var, None)
            updates.append((adjoint, self.total(parts, var) if parts else self.zeros(var)))
            self.contribs[var] = [name(adjoint)]
        for var in sorted(inner):  # names from outside the loop accumulate over all iterations
            parts = self.contribs.pop(var, None)
            adjoint = self.assign_adjoint(
                self.p.namer.fresh("d_" + var),
                self.total(parts, var) if parts else self.zeros(var),
                blk.origin,
                before,
            )
            updates.append((adjoint, self.total([name(adjoint)] + inner[var], var)))
            self.contribs[var] = [name(adjoint)]
        # A zero adjoint takes the shape of the value it belongs to: the carried value at the start
        # of the iteration, which the backward pass restores here (it may differ from the values
        # the body leaves: a scalar before the loop, an array in it).
        at_start = sorted(
            read_names_of([Stmt(gast.Expr(value=v), ()) for _, v in updates]) & set(blk.carried)
        )
        if at_start:
            blk.body.insert(0, self.push(at_start, blk.origin))
            body.append(self.pop(at_start, blk.origin))
        for adjoint, value in self.parallel(updates):
            self.assign_adjoint(adjoint, value, blk.origin, body)
        if not _has_code(body):
            return
        if blk.counter is not None:
            header = LoopBlock("for", body, blk.origin, "_", self.call("range", name(blk.counter)))
        else:
            header = LoopBlock("for", body, blk.origin, blk.target, self.call("reversed", blk.iterable))
        needed = sorted(
            read_names_of(before) | read_names_of(body) - assigned | {blk.counter or blk.iterable.id}
        )
        if self.loops:  # values from the enclosing loop's iteration that this loop's backward pass reads
            saved = [n for n in needed if n in self.loops[-1].assigned]
            if saved:
                items.insert(_index(items, blk) + 1, self.push(saved, blk.origin))
                self.out.append(self.pop(saved, blk.origin))
        self.out.extend(before)
        self.out.append(header)

    def parallel(self, updates: list[tuple[str, gast.expr]]) -> list[tuple[str, gast.expr]]:
        """``updates`` as assignments in sequence that do what one parallel assignment does: every
        value reads the adjoints as they were before any is assigned. An update whose target no
        other update reads goes first; a cycle keeps one old adjoint under a new name."""
        pending, out = list(updates), []
        while pending:
            reads = [read_names(value) for _, value in pending]
            free = next(
                (
                    k
                    for k, (t, _) in enumerate(pending)
                    if not any(t in r for j, r in enumerate(reads) if j != k)
                ),
                None,
            )
            if free is not None:
                out.append(pending.pop(free))
                continue
            target = pending[0][0]
            old = self.p.namer.fresh(target)
            self.fresh_names.add(old)
            out.append((old, name(target)))
            pending = [(t, _renamed(v, target, old)) for t, v in pending]
        return out

    def call(self, builtin: str, arg: gast.expr) -> gast.Call:
        import builtins

        func = name(self.p.bindings.value(getattr(builtins, builtin), builtin))
        return gast.Call(func=func, args=[copy.deepcopy(arg)], keywords=[])

    def differentiate(self, stmt: Stmt) -> None:
        op = stmt.op
        missing = [p for p in op.active if op.rule is not None and p not in op.rule.vjp]
        if missing:
            raise missing_half(op.rule, missing[0], stmt.origin, "reverse")
        templates = [op.rule.vjp[p] for p in op.active] if op.rule is not None else []
        reads_of_g = sum(map(_reads_of_g, templates))
        g = self.finish(op.target, stmt.origin, read_once=reads_of_g == 1 and len(op.active) == 1)
        for param in op.active:
            atom = op.args[param]
            if op.rule is None:  # a list, tuple or dict literal: its adjoint is a list (dict) of adjoints
                literal = stmt.node.value
                key = (
                    copy.deepcopy(literal.keys[int(param)])
                    if isinstance(literal, gast.Dict)
                    else gast.Constant(value=int(param), kind=None)
                )
                part = gast.Subscript(value=copy.deepcopy(g), slice=key, ctx=gast.Load())
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
        filled = _Fill(g, ans, args, self.helper).copy(template)
        return reuse(drop_default_args(filled, self.p.bindings.values), self.available)


class _Fill:
    """A copy of a rule's template with ``g``, ``ans``, the parameters and helpers replaced
    (copying and replacing in one pass)."""

    def __init__(
        self, g: gast.expr, ans: str, args: dict[str, gast.expr], helper: Callable[[str], str]
    ) -> None:
        self.g, self.ans, self.args, self.helper = g, ans, args, helper

    def copy(self, node: gast.AST) -> gast.AST:
        if node.__class__ is gast.Name:
            if node.id == "g":
                return clone(self.g)
            if node.id == "ans":
                return name(self.ans)
            if node.id in self.args:
                return clone(self.args[node.id])
            if node.id in NAMES_FOR_GENERATED_CODE or node.id in runtime.HELPERS:
                return name(self.helper(node.id))
            return clone(node)
        new = node.__class__.__new__(node.__class__)
        fields = new.__dict__
        for key, value in node.__dict__.items():
            if isinstance(value, gast.AST):
                value = self.copy(value)
            elif value.__class__ is list:
                value = [self.copy(v) if isinstance(v, gast.AST) else v for v in value]
            fields[key] = value
        return new


def _reads_of_g(template: gast.expr) -> int:
    """How many times a rule's template reads ``g`` (counted once per template: templates are
    kept for the life of their rule)."""
    count = _READS_OF_G.get(id(template))
    if count is None or count[0] is not template:
        count = _READS_OF_G[id(template)] = (
            template,
            sum(isinstance(n, gast.Name) and n.id == "g" for n in walk(template)),
        )
    return count[1]


_READS_OF_G: dict[int, tuple[gast.expr, int]] = {}


def _maybe_none(items: list) -> set[str]:
    """Names that may hold None: set to None (a name first assigned in a loop or a branch,
    before it has a value) or copied from such a name."""
    copies = [
        (s.node.targets[0].id, s.node.value)
        for s in statements(items)
        if isinstance(s.node, gast.Assign) and _assigns_one_name(s)
        if isinstance(s.node.value, gast.Name) or _is_none(s.node.value)
    ]
    unbound: set[str] = set()
    while True:
        more = {t for t, v in copies if _is_none(v) or v.id in unbound} - unbound
        if not more:
            return unbound
        unbound |= more


def _is_none(node: gast.expr) -> bool:
    return isinstance(node, gast.Constant) and node.value is None


def _renamed(node: gast.expr, old: str, new: str) -> gast.expr:
    node = copy.deepcopy(node)
    for n in walk(node):
        if isinstance(n, gast.Name) and n.id == old:
            n.id = new
    return node


def _blocks(items: list):
    for item in items:
        if isinstance(item, IfBlock):
            yield item
            yield from _blocks(item.body)
            yield from _blocks(item.orelse)
        elif isinstance(item, LoopBlock):
            yield item
            yield from _blocks(item.body)


def _has_code(block: list) -> bool:
    return any(not (isinstance(i, Stmt) and isinstance(i.node, gast.Pass)) for i in block)


def _exits_block(block: list) -> bool:
    if not block:
        return False
    last = block[-1]
    if isinstance(last, Stmt):
        return isinstance(last.node, (gast.Break, gast.Raise))
    return isinstance(last, IfBlock) and _exits_block(last.body) and _exits_block(last.orelse)


def _index(items: list, item: object) -> int:
    """The position of ``item`` itself (dataclasses compare by value; this compares identity)."""
    return next(i for i, x in enumerate(items) if x is item)


def _is_exit_tail(stmt: Stmt) -> bool:
    return stmt.copyback or isinstance(stmt.node, gast.Break)


def _shape_of_code(block: list) -> list:
    """What a block of generated statements does, comparable between two branches."""
    out: list = []
    for item in block:
        if isinstance(item, Stmt):
            out.append(gast.dump(item.node))
        elif isinstance(item, IfBlock):
            out.append(("if", gast.dump(item.cond), _shape_of_code(item.body), _shape_of_code(item.orelse)))
        else:
            out.append(
                ("loop", item.target, item.iterable and gast.dump(item.iterable), _shape_of_code(item.body))
            )
    return out


def _exact(node: gast.expr) -> bool:
    """A number literal the same in every float type (1.0, -0.5): casting it loses nothing."""
    value = node.value if isinstance(node, gast.Constant) else None
    if (
        isinstance(node, gast.UnaryOp)
        and isinstance(node.op, gast.USub)
        and isinstance(node.operand, gast.Constant)
    ):
        value = node.operand.value
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and float(np.float16(value)) == value
    )


def _assigns_one_name(stmt: Stmt) -> bool:
    node = stmt.node
    return isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name)


def _constant_key(node: gast.expr) -> int | str | None:
    """The value of a constant position, dict key or field name (``0``, ``-1``, ``'W'``), else None."""
    if (
        isinstance(node, gast.UnaryOp)
        and isinstance(node.op, gast.USub)
        and isinstance(node.operand, gast.Constant)
    ):
        value = node.operand.value
        return -value if type(value) is int else None
    if isinstance(node, gast.Constant) and type(node.value) in (int, str):
        return node.value
    return None


def _passed(args: gast.arguments) -> list[gast.expr]:
    """The generated function's own parameters, as arguments of a call that passes them on."""
    positional = [name(a.id) for a in args.posonlyargs + args.args]
    star = [gast.Starred(value=name(args.vararg.id), ctx=gast.Load())] if args.vararg else []
    return positional + star


def _passed_keywords(args: gast.arguments) -> list[gast.keyword]:
    named = [gast.keyword(arg=a.id, value=name(a.id)) for a in args.kwonlyargs]
    return named + ([gast.keyword(arg=None, value=name(args.kwarg.id))] if args.kwarg else [])
