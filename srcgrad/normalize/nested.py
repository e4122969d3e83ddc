"""srcgrad's own operators called inside a differentiated function:
``g = srcgrad.grad(lambda t: np.sum(np.sin(t * w)))`` and then ``g(x)``.

The inner function (a lambda, a nested def or a global function) is transformed while the
outer one is normalized; the generated gradient code is then inlined where ``g`` is called, as
any helper is, and differentiated again with the outer function (generated code can always be
differentiated again). The names of the outer function that the inner one reads (``w``)
become keyword-only parameters of the inner function, and each call passes their values at
that moment, which is what a closure reads.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gast

from .. import cache, parse
from ..errors import SrcGradError, UnsupportedSyntaxError
from ..parse import ParsedFunction
from ..resolve import UNRESOLVED, unbound
from ..trees import walk
from .analysis import _is_user_function, _lambda_def
from .primitives import RESULT


@dataclass
class NestedGradient:
    """What ``srcgrad.grad(inner, ...)`` denotes in generated code: the compiled derivative and
    the names of the outer function it reads (passed as keywords at each call)."""

    function: types.FunctionType
    captured: tuple[str, ...]
    one_tuple: bool = False  # wrt=("t",): the generated function's result in a 1-tuple


def _operators() -> dict[Any, str]:
    from .. import api

    names = ("grad", "value_and_grad", "elementwise_grad", "jacobian", "hessian")
    return {getattr(api, n): n for n in names}


def _others() -> dict[Any, str]:
    from .. import api

    return {api.vjp: "vjp", api.jvp: "jvp", api.check_grads: "check_grads"}


@contextlib.contextmanager
def _no_disk_cache() -> Iterator[None]:
    """The inner function is made here, from part of the outer one's source: the outer
    transform's disk entry covers it, and it has no source text of its own to key an entry by."""
    token = cache.DISABLED.set(True)
    try:
        yield
    finally:
        cache.DISABLED.reset(token)


@dataclass
class BranchDefined:
    """A local function an ``if`` defines differently on its paths: which one a later call
    means is only known when the code runs, and srcgrad inlines one definition per call."""

    lineno: int


