"""The rule registry: derivative rules are data, keyed by the function object they differentiate.

A rule is declared in one line per function, reverse and forward side by side, as Python
expressions that read like the math, parsed once into templates that the transforms
inline into generated code::

    defrule(np.multiply, "x, y", d_x="g * y", d_y="g * x", t_x="t * y", t_y="x * t")

``d_<param>`` is the operand's adjoint (reverse mode): ``g`` in it is the adjoint of the
output. ``t_<param>`` is the operand's contribution to the output's tangent (forward mode):
``t`` in it is the operand's tangent, and the output's tangent is the sum of the
contributions of the operands that carry derivatives. In both, ``ans`` is the output
itself, and every other free name is a parameter of the signature or a helper from
``srcgrad.runtime`` (or ``np`` / ``math``).

Two optional parts: ``zero="x"`` lists operands whose derivative is zero (they only give
shapes, indices or masks), and ``t=`` is the output's tangent as one expression of all
operand tangents ``t_<param>`` (``zero_tangent(param)`` stands in for an operand without
one), used when several operands carry derivatives and one expression reads better than
a sum (``with_item(t_x, index, t_value)``).

``sequence=True`` says the output is a tuple or list of arrays of different shapes
(``np.split``), ``sequence="eigenvalues, eigenvectors"`` a namedtuple with these fields: then
``g`` is a list with one adjoint per item (zeros for the items not used) and a tangent
template returns a tuple or list. A signature may have ``*operands`` (``np.einsum``): the
remaining positional arguments, which the templates see as one list, then keyword-only
parameters with defaults.

Beyond numpy: a template may name other objects (``scipy``, a user's helper) given in
``names=``; they join the names every transform binds (``NAMES_FOR_GENERATED_CODE``, beside
``np`` and ``math``), so generated code reads them wherever the differentiated function
lives. Users write rules as small Python functions with ``@srcgrad.adjoint`` and
``@srcgrad.tangent`` (``custom.py``), which end up here. scipy's rules are imported on
demand, once the program has imported scipy (:func:`on_demand`).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import math
import os
import sys
import sysconfig
import types
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from .. import runtime

REQUIRED = object()
# The default of a ``*operands`` parameter (the remaining positional arguments, as one list):
# an expression no argument is equal to.
STAR = gast.Starred(value=gast.Constant(value=None, kind=None), ctx=gast.Load())


@dataclass(frozen=True)
class Param:
    name: str
    default: Any = REQUIRED  # a gast expression, or REQUIRED

    def __repr__(self) -> str:  # the same in every process (the disk cache's key includes it)
        if self.default is REQUIRED:
            return f"Param({self.name!r})"
        if self.default is STAR:
            return f"Param({'*' + self.name!r})"
        return f"Param({self.name!r}, {ast.unparse(gast.gast_to_ast(self.default))!r})"


@dataclass
class Rule:
    """How to differentiate one primitive function."""

    fn: Any
    spelling: str
    params: tuple[Param, ...] = ()
    vjp: dict[str, gast.expr] = field(default_factory=dict)  # param -> its adjoint
    unbroadcast: bool = False  # adjoints of array operands may need summing back to shape
    elementwise: bool = False  # the output has the broadcast shape of the inputs
    nondiff: bool = False  # the output carries no derivative at all
    # the templates as written ("d_x", "t_x"), and "options": the rest, for the disk cache's key
    source: dict[str, str] = field(default_factory=dict)
    jvp: dict[str, gast.expr] = field(default_factory=dict)  # param -> its tangent contribution
    joint: gast.expr | None = None  # the output's tangent from all operand tangents at once
    zero: frozenset[str] = frozenset()  # operands whose derivative is zero (shapes, masks)
    # the output is a tuple or list of arrays (True), or a namedtuple with these fields: its
    # adjoint and tangent are tuples too, and indexing it picks one
    sequence: bool | tuple[str, ...] = False
    # objects the templates and the spelling name besides np, math and runtime helpers
    # (``scipy``, a user's helper): generated code binds them under these names
    names: dict[str, Any] = field(default_factory=dict)
    # what to do where a derivative with respect to an operand without a template is needed
    hint: str = ""
    # the output may be a container of any nesting, known when the code runs (as an argument is)
    tree: bool = False

    @property
    def name(self) -> str:
        return self.spelling.rsplit(".", 1)[-1]


RULES: dict[int, Rule] = {}
# A bound method (``scipy.stats.norm.pdf``) is a new object at each attribute access: its rule
# is found by (id of its object, id of its function), and keyed in RULES by the id of the one
# object the rule keeps alive.
_METHODS: dict[tuple[int, int], int] = {}


def _key(fn: Any) -> int:
    if isinstance(fn, types.MethodType):
        return _METHODS.get((id(fn.__self__), id(fn.__func__)), id(fn))
    return id(fn)


def _register(fn: Any, rule: Rule) -> Rule:
    """Put ``rule`` in RULES, replacing any rule for ``fn`` (and keeping the object its key is the id of)."""
    key = _key(fn)
    if key in RULES:
        rule.fn = RULES[key].fn
    elif isinstance(fn, types.MethodType):
        _METHODS[id(fn.__self__), id(fn.__func__)] = key
    RULES[key] = rule
    if not _loading:  # a user's rule, even where srcgrad has one: the disk cache's key covers it
        BUILTIN.discard(key)
    return rule


def remove(fn: Any) -> None:
    """Forget the rule for ``fn`` (tests, and a user undoing a registration)."""
    rule = RULES.pop(_key(fn), None)
    if isinstance(fn, types.MethodType):
        _METHODS.pop((id(fn.__self__), id(fn.__func__)), None)
    if rule is not None:
        _forget_generated_code()


def _parse_signature(signature: str) -> tuple[Param, ...]:
    node = gast.parse(f"def _({signature}): pass").body[0].args
    names = [a.id for a in node.args]
    defaults = [REQUIRED] * (len(names) - len(node.defaults)) + list(node.defaults)
    if node.kwarg or (node.vararg and node.defaults) or None in node.kw_defaults:
        raise ValueError(f"{signature!r}: positional parameters, then *operands and keywords with defaults")
    star = (Param(node.vararg.id, STAR),) if node.vararg else ()  # np.einsum(subscripts, *operands)
    keywords = tuple(Param(a.id, d) for a, d in zip(node.kwonlyargs, node.kw_defaults))
    return tuple(Param(n, d) for n, d in zip(names, defaults)) + star + keywords


def _parse_template(text: str) -> gast.expr:
    return gast.parse(text, mode="eval").body


_SPELLINGS: dict[int, str] = {}


def spelling_of(fn: Any) -> str:
    """The canonical way generated code names ``fn`` (``np.exp``, ``np.linalg.norm``)."""
    if not _SPELLINGS:  # (module dicts, not dir() and getattr: those import numpy.testing, f2py...)
        for prefix, module in (("math.", math), ("np.linalg.", np.linalg), ("np.", np)):
            for name, obj in sorted(_members(module).items()):
                if callable(obj) and not isinstance(obj, type):
                    _SPELLINGS.setdefault(id(obj), prefix + name)
        for name, obj in sorted(_members(np).items()):  # the object's own name over an alias (abs)
            if callable(obj) and getattr(obj, "__name__", None) == name:
                _SPELLINGS[id(obj)] = "np." + name
        for name in dir(builtins):
            _SPELLINGS.setdefault(id(getattr(builtins, name)), name)
    spelled = _SPELLINGS.get(id(fn))
    if spelled is None:
        raise ValueError(f"{fn!r} is not a numpy, math or builtin function; give its spelling")
    return spelled


def _public(module_name: str) -> bool:
    return not any(part.startswith("_") for part in module_name.split("."))


def _members(module: Any) -> dict[str, Any]:
    """A module's own names, read without its ``__getattr__`` (no deprecation warnings)."""
    members = getattr(module, "__dict__", None)
    return members if isinstance(members, dict) else {}


