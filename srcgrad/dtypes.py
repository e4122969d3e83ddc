"""Which values may be complex: the dtype half of ``grad``'s output check, and where a real
argument's adjoint may pick up an imaginary part.

numpy's result is complex exactly when an operand is (for every differentiable primitive but
the few that return real numbers: ``abs``, ``real``, ``norm`` ...). So the dtype of a value
is decided by a set of *sources*: the parameters, module values and complex literals it is
computed from, ``{("arg", "x"), ("global", "W")}``; the empty set means provably real, and
``("var", v)`` stands for a value whose dtype srcgrad does not follow (a constructor with a
``dtype=``, an attribute ...). It is complex if and only if one of its sources is.

Rules are written for the convention of autograd and JAX (the gradient of a real f of
``z = u + iv`` is ``df/du - i df/dv``), in which holomorphic rules need no change; a real
value that meets a complex one gets an adjoint with a meaningless imaginary part, which the
rules of ``abs``, ``real`` ... and the gradient of a real argument (``real_like``) drop.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Callable
from dataclasses import dataclass

import gast
import numpy as np

from . import runtime
from .ir import LoopBlock, Program, Stmt, name, names_of, statements
from .shapes import SCALAR, SCALAR_FUNCTIONS, Shape

Sources = frozenset
REAL: Sources = frozenset()
COMPLEX_LITERAL = ("complex", "")
# Differentiable functions whose output is real whatever their input.
REAL_VALUED = {
    np.absolute, builtins.abs, np.fabs, np.real, np.imag, np.angle, np.linalg.norm, np.var,
    np.std, np.nanvar, np.nanstd, np.linalg.eigvalsh, builtins.float, *SCALAR_FUNCTIONS,
    np.fft.irfft, np.fft.irfft2, np.fft.irfftn, np.fft.hfft, np.fft.fftfreq, np.fft.rfftfreq,
    runtime.rfft_vjp, runtime.rfftn_vjp,
}  # fmt: skip
# Differentiable functions whose output is complex whatever their input (np.fft.fft of a real array).
COMPLEX_VALUED = {
    np.fft.fft, np.fft.ifft, np.fft.fft2, np.fft.ifft2, np.fft.fftn, np.fft.ifftn, np.fft.rfft,
    np.fft.rfft2, np.fft.rfftn, np.fft.ihfft, runtime.irfft_vjp, runtime.irfftn_vjp,
    runtime.fftn_vjp, runtime.ifftn_vjp,
}  # fmt: skip
# Differentiable functions whose output may be complex for a real input (its values decide).
COMPLEX_FROM_REAL = {np.linalg.eigvals}
_COMPARISONS = (gast.Compare, gast.BoolOp)
_SHAPE_ATTRIBUTES = {"shape", "ndim", "size", "dtype"}


def infer_sources(program: Program) -> dict[str, Sources]:
    """The sources of every name the program assigns, and of its parameters (a fixpoint over
    loops: a name assigned several times has the sources of all its values)."""
    sources: dict[str, Sources] = {p: frozenset({("arg", p)}) for p in program.params}
    assigned = {n for s in statements(program.body) for t in _targets(s) for n in names_of(t)}
    assigned |= {it.target for it in _loops(program.body) if it.target}
    changed = True
    while changed:
        changed = False
        for item in statements(program.body, loops=True):
            if isinstance(item, LoopBlock):
                targets = [item.target] if item.target else []
                value = _expr(item.iterable, sources, assigned, item.target or "") if targets else REAL
            else:
                targets = [n for t in _targets(item) for n in names_of(t)]
                if not targets:
                    continue
                value = _stmt(item, sources, assigned, targets[0] if len(targets) == 1 else "")
                if len(targets) > 1 and value and not all(k == "arg" or k == "global" for k, _ in value):
                    value = frozenset(("var", t) for t in targets)  # unpacked: each item is its own
            for t in targets:
                merged = sources.get(t, REAL) | value
                if merged != sources.get(t):
                    sources[t] = merged
                    changed = True
    return sources


def _loops(items: list):
    return (item for item in statements(items, loops=True) if isinstance(item, LoopBlock))


def _targets(stmt: Stmt) -> list:
    return list(getattr(stmt.node, "targets", ()))


def _stmt(stmt: Stmt, sources: dict, assigned: set, target: str) -> Sources:
    op = stmt.op
    if op is not None and op.rule is not None:
        rule = op.rule
        if rule.fn in REAL_VALUED:
            return REAL
        if rule.fn in COMPLEX_VALUED:
            return frozenset({COMPLEX_LITERAL})
        if rule.sequence or rule.fn in COMPLEX_FROM_REAL:  # some outputs real (svd's s), some not
            return frozenset({("var", target)})
        dtype = op.args.get("dtype")
        if dtype is not None and not (isinstance(dtype, gast.Constant) and dtype.value is None):
            return frozenset({("var", target)})
        operands = [p for p in op.args if p not in rule.zero and (p in rule.vjp or p in rule.jvp)]
        parts = [_expr(op.args[p], sources, assigned, target) for p in operands]
        return frozenset().union(*parts)
    if op is not None:  # a list or tuple of its arguments
        return frozenset().union(*(_expr(a, sources, assigned, target) for a in op.args.values()))
    value = getattr(stmt.node, "value", None)
    return _expr(value, sources, assigned, target) if value is not None else REAL


def _expr(node: gast.expr, sources: dict, assigned: set, target: str) -> Sources:
    unknown = frozenset({("var", target)})
    if isinstance(node, gast.Constant):
        return frozenset({COMPLEX_LITERAL}) if isinstance(node.value, complex) else REAL
    if isinstance(node, gast.Name):
        if node.id in sources:
            return sources[node.id]
        return REAL if node.id in assigned else frozenset({("global", node.id)})
    if isinstance(node, (gast.List, gast.Tuple)):
        return frozenset().union(*(_expr(e, sources, assigned, target) for e in node.elts))
    if isinstance(node, gast.Starred):
        return _expr(node.value, sources, assigned, target)
    if isinstance(node, gast.BinOp):  # numpy's promotion: complex if an operand is
        return _expr(node.left, sources, assigned, target) | _expr(node.right, sources, assigned, target)
    if isinstance(node, gast.UnaryOp):
        return REAL if isinstance(node.op, gast.Not) else _expr(node.operand, sources, assigned, target)
    if isinstance(node, _COMPARISONS):
        return REAL
    if isinstance(node, gast.Attribute) and node.attr in _SHAPE_ATTRIBUTES:
        return REAL
    if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Attribute):
        if node.value.attr == "shape":
            return REAL  # x.shape[0]
    if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in ("len", "range"):
        return REAL
    return unknown


@dataclass
class OutputCheck:
    """What ``grad``'s forward pass checks: ``check_scalar(shape_witness, where)`` (a value of
    the output's shape and dtype) and/or ``check_real(where, *real_witnesses)``."""

    shape_witness: gast.expr | None
    real_witnesses: list[str] | None  # names; None: the output itself


