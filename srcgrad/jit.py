"""``jit=True``: the generated gradient compiled by numba.

numba compiles the very function ``.source`` shows, with two changes made where nobody reads
them: the values the code reads from the user's module or closure (``inputs``, a constant)
become parameters, passed at each call, because numba would freeze them at their first
value and a later ``inputs = ...`` would be silently ignored; and ``while True:`` becomes a
loop on a parameter that is always True, because numba miscompiles some ``while True:`` loops. A short Python wrapper with the
gradient's own signature reads them and calls the compiled code. Each runtime helper the
code calls has a numba twin (see ``srcgrad.twins``).

Where numba cannot compile a line, the error names the user's line and the generated line
and says that ``jit=False`` runs the same code; there is no silent fallback. With the disk
cache on, the compiled code is cached by numba next to srcgrad's entries (``jit/`` in the
cache directory), so a second process pays no compile.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import linecache
import os
import re
import sys
import tempfile
import traceback
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import cache
from .compile import _located
from .errors import JitError, SrcGradError
from .twins import RAISED

_REGISTERED = False
_JITTED: dict[tuple, Callable] = {}  # (code, globals, closure values) -> the compiled wrapper
_CITED = re.compile(r"#.*\[([^\[\]]+):(\d+)\]\s*$")
DATA = (np.ndarray, np.generic, int, float, complex, bool, str, bytes, tuple, list, dict, type(None))


def numba_module() -> Any:
    """numba, with srcgrad's twins registered (once), or a ``JitError`` saying how to get it."""
    global _REGISTERED
    try:
        import numba
    except ImportError:
        raise JitError(
            "jit=True compiles the generated code with numba, which is not installed",
            hint="pip install 'srcgrad[jit]', or use jit=False.",
        ) from None
    if not _REGISTERED:
        from numba.extending import overload

        from . import runtime  # (its modules declare the twins)
        from .twins import TWINS, numpy_beyond_numba, numpy_reductions

        for helper, typing in TWINS.items():
            overload(helper, prefer_literal=True)(typing)
        numpy_beyond_numba()
        numpy_reductions()
        runtime.products.numpy_linear_algebra()
        _REGISTERED = True
    return numba


def generated(value: Any) -> bool:
    """Is ``value`` a function srcgrad generated (whose code numba can be given)?"""
    code = getattr(value, "__code__", None)
    return isinstance(value, types.FunctionType) and code.co_filename.startswith("<srcgrad ")


def compiled(fn: Callable) -> Callable:
    """The generated function ``fn`` compiled by numba, behind a wrapper of ``fn``'s signature.

    A driver (``hessian``'s loop over unit tangents, the forward-mode ``grad``) stays Python:
    the generated functions it calls are compiled instead.
    """
    numba = numba_module()
    code = fn.__code__
    cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
    key = (code, id(fn.__globals__), tuple(id(_content(c)) for c in cells.values()))
    done = _JITTED.get(key)
    if done is not None:
        return done
    if _is_driver(fn, cells):
        result = _driver(fn, cells)
    else:
        result = _compile(numba, fn, cells)
    _JITTED[key] = result
    return result


def _content(cell: types.CellType) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # (not filled yet)
        return None


def _is_driver(fn: Callable, cells: dict) -> bool:
    """A driver calls other generated functions (and perhaps the user's own)."""
    return any(generated(_content(c)) and _content(c) is not fn for c in cells.values())


def _driver(fn: types.FunctionType, cells: dict) -> Callable:
    """``fn`` with each generated function it calls compiled."""
    closure = tuple(
        types.CellType(compiled(_content(c)) if generated(_content(c)) else _content(c))
        for c in (fn.__closure__ or ())
    )
    out = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, closure)
    out.__kwdefaults__, out.__qualname__, out.__module__ = fn.__kwdefaults__, fn.__qualname__, fn.__module__
    out.source = fn.source  # type: ignore[attr-defined]
    return out