def _module_path(obj: Any) -> str | None:
    """``module.name`` of the public module that has ``obj`` (``scipy.special.gammaln``,
    ``scipy.stats.norm``): an installed library's before the user's modules that imported it,
    then the one with the fewest dots; None if there is none."""
    name = getattr(obj, "__name__", None)
    if isinstance(name, str) and name.isidentifier():
        own = getattr(obj, "__module__", None)
        if isinstance(own, str) and _public(own) and _members(sys.modules.get(own)).get(name) is obj:
            return f"{own}.{name}"
        found = [
            (module_name, name)
            for module_name, module in list(sys.modules.items())
            if _public(module_name) and _members(module).get(name) is obj
        ]
    else:  # an object (scipy.stats.norm): search the modules of its class's package
        package = type(obj).__module__.partition(".")[0]
        found = [
            (module_name, attr)
            for module_name, module in list(sys.modules.items())
            if module_name.partition(".")[0] == package and _public(module_name)
            for attr, value in list(_members(module).items())
            if value is obj and not attr.startswith("_")
        ]
    if not found:
        return None
    module_name, attr = min(found, key=lambda m: (not _installed(m[0]), m[0].count("."), m))
    return f"{module_name}.{attr}"


def _installed(module_name: str) -> bool:
    """Is the module part of an installed library (scipy), not of the user's own code?"""
    path = getattr(sys.modules.get(module_name), "__file__", None) or ""
    paths = sysconfig.get_paths()
    return any(path.startswith(paths[k] + os.sep) for k in ("purelib", "platlib", "stdlib") if k in paths)


