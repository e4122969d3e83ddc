"""The values a generated function computes, line by line, for the ``srcgrad explain`` page.

The generated source is parsed again and every assignment (and every ``for`` target) is
followed by a call that records its value under its line of ``.source``, and each ``return``
value and ``if``/``while`` test is recorded as it is computed;
that instrumented copy runs once at the point. The function ``grad`` returns is never
changed: the page's values come from a twin that differs only by the recording calls.
"""

from __future__ import annotations

import ast
import collections
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RECORD = "_srcgrad_explain_record"  # names no generated code uses (generated names have no leading _)
VALUE = "_srcgrad_explain_value"  # VALUE(line, label, value) records value and returns it
HEAD, TAIL = 30, 10  # runs of one line kept: the first HEAD and the last TAIL (a loop can run millions)


@dataclass
class LineLog:
    """The values one line of generated code computed, each run as ``[(name, shown value), ...]``."""

    count: int = 0
    head: list[list[tuple[str, str]]] = field(default_factory=list)
    tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=TAIL))

    def add(self, run: list[tuple[str, str]]) -> None:
        self.count += 1
        (self.head if len(self.head) < HEAD else self.tail).append(run)

    def runs(self) -> list[tuple[int, list[tuple[str, str]]]]:
        """``(run number from 1, values)`` of the runs kept, in order."""
        first = list(enumerate(self.head, 1))
        return first + list(enumerate(self.tail, self.count - len(self.tail) + 1))


def show(value: Any, depth: int = 0, full: bool = False) -> str:
    """A short text for a value: numbers in full (``repr``), arrays as shape, dtype and a few
    entries (``full``: up to 100 entries, each as ``repr`` writes it)."""
    if isinstance(value, np.generic) and np.ndim(value) == 0:
        return repr(value.item())
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"array({value.item()!r}) {value.dtype}"
        shape = "(" + ", ".join(map(str, value.shape)) + ("," if value.ndim == 1 else "") + ")"
        if full:  # each entry as repr writes it, the digits that round-trip
            options: dict[str, Any] = {
                "threshold": 100,
                "formatter": {"float_kind": lambda v: repr(float(v))},
            }
        else:
            options = {"threshold": 8, "edgeitems": 2}
        with np.printoptions(linewidth=72):
            entries = np.array2string(value, separator=", ", **options)
        return f"shape {shape} {value.dtype}: {entries}"
    if isinstance(value, (bool, int, float, complex, type(None), str, range)):
        text = repr(value)
        return text if len(text) <= 200 else text[:197] + "..."
    if isinstance(value, (list, tuple)) and value and depth < 2:
        kind = type(value).__name__
        items = [show(v, depth + 1, full) for v in value[:4]]
        more = [f"... {len(value) - 4} more"] if len(value) > 4 else []
        return f"{kind} of {len(value)}: [" + ", ".join(items + more) + "]"
    if isinstance(value, dict) and value and depth < 2:
        items = [f"{k!r}: {show(v, depth + 1, full)}" for k, v in list(value.items())[:4]]
        more = [f"... {len(value) - 4} more"] if len(value) > 4 else []
        return "{" + ", ".join(items + more) + "}"
    try:
        shape = getattr(value, "shape", None)
        if shape is not None and hasattr(value, "dtype"):  # an array of another library: no entries (lazy)
            return f"{type(value).__name__} shape {tuple(shape)} {value.dtype}"
        text = repr(value)
    except Exception:  # a user's object whose repr fails: the page still shows what it is
        return f"<{type(value).__name__}>"
    return text if len(text) <= 80 else f"{type(value).__name__}: {text[:77]}..."


def _names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for item in target.elts for n in _names(item)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []  # generated code never assigns into items or attributes


def _record(line: int, names: list[str]) -> ast.stmt:
    args: list[ast.expr] = [ast.Constant(line)]
    for name in names:
        args += [ast.Constant(name), ast.Name(name, ast.Load())]
    return ast.Expr(ast.Call(ast.Name(RECORD, ast.Load()), args, []))


