"""Forward mode: zero and unit tangents, and the pieces of the loops that build gradients,
Jacobians and Hessians from forward-mode passes (columns) or reverse-mode ones (rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import gradient_scalar, is_array, is_number, is_numeric, twin
from .arrays import _is_complex, grad_dtype
from .checks import real_only, refuse
from .containers import _tree_jacobian, zero_leaf, zeros_like_tree
from .trees import CONTAINERS, from_leaves, is_namedtuple, leaves

__all__ = [
    "zero_tangent",
    "unit_vectors",
    "from_columns",
    "columns_of",
    "from_rows",
    "rows_of",
    "ones_tangent",
    "diagonal_of",
]


def zero_tangent(x: Any) -> Any:
    """A zero tangent for ``x``: zeros of its shape in its float type; a list of them for a list."""
    if isinstance(x, dict) or is_namedtuple(x):
        return zeros_like_tree(x)
    if isinstance(x, (list, tuple)):  # a tuple, not the namedtuple of eigh or svd
        items = [zero_tangent(v) for v in x]
        return items if isinstance(x, list) else tuple(items)
    return np.zeros_like(x, dtype=grad_dtype(x, 1.0))


@twin(zero_tangent)
def _zero_tangent(x):
    scalar = gradient_scalar(x) if is_numeric(x) else None
    if is_number(x):
        return lambda x: scalar(0)
    return (lambda x: np.zeros(x.shape, scalar)) if is_array(x) else None


def unit_vectors(x: Any) -> list:
    """One array per element of ``x``, shaped like ``x``: 1 at that element, 0 elsewhere.

    For a scalar ``x``, a numpy scalar: arithmetic on a 0-d array costs ten times more.
    """
    if type(x) is float:
        return [1.0]
    if isinstance(x, CONTAINERS):  # one container per number in it: that number 1, the others 0
        parts = leaves(x)
        zeros = [zero_leaf(leaf) for leaf in parts]
        return [
            from_leaves(x, zeros[:i] + [unit] + zeros[i + 1 :])
            for i, leaf in enumerate(parts)
            for unit in unit_vectors(float(leaf) if type(leaf) is int else leaf)
        ]
    units = []
    for index in np.ndindex(np.shape(x)):
        for step in (1.0, 1j) if _is_complex(x) else (1.0,):  # complex: along u, then along v
            unit = zero_tangent(x)
            unit[index] = step
            units.append(unit if unit.ndim else unit[()])
    return units


def from_columns(columns: list, x: Any, like: Any = 0.0) -> Any:
    """The Jacobian, shaped ``out.shape + x.shape``, from one forward-mode column per element of ``x``.

    ``like`` has the output's shape; it matters only when ``x`` is empty. For a complex
    ``x`` the columns come in pairs, the derivatives along the real and imaginary parts
    ``df/du`` and ``df/dv``: its gradient is ``df/du - i df/dv`` (autograd's convention).
    A container ``x`` or output gives containers, as ``jax.jacobian`` does: the output's
    structure outside, ``x``'s inside, each leaf shaped ``out_leaf.shape + x_leaf.shape``.
    """
    if (
        isinstance(x, CONTAINERS)
        or isinstance(like, CONTAINERS)
        or (columns and isinstance(columns[0], CONTAINERS))
    ):
        return _tree_jacobian(columns, x, like, from_columns, by_input=True)
    if not columns:
        return np.zeros(np.shape(like) + np.shape(x))
    if len(columns) == 1 and type(x) is float:  # the derivative of anything by one number
        return columns[0]
    if like.__class__ is not float and _is_complex(like):
        raise refuse(
            "srcgrad computes Jacobians of real outputs and Hessians of functions of real arguments only, "
            "as autograd: this one is complex",
            "differentiate the real and imaginary parts (np.real, np.imag) separately.",
        )
    if _is_complex(x):
        columns = [u - 1j * v for u, v in zip(columns[0::2], columns[1::2])]
    stacked = np.stack(columns)  # (x.size,) + out.shape
    jacobian = np.reshape(stacked, np.shape(x) + np.shape(stacked)[1:])
    first = list(range(np.ndim(x)))
    return np.moveaxis(jacobian, first, [a - len(first) for a in first])[()]


def columns_of(g: Any, x: Any) -> list:
    """The adjoint of ``from_columns``: ``g`` (``out.shape + x.shape``) split into one column per element of ``x``."""
    real_only(x, "forward-mode gradient code (grad(..., mode='forward'))")
    n = np.ndim(x)
    moved = np.moveaxis(g, list(range(np.ndim(g) - n, np.ndim(g))), list(range(n)))
    return list(np.reshape(moved, (-1,) + np.shape(moved)[n:]))


def from_rows(rows: list, like: Any, x: Any) -> Any:
    """The Jacobian, shaped ``out.shape + x.shape``, from one reverse-mode row per element of the output.

    ``like`` has the output's shape. Containers as in ``from_columns``.
    """
    if isinstance(x, CONTAINERS) or isinstance(like, CONTAINERS):
        return _tree_jacobian(rows, x, like, lambda r, xl, ol: from_rows(r, ol, xl), by_input=False)
    if not rows:
        return np.zeros(np.shape(like) + np.shape(x))
    if _is_complex(like):
        raise refuse(
            "srcgrad computes Jacobians of real outputs only, as autograd: this one is complex",
            "differentiate the real and imaginary parts (np.real, np.imag) separately.",
        )
    return np.reshape(np.stack(rows), np.shape(like) + np.shape(x))[()]


def rows_of(g: Any, x: Any) -> list:
    """The adjoint of ``from_rows``: ``g`` (``out.shape + x.shape``) split into rows shaped like ``x``."""
    return list(np.reshape(g, (-1,) + np.shape(x)))


# -- elementwise_grad in forward mode ----------------------------------------------------------


def ones_tangent(x: Any) -> Any:
    """A tangent of ones shaped like ``x`` (in its float type): the JVP with it is the row sums of
    the Jacobian, its diagonal where the function is elementwise."""
    return np.ones_like(x, dtype=grad_dtype(x, 1.0))


def diagonal_of(t: Any, x: Any) -> Any:
    """``t``, the JVP of an elementwise function with a tangent of ones: the Jacobian's diagonal,
    if the output has ``x``'s shape; an output broadcast beyond it is refused."""
    if np.shape(t) != np.shape(x):
        raise refuse(
            f"elementwise_grad(mode='forward') needs an output shaped like its argument: this one "
            f"is {np.shape(t)}, the argument {np.shape(x)}",
            "use elementwise_grad in reverse mode (the default), which sums over the broadcast axes.",
        )
    return t
