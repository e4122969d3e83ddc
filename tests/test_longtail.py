"""numpy's long tail (issue 15): eig and eigvals, lstsq, quantiles, logspace and geomspace,
unique and histogram, the functions that take the user's callables (piecewise,
apply_along_axis, vectorize), np.prod's third derivative and elementwise_grad in forward mode.

Each is written as users write it and checked in both modes against central differences, and
against autograd where autograd differentiates it (eig, prod, elementwise_grad), to second
order where autograd has that too. What has no derivative is refused with a SrcGradError.
The rules one by one are in test_rules.py.
"""

from __future__ import annotations

import sys
import warnings

import autograd
import numpy as np
import oracle
import pytest
from oracle import numeric_grad

import srcgrad

RNG = np.random.default_rng(15)
THIS = sys.modules[__name__]
MODES = ("reverse", "forward")


def check(f, args, wrt=(0,), rtol=1e-5, atol=1e-7, step=1e-6):
    """srcgrad's gradient of ``f`` in both modes against central differences, argument by argument."""
    for i in wrt:
        want = numeric_grad(f, list(args), i, step)
        for mode in MODES:
            got = srcgrad.grad(f, i, mode=mode)(*args)
            np.testing.assert_allclose(
                got, want, rtol=rtol, atol=atol, err_msg=f"{f.__name__} wrt {i} {mode}"
            )
            assert np.shape(got) == np.shape(args[i])


def as_autograd(f, args, wrt=0, operator=autograd.grad):
    """autograd's derivative of ``f`` with this module's ``np`` meaning autograd.numpy."""
    with oracle.autograd_numpy(THIS), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return operator(f, wrt)(*args)


def distinct(*shape):
    return RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.37 + RNG.uniform(0.0, 0.1, shape)


# -- quantiles and percentiles ----------------------------------------------------------------


def interquartile(x):
    lo, hi = np.percentile(x, [25.0, 75.0])
    return hi - lo


def robust_scale(x, q):
    return np.sum((x - np.median(x, axis=0)) / np.quantile(x, q, axis=0) ** 2)


def nan_quantiles(x):
    return np.sum(np.nanquantile(x, [0.2, 0.9], axis=1) ** 2) + np.nanpercentile(x, 40.0)


def quantile_in_q(q, x):
    return np.sum(np.quantile(x, q, axis=-1, keepdims=True) * np.arange(1.0, 4.0)[:, None, None])


def test_quantiles_in_the_data_and_in_q():
    check(interquartile, [distinct(9)])
    check(robust_scale, [distinct(6, 3), 0.7], wrt=(0, 1))
    x = np.where(RNG.random((3, 7)) < 0.25, np.nan, distinct(3, 7))
    x[0, 0] = np.nan
    check(nan_quantiles, [x])
    check(quantile_in_q, [np.array([0.15, 0.52, 0.93]), distinct(2, 6)], wrt=(0, 1))


def test_quantile_derivative_in_q_is_the_slope_between_neighbouring_order_statistics():
    x = np.array([3.0, -1.0, 0.5, 2.0, 7.0])  # sorted: -1, 0.5, 2, 3, 7
    for mode in MODES:
        # q = 0.6: position 2.4, between 2 and 3: slope (3 - 2) * (n - 1)
        assert srcgrad.grad(lambda_free_quantile, 0, mode=mode)(0.6, x) == pytest.approx(4.0)
        # exactly at an order statistic (position 2): the slope of the segment that starts there
        assert srcgrad.grad(lambda_free_quantile, 0, mode=mode)(0.5, x) == pytest.approx(4.0)
        # and in the data: 0.6 of the way from 2 to 3
        np.testing.assert_allclose(
            srcgrad.grad(lambda_free_quantile, 1, mode=mode)(0.6, x), [0.4, 0, 0, 0.6, 0]
        )


def lambda_free_quantile(q, x):
    return np.quantile(x, q)


def quantile_second(x):
    return np.sum(np.percentile(x, [30.0, 60.0], axis=1) ** 3)


