"""Before normalizing: give early exits a shape the reverse transform can mirror.

``if c: break`` followed by more statements becomes ``if c: break`` / ``else: <the rest>``,
and likewise for ``continue`` and ``return``; when the exit is nested deeper, the rest is
copied to the end of every path that does not exit. Afterwards an exit is always the last
statement of its block, a ``continue`` at the end of a loop body is dropped, and the
backward pass needs only the branch taken and the number of iterations, never a jump.
A ``return`` inside a loop is first made a ``break`` that records the value
(``lower_loop_returns``).
"""

from __future__ import annotations

import copy

import gast

from .trees import walk, walk_values

EXITS = (gast.Return, gast.Break, gast.Continue)


def exits(body: list[gast.stmt]) -> bool:
    """Does every path through ``body`` end in return, break or continue?"""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, EXITS):
        return True
    return isinstance(last, gast.If) and exits(last.body) and exits(last.orelse)


def may_exit(body: list[gast.stmt]) -> bool:
    """Can some path through ``body`` leave it by return, break or continue?"""
    for stmt in body:
        if isinstance(stmt, EXITS):
            return True
        if isinstance(stmt, gast.If) and (may_exit(stmt.body) or may_exit(stmt.orelse)):
            return True
        if isinstance(stmt, (gast.For, gast.While)) and any(isinstance(n, gast.Return) for n in walk(stmt)):
            return True
    return False


def restructure(body: list[gast.stmt], loop_body: bool = False) -> list[gast.stmt]:
    """``body`` with every exit moved to the end of its block (see the module docstring)."""
    out: list[gast.stmt] = []
    for i, stmt in enumerate(body):
        if isinstance(stmt, (gast.For, gast.While)):
            stmt.body = restructure(stmt.body, loop_body=True)
            stmt.orelse = restructure(stmt.orelse)
        elif isinstance(stmt, gast.If):
            stmt.body = restructure(stmt.body)
            stmt.orelse = restructure(stmt.orelse)
            rest = body[i + 1 :]
            if rest and (may_exit(stmt.body) or may_exit(stmt.orelse)):
                # The rest runs only on the paths that do not exit: put it at their ends.
                if not exits(stmt.body):
                    stmt.body = restructure(stmt.body + copy.deepcopy(rest))
                if not exits(stmt.orelse):
                    stmt.orelse = restructure(stmt.orelse + copy.deepcopy(rest))
                out.append(stmt)
                break
        out.append(stmt)
        if isinstance(stmt, EXITS):
            break  # anything after is unreachable
    if loop_body:
        _drop_final_continue(out)
    return out


def _drop_final_continue(body: list[gast.stmt]) -> None:
    """A ``continue`` that ends the loop body does nothing; removing it keeps blocks simple."""
    if not body:
        return
    last = body[-1]
    if isinstance(last, gast.Continue):
        body.pop()
    elif isinstance(last, gast.If):
        _drop_final_continue(last.body)
        _drop_final_continue(last.orelse)


def lower_loop_returns(body: list[gast.stmt]) -> list[gast.stmt]:
    """``return v`` inside a loop becomes ``result = v; returning = True; break``, an inner loop
    it leaves is followed by ``if returning: break``, and the outermost loop by
    ``if returning: return result``: a return at the end of a block, as everywhere else."""
    if not any(
        _returns(stmt.body)
        for s in body
        for stmt in walk_values(s)
        if isinstance(stmt, (gast.For, gast.While))
    ):
        return body
    body = copy.deepcopy(body)  # the parsed function is cached: rewrite a copy
    taken = {n.id for stmt in body for n in walk(stmt) if isinstance(n, gast.Name)}
    return _lower(body, taken)


def _lower(body: list[gast.stmt], taken: set[str]) -> list[gast.stmt]:
    out: list[gast.stmt] = []
    for stmt in body:
        if isinstance(stmt, (gast.For, gast.While)) and _returns(stmt.body):
            flag, value = _fresh("returning", taken), _fresh("result", taken)
            stmt.body = _leave(stmt.body, flag, value)
            start = _at(_assign(flag, gast.Constant(value=False, kind=None)), stmt)
            for sub in walk(start):  # it quotes the loop's first line only
                if hasattr(sub, "lineno"):
                    sub.end_lineno = sub.lineno
            out.append(start)
            out.append(stmt)
            back = gast.Return(value=_name(value))
            out.append(_at(gast.If(test=_name(flag), body=[_at(back, stmt)], orelse=[]), stmt))
            continue
        if isinstance(stmt, gast.If):
            stmt.body, stmt.orelse = _lower(stmt.body, taken), _lower(stmt.orelse, taken)
        elif isinstance(stmt, gast.With):
            stmt.body = _lower(stmt.body, taken)
        out.append(stmt)
    return out


def _leave(body: list[gast.stmt], flag: str, value: str) -> list[gast.stmt]:
    """``body`` of a loop with its returns turned into breaks that set ``flag`` and ``value``."""
    out: list[gast.stmt] = []
    for stmt in body:
        if isinstance(stmt, gast.Return):
            result = stmt.value if stmt.value is not None else gast.Constant(value=None, kind=None)
            out += [_at(_assign(value, result), stmt), _at(_assign(flag, gast.Constant(True, None)), stmt)]
            out.append(_at(gast.Break(), stmt))
            continue
        if isinstance(stmt, gast.If):
            stmt.body, stmt.orelse = _leave(stmt.body, flag, value), _leave(stmt.orelse, flag, value)
        elif isinstance(stmt, gast.With):
            stmt.body = _leave(stmt.body, flag, value)
        elif isinstance(stmt, (gast.For, gast.While)) and _returns(stmt.body):
            stmt.body = _leave(stmt.body, flag, value)
            out.append(stmt)
            out.append(_at(gast.If(test=_name(flag), body=[_at(gast.Break(), stmt)], orelse=[]), stmt))
            continue
        out.append(stmt)
    return out


def _returns(body: list[gast.stmt]) -> bool:
    """Does ``body`` return (not from a function or lambda defined in it)?"""
    todo = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, gast.Return):
            return True
        if not isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda, gast.ClassDef)):
            todo += [c for c in gast.iter_child_nodes(node) if isinstance(c, gast.stmt)]
    return False


def _fresh(base: str, taken: set[str]) -> str:
    name_, n = base, 0
    while name_ in taken:
        n += 1
        name_ = f"{base}_{n}"
    taken.add(name_)
    return name_


def _name(id_: str, ctx: gast.expr_context | None = None) -> gast.Name:
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _assign(target: str, value: gast.expr) -> gast.Assign:
    return gast.Assign(targets=[_name(target, gast.Store())], value=value, type_comment=None)


def _at(node: gast.AST, where: gast.AST) -> gast.AST:
    """``node`` quoting the user's line ``where`` (in error messages and generated comments)."""
    for sub in walk(node):
        gast.copy_location(sub, where)
    return node
