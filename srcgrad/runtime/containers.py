"""The adjoints of containers (pytrees, ``trees.py``). The adjoint (and the tangent) of a
container is a container of the same type and structure. A name that may hold one is in
``Program.lists``: its adjoints add with ``add_lists``, its zero is ``zero_adjoint``, and the
adjoints of the items read from it are gathered once, where it is defined:
``d_params = items_grad(params, {'W': d_W, 'b': d_b})`` (zeros only for the items never read).
Every helper here also takes an array, for which it does what indexing does.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..twins import gradient_scalar, is_array, is_basic_index, is_number, is_numeric, twin
from .arrays import _add_at, _is_advanced, _new_array, grad_dtype, size_of
from .checks import refuse
from .trees import CONTAINERS, from_leaves, is_namedtuple, leaves, rebuild

__all__ = [
    "zero_leaf",
    "zeros_like_tree",
    "items_grad",
    "add_items",
    "add_item",
    "items_of",
    "field_of",
    "field_grad",
    "tree_size",
    "add_lists",
    "zeros_like_list",
    "zero_adjoint",
]


def zero_leaf(x: Any) -> Any:
    """The zero adjoint of one leaf: ``0.0`` for a number, zeros of an array's shape (float)."""
    if x is None or isinstance(x, (str, bytes)) or callable(x):  # (a function has no derivative)
        return None
    if isinstance(x, (bool, int, float, complex)) and not hasattr(x, "dtype"):
        return 0.0 if not isinstance(x, complex) else 0j
    return np.zeros_like(x, dtype=grad_dtype(x, 1.0))


def zeros_like_tree(x: Any) -> Any:
    """Zeros shaped like every leaf of the container ``x``."""
    return from_leaves(x, map(zero_leaf, leaves(x)))


def _position(x: Any, key: Any) -> Any:
    """Where ``key`` reads ``x``: a dict key, or a position (a field name of a namedtuple too)."""
    if isinstance(x, dict):
        return key
    if isinstance(key, str):
        if not is_namedtuple(x):
            raise refuse(
                f"srcgrad reads .{key} as a field of a namedtuple, but the value is a {type(x).__name__}",
                "pass a namedtuple, a tuple, a list or a dict of arrays.",
            )
        return type(x)._fields.index(key)
    if isinstance(key, slice):
        return key
    key = operator.index(key)
    return key + len(x) if key < 0 else key


def _add(a: Any, b: Any) -> Any:
    return b if a is None else add_lists(a, b)


