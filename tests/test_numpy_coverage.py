"""numpy coverage (issue 7): tuple outputs, array methods, decompositions, einsum, indexing.

The registry-wide test (``test_rules.py``) checks each rule on one expression; these check
the same features as users write them (unpacking, attributes of named tuples, methods,
every indexing form), in both modes, against central differences (``srcgrad.check_grads``)
and, for the decompositions, against autograd (a test-only oracle).
"""

import sys
import warnings

import autograd
import numpy as np
import oracle
import pytest

import srcgrad

RNG = np.random.default_rng(7)


def randn(*shape):
    return RNG.standard_normal(shape)


def symmetric(n):
    x = randn(n, n)
    return x + x.T + np.diag(np.arange(n) * 1.5)


# -- outputs that are tuples of arrays of different shapes ------------------------------------


def split_unequal(x):
    a, b = np.split(x, [2])
    return np.sum(a**2) + np.sum(np.sin(b))


def split_some_used(x):
    first, middle, last = np.array_split(x, 3, axis=1)
    return np.sum(first * last[:, :1])


def split_indexed_in_loop(x):
    parts = np.split(x, [1, 3])
    total = 0.0
    for i in range(3):
        total = total + np.sum(parts[i] ** (i + 1))
    return total


def slogdet_fields(a):
    result = np.linalg.slogdet(a)
    return result.sign * result.logabsdet


def eigh_unpacked(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w**2) + np.sum(v**2 * np.arange(3.0))


def eigh_values_only(a):
    return np.sum(np.exp(np.linalg.eigh(a).eigenvalues))


def svd_unpacked(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s**3) + np.sum((u * s) @ vh * a)


def qr_unpacked(a):
    q, r = np.linalg.qr(a)
    return np.sum(np.triu(r) ** 2) + np.sum(q[:, 0] ** 3)


TUPLES = [
    (split_unequal, lambda: [randn(5)]),
    (split_some_used, lambda: [randn(2, 7)]),
    (split_indexed_in_loop, lambda: [randn(6)]),
    (slogdet_fields, lambda: [randn(3, 3) + 3 * np.eye(3)]),
    (eigh_unpacked, lambda: [symmetric(3)]),
    (eigh_values_only, lambda: [symmetric(4)]),
    (svd_unpacked, lambda: [randn(4, 3)]),
    (qr_unpacked, lambda: [randn(4, 3)]),
]


@pytest.mark.parametrize("f, make_args", TUPLES, ids=[f.__name__ for f, _ in TUPLES])
def test_tuple_outputs(f, make_args):
    srcgrad.check_grads(f, *make_args())


def test_tuple_outputs_second_order():
    srcgrad.check_grads(split_unequal, randn(5), order=2)
    srcgrad.check_grads(eigh_unpacked, symmetric(3), order=2)


def test_svd_compute_uv_must_be_literal():
    def flagged(a, flag):
        return np.sum(np.linalg.svd(a, compute_uv=flag))

    with pytest.raises(srcgrad.SrcGradError, match="compute_uv"):
        srcgrad.grad(flagged)(randn(3, 3), False)


# -- the decompositions against autograd ----------------------------------------------------


THIS = sys.modules[__name__]


def autograd_numpy():
    """This module's ``np`` means autograd.numpy in the block."""
    return oracle.autograd_numpy(THIS)


def eigh_loss(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w * np.arange(1.0, 4.0)) + np.sum(np.dot(v * w, v.T) * a) + np.sum(v**4)


def svd_loss(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s**2 * np.arange(1.0, 4.0)) + np.sum(u**4) + np.sum(vh**4)


def svd_values_loss(a):
    return np.sum(np.linalg.svd(a, compute_uv=False) ** 3)


