"""Stage 5: make generated code short. Algebraic simplification and dead-code elimination.

Simplifications never change a value's dtype or let a result alias the caller's data:
``1.0 * y`` becomes ``y`` only when ``y`` is a value the generated code computed itself.
"""

from __future__ import annotations

import contextvars
import operator
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import gast
import numpy as np

from . import runtime
from .ir import IfBlock, Stmt, name, names_of, statements
from .rules.registry import lookup
from .trees import CHILD_FIELDS, Transformer, walk, walk_values

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
    if not ENABLED.get() or not _simplifiable(node):
        return node
    return _Simplify(is_fresh).visit(node)


def _simplifiable(node: gast.AST) -> bool:
    """May ``_Simplify`` change ``node``? Every rule of it needs a literal, but ``--x``: most
    adjoints (``g * np.cos(x)``) have neither, and a walk costs a third of the transformer's."""
    todo = [node]
    for n in todo:
        cls = n.__class__
        if cls is gast.Constant:
            return True
        if cls is gast.UnaryOp and n.op.__class__ is gast.USub:
            operand = n.operand
            if operand.__class__ is gast.UnaryOp and operand.op.__class__ is gast.USub:
                return True
        for field_ in CHILD_FIELDS[n.__class__]:
            value = getattr(n, field_, None)
            if value.__class__ is list:
                todo.extend([x for x in value if isinstance(x, _AST)])
            elif isinstance(value, _AST):
                todo.append(value)
    return False


class _Simplify(Transformer):
    prune = True

    def __init__(self, is_fresh: Callable[[gast.expr], bool]) -> None:
        self.is_fresh = is_fresh
        # Inside arithmetic a result is a new array anyway; elsewhere (the root, a call's
        # argument) dropping ``1.0 *`` could hand back the caller's own array.
        self.inside_arithmetic = [False]

    def visit(self, n: gast.AST) -> gast.AST:
        self.inside_arithmetic.append(n.__class__ is gast.BinOp or n.__class__ is gast.UnaryOp)
        try:
            return super().visit(n)
        finally:
            self.inside_arithmetic.pop()

    def may_drop(self, other: gast.expr) -> bool:
        return self.inside_arithmetic[-2] or self.is_fresh(other)

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
            for number, negated, side in ((right, n.left, "left"), (left, n.right, "right")):
                if (
                    number is not None
                    and isinstance(negated, gast.UnaryOp)
                    and isinstance(negated.op, gast.USub)
                ):
                    setattr(n, side, negated.operand)  # (-a) * 2 is a * -2, exactly
                    setattr(n, "right" if side == "left" else "left", _const(-number))
                    return n
        if isinstance(n.op, gast.Div) and right in (1, -1) and self.may_drop(n.left):
            return n.left if right == 1 else _neg(n.left)
        if isinstance(n.op, gast.Pow) and right == 1 and self.may_drop(n.left):
            return n.left
        if isinstance(n.op, (gast.Add, gast.Sub)) and right == 0 and self.may_drop(n.left):
            return n.left  # x + 0, x - 0
        if isinstance(n.op, gast.Add) and left == 0 and self.may_drop(n.right):
            return n.right  # 0 + x
        if isinstance(n.op, gast.Sub) and left == 0 and self.may_drop(n.right):
            return _neg(n.right)  # 0 - x
        return n

    def visit_Call(self, n: gast.Call) -> gast.expr:
        """``np.where(c, a, b)`` with a literal ``c`` (the power rule's exponent) is ``a`` or ``b``."""
        self.generic_visit(n)
        func = n.func
        if (
            isinstance(func, gast.Attribute)
            and func.attr == "where"
            and isinstance(func.value, gast.Name)
            and func.value.id == "np"
            and len(n.args) == 3
            and not n.keywords
            and _number(n.args[0]) is not None
            and all(_number(a) is not None for a in n.args[1:])
        ):
            return n.args[1] if _number(n.args[0]) else n.args[2]
        return n


def read_names(node: gast.AST) -> set[str]:
    return set(_loads(node))


