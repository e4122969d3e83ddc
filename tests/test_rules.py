"""Every derivative rule in the registry, checked against central finite differences.

For each rule, ``CASES`` lists small expressions that call the primitive. Each case is
written into a real module file (srcgrad reads source), as::

    def case_3(x, y, W):
        out = np.add(x, y)
        return np.sum(out * W)

with a fixed random weighting ``W`` so that every element of ``out`` matters, and
``srcgrad.grad`` is compared with central differences for every differentiated argument
(all floating-point arguments unless the case says ``wrt=``), separately and as a tuple,
in reverse mode (the ``d_`` templates) and in forward mode (the ``t_`` templates).

Adding a rule to ``srcgrad.rules`` without adding cases here makes ``test_rule`` fail, and
so does a rule without a forward form: every operand with an adjoint template needs a
tangent template. The cases must also call the rule with every operand that has a
template active, and elementwise rules are checked on scalars, vectors, matrices and (with
``unbroadcast``) on broadcasting pairs.

The helpers that generated code calls (``srcgrad.runtime``) have rules too, so that
generated code can be differentiated again (``hessian``, ``grad(grad(f))``); their cases
call them directly, with integer arrays for the operands that only give shapes.
"""

from __future__ import annotations

import builtins
import collections
import importlib.metadata
import importlib.util
import itertools
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad import runtime
from srcgrad.normalize import normalize
from srcgrad.parse import parse_function
from srcgrad.rules import RULES
from srcgrad.runtime import with_item

STEP = 1e-6
RTOL = 1e-5
ATOL = 1e-6
RNG = np.random.default_rng(20240611)

# -- inputs ------------------------------------------------------------------------------


def rand(shape: tuple = (), lo: float = -1.0, hi: float = 1.0) -> Any:
    """Uniform in [lo, hi): a Python float for shape (), else an array."""
    x = RNG.uniform(lo, hi, shape)
    return float(x) if shape == () else x


def away(shape: tuple = (), lo: float = 0.3, hi: float = 1.0) -> Any:
    """Magnitude uniform in [lo, hi) with a random sign: away from 0 (abs, sign, division)."""
    x = RNG.uniform(lo, hi, shape) * RNG.choice([-1.0, 1.0], shape)
    return float(x) if shape == () else x


def wellconditioned(shape: tuple) -> np.ndarray:
    """Square matrices (or stacks of them) far from singular."""
    n = shape[-1]
    return 3.0 * np.eye(n) + RNG.uniform(-0.5, 0.5, shape)


def with_zero(shape: tuple, positive: bool = False) -> np.ndarray:
    """Values away from 0 except for exactly one entry, which is 0 (np.prod, x ** y)."""
    x = rand(shape, 0.5, 1.5) if positive else away(shape, 0.5, 1.5)
    x.flat[1] = 0.0
    return x


S, V, M, T = (), (4,), (3, 4), (2, 3, 4)
SHAPES = [S, V, M, T]
PAIRS = [(S, S), (V, V), (M, M), (M, (4,)), ((4,), M), ((3, 1), (1, 4)), (S, (2, 3)), ((2, 3), S)]


@dataclass
class Case:
    expr: str  # the expression that calls the primitive; becomes ``out = <expr>``
    args: dict[str, Any]  # the function's parameters and the values to call it with
    wrt: tuple[str, ...]  # the parameters to differentiate
    seed: int = field(default_factory=itertools.count().__next__)  # for the weighting W

    def __str__(self) -> str:
        shapes = ", ".join(f"{k}: {_describe(v)}" for k, v in self.args.items())
        return f"{self.expr}  [{shapes}; wrt {', '.join(self.wrt)}]"


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype.kind}{value.shape}"
    return type(value).__name__


def _is_float(value: Any) -> bool:
    return isinstance(value, float) or (isinstance(value, np.ndarray) and value.dtype.kind == "f")


def case(expr: str, wrt: tuple[str, ...] | None = None, **args: Any) -> Case:
    return Case(expr, args, tuple(wrt) if wrt else tuple(k for k, v in args.items() if _is_float(v)))


def unary(expr: str, sample: Any = rand, **bounds: float) -> list[Case]:
    """``expr`` of ``x`` on a scalar, a vector, a matrix and a 3-d array."""
    return [case(expr, x=sample(shape, **bounds)) for shape in SHAPES]


def binary(expr: str, x: Any = rand, y: Any = rand) -> list[Case]:
    """``expr`` of ``x`` and ``y`` on equal shapes and on every broadcasting pair."""
    return [case(expr, x=x(sx), y=y(sy)) for sx, sy in PAIRS]


def positive(shape: tuple) -> Any:
    return rand(shape, 0.5, 1.5)


def distinct(shape: tuple) -> np.ndarray:
    """Values without ties (sort, max)."""
    return RNG.permutation(np.size(np.zeros(shape))).reshape(shape) * 0.1 + RNG.uniform(0, 0.05, shape)


def signed_distinct(shape: tuple) -> np.ndarray:
    """Distinct magnitudes with random signs, away from 0 (the max/min norms)."""
    return (distinct(shape) + 0.1) * RNG.choice([-1.0, 1.0], shape)


# -- the cases, by primitive ---------------------------------------------------------------

CASES: dict[Any, list[Case]] = {
    np.add: [
        *binary("np.add(x, y)"),
        *binary("x + y"),
        case("x + 2.0", x=rand(M)),
        case("1.0 + x", x=rand(V)),
    ],
    np.subtract: [*binary("np.subtract(x, y)"), *binary("x - y"), case("2.0 - x", x=rand(M))],
    np.multiply: [
        *binary("np.multiply(x, y)"),
        *binary("x * y"),
        case("x * 3.0", x=rand(M)),
        case("x * x", x=rand(V)),
    ],
    np.divide: [*binary("np.divide(x, y)", y=away), *binary("x / y", y=away), case("1.0 / x", x=away(M))],
    np.power: [
        *binary("np.power(x, y)", x=positive),
        *binary("x ** y", x=positive),
        case("x ** 2", x=rand(M)),
        case("x ** 3", x=rand(S)),
        case("x ** 0.5", x=positive(V)),
        case("2.0 ** x", x=rand(M)),
        # d(x ** y)/dy is 0, not NaN, where x is 0
        case("x ** y", x=with_zero(M, positive=True), y=rand(M, 1.5, 2.5), wrt=("y",)),
    ],
    np.negative: [*unary("np.negative(x)"), *unary("-x")],
    np.positive: unary("np.positive(x)"),
    np.matmul: [
        case("x @ y", x=rand(V), y=rand(V)),
        case("x @ y", x=rand(M), y=rand((4,))),
        case("x @ y", x=rand((3,)), y=rand(M)),
        case("x @ y", x=rand(M), y=rand((4, 2))),
        case("np.matmul(x, y)", x=rand(M), y=rand((4, 2))),
        case("x @ y", x=rand(T), y=rand((4, 5))),
        case("x @ y", x=rand(T), y=rand((2, 4, 5))),
        case("x @ y", x=rand((3,)), y=rand((2, 3, 4))),
        case("x @ y", x=rand(T), y=rand((4,))),
        case("x @ y", x=rand((2, 1, 3, 4)), y=rand((5, 4, 2))),
    ],
    np.exp: unary("np.exp(x)"),
    np.exp2: unary("np.exp2(x)"),
    np.expm1: unary("np.expm1(x)"),
    np.log: unary("np.log(x)", lo=0.2, hi=2.0),
    np.log2: unary("np.log2(x)", lo=0.2, hi=2.0),
    np.log10: unary("np.log10(x)", lo=0.2, hi=2.0),
    np.log1p: unary("np.log1p(x)", lo=-0.5, hi=2.0),
    np.sqrt: unary("np.sqrt(x)", lo=0.2, hi=2.0),
    np.square: unary("np.square(x)"),
    np.reciprocal: unary("np.reciprocal(x)", away),
    np.absolute: [*unary("np.abs(x)", away), *unary("np.absolute(x)", away)],
    np.sin: unary("np.sin(x)", lo=-3.0, hi=3.0),
    np.cos: unary("np.cos(x)", lo=-3.0, hi=3.0),
    np.tan: unary("np.tan(x)", lo=-1.2, hi=1.2),
    np.arcsin: unary("np.arcsin(x)", lo=-0.9, hi=0.9),
    np.arccos: unary("np.arccos(x)", lo=-0.9, hi=0.9),
    np.arctan: unary("np.arctan(x)", lo=-3.0, hi=3.0),
    np.sinh: unary("np.sinh(x)", lo=-2.0, hi=2.0),
    np.cosh: unary("np.cosh(x)", lo=-2.0, hi=2.0),
    np.tanh: unary("np.tanh(x)", lo=-2.0, hi=2.0),
    np.arcsinh: unary("np.arcsinh(x)", lo=-2.0, hi=2.0),
    np.arccosh: unary("np.arccosh(x)", lo=1.1, hi=3.0),
    np.arctanh: unary("np.arctanh(x)", lo=-0.9, hi=0.9),
    np.arctan2: binary("np.arctan2(x, y)", x=away, y=away),
    np.maximum: [*binary("np.maximum(x, y)"), case("np.maximum(x, 0.0)", x=away(M))],
    np.minimum: [*binary("np.minimum(x, y)"), case("np.minimum(x, 0.0)", x=away(M))],
    np.where: [
        case("np.where(c, x, y)", c=True, x=rand(), y=rand()),
        case("np.where(c, x, y)", c=rand(V) > 0, x=rand(V), y=rand(V)),
        case("np.where(c, x, y)", c=rand(M) > 0, x=rand(M), y=rand(M)),
        case("np.where(c, x, y)", c=rand(M) > 0, x=rand((4,)), y=rand()),
        case("np.where(c, x, y)", c=rand((3, 1)) > 0, x=rand((1, 4)), y=rand((4,))),
        case("np.where(c, x, y)", c=rand(M) > 0, x=rand((3, 1)), y=rand((1, 4))),
        case("np.where(x > 0.0, x, y)", x=away(M), y=rand(M)),
        case("np.where(x > 0.0, x, 0.0)", x=away(V)),
    ],
    np.clip: [
        case("np.clip(x, -0.5, 0.5)", x=rand(), wrt=("x",)),
        case("np.clip(x, -0.5, 0.5)", x=rand(V, -1.0, 1.0)),
        case("np.clip(x, -0.5, 0.5)", x=rand(M, -1.0, 1.0)),
        case("np.clip(x, None, 0.2)", x=rand(M)),
        case(
            "np.clip(x, lo, hi)", x=rand((4,)), lo=rand((3, 1), -1.0, 0.0), hi=rand(S, 0.0, 1.0), wrt=("x",)
        ),
        case("x.clip(-0.3, 0.3)", x=rand(M)),
    ],
    np.dot: [
        case("np.dot(x, y)", x=rand(V), y=rand(V)),
        case("np.dot(x, y)", x=rand(M), y=rand((4,))),
        case("np.dot(x, y)", x=rand((3,)), y=rand(M)),
        case("np.dot(x, y)", x=rand(M), y=rand((4, 2))),
        case("np.dot(x, y)", x=rand(), y=rand(M)),
        case("np.dot(x, y)", x=rand(V), y=rand()),
        case("np.dot(x, y)", x=rand(), y=rand()),
        case("np.dot(x, y)", x=rand(T), y=rand((4,))),
        case("np.dot(x, y)", x=rand((2, 3)), y=rand((4, 3, 2))),
        case("x.dot(y)", x=rand(M), y=rand((4, 2))),
    ],
    np.outer: [
        case("np.outer(x, y)", x=rand(V), y=rand((3,))),
        case("np.outer(x, y)", x=rand(M), y=rand((2,))),
        case("np.outer(x, y)", x=rand(), y=rand(V)),
    ],
    np.inner: [
        case("np.inner(x, y)", x=rand(V), y=rand(V)),
        case("np.inner(x, y)", x=rand(M), y=rand((4,))),
        case("np.inner(x, y)", x=rand((4,)), y=rand((2, 4))),
        case("np.inner(x, y)", x=rand(M), y=rand((2, 4))),
        case("np.inner(x, y)", x=rand(M), y=rand((2, 5, 4))),
        case("np.inner(x, y)", x=rand(T), y=rand((5, 4))),
        case("np.inner(x, y)", x=rand(), y=rand(M)),
    ],
    np.trace: [
        case("np.trace(x)", x=rand((3, 3))),
        case("np.trace(x)", x=rand(M)),
        case("np.trace(x, 1)", x=rand(M)),
        case("np.trace(x, offset=-1)", x=rand(M)),
        case("np.trace(x, axis1=1, axis2=2)", x=rand((2, 3, 3))),
        case("np.trace(x, 0, 0, 2)", x=rand(T)),
    ],
    np.einsum: [
        case("np.einsum('ij,jk->ik', x, y)", x=rand(M), y=rand((4, 2))),
        case("np.einsum('i,i->', x, y)", x=rand(V), y=rand(V)),
        case("np.einsum('ij,j->i', x, y)", x=rand(M), y=rand(V)),
        case("np.einsum('ij,jk', x, y)", x=rand(M), y=rand((4, 2))),
        case("np.einsum('ba,ac', x, y)", x=rand(M), y=rand((4, 2))),
        case("np.einsum('ij,ij->ij', x, y)", x=rand(M), y=rand(M)),
        case("np.einsum('i,j->ij', x, y)", x=rand(V), y=rand((3,))),
        case("np.einsum('bij,bjk->bik', x, y)", x=rand(T), y=rand((2, 4, 3))),
        case("np.einsum('ij,kl->', x, y)", x=rand(M), y=rand((2, 3))),
        case("np.einsum('ij,jk->ki', x, y)", x=rand(M), y=rand((4, 2))),
        case("np.einsum('ij, jk -> ik', x, y)", x=rand(M), y=rand((4, 2))),
    ],
    np.transpose: [
        case("np.transpose(x)", x=rand(M)),
        case("np.transpose(x)", x=rand(V)),
        case("np.transpose(x)", x=rand(T)),
        case("np.transpose(x, (1, 0, 2))", x=rand(T)),
        case("np.transpose(x, axes=(2, 0, 1))", x=rand(T)),
        case("np.transpose(x, (1, 2, 0))", x=rand(T)),
        case("x.T", x=rand(M)),
        case("x.transpose(2, 0, 1)", x=rand(T)),
    ],
    np.reshape: [
        case("np.reshape(x, (2, 6))", x=rand(M)),
        case("np.reshape(x, (-1,))", x=rand(T)),
        case("np.reshape(x, (2, 2))", x=rand(V)),
        case("np.reshape(x, (1, 1))", x=rand()),
        case("x.reshape(6, 2)", x=rand(M)),
        case("x.reshape((4, 6))", x=rand(T)),
    ],
    np.copy: [*unary("np.copy(x)"), case("x.copy()", x=rand(M))],
    np.array: [
        case("np.array(x)", x=rand(M)),
        case("np.array([x, y])", x=rand(V), y=rand(V)),
        case("np.array([[x, y], [y, x]])", x=rand(), y=rand()),
    ],
    np.asarray: [case("np.asarray(x)", x=rand(M)), case("np.asarray([x, y * 2.0])", x=rand(V), y=rand(V))],
    builtins.sum: [
        case("sum([x, y])", x=rand(V), y=rand(V)),
        case("sum([x, y], z)", x=rand(M), y=rand(V), z=rand()),
    ],
    np.ravel: [case("np.ravel(x)", x=rand(M)), case("np.ravel(x)", x=rand(T)), case("x.ravel()", x=rand(M))],
    np.expand_dims: [
        case("np.expand_dims(x, 0)", x=rand(M)),
        case("np.expand_dims(x, axis=-1)", x=rand(V)),
        case("np.expand_dims(x, (0, 2))", x=rand(M)),
    ],
    np.squeeze: [
        case("np.squeeze(x)", x=rand((3, 1, 4))),
        case("np.squeeze(x, axis=1)", x=rand((3, 1, 1))),
        case("x.squeeze()", x=rand((1, 4))),
    ],
    np.concatenate: [
        case("np.concatenate([x, y])", x=rand((2, 4)), y=rand(M)),
        case("np.concatenate([x, y], axis=1)", x=rand(M), y=rand((3, 2))),
        case("np.concatenate((x, y), axis=-1)", x=rand(V), y=rand((3,))),
        case("np.concatenate([x, c, y], axis=0)", x=rand(V), y=rand((2,)), c=rand((3,)), wrt=("x", "y")),
        case("np.concatenate([x, x])", x=rand(V)),
    ],
    np.stack: [
        case("np.stack([x, y])", x=rand(M), y=rand(M)),
        case("np.stack([x, y], axis=1)", x=rand(M), y=rand(M)),
        case("np.stack((x, y), axis=-1)", x=rand(V), y=rand(V)),
        case("np.stack([x, y])", x=rand(), y=rand()),
    ],
    np.hstack: [
        case("np.hstack([x, y])", x=rand(V), y=rand((2,))),
        case("np.hstack([x, y])", x=rand(M), y=rand((3, 2))),
        case("np.hstack((x, y))", x=rand(), y=rand()),
        case("np.hstack([x, y])", x=rand(), y=rand(V)),
    ],
    np.vstack: [
        case("np.vstack([x, y])", x=rand(V), y=rand(V)),
        case("np.vstack([x, y])", x=rand((2, 4)), y=rand(M)),
        case("np.vstack((x, y))", x=rand(V), y=rand(M)),
        case("np.vstack([x, y])", x=rand(), y=rand()),
    ],
    np.arange: [
        case("np.arange(a, a + 3.0) ** 2", a=rand()),
        case("np.arange(0.5, 4.0, a)", a=rand() + 1.5),
        case("np.arange(a, 6.0, b)", a=rand(), b=rand() + 1.5),
        case("np.arange(a)", a=rand() + 3.5),
    ],
    np.linspace: [
        case("np.linspace(a, b, 5)", a=rand(), b=rand()),
        case("np.linspace(a, b, 4, endpoint=False)", a=rand(), b=rand()),
        case("np.linspace(a, 2.0, 6)", a=rand()),
        case("np.linspace(-1.0, b, 3)", b=rand()),
    ],
    np.linalg.norm: [
        case("np.linalg.norm(x)", x=rand(V)),
        case("np.linalg.norm(x)", x=rand(M)),
        case("np.linalg.norm(x)", x=away()),
        case("np.linalg.norm(x)", x=rand(T)),
        case("np.linalg.norm(x, 2)", x=rand(V)),
        case("np.linalg.norm(x, 'fro')", x=rand(M)),
        case("np.linalg.norm(x, axis=0)", x=rand(M)),
        case("np.linalg.norm(x, axis=1)", x=rand(M)),
        case("np.linalg.norm(x, axis=-1, keepdims=True)", x=rand(M)),
        case("np.linalg.norm(x, keepdims=True)", x=rand(M)),
        case("np.linalg.norm(x, axis=(0, 1))", x=rand(M)),
        case("np.linalg.norm(x, axis=(1, 2), keepdims=True)", x=rand(T)),
        case("np.linalg.norm(x, ord=2, axis=1)", x=rand(M)),
        # other ords: max/min norms need no ties, p < 1 no zeros, matrix 2-norms distinct singular values
        case("np.linalg.norm(x, 1)", x=away(V)),
        case("np.linalg.norm(x, np.inf)", x=signed_distinct(V)),
        case("np.linalg.norm(x, -np.inf, axis=1)", x=signed_distinct(M)),
        case("np.linalg.norm(x, 0)", x=away(V)),
        case("np.linalg.norm(x, 3)", x=rand(V)),
        case("np.linalg.norm(x, 0.5, axis=0, keepdims=True)", x=away(M)),
        case("np.linalg.norm(x, -1.5)", x=away(V)),
        case("np.linalg.norm(x, 'nuc')", x=rand(M)),
        case("np.linalg.norm(x, 2)", x=rand(M)),
        case("np.linalg.norm(x, -2, axis=(2, 0))", x=rand(T)),
        case("np.linalg.norm(x, 1, keepdims=True)", x=signed_distinct(M)),
        case("np.linalg.norm(x, -1, axis=(1, 0))", x=signed_distinct(M)),
        case("np.linalg.norm(x, np.inf)", x=signed_distinct(M)),
        case("np.linalg.norm(x, -np.inf, axis=(0, 2))", x=signed_distinct(T)),
        case("np.linalg.norm(x, 'nuc', axis=(1, 2), keepdims=True)", x=rand(T)),
    ],
    np.linalg.inv: [
        case("np.linalg.inv(x)", x=wellconditioned((3, 3))),
        case("np.linalg.inv(x)", x=wellconditioned((2, 3, 3))),
        case("np.linalg.inv(x)", x=wellconditioned((1, 1))),
    ],
    np.linalg.det: [
        case("np.linalg.det(x)", x=wellconditioned((3, 3))),
        case("np.linalg.det(x)", x=wellconditioned((2, 3, 3))),
        case("np.linalg.det(x)", x=wellconditioned((1, 1))),
    ],
    np.linalg.solve: [
        case("np.linalg.solve(x, y)", x=wellconditioned((3, 3)), y=rand((3,))),
        case("np.linalg.solve(x, y)", x=wellconditioned((3, 3)), y=rand((3, 2))),
        case("np.linalg.solve(x, y)", x=wellconditioned((2, 3, 3)), y=rand((2, 3, 2))),
        case("np.linalg.solve(x, y)", x=wellconditioned((2, 3, 3)), y=rand((3,))),
        case("np.linalg.solve(x, y)", x=wellconditioned((2, 3, 3)), y=rand((3, 2))),
        case("np.linalg.solve(x, y)", x=wellconditioned((3, 3)), y=rand((2, 3, 2))),
    ],
    operator.getitem: [
        case("x[1]", x=rand(V)),
        case("x[1]", x=rand(M)),
        case("x[-1]", x=rand(V)),
        case("x[1, 2]", x=rand(M)),
        case("x[1:3]", x=rand(V)),
        case("x[1:3]", x=rand(M)),
        case("x[::2]", x=rand(V)),
        case("x[:, 0]", x=rand(M)),
        case("x[:, -1]", x=rand(M)),
        case("x[..., 1]", x=rand(T)),
        case("x[None]", x=rand(M)),
        case("x[:, None, 1:]", x=rand(M)),
        case("x[[0, 2, 2]]", x=rand(V)),
        case("x[[0, 2, 2]]", x=rand(M)),
        case("x[[-1, 0, -1]]", x=rand(V)),
        case("x[:, [1, 1, 3]]", x=rand(M)),
        case("x[[0, 2], 1:3]", x=rand(M)),
        case("x[[0, 1, 1], [2, 0, 2]]", x=rand(M)),
        case("x[i]", x=rand(M), i=2),
        case("x[i]", x=rand(V), i=np.array([3, 0, 3])),
        case("x[x > 0.0]", x=away(M)),
        case("x[1:]", x=rand(M)),
    ],
    # ``y[i] = v`` becomes ``y_1 = with_item(y, i, v)``; called directly here to test the rule alone.
    with_item: [
        case("with_item(x, 1, v)", x=rand(V), v=rand()),
        case("with_item(x, 1, v)", x=rand(M), v=rand(V)),
        case("with_item(x, 1, v)", x=rand(M), v=rand()),
        case("with_item(x, (slice(None), 0), v)", x=rand(M), v=rand((3,))),
        case("with_item(x, slice(1, 3), v)", x=rand(M), v=rand((2, 4))),
        case("with_item(x, (0, slice(1, None)), v)", x=rand(M), v=rand((1,))),
        case("with_item(x, [0, 2], v)", x=rand(V), v=rand((2,))),
        case("with_item(x, [0, 2, 2], v)", x=rand(V), v=rand((3,))),
        case("with_item(x, x > 0.0, v)", x=away(M), v=rand()),
    ],
    builtins.abs: [*unary("abs(x)", away)],
    builtins.float: [case("float(x)", x=rand()), case("float(x)", x=np.float64(rand()), wrt=("x",))],
    builtins.pow: [
        *binary("pow(x, y)", x=positive),
        case("pow(x, 3)", x=rand(M)),
        case("pow(x, 2)", x=rand()),
        case("pow(x, y)", x=with_zero(V, positive=True), y=rand(S, 1.5, 2.5), wrt=("y",)),
    ],
    math.exp: [case("math.exp(x)", x=rand())],
    math.log: [case("math.log(x)", x=rand(S, 0.2, 2.0))],
    math.sin: [case("math.sin(x)", x=rand(S, -3.0, 3.0))],
    math.cos: [case("math.cos(x)", x=rand(S, -3.0, 3.0))],
    math.tan: [case("math.tan(x)", x=rand(S, -1.2, 1.2))],
    math.sqrt: [case("math.sqrt(x)", x=rand(S, 0.2, 2.0))],
    math.tanh: [case("math.tanh(x)", x=rand(S, -2.0, 2.0))],
    math.expm1: [case("math.expm1(x)", x=rand())],
    math.log1p: [case("math.log1p(x)", x=rand(S, -0.5, 2.0))],
    math.log2: [case("math.log2(x)", x=rand(S, 0.2, 2.0))],
    math.log10: [case("math.log10(x)", x=rand(S, 0.2, 2.0))],
    math.asin: [case("math.asin(x)", x=rand(S, -0.8, 0.8))],
    math.acos: [case("math.acos(x)", x=rand(S, -0.8, 0.8))],
    math.atan: [case("math.atan(x)", x=rand(S, -2.0, 2.0))],
    math.sinh: [case("math.sinh(x)", x=rand())],
    math.cosh: [case("math.cosh(x)", x=rand())],
    math.asinh: [case("math.asinh(x)", x=rand(S, -2.0, 2.0))],
    math.acosh: [case("math.acosh(x)", x=rand(S, 1.2, 3.0))],
    math.atanh: [case("math.atanh(x)", x=rand(S, -0.8, 0.8))],
    math.erf: [case("math.erf(x)", x=rand())],
    math.erfc: [case("math.erfc(x)", x=rand())],
    math.fabs: [case("math.fabs(x)", x=away())],
    math.degrees: [case("math.degrees(x)", x=rand())],
    math.radians: [case("math.radians(x)", x=rand())],
    math.atan2: [case("math.atan2(y, x)", y=rand(), x=away())],
    math.hypot: [case("math.hypot(x, y)", x=away(), y=away())],
    math.copysign: [case("math.copysign(x, y)", x=away(), y=away())],
    builtins.max: [
        case("max(x, y)", x=rand(), y=rand()),
        case("max(x, 0.1) * max(0.2, y)", x=rand(), y=rand()),
    ],
    builtins.min: [
        case("min(x, y)", x=rand(), y=rand()),
        case("min(x * x, 4.0) * min(0.3, y)", x=rand(), y=rand()),
    ],
    math.pow: [
        case("math.pow(x, y)", x=rand(S, 0.2, 2.0), y=rand(S, -2.0, 2.0)),
        case("math.pow(x, 3)", x=rand()),
    ],
    np.swapaxes: [
        case("np.swapaxes(x, 0, 1)", x=rand(M)),
        case("np.swapaxes(x, -1, -2)", x=rand(T)),
        case("np.swapaxes(x, 0, 2)", x=rand(T)),
    ],
}


