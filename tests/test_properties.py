"""Random straight-line numpy functions: srcgrad.grad agrees with central differences.

Each generated function is written to a real module file (srcgrad reads source), imported,
and differentiated with respect to a random choice of its parameters.
"""

import importlib.util
import itertools
import sys
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import srcgrad

# Unary operations, safe on every real input: ``{}`` (or ``{0}``) is the operand.
UNARY = [
    "np.sin({})",
    "np.cos({})",
    "np.tanh({})",
    "np.exp(np.tanh({}))",
    "np.exp(np.sin({}) * 0.5)",
    "({}) ** 2",
    "np.sqrt(({}) ** 2 + 1.0)",
    "np.log(({}) ** 2 + 1.0)",
    "-({})",
    "np.square(np.tanh({}))",
    "({0}) - np.mean({0}, keepdims=True)",
    "np.sum(({0}) ** 2, keepdims=True) * 0.5",
]
# Binary operations; division only by a value bounded away from zero.
BINARY = [
    "({}) + ({})",
    "({}) - ({})",
    "({}) * ({})",
    "({}) / (1.0 + ({}) ** 2)",
]
REDUCTIONS = ["np.sum({})", "np.mean({})", "np.sum(({}) * WEIGHTS)"]

PARAMS = ("x", "y")
SHAPE = (3,)  # x has this shape; y has one that broadcasts with it
Y_SHAPES = [(3,), (1,), (2, 1), (), (2, 3)]
WEIGHTS = np.array([0.5, -1.0, 2.0])

_directory = tempfile.TemporaryDirectory(prefix="srcgrad_properties_")
_counter = itertools.count()


def expressions(names):
    """Expressions over ``names`` (variables) and small constants."""
    leaves = st.sampled_from(names) | st.sampled_from(["0.5", "2.0", "1.5"])

    def extend(children):
        unary = st.builds(lambda op, a: op.format(a), st.sampled_from(UNARY), children)
        binary = st.builds(lambda op, a, b: op.format(a, b), st.sampled_from(BINARY), children, children)
        return unary | binary

    return st.recursive(leaves, extend, max_leaves=6)


@st.composite
def programs(draw):
    """The source of a straight-line function of x and y, with 1 to 3 assignments."""
    names = list(PARAMS)
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(["a", "b", "x"]))  # assigning to x rebinds a parameter
        lines.append(f"    {target} = {draw(expressions(names))}")
        if target not in names:
            names.append(target)
    result = draw(expressions(names))
    lines.append(f"    return {draw(st.sampled_from(REDUCTIONS)).format(result)}")
    return "\n".join(["def f(x, y):"] + lines) + "\n"


def load(source):
    """Import ``source`` from a new module file and return its function ``f``."""
    name = f"srcgrad_generated_{next(_counter)}"
    path = f"{_directory.name}/{name}.py"
    with open(path, "w") as fh:
        fh.write("import numpy as np\n\nWEIGHTS = np.array([0.5, -1.0, 2.0])\n\n\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.f


def central_difference(f, args, i, h=1e-6):
    x = np.array(args[i], dtype=np.float64)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        lo, hi = list(args), list(args)
        hi[i], lo[i] = up, down
        out[idx] = (f(*hi) - f(*lo)) / (2 * h)
    return out


def arrays(shape):
    size = int(np.prod(shape))
    return st.lists(st.floats(-1.0, 1.0), min_size=size, max_size=size).map(lambda v: np.reshape(v, shape))


y_arrays = st.sampled_from(Y_SHAPES).flatmap(arrays)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=programs(), x=arrays(SHAPE), y=y_arrays, wrt=st.sampled_from([0, 1, "x", "y", (0, 1), ("y", "x")])
)
def test_grad_matches_central_differences(source, x, y, wrt):
    f = load(source)
    args = [x, y]
    value = f(*args)
    assert np.isfinite(value)
    got = srcgrad.grad(f, wrt=wrt)(*args)
    many = isinstance(wrt, tuple)
    items = wrt if many else (wrt,)
    grads = got if many else (got,)
    assert len(grads) == len(items)
    for item, g in zip(items, grads):
        i = PARAMS.index(item) if isinstance(item, str) else item
        assert np.shape(g) == np.shape(args[i])
        want = central_difference(f, args, i)
        scale = max(1.0, float(np.max(np.abs(want))))
        assert np.allclose(g, want, rtol=1e-4, atol=1e-5 * scale), (
            f"{source}\nwrt={item!r}: srcgrad {g!r}, central differences {want!r}\n"
            f"generated:\n{srcgrad.grad(f, wrt=wrt).source}"
        )


