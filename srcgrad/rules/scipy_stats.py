"""Derivative rules for ``scipy.stats``: norm, t, gamma, beta and chi2 (with ``loc`` and
``scale``), poisson, multivariate_normal and dirichlet.

Registered when the program imports ``scipy.stats``. Each continuous distribution is given by
the derivatives of its ``logpdf``, with ``z = (x - loc) / scale``; the rules of the other
methods follow from them: ``d pdf = pdf * d logpdf``; ``d cdf / dx`` is the pdf, ``d cdf /
dloc = -pdf`` and ``d cdf / dscale = -pdf * z``; ``sf = 1 - cdf``; ``d logcdf = d cdf / cdf``
(``exp(logpdf - logcdf)``, which stays finite far in the tails). The cdf's derivative in a
shape parameter (t's df, gamma's a) has no closed form: differentiating it is refused with a
NoRuleError. Formulas: the densities in scipy's documentation, ``d gammaln = digamma``.

``scipy.stats.norm.pdf`` is a bound method, a new object at each attribute access: the
registry finds its rule by the distribution object and the function.
"""

import numpy as np  # noqa: F401  (templates name it)
import scipy.stats

from ..runtime import scipy_helpers as rs
from .registry import defrule

names = {"scipy": scipy}
options = dict(elementwise=True, unbroadcast=True, names=names)
z = "((x - loc) / scale)"  # parenthesized: templates raise it to a power
psi = "scipy.special.digamma"


def beside(z_slope: str) -> dict[str, str]:
    """The slopes in x, loc and scale of a logpdf whose slope in z is ``z_slope`` (with its
    ``- log(scale)``)."""
    return {
        "x": f"{z_slope} / scale",
        "loc": f"-{z_slope} / scale",
        "scale": f"-({z} * {z_slope} + 1.0) / scale",
    }


# The slope of each logpdf in each parameter.
LOGPDF_SLOPES = {
    "norm": ("x, loc=0, scale=1", {"x": f"-{z} / scale", "loc": f"{z} / scale", "scale": f"({z} ** 2 - 1.0) / scale"}),
    "t": ("x, df, loc=0, scale=1", {
        **beside(f"(-(df + 1.0) * {z} / (df + {z} ** 2))"),
        "df": f"0.5 * ({psi}((df + 1.0) / 2.0) - {psi}(df / 2.0) - 1.0 / df - np.log1p({z} ** 2 / df) + (df + 1.0) * {z} ** 2 / (df * (df + {z} ** 2)))",
    }),
    "gamma": ("x, a, loc=0, scale=1", {**beside(f"((a - 1.0) / {z} - 1.0)"), "a": f"np.log({z}) - {psi}(a)"}),
    "beta": ("x, a, b, loc=0, scale=1", {
        **beside(f"((a - 1.0) / {z} - (b - 1.0) / (1.0 - {z}))"),
        "a": f"np.log({z}) - {psi}(a) + {psi}(a + b)",
        "b": f"np.log1p(-{z}) - {psi}(b) + {psi}(a + b)",
    }),
    "chi2": ("x, df, loc=0, scale=1", {**beside(f"((df / 2.0 - 1.0) / {z} - 0.5)"), "df": f"0.5 * (np.log({z} / 2.0) - {psi}(df / 2.0))"}),
}  # fmt: skip


def both(slopes: dict[str, str]) -> dict[str, str]:
    """``d_p`` and ``t_p`` templates: the adjoint and the tangent times each slope."""
    return {
        f"{k}_{p}": f"{v} * ({slope})" for p, slope in slopes.items() for k, v in (("d", "g"), ("t", "t"))
    }


for dist, (signature, slopes) in LOGPDF_SLOPES.items():
    obj = getattr(scipy.stats, dist)
    call = f"scipy.stats.{dist}"
    params = ", ".join(p.split("=")[0] for p in signature.split(", "))
    pdf, ratio = f"{call}.pdf({params})", f"np.exp({call}.logpdf({params}) - ans)"  # pdf / cdf, pdf / sf
    cdf_moves = {"x": "", "loc": "-", "scale": f"-{z} * "}  # the cdf's slopes, as multiples of the pdf
    sf_moves = {"x": "-", "loc": "", "scale": f"{z} * "}
    defrule(obj.logpdf, signature, spelling=f"{call}.logpdf", **both(slopes), **options)
    defrule(
        obj.pdf,
        signature,
        spelling=f"{call}.pdf",
        **both({p: f"ans * ({s})" for p, s in slopes.items()}),
        **options,
    )
    defrule(
        obj.cdf,
        signature,
        spelling=f"{call}.cdf",
        **both({p: m + pdf for p, m in cdf_moves.items()}),
        **options,
    )
    defrule(
        obj.logcdf,
        signature,
        spelling=f"{call}.logcdf",
        **both({p: m + ratio for p, m in cdf_moves.items()}),
        **options,
    )
    defrule(
        obj.sf, signature, spelling=f"{call}.sf", **both({p: m + pdf for p, m in sf_moves.items()}), **options
    )
    defrule(
        obj.logsf,
        signature,
        spelling=f"{call}.logsf",
        **both({p: m + ratio for p, m in sf_moves.items()}),
        **options,
    )

