"""The normalizer: its state, the entry point and the statement loop; the rest are mixins."""

from __future__ import annotations

import copy
import itertools
import operator
import types
from typing import Any

import gast

from .. import runtime
from ..errors import UnsupportedSyntaxError
from ..ir import Bindings, Frame, LoopBlock, Namer, Op, Program, Stmt, assign, name
from ..parse import ParsedFunction
from ..resolve import Resolver, call_tree, resolved_calls
from ..restructure import lower_loop_returns, restructure
from ..rules.registry import NAMES_FOR_GENERATED_CODE
from .analysis import _Conflict, _constant_cell, _is_simple, _live_after
from .callables import Callables
from .control import ControlFlow
from .expressions import Expressions
from .indexing import Indexing
from .inlining import Inlining
from .nested import Nested
from .primitives import RESULT
from .scope import Scope
from .statements import Statements


class Normalizer(Statements, Nested, ControlFlow, Expressions, Indexing, Inlining, Callables):
    """Builds a :class:`Program` from a user function; see the package docstring."""

    def __init__(
        self,
        top: ParsedFunction,
        wrt: list[str],
        bound_self: Any = None,
        varargs: int | None = None,
        kinds: dict[str, type] | None = None,
    ) -> None:
        self.top = top
        self.varargs = varargs  # how many arguments ``*args`` holds in the call specialized for
        # the classes of the arguments whose methods are called, in the call specialized for
        # ({} on a first try: a method call on an argument then asks for them, NeedsTypesError)
        self.kinds = kinds
        self.item_kinds: dict[str, type] = {}  # items of a list of objects passed in: their classes
        self.bound_self = bound_self  # for a bound method: the object its first parameter denotes
        known: dict[str, Any] = {}
        reserved = set(NAMES_FOR_GENERATED_CODE) | runtime.HELPERS
        tree = call_tree(top, bound_self)
        self.deps = resolved_calls(tree)  # for the cache: if one of these changes, the code is stale
        for resolver in tree:  # reserve every free name of the call tree
            for free in resolver.free_names():
                reserved.add(free)
                cell = resolver.closure.get(free)
                obj = cell if cell is not None and not _constant_cell(cell) else resolver.resolve(name(free))
                if known.setdefault(free, obj) is not obj:
                    known[free] = _Conflict  # two meanings: no binding may take this name
        self.namer = Namer(reserved)
        self.bindings = Bindings(self.namer, known)
        self.out: list = []  # the block statements are being appended to
        self.loops: list[tuple[LoopBlock, dict[str, str]]] = []  # enclosing loops, their carried names
        self.returns_at = f"{top.filename}:{top.node.lineno}"
        self.live: dict[int, set[str]] = {}  # user names read after a statement (by id of its node)
        self.view_of: dict[str, str] = {}  # views (x[1:], x.T, ...) and what they look into
        self.held: set[str] = set()  # of those, arrays a list, a loop's sequence or a copy also holds
        self.shared: set[str] = set()  # names whose array something else also holds (no in-place updates)
        self.packs: dict[str, list[gast.expr]] = {}  # tuples and lists built here: name -> elements
        # tuples and dicts built here, never changed in place: name -> items, for f(*args, **options)
        self.spreadable: dict[str, list[gast.expr] | dict[str, gast.expr]] = {}
        self.private_names = itertools.count()  # @arg0, @arg1 ...: values passed on by private names
        self.lists: set[str] = set()  # names that hold lists (their adjoints are lists too)
        self.unknown: set[str] = set()  # values passed in, and their items: arrays or containers
        self.popped: set[str] = set()  # values taken from a list with pop(): unpacked by index
        self.active: set[str] = set()
        self.wrt = wrt
        self.stack: list[types.FunctionType] = []
        self.scope: Scope = Scope(top, Resolver(top))

    def error(self, cls: type, node: gast.AST, message: str, hint: str) -> Exception:
        return self.scope.parsed.error(cls, node, message, hint)

    def emit(self, target: str, value: gast.expr, op: Op | None = None) -> str:
        self.out.append(Stmt(assign(target, value), self.scope.frames, op))
        return target

    def fresh(self, hint: str | None, base: str) -> str:
        return self.namer.fresh(hint or base)

    def run(self) -> Program:
        node = self.top.node
        args = node.args
        star = None
        if args.vararg is not None and self.varargs is not None:  # f(x, *args) called with 2 more
            args = copy.deepcopy(args)
            star, args.vararg = args.vararg.id, None
            args.args += [
                gast.Name(id=f"{star}_{i}", ctx=gast.Param(), annotation=None, type_comment=None)
                for i in range(self.varargs)
            ]
        if args.vararg is not None or args.kwarg is not None:
            raise self.error(
                UnsupportedSyntaxError,
                node,
                "srcgrad does not differentiate functions with *args or **kwargs",
                "give the function named parameters.",
            )
        if self.bound_self is not None:  # model.loss: `self` is a constant, not a parameter
            args = copy.deepcopy(args)
            first = (args.posonlyargs or args.args).pop(0).id
            self.scope.env[first] = name(self.bindings.value(self.bound_self, first))
        params = [a.id for a in args.posonlyargs + args.args + args.kwonlyargs]
        self.params = set(params)
        for p in params:
            self.namer.taken.add(p)
            self.scope.env[p] = name(p)
        self.active = set(self.wrt)
        self.unknown = set(params)
        if star is not None:  # args = (args_0, args_1): a tuple of the arguments passed
            self.namer.taken.add(star)
            self.scope.env[star] = self.pack_atoms(
                [name(a.id) for a in args.args[len(args.args) - self.varargs :]], gast.Tuple, star
            )
        for cell_name, cell in self.top.closure.items():
            if _constant_cell(cell):  # np, expand... in generated code, differentiated again
                self.bindings.value(cell.cell_contents, cell_name)
            else:
                self.bindings.cell(cell, cell_name)
        result = self.function_body(node.body, None)
        self.lists |= _maybe_containers(self.out, self.unknown)
        return Program(
            node.name,
            args,
            params,
            self.out,
            result,
            self.active,
            self.namer,
            self.bindings,
            self.scope.frames,
            self.lists,
            self.returns_at,
            self.deps,
        )

    def function_body(self, body: list[gast.stmt], hint: str | None) -> gast.expr:
        """Normalize a function body; returns the atom it returns."""
        body = restructure(lower_loop_returns(body))
        _live_after(body, set(), self.live)
        self.block(body, hint)
        return self.scope.env.get(RESULT, gast.Constant(value=None, kind=None))

    def block(self, body: list[gast.stmt], hint: str | None = None) -> None:
        for stmt in body:
            self.scope.frames = self.scope.base + (self.frame(stmt),)
            if isinstance(stmt, gast.Return):
                if self.loops:
                    raise self.error(
                        UnsupportedSyntaxError,
                        stmt,
                        "srcgrad cannot differentiate a return inside a loop",
                        "assign the value to a variable, break out of the loop and return after it.",
                    )
                if not self.stack:
                    frame = self.scope.frames[0]
                    self.returns_at = f"{frame.filename}:{frame.lineno}"
                value = (
                    gast.Constant(value=None, kind=None)
                    if stmt.value is None
                    else self.expr(stmt.value, hint)
                )
                self.scope.env[RESULT] = (
                    value if _is_simple(value) else name(self.emit(self.fresh(hint, "result"), value))
                )
            else:
                self.statement(stmt)

    def frame(self, stmt: gast.stmt) -> Frame:
        parsed = self.scope.parsed
        if isinstance(stmt, (gast.If, gast.For, gast.While, gast.With)):
            text = parsed.header_text(stmt)  # the header line only
        else:
            text = parsed.statement_text(stmt)
        return Frame(text, parsed.filename, stmt.lineno, parsed.node.name)


def _maybe_containers(body: list, unknown: set[str]) -> set[str]:
    """Values passed in (and their items) that are read by a constant key, a field name or a
    loop's index (``p[0]``, ``params['W']``, ``p.W``, ``W, b = p``, ``for W, b in layers``):
    they may hold tuples, lists, dicts or namedtuples, so their adjoints add as containers do
    (an array read so is one too: every container helper takes arrays)."""
    from ..ir import statements
    from .primitives import FIELD, LIST_ITEM

    found = set()
    for stmt in statements(body):
        op = stmt.op
        if (
            op is None
            or op.rule is None
            or not (op.rule in (LIST_ITEM, FIELD) or op.rule.fn is operator.getitem)
        ):
            continue
        items, index = list(op.args.values())[:2]
        if not (isinstance(items, gast.Name) and items.id in unknown):
            continue
        if _is_key(index):
            found.add(items.id)
    return found


def _is_key(index: gast.expr) -> bool:
    """A constant position, key or field name, or a name (a loop's index)."""
    if isinstance(index, gast.UnaryOp) and isinstance(index.op, gast.USub):
        index = index.operand
    if isinstance(index, gast.Constant):
        return type(index.value) in (int, str)
    return isinstance(index, gast.Name)
