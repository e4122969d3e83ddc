"""Before normalizing: give early exits a shape the reverse transform can mirror.

``if c: break`` followed by more statements becomes ``if c: break`` / ``else: <the rest>``,
and likewise for ``continue`` and ``return``; when the exit is nested deeper, the rest is
copied to the end of every path that does not exit. Afterwards an exit is always the last
statement of its block, a ``continue`` at the end of a loop body is dropped, and the
backward pass needs only the branch taken and the number of iterations, never a jump.
"""

from __future__ import annotations

import copy

import gast

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
        if isinstance(stmt, (gast.For, gast.While)) and any(
            isinstance(n, gast.Return) for n in gast.walk(stmt)
        ):
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