def test_quantiles_second_order():
    srcgrad.check_grads(quantile_second, distinct(3, 5), order=2)


def weibull(x):
    return np.quantile(x, 0.3, method="weibull")


def test_other_quantile_methods_are_refused():
    for mode in MODES:
        with pytest.raises(srcgrad.SrcGradError, match="method"):
            srcgrad.grad(weibull, mode=mode)(distinct(5))


# -- logspace and geomspace ---------------------------------------------------------------------


def log_grid(a, b, base):
    return np.sum(np.logspace(a, b, 6, base=base) * np.arange(6.0)) + np.sum(np.logspace(a, 2.0, 3))


def geometric(a, b):
    return np.sum(np.geomspace(a, b, 7) ** 2) + np.sum(np.geomspace(-b, -a, 4, endpoint=False))


def log_grid_of_arrays(a):
    return np.sum(np.logspace(a, 2.0, 3))


def test_logspace_and_geomspace():
    check(log_grid, [0.3, 1.1, 2.5], wrt=(0, 1, 2))
    check(geometric, [0.5, 3.0], wrt=(0, 1))
    srcgrad.check_grads(geometric, 0.5, 3.0, order=2)
    for mode in MODES:
        with pytest.raises(srcgrad.SrcGradError, match="scalar"):
            srcgrad.grad(log_grid_of_arrays, mode=mode)(np.array([0.1, 0.2]))


# -- unique and histogram -------------------------------------------------------------------


def unique_sum(x):
    return np.sum(np.unique(x) * np.arange(1.0, 1.0 + np.size(np.unique(x))))


def unique_counts(x):
    values, counts = np.unique(x, return_counts=True)
    return np.sum(values**2 * counts)


def unique_everything(x):
    values, index, inverse, counts = np.unique(x, True, True, True)
    return np.sum(values[inverse] * x) + np.sum(values * index) + np.sum(counts)


def unique_rows(x):
    return np.sum(np.unique(x, axis=0) ** 2 * np.arange(1.0, 3.0))


def test_unique_values_are_a_gather():
    check(unique_sum, [distinct(6)])
    check(unique_counts, [distinct(2, 3)])
    check(unique_everything, [distinct(5)])
    check(unique_rows, [distinct(3, 2)])


def test_tied_entries_share_the_derivative_of_their_value():
    """Where entries tie, only moves that keep them together have a derivative: the tied
    entries' derivatives add up to it, and srcgrad splits it evenly (as ties of np.max)."""
    x = np.array([0.5, 2.0, 0.5, -1.0])
    for f in (unique_sum, unique_counts):
        step = np.array([1e-6, 0.0, 1e-6, 0.0])  # both copies of 0.5 together
        along = (f(x + step) - f(x - step)) / 2e-6
        for mode in MODES:
            got = srcgrad.grad(f, mode=mode)(x)
            assert got[0] == pytest.approx(got[2])
            assert got[0] + got[2] == pytest.approx(along, rel=1e-6)


def unique_flag(x, flag):
    return np.sum(np.unique(x, return_counts=flag)[0])


def histogram_of(x):
    counts, edges = np.histogram(x, bins=3)
    return np.sum(counts * edges[:-1])


def histogram_weights(x, data):
    counts, _ = np.histogram(data, bins=4)
    return np.sum(counts * x)


def histogram_edges(x):
    counts, edges = np.histogram(np.arange(5.0), bins=np.sort(x))
    return np.sum(edges**2)


def histogram_stopped(x):
    counts, edges = np.histogram(srcgrad.stop_gradient(x), bins=3)
    return np.sum(counts * edges[1:]) * np.sum(x**2)


