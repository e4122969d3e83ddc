"""The structure of containers (pytrees): arguments and outputs may be tuples, lists, dicts
and namedtuples of arrays and numbers, nested. Their adjoints and tangents are containers of
the same type and structure (``containers.py``), built with these.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CONTAINERS", "is_namedtuple", "rebuild", "leaves", "from_leaves"]

CONTAINERS = (list, tuple, dict)


def is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def rebuild(like: Any, values: Any) -> Any:
    """A container of ``like``'s type holding ``values`` (a list, or a dict for a dict)."""
    if isinstance(like, dict):
        return values if type(like) is dict else type(like)(values)
    if is_namedtuple(like):
        return type(like)(*values)
    return tuple(values) if isinstance(like, tuple) else list(values)


def leaves(x: Any) -> list:
    """The arrays and numbers of a (nested) container, in order (dicts in their own order)."""
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in leaves(v)]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in leaves(v)]
    return [x]


def from_leaves(like: Any, values: Any) -> Any:
    """``like``'s structure with ``values`` (an iterator or list of leaves) in place of its leaves."""
    values = iter(values)

    def build(x: Any) -> Any:
        if isinstance(x, dict):
            return rebuild(x, {k: build(v) for k, v in x.items()})
        if isinstance(x, (list, tuple)):
            return rebuild(x, [build(v) for v in x])
        return next(values)

    return build(like)
