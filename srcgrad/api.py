"""The differential operators and their decorator forms (see API.md)."""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import keyword
import types
from collections.abc import Callable, Sequence
from typing import Any

import gast
import numpy as np

from . import cache, optimize
from .compile import compile_source
from .compile import make_function as _compiled_function
from .emit import emit
from .errors import NeedsTypesError, SrcGradError, WrtError
from .forward import forward, tangent_parameters
from .ir import Bindings, Frame, IfBlock, LoopBlock, Namer, Program
from .jit import compiled, numba_module
from .normalize import normalize
from .parse import ParsedFunction, parse_function
from .reverse import Seed, reverse
from .trees import gc_paused

Wrt = int | str | Sequence[int | str]


class _SourceHTML:
    """A generated function's ``_repr_html_``: Jupyter displays the function as its highlighted source."""

    __slots__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source

    def __call__(self) -> str:
        from .explain_page import source_html

        return source_html(self.source)


def make_function(compiled: Any, primal: Callable, bindings: Bindings) -> Callable[..., Any]:
    """``compile.make_function``, and the function displays as its source in a notebook."""
    fn = _compiled_function(compiled, primal, bindings)
    fn._repr_html_ = _SourceHTML(fn.source)  # type: ignore[attr-defined]
    return fn


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


def _wrt_fast(f: types.FunctionType, wrt: Wrt, bound: bool) -> tuple[list[str], bool]:
    """``_wrt_names`` from the code object's parameter names, without parsing; any problem is
    left to ``_wrt_names``, which reports it with the line."""
    code = f.__code__
    positional = code.co_varnames[1 if bound else 0 : code.co_argcount]
    keyword = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
    many = isinstance(wrt, (tuple, list))
    names = []
    for item in wrt if many else [wrt]:
        if isinstance(item, str) and not isinstance(item, bool) and (item in positional or item in keyword):
            names.append(item)
        elif type(item) is int and -len(positional) <= item < len(positional):
            names.append(positional[item])
        else:
            return _wrt_names(parse_function(f), wrt, bound)
    if not names:
        return _wrt_names(parse_function(f), wrt, bound)
    return names, many


def _transform(
    f: Callable,
    wrt: Wrt,
    seed: Seed,
    with_value: bool,
    has_aux: bool = False,
    varargs: int | None = None,
    kinds: tuple | None = None,
    jit: bool = False,
) -> Callable:
    bound_self, original = None, f
    if isinstance(f, types.MethodType):  # grad(model.loss): differentiate the function, `self` held constant
        bound_self, f = f.__self__, f.__func__
    if not isinstance(f, types.FunctionType):
        parse_function(f)  # raises SourceUnavailableError: there is no source to transform
    if varargs is None and f.__code__.co_flags & inspect.CO_VARARGS:
        return _per_varargs(original, wrt, seed, with_value, has_aux, jit)
    # The memory key holds ids; the entry keeps those objects alive (its anchor), so none is reused.
    code, namespace, cells = f.__code__, f.__globals__, f.__closure__
    wrt_key = tuple(wrt) if isinstance(wrt, list) else wrt
    closure = tuple(map(id, cells)) if cells else ()
    key = (
        id(code),
        id(namespace),
        closure,
        id(bound_self),
        wrt_key,
        seed,
        with_value,
        has_aux,
        varargs,
        kinds,
    )
    entry = cache._memory.get(key)
    if entry is not None and entry.function is not None and entry.function.__defaults__ is f.__defaults__:
        if entry.is_current():  # the fast path: a dictionary lookup, one identity check per called name
            if not jit:
                return entry.function
            if entry.jitted is not None:
                return entry.jitted
    names, many = _wrt_fast(f, wrt, bound_self is not None)

    def build() -> cache.Entry:
        options = (tuple(names), many, seed, with_value, bound_self is not None) + (
            ("has_aux",) if has_aux else ()
        )
        options += (("varargs", varargs),) if varargs is not None else ()
        # (code specialized for the classes of arguments inlines their methods: not on disk, whose
        # entries are checked against the functions the code calls by name)
        disk_key = cache.entry_key(f, options) if cache.directory() is not None and not kinds else None
        entry = cache.load(disk_key, f, bound_self) if disk_key is not None else None
        if entry is None:  # no usable entry on disk: transform
            parsed = parse_function(f)
            program = normalize(parsed, names, bound_self, varargs, dict(kinds or {}))
            _relabel(program)  # comments in code made from generated code cite its lines as d_f:LINE
            generated = reverse(program, names, seed, with_value, has_aux)
            source = emit(generated)
            freevars = sorted(set(program.bindings.values) | set(program.bindings.cells))
            label = f"{generated.name} from {parsed.filename}:{parsed.node.lineno}"
            compiled = compile_source(source, generated.name, freevars, label)
            entry = cache.Entry(compiled, program.bindings, program.deps)
            recipes = cache.recipes(program.bindings, f)
            tree = cache.describe_tree(disk_key, f, bound_self) if disk_key is not None else None
            if recipes is not None and tree is not None and disk_key is not None:  # else not rebuildable
                cache.store(disk_key, tree, entry, recipes)
        entry.anchor = (code, namespace, cells, bound_self)
        return entry

    try:
        entry = cache.cached(key, gc_paused(build))
    except NeedsTypesError:
        if kinds is not None:
            raise
        return _per_types(
            original, lambda kinds: _transform(f, wrt, seed, with_value, has_aux, varargs, kinds, jit)
        )
    if jit and entry.function is not None and entry.jitted is not None:
        return entry.jitted
    fn = make_function(entry.compiled, f, entry.bindings)
    if seed == "grad":  # (for an output of one element that is not 0-d: size_one_gradient)
        fn.srcgrad_origin = (original, names, with_value, varargs, kinds)
    if jit:
        fn = compiled(fn)
    if many and len(names) == 1:  # wrt=("x",) asks for a 1-tuple
        inner = fn

        @functools.wraps(inner)
        def fn(*args: Any, **kwargs: Any) -> tuple:
            if has_aux:  # ((loss, aux), grad) or (grad, aux): the grad is the 1-tuple
                first, second = inner(*args, **kwargs)
                return (first, (second,)) if with_value else ((first,), second)
            return (inner(*args, **kwargs),)

        fn.source = inner.source
    if jit:
        entry.jitted = fn
    else:
        entry.function = fn
    return fn


