"""Derivative rules for ``scipy.linalg``: solve_triangular, cho_factor and cho_solve, sqrtm,
expm and solve_sylvester (which sqrtm's rules call), for real matrices.

Registered when the program imports ``scipy.linalg``. With ``x = solve_triangular(a, b)``:
``dx = solve(op(a), db - op(tri(da)) x)``, where ``tri`` keeps the triangle that is read (not
the diagonal when it is unit). ``X = solve_sylvester(a, b, q)`` solves ``a X + X b = q``, so
``dX`` solves it with ``dq - da X - X db``; ``sqrtm``'s ``X X = A`` gives ``X dX + dX X = dA``.
``expm``'s derivative along ``E`` is the top right block of ``expm([[A, E], [0, A]])`` (Higham,
Functions of Matrices, 3.2). ``cho_factor``'s ``c`` holds the factor in one triangle and
``a``'s own entries in the other (LAPACK leaves them), which carry ``a``'s derivative.
"""

import numpy as np  # noqa: F401  (templates name it)
import scipy.linalg

from ..runtime import scipy_helpers as rs
from .registry import defrule

names = {
    "scipy": scipy,
    **{n: getattr(rs, n) for n in rs.INLINED if not n.startswith(("mvn", "dirichlet", "odeint"))},
}
la = scipy.linalg
SOLVE = "a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True"

# One rule, one line: the formatter would split the long ones.
# fmt: off
defrule(la.solve_triangular, SOLVE, d_a="solve_triangular_vjp_a(g, ans, a, trans, lower, unit_diagonal)", d_b="scipy.linalg.solve_triangular(a, g, trans=flip_trans(trans), lower=lower, unit_diagonal=unit_diagonal)", t_a="solve_triangular_jvp_a(t, ans, a, trans, lower, unit_diagonal)", t_b="scipy.linalg.solve_triangular(a, t, trans=trans, lower=lower, unit_diagonal=unit_diagonal)", names=names)
defrule(la.cho_factor, "a, lower=False, overwrite_a=False, check_finite=True", d_a="cho_factor_vjp(g[0], ans[0], lower)", t_a="(cho_factor_jvp(t, ans[0], lower), 0.0)", sequence=True, names=names)
defrule(la.cho_solve, "c_and_lower, b, overwrite_b=False, check_finite=True", d_c_and_lower="cho_solve_vjp_c(g, ans, c_and_lower)", d_b="scipy.linalg.cho_solve(c_and_lower, g)", t_c_and_lower="cho_solve_jvp_c(t, ans, c_and_lower)", t_b="scipy.linalg.cho_solve(c_and_lower, t)", names=names)
defrule(la.solve_sylvester, "a, b, q", d_a="-scipy.linalg.solve_sylvester(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), g) @ np.swapaxes(ans, -1, -2)", d_b="-np.swapaxes(ans, -1, -2) @ scipy.linalg.solve_sylvester(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), g)", d_q="scipy.linalg.solve_sylvester(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), g)", t_a="-scipy.linalg.solve_sylvester(a, b, t @ ans)", t_b="-scipy.linalg.solve_sylvester(a, b, ans @ t)", t_q="scipy.linalg.solve_sylvester(a, b, t)", names=names)
defrule(la.sqrtm, "A", d_A="scipy.linalg.solve_sylvester(np.swapaxes(ans, -1, -2), np.swapaxes(ans, -1, -2), g)", t_A="scipy.linalg.solve_sylvester(ans, ans, t)", names=names)
defrule(la.expm, "A", d_A="expm_frechet_block(np.swapaxes(A, -1, -2), g)", t_A="expm_frechet_block(A, t)", names=names)
# fmt: on
