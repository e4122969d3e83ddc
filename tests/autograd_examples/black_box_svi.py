"""Black-box stochastic variational inference with the reparameterization trick
(autograd's black_box_svi.py), with the noise fixed so that the objective is deterministic."""

import autograd.numpy as np
import autograd.numpy.random as npr
import autograd.scipy.stats.norm as norm


def black_box_variational_inference(logprob, D, num_samples):
    def unpack_params(params):
        mean, log_std = params[:D], params[D:]
        return mean, log_std

    def gaussian_entropy(log_std):
        return 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)

    noise = npr.RandomState(0).randn(num_samples, D)

    def variational_objective(params, t):
        mean, log_std = unpack_params(params)
        samples = noise * np.exp(log_std) + mean
        lower_bound = gaussian_entropy(log_std) + np.mean(logprob(samples, t))
        return -lower_bound

    return variational_objective


def log_density(x, t):
    mu, log_sigma = x[:, 0], x[:, 1]
    sigma_density = norm.logpdf(log_sigma, 0, 1.35)
    mu_density = norm.logpdf(mu, 0, np.exp(log_sigma))
    return sigma_density + mu_density


variational_objective = black_box_variational_inference(log_density, D=2, num_samples=20)
PARAMS = np.array([-1.0, -1.0, -5.0, -5.0]) * 0.2


def objective(params):
    return variational_objective(params, 0)