@pytest.mark.parametrize(
    "loss, a",
    [
        (eigh_loss, symmetric(3)),
        (eigh_loss, randn(3, 3)),  # eigh reads the lower triangle: the same convention as autograd
        (svd_loss, randn(5, 3)),
        (svd_loss, randn(3, 5)),
        (svd_values_loss, randn(4, 3)),
    ],
)
def test_decompositions_match_autograd(loss, a):
    with autograd_numpy(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = autograd.grad(loss)(a)
    for mode in ("reverse", "forward"):
        got = srcgrad.grad(loss, mode=mode)(a)
        assert np.allclose(got, expected, rtol=1e-8, atol=1e-10), (mode, got, expected)


def p_norm_loss(x):
    return np.linalg.norm(x, 3) + np.linalg.norm(x, 1.5) ** 2


def nuclear_norm_loss(a):
    return np.linalg.norm(a, "nuc") + np.sum(np.linalg.norm(a, axis=0))


@pytest.mark.parametrize("loss, a", [(p_norm_loss, randn(5)), (nuclear_norm_loss, randn(4, 3))])
def test_norms_match_autograd(loss, a):
    with autograd_numpy():
        expected = autograd.grad(loss)(a)
    for mode in ("reverse", "forward"):
        assert np.allclose(srcgrad.grad(loss, mode=mode)(a), expected, rtol=1e-10), mode


def regularized(w):
    return np.sum(w**2) + 0.1 * np.linalg.norm(w, 1) + np.linalg.norm(w, np.inf) + np.linalg.norm(w)


def cubic_norm(w):
    return np.linalg.norm(w, 3)


def test_norm_second_derivatives():
    """The 1- and max-norms have no curvature; the 2-norm's is exact; the rest are refused."""
    w = randn(4)
    two_norm = np.linalg.norm(w)
    expected = 2.0 * np.eye(4) + (np.eye(4) - np.outer(w, w) / two_norm**2) / two_norm
    v = randn(4)
    assert np.allclose(srcgrad.hessian(regularized)(w), expected, rtol=1e-10)
    assert np.allclose(srcgrad.jacobian(srcgrad.grad(regularized, mode="forward"))(w), expected, rtol=1e-10)
    assert np.allclose(srcgrad.jvp(srcgrad.grad(regularized), (w,), (v,))[1], expected @ v, rtol=1e-10)
    with pytest.raises(NotImplementedError, match="ord=3"):
        srcgrad.hessian(cubic_norm)(w)


# -- array methods ------------------------------------------------------------------------


def method_scans(x):
    return np.sum(x.cumsum(axis=0) * x.cumprod(axis=1))


def method_shapes(x):
    return x.transpose(1, 0).reshape(2, 6).var() + x.flatten().dot(x.ravel()) + x.T.squeeze().prod()


def method_picks(x):
    return x.diagonal().sum() + x.repeat(2, axis=1).std() + x.trace() + x.take([0, 5, 5]).sum()


def method_clip(x):
    return x.clip(0.1).sum() + x.clip(max=0.5).sum() + x.clip(-0.5, 0.5).sum() + x.swapaxes(0, 1)[0, 1]


def method_extrema(x):
    return x.max(axis=0).sum() * x.min() + x.mean(axis=1).sum() + x.std()


def method_no_derivative(x):
    row = x.argmax() // 4
    return x[row].sum() * x.round(1).sum() + x.ravel()[x.argmin()] + x.any() * x.all() * x.sum()


def method_astype(x):
    return np.sum(x.astype(np.float64) ** 2) + np.sum(x.astype(int) * x) + np.sum(x.astype(bool))


def operators_mod_floordiv(x, y):
    return np.sum((x % y) * x + (x // 0.3) * x + x % 0.7)


METHODS = [
    (method_scans, lambda: [RNG.uniform(0.5, 1.5, (3, 4))]),
    (method_shapes, lambda: [randn(3, 4)]),
    (method_picks, lambda: [randn(3, 4)]),
    (method_clip, lambda: [randn(3, 4)]),
    (method_extrema, lambda: [randn(3, 4)]),
    (method_no_derivative, lambda: [randn(3, 4)]),
    (method_astype, lambda: [RNG.uniform(-3.0, 3.0, (3, 4))]),
    (operators_mod_floordiv, lambda: [RNG.uniform(0.1, 0.9, (3, 4)), RNG.uniform(1.1, 2.0, (4,))]),
]


@pytest.mark.parametrize("f, make_args", METHODS, ids=[f.__name__ for f, _ in METHODS])
def test_methods_both_modes(f, make_args):
    srcgrad.check_grads(f, *make_args())


def test_methods_second_order():
    srcgrad.check_grads(method_shapes, randn(3, 4), order=2)
    srcgrad.check_grads(operators_mod_floordiv, RNG.uniform(0.1, 0.9, 4), RNG.uniform(1.1, 2.0, 4), order=2)


def float32_cast(x):
    return np.sum(x.astype(np.float32) ** 2)


def test_astype_float32_derivative():
    x = randn(3)
    for mode in ("reverse", "forward"):
        got = srcgrad.grad(float32_cast, mode=mode)(x)
        assert got.dtype.kind == "f"
        assert np.allclose(got, 2 * x, rtol=1e-6)
    assert srcgrad.grad(float32_cast)(x).dtype == np.float64  # reverse mode: the argument's type
    assert srcgrad.grad(float32_cast)(x.astype(np.float32)).dtype == np.float32


def complex_cast(x):
    return np.sum(np.abs(x.astype(complex)))


def test_astype_to_complex_gives_a_real_gradient():
    x = randn(3)
    got = srcgrad.grad(complex_cast)(x)
    assert not np.iscomplexobj(got)
    np.testing.assert_allclose(got, np.sign(x))


# -- einsum ---------------------------------------------------------------------------------


def einsum_chain(a, b, c):
    return np.sum(np.einsum("ij,jk,kl->il", a, b, c) ** 2)


def einsum_quadratic(x, a):
    return np.einsum("i,ij,j", x, a, x)


def einsum_diagonal(a):
    return np.einsum("ii", a) + np.sum(np.einsum("ii->i", a) ** 2) + np.sum(np.einsum("ij", a) ** 3)


def einsum_ellipsis(a, b):
    return np.sum(np.einsum("...ij,...jk", a, b) ** 2) + np.sum(np.einsum("...i,i->...", a, b[:, 0]))


EINSUM = [
    (einsum_chain, lambda: [randn(2, 3), randn(3, 4), randn(4, 2)]),
    (einsum_quadratic, lambda: [randn(3), randn(3, 3)]),
    (einsum_diagonal, lambda: [randn(3, 3)]),
    (einsum_ellipsis, lambda: [randn(2, 3, 4), randn(4, 2)]),
    (einsum_ellipsis, lambda: [randn(1, 3, 4), randn(4, 2)]),
]


@pytest.mark.parametrize("f, make_args", EINSUM, ids=[f.__name__ for f, _ in EINSUM])
def test_einsum_first_and_second_order(f, make_args):
    args = make_args()
    srcgrad.check_grads(f, *args)
    srcgrad.check_grads(f, *args, order=2)


# -- every indexing form, both modes --------------------------------------------------------


def index_forms(x):
    a = x[1] * x[-1]  # integers, negative
    b = x[::2, 1:] * 2.0 + x[::-2, :-1]  # slices with steps, negative step
    c = x[..., 2] + x[None, :, 0][0]  # ellipsis, None
    d = x[np.array([0, 2, 2]), 1] * x[[1, 0, 1], [3, 3, 0]]  # integer arrays, repeated
    e = x[x > 0.0] ** 2  # boolean mask
    f = x[1:, [0, 2]] * x[np.array([True, False, True])][:, ::3].sum()  # mixed
    return np.sum(a) + np.sum(b) + np.sum(c**2) + np.sum(d) + np.sum(e) + np.sum(f) + x[2, -1]


def test_every_indexing_form_both_modes():
    x = randn(3, 4)
    srcgrad.check_grads(index_forms, x)
    srcgrad.check_grads(index_forms, x, order=2)
