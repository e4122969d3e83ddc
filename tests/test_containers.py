"""Containers (pytrees): tuples, lists, dicts and namedtuples of arrays and floats, nested, as
arguments and outputs of every operator, checked against autograd and finite differences."""

import copy
from collections import namedtuple

import autograd
import numpy as np
import oracle
import pytest
from oracle import numeric_grad

import srcgrad
from srcgrad.runtime import leaves

Layer = namedtuple("Layer", "W b")


# -- the functions (np becomes autograd.numpy for the oracle) --------------------------------


def dict_mlp(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return np.sum((h @ params["W2"] + params["b2"]) ** 2)


def tuple_unpack(p, x):
    W, b = p
    return np.sum(np.tanh(x @ W + b))


def last_layer(params):
    W, b = params[-1]
    return np.sum(W**2) + np.sum(b)


def namedtuple_fields(p, x):
    return np.sum(np.tanh(x @ p.W + p.b))


def namedtuple_mixed(p, x):
    return np.sum(x @ p[0]) * np.sum(p.W) + np.sum(p.b**2)


def layer_loop(layers, x):
    h = x
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.sum(h**2)


def indexed_loop(ws):
    s = 0.0
    for i in range(len(ws)):
        s = s + np.sum(ws[i] ** 3)
    return s


def nested(params, x):
    W, b = params["layer"]
    return np.sum(np.tanh(x @ W + b)) * params["scale"]


def _helper(p):
    return np.sum(p[0] ** 2) + p[1]


def through_helper(p):
    return _helper(p) * len(p)


def unread(params, x):
    return np.sum(params["a"] * x)


def read_twice(p):
    return np.sum(p[0] * p[0]) + np.sum(p[0]) + np.sum(p[-1])


def float_leaves(p, x):
    return np.sum(np.sin(x * p["a"])) * p["c"] + p["c"] ** 2


def pair_out(x):
    return np.sin(x), {"sq": x**2, "sum": np.sum(x)}


def with_aux(p, x):
    W, b = p
    h = np.tanh(x @ W + b)
    return np.sum(h**2), h


RNG = np.random.default_rng(0)


def r(*shape):
    return RNG.standard_normal(shape)


X = r(4, 2)
CASES = {
    "dict_mlp": (dict_mlp, ({"W1": r(2, 3), "b1": r(3), "W2": r(3, 2), "b2": r(2)}, X)),
    "tuple_unpack": (tuple_unpack, ((r(2, 3), r(3)), X)),
    "list_unpack": (tuple_unpack, ([r(2, 3), r(3)], X)),
    "last_layer": (last_layer, ([(r(2, 3), r(3)), (r(3, 3), r(3))],)),
    "layer_loop": (layer_loop, ([(r(2, 3), r(3)), (r(3, 4), r(4)), (r(4, 1), r(1))], X)),
    "indexed_loop": (indexed_loop, ([r(2), r(3, 2), r(1)],)),
    "nested": (nested, ({"layer": (r(2, 3), r(3)), "scale": 1.5}, X)),
    "through_helper": (through_helper, ([r(3), 2.0],)),
    "unread": (unread, ({"a": r(2), "b": r(3), "c": 2.0, "d": (r(2), [r(1)])}, r(2))),
    "read_twice": (read_twice, ((r(3), r(2)),)),
    "float_leaves": (float_leaves, ({"a": r(3), "c": 0.7}, r(3))),
}


def same(got, want):
    """Same structure, same container types, same numbers."""
    if isinstance(want, (list, tuple, dict)):
        assert type(got) is type(want), (type(got), type(want))
    if isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            same(got[k], want[k])
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            same(a, b)
    elif np.ndim(want) == 0:  # a number: a float, a numpy scalar or a 0-d array alike
        assert np.ndim(got) == 0 and np.isclose(got, want, rtol=1e-7, atol=1e-10), (got, want)
    else:
        assert np.shape(got) == np.shape(want)
        assert np.allclose(got, want, rtol=1e-7, atol=1e-10), (got, want)


def autograd_grad(f, args, wrt=0):
    with oracle.autograd_numpy(globals()["_module"]):
        return autograd.grad(f, wrt)(*args)


_module = __import__(__name__)


def numeric(f, args, i=0, eps=1e-6):
    """Central differences of scalar ``f`` with respect to every leaf of argument ``i``."""
    from srcgrad.runtime import from_leaves

    parts = leaves(args[i])
    out = []
    for k, leaf in enumerate(parts):
        leaf = np.asarray(leaf, dtype=float)
        d = np.zeros_like(leaf)
        for index in np.ndindex(leaf.shape):
            values = []
            for sign in (1, -1):
                moved = leaf.copy()
                moved[index] += sign * eps
                new = list(parts)
                new[k] = moved if moved.shape else float(moved)
                at = list(args)
                at[i] = from_leaves(args[i], new)
                values.append(f(*at))
            d[index] = (values[0] - values[1]) / (2 * eps)
        out.append(d if d.shape else float(d))
    return from_leaves(args[i], out)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_grad_of_a_container_matches_autograd(case, mode):
    f, args = CASES[case]
    got = srcgrad.grad(f, mode=mode)(*args)
    same(got, autograd_grad(f, args))


@pytest.mark.parametrize("case", ["dict_mlp", "layer_loop", "nested", "float_leaves", "last_layer"])
def test_grad_of_a_container_matches_finite_differences(case):
    f, args = CASES[case]
    got = srcgrad.grad(f)(*args)
    want = numeric(f, args)
    for a, b in zip(leaves(got), leaves(want)):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("f", [namedtuple_fields, namedtuple_mixed])
def test_a_namedtuple_gives_the_same_namedtuple(f, mode):
    p = Layer(r(2, 3), r(3))
    got = srcgrad.grad(f, mode=mode)(p, X)
    assert type(got) is Layer
    want = numeric(f, (p, X))  # (autograd does not take namedtuples)
    for a, b in zip(got, want):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-6)


