"""Stage 2: map names and attribute chains to the Python objects they denote.

Rules are looked up by object, never by spelling, so ``np.exp``, ``numpy.exp`` and
``exp`` from ``from numpy import exp`` are one function to srcgrad.
"""

from __future__ import annotations

import builtins
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gast

from .parse import ParsedFunction


class _Unresolved:
    def __repr__(self) -> str:
        return "UNRESOLVED"


UNRESOLVED: Any = _Unresolved()


def _denoted(scope: Resolver | Scope, name: str) -> Any:
    """What a free ``name`` of a function denotes now: a bound constant, its closure cell's
    value, its global, its builtin; ``UNRESOLVED`` for a local or an empty cell."""
    if name in scope.constants:
        return scope.constants[name]
    if name in scope.locals:
        return UNRESOLVED
    if name in scope.closure:
        try:
            return scope.closure[name].cell_contents
        except ValueError:
            return UNRESOLVED
    if name in scope.globals:
        return scope.globals[name]
    return getattr(builtins, name, UNRESOLVED)


class Resolver:
    """Resolves the free names of one parsed function in its own globals and closure.

    ``constants`` are parameters bound to known objects: ``self`` of a bound method.
    """

    def __init__(self, parsed: ParsedFunction, constants: dict[str, Any] | None = None) -> None:
        self.parsed = parsed
        self.constants = constants or {}
        self.locals = parsed.local_names - set(self.constants)
        self.closure = parsed.closure
        self.globals = parsed.globals

    def is_global(self, name: str) -> bool:
        return name not in self.locals and name not in self.closure

    def resolve(self, node: gast.expr) -> Any:
        """The object ``node`` denotes now, or ``UNRESOLVED`` for locals and other expressions."""
        if isinstance(node, gast.Name):
            return _denoted(self, node.id)
        if isinstance(node, gast.Attribute):
            base = self.resolve(node.value)
            if base is UNRESOLVED:
                return UNRESOLVED
            return getattr(base, node.attr, UNRESOLVED)
        return UNRESOLVED

    def free_names(self) -> list[str]:
        """The names the function reads from its globals, closure or builtins, sorted."""
        return sorted(
            {
                n.id
                for n in self.parsed.nodes
                if isinstance(n, gast.Name) and n.id not in self.locals and n.id not in self.constants
            }
        )


def call_tree(top: ParsedFunction, bound_self: Any = None) -> list[Resolver]:
    """The function and every function of the user's it may call, each once, in order found.

    A bound method's first parameter resolves to its object, so ``self.predict(x)`` is found.
    """
    from .parse import parse_function
    from .rules import lookup

    found: dict[Any, Resolver] = {}

    def visit(parsed: ParsedFunction, constants: dict[str, Any]) -> None:
        if parsed.fn in found:
            return
        resolver = found[parsed.fn] = Resolver(parsed, constants)
        for node in parsed.calls:
            obj = resolver.resolve(node.func)
            fn = getattr(obj, "__func__", obj)  # (a bound method may have a rule: scipy's norm.pdf)
            if isinstance(fn, types.FunctionType) and lookup(obj) is None and lookup(fn) is None:
                try:
                    callee = parse_function(fn)
                except Exception:  # reported with its location when the call is differentiated
                    continue
                visit(callee, _self_of(callee, obj))

    visit(top, _self_of(top, bound_self, bound=bound_self is not None))
    return list(found.values())


def _self_of(parsed: ParsedFunction, obj: Any, bound: bool = False) -> dict[str, Any]:
    """``{"self": obj}`` for a bound method (or a function called as one)."""
    args = parsed.node.args.posonlyargs + parsed.node.args.args
    if not args or not (bound or hasattr(obj, "__self__")):
        return {}
    return {args[0].id: obj if bound else obj.__self__}


LIBRARIES = {"numpy", "math", "cmath", "builtins", "operator", "scipy", "autograd"}


def resolved_calls(tree: list[Resolver]) -> list[tuple[Resolver, gast.expr, Any]]:
    """What every call in a call tree resolves to now (a helper, a numpy function...): if one
    of them later resolves to something else, code generated from the tree is stale.

    Each distinct name is listed once; for ``np.linalg.norm`` it is enough that ``np`` is
    still numpy (libraries are not rebound function by function).
    """
    calls: dict[tuple[int, str], tuple[Resolver, gast.expr, Any]] = {}
    for resolver in tree:
        for node in resolver.parsed.calls:
            func = node.func
            root = func
            while isinstance(root, gast.Attribute):
                root = root.value
            base = resolver.resolve(root)
            if isinstance(base, types.ModuleType) and base.__name__.partition(".")[0] in LIBRARIES:
                func = root
            obj = resolver.resolve(func)
            if obj is not UNRESOLVED:
                own = isinstance(root, gast.Name) and (
                    root.id in resolver.closure or root.id in resolver.constants
                )
                scope = id(resolver) if own else id(resolver.parsed.globals)  # helpers share module globals
                calls[scope, gast.dump(func)] = (resolver, func, unbound(obj))
    return list(calls.values())


