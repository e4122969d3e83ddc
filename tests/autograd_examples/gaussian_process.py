"""Gaussian-process regression: the log marginal likelihood in the kernel's parameters
(autograd's gaussian_process.py)."""

import autograd.numpy as np
import autograd.numpy.random as npr
import autograd.scipy.stats.multivariate_normal as mvn


def make_gp_funs(cov_func, num_cov_params):
    def unpack_kernel_params(params):
        mean = params[0]
        cov_params = params[2:]
        noise_scale = np.exp(params[1]) + 0.0001
        return mean, cov_params, noise_scale

    def log_marginal_likelihood(params, x, y):
        mean, cov_params, noise_scale = unpack_kernel_params(params)
        cov_y_y = cov_func(cov_params, x, x) + noise_scale * np.eye(len(y))
        prior_mean = mean * np.ones(len(y))
        return mvn.logpdf(y, prior_mean, cov_y_y)

    return num_cov_params + 2, log_marginal_likelihood


def rbf_covariance(kernel_params, x, xp):
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs**2, axis=2))


num_params, log_marginal_likelihood = make_gp_funs(rbf_covariance, num_cov_params=2)
rs = npr.RandomState(0)
X = np.linspace(-3, 3, 8).reshape(-1, 1)
Y = np.cos(X[:, 0]) + rs.randn(8) * 0.1
PARAMS = 0.1 * rs.randn(num_params)


def objective(params):
    return -log_marginal_likelihood(params, X, Y)
