"""The generated code reads like careful hand-written code (issue: teaching-grade code)."""

import ast
from pathlib import Path

import code_quality_cases as cases
import gast
import numpy as np
import oracle
import pytest

import srcgrad
from srcgrad.files import load_module
from srcgrad.optimize import simplify


def code_lines(source):
    return [line for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_tanh_is_short_straight_line_code_without_helpers_or_tape():
    source = srcgrad.grad(cases.tanh).source
    lines = code_lines(source)
    assert len(lines) <= 16, source
    for word in ("tape", "unbroadcast", "for ", "while "):
        assert word not in source, (word, source)


def test_each_block_sits_under_the_primal_line_it_comes_from():
    lines = srcgrad.grad(cases.tanh).source.splitlines()
    where = lines.index("    y = np.exp(-2.0 * x)")
    comments = [line for line in lines[:where] if line.strip().startswith("#")]
    assert comments[-1].strip().startswith("# y = np.exp(-2.0 * x)")
    backward = lines.index("    d_mul = d_y * y")
    comments = [line for line in lines[:backward] if line.strip().startswith("#")]
    assert comments[-1].strip().startswith("# y = np.exp(-2.0 * x)")


def test_a_repeated_expression_is_computed_once():
    source = srcgrad.grad(cases.repeated).source
    assert "\n".join(code_lines(source)).count("np.sin(x)") == 1, source  # comments aside
    x = np.array([0.3, -1.2, 2.0])
    want = 2 * np.sin(x) * np.cos(x) - np.sin(x)
    assert np.allclose(srcgrad.grad(cases.repeated)(x), want)


def test_a_loop_with_a_branch_keeps_its_shape():
    source = srcgrad.grad(cases.loop_with_branch).source
    code = "\n".join(code_lines(source))
    assert code.count("for ") == 2 and code.count("if cond") == 2  # forward and backward
    x = np.array([0.5, -0.7, 1.1])
    d = np.zeros(3)
    # by hand: total = (sin(x0) * x1) + sin(x2)
    d[0], d[1], d[2] = np.cos(x[0]) * x[1], np.sin(x[0]), np.cos(x[2])
    assert np.allclose(srcgrad.grad(cases.loop_with_branch)(x), d)


def simplified(text):
    """``text`` after ``simplify``, as source."""
    node = gast.parse(text, mode="eval").body
    return ast.unparse(gast.gast_to_ast(simplify(node, lambda n: True)))


def test_simplify_folds_neutral_operations():
    assert simplified("a + 0") == "a"
    assert simplified("0 + a") == "a"
    assert simplified("a - 0.0") == "a"
    assert simplified("0 - a") == "-a"
    assert simplified("1.0 * a") == "a"
    assert simplified("-(-a)") == "a"
    assert simplified("(2 - 1) * a") == "a"


def test_the_sum_of_a_neighbour_difference_needs_no_array_of_ones():
    """``x[1:]`` and ``x[:-1]`` have one shape whatever ``len(x)``, so the ones that ``np.sum``
    passes back stay one number (``filled``) that every use broadcasts."""
    source = srcgrad.grad(cases.rosenbrock).source
    for word in ("expand", "unbroadcast", "tape"):
        assert word not in source, (word, source)
    assert "d_add = filled(1.0, item_1)" in source, source  # the one number, of x's dtype
    assert "expand" not in srcgrad.grad(cases.masks).source  # ones met by masks and np.sign(x)


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_slices_and_filled_adjoints_give_the_true_gradient(n):
    rng = np.random.default_rng(n)
    for f in (cases.rosenbrock, cases.neighbours, cases.mean_of_logs, cases.masks):
        for x in (rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, (n, 2))):
            want = oracle.numeric_grad(f, (x,), 0)
            for mode in ("reverse", "forward"):
                got = srcgrad.grad(f, mode=mode)(x)
                assert got.shape == x.shape and np.allclose(got, want, atol=1e-7), (f.__name__, n, mode)


def test_a_filled_adjoint_meeting_a_broadcast_is_made_an_array():
    x, w = np.arange(12.0).reshape(3, 4), np.array([1.0, -2.0, 0.5, 3.0])
    d_x, d_w = srcgrad.grad(cases.broadcast_sum, wrt=(0, 1))(x, w)
    assert np.array_equal(d_x, np.broadcast_to(w, x.shape)) and np.array_equal(d_w, x.sum(axis=0))
    assert "expand" in srcgrad.grad(cases.broadcast_sum, wrt=1).source  # w's adjoint sums over rows


def test_a_filled_adjoint_keeps_the_arrays_dtype():
    """The one number is a numpy scalar of the gradient's dtype: float32 stays float32, and
    meeting a boolean mask gives float32 as the array of ones would."""
    x = np.random.default_rng(0).uniform(0.5, 1.5, 6)
    for f in (cases.rosenbrock, cases.neighbours, cases.masks):
        for mode in ("reverse", "forward"):
            got = srcgrad.grad(f, mode=mode)(x.astype(np.float32))
            assert got.dtype == np.float32, (f.__name__, mode)
            assert np.allclose(got, srcgrad.grad(f)(x), rtol=1e-4), (f.__name__, mode)
    _, pullback = srcgrad.vjp(cases.masks, np.arange(-2, 4))  # int data, int cotangent
    assert pullback(1)[0].dtype == np.float64


def test_simplify_moves_a_sign_into_a_literal_factor():
    assert simplified("-a * 2") == "a * -2"
    assert simplified("3.0 * -a") == "-3.0 * a"
    assert simplified("-a * 1") == "-a"
    assert simplified("-a * b") == "-a * b"
    a = np.array([0.0, -0.0, 1.5, -np.inf])
    assert np.array_equal(np.signbit(-a * 2), np.signbit(a * -2)) and np.array_equal(-a * 2, a * -2)


