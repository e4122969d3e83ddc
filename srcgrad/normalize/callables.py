"""numpy functions that take the user's callables, lowered to code srcgrad differentiates.

``np.piecewise(x, condlist, funclist)``, ``np.apply_along_axis(f, axis, arr)`` and
``np.vectorize(f)(x, ...)`` call a Python function srcgrad can read, so instead of a rule each
is rewritten, at the call, into the loop or the pieces numpy runs, with the user's function
inlined where it is called:

- piecewise: each piece ``f(x[c])`` where its condition ``c`` holds (a later condition over an
  earlier one), joined by ``piecewise_join`` into an array shaped like ``x``;
- apply_along_axis: a loop calling ``f`` on each 1-d slice along ``axis`` (the rows of
  ``along_rows``), its results joined by ``join_rows`` where ``axis`` was;
- vectorize: the arguments broadcast together, a loop calling ``f`` on each element, the
  results reshaped to the broadcast shape.

``np.unique(..., return_counts=True)`` (or an index or inverse) is lowered too: the unique
values through its rule, the integer outputs as a call without a derivative.

The rewrite is built as syntax trees of user-level code that read the user's own expressions
and the lowering's private values (``@lt1_x``: no user code can name them), and is normalized
as the user's code is, at the line of the call.
"""

from __future__ import annotations

import itertools
from typing import Any

import gast
import numpy as np

from .. import runtime
from ..errors import UnsupportedSyntaxError
from ..ir import name
from ..resolve import UNRESOLVED
from ..trees import walk
from .analysis import _copy

_COUNTER = itertools.count(1)