Pair = collections.namedtuple("Pair", "a b")


def shape(s: tuple) -> np.ndarray:
    """An integer array that only gives a shape (helpers' shape-only operands are not differentiated)."""
    return np.zeros(s, dtype=int)


# The runtime helpers that generated code calls, called directly.
CASES.update({
    runtime.unbroadcast: [
        case("unbroadcast(v, x)", v=rand(M), x=shape((4,))),
        case("unbroadcast(v, x)", v=rand(M), x=shape((3, 1))),
        case("unbroadcast(v, x)", v=rand(T), x=shape(())),
        case("unbroadcast(v, x)", v=rand(M), x=shape(M)),
    ],
    runtime.filled: [case("filled(v, x) * y", v=rand(), x=shape(M), y=rand(M)), case("filled(v, x)", v=rand(), x=shape(V))],
    runtime.expand: [
        case("expand(v, x)", v=rand(), x=shape(M)),
        case("expand(v, x)", v=rand((4,)), x=shape(M)),
        case("expand(v, x, 1)", v=rand((3,)), x=shape(M)),
        case("expand(v, x, 0, True)", v=rand((1, 4)), x=shape(M)),
        case("expand(v, x, (0, 2))", v=rand((3,)), x=shape(T)),
    ],
    runtime.unexpand: [
        case("unexpand(v, w)", v=rand(M), w=shape(())),
        case("unexpand(v, w)", v=rand(M), w=shape((4,))),
        case("unexpand(v, w, 1)", v=rand(M), w=shape((3,))),
        case("unexpand(v, w, 0, True)", v=rand(M), w=shape((1, 4))),
        case("unexpand(v, w, (0, 2))", v=rand(T), w=shape((3,))),
    ],
    runtime.xlogy: [
        case("xlogy(x, y)", x=rand(), y=positive(())),
        case("xlogy(x, y)", x=rand(V), y=positive(V)),
        case("xlogy(x, y)", x=rand(M), y=positive(M)),
        case("xlogy(x, y)", x=rand(M), y=positive((4,))),
    ],
    runtime.xdivy: [
        case("xdivy(x, y)", x=rand(), y=away(())),
        case("xdivy(x, y)", x=rand(V), y=away(V)),
        case("xdivy(x, y)", x=rand(M), y=away(M)),
        case("xdivy(x, y)", x=rand((3, 1)), y=away((4,))),
    ],
    runtime.extremum_grad: [
        case("extremum_grad(v, x, m)", v=rand(), x=(x := rand(M)), m=np.max(x), wrt=("v",)),
        case("extremum_grad(v, x, m, 1)", v=rand((3,)), x=(x := rand(M)), m=np.max(x, axis=1), wrt=("v",)),
        case("extremum_grad(v, x, m, 0, True)", v=rand((1, 4)), x=(x := rand(M)), m=np.min(x, 0, keepdims=True), wrt=("v",)),
    ],
    runtime.extremum_jvp: [
        case("extremum_jvp(u, x, m)", u=rand(M), x=(x := rand(M)), m=np.max(x), wrt=("u",)),
        case("extremum_jvp(u, x, m, 1)", u=rand(M), x=(x := rand(M)), m=np.max(x, axis=1), wrt=("u",)),
        case("extremum_jvp(u, x, m, 0, True)", u=rand(M), x=(x := rand(M)), m=np.min(x, 0, keepdims=True), wrt=("u",)),
    ],
    runtime.dot_vjp_a: [
        case("dot_vjp_a(v, a, b)", v=rand((3, 2)), a=shape(M), b=rand((4, 2))),
        case("dot_vjp_a(v, a, b)", v=rand((3,)), a=shape(M), b=rand((4,))),
        case("dot_vjp_a(v, a, b)", v=rand(), a=shape(V), b=rand(V)),
        case("dot_vjp_a(v, a, b)", v=rand(M), a=shape(()), b=rand(M)),
        case("dot_vjp_a(v, a, b)", v=rand((2, 4, 2)), a=shape((2, 3)), b=rand((4, 3, 2))),
    ],
    runtime.dot_vjp_b: [
        case("dot_vjp_b(v, a, b)", v=rand((3, 2)), a=rand(M), b=shape((4, 2))),
        case("dot_vjp_b(v, a, b)", v=rand((3,)), a=rand(M), b=shape((4,))),
        case("dot_vjp_b(v, a, b)", v=rand((4,)), a=rand((3,)), b=shape((3, 4))),
        case("dot_vjp_b(v, a, b)", v=rand(M), a=rand(), b=shape(M)),
        case("dot_vjp_b(v, a, b)", v=rand((2, 4, 2)), a=rand((2, 3)), b=shape((4, 3, 2))),
    ],
    runtime.matmul_vjp_a: [
        case("matmul_vjp_a(v, a, b)", v=rand((3, 2)), a=shape(M), b=rand((4, 2))),
        case("matmul_vjp_a(v, a, b)", v=rand((3,)), a=shape(M), b=rand((4,))),
        case("matmul_vjp_a(v, a, b)", v=rand((4,)), a=shape((3,)), b=rand(M)),
        case("matmul_vjp_a(v, a, b)", v=rand((2, 3, 5)), a=shape(M), b=rand((2, 4, 5))),
    ],
    runtime.matmul_vjp_b: [
        case("matmul_vjp_b(v, a, b)", v=rand((3, 2)), a=rand(M), b=shape((4, 2))),
        case("matmul_vjp_b(v, a, b)", v=rand((3,)), a=rand(M), b=shape((4,))),
        case("matmul_vjp_b(v, a, b)", v=rand((4,)), a=rand((3,)), b=shape(M)),
        case("matmul_vjp_b(v, a, b)", v=rand((2, 3, 5)), a=rand((2, 3, 4)), b=shape((4, 5))),
    ],
    runtime.inner_vjp_a: [
        case("inner_vjp_a(v, a, b)", v=rand((3, 2)), a=shape(M), b=rand((2, 4))),
        case("inner_vjp_a(v, a, b)", v=rand(), a=shape(V), b=rand(V)),
        case("inner_vjp_a(v, a, b)", v=rand(M), a=shape(()), b=rand(M)),
    ],
    runtime.inner_vjp_b: [
        case("inner_vjp_b(v, a, b)", v=rand((3, 2)), a=rand(M), b=shape((2, 4))),
        case("inner_vjp_b(v, a, b)", v=rand(), a=rand(V), b=shape(V)),
        case("inner_vjp_b(v, a, b)", v=rand(M), a=rand(M), b=shape(())),
    ],
    runtime.trace_vjp: [
        case("trace_vjp(v, x)", v=rand(), x=shape((3, 3))),
        case("trace_vjp(v, x, 1)", v=rand(), x=shape(M)),
        case("trace_vjp(v, x, 0, 1, 2)", v=rand((2,)), x=shape((2, 3, 3))),
    ],
    runtime.prod_vjp: [
        case("prod_vjp(v, x)", v=rand(), x=away(M)),
        case("prod_vjp(v, x, 1)", v=rand((3,)), x=with_zero(M)),
        case("prod_vjp(v, x, (0, 2), True)", v=rand((1, 3, 1)), x=away(T)),
    ],
    runtime.prod_jvp: [
        case("prod_jvp(u, x)", u=rand(M), x=away(M)),
        case("prod_jvp(u, x, 1)", u=rand(M), x=with_zero(M)),
        case("prod_jvp(u, x, (0, 2), True)", u=rand(T), x=away(T)),
    ],
    runtime.prod_others_jvp: [
        case("prod_others_jvp(x, u)", x=away(M), u=rand(M), wrt=("u",)),
        case("prod_others_jvp(x, u, 1)", x=with_zero(M), u=rand(M), wrt=("u",)),
        case("prod_others_jvp(x, u, (0, 2))", x=away(T), u=rand(T), wrt=("u",)),
    ],
    runtime.norm_vjp: [
        case("norm_vjp(v, n, x)", v=rand(), n=positive(()), x=rand(V)),
        case("norm_vjp(v, n, x, None, 1)", v=rand((3,)), n=positive((3,)), x=rand(M)),
        case("norm_vjp(v, n, x, None, 0, True)", v=rand((1, 4)), n=positive((1, 4)), x=rand(M)),
        case("norm_vjp(v, n, x, 1, 1)", v=rand((3,)), n=positive((3,)), x=away(M)),  # no curvature
        case("norm_vjp(v, n, x, np.inf)", v=rand(), n=positive(()), x=signed_distinct(M)),
    ],
    runtime.norm_jvp: [
        case("norm_jvp(u, n, x)", u=rand(V), n=positive(()), x=rand(V)),
        case("norm_jvp(u, n, x, None, 1)", u=rand(M), n=positive((3,)), x=rand(M)),
        case("norm_jvp(u, n, x, 'fro', (0, 1), True)", u=rand(M), n=positive((1, 1)), x=rand(M)),
        case("norm_jvp(u, n, x, -np.inf, 0)", u=rand(M), n=positive((4,)), x=signed_distinct(M)),
    ],
    runtime.solve_jvp_a: [
        case("solve_jvp_a(u, x, a, b)", u=rand((3, 3)), x=rand((3,)), a=wellconditioned((3, 3)), b=shape((3,)), wrt=("u",)),
        case("solve_jvp_a(u, x, a, b)", u=rand((3, 3)), x=rand((3, 2)), a=wellconditioned((3, 3)), b=shape((3, 2)), wrt=("u",)),
        case("solve_jvp_a(u, x, a, b)", u=rand((2, 3, 3)), x=rand((2, 3)), a=wellconditioned((2, 3, 3)), b=shape((3,)), wrt=("u",)),
    ],
    runtime.untranspose: [
        case("untranspose(v, None)", v=rand(M)),
        case("untranspose(v, (1, 2, 0))", v=rand(T)),
    ],
    runtime.getitem_grad: [
        case("getitem_grad(v, x, 1)", v=rand((4,)), x=shape(M)),
        case("getitem_grad(v, x, (slice(None), 0))", v=rand((3,)), x=shape(M)),
        case("getitem_grad(v, x, [0, 2, 2])", v=rand((3, 4)), x=shape(M)),
    ],
    runtime.without_item: [
        case("without_item(v, 1)", v=rand(M)),
        case("without_item(v, [0, 2, 2])", v=rand(V)),
    ],
    runtime.item_grad: [
        case("item_grad(v, 1, w)", v=rand(M), w=shape((4,))),
        case("item_grad(v, 1, w)", v=rand(M), w=shape(())),
        case("item_grad(v, [0, 2, 2], w)", v=rand(V), w=shape((3,))),
    ],
    runtime.unconcatenate: [
        case("np.concatenate(unconcatenate(v, [a, b], 1), axis=1)", v=rand((3, 5)), a=shape(M), b=shape((3, 1))),
    ],
    runtime.unstack: [case("np.stack(unstack(v, [a, b], 1), axis=1)", v=rand((3, 2, 4)), a=shape(M), b=shape(M))],
    runtime.unstack_like: [
        case("np.vstack(unstack_like(v, [a, b], 0))", v=rand((5, 4)), a=shape((4,)), b=shape((4, 4))),
        case("np.hstack(unstack_like(v, [a, b], 1))", v=rand((6,)), a=shape((2,)), b=shape((4,))),
    ],
    runtime.stack_like: [
        case("stack_like([x, y], 0)", x=rand(V), y=rand(M)),
        case("stack_like([x, y], 1)", x=rand((3, 2)), y=rand(M)),
    ],
    runtime.from_columns: [
        case("from_columns([x, y, z], c)", x=rand(M), y=rand(M), z=rand(M), c=shape((3,))),
        case("from_columns([x, y], c, 0.0)", x=rand(), y=rand(), c=shape((2, 1))),
    ],
    runtime.columns_of: [
        case("np.stack(columns_of(v, c))", v=rand((3, 4, 2)), c=shape((2,))),
        case("np.stack(columns_of(v, c))", v=rand((2, 3)), c=shape((2, 3))),
    ],
    runtime.unarray: [case("np.stack(unarray(v, [a, b]))", v=rand((2, 4)), a=shape((4,)), b=shape((4,))), case("unarray(v, a)", v=rand(M), a=shape((1, 4)))],
    runtime.rearray: [case("rearray([v, w], x, [a, b])", v=rand((4,)), w=rand((4,)), x=shape(M), a=shape((4,)), b=shape((4,)))],
    runtime.sum_vjp: [case("np.stack(sum_vjp(v, [a, b]))", v=rand(V), a=shape(V), b=shape(V)), case("sum_vjp(v, [a])[0]", v=rand(M), a=shape((4,)))],
    runtime.sum_all: [case("sum_all([v, w], x)", v=rand(V), w=rand(V), x=shape(V))],
    runtime.list_item_grad: [case("np.stack(list_item_grad(v, [a, b], 1))", v=rand(M), a=shape(M), b=shape(M))],
    runtime.add_lists: [case("np.stack(add_lists([x, y], [z, y]))", x=rand(M), y=rand(M), z=rand(M))],
    # containers (dicts, tuples, namedtuples): the adjoint of a container from its items' adjoints
    runtime.items_grad: [case("np.stack(items_grad([a, b], {1: v, -2: w}))", v=rand(M), w=rand(M), a=shape(M), b=shape(M)), case("items_grad(a, {0: v, 2: w})", v=rand(V), w=rand(V), a=shape(M))],
    runtime.add_items: [case("np.stack(add_items([x, y], {1: v}))", x=rand(M), y=rand(M), v=rand(M)), case("add_items(x, {0: v})", x=rand(M), v=rand(V))],
    runtime.add_item: [case("np.stack(add_item([x, y], 0, v))", x=rand(M), y=rand(M), v=rand(M)), case("add_item(x, 1, v)", x=rand(M), v=rand(V))],
    runtime.field_grad: [case("np.stack(field_grad(v, a, 'b'))", v=rand(M), a=Pair(shape(M), shape(M)))],
    runtime.items_of: [case("items_of([x, y], {1: 0.0})[1]", x=rand(M), y=rand(M))],
    runtime.field_of: [case("field_of([x, y], 1)", x=rand(M), y=rand(M))],
    runtime.from_rows: [case("from_rows([x, y], like, z)", x=rand(V), y=rand(V), like=shape((2,)), z=shape(V))],
    runtime.rows_of: [case("np.stack(rows_of(x, z))", x=rand((2, 4)), z=shape(V))],
})  # fmt: skip


