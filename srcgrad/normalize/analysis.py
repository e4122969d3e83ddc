"""Facts about user code that normalization needs: what a block assigns, reads, exits."""

from __future__ import annotations

import builtins
import copy
import inspect
import types
from typing import Any

import gast

from .. import runtime
from ..ir import IfBlock, Stmt
from ..rules import lookup
from ..trees import clone, walk
from .primitives import BINOPS, RESULT


def _exits(block: list) -> bool:
    """Does every path through a normalized block end in break or raise?"""
    if not block:
        return False
    last = block[-1]
    if isinstance(last, Stmt):
        return isinstance(last.node, (gast.Break, gast.Raise))
    return isinstance(last, IfBlock) and _exits(last.body) and _exits(last.orelse)


def _fallthrough(block: list) -> list[list]:
    """The blocks at whose ends the paths through ``block`` that do not exit end."""
    if (
        block
        and isinstance(block[-1], IfBlock)
        and (_may_exit(block[-1].body) or _may_exit(block[-1].orelse))
    ):
        last = block[-1]
        return [
            leaf for branch in (last.body, last.orelse) if not _exits(branch) for leaf in _fallthrough(branch)
        ]
    return [block]


def _may_exit(block: list) -> bool:
    for item in block:
        if isinstance(item, Stmt) and isinstance(item.node, (gast.Break, gast.Raise)):
            return True
        if isinstance(item, IfBlock) and (_may_exit(item.body) or _may_exit(item.orelse)):
            return True
    return False


def _same(a: gast.expr, b: gast.expr) -> bool:
    return gast.dump(a) == gast.dump(b)


