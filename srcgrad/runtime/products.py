"""Products: the adjoints of each operand of dot, matmul, inner, tensordot, kron, multi_dot,
einsum, convolve and correlate, for any dimensions. Each is linear in the adjoint, and its
rule (``srcgrad/rules/runtime.py``) is another product, so generated code that calls them can
be differentiated again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..twins import is_array, is_float64_array, is_number, literal, ndim_of, twin
from .arrays import _NDARRAY, _array_of, _foreign, _inverse, _like, _swap, grad_dtype, size_of
from .broadcasting import unbroadcast
from .checks import real_only, refuse
from .decompositions import numba_njit
from .forward import zero_tangent

__all__ = [
    "dot_vjp_a",
    "dot_vjp_b",
    "matmul_vjp_a",
    "matmul_vjp_b",
    "inner_vjp",
    "inner_vjp_a",
    "inner_vjp_b",
    "tensordot_vjp_a",
    "tensordot_vjp_b",
    "kron_vjp_a",
    "kron_vjp_b",
    "multi_dot_vjp",
    "multi_dot_jvp",
    "chain_subscripts",
    "einsum_vjps",
    "einsum_jvp",
    "einsum_cross",
    "einsum_jvp_cross",
    "convolve_vjp_a",
    "convolve_vjp_v",
    "correlate_vjp_a",
    "correlate_vjp_v",
]


def _ndim(x: Any) -> int:
    """``np.ndim(x)``, without its dispatch overhead for arrays (the products' hot path)."""
    return x.ndim if isinstance(x, np.ndarray) else np.ndim(x)


def _transposed(x: Any) -> Any:
    return x.T if isinstance(x, np.ndarray) else np.transpose(x)


def dot_vjp_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``np.dot(a, b)``, for any dimensions."""
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * b, a) if nb == 0 else np.sum(g * b)
    if nb == 1:  # an outer product; indexing is cheaper than np.multiply.outer
        return g[..., None] * b if g.__class__ is _NDARRAY else np.multiply.outer(g, b)
    if nb == 2:
        return np.dot(g, _transposed(b))
    # g has shape a.shape[:-1] + b.shape[:-2] + b.shape[-1:]
    axes_g = list(range(na - 1, na - 1 + nb - 2)) + [_ndim(g) - 1]
    axes_b = list(range(nb - 2)) + [nb - 1]
    return np.tensordot(g, b, (axes_g, axes_b))


@twin(dot_vjp_a)
def _dot_vjp_a(g, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    if na is None or nb is None:
        return None
    if na == 0 or nb == 0:
        return (lambda g, a, b: (g * b).sum()) if nb != 0 and na == 0 else None
    if nb == 1:
        return (lambda g, a, b: g * b) if na == 1 else (lambda g, a, b: np.outer(g, b)) if na == 2 else None
    if nb == 2 and na <= 2:
        return lambda g, a, b: np.dot(g, b.T)
    return None


def dot_vjp_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``np.dot(a, b)``, for any dimensions."""
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * a, b) if na == 0 else np.sum(g * a)
    if na == 1 and nb == 1:
        return g * a
    if na == 2 and nb <= 2:  # the common matrix case, without tensordot's overhead
        return np.dot(g, a) if nb == 1 else np.dot(_transposed(a), g)
    if na == 1 and nb == 2:  # a row vector times a matrix: an outer product
        return a[:, None] * g if a.__class__ is _NDARRAY else np.outer(a, g)
    lead = list(range(na - 1))
    out = np.tensordot(a, g, (lead, lead))  # shape a.shape[-1:] + b.shape[:-2] + b.shape[-1:]
    if nb == 1:
        return out
    return np.moveaxis(out, 0, -2)