def reductions(fn: str, sample: Any = rand, scalar: bool = True) -> list[Case]:
    """``fn`` over every axis combination, with and without keepdims."""
    cases = [case(f"np.{fn}(x)", x=sample(shape)) for shape in (SHAPES if scalar else SHAPES[1:])]
    cases += [case(f"np.{fn}(x, axis={a})", x=sample(M)) for a in (0, 1, -1)]
    cases += [case(f"np.{fn}(x, axis={a}, keepdims=True)", x=sample(M)) for a in (None, 0, 1, -1)]
    cases += [case(f"np.{fn}(x, axis=0)", x=sample(V)), case(f"np.{fn}(x, 1)", x=sample(T))]
    cases += [case(f"np.{fn}(x, axis=(0, 2), keepdims={k})", x=sample(T)) for k in (False, True)]
    cases += [case(f"np.{fn}(x, axis=(-1, 0))", x=sample(T)), case(f"x.{fn}(axis=1)", x=sample(M))]
    positional = (
        "1, None, True" if fn in ("max", "min", "amax", "amin") else "1, None, None, True"
    )  # numpy's order, with out
    cases += [case(f"np.{fn}(x, {positional})", x=sample(M))]
    return cases


CASES[np.sum] = reductions("sum")
CASES[np.mean] = reductions("mean")
CASES[np.prod] = [
    *reductions("prod", away),
    case("np.prod(x)", x=with_zero(M)),
    case("np.prod(x, axis=1)", x=with_zero(M)),
]
CASES[np.max] = [*reductions("max"), case("np.max(x, 0)", x=rand((3, 1)))]
CASES[np.min] = reductions("min")
CASES[np.var] = [
    *reductions("var"),
    case("np.var(x, ddof=1)", x=rand(V)),
    case("np.var(x, ddof=1)", x=rand(M)),
    case("np.var(x, axis=0, ddof=1)", x=rand(M)),
    case("np.var(x, axis=(0, 2), ddof=2, keepdims=True)", x=rand(T)),
    case("np.var(x, 0, None, None, 1)", x=rand(M)),
]
CASES[np.std] = [
    *reductions("std", scalar=False),
    case("np.std(x, ddof=1)", x=rand(V)),
    case("np.std(x, axis=1, ddof=1)", x=rand(M)),
    case("np.std(x, axis=(0, 2), ddof=1, keepdims=True)", x=rand(T)),
    case("np.std(x, 0, None, None, 1, True)", x=rand(M)),
]

# -- broad numpy coverage (issue 7) --------------------------------------------------------


def spd(shape: tuple) -> np.ndarray:
    """A matrix (or stack) ``x`` for which ``x @ x.T + I`` is well conditioned."""
    return np.eye(shape[-1]) + RNG.uniform(-0.3, 0.3, shape)


def with_nans(shape: tuple) -> np.ndarray:
    """Values with a few NaNs (nansum, nanmean): they get no derivative."""
    x = rand(shape)
    x.flat[[1, 4]] = np.nan
    return x


def functions_only(cases: list[Case]) -> list[Case]:
    """The cases that call the function, not an array method (numpy has no ``x.amax()``)."""
    return [c for c in cases if not c.expr.startswith("x.")]


def scan_cases(fn: str, sample: Any = rand) -> list[Case]:
    """A scan (cumsum, cumprod) flattened and along each axis."""
    return [
        case(f"np.{fn}(x)", x=sample(V)),
        case(f"np.{fn}(x)", x=sample(M)),
        case(f"np.{fn}(x, axis=0)", x=sample(M)),
        case(f"np.{fn}(x, 1)", x=sample(M)),
        case(f"np.{fn}(x, axis=-1)", x=sample(T)),
        case(f"np.{fn}(x, axis=1)", x=sample(T)),
    ]


CASES.update({
    np.cbrt: unary("np.cbrt(x)", away),
    np.fabs: unary("np.fabs(x)", away),
    np.deg2rad: unary("np.deg2rad(x)"),
    np.rad2deg: unary("np.rad2deg(x)"),
    np.radians: unary("np.radians(x)"),
    np.degrees: unary("np.degrees(x)"),
    np.sinc: [*unary("np.sinc(x)", lo=-2.0, hi=2.0), case("np.sinc(x)", x=np.array([0.0, 0.5]))],
    np.logaddexp: binary("np.logaddexp(x, y)"),
    np.logaddexp2: binary("np.logaddexp2(x, y)"),
    np.hypot: [*binary("np.hypot(x, y)", x=away, y=away)],
    np.fmax: [*binary("np.fmax(x, y)"), case("np.fmax(x, y)", x=rand(V), y=np.array([np.nan, 0.0, np.nan, 0.0]), wrt=("x",))],
    np.fmin: [*binary("np.fmin(x, y)"), case("np.fmin(x, y)", x=rand(V), y=np.array([np.nan, 0.0, np.nan, 0.0]), wrt=("x",))],
    np.float_power: [*binary("np.float_power(x, y)", x=positive), case("np.float_power(x, 3)", x=rand(M))],
    np.mod: [*binary("np.mod(x, y)", x=lambda s: rand(s, 0.1, 0.9), y=lambda s: rand(s, 1.1, 2.0)), case("np.remainder(x, y)", x=rand(M, -0.9, -0.1), y=rand(M, 1.1, 2.0))],
    np.fmod: binary("np.fmod(x, y)", x=lambda s: rand(s, -0.9, -0.1), y=lambda s: rand(s, 1.1, 2.0)),
    np.pad: [
        case("np.pad(x, 1)", x=rand(M)),
        case("np.pad(x, ((1, 0), (2, 3)))", x=rand(M)),
        case("np.pad(x, (0, 2), mode='constant')", x=rand(V)),
    ],
    np.amax: [*functions_only(reductions("amax")), case("np.amax(x, 0)", x=rand((3, 1)))],
    np.amin: functions_only(reductions("amin")),
    np.ptp: [
        case("np.ptp(x)", x=rand(V)),
        case("np.ptp(x)", x=rand(M)),
        case("np.ptp(x, axis=0)", x=rand(M)),
        case("np.ptp(x, axis=1, keepdims=True)", x=rand(M)),
        case("np.ptp(x, (0, 2))", x=rand(T)),
    ],
    np.nansum: [
        *functions_only(reductions("nansum")),
        case("np.nansum(x)", x=with_nans(M)),
        case("np.nansum(x, axis=1)", x=with_nans(M)),
        case("np.nansum(x, axis=(0, 2), keepdims=True)", x=with_nans(T)),
    ],
    np.nanmean: [
        *functions_only(reductions("nanmean")),
        case("np.nanmean(x)", x=with_nans(M)),
        case("np.nanmean(x, axis=0, keepdims=True)", x=with_nans(M)),
        case("np.nanmean(x, axis=-1)", x=with_nans(T)),
    ],
    np.average: [
        case("np.average(x)", x=rand(V)),
        case("np.average(x)", x=rand(M)),
        case("np.average(x, axis=1)", x=rand(M)),
        case("np.average(x, axis=0, keepdims=True)", x=rand(M)),
        case("np.average(x, weights=w)", x=rand(M), w=positive(M), wrt=("x",)),
        case("np.average(x, axis=1, weights=w)", x=rand(M), w=positive((4,)), wrt=("x",)),
        case("np.average(x, 0, w)", x=rand(M), w=positive((3,)), wrt=("x",)),
    ],
    np.median: [
        case("np.median(x)", x=distinct(V)),
        case("np.median(x)", x=distinct((5,))),
        case("np.median(x, axis=0)", x=distinct(M)),
        case("np.median(x, axis=1, keepdims=True)", x=distinct(M)),
        case("np.median(x, (0, 2))", x=distinct(T)),
    ],
    np.trapezoid: [
        case("np.trapezoid(x)", x=rand(V)),
        case("np.trapezoid(x, dx=0.5)", x=rand(M)),
        case("np.trapezoid(x, s, axis=0)", x=rand(M), s=np.array([0.0, 0.3, 1.0]), wrt=("x",)),
        case("np.trapezoid(x, s)", x=rand(M), s=np.array([0.0, 0.3, 1.0, 1.2]), wrt=("x",)),
        case("np.trapezoid(x, s, axis=1)", x=rand(T), s=rand((2, 3, 4)), wrt=("x",)),
    ],
    np.cumsum: scan_cases("cumsum"),
    np.cumprod: [*scan_cases("cumprod"), case("np.cumprod(x)", x=with_zero(V)), case("np.cumprod(x, axis=1)", x=with_zero(M))],
    np.diff: [
        case("np.diff(x)", x=rand(V)),
        case("np.diff(x, 2)", x=rand(V)),
        case("np.diff(x, axis=0)", x=rand(M)),
        case("np.diff(x, n=2, axis=-1)", x=rand(M)),
        case("np.diff(x, 1, 1)", x=rand(T)),
    ],
    np.moveaxis: [
        case("np.moveaxis(x, 0, -1)", x=rand(T)),
        case("np.moveaxis(x, (0, 1), (2, 0))", x=rand(T)),
        case("np.moveaxis(x, 1, 0)", x=rand(M)),
    ],
    np.atleast_1d: [case("np.atleast_1d(x)", x=rand()), case("np.atleast_1d(x)", x=rand(M))],
    np.atleast_2d: [case("np.atleast_2d(x)", x=rand()), case("np.atleast_2d(x)", x=rand(V)), case("np.atleast_2d(x)", x=rand(M))],
    np.atleast_3d: [case("np.atleast_3d(x)", x=rand(V)), case("np.atleast_3d(x)", x=rand(M)), case("np.atleast_3d(x)", x=rand(T))],
    np.column_stack: [
        case("np.column_stack([x, y])", x=rand(V), y=rand(V)),
        case("np.column_stack((x, y))", x=rand((4, 2)), y=rand(V)),
    ],
    np.split: [
        case("np.split(x, 2)[1]", x=rand(V)),
        case("np.stack(np.split(x, 3, axis=0))", x=rand(M)),
        case("np.concatenate(np.split(x, [1, 3], axis=1), axis=1)", x=rand(M)),
    ],
    np.array_split: [
        case("np.concatenate(np.array_split(x, 3))", x=rand(V)),
        case("np.hstack(np.array_split(x, 2, axis=1))", x=rand((3, 5))),
        case("np.array_split(x, 2, axis=1)[1]", x=rand(M)),
    ],
    np.tile: [
        case("np.tile(x, 2)", x=rand(V)),
        case("np.tile(x, (2, 3))", x=rand(M)),
        case("np.tile(x, (2, 1, 2))", x=rand(M)),
        case("np.tile(x, 2)", x=rand(M)),
        case("np.tile(x, 3)", x=rand()),
    ],
    np.repeat: [
        case("np.repeat(x, 2)", x=rand(M)),
        case("np.repeat(x, 3, axis=1)", x=rand(M)),
        case("np.repeat(x, [1, 0, 2], axis=0)", x=rand(M)),
        case("np.repeat(x, 2, -1)", x=rand(T)),
        case("np.repeat(x, 3)", x=rand()),
    ],
    np.broadcast_to: [
        case("np.broadcast_to(x, (3, 4))", x=rand(V)),
        case("np.broadcast_to(x, (2, 3, 4))", x=rand((3, 1))),
        case("np.broadcast_to(x, (2, 2))", x=rand()),
    ],
    np.flip: [case("np.flip(x)", x=rand(M)), case("np.flip(x, 0)", x=rand(M)), case("np.flip(x, axis=(0, 2))", x=rand(T))],
    np.fliplr: [case("np.fliplr(x)", x=rand(M)), case("np.fliplr(x)", x=rand(T))],
    np.flipud: [case("np.flipud(x)", x=rand(V)), case("np.flipud(x)", x=rand(M))],
    np.rot90: [
        case("np.rot90(x)", x=rand(M)),
        case("np.rot90(x, 2)", x=rand(M)),
        case("np.rot90(x, k=-1, axes=(1, 2))", x=rand(T)),
        case("np.rot90(x, 3)", x=rand(T)),
    ],
    np.roll: [
        case("np.roll(x, 1)", x=rand(V)),
        case("np.roll(x, -2)", x=rand(M)),
        case("np.roll(x, 1, axis=0)", x=rand(M)),
        case("np.roll(x, (1, 2), axis=(0, 1))", x=rand(M)),
    ],
    np.triu: [case("np.triu(x)", x=rand((4, 4))), case("np.triu(x, 1)", x=rand(M)), case("np.triu(x, k=-1)", x=rand(T))],
    np.tril: [case("np.tril(x)", x=rand((4, 4))), case("np.tril(x, -1)", x=rand(M)), case("np.tril(x, k=1)", x=rand(T))],
    np.diag: [
        case("np.diag(x)", x=rand(V)),
        case("np.diag(x, 1)", x=rand(V)),
        case("np.diag(x)", x=rand((4, 4))),
        case("np.diag(x, -1)", x=rand(M)),
        case("np.diag(x, k=2)", x=rand(M)),
    ],
    np.diagonal: [
        case("np.diagonal(x)", x=rand((4, 4))),
        case("np.diagonal(x, 1)", x=rand(M)),
        case("np.diagonal(x, -1, 1, 2)", x=rand(T)),
        case("np.diagonal(x, offset=0, axis1=0, axis2=2)", x=rand(T)),
    ],
    np.take: [
        case("np.take(x, [0, 2, 2])", x=rand(M)),
        case("np.take(x, [3, 0, 3], axis=1)", x=rand(M)),
        case("np.take(x, i, axis=0)", x=rand(M), i=np.array([[0, 1], [2, 2]])),
        case("np.take(x, 1, axis=-1)", x=rand(T)),
        case("np.take(x, [5, -1], mode='wrap')", x=rand(V)),
        case("np.take(x, [5, -1], axis=0, mode='clip')", x=rand(V)),
    ],
    np.take_along_axis: [
        case("np.take_along_axis(x, i, axis=1)", x=rand(M), i=np.array([[0, 3], [1, 1], [2, 0]])),
        case("np.take_along_axis(x, i, axis=0)", x=rand(M), i=np.array([[0, 2, 2, 1]])),
        case("np.take_along_axis(x, i, 0)", x=rand(V), i=np.array([3, 3, 0])),
        case("np.take_along_axis(x, i, axis=None)", x=rand(M), i=np.array([11, 0, 0])),
    ],
    np.sort: [
        case("np.sort(x)", x=distinct(V)),
        case("np.sort(x)", x=distinct(M)),
        case("np.sort(x, axis=0)", x=distinct(M)),
        case("np.sort(x, axis=None)", x=distinct(M)),
        case("np.sort(x, 1)", x=distinct(T)),
    ],
    np.vdot: [
        case("np.vdot(x, y)", x=rand(V), y=rand(V)),
        case("np.vdot(x, y)", x=rand(M), y=rand(M)),
        case("np.vdot(x, y)", x=rand((2, 6)), y=rand(M)),
    ],
    np.tensordot: [
        case("np.tensordot(x, y)", x=rand(M), y=rand(M)),
        case("np.tensordot(x, y, 1)", x=rand(M), y=rand((4, 2))),
        case("np.tensordot(x, y, axes=0)", x=rand(V), y=rand((2,))),
        case("np.tensordot(x, y, axes=([1, 0], [0, 1]))", x=rand(T), y=rand((3, 2, 5))),
        case("np.tensordot(x, y, axes=(2, 1))", x=rand(T), y=rand((5, 4))),
        case("np.tensordot(x, y, ([0, 2], [2, 0]))", x=rand(T), y=rand((4, 5, 2))),
    ],
    np.kron: [
        case("np.kron(x, y)", x=rand(V), y=rand((3,))),
        case("np.kron(x, y)", x=rand((2, 3)), y=rand((3, 2))),
        case("np.kron(x, y)", x=rand(V), y=rand((2, 3))),
        case("np.kron(x, y)", x=rand(T), y=rand((2, 2))),
    ],
    np.cross: [
        case("np.cross(x, y)", x=rand((3,)), y=rand((3,))),
        case("np.cross(x, y)", x=rand((4, 3)), y=rand((4, 3))),
        case("np.cross(x, y)", x=rand((3,)), y=rand((4, 3))),
        case("np.cross(x, y)", x=rand((2, 1, 3)), y=rand((4, 3))),
    ],
    np.linalg.cholesky: [
        case("np.linalg.cholesky(x @ x.T + np.eye(3))", x=spd((3, 3))),
        case("np.linalg.cholesky(x @ np.swapaxes(x, -1, -2))", x=spd((2, 3, 3))),
    ],
    np.linalg.slogdet: [
        case("np.linalg.slogdet(x)[1]", x=wellconditioned((3, 3))),
        case("np.linalg.slogdet(x)[1]", x=-wellconditioned((3, 3))),
        case("np.linalg.slogdet(x)[1] * np.linalg.slogdet(x)[0]", x=wellconditioned((2, 3, 3))),
    ],
    np.linalg.pinv: [
        case("np.linalg.pinv(x)", x=wellconditioned((3, 3))),
        case("np.linalg.pinv(x)", x=rand((3, 2))),
        case("np.linalg.pinv(x)", x=rand((2, 4))),
        case("np.linalg.pinv(x)", x=rand((2, 4, 3))),
    ],
    np.linalg.matrix_power: [
        case("np.linalg.matrix_power(x, 3)", x=rand((3, 3))),
        case("np.linalg.matrix_power(x, 0)", x=rand((3, 3))),
        case("np.linalg.matrix_power(x, 1)", x=rand((2, 3, 3))),
        case("np.linalg.matrix_power(x, -2)", x=wellconditioned((3, 3))),
    ],
    runtime.safe_div: [
        case("safe_div(x, y)", x=rand(), y=away(())),
        case("safe_div(x, y)", x=rand(V), y=away(V)),
        case("safe_div(x, y)", x=rand(M), y=away(M)),
        case("safe_div(x, y)", x=rand((3, 1)), y=away((4,))),
        case("safe_div(x, y)", x=rand(V), y=np.array([0.0, 1.0, 0.0, -2.0]), wrt=("x",)),
    ],
    runtime.cumsum_vjp: [
        case("cumsum_vjp(v, a)", v=rand((12,)), a=shape(M)),
        case("cumsum_vjp(v, a, 1)", v=rand(M), a=shape(M)),
    ],
    runtime.cumprod_vjp: [
        case("cumprod_vjp(v, a)", v=rand((12,)), a=away(M), wrt=("v",)),
        case("cumprod_vjp(v, a, 0)", v=rand(M), a=with_zero(M), wrt=("v",)),
    ],
    runtime.cumprod_jvp: [
        case("cumprod_jvp(u, a)", u=rand(M), a=away(M), wrt=("u",)),
        case("cumprod_jvp(u, a, 1)", u=rand(M), a=with_zero(M), wrt=("u",)),
    ],
    runtime.diff_vjp: [
        case("diff_vjp(v, a)", v=rand((3,)), a=shape(V)),
        case("diff_vjp(v, a, 2, 0)", v=rand((1, 4)), a=shape(M)),
    ],
    runtime.uncolumn_stack: [
        case("np.column_stack(uncolumn_stack(v, [a, b]))", v=rand((4, 3)), a=shape(V), b=shape((4, 2))),
    ],
    runtime.untile: [
        case("untile(v, a, (2, 3))", v=rand((6, 12)), a=shape(M)),
        case("untile(v, a, 2)", v=rand((8,)), a=shape(V)),
    ],
    runtime.unrepeat: [
        case("unrepeat(v, a, 2)", v=rand((24,)), a=shape(M)),
        case("unrepeat(v, a, [1, 0, 2], 0)", v=rand((3, 4)), a=shape(M)),
    ],
    runtime.undiag: [
        case("undiag(v, x)", v=rand((4, 4)), x=shape(V)),
        case("undiag(v, x, -1)", v=rand((2,)), x=shape(M)),
    ],
    runtime.undiagonal: [
        case("undiagonal(v, x, 1)", v=rand((3,)), x=shape(M)),
        case("undiagonal(v, x, 0, 1, 2)", v=rand((2, 3)), x=shape(T)),
    ],
    runtime.take_vjp: [
        case("take_vjp(v, x, [0, 2, 2])", v=rand((3,)), x=shape(M)),
        case("take_vjp(v, x, [3, 0, 3], 1)", v=rand((3, 3)), x=shape(M)),
        case("take_vjp(v, x, [5, -1], None, 'wrap')", v=rand((2,)), x=shape(V)),
    ],
    runtime.take_along_axis_vjp: [
        case("take_along_axis_vjp(v, x, i, 1)", v=rand((3, 2)), x=shape(M), i=np.array([[0, 3], [1, 1], [2, 0]])),
        case("take_along_axis_vjp(v, x, i, None)", v=rand((3,)), x=shape(M), i=np.array([11, 0, 0])),
    ],
    runtime.unpad: [case("unpad(v, ((1, 0), (2, 3)))", v=rand((4, 9))), case("unpad(v, 1)", v=rand(M))],
    runtime.tensordot_vjp_a: [
        case("tensordot_vjp_a(v, a, b, 1)", v=rand((3, 2)), a=shape(M), b=rand((4, 2))),
        case("tensordot_vjp_a(v, a, b, ([1, 0], [0, 1]))", v=rand((4, 5)), a=shape(T), b=rand((3, 2, 5))),
    ],
    runtime.tensordot_vjp_b: [
        case("tensordot_vjp_b(v, a, b, 1)", v=rand((3, 2)), a=rand(M), b=shape((4, 2))),
        case("tensordot_vjp_b(v, a, b, ([0, 2], [2, 0]))", v=rand((3, 5)), a=rand(T), b=shape((4, 5, 2))),
    ],
    runtime.kron_vjp_a: [
        case("kron_vjp_a(v, a, b)", v=rand((6, 6)), a=shape((2, 3)), b=rand((3, 2))),
        case("kron_vjp_a(v, a, b)", v=rand((2, 12)), a=shape(V), b=rand((2, 3))),
    ],
    runtime.kron_vjp_b: [
        case("kron_vjp_b(v, a, b)", v=rand((6, 6)), a=rand((2, 3)), b=shape((3, 2))),
        case("kron_vjp_b(v, a, b)", v=rand((2, 12)), a=rand(V), b=shape((2, 3))),
    ],
})  # fmt: skip