def _per_varargs(
    f: Callable, wrt: Wrt, seed: Seed, with_value: bool, has_aux: bool, jit: bool = False
) -> Callable:
    """The gradient of ``f(x, *args)``: generated for each number of arguments ``args`` gets,
    when called (``args`` is then a tuple of that many parameters, ``args_0``, ``args_1``...)."""
    code = getattr(f, "__func__", f).__code__
    fixed = code.co_argcount - isinstance(f, types.MethodType)

    @functools.wraps(f)
    def specialized(*args: Any, **kwargs: Any) -> Any:
        fn = _transform(f, wrt, seed, with_value, has_aux, max(len(args) - fixed, 0), jit=jit)
        specialized.source = fn.source
        return fn(*args, **kwargs)

    specialized.source = "# generated when called: one function per number of *args"
    return specialized


def _per_types(f: Callable, make: Callable[[tuple], Callable]) -> Callable:
    """The gradient of ``f(model, x)`` that calls ``model.loss(x)``: generated (``make(kinds)``)
    for each class of the arguments that are objects (neither numbers, arrays nor containers)."""
    names = inspect.signature(getattr(f, "__func__", f)).parameters
    positional = [p for p in names][isinstance(f, types.MethodType) :]

    @functools.wraps(f)
    def specialized(*args: Any, **kwargs: Any) -> Any:
        given = dict(zip(positional, args))
        given.update(kwargs)
        kinds = tuple((p, type(v)) for p, v in given.items() if _is_object(v))
        sequences = [(p, v) for p, v in given.items() if isinstance(v, (list, tuple))]
        sequences += [  # model.layers: a list held by an object passed in
            (f"{p}.{k}", a)
            for p, v in given.items()
            if _is_object(v)
            for k, a in vars_of(v)
            if isinstance(a, (list, tuple))
        ]
        kinds += tuple(  # a list of layer objects: the class of each (and so how many)
            (p, ("items", tuple(map(type, v)))) for p, v in sequences if any(map(_is_object, v))
        )
        for p, v in given.items():  # model.loss set on the object itself hides its class's loss
            shadowing = [
                k for k in getattr(v, "__dict__", ()) if callable(inspect.getattr_static(type(v), k, None))
            ]
            if _is_object(v) and shadowing:
                raise SrcGradError(
                    f"{p}.{shadowing[0]} is set on the object, hiding its class's method of that name",
                    hint="srcgrad inlines the methods of the argument's class: give the attribute another name.",
                )
        fn = make(kinds)
        specialized.source = fn.source
        return fn(*args, **kwargs)

    specialized.source = (
        "# generated when called: one function per class of the arguments whose methods it calls"
    )
    return specialized


def vars_of(obj: Any) -> list:
    """An object's own attributes, ``(name, value)``."""
    return list(getattr(obj, "__dict__", {}).items())


def _is_object(value: Any) -> bool:
    """An object whose methods code calls (a model), not data."""
    data = (int, float, complex, str, bytes, list, tuple, dict, np.ndarray, np.generic, type(None))
    return not isinstance(value, data)