def _value(line: int, label: str, value: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(VALUE, ast.Load()), [ast.Constant(line), ast.Constant(label), value], [])


def _instrument(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` with a recording call after each assignment, inside each ``for``, around each
    ``return`` value and ``if``/``while`` test."""
    out: list[ast.stmt] = []
    for stmt in body:
        for name in ("body", "orelse", "finalbody"):
            if isinstance(getattr(stmt, name, None), list):
                setattr(stmt, name, _instrument(getattr(stmt, name)))
        for handler in getattr(stmt, "handlers", ()):
            handler.body = _instrument(handler.body)
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            out.append(ast.Return(_value(stmt.lineno, "return", stmt.value)))
            continue
        if isinstance(stmt, (ast.If, ast.While)):  # which way the branch went, each time
            stmt.test = _value(stmt.lineno, "test", stmt.test)
        out.append(stmt)
        if isinstance(stmt, ast.Assign):
            names = [n for t in stmt.targets for n in _names(t)]
        elif isinstance(stmt, ast.AugAssign) or (isinstance(stmt, ast.AnnAssign) and stmt.value is not None):
            names = _names(stmt.target)
        else:
            names = []
        if names:
            out.append(_record(stmt.lineno, names))
        if isinstance(stmt, ast.For) and _names(stmt.target):
            stmt.body.insert(0, _record(stmt.lineno, _names(stmt.target)))
    return out


def _free_values(fn: types.FunctionType, seen: set[int] | None = None) -> dict[str, Any]:
    """The closure of a generated function by name, with the closures of generated functions it
    calls (forward mode's driver calls the tangent function; a function may call itself)."""
    seen = {id(fn)} if seen is None else seen
    values: dict[str, Any] = {}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:  # an unbound cell: the generated code fails there as the original would
            continue
        generated = isinstance(value, types.FunctionType) and isinstance(getattr(value, "source", None), str)
        if generated and id(value) not in seen:
            seen.add(id(value))
            values = {**_free_values(value, seen), **values}
        values[name] = value
    return values


def record(gradient: Callable, args: tuple, kwargs: dict) -> tuple[Any, dict[int, LineLog]]:
    """Run an instrumented twin of ``gradient`` at ``args``: its result and each line's values.

    Line numbers are those of ``gradient.source``.
    """
    fn = inspect.unwrap(gradient)
    source: str = gradient.source  # type: ignore[attr-defined]
    module = ast.parse(source)
    defs = [node for node in module.body if isinstance(node, ast.FunctionDef)]
    for node in defs:
        node.body = _instrument(node.body)
    ast.fix_missing_locations(module)
    logs: dict[int, LineLog] = collections.defaultdict(LineLog)

    def record_(line: int, *pairs: Any) -> None:
        logs[line].add([(pairs[i], show(pairs[i + 1])) for i in range(0, len(pairs), 2)])

    def value_(line: int, label: str, value: Any) -> Any:
        logs[line].add([(label, show(value))])
        return value

    namespace = {**fn.__globals__, **_free_values(fn), RECORD: record_, VALUE: value_}
    originals = {node.name: namespace.get(node.name) for node in defs}
    originals[defs[-1].name] = fn  # the last def is the one grad returns (forward mode: the driver)
    exec(compile(module, f"<srcgrad explain {fn.__name__}>", "exec"), namespace)
    for node in defs:  # each twin as its original: defaults, and attributes that runtime helpers read
        original, twin = originals[node.name], namespace[node.name]
        if isinstance(original, types.FunctionType):
            twin.__dict__.update(original.__dict__)
            twin.__defaults__, twin.__kwdefaults__ = original.__defaults__, original.__kwdefaults__
    result = namespace[defs[-1].name](*args, **kwargs)
    if gradient is not fn:  # grad(f, wrt=("x",)) wraps the generated function to return a 1-tuple
        result = (result,)
    return result, dict(logs)