def _items_grad(x: Any, pairs: Any) -> Any:
    """``items_grad`` for ``(key, adjoint)`` pairs (a slice is no dict key before Python 3.12)."""
    if isinstance(x, dict):
        slots: Any = {}
        for key, g in pairs:
            slots[key] = _add(slots.get(key), g)
        return rebuild(x, {k: slots[k] if k in slots else zeros_like_tree(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        slots = [None] * len(x)
        for key, g in pairs:
            at = _position(x, key)
            if isinstance(at, slice):
                for i, gi in zip(range(len(x))[at], g):
                    slots[i] = _add(slots[i], gi)
            else:
                slots[at] = _add(slots[at], g)
        return rebuild(x, [zeros_like_tree(v) if s is None else s for s, v in zip(slots, x)])
    pairs = list(pairs)
    if any(isinstance(key, str) for key, _ in pairs):
        _position(x, next(key for key, _ in pairs if isinstance(key, str)))  # refuses
    out = np.zeros_like(x, dtype=grad_dtype(x, pairs[0][1] if pairs else 1.0))
    for key, g in pairs:
        if _is_advanced(key):
            out = _add_at(out, key, g)
        else:
            out[key] += g
    return out


def items_grad(x: Any, items: dict) -> Any:
    """The adjoint of ``x`` from the adjoints of the items read from it, ``{key: adjoint}``:
    a container like ``x`` (zeros for the items never read), or for an array, the adjoints
    added into zeros shaped like it. A key may be a position, a dict key or a field name."""
    return _items_grad(x, items.items())


def _position_dict(items):
    """Is the numba type ``items`` a dict of array positions (ints, or tuples of ints)?"""
    from numba.core import types

    if not isinstance(items, types.DictType):
        return False
    key = items.key_type
    return isinstance(key, types.Integer) or (
        isinstance(key, types.UniTuple) and isinstance(key.dtype, types.Integer)
    )


@twin(items_grad)
def _items_grad_twin(x, items):
    if not (is_array(x) and _position_dict(items)):
        return None
    scalar = gradient_scalar(x)

    def impl(x, items):
        out = np.zeros(x.shape, scalar)
        for key, g in items.items():
            out[key] += g
        return out

    return impl


def add_items(total: Any, items: dict) -> Any:
    """``total``, an adjoint of a container (or an array), with ``items`` added at their keys:
    only those items are added, the others are shared (nothing is copied but the container)."""
    if type(total) is float:  # the zero of a name without a value yet: nothing to add to
        raise refuse("internal: add_items on a zero without structure", "report this as a bug.")
    if isinstance(total, dict):
        out = dict(total)
        for key, g in items.items():
            out[key] = add_lists(out[key], g)
        return rebuild(total, out)
    if isinstance(total, (list, tuple)):
        out = list(total)
        for key, g in items.items():
            at = _position(total, key)
            out[at] = add_lists(out[at], g)
        return rebuild(total, out)
    out = _new_array(total, grad_dtype(total, 1.0))
    for key, g in items.items():
        if _is_advanced(key):
            out = _add_at(out, key, g)
        else:
            out[key] += g
    return out


@twin(add_items)
def _add_items(total, items):
    if not (is_array(total) and _position_dict(items)):
        return None
    scalar = gradient_scalar(total)

    def impl(total, items):
        out = total.astype(scalar)  # (a copy)
        for key, g in items.items():
            out[key] += g
        return out

    return impl


def add_item(total: Any, index: Any, g: Any) -> Any:
    """``total`` with ``g`` added at ``index`` (any index: a loop's, a slice, an index array)."""
    if isinstance(total, CONTAINERS):
        at = _position(total, index)
        if isinstance(at, slice):
            return add_lists(total, _items_grad(total, [(at, g)]))
        return add_items(total, {at: g})
    out = _new_array(total, grad_dtype(total, g))
    if _is_advanced(index):
        return _add_at(out, index, g)
    out[index] += g
    return out


@twin(add_item)
def _add_item(total, index, g):
    if not (is_array(total) and is_basic_index(index)):
        return None
    scalar = gradient_scalar(total)

    def basic(total, index, g):
        out = total.astype(scalar)  # (a copy)
        out[index] += g
        return out

    return basic


def items_of(g: Any, items: dict, like: Any = None) -> dict:
    """The adjoint of ``items`` in ``items_grad(x, items)``: ``g``'s item at each key (``like``,
    shaped as ``g``, places a field name when ``g`` is a plain sequence)."""
    return {key: field_of(g, key, like) for key in items}


def field_of(x: Any, key: Any, like: Any = None) -> Any:
    """``x[key]``, or ``x.key`` for a field name of a namedtuple (``like``'s field, when ``x``
    is a plain sequence shaped as the namedtuple ``like``)."""
    if isinstance(key, str) and not isinstance(x, dict):
        if is_namedtuple(x):
            return getattr(x, key)
        return x[_position(like, key)]
    return x[key]


def field_grad(g: Any, x: Any, key: str) -> Any:
    """The adjoint of ``x.key`` (a field of a namedtuple): ``g`` there, zeros elsewhere."""
    return _items_grad(x, [(key, g)])


def tree_size(x: Any) -> int:
    """The number of numbers in ``x``: an array, a number, or a container of them."""
    if isinstance(x, CONTAINERS):
        return sum(int(size_of(leaf)) for leaf in leaves(x))
    return int(size_of(x))


def _tree_jacobian(parts: list, x: Any, like: Any, stack: Any, by_input: bool) -> Any:
    """The Jacobian of a container output and/or input from forward-mode columns (``by_input``:
    one per number of ``x``) or reverse-mode rows (one per number of the output)."""
    x_leaves, out_leaves = leaves(x), leaves(like)
    outer, inner = (x_leaves, out_leaves) if by_input else (out_leaves, x_leaves)
    groups, start = [], 0
    for leaf in outer:  # the parts that belong to each leaf of x (of the output)
        n = tree_size(leaf)
        groups.append(parts[start : start + n])
        start += n
    blocks = []
    for j, out_leaf in enumerate(out_leaves):
        row = []
        for i, x_leaf in enumerate(x_leaves):
            group = groups[i] if by_input else groups[j]
            pick = j if by_input else i
            row.append(stack([leaves(p)[pick] for p in group], x_leaf, out_leaf))
        blocks.append(from_leaves(x, row) if isinstance(x, CONTAINERS) else row[0])
    return from_leaves(like, blocks) if isinstance(like, CONTAINERS) else blocks[0]


def add_lists(a: Any, b: Any) -> list:
    """The sum of two adjoints of one list: element by element (and tuple by tuple), never concatenated.
    A number meeting a container is ``zero_adjoint`` of a name with no value: it adds as nothing."""
    if type(a) is float and isinstance(b, CONTAINERS):
        return b
    if type(b) is float and isinstance(a, CONTAINERS):
        return a
    if isinstance(a, dict):  # a container's adjoint keeps its type (containers, below)
        return rebuild(a, {k: add_lists(v, b[k]) for k, v in a.items()})
    if not isinstance(a, (list, tuple)):  # a name that may hold a container holds an array
        return a + b
    added = [add_lists(x, y) if isinstance(x, CONTAINERS) else x + y for x, y in zip(a, b)]
    return rebuild(a, added) if isinstance(a, tuple) else added


@twin(add_lists)
def _add_lists(a, b):
    from numba.core import types

    if is_numeric(a) and is_numeric(b):
        return lambda a, b: a + b
    if isinstance(a, types.Float) and isinstance(b, types.List):
        return lambda a, b: b
    if isinstance(b, types.Float) and isinstance(a, types.List):
        return lambda a, b: a
    if isinstance(a, types.List) and isinstance(b, types.List) and is_numeric(a.dtype):
        return lambda a, b: [x + y for x, y in zip(a, b)]
    return None


def zeros_like_list(items: Any) -> list:
    """The zero adjoint of a list: one zero array per element, each shaped like it."""
    return [
        zeros_like_tree(item)
        if isinstance(item, CONTAINERS)
        else np.zeros_like(item, dtype=grad_dtype(item, 1.0))
        for item in items
    ]


def zero_adjoint(x: Any) -> Any:
    """The zero adjoint of a name that may have no value yet (None: first assigned in a loop or
    a branch): 0.0, which adds as nothing; else zeros shaped like its value (a list of them)."""
    if x is None:
        return 0.0
    return zeros_like_tree(x) if isinstance(x, CONTAINERS) else np.zeros_like(x)


@twin(zero_adjoint)
def _zero_adjoint(x):
    from numba.core import types

    if isinstance(x, (types.NoneType, types.Omitted)) or x is None:
        return lambda x: 0.0
    if isinstance(x, types.Optional) and is_number(x.type):  # (a number, or None before a loop)
        return lambda x: 0.0
    if is_array(x):
        return lambda x: np.zeros_like(x)
    if is_number(x):
        zero = gradient_scalar(x)(0)
        return lambda x: zero
    return None