# Functions without a derivative, used on the differentiated value: their contribution
# to the gradient is zero, and the finite differences agree (away from jumps).
NONDIFF_CASES: dict[Any, list[Case]] = {
    np.shape: [case("x * np.shape(x)[0]", x=rand(M))],
    np.ndim: [case("x * np.ndim(x)", x=rand(M))],
    np.size: [case("x * np.size(x)", x=rand(M))],
    np.zeros: [case("x + np.zeros(np.shape(x))", x=rand(M))],
    np.ones: [case("x * np.ones(np.shape(x))", x=rand(M))],
    np.empty: [case("np.where(True, x, np.empty(np.shape(x)))", x=rand(M))],
    np.full: [case("x * np.full(np.shape(x), 2.0)", x=rand(M))],
    np.zeros_like: [case("x + np.zeros_like(x)", x=rand(M))],
    np.ones_like: [case("x * np.ones_like(x)", x=rand(M))],
    np.empty_like: [case("np.where(True, x, np.empty_like(x))", x=rand(M))],
    np.full_like: [case("x * np.full_like(x, 3.0)", x=rand(M))],
    np.eye: [case("np.eye(np.size(x)) @ x", x=rand(V))],
    np.identity: [case("np.identity(np.size(x)) @ x", x=rand(V))],
    runtime.linspace_weights: [case("x * linspace_weights(0.0, 1.0, np.size(x))", x=rand(V))],
    np.argmax: [case("x * np.argmax(x)", x=rand(V))],
    np.argmin: [case("x * np.argmin(x)", x=rand(V))],
    np.argsort: [case("x * np.argsort(x)", x=rand(V))],
    np.nonzero: [case("x * np.nonzero(x > 0.0)[0][0]", x=np.array([-0.5, 0.7, -0.3, 0.9]))],
    np.floor: [case("x * np.floor(3.0 * x)", x=rand(M))],
    np.ceil: [case("x * np.ceil(3.0 * x)", x=rand(M))],
    np.round: [case("x * np.round(3.0 * x)", x=rand(M))],
    np.rint: [case("x * np.rint(3.0 * x)", x=rand(M))],
    np.trunc: [case("x * np.trunc(3.0 * x)", x=rand(M))],
    np.fix: [case("x * np.fix(3.0 * x)", x=rand(M))],
    np.sign: [case("x * np.sign(x)", x=away(M))],
    np.isnan: [case("np.where(np.isnan(x), 0.0, x)", x=rand(M))],
    np.isinf: [case("np.where(np.isinf(x), 0.0, x)", x=rand(M))],
    np.isfinite: [case("np.where(np.isfinite(x), x, 0.0)", x=rand(M))],
    np.allclose: [case("x * (1.0 + np.allclose(x, x))", x=rand(M))],
    np.isclose: [case("x * np.isclose(x, x)", x=rand(M))],
    np.equal: [case("x * np.equal(x, x)", x=rand(M))],
    np.not_equal: [case("x * np.not_equal(x, 0.0)", x=rand(M))],
    np.less: [case("x * np.less(x, 0.0)", x=away(M))],
    np.less_equal: [case("x * np.less_equal(x, 0.0)", x=away(M))],
    np.greater: [case("x * np.greater(x, 0.0)", x=away(M))],
    np.greater_equal: [case("x * np.greater_equal(x, 0.0)", x=away(M))],
    np.logical_and: [case("x * np.logical_and(x > 0.0, x < 0.5)", x=away(M))],
    np.logical_or: [case("x * np.logical_or(x > 0.5, x < 0.0)", x=away(M))],
    np.logical_not: [case("x * np.logical_not(x > 0.0)", x=away(M))],
    np.logical_xor: [case("x * np.logical_xor(x > 0.0, x > 0.5)", x=away(M))],
    np.any: [case("x * np.any(x > 0.0)", x=away(M))],
    np.all: [case("x * np.all(x > -2.0)", x=rand(M))],
    np.count_nonzero: [case("x * np.count_nonzero(x > 0.0)", x=away(M))],
    np.searchsorted: [
        case("x * np.searchsorted(edges, x)", x=rand(V), edges=np.linspace(-1.0, 1.0, 7), wrt=("x",))
    ],
    np.floor_divide: [case("x * np.floor_divide(x, 0.3)", x=rand(M))],
    np.array_equal: [case("x * np.array_equal(x, x)", x=rand(M))],
    len: [case("x * len(x)", x=rand(M))],
    int: [case("x * int(3.0 * x)", x=rand())],
    bool: [case("x * bool(x > 0.0)", x=away())],
    range: [case("x * range(len(x))", x=rand(V))],
    isinstance: [case("x * isinstance(x, float)", x=rand())],
    round: [case("x * round(3.0 * x)", x=rand())],
    math.floor: [case("x * math.floor(3.0 * x)", x=rand())],
    math.ceil: [case("x * math.ceil(3.0 * x)", x=rand())],
    math.trunc: [case("x * math.trunc(3.0 * x)", x=rand())],
    operator.lt: [case("x * operator.lt(x, 0.0)", x=away(M))],
    operator.le: [case("x * operator.le(x, 0.0)", x=away(M))],
    operator.gt: [case("x * operator.gt(x, 0.0)", x=away(M))],
    operator.ge: [case("x * operator.ge(x, 0.0)", x=away(M))],
    operator.eq: [case("x * operator.eq(x, x)", x=rand(M))],
    operator.ne: [case("x * operator.ne(x, 0.0)", x=rand(M))],
}

NONDIFF_CASES.update({
    runtime.check_scalar: [case("x * (check_scalar(np.sum(x), 'f.py:1') is None)", x=rand(M))],
    runtime.not_scalar: [case("x * isinstance(not_scalar(x, 'f.py:1'), Exception)", x=rand(M))],
    runtime.grad_dtype: [case("x * np.ones(4, dtype=grad_dtype(x, 1.0))", x=rand(M))],
    runtime.inside: [case("x * inside(x, -0.5, 0.5)", x=rand(M))],
    runtime.zero_tangent: [case("x + zero_tangent(x)", x=rand(M))],
    runtime.zero_adjoint: [case("x + zero_adjoint(x)", x=rand(M)), case("x * 2.0 + zero_adjoint(None)", x=rand(V))],
    runtime.zeros_like_list: [case("x + zeros_like_list([x, x])[1]", x=rand(M))],
    runtime.is_start: [case("x * is_start(None) + x * is_start(2.0)", x=rand(V))],
    runtime.size_of: [case("x * size_of(x) + x * size_of(2.0)", x=rand(V))],
    runtime.unit_vectors: [case("x * np.sum(unit_vectors(x)[0])", x=rand(M))],
    runtime.zero_adjoint: [case("x + zero_adjoint(x)", x=rand(M))],
    runtime.zeros_like_list: [case("x + zeros_like_list([x, x])[0]", x=rand(M))],
    runtime.zeros_like_tree: [case("x + zeros_like_tree([x])[0]", x=rand(M))],
    runtime.tree_size: [case("x * tree_size([x, x])", x=rand(M))],
    runtime.is_namedtuple: [case("x * is_namedtuple(x)", x=rand(M))],
    runtime.nan_max_share: [case("x * nan_max_share(x, 0.0)", x=away(M))],
    runtime.nan_weights: [case("x * nan_weights(x, 0, True)", x=rand(M))],
    runtime.average_share: [case("x * average_share(x, 1)", x=rand(M))],
    runtime.sort_indices: [case("x * sort_indices(x)", x=rand(V))],
    runtime.trapezoid_weights: [case("x * trapezoid_weights(x)", x=rand(M))],
    runtime.median_weights: [case("x * median_weights(x)", x=distinct(M))],
})  # fmt: skip

# -- issue 7: outputs that are tuples, array methods, decompositions, einsum ----------------


def symmetric(shape: tuple) -> np.ndarray:
    """A symmetric matrix (or stack) with well-separated eigenvalues."""
    x = rand(shape)
    return x + np.swapaxes(x, -1, -2) + np.diag(np.arange(shape[-1]) * 1.5)


def full_rank(shape: tuple) -> np.ndarray:
    """A matrix (or stack) with well-separated nonzero singular values."""
    u, _, vh = np.linalg.svd(rand(shape), full_matrices=False)
    return (u * np.linspace(2.0, 1.0, u.shape[-1])[..., None, :]) @ vh + 0.01 * rand(shape)


# Outputs that are tuples of arrays of different shapes: indexing picks one, the others get
# zeros (and only some of them used).
CASES[np.split] += [
    case("np.split(x, [1])[1]", x=rand(V)),
    case("np.split(x, [1, 3], axis=1)[0] * np.split(x, [1, 3], axis=1)[2]", x=rand(M)),
]
CASES[np.array_split] += [case("np.array_split(x, 3)[2] * np.array_split(x, 3)[0][:1]", x=rand((5,)))]
CASES[np.linalg.slogdet] += [
    case("np.linalg.slogdet(x).logabsdet * np.linalg.slogdet(x).sign", x=wellconditioned((3, 3)))
]
CASES[np.mod] += [
    case("x % y", x=rand(M, 0.1, 0.9), y=rand((4,), 1.1, 2.0)),
    case("x % 0.7", x=rand(M, 0.1, 0.6)),
]
CASES[np.einsum] += [
    case("np.einsum('ij,jk,kl->il', x, y, z)", x=rand((2, 3)), y=rand((3, 4)), z=rand((4, 2))),
    case("np.einsum('i,ij,j', x, y, x)", x=rand((3,)), y=rand((3, 3))),
    case("np.einsum('ij->ji', x)", x=rand(M)),
    case("np.einsum('ij', x)", x=rand(M)),
    case("np.einsum('ii', x)", x=rand((3, 3))),
    case("np.einsum('iij->ij', x)", x=rand((3, 3, 2))),
    case("np.einsum('ij->', x)", x=rand(M)),
    case("np.einsum('...ij,...jk', x, y)", x=rand((2, 3, 4)), y=rand((4, 2))),
    case("np.einsum('...ij,...jk->...ik', x, y)", x=rand((1, 3, 4)), y=rand((2, 4, 2))),
    case("np.einsum('...i,i->...', x, y)", x=rand(T), y=rand((4,))),
    case("np.einsum('ij,ij,ij->i', x, y, z, optimize=True)", x=rand(M), y=rand(M), z=rand(M)),
    case("np.einsum('ij,kj->ijk', x, y)", x=rand((2, 3)), y=rand((4, 3))),
]
# Array methods, as the numpy functions they call.
CASES[np.cumsum] += [case("x.cumsum(axis=0)", x=rand(M)), case("x.cumsum()", x=rand(M))]
CASES[np.cumprod] += [case("x.cumprod(1)", x=away(M))]
CASES[np.diagonal] += [case("x.diagonal(1)", x=rand(M))]
CASES[np.repeat] += [case("x.repeat(2, axis=1)", x=rand(M))]
CASES[np.trace] += [case("x.trace()", x=rand(M))]
CASES[np.take] += [case("x.take([0, 5, 5])", x=rand(M))]
CASES[np.swapaxes] += [case("x.swapaxes(0, 2)", x=rand(T))]
CASES[np.clip] += [
    case("x.clip(-0.3)", x=away(M)),
    case("x.clip(max=0.4)", x=away(M)),
    case("x.clip(min=-0.5, max=0.5)", x=away(M)),
]
CASES[np.transpose] += [case("x.transpose(1, 0)", x=rand(M)), case("x.transpose((2, 0, 1))", x=rand(T))]
CASES[np.reshape] += [case("x.reshape(2, 6)", x=rand(M)), case("x.reshape((6, 2))", x=rand(M))]