def spell_callable(fn: Any) -> tuple[str, dict[str, Any]]:
    """How generated code calls ``fn``, and what the spelling's first name must be bound to.

    numpy, math and builtins keep their usual names (``np.exp``); a library's function its
    public module path (``scipy.special.gammaln``, ``scipy.stats.norm.pdf``) with the
    library bound; any other callable (a user's function) its own name, bound to it.
    """
    try:
        return spelling_of(fn), {}
    except ValueError:
        pass
    rule = RULES.get(_key(fn))
    head = rule.spelling.partition(".")[0] if rule is not None else ""
    if rule is not None and head in rule.names:  # as its rule calls it: scipy.special.digamma, not psi
        return rule.spelling, {head: rule.names[head]}
    if not isinstance(fn, types.FunctionType) or _installed(fn.__module__):
        method = isinstance(fn, types.MethodType) and not isinstance(fn.__self__, types.ModuleType)
        path = _module_path(fn.__self__ if method else fn)
        if path is not None and path.split(".")[0] not in ("__main__", "builtins"):
            head = path.split(".")[0]
            return path + (f".{fn.__name__}" if method else ""), {head: sys.modules[head]}
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():
        name = type(fn).__name__.lower()
    return name, {name: fn}


# The objects generated code reads by name wherever the differentiated function lives, beside the
# runtime helpers: np and math, and what rules add with ``names=`` (:func:`bind_names`).
NAMES_FOR_GENERATED_CODE: dict[str, Any] = {"np": np, "math": math}


def bind_names(names: dict[str, Any]) -> dict[str, str]:
    """Make generated code able to read each object under (about) its name: ``{name: object}``
    goes into the names every transform binds (beside np and math). Returns the renames
    needed where a name already means something else there (a runtime helper, another object)."""
    if not names:
        return {}
    known = NAMES_FOR_GENERATED_CODE
    renames = {}
    for name, obj in names.items():
        if getattr(builtins, name, None) is obj or (
            name in runtime.HELPERS and getattr(runtime, name) is obj
        ):
            continue  # generated code reads builtins as Python does; transforms bind runtime helpers
        same = [k for k, v in known.items() if v is obj]
        if same:
            key = same[0]
        else:
            key, n = name, 0
            while key in known or key in RESERVED or key in runtime.HELPERS or hasattr(builtins, key):
                n += 1
                key = f"{name}_{n}"
            known[key] = obj
        if key != name:
            renames[name] = key
    return renames