@settings(max_examples=25, deadline=None)
@given(source=programs(), x=arrays(SHAPE), y=y_arrays)
def test_value_and_grad_agrees_with_f_and_grad(source, x, y):
    f = load(source)
    value, g = srcgrad.value_and_grad(f, wrt=(0, 1))(x, y)
    assert np.allclose(value, f(x, y), rtol=1e-12, atol=1e-12)
    for a, b in zip(g, srcgrad.grad(f, wrt=(0, 1))(x, y)):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12)


@st.composite
def neighbour_sums(draw):
    """``np.sum`` of products of slices ``x[a:-b]`` that drop as many rows, with the slices'
    gradients met by a filled adjoint (``x[1:]`` and ``x[:-1]`` have one shape at any length)."""
    drop = draw(st.integers(0, 3))
    slices = []
    for _ in range(draw(st.integers(1, 3))):
        a = draw(st.integers(0, drop))
        stop = "" if a == drop else str(a - drop)
        slices.append(f"x[{a}:{stop}]")
    op = draw(st.sampled_from([" * ", " - ", " + 0.5 * "]))
    scale = draw(st.sampled_from(["", "-", "2.0 * "]))
    return f"def f(x):\n    return {scale}np.sum(np.sin({op.join(slices)}) ** 2)\n"


@settings(max_examples=40, deadline=None)
@given(source=neighbour_sums(), n=st.integers(0, 6), columns=st.sampled_from([(), (2,)]))
def test_slices_of_one_length_match_central_differences(source, n, columns):
    f = load(source)
    x = np.linspace(-0.9, 1.1, n * int(np.prod(columns))).reshape((n, *columns))
    for mode in ("reverse", "forward"):
        got = srcgrad.grad(f, mode=mode)(x)
        assert np.shape(got) == x.shape
        assert np.allclose(got, central_difference(f, [x], 0), atol=1e-6), (source, n, mode)


# Loops carrying a scalar s: its updates broadcast s with the scalar k and with scalars made
# from the array x; the last two update s without broadcasting it (s is 0-d only at the end).
SCALAR_UPDATES = [
    "s = s + dt * (np.sin(s) - k * s)",
    "s = s * k + np.sum(x * s) * 0.1",
    "t = np.tanh(s) * k\n{i}s = t + s * 0.5",
    "y = x * s\n{i}s = s + np.mean(y) * k",
    "if np.sum(s) > 0.2:\n{i}    s = s * 0.5",
    "s = np.sum(np.cos(x * s + k)) * 0.3",
    "s = np.sum(x * 0.5) + k * 0.0",
]


@st.composite
def scalar_loops(draw):
    """``f(x, k, dt)`` with s = k or s = x (an array until a sum), one or two loops updating s,
    returning s or a broadcast of it."""
    lines = ["def f(x, k, dt):", f"    s = {draw(st.sampled_from(['k', 'x', 'k * dt']))}"]
    for _ in range(draw(st.integers(1, 2))):
        lines.append(f"    for _ in range({draw(st.integers(0, 3))}):")
        for update in draw(st.lists(st.sampled_from(SCALAR_UPDATES), min_size=1, max_size=3)):
            lines.append("        " + update.format(i="        "))
    lines.append(f"    return {draw(st.sampled_from(['s', 's * k', 'np.sin(s) + dt']))}")
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None)
@example(  # s is x in the first iteration, where k broadcasts with it
    source="def f(x, k, dt):\n    s = x\n    for _ in range(2):\n        s = np.sum(np.cos(x * s + k)) * 0.3\n    return s * k\n",
    k=0.7,
)
@example(  # the loop overwrites s without reading it
    source="def f(x, k, dt):\n    s = k\n    for _ in range(1):\n        s = np.sum(x * 0.5) + k * 0.0\n    return s\n",
    k=0.7,
)
@given(source=scalar_loops(), k=st.sampled_from([0.7, np.float64(-0.4), np.array(1.3)]))
def test_scalar_loops_match_central_differences(source, k):
    """grad's output is 0-d, so after the check srcgrad treats the values it broadcasts as
    scalars; where s started as an array, or is made from one, shapes must survive."""
    f = load(source)
    args = [np.array([0.3, -0.6, 0.9]), k, 0.05]
    if np.ndim(f(*args)) != 0:  # s was x and no iteration made it a scalar
        with pytest.raises(srcgrad.NonScalarOutputError):
            srcgrad.grad(f)(*args)
        return
    for i in (0, 1, 2):
        got = srcgrad.grad(f, wrt=i)(*args)
        assert np.shape(got) == np.shape(args[i])
        assert np.allclose(got, central_difference(f, args, i), atol=1e-6), (source, i)
