"""Rules for any function, written as tiny Python functions: ``@adjoint`` and ``@tangent``.

A user's rule reads like the built-in ones (``srcgrad/rules/numpy.py``), as Python::

    @srcgrad.adjoint(scipy.special.gammaln)
    def _(g, ans, x):
        return g * scipy.special.digamma(x)

    @srcgrad.tangent(scipy.special.gammaln)
    def _(t, ans, x):
        return t * scipy.special.digamma(x)

The decorated function is never called: its source is read, and the expression it returns
becomes the rule's template, inlined into generated code as the built-in ones are. Its
parameters are the function's parameters (with their defaults, in the function's order)
plus ``g`` (the adjoint of the output) or ``t`` (an operand's tangent), and optionally
``ans`` (the output).

With several parameters, ``return`` one expression per parameter, in order, as a tuple:
``return g * y, g * x``. ``None`` in a slot says the derivative with respect to that
parameter is zero (an index, a mask, a shape); parameters left off at the end have no
derivative, and differentiating with respect to one is refused. The tangent is written the
same way: each slot is that parameter's contribution to the output's tangent, with ``t``
standing for that parameter's tangent.

Other names in the expression (``scipy``, a helper of the user's) are looked up where the
decorated function is defined, when it is registered, and bound in generated code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, TypeVar

import gast

from ..errors import RuleError, SrcGradError
from ..parse import parse_function
from .registry import RESERVED, RULES, Rule, _key, defrule, load_on_demand, nondifferentiable, spell_callable

F = TypeVar("F", bound=Callable[..., Any])

# the parameter that stands for the derivative, per kind of rule
_SEED = {"d": "g", "t": "t"}
_KIND = {"d": "adjoint", "t": "tangent"}


def adjoint(fn: Callable[..., Any]) -> Callable[[F], F]:
    """Register the adjoint of ``fn`` (reverse mode): decorate ``def _(g, ans, <fn's params>)``
    returning the adjoint of each parameter (a tuple when there are several; see the module
    docstring). Replaces srcgrad's own adjoint of ``fn``, if it has one."""

    def register(template: F) -> F:
        _register(fn, template, "d")
        return template

    return register


def tangent(fn: Callable[..., Any]) -> Callable[[F], F]:
    """Register the tangent of ``fn`` (forward mode): decorate ``def _(t, ans, <fn's params>)``
    returning each parameter's contribution to the output's tangent, ``t`` standing for that
    parameter's tangent. Replaces srcgrad's own tangent of ``fn``, if it has one."""

    def register(template: F) -> F:
        _register(fn, template, "t")
        return template

    return register


def stop_gradient(x: Any) -> Any:
    """``x`` itself, treated as a constant: no derivative flows through it in either mode.

    Use it for values that must not be differentiated (a target computed from the input,
    a detached baseline): ``loss = np.sum((y - stop_gradient(y_target)) ** 2)``.
    """
    return x


nondifferentiable(stop_gradient)


# -- reading a template function ------------------------------------------------------------


def _register(fn: Any, template: Callable[..., Any], kind: str) -> Rule:
    """Parse ``template`` and merge it, as one half of ``fn``'s rule, with the other half."""
    if not callable(fn):
        raise TypeError(f"@srcgrad.{_KIND[kind]}(fn) needs the function to differentiate, not {fn!r}")
    load_on_demand()  # scipy's built-in rules first: this half replaces one of theirs
    parsed = parse_function(template)
    node = parsed.node

    def error(message: str, at: gast.AST | None = None, hint: str = "") -> SrcGradError:
        return parsed.error(RuleError, at or node, message, hint)

    seed = _SEED[kind]
    signature, params = _signature(node, seed, error)
    slots = _returned(node, error, kind)
    if len(slots) > len(params):
        raise error(
            f"the {_KIND[kind]} returns {len(slots)} expressions for {len(params)} parameters",
            node.body[-1],
            "return one expression per parameter of the function, in order (None for a zero derivative).",
        )
    bound: dict[str, Any] = {}
    templates, zero = {}, set()
    for param, slot in zip(params, slots):
        if isinstance(slot, gast.Constant) and slot.value is None:
            zero.add(param)
            continue
        expr = _bind_free_names(slot, set(params) | {seed, "ans"}, parsed, bound, error)
        templates[f"{kind}_{param}"] = ast.unparse(gast.gast_to_ast(expr))

    old = RULES.get(_key(fn))
    other = "t" if kind == "d" else "d"
    keep = old is not None and not old.nondiff and [p.name for p in old.params] == params
    if keep:  # the other half stays, if it reads the same parameters
        kept = {
            k: v for k, v in old.source.items() if k.startswith(other + "_") or (other == "t" and k == "t")
        }
        kept_zero = set(old.zero) if kept else set()  # zero is declared by both halves at once
        clash = [p for p in sorted(zero) if f"{other}_{p}" in kept]
        clash += [p for p in sorted(kept_zero) if f"{kind}_{p}" in templates]
        if clash:
            raise error(
                f"the {_KIND[kind]} and the {_KIND[other]} of {old.spelling} disagree about "
                f"{clash[0]!r}: one says its derivative is zero (None), the other gives one",
                node,
                f"return None for {clash[0]!r} in both, or an expression in both.",
            )
        templates.update(kept)
        zero |= kept_zero
    sequence = old.sequence if keep else False
    same_name = old is not None and not old.nondiff  # call it as before: scipy.stats.norm.pdf
    if same_name:
        bound = {**old.names, **bound}
    try:
        return defrule(
            fn,
            signature,
            spelling=old.spelling if same_name else None,
            # several operands may broadcast against each other: sum adjoints back to their shapes
            unbroadcast=old.unbroadcast if keep else len(params) > 1,
            elementwise=old.elementwise if keep else False,
            zero=", ".join(sorted(zero)),
            sequence=", ".join(sequence) if isinstance(sequence, tuple) else sequence,
            names=bound,
            **templates,
        )
    except ValueError as exc:
        raise error(f"cannot register this {_KIND[kind]}: {exc}") from None


def _signature(
    node: gast.FunctionDef, seed: str, error: Callable[..., SrcGradError]
) -> tuple[str, list[str]]:
    """The primitive's signature: the template's parameters without ``g``/``t`` and ``ans``."""
    args = node.args
    if args.kwarg is not None:
        raise error("a rule cannot take **kwargs", node, "name each keyword parameter of the function.")
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    names = [a.id for a in positional]
    if seed not in names:
        raise error(
            f"the template has no parameter {seed!r}",
            node,
            "an adjoint's parameters are g, ans and the function's: def _(g, ans, x); "
            "a tangent's are t, ans and the function's: def _(t, ans, x).",
        )
    parts, params = [], []
    for arg, default in zip(positional, defaults):
        if arg.id in (seed, "ans"):
            continue
        params.append(arg.id)
        parts.append(arg.id if default is None else f"{arg.id}={_text(default)}")
    if args.vararg is not None:
        params.append(args.vararg.id)
        parts.append("*" + args.vararg.id)
    elif args.kwonlyargs:
        parts.append("*")
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        params.append(arg.id)
        parts.append(arg.id if default is None else f"{arg.id}={_text(default)}")
    for param in params:
        if param in RESERVED:
            raise error(
                f"the function's parameter {param!r} has a name templates reserve",
                node,
                "g is the adjoint of the output, t a tangent, ans the output: call the parameter otherwise.",
            )
    return ", ".join(parts), params


def _returned(node: gast.FunctionDef, error: Callable[..., SrcGradError], kind: str) -> list[gast.expr]:
    """The expressions the template returns, one per parameter."""
    body = list(node.body)
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
        body = body[1:]  # the docstring
    if len(body) != 1 or not isinstance(body[0], gast.Return) or body[0].value is None:
        at = next((s for s in body if not isinstance(s, gast.Return)), body[0] if body else node)
        raise error(
            f"an {_KIND[kind]} is one return statement: the expressions srcgrad inlines",
            at,
            "compute intermediate values in a helper function and call it in the return expression.",
        )
    value = body[0].value
    return list(value.elts) if isinstance(value, gast.Tuple) else [value]


def _bind_free_names(
    expr: gast.expr,
    own: set[str],
    parsed: Any,
    bound: dict[str, Any],
    error: Callable[..., SrcGradError],
) -> gast.expr:
    """Resolve the names the expression reads from outside (``scipy``, a helper) where the
    template is defined. A library function is spelled by its module path
    (``digamma`` -> ``scipy.special.digamma``); everything else is bound under its name."""
    local = {
        n.id
        for n in gast.walk(expr)
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))
    }

    class Resolve(gast.NodeTransformer):
        def visit_Attribute(self, n: gast.Attribute) -> gast.expr:
            """``special.digamma`` (``from scipy import special``) as ``scipy.special.digamma``."""
            path, root = [], n
            while isinstance(root, gast.Attribute):
                path.append(root.attr)
                root = root.value
            if isinstance(root, gast.Name) and isinstance(n.ctx, gast.Load) and root.id not in own | local:
                obj = _lookup(parsed, root.id)
                for attr in reversed(path):
                    obj = getattr(obj, attr, _MISSING)
                if callable(obj) and not isinstance(obj, type):
                    spelled, head = spell_callable(obj)
                    if "." in spelled:
                        bound.update(head)
                        return gast.copy_location(_dotted(spelled), n)
            return self.generic_visit(n)

        def visit_Name(self, n: gast.Name) -> gast.expr:
            if not isinstance(n.ctx, gast.Load) or n.id in own or n.id in local:
                return n
            if n.id in RESERVED or n.id.startswith(("t_", "d_")):
                raise error(
                    f"{n.id!r} is not a parameter of this template",
                    n,
                    "an adjoint takes g (the adjoint of the output), a tangent t (a parameter's "
                    "tangent); both may take ans (the output).",
                )
            obj = _lookup(parsed, n.id)
            if obj is _MISSING:
                raise error(f"name {n.id!r} is not defined", n, "import or define it beside the template.")
            if callable(obj) and not isinstance(obj, type):
                spelled, head = spell_callable(obj)
                if "." in spelled:  # scipy.special.digamma, np.exp: bind the library instead
                    bound.update(head)
                    return gast.copy_location(_dotted(spelled), n)
            bound[n.id] = obj
            return n

    return Resolve().visit(expr)


_MISSING = object()


def _lookup(parsed: Any, name: str) -> Any:
    """What ``name`` means inside the template function: a closure variable, a global, a builtin."""
    cell = parsed.closure.get(name)
    if cell is not None:
        try:
            return cell.cell_contents
        except ValueError:
            return _MISSING
    if name in parsed.globals:
        return parsed.globals[name]
    import builtins

    return getattr(builtins, name, _MISSING)


def _dotted(spelled: str) -> gast.expr:
    head, *rest = spelled.split(".")
    node: gast.expr = gast.Name(id=head, ctx=gast.Load(), annotation=None, type_comment=None)
    for attr in rest:
        node = gast.Attribute(value=node, attr=attr, ctx=gast.Load())
    return node


def _text(node: gast.AST) -> str:
    return ast.unparse(gast.gast_to_ast(node))
