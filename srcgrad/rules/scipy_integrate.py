"""Derivative rules for ``scipy.integrate.odeint``: in the initial state, the time grid and the
parameters passed in ``args``.

Registered when the program imports ``scipy.integrate``. Reverse mode is the adjoint method
(``odeint_vjp`` in ``srcgrad/runtime/scipy_helpers.py``), forward mode the sensitivity equations
(``odeint_jvp``); both differentiate the user's ``func`` with srcgrad itself at each step, so
``func`` must be a function srcgrad can differentiate. Its tolerances are the call's. (The
time grid is called ``times`` here: templates reserve ``t``; pass it by position.)
"""

import scipy.integrate

from ..runtime import scipy_helpers as rs
from .registry import defrule

names = {"scipy": scipy, "odeint_vjp": rs.odeint_vjp, "odeint_jvp": rs.odeint_jvp}
SIGNATURE = "func, y0, times, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None, rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False"
OPTIONS = "full_output, rtol, atol, mxstep, tfirst"

# One rule, one line: the formatter would split the long ones.
# fmt: off
defrule(scipy.integrate.odeint, SIGNATURE, d_y0=f"odeint_vjp(g, ans, func, y0, times, args, {OPTIONS})[0]", d_times=f"odeint_vjp(g, ans, func, y0, times, args, {OPTIONS})[1]", d_args=f"odeint_vjp(g, ans, func, y0, times, args, {OPTIONS})[2]", t_y0=f"odeint_jvp(ans, func, y0, times, args, t, zero_tangent(times), zero_tangent(args), {OPTIONS})", t_times=f"odeint_jvp(ans, func, y0, times, args, zero_tangent(y0), t, zero_tangent(args), {OPTIONS})", t_args=f"odeint_jvp(ans, func, y0, times, args, zero_tangent(y0), zero_tangent(times), t, {OPTIONS})", t=f"odeint_jvp(ans, func, y0, times, args, t_y0, t_times, t_args, {OPTIONS})", names=names)
# The helpers are linear in the adjoint (tangent): each is the other's adjoint. Second derivatives
# in anything else (the solution, y0, the times, args) are refused with a NoRuleError.
HELPER = "v, ys, func, y0, times, args=(), full_output=0, rtol=None, atol=None, mxstep=0, tfirst=False"
TANGENT = "ys, func, y0, times, args, u_y0, u_times, u_args, full_output=0, rtol=None, atol=None, mxstep=0, tfirst=False"
defrule(rs.odeint_vjp, HELPER, d_v=f"odeint_jvp(ys, func, y0, times, args, g[0], g[1], g[2], {OPTIONS})", t_v=f"odeint_vjp(t, ys, func, y0, times, args, {OPTIONS})", spelling="odeint_vjp", sequence=True, names=names)
defrule(rs.odeint_jvp, TANGENT, d_u_y0=f"odeint_vjp(g, ys, func, y0, times, args, {OPTIONS})[0]", d_u_times=f"odeint_vjp(g, ys, func, y0, times, args, {OPTIONS})[1]", d_u_args=f"odeint_vjp(g, ys, func, y0, times, args, {OPTIONS})[2]", t_u_y0=f"odeint_jvp(ys, func, y0, times, args, t, zero_tangent(u_times), zero_tangent(u_args), {OPTIONS})", t_u_times=f"odeint_jvp(ys, func, y0, times, args, zero_tangent(u_y0), t, zero_tangent(u_args), {OPTIONS})", t_u_args=f"odeint_jvp(ys, func, y0, times, args, zero_tangent(u_y0), zero_tangent(u_times), t, {OPTIONS})", t=f"odeint_jvp(ys, func, y0, times, args, t_u_y0, t_u_times, t_u_args, {OPTIONS})", spelling="odeint_jvp", names=names)
# fmt: on
