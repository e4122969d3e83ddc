"""Programs written for autograd run with srcgrad's ``grad``: autograd's primitives (``defvjp``,
``defjvp``), ``autograd.misc.flatten`` and its optimizers, helpers with ``*args``. autograd is the oracle."""

import functools

import autograd
import autograd.numpy as np
import numpy
import numpy.random as npr
import pytest
from autograd.extend import defjvp, defvjp, primitive
from autograd.misc import flatten
from autograd.misc.optimizers import adam, sgd
from autograd.scipy.stats import multivariate_normal as mvn

import srcgrad


@primitive
def logsumexp(x):
    """autograd's own example of a primitive: its body is not differentiated, its VJP is."""
    max_x = np.max(x)
    return max_x + np.log(np.sum(np.exp(x - max_x)))


def logsumexp_vjp(ans, x):
    return lambda g: np.full(x.shape, g) * np.exp(x - np.full(x.shape, ans))


defvjp(logsumexp, logsumexp_vjp)


@primitive
def scaled_cube(x, scale, offset=1.0):
    return scale * x**3 + offset


defvjp(
    scaled_cube,
    lambda ans, x, scale, offset=1.0: lambda g: g * 3 * scale * x**2,
    lambda ans, x, scale, offset=1.0: lambda g: np.sum(g * x**3),
)
defjvp(
    scaled_cube,
    lambda t, ans, x, scale, offset=1.0: t * 3 * scale * x**2,
    lambda t, ans, x, scale, offset=1.0: t * x**3,
)


def uses_logsumexp(x):
    return logsumexp(np.sin(x)) * 2.0


def uses_scaled_cube(x, s):
    return np.sum(np.tanh(scaled_cube(x, s, offset=0.5)))


def gaussian_loglik(x, mean, cov):
    return np.sum(mvn.logpdf(x, mean, cov))


X3 = numpy.array([0.5, 1.0, -0.3])


def close(a, b):
    numpy.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_user_primitive_uses_its_vjp():
    close(srcgrad.grad(uses_logsumexp)(X3), autograd.grad(uses_logsumexp)(X3))
    assert "autograd_vjp(logsumexp, 0, " in srcgrad.grad(uses_logsumexp).source


def test_primitive_without_jvp_is_refused_in_forward_mode():
    with pytest.raises(srcgrad.NoRuleError, match=r"test_autograd_programs.py:\d+.*no forward-mode rule"):
        srcgrad.grad(uses_logsumexp, mode="forward")(X3)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("wrt", [0, 1])
def test_primitive_with_both_makers(mode, wrt):
    args = (X3, 0.7)
    close(srcgrad.grad(uses_scaled_cube, wrt, mode=mode)(*args), autograd.grad(uses_scaled_cube, wrt)(*args))


def test_second_derivative_through_autograds_rule_is_refused():
    with pytest.raises(srcgrad.NoRuleError, match="does not differentiate autograd's own rules"):
        srcgrad.hessian(uses_logsumexp)(X3)


@pytest.mark.parametrize("wrt", [0, 1, 2])
def test_autograd_scipy_primitive(wrt):
    cov = numpy.eye(3) * 2 + 0.1
    args = (X3, X3 * 0.3, cov)
    close(srcgrad.grad(gaussian_loglik, wrt)(*args), autograd.grad(gaussian_loglik, wrt)(*args))


# A network whose parameters are a list of (W, b) tuples, as autograd's examples write it.
def init_params(sizes, rs):
    return [(rs.randn(m, n) * 0.5, rs.randn(n) * 0.5) for m, n in zip(sizes[:-1], sizes[1:], strict=False)]


def predict(params, x):
    for W, b in params:
        out = np.dot(x, W) + b
        x = np.tanh(out)
    return out


def loss(params, x, y):
    return np.sum((predict(params, x) - y) ** 2)


PARAMS = init_params([3, 4, 2], npr.RandomState(0))
DATA = npr.RandomState(1).randn(6, 3), npr.RandomState(2).randn(6, 2)
FLAT, UNFLATTEN = flatten(PARAMS)


def flat_loss(v):
    return loss(UNFLATTEN(v), *DATA)


