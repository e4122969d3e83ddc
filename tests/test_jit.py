"""``jit=True``: the generated code compiled by numba gives the interpreted code's values, reads
module values live, refuses at the user's line what numba cannot compile, and is cached on disk."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import srcgrad

pytest.importorskip("numba")  # (the [test] extra installs it: this runs in CI)

from numba.core.errors import NumbaWarning  # noqa: E402
from oracle import numeric_grad  # noqa: E402
from test_tutorial import inputs, logistic_predictions, oneline, tanh, training_loss  # noqa: E402


def mlp_loss(w1, b1, w2, b2, x, y):
    h = np.tanh(np.dot(x, w1) + b1)
    logits = np.dot(h, w2) + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(logp * y) / x.shape[0]


def rnn_loss(wx, wh, b, xs, target):
    h = np.zeros(wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(np.dot(xs[t], wx) + np.dot(h, wh) + b)
    return np.sum((h - target) ** 2)


def euler(k, x0, dt, steps):
    x = x0
    for _ in range(steps):
        x = x + dt * (np.sin(x) - k * x)
    return x


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def broadcasting(a, b, c):
    s = a * b + np.mean(c, axis=0)  # (3, 4) * (4,) + (4,)
    m = np.min(s, axis=1) + np.sum(b)
    return np.sum(m**2) + np.prod(c[0, :2])


rng = np.random.default_rng(0)
WORKLOADS = {
    "tanh": (tanh, (1.0,), 0),
    "logistic": (training_loss, (np.array([0.1, -0.2, 0.3]),), 0),
    "mlp": (
        mlp_loss,
        (rng.normal(size=(5, 4)), rng.normal(size=4), rng.normal(size=(4, 3)), rng.normal(size=3))
        + (rng.normal(size=(6, 5)), np.eye(3)[[0, 1, 2, 0, 1, 2]]),
        (0, 1, 2, 3),
    ),
    "rnn": (
        rnn_loss,
        (rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=(5, 3)))
        + (rng.normal(size=4),),
        (0, 1, 2),
    ),
    "euler": (euler, (0.5, 1.0, 0.01, 50), 0),
    "rosenbrock": (rosenbrock, (rng.normal(size=7),), 0),
    "broadcasting": (
        broadcasting,
        (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(2, 4))),
        (0, 1, 2),
    ),
}


def _close(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _close(g, w)
        return
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_compiled_gradient_equals_interpreted(name):
    f, args, wrt = WORKLOADS[name]
    copies = [np.copy(a) for a in args]
    compiled = srcgrad.grad(f, wrt=wrt, jit=True)
    interpreted = srcgrad.grad(f, wrt=wrt)
    assert compiled.source == interpreted.source
    _close(compiled(*args), interpreted(*args))
    assert all(np.array_equal(a, c) for a, c in zip(args, copies))  # the caller's arrays untouched


def test_tutorial_values():
    assert srcgrad.grad(oneline, jit=True)(3.0) == 0.5
    assert np.isclose(srcgrad.grad(tanh, jit=True)(1.0), 0.419974341614026, rtol=1e-15, atol=0)
    x = np.linspace(-7, 7, 200)
    _close(srcgrad.elementwise_grad(tanh, jit=True)(x), srcgrad.elementwise_grad(tanh)(x))
    step = srcgrad.grad(training_loss, jit=True)
    weights = np.array([0.0, 0.0, 0.0])
    assert training_loss(weights) == 2.772588722239781
    for _ in range(100):
        weights -= step(weights) * 0.01
    assert np.isclose(training_loss(weights), 1.0672706757870163, rtol=1e-12)


def test_every_operator_compiles():
    w = np.array([0.1, -0.2, 0.3])
    x = np.linspace(-2, 2, 5)
    pairs = [
        (srcgrad.value_and_grad(tanh, jit=True)(1.0), srcgrad.value_and_grad(tanh)(1.0)),
        (srcgrad.elementwise_grad(tanh, mode="forward", jit=True)(x), srcgrad.elementwise_grad(tanh)(x)),
        (
            srcgrad.grad(euler, mode="forward", jit=True)(0.5, 1.0, 0.01, 20),
            srcgrad.grad(euler)(0.5, 1.0, 0.01, 20),
        ),
        (
            srcgrad.jacobian(logistic_predictions, jit=True)(w, inputs),
            srcgrad.jacobian(logistic_predictions)(w, inputs),
        ),
        (srcgrad.hessian(training_loss, jit=True)(w), srcgrad.hessian(training_loss)(w)),
        (srcgrad.hessian(tanh, jit=True)(0.3), srcgrad.hessian(tanh)(0.3)),
        (
            srcgrad.jvp(training_loss, (w,), (np.ones(3),), jit=True),
            srcgrad.jvp(training_loss, (w,), (np.ones(3),)),
        ),
        (
            srcgrad.vjp(logistic_predictions, w, inputs, jit=True)[1](np.ones(4)),
            srcgrad.vjp(logistic_predictions, w, inputs)[1](np.ones(4)),
        ),
    ]
    for got, want in pairs:
        _close(got, want)


def test_the_same_source():
    for make in (
        lambda **o: srcgrad.hessian(training_loss, **o),
        lambda **o: srcgrad.jacobian(logistic_predictions, **o),
        lambda **o: srcgrad.grad(euler, mode="forward", **o),
        lambda **o: srcgrad.value_and_grad(tanh, **o),
    ):
        assert make(jit=True).source == make().source


def aux_loss(w):
    return np.sum(w**2), {"norm": np.sum(w), "first": w[0]}


def mixed_aux_loss(w):
    return np.sum(w**2), {"norm": np.sum(w), "parts": (w[0], w[1])}


def test_a_dict_built_in_compiled_code_comes_back_a_dict():
    (loss, aux), g = srcgrad.value_and_grad(aux_loss, has_aux=True, jit=True)(np.array([1.0, 2.0]))
    assert type(aux) is dict and aux == {"norm": 3.0, "first": 1.0}
    np.testing.assert_allclose(g, [2.0, 4.0])
    with pytest.raises(srcgrad.JitError, match="jit=False"):  # numba cannot return a dict of mixed values
        srcgrad.value_and_grad(mixed_aux_loss, has_aux=True, jit=True)(np.array([1.0, 2.0]))


def test_without_numba_jit_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # (import numba raises ImportError)
    with pytest.raises(srcgrad.JitError, match=r"srcgrad\[jit\]"):
        srcgrad.grad(tanh, jit=True)


def while_true(x, w):
    k = 0
    while True:
        k += 1
        if k > 1:
            break
        w = w * x
    return np.sum(w * x)


def test_while_true_loops_end():
    """numba compiles some ``while True:`` loops into ones that never end (numba issue 5267):
    srcgrad gives numba a loop on a flag that is always True. In a child process, so that a
    regression fails the test instead of hanging it."""
    script = textwrap.dedent(
        f"""
        import sys, numpy as np
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        import srcgrad, test_jit
        print(srcgrad.grad(test_jit.while_true, wrt=(0, 1), jit=True)(2.0, 3.0))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["(12.0,", "4.0)"]
    assert srcgrad.grad(while_true, wrt=(0, 1))(2.0, 3.0) == (12.0, 4.0)  # w x^2, once multiplied


