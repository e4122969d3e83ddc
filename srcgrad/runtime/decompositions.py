"""Decompositions: cholesky, eigh and eigvalsh, svd, qr, eig and eigvals. Their outputs are
tuples (``sequence=`` rules): ``g`` is a list with one adjoint per output (zeros for those not
used), and the tangent is a tuple. Formulas: M. Giles, "An extended collection of matrix
derivative results for forward and reverse mode AD" (2008); J. Townsend, "Differentiating the
singular value decomposition" (2016); S. Walter and A. Lehmann, "Algorithmic differentiation of
linear algebra functions" (2018) for QR.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..twins import is_float64_array, literal, raising, twin
from .arrays import _foreign, _is_complex, _swap
from .checks import real_only, refuse

__all__ = [
    "cholesky_vjp",
    "cholesky_jvp",
    "eigh_vjp",
    "eigh_jvp",
    "svd_vjp",
    "svd_jvp",
    "qr_vjp",
    "qr_jvp",
    "eigvalsh_vjp",
    "eigvalsh_jvp",
    "eig_jvp",
    "eig_vjp",
    "eigvals_vjp",
    "eigvals_jvp",
]


def _used(g: Any) -> bool:
    """Can the adjoint ``g`` of a decomposition's output be nonzero? Read for numpy arrays only:
    another library's (dask) would be computed to answer, so it counts as used."""
    return g is not None and (_foreign(g) or bool(np.any(g)))