def test_histogram_has_no_derivative_and_says_so():
    x = distinct(8)
    for mode in MODES:
        with pytest.raises(srcgrad.NoRuleError, match="np.histogram has no derivative") as info:
            srcgrad.grad(histogram_of, mode=mode)(x)
        assert info.value.filename.endswith("test_longtail.py") and "np.histogram" in info.value.line
        with pytest.raises(srcgrad.NoRuleError, match="'bins'"):  # edges given as bins come back
            srcgrad.grad(histogram_edges, mode=mode)(x)
        # through its counts only, with the data constant: no derivative flows through it
        check(histogram_weights, [distinct(4), x])
        # with the data held constant: the derivative of the rest, the counts and edges fixed
        counts, edges = np.histogram(x, bins=3)
        got = srcgrad.grad(histogram_stopped, mode=mode)(x)
        np.testing.assert_allclose(got, np.sum(counts * edges[1:]) * 2.0 * x)
    with pytest.raises(srcgrad.SrcGradError, match="return_counts"):
        srcgrad.grad(unique_flag)(x, True)


# -- eig and eigvals ----------------------------------------------------------------------------


def real_spectrum(a):
    """Real eigenvalues (well separated), eigenvectors up to sign: |v| and w."""
    w, v = np.linalg.eig(a)
    return np.sum(np.real(w) ** 2 * np.arange(1.0, 4.0)) + np.sum(np.abs(v) ** 3)


def complex_spectrum(a):
    w, v = np.linalg.eig(a)
    return np.sum(np.abs(w) * np.arange(1.0, 4.0)) + np.sum(np.abs(v) ** 2 * np.arange(9.0).reshape(3, 3))


def eigenvalue_moduli(a):
    return np.sum(np.abs(np.linalg.eigvals(a)) ** 3)


def eigenvalue_moduli_of_eig(a):  # the same for autograd, which has eig's derivative only
    return np.sum(np.abs(np.linalg.eig(a)[0]) ** 3)


def phase_dependent(a):
    """Depends on each complex eigenvector's phase, which numpy fixes (largest entry real)."""
    w, v = np.linalg.eig(a)
    return np.sum(np.real(v) * np.arange(9.0).reshape(3, 3)) + np.sum(np.imag(v) ** 2)


def real_matrix():
    return 0.3 * RNG.standard_normal((3, 3)) + np.diag([0.0, 1.5, 3.0])


def rotation_matrix():
    a = 0.3 * RNG.standard_normal((3, 3))
    a[0, 1] += 2.0
    a[1, 0] -= 2.0
    a[2, 2] += 3.0
    return a


@pytest.mark.parametrize(
    "f, same, make",
    [
        (real_spectrum, real_spectrum, real_matrix),
        (complex_spectrum, complex_spectrum, rotation_matrix),
        (complex_spectrum, complex_spectrum, real_matrix),
        (eigenvalue_moduli, eigenvalue_moduli_of_eig, rotation_matrix),
    ],
    ids=lambda v: v.__name__,
)
def test_eig_as_autograd(f, same, make):
    a = make()
    want = as_autograd(same, (a,))
    for mode in MODES:
        np.testing.assert_allclose(srcgrad.grad(f, mode=mode)(a), want, rtol=1e-8, atol=1e-10)
    check(f, [a])


def test_eig_keeps_numpys_phase_of_complex_eigenvectors():
    """autograd's eig leaves the phase free (right for |v|); srcgrad follows numpy's choice, so
    finite differences agree for every function of the eigenvectors."""
    check(phase_dependent, [rotation_matrix()])


def eigenvalue_energy(a):
    w = np.linalg.eigvals(a)
    return np.sum(np.real(w * np.conj(w)) ** 2 * np.arange(1.0, 4.0))


def eigenvalue_energy_of_eig(a):
    w = np.linalg.eig(a)[0]
    return np.sum(np.real(w * np.conj(w)) ** 2 * np.arange(1.0, 4.0))


def eigenvector_energy(a):
    w, v = np.linalg.eig(a)
    return np.sum(np.real(v * np.conj(v)) ** 2 * np.arange(9.0).reshape(3, 3)) + np.sum(np.real(w))