@twin(dot_vjp_b)
def _dot_vjp_b(g, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    if na is None or nb is None:
        return None
    if na == 0 or nb == 0:
        return (lambda g, a, b: (g * a).sum()) if na != 0 and nb == 0 else None
    if na == 1 and nb == 1:
        return lambda g, a, b: g * a
    if na == 2 and nb == 1:
        return lambda g, a, b: np.dot(g, a)
    if na == 2 and nb == 2:
        return lambda g, a, b: np.dot(a.T, g)
    if na == 1 and nb == 2:
        return lambda g, a, b: np.outer(a, g)
    return None


def matmul_vjp_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``a @ b`` (vectors, matrices and stacks of matrices)."""
    if _ndim(b) == 1:
        out = np.expand_dims(g, -1) * b
    elif _ndim(a) == 1:
        out = np.matmul(np.expand_dims(g, -2), _swap(b))[..., 0, :]
    else:
        out = np.matmul(g, _swap(b))
    return unbroadcast(out, a)


@twin(matmul_vjp_a)
def _matmul_vjp_a(g, a, b):
    if ndim_of(a) in (1, 2) and ndim_of(b) in (1, 2):  # (there a @ b is np.dot(a, b))
        return _dot_vjp_a(g, a, b)
    return None


def matmul_vjp_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``a @ b`` (vectors, matrices and stacks of matrices)."""
    if _ndim(a) == 1:
        out = np.expand_dims(a, -1) * np.expand_dims(g, -2) if _ndim(b) > 1 else g * a
    elif _ndim(b) == 1:
        out = np.matmul(_swap(a), np.expand_dims(g, -1))[..., 0]
    else:
        out = np.matmul(_swap(a), g)
    return unbroadcast(out, b)


@twin(matmul_vjp_b)
def _matmul_vjp_b(g, a, b):
    if ndim_of(a) in (1, 2) and ndim_of(b) in (1, 2):
        return _dot_vjp_b(g, a, b)
    return None


def _shaped(t: Any, *ndims: int) -> bool:
    """Is the numba type ``t`` a real array (with one of ``ndims`` dimensions, if given)? The
    operand whose adjoint a product's helper computes is read for its shape only: any real
    dtype will do (the others must be float64 for numba's products)."""
    from numba.core import types

    return (
        is_array(t)
        and isinstance(t.dtype, (types.Integer, types.Float, types.Boolean))
        and (not ndims or t.ndim in ndims)
    )


def inner_vjp(g: Any, a: Any, b: Any, which: int) -> Any:
    """The adjoint of operand ``which`` (0 or 1) of ``np.inner(a, b)``, for any dimensions."""
    x, other = (a, b) if which == 0 else (b, a)
    if np.ndim(a) == 0 or np.ndim(b) == 0:  # inner with a scalar multiplies
        return unbroadcast(g * other, x)
    lead = np.ndim(other) - 1  # the axes of ``other`` that are not summed over
    axes_g = range(np.ndim(g) - lead, np.ndim(g)) if which == 0 else range(lead)
    return np.tensordot(g, other, (list(axes_g), list(range(lead))))


def inner_vjp_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``np.inner(a, b)``."""
    return inner_vjp(g, a, b, 0)


def inner_vjp_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``np.inner(a, b)``."""
    return inner_vjp(g, a, b, 1)


@twin(inner_vjp_a)
def _inner_vjp_a(g, a, b):
    if not (_shaped(a, 1, 2) and is_float64_array(b, 1, 2)):
        return None
    if a.ndim == 1 and b.ndim == 1:
        return (lambda g, a, b: g * b) if is_float64(g) else None
    if not is_float64_array(g, a.ndim + b.ndim - 2):
        return None
    if a.ndim == 1:  # (np.inner(a, b) = b @ a)
        return lambda g, a, b: g @ b
    return (lambda g, a, b: np.outer(g, b)) if b.ndim == 1 else (lambda g, a, b: g @ b)


@twin(inner_vjp_b)
def _inner_vjp_b(g, a, b):
    if not (is_float64_array(a, 1, 2) and _shaped(b, 1, 2)):
        return None
    if a.ndim == 1 and b.ndim == 1:
        return (lambda g, a, b: g * a) if is_float64(g) else None
    if not is_float64_array(g, a.ndim + b.ndim - 2):
        return None
    if a.ndim == 1:
        return lambda g, a, b: np.outer(g, a)
    return (lambda g, a, b: a.T @ g) if b.ndim == 1 else (lambda g, a, b: g.T @ a)


def is_float64(t: Any) -> bool:
    """Is the numba type ``t`` a float64 number's?"""
    from numba.core import types

    return t == types.float64


def _integer_axes(a: Any, b: Any, axes: Any) -> int | None:
    """``tensordot``'s ``axes`` where the call spells an integer that fits ``a`` and ``b`` (numba
    types), else None: what the twins and numba's ``np.tensordot`` below take."""
    n = literal(axes)
    if not (isinstance(n, int) and not isinstance(n, bool) and is_array(a) and is_array(b)):
        return None
    if min(a.ndim, b.ndim) == 0:
        return None
    return n if 0 <= n <= min(a.ndim, b.ndim) else None


def _product(shape: Any, k: int) -> int:
    """The product of the first ``k`` integers in ``shape`` (1 for none), as numba compiles it
    (where a slice of a shape could be an empty tuple, which numba cannot loop over)."""
    out = 1
    for i in range(k):
        out *= shape[i]
    return out


def numpy_linear_algebra() -> None:
    """``np.inner`` of vectors and matrices, ``np.tensordot`` with integer ``axes`` and
    ``np.linalg.multi_dot`` of a list of matrices for numba, which has none of them (so that
    their rules, and their adjoints' twins, compile), ``np.linalg.svd(a, compute_uv=False)``
    and ``np.expand_dims`` of a number with a tuple of axes (``np.linalg.det``'s rule), where
    numba's take no ``compute_uv`` and one axis."""
    from numba.core import types
    from numba.extending import overload

    def same_dtype(a, b):  # (numba's np.dot: one float or complex dtype)
        return (
            is_array(a)
            and is_array(b)
            and a.dtype == b.dtype
            and isinstance(a.dtype, (types.Float, types.Complex))
        )

    @overload(np.expand_dims)
    def _expand_dims(a, axis):
        axes = literal(axis)
        if not (is_number(a) and isinstance(axes, tuple) and all(isinstance(i, int) for i in axes)):
            return None
        if len(set(i % len(axes) for i in axes)) != len(axes) or not all(
            -len(axes) <= i < len(axes) for i in axes
        ):
            return None  # (numpy raises)
        shape = (1,) * len(axes)
        return lambda a, axis: np.full(shape, a)

    @overload(np.linalg.svd)
    def _singular_values(a, full_matrices=True, compute_uv=True, hermitian=False):
        if literal(compute_uv) is not False or literal(hermitian) is not False or not is_float64_array(a, 2):
            return None  # (numba's own takes no compute_uv)
        return lambda a, full_matrices=True, compute_uv=True, hermitian=False: np.linalg.svd(a, False)[1]

    @overload(np.inner)
    def _inner(a, b):
        if not (same_dtype(a, b) and a.ndim in (1, 2) and b.ndim in (1, 2)):
            return None
        if a.ndim == 1:
            return lambda a, b: np.dot(b, a)
        return (lambda a, b: np.dot(a, b)) if b.ndim == 1 else (lambda a, b: np.dot(a, b.T))

    @overload(np.linalg.multi_dot)
    def _multi_dot(arrays):  # (a list of float64 matrices, multiplied from the left)
        if not _matrices(arrays):
            return None
        chain = numba_njit(_chain_product)

        def impl(arrays):
            if len(arrays) < 2:
                raise ValueError("Expecting at least two arrays.")
            return chain(arrays, 0, len(arrays))

        return impl

    @overload(np.tensordot)
    def _tensordot(a, b, axes=2):
        n = _integer_axes(a, b, axes)
        if n is None or not same_dtype(a, b):
            return None
        free, product = a.ndim - n, numba_njit(_product)
        number = a.ndim == b.ndim == n

        def impl(a, b, axes=2):  # (free a, contracted) times (contracted, free b)
            for i in range(n):
                if a.shape[free + i] != b.shape[i]:
                    raise ValueError("shape-mismatch for sum")
            a2 = np.ascontiguousarray(a).reshape((product(a.shape, free), -1))
            out = a2 @ np.ascontiguousarray(b).reshape((a2.shape[1], -1))
            return out[0, 0] if number else out.reshape(a.shape[:free] + b.shape[n:])

        return impl


def _tensordot_axes(a: Any, b: Any, axes: Any) -> tuple[list[int], list[int]]:
    if np.ndim(axes) == 0:
        n = int(axes)
        return list(range(np.ndim(a) - n, np.ndim(a))), list(range(n))
    xa, xb = axes
    xa = [xa] if np.ndim(xa) == 0 else list(xa)
    xb = [xb] if np.ndim(xb) == 0 else list(xb)
    return [i % np.ndim(a) for i in xa], [i % np.ndim(b) for i in xb]


def tensordot_vjp_a(g: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """The adjoint of ``a`` in ``np.tensordot(a, b, axes)``."""
    xa, xb = _tensordot_axes(a, b, axes)
    free_b = [i for i in range(np.ndim(b)) if i not in xb]
    n_free_a = np.ndim(a) - len(xa)
    out = np.tensordot(g, b, (list(range(n_free_a, np.ndim(g))), free_b))
    # out: the free axes of a, then the contracted axes of b in b's order
    order = sorted(range(len(xb)), key=lambda k: xb[k])
    free_a = [i for i in range(np.ndim(a)) if i not in xa]
    source = free_a + [xa[k] for k in order]
    return np.transpose(out, _inverse(source)) if source else out


def tensordot_vjp_b(g: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """The adjoint of ``b`` in ``np.tensordot(a, b, axes)``."""
    xa, xb = _tensordot_axes(a, b, axes)
    free_a = [i for i in range(np.ndim(a)) if i not in xa]
    out = np.tensordot(a, g, (free_a, list(range(len(free_a)))))
    # out: the contracted axes of a in a's order, then the free axes of b
    order = sorted(range(len(xa)), key=lambda k: xa[k])
    free_b = [i for i in range(np.ndim(b)) if i not in xb]
    source = [xb[k] for k in order] + free_b
    return np.transpose(out, _inverse(source)) if source else out


@twin(tensordot_vjp_a)
def _tensordot_vjp_a(g, a, b, axes=2):
    n = _integer_axes(a, b, axes)
    if n is None or not (_shaped(a) and is_float64_array(b)):
        return None
    if a.ndim == b.ndim == n:  # a number
        return (lambda g, a, b, axes=2: g * b) if is_float64(g) else None
    if not is_float64_array(g, a.ndim + b.ndim - 2 * n):
        return None

    product = numba_njit(_product)

    def impl(g, a, b, axes=2):  # g (free a, free b) times b (contracted, free b) transposed
        b2 = np.ascontiguousarray(b).reshape((product(b.shape, n), -1))
        g2 = np.ascontiguousarray(g).reshape((-1, b2.shape[1]))
        return (g2 @ b2.T).reshape(a.shape)

    return impl


@twin(tensordot_vjp_b)
def _tensordot_vjp_b(g, a, b, axes=2):
    n = _integer_axes(a, b, axes)
    if n is None or not (is_float64_array(a) and _shaped(b)):
        return None
    if a.ndim == b.ndim == n:
        return (lambda g, a, b, axes=2: g * a) if is_float64(g) else None
    if not is_float64_array(g, a.ndim + b.ndim - 2 * n):
        return None
    free, product = a.ndim - n, numba_njit(_product)

    def impl(g, a, b, axes=2):  # a (free a, contracted) transposed times g (free a, free b)
        a2 = np.ascontiguousarray(a).reshape((product(a.shape, free), -1))
        g2 = np.ascontiguousarray(g).reshape((a2.shape[0], -1))
        return (a2.T @ g2).reshape(b.shape)

    return impl


def _kron_layout(g: Any, a: Any, b: Any) -> tuple:
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [n for pair in zip(sa, sb) for n in pair])  # (a0, b0, a1, b1, ...)
    return blocks, nd, sa, sb


def kron_vjp_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``np.kron(a, b)``: each block of ``g`` dotted with ``b``."""
    blocks, nd, sa, sb = _kron_layout(g, a, b)
    out = np.tensordot(blocks, np.reshape(b, sb), (list(range(1, 2 * nd, 2)), list(range(nd))))
    return np.reshape(out, np.shape(a))


def kron_vjp_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``np.kron(a, b)``: the blocks of ``g`` weighted by ``a`` and summed."""
    blocks, nd, sa, sb = _kron_layout(g, a, b)
    out = np.tensordot(np.reshape(a, sa), blocks, (list(range(nd)), list(range(0, 2 * nd, 2))))
    return np.reshape(out, np.shape(b))


def _kron_twin(g: Any, a: Any, b: Any, wrt_a: bool) -> Any:
    """The twin of ``kron_vjp_a`` (``wrt_a``) or ``kron_vjp_b``, for vectors and matrices (those
    numba's np.kron takes): ``g`` cut into blocks of ``b``'s shape, one per entry of ``a``."""
    if not (_shaped(a, 1, 2) and _shaped(b, 1, 2)) or not is_float64_array(b if wrt_a else a):
        return None
    if not is_float64_array(g, max(a.ndim, b.ndim)):
        return None

    row = numba_njit(lambda x: np.ascontiguousarray(x).reshape((1, x.shape[0])))
    same = numba_njit(lambda x: np.ascontiguousarray(x))
    matrix_a, matrix_b = (row if x.ndim == 1 else same for x in (a, b))

    def blocks(g, a, b):
        a2, b2 = matrix_a(a), matrix_b(b)
        (pa, qa), (pb, qb) = a2.shape, b2.shape
        return a2, b2, np.ascontiguousarray(g).reshape((pa * pb, qa * qb))

    blocks = numba_njit(blocks)
    if wrt_a:

        def impl_a(g, a, b):  # each block of g dotted with b
            a2, b2, g2 = blocks(g, a, b)
            (pa, qa), (pb, qb) = a2.shape, b2.shape
            out = np.zeros((pa, qa))
            for i in range(pa):
                for j in range(qa):
                    out[i, j] = np.sum(g2[i * pb : (i + 1) * pb, j * qb : (j + 1) * qb] * b2)
            return out.reshape(a.shape)

        return impl_a

    def impl_b(g, a, b):  # the blocks of g weighted by a and summed
        a2, b2, g2 = blocks(g, a, b)
        (pa, qa), (pb, qb) = a2.shape, b2.shape
        out = np.zeros((pb, qb))
        for i in range(pa):
            for j in range(qa):
                out += a2[i, j] * g2[i * pb : (i + 1) * pb, j * qb : (j + 1) * qb]
        return out.reshape(b.shape)

    return impl_b


@twin(kron_vjp_a)
def _kron_vjp_a(g, a, b):
    return _kron_twin(g, a, b, True)


@twin(kron_vjp_b)
def _kron_vjp_b(g, a, b):
    return _kron_twin(g, a, b, False)


def _chain(arrays: Any) -> list:
    """The operands of ``multi_dot`` as matrices: a 1-d first one is a row, a 1-d last one a column."""
    mats = list(arrays)
    if np.ndim(mats[0]) == 1:
        mats[0] = np.reshape(mats[0], (1, -1))
    if np.ndim(mats[-1]) == 1:
        mats[-1] = np.reshape(mats[-1], (-1, 1))
    return mats


def multi_dot_vjp(g: Any, arrays: Any) -> list:
    """The adjoint of ``np.linalg.multi_dot(arrays)``: for the i-th factor, the product of the
    factors before it, transposed, times ``g`` times the product of those after it, transposed."""
    mats = _chain(arrays)
    g = np.reshape(g, (np.shape(mats[0])[0], np.shape(mats[-1])[1]))
    out = []
    for i, x in enumerate(arrays):
        part = g if i == 0 else np.matmul(_swap(np.linalg.multi_dot(mats[:i]) if i > 1 else mats[0]), g)
        after = mats[i + 1 :]
        if after:
            part = np.matmul(part, _swap(np.linalg.multi_dot(after) if len(after) > 1 else after[0]))
        out.append(np.reshape(part, np.shape(x)))
    return out


def multi_dot_jvp(t: Any, arrays: Any) -> Any:
    """The tangent of ``np.linalg.multi_dot(arrays)``: multilinear, so the sum over the factors
    of the product with that factor replaced by its tangent."""
    arrays = list(arrays)
    return sum(np.linalg.multi_dot(arrays[:i] + [t[i]] + arrays[i + 1 :]) for i in range(len(arrays)))


def _matrices(arrays: Any) -> bool:
    """Is the numba type ``arrays`` a list of float64 matrices (what multi_dot's twins take)?"""
    from numba.core import types

    return isinstance(arrays, types.List) and is_float64_array(arrays.dtype, 2)


def _chain_product(arrays: Any, start: int, stop: int) -> Any:
    """``arrays[start] @ ... @ arrays[stop - 1]`` (at least one), as numba compiles it."""
    out = np.ascontiguousarray(arrays[start])
    for k in range(start + 1, stop):
        out = out @ arrays[k]
    return out


@twin(multi_dot_vjp)
def _multi_dot_vjp(g, arrays):
    if not (_matrices(arrays) and is_float64_array(g, 2)):
        return None
    chain = numba_njit(_chain_product)

    def impl(g, arrays):  # the factors before, transposed, times g times those after, transposed
        n = len(arrays)
        out = []
        for i in range(n):
            part = np.ascontiguousarray(g)
            if i > 0:
                part = chain(arrays, 0, i).T @ part
            if i < n - 1:
                part = part @ chain(arrays, i + 1, n).T
            out.append(part)
        return out

    return impl


@twin(multi_dot_jvp)
def _multi_dot_jvp(t, arrays):
    from numba.core import types

    if not (_matrices(arrays) and isinstance(t, types.List) and is_float64_array(t.dtype, 2)):
        return None
    chain = numba_njit(_chain_product)

    def impl(t, arrays):  # the sum over the factors of the chain with that factor's tangent
        n = len(arrays)
        out = np.zeros((arrays[0].shape[0], arrays[n - 1].shape[1]))
        for i in range(n):
            part = np.ascontiguousarray(t[i])
            if i > 0:
                part = chain(arrays, 0, i) @ part
            if i < n - 1:
                part = part @ chain(arrays, i + 1, n)
            out += part
        return out

    return impl


def chain_subscripts(arrays: Any) -> str:
    """``np.linalg.multi_dot(arrays)`` as einsum subscripts (``'ab,bc,cd->ad'``; a 1-d first or
    last operand drops its outer label), so that multi_dot's helpers can be differentiated
    again with einsum's."""
    labels = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(arrays) + 1]
    specs = [labels[i : i + 2] for i in range(len(arrays))]
    first, last = np.ndim(arrays[0]) == 1, np.ndim(arrays[-1]) == 1
    specs[0] = specs[0][first:]  # multi_dot takes two arrays or more
    specs[-1] = specs[-1][: 2 - last]
    return ",".join(specs) + "->" + labels[0] * (not first) + labels[-1] * (not last)


# np.einsum with any subscripts: each operand's adjoint is another einsum, of the output's
# adjoint with the other operands, into that operand's labels (then copied along the labels
# summed in that operand alone, summed over those it broadcast, put on the diagonal of
# repeated ones). '...' is spelled out with unused letters first.


def _einsum_specs(subscripts: Any, operands: Any) -> tuple[list[str], str]:
    """The labels of each operand and of the output, with '...' spelled out and the output explicit."""
    if not isinstance(subscripts, str):
        raise refuse(
            "srcgrad differentiates np.einsum with subscripts in a string only",
            "write the subscripts as a string, e.g. np.einsum('ij,j->i', a, b).",
            "einsum",
        )
    spec = subscripts.replace(" ", "")
    inputs, arrow, out = spec.partition("->")
    specs = inputs.split(",")
    free = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec]
    width = max((np.ndim(x) - len(s) + 3 for s, x in zip(specs, operands) if "..." in s), default=0)
    dots = "".join(free[:width])
    filled = [
        s.replace("...", dots[width - (np.ndim(x) - len(s) + 3) :]) if "..." in s else s
        for s, x in zip(specs, operands)
    ]
    if arrow:
        return filled, out.replace("...", dots)
    labels = inputs.replace(".", "").replace(",", "")
    return filled, dots + "".join(sorted(c for c in set(labels) if labels.count(c) == 1))