def _gaps(w: Any) -> Any:
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal and 0 on it: how eigenvectors (or
    singular vectors, with ``w`` the squared singular values) turn into each other. The
    values must be distinct; equal ones give infinities, never a finite wrong number."""
    eye = np.eye(np.shape(w)[-1], dtype=bool)
    diff = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))


def _vector_gaps(w: Any) -> Any:
    """``_gaps(w)`` of a vector ``w``, as numba compiles it."""
    n = w.shape[0]
    w = np.ascontiguousarray(w)
    eye = np.eye(n) == 1.0
    diff = w.reshape((1, n)) - w.reshape((n, 1))
    return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))


@functools.cache
def gaps_kernel() -> Any:
    """``_gaps`` of a vector, compiled by numba (for the twins)."""
    return numba_njit(_vector_gaps)


def _pair_of(g: Any, *ndims: int) -> bool:
    """Is the numba type ``g`` a tuple of float64 arrays of dimensions ``ndims`` (the adjoints
    or the outputs of a decomposition)?"""
    from numba.core import types

    return (
        isinstance(g, types.BaseTuple)
        and len(g) == len(ndims)
        and all(is_float64_array(t, n) for t, n in zip(g, ndims))
    )


def _triangle(n: int, uplo: str) -> Any:
    """The strict triangle that ``eigh(a, UPLO)`` reads, as a 0/1 matrix."""
    if uplo not in ("L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', not {uplo!r}")
    ones = np.ones((n, n))
    return np.tril(ones, -1) if uplo == "L" else np.triu(ones, 1)


def cholesky_vjp(g: Any, L: Any) -> Any:
    """The adjoint of ``L = np.linalg.cholesky(a)`` (symmetric, as ``a`` is): with
    ``phi`` the lower triangle with its diagonal halved, ``sym(L^-T phi(L^T g) L^-1)``."""
    real_only(L, "np.linalg.cholesky")
    n = np.shape(L)[-1]
    phi = np.tril(np.matmul(np.swapaxes(L, -1, -2), g)) / (1.0 + np.eye(n))
    lt = np.swapaxes(L, -1, -2)
    s = np.linalg.solve(lt, np.swapaxes(np.linalg.solve(lt, np.swapaxes(phi, -1, -2)), -1, -2))
    return 0.5 * (s + np.swapaxes(s, -1, -2))


@twin(cholesky_vjp)
def _cholesky_vjp(g, L):
    if not (is_float64_array(g, 2) and is_float64_array(L, 2)):
        return None

    def impl(g, L):
        n = L.shape[-1]
        phi = np.tril(L.T @ g) / (1.0 + np.eye(n))
        s = np.linalg.solve(L.T, np.linalg.solve(L.T, phi.T).T)
        return 0.5 * (s + s.T)

    return impl


def cholesky_jvp(t: Any, L: Any) -> Any:
    """The tangent of ``L = np.linalg.cholesky(a)``: ``L phi(L^-1 t L^-T)`` (``t`` symmetric)."""
    real_only(L, "np.linalg.cholesky")
    n = np.shape(L)[-1]
    x = np.linalg.solve(L, np.swapaxes(np.linalg.solve(L, np.swapaxes(t, -1, -2)), -1, -2))
    return np.matmul(L, np.tril(x) / (1.0 + np.eye(n)))


@twin(cholesky_jvp)
def _cholesky_jvp(t, L):
    if not (is_float64_array(t, 2) and is_float64_array(L, 2)):
        return None

    def impl(t, L):
        x = np.linalg.solve(L, np.linalg.solve(L, t.T).T)
        return L @ (np.tril(x) / (1.0 + np.eye(L.shape[-1])))

    return impl


def _triangle_twin(uplo: Any) -> Any:
    """``_triangle`` for the twins, the triangle chosen when typing (None: not a literal 'L' or 'U')."""
    import numba

    uplo = literal(uplo)
    if uplo not in ("L", "U"):
        return None
    if uplo == "L":
        return numba.njit(lambda n: np.tril(np.ones((n, n)), -1))
    return numba.njit(lambda n: np.triu(np.ones((n, n)), 1))


def eigh_vjp(g: Any, ans: Any, uplo: str = "L") -> Any:
    """The adjoint of ``(w, v) = np.linalg.eigh(a)``, for distinct eigenvalues.

    With ``P = v^T da v``: ``dw = diag(P)`` and ``dv = v (F * P)`` (``F`` from ``_gaps``), so
    the adjoint of the symmetric matrix is ``v (diag(gw) + F * (v^T gv)) v^T``. eigh reads one
    triangle only: an entry off the diagonal there stands for itself and its mirror image,
    the other triangle gets zero (autograd's convention; it is the true derivative of eigh).
    Without an eigenvector adjoint the eigenvalues need no gaps (no infinities at ties).
    """
    real_only(ans[1], "np.linalg.eigh")
    w, v = ans
    gw, gv = g
    vt = _swap(v)
    inner = np.expand_dims(gw, -2) * np.eye(np.shape(w)[-1])
    if _used(gv):
        inner = inner + _gaps(w) * np.matmul(vt, gv)
    full = np.matmul(v, np.matmul(inner, vt))
    n = np.shape(w)[-1]
    return full * np.eye(n) + (full + _swap(full)) * _triangle(n, uplo)


@twin(eigh_vjp)
def _eigh_vjp(g, ans, uplo="L"):
    triangle = _triangle_twin(uplo)
    if triangle is None or not (_pair_of(g, 1, 2) and _pair_of(ans, 1, 2)):
        return None
    gaps = gaps_kernel()

    def impl(g, ans, uplo="L"):
        w, v = ans
        gw, gv = g
        n = w.shape[-1]
        inner = np.diag(gw)
        if np.any(gv):
            inner = inner + gaps(w) * (v.T @ gv)
        full = v @ (inner @ v.T)
        return full * np.eye(n) + (full + full.T) * triangle(n)

    return impl


def eigh_jvp(t: Any, ans: Any, uplo: str = "L") -> tuple:
    """The tangent of ``(w, v) = np.linalg.eigh(a)``: ``(diag(P), v (F * P))`` with
    ``P = v^T s v``, where ``s`` is the symmetric tangent eigh sees (one triangle mirrored)."""
    real_only(ans[1], "np.linalg.eigh")
    w, v = ans
    n = np.shape(w)[-1]
    tri = _triangle(n, uplo)
    s = t * np.eye(n) + t * tri + _swap(t * tri)
    p = np.matmul(_swap(v), np.matmul(s, v))
    return (np.diagonal(p, axis1=-2, axis2=-1), np.matmul(v, _gaps(w) * p))


@twin(eigh_jvp)
def _eigh_jvp(t, ans, uplo="L"):
    triangle = _triangle_twin(uplo)
    if triangle is None or not (is_float64_array(t, 2) and _pair_of(ans, 1, 2)):
        return None
    gaps = gaps_kernel()

    def impl(t, ans, uplo="L"):
        w, v = ans
        n = w.shape[-1]
        tri = triangle(n)
        s = t * np.eye(n) + t * tri + (t * tri).T
        p = v.T @ (s @ v)
        return (np.diag(p), v @ (gaps(w) * p))

    return impl


def _svd_parts(ans: Any, a: Any, full_matrices: bool, compute_uv: bool, hermitian: bool) -> tuple:
    """``(u, s, vh)`` of the reduced SVD of ``a``, refusing what has no unique derivative."""
    m, n = np.shape(a)[-2:]
    if hermitian:
        raise refuse(
            "srcgrad does not differentiate np.linalg.svd(..., hermitian=True)",
            "call np.linalg.svd without hermitian=True, or np.linalg.eigh for a symmetric matrix.",
            "svd",
        )
    if compute_uv and full_matrices and m != n:
        raise refuse(
            "srcgrad differentiates np.linalg.svd of a non-square matrix with full_matrices=False "
            "only: the extra columns of the full U or V have no unique derivative",
            "pass full_matrices=False.",
            "svd",
        )
    if compute_uv:
        return ans
    return np.linalg.svd(a, full_matrices=False)


def svd_vjp(
    g: Any, ans: Any, a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """The adjoint of ``np.linalg.svd(a)`` (``u s vh``), for distinct nonzero singular values:

    ``u (diag(gs) + (J + J^T) s + s (K + K^T)) vh + (I - u u^T) gu s^-1 vh + u s^-1 gvh (I - v vh)``
    with ``J = F * (u^T gu)``, ``K = F * (vh gvh^T)`` and ``F`` the gaps of ``s**2`` (Townsend).
    """
    u, s, vh = _svd_parts(ans, a, full_matrices, compute_uv, hermitian)
    gu, gs, gvh = None, g, None
    if compute_uv:
        gu, gs, gvh = g
    if _is_complex(a):  # the singular values only: d s_i = Re(u_i^H da v_i)
        if _used(gu) or _used(gvh):
            real_only(a, "np.linalg.svd (its singular vectors)")
        return np.conj(np.matmul(u * np.expand_dims(np.real(gs), -2), vh))
    rows, cols = np.expand_dims(s, -1), np.expand_dims(s, -2)  # s times a matrix: by row, by column
    core = np.expand_dims(gs, -2) * np.eye(np.shape(s)[-1])
    if _used(gu):
        j = _gaps(s**2) * np.matmul(_swap(u), gu)
        core = core + (j + _swap(j)) * cols
    if _used(gvh):
        k = _gaps(s**2) * np.matmul(vh, _swap(gvh))
        core = core + rows * (k + _swap(k))
    out = np.matmul(u, np.matmul(core, vh))
    m, n = np.shape(a)[-2:]
    if gu is not None and m > np.shape(s)[-1]:
        out = out + np.matmul(gu - np.matmul(u, np.matmul(_swap(u), gu)), vh / rows)
    if gvh is not None and n > np.shape(s)[-1]:
        out = out + np.matmul(u / cols, gvh - np.matmul(np.matmul(gvh, _swap(vh)), vh))
    return out


_FULL_SVD = (
    "srcgrad differentiates np.linalg.svd of a non-square matrix with full_matrices=False "
    "only: the extra columns of the full U or V have no unique derivative",
    "pass full_matrices=False.",
    "svd",
)


@twin(svd_vjp)
def _svd_vjp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    full, uv, herm = (literal(x) for x in (full_matrices, compute_uv, hermitian))
    if herm is not False or not isinstance(full, bool) or not isinstance(uv, bool):
        return None  # (hermitian=True: the helper refuses; a flag known at run time only)
    if not is_float64_array(a, 2):
        return None
    gaps = gaps_kernel()
    fail = raising(refuse(*_FULL_SVD))

    def core(u, s, vh, gu, gs, gvh, m, n, vectors):  # (svd_vjp's formula, for matrices)
        k = s.shape[0]
        rows, cols = np.ascontiguousarray(s).reshape((k, 1)), np.ascontiguousarray(s).reshape((1, k))
        inner = np.diag(gs)
        if np.any(gu):
            j = gaps(s**2) * (u.T @ gu)
            inner = inner + (j + j.T) * cols
        if np.any(gvh):
            kk = gaps(s**2) * (vh @ gvh.T)
            inner = inner + rows * (kk + kk.T)
        out = u @ (inner @ vh)
        if vectors and m > k:
            out = out + (gu - u @ (u.T @ gu)) @ (vh / rows)
        if vectors and n > k:
            out = out + (u / cols) @ (gvh - (gvh @ vh.T) @ vh)
        return out

    if not uv:
        if not is_float64_array(g, 1):
            return None
        core_ = numba_njit(core)

        def values_only(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            zero = np.zeros((0, 0))
            return core_(u, s, vh, zero, g, zero, u.shape[0], vh.shape[1], False)

        return values_only
    if not (_pair_of(g, 2, 1, 2) and _pair_of(ans, 2, 1, 2)):
        return None
    core_ = numba_njit(core)

    def impl(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
        m, n = a.shape
        if full_matrices and m != n:
            fail()
        u, s, vh = ans
        gu, gs, gvh = g
        return core_(u, s, vh, gu, gs, gvh, m, n, True)

    return impl


def numba_njit(fn: Any) -> Any:
    """``numba.njit(fn)`` (numba imported only when a twin is typed)."""
    import numba

    return numba.njit(fn)


def svd_jvp(
    t: Any, ans: Any, a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """The tangent of ``np.linalg.svd(a)``: with ``P = u^T t v``, ``ds = diag(P)``,
    ``du = u (F * (P s + s P^T)) + (I - u u^T) t v s^-1`` and
    ``dv = v (F * (s P + P^T s)) + (I - v v^T) t^T u s^-1`` (``F``: gaps of ``s**2``)."""
    u, s, vh = _svd_parts(ans, a, full_matrices, compute_uv, hermitian)
    if _is_complex(a) or _is_complex(t):  # the singular values only: d s_i = Re(u_i^H da v_i)
        if compute_uv:
            real_only(a if _is_complex(a) else t, "np.linalg.svd (its singular vectors)")
        p = np.matmul(np.conj(_swap(u)), np.matmul(t, np.conj(_swap(vh))))
        return np.real(np.diagonal(p, axis1=-2, axis2=-1))
    v = _swap(vh)
    p = np.matmul(_swap(u), np.matmul(t, v))
    ds = np.diagonal(p, axis1=-2, axis2=-1)
    if not compute_uv:
        return ds
    rows, cols = np.expand_dims(s, -1), np.expand_dims(s, -2)
    f = _gaps(s**2)
    du = np.matmul(u, f * (p * cols + rows * _swap(p)))
    dv = np.matmul(v, f * (rows * p + _swap(p) * cols))
    m, n = np.shape(a)[-2:]
    if m > np.shape(s)[-1]:
        tv = np.matmul(t, v)
        du = du + (tv - np.matmul(u, np.matmul(_swap(u), tv))) / cols
    if n > np.shape(s)[-1]:
        tu = np.matmul(_swap(t), u)
        dv = dv + (tu - np.matmul(v, np.matmul(vh, tu))) / cols
    return (du, ds, _swap(dv))


@twin(svd_jvp)
def _svd_jvp(t, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    full, uv, herm = (literal(x) for x in (full_matrices, compute_uv, hermitian))
    if herm is not False or not isinstance(full, bool) or not isinstance(uv, bool):
        return None
    if not (is_float64_array(t, 2) and is_float64_array(a, 2)):
        return None
    if not uv:

        def values_only(t, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            return np.diag(u.T @ (t @ vh.T))

        return values_only
    if not _pair_of(ans, 2, 1, 2):
        return None
    gaps = gaps_kernel()
    fail = raising(refuse(*_FULL_SVD))

    def impl(t, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
        m, n = a.shape
        if full_matrices and m != n:
            fail()
        u, s, vh = ans
        k = s.shape[0]
        v = vh.T
        p = u.T @ (t @ v)
        rows, cols = np.ascontiguousarray(s).reshape((k, 1)), np.ascontiguousarray(s).reshape((1, k))
        f = gaps(s**2)
        du = u @ (f * (p * cols + rows * p.T))
        dv = v @ (f * (rows * p + p.T * cols))
        if m > k:
            tv = t @ v
            du = du + (tv - u @ (u.T @ tv)) / cols
        if n > k:
            tu = t.T @ u
            dv = dv + (tu - v @ (vh @ tu)) / cols
        return (du, np.diag(p), np.ascontiguousarray(dv.T))

    return impl


def _qr_check(a: Any, mode: str) -> None:
    m, n = np.shape(a)[-2:]
    if m < n or mode not in ("reduced", "complete") or (mode == "complete" and m != n):
        raise refuse(
            "srcgrad differentiates np.linalg.qr of a square or tall matrix in mode='reduced' only "
            f"(here {m}x{n}, mode={mode!r})",
            "use mode='reduced'; for a wide matrix, factor its transpose.",
            "qr",
        )


def _right_solve(x: Any, r: Any) -> Any:
    """``x r^-1`` for an invertible ``r``, without forming the inverse."""
    return _swap(np.linalg.solve(_swap(r), _swap(x)))


def qr_vjp(g: Any, ans: Any, a: Any, mode: str = "reduced") -> Any:
    """The adjoint of ``(q, r) = np.linalg.qr(a)`` for a full-rank ``a`` with at least as many
    rows as columns: ``(gq + q copyltu(M)) r^-T`` with ``M = r gr^T - gq^T q`` and
    ``copyltu(M)`` the lower triangle of ``M`` mirrored into the upper one."""
    real_only(a, "np.linalg.qr")
    _qr_check(a, mode)
    q, r = ans
    gq, gr = g
    m = np.matmul(r, _swap(gr)) - np.matmul(_swap(gq), q)
    m = np.tril(m) + _swap(np.tril(m, -1))
    return _swap(np.linalg.solve(r, _swap(gq + np.matmul(q, m))))


@twin(qr_vjp)
def _qr_vjp(g, ans, a, mode="reduced"):
    if literal(mode) != "reduced" or not (
        _pair_of(g, 2, 2) and _pair_of(ans, 2, 2) and is_float64_array(a, 2)
    ):
        return None
    fail = raising(refuse(*_WIDE_QR))

    def impl(g, ans, a, mode="reduced"):
        if a.shape[0] < a.shape[1]:
            fail()
        q, r = ans
        gq, gr = g
        m = r @ gr.T - gq.T @ q
        m = np.tril(m) + np.tril(m, -1).T
        return np.linalg.solve(r, (gq + q @ m).T).T

    return impl


_WIDE_QR = (
    "srcgrad differentiates np.linalg.qr of a square or tall matrix in mode='reduced' only",
    "use mode='reduced'; for a wide matrix, factor its transpose.",
    "qr",
)


def qr_jvp(t: Any, ans: Any, a: Any, mode: str = "reduced") -> tuple:
    """The tangent of ``(q, r) = np.linalg.qr(a)``: with ``C = q^T t r^-1`` and the antisymmetric
    ``W = tril(C, -1) - tril(C, -1)^T``: ``dq = q W + (I - q q^T) t r^-1``, ``dr = (C - W) r``."""
    real_only(a, "np.linalg.qr")
    _qr_check(a, mode)
    q, r = ans
    tr = _right_solve(t, r)
    c = np.matmul(_swap(q), tr)
    low = np.tril(c, -1)
    w = low - _swap(low)
    return (np.matmul(q, w) + tr - np.matmul(q, c), np.matmul(c - w, r))


@twin(qr_jvp)
def _qr_jvp(t, ans, a, mode="reduced"):
    if literal(mode) != "reduced" or not (
        is_float64_array(t, 2) and _pair_of(ans, 2, 2) and is_float64_array(a, 2)
    ):
        return None
    fail = raising(refuse(*_WIDE_QR))

    def impl(t, ans, a, mode="reduced"):
        if a.shape[0] < a.shape[1]:
            fail()
        q, r = ans
        tr = np.linalg.solve(r.T, t.T).T
        c = q.T @ tr
        low = np.tril(c, -1)
        w = low - low.T
        return (q @ w + tr - q @ c, (c - w) @ r)

    return impl


def eigvalsh_vjp(g: Any, a: Any, uplo: str = "L") -> Any:
    """The adjoint of ``np.linalg.eigvalsh(a, UPLO)``: that of the eigenvalues of ``eigh``
    (no eigenvector adjoint, so no gaps: ties are fine)."""
    real_only(a, "np.linalg.eigvalsh")
    w, v = np.linalg.eigh(a, uplo)
    return eigh_vjp([g, np.zeros_like(v)], (w, v), uplo)


def _eigh_of_twin(uplo: Any) -> Any:
    """``np.linalg.eigh(a, uplo)`` for the twins (numba's eigh reads the lower triangle)."""
    uplo = literal(uplo)
    if uplo == "L":
        return numba_njit(lambda a: np.linalg.eigh(a))
    if uplo == "U":  # (a.T's lower triangle is a's upper one)
        return numba_njit(lambda a: np.linalg.eigh(a.T))
    return None


@twin(eigvalsh_vjp)
def _eigvalsh_vjp(g, a, uplo="L"):
    eigh, triangle = _eigh_of_twin(uplo), _triangle_twin(uplo)
    if eigh is None or not (is_float64_array(g, 1) and is_float64_array(a, 2)):
        return None

    def impl(g, a, uplo="L"):  # (v diag(g) v^T does not depend on the eigenvectors' signs)
        w, v = eigh(a)
        n = w.shape[-1]
        full = v @ (np.diag(g) @ v.T)
        return full * np.eye(n) + (full + full.T) * triangle(n)

    return impl


def eigvalsh_jvp(t: Any, a: Any, uplo: str = "L") -> Any:
    """The tangent of ``np.linalg.eigvalsh(a, UPLO)``: ``diag(v^T s v)``, ``s`` the symmetric
    tangent eigh sees (one triangle mirrored)."""
    real_only(a, "np.linalg.eigvalsh")
    w, v = np.linalg.eigh(a, uplo)
    n = np.shape(w)[-1]
    tri = _triangle(n, uplo)
    s = t * np.eye(n) + t * tri + _swap(t * tri)
    return np.sum(v * np.matmul(s, v), axis=-2)


@twin(eigvalsh_jvp)
def _eigvalsh_jvp(t, a, uplo="L"):
    eigh, triangle = _eigh_of_twin(uplo), _triangle_twin(uplo)
    if eigh is None or not (is_float64_array(t, 2) and is_float64_array(a, 2)):
        return None

    def impl(t, a, uplo="L"):
        w, v = eigh(a)
        n = w.shape[-1]
        tri = triangle(n)
        s = t * np.eye(n) + t * tri + (t * tri).T
        return np.sum(v * (s @ v), axis=0)

    return impl


# -- np.linalg.eig and eigvals -------------------------------------------------------------
# numpy (LAPACK's geev) normalizes each eigenvector to norm 1 and, when it is complex, turns it
# so that its largest entry is real. The derivative below keeps both: without the second, the
# derivative of a complex eigenvector is defined up to a phase only (autograd's is right for
# functions that ignore the phase, as |v|; this one also for the others, as finite differences).


def _largest(u: Any) -> tuple[Any, Any]:
    """For each eigenvector (a column of ``u``): a 0/1 mask of its largest entry, and that entry."""
    k = np.argmax(np.abs(u), axis=-2)
    mask = np.arange(np.shape(u)[-2])[:, None] == np.expand_dims(k, -2)
    return mask, np.sum(np.where(mask, u, 0.0), axis=-2)


def _eig_gauge_jvp(du: Any, u: Any) -> Any:
    """The tangent ``du`` of eigenvectors made to keep numpy's normalization: ``u_i`` gets
    ``u_i c_i`` with ``Re(c_i) = -Re(u_i^H du_i)`` (norm 1) and, for complex ``du``,
    ``Im(c_i) = -Im(du_ki / u_ki)`` (the largest entry ``k`` stays real)."""
    c = -np.real(np.sum(np.conj(u) * du, axis=-2))
    if _is_complex(du):
        mask, top = _largest(u)
        c = c - 1j * np.imag(np.sum(np.where(mask, du, 0.0), axis=-2) / top)
    return du + u * np.expand_dims(c, -2)


def eig_jvp(t: Any, ans: Any) -> tuple:
    """The tangent of ``(w, v) = np.linalg.eig(a)``, for distinct eigenvalues: with
    ``P = v^-1 t v``, ``dw = diag(P)`` and ``dv = v (F * P)`` normalized as numpy's ``v``."""
    w, u = ans
    p = np.linalg.solve(u, np.matmul(t, u))
    dw = np.diagonal(p, axis1=-2, axis2=-1)
    return (dw, _eig_gauge_jvp(np.matmul(u, _gaps(w) * p), u))


@twin(eig_jvp)
def _eig_jvp(t, ans):
    # real eigenvalues and eigenvectors only (numba's eig of a real matrix has no others)
    if not (is_float64_array(t, 2) and _pair_of(ans, 1, 2)):
        return None
    gaps = gaps_kernel()

    def impl(t, ans):
        w, u = ans
        p = np.linalg.solve(u, t @ u)
        du = u @ (gaps(w) * p)
        return (np.diag(p), du - u * np.sum(u * du, axis=0))  # (each eigenvector keeps norm 1)

    return impl


def eig_vjp(g: Any, ans: Any, a: Any) -> Any:
    """The adjoint of ``(w, v) = np.linalg.eig(a)``, the transpose of :func:`eig_jvp`:
    ``v^-T (diag(gw) + F * (v^T gv')) v^T``, where ``gv'`` is ``gv`` made to respect numpy's
    normalization (M. Giles 2008; autograd's, plus the phase of complex eigenvectors). Without
    an eigenvector adjoint the eigenvalues need no gaps (no infinities at ties)."""
    w, u = ans
    gw, gu = g
    n = np.shape(w)[-1]
    inner = np.expand_dims(gw, -2) * np.eye(n)
    if np.any(gu):
        s = np.sum(u * gu, axis=-2)  # diag(u^T gu)
        gu = gu - np.expand_dims(np.real(s), -2) * np.conj(u)
        if _is_complex(u):
            mask, top = _largest(u)
            gu = gu - 1j * np.where(mask, np.expand_dims(np.imag(s) / top, -2), 0.0)
        inner = inner + _gaps(w) * np.matmul(_swap(u), gu)
    out = np.linalg.solve(_swap(u), np.matmul(inner, _swap(u)))
    return out if _is_complex(a) else np.real(out)


@twin(eig_vjp)
def _eig_vjp(g, ans, a):
    # real eigenvalues and eigenvectors only (numba's eig of a real matrix has no others)
    if not (_pair_of(g, 1, 2) and _pair_of(ans, 1, 2) and is_float64_array(a, 2)):
        return None
    gaps = gaps_kernel()

    def impl(g, ans, a):
        w, u = ans
        gw, gu = g
        inner = np.diag(gw)
        if np.any(gu):
            s = np.sum(u * gu, axis=0)  # diag(u^T gu)
            inner = inner + gaps(w) * (u.T @ (gu - s * u))
        return np.linalg.solve(u.T, inner @ u.T)

    return impl


def eigvals_vjp(g: Any, a: Any) -> Any:
    """The adjoint of ``np.linalg.eigvals(a)``: that of eig's eigenvalues, ``v^-T diag(g) v^T``."""
    w, u = np.linalg.eig(a)
    return eig_vjp([g, np.zeros_like(u)], (w, u), a)


@twin(eigvals_vjp)
def _eigvals_vjp(g, a):
    if not (is_float64_array(g, 1) and is_float64_array(a, 2)):
        return None

    def impl(g, a):  # (numba's eig of a real matrix: real eigenvalues, in numpy's order)
        w, u = np.linalg.eig(a)
        return np.linalg.solve(u.T, np.diag(g) @ u.T)

    return impl


def eigvals_jvp(t: Any, a: Any) -> Any:
    """The tangent of ``np.linalg.eigvals(a)``: ``diag(v^-1 t v)``."""
    w, u = np.linalg.eig(a)
    return np.diagonal(np.linalg.solve(u, np.matmul(t, u)), axis1=-2, axis2=-1)


@twin(eigvals_jvp)
def _eigvals_jvp(t, a):
    if not (is_float64_array(t, 2) and is_float64_array(a, 2)):
        return None

    def impl(t, a):  # (numba's eig of a real matrix: real eigenvalues, in numpy's order)
        w, u = np.linalg.eig(a)
        return np.diag(np.linalg.solve(u, t @ u))

    return impl