def test_eig_second_order_as_autograd():
    """(Second derivatives of np.abs of complex values are refused: these use z * conj(z).)"""
    for make in (rotation_matrix, real_matrix):
        a = make()
        want = as_autograd(eigenvalue_energy_of_eig, (a,), operator=autograd.hessian)
        np.testing.assert_allclose(srcgrad.hessian(eigenvalue_energy)(a), want, rtol=1e-6, atol=1e-8)
        want = as_autograd(eigenvector_energy, (a,), operator=autograd.hessian)
        np.testing.assert_allclose(srcgrad.hessian(eigenvector_energy)(a), want, rtol=1e-6, atol=1e-8)


def complex_input(z):
    return np.sum(np.abs(np.linalg.eigvals(z)) ** 2) + np.sum(np.abs(np.linalg.eig(z)[1][0]))


def complex_input_of_eig(z):
    return np.sum(np.abs(np.linalg.eig(z)[0]) ** 2) + np.sum(np.abs(np.linalg.eig(z)[1][0]))


def test_eig_of_a_complex_matrix_as_autograd():
    z = rotation_matrix() + 0.4j * RNG.standard_normal((3, 3))
    want = as_autograd(complex_input_of_eig, (z,))
    for mode in MODES:
        np.testing.assert_allclose(srcgrad.grad(complex_input, mode=mode)(z), want, rtol=1e-8, atol=1e-10)


def eigenvalue_sum(a):
    return np.sum(np.linalg.eigvals(a))


def test_a_complex_output_of_eigvals_is_refused():
    """The sum of a real matrix's eigenvalues is real, but numpy returns it complex: grad says so."""
    for mode in MODES:
        with pytest.raises(srcgrad.SrcGradError, match="complex"):
            srcgrad.grad(eigenvalue_sum, mode=mode)(rotation_matrix())


# -- lstsq --------------------------------------------------------------------------------------


def least_squares(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b, rcond=None)
    return np.sum(x**2 * np.arange(1.0, 4.0)[:, None]) + np.sum(residuals) + np.sum(s**2) + rank


def fit(a, b):
    coef = np.linalg.lstsq(a, b)[0]
    return np.sum((a @ coef - b) ** 2) + np.sum(coef**3)


def minimum_norm(a, b):
    return np.sum(np.linalg.lstsq(a, b)[0] ** 3)


def test_lstsq():
    check(least_squares, [RNG.standard_normal((6, 3)), RNG.standard_normal((6, 2))], wrt=(0, 1))
    check(fit, [RNG.standard_normal((5, 3)), RNG.standard_normal(5)], wrt=(0, 1))
    check(minimum_norm, [RNG.standard_normal((2, 4)), RNG.standard_normal(2)], wrt=(0, 1))
    srcgrad.check_grads(fit, RNG.standard_normal((5, 3)), RNG.standard_normal(5), order=2)


# -- functions that take the user's callables ------------------------------------------------------


def soft(v):
    return np.log1p(np.exp(v))


def piecewise_loss(x, w):
    y = np.piecewise(x, [x < -0.5, x > 0.5], [soft, lambda v: v * w + np.sin(v), 0.25])
    return np.sum(y**2)


def piecewise_overlapping(x):
    """Later conditions win where conditions overlap, as in numpy; the square root is never
    evaluated on the negative entries (no NaN in the derivative)."""
    y = np.piecewise(x, [x > -1.0, x > 0.0], [lambda v: v**3, np.sqrt])
    return np.sum(y * np.arange(1.0, 7.0))


def piecewise_one_condition(x):
    return np.sum(np.piecewise(x, (x > -0.5) & (x < 0.5), [np.sin, lambda v: v**2]) * np.arange(6.0))


def piecewise_with_arguments(x, w):
    return np.sum(
        np.piecewise(x, [x < 0.0], [lambda v, s, k=1.0: v * s * k, lambda v, s, k=1.0: v**2 + s], w, k=2.0)
    )


def row_norm(r):
    return np.sqrt(np.sum(r**2))