def _einsum_vjp(g: Any, specs: list[str], out: str, operands: Any, i: int) -> Any:
    """The adjoint of operand ``i`` of the einsum ``specs -> out``."""
    mine, x = specs[i], operands[i]
    others = [s for j, s in enumerate(specs) if j != i]
    unique = "".join(dict.fromkeys(mine))
    known = set(out).union(*others)
    kept = "".join(c for c in unique if c in known)
    rest = [y for j, y in enumerate(operands) if j != i]
    part = np.einsum(",".join([out, *others]) + "->" + kept, g, *rest, optimize=len(rest) > 1)
    sizes = dict(zip(mine, np.shape(x)))
    summed = tuple(k for k, c in enumerate(kept) if np.shape(part)[k] != sizes[c])
    if summed:  # x broadcast along these (size 1 against n)
        part = np.sum(part, axis=summed, keepdims=True)
    if kept != unique:  # labels summed in x alone: the adjoint is the same all along them
        part = np.expand_dims(part, tuple(k for k, c in enumerate(unique) if c not in known))
        part = np.broadcast_to(part, tuple(sizes[c] for c in unique))
    dtype = grad_dtype(x, g)
    if unique == mine:
        if _foreign(part) or _foreign(x):  # (in x's library even where g and the others are numpy)
            return np.asarray(part, like=_array_of(part, x)).astype(dtype)
        return np.array(part, dtype=dtype)  # a copy: never a read-only broadcast view
    if _foreign(part):
        raise refuse(
            f"srcgrad differentiates einsum with a repeated label ({mine}) on numpy arrays only, not on "
            f"{type(part).__module__}.{type(part).__name__}",
            "take the diagonal first (np.diagonal), then einsum without the repeated label.",
            "einsum",
        )
    out_ = np.zeros(np.shape(x), dtype=dtype)  # repeated labels: only the diagonal moves the output
    view = np.einsum(f"{mine}->{unique}", out_)
    if not np.shares_memory(view, out_):
        raise refuse(
            "srcgrad cannot differentiate this einsum with repeated labels",
            "take the diagonal first (np.diagonal), then einsum without the repeated label.",
            "einsum",
        )
    view[...] = part
    return _like(out_, x)


