"""Stage 1: read a function's source and parse it with gast.

Every node keeps the line number it has in the user's file, so that errors and the
comments in generated code can point at ``file.py:LINE``.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import io
import linecache
import os
import textwrap
import tokenize
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import gast
from gast.ast3 import Ast3ToGAst

from . import runtime
from .errors import SourceUnavailableError, SrcGradError, UnsupportedSyntaxError
from .trees import gc_paused, walk


@dataclass
class ParsedFunction:
    """A user function's AST together with everything needed to resolve its names."""

    fn: types.FunctionType
    node: gast.FunctionDef
    path: str
    lines: list[str] = field(repr=False)

    @property
    def filename(self) -> str:
        return os.path.basename(self.path)

    @property
    def globals(self) -> dict[str, Any]:
        return self.fn.__globals__

    @property
    def closure(self) -> dict[str, types.CellType]:
        cells = self.fn.__closure__ or ()
        return dict(zip(self.fn.__code__.co_freevars, cells))

    @functools.cached_property
    def nodes(self) -> list[gast.AST]:
        """Every node of the function, walked once (resolution, keys and checks all need them)."""
        return list(walk(self.node))

    @functools.cached_property
    def calls(self) -> list[gast.Call]:
        return [n for n in self.nodes if isinstance(n, gast.Call)]

    @functools.cached_property
    def local_names(self) -> frozenset[str]:
        """Parameters and every name the function body assigns."""
        args = self.node.args
        names = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
        names |= {a.id for a in (args.vararg, args.kwarg) if a is not None}
        for sub in self.nodes:
            if isinstance(sub, gast.Name) and isinstance(sub.ctx, (gast.Store, gast.Del)):
                names.add(sub.id)
            elif isinstance(sub, (gast.FunctionDef, gast.ClassDef)) and sub is not self.node:
                names.add(sub.name)
        return frozenset(names)

    def line(self, lineno: int | None) -> str:
        if lineno is None or not 1 <= lineno <= len(self.lines):
            return ""
        return self.lines[lineno - 1].rstrip("\n")

    def statement_text(self, node: gast.AST) -> str:
        """The primal source of a statement on one line, for comments in generated code."""
        first = getattr(node, "lineno", None)
        last = getattr(node, "end_lineno", None) or first
        parts = [_code_only(self.line(n)) for n in range(first, last + 1)] if first else []
        return " ".join(p for p in parts if p)

    def header_text(self, node: gast.AST) -> str:
        """The first line of a compound statement (``for t in range(n):``), without comments."""
        return _code_only(self.line(node.lineno))

    def error(self, cls: type[SrcGradError], node: gast.AST | None, message: str, hint: str) -> SrcGradError:
        lineno = getattr(node, "lineno", None) or self.fn.__code__.co_firstlineno
        return cls(message, self.filename, lineno, self.line(lineno), hint)


def _code_only(line: str) -> str:
    """A source line without its comment (a ``#`` inside a string stays)."""
    if "#" not in line:  # no comment to find: no need to tokenize
        return line.strip()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return line.strip()
    comments = [t for t in tokens if t.type == tokenize.COMMENT]
    return (line[: comments[0].start[1]] if comments else line).strip()


_cache: dict[types.CodeType, ParsedFunction] = {}


