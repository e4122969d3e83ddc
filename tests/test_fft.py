"""np.fft in reverse and forward mode, complex in and out.

Every transform (fft, ifft, rfft, irfft, hfft, ihfft and the 2-d and n-d forms) with and without
``n``/``s``, on one axis or several, with every ``norm``, is compared with central finite
differences, and with autograd where autograd differentiates it correctly (its real transforms
need an even length, and their gradients are wrong for ``norm="forward"`` and ``"backward"``
given explicitly); then differentiated twice (forward over reverse: ``hessian``; and reverse
over reverse) and compared with autograd's or with finite differences of the gradient. Complex
arguments get ``df/du - i df/dv``, autograd's convention, and real arguments real gradients.
"""

from __future__ import annotations

import sys
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from oracle import autograd_numpy

import srcgrad

THIS = sys.modules[__name__]
RNG = np.random.default_rng(15)
NORMS = [None, "backward", "ortho", "forward"]


def score(y, C, W):
    """A real loss that weighs the real and imaginary part of every entry of ``y``, curved so that
    second derivatives mean something (``y * conj(y)``: ``abs`` is differentiated once only)."""
    return np.sum(np.real(y * C)) + np.sum(np.real(y * np.conj(y)) * W)


def complexify(x):
    """A complex array from a real one (for second derivatives, which need real arguments)."""
    return x[0] + 1j * x[1]


# -- the transforms, one function each (srcgrad reads their source) ----------------------------


def of_fft(x, C, W, n, axis, norm):
    return score(np.fft.fft(x, n, axis, norm), C, W)


def of_ifft(x, C, W, n, axis, norm):
    return score(np.fft.ifft(x, n=n, axis=axis, norm=norm), C, W)


def of_rfft(x, C, W, n, axis, norm):
    return score(np.fft.rfft(x, n, axis, norm), C, W)


def of_irfft(x, C, W, n, axis, norm):
    return score(np.fft.irfft(x, n, axis=axis, norm=norm), C, W)


def of_hfft(x, C, W, n, axis, norm):
    return score(np.fft.hfft(x, n, axis, norm), C, W)


def of_ihfft(x, C, W, n, axis, norm):
    return score(np.fft.ihfft(x, n, axis, norm), C, W)


def of_fft2(x, C, W, s, axes, norm):
    return score(np.fft.fft2(x, s, axes, norm), C, W)


def of_ifft2(x, C, W, s, axes, norm):
    return score(np.fft.ifft2(x, s=s, axes=axes, norm=norm), C, W)


def of_rfft2(x, C, W, s, axes, norm):
    return score(np.fft.rfft2(x, s, axes, norm), C, W)


def of_irfft2(x, C, W, s, axes, norm):
    return score(np.fft.irfft2(x, s, axes, norm), C, W)


def of_fftn(x, C, W, s, axes, norm):
    return score(np.fft.fftn(x, s, axes, norm), C, W)


def of_ifftn(x, C, W, s, axes, norm):
    return score(np.fft.ifftn(x, s, axes=axes, norm=norm), C, W)


def of_rfftn(x, C, W, s, axes, norm):
    return score(np.fft.rfftn(x, s, axes, norm), C, W)


def of_irfftn(x, C, W, s, axes, norm):
    return score(np.fft.irfftn(x, s, axes, norm), C, W)