def output_check(
    program: Program, shapes: dict[str, Shape], sources: dict[str, Sources], computed: bool = False
) -> OutputCheck:
    """The cheapest check that ``grad``'s output is a real scalar: a parameter that has the
    output's shape (and its sources), else the output itself; a scalar output needs only
    its dtype checked, on its sources when they are parameters and module values. With
    ``computed`` (forward mode, which computes the output anyway) the output is the witness."""
    result = program.result
    key = getattr(result, "id", None)
    shape = shapes.get(key)
    found = _expr(result, sources, set(), "") if key is None or key in sources else frozenset({("var", "")})
    if computed and shape != SCALAR:
        return OutputCheck(result, [])
    if shape != SCALAR:
        witness = next(
            (
                gast.Name(id=p, ctx=gast.Load(), annotation=None, type_comment=None)
                for p in program.params
                if shapes.get(p) == shape and found == frozenset({("arg", p)})
            ),
            None,
        )
        return OutputCheck(witness if witness is not None else result, [])
    if not found:
        return OutputCheck(None, [])
    if all(kind in ("arg", "global") for kind, _ in found):
        names = {n for _, n in found}
        return OutputCheck(
            None, [p for p in program.params if p in names] + sorted(names - set(program.params))
        )
    return OutputCheck(None, None)


def mixed(program: Program, sources: dict[str, Sources], wrt: list[str]) -> list[str]:
    """The arguments in ``wrt`` whose adjoint may get an imaginary part while they are real:
    those that meet a value computed from anything else (another argument, a module value,
    a complex literal). Their gradient is ``real_like(d_x, x)``."""
    found = [sources[v] for v in program.active if v in sources]
    return [w for w in wrt if any(s - {("arg", w)} for s in found)]


def unsafe_scatter(program: Program, sources: dict[str, Sources]) -> set[str]:
    """Names whose adjoint must stay a sum of ``getitem_grad`` terms (not one array updated in
    place): a term may be complex while the array of the first is real."""
    # (some source is not in v's exactly when their union is not: one union, not a pairwise test)
    meeting = set().union(*(sources[v] for v in program.active if v in sources))
    return {v for v in program.active if not meeting <= sources.get(v, REAL)}


def output_checks(
    program: Program,
    shapes: dict[str, Shape],
    sources: dict[str, Sources],
    helper: Callable[[str], str],
    computed: bool = False,
    size_one: gast.stmt | None = None,
) -> list[gast.stmt]:
    """The statements that end ``grad``'s forward pass: ``check_scalar(v, 'file.py:LINE')``
    and ``check_real('file.py:LINE', ...)`` (none when the output is provably a real scalar).
    ``check_scalar`` is true for an output of one element that is not 0-d (shape (1,) or
    (1, 1)), which autograd accepts: then ``size_one`` runs (it returns the gradient)."""
    check = output_check(program, shapes, sources, computed)
    where = gast.Constant(value=program.returns_at, kind=None)
    out = []
    if check.shape_witness is not None:
        test = _call(helper("check_scalar"), [copy.deepcopy(check.shape_witness), where]).value
        out.append(gast.If(test=test, body=[size_one], orelse=[]) if size_one else gast.Expr(value=test))
    if check.real_witnesses is None:
        out.append(_call(helper("check_real"), [where, copy.deepcopy(program.result)]))
    elif check.real_witnesses:
        out.append(_call(helper("check_real"), [where, *(name(n) for n in check.real_witnesses)]))
    return out


def real_gradients(
    grads: list[gast.expr], wrt: list[str], program: Program, sources: dict[str, Sources], helper: Callable
) -> list[gast.expr]:
    """``real_like(d_x, x)`` for each argument that may meet complex values (see :func:`mixed`)."""
    meets = set(mixed(program, sources, wrt))
    return [
        gast.Call(func=name(helper("real_like")), args=[g, name(w)], keywords=[])
        if w in meets and not _is_zeros(g)
        else g
        for g, w in zip(grads, wrt)
    ]


def _is_zeros(node: gast.expr) -> bool:
    return isinstance(node, gast.Call) and getattr(node.func, "attr", None) in ("zeros_like",)


def _call(func: str, args: list) -> gast.Expr:
    return gast.Expr(value=gast.Call(func=name(func), args=args, keywords=[]))
