"""``srcgrad.explain``: one HTML page that shows a function beside its generated derivative.

Every line of generated code is tied to the primal line it differentiates by the comments
the emitter writes (``# y = np.exp(-2.0 * x)   [tanh_slope.py:16]``, and an indented
``#   in sigmoid: ...`` for a line inlined from a helper); this module reads those comments
back, finds the source of the function and of each inlined helper, and, given arguments,
records the value of every generated line (:mod:`srcgrad.explain_values`). The page itself
is drawn by :mod:`srcgrad.explain_page`.
"""

from __future__ import annotations

import ast
import html
import inspect
import linecache
import os
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import runtime
from .api import Wrt, grad
from .errors import SrcGradError
from .explain_values import LineLog, record, show
from .parse import source_text

# ``# [  in NAME: ]TEXT   [FILE:LINE]``: two spaces of indentation per inlined call
COMMENT = re.compile(
    r"^\s*# (?P<indent> *)(?:in (?P<function>[^:]+): )?(?P<text>.*?)\s+\[(?P<where>[^\[\]]+:\d+)\]\s*$"
)


@dataclass
class GeneratedLine:
    """One line of generated code and the primal lines (``file.py:LINE``) it comes from, outermost first."""

    number: int
    text: str
    stack: tuple[str, ...]
    comment: bool = False


@dataclass
class Cited:
    """A primal line that some generated code cites."""

    where: str  # file.py:LINE, as the comments write it
    text: str
    function: str | None  # the helper's name for a line inlined from one; None in the function itself


@dataclass
class Section:
    """A block of primal source shown on the left: the function, or a helper inlined into it."""

    title: str
    filename: str  # the base name the comments use
    first: int  # the number of the first line
    lines: list[str]


@dataclass
class Explanation:
    """The explain page of a function; in Jupyter it displays inline (``_repr_html_``)."""

    html: str
    gradient_function: Callable
    gradient: Any = None  # the gradient's value at the point, when arguments were given
    values: dict[int, LineLog] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        at = "" if self.gradient is None else f", gradient {show(self.gradient)}"
        name = getattr(self.gradient_function, "__name__", "?")
        return f"<srcgrad.explain page of {name}{at}: .save(path) writes it>"

    def save(self, path: str | os.PathLike) -> None:
        """Write the page: one self-contained file (no network), to open in any browser."""
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.html)

    def _repr_html_(self) -> str:
        # An iframe keeps the page's styles and script away from the notebook's own.
        primal, generated = self.html.split('id="generated"', 1)
        height = min(
            1400, 320 + 21 * max(generated.count("<tr"), primal.count("<tr") + 2 * primal.count("<h3"))
        )
        return (
            f'<iframe srcdoc="{html.escape(self.html)}" style="width:100%;height:{height}px;border:0" '
            'sandbox="allow-scripts" title="srcgrad explain"></iframe>'
        )


def generated_lines(source: str) -> list[GeneratedLine]:
    """The lines of ``source`` with the primal lines each comes from, read from its comments."""
    out, stack = [], ()
    for number, text in enumerate(source.splitlines(), 1):
        if text.startswith("def "):
            stack = ()
        found = COMMENT.match(text)
        if found:
            depth = len(found.group("indent")) // 2
            stack = stack[:depth] + (found.group("where"),)
        out.append(GeneratedLine(number, text, stack if text.strip() else (), text.lstrip().startswith("#")))
    return out


def frames(source: str) -> dict[str, Cited]:
    """Every primal line the comments of ``source`` cite, in order of first appearance."""
    found: dict[str, Cited] = {}
    for text in source.splitlines():
        match = COMMENT.match(text)
        if match and match.group("where") not in found:
            where = match.group("where")
            found[where] = Cited(where, match.group("text"), match.group("function"))
    return found


def _path_of(filename: str, main_path: str) -> str | None:
    """The path of a file the comments name by its base name."""
    if os.path.basename(main_path) == filename:
        return main_path
    if filename in runtime.SOURCES:  # every file srcgrad parsed in this process
        return runtime.SOURCES[filename]
    for path in list(linecache.cache):  # a notebook's cells are there
        if os.path.basename(path) == filename:
            return path
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and os.path.basename(path) == filename:
            return path
    return None