# (the function, numpy's transform, the kinds of input it takes)
ONE_D = [
    (of_fft, np.fft.fft, ("real", "complex")),
    (of_ifft, np.fft.ifft, ("real", "complex")),
    (of_rfft, np.fft.rfft, ("real",)),
    (of_irfft, np.fft.irfft, ("complex",)),
    (of_hfft, np.fft.hfft, ("complex",)),
    (of_ihfft, np.fft.ihfft, ("real",)),
]
MANY_D = [
    (of_fft2, np.fft.fft2, ("real", "complex")),
    (of_ifft2, np.fft.ifft2, ("real", "complex")),
    (of_rfft2, np.fft.rfft2, ("real",)),
    (of_irfft2, np.fft.irfft2, ("complex",)),
    (of_fftn, np.fft.fftn, ("real", "complex")),
    (of_ifftn, np.fft.ifftn, ("real", "complex")),
    (of_rfftn, np.fft.rfftn, ("real",)),
    (of_irfftn, np.fft.irfftn, ("complex",)),
]
# (input shape, n, axis): the default length (even and odd), zero padding, cutting, other axes
ONE_D_SHAPES = [
    ((6,), None, -1),
    ((5,), None, -1),
    ((6,), 9, -1),
    ((7,), 4, -1),
    ((3, 4), None, 0),
    ((3, 5), 6, 0),
    ((2, 5), 3, 1),
]
# (input shape, s, axes) for the 2-d forms (None: their default axes, the last two)
TWO_D_SHAPES = [
    ((3, 4), None, None),
    ((3, 4), (5, 3), None),
    ((4, 3), (2, 6), (1, 0)),
    ((2, 3, 4), (3, 5), (0, 2)),
]
N_D_SHAPES = [
    ((2, 3, 4), None, None),
    ((3, 4), (4,), (0,)),
    ((2, 3, 4), (3, 2, 5), (2, 0, 1)),
    ((2, 3, 4), None, (-1, 0)),
    ((3, 4), (5, 3), (1, 1)),  # a repeated axis: numpy transforms along it twice, resizing each time
]


def _value(kind, shape):
    x = RNG.standard_normal(shape)
    return x + 1j * RNG.standard_normal(shape) if kind == "complex" else x


def _runs(table, shapes):
    runs = []
    for f, transform, kinds in table:
        for shape, size, axes in shapes:
            if axes is None and transform in (np.fft.fft2, np.fft.ifft2, np.fft.rfft2, np.fft.irfft2):
                axes = (-2, -1)
            for kind in kinds:
                for norm in NORMS:
                    runs.append((f, transform, kind, shape, size, axes, norm))
    return runs


RUNS = _runs(ONE_D, ONE_D_SHAPES) + _runs(MANY_D[:4], TWO_D_SHAPES) + _runs(MANY_D[4:], N_D_SHAPES)


def _id(run):
    f, _, kind, shape, size, axes, norm = run
    return f"{f.__name__[3:]}-{kind}-{shape}-{size}-{axes}-{norm}"


def _arguments(run):
    """The arguments of the run's function: x, then weights C and W shaped like the transform."""
    _, transform, kind, shape, size, axes, norm = run
    x = _value(kind, shape)
    y = transform(x, size, axes, norm)
    return [x, _value("complex", y.shape), RNG.uniform(0.5, 1.5, y.shape), size, axes, norm]


def finite_differences(f, args, wrt=0, step=1e-6):
    """Central differences of the real ``f``: ``df/du - i df/dv`` for a complex argument."""
    x = np.asarray(args[wrt])
    directions = (1.0, 1j) if np.iscomplexobj(x) else (1.0,)
    out = np.zeros(x.shape, dtype=x.dtype)
    for index in np.ndindex(x.shape):
        for direction in directions:
            moved = []
            for sign in (1.0, -1.0):
                at = x.copy()
                at[index] += sign * step * direction
                moved.append(f(*args[:wrt], at, *args[wrt + 1 :]))
            out[index] += np.conj(direction) * (moved[0] - moved[1]) / (2 * step)
    return out


def autograd_is_right(run):
    """Where autograd's fft gradients hold: for the complex transforms on distinct axes; for the
    real ones also with an even length and the default or "ortho" scaling (its weights ignore
    "forward", and it tells None from "backward"); never for hfft and ihfft (it has no rules)."""
    _, transform, _, shape, size, axes, norm = run
    axes = [axes] if isinstance(axes, int) else list(range(len(shape))) if axes is None else list(axes)
    if len({a % len(shape) for a in axes}) < len(axes):
        return False
    if transform in (np.fft.fft, np.fft.ifft, np.fft.fft2, np.fft.ifft2, np.fft.fftn, np.fft.ifftn):
        return True
    if transform in (np.fft.hfft, np.fft.ihfft) or norm not in (None, "ortho"):
        return False
    n = size if isinstance(size, int) else size[-1] if size is not None else shape[axes[-1]]
    if size is None and transform in (np.fft.irfft, np.fft.irfft2, np.fft.irfftn):
        n = 2 * (shape[axes[-1]] - 1)
    return n % 2 == 0


def _autograd_grad(f, args):
    with autograd_numpy(THIS), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # autograd's ComplexWarning: a real input meets complex values
        return autograd.grad(f)(*args)


