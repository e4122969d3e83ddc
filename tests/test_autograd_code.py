"""Code written for autograd (``import autograd.numpy as anp``) is differentiated by srcgrad.

autograd's wrapped functions resolve, through the registry, to the numpy functions they wrap.
"""

import numpy as np
import pytest

import srcgrad

anp = pytest.importorskip("autograd.numpy")
autograd = pytest.importorskip("autograd")


def layer(w, x):
    return anp.tanh(anp.dot(x, w))


def loss(w, x, y):
    return anp.sum((layer(w, x) - y) ** 2) + 0.1 * anp.sum(anp.exp(w) * anp.sin(w))


def reductions(x):
    """autograd's own versions of numpy functions (mean, linalg.norm, concatenate, hstack) too."""
    joined = anp.concatenate([x, anp.hstack([x, x])], axis=1)
    return anp.mean(anp.cumsum(joined, axis=1) ** 2) + anp.max(x) - anp.linalg.norm(anp.sort(x[:, 0]))


W = np.random.default_rng(0).normal(size=(3, 2))
X = np.random.default_rng(1).normal(size=(5, 3))
Y = np.random.default_rng(2).normal(size=(5, 2))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_autograd_numpy_code(mode):
    got = srcgrad.grad(loss, mode=mode)(W, X, Y)
    np.testing.assert_allclose(got, autograd.grad(loss)(W, X, Y), rtol=1e-10)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_autograd_numpy_newer_rules(mode):
    got = srcgrad.grad(reductions, mode=mode)(X)
    np.testing.assert_allclose(got, autograd.grad(reductions)(X), rtol=1e-10)


def test_autograd_numpy_gradient_of_two_arguments():
    got = srcgrad.grad(loss, wrt=(0, 1))(W, X, Y)
    want = autograd.grad(loss, (0, 1))(W, X, Y)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10)