CASES.update({
    # a float type passes the derivative through; an integer or bool type gives zero
    np.ndarray.astype: [
        case("x.astype(np.float64)", x=rand(M)),
        case("x.astype(float) * x", x=rand(V)),
        case("x.astype(int) * x", x=rand(M, -3.0, 3.0)),
        case("x.astype(bool) + x", x=away(V)),
        case("x.astype(dtype='float64')", x=rand(V)),
        case("np.real(x.astype(complex) * (1 + 2j))", x=rand(V)),
    ],
    np.linalg.eigh: [
        case("np.linalg.eigh(x)[0]", x=symmetric((3, 3))),
        case("np.linalg.eigh(x).eigenvectors ** 2", x=symmetric((3, 3))),
        case("np.linalg.eigh(x, 'U')[1] ** 2 * np.linalg.eigh(x, 'U')[0]", x=symmetric((4, 4))),
        case("np.linalg.eigh(x)[0]", x=rand((3, 3))),  # reads the lower triangle only
        case("np.linalg.eigh(x)[1] @ np.diag(x[0]) @ np.linalg.eigh(x)[1].T", x=symmetric((3, 3))),
        case("np.linalg.eigh(x)[1] ** 2", x=symmetric((2, 3, 3))),
    ],
    np.linalg.svd: [
        case("np.linalg.svd(x)[1]", x=full_rank((3, 3))),
        case("np.linalg.svd(x, full_matrices=False)[0] ** 2", x=full_rank((4, 3))),
        case("np.linalg.svd(x, full_matrices=False).Vh ** 2", x=full_rank((3, 4))),
        case("np.linalg.svd(x, full_matrices=False)[0] ** 2", x=full_rank((3, 5))),
        case("np.linalg.svd(x, False)[2] ** 2 + np.linalg.svd(x, False)[1][:, None]", x=full_rank((5, 3))),
        case("np.linalg.svd(x, compute_uv=False)", x=full_rank((4, 3))),
        case("np.linalg.svd(x, full_matrices=False)[0] ** 2", x=full_rank((2, 4, 3))),
    ],
    np.linalg.qr: [
        case("np.linalg.qr(x)[0]", x=full_rank((4, 3))),
        case("np.linalg.qr(x).R", x=full_rank((3, 3))),
        case("np.linalg.qr(x)[0] @ np.linalg.qr(x)[1] ** 2", x=full_rank((2, 4, 3))),
    ],
    np.linalg.multi_dot: [
        case("np.linalg.multi_dot([x, y, z])", x=rand((2, 3)), y=rand((3, 4)), z=rand((4, 2))),
        case("np.linalg.multi_dot([x, y, z])", x=rand((3,)), y=rand((3, 4)), z=rand((4,))),
        case("np.linalg.multi_dot([x, y])", x=rand((3, 4)), y=rand((4,))),
    ],
    np.select: [
        case("np.select([x < -0.3, x > 0.3], [x ** 2, y], default=np.sin(y))", x=away(M), y=rand(M)),
        case("np.select([x < 0.0], [x], 0.5)", x=away(V)),
        case("np.select([x > 0.0, x > 0.5], [y, x], default=y)", x=away(M), y=rand((4,))),
    ],
    np.nanmax: [case("np.nanmax(x)", x=with_nans(M)), case("np.nanmax(x, axis=0)", x=with_nans(M))],
    np.nanmin: [case("np.nanmin(x)", x=with_nans(M)), case("np.nanmin(x, 1, keepdims=True)", x=with_nans(M))],
    np.nanprod: [case("np.nanprod(x)", x=with_nans(M)), case("np.nanprod(x, axis=1)", x=with_nans(M))],
    np.nanvar: [case("np.nanvar(x)", x=with_nans(M)), case("np.nanvar(x, axis=0, ddof=1)", x=with_nans((4, 4)))],
    np.nanstd: [case("np.nanstd(x)", x=with_nans(M)), case("np.nanstd(x, axis=1, keepdims=True)", x=with_nans(M))],
    runtime.astype_vjp: [case("astype_vjp(v, a, np.float64)", v=rand(M), a=shape(M)), case("astype_vjp(v, a, int)", v=rand(M), a=shape(M))],
    runtime.astype_jvp: [case("astype_jvp(u, np.float64)", u=rand(M)), case("astype_jvp(u, bool)", u=rand(M))],
    runtime.multi_dot_vjp: [case("multi_dot_vjp(v, [x, y])[0] * multi_dot_vjp(v, [x, y])[1][0, 0]", v=rand((3, 2)), x=rand((3, 4)), y=rand((4, 2)))],
    runtime.multi_dot_jvp: [case("multi_dot_jvp([u, w], [x, y])", u=rand((3,)), w=rand((3, 2)), x=rand((3,)), y=rand((3, 2)))],
    runtime.select_vjp: [case("select_vjp(v, [c, ~c], [1.0, np.ones(4)])[1]", v=rand(M), c=rand(M) > 0)],
    runtime.select_where: [case("select_where([x < -0.3, x > 0.3], [x ** 2, y], default=z)", x=away(M), y=rand(M), z=rand((4,)))],
    runtime.einsum_vjps: [case("einsum_vjps(v, 'ij,jk', [x, y])[0] + einsum_vjps(v, 'ij,jk', [x, y])[1].T", v=rand((3, 3)), x=rand((3, 2)), y=rand((2, 3)))],
    runtime.einsum_jvp: [case("einsum_jvp([u, w, z], 'ij,jk,k->i', [x, y, z])", u=rand((3, 2)), w=rand((2, 4)), x=rand((3, 2)), y=rand((2, 4)), z=rand((4,)))],
})  # fmt: skip

NONDIFF_CASES[np.round] += [case("x * x.round(1)", x=rand(M))]
NONDIFF_CASES[np.argmax] += [case("x * x.argmax()", x=distinct(M))]
NONDIFF_CASES[np.argmin] += [case("x * x.argmin()", x=distinct(M))]
NONDIFF_CASES[np.any] += [case("x * x.any()", x=rand(M))]
NONDIFF_CASES[np.all] += [case("x * x.all()", x=away(M))]
NONDIFF_CASES[np.argsort] += [case("x * x.argsort()", x=distinct(V))]
NONDIFF_CASES[np.nonzero] += [case("x[x.nonzero()]", x=away(M))]
NONDIFF_CASES[np.floor_divide] += [case("x * (x // 0.3)", x=rand(M))]
NONDIFF_CASES.update({
    runtime.select_untaken: [case("x * select_untaken([x > 0.0])", x=away(M))],
    runtime.chain_subscripts: [case("np.einsum(chain_subscripts([x, x]), x, x)", x=rand((3, 3)))],
})  # fmt: skip

# stop_gradient's zero derivative is not the identity's, which finite differences see: its own
# test is in test_custom_rules.py; here it stops what is not differentiated anyway.
NONDIFF_CASES[srcgrad.stop_gradient] = [case("x * stop_gradient(y)", x=rand(M), y=rand(M), wrt=("x",))]

# -- more numpy functions -----------------------------------------------------------------


def with_nonfinite(shape: tuple) -> np.ndarray:
    """Values with a NaN, an inf and a -inf (np.nan_to_num replaces them)."""
    x = rand(shape)
    x.flat[[0, 2, 3]] = [np.nan, np.inf, -np.inf]
    return x


def with_zeros(shape: tuple) -> np.ndarray:
    """Values away from 0, with a few exact zeros (np.heaviside, np.copysign)."""
    x = away(shape)
    x.flat[::3] = 0.0
    return x


CASES.update({
    np.cumulative_sum: [
        case("np.cumulative_sum(x)", x=rand(V)),
        case("np.cumulative_sum(x, include_initial=True)", x=rand(V)),
        case("np.cumulative_sum(x, axis=0)", x=rand(M)),
        case("np.cumulative_sum(x, axis=1, include_initial=True)", x=rand(M)),
        case("np.cumulative_sum(x, axis=-1, include_initial=True)", x=rand(T)),
    ],
    np.cumulative_prod: [
        case("np.cumulative_prod(x)", x=away(V)),
        case("np.cumulative_prod(x, include_initial=True)", x=with_zero(V)),
        case("np.cumulative_prod(x, axis=0)", x=away(M)),
        case("np.cumulative_prod(x, axis=1, include_initial=True)", x=away(M)),
        case("np.cumulative_prod(x, axis=-2, include_initial=True)", x=away(T)),
    ],
    np.nancumsum: [
        *scan_cases("nancumsum"),
        case("np.nancumsum(x)", x=with_nans(M)),
        case("np.nancumsum(x, axis=1)", x=with_nans(M)),
        case("np.nancumsum(x, 0)", x=with_nans(T)),
    ],
    np.nanmedian: [
        case("np.nanmedian(x)", x=distinct(V)),
        case("np.nanmedian(x)", x=distinct((5,))),
        case("np.nanmedian(x, axis=0)", x=distinct(M)),
        case("np.nanmedian(x, axis=1, keepdims=True)", x=distinct(M)),
        case("np.nanmedian(x, (0, 2))", x=distinct(T)),
        case("np.nanmedian(x)", x=np.where(np.isnan(with_nans(M)), np.nan, distinct(M))),
        case("np.nanmedian(x, axis=1)", x=np.where(np.isnan(with_nans(M)), np.nan, distinct(M))),
        case("np.nanmedian(x, axis=0, keepdims=True)", x=np.where(np.isnan(with_nans((5, 4))), np.nan, distinct((5, 4)))),
    ],
    np.nan_to_num: [
        *unary("np.nan_to_num(x)"),
        case("np.nan_to_num(x)", x=with_nans(M)),
        case("np.nan_to_num(x, nan=y, posinf=z, neginf=w)", x=with_nonfinite(M), y=rand(), z=rand(), w=rand()),
        case("np.nan_to_num(x, True, y)", x=with_nans((5,)), y=rand()),
        case("np.nan_to_num(x, posinf=y, neginf=-2.0)", x=with_nonfinite(V), y=rand()),
    ],
    np.real: [case("np.real(x)", x=rand()), case("np.real(x)", x=rand(M)), case("np.real(x) * x", x=rand(V))],
    np.conjugate: [*unary("np.conjugate(x)"), case("np.conj(x) * x", x=rand(M))],
    np.copysign: [
        *binary("np.copysign(x, y)", x=away, y=away),
        case("np.copysign(x, y)", x=with_zeros(M), y=away(M)),
        case("np.copysign(x, -2.0)", x=away(V)),
    ],
    np.nextafter: binary("np.nextafter(x, y)"),
    np.heaviside: [
        *binary("np.heaviside(x, y)", x=away),
        case("np.heaviside(x, y)", x=with_zeros(M), y=rand(M), wrt=("y",)),
        case("np.heaviside(x, y)", x=with_zeros(M), y=rand((4,)), wrt=("y",)),
        case("np.heaviside(x, y)", x=0.0, y=rand(), wrt=("y",)),
        case("np.heaviside(x, y)", x=with_zeros(V), y=rand(), wrt=("y",)),
    ],
    np.append: [
        case("np.append(x, y)", x=rand(V), y=rand((3,))),
        case("np.append(x, y)", x=rand(M), y=rand()),
        case("np.append(x, y, axis=0)", x=rand(M), y=rand((2, 4))),
        case("np.append(x, y, 1)", x=rand(M), y=rand((3, 1))),
        case("np.append(x, y, axis=-1)", x=rand(T), y=rand((2, 3, 2))),
        case("np.append(x, [1.0, 2.0])", x=rand(M)),
    ],
    np.insert: [
        case("np.insert(x, 1, y)", x=rand(V), y=rand()),
        case("np.insert(x, [0, 2, 2], y)", x=rand(M), y=rand((3,))),
        case("np.insert(x, 1, y, axis=0)", x=rand(M), y=rand((4,))),
        case("np.insert(x, 1, y, axis=1)", x=rand(M), y=rand((3,))),
        case("np.insert(x, 2, y, axis=1)", x=rand(M), y=rand((2, 3))),
        case("np.insert(x, [1, 3], y, axis=1)", x=rand(M), y=rand((3, 1))),
        case("np.insert(x, slice(0, 2), y, axis=0)", x=rand(M), y=rand()),
        case("np.insert(x, 0, y, axis=-1)", x=rand(T), y=rand((2, 3))),
        case("np.insert(x, 3, 5.0)", x=rand(V)),
    ],
    np.delete: [
        case("np.delete(x, 1)", x=rand(V)),
        case("np.delete(x, [0, 5, 7])", x=rand(M)),
        case("np.delete(x, 1, axis=0)", x=rand(M)),
        case("np.delete(x, [0, 2], axis=1)", x=rand(M)),
        case("np.delete(x, slice(0, 2), -1)", x=rand(T)),
        case("np.delete(x, x[0] > 0.0, axis=1)", x=rand(M)),
    ],
    runtime.abs_vjp: [case("abs_vjp(v, x)", v=rand(M), x=away(M)), case("abs_vjp(v, x)", v=rand(), x=away(())), case("abs_vjp(v, x)", v=rand(M), x=away((4,)))],
    runtime.abs_jvp: [case("abs_jvp(u, x)", u=rand(M), x=away(M)), case("abs_jvp(u, x)", u=rand(), x=away(())), case("abs_jvp(u, x)", u=rand(V), x=away(V))],
    runtime.angle_vjp: [case("angle_vjp(v, x)", v=rand(M), x=away(M)), case("angle_vjp(v, x, True) + v", v=rand(V), x=away(V)), case("angle_vjp(v, x) + v", v=rand(), x=away(()))],
    runtime.angle_jvp: [case("angle_jvp(u, x)", u=rand(M), x=away(M)), case("angle_jvp(u, x, True) + u", u=rand(), x=away(())), case("angle_jvp(u, x) + u", u=rand(V), x=away(V))],
    runtime.real_vjp: [case("real_vjp(v, x)", v=rand(M), x=shape(M)), case("real_vjp(v, x)", v=rand(), x=shape(()))],
    runtime.imag_vjp: [case("imag_vjp(v, x) + v", v=rand(M), x=shape(M)), case("imag_vjp(v, x) + v", v=rand(), x=shape(()))],
    runtime.imag_of: [case("imag_of(v, x) + v", v=rand(M), x=shape(M)), case("imag_of(v, x) + v", v=rand(), x=shape(()))],
    runtime.real_like: [case("real_like(v, x)", v=rand(M), x=shape(M)), case("real_like(v, x)", v=rand(), x=shape(()))],
    runtime.safe_log: [case("safe_log(x)", x=positive(())), case("safe_log(x)", x=positive(V)), case("safe_log(x) * y", x=positive(M), y=rand(M))],
    runtime.drop_initial: [case("drop_initial(v, None, True)", v=rand((5,))), case("drop_initial(v, 1, True)", v=rand((3, 5))), case("drop_initial(v, 0)", v=rand(M))],
    runtime.with_initial: [case("with_initial(v, None, True)", v=rand(V)), case("with_initial(v, -1, True)", v=rand(T)), case("with_initial(v, 0)", v=rand(M))],
    runtime.unappend_arr: [case("unappend_arr(v, a, b)", v=rand((15,)), a=shape(M), b=shape((3,))), case("unappend_arr(v, a, b, 1)", v=rand((3, 6)), a=shape(M), b=shape((3, 2)))],
    runtime.unappend_values: [case("unappend_values(v, a, b)", v=rand((15,)), a=shape(M), b=shape((3,))), case("unappend_values(v, a, b, 1)", v=rand((3, 6)), a=shape(M), b=shape((3, 2)))],
    runtime.uninsert_arr: [case("uninsert_arr(v, a, [0, 2, 2], b)", v=rand((15,)), a=shape(M), b=shape((3,))), case("uninsert_arr(v, a, 1, b, 1)", v=rand((3, 5)), a=shape(M), b=shape(()))],
    runtime.uninsert_values: [case("uninsert_values(v, a, [0, 2, 2], b)", v=rand((15,)), a=shape(M), b=shape((3,))), case("uninsert_values(v, a, 1, b, 1)", v=rand((3, 5)), a=shape(M), b=shape(())), case("uninsert_values(v, a, [1, 3], b, 1)", v=rand((3, 6)), a=shape(M), b=shape((3, 1)))],
    runtime.undelete: [case("undelete(v, a, [0, 5, 7])", v=rand((9,)), a=shape(M)), case("undelete(v, a, 1, 0)", v=rand((2, 4)), a=shape(M))],
})  # fmt: skip
CASES[np.real] += [case("x.real * x", x=rand(M)), case("x.T.real", x=rand(M))]
CASES[np.conjugate] += [case("x.conj() * x", x=rand(V)), case("x.conjugate()", x=rand(M))]
# Complex values inside a real function of real arguments (tests/test_complex.py: complex arguments).
CASES[np.real] += [
    case("np.real(x * (1 + 2j))", x=rand(V)),
    case("np.real(np.exp(1j * x) * y)", x=rand(M), y=rand(V)),
]
CASES[np.conjugate] += [case("np.real(np.conj(x * 1j) * (2 + 1j))", x=rand(V))]
CASES[np.imag] = [
    case("np.imag(x * (1 + 2j))", x=rand()),
    case("np.imag(x * (1 + 2j))", x=rand(V)),
    case("np.imag(x)", x=rand(M)),
    case("x.imag + x", x=rand(V)),
    case("np.imag(np.exp(1j * x) * y)", x=rand(V), y=rand(V)),
]
CASES[np.angle] = [
    case("np.angle(x + 0.5j)", x=rand()),
    case("np.angle(x + 0.5j)", x=rand(V)),
    case("np.angle(x * (1 + 1j) + 0.3j, deg=True)", x=rand(M)),
    case("np.angle(x)", x=away(V)),
]

NONDIFF_CASES.update({
    np.tril_indices: [case("x[np.tril_indices(3, 0, 4)]", x=rand(M))],
    np.triu_indices: [case("x[np.triu_indices(3, 1, 4)] * np.triu_indices(3)[1][:1]", x=rand(M))],
    np.argwhere: [case("x * np.argwhere(x > 0.0)[-1, 1]", x=away(M))],
    np.flatnonzero: [case("np.ravel(x)[np.flatnonzero(x > 0.0)]", x=away(M))],
    np.around: [case("x * np.around(3.0 * x)", x=rand(M)), case("x * np.around(x, 1)", x=rand(V))],
    np.ravel_multi_index: [case("np.ravel(x)[np.ravel_multi_index(([0, 2], [1, 3]), np.shape(x))]", x=rand(M))],
    np.unravel_index: [case("x[np.unravel_index([1, 7], np.shape(x))]", x=rand(M))],
    np.spacing: [case("x * np.spacing(x)", x=away(M))],
    np.isposinf: [case("np.where(np.isposinf(x), 0.0, x)", x=rand(M))],
    np.isneginf: [case("np.where(np.isneginf(x), 0.0, x)", x=rand(M))],
    runtime.curvature_ord: [case("x ** curvature_ord(2, x, None)", x=rand(V)), case("x + curvature_ord(np.inf, x, 1)", x=rand(M))],
    runtime.check_real: [case("x * 2.0 if check_real('f.py:1', x, y) is None else x", x=rand(M), y=rand(V))],
    runtime.real_zero: [case("x + real_zero(x, 'np.abs')", x=rand(M))],
    runtime.real_only: [case("x * 2.0 if real_only(x, 'np.linalg.qr') is None else x", x=rand(M))],
    runtime.nan_median_weights: [case("np.where(np.isnan(x), 0.0, x) * nan_median_weights(x, 1)", x=with_nans(M))],
    runtime.size_one_refused: [case("x * 2.0 if size_one_refused() is not None else x", x=rand(M))],
    runtime.not_a_dict: [case("x * len(not_a_dict([1.0, 2.0], 'f.py:1'))", x=rand(M))],
    runtime.same_items: [case("x * 2.0 if same_items((np, x), (np, x), 'f.py:1') is None else x", x=rand(M))],
})  # fmt: skip