def _loads(node: gast.AST, ctx: type = gast.Load) -> list[str]:
    """The names ``node`` reads (with ``ctx=gast.Store``: assigns), once per occurrence
    (``walk`` specialized: the passes ask this of every statement, some more than once)."""
    out, todo = [], [node]
    for n in todo:
        if n.__class__ is _NAME and n.ctx.__class__ is ctx:
            out.append(n.id)
        for field_ in CHILD_FIELDS[n.__class__]:
            value = getattr(n, field_, None)
            if value.__class__ is list:
                todo.extend([x for x in value if isinstance(x, _AST)])
            elif isinstance(value, _AST):
                todo.append(value)
    return out


_NAME, _LOAD, _AST = gast.Name, gast.Load, gast.AST


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
            targets = {n for t in node.targets for n in names_of(t)}
            if not targets & live:
                continue
            live -= targets
        live |= read_names(node)
        kept.append(item)
    kept.reverse()
    return kept


def share_common_subexpressions(program: Any) -> Any:
    """Compute a repeated pure expression once: ``sin_1 = np.sin(x)`` after ``sin = np.sin(x)``
    is dropped and ``sin_1`` read as ``sin``. Only straight-line code at the top level, only
    applications of derivative rules (numpy functions) and operators on names and literals:
    never a call that may have side effects, and never across a loop or branch."""
    counts: dict[str, int] = {}
    for stmt in statements(program.body):
        for target in getattr(stmt.node, "targets", ()):
            for n in names_of(target):
                counts[n] = counts.get(n, 0) + 1
    seen: dict[str, str] = {}
    renames: dict[str, str] = {}
    kept = []
    for item in program.body:
        _rename(item, renames)
        if not isinstance(item, Stmt):
            seen.clear()  # a loop or branch may reassign what an earlier expression read
            kept.append(item)
            continue
        node = item.node
        if is_pure(item) and counts.get(node.targets[0].id) == 1:
            value = key(node.value)
            if value in seen:
                renames[node.targets[0].id] = seen[value]
                continue
            seen[value] = node.targets[0].id
        kept.append(item)
    program.body = kept
    program.result = _renamed(program.result, renames)
    return program


def is_pure(stmt: Stmt) -> bool:
    node = stmt.node
    if not (
        isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name)
    ):
        return False
    if stmt.op is not None:
        return stmt.op.rule is not None and stmt.op.rule.fn is not None
    value = node.value
    return isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare)) and all(
        isinstance(n, (gast.Name, gast.Constant, gast.expr_context, gast.operator, gast.unaryop, gast.cmpop))
        or n is value
        for n in walk(value)
    )


def computed_once(program: Any) -> dict[str, str]:
    """Pure values the top level of the forward pass computes once: ``{key(value): name}``.

    The backward pass may read them instead of computing them again (``np.cos(x)`` in a rule
    when the function itself computed ``cos = np.cos(x)``)."""
    counts: dict[str, int] = {}
    for stmt in statements(program.body):
        for target in getattr(stmt.node, "targets", ()):
            for n in names_of(target):
                counts[n] = counts.get(n, 0) + 1
    return _Computed(
        (key(item.node.value), item.node.targets[0].id)
        for item in program.body
        if isinstance(item, Stmt)
        and is_pure(item)
        and counts.get(item.node.targets[0].id) == 1
        # and what it reads keeps its value too (a loop's carried names do not)
        and all(counts.get(n, 0) <= 1 for n in read_names(item.node.value))
    )


_REUSABLE = (gast.Call, gast.BinOp, gast.UnaryOp)


def _head(node: gast.AST) -> tuple:
    """The top of a call or an operation: its function or operator and its operands' names and
    literals, what ``_head_of_key`` reads from its key (without building any key)."""
    cls = node.__class__
    if cls is gast.Call:
        return (cls, _sig(node.func), tuple(map(_sig, node.args)))
    op = getattr(node, "op", _ABSENT)
    op = op[0] if op is _ABSENT else op.__class__
    if cls is gast.BinOp:
        return (cls, op, _sig(node.left), _sig(node.right))
    return (cls, op, _sig(node.operand))


def _sig(node: Any) -> Any:
    """A name, a literal or an attribute chain by its text; any other node by its class."""
    cls = node.__class__
    if cls is gast.Name:
        return ("n", _leaf(getattr(node, "id", _ABSENT)))
    if cls is gast.Constant:
        return ("c", _leaf(getattr(node, "value", _ABSENT)))
    if cls is gast.Attribute:
        return ("a", _leaf(getattr(node, "attr", _ABSENT)), _sig(getattr(node, "value", _ABSENT)))
    return node[0] if node is _ABSENT else cls