@pytest.mark.parametrize("run", RUNS, ids=_id)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_gradient(run, mode):
    f = run[0]
    args = _arguments(run)
    got = srcgrad.grad(f, mode=mode)(*args)
    assert np.shape(got) == np.shape(args[0])
    assert np.iscomplexobj(got) == np.iscomplexobj(args[0]), "a real argument gets a real gradient"
    np.testing.assert_allclose(got, finite_differences(f, args), rtol=1e-6, atol=1e-7)
    if autograd_is_right(run):
        np.testing.assert_allclose(got, _autograd_grad(f, args), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f, transform, kinds", MANY_D, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # numpy deprecates s without axes
def test_s_without_axes_and_minus_one(f, transform, kinds, mode):
    """``s`` without ``axes`` means the last ``len(s)`` axes; -1 in ``s`` keeps that axis' size,
    and None the 1-d transform's default (both deprecated by numpy)."""
    default_axes = transform in (np.fft.fft2, np.fft.ifft2, np.fft.rfft2, np.fft.irfft2)
    for kind in kinds:
        for size in [(-1, 5), (None, 5)] if default_axes else [(3, -1), (3, None)]:
            run = (f, transform, kind, (2, 3, 4), size, None, "ortho")
            args = _arguments(run)
            args[4] = (-2, -1) if default_axes else None
            got = srcgrad.grad(f, mode=mode)(*args)
            np.testing.assert_allclose(got, finite_differences(f, args), rtol=1e-6, atol=1e-7)


# -- second derivatives of a real loss of a real argument ------------------------------------------


def twice(f, kind):
    """``f`` of a real argument: itself, or of ``complexify(x)`` for the transforms of complex arrays."""
    if kind == "real":
        return f
    return {of_irfft: of_irfft_real, of_hfft: of_hfft_real, of_irfft2: of_irfft2_real, of_irfftn: of_irfftn_real,
            of_fft: of_fft_real, of_ifft: of_ifft_real, of_fft2: of_fft2_real, of_ifft2: of_ifft2_real,
            of_fftn: of_fftn_real, of_ifftn: of_ifftn_real}[f]  # fmt: skip


def of_irfft_real(x, C, W, n, axis, norm):
    return score(np.fft.irfft(complexify(x), n, axis, norm), C, W)


def of_hfft_real(x, C, W, n, axis, norm):
    return score(np.fft.hfft(complexify(x), n, axis, norm), C, W)


def of_irfft2_real(x, C, W, s, axes, norm):
    return score(np.fft.irfft2(complexify(x), s, axes, norm), C, W)


def of_irfftn_real(x, C, W, s, axes, norm):
    return score(np.fft.irfftn(complexify(x), s, axes, norm), C, W)


def of_fft_real(x, C, W, n, axis, norm):
    return score(np.fft.fft(complexify(x), n, axis, norm), C, W)


def of_ifft_real(x, C, W, n, axis, norm):
    return score(np.fft.ifft(complexify(x), n, axis, norm), C, W)


def of_fft2_real(x, C, W, s, axes, norm):
    return score(np.fft.fft2(complexify(x), s, axes, norm), C, W)


def of_ifft2_real(x, C, W, s, axes, norm):
    return score(np.fft.ifft2(complexify(x), s, axes, norm), C, W)


def of_fftn_real(x, C, W, s, axes, norm):
    return score(np.fft.fftn(complexify(x), s, axes, norm), C, W)


def of_ifftn_real(x, C, W, s, axes, norm):
    return score(np.fft.ifftn(complexify(x), s, axes, norm), C, W)


def finite_difference_hessian(gradient, args):
    x = np.asarray(args[0], dtype=float)
    columns = []
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = 1e-5
        columns.append((gradient(x + step, *args[1:]) - gradient(x - step, *args[1:])) / 2e-5)
    return np.moveaxis(np.array(columns).reshape(x.shape + x.shape), range(x.ndim), range(x.ndim, 2 * x.ndim))


# ("backward" is None spelled out: the first derivatives cover it)
@pytest.mark.parametrize("run", [r for r in RUNS if r[6] != "backward"], ids=_id)
def test_second_derivatives(run):
    f, transform, kind, shape, size, axes, norm = run
    args = _arguments(run)
    g = twice(f, kind)
    if kind == "complex":
        args[0] = np.stack([args[0].real, args[0].imag])
    got = srcgrad.hessian(g)(*args)
    assert got.shape == args[0].shape * 2 and not np.iscomplexobj(got)
    want = finite_difference_hessian(srcgrad.grad(g), args)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    square = got.reshape(args[0].size, -1)
    np.testing.assert_allclose(square, square.T, atol=1e-9)
    # reverse over reverse (the helpers' adjoints): the vector-Jacobian product of the gradient with ones
    ones_h = srcgrad.elementwise_grad(srcgrad.grad(g))(*args)
    assert not np.iscomplexobj(ones_h)
    np.testing.assert_allclose(ones_h, square.sum(axis=0).reshape(args[0].shape), rtol=1e-9, atol=1e-9)
    if autograd_is_right(run):
        with autograd_numpy(THIS), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = autograd.hessian(g)(*args)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


# -- programs: fft in the middle of real computations, as autograd users write them ----------------


def power(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


def filtered(x, h):
    return np.sum(np.real(np.fft.ifft(np.fft.fft(x) * h)) ** 2)


def smoothed(x):
    spectrum = np.fft.rfft(x, norm="ortho")
    spectrum = spectrum * np.exp(-(np.fft.rfftfreq(x.shape[0]) ** 2))
    return np.sum(np.fft.irfft(spectrum, n=x.shape[0], norm="ortho") ** 3)


def shifted(x):
    centred = np.fft.fftshift(np.fft.fft2(x), axes=(0, 1))
    return np.sum(np.real(centred * np.conj(centred)) * np.arange(np.size(x)).reshape(x.shape))


def unshifted(z):
    y = np.fft.ifftshift(z * np.sin(z), axes=0)
    return np.sum(np.real(y * np.conj(y)) * np.arange(np.size(z)).reshape(z.shape))


def parts(z):
    y = np.fft.fft(z, n=7)
    return np.sum(y.real**3 - y.imag * np.abs(y.real)) + np.fft.ifft(z)[2].imag


def wave(x):
    k = np.fft.fftfreq(8, d=0.1)
    return np.sum(np.real(np.fft.ifft(np.fft.fft(np.sin(x)) * np.exp(-(k**2) * 0.01))) * x)


def spacing(d, x):
    return np.sum(x * np.fft.fftfreq(x.shape[0], d) ** 2) + np.sum(np.fft.rfftfreq(7, d=d) * 3.0)


x8 = RNG.standard_normal(8)
z6 = RNG.standard_normal(6) + 1j * RNG.standard_normal(6)
X34 = RNG.standard_normal((3, 4))
Z34 = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))
h8 = RNG.standard_normal(8) + 1j * RNG.standard_normal(8)
PROGRAMS = [
    (power, (x8,)),
    (power, (z6,)),
    (filtered, (x8, h8)),
    (filtered, (z6 * 0.5 + 1.0, h8[:6])),
    (smoothed, (x8,)),
    (shifted, (X34,)),
    (shifted, (Z34,)),
    (unshifted, (Z34,)),
    (parts, (z6,)),
    (wave, (x8,)),
    (spacing, (0.3, x8)),
]
# autograd has no rule for fftfreq's spacing, no .real on its arrays, and the rfft of an odd length
NOT_AUTOGRAD = (spacing, parts, smoothed)


