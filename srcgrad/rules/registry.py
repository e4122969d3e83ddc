"""The rule registry: derivative rules are data, keyed by the function object they differentiate.

A rule is declared in one line per function, as a Python expression that reads like the
math, and is parsed once into a template that the transform inlines into generated code::

    defvjp(np.tanh, "x", d_x="g / np.cosh(x) ** 2")

In a template, ``g`` is the adjoint of the output, ``ans`` the output itself, and every
other free name is either a parameter of the signature or a helper from
``srcgrad.runtime`` (or ``np`` / ``math``).
"""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

REQUIRED = object()


@dataclass(frozen=True)
class Param:
    name: str
    default: Any = REQUIRED  # a gast expression, or REQUIRED


@dataclass
class Rule:
    """How to differentiate one primitive function."""

    fn: Any
    spelling: str
    params: tuple[Param, ...] = ()
    vjp: dict[str, gast.expr] = field(default_factory=dict)
    unbroadcast: bool = False  # adjoints of array operands may need summing back to shape
    elementwise: bool = False  # the output has the broadcast shape of the inputs
    nondiff: bool = False  # the output carries no derivative at all
    source: dict[str, str] = field(default_factory=dict)  # the templates as written

    @property
    def name(self) -> str:
        return self.spelling.rsplit(".", 1)[-1]


RULES: dict[int, Rule] = {}


def _parse_signature(signature: str) -> tuple[Param, ...]:
    node = gast.parse(f"def _({signature}): pass").body[0].args
    names = [a.id for a in node.args]
    defaults = [REQUIRED] * (len(names) - len(node.defaults)) + list(node.defaults)
    return tuple(Param(n, d) for n, d in zip(names, defaults))


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


def defvjp(
    fn: Any,
    signature: str,
    *,
    unbroadcast: bool = False,
    elementwise: bool = False,
    spelling: str | None = None,
    **adjoints: str,
) -> Rule:
    """Declare the reverse-mode rule of ``fn``: one template ``d_<param>=...`` per operand."""
    params = _parse_signature(signature)
    names = {p.name for p in params}
    vjp = {}
    for key, text in adjoints.items():
        if not key.startswith("d_") or key[2:] not in names:
            raise ValueError(f"{key}: adjoints are named d_<param> for a param of {signature!r}")
        vjp[key[2:]] = _parse_template(text)
    rule = Rule(
        fn,
        spelling or spelling_of(fn),
        params,
        vjp,
        unbroadcast,
        elementwise,
        source={k[2:]: v for k, v in adjoints.items()},
    )
    RULES[id(fn)] = rule
    return rule


def nondifferentiable(*fns: Any) -> None:
    """Functions whose output has no derivative (shapes, indices, rounding, comparisons)."""
    for fn in fns:
        try:
            spelled = spelling_of(fn)
        except ValueError:
            spelled = getattr(fn, "__qualname__", repr(fn))
        RULES[id(fn)] = Rule(fn, spelled, nondiff=True)


def lookup(fn: Any) -> Rule | None:
    """The rule for ``fn``, looking through autograd's wrappers to the numpy function."""
    try:
        rule = RULES.get(id(fn))
    except TypeError:
        return None
    if rule is None and callable(getattr(fn, "fun", None)):  # autograd.numpy primitives
        rule = RULES.get(id(fn.fun))
    return rule if rule is not None and rule.fn is not None else None
