"""All derivative rules, in one registry keyed by the function object.

numpy's, math's and the builtins' rules are registered when srcgrad is imported; scipy's
(``scipy.special``, ``scipy.stats.norm``) as soon as the program has imported scipy, so that
programs which never use scipy do not pay for importing it. Users add rules with
:func:`adjoint` and :func:`tangent` (or :func:`defrule`).
"""

from . import custom, numpy, python, runtime  # noqa: F401  (each module registers its rules)
from .custom import adjoint, stop_gradient, tangent
from .registry import (
    BUILTIN,
    BUILTIN_RULES,
    RULES,
    Rule,
    defrule,
    load_on_demand,
    lookup,
    nondifferentiable,
    on_demand,
    remove,
)

# srcgrad's own rules, before any user registers or replaces one (docs/rules.md, the disk
# cache's key); the rules of scipy join them when they are loaded
BUILTIN_RULES.update(RULES)
BUILTIN.update(RULES)

on_demand("scipy.special", "srcgrad.rules.scipy")
on_demand("scipy.stats", "srcgrad.rules.scipy_stats")
on_demand("scipy.linalg", "srcgrad.rules.scipy_linalg")
on_demand("scipy.signal", "srcgrad.rules.scipy_signal")
on_demand("scipy.integrate", "srcgrad.rules.scipy_integrate")
on_demand("numpy.fft", "srcgrad.rules.fft")  # (its helpers are bound by name, once srcgrad is loaded)
on_demand("autograd.core", "srcgrad.rules.autograd")  # the primitives autograd's users define
on_demand("numpy", "srcgrad.rules.longtail")  # numpy is loaded: at the first lookup

__all__ = [
    "BUILTIN",
    "BUILTIN_RULES",
    "RULES",
    "Rule",
    "adjoint",
    "defrule",
    "load_on_demand",
    "lookup",
    "nondifferentiable",
    "remove",
    "stop_gradient",
    "tangent",
]
