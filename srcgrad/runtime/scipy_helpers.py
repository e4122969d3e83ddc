"""Helpers that the generated code of scipy's rules calls (``srcgrad/rules/scipy_*.py``).

Imported only with those rules, once the program has imported scipy. Each helper is plain
numpy and scipy over functions that have rules, so that srcgrad differentiates generated code
again by inlining it (``hessian``), except ``odeint_vjp`` and ``odeint_jvp``, which integrate
an ODE with srcgrad's own ``vjp``/``jvp`` of the user's function: their rules are linear in the
adjoint or tangent, and differentiating them in anything else is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.signal

from .checks import real_only, refuse
from .decompositions import cholesky_jvp, cholesky_vjp

# -- scipy.stats.multivariate_normal and dirichlet ------------------------------------------


def mvn_solved(x: Any, mean: Any, cov: Any, allow_singular: bool = False) -> Any:
    """``(x - mean) cov^-1``, one row per point, in the shape of ``x - mean``: the score's core."""
    if allow_singular or np.ndim(cov) != 2:
        raise refuse(
            "srcgrad differentiates multivariate_normal with a full, nonsingular covariance matrix only",
            "pass cov as a 2-d array and allow_singular=False.",
            "multivariate_normal",
        )
    diff = x - mean
    rows = np.reshape(diff, (-1, np.shape(cov)[-1]))
    return np.reshape(np.transpose(np.linalg.solve(cov, np.transpose(rows))), np.shape(diff))


def mvn_times(g: Any, r: Any) -> Any:
    """Each point's row of ``r`` times that point's adjoint in ``g`` (one number per point)."""
    return np.reshape(np.reshape(g, (-1, 1)) * np.reshape(r, (np.size(g), -1)), np.shape(r))


def mvn_dot(t: Any, r: Any, ans: Any) -> Any:
    """Each point's row of ``t`` (broadcast to ``r``) dotted with its row of ``r``: ``ans``'s shape."""
    rows = np.reshape(t * np.ones_like(r), (np.size(ans), -1))
    return np.reshape(np.sum(rows * np.reshape(r, (np.size(ans), -1)), -1), np.shape(ans))


def mvn_cov_grad(g: Any, r: Any, cov: Any) -> Any:
    """The adjoint of cov: ``sum_points g (r r^T - cov^-1) / 2`` (symmetric, as autograd's)."""
    rows = np.reshape(r, (np.size(g), -1))
    weighted = np.reshape(g, (-1, 1)) * rows
    return 0.5 * (np.transpose(rows) @ weighted - np.sum(g) * np.linalg.inv(cov))


def mvn_cov_jvp(t: Any, r: Any, cov: Any, ans: Any) -> Any:
    """The tangent along cov: ``(r^T t r - trace(cov^-1 t)) / 2`` for each point."""
    rows = np.reshape(r, (np.size(ans), -1))
    quadratic = np.sum((rows @ t) * rows, -1) - np.sum(np.linalg.inv(cov) * np.transpose(t))
    return np.reshape(0.5 * quadratic, np.shape(ans))


def dirichlet_alpha(alpha: Any, x: Any) -> Any:
    """``alpha`` as a column against ``x`` (components along ``x``'s first axis, as scipy reads them)."""
    if np.ndim(alpha) != 1 or np.shape(x)[:1] != np.shape(alpha):
        raise refuse(
            "srcgrad differentiates dirichlet with one row of x per component of alpha only",
            "pass every component of x (scipy infers a missing last one).",
            "dirichlet",
        )
    return np.reshape(alpha, np.shape(alpha) + (1,) * (np.ndim(x) - 1))


# -- scipy.signal.convolve: the output is a window of the full convolution ----------------


