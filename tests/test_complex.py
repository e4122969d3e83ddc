"""Complex numbers, as autograd defines them: the gradient of a real f of z = u + iv is
df/du - i df/dv, in reverse and forward mode; a real argument's gradient is real whatever
values it meets; grad of a complex output is an error naming the return line."""

from __future__ import annotations

import types
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import srcgrad

RNG = np.random.default_rng(7)
z = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
Z = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
x = RNG.standard_normal(4)
X = RNG.standard_normal((3, 3))
c = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
z0 = 1.0 + 2.0j  # a complex scalar (Python complex)


def abs2(z):
    return np.abs(z) ** 2


def abs_sum(z):
    return np.sum(np.abs(z))


def norm(z):
    return np.linalg.norm(z)


def norm_fro(Z):
    return np.linalg.norm(Z)


def norm_1(z):
    return np.linalg.norm(z, 1)


def norm_nuc(Z):
    return np.linalg.norm(Z, "nuc")


def norm_rows(Z):
    return np.sum(np.linalg.norm(Z, axis=1) ** 3)


def var(z):
    return np.var(z)


def std(z):
    return np.std(z * 2.0, ddof=1)


def var_axis(Z):
    return np.sum(np.var(Z, axis=0) * np.array([1.0, 2.0, 3.0]))


def singular_values(Z):
    return np.sum(np.linalg.svd(Z, compute_uv=False) ** 2 + np.linalg.svd(Z, compute_uv=False))


def singular_values_of_svd(Z):
    u, s, vh = np.linalg.svd(Z)
    return np.sum(s**3)


def times(x, z):
    return np.sum(np.abs(x * z) ** 2)


def plus(x, z):
    return np.sum(np.abs(x + z))


def dot(x, z):
    return np.abs(np.dot(x, z)) ** 2


def kron(x, z):
    return np.sum(np.abs(np.kron(x, z)))


def einsum(X, Z):
    return np.sum(np.abs(np.einsum("ij,jk->ik", X, Z)) ** 2)


def matmul(X, Z):
    return np.sum(np.abs(X @ Z))


def elementwise(z):
    y = np.exp(z) * np.sin(z) - np.cos(z) / 3.0 + np.tanh(z * 0.5) + np.sqrt(z) + np.log(z)
    return np.sum(np.abs(y) ** 2)


def powers(z):
    return np.sum(np.abs(z**3 + z**2.5 + np.power(z, 1.5) - 2.0**z))


def parts(z):
    return np.sum(np.real(z) * np.imag(z) ** 2 + np.real(np.conj(z) * c * z))


def attributes(z):
    return np.sum(z.real * z.imag**2 + (z.conj() * z).real)


def angle(z):
    return np.sum(np.angle(z) ** 2)


def sums(z):
    return np.abs(np.sum(z * c)) + np.abs(np.mean(z * z)) ** 2


def phase(x):
    return np.sum(np.real(np.exp(1j * x) * c))


def modulus(x):
    return np.sum(np.abs(x * c))


def mixed_then_real(z, x):
    return np.real(np.sum(np.abs(z) * x * c))


def cast(x):
    return np.sum(np.abs(x.astype(complex) * c))


def loop(z, n):
    for _ in range(n):
        z = z * (0.5 + 0.1j) + np.sin(z)
    return np.sum(np.abs(z) ** 2)


def items(z):
    return np.abs(z[0] * z[1]) + np.abs(z[2]) * np.real(z[3] * 1j)


# (function, arguments, wrt): compared with autograd in both modes
AUTOGRAD_CASES = [
    (abs2, (z0,), 0),
    (abs_sum, (z,), 0),
    (norm, (z,), 0),
    (norm_fro, (Z,), 0),
    (norm_rows, (Z,), 0),
    (var, (z,), 0),
    (std, (z,), 0),
    (var_axis, (Z,), 0),
    (singular_values, (Z,), 0),
    (times, (x, z), 0),
    (times, (x, z), 1),
    (plus, (x, z), 0),
    (plus, (x, z), 1),
    (dot, (x, z), 0),
    (dot, (x, z), 1),
    (kron, (x, z), 0),
    (kron, (x, z), 1),
    (einsum, (X, Z), 0),
    (einsum, (X, Z), 1),
    (matmul, (X, Z), 0),
    (matmul, (X, Z), 1),
    (elementwise, (z,), 0),
    (powers, (z,), 0),
    (parts, (z,), 0),
    (angle, (z,), 0),
    (sums, (z,), 0),
    (phase, (x,), 0),
    (modulus, (x,), 0),
    (mixed_then_real, (z, x), 0),
    (mixed_then_real, (z, x), 1),
    (cast, (x,), 0),
    (loop, (z, 3), 0),
    (items, (z,), 0),
]


def _autograd_version(f):
    """``f`` reading autograd.numpy where it reads numpy."""
    return types.FunctionType(f.__code__, {**f.__globals__, "np": anp}, f.__name__)