CASES.update({
    np.convolve: [
        case("np.convolve(x, y)", x=rand((5,)), y=rand((3,))),
        case("np.convolve(x, y)", x=rand((2,)), y=rand((5,))),
        case("np.convolve(x, y, 'same')", x=rand((5,)), y=rand((3,))),
        case("np.convolve(x, y, mode='same')", x=rand((2,)), y=rand((5,))),
        case("np.convolve(x, y, mode='same')", x=rand((4,)), y=rand((4,))),
        case("np.convolve(x, y, 'valid')", x=rand((6,)), y=rand((2,))),
        case("np.convolve(x, y, mode='valid')", x=rand((3,)), y=rand((5,))),
        case("np.convolve(x, 2.0)", x=rand((3,))),
        case("np.convolve(x, y, 'same')", x=rand(), y=rand((3,))),
    ],
    np.correlate: [
        case("np.correlate(x, y)", x=rand((5,)), y=rand((3,))),
        case("np.correlate(x, y)", x=rand((2,)), y=rand((5,))),
        case("np.correlate(x, y, 'full')", x=rand((5,)), y=rand((3,))),
        case("np.correlate(x, y, mode='full')", x=rand((2,)), y=rand((5,))),
        case("np.correlate(x, y, 'same')", x=rand((5,)), y=rand((2,))),
        case("np.correlate(x, y, mode='same')", x=rand((2,)), y=rand((7,))),
        case("np.correlate(x, y, mode='same')", x=rand((3,)), y=rand((6,))),
        case("np.correlate(x, y, mode='same')", x=rand((4,)), y=rand((4,))),
    ],
    np.polyval: [
        case("np.polyval(p, x)", p=rand((3,)), x=rand()),
        case("np.polyval(p, x)", p=rand((4,)), x=rand(V)),
        case("np.polyval(p, x)", p=rand((1,)), x=rand(M)),
        case("np.polyval(p, x)", p=rand((5,)), x=rand(T)),
        case("np.polyval([1.0, -2.0, 0.5], x)", x=rand(M)),
    ],
    np.interp: [
        case("np.interp(x, k, f)", x=rand((7,), -1.5, 1.5), k=np.array([-1.0, -0.2, 0.3, 1.0]), f=rand((4,)), wrt=("x", "f")),
        case("np.interp(x, k, f)", x=rand(M, -1.5, 1.5), k=np.array([-1.0, -0.2, 0.3, 1.0]), f=rand((4,)), wrt=("x", "f")),
        case("np.interp(x, k, f)", x=rand(), k=np.array([-1.0, 1.0]), f=rand((2,)), wrt=("x", "f")),
        case("np.interp(x, k, f, y, z)", x=rand((9,), -1.5, 1.5), k=np.array([-1.0, -0.2, 0.3, 1.0]), f=rand((4,)), y=rand(), z=rand(), wrt=("x", "f", "y", "z")),
        case("np.interp(x, k, f, right=z)", x=rand(M, -1.5, 1.5), k=np.array([-1.0, 0.0, 1.0]), f=rand((3,)), z=rand(), wrt=("f", "z")),
        case("np.interp(x, [0.0, 0.5, 1.0], [1.0, 2.0, 0.0])", x=rand(V, 0.0, 1.0)),
        case("np.interp(x, k, f)", x=rand(V), k=np.array([0.0]), f=rand((1,)), wrt=("x", "f")),
    ],
    runtime.convolve_vjp_a: [case("convolve_vjp_a(v, a, w, 'same')", v=rand((5,)), a=shape((5,)), w=rand((3,))), case("convolve_vjp_a(v, a, w)", v=rand((6,)), a=shape((2,)), w=rand((5,)))],
    runtime.convolve_vjp_v: [case("convolve_vjp_v(v, a, w, 'valid')", v=rand((4,)), a=rand((5,)), w=shape((2,))), case("convolve_vjp_v(v, a, w)", v=rand((6,)), a=rand((2,)), w=shape((5,)))],
    runtime.correlate_vjp_a: [case("correlate_vjp_a(v, a, w, 'same')", v=rand((7,)), a=shape((2,)), w=rand((7,))), case("correlate_vjp_a(v, a, w)", v=rand((3,)), a=shape((5,)), w=rand((3,)))],
    runtime.correlate_vjp_v: [case("correlate_vjp_v(v, a, w, 'full')", v=rand((6,)), a=rand((2,)), w=shape((5,))), case("correlate_vjp_v(v, a, w)", v=rand((3,)), a=rand((5,)), w=shape((3,)))],
    runtime.polyval_vjp_p: [case("polyval_vjp_p(v, p, x)", v=rand(M), p=shape((4,)), x=rand(M)), case("polyval_vjp_p(v, p, x)", v=rand(), p=shape((3,)), x=rand()), case("polyval_vjp_p(v, p, x)", v=rand(V), p=shape((1,)), x=rand(V))],
    runtime.interp_vjp_fp: [case("interp_vjp_fp(v, x, k)", v=rand((7,)), x=rand((7,), -1.5, 1.5), k=np.array([-1.0, -0.2, 0.3, 1.0]), wrt=("v",)), case("interp_vjp_fp(v, x, k, 0.0, 1.0)", v=rand(M), x=rand(M, -1.5, 1.5), k=np.array([-1.0, 0.3, 1.0]), wrt=("v",))],
    runtime.interp_jvp_fp: [case("interp_jvp_fp(u, x, k)", u=rand((4,)), x=rand((7,), -1.5, 1.5), k=np.array([-1.0, -0.2, 0.3, 1.0]), wrt=("u",)), case("interp_jvp_fp(u, x, k, 0.0, 1.0)", u=rand((3,)), x=rand(M, -1.5, 1.5), k=np.array([-1.0, 0.3, 1.0]), wrt=("u",))],
})  # fmt: skip

NONDIFF_CASES.update({
    runtime.interp_segment: [case("x * interp_segment(x, [-1.0, 0.0, 1.0])", x=away(M))],
    runtime.interp_inside: [case("x * interp_inside(x, [-0.5, 0.5])", x=away(M))],
    runtime.interp_below: [case("x * interp_below(x, [-0.5, 0.5])", x=away(M))],
    runtime.interp_above: [case("x * interp_above(x, [-0.5, 0.5])", x=away(M))],
})  # fmt: skip

CASES.update({
    np.linalg.eigvalsh: [
        case("np.linalg.eigvalsh(x)", x=symmetric((3, 3))),
        case("np.linalg.eigvalsh(x, 'U') ** 2", x=symmetric((4, 4))),
        case("np.linalg.eigvalsh(x)", x=rand((3, 3))),  # reads the lower triangle only
        case("np.linalg.eigvalsh(x, UPLO='U')", x=rand((3, 3))),
        case("np.linalg.eigvalsh(x) ** 3", x=symmetric((2, 3, 3))),
    ],
    np.meshgrid: [
        case("np.meshgrid(x, y)[0] * np.meshgrid(x, y)[1]", x=rand((3,)), y=rand((4,))),
        case("np.stack(np.meshgrid(x, y, indexing='ij'))", x=rand((3,)), y=rand((2, 2))),
        case("np.meshgrid(x, y, z)[2] + np.meshgrid(x, y, z)[0] ** 2", x=rand((2,)), y=rand((3,)), z=rand((4,))),
        case("np.meshgrid(x, y, sparse=True)[1] * np.meshgrid(x, y, sparse=True)[0]", x=rand((3,)), y=rand((4,))),
        case("np.meshgrid(x)[0]", x=rand(V)),
        case("np.meshgrid(x, y)[0]", x=rand(V), y=rand()),
    ],
    np.broadcast_arrays: [
        case("np.broadcast_arrays(x, y)[0] * np.broadcast_arrays(x, y)[1]", x=rand(M), y=rand((4,))),
        case("np.stack(np.broadcast_arrays(x, y, z))", x=rand((3, 1)), y=rand((1, 4)), z=rand()),
        case("np.broadcast_arrays(x, y)[1]", x=rand(M), y=rand((3, 1))),
        case("np.broadcast_arrays(x)[0]", x=rand(V)),
    ],
    runtime.meshgrid_vjp: [case("np.stack(meshgrid_vjp([v, w], [a, b]))", v=rand((3, 3)), w=rand((3, 3)), a=shape((3,)), b=shape((3,))), case("meshgrid_vjp([v, w], [a, b], True, 'ij')[1]", v=rand((2, 1)), w=rand((1, 4)), a=shape((2,)), b=shape((4,)))],
    runtime.meshgrid_jvp: [case("np.stack(meshgrid_jvp([x, y]))", x=rand((3,)), y=rand((4,))), case("meshgrid_jvp([x, y], True, 'ij')[1]", x=rand((3,)), y=rand((4,)))],
    runtime.broadcast_arrays_vjp: [case("broadcast_arrays_vjp([v, w], [a, b])[1]", v=rand(M), w=rand(M), a=shape(M), b=shape((4,)))],
    runtime.broadcast_arrays_jvp: [case("np.stack(broadcast_arrays_jvp([x, y]))", x=rand(M), y=rand((3, 1)))],
})  # fmt: skip

# -- numpy's long tail (issue 15): srcgrad/rules/longtail.py, its helpers in srcgrad/runtime/ --

srcgrad.rules.load_on_demand()  # (registered at the first lookup)


def general(shape: tuple) -> np.ndarray:
    """Square matrices with well-separated real eigenvalues."""
    return 0.3 * rand(shape) + np.diag(np.arange(shape[-1]) * 1.5)


def rotation(shape: tuple) -> np.ndarray:
    """Square matrices with a pair of complex eigenvalues (complex eigenvectors)."""
    x = 0.3 * rand(shape)
    x[..., 0, 1] += 2.0
    x[..., 1, 0] -= 2.0
    x[..., 2, 2] += 3.0
    return x


PIECES = np.array([-1.0, 0.2, 0.7, -0.3, 0.9, 0.4])  # two below 0, two above 0.5
CASES[runtime.prod_others_jvp] += [
    case("prod_others_jvp(x, u)", x=away(M), u=rand(M)),
    case("prod_others_jvp(x, u, 1)", x=with_zero(M), u=rand(M)),
]
CASES.update({
    np.linalg.eig: [
        case("np.abs(np.linalg.eig(x)[0])", x=general((3, 3))),
        case("np.abs(np.linalg.eig(x).eigenvectors) ** 2", x=general((3, 3))),
        # (np.real: numpy 2.5 returns complex eigenvalues and vectors for every real matrix)
        case("np.real(np.linalg.eig(x)[1] ** 2 * np.linalg.eig(x)[0][..., None, :])", x=general((2, 3, 3))),
        case("np.abs(np.linalg.eig(x)[0]) + np.real(np.linalg.eig(x)[0])", x=rotation((3, 3))),
        case("np.real(np.linalg.eig(x)[1]) + np.imag(np.linalg.eig(x)[1]) ** 2", x=rotation((3, 3))),  # the phase too
    ],
    np.linalg.eigvals: [
        case("np.real(np.linalg.eigvals(x))", x=general((3, 3))),
        case("np.imag(np.linalg.eigvals(x)) + np.abs(np.linalg.eigvals(x))", x=rotation((3, 3))),
        case("np.real(np.linalg.eigvals(x))", x=general((2, 3, 3))),
    ],
    np.linalg.lstsq: [
        case("np.linalg.lstsq(x, y, rcond=None)[0]", x=rand((5, 3)), y=rand((5,))),
        case("np.linalg.lstsq(x, y)[0]", x=rand((5, 3)), y=rand((5, 2))),
        case("np.linalg.lstsq(x, y)[1] + np.linalg.lstsq(x, y)[3][0]", x=rand((5, 3)), y=rand((5, 2))),
        case("np.linalg.lstsq(x, y)[1] * np.linalg.lstsq(x, y)[2]", x=rand((4, 2)), y=rand((4,))),
        case("np.linalg.lstsq(x, y)[0]", x=rand((2, 4)), y=rand((2,))),  # minimum norm
        case("np.linalg.lstsq(x, y)[0]", x=full_rank((3, 3)), y=rand((3, 2)), wrt=("y",)),
    ],
    np.quantile: [
        case("np.quantile(x, 0.3)", x=distinct((7,))),
        case("np.quantile(x, q)", x=distinct((7,)), q=np.array([0.1, 0.55, 0.9])),
        case("np.quantile(x, q, axis=1, keepdims=True)", x=distinct(M), q=np.array([0.25, 0.8])),
        case("np.quantile(x, q, axis=(0, 2))", x=distinct(T), q=0.35),
        case("np.quantile(x, [0.2, 0.7], 0, method='lower')", x=distinct(M)),
        case("np.quantile(x, 0.45, method='midpoint') + np.quantile(x, 0.6, method='nearest')", x=distinct((6,))),
    ],
    np.percentile: [
        case("np.percentile(x, q)", x=distinct((5,)), q=37.0),
        case("np.percentile(x, q, axis=0)", x=distinct(M), q=np.array([[10.0], [80.0]])),
        case("np.percentile(x, [30.0, 90.0], axis=-1, method='higher')", x=distinct(T)),
    ],
    np.nanquantile: [
        case("np.nanquantile(x, q)", x=np.where(np.isnan(with_nans(M)), np.nan, distinct(M)), q=0.3),
        case("np.nanquantile(x, q, axis=1)", x=np.where(np.isnan(with_nans((3, 5))), np.nan, distinct((3, 5))), q=np.array([0.2, 0.7])),
    ],
    np.nanpercentile: [
        case("np.nanpercentile(x, q, axis=0, keepdims=True)", x=np.where(np.isnan(with_nans((5, 4))), np.nan, distinct((5, 4))), q=62.0),
        case("np.nanpercentile(x, q)", x=distinct(V), q=np.array([20.0, 70.0])),
    ],
    np.logspace: [
        case("np.logspace(a, b, 5)", a=rand(), b=rand()),
        case("np.logspace(a, 1.0, 4, endpoint=False, base=c)", a=rand(), c=rand((), 1.5, 3.0)),
        case("np.logspace(0.5, b, 3, base=2.0)", b=rand()),
    ],
    np.geomspace: [
        case("np.geomspace(a, b, 5)", a=rand((), 0.5, 2.0), b=rand((), 2.0, 5.0)),
        case("np.geomspace(a, b, 4, endpoint=False)", a=rand((), -2.0, -0.5), b=rand((), -5.0, -2.0)),
    ],
    np.unique: [
        case("np.unique(x)", x=distinct(M)),
        case("np.unique(x, axis=0)", x=distinct(M)),
        case("np.unique(x, return_counts=False, axis=1)", x=distinct(M)),
    ],
    np.histogram: [case("x * np.histogram(c, bins=4)[0]", x=rand((4,)), c=rand((9,)), wrt=("x",))],
    runtime.piecewise_join: [
        case("piecewise_join(c, [c < 0.0, c > 0.5], [y, z])", c=PIECES, y=rand((2,)), z=rand((2,)), wrt=("y", "z")),
        case("piecewise_join(c, [c < 0.5, c > 0.0], [y, z])", c=PIECES, y=rand(), z=rand((4,)), wrt=("y", "z")),
    ],
    runtime.piecewise_value: [case("piecewise_value(x)", x=rand()), case("piecewise_value(x)", x=rand(V))],
    runtime.along_rows: [case("along_rows(x, 1)", x=rand(M)), case("along_rows(x, 0)", x=rand(T))],
    runtime.join_rows: [
        case("join_rows([x, y, z], a, 1)", x=rand(), y=rand(), z=rand(), a=shape(M)),
        case("join_rows([x, y], a, 0)", x=rand((3,)), y=rand((3,)), a=shape((4, 2))),
    ],
    runtime.quantile_vjp: [case("quantile_vjp(v, a, q, 1)", v=rand((2, 3)), a=distinct(M), q=np.array([0.3, 0.7]), wrt=("v",))],
    runtime.quantile_jvp: [case("quantile_jvp(u, w, a, q, 1)", u=rand(M), w=shape((2, 3)), a=distinct(M), q=np.array([0.3, 0.7]), wrt=("u",))],
    runtime.quantile_vjp_q: [case("quantile_vjp_q(v, a, q, 1)", v=rand((2, 3)), a=distinct(M), q=np.array([0.3, 0.7]), wrt=("v", "q"))],
    runtime.quantile_jvp_q: [case("quantile_jvp_q(u, w, a, q, 0)", u=rand((2,)), w=shape((2, 4)), a=distinct(M), q=np.array([0.3, 0.7]), wrt=("u", "q"))],
    runtime.unique_vjp: [case("unique_vjp(v, a)", v=rand((3,)), a=np.array([2.0, 1.0, 2.0, 3.0]), wrt=("v",)), case("unique_vjp(v, a, 0)", v=rand((2, 2)), a=np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 2.0]]), wrt=("v",))],
    runtime.unique_jvp: [case("unique_jvp(u, a)", u=rand((4,)), a=np.array([2.0, 1.0, 2.0, 3.0]), wrt=("u",)), case("unique_jvp(u, a, 1)", u=rand((2, 3)), a=np.array([[1.0, 2.0, 1.0], [0.0, 1.0, 0.0]]), wrt=("u",))],
    runtime.piecewise_vjp: [case("piecewise_vjp(v, c, [c < 0.0, c > 0.5], [1.0, c[:2]])[1] + piecewise_vjp(v, c, [c < 0.0, c > 0.5], [1.0, c[:2]])[0]", v=rand((6,)), c=PIECES, wrt=("v",))],
    runtime.unrows: [case("unrows(v, a, 1)", v=rand((3, 4)), a=shape(M)), case("unrows(v, a, 0)", v=rand((12, 2)), a=shape(T))],
    runtime.unjoin_rows: [case("np.stack(unjoin_rows(v, [1.0, 2.0, 3.0], a, 1))", v=rand((3,)), a=shape(M)), case("unjoin_rows(v, [c, c], a, 0)[1]", v=rand((3, 2)), c=shape((3,)), a=shape((4, 2)))],
    runtime.prod_others_jvp2: [
        case("prod_others_jvp2(x, u, s)", x=away(M), u=rand(M), s=rand(M), wrt=("u", "s")),
        case("prod_others_jvp2(x, u, s, 1)", x=with_zero(M), u=rand(M), s=rand(M), wrt=("u", "s")),
        case("prod_others_jvp2(x, u, s, (0, 2))", x=away(T), u=rand(T), s=rand(T), wrt=("u", "s")),
    ],
})  # fmt: skip
NONDIFF_CASES.update({
    runtime.logspace_exponents: [case("x * logspace_exponents(0.0, 1.0, 4)", x=rand((4,)))],
    runtime.geomspace_weights: [case("x * geomspace_weights(1.0, 2.0, 4)", x=rand((4,)))],
    runtime.piecewise_mask: [case("x * piecewise_mask(x > 0.0)", x=away(M))],
    runtime.piecewise_otherwise: [case("x * piecewise_otherwise(x, [x > 0.5, x < -0.5])", x=away(M))],
})  # fmt: skip

# -- scipy.special and scipy.stats.norm: their rules are registered once scipy is imported ----