def _enclosing_def(lines: list[str], lineno: int) -> tuple[int, int] | None:
    """The first and last line of the innermost ``def`` around ``lineno`` (decorators included)."""
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return None
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first <= lineno <= (node.end_lineno or node.lineno) and (best is None or first >= best[0]):
                best = (first, node.end_lineno or node.lineno)
    return best


def sections(f: types.FunctionType, cited: dict[str, Cited]) -> list[Section]:
    """The function's source, then the source of each helper the generated code inlines."""
    path = f.__code__.co_filename
    if path.startswith("<srcgrad ") and isinstance(getattr(f, "source", None), str):
        # generated code differentiated again: its comments cite lines of its .source as d_f:LINE
        filename, first, text = f.__name__, 1, f.source  # type: ignore[attr-defined]
        title = f"{f.__name__}  (generated by srcgrad)"
    else:
        filename, first, text = os.path.basename(path), f.__code__.co_firstlineno, source_text(f)
        title = f"{f.__qualname__}  ({filename}:{first})"
    if text is None:
        raise SrcGradError(f"cannot read the source of {f.__qualname__}", hint="define it in a .py file.")
    out = [Section(title, filename, first, text.splitlines())]
    shown = {filename: [(first, first + len(out[0].lines) - 1)]}
    for frame in cited.values():
        name, _, line = frame.where.rpartition(":")
        lineno = int(line)
        if any(a <= lineno <= b for a, b in shown.get(name, [])):
            continue
        where = _path_of(name, path)
        file_lines = linecache.getlines(where) if where else []
        span = _enclosing_def(file_lines, lineno) if file_lines else None
        if span is None:  # no file to read: the line as the comment quotes it
            span, block = (lineno, lineno), [frame.text]
        else:
            block = [s.rstrip("\n") for s in file_lines[span[0] - 1 : span[1]]]
        helper = frame.function or "helper"
        out.append(Section(f"{helper}  ({name}:{span[0]}), inlined", name, span[0], block))
        shown.setdefault(name, []).append(span)
    return out


def _bind(f: Callable, args: tuple, kwargs: dict) -> list[tuple[str, Any]]:
    try:
        bound = inspect.signature(f).bind(*args, **kwargs)
    except TypeError as exc:
        raise SrcGradError(
            f"explain: {f.__qualname__}{inspect.signature(f)} cannot take these arguments: {exc}",
            hint="give the arguments you would call the function with.",
        ) from None
    return list(bound.arguments.items())


def _wrt_names(f: Callable, wrt: Wrt) -> list[str]:
    """The names of the parameters ``wrt`` picks (``grad`` has checked it already)."""
    parameters = list(inspect.signature(f).parameters)
    items = wrt if isinstance(wrt, (tuple, list)) else [wrt]
    return [parameters[item] if isinstance(item, int) else str(item) for item in items]


def explain(f: Callable, *args: Any, wrt: Wrt = 0, mode: str = "reverse", **kwargs: Any) -> Explanation:
    """The explain page of ``f``: its source beside ``grad(f, wrt, mode=mode)``'s, lines linked.

    With arguments, the page is a worked example: the value each generated line computed at
    that point, and the gradient there. ``.save(path)`` writes it; Jupyter shows it inline.
    """
    from .explain_page import render

    gradient_function = grad(f, wrt=wrt, mode=mode)
    primal = inspect.unwrap(f.__func__ if inspect.ismethod(f) else f)
    source: str = gradient_function.source  # type: ignore[attr-defined]
    cited = frames(source)
    page_sections = sections(primal, cited)
    point, gradient, logs = None, None, {}
    if args or kwargs:
        point = [(name, show(value)) for name, value in _bind(f, args, kwargs)]
        gradient = gradient_function(*args, **kwargs)
        _, logs = record(gradient_function, args, kwargs)
    page = render(
        name=primal.__qualname__,
        mode=mode,
        wrt=_wrt_names(f, wrt),
        sections=page_sections,
        cited=cited,
        generated=generated_lines(source),
        source=source,
        logs=logs,
        point=point,
        gradient=None if point is None else show(gradient, full=True),
    )
    return Explanation(page, gradient_function, gradient, logs)