def _definition(fn: types.FunctionType) -> tuple[ast.FunctionDef, list[str]]:
    """``fn``'s own ``def`` in its ``.source`` (which may show other functions first), and its lines."""
    source = fn.source  # type: ignore[attr-defined]
    tree = ast.parse(source)
    node = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fn.__code__.co_name][-1]
    lines = source.splitlines()[node.lineno - 1 : node.end_lineno]
    return node, lines


def _free_names(node: ast.FunctionDef) -> list[str]:
    """Names the function reads but never assigns: its globals and closure variables."""
    stored = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
    loaded: dict[str, None] = {}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if isinstance(sub.ctx, ast.Load):
                loaded.setdefault(sub.id)
            else:
                stored.add(sub.id)
    return [n for n in loaded if n not in stored]


def _compile(numba: Any, fn: types.FunctionType, cells: dict) -> Callable:
    code = fn.__code__
    if code.co_flags & (0x04 | 0x08):  # CO_VARARGS | CO_VARKEYWORDS
        raise JitError(f"jit=True cannot compile {code.co_name}: it takes *args or **kwargs", hint=_FALLBACK)
    node, lines = _definition(fn)
    params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    namespace: dict[str, Any] = {"__builtins__": builtins}
    lifted: list[tuple[str, str]] = []  # (name, how the wrapper reads it)
    for name in _free_names(node):
        if name in cells:
            value, where = _content(cells[name]), f"_cells[{name!r}].cell_contents"
        elif name in fn.__globals__:
            value, where = fn.__globals__[name], f"_globals[{name!r}]"
        elif hasattr(builtins, name):
            continue
        else:
            continue  # (a name that is never bound: numba names the line)
        if name == code.co_name or not isinstance(value, DATA):
            namespace[name] = (
                RAISED.get(value, value) if isinstance(value, types.FunctionType) else value
            )  # modules, helpers, numba functions: numba resolves them once
        else:
            lifted.append((name, where))
    header = _header_end(lines)
    body = lines[header + 1 :]
    if any(_WHILE_TRUE.match(line) for line in body):  # numba miscompiles some `while True:` loops
        always = _unused("always", set(params) | set(code.co_varnames) | set(_free_names(node)))
        body = [_WHILE_TRUE.sub(rf"\1while {always}:", line) for line in body]
        lifted.append((always, "True"))
    signature = ", ".join(params + [n for n, _ in lifted])
    text = "\n".join([f"def {code.co_name}({signature}):"] + body) + "\n"
    text = "".join(_located(text.splitlines(True)))
    names = sorted((k, cache._describe(v)) for k, v in namespace.items() if k != "__builtins__")
    filename = _store(code.co_name, text, repr(names))
    # A module of its own, known to sys.modules: numba's cache finds the code's globals by its name.
    module = types.ModuleType("srcgrad_jit_" + os.path.splitext(os.path.basename(filename))[0].strip("<>"))
    module.__dict__.update(namespace)
    module.__file__ = filename
    namespace = module.__dict__
    sys.modules[module.__name__] = module
    exec(compile(text, filename, "exec"), namespace)  # noqa: S102 (srcgrad's own generated code)
    dispatcher = numba.njit(cache=os.path.isabs(filename))(namespace[code.co_name])
    namespace[code.co_name] = dispatcher  # (size_one_gradient names the function itself)
    return _wrapper(fn, dispatcher, params, lifted, text, filename, cells)


_FALLBACK = "jit=False runs the same generated code without numba."
# numba 0.68 can loop forever or compute stale values in a `while True:` loop that assigns a
# name before `break` (numba issues 5267, 4915); a condition it cannot fold, a parameter that
# is always True, avoids it.
_WHILE_TRUE = re.compile(r"^(\s*)while True:(?=\s*(#.*)?$)")


