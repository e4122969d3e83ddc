"""A Bayesian neural network fitted by black-box variational inference (autograd's
bayesian_neural_net.py): weights sampled from a diagonal Gaussian, the noise fixed."""

import autograd.numpy as np
import autograd.numpy.random as npr


def make_nn_funs(layer_sizes, L2_reg, noise_variance, nonlinearity=np.tanh):
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    num_weights = sum((m + 1) * n for m, n in shapes)

    def unpack_layers(weights):
        num_weight_sets = len(weights)
        for m, n in shapes:
            yield (
                weights[:, : m * n].reshape((num_weight_sets, m, n)),
                weights[:, m * n : m * n + n].reshape((num_weight_sets, 1, n)),
            )
            weights = weights[:, (m + 1) * n :]

    def predictions(weights, inputs):
        inputs = np.expand_dims(inputs, 0)
        for W, b in unpack_layers(weights):
            outputs = np.einsum("mnd,mdo->mno", inputs, W) + b
            inputs = nonlinearity(outputs)
        return outputs

    def logprob(weights, inputs, targets):
        log_prior = -L2_reg * np.sum(weights**2, axis=1)
        preds = predictions(weights, inputs)
        log_lik = -np.sum((preds - targets) ** 2, axis=1)[:, 0] / noise_variance
        return log_prior + log_lik

    return num_weights, predictions, logprob


num_weights, predictions, logprob = make_nn_funs([1, 4, 1], L2_reg=0.1, noise_variance=0.01)
rs = npr.RandomState(0)
INPUTS = np.linspace(-2, 2, 6).reshape((6, 1))
TARGETS = np.cos(INPUTS)
NOISE = rs.randn(5, num_weights)
PARAMS = np.concatenate([0.1 * rs.randn(num_weights), -2 * np.ones(num_weights)])


def objective(params):
    mean, log_std = params[:num_weights], params[num_weights:]
    samples = NOISE * np.exp(log_std) + mean
    entropy = 0.5 * num_weights * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)
    return -(entropy + np.mean(logprob(samples, INPUTS, TARGETS)))