def flattened_inside(params, x, y):
    v, _ = flatten(params)
    return np.sum(v**3) + loss(params, x, y)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_unflatten_inside_the_loss(mode):
    close(srcgrad.grad(flat_loss, mode=mode)(FLAT), autograd.grad(flat_loss)(FLAT))


def test_flatten_inside_the_loss():
    got, want = srcgrad.grad(flattened_inside)(PARAMS, *DATA), autograd.grad(flattened_inside)(PARAMS, *DATA)
    close(flatten(got)[0], flatten(want)[0])
    assert isinstance(got, list) and all(isinstance(item, tuple) for item in got)


@pytest.mark.parametrize("optimizer", [adam, sgd])
def test_autograd_optimizers_with_srcgrad(optimizer):
    ours, theirs = srcgrad.grad(loss), autograd.grad(loss)
    got = optimizer(lambda p, i: ours(p, *DATA), PARAMS, num_iters=15, step_size=0.01)
    want = optimizer(lambda p, i: theirs(p, *DATA), PARAMS, num_iters=15, step_size=0.01)
    close(flatten(got)[0], flatten(want)[0])


# Helpers that take *args and **kwargs (autograd's RNN example): inlined with each call's arguments.
def concat_and_multiply(weights, *args, **options):
    cat_state = np.hstack(args + (np.ones((args[0].shape[0], 1)),))
    return np.dot(cat_state, weights) * options.get("gain", 1.0)


def rnn_step(w, x, h):
    return np.sum(np.tanh(concat_and_multiply(w, x, h, gain=0.5)) + np.tanh(concat_and_multiply(w[2:], h)))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("wrt", [0, 1, 2])
def test_helper_with_star_args(mode, wrt):
    rs = npr.RandomState(3)
    args = rs.randn(5, 2), rs.randn(3, 2), rs.randn(3, 2)
    close(srcgrad.grad(rnn_step, wrt, mode=mode)(*args), autograd.grad(rnn_step, wrt)(*args))


def spread_calls(x, y):
    pair = (x, y)
    options = {"axis": 0}
    scale = (2.0,)
    return np.sum(np.sum(np.multiply(*pair), **options) * np.power(*scale, 3)) + np.sum(np.add(*DATA[0][:2]))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_star_arguments_whose_number_is_known(mode):
    args = npr.RandomState(4).randn(3, 2), npr.RandomState(5).randn(3, 2)
    for wrt in (0, 1):
        close(srcgrad.grad(spread_calls, wrt, mode=mode)(*args), autograd.grad(spread_calls, wrt)(*args))


# Outputs with one element that are not 0-d: autograd's grad accepts them (the VJP with ones).
def dot_output(w, x):
    return np.dot(np.reshape(x, (1, -1)), w) ** 2  # shape (1, 1)


def keepdims_output(x, s):
    y = np.sum(x, keepdims=True)
    for _ in range(3):
        y = y * s + np.sin(y)
    return y


def row_output(x):
    return np.sum(x * x, axis=1)  # shape (1,) for x of shape (1, n)


SIZE_ONE = [
    (dot_output, (npr.RandomState(6).randn(3, 1), npr.RandomState(7).randn(3))),
    (keepdims_output, (npr.RandomState(8).randn(4), 0.7)),
    (row_output, (npr.RandomState(9).randn(1, 3),)),
]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("f, args", SIZE_ONE, ids=[f.__name__ for f, _ in SIZE_ONE])
def test_size_one_outputs(f, args, mode):
    for wrt in range(len(args)):
        got, want = srcgrad.grad(f, wrt, mode=mode)(*args), autograd.grad(f, wrt)(*args)
        assert numpy.shape(got) == numpy.shape(want)
        close(got, want)
    value, gradient = srcgrad.value_and_grad(f, mode=mode)(*args)
    close(value, f(*args))
    close(gradient, autograd.grad(f)(*args))


def test_size_one_loss_with_aux_is_refused_as_jax_does():
    def loss_and_aux(x):
        return np.sum(x, keepdims=True), x

    with pytest.raises(srcgrad.NonScalarOutputError, match=r"shape \(1,\)"):
        srcgrad.grad(loss_and_aux, has_aux=True)(X3)


def test_outputs_of_several_elements_are_still_refused():
    with pytest.raises(srcgrad.NonScalarOutputError, match=r"test_autograd_programs.py:\d+"):
        srcgrad.grad(row_output)(npr.RandomState(9).randn(2, 3))