# fmt: off
# Poisson, in the rate mu (k and loc shift a lattice: no derivative): logpmf = k log(mu) - mu - log(k!).
poisson = scipy.stats.poisson
defrule(poisson.logpmf, "k, mu, loc=0", d_mu="g * ((k - loc) / mu - 1.0)", t_mu="t * ((k - loc) / mu - 1.0)", zero="k, loc", spelling="scipy.stats.poisson.logpmf", **options)
defrule(poisson.pmf, "k, mu, loc=0", d_mu="g * ans * ((k - loc) / mu - 1.0)", t_mu="t * ans * ((k - loc) / mu - 1.0)", zero="k, loc", spelling="scipy.stats.poisson.pmf", **options)
defrule(poisson.cdf, "k, mu, loc=0", d_mu="-g * scipy.stats.poisson.pmf(np.floor(k), mu, loc)", t_mu="-t * scipy.stats.poisson.pmf(np.floor(k), mu, loc)", zero="k, loc", spelling="scipy.stats.poisson.cdf", **options)
defrule(poisson.sf, "k, mu, loc=0", d_mu="g * scipy.stats.poisson.pmf(np.floor(k), mu, loc)", t_mu="t * scipy.stats.poisson.pmf(np.floor(k), mu, loc)", zero="k, loc", spelling="scipy.stats.poisson.sf", **options)

# The multivariate normal, one point per row of x: with r = cov^-1 (x - mean), d logpdf = -r dx
# + r dmean + (r r^T - cov^-1) / 2 : dcov (a full, nonsingular cov; the adjoint is symmetric).
mvn = scipy.stats.multivariate_normal
R = "mvn_solved(x, mean, cov, allow_singular)"
mvn_names = {**names, "mvn_solved": rs.mvn_solved, "mvn_times": rs.mvn_times, "mvn_dot": rs.mvn_dot, "mvn_cov_grad": rs.mvn_cov_grad, "mvn_cov_jvp": rs.mvn_cov_jvp}
defrule(mvn.logpdf, "x, mean=0.0, cov=1.0, allow_singular=False", d_x=f"-mvn_times(g, {R})", d_mean=f"mvn_times(g, {R})", d_cov=f"mvn_cov_grad(g, {R}, cov)", t_x=f"-mvn_dot(t, {R}, ans)", t_mean=f"mvn_dot(t, {R}, ans)", t_cov=f"mvn_cov_jvp(t, {R}, cov, ans)", zero="allow_singular", unbroadcast=True, spelling="scipy.stats.multivariate_normal.logpdf", names=mvn_names)
defrule(mvn.pdf, "x, mean=0.0, cov=1.0, allow_singular=False", d_x=f"-mvn_times(g * ans, {R})", d_mean=f"mvn_times(g * ans, {R})", d_cov=f"mvn_cov_grad(g * ans, {R}, cov)", t_x=f"-ans * mvn_dot(t, {R}, ans)", t_mean=f"ans * mvn_dot(t, {R}, ans)", t_cov=f"ans * mvn_cov_jvp(t, {R}, cov, ans)", zero="allow_singular", unbroadcast=True, spelling="scipy.stats.multivariate_normal.pdf", names=mvn_names)

# The Dirichlet distribution, components along x's first axis: logpdf = gammaln(sum(alpha)) -
# sum(gammaln(alpha)) + sum((alpha - 1) log(x)).
dirichlet = scipy.stats.dirichlet
A = "dirichlet_alpha(alpha, x)"
SLOPE_ALPHA = f"({psi}(np.sum(alpha)) - {psi}({A}) + np.log(x))"
dirichlet_names = {**names, "dirichlet_alpha": rs.dirichlet_alpha}
defrule(dirichlet.logpdf, "x, alpha", d_x=f"g * ({A} - 1.0) / x", d_alpha=f"np.reshape(unbroadcast(g * {SLOPE_ALPHA}, {A}), np.shape(alpha))", t_x=f"np.reshape(np.sum(t * ({A} - 1.0) / x, axis=0), np.shape(ans))", t_alpha=f"np.reshape(np.sum(np.reshape(t, np.shape({A})) * {SLOPE_ALPHA}, axis=0), np.shape(ans))", spelling="scipy.stats.dirichlet.logpdf", names=dirichlet_names)
defrule(dirichlet.pdf, "x, alpha", d_x=f"g * ans * ({A} - 1.0) / x", d_alpha=f"np.reshape(unbroadcast(g * ans * {SLOPE_ALPHA}, {A}), np.shape(alpha))", t_x=f"ans * np.reshape(np.sum(t * ({A} - 1.0) / x, axis=0), np.shape(ans))", t_alpha=f"ans * np.reshape(np.sum(np.reshape(t, np.shape({A})) * {SLOPE_ALPHA}, axis=0), np.shape(ans))", spelling="scipy.stats.dirichlet.pdf", names=dirichlet_names)
# fmt: on
