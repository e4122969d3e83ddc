"""A variational autoencoder's lower bound, with the noise fixed (autograd's variational_autoencoder.py)."""

import autograd.numpy as np
import autograd.numpy.random as npr
import autograd.scipy.stats.norm as norm


def diag_gaussian_log_density(x, mu, log_std):
    return np.sum(norm.logpdf(x, mu, np.exp(log_std)), axis=-1)


def unpack_gaussian_params(params):
    D = np.shape(params)[-1] // 2
    mean, log_std = params[:, :D], params[:, D:]
    return mean, log_std


def sample_diag_gaussian(mean, log_std, rs):
    return rs.randn(*mean.shape) * np.exp(log_std) + mean


def bernoulli_log_density(targets, unnormalized_logprobs):
    label_probabilities = -np.logaddexp(0, -unnormalized_logprobs * (targets * 2 - 1))
    return np.sum(label_probabilities, axis=-1)


def relu(x):
    return np.maximum(0, x)


def init_net_params(scale, layer_sizes, rs=npr.RandomState(0)):
    return [(scale * rs.randn(m, n), scale * rs.randn(n)) for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def batch_normalize(activations):
    mbmean = np.mean(activations, axis=0, keepdims=True)
    return (activations - mbmean) / (np.std(activations, axis=0, keepdims=True) + 1)


def neural_net_predict(params, inputs):
    for W, b in params:
        outputs = batch_normalize(np.dot(inputs, W) + b)
        inputs = relu(outputs)
    return outputs


def vae_lower_bound(gen_params, rec_params, data, rs):
    q_means, q_log_stds = unpack_gaussian_params(neural_net_predict(rec_params, data))
    latents = sample_diag_gaussian(q_means, q_log_stds, rs)
    q_latents = diag_gaussian_log_density(latents, q_means, q_log_stds)
    p_latents = diag_gaussian_log_density(latents, 0, 0)
    logit_probs = neural_net_predict(gen_params, latents)
    p_data = bernoulli_log_density(data, logit_probs)
    return np.mean(p_data + p_latents - q_latents)


latent_dim, data_dim = 2, 6
DATA = np.round(npr.RandomState(1).rand(8, data_dim))
PARAMS = (
    init_net_params(0.3, [latent_dim, 5, data_dim]),
    init_net_params(0.3, [data_dim, 5, latent_dim * 2]),
)


def objective(params):
    gen_params, rec_params = params
    return -vae_lower_bound(gen_params, rec_params, DATA, npr.RandomState(2))