def test_every_operator_leaves_the_callers_containers_unchanged():
    params = {"W1": r(2, 3), "b1": r(3), "W2": r(3, 2), "b2": r(2)}
    layers = [(r(2, 3), r(3)), (r(3, 4), r(4))]
    saved = copy.deepcopy((params, layers))
    srcgrad.grad(dict_mlp)(params, X)
    srcgrad.grad(dict_mlp, mode="forward")(params, X)
    srcgrad.value_and_grad(layer_loop)(layers, X)
    srcgrad.hessian(tuple_unpack)(layers[0], X)
    srcgrad.vjp(dict_mlp, params, X)[1](1.0)
    srcgrad.jvp(layer_loop, (layers, X), (layers, X))
    for a, b in zip(leaves((params, layers)), leaves(saved)):
        assert np.array_equal(a, b)
    assert list(params) == ["W1", "b1", "W2", "b2"] and len(layers) == 2 and type(layers[0]) is tuple


def test_the_gradient_of_a_dict_is_assembled_once_from_named_adjoints():
    source = srcgrad.grad(dict_mlp).source
    assert "d_params = items_grad(params, {'W1': d_W1, 'b1': d_b1, 'W2': d_W2, 'b2': d_b2})" in source, source
    assert source.count("items_grad") == 1 and "zeros" not in source, source


def test_a_loop_over_layers_adds_each_layers_adjoint_only():
    source = srcgrad.grad(layer_loop).source
    assert "add_item(d_layers, i, d_item)" in source, source
    assert "getitem_grad" not in source, source


def test_value_and_grad_of_a_container():
    f, args = CASES["dict_mlp"]
    value, got = srcgrad.value_and_grad(f)(*args)
    assert value == pytest.approx(f(*args))
    same(got, autograd_grad(f, args))


def test_grad_with_respect_to_several_containers():
    params = (r(2, 3), r(3))
    got = srcgrad.grad(tuple_unpack, wrt=(0, 1))(params, X)
    with oracle.autograd_numpy(_module):
        want = autograd.grad(tuple_unpack, (0, 1))(params, X)
    same(got[0], want[0])
    assert np.allclose(got[1], want[1])