def _leaf(value: Any) -> Any:
    return value if value is _ABSENT else repr(value)


def _sig_of_key(k: tuple) -> Any:
    """``_sig`` of the node whose key is ``k``."""
    if k[0] is gast.Name:
        return ("n", k[1])
    if k[0] is gast.Constant:
        return ("c", k[1])
    if k[0] is gast.Attribute:
        return ("a", k[2], _sig_of_key(k[1]))
    return k[0]


def _head_of_key(k: tuple) -> tuple:
    """``_head`` of the node whose key is ``k`` (a key is (class, *fields); an operator's, (class,))."""
    if k[0] is gast.Call:
        return (k[0], _sig_of_key(k[1]), () if k[2] is _ABSENT else tuple(map(_sig_of_key, k[2][1:])))
    if k[0] is gast.BinOp:
        return (k[0], k[2][0], _sig_of_key(k[1]), _sig_of_key(k[3]))
    return (k[0], k[1][0], _sig_of_key(k[2]))


class _Computed(dict):
    """``computed_once``'s values, with the head of each that ``reuse`` may match: it keys
    only the subtrees whose head is one of them."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.heads = {_head_of_key(k) for k in self if k[0] in _REUSABLE}


def reuse(node: gast.expr, available: dict[str, str]) -> gast.expr:
    """``node`` with every subexpression the forward pass already computed read by name."""
    if not available or not ENABLED.get():
        return node

    heads = available.heads if isinstance(available, _Computed) else _Computed(available).heads
    return _Reuse(available, heads).visit(node)


class _Reuse(Transformer):
    prune = True

    def __init__(self, available: dict, heads: set) -> None:
        self.available, self.heads = available, heads

    def visit(self, n: gast.AST) -> gast.AST:
        if isinstance(n, _REUSABLE) and _head(n) in self.heads:
            known = self.available.get(key(n))
            if known is not None:
                return gast.Name(id=known, ctx=gast.Load(), annotation=None, type_comment=None)
        return super().visit(n)


def key(node: Any) -> Any:
    """A hashable value equal for two trees exactly when their ``gast.dump`` is (a field that is
    missing and an empty list print alike), at a fraction of the cost of printing."""
    if isinstance(node, _AST):
        parts: list = [node.__class__]
        for field_ in node._fields:
            value = getattr(node, field_, _ABSENT)
            parts.append(_ABSENT if value.__class__ is list and not value else key(value))
        return tuple(parts)
    if node.__class__ is list:
        return (list, *map(key, node))
    return node if node is _ABSENT else repr(node)


_ABSENT = ("absent",)


def _renamed(node: Any, renames: dict[str, str]) -> Any:
    if not renames or node is None:
        return node
    todo = [node]
    for n in todo:  # (``walk``, specialized as in ``_loads``)
        if n.__class__ is _NAME and n.ctx.__class__ is _LOAD and n.id in renames:
            n.id = renames[n.id]
        for field_ in CHILD_FIELDS[n.__class__]:
            value = getattr(n, field_, None)
            if value.__class__ is list:
                todo.extend([x for x in value if isinstance(x, _AST)])
            elif isinstance(value, _AST):
                todo.append(value)
    return node


def _rename(item: Any, renames: dict[str, str]) -> None:
    """Read ``renames[name]`` wherever ``item`` (at any depth) reads ``name``."""
    if not renames:
        return
    if isinstance(item, Stmt):
        _renamed(item.node, renames)
        if item.op is not None:
            for key, atom in item.op.args.items():
                item.op.args[key] = _renamed(atom, renames)
        return
    if isinstance(item, IfBlock):
        _renamed(item.cond, renames)
        for sub in item.body + item.orelse:
            _rename(sub, renames)
        return
    for part in (item.iterable, item.test):
        _renamed(part, renames)
    for sub in item.body:
        _rename(sub, renames)


def _basic_index(node: gast.expr) -> gast.expr | None:
    """``node``, an index value, as subscript syntax if it is provably a basic index (an int
    literal, ``slice(...)``, ``None``, ``...`` or a tuple of them), else None."""
    if isinstance(node, gast.Constant) and (node.value is None or node.value is Ellipsis):
        return node
    value = _number(node)
    if isinstance(value, int) and not isinstance(value, bool):
        return node
    if isinstance(node, gast.Tuple):
        parts = [_basic_index(e) for e in node.elts]
        return None if None in parts else gast.Tuple(elts=parts, ctx=gast.Load())
    if (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Name)
        and node.func.id == "slice"
        and len(node.args) == 3
        and not node.keywords
    ):
        lower, upper, step = (None if _is_none(a) else a for a in node.args)
        return gast.Slice(lower=lower, upper=upper, step=step)
    return None


def _is_none(node: gast.expr) -> bool:
    return isinstance(node, gast.Constant) and node.value is None


def _terms(node: gast.expr) -> list[gast.expr]:
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Add):
        return _terms(node.left) + _terms(node.right)
    return [node]


def scatter_in_place(
    items: list, is_getitem_grad: Callable[[gast.expr], bool], keep: set[str] | frozenset = frozenset()
) -> list:
    """``d_x = getitem_grad(a, x, i) + getitem_grad(b, x, j)`` as ``d_x = getitem_grad(a, x, i)``
    then ``d_x[j] += b``: one array of zeros instead of one per term, as a person writes it.
    Only where all indices but one are basic ones (no repeated elements to accumulate), and
    not for the adjoints of the names in ``keep`` (a term may be complex where the first is not)."""
    if not ENABLED.get():
        return items
    out: list = []
    for item in items:
        if not isinstance(item, Stmt):
            for part in ("body", "orelse"):
                if hasattr(item, part):
                    setattr(item, part, scatter_in_place(getattr(item, part), is_getitem_grad, keep))
            out.append(item)
            continue
        node = item.node
        terms = _terms(node.value) if isinstance(node, gast.Assign) else []
        if not (
            len(terms) > 1
            and len(node.targets) == 1
            and isinstance(node.targets[0], gast.Name)
            and all(isinstance(t, gast.Call) and is_getitem_grad(t.func) and len(t.args) == 3 for t in terms)
            and len({getattr(t.args[1], "id", None) for t in terms} - {None}) == 1
            and all(isinstance(t.args[1], gast.Name) for t in terms)
            and terms[0].args[1].id not in keep
        ):
            out.append(item)
            continue
        terms.sort(key=lambda t: _basic_index(t.args[2]) is not None)  # at most one other goes first
        indices = [_basic_index(t.args[2]) for t in terms[1:]]
        if None in indices:
            out.append(item)
            continue
        target = node.targets[0].id
        out.append(Stmt(gast.Assign(targets=node.targets, value=terms[0], type_comment=None), item.origin))
        for term, index in zip(terms[1:], indices):
            place = gast.Subscript(value=name(target), slice=index, ctx=gast.Store())
            out.append(Stmt(gast.AugAssign(target=place, op=gast.Add(), value=term.args[0]), item.origin))
    return out


def read_counts(items: list, counts: dict[str, int]) -> None:
    """Add to ``counts`` how many times ``items`` read each name, at any depth."""
    for item in items:
        if isinstance(item, Stmt):
            nodes = [item.node]
        elif isinstance(item, IfBlock):
            nodes = [item.cond]
        else:
            nodes = [n for n in (item.iterable, item.test) if n is not None]
        for node in nodes:
            for id_ in _loads(node):
                counts[id_] = counts.get(id_, 0) + 1
        if not isinstance(item, Stmt):
            read_counts(item.body, counts)
            read_counts(getattr(item, "orelse", []), counts)


def _user_words(stmt: Stmt) -> set[str]:
    return {word for frame in stmt.origin for word in _WORD.findall(frame.text)}


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SUFFIX = re.compile(r"_\d+$")


def _foldable(stmt: Stmt) -> str | None:
    """The temporary ``stmt`` assigns, if its value may move into the one place that reads it:
    a pure operation (a rule's primitive or operators on names), not a name the user wrote."""
    node = stmt.node
    if not (
        isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name)
    ):
        return None
    target = node.targets[0].id
    if _SUFFIX.sub("", target) in _user_words(stmt) or isinstance(node.value, (gast.Name, gast.Constant)):
        return None
    has_call = any(isinstance(n, gast.Call) for n in walk_values(node.value))
    if has_call and (stmt.op is None or stmt.op.rule is None):
        return None
    return target


