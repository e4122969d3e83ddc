"""Random small programs with loops, branches and in-place updates: srcgrad.grad agrees with
central differences.

Programs come from a small grammar: one or two ``for i in range(n)`` loops (n in 0..3), with
nested loops, whose bodies mix value updates, index- and data-dependent ``if``s, in-place
writes into a copy ``z`` of ``x``, and data-dependent ``break``/``continue``. Each program is
written to a real module file (srcgrad reads source) and imported, twice: as written, for
srcgrad, and with every data-dependent test ``v > c`` replaced by ``note(v, c)``, which
records how far ``v`` is from ``c``, so that examples whose finite differences would
straddle a branch switch are skipped.
"""

import hashlib
import importlib.util
import re
import sys
import tempfile

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import srcgrad

N = 3  # x and z have this many elements; loop indices stay below it
H = 1e-6  # finite-difference step
MARGIN = 1e-4  # skip an example when a data-dependent test is this close to its threshold

_directory = tempfile.TemporaryDirectory(prefix="srcgrad_control_flow_")

# Statements that update the array y and the scalar s; ``{c}`` is a small constant and
# ``{i}`` the innermost loop variable (statements that need it appear only inside loops).
UPDATES = [
    "y = np.sin(y) * x",
    "y = np.tanh(y * w) + x",
    "y = y * y * {c}",
    "y += x * {c}",
    "y /= 1.5 + np.cos(y)",
    "s = np.sin(s) * w + np.sum(y) * {c}",
    "y = np.cos(x) * {c}",  # overwrites without reading: after the loop y is the last value
    "s = np.sum(x * w) * {c}",
]
INDEXED_UPDATES = [
    "y = y + x[{i}] * {c}",
    "y = y * np.cos(x[{i}]) + {c}",
    "y -= np.sin(x[{i}]) * w",
    "y *= {c} + np.tanh(x[{i}]) * 0.5",
    "s = s + np.sum(y) * x[{i}]",
    "s = np.sin(s) * w + x[{i}]",
]
# In-place updates on ``z`` (a copy of x made at the top of every program).
IN_PLACE = [
    "z[{i}] = z[{i}] * y[{i}]",
    "z[{i}] = np.sin(x[{i}]) * w",
    "z[{i}] += y[{i}] * {c}",
    "z[{i}] *= {c} + np.tanh(z[{i}])",
    "z[:{i}] = z[:{i}] * {c}",
    "z[{i}:] = y[{i}:] * z[{i}:]",
]
INDEX_CONDITIONS = ["{i} % 2 == 0", "{i} == 1", "{i} > 0"]
# Data-dependent tests ``value > constant``, written ``COND(value, constant)`` in the
# template: plain ``(value) > constant`` for srcgrad, ``note(value, constant)`` to measure.
DATA_VALUES = ["np.sum(y)", "s", "np.sum(y * x)", "z[0] + z[2]"]
INDEXED_DATA_VALUES = ["z[{i}]", "y[{i}] * x[{i}]"]
CONSTANTS = ["0.5", "-0.5", "1.5", "0.75", "2.0"]
LOOP_VARIABLES = ["i", "j", "k"]

MARGINS = []  # every data-dependent test of the measuring variant appends its margin


def note(value, threshold):
    """``value > threshold``, recording how far value is from the threshold."""
    MARGINS.append(abs(float(value) - threshold))
    return value > threshold


def indent(lines):
    return ["    " + line for line in lines]


@st.composite
def statements(draw, depth, loop_var):
    """One statement (possibly compound) as a list of unindented lines; ``loop_var`` is the
    innermost loop variable, or None outside loops."""
    c = draw(st.sampled_from(CONSTANTS))
    kinds = ["update", "update"]
    if loop_var:
        kinds += ["indexed", "in_place", "in_place", "break", "continue"]
    if depth < 4:
        kinds += ["if_data"] + (["if_index"] if loop_var else [])
    if depth < 3:
        kinds.append("loop")
    kind = draw(st.sampled_from(kinds))
    if kind == "update":
        return [draw(st.sampled_from(UPDATES)).format(c=c)]
    if kind == "indexed":
        return [draw(st.sampled_from(INDEXED_UPDATES)).format(c=c, i=loop_var)]
    if kind == "in_place":
        return [draw(st.sampled_from(IN_PLACE)).format(c=c, i=loop_var)]
    if kind == "loop":
        var = LOOP_VARIABLES[depth - 1]
        n = draw(st.integers(0, 3))
        return [f"for {var} in range({n}):"] + indent(draw(blocks(depth + 1, var)))
    values = DATA_VALUES + ([v.format(i=loop_var) for v in INDEXED_DATA_VALUES] if loop_var else [])
    data_test = f"COND({draw(st.sampled_from(values))}, {c})"
    if kind in ("break", "continue"):
        return [f"if {data_test}:", f"    {kind}"]
    test = draw(st.sampled_from(INDEX_CONDITIONS)).format(i=loop_var) if kind == "if_index" else data_test
    lines = [f"if {test}:"] + indent(draw(blocks(depth + 1, loop_var)))
    if draw(st.booleans()):
        lines += ["else:"] + indent(draw(blocks(depth + 1, loop_var)))
    return lines


