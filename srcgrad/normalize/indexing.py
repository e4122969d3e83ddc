"""Subscripts whose index carries a derivative: ``np.r_[x, y]``, ``np.c_[x, y]`` and objects
with their own ``__getitem__``.

An index into an array, a list, a tuple or a dict selects; what it selects does not change
smoothly with the index, so its derivative is zero. Any other object may compute anything from
its index (``np.r_`` concatenates it), so an index that depends on the differentiated
arguments is differentiated (``np.r_`` and ``np.c_`` become the concatenations they are) or
refused, never taken as a constant.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import gast
import numpy as np

from ..errors import UnsupportedSyntaxError
from ..ir import name
from ..resolve import UNRESOLVED
from ..rules import lookup
from .analysis import _copy

# What indexing selects from: its index carries no derivative.
SELECTS = (np.ndarray, np.generic, list, tuple, dict, str, bytes, range, int, float, complex)

# What the operators of a differentiated expression may meet: numpy's meaning of ``*`` is the
# one srcgrad's rules give (``np.matrix`` is an ndarray whose ``*`` multiplies matrices).
OPERANDS = (np.ndarray, np.memmap, int, float, complex, bool, list, tuple, type(None))

R_ = type(np.r_)
C_ = type(np.c_)


def _spelled(node: gast.expr) -> str:
    return ast.unparse(gast.gast_to_ast(_copy(node)))


class Indexing:
    """Part of :class:`Normalizer`: subscripts whose index carries a derivative."""

    def active_index(self, node: gast.Subscript, hint: str | None) -> gast.expr | None:
        """``node[...]`` of an inactive value with an active index: its normalized value for
        ``np.r_``/``np.c_``, None where indexing selects (the caller indexes as usual); refused
        for anything else."""
        if isinstance(node.value, (gast.Tuple, gast.List, gast.Dict, gast.Constant, gast.ListComp)):
            return None  # (1.0, 2.0)[i]: a display selects
        obj = self.resolve_value(node.value)
        if isinstance(obj, (R_, C_)):
            return self.concatenator(node, obj, hint)
        if isinstance(obj, SELECTS):
            return None
        what = _spelled(node.value)
        text = f"{what}[{_spelled(node.slice)}]"
        if obj is UNRESOLVED:
            raise self.error(
                UnsupportedSyntaxError,
                node,
                f"srcgrad cannot differentiate {text}: its index depends on the differentiated "
                f"arguments, and {what} is only known when the code runs (indexing an object that is "
                "not an array, a list, a tuple or a dict may compute anything from its index)",
                f"make {what} a global or closure variable, index an array, or compute the index from "
                "values without a derivative (x.shape, len(x), np.argmax(x), srcgrad.stop_gradient(i)).",
            )
        kind = type(obj).__qualname__
        getitem = getattr(type(obj), "__getitem__", None)
        if isinstance(obj, (type(np.s_), type(np.index_exp), type(np.mgrid), type(np.ogrid))):
            hint = (
                "compute the index from values without a derivative (x.shape, len(x), np.argmax(x), "
                "srcgrad.stop_gradient(i))."
            )
        elif getattr(getitem, "__code__", None) is not None:  # a __getitem__ written in Python
            hint = (
                f"call the method explicitly, {what}.__getitem__({_spelled(node.slice)}): srcgrad "
                "differentiates methods of objects it can see."
            )
        else:
            hint = "compute the value with numpy functions srcgrad differentiates."
        raise self.error(
            UnsupportedSyntaxError,
            node,
            f"srcgrad cannot differentiate {text}: its index depends on the differentiated arguments, "
            f"and {what} is a {kind} object, whose indexing srcgrad does not know",
            hint,
        )

    def operand_object(self, node: gast.BinOp, operand: gast.expr) -> None:
        """Refuse ``S * x`` for a global or closure object ``S`` of a class with operators of
        its own: the generated code would differentiate numpy's ``*``, not ``S``'s."""
        if self.is_active(operand):
            return
        obj = self.resolve_value(operand)
        if obj is UNRESOLVED or type(obj) in OPERANDS or isinstance(obj, np.generic):
            return
        if type(obj).__module__ == "builtins":  # str, dict...: numpy's or Python's own error
            return
        what, kind = _spelled(operand), type(obj)
        raise self.error(
            UnsupportedSyntaxError,
            node,
            f"srcgrad cannot differentiate {_spelled(node)}: {what} is a "
            f"{kind.__module__}.{kind.__qualname__} object, whose operators may not mean what "
            "numpy's do",
            f"convert {what} to a numpy array (np.asarray) outside the function, or compute with "
            "numpy functions.",
        )

    def concatenator(self, node: gast.Subscript, obj: Any, hint: str | None) -> gast.expr:
        """``np.r_[a, b:c, ...]`` is ``np.concatenate([np.atleast_1d(a), np.arange(b, c), ...])``;
        ``np.c_[...]`` concatenates its pieces as columns, along the last axis."""
        which = "np.r_" if isinstance(obj, R_) else "np.c_"
        items = list(node.slice.elts) if isinstance(node.slice, gast.Tuple) else [node.slice]
        axis = 0 if which == "np.r_" else -1
        if items and isinstance(items[0], gast.Constant) and isinstance(items[0].value, str):
            directive = items.pop(0).value
            if which != "np.r_" or not re.fullmatch(r"\s*-?\d+\s*", directive):
                raise self.error(
                    UnsupportedSyntaxError,
                    node,
                    f"srcgrad does not differentiate {which} with the directive {directive!r}",
                    "write the concatenation with np.concatenate, np.stack or np.column_stack "
                    "(srcgrad knows np.r_['AXIS', ...] with an integer axis only).",
                )
            axis = int(directive)
        pieces = []
        for item in items:
            if isinstance(item, gast.Constant) and isinstance(item.value, str):
                raise self.error(
                    UnsupportedSyntaxError,
                    node,
                    f"{which}: a string directive must come first, and srcgrad differentiates only "
                    "np.r_['AXIS', ...]",
                    "write the concatenation with np.concatenate.",
                )
            atom = self.concatenator_range(item, which) if isinstance(item, gast.Slice) else self.atom(item)
            if which == "np.r_":
                pieces.append(self.concatenator_call(np.atleast_1d, [atom], {}))
            else:  # a column: (n,) -> (n, 1), () -> (1, 1); 2-d and more stay as they are
                shape = self.concatenator_call(np.shape, [atom], {})
                ndim = self.concatenator_call(np.ndim, [atom], {})
                column = gast.BinOp(
                    left=shape,
                    op=gast.Add(),
                    right=gast.BinOp(
                        left=gast.Tuple(elts=[gast.Constant(value=1, kind=None)], ctx=gast.Load()),
                        op=gast.Mult(),
                        right=gast.BinOp(left=gast.Constant(value=2, kind=None), op=gast.Sub(), right=ndim),
                    ),
                )
                shape_name = name(self.emit(self.fresh(None, "shape"), column))
                pieces.append(self.concatenator_call(np.reshape, [atom, shape_name], {}))
        if not pieces:
            raise self.error(
                UnsupportedSyntaxError, node, f"{which}[] with nothing to concatenate", "give it arrays."
            )
        parts = self.pack_atoms(pieces, gast.List, "parts") if any(map(self.is_active_atom, pieces)) else None
        if parts is None:
            parts = gast.List(elts=pieces, ctx=gast.Load())
        axis_atom = gast.Constant(value=axis, kind=None)
        return self.apply(
            lookup(np.concatenate), [parts], {"axis": axis_atom}, hint or "concatenate", None, node
        )

    def is_active_atom(self, atom: gast.expr) -> bool:
        return isinstance(atom, gast.Name) and atom.id in self.active

    def concatenator_call(self, fn: Any, args: list[gast.expr], kwargs: dict[str, gast.expr]) -> gast.expr:
        """``fn(args)`` on atoms: an active value (its own statement) or an inactive expression."""
        rule = lookup(fn)
        if not rule.nondiff and any(map(self.is_active_atom, args)):
            return self.apply(rule, args, kwargs, rule.name, None)
        keywords = [gast.keyword(arg=k, value=v) for k, v in kwargs.items()]
        call = gast.Call(func=self.spell(rule), args=[_copy(a) for a in args], keywords=keywords)
        return call if rule.nondiff else name(self.emit(self.fresh(None, rule.name), call))

    def concatenator_range(self, item: gast.Slice, which: str) -> gast.expr:
        """``a:b:c`` in ``np.r_`` is ``np.arange(a, b, c)``; ``a:b:nj`` is ``np.linspace(a, b, n)``."""
        parts = [item.lower, item.upper, item.step]
        if any(p is not None and self.is_active(p) for p in parts):
            raise self.error(
                UnsupportedSyntaxError,
                item,
                f"srcgrad does not differentiate a range in {which} whose bounds depend on the "
                "differentiated arguments",
                "build the range with np.arange or np.linspace of values without a derivative.",
            )
        none = gast.Constant(value=None, kind=None)
        lower, upper, step = (none if p is None else self.substitute(p) for p in parts)
        if isinstance(step, gast.Constant) and isinstance(step.value, complex):
            num = gast.Constant(value=int(abs(step.value)), kind=None)
            args = [gast.Constant(value=0, kind=None) if lower is none else lower, upper, num]
            return name(self.emit(self.fresh(None, "linspace"), self.spelled_call(np.linspace, args)))
        literal = step.operand if isinstance(step, gast.UnaryOp) and isinstance(step.op, gast.USub) else step
        if not (isinstance(literal, gast.Constant) and type(literal.value) in (int, float, type(None))):
            raise self.error(
                UnsupportedSyntaxError,
                item,
                f"srcgrad does not differentiate {which} with a step that is not an integer literal "
                "(a complex step means a number of points)",
                "build the range with np.arange or np.linspace.",
            )
        args = [gast.Constant(value=0, kind=None) if lower is none else lower, upper]
        args += [] if step is none else [step]
        return name(self.emit(self.fresh(None, "arange"), self.spelled_call(np.arange, args)))

    def spelled_call(self, fn: Any, args: list[gast.expr]) -> gast.Call:
        return gast.Call(func=self.spell(lookup(fn)), args=args, keywords=[])
