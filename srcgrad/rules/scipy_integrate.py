"""Derivative rules for ``scipy.integrate.odeint``: in the initial state, the time grid and the
parameters passed in ``args``.

Registered when the program imports ``scipy.integrate``. Reverse mode is the adjoint method
(``odeint_vjp`` in ``srcgrad/runtime_scipy.py``), forward mode the sensitivity equations
(``odeint_jvp``); both differentiate the user's ``func`` with srcgrad itself at each step, so
``func`` must be a function srcgrad can differentiate. Its tolerances are the call's. (The
time grid is called ``times`` here: templates reserve ``t``; pass it by position.)
"""

import scipy.integrate

from .. import runtime_scipy as rs
from .registry import defrule

names = {"scipy": scipy, "odeint_vjp": rs.odeint_vjp, "odeint_jvp": rs.odeint_jvp}
SIGNATURE = "func, y0, times, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None, rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False"
OPTIONS = "full_output, rtol, atol, mxstep, tfirst"

# One rule, one line: the formatter would split the long ones.
# fmt: off
defrule(scipy.integrate.odeint, SIGNATURE, d_y0=f"odeint_vjp(g, ans, func, y0, times, args, {OPTIONS})[0]", d_times=f"odeint_vjp(g, ans, func, y0, times, args, {OPTIONS})[1]", d_args=f"odeint_vjp(g, ans, func, y0, times, args, {OPTIONS})[2]", t_y0=f"odeint_jvp(ans, func, y0, times, args, t, 0.0, zero_tangent(args), {OPTIONS})", t_times=f"odeint_jvp(ans, func, y0, times, args, zero_tangent(y0), t, zero_tangent(args), {OPTIONS})", t_args=f"odeint_jvp(ans, func, y0, times, args, zero_tangent(y0), 0.0, t, {OPTIONS})", t=f"odeint_jvp(ans, func, y0, times, args, t_y0, t_times, t_args, {OPTIONS})", names=names)
# fmt: on