@st.composite
def blocks(draw, depth, loop_var):
    lines = []
    for _ in range(draw(st.integers(1, 2))):
        lines += draw(statements(depth, loop_var))
    return lines


@st.composite
def programs(draw):
    """The template of a function f(x, w) of a length-3 array and a scalar: one or two
    top-level loops, optionally followed by statements outside any loop."""
    body = []
    for _ in range(draw(st.integers(1, 2))):
        n = draw(st.integers(0, 3))
        body += [f"for i in range({n}):"] + indent(draw(blocks(2, "i")))
        if draw(st.booleans()):
            body += draw(statements(2, None))
    lines = ["def f(x, w):", "    y = x * w", "    z = x.copy()", "    s = w"]
    lines += indent(body)
    lines.append("    return np.sum(y * z) + np.sum(np.sin(z)) + s * w")
    return "\n".join(lines) + "\n"


def render(template, measure):
    """Replace every ``COND(value, c)`` by ``note(value, c)`` or ``(value) > c``."""
    return re.sub(
        r"COND\((.*), ([-0-9.]+)\):$",
        (lambda m: f"note({m[1]}, {m[2]}):") if measure else (lambda m: f"({m[1]}) > {m[2]}:"),
        template,
        flags=re.MULTILINE,
    )


def load(source):
    """Import ``source`` as a module named after its hash (the same program, the same file:
    hypothesis replays a failing example and expects it to fail at the same place)."""
    name = f"srcgrad_control_flow_{hashlib.sha1(source.encode()).hexdigest()[:16]}"
    if name in sys.modules:
        return sys.modules[name].f
    path = f"{_directory.name}/{name}.py"
    with open(path, "w") as fh:
        fh.write(f"import numpy as np\n\nfrom {__name__} import note\n\n\n{source}")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.f


def run(f, x, w):
    """f(x, w) and the smallest margin of its data-dependent tests (inf when there are none)."""
    MARGINS.clear()
    value = f(x.copy(), w)
    smallest = min(MARGINS, default=np.inf)
    MARGINS.clear()
    return value, smallest


def central_differences(f, x, w):
    """Gradients in x and w, and the smallest branch margin over every evaluation."""
    gx = np.zeros_like(x)
    margins = []
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up[k] += H
        down[k] -= H
        (fu, mu), (fd, md) = run(f, up, w), run(f, down, w)
        gx[k] = (fu - fd) / (2 * H)
        margins += [mu, md]
    (fu, mu), (fd, md) = run(f, x, w + H), run(f, x, w - H)
    margins += [mu, md]
    return gx, (fu - fd) / (2 * H), min(margins)


values = st.floats(-1.0, 1.0, allow_nan=False).map(lambda v: round(v, 3))


@settings(
    max_examples=40,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(template=programs(), xs=st.lists(values, min_size=N, max_size=N), w=values)
def test_grad_matches_central_differences(template, xs, w):
    x = np.array(xs)
    source = render(template, measure=False)
    f, measured = load(source), load(render(template, measure=True))
    value, margin = run(measured, x, w)
    assume(np.isfinite(value) and abs(value) < 1e6)
    assert value == f(x.copy(), w)
    want_x, want_w, fd_margin = central_differences(measured, x, w)
    assume(min(margin, fd_margin) > MARGIN)  # no branch switch within the finite-difference step
    before = x.copy()
    grad_f, crash = None, None
    try:
        grad_f = srcgrad.grad(f, wrt=(0, 1))
        got_x, got_w = grad_f(x, w)
    except Exception as exc:  # every program of the grammar is differentiable
        crash = f"{type(exc).__name__}: {exc}"
    if crash is not None:  # raised outside the handler: one failure, whatever the program
        generated = grad_f.source if grad_f is not None else "(none)"
        raise AssertionError(f"{source}\nx={x!r}, w={w!r}\n{crash}\ngenerated:\n{generated}")
    assert np.array_equal(x, before), "the gradient call modified x"
    assert np.shape(got_x) == x.shape and np.ndim(got_w) == 0
    scale = max(1.0, float(np.max(np.abs(want_x))), abs(want_w))
    assert np.allclose(got_x, want_x, rtol=1e-4, atol=1e-5 * scale) and np.isclose(
        got_w, want_w, rtol=1e-4, atol=1e-5 * scale
    ), (
        f"{source}\nx={x!r}, w={w!r}\nsrcgrad: {got_x!r}, {got_w!r}\n"
        f"central differences: {want_x!r}, {want_w!r}\ngenerated:\n{grad_f.source}"
    )