def test_decorator_forms():
    @srcgrad.grad(jit=True)
    def d_square(x):
        return x * x

    @srcgrad.hessian(jit=True)
    def h_cube(x):
        return np.sum(x**3)

    assert d_square(3.0) == 6.0
    np.testing.assert_allclose(h_cube(np.array([1.0, 2.0])), np.diag([6.0, 12.0]))


SHIFT = np.array([1.0, 2.0])


def shifted(x):
    return np.sum((x - SHIFT) ** 2)


def test_module_values_are_read_at_each_call():
    """numba freezes globals at compile time; srcgrad passes them, so a reassigned one is seen."""
    global SHIFT
    d = srcgrad.grad(shifted, jit=True)
    x = np.zeros(2)
    np.testing.assert_allclose(d(x), -2 * SHIFT)
    saved, SHIFT = SHIFT, np.array([5.0, -1.0])
    try:
        np.testing.assert_allclose(d(x), [-10.0, 2.0])
        SHIFT[0] = 0.0  # changed in place, too
        np.testing.assert_allclose(d(x), [0.0, 2.0])
    finally:
        SHIFT = saved


def test_float32_and_integer_arguments():
    x = np.linspace(-1, 1, 4, dtype=np.float32)
    got = srcgrad.grad(rosenbrock, jit=True)(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, srcgrad.grad(rosenbrock)(x), rtol=1e-6)
    assert srcgrad.grad(oneline, jit=True)(3) == 0.5


