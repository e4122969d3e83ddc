"""Statements: assignments (plain, unpacking, into subscripts), lists, and in-place updates."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

import gast
import numpy as np

from .. import runtime
from ..errors import UnsupportedSyntaxError
from ..ir import Op, Stmt, name
from ..rules import lookup
from ..trees import walk
from .analysis import _base, _copy, _lambda_def
from .primitives import APPEND, DELETED, LIST_ITEM, REFUSED, VIEWS

if TYPE_CHECKING:
    pass


class Statements:
    """Part of :class:`Normalizer`: statements: assignments (plain, unpacking, into subscripts), lists, and in-place updates."""

    def statement(self, stmt: gast.stmt) -> None:
        if isinstance(stmt, gast.AugAssign):
            if isinstance(stmt.target, gast.Name):
                self.guard_alias(stmt.target.id, stmt)
            else:
                self.check_unshared(stmt.target, stmt)
            load = _copy(stmt.target)
            for sub in walk(load):
                if hasattr(sub, "ctx"):
                    sub.ctx = gast.Load()
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
                return self.refuse(
                    stmt, "a generator" if not isinstance(stmt.value, gast.Await) else "async code"
                )
            if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute):
                if call.func.attr == "pop" and isinstance(call.func.value, gast.Name):
                    self.expr(call, None)  # xs.pop(): the item taken, unused
                    return None
                root = call.func.value
                while isinstance(root, (gast.Attribute, gast.Subscript)):
                    root = root.value
                atom = self.scope.env.get(root.id) if isinstance(root, gast.Name) else None
                if isinstance(atom, gast.Name) and (
                    self.is_active(root)
                    or atom.id in self.lists
                    or atom.id in self.unknown
                    or atom.id in self.spreadable  # options.update(axis=1): f(**options) reads items
                ):  # xs[1].append(v), x.sort(), d.update(...): a change srcgrad would not see
                    return self.refuse(stmt, f"a call of .{call.func.attr}() that changes a value in place")
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
        if isinstance(stmt, gast.Delete) and all(
            isinstance(t, gast.Name) and t.id in self.scope.env for t in stmt.targets
        ):
            for target in stmt.targets:  # ``del y`` frees memory; y may not be read after it
                self.scope.env[target.id] = DELETED
            return None
        return self.refuse(stmt, REFUSED.get(type(stmt), f"this {type(stmt).__name__.lower()} statement"))

    def refuse(self, node: gast.AST, what: str) -> None:
        raise self.error(
            UnsupportedSyntaxError,
            node,
            f"srcgrad cannot differentiate {what}",
            "move it out of the differentiated function, or rewrite it with assignments, if, for and while.",
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
        nested = self.nested_operator(stmt.value) if len(targets) == 1 else None
        if nested is not None and isinstance(targets[0], gast.Name):  # g = srcgrad.grad(lambda t: ...)
            self.scope.functions[targets[0].id] = nested  # inlined where it is called
            self.scope.env.pop(targets[0].id, None)
            return None
        partial = self.partial_of(stmt.value) if isinstance(stmt.value, gast.Call) else None
        if partial is not None and len(targets) == 1 and isinstance(targets[0], gast.Name):
            return self.define_partial(targets[0].id, partial)
        if all(isinstance(t, gast.Name) for t in targets):
            atom = self.expr(stmt.value, targets[0].id)
            for target in targets:
                self.bind(target.id, atom)
            return
        if len(targets) == 1 and isinstance(targets[0], gast.Subscript):
            return self.set_item(targets[0], stmt.value, stmt)
        if len(targets) == 1 and isinstance(targets[0], (gast.Tuple, gast.List)):
            return self.unpack(targets[0], stmt.value)
        if not self.is_active(stmt.value) and not any(isinstance(t, gast.Subscript) for t in targets):
            renamed = [self.rename_targets(t) for t in targets]
            node = gast.Assign(targets=renamed, value=self.substitute(stmt.value), type_comment=None)
            self.out.append(Stmt(node, self.scope.frames))
            return
        self.refuse(stmt, "assignment to this target")

    def define_partial(self, user_name: str, partial: gast.Call) -> None:
        """``f = functools.partial(g, a, k=b)``: ``a`` and ``b`` are computed now, as partial
        does; each call ``f(x)`` is ``g(a, x, k=b)`` (inlined or a rule's, as ``g`` is)."""

        args = [self.user_level(self.call_arg(a)) for a in partial.args]
        keywords = [
            gast.keyword(arg=k.arg, value=self.user_level(self.call_arg(k.value))) for k in partial.keywords
        ]
        self.scope.functions[user_name] = gast.Call(func=partial.func, args=args, keywords=keywords)
        self.scope.env.pop(user_name, None)

    def set_item(self, target: gast.Subscript, value: gast.expr, stmt: gast.stmt | None = None) -> None:
        """``y[i] = v`` becomes ``y_1 = with_item(y, i, v)``: the caller's array stays untouched."""
        if not isinstance(target.value, gast.Name) or target.value.id not in self.scope.env:
            return self.refuse(target, "assignment into this subscript (assign into a local array variable)")
        self.check_unshared(target.value, target, stmt)
        array = self.atom(target.value)
        index = self.index_value(self.index(target.slice))
        item = self.atom(value)
        user_name = target.value.id
        if not self.is_active(target.value) and not self.is_active(value):
            call = gast.Call(
                func=self.spell(lookup(runtime.with_item)), args=[array, index, item], keywords=[]
            )
            return self.bind_new(user_name, call)
        atom = self.apply(lookup(runtime.with_item), [array, index, item], {}, user_name, None)
        if (
            isinstance(array, gast.Name)
            and array.id in self.lists | self.unknown
            and isinstance(atom, gast.Name)
        ):
            self.lists.add(atom.id)  # d["k"] = v on a dict or a list: a container still
        self.scope.env[user_name] = atom

    def check_unshared(self, target: gast.expr, stmt: gast.AST, statement: gast.stmt | None = None) -> None:
        """Refuse an in-place update of an array that another name, a list or a view also holds.

        Python would change it everywhere; srcgrad's generated code updates a copy, so the
        two would disagree. A fresh array (``y = x.copy()``, ``np.zeros(n)``) is fine.
        """
        while isinstance(target, gast.Subscript):
            target = target.value
        atom = self.scope.env.get(target.id) if isinstance(target, gast.Name) else None
        if (
            isinstance(atom, gast.Name)
            and atom.id in self.shared
            and not self.others_dead(target.id, atom, statement or stmt)
        ):
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
        if not (isinstance(atom, gast.Name) and atom.id in self.shared) or self.others_dead(
            user_name, atom, stmt
        ):
            return
        frame = self.scope.frames[-1]
        array = gast.Attribute(value=name(self.bindings.value(np, "np")), attr="ndarray", ctx=gast.Load())
        test = gast.Call(
            func=name(self.bindings.value(isinstance, "isinstance")), args=[_copy(atom), array], keywords=[]
        )
        error = gast.Call(
            func=name(self.bindings.value(runtime.aliased_update, "aliased_update")),
            args=[
                gast.Constant(value=user_name, kind=None),
                gast.Constant(value=f"{frame.filename}:{frame.lineno}", kind=None),
            ],
            keywords=[],
        )
        self.out.append(
            Stmt(gast.If(test=test, body=[gast.Raise(exc=error, cause=None)], orelse=[]), self.scope.frames)
        )

    def others_dead(self, user_name: str, atom: gast.Name, stmt: gast.stmt) -> bool:
        """Are the other names that hold ``user_name``'s array (it, its base, views of either)
        never read after ``stmt``? Then updating a copy in place, as generated code does, gives
        what Python computes. Only names and views count: an array a list, a loop or a copy
        holds, or one in a helper or a loop (whose caller or next iteration may read it), is
        taken as read."""
        if self.stack or self.loops or id(stmt) not in self.live:
            return False

        def root(generated: str) -> str:
            while generated in self.view_of:
                generated = self.view_of[generated]
            return generated

        group = {g for g in self.view_of if root(g) == root(atom.id)} | {root(atom.id), atom.id}
        if group & self.held:
            return False
        holders = {u for u, a in self.scope.env.items() if isinstance(a, gast.Name) and a.id in group}
        if any(u.startswith("@") for u in holders):
            return False
        return not (holders - {user_name}) & self.live[id(stmt)]

    def unpack(self, target: gast.Tuple | gast.List, value: gast.expr) -> None:
        """``a, (b, c) = ...``: every value is computed first, then bound; an active value
        that is not a tuple built here is indexed (``a = v[0]``). The private names it reads
        the parts through end with it (a branch or loop after it must not carry them)."""
        private = {k for k in self.scope.env if k.startswith("@value")}
        try:
            self._unpack(target, value)
        finally:
            for key in [k for k in self.scope.env if k.startswith("@value") and k not in private]:
                del self.scope.env[key]

    def _unpack(self, target: gast.Tuple | gast.List, value: gast.expr) -> None:
        targets = target.elts
        if any(isinstance(t, gast.Starred) for t in targets):
            return self.refuse(target, "starred unpacking (index the sequence instead)")
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(targets):
            atoms = [
                self.atom(v, t.id if isinstance(t, gast.Name) else None) for t, v in zip(targets, value.elts)
            ]
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
                    self.atom(
                        gast.Subscript(value=whole, slice=gast.Constant(value=i, kind=None), ctx=gast.Load()),
                        t.id if isinstance(t, gast.Name) else None,  # W, b = p: the items are named W and b
                    )
                    for i, t in enumerate(targets)
                ]
        else:
            node = gast.Assign(
                targets=[self.rename_targets(target)], value=self.substitute(value), type_comment=None
            )
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
            env = self.scope.env
            current = env.get(user_name)
            aliased = env.holders(atom.id) > (isinstance(current, gast.Name) and current.id == atom.id)
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
            elif isinstance(value.func, gast.Attribute) and value.func.attr in (
                "reshape",
                "ravel",
                "transpose",
                "squeeze",
                "swapaxes",
                "view",
            ):
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
        if isinstance(value, (gast.List, gast.Tuple, gast.Dict)) or self.zero_of_a_list(value):
            self.lists.add(new)  # (a container: its zero is one too, not np.zeros_like of it)
        self.scope.env[user_name] = name(new)
        items = _items(value)
        if items is not None:  # options = {"axis": 0}: f(**options) passes axis=0
            self.spreadable[new] = {
                k: v if isinstance(v, (gast.Name, gast.Constant)) else _item(new, k) for k, v in items.items()
            }
            if isinstance(value, gast.Tuple):
                self.spreadable[new] = list(self.spreadable[new].values())

    def zero_of_a_list(self, value: gast.expr) -> bool:
        """``zero_adjoint(items)`` (or another zero) of a list in gradient code: a list too."""
        return (
            isinstance(value, gast.Call)
            and self.bindings.denoted(value.func)
            in (runtime.zero_adjoint, runtime.zeros_like_list, runtime.zero_tangent)
            and bool(value.args)
            and isinstance(value.args[0], gast.Name)
            and value.args[0].id in self.lists
        )

    def append(self, user_name: str, value: gast.expr) -> None:
        """``items.append(v)`` as ``items_1 = items + [v]``: a new list, so no value is overwritten."""
        items = self.atom(name(user_name))
        item = self.atom(value)
        if isinstance(item, gast.Name):
            self.share(item.id)  # the list holds this array now
            self.held.add(item.id)
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
                func=gast.Attribute(
                    value=gast.Name(id=key, ctx=gast.Load(), annotation=None, type_comment=None),
                    attr="append",
                    ctx=gast.Load(),
                ),
                args=[node.elt],
                keywords=[],
            )
        )
        for generator in reversed(node.generators):
            if generator.is_async:
                self.refuse(node, "async code")
            for test in reversed(generator.ifs):
                body = gast.If(test=test, body=[body], orelse=[])
            body = gast.For(
                target=generator.target, iter=generator.iter, body=[body], orelse=[], type_comment=None
            )
        start = gast.Assign(
            targets=[gast.Name(id=key, ctx=gast.Store(), annotation=None, type_comment=None)],
            value=gast.List(elts=[], ctx=gast.Load()),
            type_comment=None,
        )
        for stmt in (start, body):
            for sub in walk(stmt):
                if isinstance(sub, (gast.stmt, gast.expr)):
                    gast.copy_location(sub, node)
        private = {n.id for g in node.generators for n in walk(g.target) if isinstance(n, gast.Name)}
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


def _items(value: gast.expr) -> dict | None:
    """The items of a tuple or a dict with string keys written out, by position or key."""
    if isinstance(value, gast.Tuple) and not any(isinstance(e, gast.Starred) for e in value.elts):
        return dict(enumerate(value.elts))
    if isinstance(value, gast.Dict) and all(
        isinstance(k, gast.Constant) and isinstance(k.value, str) for k in value.keys
    ):
        return {k.value: v for k, v in zip(value.keys, value.values, strict=True)}
    return None


def _item(generated: str, key: int | str) -> gast.Subscript:
    return gast.Subscript(value=name(generated), slice=gast.Constant(value=key, kind=None), ctx=gast.Load())
