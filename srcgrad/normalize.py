"""Stage 3: rewrite a function (and the helpers it calls, inlined) into A-normal form.

Each statement of the result applies one primitive. Sub-expressions that do not depend
on the differentiated arguments ("inactive") stay as the user wrote them; every active
value gets a name derived from the user's variable or from the operation (``mul``,
``exp``), and a name assigned twice is renamed (``x_1``) so each is assigned once.
"""

from __future__ import annotations

import builtins
import copy
import inspect
import operator
import types
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from . import runtime
from .errors import NoRuleError, UnsupportedSyntaxError
from .ir import Bindings, Frame, IfBlock, LoopBlock, Namer, Op, Program, Stmt, assign, name
from .parse import ParsedFunction, parse_function
from .resolve import UNRESOLVED, Resolver, call_tree, resolved_calls
from .restructure import restructure
from .rules import Rule, lookup
from .rules.registry import REQUIRED, Param

BINOPS = {
    gast.Add: (np.add, "add"),
    gast.Sub: (np.subtract, "sub"),
    gast.Mult: (np.multiply, "mul"),
    gast.Div: (np.true_divide, "div"),
    gast.Pow: (np.power, "pow"),
    gast.MatMult: (np.matmul, "matmul"),
}

# Array methods and attributes on active values, as the numpy functions they call.
METHODS = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
    "var": np.var, "std": np.std, "dot": np.dot, "reshape": np.reshape, "ravel": np.ravel,
    "flatten": np.ravel, "transpose": np.transpose, "squeeze": np.squeeze, "clip": np.clip,
    "copy": np.copy,
}  # fmt: skip
SHAPE_ATTRIBUTES = {"shape", "ndim", "size", "dtype"}
VIEWS = {operator.getitem, np.reshape, np.ravel, np.transpose, np.squeeze, np.expand_dims, np.swapaxes}
NAMES_FOR_GENERATED_CODE = {"np": np, "math": __import__("math")}


def _template(text: str) -> gast.expr:
    return gast.parse(text, mode="eval").body


RESULT = "<return>"  # the key of the function's return value among the user's names
COPY = Rule(None, "copy", (Param("x"),), {"x": _template("g")}, elementwise=True, jvp={"x": _template("t")})
# Lists are values too: ``items.append(v)`` becomes ``items_1 = items + [v]``, and the adjoint
# (and the tangent) of a list is the list of its elements' adjoints (tangents).
APPEND = Rule(
    None,
    "append",
    (Param("items"), Param("item")),
    {"items": _template("g[:-1]"), "item": _template("g[-1]")},
    jvp={"items": _template("t + [zero_tangent(item)]"), "item": _template("zero_tangent(items) + [t]")},
    joint=_template("t_items + [t_item]"),
)
LIST_ITEM = Rule(
    None,
    "list_item",
    (Param("items"), Param("index")),
    {"items": _template("list_item_grad(g, items, index)")},
    jvp={"items": _template("t[index]")},
)
REFUSED = {
    gast.Try: "try/except",
    gast.Global: "a global declaration",
    gast.Nonlocal: "a nonlocal declaration",
    gast.FunctionDef: "a nested def (define the helper at module level)",
    gast.AsyncFunctionDef: "async code",
    gast.AsyncFor: "async code",
    gast.AsyncWith: "async code",
    gast.ClassDef: "a class definition",
    gast.Delete: "del",
    gast.With: "this with block (only `with np.errstate(...)` is passed through)",
    gast.Import: "an import (import at module level)",
    gast.ImportFrom: "an import (import at module level)",
}


def _exits(block: list) -> bool:
    """Does every path through a normalized block end in break or raise?"""
    if not block:
        return False
    last = block[-1]
    if isinstance(last, Stmt):
        return isinstance(last.node, (gast.Break, gast.Raise))
    return isinstance(last, IfBlock) and _exits(last.body) and _exits(last.orelse)


def _fallthrough(block: list) -> list[list]:
    """The blocks at whose ends the paths through ``block`` that do not exit end."""
    if block and isinstance(block[-1], IfBlock) and (_may_exit(block[-1].body) or _may_exit(block[-1].orelse)):
        last = block[-1]
        return [leaf for branch in (last.body, last.orelse) if not _exits(branch) for leaf in _fallthrough(branch)]
    return [block]


def _may_exit(block: list) -> bool:
    for item in block:
        if isinstance(item, Stmt) and isinstance(item.node, (gast.Break, gast.Raise)):
            return True
        if isinstance(item, IfBlock) and (_may_exit(item.body) or _may_exit(item.orelse)):
            return True
    return False


def _same(a: gast.expr, b: gast.expr) -> bool:
    return gast.dump(a) == gast.dump(b)


