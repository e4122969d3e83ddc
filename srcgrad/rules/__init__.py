"""All derivative rules, in one registry keyed by the function object."""

from . import numpy, python, runtime  # noqa: F401  (each module registers its rules)
from .registry import RULES, Rule, defrule, lookup, nondifferentiable

__all__ = ["RULES", "Rule", "defrule", "lookup", "nondifferentiable"]
