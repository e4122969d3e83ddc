"""Rules users register: ``@srcgrad.adjoint``, ``@srcgrad.tangent``, ``srcgrad.nondifferentiable``
and ``srcgrad.stop_gradient``.

Every gradient is compared with central finite differences in both modes; every refusal is
a ``SrcGradError`` that names the file and line. Each test registers its rules inside the
test and the ``registry`` fixture restores the registry afterwards, so that no rule leaks
into other tests.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from oracle import numeric_grad

import srcgrad
from srcgrad import NoRuleError, RuleError, SrcGradError, stop_gradient
from srcgrad.normalize import NAMES_FOR_GENERATED_CODE
from srcgrad.rules import registry

THIS_FILE = os.path.basename(__file__)
RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def restored_registry():
    """The rules, the names generated code binds and srcgrad's own rule set, as they were
    (scipy's rules loaded first: loaded during a test, they would be restored away)."""
    registry.load_on_demand(force=True)
    rules, methods = dict(registry.RULES), dict(registry._METHODS)
    builtin, names = set(registry.BUILTIN), dict(NAMES_FOR_GENERATED_CODE)
    yield
    registry.RULES.clear()
    registry.RULES.update(rules)
    registry._METHODS.clear()
    registry._METHODS.update(methods)
    registry.BUILTIN.clear()
    registry.BUILTIN.update(builtin)
    NAMES_FOR_GENERATED_CODE.clear()
    NAMES_FOR_GENERATED_CODE.update(names)
    srcgrad.cache.clear()


def assert_grads(f, *args, wrt=(0,)):
    for i in wrt:
        expected = numeric_grad(f, args, i)
        for mode in ("reverse", "forward"):
            got = srcgrad.grad(f, wrt=i, mode=mode)(*args)
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=f"wrt {i}, {mode}")


# -- primitives of the user's, which srcgrad would otherwise inline ------------------------


def softplus(x):
    return np.log1p(np.exp(x))


def uses_softplus(x):
    return np.sum(softplus(2.0 * x) ** 2)


def scaled_power(x, w, n):
    """x ** n * w: n is an integer order (no derivative), w a weight."""
    return x**n * w


def uses_scaled_power(x, w):
    return np.sum(scaled_power(x, w, 3) * np.cos(x))


def uses_scaled_power_of_active_order(x):
    return np.sum(scaled_power(x, 2.0, x))  # MARK: active order


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def uses_logistic(x):
    return np.sum(np.sin(logistic(x)))  # MARK: logistic


def register_softplus():
    @srcgrad.adjoint(softplus)
    def _(g, ans, x):
        return g * logistic(x)

    @srcgrad.tangent(softplus)
    def _(t, ans, x):
        return t * logistic(x)


def test_adjoint_and_tangent_of_a_users_function():
    register_softplus()
    x = RNG.normal(size=4)
    assert_grads(uses_softplus, x)
    source = srcgrad.grad(uses_softplus).source
    assert "softplus(" in source and "logistic(" in source, source
    assert "np.log1p" not in source, "the rule is used, not the function's body"
    assert "logistic(" in srcgrad.grad(uses_softplus, mode="forward").source


def test_a_rule_is_used_even_where_the_body_would_give_another_derivative():
    """The rule, not the function's source, defines the derivative (here, deliberately 3x)."""

    @srcgrad.adjoint(softplus)
    def _(g, ans, x):
        return 3.0 * g * logistic(x)

    @srcgrad.tangent(softplus)
    def _(t, ans, x):
        return 3.0 * t * logistic(x)

    x = RNG.normal(size=3)
    for mode in ("reverse", "forward"):
        got = srcgrad.grad(lambda x: np.sum(softplus(x)), mode=mode)(x)
        np.testing.assert_allclose(got, 3.0 * logistic(x))


def test_several_operands_and_a_zero_slot():
    @srcgrad.adjoint(scaled_power)
    def _(g, ans, x, w, n):
        return g * n * x ** (n - 1) * w, g * x**n, None

    @srcgrad.tangent(scaled_power)
    def _(t, ans, x, w, n):
        return t * n * x ** (n - 1) * w, t * x**n, None

    rule = registry.lookup(scaled_power)
    assert rule.zero == {"n"} and set(rule.vjp) == {"x", "w"} == set(rule.jvp)
    x, w = RNG.uniform(0.5, 1.5, size=3), RNG.normal(size=(2, 3))
    assert_grads(uses_scaled_power, x, w, wrt=(0, 1))
    got = srcgrad.grad(uses_scaled_power, wrt=(0, 1))(x, w)
    assert got[0].shape == x.shape and got[1].shape == w.shape