def _unused(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def _header_end(lines: list[str]) -> int:
    """The index of the line that ends the ``def`` header."""
    depth = 0
    for i, line in enumerate(lines):
        depth += line.count("(") - line.count(")")
        if depth == 0 and line.rstrip().endswith(":"):
            return i
    return 0


def _store(name: str, text: str, names: str) -> str:
    """Where the text numba compiles lives: a file in the cache directory (so numba can cache
    the machine code beside it), or a name in ``linecache`` when the disk cache is off. The
    file's name says what the text's free ``names`` denote, so another binding is another file."""
    import numba

    digest = hashlib.sha256(
        "\0".join([text, names, numba.__version__, cache._srcgrad_fingerprint()]).encode()
    ).hexdigest()[:20]
    directory = cache.directory()
    if directory is not None:
        folder = os.path.join(str(directory), "jit")
        path = os.path.join(folder, f"{name}_{digest}.py")
        try:
            if not os.path.exists(path):
                os.makedirs(folder, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
                with os.fdopen(fd, "w") as out:
                    out.write(text)
                os.replace(tmp, path)  # atomic: a concurrent process sees the whole file or none
            return path
        except OSError:
            pass  # (a read-only cache directory: compile without numba's cache)
    filename = f"<srcgrad jit {name} {digest}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    return filename


def _wrapper(
    fn: types.FunctionType,
    dispatcher: Any,
    params: list[str],
    lifted: list[tuple[str, str]],
    text: str,
    filename: str,
    cells: dict,
) -> Callable:
    """A Python function with ``fn``'s signature that calls the compiled code."""
    code = fn.__code__
    positional = params[: code.co_argcount]
    keywords = params[code.co_argcount :]
    signature = ", ".join(positional + (["*"] + keywords if keywords else []))
    arguments = ", ".join(params + [where for _, where in lifted])
    source = (
        f"def {code.co_name}({signature}):\n"
        f"    try:\n"
        f"        out = _jitted({arguments})\n"
        f"    except _NumbaError as error:\n"
        f"        raise _explain(error) from None\n"
        f"    except SystemError as error:  # (numba could not return a value it made to Python)\n"
        f"        raise _unreturnable(error) from None\n"
        f"    except Exception as error:  # (numba's compiler failing inside, or the code raising)\n"
        f"        raise _internal(error)\n"
        f"    if len(_jitted.overloads) != _plain[0]:  # (a new signature: does it return numba's dicts?)\n"
        f"        _plain[:] = _typed_dicts(_jitted)\n"
        f"    return out if _plain[1] else _as_python(out)\n"
    )
    from numba.core.errors import NumbaError

    lines = text.splitlines()
    scope = {
        "_jitted": dispatcher,
        "_NumbaError": NumbaError,
        "_explain": lambda error: _explain(error, filename, lines, code.co_name),
        "_globals": fn.__globals__,
        "_cells": cells,
        "_plain": [0, True],
        "_typed_dicts": _typed_dicts,
        "_unreturnable": lambda error: _unreturnable(error, code.co_name),
        "_internal": lambda error: _internal(error, code.co_name),
        "_as_python": _as_python,
    }
    exec(compile(source, f"<srcgrad jit wrapper {code.co_name}>", "exec"), scope)  # noqa: S102
    wrapper = scope[code.co_name]
    wrapper.__defaults__, wrapper.__kwdefaults__ = fn.__defaults__, fn.__kwdefaults__
    wrapper.__qualname__, wrapper.__module__ = fn.__qualname__, fn.__module__
    wrapper.source = fn.source  # the code numba compiled, as generated
    wrapper.jitted = dispatcher  # numba's dispatcher (its signatures, inspect_types())
    wrapper.interpreted = fn
    return wrapper


def _unreturnable(error: SystemError, name: str) -> Exception:
    """The error for a value numba cannot hand back to Python (a dict of mixed values), or
    ``error`` itself where it is another."""
    cause: BaseException | None = error
    while cause is not None and "cannot convert native" not in str(cause):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return error
    return JitError(f"numba cannot return what {name} returns to Python: {cause}", hint=_FALLBACK)


def _internal(error: Exception, name: str) -> Exception:
    """A ``JitError`` for an exception numba's compiler raised by mistake (a bug of numba's:
    ``AttributeError`` in one of its passes) or its code raised where Python's would not (None
    met where numba typed a number, complex eigenvalues numba's eig cannot return), or
    ``error`` itself where the code raised it as Python would (its frames are machine code:
    none of numba's compiler is in the traceback)."""
    if isinstance(error, TypeError) and re.fullmatch(r"expected \S+, got None", str(error)):
        return JitError(  # (numba typed a name that may hold None as a number: Optional)
            f"numba's code for {name} met None where it typed a number ({error}): a name that "
            "holds None in one path and a number in another",
            hint=_FALLBACK,
        )
    if isinstance(error, ValueError) and "must not cause a domain change" in str(error):
        return JitError(  # (numba's eig and eigvals of a real matrix: real eigenvalues only)
            f"numba's code for {name} met a real matrix with complex eigenvalues ({error}), which "
            "numba's np.linalg.eig and eigvals cannot return",
            hint=_FALLBACK,
        )
    frames = traceback.extract_tb(error.__traceback__)
    if not any(f"numba{os.sep}core" in frame.filename for frame in frames):
        return error
    return JitError(
        f"numba failed inside while compiling {name} ({type(error).__name__}: {error})", hint=_FALLBACK
    )


def _typed_dicts(dispatcher: Any) -> list:
    """[how many signatures, whether none returns a dict]: a dict built in compiled code comes
    back as numba's typed dict (``has_aux``'s ``{"norm": ...}``), which the wrapper makes a dict.
    A dict of mixed values numba cannot return at all (from its cache it returns NULL): refused."""
    from numba.core import types as nb

    def dicts(t: Any) -> set:
        if isinstance(t, (nb.DictType, nb.LiteralStrKeyDict)):
            return {type(t)}
        return set().union(*(dicts(i) for i in t)) if isinstance(t, nb.BaseTuple) else set()

    found = set().union(*(dicts(o.signature.return_type) for o in dispatcher.overloads.values()))
    if nb.LiteralStrKeyDict in found:
        raise JitError(
            f"numba cannot return a dict of values of different types to Python, as "
            f"{dispatcher.py_func.__name__} does",
            hint=_FALLBACK,
        )
    return [len(dispatcher.overloads), not found]


def _as_python(value: Any) -> Any:
    """``value`` with numba's typed dicts made Python dicts (in tuples too)."""
    if isinstance(value, tuple):
        items = [_as_python(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return {k: _as_python(v) for k, v in value.items()}
    return value


def _explain(error: Exception, filename: str, lines: list[str], name: str) -> SrcGradError:
    """numba's compile error as a srcgrad error at the user's line and the generated line."""
    message = str(error)
    base = os.path.basename(filename)
    found = [
        int(n) for f, n in re.findall(r'File "([^"]+)", line (\d+)', message) if os.path.basename(f) == base
    ]
    summary = _summary(message)
    if not found or not 0 < found[-1] <= len(lines):
        return JitError(f"numba cannot compile {name}: {summary}", hint=_FALLBACK)
    generated_line = lines[found[-1] - 1]
    cited = _CITED.search(generated_line)
    shown = generated_line.split("  # [")[0].strip()
    if cited is None:
        return JitError(f"numba cannot compile {name}, line {shown!r}: {summary}", hint=_FALLBACK)
    user_file, user_line = cited.group(1), int(cited.group(2))
    from .runtime import SOURCES

    text = linecache.getline(SOURCES.get(user_file, user_file), user_line) or None
    return JitError(
        f"numba cannot compile the gradient of this line: generated line `{shown}` in {name}: {summary}",
        user_file,
        user_line,
        text,
        hint=_FALLBACK,
    )


def _summary(message: str) -> str:
    """The first lines of numba's message that say what failed (not where, nor its pipeline)."""
    keep = []
    for line in message.splitlines():
        line = line.strip()
        if line.startswith("File "):  # (then the source numba quotes)
            break
        if not line or line.startswith(("Failed in", "During:")) or "<source elided>" in line:
            continue
        if line.startswith("- Resolution failure") or len(keep) == 2:
            break
        keep.append(line)
    return " ".join(keep) or "numba refused it"
