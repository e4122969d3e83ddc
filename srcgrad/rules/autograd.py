"""Rules for functions autograd made primitives: code written for autograd keeps its own derivatives.

A function wrapped with ``autograd.extend.primitive`` and given a VJP with ``defvjp`` (a JVP
with ``defjvp``) is opaque to srcgrad: its body is whatever autograd must not trace. Where
srcgrad has no rule of its own for it, the rule made here calls the makers autograd
registered, so generated code reads ``autograd_vjp(logpdf, 0, g, ans, x, mean, cov)``: the
adjoint of ``logpdf``'s argument 0, computed by autograd's own VJP at this point. Only code
that already imports autograd ever runs these helpers.

Their derivatives (a Hessian through such a call) would need autograd to differentiate its
own VJP: they are refused with a ``NoRuleError``.
"""

from __future__ import annotations

import ast
import inspect
import sys
import types
from typing import Any

from .registry import Rule, _installed, defrule, make_rule, spell_callable

_MADE: dict[int, tuple[Any, Rule | None]] = {}  # id(primitive) -> (primitive, its rule or None)


def autograd_vjp(fun: Any, argnum: int, g: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
    """The adjoint of ``fun``'s positional argument ``argnum``, from the VJP autograd registered."""
    from autograd.core import primitive_vjps

    try:
        (vjp,) = primitive_vjps[fun]((argnum,), ans, args, kwargs)(g)
    except NotImplementedError as exc:
        raise _missing(fun, argnum, "defvjp") from exc
    return vjp


def autograd_jvp(fun: Any, argnum: int, t: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
    """The contribution of ``fun``'s argument ``argnum`` (tangent ``t``) to the output's tangent,
    from the JVP autograd registered."""
    from autograd.core import primitive_jvps

    try:
        return primitive_jvps[fun]((argnum,), (t,), ans, args, kwargs)
    except (NotImplementedError, KeyError) as exc:
        raise _missing(fun, argnum, "defjvp") from exc


def _missing(fun: Any, argnum: int, maker: str) -> Exception:
    from ..errors import NoRuleError

    name = getattr(fun, "__name__", repr(fun))
    return NoRuleError(
        f"autograd has no derivative of {name} with respect to its argument {argnum}",
        hint=f"give it one with autograd's {maker}, or pass a constant there.",
    )


def autograd_rule(fn: Any) -> Rule | None:
    """A rule for ``fn`` if autograd made it a primitive with a VJP or a JVP (made once per function)."""
    made = _MADE.get(id(fn))
    if made is not None and made[0] is fn:
        return made[1]
    rule = _make(fn)
    _MADE[id(fn)] = (fn, rule)
    return rule


def _make(fn: Any) -> Rule | None:
    core = sys.modules.get("autograd.core")
    if _made_by_make_vjp(fn):
        return _linear_rule(fn)
    if core is None or not getattr(fn, "_is_autograd_primitive", False):
        return None
    has_vjp, has_jvp = fn in core.primitive_vjps, fn in core.primitive_jvps
    if not (has_vjp or has_jvp):
        return None
    try:
        signature = inspect.signature(fn.fun)
    except (TypeError, ValueError):
        return None
    kinds = inspect.Parameter
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
    ]
    keywords = [p for p in signature.parameters.values() if p.kind is kinds.KEYWORD_ONLY]
    if len(positional) + len(keywords) < len(signature.parameters):
        return None  # *args or **kwargs: which argument is which is only known at the call
    names: dict[str, Any] = {"autograd_vjp": autograd_vjp, "autograd_jvp": autograd_jvp}
    parts = [_param(p, names) for p in positional]
    if keywords:
        parts += ["*"] + [_param(p, names) for p in keywords]
    raw = fn.fun
    if isinstance(raw, types.FunctionType) and not _installed(raw.__module__):  # the user's primitive
        own, head = fn.__name__, {fn.__name__: fn}
    else:  # a library's (autograd.scipy.stats.multivariate_normal.logpdf)
        own, head = spell_callable(fn)
    names.update(head)
    call = ", ".join([p.name for p in positional] + [f"{p.name}={p.name}" for p in keywords])
    templates = {}
    for i, p in enumerate(positional):
        if has_vjp:
            templates[f"d_{p.name}"] = f"autograd_vjp({own}, {i}, g, ans, {call})"
        if has_jvp:
            templates[f"t_{p.name}"] = f"autograd_jvp({own}, {i}, t, ans, {call})"
    try:
        return make_rule(fn, ", ".join(parts), names=names, templates=templates)
    except (ValueError, SyntaxError):  # a parameter a template reserves (g, t, ans)
        return None


def _param(p: inspect.Parameter, names: dict[str, Any]) -> str:
    """``name`` or ``name=default``; a default that is not a literal is bound by name."""
    if p.default is inspect.Parameter.empty:
        return p.name
    try:
        literal = repr(p.default)
        if ast.literal_eval(literal) == p.default:
            return f"{p.name}={literal}"
    except (ValueError, SyntaxError, TypeError):
        pass
    names[f"{p.name}_default"] = p.default
    return f"{p.name}={p.name}_default"


# Differentiating generated code through these helpers (a Hessian) needs autograd to
# differentiate its own VJP: refused, a NoRuleError naming the line (no template: no rule).
helpers = dict(zero="fun, argnum", names={"autograd_vjp": autograd_vjp, "autograd_jvp": autograd_jvp})
refused = "srcgrad does not differentiate autograd's own rules again: give the function srcgrad rules (@srcgrad.adjoint and @srcgrad.tangent), which take precedence."
for helper, signature in (
    (autograd_vjp, "fun, argnum, adjoint, value, *args"),
    (autograd_jvp, "fun, argnum, tangent, value, *args"),
):
    defrule(helper, signature, spelling=helper.__name__, hint=refused, **helpers)


# -- functions autograd's make_vjp returns: linear, such as the unflatten of autograd.misc.flatten --


def autograd_linear_vjp(fun: Any, x: Any, ans: Any, g: Any) -> Any:
    """The adjoint of ``x`` for ``ans = fun(x)``, ``fun`` a VJP autograd made (linear in ``x``):
    ``fun``'s own transpose, which autograd computes by differentiating ``fun``."""
    from autograd import make_vjp

    transpose, _ = make_vjp(fun)(x)
    return transpose(zeros_filled(g, ans))


def zeros_filled(g: Any, like: Any) -> Any:
    """``g`` (an adjoint or tangent of a container) with its zeros (``0.0`` where srcgrad had
    none) shaped like the items of ``like``, as autograd's vector spaces need."""
    import numpy as np

    if isinstance(like, dict):
        return {k: zeros_filled(g[k] if isinstance(g, dict) else 0.0, v) for k, v in like.items()}
    if isinstance(like, (list, tuple)):
        items = g if isinstance(g, (list, tuple)) else [0.0] * len(like)
        return type(like)(zeros_filled(a, b) for a, b in zip(items, like, strict=True))
    return np.zeros_like(like, dtype=float) if isinstance(g, float) and g == 0.0 and np.ndim(like) else g


def _made_by_make_vjp(fn: Any) -> bool:
    core = sys.modules.get("autograd.core")
    code = getattr(fn, "__code__", None)
    return core is not None and code is not None and code in core.make_vjp.__code__.co_consts


def _linear_rule(fn: Any) -> Rule:
    names = {"autograd_linear_vjp": autograd_linear_vjp, "unflatten": fn}
    templates = {"d_x": "autograd_linear_vjp(unflatten, x, ans, g)", "t_x": "unflatten(t)"}
    rule = make_rule(fn, "x", spelling="unflatten", names=names, templates=templates)
    rule.tree = True
    return rule


def unflatten_like(value: Any, flat: Any) -> Any:
    """``flat`` (a vector) as a container shaped like ``value``: the inverse of autograd's flatten."""
    from autograd.misc import flatten

    return flatten(value)[1](flat)


def _flatten_rules() -> None:
    """``autograd.misc.flatten(value)`` is linear in ``value``: its adjoint unflattens the flat
    adjoint, and unflattening is linear in the vector (its adjoint flattens)."""
    from autograd.misc import flatten

    names = {
        "autograd": sys.modules["autograd"],
        "unflatten_like": unflatten_like,
        "zeros_filled": zeros_filled,
    }
    spelled = "autograd.misc.flatten"
    adjoint, tangent = (
        "unflatten_like(value, g[0])",
        f"({spelled}(zeros_filled(t, value))[0], None)",
    )  # (a function: none)
    defrule(flatten, "value", d_value=adjoint, t_value=tangent, sequence=True, spelling=spelled, names=names)
    linear = dict(d_flat=f"{spelled}(g)[0]", t_flat="unflatten_like(value, t)")
    defrule(unflatten_like, "value, flat", zero="value", spelling="unflatten_like", names=names, **linear)
    same = dict(d_items="g", t_items="zeros_filled(t, like)")  # the same numbers: its own adjoint
    defrule(zeros_filled, "items, like", zero="like", spelling="zeros_filled", names=names, **same)


_flatten_rules()
