"""Programs written for autograd (tests/autograd_examples/: neural nets, RNN, LSTM, Gaussian
process, variational inference, mixture model, convnet, ODE fit, fluid simulation) get
autograd's gradient from srcgrad with only the ``grad`` import changed."""

import importlib
import pkgutil

import autograd
import autograd_examples
import numpy as np
import pytest
from autograd.misc.flatten import flatten

import srcgrad

PROGRAMS = sorted(m.name for m in pkgutil.iter_modules(autograd_examples.__path__))


@pytest.mark.parametrize("program", PROGRAMS)
def test_autograd_program(program):
    module = importlib.import_module(f"autograd_examples.{program}")
    got = srcgrad.grad(module.objective)(module.PARAMS)
    want = autograd.grad(module.objective)(module.PARAMS)
    assert type(got) is type(want)
    got_flat, want_flat = flatten(got)[0], flatten(want)[0]
    assert got_flat.shape == want_flat.shape
    np.testing.assert_allclose(got_flat, want_flat, rtol=1e-7, atol=1e-10)