def test_an_operand_left_off_has_no_derivative_and_is_refused():
    @srcgrad.adjoint(scaled_power)
    def _(g, ans, x, w, n):
        return g * n * x ** (n - 1) * w, g * x**n  # nothing for n: refused if n is differentiated

    @srcgrad.tangent(scaled_power)
    def _(t, ans, x, w, n):
        return t * n * x ** (n - 1) * w, t * x**n

    x = RNG.uniform(0.5, 1.5, size=3)
    for mode in ("reverse", "forward"):
        with pytest.raises(NoRuleError) as caught:
            srcgrad.grad(uses_scaled_power_of_active_order, mode=mode)(x)
        assert_points_at(caught.value, "active order")


def test_an_adjoint_without_a_tangent_refuses_forward_mode():
    @srcgrad.adjoint(logistic)
    def _(g, ans, x):
        return g * ans * (1.0 - ans)

    x = RNG.normal(size=3)
    np.testing.assert_allclose(srcgrad.grad(uses_logistic)(x), numeric_grad(uses_logistic, [x], 0), rtol=1e-6)
    with pytest.raises(NoRuleError) as caught:
        srcgrad.grad(uses_logistic, mode="forward")(x)
    assert_points_at(caught.value, "logistic")
    assert "@srcgrad.tangent(" in str(caught.value) and 'mode="reverse"' in str(caught.value)


def test_a_tangent_without_an_adjoint_works_forward_and_refuses_reverse_mode():
    @srcgrad.tangent(logistic)
    def _(t, ans, x):
        return t * ans * (1.0 - ans)

    x = RNG.normal(size=3)
    got = srcgrad.grad(uses_logistic, mode="forward")(x)
    np.testing.assert_allclose(got, numeric_grad(uses_logistic, [x], 0), rtol=1e-6)
    with pytest.raises(NoRuleError) as caught:
        srcgrad.grad(uses_logistic)(x)
    assert_points_at(caught.value, "logistic")
    assert "@srcgrad.adjoint(" in str(caught.value) and 'mode="forward"' in str(caught.value)


def test_registering_again_replaces_one_half_and_keeps_the_other():
    register_softplus()
    x = RNG.normal(size=3)
    assert_grads(uses_softplus, x)

    @srcgrad.adjoint(softplus)
    def _(g, ans, x):
        return 2.0 * g * logistic(x)  # wrong on purpose: generated code must follow the new rule

    got = srcgrad.grad(uses_softplus)(x)
    np.testing.assert_allclose(got, 2.0 * numeric_grad(uses_softplus, [x], 0), rtol=1e-5)
    assert registry.lookup(softplus).jvp, "the tangent registered before stays"
    with pytest.raises(AssertionError, match="reverse mode"):
        srcgrad.check_grads(uses_softplus, x)
    srcgrad.check_grads(uses_softplus, x, modes=("forward",))


def test_check_grads_and_second_derivatives_use_registered_rules():
    register_softplus()

    @srcgrad.adjoint(logistic)
    def _(g, ans, x):
        return g * ans * (1.0 - ans)

    @srcgrad.tangent(logistic)
    def _(t, ans, x):
        return t * ans * (1.0 - ans)

    x = RNG.normal(size=3)
    srcgrad.check_grads(uses_softplus, x, order=2)
    hessian = srcgrad.hessian(uses_softplus)(x)
    s = logistic(2.0 * x)
    expected = np.diag(8.0 * (s**2 + softplus(2.0 * x) * s * (1.0 - s)))
    np.testing.assert_allclose(hessian, expected, rtol=1e-8)


def test_free_names_resolve_where_the_template_is_defined():
    """The template calls a helper only its own scope knows (a closure variable)."""

    def slope(x):  # not visible to uses_softplus
        return 1.0 / (1.0 + np.exp(-x))

    @srcgrad.adjoint(softplus)
    def _(g, ans, x):
        return g * slope(x)

    @srcgrad.tangent(softplus)
    def _(t, ans, x):
        return t * slope(x)

    assert "slope" not in uses_softplus.__globals__
    assert_grads(uses_softplus, RNG.normal(size=3))