def rename(template: gast.expr, renames: dict[str, str]) -> gast.expr:
    """The template with its free names renamed (what :func:`bind_names` asked for)."""
    for node in gast.walk(template):
        if isinstance(node, gast.Name) and node.id in renames:
            node.id = renames[node.id]
    return template


RESERVED = {"g", "t", "ans"}  # names templates give a meaning of their own


def defrule(
    fn: Any,
    signature: str,
    *,
    unbroadcast: bool = False,
    elementwise: bool = False,
    spelling: str | None = None,
    zero: str = "",
    sequence: bool | str = False,
    names: dict[str, Any] | None = None,
    hint: str = "",
    **templates: str,
) -> Rule:
    """Declare how to differentiate ``fn``: ``d_<param>=`` adjoints and ``t_<param>=`` tangents.

    See the module docstring for the template language; ``signature`` names the
    parameters as the rule sees them, in the function's positional order. ``names`` gives
    the objects templates name besides ``np``, ``math`` and runtime helpers
    (``names={"scipy": scipy}``); ``hint`` says what to do where a derivative is needed with
    respect to an operand the rule has no template for. Without ``spelling``, generated code calls a function
    that is not numpy's, math's or a builtin by its module path or its own name.
    """
    if not _loading:
        load_on_demand()  # a library's built-in rules first, so that this one replaces theirs
    rule = make_rule(fn, signature, unbroadcast, elementwise, spelling, zero, sequence, names, templates)
    rule.hint = hint  # what to do where a derivative with respect to an operand without a template is needed
    _register(fn, rule)
    _forget_generated_code()
    return rule


def make_rule(
    fn: Any,
    signature: str,
    unbroadcast: bool = False,
    elementwise: bool = False,
    spelling: str | None = None,
    zero: str = "",
    sequence: bool | str = False,
    names: dict[str, Any] | None = None,
    templates: dict[str, str] | None = None,
) -> Rule:
    """The rule :func:`defrule` registers, made without registering it (rules made on the fly,
    such as those for autograd's primitives, stay out of the registry and the cache's key)."""
    templates = templates or {}
    params = _parse_signature(signature)
    param_names = {p.name for p in params}
    clash = param_names & RESERVED
    if clash:
        raise ValueError(f"{signature!r}: rename the parameter {sorted(clash)[0]!r}, templates reserve it")
    zeros = frozenset(z.strip() for z in zero.split(",") if z.strip())
    if not zeros <= param_names:
        raise ValueError(f"zero={zero!r}: not parameters of {signature!r}")
    bound = dict(names or {})
    if spelling is None:
        spelling, head = spell_callable(fn)
        bound.update(head)
    renames = bind_names(bound)
    head, dot, rest = spelling.partition(".")
    spelling = renames.get(head, head) + dot + rest
    vjp, jvp, joint = {}, {}, None
    for key, text in templates.items():
        kind, _, param = key.partition("_")
        if key == "t":
            joint = rename(_parse_template(text), renames)
        elif kind in ("d", "t") and param in param_names and param not in zeros:
            (vjp if kind == "d" else jvp)[param] = rename(_parse_template(text), renames)
        else:
            raise ValueError(
                f"{key}: templates are named d_<param> (adjoint) or t_<param> (tangent) "
                f"for a param of {signature!r} that is not listed in zero="
            )
    options = (unbroadcast, elementwise, sorted(zeros), sequence, sorted(renames.items()))
    options += (sorted((k, _describe(v)) for k, v in bound.items()),)
    return Rule(
        fn,
        spelling,
        params,
        vjp,
        unbroadcast,
        elementwise,
        # the templates as written, and (for the disk cache's key) what else shapes the code
        source={**templates, "options": repr(options)},
        jvp=jvp,
        joint=joint,
        zero=zeros,
        sequence=tuple(f.strip() for f in sequence.split(",")) if isinstance(sequence, str) else sequence,
        names=bound,
    )