SCIPY = importlib.util.find_spec("scipy") is not None
# scipy.linalg takes stacks of matrices from scipy 1.16 (1.15, the last for Python 3.10, does not)
SCIPY_STACKS = SCIPY and tuple(int(p) for p in importlib.metadata.version("scipy").split(".")[:2]) >= (1, 16)
if SCIPY:
    import scipy.special
    import scipy.stats

    srcgrad.rules.load_on_demand()
    sp, norm = scipy.special, scipy.stats.norm
    locs = dict(loc=rand(V), scale=rand(V, 0.5, 2.0))

    def in_second(expr: str) -> list[Case]:
        """``expr`` of ``x`` and ``y``, differentiated in ``y`` only (an order, a shape parameter)."""
        return [case(expr, x=positive(sx), y=positive(sy), wrt=("y",)) for sx, sy in PAIRS]

    # broadcast against x of shape (3, 4)
    CASES.update({
        sp.gammaln: [*unary("scipy.special.gammaln(x)", lo=0.2, hi=4.0), case("scipy.special.gammaln(x)", x=rand(V, -0.9, -0.1))],
        sp.gamma: unary("scipy.special.gamma(x)", lo=0.2, hi=3.0),
        sp.digamma: [*unary("scipy.special.digamma(x)", lo=0.2, hi=4.0), case("scipy.special.psi(x)", x=rand(V, 0.5, 2.0))],
        sp.polygamma: [case("scipy.special.polygamma(n, x)", x=rand(M, 0.5, 3.0), n=1), case("scipy.special.polygamma(2, x)", x=rand(S, 0.5, 3.0)), case("scipy.special.polygamma(0, x)", x=rand(V, 0.5, 3.0)), case("scipy.special.polygamma(np.array([0, 1, 2]), x)", x=rand((2, 3), 0.5, 3.0)), case("scipy.special.polygamma(n, x)", x=rand(S, 0.5, 3.0), n=np.array([1.0, 2.0]), wrt=("x",))],
        sp.betaln: binary("scipy.special.betaln(x, y)", x=positive, y=positive),
        sp.erf: unary("scipy.special.erf(x)", lo=-2.0, hi=2.0),
        sp.erfc: unary("scipy.special.erfc(x)", lo=-2.0, hi=2.0),
        sp.erfcx: unary("scipy.special.erfcx(x)", lo=-2.0, hi=2.0),
        sp.erfinv: unary("scipy.special.erfinv(x)", lo=-0.9, hi=0.9),
        sp.erfcinv: unary("scipy.special.erfcinv(x)", lo=0.1, hi=1.9),
        sp.ndtr: unary("scipy.special.ndtr(x)", lo=-3.0, hi=3.0),
        sp.log_ndtr: [*unary("scipy.special.log_ndtr(x)", lo=-3.0, hi=3.0), case("scipy.special.log_ndtr(x)", x=rand(V, -30.0, -20.0))],
        sp.ndtri: unary("scipy.special.ndtri(x)", lo=0.05, hi=0.95),
        sp.expit: unary("scipy.special.expit(x)", lo=-4.0, hi=4.0),
        sp.log_expit: [*unary("scipy.special.log_expit(x)", lo=-4.0, hi=4.0), case("scipy.special.log_expit(x)", x=rand(V, -40.0, -30.0))],
        sp.logit: unary("scipy.special.logit(x)", lo=0.05, hi=0.95),
        sp.xlogy: [*binary("scipy.special.xlogy(x, y)", y=positive), case("scipy.special.xlogy(0.0, x)", x=positive(V))],
        sp.xlog1py: binary("scipy.special.xlog1py(x, y)", y=positive),
        sp.logsumexp: [
            *[case("scipy.special.logsumexp(x)", x=rand(s)) for s in (V, M, T)],
            case("scipy.special.logsumexp(x, axis=1)", x=rand(M)),
            case("scipy.special.logsumexp(x, 0, keepdims=True)", x=rand(M)),
            case("scipy.special.logsumexp(x, axis=(0, 2))", x=rand(T)),
            case("scipy.special.logsumexp(x, axis=-1, b=y)", x=rand(M), y=positive(M)),
            case("scipy.special.logsumexp(x, 1, y, True)", x=rand(M), y=positive((4,))),
            case("scipy.special.logsumexp(x, b=y)", x=rand(V), y=positive(V), wrt=("x",)),
        ],
        sp.softmax: [case("scipy.special.softmax(x)", x=rand(V)), case("scipy.special.softmax(x, axis=1)", x=rand(M)), case("scipy.special.softmax(x, axis=None)", x=rand(M)), case("scipy.special.softmax(x, 0)", x=rand(T))],
        sp.log_softmax: [case("scipy.special.log_softmax(x)", x=rand(V)), case("scipy.special.log_softmax(x, axis=1)", x=rand(M)), case("scipy.special.log_softmax(x, axis=(0, 1))", x=rand(T))],
        sp.rgamma: unary("scipy.special.rgamma(x)", lo=0.2, hi=3.0),
        sp.beta: binary("scipy.special.beta(x, y)", x=positive, y=positive),
        sp.multigammaln: [case("scipy.special.multigammaln(x, 3)", x=rand(s, 1.5, 3.0)) for s in (S, V, M)],
        sp.gammainc: [*in_second("scipy.special.gammainc(x, y)"), case("scipy.special.gammainc(2.5, x)", x=positive(V))],
        sp.gammaincc: [*in_second("scipy.special.gammaincc(x, y)"), case("scipy.special.gammaincc(0.7, x)", x=positive(M))],
        sp.j0: unary("scipy.special.j0(x)", lo=0.5, hi=5.0),
        sp.j1: unary("scipy.special.j1(x)", lo=0.5, hi=5.0),
        sp.y0: unary("scipy.special.y0(x)", lo=0.5, hi=5.0),
        sp.y1: unary("scipy.special.y1(x)", lo=0.5, hi=5.0),
        sp.jv: [*in_second("scipy.special.jv(x, y)"), case("scipy.special.jn(2, x)", x=rand(M, 0.5, 5.0)), case("scipy.special.jv(1.5, x)", x=rand(S, 0.5, 5.0))],
        sp.yn: [case("scipy.special.yn(2, x)", x=rand(s, 0.5, 5.0)) for s in (S, V, M)] + [case("scipy.special.yn(np.array([0, 1, 3]), x)", x=rand((2, 3), 0.5, 5.0)), case("scipy.special.yn(n, x)", x=rand(M, 0.5, 5.0), n=np.array([1, 2, 3, 4])), case("scipy.special.yn(n, x)", x=rand((3, 1), 0.5, 5.0), n=np.array([1.0, 2.0, 3.0, 4.0]), wrt=("x",))],
        sp.i0: unary("scipy.special.i0(x)", lo=-3.0, hi=3.0),
        sp.i1: unary("scipy.special.i1(x)", lo=-3.0, hi=3.0),
        sp.iv: [*in_second("scipy.special.iv(x, y)"), case("scipy.special.iv(2, x)", x=rand(M, -3.0, 3.0))],
        sp.ive: [*in_second("scipy.special.ive(x, y)"), case("scipy.special.ive(1, x)", x=away(M, 0.3, 3.0)), case("scipy.special.ive(1.5, x)", x=rand(V, 0.3, 3.0))],
        sp.entr: unary("scipy.special.entr(x)", lo=0.1, hi=2.0),
        norm.pdf: [*unary("scipy.stats.norm.pdf(x)", lo=-2.0, hi=2.0), case("scipy.stats.norm.pdf(x, loc, scale)", x=rand(M), **locs), case("scipy.stats.norm.pdf(x, scale=scale)", x=rand(S), scale=rand(S, 0.5, 2.0))],
        norm.logpdf: [*unary("scipy.stats.norm.logpdf(x)", lo=-2.0, hi=2.0), case("scipy.stats.norm.logpdf(x, loc, scale)", x=rand(M), **locs), case("scipy.stats.norm.logpdf(x, loc=loc)", x=rand(S), loc=rand(S))],
        norm.cdf: [*unary("scipy.stats.norm.cdf(x)", lo=-2.0, hi=2.0), case("scipy.stats.norm.cdf(x, loc, scale)", x=rand(M), **locs)],
        norm.logcdf: [*unary("scipy.stats.norm.logcdf(x)", lo=-2.0, hi=2.0), case("scipy.stats.norm.logcdf(x, loc, scale)", x=rand(M), **locs), case("scipy.stats.norm.logcdf(x)", x=rand(V, -30.0, -20.0))],
    })  # fmt: skip

    # scipy.stats' continuous distributions: every method, in x, loc and scale (and the shape
    # parameters for logpdf and pdf), on scalars, vectors, matrices and broadcasting shapes.
    DISTRIBUTIONS = {  # name: (x's range, loc's range, {shape parameter: range})
        "norm": ((-2.0, 2.0), (-0.5, 0.5), {}),
        "t": ((-2.0, 2.0), (-0.5, 0.5), {"df": (1.5, 6.0)}),
        "gamma": ((1.0, 3.0), (0.0, 0.4), {"a": (0.8, 3.0)}),
        "beta": ((0.3, 0.6), (0.0, 0.1), {"a": (0.8, 3.0), "b": (0.8, 3.0)}),
        "chi2": ((1.0, 3.0), (0.0, 0.4), {"df": (1.5, 6.0)}),
    }
    for dist, ((xlo, xhi), (llo, lhi), shapes) in DISTRIBUTIONS.items():
        for method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
            call = f"scipy.stats.{dist}.{method}(x, {''.join(p + ', ' for p in shapes)}loc, scale)"
            in_shape = tuple(shapes) if method in ("logpdf", "pdf") else ()
            CASES.setdefault(getattr(getattr(scipy.stats, dist), method), []).extend(
                [case(call, x=rand(s, xlo, xhi), loc=rand(S, llo, lhi), scale=rand(S, 0.9, 1.3), **{p: rand(S, *r) for p, r in shapes.items()}, wrt=("x", *in_shape)) for s in (S, V, M)]
                + [case(call, x=rand(M, xlo, xhi), loc=rand(V, llo, lhi), scale=rand(V, 0.9, 1.3), **{p: rand(V, *r) for p, r in shapes.items()}, wrt=("x", "loc", "scale", *in_shape))]
            )  # fmt: skip
    poisson, mvn, dirichlet = scipy.stats.poisson, scipy.stats.multivariate_normal, scipy.stats.dirichlet
    counts = np.array([[0.0, 1.0, 3.0, 2.0], [5.0, 1.0, 0.0, 7.0], [2.0, 2.0, 4.0, 1.0]])
    for fn in (poisson.logpmf, poisson.pmf, poisson.cdf, poisson.sf):
        CASES[fn] = [case(f"scipy.stats.poisson.{fn.__name__}(k, x)", k=3.0, x=rand(S, 0.5, 4.0), wrt=("x",)), case(f"scipy.stats.poisson.{fn.__name__}(k, x)", k=counts[0], x=rand(V, 0.5, 4.0), wrt=("x",)), case(f"scipy.stats.poisson.{fn.__name__}(k, x, 1)", k=counts + 1.0, x=rand((3, 1), 0.5, 4.0), wrt=("x",)), case(f"scipy.stats.poisson.{fn.__name__}(k, x)", k=counts, x=rand(M, 0.5, 4.0), wrt=("x",))]  # fmt: skip
    # cov enters symmetrized: scipy reads one triangle of it, the rule's adjoint is symmetric
    spd = wellconditioned((3, 3))
    for fn in (mvn.logpdf, mvn.pdf):
        call = f"scipy.stats.multivariate_normal.{fn.__name__}"
        CASES[fn] = [case(f"{call}(x, m, (c + c.T) / 2.0)", x=rand(s), m=rand((3,)), c=spd) for s in ((3,), (4, 3), (1, 3))] + [case(f"{call}(x, cov=(c + c.T) / 2.0)", x=rand((2, 3)), c=spd), case(f"{call}(x, m, np.eye(3))", x=rand((4, 3)), m=rand((3,)))]  # fmt: skip
    simplex = RNG.dirichlet([2.0, 3.0, 4.0], 5).T
    for fn in (dirichlet.logpdf, dirichlet.pdf):
        call = f"scipy.stats.dirichlet.{fn.__name__}"
        CASES[fn] = [case(f"{call}(x / np.sum(x), a)", x=simplex[:, 0], a=rand((3,), 0.8, 3.0)), case(f"{call}(x, a)", x=simplex, a=rand((3,), 0.8, 3.0), wrt=("a",)), case(f"{call}(x / np.sum(x, axis=0), a)", x=simplex, a=rand((3,), 0.8, 3.0))]  # fmt: skip
    import scipy.integrate
    import scipy.linalg
    import scipy.signal

    from srcgrad.runtime import scipy_helpers

    srcgrad.rules.load_on_demand()
    la, conv = scipy.linalg, "scipy.signal.convolve"
    CASES.update({
        la.solve_triangular: [case("scipy.linalg.solve_triangular(a, b)", a=wellconditioned((3, 3)), b=rand((3, 2))), case("scipy.linalg.solve_triangular(a, b, lower=True)", a=wellconditioned((3, 3)), b=rand((3,))), case("scipy.linalg.solve_triangular(a, b, trans='T', lower=True, unit_diagonal=True)", a=wellconditioned((3, 3)), b=rand((3, 2))), case("scipy.linalg.solve_triangular(a, b, 2)", a=wellconditioned((3, 3)), b=rand((3,)))],
        la.cho_factor: [case("scipy.linalg.cho_factor(a @ a.T)[0]", a=wellconditioned((3, 3))), case("np.tril(scipy.linalg.cho_factor(a @ a.T, lower=True)[0])", a=wellconditioned((3, 3)))],
        la.cho_solve: [case("scipy.linalg.cho_solve(scipy.linalg.cho_factor(a @ a.T), b)", a=wellconditioned((3, 3)), b=rand((3, 2))), case("scipy.linalg.cho_solve((np.tril(a), True), b)", a=wellconditioned((3, 3)), b=rand((3,)))],
        la.solve_sylvester: [case("scipy.linalg.solve_sylvester(a, b, q)", a=wellconditioned((3, 3)), b=wellconditioned((2, 2)), q=rand((3, 2))), *[case("scipy.linalg.solve_sylvester(a, b, q)", a=wellconditioned((2, 3, 3)), b=wellconditioned((2, 2, 2)), q=rand((2, 3, 2)))] * SCIPY_STACKS],
        la.sqrtm: [case("scipy.linalg.sqrtm(a @ a.T)", a=wellconditioned((3, 3))), *[case("scipy.linalg.sqrtm(a @ np.swapaxes(a, -1, -2))", a=wellconditioned((2, 3, 3)))] * SCIPY_STACKS],
        la.expm: [case("scipy.linalg.expm(a)", a=rand((3, 3))), case("scipy.linalg.expm(a)", a=rand((2, 3, 3))), case("scipy.linalg.expm(a)", a=rand((1, 1)))],
        scipy.signal.convolve: [case(f"{conv}(x, y)", x=rand((5,)), y=rand((3,))), case(f"{conv}(x, y, 'valid')", x=rand((3,)), y=rand((5,))), case(f"{conv}(x, y, mode='same')", x=rand((3, 4)), y=rand((2, 3))), case(f"{conv}(x, y, 'same')", x=rand((2, 2)), y=rand((3, 4))), case(f"{conv}(x, y, 'valid')", x=rand((4, 5)), y=rand((2, 3)))],
        scipy_helpers.convolve_full: [case("convolve_full(v, a, b, 'same')", v=rand((3, 4)), a=shape((3, 4)), b=shape((2, 3))), case("convolve_full(v, a, b, 'valid')", v=rand((3,)), a=shape((3,)), b=shape((5,)))],
        scipy_helpers.convolve_crop: [case("convolve_crop(v, a, b, 'same')", v=rand((4, 6)), a=shape((3, 4)), b=shape((2, 3))), case("convolve_crop(v, a, b)", v=rand((7,)), a=shape((3,)), b=shape((5,)))],
        scipy.integrate.odeint: [case("scipy.integrate.odeint(decay, y, ts, args=(k,), rtol=1e-11, atol=1e-11)", y=rand((2,), 0.5, 1.0), ts=np.array([0.0, 0.3, 0.7]), k=0.8), case("scipy.integrate.odeint(decay_tfirst, y, ts, (k,), tfirst=True, rtol=1e-11, atol=1e-11)", y=rand((2,), 0.5, 1.0), ts=np.array([0.1, 0.5]), k=0.8)],
    })  # fmt: skip
    NAMESPACE_SCIPY = {
        n: getattr(scipy_helpers, n) for n in ("convolve_full", "convolve_crop", "odeint_vjp", "odeint_jvp")
    }

    def decay(y, t, k):
        return -k * y + np.sin(t) * y[::-1]

    def decay_tfirst(t, y, k):
        return decay(y, t, k)

    # odeint's helpers: linear in the adjoint (tangent) they are given, the solution held fixed
    y0, ts = np.array([0.7, 0.9]), np.array([0.0, 0.3, 0.7])
    held = dict(ys=scipy.integrate.odeint(decay, y0, ts, args=(0.8,), rtol=1e-11, atol=1e-11), y0=y0, ts=ts)
    ODE, OPTIONS = "ys, decay, y0, ts, (0.8,)", "0, 1e-11, 1e-11"  # the solution, the ODE; its options
    CASES.update({
        scipy_helpers.odeint_vjp: [case(f"odeint_vjp(v, {ODE}, {OPTIONS})[{i}]", v=rand((3, 2)), **held, wrt=("v",)) for i in ("0", "1", "2][0")],
        scipy_helpers.odeint_jvp: [case(f"odeint_jvp({ODE}, u, w, (k,), {OPTIONS})", u=rand((2,)), w=rand((3,)), k=rand(), **held, wrt=("u", "w", "k"))],
    })  # fmt: skip

# autograd.misc.flatten, for programs written for autograd (registered once autograd is imported).
import autograd.misc  # noqa: E402

from srcgrad.rules.autograd import unflatten_like, zeros_filled  # noqa: E402

CASES.update({
    autograd.misc.flatten: [case("autograd.misc.flatten((x, [y, {'a': x}]))[0] * 2.0", x=rand(M), y=rand(V))],
    unflatten_like: [case("unflatten_like((np.zeros(3), [np.zeros((2, 2))]), x)[1][0] * 3.0", x=rand((7,)))],
    zeros_filled: [case("zeros_filled([x, (y, 0.0)], [x, (y, x)])[1][0] * 2.0", x=rand(M), y=rand(V))],
})  # fmt: skip

# -- running a case ------------------------------------------------------------------------

HELPERS = sorted(n for n in runtime.HELPERS if callable(getattr(runtime, n)))
HEADER = f"import math\nimport operator\n\nimport numpy as np\n\nfrom srcgrad.runtime import {', '.join(HELPERS)}\n"
NAMESPACE = {"np": np, "math": math, "operator": operator, **{n: getattr(runtime, n) for n in HELPERS}}
HEADER += "from srcgrad import stop_gradient\n" + ("import scipy.special\nimport scipy.stats\n" * SCIPY)
NAMESPACE.update(stop_gradient=srcgrad.stop_gradient, **({"scipy": scipy} if SCIPY else {}))
HEADER += "import autograd.misc\nfrom srcgrad.rules.autograd import unflatten_like, zeros_filled\n"
NAMESPACE.update(autograd=autograd, unflatten_like=unflatten_like, zeros_filled=zeros_filled)
if SCIPY:  # scipy's helpers, and the ODE that odeint's cases integrate
    HEADER += "import scipy.integrate\nimport scipy.linalg\nimport scipy.signal\n"
    HEADER += f"from srcgrad.runtime.scipy_helpers import {', '.join(NAMESPACE_SCIPY)}\n\n\n"
    HEADER += "def decay(y, t, k):\n    return -k * y + np.sin(t) * y[::-1]\n\n\n"
    HEADER += "def decay_tfirst(t, y, k):\n    return decay(y, t, k)\n"
    NAMESPACE.update(NAMESPACE_SCIPY, decay=decay, decay_tfirst=decay_tfirst)

# -- np.fft: its rules are registered once numpy.fft is imported; its helpers are srcgrad/runtime/fft.py's