def test_a_scalar_loop_needs_no_unbroadcast_and_tapes_only_what_it_reads():
    """grad's output is 0-d once check_scalar passes, so are the values it broadcasts: in
    Euler's loop every value is a scalar and the tape keeps x alone."""
    source = srcgrad.grad(cases.euler).source
    assert "unbroadcast" not in source and "tape.append(x)" in source, source
    assert "unbroadcast" not in srcgrad.grad(cases.decay, wrt=(0, 1)).source


SCALAR_LOOPS = [
    (cases.euler, (0.5, 1.0, 0.01, 20), (0, 1, 2)),
    (cases.euler, (np.float32(0.5), np.array(1.0), np.float64(0.01), 3), (0, 1, 2)),
    (cases.euler, (0.5, 1.0, 0.01, 0), (0, 1, 2)),
    (cases.decay, (0.3, 0.9, 4), (0, 1)),
    (cases.drift, (0.7, np.array([0.1, -0.2]), np.array([[0.3, 0.1], [0.2, -0.4]])), (0, 1, 2)),
    (cases.stale, (0.7, np.array([0.1, -0.2, 3.0])), (0, 1)),
    (cases.read_before, (0.7, np.array([0.1, -0.2, 3.0])), (0, 1)),
    (cases.summed_carry, (np.array([[0.5], [-1.0]]), np.array([0.1, -0.2, 3.0])), (0, 1)),
]


@pytest.mark.parametrize("f, args, wrt", SCALAR_LOOPS)
def test_values_known_0d_after_the_check_give_the_true_gradient(f, args, wrt):
    """Only the names that every value of the output broadcasts become scalars: arrays
    overwritten unread (stale), read before the loop (read_before), summed (drift) or summed
    into the carried value (summed_carry) keep their shapes and their unbroadcast."""
    got = srcgrad.grad(f, wrt=wrt)(*args)
    for i, g in zip(wrt, got):
        want = oracle.numeric_grad(f, args, i)
        assert np.shape(g) == np.shape(args[i]) and np.allclose(g, want, atol=1e-6), (f.__name__, i, g, want)


def test_an_output_that_is_not_0d_is_still_refused_in_a_scalar_loop():
    with pytest.raises(srcgrad.NonScalarOutputError):
        srcgrad.grad(cases.euler)(np.array([0.5, 0.2]), 1.0, 0.01, 3)


# -- srcgrad's own modules import each other without cycles ------------------------------------

SRCGRAD = Path(srcgrad.__file__).parent
# Imports inside functions count too (a cycle hidden in a function is a cycle), except those of
# the public API (the package, srcgrad.api), which code calls at run time on purpose: a runtime
# helper that differentiates the user's function while it runs (odeint's), the cache reading
# srcgrad.__version__. Such an import is lazy because the API sits above everything it imports.
RUN_TIME_API = {"srcgrad", "srcgrad.api"}


def import_graph() -> dict[str, set[str]]:
    """Each module of srcgrad -> the modules of srcgrad it imports (``from . import x``,
    ``from .x import y``, ``import srcgrad.x``), at module level or inside functions."""
    modules = {}
    for path in SRCGRAD.rglob("*.py"):
        parts = path.relative_to(SRCGRAD.parent).with_suffix("").parts
        package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if package else parts)] = (path, package)

    def targets(module: str, package: bool, node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        if node.level:
            base = module.split(".")[: len(module.split(".")) - (not package) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        return [f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names]

    graph: dict[str, set[str]] = {}
    for module, (path, package) in modules.items():
        graph[module] = set()
        todo = [(ast.parse(path.read_text()), False)]
        while todo:
            node, in_function = todo.pop()
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module] |= {
                    t
                    for t in targets(module, package, node)
                    if t in modules and t != module and not (in_function and t in RUN_TIME_API)
                }
            inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            todo.extend((child, inner) for child in ast.iter_child_nodes(node))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` (its nodes, the first repeated last), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_srcgrad_has_no_import_cycle_between_its_modules():
    graph = import_graph()
    # the graph is srcgrad's: imports of every kind are in it
    assert {"srcgrad.api", "srcgrad.runtime", "srcgrad.runtime.indexing"} <= graph.keys()
    assert "srcgrad.files" in graph["srcgrad.listings"]  # from .files import load_module
    assert "srcgrad.runtime.containers" in graph["srcgrad.runtime.indexing"]  # from .containers import
    assert "srcgrad.runtime" in graph["srcgrad.rules.registry"]  # from .. import runtime
    assert "srcgrad.listings" in graph["srcgrad.cli"]  # inside a function
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


NAMED_LIKE_RUNTIME_MODULES = """\
import numpy as np


def f(x):
    arrays = np.sin(x)
    indexing = arrays * x
    forward = np.sum(indexing)
    return forward
"""


def test_names_of_the_runtime_modules_are_the_users_to_take(tmp_path):
    # srcgrad.runtime is a package: its modules (arrays, indexing, forward...) are attributes of
    # it, but not helpers, so a user's variable or a template's parameter of that name keeps it
    path = tmp_path / "named_like_runtime_modules.py"
    path.write_text(NAMED_LIKE_RUNTIME_MODULES)
    f = load_module(str(path)).f
    source = srcgrad.grad(f).source
    for line in ("arrays = np.sin(x)", "d_indexing = ", "d_arrays = "):
        assert f"    {line}" in source, source
    x = np.array([0.3, -0.2, 1.4])
    assert np.allclose(srcgrad.grad(f)(x), np.cos(x) * x + np.sin(x))
