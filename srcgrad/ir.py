"""The normalized program that the transforms read: one primitive per statement.

Names in generated code come from :class:`Namer` (stable, readable, never random) and
the objects generated code needs (numpy, runtime helpers, closure cells, other modules)
from :class:`Bindings`, which become the closure of the compiled function.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

import gast

from .errors import NoRuleError
from .rules import Rule
from .trees import CHILD_FIELDS, walk


@dataclass(frozen=True)
class Frame:
    """One primal source line; a statement inlined from helpers has one frame per call."""

    text: str
    filename: str
    lineno: int
    function: str


@dataclass
class Op:
    """``target = rule.fn(**args)`` where some arguments are active (carry derivatives)."""

    target: str
    rule: Rule | None  # None: a list/tuple literal of the ``args`` in order ("pack")
    args: dict[str, gast.expr]
    active: list[str]  # the parameters whose argument is an active variable


@dataclass
class Stmt:
    """A statement of the forward pass, with the primal line(s) it comes from."""

    node: gast.stmt
    origin: tuple[Frame, ...]
    op: Op | None = None
    copyback: bool = False  # ``carried = value`` at the end of a loop body, before a break


@dataclass
class IfBlock:
    """``if cond: body else: orelse``; ``cond`` is a name computed just before."""

    cond: gast.expr
    body: list
    orelse: list
    origin: tuple[Frame, ...]
    merged: list[str] = field(default_factory=list)  # names both branches assign last


@dataclass
class LoopBlock:
    """A ``for`` or ``while`` loop of normalized statements.

    ``for``: ``target`` takes the values of ``iterable`` (a name). ``while``: ``test`` is
    re-evaluated before each iteration. ``counter`` counts iterations when the backward
    pass cannot tell their number from ``iterable`` (a while loop, or a break).
    ``carried`` are the names whose value flows from one iteration to the next.
    """

    kind: str
    body: list
    origin: tuple[Frame, ...]
    target: str | None = None
    iterable: gast.expr | None = None
    test: gast.expr | None = None
    counter: str | None = None
    carried: list[str] = field(default_factory=list)


@dataclass
class Program:
    """A user function in A-normal form, ready for a transform."""

    name: str
    args: gast.arguments
    params: list[str]
    body: list  # Stmt, IfBlock and LoopBlock
    result: gast.expr
    active: set[str]
    namer: Namer
    bindings: Bindings
    origin: tuple[Frame, ...] = ()
    lists: set[str] = field(default_factory=set)  # names holding lists: their adjoints are lists
    returns_at: str = ""  # ``file.py:LINE`` of the (last) return statement
    deps: list[tuple[Any, gast.expr, Any]] = field(default_factory=list)  # (resolver, name, object)


def statements(items: list, loops: bool = False):
    """Every simple statement of a block, at any depth (and each loop before its body, with ``loops``)."""
    for item in items:
        if isinstance(item, Stmt):
            yield item
        elif isinstance(item, IfBlock):
            yield from statements(item.body, loops)
            yield from statements(item.orelse, loops)
        else:
            if loops:
                yield item
            yield from statements(item.body, loops)


def names_of(target: gast.AST) -> list[str]:
    """The names in an assignment's target, in ``walk`` order (a plain name, most often, at once)."""
    if target.__class__ is gast.Name:
        return [target.id]
    return [n.id for n in walk(target) if isinstance(n, gast.Name)]


def assigned_names(items: list) -> set[str]:
    """Every name a block assigns, at any depth: targets, loop variables and counters."""
    names = set()
    for stmt in statements(items):
        for target in getattr(stmt.node, "targets", ()):
            names.update(names_of(target))
    for item in items:
        if isinstance(item, IfBlock):
            names |= assigned_names(item.body) | assigned_names(item.orelse)
        elif isinstance(item, LoopBlock):
            names |= {n for n in (item.target, item.counter) if n} | assigned_names(item.body)
    return names


def name(id_: str) -> gast.Name:
    return gast.Name(id=id_, ctx=gast.Load(), annotation=None, type_comment=None)


def store(id_: str) -> gast.Name:
    return gast.Name(id=id_, ctx=gast.Store(), annotation=None, type_comment=None)


def assign(target: str, value: gast.expr) -> gast.Assign:
    return gast.Assign(targets=[store(target)], value=value, type_comment=None)


class _Taken(set):
    """A set of names that counts the names taken out of it (``Namer.fresh`` relies on none)."""

    removed = 0

    def discard(self, item: object) -> None:
        self.removed += 1
        super().discard(item)

    def remove(self, item: object) -> None:
        self.removed += 1
        super().remove(item)