def size_one_gradient(gradient: Callable, *args: Any, **kwargs: Any) -> Any:
    """What ``grad`` (``value_and_grad``) returns for an output of one element that is not 0-d:
    the VJP with a cotangent of ones, as autograd (generated code for ``grad`` is written for a
    0-d output, and calls this for the rare other case)."""
    f, names, with_value, varargs, kinds = gradient.srcgrad_origin
    pullback = _transform(
        f, tuple(names) if len(names) > 1 else names[0], "vjp", False, False, varargs, kinds
    )
    out = f(*args, **kwargs)
    grads = pullback(*args, **kwargs, **{_cotangent_name(pullback): np.ones_like(out)})
    return (out, grads) if with_value else grads


def _operator(seed: Seed, with_value: bool = False) -> Callable:
    def operator_(f: Callable | None = None, wrt: Wrt = 0, **options: Any) -> Callable:
        mode = options.pop("mode", "reverse")
        has_aux = bool(options.pop("has_aux", False))
        jit = bool(options.pop("jit", False))
        if options:
            raise TypeError(f"unexpected keyword arguments: {', '.join(options)}")
        if mode not in ("reverse", "forward") or (mode == "forward" and seed not in ("grad", "elementwise")):
            raise SrcGradError(
                f"mode={mode!r} is not available here",
                hint='use mode="reverse" (the default)'
                + (' or mode="forward" with grad and value_and_grad.' if mode == "forward" else "."),
            )
        if has_aux and (mode == "forward" or seed != "grad"):
            raise SrcGradError(
                f"has_aux=True is not available with {'mode=' + repr(mode) if mode == 'forward' else 'this operator'}",
                hint='use grad or value_and_grad with mode="reverse" (the default) for a function returning (loss, aux).',
            )
        if f is None:  # used as @operator(wrt=...)
            return lambda fn: operator_(fn, wrt, mode=mode, has_aux=has_aux, jit=jit)
        if jit:
            numba_module()  # (refuse at once, not at the first call, when numba is missing)
        if mode == "forward" and seed == "elementwise":
            return _forward_elementwise(f, wrt, jit)
        if mode == "forward":
            return _forward_grad(f, wrt, with_value, jit=jit)
        return _transform(f, wrt, seed, with_value, has_aux, jit=jit)

    return operator_


grad = _operator("grad")
grad.__doc__ = """The gradient of scalar-valued ``f`` with respect to ``wrt``, as generated code."""
grad.__name__ = "grad"
value_and_grad = _operator("grad", with_value=True)
value_and_grad.__doc__ = """``(f(...), grad)`` from one pass of generated code."""
value_and_grad.__name__ = "value_and_grad"
elementwise_grad = _operator("elementwise")
elementwise_grad.__doc__ = """The vector-Jacobian product with ``ones_like(f(...))`` (autograd's meaning).

``mode="forward"``: one tangent pass with a tangent of ones, for a function whose every
differentiated operation is elementwise (its Jacobian is diagonal); others are refused."""
elementwise_grad.__name__ = "elementwise_grad"


# -- forward mode, Jacobians, Hessians -------------------------------------------------------
# Each operator below generates a tangent function (srcgrad.forward) and, where several passes
# are needed, a short driver function that loops over unit tangents; both are generated
# source, and the returned function's ``.source`` shows both.


def _unwrap(f: Callable) -> tuple[Callable, Any, ParsedFunction]:
    """The function to transform, the object a bound method is bound to, and its parsed source."""
    bound_self = None
    if inspect.ismethod(f):
        bound_self, f = f.__self__, f.__func__
    return f, bound_self, parse_function(f)


def _key(f: Callable, bound_self: Any, *options: Any) -> tuple:
    closure = tuple(id(c) for c in f.__closure__ or ())
    return (f.__code__, id(f.__globals__), closure, id(bound_self), *options)


def _relabel(program: Program) -> None:
    """Comments in code generated from generated code cite ``d_f:LINE``, a line of ``d_f.source``."""

    def fix(frames: tuple[Frame, ...]) -> tuple[Frame, ...]:
        out = []
        for frame in frames:
            if frame.filename.startswith("<srcgrad "):
                label = frame.filename[len("<srcgrad ") :].split(" ", 1)[0]
                frame = Frame(frame.text, label, frame.lineno - 1, frame.function)  # the wrapper's line
            out.append(frame)
        return tuple(out)

    def walk(items: list) -> None:
        for item in items:
            item.origin = fix(item.origin)
            if isinstance(item, IfBlock):
                walk(item.body)
                walk(item.orelse)
            elif isinstance(item, LoopBlock):
                walk(item.body)

    walk(program.body)