def einsum_vjps(g: Any, subscripts: str, operands: Any) -> list:
    """The adjoints of all operands of ``np.einsum(subscripts, *operands)``."""
    specs, out = _einsum_specs(subscripts, operands)
    return [_einsum_vjp(g, specs, out, operands, i) for i in range(len(operands))]


def einsum_jvp(t: Any, subscripts: str, operands: Any) -> Any:
    """The tangent of ``np.einsum(subscripts, *operands)``, multilinear: the sum over the operands
    of the einsum with that operand replaced by its tangent ``t[i]``."""
    ops, many = list(operands), len(operands) > 2
    return sum(np.einsum(subscripts, *ops[:i], t[i], *ops[i + 1 :], optimize=many) for i in range(len(ops)))


def einsum_cross(g: Any, subscripts: str, operands: Any, other: Any) -> list:
    """The derivative of ``einsum_vjps(g, subscripts, operands)`` with respect to the operands,
    along ``other`` (a tangent, or an adjoint: the map is its own transpose). Operand ``k``'s
    adjoint is linear in every other operand and does not depend on its own value, so it gets
    ``sum over j != k of einsum_vjps(g, subscripts, operands with j replaced by other[j])[k]``."""
    ops = list(operands)
    out = [zero_tangent(x) for x in ops]
    for j in range(len(ops)):
        parts = einsum_vjps(g, subscripts, ops[:j] + [other[j]] + ops[j + 1 :])
        out = [o if k == j else o + p for k, (o, p) in enumerate(zip(out, parts))]
    return out