def test_second_derivative_of_a_size_one_output_is_refused():
    x = npr.RandomState(9).randn(1, 3)
    with pytest.raises(srcgrad.NonScalarOutputError, match="only for 0-d outputs"):
        srcgrad.hessian(row_output)(x)
    close(srcgrad.hessian(summed_row_output)(x), autograd.hessian(summed_row_output)(x))


def summed_row_output(x):
    return np.sum(row_output(x))


# Functions that take *args themselves: generated for the number of arguments of each call.
def with_star_args(x, *rest):
    total = np.sum(np.sin(x))
    for r in rest:
        total = total + np.sum(r * x)
    return total


@pytest.mark.parametrize("count", [0, 1, 3])
def test_top_level_star_args(count):
    rs = npr.RandomState(10)
    args = [rs.randn(3) for _ in range(count + 1)]
    close(srcgrad.grad(with_star_args)(*args), autograd.grad(with_star_args)(*args))


def test_flatten_func_objective():
    from autograd.misc.flatten import flatten_func

    objective, unflatten, flat = flatten_func(loss, PARAMS)
    close(srcgrad.grad(objective)(flat, *DATA), autograd.grad(objective)(flat, *DATA))


# A network as a list of layer objects (autograd's convnet example): the loop is unrolled.
class Dense:
    def __init__(self, n_in, n_out, offset):
        self.shape, self.offset = (n_in, n_out), offset

    def forward_pass(self, x, params):
        W = np.reshape(params[self.offset : self.offset + self.shape[0] * self.shape[1]], self.shape)
        return np.dot(x, W)


class Tanh:
    def forward_pass(self, x, params):
        return np.tanh(x)


def make_predict(layers):
    def predict(params, x):
        for layer in layers:
            x = layer.forward_pass(x, params)
        return np.sum(x**2)

    return predict


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_loop_over_layer_objects(mode):
    predict = make_predict([Dense(3, 4, 0), Tanh(), Dense(4, 2, 12), Tanh()])
    params, x = npr.RandomState(11).randn(20), npr.RandomState(12).randn(5, 3)
    close(srcgrad.grad(predict, mode=mode)(params, x), autograd.grad(predict)(params, x))
    close(srcgrad.hessian(predict)(params, x), autograd.hessian(predict)(params, x))


def test_changed_layer_list_is_refused_not_stale():
    layers = [Dense(3, 2, 0), Tanh()]
    predict = make_predict(layers)
    params, x = npr.RandomState(11).randn(6), npr.RandomState(12).randn(5, 3)
    gradient = srcgrad.grad(predict)
    close(gradient(params, x), autograd.grad(predict)(params, x))
    layers.append(Tanh())
    with pytest.raises(
        srcgrad.UnsupportedValueError,
        match=r"test_autograd_programs.py:\d+: the objects whose methods this line calls changed",
    ):
        gradient(params, x)


# Methods of objects passed in (model.loss(w, x, y)): generated for each class of the argument.
class Linear:
    def __init__(self, scale):
        self.scale = scale

    def predict(self, w, x):
        return np.dot(x, w) * self.scale

    def loss(self, w, x, y):
        return np.sum((self.predict(w, x) - y) ** 2)


class Squashed(Linear):
    def predict(self, w, x):
        return np.tanh(np.dot(x, w)) * self.scale


def model_objective(model, w, x, y):
    return model.loss(w, x, y) + 0.1 * np.sum(w**2)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_methods_of_an_argument_per_class(mode):
    rs = npr.RandomState(13)
    w, x, y = rs.randn(3), rs.randn(5, 3), rs.randn(5)
    gradient = srcgrad.grad(model_objective, 1, mode=mode)
    for model in (Linear(2.0), Squashed(0.5), Linear(3.0)):
        close(gradient(model, w, x, y), autograd.grad(model_objective, 1)(model, w, x, y))


# Generators, map, list() and functools.partial over differentiable functions.
def layer_sizes(n):
    for i in range(n):
        yield i + 2


def with_generator(w):
    total = 0.0
    for k in layer_sizes(3):
        total = total + np.sum(w[:k] ** 2)
    return total