class Nested:
    """Part of :class:`Normalizer`: srcgrad's operators called in the differentiated function,
    and the local functions (defs, lambdas, derivatives) that the branches of an ``if`` define."""

    def nested(self, body: list[gast.stmt], env: dict[str, gast.expr]) -> tuple[list, dict[str, gast.expr]]:
        branches = self.__dict__.get("_if_branches")
        self._if_branches = None  # the ifs and loops inside this block keep their own
        saved = dict(self.scope.functions)
        try:
            return super().nested(body, env)  # type: ignore[misc]
        finally:
            if branches is not None:  # a branch of an if: the next one starts from before it
                branches.append(dict(self.scope.functions))
                self.scope.functions.clear()
                self.scope.functions.update(saved)
            self._if_branches = branches

    def if_statement(self, stmt: gast.If) -> None:
        outer = self.__dict__.get("_if_branches")
        self._if_branches = branches = []
        try:
            super().if_statement(stmt)  # type: ignore[misc]
        finally:
            self._if_branches = outer
        if len(branches) != 2:
            return
        then, orelse = branches
        for key in sorted(set(then) | set(orelse)):
            first, second = then.get(key), orelse.get(key)
            self.scope.functions.pop(key, None)
            if first is second:
                self.scope.functions[key] = first
            else:
                self.scope.functions[key] = BranchDefined(stmt.lineno)

    def branch_defined(self, node: gast.AST, key: str, where: BranchDefined) -> Exception:
        return self.error(
            UnsupportedSyntaxError,
            node,
            f"srcgrad cannot tell which function {key} is here: the if at line {where.lineno} defines "
            "it differently on its paths, and srcgrad inlines one definition where a function is called",
            f"call {key} inside the branches, or give each definition its own name.",
        )

    def nested_operator(self, call: gast.expr) -> NestedGradient | None:
        """``srcgrad.grad(inner, wrt, mode=...)``: the derivative it makes; None for any other call."""
        if not isinstance(call, gast.Call):
            return None
        obj = self.resolve_value(call.func)
        if obj is UNRESOLVED:
            return None
        try:
            operator_name = _operators().get(obj)
            other = _others().get(obj)
        except TypeError:  # an unhashable object
            return None
        spelled = ast.unparse(gast.gast_to_ast(copy.deepcopy(call.func)))
        if other is not None:
            raise self.error(
                UnsupportedSyntaxError,
                call,
                f"srcgrad cannot differentiate a call to {spelled} inside a differentiated function",
                "use srcgrad.grad, value_and_grad, elementwise_grad, jacobian or hessian of a function "
                "there, or call it outside.",
            )
        if operator_name is None:
            return None
        if not call.args or any(isinstance(a, gast.Starred) for a in call.args) or len(call.args) > 2:
            raise self.error(
                UnsupportedSyntaxError,
                call,
                f"srcgrad differentiates {spelled}(f, wrt) inside a function only with the function "
                "and at most wrt as positional arguments",
                f"write {spelled}(f, wrt=..., mode=...).",
            )
        options: dict[str, Any] = {}
        given = [("wrt", call.args[1])] if len(call.args) == 2 else []
        for key, value in given + [(k.arg, k.value) for k in call.keywords]:
            try:
                options[key] = ast.literal_eval(ast.unparse(gast.gast_to_ast(copy.deepcopy(value))))
            except (ValueError, SyntaxError, TypeError):
                raise self.error(
                    UnsupportedSyntaxError,
                    call,
                    f"srcgrad needs {key}= of {spelled} written as a literal inside a differentiated "
                    "function (it decides the code generated for the call)",
                    f"write {key} as a number, a string or a tuple of them.",
                ) from None
        inner, captured = self.nested_function(call, call.args[0], spelled)
        try:
            with _no_disk_cache():
                derivative = obj(inner, **options)
        except SrcGradError:
            raise
        except TypeError as exc:
            raise self.error(
                UnsupportedSyntaxError, call, f"bad call to {spelled}: {exc}", "fix the call."
            ) from None
        function = getattr(derivative, "__wrapped__", derivative)  # wrt=("x",): the 1-tuple wrapper
        return NestedGradient(function, captured, function is not derivative)

    def nested_function(
        self, call: gast.Call, node: gast.expr, spelled: str
    ) -> tuple[types.FunctionType, tuple[str, ...]]:
        """The function ``node`` denotes, as a Python function whose outer names are keyword-only
        parameters (a lambda or nested def), or the global function itself."""
        if isinstance(node, gast.Lambda):
            definition = _lambda_def(node, "lambda")
        elif (
            isinstance(node, gast.Name) and node.id in self.scope.functions and node.id not in self.scope.env
        ):
            definition = self.scope.functions[node.id]
            if isinstance(definition, BranchDefined):
                raise self.branch_defined(call, node.id, definition)
            if not isinstance(definition, gast.FunctionDef):
                raise self.error(
                    UnsupportedSyntaxError,
                    call,
                    f"srcgrad cannot differentiate {spelled} of {node.id}, itself made by an operator, "
                    "inside a differentiated function",
                    f"apply {spelled} to a function written with def or lambda.",
                )
        else:
            obj = self.resolve_value(node)
            if obj is not UNRESOLVED and _is_user_function(obj):
                self.deps.append((self.scope.resolver, node, unbound(obj)))  # stale if rebound
                return obj, ()
            raise self.error(
                UnsupportedSyntaxError,
                call,
                f"srcgrad cannot differentiate {spelled} of {ast.unparse(gast.gast_to_ast(copy.deepcopy(node)))} "
                "inside a differentiated function: it must be a lambda, a def of the function or a "
                "global function",
                "pass a lambda or a function defined with def.",
            )
        definitions, captured = self.captured(definition, call)
        return self.compile_nested(definition, definitions, captured, call), captured

    def captured(
        self, definition: gast.FunctionDef, call: gast.Call
    ) -> tuple[list[gast.FunctionDef], tuple[str, ...]]:
        """The local functions ``definition`` calls (copied into it) and the outer names it reads."""
        outer = (set(self.scope.env) | set(self.scope.resolver.locals)) - {RESULT}
        todo, seen, names = [definition], [definition], set()
        while todo:
            fn = todo.pop()
            inner = ParsedFunction(self.scope.parsed.fn, fn, self.scope.parsed.path, self.scope.parsed.lines)
            local = inner.local_names
            for n in inner.nodes:
                if not (isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)) or n.id in local:
                    continue
                other = self.scope.functions.get(n.id) if n.id not in self.scope.env else None
                if isinstance(other, gast.FunctionDef):
                    if other not in seen:
                        seen.append(other)
                        todo.append(other)
                elif isinstance(other, BranchDefined):
                    raise self.branch_defined(call, n.id, other)
                elif other is not None:
                    raise self.error(
                        UnsupportedSyntaxError,
                        call,
                        f"srcgrad cannot differentiate this function: it reads {n.id}, a derivative made "
                        "by a srcgrad operator in the enclosing function",
                        f"make {n.id} inside it, or pass its result as an argument.",
                    )
                elif n.id in outer:
                    names.add(n.id)
        helpers = [copy.deepcopy(fn) for fn in seen[1:]]
        return helpers, tuple(sorted(names - {d.name for d in helpers}))

    def compile_nested(
        self,
        definition: gast.FunctionDef,
        helpers: list[gast.FunctionDef],
        captured: tuple[str, ...],
        call: gast.Call,
    ) -> types.FunctionType:
        """A Python function for ``definition`` with ``captured`` as keyword-only parameters,
        reading the enclosing function's globals and closure cells, its source known to srcgrad."""
        parsed_outer = self.scope.parsed
        node = copy.deepcopy(definition)
        args = node.args
        if args.vararg is not None or args.kwarg is not None or node.decorator_list:
            raise self.error(
                UnsupportedSyntaxError,
                call,
                "srcgrad cannot differentiate a function with *args, **kwargs or decorators here",
                "give the function named parameters.",
            )
        clash = set(captured) & {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
        if clash:  # cannot happen: a parameter is a local name, never captured
            raise self.error(UnsupportedSyntaxError, call, "a parameter shadows an outer name", "rename it.")
        for n in captured:
            args.kwonlyargs.append(gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None))
            args.kw_defaults.append(None)
        node.body = helpers + node.body
        code_name = node.name + "_" if node.name == "lambda" else node.name
        cells = parsed_outer.closure
        factory = gast.FunctionDef(
            name="_srcgrad_factory",
            args=gast.arguments(
                args=[gast.Name(id=c, ctx=gast.Param(), annotation=None, type_comment=None) for c in cells],
                posonlyargs=[],
                vararg=None,
                kwonlyargs=[],
                kw_defaults=[],
                kwarg=None,
                defaults=[],
            ),
            body=[
                gast.FunctionDef(
                    name=code_name,
                    args=node.args,
                    body=node.body,
                    decorator_list=[],
                    returns=None,
                    type_comment=None,
                    type_params=[],
                ),
                gast.Return(
                    value=gast.Name(id=code_name, ctx=gast.Load(), annotation=None, type_comment=None)
                ),
            ],
            decorator_list=[],
            returns=None,
            type_comment=None,
            type_params=[],
        )
        module = gast.Module(body=[factory], type_ignores=[])
        for sub in walk(factory):
            if isinstance(sub, (gast.stmt, gast.expr)) and getattr(sub, "lineno", None) is None:
                gast.copy_location(sub, definition)
        tree = ast.fix_missing_locations(gast.gast_to_ast(module))
        try:
            code = compile(tree, parsed_outer.path, "exec")
        except SyntaxError as exc:
            raise self.error(
                UnsupportedSyntaxError,
                call,
                f"srcgrad cannot differentiate this function ({exc.msg})",
                "rewrite it with def.",
            ) from None
        factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
        fn_code = next(c for c in factory_code.co_consts if isinstance(c, types.CodeType))
        closure = tuple(cells[name] for name in fn_code.co_freevars)
        fn = types.FunctionType(fn_code, parsed_outer.globals, code_name, None, closure or None)
        try:  # defaults are evaluated where the def is: srcgrad knows them when they are literals
            literal = lambda d: ast.literal_eval(ast.unparse(gast.gast_to_ast(copy.deepcopy(d))))  # noqa: E731
            fn.__defaults__ = tuple(map(literal, args.defaults)) or None
            kwdefaults = {
                a.id: literal(d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None
            }
        except (ValueError, SyntaxError, TypeError):
            raise self.error(
                UnsupportedSyntaxError,
                call,
                "srcgrad differentiates a function made inside a differentiated one only when its "
                "default values are literals",
                "pass the value as an argument instead of a default.",
            ) from None
        fn.__kwdefaults__ = kwdefaults or None
        fn.__qualname__ = f"{parsed_outer.fn.__qualname__}.<locals>.{code_name}"
        parse._cache[fn_code] = ParsedFunction(fn, node, parsed_outer.path, parsed_outer.lines)
        return fn
