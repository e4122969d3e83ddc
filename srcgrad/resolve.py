"""Stage 2: map names and attribute chains to the Python objects they denote.

Rules are looked up by object, never by spelling, so ``np.exp``, ``numpy.exp`` and
``exp`` from ``from numpy import exp`` are one function to srcgrad.
"""

from __future__ import annotations

import builtins
import types
from typing import Any

import gast

from .parse import ParsedFunction


class _Unresolved:
    def __repr__(self) -> str:
        return "UNRESOLVED"


UNRESOLVED: Any = _Unresolved()


class Resolver:
    """Resolves the free names of one parsed function in its own globals and closure.

    ``constants`` are parameters bound to known objects: ``self`` of a bound method.
    """

    def __init__(self, parsed: ParsedFunction, constants: dict[str, Any] | None = None) -> None:
        self.parsed = parsed
        self.constants = constants or {}
        self.locals = parsed.local_names - set(self.constants)
        self.closure = parsed.closure

    def is_global(self, name: str) -> bool:
        return name not in self.locals and name not in self.closure

    def resolve(self, node: gast.expr) -> Any:
        """The object ``node`` denotes now, or ``UNRESOLVED`` for locals and other expressions."""
        if isinstance(node, gast.Name):
            name = node.id
            if name in self.constants:
                return self.constants[name]
            if name in self.locals:
                return UNRESOLVED
            if name in self.closure:
                try:
                    return self.closure[name].cell_contents
                except ValueError:
                    return UNRESOLVED
            if name in self.parsed.globals:
                return self.parsed.globals[name]
            return getattr(builtins, name, UNRESOLVED)
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
            fn = getattr(obj, "__func__", obj)
            if isinstance(fn, types.FunctionType) and lookup(fn) is None:
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
