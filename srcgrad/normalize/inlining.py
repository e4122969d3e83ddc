"""The user's own functions (module-level, nested, lambdas, methods), inlined where called."""

from __future__ import annotations

import ast
import copy
import inspect
import sys
import types
from typing import TYPE_CHECKING, Any

import gast

from ..errors import NoRuleError, SourceUnavailableError, UnsupportedSyntaxError
from ..ir import name
from ..parse import ParsedFunction, parse_function
from ..resolve import LIBRARIES, Resolver
from ..rules.registry import _installed
from ..trees import walk
from .analysis import _literal
from .primitives import RESULT
from .scope import Scope

if TYPE_CHECKING:
    pass


class Inlining:
    """Part of :class:`Normalizer`: the user's own functions (module-level, nested, lambdas, methods), inlined where called."""

    def inline(
        self, node: gast.Call, fn: types.FunctionType, hint: str | None, self_atom: gast.expr | None = None
    ) -> gast.expr:
        """Differentiate a call to the user's own function by inlining its body."""
        if getattr(fn, "__func__", fn) in self.stack or getattr(fn, "__func__", fn) is self.top.fn:
            raise self.error(
                UnsupportedSyntaxError,
                node,
                f"{fn.__name__} calls itself; srcgrad does not differentiate recursion",
                "rewrite the recursion as straight-line code.",
            )
        module = getattr(getattr(fn, "__func__", fn), "__module__", None) or ""
        top = module.partition(".")[0]
        code = getattr(getattr(fn, "__func__", fn), "__code__", None)
        made_by_exec = code is not None and code.co_filename.startswith("<")
        if (top in LIBRARIES or top in sys.stdlib_module_names) and _installed(module) and not made_by_exec:
            spelled = ast.unparse(gast.gast_to_ast(node.func))
            raise self.error(
                NoRuleError,
                node,
                f"no derivative rule for {spelled} (from {module})",
                f"register one with @srcgrad.adjoint({spelled}) or mark it non-differentiable.",
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
        elif self_atom is not None:  # model.loss(...) for an argument model: self is the argument
            args.insert(0, self_atom)
        caller = self.scope
        try:
            parsed = parse_function(fn)
        except SourceUnavailableError as exc:  # (made by exec): say so at the call, in the user's file
            raise self.error(SourceUnavailableError, node, f"{exc.message} (called here)", exc.hint) from None
        try:
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise self.error(
                UnsupportedSyntaxError, node, f"bad call to {fn.__name__}: {exc}", "fix the call."
            ) from None
        env = self.pack_variadic(dict(bound.arguments), parsed.node.args)
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
        body = _yields_collected(parsed.node.body) if inspect.isgeneratorfunction(fn) else parsed.node.body
        try:
            result = self.function_body(body, hint)
        finally:
            self.stack.pop()
            self.scope, self.loops = caller, loops
        return result

    def pack_variadic(self, env: dict[str, Any], args: gast.arguments) -> dict[str, Any]:
        """A helper's ``*args`` and ``**kwargs`` are known at each call: bind them to a tuple and a
        dict of the call's own arguments, so the helper inlines like any other."""
        if args.vararg is not None:
            items = list(env.get(args.vararg.id, ()))
            env[args.vararg.id] = self.pack_atoms(items, gast.Tuple, args.vararg.id)
        if args.kwarg is not None:
            items = env.get(args.kwarg.id, {})
            keys = [gast.Constant(value=k, kind=None) for k in items]
            env[args.kwarg.id] = self.pack_dict_atoms(keys, list(items.values()), args.kwarg.id)
        return env

    def inline_nested(self, node: gast.Call, nested: Any, hint: str | None) -> gast.expr:
        """``g(x)`` for ``g = srcgrad.grad(lambda t: ...)``: the generated derivative, inlined, with
        the enclosing function's names it reads passed as they are now."""
        extra = [
            gast.keyword(arg=n, value=gast.Name(id=n, ctx=gast.Load(), annotation=None, type_comment=None))
            for n in nested.captured
        ]
        if any(k.arg in nested.captured for k in node.keywords):
            return self.refuse(node, "this call (it passes a keyword the function reads from outside)")
        call = gast.copy_location(
            gast.Call(func=node.func, args=node.args, keywords=node.keywords + extra), node
        )
        result = self.inline(call, nested.function, hint)
        return self.pack_atoms([result], gast.Tuple, hint) if nested.one_tuple else result

    def inline_local(self, node: gast.Call, fn: gast.FunctionDef, hint: str | None) -> gast.expr:
        """A call to a def or lambda inside the differentiated function: inline it, reading the
        enclosing names as they are at the call (which is what a closure sees)."""
        if fn in self.stack:
            raise self.error(
                UnsupportedSyntaxError,
                node,
                f"{fn.name} calls itself; srcgrad does not differentiate recursion",
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


YIELDED = "@yielded"  # not an identifier: no user name collides with it


def _yields_collected(body: list[gast.stmt]) -> list[gast.stmt]:
    """A generator's body as a function that returns the list of what it yields (a loop in the
    differentiated code consumes all of it): ``yield v`` appends ``v``, ``return`` returns the list.
    A ``yield`` used as a value, and ``yield from``, stay (and are refused as generators are)."""

    def items() -> gast.Name:
        return gast.Name(id=YIELDED, ctx=gast.Load(), annotation=None, type_comment=None)

    class Collect(gast.NodeTransformer):
        def visit_Expr(self, node: gast.Expr) -> gast.stmt:
            if isinstance(node.value, gast.Yield) and node.value.value is not None:
                append = gast.Attribute(value=items(), attr="append", ctx=gast.Load())
                call = gast.Call(func=append, args=[node.value.value], keywords=[])
                return gast.copy_location(gast.Expr(value=call), node)
            return node

        def visit_Return(self, node: gast.Return) -> gast.stmt:
            return gast.copy_location(gast.Return(value=items()), node)

        def visit_FunctionDef(self, node: gast.FunctionDef) -> gast.stmt:
            return node  # a nested function's own yields and returns are its own

        visit_Lambda = visit_FunctionDef

    start = gast.Assign(
        targets=[gast.Name(id=YIELDED, ctx=gast.Store(), annotation=None, type_comment=None)],
        value=gast.List(elts=[], ctx=gast.Load()),
        type_comment=None,
    )
    collected = [Collect().visit(copy.deepcopy(stmt)) for stmt in body]
    end = gast.Return(value=items())
    for stmt in (start, end):
        for sub in walk(stmt):
            if isinstance(sub, (gast.stmt, gast.expr)):
                gast.copy_location(sub, body[0])
    return [start, *collected, end]