def _window(in1: Any, in2: Any, mode: str) -> tuple:
    """Where ``convolve(in1, in2, mode)`` sits in the full convolution: a slice per axis."""
    s1, s2 = np.shape(in1), np.shape(in2)
    if mode == "full":
        return tuple(slice(0, a + b - 1) for a, b in zip(s1, s2))
    if mode == "same":
        return tuple(slice((b - 1) // 2, (b - 1) // 2 + a) for a, b in zip(s1, s2))
    if mode == "valid":
        return tuple(slice(min(a, b) - 1, max(a, b)) for a, b in zip(s1, s2))
    raise refuse(f"scipy.signal.convolve has no mode {mode!r}", "use 'full', 'valid' or 'same'.", "convolve")


def convolve_full(v: Any, in1: Any, in2: Any, mode: str = "full") -> Any:
    """``v``, an adjoint of ``convolve(in1, in2, mode)``, placed in zeros of the full output's shape."""
    full = np.zeros(tuple(a + b - 1 for a, b in zip(np.shape(in1), np.shape(in2))), dtype=np.result_type(v))
    full[_window(in1, in2, mode)] = v
    return full


def convolve_crop(v: Any, in1: Any, in2: Any, mode: str = "full") -> Any:
    """The window of ``v`` (full convolution's shape) that ``convolve(in1, in2, mode)`` returns."""
    return v[_window(in1, in2, mode)]


# -- scipy.linalg ----------------------------------------------------------------------------


def _transposed(trans: Any) -> bool:
    """Does ``trans`` (0, 1, 2 or 'N', 'T', 'C') solve with the transpose (of a real matrix)?"""
    return trans not in (0, "N", "n")


def _triangle(m: Any, lower: bool, unit_diagonal: bool) -> Any:
    """The triangle of ``m`` that solve_triangular reads (without the diagonal if it is unit)."""
    return np.tril(m, -1 if unit_diagonal else 0) if lower else np.triu(m, 1 if unit_diagonal else 0)


def _column(x: Any) -> Any:
    return np.reshape(x, (np.shape(x)[0], -1))


def _one_matrix(a: Any, what: str) -> None:
    """Refuse a stack of matrices where the derivative is written for one (and real ones)."""
    real_only(a, what)
    if np.ndim(a) != 2:
        raise refuse(
            f"srcgrad differentiates {what} of one matrix only, not of a stack of them",
            "loop over the matrices (or use np.linalg, which srcgrad differentiates on stacks).",
            what.rpartition(".")[2],
        )


def solve_triangular_vjp_a(g: Any, ans: Any, a: Any, trans: Any, lower: bool, unit_diagonal: bool) -> Any:
    """The adjoint of ``a`` in ``x = solve_triangular(a, b)``: ``-tri(op(solve(op(a)^T, g) x^T))``."""
    _one_matrix(a, "scipy.linalg.solve_triangular")
    flip = 0 if _transposed(trans) else 1
    gb = _column(scipy.linalg.solve_triangular(a, g, trans=flip, lower=lower, unit_diagonal=unit_diagonal))
    outer = _column(ans) @ np.transpose(gb) if _transposed(trans) else gb @ np.transpose(_column(ans))
    return -_triangle(outer, lower, unit_diagonal)


def solve_triangular_jvp_a(t: Any, ans: Any, a: Any, trans: Any, lower: bool, unit_diagonal: bool) -> Any:
    """The tangent along ``a``: ``-solve(op(a), op(tri(t)) x)``."""
    _one_matrix(a, "scipy.linalg.solve_triangular")
    tri = _triangle(t, lower, unit_diagonal)
    moved = np.reshape((np.transpose(tri) if _transposed(trans) else tri) @ _column(ans), np.shape(ans))
    return -scipy.linalg.solve_triangular(a, moved, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


def flip_trans(trans: Any) -> int:
    """The ``trans`` that solves with the transpose of what ``trans`` solves with."""
    return 0 if _transposed(trans) else 1


def _factor(c: Any, lower: bool) -> Any:
    """The lower Cholesky factor ``L`` in ``c`` (cho_factor returns it, or ``L^T``, in one triangle)."""
    return np.tril(c) if lower else np.transpose(np.triu(c))


def _cho_keeps_a() -> bool:
    """Does cho_factor leave ``a``'s entries in the other triangle of ``c``? (scipy 1.17 and
    older do; 1.18 zeros it, and then that triangle carries no derivative.)"""
    c, _ = scipy.linalg.cho_factor(np.array([[2.0, 1.0], [1.0, 2.0]]))
    return bool(c[1, 0] != 0.0)


_CHO_KEEPS_A = _cho_keeps_a()


def _other(c: Any, lower: bool) -> Any:
    """The triangle of ``c`` that cho_factor leaves as it was in ``a`` (without the diagonal),
    or zeros where this scipy zeros it."""
    if not _CHO_KEEPS_A:
        return np.zeros_like(c)
    return np.triu(c, 1) if lower else np.tril(c, -1)


def cho_factor_vjp(g: Any, c: Any, lower: bool) -> Any:
    """The adjoint of ``a`` in ``c, lower = cho_factor(a)``: the factor's triangle through the
    Cholesky factorization, the other triangle (``a``'s own entries) as it is."""
    _one_matrix(c, "scipy.linalg.cho_factor")
    return cholesky_vjp(_factor(g, lower), _factor(c, lower)) + _other(g, lower)


def cho_factor_jvp(t: Any, c: Any, lower: bool) -> Any:
    """The tangent of ``c`` in ``c, lower = cho_factor(a)``."""
    _one_matrix(c, "scipy.linalg.cho_factor")
    dl = cholesky_jvp(t, _factor(c, lower))
    return (dl if lower else np.transpose(dl)) + _other(t, lower)


def cho_solve_vjp_c(g: Any, ans: Any, c_and_lower: Any) -> tuple:
    """The adjoint of ``(c, lower)`` in ``x = cho_solve((c, lower), b)``: with ``a = L L^T``,
    ``a``'s adjoint is ``-(a^-1 g) x^T``, and ``L``'s is that plus its transpose, times ``L``."""
    c, lower = c_and_lower
    _one_matrix(c, "scipy.linalg.cho_solve")
    gb = _column(scipy.linalg.cho_solve(c_and_lower, g))
    ga = -(gb @ np.transpose(_column(ans)))
    gl = (ga + np.transpose(ga)) @ _factor(c, lower)
    return (np.tril(gl) if lower else np.triu(np.transpose(gl)), 0.0)


def cho_solve_jvp_c(t: Any, ans: Any, c_and_lower: Any) -> Any:
    """The tangent along ``c``: ``-a^-1 (dL L^T + L dL^T) x`` with ``dL`` the tangent of c's triangle."""
    c, lower = c_and_lower
    _one_matrix(c, "scipy.linalg.cho_solve")
    factor, dl = _factor(c, lower), _factor(t[0], lower)
    da = dl @ np.transpose(factor) + factor @ np.transpose(dl)
    return -scipy.linalg.cho_solve(c_and_lower, np.reshape(da @ _column(ans), np.shape(ans)))


def expm_frechet_block(a: Any, e: Any) -> Any:
    """The derivative of ``expm`` at ``a`` along ``e``: the top right block of ``expm([[a, e], [0, a]])``."""
    real_only(a, "scipy.linalg.expm")  # (a stack of matrices is fine: every axis but the last two is one)
    n = np.shape(a)[-1]
    top = np.concatenate([a, e], axis=-1)
    bottom = np.concatenate([np.zeros_like(a), a], axis=-1)
    return scipy.linalg.expm(np.concatenate([top, bottom], axis=-2))[..., :n, n:]


# -- scipy.integrate.odeint: the adjoint method --------------------------------------------


def _pullback(func: Any, tfirst: bool, y: Any, t: float, args: tuple, cotangent: Any) -> tuple:
    """``func(y, t, *args)`` (``func(t, y, *args)`` for ``tfirst``) and its adjoints of ``(y, t,
    *args)`` for ``cotangent``, from srcgrad's ``vjp`` of the user's ``func``."""
    from .. import api  # (the package imports this module's users, not this module)

    primals = (t, y, *args) if tfirst else (y, t, *args)
    out, pullback = api.vjp(func, *primals)
    grads = pullback(np.reshape(cotangent, np.shape(out)))
    return (out, grads[1], grads[0], grads[2:]) if tfirst else (out, *grads[:2], grads[2:])


def _pushforward(func: Any, tfirst: bool, y: Any, t: float, args: tuple, s: Any, t_args: tuple) -> tuple:
    """``func``'s value and its tangent along ``s`` in ``y`` and ``t_args`` in ``args`` (srcgrad's ``jvp``)."""
    from .. import api

    if tfirst:
        return api.jvp(func, (t, y, *args), (0.0, s, *t_args))
    return api.jvp(func, (y, t, *args), (s, 0.0, *t_args))


def _odeint_options(full_output: Any, rtol: Any, atol: Any, mxstep: Any) -> dict:
    if full_output:
        raise refuse(
            "srcgrad differentiates odeint's solution, not its full_output",
            "call odeint without full_output (or call it a second time for the report).",
            "odeint",
        )
    return {"rtol": rtol, "atol": atol, "mxstep": mxstep}


def _dynamics(func: Any, tfirst: bool) -> Any:
    """``func`` as a function of ``(y, t, *args)``, whichever order it takes them in (for values only)."""
    return (lambda y, t, *args: func(t, y, *args)) if tfirst else func


def _flat(values: Any) -> Any:
    return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values]) if values else np.zeros(0)


def _unflat(flat: Any, like: tuple) -> tuple:
    out, start = [], 0
    for v in like:
        size = np.size(v)
        piece = np.reshape(flat[start : start + size], np.shape(v))
        out.append(float(piece) if np.ndim(v) == 0 else piece)
        start += size
    return tuple(out)


def odeint_vjp(
    g: Any,
    ans: Any,
    func: Any,
    y0: Any,
    times: Any,
    args: Any = (),
    full_output: Any = 0,
    rtol: Any = None,
    atol: Any = None,
    mxstep: Any = 0,
    tfirst: bool = False,
) -> tuple:
    """The adjoints of ``(y0, times, args)`` in ``ans = odeint(func, y0, times, args)``, by the
    adjoint method (autograd's ``grad_odeint``; Froehlich et al. 2017, sec. 2.4.2): integrate
    the state with its adjoint backwards from each time to the previous one, the adjoint's
    dynamics ``-a^T df/dy`` from srcgrad's own ``vjp`` of ``func``."""
    key = (g, ans, func, y0, times, args, full_output, rtol, atol, mxstep, tfirst)
    last = _LAST_VJP.get("key")
    if last is not None and len(last) == len(key) and all(a is b for a, b in zip(last, key)):
        return _LAST_VJP["value"]  # the adjoints of y0, times and args come from one integration
    options = _odeint_options(full_output, rtol, atol, mxstep)
    f = _dynamics(func, tfirst)
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    ys = np.reshape(ans, (len(times), -1))
    g = np.reshape(g, np.shape(ys))
    n, d, k = len(times), np.shape(ys)[1], len(_flat(args))

    def backwards(state: Any, t: float) -> Any:
        y, a = state[:d], state[d : 2 * d]  # (odeint passes func a 1-d state, whatever y0's shape)
        out, a_y, a_t, a_args = _pullback(func, tfirst, y, float(t), args, -a)
        return np.concatenate([np.ravel(out), np.ravel(a_y), [a_t], _flat(a_args)])

    a_y, a_t0, a_args, a_times = g[-1], 0.0, np.zeros(k), np.zeros(n)
    for i in range(n - 1, 0, -1):
        moved = float(np.dot(np.ravel(f(ys[i], float(times[i]), *args)), g[i]))
        a_times[i] = moved
        a_t0 -= moved
        state = np.concatenate([ys[i], a_y, [a_t0], a_args])
        back = scipy.integrate.odeint(backwards, state, np.array([times[i], times[i - 1]]), **options)[1]
        a_y, a_t0, a_args = back[d : 2 * d] + g[i - 1], back[2 * d], back[2 * d + 1 :]
    a_times[0] = a_t0
    value = np.reshape(a_y, np.shape(y0)), np.reshape(a_times, np.shape(times)), _unflat(a_args, args)
    _LAST_VJP.update(key=key, value=value)
    return value


_LAST_VJP: dict = {}  # the last call of odeint_vjp (its arguments, kept alive) and its result


def odeint_jvp(
    ans: Any,
    func: Any,
    y0: Any,
    times: Any,
    args: Any,
    u_y0: Any,
    u_times: Any,
    u_args: Any,
    full_output: Any = 0,
    rtol: Any = None,
    atol: Any = None,
    mxstep: Any = 0,
    tfirst: bool = False,
) -> Any:
    """The tangent of ``ans = odeint(func, y0, times, args)`` along ``(u_y0, u_times, u_args)``:
    the sensitivity ``s`` solves ``s' = df/dy s + df/dargs u_args`` (srcgrad's ``jvp`` of
    ``func``) from ``u_y0 - f(y0, t0) u_times[0]``, and a moved time adds ``f(y, t_i) u_times[i]``."""
    options = _odeint_options(full_output, rtol, atol, mxstep)
    f = _dynamics(func, tfirst)
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    u_args = tuple(u_args) if isinstance(u_args, (tuple, list)) else (u_args,) * len(args)  # a zero
    ys = np.reshape(ans, (len(times), -1))
    d = np.shape(ys)[1]
    u_times = np.broadcast_to(u_times, np.shape(times))

    def forwards(state: Any, t: float) -> Any:
        y, s = state[:d], state[d:]  # (odeint passes func a 1-d state, whatever y0's shape)
        out, tangent = _pushforward(func, tfirst, y, float(t), args, s, u_args)
        return np.concatenate([np.ravel(out), np.ravel(tangent)])

    s0 = np.ravel(u_y0 * np.ones(np.shape(y0))) - np.ravel(f(ys[0], float(times[0]), *args)) * u_times[0]
    s = scipy.integrate.odeint(forwards, np.concatenate([ys[0], s0]), times, **options)[:, d:]
    moved = [np.ravel(f(ys[i], float(times[i]), *args)) * u_times[i] for i in range(len(times))]
    return np.reshape(s + np.array(moved), np.shape(ans))


# The helpers above that srcgrad differentiates by inlining their source (the tests check
# that every function a rule's template calls has a rule or is listed here).
INLINED = (
    "mvn_solved", "mvn_times", "mvn_dot", "mvn_cov_grad", "mvn_cov_jvp", "dirichlet_alpha",
    "solve_triangular_vjp_a", "solve_triangular_jvp_a", "cho_factor_vjp", "cho_factor_jvp",
    "cho_solve_vjp_c", "cho_solve_jvp_c", "flip_trans", "expm_frechet_block",
)  # fmt: skip