def fold_single_use(items: list, reads: dict[str, int]) -> list:
    """A temporary read once, later on the same primal line, becomes part of the expression
    that reads it: ``y = np.exp(-2.0 * x)`` rather than ``mul = -2.0 * x`` then
    ``y = np.exp(mul)``. The code reads more like the user's, and an intermediate array
    nobody needs again is freed at once instead of when the function returns.
    ``reads`` counts the reads of every name in the whole function. (The adjoint of a folded
    ``mul`` keeps its name, ``d_mul``: the adjoint of ``-2.0 * x``.)"""
    if not ENABLED.get():
        return items
    out: list = []
    for item in items:
        if not isinstance(item, Stmt):
            item.body = fold_single_use(item.body, reads)
            if getattr(item, "orelse", None):
                item.orelse = fold_single_use(item.orelse, reads)
            out.append(item)
            continue
        if isinstance(item.node, gast.Assign):
            _fold_into(item, out, reads)
        out.append(item)
    return out


def _fold_into(use: Stmt, before: list, reads: dict[str, int]) -> None:
    """Fold into ``use`` the temporaries it reads that the statements ``before`` it define."""
    assigned: set[str] = set()  # names assigned between a candidate and ``use``
    for position in range(len(before) - 1, -1, -1):
        item = before[position]
        if not isinstance(item, Stmt) or item.origin != use.origin:
            return
        target = _foldable(item)
        if (
            target is not None
            and reads.get(target) == 1
            and target in read_names(use.node.value)
            and not (read_names(item.node.value) | {target}) & assigned
        ):
            use.node.value = _Substitute(target, item.node.value).visit(use.node.value)
            del before[position]
            continue
        assigned |= {n for t in getattr(item.node, "targets", []) for n in names_of(t)}