def test_has_aux():
    p = (r(2, 3), r(3))
    (loss, aux), g = srcgrad.value_and_grad(with_aux, has_aux=True)(p, X)
    h = np.tanh(X @ p[0] + p[1])
    assert loss == pytest.approx(np.sum(h**2)) and np.allclose(aux, h)
    want = autograd_grad(lambda p, x: with_aux(p, x)[0], (p, X))
    same(g, want)
    g2, aux2 = srcgrad.grad(with_aux, has_aux=True)(p, X)
    same(g2, want)
    assert np.allclose(aux2, h)
    (_, _), g3 = srcgrad.value_and_grad(with_aux, wrt=("p",), has_aux=True)(p, X)
    same(g3, (want,))


def test_has_aux_needs_a_pair():
    with pytest.raises(srcgrad.SrcGradError, match="has_aux"):
        srcgrad.grad(indexed_loop, has_aux=True)([r(2)])
    with pytest.raises(srcgrad.SrcGradError, match="has_aux"):
        srcgrad.grad(with_aux, mode="forward", has_aux=True)


def test_vjp_with_container_primals_and_cotangents():
    x = r(3)
    out, pullback = srcgrad.vjp(pair_out, x)
    assert np.allclose(out[0], np.sin(x)) and np.allclose(out[1]["sq"], x**2)
    cotangent = (r(3), {"sq": r(3), "sum": 0.5})
    (got,) = pullback(cotangent)
    want = cotangent[0] * np.cos(x) + cotangent[1]["sq"] * 2 * x + 0.5
    assert np.allclose(got, want)
    params = {"W1": r(2, 3), "b1": r(3), "W2": r(3, 2), "b2": r(2)}
    _, pullback = srcgrad.vjp(dict_mlp, params, X)
    grads = pullback(1.0)
    same(grads[0], autograd_grad(dict_mlp, (params, X)))


def test_jvp_with_container_tangents():
    layers = [(r(2, 3), r(3)), (r(3, 4), r(4))]
    tangent = [(r(2, 3), r(3)), (r(3, 4), r(4))]
    out, t = srcgrad.jvp(layer_loop, (layers, X), (tangent, np.zeros_like(X)))
    assert out == pytest.approx(layer_loop(layers, X))
    g = srcgrad.grad(layer_loop)(layers, X)
    assert t == pytest.approx(sum(np.sum(a * b) for a, b in zip(leaves(g), leaves(tangent))))
    x = r(3)
    out, t = srcgrad.jvp(pair_out, (x,), (np.ones(3),))
    assert type(t) is tuple and set(t[1]) == {"sq", "sum"}
    assert (
        np.allclose(t[0], np.cos(x)) and np.allclose(t[1]["sq"], 2 * x) and t[1]["sum"] == pytest.approx(3.0)
    )


def test_jacobian_of_container_inputs_and_outputs_nests_as_jax():
    p = (r(2, 3), r(3))
    jac = srcgrad.jacobian(tuple_unpack)(p, X)  # a scalar output: the gradient's structure
    same(jac, srcgrad.grad(tuple_unpack)(p, X))
    x = r(3)
    jac = srcgrad.jacobian(pair_out)(x)  # the output's structure outside
    assert np.allclose(jac[0], np.diag(np.cos(x)))
    assert np.allclose(jac[1]["sq"], np.diag(2 * x)) and np.allclose(jac[1]["sum"], np.ones(3))


def test_hessian_of_a_container():
    p = (r(2, 3), r(3))
    h = srcgrad.hessian(tuple_unpack)(p, X)
    assert [[b.shape for b in row] for row in h] == [[(2, 3, 2, 3), (2, 3, 3)], [(3, 2, 3), (3, 3)]]
    with oracle.autograd_numpy(_module):
        want = autograd.hessian(lambda w, b: tuple_unpack((w, b), X), 1)(*p)
    assert np.allclose(h[1][1], want)
    flat = lambda w: tuple_unpack((w, p[1]), X)  # noqa: E731
    with oracle.autograd_numpy(_module):
        want = autograd.hessian(flat)(p[0])
    assert np.allclose(h[0][0], want)


