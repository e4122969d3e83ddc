"""scipy's rules against autograd, where autograd has the function, and differentiated twice.

Each rule is checked on its own against finite differences in test_rules.py; here srcgrad's
gradients and Hessians are compared with autograd's (``autograd.scipy``) on the same
programs, ``odeint``'s adjoint method with autograd's and with differences, and what srcgrad
refuses is checked to be refused with a ``SrcGradError`` that says what to do.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from oracle import autograd_numpy, numeric_grad

import srcgrad

sp = pytest.importorskip("scipy.special")
st = pytest.importorskip("scipy.stats")
la = pytest.importorskip("scipy.linalg")
signal = pytest.importorskip("scipy.signal")
integrate = pytest.importorskip("scipy.integrate")
agrad = pytest.importorskip("autograd")
anp = pytest.importorskip("autograd.numpy")
asp = pytest.importorskip("autograd.scipy.special")
ala = pytest.importorskip("autograd.scipy.linalg")
aint = pytest.importorskip("autograd.scipy.integrate")
import autograd.scipy.stats as ast  # noqa: E402

RNG = np.random.default_rng(11)


def squared(fn):
    def f(x):
        return np.sum(fn(x) ** 2)

    return f


def with_order(fn, order):
    def f(x):
        return np.sum(fn(order, x) ** 2)

    return f


UNARY = {  # name: the interval its argument is drawn from
    "gamma": (0.5, 3.0), "gammaln": (0.5, 3.0), "digamma": (0.5, 3.0), "psi": (0.5, 3.0),
    "rgamma": (0.5, 3.0), "erf": (-1.5, 1.5), "erfc": (-1.5, 1.5), "erfinv": (-0.8, 0.8),
    "erfcinv": (0.2, 1.8), "expit": (-3.0, 3.0), "logit": (0.2, 0.8), "j0": (0.5, 4.0),
    "j1": (0.5, 4.0), "y0": (0.5, 4.0), "y1": (0.5, 4.0), "i0": (-2.0, 2.0), "i1": (-2.0, 2.0),
}  # fmt: skip
ORDERED = {"polygamma": 1, "jn": 2, "yn": 2, "iv": 1.5, "ive": 1.5}  # name: its first argument


@pytest.mark.parametrize("name", [*UNARY, *ORDERED])
def test_special_functions_match_autograd_to_second_order(name):
    if name in UNARY:
        ours, theirs = squared(getattr(sp, name)), squared(getattr(asp, name))
        x = RNG.uniform(*UNARY[name], size=3)
    else:
        ours, theirs = (with_order(getattr(m, name), ORDERED[name]) for m in (sp, asp))
        x = RNG.uniform(0.5, 3.0, size=3)
    expected = agrad.grad(theirs)(x)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(srcgrad.grad(ours, mode=mode)(x), expected, rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(srcgrad.hessian(ours)(x), agrad.hessian(theirs)(x), rtol=1e-7, atol=1e-10)


def beta_terms(special):
    def f(a, b):
        return np.sum(special.beta(a, b) + special.betaln(a, b) * special.multigammaln(a + 2.0, 3))

    return f


def incomplete(special):
    def f(x, y):
        return np.sum(special.gammainc(2.5, x) * special.gammaincc(0.7, x) + 0.0 * y)

    return f


def compare(build, args, wrt, ours, theirs, hessian=True):
    """srcgrad on ``build(ours)`` against autograd on ``build(theirs)``, argument by argument
    (the modules are closure variables: srcgrad resolves a call by the object it denotes)."""
    f, g = build(ours), build(theirs)
    for i in wrt:
        expected = agrad.grad(g, i)(*args)
        for mode in ("reverse", "forward"):
            got = srcgrad.grad(f, wrt=i, mode=mode)(*args)
            np.testing.assert_allclose(
                got, expected, rtol=1e-8, atol=1e-12, err_msg=f"{build.__name__} d{i} {mode}"
            )
        if hessian:
            np.testing.assert_allclose(
                srcgrad.hessian(f, wrt=i)(*args), agrad.hessian(g, i)(*args), rtol=1e-6, atol=1e-10
            )


def test_two_argument_special_functions_match_autograd():
    a, b = RNG.uniform(0.5, 3.0, size=3), RNG.uniform(0.5, 3.0, size=3)
    compare(beta_terms, (a, b), (0, 1), sp, asp)
    compare(incomplete, (a, b), (0,), sp, asp)


# -- scipy.stats ------------------------------------------------------------------------------


def t_loglik(dist):
    def f(x, df, loc, scale):
        return np.sum(dist.logpdf(x, df, loc, scale) + dist.pdf(x, df, loc, scale))

    return f


def shape_logliks(dists):
    gamma, beta = dists

    def f(x, a, b):
        return np.sum(
            gamma.logpdf(x + 1.0, a) + gamma.pdf(x + 1.0, b) + beta.logpdf(x, a, b) + beta.pdf(x, b, a)
        )

    return f


def chi2_loglik(chi2):
    def f(x, df):
        return np.sum(chi2.logpdf(x, df) + chi2.pdf(x, df) + chi2.cdf(x, df))

    return f


def counts_loglik(poisson):
    def f(mu, k):
        return np.sum(poisson.logpmf(k, mu) + poisson.pmf(k, mu))

    return f


def mvn_loglik(mvn):
    def f(x, mean, cov):
        return np.sum(mvn.logpdf(x, mean, cov)) + np.sum(mvn.pdf(x[0], mean, cov))

    return f


def dirichlet_loglik(dirichlet):
    def f(x, alpha):
        return dirichlet.logpdf(x, alpha) + dirichlet.pdf(x, alpha)

    return f


def test_t_distribution_matches_autograd():
    x = RNG.normal(size=4)
    compare(t_loglik, (x, 3.5, 0.2, 1.3), (0, 1, 2, 3), st.t, ast.t)


def test_gamma_and_beta_match_autograd():
    x, a, b = RNG.uniform(0.2, 0.8, size=3), RNG.uniform(1.0, 3.0, size=3), RNG.uniform(1.0, 3.0, size=3)
    compare(shape_logliks, (x, a, b), (0, 1, 2), (st.gamma, st.beta), (ast.gamma, ast.beta))


def test_chi2_and_poisson_match_autograd():
    # autograd's chi2 has a derivative in x only, and only for an integer df
    compare(chi2_loglik, (RNG.uniform(0.5, 3.0, size=4), 3.0), (0,), st.chi2, ast.chi2)
    compare(
        counts_loglik,
        (RNG.uniform(0.5, 4.0, size=4), np.array([0.0, 2.0, 5.0, 1.0])),
        (0,),
        st.poisson,
        ast.poisson,
    )


def test_multivariate_normal_matches_autograd():
    a = RNG.normal(size=(3, 3))
    cov = a @ a.T + 3.0 * np.eye(3)
    x, mean = RNG.normal(size=(4, 3)), RNG.normal(size=3)
    mvn, amvn = st.multivariate_normal, ast.multivariate_normal
    compare(mvn_loglik, (x, mean, cov), (0, 1, 2), mvn, amvn)


def test_dirichlet_matches_autograd():
    x, alpha = RNG.dirichlet([2.0, 3.0, 4.0]), RNG.uniform(1.0, 3.0, size=3)
    # in alpha (x must stay on the simplex, so its gradient is compared in test_rules.py)
    compare(dirichlet_loglik, (x, alpha), (1,), st.dirichlet, ast.dirichlet)


def test_shape_parameters_of_a_cdf_are_refused():
    def f(df):
        return st.t.cdf(0.3, df)

    with pytest.raises(srcgrad.NoRuleError, match="df"):
        srcgrad.grad(f)(3.0)


# -- scipy.linalg and scipy.signal ----------------------------------------------------------


def triangular(linalg):
    def f(a, b):
        return np.sum(linalg.solve_triangular(a, b, trans=1, lower=True) ** 2)

    return f


def test_linalg_matches_autograd():
    a = 3.0 * np.eye(3) + RNG.uniform(-0.5, 0.5, size=(3, 3))
    b = RNG.normal(size=(3, 2))
    compare(triangular, (a, b), (0, 1), la, ala)
    # (autograd's sqrtm fails on this scipy: sqrtm is checked against differences below)


def linalg_model(a, b):
    spd = a @ a.T + np.eye(3)
    x = la.cho_solve(la.cho_factor(spd), b) + la.solve_triangular(a, b, lower=True, unit_diagonal=True)
    return np.sum(la.expm(0.3 * a) @ x) + np.sum(la.sqrtm(spd) * a)


def convolutions(x, w):
    full = signal.convolve(x, w)
    return (
        np.sum(full**2)
        + np.sum(np.sin(signal.convolve(x, w, "valid")))
        + np.sum(signal.convolve(w, x, "same") ** 3)
    )


@pytest.mark.parametrize("f", [linalg_model, convolutions], ids=lambda f: f.__name__)
def test_second_derivatives_match_differences(f):
    a = 3.0 * np.eye(3) + RNG.uniform(-0.5, 0.5, size=(3, 3))
    b = RNG.normal(size=(3, 2)) if f is linalg_model else RNG.normal(size=(2, 2))
    for i in (0, 1):
        for mode in ("reverse", "forward"):
            np.testing.assert_allclose(
                srcgrad.grad(f, wrt=i, mode=mode)(a, b), numeric_grad(f, [a, b], i), rtol=1e-5, atol=1e-6
            )

    def first(a):
        return f(a, b)

    srcgrad.check_grads(first, a, order=2)


# -- scipy.integrate.odeint: the adjoint method ----------------------------------------------


def oscillator(y, t, k, c):
    return np.array([y[1], -k * y[0] - c * y[1] + np.sin(t)])


def ode_loss(y0, ts, k, c):
    ys = integrate.odeint(oscillator, y0, ts, args=(k, c), rtol=1e-10, atol=1e-10)
    return np.sum(ys**2) + np.sum(ys[-1] * y0)


def autograd_ode_loss(y0, ts, k, c):
    from autograd.builtins import tuple as atuple

    ys = aint.odeint(oscillator, y0, ts, atuple((k, c)), rtol=1e-10, atol=1e-10)
    return anp.sum(ys**2) + anp.sum(ys[-1] * y0)


ODE_ARGS = (np.array([1.0, 0.5]), np.linspace(0.0, 2.0, 5), 2.0, 0.3)


@pytest.mark.parametrize("i", [0, 1, 2, 3], ids=["y0", "t", "k", "c"])
def test_odeint_matches_autograd_and_differences(i):
    with autograd_numpy(sys.modules[__name__]):
        expected = agrad.grad(autograd_ode_loss, i)(*ODE_ARGS)
    np.testing.assert_allclose(
        numeric_grad(ode_loss, list(ODE_ARGS), i, step=1e-5), expected, rtol=1e-5, atol=1e-7
    )
    for mode in ("reverse", "forward"):
        got = srcgrad.grad(ode_loss, wrt=i, mode=mode)(*ODE_ARGS)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=mode)


def test_odeint_gradient_in_all_arguments_at_once():
    got = srcgrad.grad(ode_loss, wrt=(0, 1, 2, 3))(*ODE_ARGS)
    forward = srcgrad.grad(ode_loss, wrt=(0, 1, 2, 3), mode="forward")(*ODE_ARGS)
    for i, (g, h) in enumerate(zip(got, forward)):
        np.testing.assert_allclose(
            g, numeric_grad(ode_loss, list(ODE_ARGS), i, step=1e-5), rtol=1e-5, atol=1e-7
        )
        np.testing.assert_allclose(h, g, rtol=1e-6, atol=1e-8)


def test_odeint_second_derivative_is_refused():
    def loss(k):
        return ode_loss(ODE_ARGS[0], ODE_ARGS[1], k, 0.3)

    with pytest.raises(srcgrad.NoRuleError, match="odeint_vjp has no derivative") as info:
        srcgrad.hessian(loss)(2.0)
    assert "test_scipy_more.py" in str(info.value)  # the user's line, quoted in the generated code


# -- refusals ---------------------------------------------------------------------------------


def test_gammainc_in_a_is_refused():
    def f(a):
        return sp.gammainc(a, 1.5)

    with pytest.raises(srcgrad.NoRuleError, match="'a'"):
        srcgrad.grad(f)(2.0)


def no_rule(x):
    return np.sum(st.cauchy.logpdf(x))


def no_rule_linalg(x):
    return np.sum(la.lu(x)[1])


@pytest.mark.parametrize("f", [no_rule, no_rule_linalg], ids=lambda f: f.__name__)
def test_a_scipy_function_without_a_rule_is_a_no_rule_error(f):
    with pytest.raises(srcgrad.NoRuleError) as info:
        srcgrad.grad(f)(np.eye(2) + 1.0)
    message = str(info.value)
    assert "no derivative rule for" in message and "srcgrad.adjoint" in message, message
    assert "*args" not in message and __file__.endswith(info.value.filename), message


def growth(t, y, k):
    return k * y * np.cos(t) - y[0] ** 2  # odeint passes a 1-d state, also for a scalar y0


def scalar_ode_loss(y0, k):
    ys = integrate.odeint(growth, y0, np.array([0.0, 0.4, 1.0]), (k,), tfirst=True, rtol=1e-11, atol=1e-11)
    return np.sum(ys**3)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_odeint_with_a_scalar_state_and_tfirst(mode):
    for i in (0, 1):
        got = srcgrad.grad(scalar_ode_loss, wrt=i, mode=mode)(0.8, 0.5)
        assert np.ndim(got) == 0
        np.testing.assert_allclose(got, numeric_grad(scalar_ode_loss, [0.8, 0.5], i, step=1e-5), rtol=1e-6)


def ode_report(k):
    ys, info = integrate.odeint(
        growth, np.array([0.5]), np.array([0.0, 1.0]), (k,), full_output=1, tfirst=True
    )
    return np.sum(ys)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_odeint_full_output_is_refused(mode):
    with pytest.raises(srcgrad.SrcGradError, match="full_output") as info:
        srcgrad.grad(ode_report, mode=mode)(0.5)
    assert info.value.lineno == ode_report.__code__.co_firstlineno + 1