class Namer:
    """Allocates readable names: ``base``, then ``base_1``, ``base_2``... never a reserved one."""

    def __init__(self, reserved: set[str]) -> None:
        self.reserved = set(reserved)
        self.taken: set[str] = _Taken()
        # The suffix each base last got: the ones below it are taken while no name is given back,
        # so the search resumes there (a function of N statements costs N, not N squared).
        self._last: dict[str, int] = {}
        self._removed = 0

    def fresh(self, base: str) -> str:
        removed = getattr(self.taken, "removed", None)
        if removed is None or removed != self._removed:  # a name was given back: search from 0
            self._last.clear()
            self._removed = removed
        n = self._last.get(base, 0)
        candidate = f"{base}_{n}" if n else base
        while candidate in self.taken or candidate in self.reserved:
            n += 1
            candidate = f"{base}_{n}"
        self.taken.add(candidate)
        self._last[base] = n
        return candidate


_MISSING = object()


class Bindings:
    """Objects generated code refers to by name without reading them from user globals.

    ``known`` maps the free names of the user's top function to what they denote, so a
    binding may reuse a user's name (``np``) only when it denotes the same object.
    """

    def __init__(self, namer: Namer, known: dict[str, Any]) -> None:
        self.namer = namer
        self.known = known
        self.values: dict[str, Any] = {}
        self.cells: dict[str, types.CellType] = {}
        self._by_id: dict[int, str] = {}

    def _name(self, key: Any, preferred: str) -> str:
        user = self.known.get(preferred, _MISSING)  # what the user's code means by this name
        if preferred in self.namer.taken or (user is not _MISSING and user is not key):
            return self.namer.fresh(preferred)
        self.namer.taken.add(preferred)
        return preferred

    def denoted(self, node: Any) -> Any:
        """What a name or attribute chain of generated code denotes (None if not a binding)."""
        if isinstance(node, gast.Attribute):
            return getattr(self.denoted(node.value), node.attr, None)
        return self.values.get(node.id) if isinstance(node, gast.Name) else None

    def value(self, obj: Any, preferred: str) -> str:
        if id(obj) not in self._by_id:
            name_ = self._name(obj, preferred)
            self.values[name_] = obj
            self._by_id[id(obj)] = name_
        return self._by_id[id(obj)]

    def cell(self, cell: types.CellType, preferred: str) -> str:
        if id(cell) not in self._by_id:
            name_ = self._name(cell, preferred)
            self.cells[name_] = cell
            self._by_id[id(cell)] = name_
        return self._by_id[id(cell)]


def scalar_check(check: str, result: gast.expr, where: str) -> gast.Expr:
    """``check_scalar(result, 'file.py:LINE')``: ``grad`` of a non-scalar output is an error."""
    call = gast.Call(func=name(check), args=[result, gast.Constant(value=where, kind=None)], keywords=[])
    return gast.Expr(value=call)


def missing_half(rule: Rule, param: str, origin: tuple[Frame, ...], mode: str) -> NoRuleError:
    """The error for a rule without the template ``mode`` needs for ``param``: it names the
    decorator that adds one, and the other mode."""
    frame = origin[-1] if origin else None
    decorator, other = ("adjoint", "forward") if mode == "reverse" else ("tangent", "reverse")
    return NoRuleError(
        f"{rule.spelling} has no {mode}-mode rule with respect to its argument {param!r}",
        frame and frame.filename,
        frame and frame.lineno,
        frame and frame.text,
        hint=f'register one with @srcgrad.{decorator}({rule.spelling}), or use mode="{other}".',
    )


def drop_default_args(node: gast.expr, helpers: dict) -> gast.expr:
    """``expand(g, x, None, False)`` reads better as ``expand(g, x)``: drop a helper call's trailing
    arguments that equal their defaults."""
    todo = [node]
    for call in todo:  # (``walk``, into the fields that may hold a call)
        for field_ in CHILD_FIELDS[call.__class__]:
            value = getattr(call, field_, None)
            if value.__class__ is list:
                todo.extend([x for x in value if isinstance(x, gast.AST)])
            elif isinstance(value, gast.AST):
                todo.append(value)
        if not (call.__class__ is gast.Call and call.func.__class__ is gast.Name and call.func.id in helpers):
            continue
        fn = helpers[call.func.id]
        code, defaults = getattr(fn, "__code__", None), getattr(fn, "__defaults__", None) or ()
        if code is None or call.keywords:
            continue
        first_default = code.co_argcount - len(defaults)
        while first_default < len(call.args) <= code.co_argcount:
            last, expected = call.args[-1], defaults[len(call.args) - 1 - first_default]
            same = isinstance(last, gast.Constant) and (
                last.value is expected or (type(last.value) is type(expected) and last.value == expected)
            )
            if not same:
                break
            call.args.pop()
    return node