class Callables:
    """Part of :class:`Normalizer`: the calls of numpy functions that take the user's callables."""

    def lower_callable(self, node: gast.Call, obj: Any, hint: str | None) -> gast.expr | None:
        """The normalized value of ``node`` if it is one of the calls lowered here, else None."""
        func = node.func
        if obj is np.piecewise:
            return self.lower_piecewise(node, hint)
        if obj is np.apply_along_axis:
            return self.lower_apply_along_axis(node, hint)
        if obj is np.unique:
            return self.lower_unique(node, hint)
        if isinstance(obj, np.vectorize):
            return self.lower_vectorize(node, obj, None, hint)
        if isinstance(func, gast.Call) and self.resolve_value(func.func) is np.vectorize:
            return self.lower_vectorize(node, None, func, hint)
        return None

    # -- a lowering's private values, and its refusals ------------------------------------------

    def lowering(self, node: gast.Call) -> _Lowering:
        return _Lowering(self, node)

    def _refuse(self, node: gast.AST, message: str, hint: str) -> Exception:
        return self.error(UnsupportedSyntaxError, node, message, hint)

    # -- np.piecewise -----------------------------------------------------------------------

    def lower_piecewise(self, node: gast.Call, hint: str | None) -> gast.expr:
        args = _arguments(self, node, ("x", "condlist", "funclist"), "np.piecewise")
        x, condlist, funclist = args["x"], args["condlist"], args["funclist"]
        extra, keywords = args["*"], args["**"]
        if _one_mask(condlist):  # np.piecewise(x, x < 0, [f, g]): one condition
            condlist = gast.List(elts=[condlist], ctx=gast.Load())
        for what, value in (("condlist", condlist), ("funclist", funclist)):
            if not isinstance(value, (gast.List, gast.Tuple)):
                raise self._refuse(
                    value,
                    f"srcgrad needs np.piecewise's {what} written as a list: it decides which functions run",
                    f"write {what} as a list literal, e.g. [x < 0, x >= 0] and [lambda v: -v, np.sqrt].",
                )
        conds, funcs = condlist.elts, funclist.elts
        if len(funcs) not in (len(conds), len(conds) + 1):
            raise self._refuse(
                node,
                f"np.piecewise got {len(conds)} conditions and {len(funcs)} functions",
                "give one function per condition, and at most one more for where none holds.",
            )
        low = self.lowering(node)
        low.let("x", x)
        masks = []
        for i, c in enumerate(conds):
            low.let(f"c{i}", low.call("piecewise_mask", c), "mask")
            masks.append(low.private(f"c{i}"))
        if len(funcs) > len(conds):
            cond_list = gast.List(elts=[_copy(m) for m in masks], ctx=gast.Load())
            low.let("otherwise", low.call("piecewise_otherwise", low.private("x"), cond_list))
            masks.append(low.private("otherwise"))
        pieces = []
        for i, (f, mask) in enumerate(zip(funcs, masks)):
            selected = gast.Subscript(value=low.private("x"), slice=_copy(mask), ctx=gast.Load())
            if self.is_callable_node(f):
                piece = gast.Call(
                    func=_copy(f), args=[selected, *map(_copy, extra)], keywords=[_copy(k) for k in keywords]
                )
            elif isinstance(f, gast.Constant) or self.resolve_value(f) is not UNRESOLVED:
                piece = _copy(f)  # a value: numpy puts it where the condition holds
            else:
                piece = low.call("piecewise_value", f)  # a value, or a callable known only at run time
            low.let(f"piece{i}", piece)
            pieces.append(low.private(f"piece{i}"))
        join = low.call(
            "piecewise_join",
            low.private("x"),
            gast.List(elts=[_copy(m) for m in masks], ctx=gast.Load()),
            gast.List(elts=pieces, ctx=gast.Load()),
        )
        return low.result(join, hint or "piecewise")

    def is_callable_node(self, f: gast.expr) -> bool:
        """Is ``f`` a function srcgrad can call here (a lambda, a def, a resolved callable)?"""
        if isinstance(f, gast.Lambda):
            return True
        if isinstance(f, gast.Name) and f.id in self.scope.functions and f.id not in self.scope.env:
            return True
        obj = self.resolve_value(f)
        return obj is not UNRESOLVED and callable(obj)

    # -- np.apply_along_axis ------------------------------------------------------------------

    def lower_apply_along_axis(self, node: gast.Call, hint: str | None) -> gast.expr:
        args = _arguments(self, node, ("func1d", "axis", "arr"), "np.apply_along_axis")
        f = args["func1d"]
        if not self.is_callable_node(f):
            raise self._refuse(
                f,
                "srcgrad cannot tell which function np.apply_along_axis calls",
                "pass a lambda or the name of a function (module-level or def).",
            )
        low = self.lowering(node)
        low.let("arr", args["arr"])
        low.let("axis", args["axis"])
        low.let("rows", low.call("along_rows", low.private("arr"), low.private("axis")))
        row = _unused("row", [f, *args["*"], *args["**"]])
        call = gast.Call(
            func=_copy(f),
            args=[name(row), *map(_copy, args["*"])],
            keywords=[_copy(k) for k in args["**"]],
        )
        loop = gast.ListComp(
            elt=call,
            generators=[
                gast.comprehension(
                    target=gast.Name(id=row, ctx=gast.Store(), annotation=None, type_comment=None),
                    iter=low.private("rows"),
                    ifs=[],
                    is_async=0,
                )
            ],
        )
        low.let("results", loop)
        join = low.call("join_rows", low.private("results"), low.private("arr"), low.private("axis"))
        return low.result(join, hint or "applied")

    # -- np.vectorize -----------------------------------------------------------------------

    def lower_vectorize(
        self, node: gast.Call, vectorized: Any, made: gast.Call | None, hint: str | None
    ) -> gast.expr:
        low = self.lowering(node)
        if made is not None:  # np.vectorize(f, ...)(x)
            if (
                not made.args
                or any(k.arg not in ("otypes", "doc") for k in made.keywords)
                or len(made.args) > 1
            ):
                raise self._refuse(
                    made,
                    "srcgrad differentiates np.vectorize(f) with otypes= at most",
                    "drop excluded=, signature= and cache=, or write the loop over the elements yourself.",
                )
            f = made.args[0]
            if not self.is_callable_node(f):
                raise self._refuse(
                    f,
                    "srcgrad cannot tell which function np.vectorize calls",
                    "pass a lambda or a function's name.",
                )
        else:
            if vectorized.signature is not None or vectorized.excluded:
                raise self._refuse(
                    node,
                    "srcgrad differentiates an np.vectorize without signature= and excluded= only",
                    "write the loop over the elements yourself.",
                )
            f = low.bound("pyfunc", vectorized.pyfunc)
        if node.keywords or not node.args:
            raise self._refuse(
                node,
                "srcgrad differentiates a vectorized function called with positional arguments only",
                "pass the arguments by position.",
            )
        low.let(
            "args",
            gast.Call(func=low.np("broadcast_arrays"), args=[_copy(a) for a in node.args], keywords=[]),
        )
        names = [_unused(f"item{i}", [f]) for i in range(len(node.args))]
        flat = [
            gast.Call(
                func=low.np("ravel"),
                args=[
                    gast.Subscript(
                        value=low.private("args"), slice=gast.Constant(value=i, kind=None), ctx=gast.Load()
                    )
                ],
                keywords=[],
            )
            for i in range(len(node.args))
        ]
        store = lambda n: gast.Name(id=n, ctx=gast.Store(), annotation=None, type_comment=None)  # noqa: E731
        if len(names) == 1:
            target, items = store(names[0]), flat[0]
        else:
            target = gast.Tuple(elts=[store(n) for n in names], ctx=gast.Store())
            items = gast.Call(func=name("zip"), args=flat, keywords=[])
        call = gast.Call(func=_copy(f), args=[name(n) for n in names], keywords=[])
        loop = gast.ListComp(
            elt=call, generators=[gast.comprehension(target=target, iter=items, ifs=[], is_async=0)]
        )
        low.let("results", loop)
        first = gast.Subscript(
            value=low.private("args"), slice=gast.Constant(value=0, kind=None), ctx=gast.Load()
        )
        shape = gast.Call(func=low.np("shape"), args=[first], keywords=[])
        array = gast.Call(func=low.np("array"), args=[low.private("results")], keywords=[])
        return low.result(
            gast.Call(func=low.np("reshape"), args=[array, shape], keywords=[]), hint or "vectorized"
        )

    # -- np.unique with its integer outputs ---------------------------------------------------

    def lower_unique(self, node: gast.Call, hint: str | None) -> gast.expr | None:
        names = ("ar", "return_index", "return_inverse", "return_counts", "axis")
        given = {k.arg: k.value for k in node.keywords}
        given.update(zip(names, node.args))
        flags = [given.get(flag) for flag in names[1:4]]
        for flag, value in zip(names[1:4], flags):
            if value is not None and not (isinstance(value, gast.Constant) and isinstance(value.value, bool)):
                raise self._refuse(
                    value,
                    f"srcgrad needs {flag} written as True or False: it decides whether np.unique returns a tuple",
                    f"write {flag}=True or {flag}=False in the call.",
                )
        wanted = [i for i, v in enumerate(flags) if v is not None and v.value]
        if not wanted or not self.is_active(given.get("ar", node)):
            return None  # one array: its rule; or nothing to differentiate
        low = self.lowering(node)
        low.let("ar", given["ar"])
        keywords = [gast.keyword(arg=k, value=_copy(v)) for k, v in given.items() if k not in names[:4]]
        values = gast.Call(func=low.np("unique"), args=[low.private("ar")], keywords=keywords)
        whole = gast.Call(func=_copy(node.func), args=[], keywords=[])
        whole.keywords = [gast.keyword(arg=k, value=_copy(v)) for k, v in given.items() if k != "ar"]
        whole.args = [low.private("ar")]
        low.let("values", values, "unique")
        everything = name(
            self.emit(self.fresh(None, "unique"), self.substitute(whole))
        )  # integers: no derivative
        items = [self.atom(low.private("values"), hint or "unique")]
        for k in range(1, len(wanted) + 1):
            item = gast.Subscript(value=everything, slice=gast.Constant(value=k, kind=None), ctx=gast.Load())
            items.append(
                name(self.emit(self.fresh(None, ("index", "inverse", "counts")[wanted[k - 1]]), item))
            )
        low.done()
        return self.pack_atoms(items, gast.Tuple, hint or "unique")