@pytest.mark.parametrize("f, args", PROGRAMS, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_program(f, args, mode):
    got = srcgrad.grad(f, mode=mode)(*args)
    assert np.iscomplexobj(got) == np.iscomplexobj(args[0])
    np.testing.assert_allclose(got, finite_differences(f, list(args)), rtol=1e-6, atol=1e-7)
    if f not in NOT_AUTOGRAD:
        np.testing.assert_allclose(got, _autograd_grad(f, args), rtol=1e-10, atol=1e-12)


SECOND_PROGRAMS = [
    (filtered, (x8, h8)),
    (smoothed, (x8,)),
    (shifted, (X34,)),
    (wave, (x8,)),
    (spacing, (0.3, x8)),
]


@pytest.mark.parametrize("f, args", SECOND_PROGRAMS, ids=lambda v: getattr(v, "__name__", ""))
def test_program_hessian(f, args):
    got = srcgrad.hessian(f)(*args)
    assert not np.iscomplexobj(got)
    want = finite_difference_hessian(srcgrad.grad(f), list(args))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    if f not in NOT_AUTOGRAD:
        with autograd_numpy(THIS), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = autograd.hessian(f)(*args)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def spectral_energy(x):
    """The gradient of a gradient: reverse mode over reverse mode, through every helper."""
    inner = srcgrad.grad(lambda t: np.sum(np.real(np.fft.rfft(t * x) * np.conj(np.fft.rfft(t * x)))))
    return np.sum(inner(x) ** 2) + np.sum(np.fft.irfft2(np.fft.rfft2(np.outer(x, x)), s=(8, 8)) ** 2)


def test_grad_of_grad_and_a_third_derivative():
    for mode in ("reverse", "forward"):
        got = srcgrad.grad(spectral_energy, mode=mode)(x8)
        np.testing.assert_allclose(got, finite_differences(spectral_energy, [x8]), rtol=1e-6, atol=1e-6)
    third = srcgrad.hessian(spectral_energy)(x8)  # forward over reverse over reverse
    want = finite_difference_hessian(srcgrad.grad(spectral_energy), [x8])
    np.testing.assert_allclose(third, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())


def spectrum(x):
    return np.abs(np.fft.fft(x)) ** 2


def test_jacobian_elementwise_grad_jvp_and_vjp():
    with autograd_numpy(THIS):
        jacobian = autograd.jacobian(spectrum)(x8)
        elementwise = autograd.elementwise_grad(spectrum)(x8)
        pullback, out = autograd.make_vjp(lambda z: np.fft.fft2(z))(Z34)
        cotangent = pullback(Z34 * 1j)
    np.testing.assert_allclose(srcgrad.jacobian(spectrum)(x8), jacobian, rtol=1e-10)
    np.testing.assert_allclose(srcgrad.elementwise_grad(spectrum)(x8), elementwise, rtol=1e-10)
    got_out, got_pullback = srcgrad.vjp(lambda z: np.fft.fft2(z), Z34)
    np.testing.assert_allclose(got_out, out)
    np.testing.assert_allclose(got_pullback(Z34 * 1j)[0], cotangent, rtol=1e-10)
    # (autograd has no forward mode for fft; a linear map's tangent is the map of the tangent)
    tangent = X34 + 2j
    _, got_tangent = srcgrad.jvp(lambda z: np.fft.ifftn(z, (5,), axes=(1,)), (Z34,), (tangent,))
    np.testing.assert_allclose(got_tangent, np.fft.ifftn(tangent, (5,), axes=(1,)), rtol=1e-12)


def single(x):
    return np.sum(np.fft.irfft(np.fft.rfft(x, norm="ortho") * 2.0, n=8) ** 2) + power(x)


def test_single_precision_stays_single():
    for mode in ("reverse", "forward"):
        assert srcgrad.grad(single, mode=mode)(x8.astype(np.float32)).dtype == np.float32


def written_for_autograd(x):
    spectrum = anp.fft.rfft2(anp.reshape(x, (2, 4)), norm="ortho")
    return anp.sum(anp.real(spectrum * anp.conj(spectrum)) * anp.arange(6.0).reshape(2, 3))


def test_code_written_for_autograd():
    """``autograd.numpy.fft`` resolves to numpy's functions and their rules."""
    want = autograd.grad(written_for_autograd)(x8)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(srcgrad.grad(written_for_autograd, mode=mode)(x8), want, rtol=1e-10)
    np.testing.assert_allclose(
        srcgrad.hessian(written_for_autograd)(x8), autograd.hessian(written_for_autograd)(x8)
    )


# -- refusals ----------------------------------------------------------------------------------


def complex_output(x):
    return np.sum(np.fft.fft(x))


def with_out(x, y):
    return np.sum(np.abs(np.fft.fft(x, out=y)))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_complex_output_is_refused(mode):
    """np.fft.fft of a real array is complex: grad names the return line (never a silent answer)."""
    with pytest.raises(srcgrad.NonScalarOutputError, match="complex") as caught:
        srcgrad.grad(complex_output, mode=mode)(x8)
    assert caught.value.lineno == complex_output.__code__.co_firstlineno + 1


def test_out_is_refused():
    with pytest.raises(srcgrad.SrcGradError, match="'out'") as caught:
        srcgrad.grad(with_out)(x8, np.zeros(8, dtype=complex))
    assert caught.value.lineno == with_out.__code__.co_firstlineno + 1
