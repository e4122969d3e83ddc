"""Every refusal: the exception type, where it points (file and real line) and the quoted line.

(if/for/while, early return, tuple unpacking, subscript assignment, conditional
expressions and list comprehensions are differentiated since the control-flow and list
commits; test_composite.py checks their gradients.)

Offending lines carry a ``# MARK: name`` comment; the expected line number is found by
reading the file, never hard-coded.
"""

import functools
import os
import re
import warnings

import helpers_other_module as other
import numpy as np
import pytest

import srcgrad
from srcgrad import (
    NonScalarOutputError,
    NoRuleError,
    SourceUnavailableError,
    SrcGradError,
    UnsupportedSyntaxError,
    UnsupportedValueError,
    WrtError,
)

THIS_FILE = os.path.abspath(__file__)
OTHER_FILE = os.path.abspath(other.__file__)


def marked_line(marker, path=THIS_FILE):
    """The number and text of the one line of ``path`` that carries ``# MARK: marker``."""
    pattern = re.compile(rf"# MARK: {re.escape(marker)}(\s|$)")
    with open(path) as fh:
        hits = [(n, line) for n, line in enumerate(fh, 1) if pattern.search(line)]
    assert len(hits) == 1, f"marker {marker!r} found {len(hits)} times"
    return hits[0]


def refusal(run):
    """The SrcGradError that ``run()`` raises; any other exception propagates and fails the test."""
    try:
        run()
    except SrcGradError as exc:
        return exc
    pytest.fail("srcgrad accepted a function it should refuse")


def assert_points_at(exc, marker, path=THIS_FILE):
    lineno, text = marked_line(marker, path)
    assert exc.filename is not None and exc.filename.endswith(os.path.basename(path)), exc.filename
    assert exc.lineno == lineno, f"lineno {exc.lineno}, offending line is {lineno}"
    code = text.split("# MARK:")[0].strip()
    assert code in str(exc), f"the message does not quote {code!r}:\n{exc}"


# -- functions srcgrad must refuse -------------------------------------------------------


class SpecialFunction:
    """A callable object with no derivative rule (like a compiled scipy.special function)."""

    def __call__(self, x):
        return x


gammaln = SpecialFunction()
obj = SimpleObject = type("SimpleObject", (), {})()


def uses_try(x):
    try:  # MARK: try
        y = x * 2.0
    except ValueError:
        y = x
    return y


def uses_yield(x):
    yield x * 2.0  # MARK: yield


def uses_yield_value(x):
    y = yield x  # MARK: yield-value
    return y


def loop_with_else(x):
    for _ in range(2):  # MARK: for-else
        x = x * 2.0
    else:
        x = x + 1.0
    return x


def uses_with(x):
    with open(os.devnull) as _:  # MARK: with
        y = x * 2.0
    return y


def uses_nested_def(x):
    def inner(z):
        return z

    return inner(x)


def uses_set_comprehension(x):
    return np.sum({v * 2.0 for v in x})  # MARK: setcomp


def uses_walrus(x):
    return (y := x * 2.0) + y  # MARK: walrus


def uses_starred_call(x, rest):
    return np.sum(x, *rest)  # MARK: starred (how many is known only when the code runs)


def uses_double_starred_call(x, kw):
    return np.sum(x, **kw)  # MARK: double-starred


def takes_varargs(x, **rest):  # MARK: varargs
    return x


def recursive(x):
    return recursive(x)  # MARK: recursion


def helper_with_try(x):
    try:  # MARK: helper-try
        y = x + 1.0
    finally:
        pass
    return y


def calls_helper_with_try(x):
    return helper_with_try(x) * 2.0


def calls_other_module_with(x):
    return np.sum(other.helper_with_with(x))


def attribute_target(x):
    obj.value = x  # MARK: attribute-target
    return x


def deletes(x):
    y = [x, x * 2.0]
    del y[0]  # MARK: del
    return y[0]


def imports_inside(x):
    import math  # MARK: import

    return math.exp(x)