def along_axis(a):
    return np.sum(np.apply_along_axis(row_norm, 1, a) * np.arange(1.0, 4.0))


def along_axis_arrays(a, w):
    out = np.apply_along_axis(lambda r, s: np.outer(r, np.cumsum(r)) * s, 0, a, w)
    return np.sum(out * np.arange(out.size).reshape(out.shape))


def branchy(v):
    if v > 0.0:
        return v**2
    return np.sin(v) * 3.0


vectorized = np.vectorize(branchy)


@np.vectorize
def decorated(v, w):
    total = 0.0
    for k in range(3):
        total = total + np.exp(v * k) * w
    return total


def vectorize_loss(x, y):
    return np.sum(vectorized(x) * np.arange(6.0).reshape(2, 3)) + np.sum(decorated(x, y))


def vectorize_inline(x):
    return np.sum(np.vectorize(lambda v: np.tanh(v) * v)(x))


def test_callables_are_lowered_and_differentiated():
    x = np.array([-1.2, -0.7, -0.2, 0.3, 0.8, 1.4])
    check(piecewise_loss, [x, 0.7], wrt=(0, 1))
    check(piecewise_overlapping, [x])
    check(piecewise_with_arguments, [x, 0.7], wrt=(0, 1))
    check(piecewise_one_condition, [x])
    check(along_axis, [RNG.standard_normal((3, 4))])
    check(along_axis_arrays, [RNG.standard_normal((3, 2)), 1.5], wrt=(0, 1))
    check(vectorize_loss, [np.reshape(x, (2, 3)), np.array([0.3, -0.4, 1.1])], wrt=(0, 1))
    check(vectorize_inline, [x])


def test_callables_second_order():
    x = np.array([-1.2, -0.7, -0.2, 0.3, 0.8, 1.4])
    srcgrad.check_grads(piecewise_loss, x, 0.7, order=2)
    srcgrad.check_grads(along_axis, RNG.standard_normal((3, 4)), order=2)
    srcgrad.check_grads(vectorize_inline, x, order=2)


def test_lowered_code_reads_as_the_loop_numpy_runs():
    source = srcgrad.grad(along_axis).source
    assert "row = rows[i]" in source and "join_rows(results" in source, source
    source = srcgrad.grad(piecewise_loss).source
    assert "piecewise_join(x, [mask, mask_1, otherwise]" in source, source


def conditions_from_a_variable(x):
    conds = [x < 0.0, x >= 0.0]
    return np.sum(np.piecewise(x, conds, [np.sin, np.cos]))


def signature(x):
    return np.sum(np.vectorize(np.sin, signature="()->()")(x))


with_signature = np.vectorize(np.sin, signature="()->()")


def vectorize_with_signature(x):
    return np.sum(with_signature(x))


def unknown_function(x, f):
    return np.sum(np.apply_along_axis(f, 0, x))


def pieces_unknown(x, f):
    return np.sum(np.piecewise(x, [x > 0.0], [f]))


def test_what_cannot_be_lowered_is_refused_at_its_line():
    x = np.array([-0.5, 0.5])
    for f, args in (
        (conditions_from_a_variable, (x,)),
        (signature, (x,)),
        (vectorize_with_signature, (x,)),
        (unknown_function, (x, np.sum)),
    ):
        with pytest.raises(srcgrad.SrcGradError) as info:
            srcgrad.grad(f)(*args)
        assert info.value.filename.endswith("test_longtail.py"), (f, info.value)
    with pytest.raises(srcgrad.SrcGradError, match="np.piecewise"):
        srcgrad.grad(pieces_unknown)(x, np.sin)


# -- np.prod's third derivative -----------------------------------------------------------------


def product(x):
    return np.prod(x) * 1.5 + np.sum(np.prod(x * x[::-1], axis=0))