srcgrad.rules.load_on_demand()
W2 = "* (1.0 - 2.0j))"  # np.real(y * (1 - 2j)) weighs the real and the imaginary part of y
CASES.update({
    np.fft.fft: [case(f"np.real(np.fft.fft(x) {W2}", x=rand(V)), case(f"np.real(np.fft.fft(x + 1j * y, 6, 0, 'ortho') {W2}", x=rand(M), y=rand(M)), case(f"np.real(np.fft.fft(x, n=3, norm='forward') {W2}", x=rand(M))],
    np.fft.ifft: [case(f"np.real(np.fft.ifft(x) {W2}", x=rand(V)), case(f"np.real(np.fft.ifft(x + 1j * y, 2, 0, 'backward') {W2}", x=rand(M), y=rand(M)), case(f"np.real(np.fft.ifft(x, n=7, norm='ortho') {W2}", x=rand(M))],
    np.fft.fft2: [case(f"np.real(np.fft.fft2(x) {W2}", x=rand(M)), case(f"np.real(np.fft.fft2(x + 1j * y, (2, 5), norm='ortho') {W2}", x=rand(T), y=rand(T))],
    np.fft.ifft2: [case(f"np.real(np.fft.ifft2(x) {W2}", x=rand(M)), case(f"np.real(np.fft.ifft2(x + 1j * y, (4, 3), (0, 2), 'forward') {W2}", x=rand(T), y=rand(T))],
    np.fft.fftn: [case(f"np.real(np.fft.fftn(x) {W2}", x=rand(T)), case(f"np.real(np.fft.fftn(x + 1j * y, (5, 2), (1, 0)) {W2}", x=rand(M), y=rand(M))],
    np.fft.ifftn: [case(f"np.real(np.fft.ifftn(x) {W2}", x=rand(T)), case(f"np.real(np.fft.ifftn(x + 1j * y, (2,), (0,), 'ortho') {W2}", x=rand(M), y=rand(M))],
    np.fft.rfft: [case(f"np.real(np.fft.rfft(x) {W2}", x=rand(V)), case(f"np.real(np.fft.rfft(x, 5, 0, 'ortho') {W2}", x=rand(M))],
    np.fft.irfft: [case("np.fft.irfft(x + 1j * y)", x=rand(V), y=rand(V)), case("np.fft.irfft(x + 1j * y, 7, 0, 'forward')", x=rand(M), y=rand(M))],
    np.fft.rfft2: [case(f"np.real(np.fft.rfft2(x) {W2}", x=rand(M)), case(f"np.real(np.fft.rfft2(x, (2, 5), (2, 1)) {W2}", x=rand(T))],
    np.fft.irfft2: [case("np.fft.irfft2(x + 1j * y)", x=rand(M), y=rand(M)), case("np.fft.irfft2(x + 1j * y, (3, 5), norm='ortho')", x=rand(T), y=rand(T))],
    np.fft.rfftn: [case(f"np.real(np.fft.rfftn(x) {W2}", x=rand(T)), case(f"np.real(np.fft.rfftn(x, (3, 3), (0, 1), 'forward') {W2}", x=rand(M))],
    np.fft.irfftn: [case("np.fft.irfftn(x + 1j * y)", x=rand(T), y=rand(T)), case("np.fft.irfftn(x + 1j * y, (2, 3), (1, 0))", x=rand(M), y=rand(M))],
    np.fft.hfft: [case("np.fft.hfft(x + 1j * y)", x=rand(V), y=rand(V)), case("np.fft.hfft(x + 1j * y, 5, 0, 'ortho')", x=rand(M), y=rand(M))],
    np.fft.ihfft: [case(f"np.real(np.fft.ihfft(x) {W2}", x=rand(V)), case(f"np.real(np.fft.ihfft(x, 3, 0, 'forward') {W2}", x=rand(M))],
    np.fft.fftshift: [case("np.fft.fftshift(x)", x=rand(V)), case("np.fft.fftshift(x, axes=1)", x=rand(T)), case("np.fft.fftshift(x, (0, 1))", x=rand(M))],
    np.fft.ifftshift: [case("np.fft.ifftshift(x)", x=rand((5,))), case("np.fft.ifftshift(x, axes=1)", x=rand(T)), case("np.fft.ifftshift(x, (0, 1))", x=rand(M))],
    np.fft.fftfreq: [case("np.fft.fftfreq(6, d)", d=rand(S, 0.5, 1.5)), case("np.fft.fftfreq(5, d=d) * x", x=rand((5,)), d=rand(S, 0.5, 1.5))],
    np.fft.rfftfreq: [case("np.fft.rfftfreq(6, d)", d=rand(S, 0.5, 1.5)), case("np.fft.rfftfreq(7, d=d) * x", x=rand((4,)), d=rand(S, 0.5, 1.5))],
    runtime.unresize: [case("unresize(x, a)", x=rand(M), a=shape((2, 6))), case("unresize(x, a)", x=rand(V), a=shape((4,)))],
    runtime.rfft_vjp: [case("rfft_vjp(x + 1j * y, a, 8, -1, 'ortho')", x=rand((5,)), y=rand((5,)), a=shape((6,))), case("rfft_vjp(x + 1j * y, a, None, 0)", x=rand((4, 3)), y=rand((4, 3)), a=shape((7, 3)))],
    runtime.irfft_vjp: [case(f"np.real(irfft_vjp(x, a, None, 0) {W2}", x=rand((6, 2)), a=shape((4, 2))), case(f"np.real(irfft_vjp(x, a, 7, -1, 'forward') {W2}", x=rand((7,)), a=shape((3,)))],
    runtime.fftn_vjp: [case(f"np.real(fftn_vjp(x + 1j * y, a, (3, 5), (0, 1)) {W2}", x=rand((3, 5)), y=rand((3, 5)), a=shape((2, 6)))],
    runtime.ifftn_vjp: [case(f"np.real(ifftn_vjp(x + 1j * y, a, None, None, 'ortho') {W2}", x=rand(M), y=rand(M), a=shape(M))],
    runtime.rfftn_vjp: [case("rfftn_vjp(x + 1j * y, a, (4, 6), (0, 1))", x=rand((4, 4)), y=rand((4, 4)), a=shape((3, 5)))],
    runtime.irfftn_vjp: [case(f"np.real(irfftn_vjp(x, a, (4, 6), (0, 1), 'ortho') {W2}", x=rand((4, 6)), a=shape((3, 5)))],
})  # fmt: skip
NONDIFF_CASES[runtime.swap_norm] = [case("x * len(swap_norm('ortho'))", x=rand(V))]


@dataclass
class Built:
    fn: Any  # the scalar-valued function of the case's args and W
    args: list[Any]  # the values to call it with, W last
    out_line: int  # the line of ``out = ...`` in the module


def build(cases: list[Case], directory: Path, module: str) -> list[Built]:
    """Write one module with a function per case, import it, and return the functions."""
    lines, built = HEADER.splitlines(), []
    for i, c in enumerate(cases):
        out = eval(c.expr, NAMESPACE, dict(c.args))
        weights = np.random.default_rng(c.seed).uniform(-1.0, 1.0, np.shape(out))
        weights = float(weights) if np.ndim(out) == 0 else weights
        reduce = "out * W" if np.ndim(out) == 0 else "np.sum(out * W)"
        lines += [
            "",
            "",
            f"def case_{i}({', '.join([*c.args, 'W'])}):",
            f"    out = {c.expr}",
            f"    return {reduce}",
        ]
        built.append(Built(None, [*c.args.values(), weights], len(lines) - 1))
    path = directory / f"{module}.py"
    path.write_text("\n".join(lines) + "\n")
    spec = importlib.util.spec_from_file_location(module, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for i, b in enumerate(built):
        b.fn = getattr(mod, f"case_{i}")
    return built


def numeric_grad(f: Any, args: list[Any], i: int) -> Any:
    """Central differences of scalar ``f`` with respect to its argument ``i``."""

    def at(value: Any) -> float:
        return float(f(*args[:i], value, *args[i + 1 :]))

    x = args[i]
    if np.ndim(x) == 0:
        return (at(x + STEP) - at(x - STEP)) / (2 * STEP)
    out = np.zeros(np.shape(x))
    for index in np.ndindex(*np.shape(x)):
        up, down = np.array(x, dtype=float), np.array(x, dtype=float)
        up[index] += STEP
        down[index] -= STEP
        out[index] = (at(up) - at(down)) / (2 * STEP)
    return out


def check(c: Case, b: Built) -> list[str]:
    """Compare srcgrad with finite differences; return the problems found."""
    names = list(c.args)
    problems = []
    wanted = {w: numeric_grad(b.fn, b.args, names.index(w)) for w in c.wrt}
    calls = [(names.index(w), (w,)) for w in c.wrt]
    if len(c.wrt) > 1:
        calls.append((c.wrt, c.wrt))
    for (wrt, which), mode in itertools.product(calls, ("reverse", "forward")):
        before = [np.copy(a) for a in b.args]
        try:
            got = srcgrad.grad(b.fn, wrt=wrt, mode=mode)(*b.args)
        except Exception as e:  # noqa: BLE001  (report every failure of every case)
            problems.append(f"{c} (wrt={wrt!r}, {mode} mode): {type(e).__name__}: {e}")
            continue
        if any(not np.array_equal(x, y, equal_nan=_is_float(x)) for x, y in zip(before, b.args)):
            problems.append(f"{c} (wrt={wrt!r}, {mode} mode): the generated code modified its arguments")
        got = got if isinstance(wrt, tuple) else (got,)
        for name_, value in zip(which, got):
            expected = wanted[name_]
            if np.shape(value) != np.shape(expected):
                problems.append(
                    f"{c} d_{name_} ({mode} mode): shape {np.shape(value)}, expected {np.shape(expected)}"
                )
            elif not np.allclose(value, expected, rtol=RTOL, atol=ATOL):
                problems.append(
                    f"{c} d_{name_} ({mode} mode):\n  srcgrad {np.round(value, 6)!r}\n"
                    f"  numeric {np.round(expected, 6)!r}"
                )
    return problems


def active_operands(c: Case, b: Built) -> set[tuple[int, str]]:
    """(id(fn), param) for each primitive the ``out = ...`` line applies to an active operand."""
    program = normalize(parse_function(b.fn), list(c.wrt))
    found = set()
    for stmt in program.body:
        if (
            stmt.op is not None
            and stmt.op.rule is not None
            and any(fr.lineno == b.out_line for fr in stmt.origin)
        ):
            found |= {(id(stmt.op.rule.fn), p) for p in stmt.op.active}
    return found


def run(rule: Any, cases: list[Case], directory: Path) -> tuple[list[str], list[Built]]:
    module = "rulecases_" + "".join(ch if ch.isalnum() else "_" for ch in rule.spelling)
    built = build(cases, directory, module)
    problems = [p for c, b in zip(cases, built) for p in check(c, b)]
    return problems, built


# -- the tests -----------------------------------------------------------------------------


def scalar_only(fn: Any) -> bool:
    """``math`` functions, ``float`` and ``max``/``min`` of two numbers take Python scalars only."""
    return fn in (float, max, min) or getattr(fn, "__module__", None) == "math"


DIFFERENTIABLE = [r for r in RULES.values() if not r.nondiff and (r.vjp or r.jvp)]
# Rules with no templates at all exist to refuse, with a hint, to differentiate through a helper.
REFUSING = [r for r in RULES.values() if not r.nondiff and not r.vjp and not r.jvp]
NONDIFFERENTIABLE = [r for r in RULES.values() if r.nondiff]


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rule_cases")


@pytest.mark.parametrize("rule", DIFFERENTIABLE, ids=lambda r: r.spelling)
def test_rule(rule: Any, directory: Path) -> None:
    cases = CASES.get(rule.fn)
    assert cases, f"no finite-difference cases for {rule.spelling}: add them to CASES in {__file__}"
    problems, built = run(rule, cases, directory)
    assert not problems, f"{len(problems)} failure(s) for {rule.spelling}:\n" + "\n".join(problems)

    # Every operand with an adjoint has a tangent too (forward mode), and the other way round ...
    assert set(rule.jvp) == set(rule.vjp), (
        f"{rule.spelling}: adjoints for {sorted(rule.vjp)} but tangents for {sorted(rule.jvp)}; "
        "give every operand both d_<operand> and t_<operand> templates"
    )
    # ... the cases must exercise every operand the rule has templates for ...
    covered = set().union(*(active_operands(c, b) for c, b in zip(cases, built)))
    missing = [p for p in rule.vjp if (id(rule.fn), p) not in covered]
    assert not missing, f"no case differentiates {rule.spelling} with respect to {missing}"
    # ... on scalars, vectors and matrices if it is elementwise, and on broadcasting pairs.
    if rule.elementwise and not scalar_only(rule.fn):
        ndims = {np.ndim(c.args[w]) for c in cases for w in c.wrt}
        assert {0, 1, 2} <= ndims, f"{rule.spelling} needs cases on scalars, vectors and matrices"
    if rule.unbroadcast:
        assert any(len({np.shape(v) for v in c.args.values() if _is_float(v)}) > 1 for c in cases), (
            f"{rule.spelling} needs cases on broadcasting shapes"
        )


@pytest.mark.parametrize("rule", REFUSING, ids=lambda r: r.spelling)
def test_refusing_rule_says_what_to_do(rule: Any) -> None:
    assert len(rule.hint) > 40, (
        f"{rule.spelling} refuses every derivative: give it a hint= that says what to do"
    )


@pytest.mark.parametrize("rule", NONDIFFERENTIABLE, ids=lambda r: r.spelling)
def test_nondifferentiable(rule: Any, directory: Path) -> None:
    cases = NONDIFF_CASES.get(rule.fn)
    assert cases, (
        f"no case for the non-differentiable {rule.spelling}: add one to NONDIFF_CASES in {__file__}"
    )
    problems, _ = run(rule, cases, directory)
    assert not problems, f"{len(problems)} failure(s) for {rule.spelling}:\n" + "\n".join(problems)


# What a rule cannot differentiate must fail loudly, never give a wrong gradient.
REFUSED = [
    case("np.einsum(x, [0, 1], y, [1])", x=rand(M), y=rand(V)),  # subscripts as lists
    case("np.linalg.svd(x)[0]", x=rand((4, 3))),  # full_matrices=True: extra columns not unique
    case("np.linalg.svd(x, hermitian=True)[1]", x=rand((3, 3))),
    case("np.linalg.svd(x, compute_uv=bool(0))", x=rand((3, 3))),  # tuple or not: unknown
    case("np.linalg.qr(x)[0]", x=rand((3, 4))),  # wide: R is not square
    case("np.linalg.qr(x, mode='complete')[0]", x=rand((4, 3))),
    case("np.real(np.linalg.cholesky(x + 0j)[0, 0])", x=np.eye(2) * 2.0),  # complex decompositions
    case("np.sum(np.linalg.eigh(x + 1j * (x - x.T))[0])", x=rand((3, 3))),
    case("np.sum(x * 1j)", x=rand(V)),  # a complex output
    case("np.interp(0.3, x, [0.0, 1.0, 3.0])", x=np.array([-1.0, 0.0, 1.0])),  # the knots xp
    case("np.interp(x, [0.0, 1.0], [0.0, 2.0], period=3.0)", x=rand(V)),
    *(  # scipy: stacks of matrices where the derivative is written for one
        [
            *[
                case("scipy.linalg.solve_triangular(x, np.ones((2, 3, 1)))", x=wellconditioned((2, 3, 3))),
                case("scipy.linalg.cho_factor(x @ np.swapaxes(x, -1, -2))[0]", x=wellconditioned((2, 3, 3))),
            ]
            * SCIPY_STACKS,
            case(
                "scipy.stats.multivariate_normal.logpdf(x, np.zeros(2), np.array([1.0, 2.0]))", x=rand((2,))
            ),
            case("scipy.special.gammainc(x, 1.5)", x=positive(V)),  # the derivative in a
            case("scipy.stats.gamma.cdf(1.5, x)", x=positive(V)),  # a shape parameter of a cdf
        ]
        if SCIPY
        else []
    ),
]


@pytest.mark.parametrize("c", REFUSED, ids=lambda c: c.expr)
def test_refused(c: Case, directory: Path) -> None:
    module = "refused_" + str(c.seed)
    (b,) = build([c], directory, module)
    with pytest.raises((srcgrad.SrcGradError, NotImplementedError)):
        srcgrad.grad(b.fn, wrt=0)(*b.args)


# -- generated code is differentiable again ------------------------------------------------

# Helpers without rules of their own: srcgrad differentiates them by inlining their source.
INLINED = {
    runtime.solve_vjp_a,
    runtime.solve_vjp_b,
    runtime.cholesky_vjp,
    runtime.cholesky_jvp,
    runtime.matrix_power_vjp,
    runtime.matrix_power_jvp,
    runtime.slogdet_vjp,
    runtime.slogdet_jvp,
    runtime.pinv_vjp,
    runtime.pinv_jvp,
    runtime.eigh_vjp,
    runtime.eigh_jvp,
    runtime.svd_vjp,
    runtime.svd_jvp,
    runtime.qr_vjp,
    runtime.qr_jvp,
    runtime.einsum_cross,
    runtime.einsum_jvp_cross,
    runtime.logsumexp_weights,
    runtime.eigvalsh_vjp,
    runtime.eigvalsh_jvp,
    runtime.eig_vjp,
    runtime.eig_jvp,
    runtime.eigvals_vjp,
    runtime.eigvals_jvp,
    runtime.lstsq_vjp_a,
    runtime.lstsq_vjp_b,
    runtime.lstsq_jvp,
}
if SCIPY:  # scipy's rules' helpers: plain numpy and scipy, inlined (odeint's refuse inside, loudly)
    from srcgrad.runtime import scipy_helpers

    INLINED |= {getattr(scipy_helpers, n) for n in scipy_helpers.INLINED}


def _called(template: Any, names: dict[str, Any]) -> list[Any]:
    """The functions a template calls, as objects (``np.sum``, ``expand``, ``scipy.special.digamma``)."""
    import gast

    def resolve(node: Any) -> Any:
        if isinstance(node, gast.Name):
            return {"np": np, "math": math, **names}.get(node.id, getattr(runtime, node.id, None))
        if isinstance(node, gast.Attribute):
            return getattr(resolve(node.value), node.attr, None)
        return None

    return [resolve(n.func) for n in gast.walk(template) if isinstance(n, gast.Call)]


def test_every_function_a_template_calls_has_a_rule():
    from srcgrad.normalize import APPEND, COPY, LIST_ITEM

    problems = []
    for rule in [*RULES.values(), COPY, APPEND, LIST_ITEM]:
        templates = [
            *rule.vjp.values(),
            *rule.jvp.values(),
            *([rule.joint] if rule.joint is not None else []),
        ]
        for template in templates:
            for fn in _called(template, rule.names):
                if fn is None or (srcgrad.rules.lookup(fn) is None and fn not in INLINED):
                    problems.append(f"{rule.spelling}: a template calls {fn!r}, which has no rule")
    assert not problems, "\n".join(problems)


# -- non-differentiable points: a documented finite choice, never NaN ---------------------

FINITE_CHOICES = [  # (expression of x, x, the derivative srcgrad gives there)
    ("np.cbrt(x)", 0.0, 0.0),  # infinite slope: 0
    ("np.hypot(x, 0.0)", 0.0, 0.0),  # the origin: 0
    ("np.sinc(x)", 0.0, 0.0),  # the removable 0/0: its true value, 0
    ("np.fabs(x)", 0.0, 0.0),  # as abs: 0
    ("np.fmax(x, 0.0)", 0.0, 0.5),  # a tie: split evenly, as np.maximum
    ("np.fmin(x, np.nan)", 0.5, 1.0),  # the other operand is NaN: x is picked
    ("np.nansum(np.array([x, np.nan]))", 0.5, 1.0),  # NaNs get no derivative
    ("np.ptp(np.array([x, x, 1.0]))", 0.5, -1.0),  # tied minima share the derivative
]


@pytest.mark.parametrize(("expr", "x", "expected"), FINITE_CHOICES, ids=[c[0] for c in FINITE_CHOICES])
def test_finite_choice(expr: str, x: float, expected: float, directory: Path) -> None:
    module = "finite_" + "".join(ch if ch.isalnum() else "_" for ch in expr)
    (b,) = build([case(expr, x=x)], directory, module)
    for mode in ("reverse", "forward"):
        got = srcgrad.grad(b.fn, wrt=0, mode=mode)(x, 1.0)
        assert np.isfinite(got) and np.isclose(got, expected), f"{expr} at {x} ({mode} mode): {got}"
