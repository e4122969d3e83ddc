"""All derivative rules, in one registry keyed by the function object."""

from . import numpy, python, runtime  # noqa: F401  (each module registers its rules)
from .registry import RULES, Rule, defrule, lookup, nondifferentiable

BUILTIN_RULES = dict(RULES)  # srcgrad's own rules, before any user registers or replaces one (docs/rules.md)

BUILTIN = frozenset(RULES)  # the rules srcgrad ships (ids of their functions); users add more

__all__ = ["BUILTIN", "RULES", "Rule", "defrule", "lookup", "nondifferentiable"]