def unknown_keyword(x):
    return np.sum(x, foo=1)  # MARK: unknown-keyword


def too_many_arguments(x):
    return np.sum(x, 0, None, False, 1)  # MARK: too-many


def two_args(a, b):
    return a * b


def bad_helper_call(x):
    return two_args(x)  # MARK: bad-helper-call


def calls_special(x):
    y = gammaln(x) + 1  # MARK: special
    return y


def calls_fft(x):
    return np.sum(np.fft.fft(x))  # MARK: fft (complex, though x is real)


def calls_cumsum(x):
    return np.sum(np.corrcoef(x, x * 2.0))  # MARK: cumsum (a numpy function without a rule)


def method_without_rule(x):
    return np.sum(x.compress([True, False, True]))  # MARK: method


def attribute_without_rule(x):
    return np.sum(x.flat)  # MARK: attribute


def active_where_condition(x):
    return np.sum(np.where(x, 1.0, 2.0))  # MARK: where-condition


def calls_undefined(x):
    return undefined_function(x)  # MARK: undefined  # noqa: F821


def calls_local_lambda(x):
    square = lambda z: z * z  # noqa: E731
    return square(x)


def vector_output(x):
    return np.sin(x) * 2.0  # MARK: vector


def tuple_output(x):
    return x, x  # MARK: tuple-output


def matrix_output_via_helper(x):
    return np.outer(x, x)  # MARK: matrix


def calls_helper_calling_special(x):
    return np.sum(helper_calling_special(x) * 2.0)


def helper_calling_special(x):
    return gammaln(x * 3.0)  # MARK: helper-special


def calls_other_module_no_rule(x):
    return np.sum(other.helper_without_rule(x))


def edge_padded(x):
    return np.sum(np.pad(x, 1, mode="edge") ** 2)  # MARK: pad-mode


def edge_padded_variable(x):
    y = x * 2.0
    return np.sum(np.pad(y, 1, mode="edge"))  # MARK: pad-variable


def padded_twice(x):
    y = np.pad(x, 1) * 2.0
    return np.sum(np.pad(y, 1, mode="edge"))


def svd_of_wide(a):
    u, s, vt = np.linalg.svd(a)  # MARK: svd-full
    return np.sum(u) + np.sum(vt)


def cubed_norm(w):
    return np.linalg.norm(w, 3) ** 2  # MARK: norm-ord


X = np.array([0.5, 1.5, -0.7])