def test_second_order_through_container_gradients():
    p = {"a": r(3), "c": 0.7}
    x = r(3)

    def first(a):
        return np.sum(srcgrad.grad(float_leaves)({"a": a, "c": 0.7}, x)["a"] ** 2)

    got = srcgrad.grad(lambda a: np.sum(float_leaves({"a": a, "c": 0.7}, x)))(p["a"])
    with oracle.autograd_numpy(_module):
        want = autograd.grad(lambda a: float_leaves({"a": a, "c": 0.7}, x))(p["a"])
    assert np.allclose(got, want)
    assert np.isfinite(first(p["a"]))


def test_an_attribute_of_something_not_a_namedtuple_is_refused():
    class Params:
        def __init__(self):
            self.W = r(2, 3)
            self.b = r(3)

    with pytest.raises(srcgrad.SrcGradError, match="namedtuple"):
        srcgrad.grad(namedtuple_fields)(Params(), X)


def rows(x):
    a, b = x
    return np.sum(a * b) + np.sum(x[-1])


def uses_dict(x):
    d = {"a": x, "b": 2.0 * x}
    return np.sum(d["a"] * d["b"])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_arrays_read_by_position_still_work(mode):
    x = r(3, 2)
    same(srcgrad.grad(read_twice, mode=mode)(x), autograd_grad(read_twice, (x,)))
    x = r(2, 3)
    same(srcgrad.grad(rows, mode=mode)(x), autograd_grad(rows, (x,)))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_dict_built_in_the_function(mode):
    x = r(3)
    same(srcgrad.grad(uses_dict, mode=mode)(x), 4.0 * x)


def over_keys(params):
    s = 0.0
    for k in ["a", "b"]:
        s = s + np.sum(params[k] ** 2)
    return s


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_loop_over_keys(mode):
    p = {"a": r(2), "b": r(3), "c": 1.0}
    same(srcgrad.grad(over_keys, mode=mode)(p), {"a": 2 * p["a"], "b": 2 * p["b"], "c": 0.0})


def loops_over_a_dict(params):
    total = 0.0
    for k in params:  # MARK: dict-loop
        total = total + np.sum(params[k] ** 2)
    return total


def test_loop_directly_over_a_dict_is_refused_at_its_line():
    with pytest.raises(
        srcgrad.UnsupportedValueError,
        match=r"test_containers.py:\d+: srcgrad does not differentiate a loop directly over a dict",
    ):
        srcgrad.grad(loops_over_a_dict)({"a": np.ones(2), "b": np.ones(3)})


# Lists of tuples built in the function (a silent wrong gradient once: the adjoints of the two
# items of a (W, b) pair were added with +, which concatenates lists).
def built_then_unpacked(w, x):
    layers = []
    layers.append((np.reshape(w[:2], (1, 2)), w[2:4]))
    layers.append((np.reshape(w[4:6], (2, 1)), w[6:7]))
    for W, b in layers:
        x = np.tanh(x @ W + b)
    return np.sum(x)


def literal_pairs(w, x):
    pairs = [(w[:2], w[2:4]), (w[4:6], w[6:8])]
    total = np.sum(pairs[0][0] * pairs[1][1]) + np.sum(pairs[1][0] ** 2 * x)
    for s, (t, u) in [(w[:2] * x, [w[1:3], w[:2]]), (w[2:4], [w[3:5], w[2:4]])]:
        total = total + np.sum(s * t) - np.sum(u**2)
    return total


def unpack_layers(weights):
    for m, n in [(1, 2), (2, 1)]:
        yield np.reshape(weights[: m * n], (m, n)), weights[m * n : m * n + n]
        weights = weights[(m + 1) * n :]


def from_a_generator(w, x):
    for W, b in unpack_layers(w):
        x = np.tanh(x @ W + b)
    return np.sum(x)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("f", [built_then_unpacked, literal_pairs, from_a_generator])
def test_lists_of_tuples_built_in_the_function(f, mode):
    w = np.random.default_rng(0).normal(size=8)
    x = np.random.default_rng(1).normal(size=(3, 1)) if f is not literal_pairs else np.ones(2) * 0.3
    np.testing.assert_allclose(
        srcgrad.grad(f, mode=mode)(w, x), numeric_grad(f, (w, x), 0), rtol=1e-6, atol=1e-8
    )


