"""Stage 3: rewrite a function (and the helpers it calls, inlined) into A-normal form.

Each statement of the result applies one primitive. Sub-expressions that do not depend
on the differentiated arguments ("inactive") stay as the user wrote them; every active
value gets a name derived from the user's variable or from the operation (``mul``,
``exp``), and a name assigned twice is renamed (``x_1``) so each is assigned once.
"""

from __future__ import annotations

import builtins
import inspect
import operator
import types
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from . import runtime
from .errors import NoRuleError, UnsupportedSyntaxError
from .ir import Bindings, Frame, Namer, Op, Program, Stmt, assign, name
from .parse import ParsedFunction, parse_function
from .resolve import UNRESOLVED, Resolver
from .rules import Rule, lookup
from .rules.registry import REQUIRED

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
}  # fmt: skip
SHAPE_ATTRIBUTES = {"shape", "ndim", "size", "dtype"}
NAMES_FOR_GENERATED_CODE = {"np": np, "math": __import__("math")}


class _Conflict:
    """Marks a free name that denotes different objects in different helpers."""


def _is_user_function(obj: Any) -> bool:
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
    frames: tuple[Frame, ...] = ()  # ``base`` and the statement being normalized


class Normalizer:
    """Builds a :class:`Program` from a user function; see the module docstring."""

    def __init__(self, top: ParsedFunction, wrt: list[str]) -> None:
        self.top = top
        known: dict[str, Any] = {}
        reserved = set(NAMES_FOR_GENERATED_CODE) | {n for n in dir(runtime) if not n.startswith("_")}
        self._prescan(top, known, reserved, set())
        self.namer = Namer(reserved)
        self.bindings = Bindings(self.namer, known)
        self.body: list[Stmt] = []
        self.active: set[str] = set()
        self.wrt = wrt
        self.stack: list[types.FunctionType] = []
        self.deps: list[tuple[Resolver, gast.expr, Any]] = []  # helpers inlined, for the cache
        self.scope: Scope = Scope(top, Resolver(top))

    # -- set-up ---------------------------------------------------------------------------

    def _prescan(self, parsed: ParsedFunction, known: dict, reserved: set, seen: set) -> None:
        """Reserve every free name in the call tree, so no temporary can shadow one."""
        if parsed.fn in seen:
            return
        seen.add(parsed.fn)
        resolver = Resolver(parsed)
        for node in gast.walk(parsed.node):
            if isinstance(node, gast.Name) and node.id not in resolver.locals:
                reserved.add(node.id)
                cell = resolver.closure.get(node.id)
                obj = cell if cell is not None else resolver.resolve(node)
                if known.setdefault(node.id, obj) is not obj:
                    known[node.id] = _Conflict  # two meanings: no binding may take this name
            if isinstance(node, gast.Call):
                obj = resolver.resolve(node.func)
                if _is_user_function(obj):
                    try:
                        self._prescan(parse_function(obj), known, reserved, seen)
                    except Exception:  # reported with its location when the call is reached
                        pass

    # -- errors and emission --------------------------------------------------------------

    def error(self, cls: type, node: gast.AST, message: str, hint: str) -> Exception:
        return self.scope.parsed.error(cls, node, message, hint)

    def emit(self, target: str, value: gast.expr, op: Op | None = None) -> str:
        self.body.append(Stmt(assign(target, value), self.scope.frames, op))
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
        params = [a.id for a in args.posonlyargs + args.args + args.kwonlyargs]
        for p in params:
            self.namer.taken.add(p)
            self.scope.env[p] = name(p)
        self.active = set(self.wrt)
        for cell_name, cell in self.top.closure.items():
            self.bindings.cell(cell, cell_name)
        result = self.function_body(node.body, None)
        return Program(
            node.name,
            args,
            params,
            self.body,
            result,
            self.active,
            self.namer,
            self.bindings,
            self.scope.frames,
            self.deps,
        )

    # -- statements -----------------------------------------------------------------------

    def function_body(self, body: list[gast.stmt], hint: str | None) -> gast.expr:
        """Normalize a body of straight-line statements; returns the atom it returns."""
        for i, stmt in enumerate(body):
            self.scope.frames = self.scope.base + (self.frame(stmt),)
            if isinstance(stmt, gast.Return):
                if i != len(body) - 1:
                    raise self.error(
                        UnsupportedSyntaxError,
                        body[i + 1],
                        "statement after return",
                        "remove the unreachable code after the return statement.",
                    )
                if stmt.value is None:
                    return gast.Constant(value=None, kind=None)
                return self.expr(stmt.value, hint)
            self.statement(stmt)
        return gast.Constant(value=None, kind=None)

    def frame(self, stmt: gast.stmt) -> Frame:
        parsed = self.scope.parsed
        return Frame(parsed.statement_text(stmt), parsed.filename, stmt.lineno, parsed.node.name)

    def statement(self, stmt: gast.stmt) -> None:
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            load = gast.Name(id=stmt.target.id, ctx=gast.Load(), annotation=None, type_comment=None)
            value = gast.copy_location(gast.BinOp(left=load, op=stmt.op, right=stmt.value), stmt)
            stmt = gast.copy_location(
                gast.Assign(targets=[stmt.target], value=value, type_comment=None), stmt
            )
        if isinstance(stmt, gast.AnnAssign) and stmt.value is not None:
            stmt = gast.copy_location(
                gast.Assign(targets=[stmt.target], value=stmt.value, type_comment=None), stmt
            )
        if isinstance(stmt, gast.Assign):
            return self.assignment(stmt)
        if isinstance(stmt, gast.Expr):
            if isinstance(stmt.value, gast.Constant):
                return None  # a docstring
            self.body.append(Stmt(gast.Expr(value=self.substitute(stmt.value)), self.scope.frames))
            return None
        if isinstance(stmt, gast.Pass):
            return None
        if isinstance(stmt, gast.Assert):
            node = gast.Assert(test=self.substitute(stmt.test), msg=stmt.msg and self.substitute(stmt.msg))
            self.body.append(Stmt(node, self.scope.frames))
            return None
        kind = type(stmt).__name__.lower()
        raise self.error(
            UnsupportedSyntaxError,
            stmt,
            f"srcgrad cannot differentiate this {kind} statement yet",
            "write the function as straight-line code: use np.where for elementwise choices "
            "and vectorized numpy calls instead of loops.",
        )

    def assignment(self, stmt: gast.Assign) -> None:
        targets = stmt.targets
        if not all(isinstance(t, gast.Name) for t in targets):
            if not self.is_active(stmt.value):
                renamed = [self.rename_targets(t) for t in targets]
                node = gast.Assign(targets=renamed, value=self.substitute(stmt.value), type_comment=None)
                self.body.append(Stmt(node, self.scope.frames))
                return
            raise self.error(
                UnsupportedSyntaxError,
                stmt,
                "srcgrad cannot differentiate assignment to this target yet",
                "assign the value to a plain variable name.",
            )
        hint = targets[0].id
        atom = self.expr(stmt.value, hint)
        for target in targets:
            self.bind(target.id, atom)

    def bind(self, user_name: str, atom: gast.expr) -> None:
        """Make ``user_name`` denote ``atom``: a fresh name, or an alias of an existing one."""
        if isinstance(atom, gast.Name) and (atom.id in self.namer.taken or atom.id in self.bindings.cells):
            self.scope.env[user_name] = atom
            return
        new = self.namer.fresh(user_name)
        self.emit(new, atom)
        self.scope.env[user_name] = name(new)

    def rename_targets(self, target: gast.expr) -> gast.expr:
        if isinstance(target, gast.Name):
            new = self.namer.fresh(target.id)
            self.scope.env[target.id] = name(new)
            return gast.Name(id=new, ctx=gast.Store(), annotation=None, type_comment=None)
        if isinstance(target, (gast.Tuple, gast.List)):
            return type(target)(elts=[self.rename_targets(t) for t in target.elts], ctx=gast.Store())
        raise self.error(
            UnsupportedSyntaxError,
            target,
            "srcgrad cannot assign to this target yet",
            "assign to plain variable names.",
        )

    # -- expressions ----------------------------------------------------------------------

    def is_active(self, node: gast.AST) -> bool:
        """Does ``node`` read a variable that depends on the differentiated arguments?"""
        for sub in gast.walk(node):
            if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Load):
                atom = self.scope.env.get(sub.id)
                if isinstance(atom, gast.Name) and atom.id in self.active:
                    return True
        return False

    def substitute(self, node: gast.expr) -> gast.expr:
        """An inactive expression, with user names replaced by their generated names."""
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
            return self.apply(
                lookup(operator.getitem), [value, self.index_value(index)], {}, hint or "item", forward
            )
        if isinstance(node, (gast.Tuple, gast.List)):
            return self.pack(node, hint)
        if isinstance(node, (gast.Compare, gast.BoolOp)) or (
            isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not)
        ):
            return self.substitute(node)  # booleans carry no derivative
        raise self.error(
            UnsupportedSyntaxError,
            node,
            f"srcgrad cannot differentiate a {type(node).__name__} expression yet",
            "compute the value in separate statements with numpy functions.",
        )

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
        obj = self.scope.resolver.resolve(func)
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
            self.deps.append((self.scope.resolver, func, obj))
            return self.inline(node, obj, hint)
        spelled = gast.gast_to_ast(func)
        import ast

        what = ast.unparse(spelled) if obj is UNRESOLVED else getattr(obj, "__qualname__", repr(obj))
        module = getattr(obj, "__module__", None)
        full = f"{module}.{what}" if module and obj is not UNRESOLVED and module != "builtins" else what
        raise self.error(
            NoRuleError,
            node,
            f"no derivative rule for {full}",
            f'register one with srcgrad.defvjp({ast.unparse(spelled)}, "x", d_x="...") '
            f"or mark it with srcgrad.nondifferentiable({ast.unparse(spelled)}).",
        )

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
        active = [p for p, a in bound.items() if isinstance(a, gast.Name) and a.id in self.active]
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
        return name(target)

    def spell(self, rule: Rule) -> gast.expr:
        """``np.exp`` for the rule's function, whatever the user called it."""
        head, *rest = rule.spelling.split(".")
        if head in NAMES_FOR_GENERATED_CODE:
            head = self.bindings.value(NAMES_FOR_GENERATED_CODE[head], head)
        elif head == "operator":
            head = self.bindings.value(operator, head)
        node: gast.expr = name(head)
        for attr in rest:
            node = gast.Attribute(value=node, attr=attr, ctx=gast.Load())
        return node

    def bind_args(
        self, rule: Rule, args: list[gast.expr], kwargs: dict[str, gast.expr], node: gast.AST | None
    ) -> dict[str, gast.expr]:
        names = [p.name for p in rule.params]
        problem = None
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
        if fn in self.stack or fn is self.top.fn:
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
        try:
            result = self.function_body(parsed.node.body, hint)
        finally:
            self.stack.pop()
            self.scope = caller
        return result


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
    return "tmp"


def _copy(node: gast.AST) -> gast.AST:
    import copy

    return copy.deepcopy(node)


def normalize(parsed: ParsedFunction, wrt: list[str]) -> Program:
    """The A-normal form of ``parsed``, with ``wrt`` parameters as the active inputs."""
    return Normalizer(parsed, wrt).run()
