"""Expressions: one primitive per statement, inactive parts left as written."""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import operator
import sys
import types
from typing import TYPE_CHECKING, Any

import gast
import numpy as np

from .. import runtime
from ..errors import NeedsTypesError, NoRuleError, UnsupportedSyntaxError
from ..ir import IfBlock, Op, Stmt, name
from ..resolve import UNRESOLVED
from ..rules import Rule, lookup
from ..rules.registry import NAMES_FOR_GENERATED_CODE, REQUIRED, STAR
from ..trees import CHILD_FIELDS, walk
from .analysis import (
    _base_name,
    _constant_cell,
    _copy,
    _free_names,
    _is_simple,
    _is_user_function,
    _lambda_def,
)
from .nested import BranchDefined, NestedGradient
from .primitives import (
    ATTRIBUTES,
    BINOPS,
    CONCAT,
    DELETED,
    FIELD,
    LIST_ITEM,
    METHOD_KEYWORDS,
    METHODS,
    SHAPE_ATTRIBUTES,
    VIEWS,
)
from .scope import Scope

if TYPE_CHECKING:
    pass


class Expressions:
    """Part of :class:`Normalizer`: expressions: one primitive per statement, inactive parts left as written."""

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
        if isinstance(node, gast.Compare) or (
            isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not)
        ):
            return False
        if isinstance(node, gast.IfExp):
            return self.is_active(node.body) or self.is_active(node.orelse)
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.FloorDiv):
            return False  # a step function: its derivative is zero wherever it has one
        if isinstance(node, gast.Call):
            func = node.func
            method = METHODS.get(func.attr) if isinstance(func, gast.Attribute) else None
            if method is not None and lookup(method).nondiff and self.is_active(func.value):
                return False  # x.argmax(), x.round(): the array's method, without a derivative
            if isinstance(func, gast.Lambda) or (
                isinstance(func, gast.Name) and func.id in self.scope.functions
            ):
                return True  # a local function may read active names of the enclosing scope: inline it
            obj = self.scope.resolver.resolve(func)
            rule = lookup(obj) if obj is not UNRESOLVED else None
            if rule is not None and rule.nondiff:
                return False
        for field_ in CHILD_FIELDS[node.__class__]:  # (contexts and operators are never active)
            value = getattr(node, field_, None)
            if value.__class__ is list:
                if any(self.is_active(v) for v in value if isinstance(v, gast.AST)):
                    return True
            elif isinstance(value, gast.AST) and self.is_active(value):
                return True
        return False

    def substitute(self, node: gast.expr) -> gast.expr:
        """An inactive expression, with user names replaced by their generated names."""
        for call in walk(node):
            if isinstance(call, gast.Call) and self.scope.resolver.resolve(call.func) in (
                eval,
                exec,
                globals,
                locals,
                vars,
            ):
                self.refuse(call, "eval, exec or a namespace lookup: srcgrad cannot see the code they run")
        env, scope = self.scope.env, self.scope

        node = _copy(node)
        free = {id(n) for n in _free_names(node)}  # not the names a comprehension binds for itself

        class Rename(gast.NodeTransformer):
            def visit_Name(inner, n: gast.Name) -> gast.expr:
                if not isinstance(n.ctx, gast.Load) or id(n) not in free:
                    return n
                if env.get(n.id) is DELETED:
                    self.refuse(n, f"reading {n.id} after `del {n.id}`")
                if n.id in env:
                    return gast.copy_location(_copy(env[n.id]), n)
                if (
                    n.id in scope.functions
                ):  # a def, lambda or derivative of the function: inlined where called
                    raise self.error(
                        UnsupportedSyntaxError,
                        n,
                        f"srcgrad cannot use {n.id} as a value: it is a function made inside the "
                        "differentiated function, which srcgrad inlines where it is called",
                        f"call {n.id} here, or define it at module level.",
                    )
                return self.free_name(n, scope)

        return Rename().visit(node)

    def free_name(self, node: gast.Name, scope: Scope) -> gast.expr:
        """A global, closure or builtin name, as the generated code must spell it."""
        cell = scope.resolver.closure.get(node.id)
        if cell is not None and _constant_cell(cell):
            return name(self.bindings.value(cell.cell_contents, node.id))
        if cell is not None:
            return name(self.bindings.cell(cell, node.id))
        if scope.module_alias is not None and node.id in scope.parsed.globals:
            return gast.Attribute(value=name(scope.module_alias), attr=node.id, ctx=gast.Load())
        if node.id not in self.namer.reserved:  # a name of code found late (a partial's helper)
            if node.id in self.namer.taken:  # a temporary has it already: bind the object instead
                obj = scope.resolver.resolve(node)
                if obj is not UNRESOLVED:
                    return name(self.bindings.value(obj, node.id))
            self.namer.reserved.add(node.id)  # no temporary may take it from now on
        return name(node.id)

    def atom(self, node: gast.expr, hint: str | None = None) -> gast.expr:
        """Normalize ``node`` into something cheap to repeat: a name or a literal."""
        value = self.expr(node, hint)
        if _is_simple(value):
            return value
        target = self.emit(self.fresh(hint, _base_name(value)), value)
        if isinstance(value, (gast.List, gast.Tuple, gast.Dict)):
            self.lists.add(target)  # a container: its zero is one too
        return name(target)

    def expr(self, node: gast.expr, hint: str | None = None) -> gast.expr:
        """Normalize ``node``; returns an atom, or the expression itself when inactive."""
        if not self.is_active(node):
            return self.substitute(node)
        if isinstance(node, gast.Name):
            if self.scope.env[node.id] is DELETED:
                self.refuse(node, f"reading {node.id} after `del {node.id}`")
            return _copy(self.scope.env[node.id])
        if isinstance(node, gast.BinOp) and type(node.op) in BINOPS:
            fn, base = BINOPS[type(node.op)]
            for operand in (node.left, node.right):
                self.operand_object(node, operand)
            left, right = self.atom(node.left), self.atom(node.right)
            forward = gast.BinOp(left=left, op=node.op, right=right)
            if isinstance(node.op, gast.Add) and any(
                isinstance(a, gast.List) or (isinstance(a, gast.Name) and a.id in self.lists)
                for a in (left, right)
            ):  # lists: concatenation (the tape that generated code appends to, too)
                target = self.apply(CONCAT, [left, right], {}, hint or "items", forward)
                self.lists.add(target.id)
                return target
            return self.apply(lookup(fn), [left, right], {}, hint or base, forward)
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
            if self.is_active(node.slice) and not self.is_active(node.value):  # np.r_[x, y], S[x]
                built = self.active_index(node, hint)
                if built is not None:
                    return built
            value = self.atom(node.value)
            index = self.index(node.slice)
            forward = gast.Subscript(value=value, slice=index, ctx=gast.Load())
            if (
                isinstance(index, gast.Constant)
                and isinstance(index.value, str)
                and index.value.isidentifier()
            ):
                hint = hint or self.fresh(None, index.value)  # params['W1'] is named W1
                self.namer.taken.discard(hint)
            if isinstance(value, gast.Name) and value.id in self.lists:
                return self.apply(LIST_ITEM, [value, self.index_value(index)], {}, hint or "item", forward)
            return self.apply(
                lookup(operator.getitem), [value, self.index_value(index)], {}, hint or "item", forward
            )
        if isinstance(node, (gast.Tuple, gast.List)):
            return self.pack(node, hint)
        if isinstance(node, gast.Dict) and all(k is not None for k in node.keys):
            return self.pack_dict(node, hint)
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
                return self.conditional(first, first, other, hint, first)
            return self.conditional(first, other, first, hint, first)
        raise self.error(
            UnsupportedSyntaxError,
            node,
            f"srcgrad cannot differentiate a {type(node).__name__} expression yet",
            "compute the value in separate statements with numpy functions.",
        )

    def conditional(
        self,
        test: gast.expr,
        then: gast.expr,
        orelse: gast.expr,
        hint: str | None,
        done: gast.expr | None = None,
    ) -> gast.expr:
        """``then if test else orelse``: a branch in the generated code, each side computed only when
        taken. ``done``: the one side that is an atom already (``a or b`` is ``a if a else b``)."""
        cond = (
            test
            if isinstance(test, (gast.Name, gast.Constant))
            else name(self.emit(self.fresh(None, "cond"), test))
        )
        target = self.fresh(hint, "choice")
        branches = []
        for value in (then, orelse):
            outer, self.out = self.out, []
            try:
                atom = value if value is done else self.atom(value)
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
        if isinstance(index, gast.Tuple):  # each part on its own: a slice cannot stand outside []
            elts = [
                e
                if _is_simple(e)
                else self.slice_atom(e)
                if isinstance(e, gast.Slice)
                else name(self.emit(self.fresh(None, "index"), e))
                for e in index.elts
            ]
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
        value = self.atom(node.value)
        if node.attr in SHAPE_ATTRIBUTES:
            return gast.Attribute(value=value, attr=node.attr, ctx=gast.Load())
        if node.attr in ATTRIBUTES:  # x.T is np.transpose(x)
            fn = ATTRIBUTES[node.attr]
            return self.apply(lookup(fn), [value], {}, hint or fn.__name__, None)
        fields = self.named_fields().get(value.id, ()) if isinstance(value, gast.Name) else ()
        if node.attr in fields:  # w = np.linalg.eigh(a).eigenvalues: an item of the namedtuple
            index = gast.Constant(value=fields.index(node.attr), kind=None)
            forward = gast.Attribute(value=value, attr=node.attr, ctx=gast.Load())
            return self.apply(LIST_ITEM, [value, index], {}, hint or node.attr, forward)
        if (
            isinstance(value, gast.Name) and value.id in self.unknown and not hasattr(np.ndarray, node.attr)
        ):  # p.W: a field of a namedtuple passed in (x.imag, an array's attribute, has no rule)
            forward = gast.Attribute(value=value, attr=node.attr, ctx=gast.Load())
            key = gast.Constant(value=node.attr, kind=None)
            return self.apply(FIELD, [value, key], {}, hint or node.attr, forward)
        raise self.error(
            NoRuleError,
            node,
            f"no derivative rule for the attribute .{node.attr}",
            "use the numpy function instead (for example np.transpose(x) for x.T).",
        )

    def pack(self, node: gast.Tuple | gast.List, hint: str | None) -> gast.expr:
        return self.pack_atoms([self.atom(e) for e in node.elts], type(node), hint)

    def pack_atoms(self, elts: list[gast.expr], kind: type, hint: str | None) -> gast.expr:
        """``parts = [a, b]`` for atoms already normalized: a list whose adjoint is the list of theirs."""
        forward = kind(elts=elts, ctx=gast.Load())
        target = self.fresh(hint, "parts")
        args = {str(i): e for i, e in enumerate(elts)}
        active = [k for k, e in args.items() if isinstance(e, gast.Name) and e.id in self.active]
        self.emit(target, forward, Op(target, None, args, active))
        self.active.add(target)
        self.packs[target] = elts
        if kind is gast.Tuple:
            self.spreadable[target] = elts
        self.lists.add(target)
        for element in elts:
            if isinstance(element, gast.Name):
                self.share(element.id)
                self.held.add(element.id)
        return name(target)

    def pack_dict(self, node: gast.Dict, hint: str | None) -> gast.expr:
        """``parts = {'a': a, 'b': b}``: a pack too; its adjoint is the dict of its values' adjoints."""
        return self.pack_dict_atoms(
            [self.index(k) for k in node.keys], [self.atom(v) for v in node.values], hint
        )

    def pack_dict_atoms(self, keys: list[gast.expr], values: list[gast.expr], hint: str | None) -> gast.expr:
        """``parts = {'a': a, 'b': b}`` for keys and values already normalized."""
        forward = gast.Dict(keys=keys, values=values)
        target = self.fresh(hint, "parts")
        args = {str(i): v for i, v in enumerate(values)}
        active = [k for k, v in args.items() if isinstance(v, gast.Name) and v.id in self.active]
        self.emit(target, forward, Op(target, None, args, active))
        self.active.add(target)
        self.lists.add(target)
        if all(isinstance(k, gast.Constant) and isinstance(k.value, str) for k in keys):
            self.spreadable[target] = {k.value: v for k, v in zip(keys, values, strict=True)}
        for value in values:
            if isinstance(value, gast.Name):
                self.share(value.id)
                self.held.add(value.id)
        return name(target)

    def call(self, node: gast.Call, hint: str | None) -> gast.expr:
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            before = set(self.scope.env)
            try:
                return self.call(self.spread(node), hint)
            finally:  # the private names of the items end with the call
                for key in set(self.scope.env) - before:
                    if key.startswith("@arg"):
                        del self.scope.env[key]
        func = node.func
        if isinstance(func, gast.Name) and func.id in self.scope.functions and func.id not in self.scope.env:
            local = self.scope.functions[func.id]
            if isinstance(local, BranchDefined):
                raise self.branch_defined(node, func.id, local)
            if isinstance(local, NestedGradient):
                return self.inline_nested(node, local, hint)
            if isinstance(local, gast.Call):  # f = functools.partial(g, a): g(a, ...)
                return self.expr(self.lower_call(node, None), hint)
            return self.inline_local(node, local, hint)
        nested = self.nested_operator(func)  # srcgrad.grad(lambda t: ...)(x)
        if nested is not None:
            return self.inline_nested(node, nested, hint)
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
        lowered = self.lower_callable(node, obj, hint)  # np.piecewise, np.vectorize ... (callables.py)
        if lowered is not None:
            return lowered
        if isinstance(func, gast.Attribute) and (
            self.is_active(func.value) or (obj is UNRESOLVED and func.attr in METHODS)
        ):  # a method of an array: x.sum(), x.T.dot(w)
            return self.method(node, hint)
        lowered = self.lower_call(node, obj)
        if lowered is not None:  # map(f, xs), list(xs), functools.partial(g, a)(x)
            return self.expr(lowered, hint)
        if obj is runtime.size_one_gradient:  # grad's code differentiated again: 0-d outputs only
            refusal = gast.Call(
                func=name(self.bindings.value(runtime.size_one_refused, "size_one_refused")),
                args=[],
                keywords=[],
            )
            self.out.append(Stmt(gast.Raise(exc=refusal, cause=None), self.scope.frames))
            return gast.Constant(value=0.0, kind=None)
        rule = lookup(obj) if obj is not UNRESOLVED else None
        if rule is not None and rule.nondiff:
            return self.substitute(node)
        if rule is not None:
            args = [self.call_arg(a) for a in node.args]
            kwargs = {k.arg: self.call_arg(k.value) for k in node.keywords}
            return self.apply(rule, args, kwargs, hint or rule.name, None, node)
        if _is_user_function(obj):
            if (
                inspect.ismethod(obj)
                and isinstance(func, gast.Attribute)
                and isinstance(func.value, gast.Subscript)
            ):
                self.check_same_item(func.value, obj.__self__)  # LAYERS[0].apply(v)
            return self.inline(node, obj, hint)
        root = func
        while isinstance(root, gast.Attribute):
            root = root.value
        if (
            obj is UNRESOLVED
            and isinstance(func, gast.Attribute)
            and isinstance(root, gast.Name)
            and root.id in self.scope.env
        ):
            atom = self.scope.env[root.id]
            param = (
                atom.id
                if isinstance(atom, gast.Name) and func.value is root and atom.id in self.params
                else None
            )
            kind = self.item_kinds.get(atom.id) if isinstance(atom, gast.Name) else None
            if param is not None and isinstance((self.kinds or {}).get(param), type):
                kind = self.kinds[param]
            if kind is not None and func.value is root:  # model.loss(x), model's type known now
                return self.method_of_type(node, kind, atom, hint)
            raise self.error(
                NeedsTypesError
                if param is not None and self.kinds is not None and not self.kinds
                else UnsupportedSyntaxError,
                node,
                f"cannot tell which function {root.id}.{func.attr} is: {root.id} is only known when the code runs",
                f"make {root.id} a global or closure variable, or differentiate the method itself "
                f"(srcgrad.grad({root.id}.{func.attr}))",
            )
        spelled = gast.gast_to_ast(func)
        source = ast.unparse(spelled)
        method = ""
        if obj is UNRESOLVED:
            full = source
        elif not isinstance(
            getattr(obj, "__qualname__", None), str
        ):  # an object, named as the source names it
            kind = type(obj)
            full = f"{source}, a {kind.__module__}.{kind.__qualname__} object"
            call = next((vars(k)["__call__"] for k in kind.__mro__ if "__call__" in vars(k)), None)
            if isinstance(call, types.FunctionType):
                method = f"call its method explicitly, {source}.__call__(...), which srcgrad inlines; or "
        else:
            what, module = obj.__qualname__, getattr(obj, "__module__", None)
            full = f"{module}.{what}" if module and module != "builtins" else what
        raise self.error(
            NoRuleError,
            node,
            f"no derivative rule for {full}",
            f"{method}register one with @srcgrad.adjoint({source}) or mark it non-differentiable.\n"
            f"(@srcgrad.tangent({ast.unparse(spelled)}) adds forward mode; "
            f"srcgrad.nondifferentiable({ast.unparse(spelled)}) marks it.)",
        )

    def check_same_item(self, item: gast.expr, obj: Any) -> None:
        """``LAYERS[0].apply(v)`` inlines the method of the object there now: generated code
        checks that it is still there (else it is stale: an error, not another object's method)."""
        frame = self.scope.frames[-1]
        bound = name(self.bindings.value(obj, "item"))
        check = gast.Call(
            func=name(self.bindings.value(runtime.same_items, "same_items")),
            args=[
                gast.Tuple(elts=[self.substitute(item)], ctx=gast.Load()),
                gast.Tuple(elts=[bound], ctx=gast.Load()),
                gast.Constant(value=f"{frame.filename}:{frame.lineno}", kind=None),
            ],
            keywords=[],
        )
        self.out.append(Stmt(gast.Expr(value=check), self.scope.frames))

    def lower_call(self, node: gast.Call, obj: Any) -> gast.expr | None:
        """Calls that are other Python written shorter: ``map(f, xs)`` is ``[f(x) for x in xs]``,
        ``list(xs)`` of an active sequence ``[x for x in xs]``, and a call of
        ``functools.partial(g, a, k=b)`` is ``g(a, ..., k=b, ...)``; None for any other call."""
        wrappers = sys.modules.get("autograd.builtins")  # autograd's tuple, list and dict: Python's
        if wrappers is not None and any(obj is getattr(wrappers, k, None) for k in ("tuple", "list", "dict")):
            obj = getattr(builtins, obj.__name__.rstrip("_"), obj)
            node = gast.copy_location(
                gast.Call(func=name(obj.__name__), args=node.args, keywords=node.keywords), node
            )
        if node.keywords and obj in (map, list, tuple):
            return None
        if obj is map and len(node.args) >= 2 and self.is_active(node):
            items = [name(self.namer.fresh("item")) for _ in node.args[1:]]
            iterable = (
                node.args[1]
                if len(items) == 1
                else gast.Call(func=name("zip"), args=node.args[1:], keywords=[])
            )
            target = items[0] if len(items) == 1 else gast.Tuple(elts=items, ctx=gast.Store())
            call = gast.Call(func=node.args[0], args=list(items), keywords=[])
            return self.list_of(call, target, iterable, node)
        if obj in (list, tuple) and len(node.args) == 1 and isinstance(node.args[0], (gast.Tuple, gast.List)):
            return (gast.List if obj is list else gast.Tuple)(elts=node.args[0].elts, ctx=gast.Load())
        if obj in (list, tuple) and len(node.args) == 1 and self.is_active(node.args[0]):
            arg = node.args[0]
            if isinstance(arg, gast.ListComp):
                return arg
            if isinstance(arg, gast.GeneratorExp):
                return gast.copy_location(gast.ListComp(elt=arg.elt, generators=arg.generators), node)
            if isinstance(arg, gast.Call) and self.resolve_value(arg.func) is map:
                return arg
            item = name(self.namer.fresh("item"))
            return self.list_of(item, item, arg, node)
        partial = self.partial_of(node.func)
        if isinstance(obj, functools.partial):  # a partial made before: its arguments are constants

            def bound(value: Any) -> gast.expr:
                return self.user_level(name(self.bindings.value(value, "arg")))

            func = bound(obj.func)
            partial = gast.Call(
                func=func,
                args=[bound(a) for a in obj.args],
                keywords=[gast.keyword(arg=k, value=bound(v)) for k, v in obj.keywords.items()],
            )
        if partial is not None:
            args = partial.args + list(node.args)
            keywords = [k for k in partial.keywords if k.arg not in {k2.arg for k2 in node.keywords}]
            return gast.copy_location(
                gast.Call(func=partial.func, args=args, keywords=keywords + node.keywords), node
            )
        return None

    def list_of(
        self, elt: gast.expr, target: gast.expr, iterable: gast.expr, node: gast.AST
    ) -> gast.ListComp:
        elt, target = _copy(elt), _copy(target)
        for sub in walk(target):
            if isinstance(sub, gast.Name):
                sub.ctx = gast.Store()
        generator = gast.comprehension(target=target, iter=iterable, ifs=[], is_async=0)
        comp = gast.ListComp(elt=elt, generators=[generator])
        for sub in walk(comp):
            if isinstance(sub, (gast.expr, gast.stmt)):
                gast.copy_location(sub, node)
        return comp

    def partial_of(self, func: gast.expr) -> gast.Call | None:
        """``functools.partial(g, a, k=b)`` as written, or as assigned to a name before."""
        if isinstance(func, gast.Name) and isinstance(self.scope.functions.get(func.id), gast.Call):
            return self.scope.functions[func.id]
        if isinstance(func, gast.Call) and self.resolve_value(func.func) is functools.partial and func.args:
            if any(isinstance(a, gast.Starred) for a in func.args) or any(
                k.arg is None for k in func.keywords
            ):
                return None
            return gast.Call(func=func.args[0], args=func.args[1:], keywords=func.keywords)
        return None

    def method_of_type(self, node: gast.Call, kind: type, atom: gast.Name, hint: str | None) -> gast.expr:
        """``model.loss(x)`` for an argument ``model`` of class ``kind``: its method, inlined with
        ``self`` the argument (the gradient is generated for each class the argument has)."""
        found = inspect.getattr_static(kind, node.func.attr, None)
        if isinstance(found, types.FunctionType):
            return self.inline(node, found, hint, self_atom=atom)
        if isinstance(found, (staticmethod, classmethod)):
            return self.inline(node, getattr(kind, node.func.attr), hint)
        raise self.error(
            UnsupportedSyntaxError,
            node,
            f"{atom.id}.{node.func.attr} is not a method of {kind.__qualname__} that srcgrad can inline",
            "call a function defined with def, or differentiate the method itself.",
        )

    def spread(self, node: gast.Call) -> gast.Call:
        """``f(x, *args, **options)`` with the items of ``args`` and ``options`` passed one by one,
        where their number is known now: a tuple or dict the code built, or a constant."""
        args, keywords = [], [k for k in node.keywords if k.arg is not None]
        for arg in node.args:
            args += self.spread_items(arg.value, list) if isinstance(arg, gast.Starred) else [arg]
        for keyword in node.keywords:
            if keyword.arg is None:
                keywords += [gast.keyword(arg=k, value=v) for k, v in self.spread_items(keyword.value, dict)]
        return gast.copy_location(gast.Call(func=node.func, args=args, keywords=keywords), node)

    def user_level(self, atom: gast.expr) -> gast.expr:
        """An expression of the user's code that denotes ``atom`` (a value already computed): a
        private name for it, since its own generated name may be a user name that now means
        something else (``x, w = w, x`` makes ``x`` the user's name for the generated ``w``)."""
        if isinstance(atom, gast.Constant):
            return atom
        key = f"@arg{next(self.private_names)}"  # not an identifier: no user name collides
        self.scope.env[key] = atom
        return gast.Name(id=key, ctx=gast.Load(), annotation=None, type_comment=None)

    def spread_items(self, value: gast.expr, kind: type) -> list:
        """The items of ``*value`` (``kind`` list) or ``**value`` (dict: (key, value) pairs)."""
        if kind is list and isinstance(value, (gast.Tuple, gast.List)):
            return list(value.elts)
        if (
            kind is dict
            and isinstance(value, gast.Dict)
            and all(isinstance(k, gast.Constant) for k in value.keys)
        ):
            return [(k.value, v) for k, v in zip(value.keys, value.values, strict=True)]
        atom = self.atom(value)
        elts = self.spreadable.get(atom.id) if isinstance(atom, gast.Name) else None
        if kind is list and isinstance(elts, list):
            return [self.user_level(e) for e in elts]
        if kind is dict and isinstance(elts, dict):
            return [(k, self.user_level(e)) for k, e in elts.items()]
        known = self.resolve_value(value)
        if kind is list and isinstance(known, (tuple, list)):
            return [
                gast.Subscript(value=value, slice=gast.Constant(value=i, kind=None), ctx=gast.Load())
                for i in range(len(known))
            ]
        if kind is dict and isinstance(known, dict) and all(isinstance(k, str) for k in known):
            return [
                (k, gast.Subscript(value=value, slice=gast.Constant(value=k, kind=None), ctx=gast.Load()))
                for k in known
            ]
        raise self.error(
            UnsupportedSyntaxError,
            value,
            f"srcgrad cannot tell how many arguments {'*' if kind is list else '**'}{ast.unparse(gast.gast_to_ast(value))} passes",
            "pass the arguments one by one, or build the tuple (dict) in the differentiated code.",
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
        if isinstance(node, gast.Subscript):  # LAYERS[0], LAYERS[1:] of a constant list
            base = self.resolve_value(node.value)
            index = _constant_index(node.slice)
            if isinstance(base, (list, tuple)) and index is not None:
                try:
                    return base[index]
                except IndexError:
                    return UNRESOLVED
        if isinstance(node, gast.Call) and len(node.args) == 1 and not node.keywords:
            if self.scope.resolver.resolve(node.func) is reversed:  # reversed(LAYERS)
                base = self.resolve_value(node.args[0])
                if isinstance(base, (list, tuple)):
                    return list(reversed(base))
        return UNRESOLVED

    def call_arg(self, node: gast.expr) -> gast.expr:
        if isinstance(node, (gast.List, gast.Tuple)) and self.is_active(node):
            return self.pack(node, None)
        if isinstance(node, gast.Dict) and self.is_active(node) and all(k is not None for k in node.keys):
            return self.pack_dict(node, None)
        return self.atom(node)

    def method(self, node: gast.Call, hint: str | None) -> gast.expr:
        func = node.func
        items = (
            self.spreadable.get(getattr(self.atom(func.value), "id", None))
            if isinstance(func.value, gast.Name)
            else None
        )
        if (
            func.attr == "get"
            and isinstance(items, dict)
            and node.args
            and isinstance(node.args[0], gast.Constant)
        ):
            default = node.args[1] if len(node.args) > 1 else gast.Constant(value=None, kind=None)
            return items.get(node.args[0].value) or self.atom(default)  # options.get("gain", 1.0)
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
        renamed = METHOD_KEYWORDS.get(func.attr, {})
        kwargs = {renamed.get(k.arg, k.arg): self.call_arg(k.value) for k in node.keywords}
        rule = lookup(fn)
        if fn is np.clip:  # x.clip(lo) and x.clip(max=hi): the missing bound is None; both positional,
            none = gast.Constant(value=None, kind=None)  # as dask and CuPy name them otherwise
            args += [kwargs.pop(bound.name, none) for bound in rule.params[1 + len(args) :]]
        forward = None
        if fn in (np.ndarray.astype, np.copy):  # call the method as written (dask has no np.copy)
            keywords = [gast.keyword(arg=k, value=v) for k, v in kwargs.items()]
            forward = gast.Call(
                func=gast.Attribute(value=value, attr=func.attr, ctx=gast.Load()),
                args=args,
                keywords=keywords,
            )
        return self.apply(rule, [value] + args, kwargs, hint or rule.name, forward, node)

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
        missing = [
            p for p in active if p not in rule.vjp and p not in rule.jvp
        ]  # a mode's own is checked there
        if missing:
            raise self.error(
                NoRuleError,
                node or forward,
                f"{rule.spelling} has no derivative with respect to its argument {missing[0]!r}",
                rule.hint or f"pass a constant as {missing[0]!r}, or wrap it in srcgrad.stop_gradient.",
            )
        target = self.namer.fresh(base)
        self.emit(target, forward, Op(target, rule, bound, active) if active else None)
        if active:
            self.active.add(target)
        first = next(iter(bound.values()), None)
        if rule in (LIST_ITEM, FIELD) or rule.fn is operator.getitem:  # an item of a value passed in
            if isinstance(first, gast.Name) and first.id in self.unknown:
                self.unknown.add(target)
        if rule is LIST_ITEM and isinstance(first, gast.Name) and first.id in self.lists:
            self.unknown.add(target)  # an item of a list: any value, a tuple of arrays too
        if rule.tree:
            self.unknown.add(target)
        if rule.sequence and not self.one_array(bound, node or forward):  # a tuple: its adjoint is a list
            self.lists.add(target)
            if isinstance(rule.sequence, tuple):
                self.named_fields()[target] = rule.sequence
        first = next(iter(bound.values()), None)
        if (rule.fn in VIEWS or rule is LIST_ITEM) and isinstance(first, gast.Name):
            self.view_of[target] = first.id  # shares memory with its operand
        return name(target)

    def one_array(self, bound: dict[str, gast.expr], node: gast.AST) -> bool:
        """``np.linalg.svd(a, compute_uv=False)`` returns one array, not a tuple: the flag must be
        a literal, so that the generated code knows which."""
        flag = bound.get("compute_uv")
        if flag is None:
            return False
        if isinstance(flag, gast.Constant) and isinstance(flag.value, bool):
            return not flag.value
        raise self.error(
            UnsupportedSyntaxError,
            node,
            "srcgrad needs compute_uv written as True or False: it decides whether the output is a tuple",
            "write compute_uv=True or compute_uv=False in the call.",
        )

    def named_fields(self) -> dict[str, tuple[str, ...]]:
        """Names holding a namedtuple that a rule returned (``np.linalg.eigh``) -> its fields."""
        return self.__dict__.setdefault("_named_fields", {})

    def spell(self, rule: Rule) -> gast.expr:
        """``np.exp`` for the rule's function, whatever the user called it."""
        head, *rest = rule.spelling.split(".")
        if head in NAMES_FOR_GENERATED_CODE:
            head = self.bindings.value(NAMES_FOR_GENERATED_CODE[head], head)
        elif head == "operator":
            head = self.bindings.value(operator, head)
        elif head in runtime.HELPERS:
            head = self.bindings.value(getattr(runtime, head), head)
        elif not rest and getattr(builtins, head, None) is rule.fn:  # sum: never a temporary named sum
            head = self.bindings.value(rule.fn, head)
        node: gast.expr = name(head)
        for attr in rest:
            node = gast.Attribute(value=node, attr=attr, ctx=gast.Load())
        return node

    def bind_args(
        self, rule: Rule, args: list[gast.expr], kwargs: dict[str, gast.expr], node: gast.AST | None
    ) -> dict[str, gast.expr]:
        names = [p.name for p in rule.params]
        problem = None
        out = kwargs.get(
            "out", args[names.index("out")] if "out" in names and len(args) > names.index("out") else None
        )
        if out is not None and not (isinstance(out, gast.Constant) and out.value is None):
            problem = f"srcgrad does not differentiate {rule.spelling} with out=: generated code never writes into arrays"
        star = next((p.name for p in rule.params if p.default is STAR), None)
        if star is not None:  # np.einsum(subscripts, *operands): the rest of the arguments, as a list
            args, rest = args[: names.index(star)], args[names.index(star) :]
            if star in kwargs:
                problem = f"{rule.spelling} takes its {star} as positional arguments"
            active = any(isinstance(a, gast.Name) and a.id in self.active for a in rest)
            kwargs = {
                **kwargs,
                star: self.pack_atoms(rest, gast.List, star) if active else gast.List(rest, gast.Load()),
            }
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


def _constant_index(index: gast.expr) -> int | slice | None:
    """``0``, ``-1`` or ``1:`` written with constants; None for anything else."""

    def number(node: gast.expr | None) -> int | None:
        if node is None:
            return None
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            inner = number(node.operand)
            return -inner if isinstance(inner, int) else None
        if isinstance(node, gast.Constant) and type(node.value) is int:
            return node.value
        raise ValueError

    try:
        if isinstance(index, gast.Slice):
            return slice(number(index.lower), number(index.upper), number(index.step))
        value = number(index)
        return value if isinstance(value, int) else None
    except ValueError:
        return None