def _breaks(body: list[gast.stmt]) -> bool:
    """Does ``body`` break out of its own loop (not out of a loop nested in it)?"""
    for stmt in body:
        if isinstance(stmt, gast.Break):
            return True
        if isinstance(stmt, gast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
        if isinstance(stmt, gast.With) and _breaks(stmt.body):
            return True
    return False


def _appended(stmt: gast.AST) -> str | None:
    """``items`` for the statement ``items.append(v)``."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        func = stmt.value.func
        if isinstance(func, gast.Attribute) and func.attr == "append" and isinstance(func.value, gast.Name):
            return func.value.id
    return None


def _stored(stmt: gast.AST) -> set[str]:
    """Names a statement (re)binds: ``y`` in ``y[i] = v``, ``y += v``, ``y.append(v)`` and ``y.pop()`` too."""
    names = {n.id for n in _free_names(stmt) if isinstance(n.ctx, gast.Store)}
    for node in walk(stmt):
        if _appended(node):
            names.add(_appended(node))
        if (
            isinstance(node, gast.Call)
            and isinstance(node.func, gast.Attribute)
            and node.func.attr == "pop"
            and isinstance(node.func.value, gast.Name)
        ):
            names.add(node.func.value.id)
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            todo = list(node.targets) if isinstance(node, gast.Assign) else [node.target]
            while todo:  # through tuple targets too: ``z`` in ``z[0], s = ...``
                target = todo.pop()
                if isinstance(target, (gast.Tuple, gast.List)):
                    todo += target.elts
                    continue
                while isinstance(target, (gast.Subscript, gast.Starred)):
                    target = target.value
                if isinstance(target, gast.Name):
                    names.add(target.id)
    return names


def _changed_in_place(body: list[gast.stmt]) -> tuple[set[str], set[str]]:
    """Names ``body`` changes in place (``y[i] = v``, ``y += v``, ``y.append(v)``), and names it
    rebinds (``y = v``): a loop over ``y`` sees the first kind of change, not the second."""
    in_place, rebound = set(), set()
    for node in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            in_place.add(node.target.id)
        elif isinstance(node, (gast.Assign, gast.AugAssign)):
            for target in node.targets if isinstance(node, gast.Assign) else [node.target]:
                for sub in walk(target):
                    if isinstance(sub, gast.Subscript):
                        while isinstance(sub, gast.Subscript):
                            sub = sub.value
                        if isinstance(sub, gast.Name):
                            in_place.add(sub.id)
                    elif isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Store):
                        rebound.add(sub.id)
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute):
            if node.func.attr in ("append", "extend", "insert", "pop", "remove", "sort", "reverse"):
                if isinstance(node.func.value, gast.Name):
                    in_place.add(node.func.value.id)
    return in_place, rebound


_COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def _free_names(node: gast.AST, bound: frozenset[str] = frozenset()) -> list[gast.Name]:
    """The names in ``node``, but those a comprehension binds for itself (``v`` in ``[f(v) for v in xs]``)."""
    out: list[gast.Name] = []
    _collect_free(node, bound, out)
    return out


def _collect_free(node: gast.AST, bound: frozenset[str], out: list[gast.Name]) -> None:
    """``_free_names`` into ``out``, depth first (a list, not nested generators: each name
    passed up through every level cost as much as the walk)."""
    if node.__class__ is gast.Name:
        if node.id not in bound:
            out.append(node)
        return
    if isinstance(node, _COMPREHENSIONS):
        first = node.generators[0]
        _collect_free(first.iter, bound, out)  # evaluated where the comprehension is
        own = {n.id for g in node.generators for n in walk(g.target) if isinstance(n, gast.Name)}
        for child in gast.iter_child_nodes(node):
            parts = [child] if not isinstance(child, gast.comprehension) else [child.target, *child.ifs]
            if isinstance(child, gast.comprehension) and child is not first:
                parts.append(child.iter)
            for part in parts:
                _collect_free(part, bound | own, out)
        return
    for field_ in node._fields:
        value = getattr(node, field_, None)
        if value.__class__ is list:
            for item in value:
                if isinstance(item, _AST):
                    _collect_free(item, bound, out)
        elif isinstance(value, _AST):
            _collect_free(value, bound, out)


_AST = gast.AST


def _read(node: gast.AST) -> set[str]:
    names = {n.id for n in _free_names(node) if isinstance(n.ctx, gast.Load)}
    for sub in walk(node):
        if isinstance(sub, gast.AugAssign) and isinstance(sub.target, gast.Name):
            names.add(sub.target.id)
    return names


def _assigned(body: list[gast.stmt]) -> set[str]:
    return set().union(*(_stored(s) for s in body)) if body else set()


def _killed(stmt: gast.stmt) -> set[str]:
    """Names a statement surely binds (``y = v``, ``y += v``), not those it writes into (``y[i] = v``)."""
    if not isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
        return set()
    targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
    return {
        n.id for t in targets for n in walk(t) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    }


def _suffix_exposed(body: list[gast.stmt], memo: dict[int, list[set[str]]]) -> list[set[str]]:
    """``[_exposed(body[i:]) for i in range(len(body) + 1)]`` in one backward sweep.

    A statement reads before the rest binds, so what ``body[i:]`` exposes is what ``body[i]``
    exposes and what ``body[i + 1:]`` exposes, less what ``body[i]`` binds. Each block is swept
    once (``memo``, by id of the list): the whole analysis stays linear in the function's length.
    """
    known = memo.get(id(body))
    if known is not None:
        return known
    suffix: list[set[str]] = [set()]
    for stmt in reversed(body):
        if isinstance(stmt, gast.For):
            targets = {n.id for n in walk(stmt.target) if isinstance(n, gast.Name)}
            own = _read(stmt.iter) | (_suffix_exposed(stmt.body, memo)[0] - targets)
        elif isinstance(stmt, gast.While):
            own = _read(stmt.test) | _suffix_exposed(stmt.body, memo)[0]
        elif isinstance(stmt, gast.If):
            own = (
                _read(stmt.test) | _suffix_exposed(stmt.body, memo)[0] | _suffix_exposed(stmt.orelse, memo)[0]
            )
        else:
            own = _read(stmt)
        later = suffix[-1]
        killed = _killed(stmt)
        suffix.append(own | (later - killed if killed & later else later))
    suffix.reverse()
    memo[id(body)] = suffix
    return suffix


def _exposed(body: list[gast.stmt]) -> set[str]:
    """Names ``body`` may read before it (surely) assigns them: their value comes from before."""
    return set(_suffix_exposed(body, {})[0])


def _live_after(
    body: list[gast.stmt], after: set[str], out: dict[int, set[str]], memo: dict | None = None
) -> None:
    """For every statement, the names that code running after it may read (``out[id(stmt)]``)."""
    memo = {} if memo is None else memo
    suffix = _suffix_exposed(body, memo)
    for i, stmt in enumerate(body):
        live = suffix[i + 1] | after
        out[id(stmt)] = live
        if isinstance(stmt, (gast.For, gast.While)):  # the next iteration runs after, too
            again = _suffix_exposed(stmt.body, memo)[0] | (
                _read(stmt.test) if isinstance(stmt, gast.While) else set()
            )
            _live_after(stmt.body, live | again, out, memo)
        elif isinstance(stmt, gast.If):
            _live_after(stmt.body, live, out, memo)
            _live_after(stmt.orelse, live, out, memo)


def _may_become_active(body: list[gast.stmt], active: set[str]) -> set[str]:
    """User names that some iteration may make depend on an active value (a fixpoint)."""
    active = set(active)
    statements = [n for n in walk(gast.Module(body=body, type_ignores=[])) if isinstance(n, gast.stmt)]
    changed = True
    while changed:
        changed = False
        for stmt in statements:
            if _appended(stmt) and _read(stmt) & active and _appended(stmt) not in active:
                active.add(_appended(stmt))
                changed = True
            if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.For)):
                source = stmt.iter if isinstance(stmt, gast.For) else stmt.value
                if (
                    source is not None
                    and _read(source) & active
                    or (isinstance(stmt, gast.AugAssign) and _stored(stmt) & active)
                ):
                    new = _stored(stmt) - active
                    if new:
                        active |= new
                        changed = True
                if isinstance(stmt, gast.Assign) and any(isinstance(t, gast.Subscript) for t in stmt.targets):
                    if _read(stmt) & active and _stored(stmt) - active:
                        active |= _stored(stmt)
                        changed = True
    return active


def _base(user_name: str) -> str:
    """The base for a generated name standing for a user name (or a private one: ``@items``)."""
    return "result" if user_name == RESULT else user_name.lstrip("@")


def _constant_cell(cell: types.CellType) -> bool:
    """A closure cell that holds a module, a builtin or one of srcgrad's helpers, as generated code's do.

    Differentiating generated code again reads these as the objects they hold, so the new
    code spells them as the old code did (``np``, ``expand``).
    """
    try:
        value = cell.cell_contents
    except ValueError:
        return False
    builtin = getattr(builtins, getattr(value, "__name__", "?"), None)
    if isinstance(value, types.ModuleType) or builtin is value:
        return True
    # (the helpers of srcgrad.runtime and its modules, such as srcgrad.runtime.fft)
    return str(getattr(value, "__module__", None)).startswith(runtime.__name__) and callable(value)


class _Conflict:
    """Marks a free name that denotes different objects in different helpers."""


def _is_user_function(obj: Any) -> bool:
    if inspect.ismethod(obj):
        obj = obj.__func__
    return isinstance(obj, types.FunctionType) and lookup(obj) is None


def _is_simple(node: gast.expr) -> bool:
    """Cheap to repeat in the backward pass: a name, a literal, ``x.shape``, a tuple of those."""
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return isinstance(node.operand, gast.Constant)
    if isinstance(node, gast.Attribute):
        return _is_simple(node.value)
    if isinstance(node, (gast.Tuple, gast.List)):
        return all(_is_simple(e) for e in node.elts)
    if isinstance(node, gast.Slice):
        return all(p is None or _is_simple(p) for p in (node.lower, node.upper, node.step))
    return False


def _literal(value: Any) -> gast.expr | None:
    """A gast literal for a default value, or None when it is not a plain literal."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return gast.Constant(value=value, kind=None)
    if isinstance(value, tuple):
        elts = [_literal(v) for v in value]
        if all(e is not None for e in elts):
            return gast.Tuple(elts=elts, ctx=gast.Load())
    return None


def _lambda_def(node: gast.Lambda, name_: str) -> gast.FunctionDef:
    body = gast.copy_location(gast.Return(value=node.body), node)
    fn = gast.FunctionDef(
        name=name_,
        args=node.args,
        body=[body],
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    return gast.copy_location(fn, node)


def _base_name(value: gast.expr) -> str:
    """A temporary's name says what computed it: ``sub`` for ``1 - y``, ``ones`` for ``np.ones(n)``."""
    if isinstance(value, gast.BinOp) and type(value.op) in BINOPS:
        return BINOPS[type(value.op)][1]
    if isinstance(value, gast.Call):
        func = value.func
        if isinstance(func, gast.Attribute):
            return func.attr
        if isinstance(func, gast.Name):
            return func.id
    if isinstance(value, gast.Subscript):
        return "item"
    return "tmp"


def _copy(node: gast.AST) -> gast.AST:
    return clone(node) if isinstance(node, gast.AST) else copy.deepcopy(node)