def _tangent_function(
    f: Callable,
    bound_self: Any,
    parsed: ParsedFunction,
    names: list[str],
    returns: str,
    check: bool,
    kinds: tuple | None = None,
) -> tuple[Callable, dict[str, str], Program]:
    """The generated tangent function of ``f`` for tangents of ``names``, and its tangent
    parameters (``kinds``: the classes of arguments whose methods it calls; () asks for them)."""
    key = _key(f, bound_self, tuple(names), "forward", returns, check, kinds)
    built: dict[str, Any] = {}

    def build() -> cache.Entry:
        program = normalize(parsed, names, bound_self, None, None if kinds is None else dict(kinds))
        _relabel(program)
        generated = forward(program, names, returns, check)
        built["program"] = program
        source = emit(generated)
        freevars = sorted(set(program.bindings.values) | set(program.bindings.cells))
        label = f"{generated.name} from {parsed.filename}:{parsed.node.lineno}"
        compiled = compile_source(source, generated.name, freevars, label)
        entry = cache.Entry(compiled, program.bindings, program.deps)
        entry.tangents = tangent_parameters(generated, names)  # type: ignore[attr-defined]
        entry.program = program  # type: ignore[attr-defined]
        return entry

    entry = cache.cached(key, gc_paused(build))
    return make_function(entry.compiled, f, entry.bindings), entry.tangents, entry.program


class _Driver:
    """The source of a short generated function that calls generated functions in a loop."""

    def __init__(self, program: Program, fn_name: str) -> None:
        self.program = program
        self.name = fn_name
        params = program.params
        self.namer = Namer(set(params) | set(program.bindings.values) | set(program.bindings.cells))
        for p in params:
            self.namer.taken.add(p)
        self.bindings = Bindings(self.namer, {})
        args = program.args
        positional = [a.id for a in args.posonlyargs + args.args]
        self.call_args = positional + [f"{a.id}={a.id}" for a in args.kwonlyargs]
        self.lines: list[str] = []

    def bind(self, obj: Any, preferred: str) -> str:
        return self.bindings.value(obj, preferred)

    def ret(self, value: str | list, indent: str = "") -> None:
        """``return value``; a list is a tuple, written one item per line when long."""

        def text(v: str | list) -> str:
            if isinstance(v, str):
                return v
            return "(" + ", ".join(text(i) for i in v) + ("," if len(v) == 1 else "") + ")"

        line = f"{indent}return {text(value)}"
        if len(line) <= 92 or isinstance(value, str):
            self.lines.append(line)
            return
        self.lines.append(f"{indent}return (")
        self.lines += [f"{indent}    {text(v)}," for v in value]
        self.lines.append(f"{indent})")

    def call(self, fn: str, *extra: str) -> str:
        return f"{fn}({', '.join(self.call_args + list(extra))})"

    def source(self) -> str:
        node = gast.FunctionDef(
            name=self.name,
            args=copy.deepcopy(self.program.args),
            body=[gast.Pass()],
            decorator_list=[],
            returns=None,
            type_comment=None,
            type_params=[],
        )
        signature = ast.unparse(ast.fix_missing_locations(gast.gast_to_ast(node))).splitlines()[0]
        return "\n".join([signature] + ["    " + line for line in self.lines]) + "\n"

    def compile(self, primal: Callable, parsed: ParsedFunction, deps: list, *shown: Callable) -> cache.Entry:
        source = self.source()
        freevars = sorted(self.bindings.values)
        compiled = compile_source(
            source, self.name, freevars, f"{self.name} from {parsed.filename}:{parsed.node.lineno}"
        )
        compiled.source = "\n\n".join([fn.source.rstrip("\n") + "\n" for fn in shown] + [source])
        return cache.Entry(compiled, self.bindings, deps)


def _columns_by_argument(
    driver: _Driver, tangent_fn: str, tangents: dict[str, str], names: list[str]
) -> list[str]:
    """Lines that set ``columns_<w>``: one pass of the tangent function per element of each ``w``."""
    runtime_ = _runtime()
    unit = driver.bind(runtime_.unit_vectors, "unit_vectors")
    columns = []
    if len(names) > 1:
        zeros = [driver.namer.fresh("zero_" + w) for w in names]
        zero_tangent = driver.bind(runtime_.zero_tangent, "zero_tangent")
        values = ", ".join(f"{zero_tangent}({w})" for w in names)
        driver.lines.append(f"{', '.join(zeros)} = {values}")
    for w in names:
        unit_name = driver.namer.fresh("t_" + w)
        keywords = [f"{tangents[v]}={unit_name if v == w else zeros[j]}" for j, v in enumerate(names)]
        column = driver.namer.fresh("columns_" + w if len(names) > 1 else "columns")
        driver.lines.append(
            f"{column} = [{driver.call(tangent_fn, *keywords)} for {unit_name} in {unit}({w})]"
        )
        columns.append(column)
    return columns


def _runtime() -> Any:
    from . import runtime

    return runtime