def _breaks(body: list[gast.stmt]) -> bool:
    """Does ``body`` break out of its own loop (not out of a loop nested in it)?"""
    for stmt in body:
        if isinstance(stmt, gast.Break):
            return True
        if isinstance(stmt, gast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
        if isinstance(stmt, gast.With) and _breaks(stmt.body):
            return True
    return False


def _appended(stmt: gast.AST) -> str | None:
    """``items`` for the statement ``items.append(v)``."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        func = stmt.value.func
        if isinstance(func, gast.Attribute) and func.attr == "append" and isinstance(func.value, gast.Name):
            return func.value.id
    return None


def _stored(stmt: gast.AST) -> set[str]:
    """Names a statement (re)binds: ``y`` in ``y[i] = v``, ``y += v``, ``y.append(v)`` and ``y.pop()`` too."""
    names = set()
    for node in gast.walk(stmt):
        if _appended(node):
            names.add(_appended(node))
        if (
            isinstance(node, gast.Call)
            and isinstance(node.func, gast.Attribute)
            and node.func.attr == "pop"
            and isinstance(node.func.value, gast.Name)
        ):
            names.add(node.func.value.id)
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            names.add(node.id)
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            for target in node.targets if isinstance(node, gast.Assign) else [node.target]:
                while isinstance(target, gast.Subscript):
                    target = target.value
                if isinstance(target, gast.Name):
                    names.add(target.id)
    return names


def _read(node: gast.AST) -> set[str]:
    names = {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    for sub in gast.walk(node):
        if isinstance(sub, gast.AugAssign) and isinstance(sub.target, gast.Name):
            names.add(sub.target.id)
    return names


def _assigned(body: list[gast.stmt]) -> set[str]:
    return set().union(*(_stored(s) for s in body)) if body else set()


def _exposed(body: list[gast.stmt], assigned: frozenset[str] = frozenset()) -> set[str]:
    """Names ``body`` may read before it (surely) assigns them: their value comes from before."""
    exposed: set[str] = set()
    assigned = set(assigned)
    for stmt in body:
        if isinstance(stmt, gast.For):
            targets = {n.id for n in gast.walk(stmt.target) if isinstance(n, gast.Name)}
            exposed |= (_read(stmt.iter) - assigned) | _exposed(stmt.body, frozenset(assigned | targets))
        elif isinstance(stmt, gast.While):
            exposed |= (_read(stmt.test) - assigned) | _exposed(stmt.body, frozenset(assigned))
        elif isinstance(stmt, gast.If):
            exposed |= _read(stmt.test) - assigned
            exposed |= _exposed(stmt.body, frozenset(assigned)) | _exposed(stmt.orelse, frozenset(assigned))
        else:
            exposed |= _read(stmt) - assigned
        if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign)) and not any(
            isinstance(t, gast.Subscript) for t in getattr(stmt, "targets", [getattr(stmt, "target", None)])
        ):
            assigned |= _stored(stmt)
    return exposed


def _live_after(body: list[gast.stmt], after: set[str], out: dict[int, set[str]]) -> None:
    """For every statement, the names that code running after it may read (``out[id(stmt)]``)."""
    for i, stmt in enumerate(body):
        live = _exposed(body[i + 1 :]) | after
        out[id(stmt)] = live
        if isinstance(stmt, (gast.For, gast.While)):  # the next iteration runs after, too
            again = _exposed(stmt.body) | (_read(stmt.test) if isinstance(stmt, gast.While) else set())
            _live_after(stmt.body, live | again, out)
        elif isinstance(stmt, gast.If):
            _live_after(stmt.body, live, out)
            _live_after(stmt.orelse, live, out)


def _may_become_active(body: list[gast.stmt], active: set[str]) -> set[str]:
    """User names that some iteration may make depend on an active value (a fixpoint)."""
    active = set(active)
    statements = [n for n in gast.walk(gast.Module(body=body, type_ignores=[])) if isinstance(n, gast.stmt)]
    changed = True
    while changed:
        changed = False
        for stmt in statements:
            if _appended(stmt) and _read(stmt) & active and _appended(stmt) not in active:
                active.add(_appended(stmt))
                changed = True
            if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.For)):
                source = stmt.iter if isinstance(stmt, gast.For) else stmt.value
                if source is not None and _read(source) & active or (
                    isinstance(stmt, gast.AugAssign) and _stored(stmt) & active
                ):
                    new = _stored(stmt) - active
                    if new:
                        active |= new
                        changed = True
                if isinstance(stmt, gast.Assign) and any(isinstance(t, gast.Subscript) for t in stmt.targets):
                    if _read(stmt) & active and _stored(stmt) - active:
                        active |= _stored(stmt)
                        changed = True
    return active


def _base(user_name: str) -> str:
    """The base for a generated name standing for a user name (or a private one: ``@items``)."""
    return "result" if user_name == RESULT else user_name.lstrip("@")


def _constant_cell(cell: types.CellType) -> bool:
    """A closure cell that holds a module, a builtin or one of srcgrad's helpers, as generated code's do.

    Differentiating generated code again reads these as the objects they hold, so the new
    code spells them as the old code did (``np``, ``expand``).
    """
    try:
        value = cell.cell_contents
    except ValueError:
        return False
    builtin = getattr(builtins, getattr(value, "__name__", "?"), None)
    if isinstance(value, types.ModuleType) or builtin is value:
        return True
    return getattr(value, "__module__", None) == runtime.__name__ and callable(value)


class _Conflict:
    """Marks a free name that denotes different objects in different helpers."""


def _is_user_function(obj: Any) -> bool:
    if inspect.ismethod(obj):
        obj = obj.__func__
    return isinstance(obj, types.FunctionType) and lookup(obj) is None


def _is_simple(node: gast.expr) -> bool:
    """Cheap to repeat in the backward pass: a name, a literal, ``x.shape``, a tuple of those."""
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return isinstance(node.operand, gast.Constant)
    if isinstance(node, gast.Attribute):
        return _is_simple(node.value)
    if isinstance(node, (gast.Tuple, gast.List)):
        return all(_is_simple(e) for e in node.elts)
    if isinstance(node, gast.Slice):
        return all(p is None or _is_simple(p) for p in (node.lower, node.upper, node.step))
    return False


def _literal(value: Any) -> gast.expr | None:
    """A gast literal for a default value, or None when it is not a plain literal."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return gast.Constant(value=value, kind=None)
    if isinstance(value, tuple):
        elts = [_literal(v) for v in value]
        if all(e is not None for e in elts):
            return gast.Tuple(elts=elts, ctx=gast.Load())
    return None


@dataclass
class Scope:
    """One function being normalized: the top one, or a helper inlined into it."""

    parsed: ParsedFunction
    resolver: Resolver
    env: dict[str, gast.expr] = field(default_factory=dict)  # user name -> current atom
    module_alias: str | None = None  # set when the helper lives in another module
    base: tuple[Frame, ...] = ()  # the call sites that led here
    functions: dict[str, gast.FunctionDef] = field(default_factory=dict)  # nested defs and lambdas
    frames: tuple[Frame, ...] = ()  # ``base`` and the statement being normalized


class Normalizer:
    """Builds a :class:`Program` from a user function; see the module docstring."""

    def __init__(self, top: ParsedFunction, wrt: list[str], bound_self: Any = None) -> None:
        self.top = top
        self.bound_self = bound_self  # for a bound method: the object its first parameter denotes
        known: dict[str, Any] = {}
        reserved = set(NAMES_FOR_GENERATED_CODE) | {n for n in dir(runtime) if not n.startswith("_")}
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
        self.shared: set[str] = set()  # names whose array something else also holds (no in-place updates)
        self.packs: dict[str, list[gast.expr]] = {}  # tuples and lists built here: name -> elements
        self.lists: set[str] = set()  # names that hold lists (their adjoints are lists too)
        self.popped: set[str] = set()  # values taken from a list with pop(): unpacked by index
        self.active: set[str] = set()
        self.wrt = wrt
        self.stack: list[types.FunctionType] = []
        self.scope: Scope = Scope(top, Resolver(top))

    # -- errors and emission --------------------------------------------------------------

    def error(self, cls: type, node: gast.AST, message: str, hint: str) -> Exception:
        return self.scope.parsed.error(cls, node, message, hint)

    def emit(self, target: str, value: gast.expr, op: Op | None = None) -> str:
        self.out.append(Stmt(assign(target, value), self.scope.frames, op))
        return target

    def fresh(self, hint: str | None, base: str) -> str:
        return self.namer.fresh(hint or base)

    # -- the entry point ------------------------------------------------------------------

    def run(self) -> Program:
        node = self.top.node
        args = node.args
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
        for p in params:
            self.namer.taken.add(p)
            self.scope.env[p] = name(p)
        self.active = set(self.wrt)
        for cell_name, cell in self.top.closure.items():
            if _constant_cell(cell):  # np, expand... in generated code, differentiated again
                self.bindings.value(cell.cell_contents, cell_name)
            else:
                self.bindings.cell(cell, cell_name)
        result = self.function_body(node.body, None)
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

    # -- statements -----------------------------------------------------------------------

    def function_body(self, body: list[gast.stmt], hint: str | None) -> gast.expr:
        """Normalize a function body; returns the atom it returns."""
        body = restructure(body)
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
                value = gast.Constant(value=None, kind=None) if stmt.value is None else self.expr(stmt.value, hint)
                self.scope.env[RESULT] = value if _is_simple(value) else name(self.emit(self.fresh(hint, "result"), value))
            else:
                self.statement(stmt)

    def frame(self, stmt: gast.stmt) -> Frame:
        parsed = self.scope.parsed
        if isinstance(stmt, (gast.If, gast.For, gast.While, gast.With)):
            text = parsed.line(stmt.lineno).strip()  # the header line only
        else:
            text = parsed.statement_text(stmt)
        return Frame(text, parsed.filename, stmt.lineno, parsed.node.name)

    def statement(self, stmt: gast.stmt) -> None:
        if isinstance(stmt, gast.AugAssign):
            if isinstance(stmt.target, gast.Name):
                self.guard_alias(stmt.target.id, stmt)
            else:
                self.check_unshared(stmt.target, stmt)
            load = _copy(stmt.target)
            for sub in gast.walk(load):
                if hasattr(sub, "ctx"):
                    sub.ctx = gast.Load()
            value = gast.copy_location(gast.BinOp(left=load, op=stmt.op, right=stmt.value), stmt)
            stmt = gast.copy_location(gast.Assign(targets=[stmt.target], value=value, type_comment=None), stmt)
        if isinstance(stmt, gast.AnnAssign) and stmt.value is not None:
            stmt = gast.copy_location(gast.Assign(targets=[stmt.target], value=stmt.value, type_comment=None), stmt)
        if isinstance(stmt, gast.Assign):
            return self.assignment(stmt)
        if isinstance(stmt, gast.If):
            return self.if_statement(stmt)
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt)
        if isinstance(stmt, gast.Break):
            self.copy_back()
            self.out.append(Stmt(gast.Break(), self.scope.frames))
            return None
        if isinstance(stmt, gast.Expr):
            if isinstance(stmt.value, gast.Constant):
                return None  # a docstring
            call = stmt.value
            if (
                isinstance(call, gast.Call)
                and isinstance(call.func, gast.Attribute)
                and call.func.attr == "append"
                and isinstance(call.func.value, gast.Name)
                and call.func.value.id in self.scope.env
                and len(call.args) == 1
                and not call.keywords
            ):
                return self.append(call.func.value.id, call.args[0])
            if isinstance(stmt.value, (gast.Yield, gast.YieldFrom, gast.Await)):
                return self.refuse(stmt, "a generator" if not isinstance(stmt.value, gast.Await) else "async code")
            self.out.append(Stmt(gast.Expr(value=self.substitute(stmt.value)), self.scope.frames))
            return None
        if isinstance(stmt, gast.Pass):
            return None
        if isinstance(stmt, (gast.Assert, gast.Raise)):
            node = _copy(stmt)
            for field_ in ("test", "msg", "exc", "cause"):
                if getattr(node, field_, None) is not None:
                    setattr(node, field_, self.substitute(getattr(node, field_)))
            self.out.append(Stmt(node, self.scope.frames))
            return None
        if isinstance(stmt, gast.FunctionDef) and not stmt.decorator_list:
            self.scope.functions[stmt.name] = stmt  # inlined where it is called
            self.scope.env.pop(stmt.name, None)
            return None
        if isinstance(stmt, gast.With) and self.harmless_with(stmt):
            return self.block(stmt.body)
        return self.refuse(stmt, REFUSED.get(type(stmt), f"this {type(stmt).__name__.lower()} statement"))

    def refuse(self, node: gast.AST, what: str) -> None:
        raise self.error(
            UnsupportedSyntaxError,
            node,
            f"srcgrad cannot differentiate {what}",
            "move it out of the differentiated function, or rewrite it with "
            "assignments, if, for and while.",
        )

    def harmless_with(self, stmt: gast.With) -> bool:
        """``with np.errstate(...)`` only changes warnings; its body is differentiated as is."""
        return all(
            isinstance(item.context_expr, gast.Call)
            and self.scope.resolver.resolve(item.context_expr.func) is np.errstate
            and item.optional_vars is None
            for item in stmt.items
        )

    def assignment(self, stmt: gast.Assign) -> None:
        targets = stmt.targets
        if isinstance(stmt.value, gast.Lambda) and len(targets) == 1 and isinstance(targets[0], gast.Name):
            self.scope.functions[targets[0].id] = _lambda_def(stmt.value, targets[0].id)
            self.scope.env.pop(targets[0].id, None)
            return None
        if all(isinstance(t, gast.Name) for t in targets):
            atom = self.expr(stmt.value, targets[0].id)
            for target in targets:
                self.bind(target.id, atom)
            return
        if len(targets) == 1 and isinstance(targets[0], gast.Subscript):
            return self.set_item(targets[0], stmt.value)
        if len(targets) == 1 and isinstance(targets[0], (gast.Tuple, gast.List)):
            return self.unpack(targets[0], stmt.value)
        if not self.is_active(stmt.value) and not any(isinstance(t, gast.Subscript) for t in targets):
            renamed = [self.rename_targets(t) for t in targets]
            node = gast.Assign(targets=renamed, value=self.substitute(stmt.value), type_comment=None)
            self.out.append(Stmt(node, self.scope.frames))
            return
        self.refuse(stmt, "assignment to this target")

    def set_item(self, target: gast.Subscript, value: gast.expr) -> None:
        """``y[i] = v`` becomes ``y_1 = with_item(y, i, v)``: the caller's array stays untouched."""
        if not isinstance(target.value, gast.Name) or target.value.id not in self.scope.env:
            return self.refuse(target, "assignment into this subscript (assign into a local array variable)")
        self.check_unshared(target.value, target)
        array = self.atom(target.value)
        index = self.index_value(self.index(target.slice))
        item = self.atom(value)
        user_name = target.value.id
        if not self.is_active(target.value) and not self.is_active(value):
            call = gast.Call(func=self.spell(lookup(runtime.with_item)), args=[array, index, item], keywords=[])
            return self.bind_new(user_name, call)
        atom = self.apply(lookup(runtime.with_item), [array, index, item], {}, user_name, None)
        self.scope.env[user_name] = atom

    def check_unshared(self, target: gast.expr, stmt: gast.stmt) -> None:
        """Refuse an in-place update of an array that another name, a list or a view also holds.

        Python would change it everywhere; srcgrad's generated code updates a copy, so the
        two would disagree. A fresh array (``y = x.copy()``, ``np.zeros(n)``) is fine.
        """
        while isinstance(target, gast.Subscript):
            target = target.value
        atom = self.scope.env.get(target.id) if isinstance(target, gast.Name) else None
        if isinstance(atom, gast.Name) and atom.id in self.shared:
            raise self.error(
                UnsupportedSyntaxError,
                stmt,
                f"in-place update of {target.id}, whose array is also reachable another way here "
                "(another name, a list, or a view of it)",
                f"update a copy ({target.id} = {target.id}.copy() first) or rebind it "
                f"({target.id} = {target.id} + ...) so the other references keep the old value.",
            )

    def guard_alias(self, user_name: str, stmt: gast.stmt) -> None:
        """``c += b`` where ``c`` shares its value: fine for numbers (a new object), but an array
        would change in place under its other names too, so generated code refuses that at run time."""
        atom = self.scope.env.get(user_name)
        if not (isinstance(atom, gast.Name) and atom.id in self.shared):
            return
        frame = self.scope.frames[-1]
        array = gast.Attribute(value=name(self.bindings.value(np, "np")), attr="ndarray", ctx=gast.Load())
        test = gast.Call(func=name(self.bindings.value(isinstance, "isinstance")), args=[_copy(atom), array], keywords=[])
        error = gast.Call(
            func=name(self.bindings.value(runtime.aliased_update, "aliased_update")),
            args=[gast.Constant(value=user_name, kind=None), gast.Constant(value=f"{frame.filename}:{frame.lineno}", kind=None)],
            keywords=[],
        )
        self.out.append(Stmt(gast.If(test=test, body=[gast.Raise(exc=error, cause=None)], orelse=[]), self.scope.frames))

    def unpack(self, target: gast.Tuple | gast.List, value: gast.expr) -> None:
        """``a, (b, c) = ...``: every value is computed first, then bound; an active value
        that is not a tuple built here is indexed (``a = v[0]``)."""
        targets = target.elts
        if any(isinstance(t, gast.Starred) for t in targets):
            return self.refuse(target, "starred unpacking (index the sequence instead)")
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(targets):
            atoms = [self.atom(v, t.id if isinstance(t, gast.Name) else None) for t, v in zip(targets, value.elts)]
        elif self.is_active(value):
            atom = self.atom(value)
            parts = self.packs.get(atom.id) if isinstance(atom, gast.Name) else None
            if parts is not None and len(parts) == len(targets):
                atoms = parts
            else:
                if isinstance(atom, gast.Name) and atom.id in self.popped:  # a, b = tape.pop(): a tuple
                    self.lists.add(atom.id)
                whole = self.private(atom)
                atoms = [
                    self.atom(gast.Subscript(value=whole, slice=gast.Constant(value=i, kind=None), ctx=gast.Load()))
                    for i in range(len(targets))
                ]
        else:
            node = gast.Assign(targets=[self.rename_targets(target)], value=self.substitute(value), type_comment=None)
            self.out.append(Stmt(node, self.scope.frames))
            return None
        for t, atom in zip(targets, atoms):
            if isinstance(t, gast.Name):
                self.bind(t.id, atom)
            elif isinstance(t, gast.Subscript):
                self.set_item(t, self.private(atom))
            elif isinstance(t, (gast.Tuple, gast.List)):
                self.unpack(t, self.private(atom))
            else:
                self.refuse(t, "unpacking into this target")

    def private(self, atom: gast.expr) -> gast.Name:
        """A name user-level code can read ``atom`` through (it cannot collide with a user's)."""
        key = f"@value{len(self.scope.env)}"
        self.scope.env[key] = atom
        return name(key)

    def bind(self, user_name: str, atom: gast.expr) -> None:
        """Make ``user_name`` denote ``atom``: a fresh name, or an alias of an existing one."""
        if isinstance(atom, gast.Name) and (atom.id in self.namer.taken or atom.id in self.bindings.cells):
            aliased = any(
                isinstance(other, gast.Name) and other.id == atom.id and key != user_name
                for key, other in self.scope.env.items()
            )
            if aliased or atom.id in self.view_of:  # two names, one array: an in-place update changes both
                self.share(atom.id)
            self.scope.env[user_name] = atom
            return
        self.bind_new(user_name, atom)

    def view_base(self, value: gast.expr) -> str | None:
        """The name ``value`` may be a view of (``y`` in ``y[:2]``, ``y.T``, ``y.reshape(2, 3)``)."""
        base = None
        if isinstance(value, gast.Subscript) or (isinstance(value, gast.Attribute) and value.attr == "T"):
            base = value.value
        elif isinstance(value, gast.Call) and value.args:
            fn = self.scope.resolver.resolve(value.func)
            if fn in VIEWS or fn is np.asarray:
                base = value.args[0]
            elif isinstance(value.func, gast.Attribute) and value.func.attr in ("reshape", "ravel", "transpose", "squeeze", "swapaxes", "view"):
                base = value.func.value
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and not value.args:
            if value.func.attr in ("ravel", "transpose", "squeeze", "view"):
                base = value.func.value
        return base.id if isinstance(base, gast.Name) else None

    def share(self, generated: str) -> None:
        """``generated``'s array is held by a name, a list or a view too: no in-place updates."""
        while generated is not None and generated not in self.shared:
            self.shared.add(generated)
            generated = self.view_of.get(generated)

    def bind_new(self, user_name: str, value: gast.expr) -> None:
        new = self.namer.fresh(_base(user_name))
        self.emit(new, value)
        base = self.view_base(value)
        if base is not None:  # v = y[:2]: writing into v would write into y
            self.view_of[new] = base
            self.share(new)
        if isinstance(value, gast.List):
            self.lists.add(new)
        self.scope.env[user_name] = name(new)

    def append(self, user_name: str, value: gast.expr) -> None:
        """``items.append(v)`` as ``items_1 = items + [v]``: a new list, so no value is overwritten."""
        items = self.atom(name(user_name))
        item = self.atom(value)
        if isinstance(item, gast.Name):
            self.share(item.id)  # the list holds this array now
        forward = gast.BinOp(left=items, op=gast.Add(), right=gast.List(elts=[_copy(item)], ctx=gast.Load()))
        if self.is_active(name(user_name)) or self.is_active(value):
            target = self.namer.fresh(_base(user_name))
            args = {"items": items, "item": item}
            active = [p for p, a in args.items() if isinstance(a, gast.Name) and a.id in self.active]
            self.emit(target, forward, Op(target, APPEND, args, active))
            self.active.add(target)
            self.scope.env[user_name] = name(target)
        else:
            self.bind_new(user_name, forward)
            target = self.scope.env[user_name].id
        self.lists.add(target)

    def pop(self, user_name: str, hint: str | None) -> gast.expr:
        """``items.pop()`` as ``item = items[-1]`` then ``items_1 = items[:-1]``: no list changes in place.

        This is how a tape in generated gradient code is differentiated again (``hessian``).
        """
        items = self.scope.env[user_name]
        last = gast.Constant(value=-1, kind=None)
        forward = gast.Subscript(value=_copy(items), slice=_copy(last), ctx=gast.Load())
        item = self.apply(LIST_ITEM, [items, last], {}, hint or "item", forward)
        rest = gast.Slice(lower=None, upper=gast.Constant(value=-1, kind=None), step=None)
        forward = gast.Subscript(value=_copy(items), slice=_copy(rest), ctx=gast.Load())
        remaining = self.apply(LIST_ITEM, [items, self.index_value(rest)], {}, user_name.lstrip("@"), forward)
        self.lists.add(remaining.id)
        self.scope.env[user_name] = remaining
        self.popped.add(item.id)
        return item

    def comprehension(self, node: gast.ListComp | gast.GeneratorExp, hint: str | None) -> gast.expr:
        """``[f(x) for x in xs if c]`` as a loop that appends, with ``x`` private to it."""
        key = "@" + (hint or "items")
        body: gast.stmt = gast.Expr(
            value=gast.Call(
                func=gast.Attribute(value=gast.Name(id=key, ctx=gast.Load(), annotation=None, type_comment=None), attr="append", ctx=gast.Load()),
                args=[node.elt], keywords=[],
            )
        )
        for generator in reversed(node.generators):
            if generator.is_async:
                self.refuse(node, "async code")
            for test in reversed(generator.ifs):
                body = gast.If(test=test, body=[body], orelse=[])
            body = gast.For(target=generator.target, iter=generator.iter, body=[body], orelse=[], type_comment=None)
        start = gast.Assign(targets=[gast.Name(id=key, ctx=gast.Store(), annotation=None, type_comment=None)], value=gast.List(elts=[], ctx=gast.Load()), type_comment=None)
        for stmt in (start, body):
            for sub in gast.walk(stmt):
                if isinstance(sub, (gast.stmt, gast.expr)):
                    gast.copy_location(sub, node)
        private = {n.id for g in node.generators for n in gast.walk(g.target) if isinstance(n, gast.Name)}
        saved = {k: self.scope.env[k] for k in private if k in self.scope.env}
        frames = self.scope.frames
        self.statement(start)
        self.statement(body)
        self.scope.frames = frames
        result = self.scope.env.pop(key)
        for k in private:
            self.scope.env.pop(k, None)
        self.scope.env.update(saved)
        return result

    def rename_targets(self, target: gast.expr) -> gast.expr:
        if isinstance(target, gast.Name):
            new = self.namer.fresh(target.id)
            self.scope.env[target.id] = name(new)
            return gast.Name(id=new, ctx=gast.Store(), annotation=None, type_comment=None)
        if isinstance(target, (gast.Tuple, gast.List)):
            return type(target)(elts=[self.rename_targets(t) for t in target.elts], ctx=gast.Store())
        return self.refuse(target, "assignment to this target")

    def builtin(self, builtin_name: str, *args: gast.expr) -> gast.Call:
        """A call to a builtin, spelled so that no user global can shadow it."""
        func = name(self.bindings.value(getattr(builtins, builtin_name), builtin_name))
        return gast.Call(func=func, args=[_copy(a) for a in args], keywords=[])

    # -- branches and loops ---------------------------------------------------------------

    def nested(self, body: list[gast.stmt], env: dict[str, gast.expr]) -> tuple[list, dict[str, gast.expr]]:
        """Normalize ``body`` into a new block, starting from ``env``; returns the block and the env after."""
        outer_out, outer_env, frames = self.out, self.scope.env, self.scope.frames
        self.out, self.scope.env = [], dict(env)
        try:
            self.block(body)
            return self.out, self.scope.env
        finally:
            self.out, self.scope.env, self.scope.frames = outer_out, outer_env, frames

    def if_statement(self, stmt: gast.If) -> None:
        test = self.substitute(stmt.test)
        cond = test if isinstance(test, (gast.Name, gast.Constant)) else name(self.emit(self.fresh(None, "cond"), test))
        before = self.scope.env
        then, then_env = self.nested(stmt.body, before)
        orelse, else_env = self.nested(stmt.orelse, before)
        block = IfBlock(cond, then, orelse, self.scope.frames)
        self.out.append(block)
        live = [(b, e) for b, e in ((then, then_env), (orelse, else_env)) if not _exits(b)]
        merged = dict(before)
        for user_name in sorted({k for _, e in live for k in e}):
            # A name only some branches define is None on the others (where Python would have
            # no value for it at all), so that after the branch it has one generated name.
            atoms = [e.get(user_name, gast.Constant(value=None, kind=None)) for _, e in live]
            if all(_same(a, atoms[0]) for a in atoms):
                merged[user_name] = atoms[0]
            else:
                target = self.namer.fresh(_base(user_name))
                for (branch, _), atom in zip(live, atoms):
                    self.copy_into(branch, target, atom)
                block.merged.append(target)
                merged[user_name] = name(target)
        self.scope.env = merged

    def copy_into(self, block: list, target: str, atom: gast.expr, copyback: bool = False) -> None:
        """Append ``target = atom`` to ``block``; an active value carries its adjoint through.

        After a branch that exits (break, raise), the copy goes into the branch that goes on.
        """
        for leaf in _fallthrough(block):
            self._copy_into(leaf, target, atom, copyback)

    def _copy_into(self, block: list, target: str, atom: gast.expr, copyback: bool) -> None:
        active = isinstance(atom, gast.Name) and atom.id in self.active
        if isinstance(atom, gast.Name) and (atom.id in self.shared or atom.id in self.view_of):
            self.share(atom.id)
            self.share(target)
        op = Op(target, COPY, {"x": atom}, ["x"]) if active else None
        if active:
            self.active.add(target)
        if isinstance(atom, gast.Name) and atom.id in self.lists:  # a branch's list: still a list after it
            self.lists.add(target)
        last = [item for item in block if isinstance(item, Stmt) and not isinstance(item.node, gast.Break)]
        origin = last[-1].origin if last and block is not self.out else self.scope.frames
        stmt = Stmt(assign(target, _copy(atom)), origin, op, copyback)
        if block and isinstance(block[-1], Stmt) and isinstance(block[-1].node, gast.Break):
            block.insert(len(block) - 1, stmt)
        else:
            block.append(stmt)

    def loop(self, stmt: gast.For | gast.While) -> None:
        if stmt.orelse:
            return self.refuse(stmt, "a loop with an else clause")
        loop = LoopBlock("for" if isinstance(stmt, gast.For) else "while", [], self.scope.frames)
        body = list(stmt.body)
        before = dict(self.scope.env)
        targets = set()  # the user's loop variables, if the loop itself binds them (for t in range)
        if isinstance(stmt, gast.For):
            header = self.for_header(stmt, loop)
            if not header:
                targets = {n.id for n in gast.walk(stmt.target) if isinstance(n, gast.Name)}
            body = header + body
        if loop.kind == "while" or _breaks(stmt.body):
            loop.counter = self.namer.fresh("count")
            self.out.append(Stmt(assign(loop.counter, gast.Constant(value=0, kind=None)), self.scope.frames))
        # Names carried from one iteration to the next get one name for the whole loop.
        # (A loop variable defined before the loop is carried too: zero iterations leave it as it was.)
        exposed = _exposed(body) | (_read(stmt.test) if isinstance(stmt, gast.While) else set())
        carried = sorted(exposed & _assigned(body) & set(before) | targets & set(before) & self.live.get(id(stmt), set()))
        may_activate = _may_become_active(body, {k for k in self.scope.env if self.is_active(name(k))})
        for user_name in carried:
            atom = before[user_name]
            target = self.namer.fresh(_base(user_name))
            self.copy_into(self.out, target, atom)
            if isinstance(atom, gast.Name) and atom.id in self.lists:
                self.lists.add(target)
            if user_name in may_activate:
                self.active.add(target)
            if user_name not in targets:
                self.scope.env[user_name] = name(target)
            loop.carried.append(target)
        if isinstance(stmt, gast.While):
            loop.test = self.substitute(stmt.test)
        carried_names = {u: t for u, t in zip(carried, loop.carried)}
        self.loops.append((loop, carried_names))
        try:
            inner, env = self.nested(body, self.scope.env)
        finally:
            self.loops.pop()
        if loop.counter:
            count = gast.BinOp(left=name(loop.counter), op=gast.Add(), right=gast.Constant(value=1, kind=None))
            inner.insert(0, Stmt(assign(loop.counter, count), self.scope.frames))
        if not _exits(inner):
            for user_name, target in carried_names.items():
                if not _same(env[user_name], name(target)):
                    self.copy_into(inner, target, env[user_name], copyback=True)
        loop.body = inner or [Stmt(gast.Pass(), self.scope.frames)]
        self.out.append(loop)
        for user_name, target in carried_names.items():
            self.scope.env[user_name] = name(target)
        for user_name, atom in env.items():  # names first assigned in the loop keep their last value
            if user_name not in self.scope.env and user_name != RESULT:
                self.scope.env[user_name] = atom

    def copy_back(self) -> None:
        """Before a break: the carried names take the values of this iteration."""
        loop, carried = self.loops[-1]
        for user_name, target in carried.items():
            atom = self.scope.env.get(user_name)
            if atom is not None and not _same(atom, name(target)):
                self.copy_into(self.out, target, atom, copyback=True)

    def for_header(self, stmt: gast.For, loop: LoopBlock) -> list[gast.stmt]:
        """``for`` over range, or by index over a sequence, enumerate or zip.

        Returns the assignments that bind the user's loop variables inside the body.
        """
        iterator = stmt.iter
        func = self.scope.resolver.resolve(iterator.func) if isinstance(iterator, gast.Call) else None
        target = stmt.target
        backwards = func is reversed and len(iterator.args) == 1 and not self.is_active(iterator.args[0])
        if (func is range or backwards) and isinstance(target, gast.Name):
            steps = self.substitute(iterator)
            if backwards:  # reversed(steps) as steps[::-1]: a sequence, so it can be run backwards too
                reverse_ = gast.Slice(lower=None, upper=None, step=gast.Constant(value=-1, kind=None))
                steps = gast.Subscript(value=steps.args[0], slice=reverse_, ctx=gast.Load())
            loop.iterable = name(self.emit(self.fresh(None, "steps"), steps))
            loop.target = self.namer.fresh(target.id)
            self.scope.env[target.id] = name(loop.target)
            return []
        index = self.namer.fresh("i")
        loop.target = index
        index_key = "@" + index  # not an identifier, so no user name can collide with it
        self.scope.env[index_key] = name(index)
        length, assigns = self.iteration(target, iterator, name(index_key), stmt)
        loop.iterable = name(self.emit(self.fresh(None, "steps"), self.builtin("range", length)))
        return assigns

    def iteration(
        self, target: gast.expr, iterator: gast.expr, index: gast.Name, stmt: gast.stmt
    ) -> tuple[gast.expr, list[gast.stmt]]:
        """How many items ``iterator`` yields, and the assignments that bind ``target`` to item ``index``.

        ``enumerate`` and ``zip`` (nested too) become indexing of the sequences they walk.
        """
        func = self.scope.resolver.resolve(iterator.func) if isinstance(iterator, gast.Call) else None
        pair = isinstance(target, (gast.Tuple, gast.List))
        if func is enumerate and pair and len(target.elts) == 2 and 1 <= len(iterator.args) <= 2:
            start = iterator.args[1] if len(iterator.args) == 2 else None
            for keyword in iterator.keywords:
                start = keyword.value if keyword.arg == "start" else start
            counter = index if start is None else gast.BinOp(left=index, op=gast.Add(), right=start)
            length, assigns = self.iteration(target.elts[1], iterator.args[0], index, stmt)
            first = gast.Assign(targets=[target.elts[0]], value=_copy(counter), type_comment=None)
            return length, [gast.copy_location(first, stmt)] + assigns
        if func is zip and pair and len(target.elts) == len(iterator.args) and not iterator.keywords:
            parts = [self.iteration(t, a, index, stmt) for t, a in zip(target.elts, iterator.args)]
            lengths = [length for length, _ in parts]
            length = lengths[0] if len(lengths) == 1 else self.builtin("min", *lengths)
            return length, [a for _, assigns in parts for a in assigns]
        sequence = self.atom(iterator)
        key = f"@sequence{len(self.scope.env)}"  # the body reads the sequence through the user's names
        self.scope.env[key] = sequence
        item = gast.Subscript(value=name(key), slice=_copy(index), ctx=gast.Load())
        assign_ = gast.Assign(targets=[target], value=item, type_comment=None)
        return self.builtin("len", sequence), [gast.copy_location(assign_, stmt)]

    # -- expressions ----------------------------------------------------------------------

    def is_active(self, node: gast.AST) -> bool:
        """Does ``node``'s value depend on the differentiated arguments?

        Shapes (``x.shape``, ``len(x)``), comparisons and calls without a derivative
        (``np.floor(x)``) read active values but carry no derivative.
        """
        if isinstance(node, gast.Name):
            atom = self.scope.env.get(node.id)
            return isinstance(node.ctx, gast.Load) and isinstance(atom, gast.Name) and atom.id in self.active
        if isinstance(node, gast.Attribute) and node.attr in SHAPE_ATTRIBUTES:
            return False
        if isinstance(node, gast.Compare) or (isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not)):
            return False
        if isinstance(node, gast.IfExp):
            return self.is_active(node.body) or self.is_active(node.orelse)
        if isinstance(node, gast.Call):
            func = node.func
            if isinstance(func, gast.Lambda) or (isinstance(func, gast.Name) and func.id in self.scope.functions):
                return True  # a local function may read active names of the enclosing scope: inline it
            obj = self.scope.resolver.resolve(func)
            rule = lookup(obj) if obj is not UNRESOLVED else None
            if rule is not None and rule.nondiff:
                return False
        return any(self.is_active(child) for child in gast.iter_child_nodes(node))

    def substitute(self, node: gast.expr) -> gast.expr:
        """An inactive expression, with user names replaced by their generated names."""
        for call in gast.walk(node):
            if isinstance(call, gast.Call) and self.scope.resolver.resolve(call.func) in (eval, exec, globals, locals, vars):
                self.refuse(call, "eval, exec or a namespace lookup: srcgrad cannot see the code they run")
        env, scope = self.scope.env, self.scope

        class Rename(gast.NodeTransformer):
            def visit_Name(inner, n: gast.Name) -> gast.expr:
                if not isinstance(n.ctx, gast.Load):
                    return n
                if n.id in env:
                    return gast.copy_location(_copy(env[n.id]), n)
                return self.free_name(n, scope)

        return Rename().visit(_copy(node))

    def free_name(self, node: gast.Name, scope: Scope) -> gast.expr:
        """A global, closure or builtin name, as the generated code must spell it."""
        cell = scope.resolver.closure.get(node.id)
        if cell is not None and _constant_cell(cell):
            return name(self.bindings.value(cell.cell_contents, node.id))
        if cell is not None:
            return name(self.bindings.cell(cell, node.id))
        if scope.module_alias is not None and node.id in scope.parsed.globals:
            return gast.Attribute(value=name(scope.module_alias), attr=node.id, ctx=gast.Load())
        return name(node.id)

    def atom(self, node: gast.expr, hint: str | None = None) -> gast.expr:
        """Normalize ``node`` into something cheap to repeat: a name or a literal."""
        value = self.expr(node, hint)
        if _is_simple(value):
            return value
        return name(self.emit(self.fresh(hint, _base_name(value)), value))

    def expr(self, node: gast.expr, hint: str | None = None) -> gast.expr:
        """Normalize ``node``; returns an atom, or the expression itself when inactive."""
        if not self.is_active(node):
            return self.substitute(node)
        if isinstance(node, gast.Name):
            return _copy(self.scope.env[node.id])
        if isinstance(node, gast.BinOp) and type(node.op) in BINOPS:
            fn, base = BINOPS[type(node.op)]
            left, right = self.atom(node.left), self.atom(node.right)
            return self.apply(
                lookup(fn), [left, right], {}, hint or base, gast.BinOp(left=left, op=node.op, right=right)
            )
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            operand = self.atom(node.operand)
            return self.apply(
                lookup(np.negative), [operand], {}, hint or "neg", gast.UnaryOp(op=node.op, operand=operand)
            )
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.UAdd):
            return self.expr(node.operand, hint)
        if isinstance(node, gast.Call):
            return self.call(node, hint)
        if isinstance(node, gast.Attribute):
            return self.attribute(node, hint)
        if isinstance(node, gast.Subscript):
            value = self.atom(node.value)
            index = self.index(node.slice)
            forward = gast.Subscript(value=value, slice=index, ctx=gast.Load())
            if isinstance(value, gast.Name) and value.id in self.lists:
                return self.apply(LIST_ITEM, [value, self.index_value(index)], {}, hint or "item", forward)
            return self.apply(
                lookup(operator.getitem), [value, self.index_value(index)], {}, hint or "item", forward
            )
        if isinstance(node, (gast.Tuple, gast.List)):
            return self.pack(node, hint)
        if isinstance(node, (gast.ListComp, gast.GeneratorExp)):
            return self.comprehension(node, hint)
        if isinstance(node, gast.IfExp):
            test = self.substitute(node.test)
            return self.conditional(test, node.body, node.orelse, hint)
        if isinstance(node, gast.BoolOp):  # `a or b` is `a if a else b`; `a and b` is `b if a else a`
            first = self.atom(node.values[0])
            rest = node.values[1:]
            other = rest[0] if len(rest) == 1 else gast.BoolOp(op=node.op, values=rest)
            if isinstance(node.op, gast.Or):
                return self.conditional(first, first, other, hint)
            return self.conditional(first, other, first, hint)
        raise self.error(
            UnsupportedSyntaxError,
            node,
            f"srcgrad cannot differentiate a {type(node).__name__} expression yet",
            "compute the value in separate statements with numpy functions.",
        )

    def conditional(self, test: gast.expr, then: gast.expr, orelse: gast.expr, hint: str | None) -> gast.expr:
        """``then if test else orelse``: a branch in the generated code, each side computed only when taken."""
        cond = test if isinstance(test, (gast.Name, gast.Constant)) else name(self.emit(self.fresh(None, "cond"), test))
        target = self.fresh(hint, "choice")
        branches = []
        for value in (then, orelse):
            outer, self.out = self.out, []
            try:
                atom = value if isinstance(value, gast.Name) and value.id in self.namer.taken else self.atom(value)
                self.copy_into(self.out, target, atom)
                branches.append(self.out)
            finally:
                self.out = outer
        self.out.append(IfBlock(cond, branches[0], branches[1], self.scope.frames, [target]))
        return name(target)

    def index(self, node: gast.expr) -> gast.expr:
        """An index carries no derivative; non-trivial ones are computed once, in the forward pass."""
        index = self.substitute(node)
        if _is_simple(index):
            return index
        if isinstance(index, gast.Tuple) and all(
            _is_simple(e) or isinstance(e, gast.Slice) for e in index.elts
        ):
            elts = [e if _is_simple(e) else self.slice_atom(e) for e in index.elts]
            return gast.Tuple(elts=elts, ctx=gast.Load())
        if isinstance(index, gast.Slice):
            return self.slice_atom(index)
        return name(self.emit(self.fresh(None, "index"), index))

    def index_value(self, index: gast.expr) -> gast.expr:
        """The index as a value the backward pass can pass on: ``1:n`` becomes ``slice(1, n)``."""
        if isinstance(index, gast.Slice):
            parts = [
                p or gast.Constant(value=None, kind=None) for p in (index.lower, index.upper, index.step)
            ]
            return gast.Call(func=name(self.bindings.value(builtins.slice, "slice")), args=parts, keywords=[])
        if isinstance(index, gast.Tuple):
            return gast.Tuple(elts=[self.index_value(e) for e in index.elts], ctx=gast.Load())
        return index

    def slice_atom(self, node: gast.Slice) -> gast.Slice:
        parts = [
            p if p is None or _is_simple(p) else name(self.emit(self.fresh(None, "bound"), p))
            for p in (node.lower, node.upper, node.step)
        ]
        return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])

    def attribute(self, node: gast.Attribute, hint: str | None) -> gast.expr:
        if node.attr in SHAPE_ATTRIBUTES:
            return gast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=gast.Load())
        if node.attr == "T":
            value = self.atom(node.value)
            return self.apply(lookup(np.transpose), [value], {}, hint or "transpose", None)
        raise self.error(
            NoRuleError,
            node,
            f"no derivative rule for the attribute .{node.attr}",
            "use the numpy function instead (for example np.transpose(x) for x.T).",
        )

    def pack(self, node: gast.Tuple | gast.List, hint: str | None) -> gast.expr:
        elts = [self.atom(e) for e in node.elts]
        forward = type(node)(elts=elts, ctx=gast.Load())
        target = self.fresh(hint, "parts")
        args = {str(i): e for i, e in enumerate(elts)}
        active = [k for k, e in args.items() if isinstance(e, gast.Name) and e.id in self.active]
        self.emit(target, forward, Op(target, None, args, active))
        self.active.add(target)
        self.packs[target] = elts
        self.lists.add(target)
        for element in elts:
            if isinstance(element, gast.Name):
                self.share(element.id)
        return name(target)

    def call(self, node: gast.Call, hint: str | None) -> gast.expr:
        func = node.func
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.error(
                UnsupportedSyntaxError,
                node,
                "srcgrad cannot differentiate a call with *args or **kwargs",
                "pass the arguments one by one.",
            )
        if isinstance(func, gast.Name) and func.id in self.scope.functions and func.id not in self.scope.env:
            return self.inline_local(node, self.scope.functions[func.id], hint)
        if (
            isinstance(func, gast.Attribute)
            and func.attr == "pop"
            and isinstance(func.value, gast.Name)
            and not node.args
            and not node.keywords
            and getattr(self.scope.env.get(func.value.id), "id", None) in self.lists
        ):
            return self.pop(func.value.id, hint)
        if isinstance(func, gast.Lambda):
            return self.inline_local(node, _lambda_def(func, "lambda"), hint)
        obj = self.resolve_value(func)
        if isinstance(func, gast.Attribute) and (
            self.is_active(func.value) or (obj is UNRESOLVED and func.attr in METHODS)
        ):  # a method of an array: x.sum(), x.T.dot(w)
            return self.method(node, hint)
        rule = lookup(obj) if obj is not UNRESOLVED else None
        if rule is not None and rule.nondiff:
            return self.substitute(node)
        if rule is not None:
            args = [self.call_arg(a) for a in node.args]
            kwargs = {k.arg: self.call_arg(k.value) for k in node.keywords}
            return self.apply(rule, args, kwargs, hint or rule.name, None, node)
        if _is_user_function(obj):
            return self.inline(node, obj, hint)
        root = func
        while isinstance(root, gast.Attribute):
            root = root.value
        if obj is UNRESOLVED and isinstance(func, gast.Attribute) and isinstance(root, gast.Name) and root.id in self.scope.env:
            raise self.error(
                UnsupportedSyntaxError,
                node,
                f"cannot tell which function {root.id}.{func.attr} is: {root.id} is only known when the code runs",
                f"make {root.id} a global or closure variable, or differentiate the method itself "
                f"(srcgrad.grad({root.id}.{func.attr}))",
            )
        spelled = gast.gast_to_ast(func)
        import ast

        what = ast.unparse(spelled) if obj is UNRESOLVED else getattr(obj, "__qualname__", repr(obj))
        module = getattr(obj, "__module__", None)
        full = f"{module}.{what}" if module and obj is not UNRESOLVED and module != "builtins" else what
        raise self.error(
            NoRuleError,
            node,
            f"no derivative rule for {full}",
            f'register one with srcgrad.defrule({ast.unparse(spelled)}, "x", d_x="...", t_x="...") '
            f"or mark it with srcgrad.nondifferentiable({ast.unparse(spelled)}).",
        )

    def resolve_value(self, node: gast.expr) -> Any:
        """What ``node`` denotes: a global or closure object, or an attribute of a bound constant (``self.f``)."""
        obj = self.scope.resolver.resolve(node)
        if obj is not UNRESOLVED:
            return obj
        if isinstance(node, gast.Name):
            atom = self.scope.env.get(node.id)
            if isinstance(atom, gast.Name) and atom.id in self.bindings.values:
                return self.bindings.values[atom.id]
        if isinstance(node, gast.Attribute):
            base = self.resolve_value(node.value)
            if base is not UNRESOLVED and not isinstance(base, np.ndarray):
                return getattr(base, node.attr, UNRESOLVED)
        return UNRESOLVED

    def call_arg(self, node: gast.expr) -> gast.expr:
        if isinstance(node, (gast.List, gast.Tuple)) and self.is_active(node):
            return self.pack(node, None)
        return self.atom(node)

    def method(self, node: gast.Call, hint: str | None) -> gast.expr:
        func = node.func
        fn = METHODS.get(func.attr)
        if fn is None:
            raise self.error(
                NoRuleError,
                node,
                f"no derivative rule for the method .{func.attr}()",
                "call the numpy function instead (for example np.sum(x) for x.sum()).",
            )
        value = self.atom(func.value)
        args = [self.call_arg(a) for a in node.args]
        if fn in (np.reshape, np.transpose) and len(args) > 1:
            args = [gast.Tuple(elts=args, ctx=gast.Load())]  # x.reshape(2, 3) means shape (2, 3)
        kwargs = {k.arg: self.call_arg(k.value) for k in node.keywords}
        rule = lookup(fn)
        return self.apply(rule, [value] + args, kwargs, hint or rule.name, None, node)

    def apply(
        self,
        rule: Rule,
        args: list[gast.expr],
        kwargs: dict[str, gast.expr],
        base: str,
        forward: gast.expr | None,
        node: gast.AST | None = None,
    ) -> gast.expr:
        """Emit ``target = rule(args)``, recording which arguments carry derivatives."""
        bound = self.bind_args(rule, args, kwargs, node)
        if forward is None:
            keywords = [gast.keyword(arg=k, value=v) for k, v in kwargs.items()]
            func = self.spell(rule)
            forward = gast.Call(func=func, args=list(args), keywords=keywords)
        active = [
            p
            for p, a in bound.items()
            if isinstance(a, gast.Name) and a.id in self.active and p not in rule.zero
        ]
        missing = [p for p in active if p not in rule.vjp]
        if missing:
            raise self.error(
                NoRuleError,
                node or forward,
                f"{rule.spelling} has no derivative with respect to its argument {missing[0]!r}",
                f"pass a constant as {missing[0]!r}, or wrap it in srcgrad.stop_gradient.",
            )
        target = self.namer.fresh(base)
        self.emit(target, forward, Op(target, rule, bound, active) if active else None)
        if active:
            self.active.add(target)
        first = next(iter(bound.values()), None)
        if (rule.fn in VIEWS or rule is LIST_ITEM) and isinstance(first, gast.Name):
            self.view_of[target] = first.id  # shares memory with its operand
        return name(target)

    def spell(self, rule: Rule) -> gast.expr:
        """``np.exp`` for the rule's function, whatever the user called it."""
        head, *rest = rule.spelling.split(".")
        if head in NAMES_FOR_GENERATED_CODE:
            head = self.bindings.value(NAMES_FOR_GENERATED_CODE[head], head)
        elif head == "operator":
            head = self.bindings.value(operator, head)
        elif hasattr(runtime, head):
            head = self.bindings.value(getattr(runtime, head), head)
        node: gast.expr = name(head)
        for attr in rest:
            node = gast.Attribute(value=node, attr=attr, ctx=gast.Load())
        return node

    def bind_args(
        self, rule: Rule, args: list[gast.expr], kwargs: dict[str, gast.expr], node: gast.AST | None
    ) -> dict[str, gast.expr]:
        names = [p.name for p in rule.params]
        problem = None
        out = kwargs.get("out", args[names.index("out")] if "out" in names and len(args) > names.index("out") else None)
        if out is not None and not (isinstance(out, gast.Constant) and out.value is None):
            problem = f"srcgrad does not differentiate {rule.spelling} with out=: generated code never writes into arrays"
        if len(args) > len(names):
            problem = f"{rule.spelling} takes at most {len(names)} arguments here"
        bound = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names or key in bound:
                problem = f"srcgrad's rule for {rule.spelling} does not take the argument {key!r}"
            bound[key] = value
        for p in rule.params:
            if p.name not in bound:
                if p.default is REQUIRED:
                    problem = f"{rule.spelling} needs the argument {p.name!r}"
                else:
                    bound[p.name] = _copy(p.default)
        if problem:
            raise self.error(
                UnsupportedSyntaxError,
                node,
                problem,
                f"call {rule.spelling}({', '.join(names)}) with these arguments only.",
            )
        return {p.name: bound[p.name] for p in rule.params}

    # -- helper functions -----------------------------------------------------------------

    def inline(self, node: gast.Call, fn: types.FunctionType, hint: str | None) -> gast.expr:
        """Differentiate a call to the user's own function by inlining its body."""
        if getattr(fn, "__func__", fn) in self.stack or getattr(fn, "__func__", fn) is self.top.fn:
            raise self.error(
                UnsupportedSyntaxError,
                node,
                f"{fn.__name__} calls itself; srcgrad does not differentiate recursion",
                "rewrite the recursion as straight-line code.",
            )
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.error(
                UnsupportedSyntaxError,
                node,
                "srcgrad cannot differentiate a call with *args or **kwargs",
                "pass the arguments one by one.",
            )
        args = [self.atom(a) for a in node.args]
        kwargs = {k.arg: self.atom(k.value) for k in node.keywords}
        if inspect.ismethod(fn):  # obj.method(...): the object is a constant of the generated code
            args.insert(0, name(self.bindings.value(fn.__self__, "self")))
            fn = fn.__func__
        caller = self.scope
        parsed = parse_function(fn)
        try:
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise self.error(
                UnsupportedSyntaxError, node, f"bad call to {fn.__name__}: {exc}", "fix the call."
            ) from None
        if parsed.node.args.vararg is not None or parsed.node.args.kwarg is not None:
            raise self.error(
                UnsupportedSyntaxError,
                node,
                f"srcgrad cannot inline {fn.__name__}: it takes *args or **kwargs",
                "give the helper named parameters.",
            )
        env = dict(bound.arguments)
        for pname, param in inspect.signature(fn).parameters.items():
            if pname not in env:
                literal = _literal(param.default)
                env[pname] = (
                    literal if literal is not None else name(self.bindings.value(param.default, pname))
                )
        alias = None
        if fn.__globals__ is not self.top.globals:
            module = inspect.getmodule(fn)
            if module is None or module.__dict__ is not fn.__globals__:
                raise self.error(
                    UnsupportedSyntaxError,
                    node,
                    f"cannot find the module of {fn.__name__}",
                    "define the helper in an importable module.",
                )
            alias = self.bindings.value(module, module.__name__.rpartition(".")[2])
        self.scope = Scope(parsed, Resolver(parsed), env, alias, caller.frames)
        self.stack.append(fn)
        loops, self.loops = self.loops, []  # a helper's return is not inside the caller's loop
        try:
            result = self.function_body(parsed.node.body, hint)
        finally:
            self.stack.pop()
            self.scope, self.loops = caller, loops
        return result


    def inline_local(self, node: gast.Call, fn: gast.FunctionDef, hint: str | None) -> gast.expr:
        """A call to a def or lambda inside the differentiated function: inline it, reading the
        enclosing names as they are at the call (which is what a closure sees)."""
        if fn in self.stack:
            raise self.error(
                UnsupportedSyntaxError, node, f"{fn.name} calls itself; srcgrad does not differentiate recursion",
                "rewrite the recursion as a loop.",
            )
        args = fn.args
        if args.vararg is not None or args.kwarg is not None or args.posonlyargs or fn.decorator_list:
            return self.refuse(node, f"a call to {fn.name}, which takes *args, **kwargs or is decorated")
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return self.refuse(node, "a call with *args or **kwargs")
        params = [a.id for a in args.args] + [a.id for a in args.kwonlyargs]
        defaults = dict(zip([a.id for a in args.args][len(args.args) - len(args.defaults) :], args.defaults))
        defaults.update({a.id: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        values = dict(zip(params, [self.atom(a) for a in node.args]))
        for keyword in node.keywords:
            if keyword.arg not in params or keyword.arg in values:
                return self.refuse(node, f"this call to {fn.name} (its arguments do not match)")
            values[keyword.arg] = self.atom(keyword.value)
        for param in params:
            if param not in values:
                if param not in defaults:
                    return self.refuse(node, f"this call to {fn.name} (missing argument {param!r})")
                values[param] = self.atom(defaults[param])
        caller = self.scope
        parsed = ParsedFunction(caller.parsed.fn, fn, caller.parsed.path, caller.parsed.lines)
        resolver = Resolver(parsed)
        resolver.locals |= caller.resolver.locals
        env = dict(caller.env)
        env.pop(RESULT, None)
        env.update(values)
        self.scope = Scope(parsed, resolver, env, caller.module_alias, caller.frames, dict(caller.functions))
        self.stack.append(fn)
        loops, self.loops = self.loops, []
        try:
            return self.function_body(fn.body, hint)
        finally:
            self.stack.pop()
            self.scope, self.loops = caller, loops


def _lambda_def(node: gast.Lambda, name_: str) -> gast.FunctionDef:
    body = gast.copy_location(gast.Return(value=node.body), node)
    fn = gast.FunctionDef(
        name=name_, args=node.args, body=[body], decorator_list=[], returns=None, type_comment=None, type_params=[]
    )
    return gast.copy_location(fn, node)


def _base_name(value: gast.expr) -> str:
    """A temporary's name says what computed it: ``sub`` for ``1 - y``, ``ones`` for ``np.ones(n)``."""
    if isinstance(value, gast.BinOp) and type(value.op) in BINOPS:
        return BINOPS[type(value.op)][1]
    if isinstance(value, gast.Call):
        func = value.func
        if isinstance(func, gast.Attribute):
            return func.attr
        if isinstance(func, gast.Name):
            return func.id
    if isinstance(value, gast.Subscript):
        return "item"
    return "tmp"


def _copy(node: gast.AST) -> gast.AST:
    import copy

    return copy.deepcopy(node)


def normalize(parsed: ParsedFunction, wrt: list[str], bound_self: Any = None) -> Program:
    """The A-normal form of ``parsed``, with ``wrt`` parameters as the active inputs."""
    return Normalizer(parsed, wrt, bound_self).run()
