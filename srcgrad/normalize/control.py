"""Branches and loops: one name per value after a branch, carried names in loops."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import gast
import numpy as np

from .. import runtime
from ..errors import NeedsTypesError, UnsupportedSyntaxError
from ..ir import IfBlock, LoopBlock, Op, Stmt, assign, name
from ..trees import walk
from .analysis import (
    _assigned,
    _base,
    _breaks,
    _changed_in_place,
    _copy,
    _exits,
    _exposed,
    _fallthrough,
    _may_become_active,
    _read,
    _same,
)
from .primitives import COPY, DELETED, RESULT
from .scope import Env

if TYPE_CHECKING:
    pass


class ControlFlow:
    """Part of :class:`Normalizer`: branches and loops: one name per value after a branch, carried names in loops."""

    def nested(self, body: list[gast.stmt], env: dict[str, gast.expr]) -> tuple[list, dict[str, gast.expr]]:
        """Normalize ``body`` into a new block, starting from ``env``; returns the block and the env after."""
        outer_out, outer_env, frames = self.out, self.scope.env, self.scope.frames
        self.out, self.scope.env = [], Env(env)
        try:
            self.block(body)
            return self.out, self.scope.env
        finally:
            self.out, self.scope.env, self.scope.frames = outer_out, outer_env, frames

    def if_statement(self, stmt: gast.If) -> None:
        test = self.substitute(stmt.test)
        cond = (
            test
            if isinstance(test, (gast.Name, gast.Constant))
            else name(self.emit(self.fresh(None, "cond"), test))
        )
        before = self.scope.env
        then, then_env = self.nested(stmt.body, before)
        orelse, else_env = self.nested(stmt.orelse, before)
        block = IfBlock(cond, then, orelse, self.scope.frames)
        self.out.append(block)
        live = [(b, e) for b, e in ((then, then_env), (orelse, else_env)) if not _exits(b)]
        merged = dict(before)
        read_later = self.live.get(id(stmt))  # None: not known (code srcgrad wrote), so keep all
        for user_name in sorted({k for _, e in live for k in e}):
            if read_later is not None and user_name not in read_later and user_name[0] not in "<@":
                continue  # nothing reads it after the branch: no need for one name

            # A name only some branches define is None on the others (where Python would have
            # no value for it at all), so that after the branch it has one generated name.
            atoms = [e.get(user_name, gast.Constant(value=None, kind=None)) for _, e in live]
            if any(a is DELETED for a in atoms):
                merged[user_name] = DELETED  # deleted on some path: reading it later is refused
            elif all(_same(a, atoms[0]) for a in atoms):
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
            self.held |= {atom.id, target}
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
        objects = self.objects_iterated(stmt)
        if objects is not None:
            return self.unroll(stmt, objects)
        kinds = self.objects_passed_in(stmt)
        if kinds is not None:
            return self.unroll_passed_in(stmt, kinds)
        loop = LoopBlock("for" if isinstance(stmt, gast.For) else "while", [], self.scope.frames)
        body = list(stmt.body)
        before = dict(self.scope.env)
        private = {k for k in before if k.startswith("@")}  # the loop's own (index, sequence) end with it
        targets = set()  # the user's loop variables, if the loop itself binds them (for t in range)
        if isinstance(stmt, gast.For):
            header = self.for_header(stmt, loop)
            if not header:
                targets = {n.id for n in walk(stmt.target) if isinstance(n, gast.Name)}
            body = header + body
        if loop.kind == "while" or _breaks(stmt.body):
            loop.counter = self.namer.fresh("count")
            self.out.append(Stmt(assign(loop.counter, gast.Constant(value=0, kind=None)), self.scope.frames))
        # Every name the loop assigns that is live at its head (an iteration may read the
        # previous one's value, or code after the loop reads it) is carried: it gets one name for
        # the whole loop, set before the loop (None for a name first assigned in it) and at the
        # end of every iteration, so that its value, and in reverse mode its adjoint, crosses each
        # iteration boundary and the loop's exit in one place (docs/loops.md). (A loop variable
        # defined before the loop is carried too: zero iterations leave it as it was.)
        exposed = _exposed(body) | (_read(stmt.test) if isinstance(stmt, gast.While) else set())
        read_later = self.live.get(id(stmt))
        assigned = _assigned(body)
        if read_later is None:  # not known (a loop srcgrad wrote): what a later read could need
            later = assigned & set(before) | (assigned if _breaks(stmt.body) else set())
        else:
            later = read_later
        carried = sorted(assigned & (exposed | later) | targets & set(before) & (read_later or set()))
        may_activate = _may_become_active(body, {k for k in self.scope.env if self.is_active(name(k))})
        for user_name in carried:
            atom = before.get(user_name, gast.Constant(value=None, kind=None))
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
            count = gast.BinOp(
                left=name(loop.counter), op=gast.Add(), right=gast.Constant(value=1, kind=None)
            )
            inner.insert(0, Stmt(assign(loop.counter, count), self.scope.frames))
        for user_name in [u for u in carried_names if u not in env]:  # a function the body defines
            loop.carried.remove(carried_names.pop(user_name))
            self.scope.env.pop(user_name, None)
        for user_name in exposed:
            if env.get(user_name) is DELETED:
                self.refuse(stmt, f"a loop that deletes {user_name} and reads it in the next iteration")
        if not _exits(inner):
            self.copy_carried(inner, carried_names, env)
        loop.body = inner or [Stmt(gast.Pass(), self.scope.frames)]
        self.out.append(loop)
        for user_name, target in carried_names.items():
            self.scope.env[user_name] = name(target)
        for user_name, atom in env.items():  # names first assigned in the loop keep their last value
            if (user_name not in self.scope.env or atom is DELETED) and user_name != RESULT:
                self.scope.env[user_name] = atom
        for key in [k for k in self.scope.env if k.startswith("@") and k not in private]:
            del self.scope.env[key]

    def one_pass(self, iterator: gast.expr) -> bool:
        """Does ``iterator`` yield its items once (a generator of values that carry no derivative)?"""
        if self.is_active(iterator):
            return False
        if isinstance(iterator, gast.GeneratorExp):
            return True
        if isinstance(iterator, gast.Call) and isinstance(iterator.func, gast.Attribute):
            if iterator.func.attr in ("items", "keys", "values"):  # a dict's view: not indexable
                return True
        func = self.resolve_value(iterator.func) if isinstance(iterator, gast.Call) else None
        return func in (map, filter, iter) or inspect.isgeneratorfunction(func)

    def objects_iterated(self, stmt: gast.For | gast.While) -> list | None:
        """The items of ``for layer in layers:`` when ``layers`` is a list or tuple known now that
        holds objects (layers, functions): which method ``layer.forward_pass`` calls differs
        from one item to the next, so the loop is unrolled, one copy of the body per item."""
        if not isinstance(stmt, gast.For) or not isinstance(stmt.target, gast.Name) or _breaks(stmt.body):
            return None
        if any(isinstance(n, gast.Continue) for b in stmt.body for n in walk(b)):
            return None  # (continue skips the rest of one copy: not unrolled, refused as before)
        items = self.resolve_value(stmt.iter)
        if not isinstance(items, (list, tuple)) or len(items) > 64 or not any(map(_is_object, items)):
            return None
        return list(items)

    def objects_passed_in(self, stmt: gast.For | gast.While) -> tuple | None:
        """The classes of the items of ``for layer in layers:`` when ``layers`` is an argument
        holding objects whose methods the body calls (known when the gradient is called)."""
        if not isinstance(stmt, gast.For) or not isinstance(stmt.target, gast.Name) or _breaks(stmt.body):
            return None
        base = stmt.iter.value if isinstance(stmt.iter, gast.Attribute) else stmt.iter  # model.layers
        atom = self.scope.env.get(base.id) if isinstance(base, gast.Name) else None
        if not (isinstance(atom, gast.Name) and atom.id in self.params) or self.kinds is None:
            return None
        key = atom.id + (f".{stmt.iter.attr}" if base is not stmt.iter else "")
        calls = any(
            isinstance(n, gast.Call)
            and isinstance(n.func, gast.Attribute)
            and isinstance(n.func.value, gast.Name)
            and n.func.value.id == stmt.target.id
            for b in stmt.body
            for n in walk(b)
        )
        if not calls or any(isinstance(n, gast.Continue) for b in stmt.body for n in walk(b)):
            return None
        if not self.kinds:  # the first try: ask for the classes of the arguments
            raise self.error(NeedsTypesError, stmt, "the loop's items are known when the code runs", "")
        kind = self.kinds.get(key)
        return kind[1] if isinstance(kind, tuple) and kind[:1] == ("items",) else None

    def unroll_passed_in(self, stmt: gast.For, kinds: tuple) -> None:
        """The loop's body once per item of the argument (this call has ``len(kinds)`` of them):
        ``layer = layers[0]``, whose methods are its class's."""
        for i, kind in enumerate(kinds):
            item = gast.Subscript(
                value=_copy(stmt.iter), slice=gast.Constant(value=i, kind=None), ctx=gast.Load()
            )
            atom = self.atom(gast.copy_location(item, stmt))
            if isinstance(atom, gast.Name):
                self.item_kinds[atom.id] = kind
            self.scope.env[stmt.target.id] = atom
            self.block(stmt.body)

    def unroll(self, stmt: gast.For, objects: list) -> None:
        """The loop's body once per object, which its variable denotes there; first a check that
        the sequence still holds these objects (else the generated code is stale: an error)."""
        bound = [name(self.bindings.value(obj, stmt.target.id)) for obj in objects]
        check = gast.Call(
            func=name(self.bindings.value(runtime.same_items, "same_items")),
            args=[
                self.substitute(stmt.iter),
                gast.Tuple(elts=bound, ctx=gast.Load()),
                gast.Constant(
                    value=f"{self.scope.frames[-1].filename}:{self.scope.frames[-1].lineno}", kind=None
                ),
            ],
            keywords=[],
        )
        self.out.append(Stmt(gast.Expr(value=check), self.scope.frames))
        for atom in bound:
            self.scope.env[stmt.target.id] = atom
            self.block(stmt.body)

    def copy_back(self) -> None:
        """Before a break: the carried names take the values of this iteration."""
        loop, carried = self.loops[-1]
        self.copy_carried(self.out, carried, self.scope.env)

    def copy_carried(self, block: list, carried: dict[str, str], env: dict[str, gast.expr]) -> None:
        """``carried = value`` for every carried name, as one parallel assignment: every value is
        read before any carried name is set (``a, b = b, a`` swaps them). Copies run in an order
        where no copy overwrites a name a later one reads; a cycle keeps one old value under a
        new name first."""
        pending = {
            target: env[user_name]
            for user_name, target in carried.items()
            if env.get(user_name) is not None and not _same(env[user_name], name(target))
        }
        while pending:
            reads = {n.id for atom in pending.values() for n in walk(atom) if isinstance(n, gast.Name)}
            free = [t for t in pending if t not in reads or _same(pending[t], name(t))]
            if free:
                self.copy_into(block, free[0], pending.pop(free[0]), copyback=True)
                continue
            target = next(iter(pending))  # every target is read by another copy: a cycle
            old = self.namer.fresh(target)
            self.copy_into(block, old, name(target), copyback=True)
            for t, atom in pending.items():
                if isinstance(atom, gast.Name) and atom.id == target:
                    pending[t] = name(old)

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
            if target.id not in self.scope.env and target.id in self.live.get(id(stmt), ()):
                # read after the loop, where no iteration leaves it unbound: None, as after a
                # branch that does not define a name, so that copying it is not an error
                self.out.append(
                    Stmt(assign(loop.target, gast.Constant(value=None, kind=None)), self.scope.frames)
                )
            self.scope.env[target.id] = name(loop.target)
            return []
        index = self.namer.fresh("i")
        loop.target = index
        index_key = "@" + index  # not an identifier, so no user name can collide with it
        self.scope.env[index_key] = name(index)
        before = set(self.scope.env)
        length, assigns = self.iteration(target, iterator, name(index_key), stmt)
        for key in set(self.scope.env) - before:  # zip(*parts)'s items were read into sequences
            if key.startswith("@arg"):
                del self.scope.env[key]
        loop.iterable = name(self.emit(self.fresh(None, "steps"), self.builtin("range", length)))
        return assigns

    def iteration(
        self, target: gast.expr, iterator: gast.expr, index: gast.Name, stmt: gast.stmt
    ) -> tuple[gast.expr, list[gast.stmt]]:
        """How many items ``iterator`` yields, and the assignments that bind ``target`` to item ``index``.

        ``enumerate`` and ``zip`` (nested too) become indexing of the sequences they walk.
        """
        func = self.scope.resolver.resolve(iterator.func) if isinstance(iterator, gast.Call) else None
        if func in (zip, enumerate) and any(isinstance(a, gast.Starred) for a in iterator.args):
            iterator = self.spread(iterator)  # zip(*parts): the parts one by one, where known
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
        if func is reversed and len(iterator.args) == 1 and not iterator.keywords:  # as xs[::-1]
            backwards = gast.Slice(lower=None, upper=None, step=gast.Constant(value=-1, kind=None))
            iterator = gast.Subscript(value=iterator.args[0], slice=backwards, ctx=gast.Load())
        if self.one_pass(iterator):  # a generator: its items, once, as a list the loop can index
            iterator = gast.Call(func=name(self.bindings.value(list, "list")), args=[iterator], keywords=[])
        sequence = self.atom(iterator)
        key = f"@sequence{len(self.scope.env)}"  # the body reads the sequence through the user's names
        self.scope.env[key] = sequence
        in_place, rebound = _changed_in_place(stmt.body)
        rebound |= {n.id for n in walk(stmt.target) if isinstance(n, gast.Name)}  # each iteration
        if isinstance(iterator, gast.Name) and iterator.id in in_place:
            # Python's iterator reads each item from the object as the loop has changed it so far
            if iterator.id in rebound or (isinstance(sequence, gast.Name) and sequence.id in self.lists):
                raise self.error(
                    UnsupportedSyntaxError,
                    stmt,
                    f"srcgrad cannot differentiate a loop over {iterator.id} that its body changes in "
                    "place and rebinds (or grows)",
                    f"loop by index: for i in range(len({iterator.id})): ... {iterator.id}[i] ...",
                )
            key = iterator.id
        elif isinstance(sequence, gast.Name):  # the iterator holds the array: no in-place update of it
            self.held.add(sequence.id)
            self.share(sequence.id)  # through another name (`z, x = x, z; x += 1`) while the loop runs
        item = gast.Subscript(value=name(key), slice=_copy(index), ctx=gast.Load())
        assign_ = gast.Assign(targets=[target], value=item, type_comment=None)
        length = self.builtin("len", sequence)
        if isinstance(sequence, gast.Name) and sequence.id in self.unknown:  # passed in: a dict?
            frame = self.scope.frames[-1]
            where = gast.Constant(value=f"{frame.filename}:{frame.lineno}", kind=None)
            check = name(self.bindings.value(runtime.not_a_dict, "not_a_dict"))
            length = self.builtin("len", gast.Call(func=check, args=[_copy(sequence), where], keywords=[]))
        return length, [gast.copy_location(assign_, stmt)]


def _is_object(value: object) -> bool:
    """Is ``value`` an object whose methods code calls (a layer, a function), not data?"""
    return not isinstance(
        value, (int, float, complex, str, bytes, list, tuple, dict, np.ndarray, np.generic, type(None))
    )
