"""The tutorial's examples, exactly as a user runs them (see /work/shared/hooks/tutorial_check.py)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import srcgrad

HERE = os.path.dirname(os.path.abspath(__file__))


def oneline(x):
    y = x / 2
    return y


def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


inputs = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
targets = np.array([True, True, False, True])


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights):
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


SCALE = 2.0


def scaled_square(x):
    return SCALE * x**2


def test_slope_of_half_x():
    assert srcgrad.grad(oneline)(3.0) == 0.5


def test_slope_of_tanh():
    assert srcgrad.grad(tanh)(1.0) == 0.419974341614026


def test_elementwise_grad_of_tanh():
    x = np.linspace(-7, 7, 200)
    d = srcgrad.elementwise_grad(tanh)(x)
    assert np.shape(d) == (200,)
    assert np.allclose(d, 1 - np.tanh(x) ** 2, rtol=1e-12)


def test_logistic_regression():
    weights = np.array([0.0, 0.0, 0.0])
    assert training_loss(weights) == 2.772588722239781
    training_gradient_fun = srcgrad.grad(training_loss)
    for _ in range(100):
        weights -= training_gradient_fun(weights) * 0.01
    assert training_loss(weights) == 1.0672706757870163


def test_gradient_does_not_modify_the_callers_array():
    weights = np.array([0.3, -0.2, 0.1])
    before = weights.copy()
    g = srcgrad.grad(training_loss)(weights)
    assert np.array_equal(weights, before)
    assert g is not weights
    # modifying the gradient must not write into the caller's array either
    g[...] = 123.0
    assert np.array_equal(weights, before)


def test_source_is_deterministic_in_one_process():
    first = srcgrad.grad(training_loss).source
    second = srcgrad.grad(training_loss).source
    assert isinstance(first, str)
    assert first == second
    assert srcgrad.grad(tanh).source == srcgrad.grad(tanh).source


def _source_in_fresh_process(func_name):
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {HERE!r})
        import srcgrad
        import test_tutorial
        sys.stdout.write(srcgrad.grad(test_tutorial.{func_name}).source)
        """
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    return done.stdout


@pytest.mark.parametrize("func", [tanh, training_loss])
def test_source_is_identical_in_a_fresh_process(func):
    assert _source_in_fresh_process(func.__name__) == srcgrad.grad(func).source


def test_value_and_grad_matches_f_and_grad():
    weights = np.array([0.4, -1.2, 0.7])
    value, gradient = srcgrad.value_and_grad(training_loss)(weights)
    assert value == training_loss(weights)
    assert np.array_equal(gradient, srcgrad.grad(training_loss)(weights))
    value, gradient = srcgrad.value_and_grad(tanh)(1.0)
    assert value == tanh(1.0)
    assert gradient == srcgrad.grad(tanh)(1.0)


def test_module_globals_are_read_live(monkeypatch):
    g = srcgrad.grad(scaled_square)
    assert g(1.5) == 2.0 * 2 * 1.5
    monkeypatch.setattr(sys.modules[__name__], "SCALE", 3.0)
    assert g(1.5) == 3.0 * 2 * 1.5
    assert srcgrad.grad(scaled_square)(1.5) == 3.0 * 2 * 1.5


def test_an_error_inside_generated_code_names_the_primal_line():
    import traceback

    def bad(x):
        y = np.log(x)
        z = y.reshape(5, 5)  # marker: the failing line
        return np.sum(z)

    g = srcgrad.grad(bad)
    try:
        g(np.ones(3))
    except ValueError:
        text = traceback.format_exc()
    else:
        raise AssertionError("reshaping 3 values into (5, 5) should fail")
    line = bad.__code__.co_firstlineno + 2
    assert "z = np.reshape(y, (5, 5))" in text  # the generated line, shown by the traceback
    assert f"[test_tutorial.py:{line}]" in text  # ... naming the primal line it comes from
    assert "marker" not in g.source  # primal lines are quoted without their comments