def test_third_derivative_of_prod():
    x = np.array([0.7, -1.2, 0.4, 2.0])
    want = as_autograd(product, (x,), operator=lambda f, wrt: autograd.jacobian(autograd.hessian(f, wrt)))
    third = srcgrad.jacobian(srcgrad.hessian(product))
    np.testing.assert_allclose(third(x), want, rtol=1e-9, atol=1e-12)
    # with a zero entry (autograd divides by it): against differences of srcgrad's Hessian
    x[1] = 0.0
    hess = srcgrad.hessian(product)
    got = third(x)
    for i in range(4):
        e = np.eye(4)[i] * 1e-5
        np.testing.assert_allclose(got[..., i], (hess(x + e) - hess(x - e)) / 2e-5, atol=1e-6)
    with pytest.raises(srcgrad.NoRuleError, match="prod_others_jvp2"):  # the fourth
        srcgrad.hessian(srcgrad.hessian(plain_product))(x)


def plain_product(x):
    return np.prod(x)


# -- elementwise_grad in forward mode --------------------------------------------------------------


def elementwise(x):
    y = np.tanh(x) * 2.0
    for _ in range(3):
        y = y * x + np.sin(y)
    return np.where(x > 0.0, y**2, np.exp(y))


def scaled(x, w):
    return np.exp(x) * w


def not_elementwise(x):
    return x * np.sum(x)


def broadcast_output(x):
    return x * np.ones((2, 1))


def test_elementwise_grad_in_forward_mode():
    x = np.linspace(-1.0, 1.0, 7)
    want = as_autograd(elementwise, (x,), operator=autograd.elementwise_grad)
    np.testing.assert_allclose(srcgrad.elementwise_grad(elementwise, mode="forward")(x), want, rtol=1e-12)
    w = x + 2.0
    got = srcgrad.elementwise_grad(scaled, wrt=(0, 1), mode="forward")(x, w)
    for g, i in zip(got, (0, 1)):
        np.testing.assert_allclose(g, as_autograd(scaled, (x, w), i, autograd.elementwise_grad), rtol=1e-12)
    assert srcgrad.elementwise_grad(scaled, mode="forward")(0.5, 2.0) == pytest.approx(2.0 * np.exp(0.5))
    with pytest.raises(srcgrad.SrcGradError, match="np.sum is not elementwise") as info:
        srcgrad.elementwise_grad(not_elementwise, mode="forward")(x)
    assert info.value.filename.endswith("test_longtail.py")
    with pytest.raises(srcgrad.SrcGradError, match="shaped like its argument"):
        srcgrad.elementwise_grad(broadcast_output, mode="forward")(x)


# -- the disk cache ---------------------------------------------------------------------------------

CACHED = """
import numpy as np

def loss(a, x):
    w, v = np.linalg.eig(a)
    y = np.piecewise(x, [x < 0.0], [np.sin, lambda t: t**2])
    return np.sum(np.abs(w)) + np.sum(np.quantile(x, [0.3, 0.6])) + np.sum(y)
"""

DRIVER = """
import json, sys
import numpy as np
import srcgrad, srcgrad.api
import cached
if sys.argv[1] == "again":  # the entry on disk must serve: no transform in this process
    srcgrad.api.normalize = None
a = np.array([[1.0, 2.0], [-2.0, 0.5]])
x = np.array([0.3, -0.2, 1.0])
print(json.dumps([g.tolist() for g in srcgrad.grad(cached.loss, (0, 1))(a, x)]))
"""


def test_gradients_with_long_tail_helpers_are_kept_on_disk(tmp_path):
    import os
    import subprocess
    from pathlib import Path

    (tmp_path / "cached.py").write_text(CACHED)
    (tmp_path / "driver.py").write_text(DRIVER)
    root = str(Path(__file__).resolve().parents[1])
    env = {
        **os.environ,
        "SRCGRAD_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.pathsep.join([root, str(tmp_path)]),
    }
    outputs = []
    for step in ("first", "again"):
        done = subprocess.run(
            [sys.executable, str(tmp_path / "driver.py"), step],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.splitlines()[-1])
    assert outputs[0] == outputs[1]
