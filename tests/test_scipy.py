"""Code that uses scipy.special and scipy.stats.norm, differentiated with their built-in rules.

Each rule is checked on its own in test_rules.py; here they meet in models, are compared
with autograd (whose ``autograd.scipy`` wrappers srcgrad also reads) and finite differences,
differentiated twice, and loaded only once the program imports scipy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from oracle import numeric_grad

import srcgrad

scipy_special = pytest.importorskip("scipy.special")
scipy_stats = pytest.importorskip("scipy.stats")
from scipy.special import expit, gammaln, logsumexp  # noqa: E402
from scipy.stats import norm  # noqa: E402

RNG = np.random.default_rng(3)


def negative_binomial_loglik(log_r, logit_p, counts):
    """A model with gammaln, expit and logsumexp (log-likelihood of counts, plus a mixture term)."""
    r = np.exp(log_r)
    p = expit(logit_p)
    ll = gammaln(counts + r) - gammaln(r) - gammaln(counts + 1.0) + r * np.log1p(-p) + counts * np.log(p)
    return np.sum(ll) + logsumexp(np.stack([log_r, logit_p]), axis=0).sum()


def gaussian_loglik(mu, log_sigma, x):
    return np.sum(norm.logpdf(x, mu, np.exp(log_sigma))) + np.sum(scipy_stats.norm.logcdf(mu))


ARGS = {
    negative_binomial_loglik: (RNG.normal(size=4), RNG.normal(size=4), np.array([0.0, 3.0, 1.0, 7.0])),
    gaussian_loglik: (RNG.normal(size=3), RNG.normal(size=3) * 0.3, RNG.normal(size=(5, 3))),
}


@pytest.mark.parametrize("f", list(ARGS), ids=lambda f: f.__name__)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_models_match_finite_differences(f, mode):
    args = ARGS[f]
    for i in (0, 1):
        got = srcgrad.grad(f, wrt=i, mode=mode)(*args)
        np.testing.assert_allclose(got, numeric_grad(f, list(args), i), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", list(ARGS), ids=lambda f: f.__name__)
def test_second_derivatives(f):
    a, b, c = ARGS[f]

    def of_first(a):
        return f(a, b, c)

    srcgrad.check_grads(of_first, a, order=2)


def test_generated_code_spells_scipy_as_a_library():
    source = srcgrad.grad(negative_binomial_loglik).source
    assert "scipy.special.digamma(" in source and "scipy.special.gammaln(" in source, source
    assert "scipy.stats.norm.logpdf(" in srcgrad.grad(gaussian_loglik).source


def test_autograd_scipy_code_resolves_to_the_same_rules():
    agrad = pytest.importorskip("autograd")
    asp = pytest.importorskip("autograd.scipy.special")
    anorm = pytest.importorskip("autograd.scipy.stats.norm")
    anp = pytest.importorskip("autograd.numpy")

    def model(x):
        return anp.sum(asp.gammaln(x) * asp.expit(x) + anorm.logpdf(x, 0.3, 1.5)) + asp.logsumexp(x)

    x = RNG.uniform(0.5, 2.0, size=4)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(srcgrad.grad(model, mode=mode)(x), agrad.grad(model)(x), rtol=1e-10)


def squared(fn, anp):
    def f(x):
        return anp.sum(fn(x) ** 2)

    return f


def test_autograd_agrees_on_each_special_function():
    agrad = pytest.importorskip("autograd")
    asp = pytest.importorskip("autograd.scipy.special")
    anp = pytest.importorskip("autograd.numpy")
    x = RNG.uniform(0.2, 0.8, size=3)
    for name in ("gammaln", "digamma", "erf", "erfc", "expit", "logit", "gamma", "erfinv"):
        f = squared(getattr(asp, name), anp)
        np.testing.assert_allclose(srcgrad.grad(f)(x), agrad.grad(f)(x), rtol=1e-9, err_msg=name)


def test_logsumexp_with_a_negative_weight_and_return_sign_refused():
    def f(a):
        return logsumexp(a, return_sign=True)[0]

    with pytest.raises(srcgrad.SrcGradError):
        srcgrad.grad(f)(RNG.normal(size=3))


def run_python(code: str, cache_dir: str, path) -> dict:
    """Run ``code`` as a script in a new process (srcgrad reads source from files)."""
    script = path / "script.py"
    script.write_text(textwrap.dedent(code))
    env = {**os.environ, "SRCGRAD_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_scipy_is_imported_only_by_programs_that_use_it(tmp_path):
    report = run_python(
        """
        import json, sys
        import numpy as np
        import srcgrad
        def f(x):
            return np.sum(np.tanh(x))
        srcgrad.grad(f)(np.ones(2))
        print(json.dumps({"scipy": "scipy" in sys.modules}))
        """,
        str(tmp_path),
        tmp_path,
    )
    assert report == {"scipy": False}


def test_code_using_scipy_is_kept_in_the_disk_cache(tmp_path):
    module = tmp_path / "uses_scipy.py"
    module.write_text(
        "import numpy as np\nfrom scipy.special import gammaln\n\n\n"
        "def f(x):\n    return np.sum(gammaln(x))\n"
    )
    code = f"""
        import json, sys
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import srcgrad, uses_scipy
        d = srcgrad.grad(uses_scipy.f)
        print(json.dumps({{"value": d(np.array([1.5, 2.5])).tolist()}}))
        """
    cache_dir = str(tmp_path / "cache")
    first = run_python(code, cache_dir, tmp_path)
    assert [p for p in os.listdir(cache_dir) if p.endswith(".json")], "no entry written"
    assert run_python(code, cache_dir, tmp_path) == first
    np.testing.assert_allclose(first["value"], scipy_special.digamma([1.5, 2.5]))