def einsum_jvp_cross(u: Any, t: Any, subscripts: str, operands: Any) -> Any:
    """The derivative of ``einsum_jvp(u, subscripts, operands)`` with respect to the operands
    along ``t``: the einsums with two different operands replaced, one by ``u``, one by ``t``."""
    ops = list(operands)
    return sum(
        einsum_jvp(u, subscripts, ops[:j] + [t[j]] + ops[j + 1 :])
        - np.einsum(subscripts, *ops[:j], u[j], *ops[j + 1 :])
        for j in range(len(ops))
    )


def _conv_offset(n: int, m: int, mode: str, correlate: bool) -> int:
    """Where the output of ``np.convolve(a, v, mode)`` (``np.correlate``) starts in the full one."""
    if mode == "full":
        return 0
    if mode == "valid":
        return min(n, m) - 1
    if mode == "same":
        k = min(n, m) - 1
        return k - k // 2 if correlate and n < m else k // 2
    raise ValueError(f"mode must be 'full', 'same' or 'valid', not {mode!r}")


def _conv_vjp(g: Any, a: Any, v: Any, mode: str, correlate: bool, wrt_a: bool) -> Any:
    """The adjoint of ``a`` (``wrt_a``) or ``v`` in ``np.convolve(a, v, mode)`` (``np.correlate``):
    ``g`` put back into the full output, correlated with the other operand."""
    a1, v1 = np.ravel(a), np.ravel(v)  # numpy takes a scalar as a 1-d array
    n, m = size_of(a1), size_of(v1)
    full = np.zeros(n + m - 1, dtype=grad_dtype(a, grad_dtype(v, g)))
    offset = _conv_offset(n, m, mode, correlate)
    full[offset : offset + size_of(g)] = g
    kernel = np.flip(v1) if correlate else v1  # correlate(a, v) is the convolution with v reversed
    if wrt_a:
        return np.reshape(np.correlate(full, kernel, "valid"), np.shape(a))
    d_kernel = np.correlate(full, a1, "valid")
    return np.reshape(np.flip(d_kernel) if correlate else d_kernel, np.shape(v))


