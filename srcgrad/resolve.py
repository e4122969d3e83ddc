"""Stage 2: map names and attribute chains to the Python objects they denote.

Rules are looked up by object, never by spelling, so ``np.exp``, ``numpy.exp`` and
``exp`` from ``from numpy import exp`` are one function to srcgrad.
"""

from __future__ import annotations

import builtins
from typing import Any

import gast

from .parse import ParsedFunction


class _Unresolved:
    def __repr__(self) -> str:
        return "UNRESOLVED"


UNRESOLVED: Any = _Unresolved()


def local_names(node: gast.FunctionDef) -> set[str]:
    """Parameters and every name the function body assigns."""
    args = node.args
    names = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    names |= {a.id for a in (args.vararg, args.kwarg) if a is not None}
    for sub in gast.walk(node):
        if isinstance(sub, gast.Name) and isinstance(sub.ctx, (gast.Store, gast.Del)):
            names.add(sub.id)
        elif isinstance(sub, (gast.FunctionDef, gast.ClassDef)) and sub is not node:
            names.add(sub.name)
    return names


class Resolver:
    """Resolves the free names of one parsed function in its own globals and closure."""

    def __init__(self, parsed: ParsedFunction) -> None:
        self.parsed = parsed
        self.locals = local_names(parsed.node)
        self.closure = parsed.closure

    def is_global(self, name: str) -> bool:
        return name not in self.locals and name not in self.closure

    def resolve(self, node: gast.expr) -> Any:
        """The object ``node`` denotes now, or ``UNRESOLVED`` for locals and other expressions."""
        if isinstance(node, gast.Name):
            name = node.id
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
