"""Stage 7: turn generated source into a function that reads the user's globals live.

The source is compiled inside a wrapper function whose parameters are the names the
generated code needs from srcgrad (``np``, runtime helpers, other modules); the
generated function is then rebuilt with the user's own globals dict and closure cells,
so a module constant reassigned after ``grad(f)`` is seen by the next call.
"""

from __future__ import annotations

import linecache
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .ir import Bindings
from .runtime import LOCATION

WRAPPER = "_srcgrad_bind"


@dataclass
class Compiled:
    """What the cache keeps: everything needed to build the function again cheaply."""

    source: str
    code: types.CodeType
    filename: str
    freevars: list[str]
    label: str


def compile_source(
    source: str, func_name: str, freevars: list[str], label: str, code: types.CodeType | None = None
) -> Compiled:
    """Compile ``source`` (one ``def``) so that ``freevars`` become closure variables.

    ``code``, when given, is that function's code compiled before (read from the disk cache):
    it is only registered for tracebacks under a file name free in this process."""
    indented = "".join("    " + line if line.strip() else line for line in source.splitlines(True))
    text = f"def {WRAPPER}({', '.join(freevars)}):\n{indented}    return {func_name}\n"
    filename = f"<srcgrad {label}>"
    lines, n = _located(text.splitlines(True)), 1
    while filename in linecache.cache and linecache.cache[filename][2] != lines:
        n += 1  # another generated text under this label (other wrt, other mode): keep both readable
        filename = f"<srcgrad {label} #{n}>"
    if code is None:
        module = compile(text, filename, "exec")
        wrapper = next(c for c in module.co_consts if isinstance(c, types.CodeType))
        code = next(c for c in wrapper.co_consts if isinstance(c, types.CodeType) and c.co_name == func_name)
    else:
        code = _refile(code, filename)
    linecache.cache[filename] = (len(text), None, lines, filename)
    return Compiled(source, code, filename, list(freevars), label)


def _refile(code: types.CodeType, filename: str) -> types.CodeType:
    if code.co_filename == filename:
        return code
    consts = tuple(_refile(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _located(lines: list[str]) -> list[str]:
    """The lines tracebacks and pdb show: each line of code ends with the primal line it
    comes from (``# [tanh.py:6]``), so an error names it. Only comments differ from the
    compiled text, so line numbers agree; ``.source`` stays without them."""
    out, where = [], None
    for line in lines:
        code = line.lstrip()
        found = LOCATION.match(line) if code.startswith("#") else None  # (the regex only for comments)
        if found:
            where = found.group(1)
        elif where and code and not code.startswith("#"):
            line = f"{line.rstrip()}  # [{where}]\n"
        out.append(line)
    return out


def make_function(compiled: Compiled, primal: Callable, bindings: Bindings) -> Callable[..., Any]:
    """The generated function, with ``primal``'s globals and defaults and the bound names."""
    cells, own = [], None
    for var in compiled.code.co_freevars:
        if var in bindings.cells:
            cells.append(bindings.cells[var])
        elif var == compiled.code.co_name:  # the function names itself (size_one_gradient)
            own = types.CellType()
            cells.append(own)
        else:
            cells.append(types.CellType(bindings.values[var]))
    fn = types.FunctionType(
        compiled.code, primal.__globals__, compiled.code.co_name, primal.__defaults__, tuple(cells)
    )
    if own is not None:
        own.cell_contents = fn
    fn.__kwdefaults__ = dict(primal.__kwdefaults__ or {}) or None
    fn.__module__ = primal.__module__
    fn.__qualname__ = compiled.code.co_name
    fn.source = compiled.source
    return fn