def _forward_grad(
    f: Callable, wrt: Wrt, with_value: bool, kinds: tuple | None = None, jit: bool = False
) -> Callable:
    """``grad(f, mode="forward")``: one tangent pass per element of each differentiated argument."""
    original = f
    f, bound_self, parsed = _unwrap(f)
    names, many = _wrt_names(parsed, wrt, bound_self is not None)
    key = _key(f, bound_self, tuple(names), many, "forward grad", with_value, kinds)

    def build() -> cache.Entry:
        tangent, tangents, program = _tangent_function(
            f, bound_self, parsed, names, "tangent", True, kinds or ()
        )
        prefix = "value_and_d_" if with_value else "d_"
        driver = _Driver(program, prefix + program.name)
        runtime_ = _runtime()
        fn = driver.bind(tangent, tangent.__name__)
        stack = driver.bind(runtime_.from_columns, "from_columns")
        driver.lines.append(
            "# forward mode: one pass of " + f"{fn} per element of {' and '.join(names)}, with a unit tangent"
        )
        columns = _columns_by_argument(driver, fn, tangents, names)
        grads = [f"{stack}({c}, {w})" for c, w in zip(columns, names)]
        out = grads[0] if len(grads) == 1 and not many else grads
        if with_value:
            out = [driver.call(driver.bind(original, program.name)), out]
        driver.ret(out)
        return driver.compile(f, parsed, program.deps, tangent)

    try:
        entry = cache.cached(key, gc_paused(build))
    except NeedsTypesError:
        if kinds is not None:
            raise
        return _per_types(original, lambda kinds: _forward_grad(original, wrt, with_value, kinds, jit))
    return _made(entry, f, jit)


def _forward_elementwise(f: Callable, wrt: Wrt, jit: bool = False) -> Callable:
    """``elementwise_grad(f, mode="forward")``: one tangent pass per argument, with a tangent of
    ones, which gives the diagonal of a diagonal Jacobian (the same as the reverse mode's VJP)."""
    f, bound_self, parsed = _unwrap(f)
    names, many = _wrt_names(parsed, wrt, bound_self is not None)
    key = _key(f, bound_self, tuple(names), many, "forward elementwise")

    def build() -> cache.Entry:
        tangent, tangents, program = _tangent_function(f, bound_self, parsed, names, "tangent", False)
        _check_elementwise(program)

        driver = _Driver(program, "d_" + program.name)
        fn = driver.bind(tangent, tangent.__name__)
        ones = driver.bind(_runtime().ones_tangent, "ones_tangent")
        diagonal = driver.bind(_runtime().diagonal_of, "diagonal_of")
        zero = driver.bind(_runtime().zero_tangent, "zero_tangent") if len(names) > 1 else ""
        driver.lines.append(
            f"# forward mode: {fn} with a tangent of ones gives the diagonal of an elementwise function's Jacobian"
        )
        passes = []
        for w in names:
            keywords = [f"{tangents[v]}={ones if v == w else zero}({v})" for v in names]
            passes.append(f"{diagonal}({driver.call(fn, *keywords)}, {w})")
        driver.ret(passes[0] if len(passes) == 1 and not many else passes)
        return driver.compile(f, parsed, program.deps, tangent)

    entry = cache.cached(key, gc_paused(build))
    return _made(entry, f, jit)


def _made(entry: cache.Entry, f: Callable, jit: bool) -> Callable:
    """A driver's function, whose generated functions are compiled by numba for ``jit``
    (``entry.jitted`` keeps that one, as ``entry.function`` keeps the interpreted one)."""
    if not jit:
        return make_function(entry.compiled, f, entry.bindings)
    if entry.jitted is None:
        entry.jitted = compiled(make_function(entry.compiled, f, entry.bindings))
    return entry.jitted