REFUSALS = [
    # (function, arguments, wrt, expected class, marker, file)
    (uses_try, (0.5,), 0, UnsupportedSyntaxError, "try", THIS_FILE),
    (uses_yield, (0.5,), 0, UnsupportedSyntaxError, "yield", THIS_FILE),
    (uses_yield_value, (0.5,), 0, UnsupportedSyntaxError, "yield-value", THIS_FILE),
    (uses_with, (0.5,), 0, UnsupportedSyntaxError, "with", THIS_FILE),
    (loop_with_else, (0.5,), 0, UnsupportedSyntaxError, "for-else", THIS_FILE),
    (uses_set_comprehension, (X,), 0, UnsupportedSyntaxError, "setcomp", THIS_FILE),
    (uses_walrus, (0.5,), 0, UnsupportedSyntaxError, "walrus", THIS_FILE),
    (uses_starred_call, (X, ()), 0, UnsupportedSyntaxError, "starred", THIS_FILE),
    (uses_double_starred_call, (X, {}), 0, UnsupportedSyntaxError, "double-starred", THIS_FILE),
    (takes_varargs, (0.5,), 0, UnsupportedSyntaxError, "varargs", THIS_FILE),
    (recursive, (0.5,), 0, UnsupportedSyntaxError, "recursion", THIS_FILE),
    (attribute_target, (0.5,), 0, UnsupportedSyntaxError, "attribute-target", THIS_FILE),
    (deletes, (0.5,), 0, UnsupportedSyntaxError, "del", THIS_FILE),
    (imports_inside, (0.5,), 0, UnsupportedSyntaxError, "import", THIS_FILE),
    (unknown_keyword, (X,), 0, UnsupportedSyntaxError, "unknown-keyword", THIS_FILE),
    (too_many_arguments, (X,), 0, UnsupportedSyntaxError, "too-many", THIS_FILE),
    (bad_helper_call, (0.5,), 0, UnsupportedSyntaxError, "bad-helper-call", THIS_FILE),
    (calls_helper_with_try, (0.5,), 0, UnsupportedSyntaxError, "helper-try", THIS_FILE),
    (calls_other_module_with, (X,), 0, UnsupportedSyntaxError, "other-with", OTHER_FILE),
    (calls_special, (0.5,), 0, NoRuleError, "special", THIS_FILE),
    (calls_fft, (X,), 0, NonScalarOutputError, "fft", THIS_FILE),
    (calls_cumsum, (X,), 0, NoRuleError, "cumsum", THIS_FILE),
    (method_without_rule, (X,), 0, NoRuleError, "method", THIS_FILE),
    (attribute_without_rule, (X,), 0, NoRuleError, "attribute", THIS_FILE),
    (active_where_condition, (X,), 0, NoRuleError, "where-condition", THIS_FILE),
    (calls_undefined, (0.5,), 0, NoRuleError, "undefined", THIS_FILE),
    (calls_helper_calling_special, (X,), 0, NoRuleError, "helper-special", THIS_FILE),
    (calls_other_module_no_rule, (X,), 0, NoRuleError, "other-no-rule", OTHER_FILE),
    (vector_output, (X,), 0, NonScalarOutputError, "vector", THIS_FILE),
    (tuple_output, (0.5,), 0, NonScalarOutputError, "tuple-output", THIS_FILE),
    (matrix_output_via_helper, (X,), 0, NonScalarOutputError, "matrix", THIS_FILE),
    # arguments seen only when the gradient runs
    (edge_padded, (X,), 0, UnsupportedValueError, "pad-mode", THIS_FILE),
    (edge_padded_variable, (X,), 0, UnsupportedValueError, "pad-variable", THIS_FILE),
    (svd_of_wide, (np.ones((2, 3)),), 0, UnsupportedValueError, "svd-full", THIS_FILE),
]


@pytest.mark.parametrize("f, args, wrt, cls, marker, path", REFUSALS, ids=[r[4] for r in REFUSALS])
def test_refusal_type_and_location(f, args, wrt, cls, marker, path):
    exc = refusal(lambda: srcgrad.grad(f, wrt)(*args))
    assert type(exc) is cls, f"{type(exc).__name__}: {exc}"
    assert_points_at(exc, marker, path)


@pytest.mark.parametrize("operator", [srcgrad.value_and_grad, srcgrad.elementwise_grad])
@pytest.mark.parametrize("f, marker", [(uses_try, "try"), (calls_special, "special"), (uses_yield, "yield")])
def test_other_operators_refuse_too(operator, f, marker):
    exc = refusal(lambda: operator(f)(0.5))
    assert isinstance(exc, (UnsupportedSyntaxError, NoRuleError))
    assert_points_at(exc, marker)


def test_run_time_refusals_say_what_to_do_and_are_not_implemented_errors():
    exc = refusal(lambda: srcgrad.grad(edge_padded)(X))
    assert isinstance(exc, NotImplementedError) and "mode='constant'" in exc.hint
    second = refusal(lambda: srcgrad.hessian(cubed_norm)(X))  # located in the generated d_cubed_norm
    assert type(second) is UnsupportedValueError and "ord=3" in second.message
    assert second.filename == "d_cubed_norm" and "np.sum(np.abs(x) ** p)" in second.hint
    twice = refusal(lambda: srcgrad.grad(padded_twice)(X))  # two np.pad lines: the gradient's line
    assert twice.filename == os.path.basename(THIS_FILE) and "while computing the gradient" in twice.message


def test_non_scalar_message_says_scalar():
    exc = refusal(lambda: srcgrad.grad(vector_output)(X))
    assert isinstance(exc, NonScalarOutputError)
    assert "scalar" in str(exc)