def test_a_library_function_in_a_template_is_spelled_by_its_module():
    special = pytest.importorskip("scipy.special")
    from scipy.special import expit as sigmoid  # an alias the generated code does not keep

    @srcgrad.adjoint(softplus)
    def _(g, ans, x):
        return g * sigmoid(x)

    @srcgrad.tangent(softplus)
    def _(t, ans, x):
        return t * sigmoid(x)

    assert registry.lookup(softplus).source["d_x"] == "g * scipy.special.expit(x)"
    assert special.expit is sigmoid
    assert_grads(uses_softplus, RNG.normal(size=3))
    assert "scipy.special.expit(" in srcgrad.grad(uses_softplus).source


def test_a_bound_method_is_one_primitive_however_often_it_is_looked_up():
    class Cubic:
        def __init__(self, a):
            self.a = a

        def energy(self, x):
            return self.a * x**3

    model = Cubic(2.0)

    @srcgrad.adjoint(model.energy)
    def _(g, ans, x):
        return g * 6.0 * x**2

    @srcgrad.tangent(model.energy)
    def _(t, ans, x):
        return t * 6.0 * x**2

    def total(x):
        return np.sum(model.energy(x))

    assert registry.lookup(model.energy) is not None
    assert registry.lookup(Cubic(2.0).energy) is None, "another object's method has no rule"
    x = RNG.normal(size=3)
    assert_grads(total, x)


def smooth_abs(x, eps=1e-2):
    return np.sqrt(x * x + eps)


def uses_smooth_abs(x, e):
    return np.sum(smooth_abs(x) + smooth_abs(x, eps=e) * smooth_abs(2.0 * x, e))


def test_parameters_with_defaults_and_keywords():
    @srcgrad.adjoint(smooth_abs)
    def _(g, ans, x, eps=1e-2):
        return g * x / ans, 0.5 * g / ans

    @srcgrad.tangent(smooth_abs)
    def _(t, ans, x, eps=1e-2):
        return t * x / ans, 0.5 * t / ans

    assert [p.name for p in registry.lookup(smooth_abs).params] == ["x", "eps"]
    assert_grads(uses_smooth_abs, RNG.normal(size=3), 0.3, wrt=(0, 1))


def test_replacing_half_of_a_scipy_rule_keeps_the_other_half():
    special = pytest.importorskip("scipy.special")

    @srcgrad.adjoint(special.gammaln)
    def _(g, ans, x):
        return g * special.digamma(x)

    rule = registry.lookup(special.gammaln)
    assert rule.spelling == "scipy.special.gammaln" and rule.jvp, "the built-in tangent stays"
    assert rule.source["d_x"] == "g * scipy.special.digamma(x)"

    def f(x):
        return np.sum(special.gammaln(x))

    assert_grads(f, RNG.uniform(0.5, 3.0, size=3))


# -- rules and the caches -------------------------------------------------------------------


def test_registering_or_changing_a_rule_changes_the_disk_key():
    before = srcgrad.cache._rules_fingerprint()
    register_softplus()
    registered = srcgrad.cache._rules_fingerprint()
    assert registered != before

    @srcgrad.adjoint(softplus)
    def _(g, ans, x):
        return g * 2.0 * logistic(x)

    assert srcgrad.cache._rules_fingerprint() not in (before, registered)


def test_replacing_a_builtin_rule_changes_the_disk_key():
    before = srcgrad.cache._rules_fingerprint()

    @srcgrad.adjoint(np.sinh)
    def _(g, ans, x):
        return g * np.cosh(x)

    assert srcgrad.cache._rules_fingerprint() != before
    assert registry.lookup(np.sinh).jvp, "the built-in tangent stays"


def test_a_new_rule_replaces_code_generated_with_the_old_one():
    register_softplus()
    x = RNG.normal(size=3)
    first = srcgrad.grad(uses_softplus)(x)

    @srcgrad.adjoint(softplus)
    def _(g, ans, x):
        return 0.5 * g * logistic(x)

    np.testing.assert_allclose(srcgrad.grad(uses_softplus)(x), 0.5 * first)


# -- mistakes in a rule: refused where the rule is written ---------------------------------


def assert_points_at(exc, marker):
    lineno, text = marked_line(marker)
    assert isinstance(exc, SrcGradError)
    assert exc.filename == THIS_FILE and exc.lineno == lineno, (exc.filename, exc.lineno, lineno)
    assert text.split("# MARK:")[0].strip() in str(exc), str(exc)


def marked_line(marker):
    with open(__file__) as fh:
        hits = [(n, line) for n, line in enumerate(fh, 1) if line.rstrip().endswith(f"# MARK: {marker}")]
    assert len(hits) == 1, marker
    return hits[0]