class _Lowering:
    """One lowering: its private names (``@lt3_x``), and the objects its source calls."""

    def __init__(self, normalizer: Callables, node: gast.Call) -> None:
        self.n = normalizer
        self.node = node
        self.prefix = f"@lt{next(_COUNTER)}_"
        self.keys: list[str] = []

    def private(self, key: str) -> gast.Name:
        return name(self.prefix + key)

    def bound(self, key: str, obj: Any) -> gast.Name:
        """A name the lowered source reads ``obj`` through."""
        self.n.scope.env[self.prefix + key] = name(self.n.bindings.value(obj, key))
        self.keys.append(self.prefix + key)
        return self.private(key)

    def np(self, attr: str) -> gast.Attribute:
        return gast.Attribute(value=self.bound("np", np), attr=attr, ctx=gast.Load())

    def call(self, helper: str, *args: gast.expr) -> gast.Call:
        func = self.bound(helper, getattr(runtime, helper))
        return gast.Call(func=func, args=[_copy(a) for a in args], keywords=[])

    def let(self, key: str, value: gast.expr, hint: str | None = None) -> None:
        """``@lt3_key = value``: ``value`` normalized at the call's line (named after ``hint``)."""
        for sub in walk(value):
            if isinstance(sub, (gast.stmt, gast.expr)) and not hasattr(sub, "lineno"):
                gast.copy_location(sub, self.node)
        frames = self.n.scope.frames
        atom = self.n.atom(value, hint or key.rstrip("0123456789"))
        self.n.scope.frames = frames
        self.n.scope.env[self.prefix + key] = atom
        self.keys.append(self.prefix + key)

    def result(self, value: gast.expr, hint: str) -> gast.expr:
        for sub in walk(value):
            if isinstance(sub, (gast.stmt, gast.expr)) and not hasattr(sub, "lineno"):
                gast.copy_location(sub, self.node)
        out = self.n.atom(value, hint)
        self.done()
        return out

    def done(self) -> None:
        for key in self.keys:
            self.n.scope.env.pop(key, None)


