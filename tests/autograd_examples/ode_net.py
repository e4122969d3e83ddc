"""Fitting the parameters of an ODE to observations through odeint (autograd's ode_net.py,
with a linear-in-parameters vector field)."""

import autograd.numpy as np
import autograd.numpy.random as npr
from autograd.builtins import tuple
from autograd.scipy.integrate import odeint


def func(y, t, W, b):
    return np.tanh(np.dot(y, W) + b)


T = np.linspace(0.0, 1.0, 6)
Y0 = np.array([1.0, -0.5])
TARGET = np.array([[1.0, -0.5], [1.1, -0.3], [1.2, -0.1], [1.2, 0.1], [1.1, 0.3], [1.0, 0.4]])
rs = npr.RandomState(0)
PARAMS = (0.5 * rs.randn(2, 2), 0.1 * rs.randn(2))


def objective(params):
    W, b = params
    ys = odeint(func, Y0, T, tuple((W, b)))
    return np.sum((ys - TARGET) ** 2)
