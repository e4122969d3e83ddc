"""The differential operators and their decorator forms (see API.md)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from . import cache
from .compile import compile_source, make_function
from .emit import emit
from .errors import SrcGradError, WrtError
from .normalize import normalize
from .parse import ParsedFunction, parse_function
from .resolve import call_tree
from .reverse import Seed, reverse

Wrt = int | str | Sequence[int | str]


def _wrt_names(parsed: ParsedFunction, wrt: Wrt, bound: bool = False) -> tuple[list[str], bool]:
    """Parameter names for ``wrt``, and whether the caller asked for a tuple."""
    args = parsed.node.args
    positional = [a.id for a in args.posonlyargs + args.args][1 if bound else 0 :]
    every = positional + [a.id for a in args.kwonlyargs]
    many = isinstance(wrt, (tuple, list))
    names = []
    for item in wrt if many else [wrt]:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            bad = f"wrt={item!r} is neither a parameter index nor a parameter name"
        elif isinstance(item, int) and not -len(positional) <= item < len(positional):
            bad = f"wrt={item} is out of range: {parsed.fn.__name__} has {len(positional)} positional parameters"
        elif isinstance(item, str) and item not in every:
            bad = f"wrt={item!r} is not a parameter of {parsed.fn.__name__}"
        else:
            names.append(positional[item] if isinstance(item, int) else item)
            continue
        raise parsed.error(WrtError, parsed.node, bad, f"choose from its parameters: {', '.join(every)}.")
    if not names:
        raise parsed.error(WrtError, parsed.node, "wrt is empty", "name at least one parameter.")
    return names, many


def _transform(f: Callable, wrt: Wrt, seed: Seed, with_value: bool) -> Callable:
    bound_self = None
    if inspect.ismethod(f):  # grad(model.loss): differentiate the function, `self` held constant
        bound_self, f = f.__self__, f.__func__
    parsed = parse_function(f)
    names, many = _wrt_names(parsed, wrt, bound_self is not None)
    closure = tuple(id(c) for c in f.__closure__ or ())
    key = (f.__code__, id(f.__globals__), closure, id(bound_self), tuple(names), many, seed, with_value)

    def build() -> cache.Entry:
        tree = call_tree(parsed, bound_self)
        disk_key = cache.disk_key(tree, (tuple(names), many, seed, with_value, bound_self is not None))
        entry = cache.load(disk_key, f)
        if entry is not None:
            entry.deps = cache.tree_deps(tree)
            return entry
        program = normalize(parsed, names, bound_self)
        generated = reverse(program, names, seed, with_value)
        if with_value:
            generated.name = "value_and_" + generated.name
        elif seed == "vjp":
            generated.name = "vjp_" + program.name
        source = emit(generated)
        freevars = sorted(set(program.bindings.values) | set(program.bindings.cells))
        label = f"{generated.name} from {parsed.filename}:{parsed.node.lineno}"
        compiled = compile_source(source, generated.name, freevars, label)
        entry = cache.Entry(compiled, program.bindings, program.deps)
        recipes = cache.recipes(program.bindings, f)
        if recipes is not None:  # a binding another process cannot rebuild: memory only
            cache.store(disk_key, entry, recipes)
        return entry

    entry = cache.cached(key, build)
    fn = make_function(entry.compiled, f, entry.bindings)
    if many and len(names) == 1:  # wrt=("x",) asks for a 1-tuple
        inner = fn

        @functools.wraps(inner)
        def fn(*args: Any, **kwargs: Any) -> tuple:
            return (inner(*args, **kwargs),)

        fn.source = inner.source
    return fn


def _operator(seed: Seed, with_value: bool = False) -> Callable:
    def operator_(f: Callable | None = None, wrt: Wrt = 0, **options: Any) -> Callable:
        mode = options.pop("mode", "reverse")
        if options:
            raise TypeError(f"unexpected keyword arguments: {', '.join(options)}")
        if mode != "reverse":
            raise SrcGradError(
                f"mode={mode!r} is not available yet", hint='use mode="reverse" (the default).'
            )
        if f is None:  # used as @operator(wrt=...)
            return lambda fn: operator_(fn, wrt, mode=mode)
        return _transform(f, wrt, seed, with_value)

    return operator_


grad = _operator("grad")
grad.__doc__ = """The gradient of scalar-valued ``f`` with respect to ``wrt``, as generated code."""
grad.__name__ = "grad"
value_and_grad = _operator("grad", with_value=True)
value_and_grad.__doc__ = """``(f(...), grad)`` from one pass of generated code."""
value_and_grad.__name__ = "value_and_grad"
elementwise_grad = _operator("elementwise")
elementwise_grad.__doc__ = """The vector-Jacobian product with ``ones_like(f(...))`` (autograd's meaning)."""
elementwise_grad.__name__ = "elementwise_grad"
