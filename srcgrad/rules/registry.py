"""The rule registry: derivative rules are data, keyed by the function object they differentiate.

A rule is declared in one line per function, reverse and forward side by side, as Python
expressions that read like the math, parsed once into templates that the transforms
inline into generated code::

    defrule(np.multiply, "x, y", d_x="g * y", d_y="g * x", t_x="t * y", t_y="x * t")

``d_<param>`` is the operand's adjoint (reverse mode): ``g`` in it is the adjoint of the
output. ``t_<param>`` is the operand's contribution to the output's tangent (forward mode):
``t`` in it is the operand's tangent, and the output's tangent is the sum of the
contributions of the operands that carry derivatives. In both, ``ans`` is the output
itself, and every other free name is a parameter of the signature or a helper from
``srcgrad.runtime`` (or ``np`` / ``math``).

Two optional parts: ``zero="x"`` lists operands whose derivative is zero (they only give
shapes, indices or masks), and ``t=`` is the output's tangent as one expression of all
operand tangents ``t_<param>`` (``zero_tangent(param)`` stands in for an operand without
one), used when several operands carry derivatives and one expression reads better than
a sum (``with_item(t_x, index, t_value)``).

``sequence=True`` says the output is a tuple or list of arrays of different shapes
(``np.split``), ``sequence="eigenvalues, eigenvectors"`` a namedtuple with these fields: then
``g`` is a list with one adjoint per item (zeros for the items not used) and a tangent
template returns a tuple or list. A signature may have ``*operands`` (``np.einsum``): the
remaining positional arguments, which the templates see as one list, then keyword-only
parameters with defaults.
"""

from __future__ import annotations

import ast
import builtins
import math
import sys
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

REQUIRED = object()
# The default of a ``*operands`` parameter (the remaining positional arguments, as one list):
# an expression no argument is equal to.
STAR = gast.Starred(value=gast.Constant(value=None, kind=None), ctx=gast.Load())


@dataclass(frozen=True)
class Param:
    name: str
    default: Any = REQUIRED  # a gast expression, or REQUIRED

    def __repr__(self) -> str:  # the same in every process (the disk cache's key includes it)
        if self.default is REQUIRED:
            return f"Param({self.name!r})"
        if self.default is STAR:
            return f"Param({'*' + self.name!r})"
        return f"Param({self.name!r}, {ast.unparse(gast.gast_to_ast(self.default))!r})"


@dataclass
class Rule:
    """How to differentiate one primitive function."""

    fn: Any
    spelling: str
    params: tuple[Param, ...] = ()
    vjp: dict[str, gast.expr] = field(default_factory=dict)  # param -> its adjoint
    unbroadcast: bool = False  # adjoints of array operands may need summing back to shape
    elementwise: bool = False  # the output has the broadcast shape of the inputs
    nondiff: bool = False  # the output carries no derivative at all
    source: dict[str, str] = field(default_factory=dict)  # the templates as written: "d_x", "t_x"
    jvp: dict[str, gast.expr] = field(default_factory=dict)  # param -> its tangent contribution
    joint: gast.expr | None = None  # the output's tangent from all operand tangents at once
    zero: frozenset[str] = frozenset()  # operands whose derivative is zero (shapes, masks)
    # the output is a tuple or list of arrays (True), or a namedtuple with these fields: its
    # adjoint and tangent are tuples too, and indexing it picks one
    sequence: bool | tuple[str, ...] = False

    @property
    def name(self) -> str:
        return self.spelling.rsplit(".", 1)[-1]


RULES: dict[int, Rule] = {}


def _parse_signature(signature: str) -> tuple[Param, ...]:
    node = gast.parse(f"def _({signature}): pass").body[0].args
    names = [a.id for a in node.args]
    defaults = [REQUIRED] * (len(names) - len(node.defaults)) + list(node.defaults)
    if node.kwarg or (node.vararg and node.defaults) or None in node.kw_defaults:
        raise ValueError(f"{signature!r}: positional parameters, then *operands and keywords with defaults")
    star = (Param(node.vararg.id, STAR),) if node.vararg else ()  # np.einsum(subscripts, *operands)
    keywords = tuple(Param(a.id, d) for a, d in zip(node.kwonlyargs, node.kw_defaults))
    return tuple(Param(n, d) for n, d in zip(names, defaults)) + star + keywords


def _parse_template(text: str) -> gast.expr:
    return gast.parse(text, mode="eval").body


_SPELLINGS: dict[int, str] = {}


