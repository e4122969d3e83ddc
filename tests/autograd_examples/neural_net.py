"""A multi-layer perceptron with a log-softmax output and a Gaussian prior (autograd's neural_net.py)."""

import autograd.numpy as np
import autograd.numpy.random as npr
from autograd.misc.flatten import flatten
from autograd.scipy.special import logsumexp


def init_random_params(scale, layer_sizes, rs=npr.RandomState(0)):
    return [(scale * rs.randn(m, n), scale * rs.randn(n)) for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def l2_norm(params):
    flattened, _ = flatten(params)
    return np.dot(flattened, flattened)


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * l2_norm(params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


rs = npr.RandomState(1)
INPUTS = rs.randn(10, 4)
TARGETS = np.eye(3)[rs.randint(0, 3, 10)]
PARAMS = init_random_params(0.5, [4, 5, 3])


def objective(params):
    return -log_posterior(params, INPUTS, TARGETS, 0.1)