def _describe(obj: Any) -> str:
    """What a bound name denotes, the same in every process."""
    if isinstance(obj, types.ModuleType):
        return f"module {obj.__name__}"
    return f"{type(obj).__name__} {getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"


def _forget_generated_code() -> None:
    """Code generated in this process may have used an older rule: transform again."""
    cache = sys.modules.get("srcgrad.cache")
    if cache is not None and hasattr(cache, "clear"):
        cache.clear()


def nondifferentiable(*fns: Any) -> Any:
    """Functions whose output has no derivative (shapes, indices, rounding, comparisons).

    Also a decorator (``@srcgrad.nondifferentiable`` above a ``def``): returns its first argument.
    """
    if not _loading:
        load_on_demand()
    for fn in fns:
        try:
            spelled = spelling_of(fn)
        except ValueError:
            spelled = getattr(fn, "__qualname__", repr(fn))
        _register(fn, Rule(fn, spelled, nondiff=True))
    _forget_generated_code()
    return fns[0] if fns else None


# -- rules for libraries that are imported only when the user's program imports them ----------

# library module -> the srcgrad module that registers its rules (scipy.special -> .scipy)
ON_DEMAND: dict[str, str] = {}
BUILTIN: set[int] = set()  # the rules srcgrad ships (ids of their functions); users add more
BUILTIN_RULES: dict[int, Rule] = {}  # srcgrad's own rules, as shipped (docs/rules.md)
_loading = False


def on_demand(library: str, rules_module: str) -> None:
    """Register ``rules_module``'s rules once ``library`` is imported (by anyone): srcgrad does
    not import scipy itself (a second of start-up) for programs that never use it."""
    ON_DEMAND[library] = rules_module  # loaded by the next lookup or registration


def load_on_demand(force: bool = False) -> None:
    """Import the rules of every library the program has imported (``force``: of every one
    that is installed). Their rules count as built-in: they are in srcgrad's own files."""
    global _loading
    for library, rules_module in list(ON_DEMAND.items()):
        if library not in sys.modules:
            if not force or importlib.util.find_spec(library.partition(".")[0]) is None:
                continue
        del ON_DEMAND[library]
        before = set(RULES)
        _loading = True
        try:
            importlib.import_module(rules_module)
        except ImportError as exc:  # an old or broken installation of the library: no rules for it
            if not str(exc.name).startswith(library.partition(".")[0]):
                raise
        finally:
            _loading = False
            for key in set(RULES) - before:
                BUILTIN.add(key)
                BUILTIN_RULES[key] = RULES[key]


def lookup(fn: Any) -> Rule | None:
    """The rule for ``fn``, looking through autograd's wrappers to the numpy function."""
    if ON_DEMAND:
        load_on_demand()
    try:
        rule = RULES.get(_key(fn))
    except TypeError:
        return None
    if rule is None and callable(getattr(fn, "fun", None)):  # autograd.numpy primitives
        rule = RULES.get(_key(fn.fun))
    if rule is None and str(getattr(fn, "__module__", None)).startswith("autograd.numpy"):
        rule = RULES.get(id(_autograd_redefinitions().get(id(fn))))
    if rule is None and "srcgrad.rules.autograd" in sys.modules:  # autograd's primitive, with its defvjp
        rule = sys.modules["srcgrad.rules.autograd"].autograd_rule(fn)
    return rule if rule is not None and rule.fn is not None else None


_AUTOGRAD: dict[int, Any] = {}


def _autograd_redefinitions() -> dict[int, Any]:
    """autograd.numpy's own versions of numpy functions (``mean``, ``hstack``, ``linalg.norm``,
    ``concatenate`` ...) -> the numpy function of the same name in the same namespace."""
    if not _AUTOGRAD:
        for wrapper, module in (("autograd.numpy", np), ("autograd.numpy.linalg", np.linalg)):
            namespace = sys.modules.get(wrapper)
            for name in dir(namespace) if namespace is not None else ():
                target = getattr(module, name, None)
                if callable(target):
                    _AUTOGRAD[id(getattr(namespace, name))] = target
    return _AUTOGRAD
