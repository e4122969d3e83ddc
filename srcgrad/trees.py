"""Syntax-tree utilities every stage uses, written for speed (the transform walks, copies and
rewrites trees at every statement): each gives what the general code it replaces gives
(``gast.walk``, ``copy.deepcopy``, ``gast.NodeTransformer``), as tests/test_transform_speed.py checks."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import Any

import gast


def gc_paused(stage: Callable) -> Callable:
    """``stage`` run with Python's cyclic garbage collector paused (as it was before, after):
    a stage allocates many small objects that stay alive, and the collections they trigger
    each traverse all of them, which made transforming a long function cost more per
    statement the longer it was (40% of the time at 3,200 statements). The few cycles a
    stage leaves are collected once it returns."""

    @functools.wraps(stage)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return stage(*args, **kwargs)
        gc.disable()
        try:
            return stage(*args, **kwargs)
        finally:
            gc.enable()

    return paused


_AST = gast.AST


def walk(node: gast.AST):
    """Every node of ``node``'s tree, in the order of ``gast.walk`` (breadth first, each node
    after its children are queued), at about twice its speed: the transform walks trees at
    every statement."""
    todo = [node]
    for n in todo:
        for field_ in n._fields:
            value = getattr(n, field_, None)
            if isinstance(value, list):
                todo.extend([x for x in value if isinstance(x, _AST)])
            elif isinstance(value, _AST):
                todo.append(value)
        yield n


class Transformer(gast.NodeTransformer):
    """``gast.NodeTransformer`` with the same results, faster: the method for each class of
    node is looked up once, and fields are read without ``ast.iter_fields``'s generator (the
    passes transform a rule's template, or a statement, at every operation)."""

    _methods: dict[tuple[type, type], Any] = {}
    # True: leave alone the fields that hold no name, literal or call (contexts, operators): for
    # a transformer that has no method for the nodes there, the same result at less cost.
    prune = False

    def visit(self, node: gast.AST) -> Any:
        key = (self.__class__, node.__class__)
        method = Transformer._methods.get(key)
        if method is None:
            method = getattr(self.__class__, "visit_" + node.__class__.__name__, None)
            method = Transformer._methods[key] = method or self.__class__.generic_visit
        return method(self, node)

    def generic_visit(self, node: gast.AST) -> gast.AST:
        for field_ in CHILD_FIELDS[node.__class__] if self.prune else node._fields:
            try:
                old = getattr(node, field_)
            except AttributeError:
                continue
            if old.__class__ is list:
                new_values = []
                for value in old:
                    if isinstance(value, _AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, _AST):
                            new_values.extend(value)
                            continue
                    new_values.append(value)
                old[:] = new_values
            elif isinstance(old, _AST):
                new = self.visit(old)
                if new is None:
                    delattr(node, field_)
                else:
                    setattr(node, field_, new)
        return node


# Fields that hold only strings, literals or nodes without fields (operators, contexts): a walk
# looking for names, literals or calls need not enter them.
_LEAF_FIELDS = frozenset(("ctx", "op", "ops", "id", "attr", "arg", "kind", "type_comment"))


class _ChildFields(dict):
    """Node class -> the fields of it that may hold a name, a literal or a call."""

    def __missing__(self, cls: type) -> tuple[str, ...]:
        fields = self[cls] = tuple(
            f for f in cls._fields if f not in _LEAF_FIELDS and not (cls is gast.Constant and f == "value")
        )
        return fields


CHILD_FIELDS = _ChildFields()


def walk_values(node: gast.AST):
    """``walk``'s nodes in its order, less contexts and operators (the nodes in fields
    ``CHILD_FIELDS`` leaves out): for a search for names, literals, calls or statements."""
    todo = [node]
    for n in todo:
        for field_ in CHILD_FIELDS[n.__class__]:
            value = getattr(n, field_, None)
            if value.__class__ is list:
                todo.extend([x for x in value if isinstance(x, _AST)])
            elif isinstance(value, _AST):
                todo.append(value)
        yield n


def clone(node: gast.AST) -> gast.AST:
    """``copy.deepcopy`` of a syntax tree, several times as fast: new nodes and lists, the same
    leaf values (names, literals); a node reached twice is copied twice. Rule templates, their
    arguments and the atoms of normalization are copied once per operation."""
    if not isinstance(node, _AST):
        return [clone(v) for v in node] if node.__class__ is list else node
    new = node.__class__.__new__(node.__class__)
    fields = new.__dict__
    for key, value in node.__dict__.items():
        if isinstance(value, _AST):
            value = clone(value)
        elif value.__class__ is list:
            value = [clone(v) for v in value]
        fields[key] = value
    return new