def spelling_of(fn: Any) -> str:
    """The canonical way generated code names ``fn`` (``np.exp``, ``np.linalg.norm``)."""
    if not _SPELLINGS:
        for prefix, module in (("math.", math), ("np.linalg.", np.linalg), ("np.", np)):
            for name in dir(module):
                obj = getattr(module, name)
                if callable(obj) and not isinstance(obj, type):
                    _SPELLINGS.setdefault(id(obj), prefix + name)
        for name in dir(np):  # prefer the object's own name over an alias (abs vs absolute)
            obj = getattr(np, name)
            if callable(obj) and getattr(obj, "__name__", None) == name:
                _SPELLINGS[id(obj)] = "np." + name
        for name in dir(builtins):
            _SPELLINGS.setdefault(id(getattr(builtins, name)), name)
    spelled = _SPELLINGS.get(id(fn))
    if spelled is None:
        raise ValueError(f"{fn!r} is not a numpy, math or builtin function; give its spelling")
    return spelled


RESERVED = {"g", "t", "ans"}  # names templates give a meaning of their own


def defrule(
    fn: Any,
    signature: str,
    *,
    unbroadcast: bool = False,
    elementwise: bool = False,
    spelling: str | None = None,
    zero: str = "",
    sequence: bool | str = False,
    **templates: str,
) -> Rule:
    """Declare how to differentiate ``fn``: ``d_<param>=`` adjoints and ``t_<param>=`` tangents.

    See the module docstring for the template language; ``signature`` names the
    parameters as the rule sees them, in the function's positional order.
    """
    params = _parse_signature(signature)
    names = {p.name for p in params}
    clash = names & RESERVED
    if clash:
        raise ValueError(f"{signature!r}: rename the parameter {sorted(clash)[0]!r}, templates reserve it")
    zeros = frozenset(z.strip() for z in zero.split(",") if z.strip())
    if not zeros <= names:
        raise ValueError(f"zero={zero!r}: not parameters of {signature!r}")
    vjp, jvp, joint = {}, {}, None
    for key, text in templates.items():
        kind, _, param = key.partition("_")
        if key == "t":
            joint = _parse_template(text)
        elif kind in ("d", "t") and param in names and param not in zeros:
            (vjp if kind == "d" else jvp)[param] = _parse_template(text)
        else:
            raise ValueError(
                f"{key}: templates are named d_<param> (adjoint) or t_<param> (tangent) "
                f"for a param of {signature!r} that is not listed in zero="
            )
    rule = Rule(
        fn,
        spelling or spelling_of(fn),
        params,
        vjp,
        unbroadcast,
        elementwise,
        source=dict(templates),
        jvp=jvp,
        joint=joint,
        zero=zeros,
        sequence=tuple(f.strip() for f in sequence.split(",")) if isinstance(sequence, str) else sequence,
    )
    RULES[id(fn)] = rule
    _forget_generated_code()
    return rule


def _forget_generated_code() -> None:
    """Code generated in this process may have used an older rule: transform again."""
    cache = sys.modules.get("srcgrad.cache")
    if cache is not None and hasattr(cache, "clear"):
        cache.clear()


def nondifferentiable(*fns: Any) -> None:
    """Functions whose output has no derivative (shapes, indices, rounding, comparisons)."""
    for fn in fns:
        try:
            spelled = spelling_of(fn)
        except ValueError:
            spelled = getattr(fn, "__qualname__", repr(fn))
        RULES[id(fn)] = Rule(fn, spelled, nondiff=True)
    _forget_generated_code()


def lookup(fn: Any) -> Rule | None:
    """The rule for ``fn``, looking through autograd's wrappers to the numpy function."""
    try:
        rule = RULES.get(id(fn))
    except TypeError:
        return None
    if rule is None and callable(getattr(fn, "fun", None)):  # autograd.numpy primitives
        rule = RULES.get(id(fn.fun))
    if rule is None and str(getattr(fn, "__module__", None)).startswith("autograd.numpy"):
        rule = RULES.get(id(_autograd_redefinitions().get(id(fn))))
    return rule if rule is not None and rule.fn is not None else None


_AUTOGRAD: dict[int, Any] = {}


def _autograd_redefinitions() -> dict[int, Any]:
    """autograd.numpy's own versions of numpy functions (``mean``, ``hstack``, ``linalg.norm``,
    ``concatenate`` ...) -> the numpy function of the same name in the same namespace."""
    if not _AUTOGRAD:
        for wrapper, module in (("autograd.numpy", np), ("autograd.numpy.linalg", np.linalg)):
            namespace = sys.modules.get(wrapper)
            for name in dir(namespace) if namespace is not None else ():
                target = getattr(module, name, None)
                if callable(target):
                    _AUTOGRAD[id(getattr(namespace, name))] = target
    return _AUTOGRAD