def uses_fft(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


class Model:
    def loss(self, x):
        return np.sum(x**2)


def method_loss(model, x):
    return model.loss(x)


def test_what_numba_cannot_compile_is_refused_at_the_users_line():
    d = srcgrad.grad(uses_fft, jit=True)
    with pytest.raises(srcgrad.JitError) as info:
        d(np.ones(4))
    message = str(info.value)
    assert info.value.filename.endswith("test_jit.py")
    assert info.value.lineno == uses_fft.__code__.co_firstlineno + 1
    assert "np.fft.fft(x)" in message  # the user's line, quoted
    assert "generated line" in message and "jit=False" in message
    np.testing.assert_allclose(srcgrad.grad(uses_fft)(np.ones(4)), np.full(4, 8.0))  # jit=False works
    with pytest.raises(srcgrad.JitError, match="jit=False"):
        srcgrad.grad(method_loss, wrt=1, jit=True)(Model(), np.ones(3))


def rotation_eigenvalues(x):
    return np.sum(np.real(np.linalg.eigvals(x)) ** 2)


def test_complex_eigenvalues_numba_cannot_return_are_refused():
    """numba's eigvals of a real matrix returned real eigenvalues only before numpy 2.5, and
    raised a ValueError where they are complex; from 2.5 on it returns complex ones, which
    eigvals' twin refuses when typing. Either way a JitError; jit=False computes them."""
    x = np.array([[0.0, -1.0], [1.0, 0.5]])
    with pytest.raises(srcgrad.JitError, match="(?s)(complex eigenvalues|eigvals_vjp).*jit=False"):
        srcgrad.grad(rotation_eigenvalues, jit=True)(x)
    np.testing.assert_allclose(
        srcgrad.grad(rotation_eigenvalues)(x),
        numeric_grad(rotation_eigenvalues, [x], 0),
        rtol=1e-6,
        atol=1e-8,
    )


def vector_out(x):
    return x * 2.0


def complex_out(x):
    return x * 1j


def test_the_same_errors():
    for f, arg in ((vector_out, np.ones(3)), (complex_out, 2.0)):
        with pytest.raises(srcgrad.NonScalarOutputError) as interpreted:
            srcgrad.grad(f)(arg)
        with pytest.raises(srcgrad.NonScalarOutputError) as compiled:
            srcgrad.grad(f, jit=True)(arg)
        assert str(compiled.value) == str(interpreted.value)


def test_compiled_code_is_cached_across_processes(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, numpy as np
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        import srcgrad, test_jit
        d = srcgrad.grad(test_jit.euler, jit=True)
        print(d(*test_jit.WORKLOADS["euler"][1]))
        print(sum(d.jitted.stats.cache_hits.values()))
        """
    )
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(tmp_path))
    env.pop("NUMBA_OPT", None)  # numba's default, as users run it (under NUMBA_OPT=0 it hit no cache)
    runs = [
        subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    (first_value, first_hits), (second_value, second_hits) = (r.stdout.split() for r in runs)
    assert first_value == second_value
    assert (int(first_hits), int(second_hits)) == (0, 1)  # the second process loaded the machine code
    assert list((tmp_path / "jit").glob("d_euler_*.py"))


def test_no_numba_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaWarning)
        f, args, wrt = WORKLOADS["mlp"]
        srcgrad.grad(f, wrt=wrt, jit=True)(*args)