def _arguments(n: Callables, node: gast.Call, params: tuple[str, ...], what: str) -> dict[str, Any]:
    """The call's arguments by parameter: ``params`` first, then the extra positional ("*")
    and keyword ("**") arguments numpy passes on to the user's function."""
    out: dict[str, Any] = dict(zip(params, node.args))
    out["*"] = list(node.args[len(params) :])
    out["**"] = []
    for k in node.keywords:
        if k.arg in params:
            out[k.arg] = k.value
        else:
            out["**"].append(k)
    missing = [p for p in params if p not in out]
    if missing:
        raise n._refuse(node, f"{what} is missing its argument {missing[0]!r}", f"pass {missing[0]}.")
    return out


def _one_mask(node: gast.expr) -> bool:
    """Is ``node`` plainly one boolean array (``x < 0``, ``~c``, ``(x > 0) & (x < 1)``), not a list?"""
    if isinstance(node, gast.Compare):
        return True
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Invert):
        return _one_mask(node.operand)
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.BitAnd, gast.BitOr, gast.BitXor)):
        return _one_mask(node.left) or _one_mask(node.right)
    return False


def _unused(base: str, nodes: list[gast.AST]) -> str:
    """``base``, or ``base_``..., a name none of ``nodes`` reads (a loop variable of a lowering)."""
    used = {n.id for node in nodes for n in walk(node) if isinstance(n, gast.Name)}
    while base in used:
        base += "_"
    return base