class _Substitute(Transformer):
    prune = True

    def __init__(self, target: str, value: gast.expr) -> None:
        self.target, self.value = target, value

    def visit_Name(self, node: gast.Name) -> gast.expr:
        return self.value if node.id == self.target and isinstance(node.ctx, gast.Load) else node


class _NotLazy(Exception):
    """A filled adjoint meets an operation that needs it as a real array."""


def lazy_fills(
    items: list,
    returns: gast.expr,
    shapes: dict,
    bound: Callable[[gast.expr], Any],
    filled: Callable[[], str],
) -> list:
    """``d = expand(1.0, v)`` (the adjoint of ``np.sum(v)``) as ``d = filled(1.0, v)``, the one
    number every entry would hold (a numpy scalar of the array's dtype), where every use of
    ``d`` meets an array of ``v``'s shape (``d / v``) or a scalar: the array of ones is never
    made, and the numbers and dtypes are the array's own. ``bound(node)`` is what a name or
    attribute of the generated code denotes; ``filled()`` names the helper (bound only if used)."""
    if not ENABLED.get():
        return items
    assigned = Counter(_assigned_names_of(items))
    shapes = dict(shapes)
    _Fill(shapes, bound, assigned).propagate(items, returns)  # the shapes of the adjoints
    out = list(items)
    for index, stmt in enumerate(out):  # each seed is tried once; a success rewrites what follows
        value = stmt.node.value if isinstance(stmt, Stmt) and isinstance(stmt.node, gast.Assign) else None
        if not (
            isinstance(value, gast.Call)
            and bound(value.func) is runtime.expand
            and len(value.args) == 2
            and not value.keywords
            and isinstance(value.args[1], gast.Name)
            and value.args[1].id in shapes
            and isinstance(stmt.node.targets[0], gast.Name)
            and assigned[stmt.node.targets[0].id] == 1
        ):
            continue
        lazy = _Fill(shapes, bound, assigned, stmt.node.targets[0].id, shapes[value.args[1].id])
        try:
            rest = lazy.propagate(out[index + 1 :], returns)
        except _NotLazy:
            continue
        for name_ in lazy.lazy:  # numbers now, for the fills after this one
            shapes.pop(name_, None)
        call = gast.Call(func=name(filled()), args=value.args, keywords=[])
        out[index:] = [
            Stmt(gast.Assign(targets=stmt.node.targets, value=call, type_comment=None), stmt.origin),
            *rest,
        ]
    return out


def _assigned_names_of(items: list):
    for item in items:
        if isinstance(item, Stmt):
            yield from _loads(item.node, gast.Store)
        else:
            for block in (getattr(item, "body", []), getattr(item, "orelse", [])):
                yield from _assigned_names_of(block)


