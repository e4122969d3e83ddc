"""Stage 6: print generated code, each block under a comment quoting its primal line.

Printing uses the standard library's ``ast.unparse``, which parenthesizes only where
needed (astunparse wraps every binary operation in parentheses).
"""

from __future__ import annotations

import ast
import sys

import gast

from .ir import Frame, IfBlock, Stmt
from .optimize import eliminate_dead_code, fold_single_use, read_counts, read_names, read_names_of
from .reverse import Generated
from .trees import gc_paused

INDENT = "    "
MAX_LINE = 96


def _unparse(node: gast.AST) -> str:
    if _UNPARSER is not None:
        try:
            return _Printer().statement(node)
        except _Unsupported:
            pass
    # (the conversion builds new nodes: ``node`` is left as it was, no copy needed)
    return ast.unparse(_to_ast(node))


class _Unsupported(Exception):
    """A node ``_Printer`` leaves to ``ast.unparse``."""


# ast's printer and its precedences (where a Python keeps them elsewhere, all goes through ast.unparse)
_PRECEDENCE = getattr(ast, "_Precedence", None)
_UNPARSER = getattr(ast, "_Unparser", None) if _PRECEDENCE is not None else None


class _Printer:
    """``ast.unparse`` of the statements and expressions generated code is mostly made of, read
    straight from gast (printing took a third of the transform: a conversion to ast, then
    ast's printer). The same text by construction: the same precedences and parentheses, the
    same tables (ast's own); any other node raises ``_Unsupported`` and the statement is
    printed by ``ast.unparse``. tests/test_transform_speed.py compares the two."""

    def statement(self, node: gast.AST) -> str:
        cls = node.__class__
        P = _PRECEDENCE
        if cls is gast.Assign:
            targets = "".join(self.expr(t, P.TUPLE) + " = " for t in node.targets)
            return targets + self.expr(node.value, P.TEST)  # (gast_to_ast drops a type comment)
        if cls is gast.AugAssign:
            op = _UNPARSER.binop[node.op.__class__.__name__]
            return f"{self.expr(node.target, P.TEST)} {op}= {self.expr(node.value, P.TEST)}"
        if cls is gast.Expr:
            return self.expr(node.value, P.YIELD)
        if cls is gast.Return:
            return "return " + self.expr(node.value, P.TEST) if node.value else "return"
        if cls is gast.Pass:
            return "pass"
        if cls is gast.Break:
            return "break"
        if cls in _EXPRESSIONS:
            return self.expr(node, P.TEST)
        raise _Unsupported

    def expr(self, node: gast.AST, precedence: object) -> str:
        """``node`` printed where the context has ``precedence`` (ast's ``set_precedence``)."""
        cls = node.__class__
        P = _PRECEDENCE
        if cls is gast.Name:
            return node.id
        if cls is gast.Constant:
            value = node.value
            if node.kind == "u" or isinstance(value, tuple) or value is ...:
                raise _Unsupported
            if isinstance(value, (float, complex)):
                return repr(value).replace("inf", _INFSTR).replace("nan", f"({_INFSTR}-{_INFSTR})")
            if isinstance(value, (int, str, bytes)) or value is None:
                return repr(value)
            raise _Unsupported
        if cls is gast.Attribute:
            text = self.expr(node.value, P.ATOM)
            if node.value.__class__ is gast.Constant and isinstance(node.value.value, int):
                text += " "
            return text + "." + node.attr
        if cls is gast.Call:
            parts = [self.expr(a, P.TEST) for a in node.args]
            for k in node.keywords:
                prefix = "**" if k.arg is None else k.arg + "="
                parts.append(prefix + self.expr(k.value, P.TEST))
            return self.expr(node.func, P.ATOM) + "(" + ", ".join(parts) + ")"
        if cls is gast.BinOp:
            op = _UNPARSER.binop[node.op.__class__.__name__]
            own = _UNPARSER.binop_precedence[op]
            if op in _UNPARSER.binop_rassoc:
                left, right = own.next(), own
            else:
                left, right = own, own.next()
            text = f"{self.expr(node.left, left)} {op} {self.expr(node.right, right)}"
            return "(" + text + ")" if precedence > own else text
        if cls is gast.UnaryOp:
            op = _UNPARSER.unop[node.op.__class__.__name__]
            own = _UNPARSER.unop_precedence[op]
            text = op + ("" if own is P.FACTOR else " ") + self.expr(node.operand, own)
            return "(" + text + ")" if precedence > own else text
        if cls is gast.Subscript:
            index = node.slice
            if index.__class__ is gast.Tuple and index.elts:
                inside = self.items(index.elts)
            else:
                inside = self.expr(index, P.TEST)
            return self.expr(node.value, P.ATOM) + "[" + inside + "]"
        if cls is gast.Slice:
            text = self.expr(node.lower, P.TEST) if node.lower else ""
            text += ":" + (self.expr(node.upper, P.TEST) if node.upper else "")
            return text + (":" + self.expr(node.step, P.TEST) if node.step else "")
        if cls is gast.Tuple:
            text = self.items(node.elts)
            return "(" + text + ")" if _OLD_TUPLES or not node.elts or precedence > P.TUPLE else text
        if cls is gast.List:
            return "[" + ", ".join(self.expr(e, P.TEST) for e in node.elts) + "]"
        if cls is gast.Compare:
            inner = P.CMP.next()
            text = self.expr(node.left, inner)
            for op, right in zip(node.ops, node.comparators):
                text += " " + _UNPARSER.cmpops[op.__class__.__name__] + " " + self.expr(right, inner)
            return "(" + text + ")" if precedence > P.CMP else text
        raise _Unsupported

    def items(self, elts: list) -> str:
        """ast's ``items_view``: one item gets a trailing comma."""
        if len(elts) == 1:
            return self.expr(elts[0], _PRECEDENCE.TEST) + ","
        return ", ".join(self.expr(e, _PRECEDENCE.TEST) for e in elts)


_INFSTR = "1e" + repr(sys.float_info.max_10_exp + 1)
_OLD_TUPLES = sys.version_info < (3, 11)  # (Python 3.10's ast.unparse parenthesizes every tuple)
_EXPRESSIONS = (
    gast.Name, gast.Constant, gast.Attribute, gast.Call, gast.BinOp, gast.UnaryOp, gast.Subscript,
    gast.Tuple, gast.List, gast.Compare,
)  # fmt: skip


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