@gc_paused
def parse_function(fn: Callable) -> ParsedFunction:
    """Parse ``fn`` (a ``def`` or a ``lambda``) into a gast ``FunctionDef``."""
    code = getattr(fn, "__code__", None)
    if not isinstance(fn, types.FunctionType) or code is None:
        raise SourceUnavailableError(
            f"{fn!r} is not a Python function, so srcgrad has no source to transform",
            hint="pass a function defined with def or lambda in a .py file.",
        )
    cached = _cache.get(code)
    if cached is not None:  # the same code: another closure from one factory shares the tree
        return cached if cached.fn is fn else dataclasses.replace(cached, fn=fn)
    path = code.co_filename
    try:
        block, start = _source_lines(fn)
        all_lines = linecache.getlines(path) or block
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"cannot read the source of {fn.__qualname__} ({exc})",
            os.path.basename(path),
            code.co_firstlineno,
            hint="srcgrad transforms source code: define the function in a .py file "
            "(not with exec or in an interactive prompt).",
        ) from None
    text = textwrap.dedent("".join(block))
    try:
        module = _parse(text)
    except SyntaxError:  # the fast line range cut the definition short (it ends in a nested def)
        block, start = inspect.getsourcelines(fn)
        text = textwrap.dedent("".join(block))
        try:
            module = _parse(text)
        except SyntaxError:
            # A lambda inside a larger expression: its lines are not a statement on their own.
            module = _parse("(\n" + text + "\n)")
            start -= 1
    for node in walk(module):
        if hasattr(node, "lineno") and node.lineno is not None:
            node.lineno += start - 1
            if getattr(node, "end_lineno", None) is not None:
                node.end_lineno += start - 1
    parsed = ParsedFunction(fn, _find_def(module, fn, path), path, all_lines)
    if isinstance(parsed.node, gast.AsyncFunctionDef):
        raise parsed.error(
            UnsupportedSyntaxError,
            parsed.node,
            "srcgrad cannot differentiate an async function",
            "differentiate a plain def function.",
        )
    runtime.SOURCES[parsed.filename] = path
    _cache[code] = parsed
    return parsed


def _parse(text: str) -> gast.Module:
    """``gast.parse(text)``, with the conversion from ast made faster for common nodes."""
    return _to_gast(ast.parse(text))


def _to_gast(node: ast.AST) -> gast.AST:
    """``gast.ast_to_gast(node)``: node by node for the classes whose fields are the same in
    gast (gast's own converter, generic and slow, took most of the time of parsing), Name
    as gast converts it, through gast for the rest. (An ast node keeps its fields and its
    location attributes, and nothing else, in its ``__dict__``.)"""
    cls = node.__class__
    if cls is ast.Name:
        new = gast.Name(node.id, _to_gast(node.ctx), None, None)
        fields = new.__dict__
        for attribute in cls._attributes:
            value = node.__dict__.get(attribute, _NONE)
            if value is not _NONE:
                fields[attribute] = value
        return new
    target = _SAME_FIELDS.get(cls)
    if target is None:  # gast's own conversion of this node; its children come back here
        return _CONVERTER.convert(node)
    new = target.__new__(target)
    fields = new.__dict__
    for key, value in node.__dict__.items():
        if value.__class__ is list:
            value = [_to_gast(v) if isinstance(v, ast.AST) else v for v in value]
        elif isinstance(value, ast.AST):
            value = _to_gast(value)
        fields[key] = value
    return new


_NONE = object()


class _Converter(Ast3ToGAst):
    """gast's converter, with the children of the nodes it converts converted by ``_to_gast``
    (without it, a function's whole body went the slow way under its ``FunctionDef``)."""

    def visit(self, node: ast.AST) -> gast.AST:
        return _to_gast(node)

    def convert(self, node: ast.AST) -> gast.AST:
        return Ast3ToGAst.visit(self, node)


_CONVERTER = _Converter()


def _same_fields() -> dict[type, type]:
    own = [c for c in Ast3ToGAst.__mro__ if c.__module__.startswith("gast")]  # (not ast.NodeVisitor)
    same = {}
    for key, cls in vars(ast).items():
        target = getattr(gast, key, None)
        if (
            isinstance(cls, type)
            and issubclass(cls, ast.AST)
            and isinstance(target, type)
            and issubclass(target, gast.AST)
            and tuple(cls._fields) == tuple(target._fields)
            and not any(f"visit_{key}" in vars(c) for c in own)
        ):
            same[cls] = target
    return same


_SAME_FIELDS = _same_fields()