def _check_elementwise(program: Program) -> None:
    """Refuse, at its line, an operation on a differentiated value that is not elementwise: the
    Jacobian would not be diagonal, and a tangent of ones would not give autograd's VJP."""
    from .ir import statements

    for stmt in statements(program.body):
        op = stmt.op
        if op is None or not op.active or (op.rule is not None and op.rule.elementwise):
            continue
        frame = stmt.origin[0] if stmt.origin else None
        what = op.rule.spelling if op.rule is not None else "building a list or tuple"
        raise SrcGradError(
            f"elementwise_grad(mode='forward') needs an elementwise function, but {what} is not elementwise",
            frame.filename if frame else None,
            frame.lineno if frame else None,
            frame.text if frame else None,
            hint="use elementwise_grad in reverse mode (the default), or srcgrad.jacobian.",
        )


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any], jit: bool = False) -> tuple[Any, Any]:
    """``(f(*primals), tangent)``: the output and its derivative along ``tangents`` (JAX's form).

    Every floating-point primal is differentiated; the tangents of the others are ignored.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise SrcGradError(
            f"jvp got {len(primals)} primals but {len(tangents)} tangents",
            hint="give one tangent per primal.",
        )
    _, bound_self, parsed = _unwrap(f)
    names = _float_positions(parsed, primals, bound_self)
    return _jvp_call(f, list(primals), {}, {i: tangents[i] for _, i in names}, jit)


def vjp(f: Callable, *primals: Any, jit: bool = False) -> tuple[Any, Callable]:
    """``(f(*primals), pullback)``; ``pullback(cotangent)`` returns one gradient per primal (JAX's form).

    Integer and boolean primals get zero gradients.
    """
    original = f
    f, bound_self, parsed = _unwrap(f)
    names = _float_positions(parsed, primals, bound_self)
    out = original(*primals)
    if not names:
        pullback_zero = lambda cotangent: tuple(_zeros_like(p) for p in primals)  # noqa: E731
        pullback_zero.source = ""
        return out, pullback_zero
    generated = _transform(original, tuple(i for _, i in names), "vjp", False, jit=jit)
    cotangent_name = _cotangent_name(generated)
    positions = [i for _, i in names]

    def pullback(cotangent: Any) -> tuple:
        grads = generated(*primals, **{cotangent_name: cotangent})
        by_position = dict(zip(positions, grads))
        return tuple(by_position[i] if i in by_position else _zeros_like(p) for i, p in enumerate(primals))

    pullback.source = generated.source
    return out, pullback


def _zeros_like(primal: Any) -> Any:
    """The zero gradient of a primal that is not differentiated (a container of zeros for a container)."""
    runtime_ = _runtime()
    if isinstance(primal, runtime_.CONTAINERS):
        return runtime_.zeros_like_tree(primal)
    return np.zeros(np.shape(primal))


def _float_positions(
    parsed: ParsedFunction, primals: Sequence[Any], bound_self: Any
) -> list[tuple[str, int]]:
    """``(name, index)`` of each positional parameter whose primal is floating-point."""
    args = parsed.node.args
    positional = [a.id for a in args.posonlyargs + args.args][1 if bound_self is not None else 0 :]
    if len(primals) > len(positional):
        raise parsed.error(
            WrtError,
            parsed.node,
            f"{parsed.fn.__name__} takes {len(positional)} positional arguments but got {len(primals)} primals",
            "give one primal per positional parameter.",
        )
    return [(positional[i], i) for i, p in enumerate(primals) if _is_floating(p)]


def _is_floating(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(_is_floating(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_is_floating(v) for v in value)
    return np.issubdtype(np.result_type(value), np.inexact) if not isinstance(value, bool) else False


def _jacobian_or_hessian(f: Callable, wrt: Wrt, hessian_: bool, jit: bool = False) -> Callable:
    f_original = f
    f, bound_self, parsed = _unwrap(f)
    names, many = _wrt_names(parsed, wrt, bound_self is not None)
    key = _key(f, bound_self, tuple(names), many, "hessian" if hessian_ else "jacobian")

    def build() -> cache.Entry:
        runtime_ = _runtime()
        if hessian_:  # forward over reverse: the tangent function of the generated gradient code
            gradient = _transform(f_original, tuple(names) if len(names) > 1 else names[0], "grad", False)
            grad_parsed = parse_function(gradient)
            tangent, tangents, program = _tangent_function(
                gradient, None, grad_parsed, names, "tangent", False
            )
            driver = _Driver(program, "hessian_" + parsed.node.name)
        else:
            tangent, tangents, program = _tangent_function(f, bound_self, parsed, names, "tangent", False)
            driver = _Driver(program, "jacobian_" + program.name)
        fn = driver.bind(tangent, tangent.__name__)
        stack = driver.bind(runtime_.from_columns, "from_columns")
        shown = [tangent]
        if hessian_:
            driver.lines.append(
                f"# forward over reverse: one pass of {fn} per element of {' and '.join(names)}, with a unit tangent"
            )
            columns = _columns_by_argument(driver, fn, tangents, names)
            if len(names) == 1:
                out = f"{stack}({columns[0]}, {names[0]}, {names[0]})"
                driver.ret([out] if many else out)
            else:  # block [i][j]: the derivative of d_i along argument j
                driver.ret(
                    [
                        [f"{stack}([c[{i}] for c in {c}], {w}, {v})" for c, w in zip(columns, names)]
                        for i, v in enumerate(names)
                    ]
                )
        else:
            gradient = _transform(f_original, tuple(names) if many else names[0], "vjp", False)
            inner = inspect.unwrap(gradient)
            cotangent = _cotangent_name(gradient)
            shown.append(gradient)
            unit = driver.bind(runtime_.unit_vectors, "unit_vectors")
            rows_stack = driver.bind(runtime_.from_rows, "from_rows")
            out_name = driver.namer.fresh("out")
            g = driver.namer.fresh("g")
            vjp_fn = driver.bind(gradient, inner.__name__)
            primal = driver.bind(f_original, program.name + "_" * keyword.iskeyword(program.name))  # lambda_
            size = driver.bind(runtime_.tree_size, "tree_size")
            sizes = " + ".join(f"{size}({w})" for w in names)
            driver.lines += [
                "# one reverse pass per output element or one forward pass per input element, whichever is fewer",
                f"{out_name} = {driver.call(primal)}",
                f"if {size}({out_name}) < {sizes}:",
            ]
            rows = driver.namer.fresh("rows")
            driver.lines.append(
                f"    {rows} = [{driver.call(vjp_fn, f'{cotangent}={g}')} for {g} in {unit}({out_name})]"
            )
            if len(names) == 1 and not many:
                driver.ret(f"{rows_stack}({rows}, {out_name}, {names[0]})", "    ")
            else:
                driver.ret(
                    [f"{rows_stack}([r[{i}] for r in {rows}], {out_name}, {w})" for i, w in enumerate(names)],
                    "    ",
                )
            columns = _columns_by_argument(driver, fn, tangents, names)
            parts = [f"{stack}({c}, {w}, {out_name})" for c, w in zip(columns, names)]
            driver.ret(parts[0] if len(parts) == 1 and not many else parts)
        return driver.compile(f, parsed, program.deps, *shown)

    entry = cache.cached(key, gc_paused(build))
    return _made(entry, f, jit)


def _decorator(build: Callable) -> Callable:
    def operator_(f: Callable | None = None, wrt: Wrt = 0, jit: bool = False) -> Callable:
        if f is None:  # used as @operator(wrt=...)
            return lambda fn: operator_(fn, wrt, jit)
        if jit:
            numba_module()
        return build(f, wrt, jit)

    return operator_


jacobian = _decorator(lambda f, wrt, jit: _jacobian_or_hessian(f, wrt, False, jit))
jacobian.__name__ = "jacobian"
jacobian.__doc__ = """The Jacobian of ``f``, shaped ``out.shape + arg.shape``, as generated code.

It runs one forward-mode pass per element of the argument or one reverse-mode pass per
element of the output, whichever is fewer for the shapes of the call.
"""
hessian = _decorator(lambda f, wrt, jit: _jacobian_or_hessian(f, wrt, True, jit))
hessian.__name__ = "hessian"
hessian.__doc__ = """The Hessian of scalar-valued ``f``, shaped ``arg.shape + arg.shape``.

Forward over reverse: forward mode applied to the generated gradient code, one pass per
element of the argument. ``.source`` shows that code and the loop that runs it.
"""


# -- checking ------------------------------------------------------------------------------


def _cotangent_name(generated: Callable) -> str:
    """The keyword-only cotangent parameter of a function generated with seed="vjp"."""
    code = inspect.unwrap(generated).__code__
    return code.co_varnames[code.co_argcount + code.co_kwonlyargcount - 1]


def _flat(value: Any) -> np.ndarray:
    """Every number in ``value`` (an array, a number, or a tuple or list of them) in one vector."""
    if isinstance(value, (tuple, list)):
        parts = [_flat(v) for v in value]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.ravel(np.asarray(value, dtype=float))


def _unflat(vector: np.ndarray, like: Any) -> tuple[Any, np.ndarray]:
    """``vector``'s leading numbers shaped like ``like``, and the numbers left over."""
    if isinstance(like, (tuple, list)):
        parts = []
        for item in like:
            part, vector = _unflat(vector, item)
            parts.append(part)
        return type(like)(parts), vector
    size = int(np.size(like))
    part = np.reshape(vector[:size], np.shape(like))
    return (float(part) if np.ndim(like) == 0 else part), vector[size:]


def _directional(f: Callable, args: list, kwargs: dict, directions: dict[int, Any], eps: float) -> np.ndarray:
    """The central difference of ``f`` along ``directions``, flattened."""

    def at(sign: float) -> np.ndarray:
        moved = list(args)
        for i, d in directions.items():
            moved[i] = args[i] + sign * eps * d
        return _flat(f(*moved, **kwargs))

    return (at(1.0) - at(-1.0)) / (2 * eps)


def _worst(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> tuple[float, bool]:
    """The largest relative error, and whether every element is within tolerance."""
    got, want = np.broadcast_arrays(np.asarray(got, dtype=float), np.asarray(want, dtype=float))
    if got.size == 0:
        return 0.0, True
    error = np.abs(got - want)
    relative = error / np.maximum(np.maximum(np.abs(got), np.abs(want)), atol)
    ok = bool(np.all(error <= atol + rtol * np.abs(want)) and np.all(np.isfinite(got)))
    return float(np.nanmax(relative)) if np.all(np.isfinite(got)) else float("inf"), ok


def check_grads(
    f: Callable,
    *args: Any,
    modes: Sequence[str] = ("forward", "reverse"),
    order: int = 1,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """Check srcgrad's derivatives of ``f`` at ``args`` against central finite differences.

    Along random directions for every floating-point argument, forward mode's tangent and
    reverse mode's vector-Jacobian product must match a central difference of ``f``. With
    ``order=2`` the derivative code itself (the generated gradient) is checked the same way,
    and so on. Raises ``AssertionError`` naming the worst relative error.
    """
    unknown = set(modes) - {"forward", "reverse"}
    if unknown or not modes:
        raise ValueError(f"modes must be 'forward' and/or 'reverse', not {tuple(modes)!r}")
    if order < 1:
        raise ValueError(f"order must be 1 or more, not {order!r}")
    rng = np.random.default_rng(0)
    problems: list[tuple[float, str]] = []
    worst = 0.0
    function, kwargs = f, {}
    for level in range(1, order + 1):
        name_ = getattr(function, "__name__", "f")
        positions = [i for i, a in enumerate(args) if _is_floating(a)]
        if not positions:
            raise ValueError("check_grads needs at least one floating-point argument")
        directions = {i: _random_like(args[i], rng) for i in positions}
        numeric = _directional(function, list(args), kwargs, directions, eps)
        out = function(*args, **kwargs)
        what = f"order {level} ({name_})"
        if "forward" in modes:
            tangent = _jvp_call(function, list(args), kwargs, directions)[1]
            error, ok = _worst(_flat(tangent), numeric, rtol, atol)
            worst = max(worst, error)
            if not ok:
                problems.append(
                    (error, f"{what}, forward mode: tangent {_flat(tangent)} != finite differences {numeric}")
                )
        cotangent_flat = rng.standard_normal(numeric.size)
        cotangent, _ = _unflat(cotangent_flat, out)
        gradient = _transform(function, tuple(positions), "vjp", False)
        if "reverse" in modes:
            grads = gradient(*args, **kwargs, **{_cotangent_name(gradient): cotangent})
            got = sum(float(np.sum(np.asarray(g) * directions[i])) for g, i in zip(grads, positions))
            want = float(np.dot(cotangent_flat, numeric))
            error, ok = _worst(
                np.array([got]), np.array([want]), rtol, atol * max(1.0, np.sqrt(numeric.size))
            )
            worst = max(worst, error)
            if not ok:
                problems.append(
                    (
                        error,
                        f"{what}, reverse mode: <cotangent, J v> = {got!r} != finite differences {want!r}",
                    )
                )
        # the next order checks the generated derivative code, as a function of the same arguments
        kwargs = {**kwargs, _cotangent_name(gradient): cotangent}
        function = inspect.unwrap(gradient)
    if problems:
        problems.sort(key=lambda p: -p[0])
        lines = "\n".join(f"  {p}" for _, p in problems)
        raise AssertionError(
            f"srcgrad's derivatives disagree with finite differences: worst relative error {problems[0][0]:.3g}\n{lines}"
        )


def _random_like(value: Any, rng: np.random.Generator) -> Any:
    direction = rng.standard_normal(np.shape(value))
    return float(direction) if np.ndim(value) == 0 else direction.astype(np.result_type(value, 1.0))


def _jvp_call(
    f: Callable, args: list, kwargs: dict, tangents: dict[int, Any], jit: bool = False
) -> tuple[Any, Any]:
    """``(f(*args, **kwargs), tangent)`` for tangents of the positional arguments ``tangents`` names."""
    original = f
    f, bound_self, parsed = _unwrap(f)
    params = parsed.node.args.posonlyargs + parsed.node.args.args
    positional = [a.id for a in params][1 if bound_self is not None else 0 :]
    names = [positional[i] for i in sorted(tangents)]
    if not names:
        out = original(*args, **kwargs)
        return out, _runtime().zero_tangent(out)
    fn, tangent_names, _ = _tangent_function(f, bound_self, parsed, names, "both", False)
    if jit:
        fn = compiled(fn)
    return fn(*args, **kwargs, **{tangent_names[positional[i]]: t for i, t in tangents.items()})


def unoptimized_source(f: Callable, wrt: Wrt = 0) -> str:
    """The reverse-mode gradient source before optimization (no folding, no dead-code removal).

    For teaching: it shows every adjoint the chain rule produces. Not cached, not compiled.
    """
    bound_self = None
    if inspect.ismethod(f):
        bound_self, f = f.__self__, f.__func__
    parsed = parse_function(f)
    names, many = _wrt_names(parsed, wrt, bound_self is not None)
    token = optimize.ENABLED.set(False)
    try:
        program = normalize(parsed, names, bound_self)
        return emit(reverse(program, names, "grad", False))
    finally:
        optimize.ENABLED.reset(token)