def scaled(x, s):
    return np.sin(x) * s


TWICE = functools.partial(scaled, s=2.0)


def with_map(x):
    squares = list(map(lambda v: v**2, x))
    return np.sum(np.array(list(map(np.tanh, x)))) + sum(squares) + sum(map(scaled, x, x[::-1]))


def with_partial(x):
    f = functools.partial(scaled, s=np.sum(x))
    return np.sum(f(x)) + np.sum(TWICE(x)) + sum(map(functools.partial(scaled, s=3.0), tuple(v for v in x)))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("f", [with_generator, with_map, with_partial])
def test_generators_map_partial(f, mode):
    x = npr.RandomState(14).randn(5)
    close(srcgrad.grad(f, mode=mode)(x), autograd.grad(f)(x))


def predict_with(layers, params, x):
    for layer in layers:
        x = layer.forward_pass(x, params)
    return np.sum(x**2)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_loop_over_layer_objects_passed_in(mode):
    params, x = npr.RandomState(11).randn(20), npr.RandomState(12).randn(5, 3)
    gradient = srcgrad.grad(predict_with, 1, mode=mode)
    for layers in ([Dense(3, 4, 0), Tanh(), Dense(4, 2, 12), Tanh()], [Dense(3, 2, 4), Tanh()]):
        close(gradient(layers, params, x), autograd.grad(predict_with, 1)(layers, params, x))


class Network:
    def __init__(self, layers):
        self.layers = layers

    def loss(self, params, x):
        for layer in self.layers:
            x = layer.forward_pass(x, params)
        return np.sum(x**2)


def network_objective(net, params, x):
    return net.loss(params, x) + 0.1 * np.sum(params**2)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_layers_held_by_an_object_passed_in(mode):
    params, x = npr.RandomState(11).randn(20), npr.RandomState(12).randn(5, 3)
    gradient = srcgrad.grad(network_objective, 1, mode=mode)
    for net in (Network([Dense(3, 4, 0), Tanh(), Dense(4, 2, 12)]), Network([Dense(3, 2, 4), Tanh()])):
        close(gradient(net, params, x), autograd.grad(network_objective, 1)(net, params, x))


# Values passed on through *args/**kwargs after a swap (a silent wrong gradient found by the
# random programs: the helper's keyword read the swapped name's new meaning).
def shifted(a, **kw):
    return a + kw.get("shift", 0.0)


def spread_after_swap(x, w):
    x, w = w, x
    parts = (w, x)
    return np.sum(shifted(w, shift=x)) + np.sum(np.multiply(*parts)) + np.sum(shifted(*(w,), **{"shift": x}))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_star_arguments_after_a_swap(mode):
    args = npr.RandomState(15).randn(3), 0.2131
    for wrt in (0, 1):
        close(
            srcgrad.grad(spread_after_swap, wrt, mode=mode)(*args),
            autograd.grad(spread_after_swap, wrt)(*args),
        )


def pairs_summed(a, p):
    b = sum([a, a])  # the builtin sum, in a helper called through a partial
    return np.sum(b) * p


def partial_with_builtin(x, w):
    pf = functools.partial(pairs_summed, p=w)
    return pf(x)


def test_partial_of_a_helper_that_calls_a_builtin():
    x, w = np.array([0.19, -0.9051, 0.1771]), 0.1433
    for wrt in (0, 1):
        close(srcgrad.grad(partial_with_builtin, wrt)(x, w), autograd.grad(partial_with_builtin, wrt)(x, w))


SCALES = [Dense(3, 3, 0), Tanh(), Dense(3, 3, 9), Tanh()]


def indexed_and_sliced_layers(params, x):
    v = SCALES[0].forward_pass(x, params) + SCALES[-1].forward_pass(x, params)
    for layer in SCALES[1:]:
        v = layer.forward_pass(v, params)
    for layer in reversed(SCALES):
        v = layer.forward_pass(v, params)
    return np.sum(v**2)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_layers_read_by_index_slice_and_reversed(mode):
    params, x = npr.RandomState(16).randn(18) * 0.5, npr.RandomState(17).randn(4, 3)
    got = srcgrad.grad(indexed_and_sliced_layers, mode=mode)(params, x)
    close(got, autograd.grad(indexed_and_sliced_layers)(params, x))