def _autograd_grad(f, args, wrt):
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # autograd's own ComplexWarning where a real input meets complex values
        return autograd.grad(_autograd_version(f), wrt)(*args)


def _ids(case):
    return f"{case[0].__name__}-{case[2]}"


@pytest.mark.parametrize("case", AUTOGRAD_CASES, ids=[_ids(c) for c in AUTOGRAD_CASES])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_grad_as_autograd(case, mode):
    f, args, wrt = case
    want = _autograd_grad(f, args, wrt)
    got = srcgrad.grad(f, wrt, mode=mode)(*args)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    arg = args[wrt]
    assert np.iscomplexobj(got) == np.iscomplexobj(arg), (
        "a real argument gets a real gradient, a complex one a complex"
    )
    assert np.shape(got) == np.shape(arg)


def complex_finite_differences(f, args, wrt, eps=1e-6):
    """df/du - i df/dv by central differences, element by element."""
    arg = np.asarray(args[wrt], dtype=complex)
    out = np.zeros(arg.shape, dtype=complex)
    for index in np.ndindex(arg.shape):
        for step, weight in ((1.0, 1.0), (1j, -1j)):
            moved = []
            for sign in (1.0, -1.0):
                a = arg.copy()
                a[index] += sign * eps * step
                call = list(args)
                call[wrt] = a if arg.ndim else complex(a)
                moved.append(f(*call))
            out[index] += weight * (moved[0] - moved[1]) / (2 * eps)
    return out if arg.ndim else complex(out)


def vdot(z, x):
    return np.abs(np.vdot(z, x * c)) ** 2


def vdot_real(x, z):
    return np.abs(np.vdot(x * c, z)) ** 2


# Functions autograd does not differentiate (ord=1, nuc, vdot, .real): finite differences.
FD_CASES = [
    (norm_1, (z,), 0),
    (norm_nuc, (Z,), 0),
    (singular_values_of_svd, (Z,), 0),
    (vdot, (z, x), 0),
    (vdot_real, (x, z), 1),
    (attributes, (z,), 0),
]


# (forward mode through complex singular vectors is refused: test_refused checks it)
FD_RUNS = [
    (c, m)
    for c in FD_CASES
    for m in ("reverse", "forward")
    if (c[0], m) != (singular_values_of_svd, "forward")
]


@pytest.mark.parametrize("case, mode", FD_RUNS, ids=[f"{_ids(c)}-{m}" for c, m in FD_RUNS])
def test_grad_as_finite_differences(case, mode):
    f, args, wrt = case
    want = complex_finite_differences(f, args, wrt)
    got = srcgrad.grad(f, wrt, mode=mode)(*args)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_the_example_of_the_issue():
    assert srcgrad.grad(abs2)(1 + 2j) == 2 - 4j  # autograd's and JAX's value
    assert srcgrad.grad(abs2, mode="forward")(1 + 2j) == 2 - 4j


def test_real_arguments_get_real_gradients_of_every_operator():
    for f in (times, dot, kron, plus):
        want = _autograd_grad(f, (x, z), 0)
        value, got = srcgrad.value_and_grad(f)(x, z)
        assert not np.iscomplexobj(got)
        np.testing.assert_allclose(got, want, rtol=1e-10)
        assert value == pytest.approx(f(x, z))
        out, pullback = srcgrad.vjp(f, x, z)
        gx, gz = pullback(1.0)
        assert not np.iscomplexobj(gx) and np.iscomplexobj(gz)
        np.testing.assert_allclose(gx, want, rtol=1e-10)
        np.testing.assert_allclose(gz, _autograd_grad(f, (x, z), 1), rtol=1e-10)


def elementwise_modulus(x):
    return np.abs(x * c) ** 2


def test_elementwise_grad_and_jacobian():
    want = autograd.elementwise_grad(_autograd_version(elementwise_modulus))(x)
    got = srcgrad.elementwise_grad(elementwise_modulus)(x)
    assert not np.iscomplexobj(got)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    jac = autograd.jacobian(_autograd_version(elementwise_modulus))(x)
    np.testing.assert_allclose(srcgrad.jacobian(elementwise_modulus)(x), jac, rtol=1e-10)  # forward passes
    jac = autograd.jacobian(_autograd_version(two_moduli))(x)
    np.testing.assert_allclose(srcgrad.jacobian(two_moduli)(x), jac, rtol=1e-10)  # reverse passes


def two_moduli(x):
    return np.abs(x * c)[:2] ** 2


def moduli(z):
    return np.abs(z) ** 2 * np.array([1.0, 2.0, 3.0, 4.0])[: np.size(z)]


def test_jacobian_of_a_real_output_of_complex_arguments():
    """One reverse pass per output, or one forward pass per real and imaginary part of each
    input: the same rows as autograd's."""
    want = autograd.jacobian(_autograd_version(moduli))(z)
    np.testing.assert_allclose(srcgrad.jacobian(moduli)(z), want, rtol=1e-10)  # reverse (4 < 4 + ...)
    small = z[:1]
    np.testing.assert_allclose(srcgrad.jacobian(moduli)(small), want[:1, :1], rtol=1e-10)


