"""Stage 6: print generated code, each block under a comment quoting its primal line.

Printing uses the standard library's ``ast.unparse``, which parenthesizes only where
needed (astunparse wraps every binary operation in parentheses).
"""

from __future__ import annotations

import ast

import gast

from .ir import Frame, IfBlock, Stmt, gc_paused
from .optimize import eliminate_dead_code, fold_single_use, read_counts, read_names, read_names_of
from .reverse import Generated

INDENT = "    "
MAX_LINE = 96


def _unparse(node: gast.AST) -> str:
    # (the conversion builds new nodes: ``node`` is left as it was, no copy needed)
    return ast.unparse(_to_ast(node))


def _to_ast(node: gast.AST) -> ast.AST:
    """``gast.gast_to_ast(node)``, made faster for the nodes generated code is made of (a third of
    the time of printing went to gast's generic converter); any other node goes through gast."""
    spec = _SPECS.get(node.__class__)
    if spec is None:
        return ast.fix_missing_locations(gast.gast_to_ast(node))
    cls, fields = spec
    values = []
    for field_ in fields:
        value = getattr(node, field_)
        if value.__class__ is list:
            value = [_to_ast(v) if isinstance(v, gast.AST) else v for v in value]
        elif isinstance(value, gast.AST):
            value = _to_ast(value)
        values.append(value)
    new = cls(*values)
    if isinstance(new, ast.stmt):
        new.lineno = 1  # (ast.unparse looks up a statement's type comment by its line)
    return new


def _specs() -> dict[type, tuple[type, tuple[str, ...]]]:
    """The gast classes that convert field by field to the ast class of the same name (gast's
    converter has no method of its own for them), and Name and Assign, which drop fields."""
    from gast.ast3 import GAstToAst3

    own = [c for c in GAstToAst3.__mro__ if c.__module__.startswith("gast")]  # (not ast.NodeVisitor)
    specs: dict[type, tuple[type, tuple[str, ...]]] = {
        gast.Name: (ast.Name, ("id", "ctx")),
        gast.Assign: (ast.Assign, ("targets", "value")),
    }
    for key, cls in vars(gast).items():
        target = getattr(ast, key, None)
        if (
            isinstance(cls, type)
            and issubclass(cls, gast.AST)
            and cls not in specs
            and isinstance(target, type)
            and issubclass(target, ast.AST)
            and tuple(cls._fields) == tuple(target._fields)
            and not any(f"visit_{key}" in vars(c) for c in own)
        ):
            specs[cls] = (target, tuple(cls._fields))
    return specs


_SPECS = _specs()


def _comments(frames: tuple[Frame, ...], previous: tuple[Frame, ...]) -> list[str]:
    """Comment lines for the frames that changed since the previous statement."""
    same = 0
    while same < min(len(frames), len(previous)) and frames[same] == previous[same]:
        same += 1
    if same == len(frames) and frames != previous and frames:
        same -= 1  # back in the caller's line after an inlined helper
    lines = []
    for depth, frame in enumerate(frames[same:], start=same):
        where = f"[{frame.filename}:{frame.lineno}]"
        inside = f"in {frame.function}: " if depth else ""
        lines.append(f"# {'  ' * depth}{inside}{frame.text}   {where}")
    return lines


def _statement(node: gast.stmt) -> list[str]:
    """One statement; a long sum of adjoint contributions gets one term per line."""
    text = _unparse(node)
    if len(text) <= MAX_LINE or not isinstance(node, gast.Assign):
        return text.splitlines()
    terms, value = [], node.value
    while isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub)):
        right = _unparse(value.right)
        if isinstance(value.right, gast.BinOp) and isinstance(value.right.op, (gast.Add, gast.Sub)):
            right = f"({right})"
        terms.append(("+ " if isinstance(value.op, gast.Add) else "- ") + right)
        value = value.left
    if not terms:
        return text.splitlines()
    terms.append(_unparse(value))
    target = _unparse(node.targets[0])
    return [f"{target} = ("] + [INDENT + t for t in reversed(terms)] + [")"]


def _block(items: list, previous: tuple[Frame, ...] = ()) -> list[str]:
    lines: list[str] = []
    for item in items:
        if item.origin != previous:
            lines += _comments(item.origin, previous)
            previous = item.origin
        if isinstance(item, Stmt):
            lines += _statement(item.node)
            continue
        if isinstance(item, IfBlock):
            lines.append(f"if {_unparse(item.cond)}:")
            lines += _indent(_block(item.body, previous) or ["pass"])
            if item.orelse:
                lines.append("else:")
                lines += _indent(_block(item.orelse, previous))
        elif item.kind == "while":
            lines.append(f"while {_unparse(item.test)}:")
            lines += _indent(_block(item.body, previous) or ["pass"])
        else:
            lines.append(f"for {item.target} in {_unparse(item.iterable)}:")
            lines += _indent(_block(item.body, previous) or ["pass"])
    return lines


def _indent(lines: list[str]) -> list[str]:
    return [INDENT + line if line else line for line in lines]


@gc_paused
def emit(generated: Generated) -> str:
    """The source text of ``generated``: forward pass, blank line, backward pass, return."""
    live = read_names(generated.returns) if generated.returns is not None else set()
    backward = eliminate_dead_code(generated.backward, set(live))
    live = set(live) | read_names_of(backward)
    forward = eliminate_dead_code(generated.forward, live)
    reads: dict[str, int] = {}
    read_counts(forward + backward, reads)
    if generated.returns is not None:
        read_counts([Stmt(gast.Expr(value=generated.returns), ())], reads)
    forward = fold_single_use(forward, reads)
    signature = _unparse(
        gast.FunctionDef(
            name=generated.name,
            args=generated.args,
            body=[gast.Pass()],
            decorator_list=[],
            returns=None,
            type_comment=None,
            type_params=[],
        )
    ).splitlines()[0]
    body = []
    if generated.doc:
        body.append(f'"""{generated.doc}"""')
    body += _block(forward)
    if backward:
        body += [""] + _block(backward)
    if generated.returns is not None:
        body.append("return " + _unparse(generated.returns))
    return "\n".join([signature] + [INDENT + line if line else "" for line in body]) + "\n"