class _Fill:
    """The names that stand for an array of ``shape`` filled with one number (none: only the
    shapes of the adjoints are worked out)."""

    def __init__(self, shapes: dict, bound: Callable, assigned: Counter, name_: str = "", shape: Any = None):
        self.shapes, self.bound, self.assigned, self.shape = shapes, bound, assigned, shape
        self.lazy = {name_} if name_ else set()  # names standing for a filled array

    def propagate(self, items: list, returns: gast.expr) -> list:
        out = []
        for item in items:
            assign = isinstance(item, Stmt) and isinstance(item.node, gast.Assign)
            if not assign or not isinstance(item.node.targets[0], gast.Name):
                if self.lazy and read_names_of([item]) & self.lazy:
                    raise _NotLazy
                out.append(item)
                continue
            target = item.node.targets[0].id
            if (
                self.lazy
                and (target in self.shapes or self.assigned[target] != 1)
                and not read_names(item.node.value) & self.lazy
            ):
                out.append(item)  # as it was, and nothing new is learned of its shape
                continue
            value, kind = self.rewrite(item.node.value)
            if kind == "lazy":
                if self.assigned[target] != 1:  # a loop or a branch assigns it too
                    raise _NotLazy
                self.lazy.add(target)
            elif isinstance(kind, frozenset) and self.assigned[target] == 1:
                self.shapes.setdefault(target, kind)
            out.append(
                Stmt(gast.Assign(targets=item.node.targets, value=value, type_comment=None), item.origin)
            )
        if self.lazy and read_names(returns) & self.lazy:
            raise _NotLazy
        return out

    def rewrite(self, node: gast.expr) -> tuple[gast.expr, object]:
        """``node`` without the ``unbroadcast`` of filled values, and what it is: ``"lazy"``,
        ``"scalar"``, an array's symbolic shape, or None (an array of unknown shape)."""
        if isinstance(node, gast.Name):
            return node, "lazy" if node.id in self.lazy else self.shapes.get(node.id)
        if _number(node) is not None:
            return node, "scalar"
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
            operand, kind = self.rewrite(node.operand)
            return gast.UnaryOp(op=node.op, operand=operand), kind
        if isinstance(node, gast.BinOp) and type(node.op) in _FOLD:
            (left, a), (right, b) = self.rewrite(node.left), self.rewrite(node.right)
            return gast.BinOp(left=left, op=node.op, right=right), self.combine(a, b)
        fn = self.bound(node.func) if isinstance(node, gast.Call) else None
        if fn is runtime.unbroadcast and len(node.args) == 2:
            (g, kind), v = self.rewrite(node.args[0]), node.args[1]
            if kind == "lazy" and isinstance(v, gast.Name) and self.shapes.get(v.id) == self.shape:
                return g, "lazy"  # no broadcasting to undo
            if kind == "lazy":
                raise _NotLazy
            return gast.Call(func=node.func, args=[g, v], keywords=[]), self.shapes.get(
                getattr(v, "id", None)
            )
        if isinstance(node, gast.Compare) and not (self.lazy and read_names(node) & self.lazy):  # x > 0.0
            kind = "scalar"
            for part in (node.left, *node.comparators):
                kind = self.combine(kind, self.rewrite(part)[1])
            return node, kind
        rule = lookup(fn) if fn is not None and not node.keywords else None
        ufunc = isinstance(fn, np.ufunc) and fn.nout == 1 and not node.keywords
        if ufunc or (rule is not None and rule.elementwise):  # np.cos(v), np.sign(v)
            parts = [self.rewrite(arg) for arg in node.args]
            kind = "scalar"
            for _, part in parts:
                kind = self.combine(kind, part)
            return gast.Call(func=node.func, args=[arg for arg, _ in parts], keywords=[]), kind
        if self.lazy and read_names(node) & self.lazy:
            raise _NotLazy
        return node, None

    def combine(self, a: object, b: object) -> object:
        """What an elementwise operation on ``a`` and ``b`` gives."""
        if "lazy" in (a, b):
            other = b if a == "lazy" else a
            if other in ("lazy", "scalar") or other == frozenset():
                return "lazy"
            if other == self.shape:
                return other  # a real array of the filled shape
            raise _NotLazy
        if a == "scalar" or b == "scalar":
            return b if a == "scalar" else a
        return a | b if a is not None and b is not None else None