def test_tuple_output_is_refused_without_invalid_generated_code():
    def pair(x):
        return x, x

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a SyntaxWarning means the generated code is wrong
        exc = refusal(lambda: srcgrad.grad(pair)(0.5))
    assert type(exc) is NonScalarOutputError


def test_non_scalar_output_is_fine_for_elementwise_grad():
    assert np.allclose(srcgrad.elementwise_grad(vector_output)(X), 2.0 * np.cos(X), rtol=1e-14)


# -- functions without source ------------------------------------------------------------

namespace = {"np": np}
exec("def made_by_exec(x):\n    return np.sum(x * 2.0)\n", namespace)
made_by_exec = namespace["made_by_exec"]
made_by_eval = eval("lambda x: x * 2.0")


@pytest.mark.parametrize(
    "f",
    [
        made_by_exec,
        made_by_eval,
        np.sin,
        np.sum,
        len,
        functools.partial(two_args, b=2.0),
        gammaln,
        "not a function",
        42,
    ],
    ids=["exec", "eval", "np.sin", "np.sum", "len", "partial", "callable-object", "string", "int"],
)
def test_source_unavailable(f):
    exc = refusal(lambda: srcgrad.grad(f)(0.5))
    assert type(exc) is SourceUnavailableError, f"{type(exc).__name__}: {exc}"


def test_source_unavailable_for_exec_says_so():
    exc = refusal(lambda: srcgrad.grad(made_by_exec))
    assert "made_by_exec" in str(exc)


# -- wrt ---------------------------------------------------------------------------------


def two_params(x, y=1.0):  # MARK: wrt
    return x * y


@pytest.mark.parametrize(
    "wrt",
    [2, -3, 10, "z", "X", 1.0, True, None, b"x", (), ("x", 5), ("x", "nope"), ("x", 1.5)],
    ids=repr,
)
def test_bad_wrt(wrt):
    exc = refusal(lambda: srcgrad.grad(two_params, wrt=wrt)(0.5, 2.0))
    assert type(exc) is WrtError, f"{type(exc).__name__}: {exc}"
    assert_points_at(exc, "wrt")


@pytest.mark.parametrize("operator", [srcgrad.grad, srcgrad.value_and_grad, srcgrad.elementwise_grad])
def test_bad_wrt_in_decorator_form(operator):
    def decorate():
        @operator(wrt="nope")
        def decorated(x):  # MARK: decorated-wrt
            return x * 2.0

        return decorated(0.5)

    exc = refusal(decorate)
    assert type(exc) is WrtError
    assert_points_at(exc, "decorated-wrt")


def test_errors_are_srcgrad_errors():
    for cls in (SourceUnavailableError, UnsupportedSyntaxError, NoRuleError, NonScalarOutputError, WrtError):
        assert issubclass(cls, SrcGradError)
        assert getattr(srcgrad, cls.__name__) is cls


def test_refusal_happens_again_on_the_second_call():
    # a cached failure must not turn into a silent success
    for _ in range(2):
        exc = refusal(lambda: srcgrad.grad(calls_special)(0.5))
        assert type(exc) is NoRuleError


def test_local_functions_are_inlined_not_refused():
    # a nested def and a lambda bound to a name are differentiated where they are called
    assert srcgrad.grad(uses_nested_def)(0.5) == 1.0
    assert srcgrad.grad(calls_local_lambda)(0.5) == 1.0


EXEC_NAMESPACE: dict = {"np": np}
exec("def made_by_exec(x):\n    return np.sin(x) * 2.0\n", EXEC_NAMESPACE)
made_by_exec = EXEC_NAMESPACE["made_by_exec"]


def calls_exec_made(x):
    return made_by_exec(x) + x  # MARK: exec-made


def test_function_without_source_is_refused_at_the_call():
    with pytest.raises(srcgrad.SourceUnavailableError) as info:
        srcgrad.grad(calls_exec_made)(0.5)
    assert info.value.filename == "test_errors.py" and "MARK: exec-made" in info.value.line