def _conv_twin(g: Any, a: Any, v: Any, mode: Any, correlate: bool, wrt_a: bool) -> Any:
    """The twin of ``_conv_vjp``, for real vectors and a mode spelled in the call."""
    mode = literal(mode)
    if mode is None:  # (omitted: the helper's default)
        mode = "valid" if correlate else "full"
    if mode not in ("full", "same", "valid"):
        return None
    if not (
        is_float64_array(g, 1) and _shaped(a, 1) and _shaped(v, 1) and is_float64_array(v if wrt_a else a)
    ):
        return None

    if mode == "full":  # (``_conv_offset``)
        offset_of = numba_njit(lambda n, m: 0)
    elif mode == "valid":
        offset_of = numba_njit(lambda n, m: min(n, m) - 1)
    elif correlate:
        offset_of = numba_njit(
            lambda n, m: (min(n, m) - 1) - (min(n, m) - 1) // 2 if n < m else (min(n, m) - 1) // 2
        )
    else:
        offset_of = numba_njit(lambda n, m: (min(n, m) - 1) // 2)
    default = "valid" if correlate else "full"

    def impl(g, a, v, mode=default):
        n, m = a.shape[0], v.shape[0]
        full = np.zeros(n + m - 1)
        offset = offset_of(n, m)
        full[offset : offset + g.shape[0]] = g
        if wrt_a:  # (correlate(a, v) is the convolution with v reversed)
            return np.correlate(full, np.ascontiguousarray(v[::-1]) if correlate else v, "valid")
        d_kernel = np.correlate(full, a, "valid")
        return np.ascontiguousarray(d_kernel[::-1]) if correlate else d_kernel

    return impl


def convolve_vjp_a(g: Any, a: Any, v: Any, mode: str = "full") -> Any:
    """The adjoint of ``a`` in ``np.convolve(a, v, mode)``."""
    return _conv_vjp(g, a, v, mode, False, True)


@twin(convolve_vjp_a)
def _convolve_vjp_a(g, a, v, mode="full"):
    return _conv_twin(g, a, v, mode, False, True)


def convolve_vjp_v(g: Any, a: Any, v: Any, mode: str = "full") -> Any:
    """The adjoint of ``v`` in ``np.convolve(a, v, mode)``."""
    return _conv_vjp(g, a, v, mode, False, False)


@twin(convolve_vjp_v)
def _convolve_vjp_v(g, a, v, mode="full"):
    return _conv_twin(g, a, v, mode, False, False)


def correlate_vjp_a(g: Any, a: Any, v: Any, mode: str = "valid") -> Any:
    """The adjoint of ``a`` in ``np.correlate(a, v, mode)`` (real arrays)."""
    real_only(v, "np.correlate")
    return _conv_vjp(g, a, v, mode, True, True)


@twin(correlate_vjp_a)
def _correlate_vjp_a(g, a, v, mode="valid"):
    return _conv_twin(g, a, v, mode, True, True)


def correlate_vjp_v(g: Any, a: Any, v: Any, mode: str = "valid") -> Any:
    """The adjoint of ``v`` in ``np.correlate(a, v, mode)`` (real arrays)."""
    real_only(v, "np.correlate")
    return _conv_vjp(g, a, v, mode, True, False)


@twin(correlate_vjp_v)
def _correlate_vjp_v(g, a, v, mode="valid"):
    return _conv_twin(g, a, v, mode, True, False)