def test_a_template_is_one_return_statement():
    with pytest.raises(RuleError, match="one return statement") as caught:

        @srcgrad.adjoint(softplus)
        def _(g, ans, x):
            s = logistic(x)  # MARK: two statements
            return g * s

    assert_points_at(caught.value, "two statements")
    assert "helper function" in str(caught.value)


def test_a_template_needs_its_seed_parameter():
    with pytest.raises(RuleError, match="no parameter 'g'"):

        @srcgrad.adjoint(softplus)
        def _(t, ans, x):
            return t * logistic(x)

    with pytest.raises(RuleError, match="no parameter 't'"):

        @srcgrad.tangent(softplus)
        def _(g, ans, x):
            return g * logistic(x)


def test_a_template_with_an_undefined_name_is_refused():
    with pytest.raises(RuleError, match="'nowhere' is not defined") as caught:

        @srcgrad.adjoint(softplus)
        def _(g, ans, x):
            return g * nowhere(x)  # noqa: F821  # MARK: undefined

    assert_points_at(caught.value, "undefined")


def test_more_slots_than_parameters_is_refused():
    with pytest.raises(RuleError, match="2 expressions for 1 parameters"):

        @srcgrad.adjoint(softplus)
        def _(g, ans, x):
            return g, g


def test_the_two_halves_must_agree_on_zero_derivatives():
    @srcgrad.adjoint(scaled_power)
    def _(g, ans, x, w, n):
        return g * n * x ** (n - 1) * w, g * x**n, None

    with pytest.raises(RuleError, match="disagree about 'n'"):

        @srcgrad.tangent(scaled_power)
        def _(t, ans, x, w, n):
            return t * n * x ** (n - 1) * w, t * x**n, t * np.log(x) * ans


def test_an_adjoint_registered_again_may_change_a_zero_slot():
    @srcgrad.adjoint(scaled_power)
    def _(g, ans, x, w, n):
        return g * n * x ** (n - 1) * w, g * x**n, None

    @srcgrad.adjoint(scaled_power)  # no tangent yet: nothing disagrees
    def _(g, ans, x, w, n):
        return g * n * x ** (n - 1) * w, g * x**n, g * np.log(x) * ans

    assert registry.lookup(scaled_power).zero == frozenset()


def test_a_parameter_named_like_a_template_variable_is_refused():
    def f(ans):
        return ans

    with pytest.raises(RuleError):

        @srcgrad.adjoint(f)
        def _(g, t):
            return g


def test_the_missing_rule_message_names_the_decorators():
    def unknown(x):
        return x

    srcgrad.nondifferentiable  # noqa: B018  (the API exists)
    import math

    def f(x):
        return math.gamma(x)  # MARK: gamma

    with pytest.raises(NoRuleError) as caught:
        srcgrad.grad(f)(0.3)
    assert_points_at(caught.value, "gamma")
    assert "@srcgrad.adjoint(math.gamma)" in str(caught.value)
    assert "non-differentiable" in str(caught.value) and "@srcgrad.tangent" in str(caught.value)


# -- nondifferentiable and stop_gradient ---------------------------------------------------


def test_nondifferentiable_as_a_decorator():
    @srcgrad.nondifferentiable
    def bucket(x):
        return np.floor(3.0 * x)

    def f(x):
        return np.sum(x**2 + bucket(x) * x)

    assert bucket(np.array([0.5]))[0] == 1.0, "the decorator returns the function"
    x = RNG.uniform(0.05, 0.3, size=3)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(srcgrad.grad(f, mode=mode)(x), 2.0 * x + bucket(x))


def through_stop_gradient(x):
    y = np.exp(x)
    return np.sum(y * stop_gradient(y)) + srcgrad.stop_gradient(np.sum(x**3))


def test_stop_gradient_is_the_identity_with_a_zero_derivative():
    x = RNG.normal(size=4)
    assert stop_gradient(x) is x
    assert np.isclose(through_stop_gradient(x), np.sum(np.exp(2 * x)) + np.sum(x**3))
    for mode in ("reverse", "forward"):
        got = srcgrad.grad(through_stop_gradient, mode=mode)(x)
        np.testing.assert_allclose(got, np.exp(2 * x))  # not 2 exp(2x) + 3x^2


def test_stop_gradient_in_second_derivatives():
    def f(x):
        return np.sum(stop_gradient(x) * x**2)

    x = RNG.normal(size=3)
    np.testing.assert_allclose(srcgrad.grad(f)(x), 2.0 * x * x)
    np.testing.assert_allclose(srcgrad.hessian(f)(x), np.diag(2.0 * x))
