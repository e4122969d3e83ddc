"""The log likelihood of a hidden Markov model by the forward algorithm (autograd's hmm_em.py),
in log space with logsumexp, differentiated in its parameters."""

import autograd.numpy.random as npr
from autograd.scipy.special import logsumexp


def log_normalize(x):
    return x - logsumexp(x, axis=-1, keepdims=True)


def log_partition_function(natural_params, data):
    log_pi, log_A, log_B = natural_params
    log_pi, log_A, log_B = log_normalize(log_pi), log_normalize(log_A), log_normalize(log_B)
    log_alpha = log_pi
    for y in data:
        log_alpha = logsumexp(log_alpha[:, None] + log_A, axis=0) + log_B[:, y]
    return logsumexp(log_alpha)


rs = npr.RandomState(0)
DATA = rs.randint(0, 3, 7)
PARAMS = (rs.randn(2), rs.randn(2, 2), rs.randn(2, 3))


def objective(params):
    return -log_partition_function(params, DATA)