def holomorphic(z):
    return np.sin(z) * z**2


def nonholomorphic(z):
    return np.abs(z) * np.exp(z)


@pytest.mark.parametrize("f", [holomorphic, nonholomorphic])
def test_jvp_with_complex_tangents(f):
    tangent = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    out, got = srcgrad.jvp(f, (z,), (tangent,))
    want_out, want = autograd.make_jvp(_autograd_version(f))(z)(tangent)
    np.testing.assert_allclose(out, want_out, rtol=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def curved(x):
    w = np.exp(1j * x) * (x + 2.0j)
    return np.sum(np.real(w * np.conj(w)) + np.imag(w) ** 3)


def test_second_derivatives_through_complex_values():
    xs = np.array([0.3, -0.7, 1.1])
    want = autograd.hessian(_autograd_version(curved))(xs)
    np.testing.assert_allclose(srcgrad.hessian(curved)(xs), want, rtol=1e-9)
    second = srcgrad.grad(srcgrad.grad(lambda_free_curved_sum))(0.4)
    assert second == pytest.approx(
        autograd.grad(autograd.grad(_autograd_version(lambda_free_curved_sum)))(0.4)
    )


def lambda_free_curved_sum(x):
    w = np.exp(1j * x) * (x + 2.0j) + np.abs(x) * (1.0 + 1.0j)
    return np.real(w * np.conj(w)) + np.imag(w) * x


# -- refusals -------------------------------------------------------------------------------


def complex_sum(z):
    return np.sum(z * z)


def complex_scalar(z):
    return z * 2.0


def complex_from_constant(x):
    return np.sum(x * c)


def complex_literal(x):
    y = x * 2.0
    return np.sum(y) + 1j


def complex_after_loop(z, n):
    for _ in range(n):
        z = z * 0.5
    return z


@pytest.mark.parametrize(
    "f, args",
    [
        (complex_sum, (z,)),
        (complex_scalar, (z0,)),
        (complex_from_constant, (x,)),
        (complex_literal, (x,)),
        (complex_after_loop, (z0, 2)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
@pytest.mark.parametrize("operator", ["grad", "forward", "value_and_grad", "hessian"])
def test_grad_of_a_complex_output_names_the_return_line(f, args, operator):
    make = {
        "grad": srcgrad.grad,
        "forward": lambda g: srcgrad.grad(g, mode="forward"),
        "value_and_grad": srcgrad.value_and_grad,
        "hessian": srcgrad.hessian,
    }[operator]
    with pytest.raises(srcgrad.SrcGradError) as info:
        make(f)(*args)
    error = info.value
    if operator != "hessian" or not np.iscomplexobj(args[0]):
        assert error.filename.endswith("test_complex.py")
        assert "return" in (error.line or "")
        assert "complex" in str(error)


def eigh_values(Z):
    h = Z + np.conj(Z.T)
    return np.sum(np.linalg.eigh(h)[0] ** 2)


def cholesky(Z):
    h = Z @ np.conj(Z.T) + np.eye(3) * 3.0
    return np.abs(np.linalg.cholesky(h)[1, 0])


def qr(Z):
    q, r = np.linalg.qr(Z)
    return np.abs(r[0, 0])


def singular_vectors(Z):
    u, s, vh = np.linalg.svd(Z)
    return np.abs(u[0, 0])


@pytest.mark.parametrize("f", [eigh_values, cholesky, qr, singular_vectors], ids=lambda f: f.__name__)
def test_complex_decompositions_are_refused(f):
    with pytest.raises(srcgrad.SrcGradError, match="complex"):
        srcgrad.grad(f)(Z)
    with pytest.raises(srcgrad.SrcGradError, match="complex"):
        srcgrad.grad(f, mode="forward")(Z)


def test_jacobian_of_a_complex_output_and_hessian_of_a_complex_argument_are_refused():
    with pytest.raises(srcgrad.SrcGradError, match="complex"):
        srcgrad.jacobian(holomorphic)(z)
    with pytest.raises(srcgrad.SrcGradError, match="complex"):
        srcgrad.jacobian(holomorphic)(z[:1])
    with pytest.raises(srcgrad.SrcGradError):
        srcgrad.hessian(abs_sum)(z)


def test_second_derivative_of_abs_of_a_complex_value_is_refused():
    with pytest.raises(srcgrad.SrcGradError, match="np.abs"):
        srcgrad.hessian(modulus)(x)


def test_real_code_is_unchanged():
    """No check of the dtype, no real_like, where only the argument's own values meet."""

    def tanh(x):
        y = np.exp(-2.0 * x)
        return (1.0 - y) / (1.0 + y)

    source = srcgrad.grad(tanh).source
    assert "real_like" not in source and "check_real" not in source
    source = srcgrad.grad(times).source
    assert "return real_like(d_x, x)" in source
