"""A network as a list of layer objects with a parser of one flat weight vector
(autograd's convnet.py, with a 1-d convolution from autograd.scipy.signal)."""

import autograd.numpy as np
import autograd.numpy.random as npr
import autograd.scipy.signal


class WeightsParser:
    """A helper class to index into a parameter vector."""

    def __init__(self):
        self.idxs_and_shapes = {}
        self.N = 0

    def add_weights(self, name, shape):
        start = self.N
        self.N += int(np.prod(shape))
        self.idxs_and_shapes[name] = (slice(start, self.N), shape)

    def get(self, vect, name):
        idxs, shape = self.idxs_and_shapes[name]
        return np.reshape(vect[idxs], shape)


class conv_layer:
    def __init__(self, width):
        self.width = width

    def forward_pass(self, inputs, param_vector):
        params = self.parser.get(param_vector, "params")
        return autograd.scipy.signal.convolve(inputs, params, mode="valid")

    def build_weights_dict(self, input_shape):
        self.parser = WeightsParser()
        self.parser.add_weights("params", (1, self.width))
        return self.parser.N, (input_shape[0], input_shape[1] - self.width + 1)


class full_layer:
    def __init__(self, size):
        self.size = size

    def forward_pass(self, inputs, param_vector):
        params = self.parser.get(param_vector, "params")
        biases = self.parser.get(param_vector, "biases")
        return np.tanh(np.dot(inputs, params) + biases)

    def build_weights_dict(self, input_shape):
        self.parser = WeightsParser()
        self.parser.add_weights("params", (input_shape[1], self.size))
        self.parser.add_weights("biases", (self.size,))
        return self.parser.N, (input_shape[0], self.size)


def make_nn_funs(input_shape, layer_specs):
    parser = WeightsParser()
    cur_shape = input_shape
    for layer in layer_specs:
        N_weights, cur_shape = layer.build_weights_dict(cur_shape)
        parser.add_weights(layer, (N_weights,))

    def predictions(W_vect, inputs):
        cur_units = inputs
        for layer in layer_specs:
            cur_weights = parser.get(W_vect, layer)
            cur_units = layer.forward_pass(cur_units, cur_weights)
        return cur_units

    def loss(W_vect, X, T):
        return np.sum((predictions(W_vect, X) - T) ** 2) + 0.01 * np.dot(W_vect, W_vect)

    return parser.N, predictions, loss


N, predictions, loss = make_nn_funs((6, 10), [conv_layer(3), full_layer(4), full_layer(2)])
rs = npr.RandomState(0)
X, T = rs.randn(6, 10), rs.randn(6, 2)
PARAMS = 0.3 * rs.randn(N)


def objective(params):
    return loss(params, X, T)