def unbound(obj: Any) -> Any:
    """A bound method's function (what the generated code inlined); anything else as it is."""
    return obj.__func__ if isinstance(obj, types.MethodType) else obj


# -- without an AST: what a process that finds its transform on disk needs --------------------
# The disk cache's key covers every function of the call tree with what its names denote. A
# new process computes it without parsing: the names each function reads and the calls it
# makes (its ``Facts``) come from the entry, stored under the function's exact source text;
# the objects they denote come from the function's globals, closure and builtins, as above.


@dataclass(frozen=True)
class Facts:
    """What parsing a function's source tells the cache: the names it assigns, the free names
    it reads (sorted) and the dotted names it calls (``helper``, ``np.linalg.norm``,
    ``self.predict``), once each, in the order ``call_tree`` meets them. Calls on local names
    that can never resolve (``y.sum()``) are left out."""

    locals: tuple[str, ...]
    names: tuple[str, ...]
    calls: tuple[str, ...]


def facts_of(parsed: ParsedFunction) -> Facts:
    local_names = parsed.local_names
    params = parsed.node.args.posonlyargs + parsed.node.args.args
    first = params[0].id if params else None  # it may be a bound ``self``
    calls: dict[str, None] = {}
    for node in parsed.calls:
        text = dotted(node.func)
        if text is not None:
            root = text.partition(".")[0]
            if root not in local_names or root == first:
                calls.setdefault(text)
    names = sorted({n.id for n in parsed.nodes if isinstance(n, gast.Name) and n.id not in local_names})
    return Facts(tuple(sorted(local_names)), tuple(names), tuple(calls))


def dotted(node: gast.expr) -> str | None:
    """``np.linalg.norm`` for that attribute chain, ``f`` for a name, None for anything else."""
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


class Scope:
    """Resolves a function's dotted names exactly as ``Resolver`` resolves its AST nodes."""

    def __init__(self, fn: types.FunctionType, facts: Facts, constants: dict[str, Any]) -> None:
        self.fn = fn
        self.facts = facts
        self.constants = constants
        self.locals = frozenset(facts.locals) - set(constants)
        self.closure = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        self.globals = fn.__globals__

    def name(self, name: str) -> Any:
        return _denoted(self, name)

    def lookup(self, text: str) -> Any:
        root, *attrs = text.split(".")
        obj = self.name(root)
        for attr in attrs:
            if obj is UNRESOLVED:
                break
            obj = getattr(obj, attr, UNRESOLVED)
        return obj


def light_tree(
    top: types.FunctionType, bound_self: Any, facts_for: Callable[[types.FunctionType], Facts | None]
) -> list[Scope] | None:
    """``call_tree`` from each function's ``Facts`` instead of its AST, or None when
    ``facts_for`` knows nothing of ``top``. Besides the functions called, it holds those a free
    name denotes (``apply(helper, x)`` may inline ``helper`` too)."""
    from .rules import lookup

    found: dict[Any, Scope] = {}

    def visit(fn: types.FunctionType, facts: Facts, obj: Any, bound: bool) -> None:
        if fn in found:
            return
        code = fn.__code__
        first = code.co_varnames[0] if code.co_argcount else None
        constants = (
            {first: obj if bound else obj.__self__} if first and (bound or hasattr(obj, "__self__")) else {}
        )
        scope = found[fn] = Scope(fn, facts, constants)
        for callee in [*map(scope.lookup, facts.calls), *map(scope.name, facts.names)]:
            inner = getattr(callee, "__func__", callee)
            if (
                isinstance(inner, types.FunctionType)
                and inner not in found
                and lookup(callee) is None
                and lookup(inner) is None
            ):
                inner_facts = facts_for(inner)
                if inner_facts is not None:  # no source: reported where the call is differentiated
                    visit(inner, inner_facts, callee, False)

    top_facts = facts_for(top)
    if top_facts is None:
        return None
    visit(top, top_facts, bound_self, bound_self is not None)
    return list(found.values())


def light_calls(tree: list[Scope]) -> list[tuple[Scope, str, Any]]:
    """``resolved_calls`` for a tree of ``Scope``: what each called name denotes now."""
    calls: dict[tuple[int, str], tuple[Scope, str, Any]] = {}
    for scope in tree:
        for text in scope.facts.calls:
            root = text.partition(".")[0]
            base = scope.name(root)
            if isinstance(base, types.ModuleType) and base.__name__.partition(".")[0] in LIBRARIES:
                text = root
            obj = scope.lookup(text)
            if obj is not UNRESOLVED:
                own = root in scope.closure or root in scope.constants
                calls[id(scope) if own else id(scope.globals), text] = (scope, text, unbound(obj))
    return list(calls.values())