def _source_lines(fn: types.FunctionType) -> tuple[list[str], int]:
    """The lines of ``fn``'s definition, from its code object's line range (fast: no
    tokenizing); ``parse_function`` falls back on ``inspect`` when they do not parse."""
    code = fn.__code__
    linecache.checkcache(code.co_filename)  # the file may have been edited (and its module reloaded)
    lines = linecache.getlines(code.co_filename)
    last = _last_line(code)
    if not lines or last is None or code.co_name == "<lambda>":
        return inspect.getsourcelines(fn)
    return lines[code.co_firstlineno - 1 : last], code.co_firstlineno


def _last_line(code: types.CodeType) -> int | None:
    """The last line any instruction of ``code`` (not of the code objects nested in it) comes
    from, None when it has none. From Python 3.11 on, the line where an instruction's
    expression ends; on 3.10 (no ``co_positions``), the line where it starts, which may stop
    short of a closing bracket or the rest of a string: callers extend the range."""
    if _POSITIONS:
        return max(filter(None, map(itemgetter(1), code.co_positions())), default=None)
    return max(filter(None, map(itemgetter(2), code.co_lines())), default=None)


_POSITIONS = hasattr(types.CodeType, "co_positions")  # Python 3.11 and newer


def source_text(fn: types.FunctionType, lines: list[str] | None = None) -> str | None:
    """The lines of ``fn``'s definition as they are in its file now, without parsing (for the
    cache's key), or None when there is no file. The range runs from the first line of the code
    object (decorators included) to the last line any instruction of it or of a code object
    nested in it comes from, then on over the lines indented deeper than the first (trailing
    statements without instructions, such as ``pass``): it holds at least everything
    ``parse_function`` parses, so the same text means the same tree. ``lines``: the file's
    lines as read before (``ParsedFunction.lines``) instead of as they are now."""
    code = fn.__code__
    if lines is None:
        try:
            linecache.checkcache(code.co_filename)  # the file may have been edited (and its module reloaded)
            lines = linecache.getlines(code.co_filename, fn.__globals__)
        except Exception:  # a loader that fails: no source, as for a function made by exec
            return None
    first = code.co_firstlineno
    if not lines or not 1 <= first <= len(lines):
        return None
    last, todo = first, [code]
    while todo:
        inner = todo.pop()
        last = max(last, _last_line(inner) or last)
        todo += [c for c in inner.co_consts if isinstance(c, types.CodeType)]
    if not _POSITIONS:  # 3.10: the lines hold where instructions start; the block ends where it ends
        try:
            last = max(last, first - 1 + len(inspect.getblock(lines[first - 1 :])))
        except Exception:  # tokenizing failed (a file edited since): the range found so far
            pass
    head = lines[first - 1]
    indent = len(head) - len(head.lstrip())
    while last < len(lines):
        line = lines[last]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        last += 1
    while last > first and not lines[last - 1].strip():
        last -= 1
    return "".join(lines[first - 1 : last])


def _find_def(module: gast.Module, fn: types.FunctionType, path: str) -> gast.FunctionDef:
    code = fn.__code__
    if code.co_name != "<lambda>":
        for node in walk(module):
            if isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef)) and node.name == code.co_name:
                return node
    else:
        lambdas = [
            n
            for n in walk(module)
            if isinstance(n, gast.Lambda)
            and n.lineno == code.co_firstlineno
            and [a.id for a in n.args.args] == list(code.co_varnames[: code.co_argcount])
        ]
        if len(lambdas) == 1:
            lam = lambdas[0]
            ret = gast.Return(value=lam.body)
            gast.copy_location(ret, lam.body)
            node = gast.FunctionDef(
                name="lambda",
                args=lam.args,
                body=[ret],
                decorator_list=[],
                returns=None,
                type_comment=None,
                type_params=[],
            )
            return gast.copy_location(node, lam)
    raise SourceUnavailableError(
        f"cannot find the source of {fn.__qualname__}",
        os.path.basename(path),
        code.co_firstlineno,
        hint="give the lambda its own line, or define it with def.",
    )
