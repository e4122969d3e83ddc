"""The generated code reads like careful hand-written code (issue: teaching-grade code)."""

import code_quality_cases as cases
import numpy as np

import srcgrad
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


def test_simplify_folds_neutral_operations():
    import gast

    def simplified(text):
        import ast

        node = gast.parse(text, mode="eval").body
        return ast.unparse(gast.gast_to_ast(simplify(node, lambda n: True)))

    assert simplified("a + 0") == "a"
    assert simplified("0 + a") == "a"
    assert simplified("a - 0.0") == "a"
    assert simplified("0 - a") == "-a"
    assert simplified("1.0 * a") == "a"
    assert simplified("-(-a)") == "a"
    assert simplified("(2 - 1) * a") == "a"
