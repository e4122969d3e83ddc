"""srcgrad: automatic differentiation of numpy code by source transformation.

``srcgrad.grad(f)`` reads ``f``'s source, applies the chain rule statement by statement
and compiles a new, readable Python function that computes the gradient.
"""

from .api import check_grads, elementwise_grad, grad, hessian, jacobian, jvp, value_and_grad, vjp
from .errors import (
    JitError,
    NonScalarOutputError,
    NoRuleError,
    RuleError,
    SourceUnavailableError,
    SrcGradError,
    UnsupportedSyntaxError,
    UnsupportedValueError,
    WrtError,
)
from .explain import explain
from .rules import adjoint, defrule, nondifferentiable, stop_gradient, tangent

__version__ = "0.1.0"

__all__ = [
    "grad",
    "value_and_grad",
    "elementwise_grad",
    "jacobian",
    "hessian",
    "jvp",
    "vjp",
    "check_grads",
    "explain",
    "adjoint",
    "tangent",
    "stop_gradient",
    "defrule",
    "nondifferentiable",
    "SrcGradError",
    "SourceUnavailableError",
    "UnsupportedSyntaxError",
    "UnsupportedValueError",
    "NoRuleError",
    "RuleError",
    "JitError",
    "NonScalarOutputError",
    "WrtError",
]