def appends_to_an_item(w):
    nested = [[w[:2]], [w[2:4]]]
    nested[1].append(w[4:6] * 2.0)  # MARK: item-append
    return np.sum(nested[1][1])


def test_in_place_method_on_an_item_is_refused():
    with pytest.raises(
        srcgrad.UnsupportedSyntaxError,
        match=r"test_containers.py:\d+: .*\.append\(\) that changes a value in place",
    ):
        srcgrad.grad(appends_to_an_item)(np.ones(6))


# An in-place update of a view whose base is never read again: Python changes both, the
# generated code changes a copy, and nothing tells them apart. Read again: refused.
def view_updated_base_dead(x):
    y = x * 1.0
    v = y[1:]
    v -= 0.5 * x[:-1]
    v[0] = x[0] ** 2
    return np.sum(v**2)


def view_updated_base_read(x):
    y = x * 2.0
    v = y[1:]
    v *= 3.0  # MARK: view-update
    return np.sum(y)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_in_place_update_of_a_view_whose_base_is_dead(mode):
    x = np.random.default_rng(2).normal(size=4)
    got = srcgrad.grad(view_updated_base_dead, mode=mode)(x)
    np.testing.assert_allclose(got, numeric_grad(view_updated_base_dead, (x,), 0), rtol=1e-6, atol=1e-8)


def test_in_place_update_of_a_view_whose_base_is_read_is_refused():
    with pytest.raises(srcgrad.SrcGradError, match=r"test_containers.py:\d+: .*in-place update"):
        srcgrad.grad(view_updated_base_read)(np.ones(4))


def dict_entry_reassigned(x, w):
    d = {"scale": w, "shift": x}
    d["scale"] = d["scale"] * 0.5
    return np.sum(d["shift"]) * d["scale"]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_entry_of_a_dict_built_here_reassigned(mode):
    x, w = np.array([-0.1661, 0.4399, -0.1366]), 0.2436
    got = srcgrad.grad(dict_entry_reassigned, wrt=(0, 1), mode=mode)(x, w)
    np.testing.assert_allclose(got[0], numeric_grad(dict_entry_reassigned, (x, w), 0), rtol=1e-6)
    np.testing.assert_allclose(got[1], numeric_grad(dict_entry_reassigned, (x, w), 1), rtol=1e-6)


# Containers of arrays of different shapes, built in the function, differentiated twice: their
# zero tangents are containers too (np.zeros_like of a ragged list crashed).
def pairs_of_outer_products(x, w):
    layers = [(np.outer(x, x), x), (np.outer(x * w, x), x)]
    return np.sum(layers[1][0] @ layers[0][1]) * w


def nested_in_a_branch(x, w):
    a = np.zeros(3)
    if w > 0.5:
        nst = [(x, [a, x]), (x, [a, a[0]])]
        w = w * np.sum(nst[0][1][1])
    return w * w


def loops_over_items(x, w):
    d = {"scale": [e for e in x], "shift": x}
    total = 0.0
    for key, val in d.items():
        total = total + len(key) + len(val)
    return w * w * total


@pytest.mark.parametrize("f", [pairs_of_outer_products, nested_in_a_branch, loops_over_items])
def test_second_order_and_forward_through_ragged_containers(f):
    x, w = np.array([0.1578, 0.9846, -0.4357]), 0.8912
    forward = srcgrad.grad(f, wrt=1, mode="forward")(x, w)
    np.testing.assert_allclose(forward, numeric_grad(f, (x, w), 1), rtol=1e-6, atol=1e-9)
    second = srcgrad.hessian(f, wrt=1)(x, w)
    step = 1e-5
    by_differences = (srcgrad.grad(f, wrt=1)(x, w + step) - srcgrad.grad(f, wrt=1)(x, w - step)) / (2 * step)
    np.testing.assert_allclose(second, by_differences, rtol=1e-5, atol=1e-7)
