"""Random-program differential testing of srcgrad.

Every seed index gives one small random program ``def f(x, w)`` (``x`` an array of 3 floats,
``w`` a float, sometimes a third parameter ``W``, a 3x3 array) written with loops that may run
zero times, nested loops, ``while`` loops, ``break``/``continue``, branches on data and on
indices, tuple swaps and rotations, names that change from scalar to array, names first
assigned in a loop, in-place updates of array copies, lists built with ``append``, helper
functions and early returns. The program is written to a real module file and imported, and
srcgrad's reverse gradient, forward gradient and Hessians are compared with an oracle:

- autograd, running the same program text with ``import autograd.numpy as np``, when it can
  (not for in-place writes into arrays, and only when it computes the same primal value);
- otherwise central finite differences of ``f`` (for the Hessian: of srcgrad's reverse
  gradient when that one was right, else second differences of ``f``), skipped when a
  data-dependent test is within a margin of its threshold at a perturbed point.

Each outcome is ``ok``, ``wrong`` (a value or shape mismatch), ``crash`` (an exception that is
not a ``srcgrad.SrcGradError``), ``refused`` (a ``SrcGradError``) or ``skipped`` (no oracle:
a branch too close to its threshold). Programs that raise or give a non-finite value when run
plainly are discarded (and counted). A reducer shrinks a failing program while the same
failure persists.

With ``--extended`` (``generate(..., extended=True)``) the grammar also builds containers in
the function: lists of tuples (literal or appended, in loops too), nested lists, tuples and
dicts with string keys, read back by constant indexing, by unpacking in assignments and in
``for`` headers, by ``zip(*pairs)``, ``len`` and ``.items()``; and it calls helpers with
``*args`` and ``**kwargs`` (``.get``), spreads tuples built in the function (``h(*parts)``),
uses ``map``, ``functools.partial``, generators, ``sum`` over lists, (W, b) layer lists and a
global list of objects with an ``apply`` method. Without it, programs are exactly the ones the
suite has always checked.

Run ``python tests/random_programs.py --seed 0 --count 2000 --show-failures`` (add ``--extended``).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import importlib.util
import itertools
import os
import random
import re
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

import srcgrad

try:
    import autograd
except ImportError:  # pragma: no cover - the test extra installs it
    autograd = None

MODES = ("reverse", "forward", "hessian")
CLASSES = ("ok", "wrong", "crash", "refused", "skipped")
N = 3  # x has this many elements
H = 1e-6  # finite-difference step for gradients
H2 = 1e-4  # step of second differences of f
MARGIN = 1e-4  # no oracle by differences when a data-dependent test is this close to its threshold
AUTOGRAD_RTOL = 1e-9
FD_RTOL, FD_ATOL = 1e-4, 1e-5
CALL_TIMEOUT = 10.0  # seconds for one transform or one gradient call

# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------

# Types of names: "s" scalar, "v" array of 3, "sv" either (after a loop or a branch), "m" 3x3
# array, "i" an integer index below 3, "n" a small integer counter, "ls"/"lv" lists of
# scalars/arrays.
NUMERIC_NAMES = ["a", "b", "c", "s", "t", "u", "v", "y", "z", "q", "r", "p"]
MATRIX_NAMES = ["M", "P"]
LIST_NAMES = ["acc", "ys", "parts"]
FOR_VARS = ["i", "j", "l"]
ELEM_VARS = ["e", "g", "o"]
WHILE_VARS = ["k", "n", "kk"]
CONSTANTS = ["0.5", "-0.5", "1.5", "0.75", "2.0", "0.3", "-1.2", "0.9"]
THRESHOLDS = ["0.5", "-0.5", "0.0", "0.25", "1.0", "-0.3", "1.5"]
UNARY = ["np.sin", "np.cos", "np.tanh"]


# --------------------------------------------------------------------------------------------
# Extended grammar (--extended): containers built in the function, *args/**kwargs helpers,
# map, functools.partial, generators and a global list of layer objects
# --------------------------------------------------------------------------------------------

# Container types (Var.type): "pairs" a list of (vector, scalar), "nest" a list of
# (vector, [vector, scalar]), "tup" a tuple (vector, vector, scalar), "dict" a dict
# {"scale": scalar, "shift": vector}, "layers" a list of (3x3 array, vector). Every one holds
# at least two items: constant indexing by 0, 1 and -1 is always valid.
CONTAINER_TYPES = ("pairs", "nest", "tup", "dict", "layers")
CONTAINER_PREFIX = {"pairs": "prs", "nest": "nst", "tup": "tpl", "dict": "dct", "layers": "lay"}

# Fixed module-level definitions the extended statements call, each emitted only when used.
PRELUDE = {
    "hstar": [
        "def hstar(a, *rest):",
        "    out = a",
        "    for r in rest:",
        "        out = out * 0.5 + np.sin(r)",
        "    return out",
    ],
    "hkw": [
        "def hkw(a, **kw):",
        "    return a * kw.get('scale', 1.0) + kw.get('shift', 0.0)",
    ],
    "hmap": ["def hmap(a):", "    return np.tanh(a) * 1.5"],
    "hpart": ["def hpart(c, a):", "    return np.sin(a * c) + a"],
    "hgen": [
        "def hgen(v, c):",
        "    for vi in v:",
        "        yield np.sin(vi) * c",
    ],
    "hpairs": [
        "def hpairs(items):",
        "    for first, second in items:",
        "        yield first * second",
    ],
    "LAYERS": [
        "class Scale:",
        "    def __init__(self, c):",
        "        self.c = c",
        "",
        "    def apply(self, v):",
        "        return v * self.c",
        "",
        "",
        "class Shift:",
        "    def __init__(self, c):",
        "        self.c = c",
        "",
        "    def apply(self, v):",
        "        return np.tanh(v + self.c)",
        "",
        "",
        "LAYERS = [Scale(0.5), Shift(-0.3), Scale(1.5), Shift(0.2)]",
    ],
}


@dataclass
class Var:
    type: str
    fresh: bool = True  # an array no other name or list refers to: in-place updates are safe
    nonempty: bool = False  # lists: at least one element
    likely: bool = False  # a maybe-unbound name that is bound unless a break or continue skipped it


def join_type(a: str, b: str) -> str | None:
    if a == b:
        return a
    if {a, b} <= {"s", "v", "sv"}:
        return "sv"
    return None


def join_envs(first: dict, second: dict) -> tuple[dict, dict]:
    """Definite and maybe-defined names after two paths meet."""
    definite, maybe = {}, {}
    for name in first.keys() | second.keys():
        a, b = first.get(name), second.get(name)
        if a is not None and b is not None:
            t = join_type(a.type, b.type)
            if t is not None:
                definite[name] = Var(t, a.fresh and b.fresh, a.nonempty and b.nonempty)
        else:
            maybe[name] = a or b
    return definite, maybe


@dataclass
class Ctx:
    depth: int  # nesting depth of blocks
    loops: list  # enclosing loops: (variable, kind) with kind "for" or "while"
    in_helper: bool = False
    return_type: str = "s"
    inplaced: set = field(default_factory=set)  # names updated in place in the enclosing loops
    aliased: set = field(default_factory=set)  # names aliased in the enclosing loops


class Generator:
    """One random program, drawn from ``random.Random`` with a given seed."""

    def __init__(self, rng: random.Random, extended: bool = False):
        self.rng = rng
        self.extended = extended  # the extended grammar; off, programs are as before it existed
        self.uses: set[str] = set()  # PRELUDE definitions the program calls
        self.name_count = 0
        self.helpers: list[tuple[str, str, str, list[str]]] = []  # (name, arg type, return type, lines)
        self.maybe: dict[str, Var] = {}  # names that may be unbound here
        self.features: set[str] = set()
        self.while_count = 0

    # ---- small helpers -------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq):
        return self.rng.choice(list(seq))

    def names(self, env, *types):
        return sorted(n for n, v in env.items() if v.type in types)

    def const(self):
        return self.pick(CONSTANTS)

    def index(self, env, ctx):
        options = ["0", "1", "2", "-1"]
        for var, kind in ctx.loops:
            if kind == "for":
                options += [var] * 3
            elif kind == "while":
                options.append(f"{var} % 3")
        options += [n for n in self.names(env, "i") if all(n != v for v, _ in ctx.loops)]
        return self.pick(options)

    # ---- expressions ---------------------------------------------------------------------
    def scalar(self, env, ctx, depth=2):
        """An expression whose value is a float."""
        rng = self.rng
        if depth <= 0 or self.chance(0.25):
            return self.scalar_leaf(env, ctx)
        kind = rng.choice(
            [
                "unary",
                "unary",
                "binop",
                "binop",
                "const",
                "reduce",
                "reduce",
                "index",
                "div",
                "pow",
                "exp",
                "dot",
            ]
            + (["helper"] if self.helpers else [])
            + (["matrix"] if self.names(env, "m") else [])
            + ["ifexp", "comprehension", "method"]
            + (["container"] * 2 if self.extended and self.names(env, *CONTAINER_TYPES) else [])
        )
        if kind == "container":
            return self.container_expr(env, ctx, "s")
        if kind == "unary":
            return f"{self.pick(UNARY)}({self.scalar(env, ctx, depth - 1)})"
        if kind == "ifexp":
            self.features.add("ifexp")
            a, b = self.scalar(env, ctx, depth - 1), self.scalar(env, ctx, depth - 1)
            return f"({a} if {self.condition(env, ctx)} else {b})"
        if kind == "comprehension" and self.has_vector(env):
            self.features.add("comprehension")
            inner = dict(env, ec=Var("s"))
            seq = self.vector_leaf(env, ctx, atom=True)
            item = f"{self.pick(UNARY)}(ec) * {self.scalar(inner, ctx, 0)}"
            return self.pick(
                [f"sum([{item} for ec in {seq}])", f"np.sum(np.array([{item} for ec in {seq}]))"]
            )
        if kind == "method" and self.has_vector(env):
            self.features.add("method")
            inner = self.vector(env, ctx, depth - 1)
            return self.pick([f"({inner}).sum()", f"({inner}).prod()", f"({inner}).mean()"])
        if kind == "binop":
            op = self.pick(["+", "-", "*"])
            return f"({self.scalar(env, ctx, depth - 1)} {op} {self.scalar(env, ctx, depth - 1)})"
        if kind == "const":
            return f"{self.scalar(env, ctx, depth - 1)} * {self.const()}"
        if kind == "reduce" and self.has_vector(env):
            fn = self.pick(["np.sum", "np.sum", "np.prod", "np.mean"])
            inner = self.vector(env, ctx, depth - 1, allow_sv=fn == "np.sum")
            return f"{fn}({inner})"
        if kind == "index" and self.has_vector(env):
            return f"{self.vector_leaf(env, ctx, atom=True)}[{self.index(env, ctx)}]"
        if kind == "div":
            return f"{self.scalar(env, ctx, depth - 1)} / (1.5 + np.cos({self.scalar(env, ctx, depth - 1)}))"
        if kind == "pow":
            return f"{self.scalar_leaf(env, ctx)} ** 2"
        if kind == "exp":
            return f"np.exp(np.tanh({self.scalar(env, ctx, depth - 1)}))"
        if kind == "dot" and self.has_vector(env):
            fn = self.pick(["np.dot({}, {})", "{} @ {}"])
            return fn.format(self.vector(env, ctx, depth - 1), self.vector_leaf(env, ctx, atom=True))
        if kind == "helper":
            return self.helper_call(env, ctx, "s")
        if kind == "matrix":
            m = self.pick(self.names(env, "m"))
            return self.pick(
                [f"np.sum({m} * {self.const()})", f"{m}[{self.index(env, ctx)}, {self.index(env, ctx)}]"]
            )
        return self.scalar_leaf(env, ctx)

    def scalar_leaf(self, env, ctx):
        options = self.names(env, "s")
        if self.has_vector(env):
            options.append("VEC_INDEX")
        for name in self.names(env, "ls"):
            if env[name].nonempty:
                options.append(f"{name}[{self.pick(['0', '-1'])}]")
            options.append(f"sum({name})")
        if not options:
            return self.const()
        choice = self.pick(options)
        if choice == "VEC_INDEX":
            return f"{self.vector_leaf(env, ctx, atom=True)}[{self.index(env, ctx)}]"
        return choice

    def has_vector(self, env):
        return bool(self.names(env, "v"))

    def vector(self, env, ctx, depth=2, allow_sv=False):
        """An expression whose value is an array of shape (3,) (or, with allow_sv, maybe a float)."""
        if not self.has_vector(env):
            return self.scalar(env, ctx, depth)
        if depth <= 0 or self.chance(0.25):
            return self.vector_leaf(env, ctx, allow_sv=allow_sv)
        kind = self.pick(
            ["unary", "unary", "binop", "scale", "scale", "mixed", "div", "exp", "reverse", "concat", "pow"]
            + (["helper"] if self.helpers else [])
            + (["matrix"] if self.names(env, "m") else [])
            + (["list"] if any(env[n].nonempty for n in self.names(env, "lv")) else [])
            + (["container"] * 2 if self.extended and self.names(env, *CONTAINER_TYPES) else [])
        )
        if kind == "container":
            return self.container_expr(env, ctx, "v")
        if kind == "unary":
            return f"{self.pick(UNARY)}({self.vector(env, ctx, depth - 1, allow_sv)})"
        if kind == "binop":
            op = self.pick(["+", "-", "*"])
            return (
                f"({self.vector(env, ctx, depth - 1)} {op} {self.vector(env, ctx, depth - 1, allow_sv=True)})"
            )
        if kind == "scale":
            return f"{self.vector(env, ctx, depth - 1, allow_sv)} * {self.scalar(env, ctx, depth - 1)}"
        if kind == "mixed":  # a name that may be a float or an array, broadcast against an array
            sv = self.names(env, "sv")
            other = self.pick(sv) if sv else self.scalar(env, ctx, depth - 1)
            return f"({self.vector(env, ctx, depth - 1)} + {other} * {self.const()})"
        if kind == "div":
            return f"{self.vector(env, ctx, depth - 1, allow_sv)} / (2.0 + {self.vector_leaf(env, ctx)} ** 2)"
        if kind == "exp":
            return f"np.exp(np.sin({self.vector(env, ctx, depth - 1, allow_sv)}))"
        if kind == "reverse":
            return f"{self.vector_leaf(env, ctx, atom=True)}[::-1]"
        if kind == "concat":
            a, b = self.vector_leaf(env, ctx, atom=True), self.vector_leaf(env, ctx, atom=True)
            cut = self.pick(["1", "2"] + [v for v, kind in ctx.loops if kind == "for"])
            scale = self.scalar(env, ctx, 0)
            return f"np.concatenate([{a}[:{cut}], {b}[{cut}:] * {scale}])"
        if kind == "pow":
            return f"{self.vector_leaf(env, ctx)} ** 2"
        if kind == "helper":
            return self.helper_call(env, ctx, "v")
        if kind == "matrix":
            m = self.pick(self.names(env, "m"))
            return self.pick(
                [
                    f"{m} @ {self.vector(env, ctx, depth - 1)}",
                    f"np.dot({m}, {self.vector_leaf(env, ctx)})",
                    f"{m}[{self.index(env, ctx)}]",
                    f"np.tanh({m})[:, {self.index(env, ctx)}]",
                ]
            )
        if kind == "list":
            lst = self.pick([n for n in self.names(env, "lv") if env[n].nonempty])
            return self.pick([f"{lst}[-1]", f"{lst}[0]", f"np.sum(np.stack({lst}), axis=0)", f"sum({lst})"])
        return self.vector_leaf(env, ctx, allow_sv=allow_sv)

    def vector_leaf(self, env, ctx, atom=False, allow_sv=False):
        options = self.names(env, "v") + (self.names(env, "sv") if allow_sv else [])
        if not options:
            return self.scalar_leaf(env, ctx) if not atom else self.pick(self.names(env, "sv") or ["x"])
        name = self.pick(options)
        if not atom and self.chance(0.2):
            return f"{self.pick(UNARY)}({name})"
        return name

    def helper_call(self, env, ctx, want):
        candidates = [h for h in self.helpers if h[2] == want or want == "s" and h[2] == "s"]
        candidates = [h for h in candidates if h[1] == "s" or self.has_vector(env)]
        if not candidates:
            return self.scalar_leaf(env, ctx) if want == "s" else self.vector_leaf(env, ctx)
        name, arg, _, _ = self.pick(candidates)
        first = self.scalar(env, ctx, 1) if arg == "s" else self.vector(env, ctx, 1)
        self.features.add("helper")
        if ctx.in_helper:
            self.features.add("nested_helper")
        second = self.scalar(env, ctx, 0)
        return f"{name}({first}, p={second})" if self.chance(0.3) else f"{name}({first}, {second})"

    def expr(self, t, env, ctx, depth=2):
        return self.scalar(env, ctx, depth) if t == "s" else self.vector(env, ctx, depth)

    def condition(self, env, ctx):
        """A data-dependent test ``COND(value, threshold)`` (rendered ``value > threshold``)."""
        if self.has_vector(env) and self.chance(0.6):
            value = self.pick(
                [
                    f"np.sum({self.vector(env, ctx, 1)})",
                    f"{self.vector_leaf(env, ctx, atom=True)}[{self.index(env, ctx)}]",
                ]
            )
        else:
            value = self.scalar(env, ctx, 1)
        self.features.add("data_branch")
        return f"COND({value}, {self.pick(THRESHOLDS)})"

    def index_condition(self, env, ctx):
        counters = [v for v, kind in ctx.loops if kind != "each"]
        if not counters:
            return self.condition(env, ctx)
        var = self.pick(counters)
        return self.pick([f"{var} % 2 == 0", f"{var} == 1", f"{var} > 0", f"{var} < 2", f"{var} == 0"])

    # ---- statements ----------------------------------------------------------------------
    def block(self, env, ctx, count=None):
        """Lines, the environment at its normal end, whether it may jump (break, continue,
        return) and the names it surely assigns before its first possible jump."""
        env = dict(env)
        lines, jumped, defs = [], False, set()
        if count is None:
            count = self.rng.choice([1, 1, 2, 2, 3])
        for _ in range(count):
            stmt_lines, env, may_jump, stmt_defs = self.statement(env, ctx)
            lines += stmt_lines
            if not jumped:
                defs |= stmt_defs
            jumped = jumped or may_jump
            if ends_in_jump(stmt_lines):
                break  # nothing after an unconditional jump
        return lines, env, jumped, defs

    def statement(self, env, ctx):
        rng = self.rng
        in_loop = bool(ctx.loops)
        kinds = ["assign"] * 6 + ["aug"] * 2 + ["swap"] * 2
        if ctx.depth < 4:
            kinds += ["if"] * 2
        if ctx.depth < 4 and len(ctx.loops) < 2 or len(ctx.loops) == 2 and self.chance(0.2):
            kinds += ["for"] * 3 + ["while"] + ["while_true"]
        if in_loop:
            kinds += ["jump"] * 2
        if any(v.fresh for v in env.values() if v.type == "v"):
            kinds += ["subscript"] * 2
        if self.names(env, "ls", "lv"):
            kinds += ["append"] * (3 if in_loop else 1)
        if len([n for n in LIST_NAMES if n not in env]) and not ctx.in_helper:
            kinds += ["new_list"]
        if ctx.depth > 1:
            kinds += ["return"]  # in a branch or a loop (of f or of a helper)
        if self.names(env, "m") and not ctx.in_helper:
            kinds += ["matrix"]
        if any(v.likely for v in self.maybe.values()):
            kinds += ["read_maybe"]
        if self.helpers:
            kinds += ["call"] * 2
        if ctx.depth < 4 and len(ctx.loops) < 2:
            kinds += ["for_each"]
        kinds += ["chain"]
        if self.extended:  # about a quarter of the statements
            kinds += ["container_new"] * 3 + ["star_call"] * 3
            kinds += ["layer_objects"] * self.chance(0.4)  # srcgrad refuses them today
            if self.names(env, *CONTAINER_TYPES):
                kinds += ["container_read"] * 4 + ["container_update"] * (2 if in_loop else 1)
        for _ in range(6):
            result = getattr(self, f"stmt_{rng.choice(kinds)}")(env, ctx)
            if result is not None:
                return result
        return ["pass"], env, False, set()

    def target_name(self, env, ctx, t):
        """A name to assign a value of type t to: a new one or an existing compatible one."""
        existing = [
            n
            for n in NUMERIC_NAMES
            if n in env
            and (
                env[n].type == t
                or not ctx.loops
                or (env[n].type, t) in {("s", "v"), ("sv", "v"), ("sv", "s")}
            )
        ]
        existing = [n for n in existing if env[n].type in ("s", "v", "sv")]
        if existing and self.chance(0.6):
            return self.pick(existing)
        new = [n for n in NUMERIC_NAMES if n not in env]
        if new:
            return self.pick(new)
        return self.pick(existing) if existing else None

    def stmt_assign(self, env, ctx):
        t = self.pick(["s", "v", "v"]) if self.has_vector(env) else "s"
        name = self.target_name(env, ctx, t)
        if name is None:
            return None
        env = dict(env)
        if self.chance(0.1) and t == "v":
            value = f"{self.vector_leaf(env, ctx, atom=True)}.copy()"
        elif self.chance(0.1) and t == "v":
            value = self.vector_leaf(env, ctx, atom=True)  # an alias
        else:
            value = self.expr(t, env, ctx)
        fresh = True
        base = aliased_name(value)
        if t == "v" and base in env:
            if base == name:
                return None
            if base in ctx.inplaced or name in ctx.inplaced:
                value = f"{value} * 1.0"
            else:
                env[base] = Var(env[base].type, False, env[base].nonempty)
                ctx.aliased.update({base, name})
                self.features.add("alias")
                fresh = False
        if name in env and env[name].type != t:
            self.features.add("type_change")
        if ctx.loops and name not in env:
            self.features.add("first_assigned_in_loop")
        env[name] = Var(t, fresh)
        self.maybe.pop(name, None)
        return [f"{name} = {value}"], env, False, {name}

    def stmt_call(self, env, ctx):
        t = self.pick(["s", "v"]) if self.has_vector(env) else "s"
        name = self.target_name(env, ctx, t)
        if name is None:
            return None
        env = dict(env)
        value = self.helper_call(env, ctx, t)
        if not re.match(r"h\d\(", value):  # no helper fits
            return None
        env[name] = Var(t)
        self.maybe.pop(name, None)
        return [f"{name} = {value}"], env, False, {name}

    def stmt_aug(self, env, ctx):
        names = self.names(env, "s", "v")
        if not names:
            return None
        name = self.pick(names)
        var = env[name]
        if var.type == "v" and not var.fresh:
            return None
        op = self.pick(["+=", "-=", "*="])
        if var.type == "v":
            value = self.pick([self.vector(env, ctx, 1), self.scalar(env, ctx, 1)])
            if op == "*=":
                value = f"(1.0 + 0.5 * np.tanh({value}))"
            ctx.inplaced.add(name)
            self.features.add("inplace")
        else:
            value = self.scalar(env, ctx, 1)
            if op == "*=":
                value = f"np.cos({value})"
        return [f"{name} {op} {value}"], env, False, set()

    def stmt_subscript(self, env, ctx):
        names = [n for n in self.names(env, "v") if env[n].fresh and n not in ctx.aliased]
        if not names:
            return None
        z = self.pick(names)
        idx = self.index(env, ctx)
        env = dict(env)
        ctx.inplaced.add(z)
        self.features.add("subscript")
        form = self.rng.randint(0, 5)
        if form == 0:
            return [f"{z}[{idx}] = {self.scalar(env, ctx, 1)}"], env, False, set()
        if form == 1:
            return [f"{z}[{idx}] {self.pick(['+=', '*='])} {self.scalar(env, ctx, 1)}"], env, False, set()
        if form == 2:
            cut = self.pick(["1", "2"] + [v for v, kind in ctx.loops if kind == "for"])
            side = self.pick([f"[:{cut}]", f"[{cut}:]"])
            return [f"{z}{side} = {z}{side} * {self.scalar(env, ctx, 1)}"], env, False, set()
        if form == 3:
            return (
                [f"{z}[1:] += {self.vector_leaf(env, ctx, atom=True)}[:2] * {self.const()}"],
                env,
                False,
                set(),
            )
        # a subscript inside a tuple target
        self.features.add("subscript_tuple")
        scalars = self.names(env, "s")
        if scalars and self.chance(0.7):
            b = self.pick(scalars)
            return [f"{z}[{idx}], {b} = {b} * {self.const()}, {z}[{idx}]"], env, False, set()
        b = self.target_name(env, ctx, "s")
        if b is None or b == z:
            return None
        env[b] = Var("s")
        return [f"{b}, {z}[{idx}] = {z}[{idx}], {self.scalar(env, ctx, 1)}"], env, False, {b}

    def stmt_swap(self, env, ctx):
        numeric = self.names(env, "s", "v", "sv")
        if len(numeric) < 2:
            return None
        rng = self.rng
        env = dict(env)
        self.features.add("swap")
        form = rng.randint(0, 4)
        by_type = defaultdict(list)
        for n in numeric:
            by_type[env[n].type].append(n)
        same = [ns for ns in by_type.values() if len(ns) >= 2]
        if same and rng.random() < 0.7:
            pool = self.pick(same)
        else:
            pool = numeric
            if ctx.loops:  # the types of the names may change between iterations
                for n in pool:
                    if env[n].type != "sv":
                        env[n] = Var("sv", env[n].fresh)
        if form == 3 and len(pool) >= 3:
            u, v, t = rng.sample(pool, 3)
            env[u], env[v], env[t] = env[v], env[t], env[u]
            self.features.add("rotate")
            return [f"{u}, {v}, {t} = {v}, {t}, {u}"], env, False, set()
        a, b = rng.sample(pool, 2)
        if form == 0:
            env[a], env[b] = env[b], env[a]
            return [f"{a}, {b} = {b}, {a}"], env, False, set()
        if form == 1:
            env[a], env[b] = env[b], Var(env[a].type)
            return [f"{a}, {b} = {b}, {a} * {self.const()}"], env, False, set()
        if form == 2 and len(pool) >= 3:
            c = self.pick([n for n in pool if n not in (a, b)])
            self.features.add("nested_unpack")
            env[a], env[b], env[c] = env[b], env[a], Var(env[c].type)
            return [f"({a}, {b}), {c} = ({b}, {a}), {c} * {self.const()}"], env, False, set()
        env[a], env[b] = Var(sum_type(env[a].type, env[b].type)), env[a]
        return [f"{a}, {b} = {b} + {a} * {self.const()}, {a}"], env, False, set()

    def stmt_if(self, env, ctx):
        on_index = bool(ctx.loops) and self.chance(0.4)
        test = self.index_condition(env, ctx) if on_index else self.condition(env, ctx)
        sub = Ctx(ctx.depth + 1, ctx.loops, ctx.in_helper, ctx.return_type, ctx.inplaced, ctx.aliased)
        saved_maybe = dict(self.maybe)
        body, env_then, jump_then, defs_then = self.block(env, sub, self.rng.randint(1, 2))
        lines = [f"if {test}:"] + indent(body)
        env_else, jump_else, defs_else = env, False, set()
        if self.chance(0.3):  # elif
            test2 = self.condition(env, ctx)
            body2, env_elif, jump_elif, defs_elif = self.block(env, sub, 1)
            lines += [f"elif {test2}:"] + indent(body2)
            if self.chance(0.5):
                body3, env_else, jump_else, defs_else = self.block(env, sub, 1)
                lines += ["else:"] + indent(body3)
                env_else, more = join_envs(env_elif, env_else)
                self.maybe.update(more)
                defs_else &= defs_elif
            else:
                env_else, more = join_envs(env_elif, env)
                self.maybe.update(more)
                defs_else = set()
            jump_else = jump_else or jump_elif
        elif self.chance(0.5):
            body3, env_else, jump_else, defs_else = self.block(env, sub, self.rng.randint(1, 2))
            lines += ["else:"] + indent(body3)
        # a branch that ends in a jump does not reach the join
        ends_then = ends_in_jump(body)
        if ends_then:
            out, more = env_else, {}
        else:
            out, more = join_envs(env_then, env_else)
        for name, var in saved_maybe.items():
            if name not in out:
                more.setdefault(name, var)
        self.maybe.update(more)
        self.features.add("if")
        return lines, out, jump_then or jump_else, (defs_then & defs_else) if not ends_then else set()

    def loop_body(self, env, ctx, var, kind, header_lines, body_prefix, runs_at_least_once, bound=None):
        """Generate a loop body until the types it assigns are stable between iterations;
        ``bound`` holds the names the loop header assigns besides ``var``."""
        inner_ctx = Ctx(
            ctx.depth + 1,
            ctx.loops + [(var, kind)],
            ctx.in_helper,
            ctx.return_type,
            ctx.inplaced,
            ctx.aliased,
        )
        entry = dict(env)
        bound = dict(bound or {})
        bound.setdefault(var, Var({"for": "i", "while": "n"}.get(kind, "s")))
        entry.update(bound)
        state = (self.rng.getstate(), dict(self.maybe), set(self.features))
        for _ in range(4):
            self.rng.setstate(state[0])
            self.maybe, self.features = dict(state[1]), set(state[2])
            inner_ctx.inplaced, inner_ctx.aliased = set(ctx.inplaced), set(ctx.aliased)
            body, end, jumped, defs = self.block(entry, inner_ctx)
            widened = False
            for name, v in end.items():
                if name in entry and entry[name].type != v.type:
                    t = join_type(entry[name].type, v.type)
                    if t and t != entry[name].type:
                        entry[name] = Var(t, entry[name].fresh and v.fresh)
                        widened = True
                if name in entry and entry[name].fresh and not v.fresh:
                    entry[name] = Var(entry[name].type, False)
                    widened = True
            if not widened:
                break
        ctx.inplaced |= inner_ctx.inplaced
        ctx.aliased |= inner_ctx.aliased
        # after the loop: names defined before it keep a joined type; names first assigned in
        # it are defined when the loop surely ran once and assigned them before a jump
        out = {}
        for name, v in entry.items():
            if name in end:
                t = join_type(v.type, end[name].type)
                out[name] = Var(t, v.fresh and end[name].fresh, v.nonempty) if t else v
            else:
                out[name] = v
        for name, v in end.items():
            if name in entry:
                continue
            if runs_at_least_once and name in defs:
                out[name] = v
            else:
                self.maybe[name] = Var(v.type, v.fresh, v.nonempty, likely=runs_at_least_once)
        for name, v in list(out.items()):
            if v.type in ("ls", "lv"):
                was = name in entry and entry[name].nonempty
                out[name] = Var(v.type, v.fresh, was or runs_at_least_once and "+" + name in defs)
        if not runs_at_least_once:
            for name, v in bound.items():
                out.pop(name, None)
                self.maybe[name] = v
        lines = header_lines + indent(body_prefix + body)
        return lines, out, False, set()

    def stmt_for(self, env, ctx):
        depth = len(ctx.loops)
        var = FOR_VARS[depth]
        n = self.rng.choice([0, 1, 2, 3, 3, 2])
        self.features.add("for")
        if depth:
            self.features.add("nested")
        if n == 0:
            self.features.add("zero_trip")
        header = f"for {var} in range({n}):"
        if self.chance(0.1) and depth == 0 and "x" in env and env["x"].type == "v":
            header = f"for {var} in range(len(x) - {3 - n}):"
        return self.loop_body(env, ctx, var, "for", [header], [], n >= 1)

    def stmt_for_each(self, env, ctx):
        """A loop over an array's elements or rows, a list, enumerate or zip."""
        depth = len(ctx.loops)
        e, i = ELEM_VARS[depth], FOR_VARS[depth]
        self.features.add("for_each")
        vectors = self.names(env, "v")
        lists = self.names(env, "ls", "lv")
        form = self.pick(
            ["array"] * 2
            + ["enumerate", "zip"]
            + (["list"] * 2 if lists else [])
            + (["rows"] if self.names(env, "m") else [])
        )
        if not vectors and form != "list":
            return None
        if form == "array":
            return self.loop_body(env, ctx, e, "each", [f"for {e} in {self.pick(vectors)}:"], [], True)
        if form == "enumerate":
            header = f"for {i}, {e} in enumerate({self.pick(vectors)}):"
            return self.loop_body(env, ctx, i, "for", [header], [], True, {e: Var("s")})
        if form == "zip":
            header = f"for {e}, {e}b in zip({self.pick(vectors)}, {self.pick(vectors)}):"
            return self.loop_body(env, ctx, e, "each", [header], [], True, {f"{e}b": Var("s")})
        if form == "rows":
            header = f"for {e} in {self.pick(self.names(env, 'm'))}:"
            return self.loop_body(env, ctx, e, "each", [header], [], True, {e: Var("v", fresh=False)})
        lst = self.pick(lists)
        t = "s" if env[lst].type == "ls" else "v"
        header = f"for {e} in {lst}:"
        return self.loop_body(env, ctx, e, "each", [header], [], env[lst].nonempty, {e: Var(t, fresh=False)})

    def stmt_chain(self, env, ctx):
        t = self.pick(["s", "v"]) if self.has_vector(env) else "s"
        a, b = self.target_name(env, ctx, t), self.target_name(env, ctx, t)
        if a is None or b is None or a == b:
            return None
        value = self.expr(t, env, ctx)
        env = dict(env)
        env[a] = env[b] = Var(t, fresh=t == "s")  # two names of one array
        if t == "v":
            ctx.aliased.update({a, b})
        self.maybe.pop(a, None)
        self.maybe.pop(b, None)
        self.features.add("chained")
        return [f"{a} = {b} = {value}"], env, False, {a, b}

    def stmt_while(self, env, ctx):
        var = WHILE_VARS[len(ctx.loops)]
        n = self.rng.choice([0, 1, 2, 3])
        self.features.add("while")
        if self.chance(0.3):
            test = f"{var} < {n} and {self.condition(env, ctx)}"
            at_least_once = False
        else:
            test = f"{var} < {n}"
            at_least_once = n >= 1
        return self.loop_body(
            env, ctx, var, "while", [f"{var} = 0", f"while {test}:"], [f"{var} += 1"], at_least_once
        )

    def stmt_while_true(self, env, ctx):
        var = WHILE_VARS[len(ctx.loops)]
        n = self.rng.choice([1, 2, 3])
        self.features.add("while_true")
        prefix = [f"{var} += 1", f"if {var} > {n}:", "    break"]
        return self.loop_body(env, ctx, var, "while", [f"{var} = 0", "while True:"], prefix, True)

    def stmt_jump(self, env, ctx):
        word = self.pick(["break", "continue", "break"])
        self.features.add(word)
        if self.chance(0.15):
            return [word], env, True, set()
        test = self.index_condition(env, ctx) if self.chance(0.4) else self.condition(env, ctx)
        return [f"if {test}:", f"    {word}"], env, True, set()

    def stmt_return(self, env, ctx):
        self.features.add("early_return")
        if ctx.return_type == "v" and not self.has_vector(env):
            return None
        value = self.expr(ctx.return_type, env, ctx, 1)
        if ctx.return_type == "s":
            value = self.final_scalar(env, ctx, value)
        if self.chance(0.2):
            return [f"return {value}"], env, True, set()
        test = self.index_condition(env, ctx) if ctx.loops and self.chance(0.4) else self.condition(env, ctx)
        return [f"if {test}:", f"    return {value}"], env, True, set()

    def stmt_new_list(self, env, ctx):
        name = self.pick([n for n in LIST_NAMES if n not in env])
        t = self.pick(["ls", "lv"]) if self.has_vector(env) else "ls"
        env = dict(env)
        env[name] = Var(t)
        self.maybe.pop(name, None)
        self.features.add("list")
        return [f"{name} = []"], env, False, {name}

    def stmt_append(self, env, ctx):
        name = self.pick(self.names(env, "ls", "lv"))
        env = dict(env)
        if env[name].type == "ls":
            value = self.scalar(env, ctx, 1)
        else:
            value = self.vector(env, ctx, 1)
            leaf = aliased_name(value)
            if leaf is not None and leaf in env:
                if leaf in ctx.inplaced:
                    value = f"{value} * 1.0"
                else:
                    env[leaf] = Var(env[leaf].type, False, env[leaf].nonempty)
                    ctx.aliased.add(leaf)
        env[name] = Var(env[name].type, env[name].fresh, True)
        self.features.add("append")
        return [f"{name}.append({value})"], env, False, {"+" + name}

    def stmt_matrix(self, env, ctx):
        name = self.pick(MATRIX_NAMES)
        m = self.pick(self.names(env, "m"))
        value = self.pick(
            [
                f"np.tanh({m} * {self.scalar(env, ctx, 1)})",
                f"{m} + np.outer({self.vector(env, ctx, 1)}, {self.vector_leaf(env, ctx)})",
                f"{m} * {self.const()}",
                f"({m} @ {m}) * {self.const()}",
            ]
        )
        env = dict(env)
        env[name] = Var("m")
        return [f"{name} = {value}"], env, False, {name}

    def stmt_read_maybe(self, env, ctx):
        """Read a name that may be unbound (assigned in a loop or a branch that may not run)."""
        name = self.pick(sorted(n for n, v in self.maybe.items() if v.likely))
        var = self.maybe[name]
        if name in env or var.type in ("i", "n") and not self.has_vector(env) or var.type in CONTAINER_TYPES:
            return None
        self.features.add("read_maybe")
        target = self.target_name(env, ctx, "sv" if var.type in ("s", "v", "sv") else "s")
        if target is None:
            return None
        env = dict(env)
        if var.type in ("s", "v", "sv"):
            value = f"np.sum({name}) * {self.const()}"
        elif var.type in ("i", "n"):
            value = f"{self.vector_leaf(env, ctx, atom=True)}[{name} % 3] * {self.const()}"
        else:
            value = f"sum({name}) * {self.const()}" if var.type == "ls" else f"np.sum(sum({name}))"
        env[target] = Var("s")
        return [f"{target} = {value}"], env, False, {target}

    def final_scalar(self, env, ctx, value):
        """A scalar that reads many of the live names, so that their gradients matter."""
        terms = [value]
        for name in sorted(env):
            var = env[name]
            if not self.chance(0.6):
                continue
            if var.type == "s":
                terms.append(f"{name} * {self.const()}")
            elif var.type in ("v", "sv"):
                terms.append(f"np.sum({self.pick(['np.sin', 'np.tanh', ''])}({name}))")
            elif var.type == "m":
                terms.append(f"np.sum({name}) * {self.const()}")
            elif var.type == "ls":
                terms.append(f"sum({name})" if not var.nonempty else f"np.sum(np.stack({name}))")
            elif var.type == "lv":
                terms.append(f"np.sum(sum({name}))" if not var.nonempty else f"np.sum(np.stack({name}) ** 2)")
            elif var.type in CONTAINER_TYPES:
                terms.append(f"np.sum({self.container_expr({name: var}, ctx, 'v')}) * {self.const()}")
        return " + ".join(terms)

    # ---- the extended grammar (--extended) ------------------------------------------------
    def owned(self, value):
        """``value``, copied when it may share memory with a name (containers hold no views)."""
        return f"{value} * 1.0" if aliased_name(value) is not None else value

    def fresh_name(self, prefix):
        self.name_count += 1
        return f"{prefix}{self.name_count}"

    def use(self, name):
        self.uses.add(name)
        return name

    def assign_result(self, env, ctx, t, lines, value, defs=()):
        """Lines computing a value of type t, then ``TARGET = value``; the statement tuple."""
        name = self.target_name(env, ctx, t)
        if name is None:
            return None
        env = dict(env)
        env[name] = Var(t)
        self.maybe.pop(name, None)
        return lines + [f"{name} = {value}"], env, False, {name, *defs}

    def accumulate(self, env, ctx, t, header, term):
        """``TARGET = 0``, then ``for ...: TARGET = TARGET + term``."""
        name = self.target_name(env, ctx, t)
        if name is None:
            return None
        env = dict(env)
        env[name] = Var(t)
        self.maybe.pop(name, None)
        zero = "np.zeros(3)" if t == "v" else "0.0"
        return [f"{name} = {zero}", header, f"    {name} = {name} + {term}"], env, False, {name}

    def container_item(self, env, ctx, t):
        """A fresh value of type t to put in a container."""
        if t == "m":
            a, b = self.vector(env, ctx, 1), self.vector_leaf(env, ctx, atom=True)
            return f"np.outer({a}, {b}) * {self.const()}"
        return self.owned(self.expr(t, env, ctx, 1))

    def stmt_container_new(self, env, ctx):
        """Build a list of tuples, a nested list, a tuple or a dict of arrays and scalars."""
        if not self.has_vector(env):
            return None
        kind = self.pick(["pairs", "pairs", "nest", "tup", "dict", "layers", "layers"])
        name = self.fresh_name(CONTAINER_PREFIX[kind])
        item = lambda t: self.container_item(env, ctx, t)  # noqa: E731
        self.features.add(f"container_{kind}")
        if kind in ("pairs", "layers"):
            first = "m" if kind == "layers" else "v"
            second = "v" if kind == "layers" else "s"
            form = self.pick(["literal", "append", "append_loop"])
            self.features.add(f"container_{form}")
            if form == "literal":
                lines = [f"{name} = [({item(first)}, {item(second)}), ({item(first)}, {item(second)})]"]
            elif form == "append":
                lines = [f"{name} = []"] + [
                    f"{name}.append(({item(first)}, {item(second)}))" for _ in range(self.pick([2, 2, 3]))
                ]
            else:
                n = self.pick([2, 3])
                lines = [
                    f"{name} = []",
                    f"for ip in range({n}):",
                    f"    {name}.append(({item(first)} * (ip + 1.0), {item(second)}))",
                ]
        elif kind == "nest":
            lines = [
                f"{name} = [({item('v')}, [{item('v')}, {item('s')}]), ({item('v')}, [{item('v')}, {item('s')}])]"
            ]
        elif kind == "tup":
            lines = [f"{name} = ({item('v')}, {item('v')}, {item('s')})"]
        else:
            lines = [f"{name} = {{'scale': {item('s')}, 'shift': {item('v')}}}"]
        env = dict(env)
        env[name] = Var(kind, fresh=False, nonempty=True)
        self.maybe.pop(name, None)
        return lines, env, False, {name}

    def stmt_container_update(self, env, ctx):
        """Append to a list of tuples (in a loop, often) or change a dict's entry."""
        names = self.names(env, "pairs", "layers", "dict")
        if not names:
            return None
        c = self.pick(names)
        kind = env[c].type
        self.features.add(f"container_update_{kind}")
        if kind == "pairs":
            return (
                [f"{c}.append(({self.container_item(env, ctx, 'v')}, {self.scalar(env, ctx, 1)}))"],
                env,
                False,
                set(),
            )
        if kind == "layers":
            m, b = self.container_item(env, ctx, "m"), self.container_item(env, ctx, "v")
            return [f"{c}.append(({m}, {b}))"], env, False, set()
        if self.chance(0.5):
            return (
                [f"{c}['scale'] = {c}['scale'] * {self.const()} + {self.scalar(env, ctx, 1)}"],
                env,
                False,
                set(),
            )
        return [f"{c}['shift'] = {self.container_item(env, ctx, 'v')}"], env, False, set()

    def container_expr(self, env, ctx, t):
        """A constant-index read of a container in env, of type t (None when none fits)."""
        names = self.names(env, *CONTAINER_TYPES)
        if not names:
            return None
        c = self.pick(names)
        kind = env[c].type
        k = self.pick(["0", "1", "-1"])
        self.features.add("container_index")
        if t == "s":
            return {
                "pairs": f"{c}[{k}][1]",
                "nest": f"{c}[{k}][1][1]",
                "tup": f"{c}[2]",
                "dict": self.pick([f"{c}['scale']", f"{c}.get('scale', 1.0)", f"{c}.get('bias', 0.5)"]),
                "layers": f"{c}[{k}][0][1, 2]",
            }[kind]
        return {
            "pairs": f"{c}[{k}][0]",
            "nest": self.pick([f"{c}[{k}][0]", f"{c}[{k}][1][0]"]),
            "tup": f"{c}[{self.pick(['0', '1'])}]",
            "dict": self.pick([f"{c}['shift']", f"{c}.get('shift', 0.0)"]),
            "layers": self.pick([f"{c}[{k}][1]", f"{c}[{k}][0] @ {c}[0][1]"]),
        }[kind]

    def stmt_container_read(self, env, ctx):
        """Read a container back: unpacking, for loops over it, zip(*...), len, comprehensions."""
        names = self.names(env, *CONTAINER_TYPES)
        if not names:
            return None
        c = self.pick(names)
        kind = env[c].type
        s = self.scalar(env, ctx, 0)
        form = self.rng.randint(0, 4)
        self.features.add(f"container_read_{kind}")
        if kind == "pairs":
            if form == 0:
                return self.accumulate(env, ctx, "v", f"for pa, pb in {c}:", "pa * pb")
            if form == 1:
                return self.assign_result(
                    env, ctx, "v", [f"pa, pb = {c}[{self.pick(['0', '1', '-1'])}]"], "pa * np.cos(pb)"
                )
            if form == 2:
                self.features.add("zip_star")
                vs = self.pick(["sum(vs)", "np.sum(np.stack(vs), axis=0)", "vs[1]"])
                return self.assign_result(env, ctx, "v", [f"vs, ss = zip(*{c})"], f"{vs} * ss[0] + ss[-1]")
            if form == 3:
                self.features.add("len")
                return self.assign_result(
                    env, ctx, "s", [], f"sum([pb * np.sum(pa) for pa, pb in {c}]) / len({c})"
                )
            self.use("hpairs")
            self.features.add("generator")
            return self.accumulate(env, ctx, "v", f"for gv in hpairs({c}):", f"gv * {s}")
        if kind == "nest":
            if form <= 1:
                self.features.add("nested_for_unpack")
                return self.accumulate(env, ctx, "v", f"for pa, (pb, pc) in {c}:", "pa * pb * pc")
            if form == 2:
                return self.assign_result(
                    env, ctx, "v", [f"pa, (pb, pc) = {c}[{self.pick(['0', '1'])}]"], "pa - pb * pc"
                )
            if form == 3:
                return self.accumulate(
                    env, ctx, "v", f"for ii, (pa, pq) in enumerate({c}):", "pa * pq[1] * ii + pq[0]"
                )
            return self.assign_result(
                env, ctx, "s", [], f"np.sum({c}[1][1][0]) * {c}[0][1][1] + len({c}[0][1])"
            )
        if kind == "tup":
            if form <= 1:
                return self.assign_result(env, ctx, "v", [f"pa, pb, pc = {c}"], "pa * pc + pb")
            if form == 2:
                self.use("hstar")
                self.features.add("star_spread")
                return self.assign_result(env, ctx, "v", [], f"hstar(*{c})")
            if form == 3:
                return self.accumulate(env, ctx, "v", f"for pa in {c}:", "pa")
            return self.assign_result(env, ctx, "v", [f"pa, *pr = {c}"], "pa * len(pr) + pr[0]")
        if kind == "dict":
            if form == 0:
                return self.accumulate(env, ctx, "s", f"for key, val in {c}.items():", "np.sum(val)")
            if form == 1:
                self.use("hkw")
                self.features.add("kwargs_spread")
                return self.assign_result(env, ctx, "v", [], f"hkw({self.vector(env, ctx, 1)}, **{c})")
            if form == 2:
                return self.accumulate(env, ctx, "s", f"for key in {c}:", f"np.sum({c}[key]) * {s}")
            if form == 3:
                return self.assign_result(env, ctx, "v", [], f"{c}['shift'] * {c}.get('scale', 1.0)")
            return self.assign_result(env, ctx, "s", [], f"np.sum(np.stack(list({c}.values())[1:]))")
        # layers
        v = self.owned(self.vector(env, ctx, 1))
        name = self.target_name(env, ctx, "v")
        if name is None:
            return None
        env = dict(env)
        env[name] = Var("v")
        self.maybe.pop(name, None)
        if form <= 2:
            self.features.add("layers_loop")
            lines = [f"{name} = {v}", f"for lw, lb in {c}:", f"    {name} = np.tanh(lw @ {name} + lb)"]
        elif form == 3:
            self.features.add("zip_star")
            lines = [f"lws, lbs = zip(*{c})", f"{name} = lws[-1] @ {v} + sum(lbs)"]
        else:
            lines = [
                f"{name} = {v}",
                f"for il in range(len({c})):",
                f"    {name} = {c}[il][0] @ {name} * 0.5 + {c}[il][1]",
            ]
        return lines, env, False, {name}

    def stmt_star_call(self, env, ctx):
        """Helpers with *args and **kwargs, map, functools.partial, generators, sum of a list."""
        if not self.has_vector(env):
            return None
        form = self.pick(
            ["star", "star", "spread", "kw", "kw", "map", "map", "partial", "gen", "sum"]
            + ["helper_map", "helper_partial"] * bool(self.helpers)
        )
        self.features.add(form)
        if form.startswith("helper_"):  # a generated helper h(a, p) through map or partial
            name, arg, ret, _ = self.pick(self.helpers)
            args = [self.owned(self.expr(arg, env, ctx, 1)) for _ in range(2)]
            if form == "helper_map":
                ps = f"{self.scalar(env, ctx, 0)}, {self.scalar(env, ctx, 0)}"
                value = self.pick(
                    [
                        f"sum(map({name}, [{', '.join(args)}], [{ps}]))",
                        f"list(map({name}, [{', '.join(args)}], [{ps}]))[-1]",
                    ]
                )
                return self.assign_result(env, ctx, ret, [], value)
            self.uses.add("functools")
            pf = self.fresh_name("pf")
            lines = [f"{pf} = functools.partial({name}, p={self.scalar(env, ctx, 1)})"]
            return self.assign_result(
                env, ctx, ret, lines, f"{pf}({args[0]}) * {self.const()} + {pf}({args[1]})"
            )
        items = lambda n, t="v": [self.owned(self.expr(t, env, ctx, 1)) for _ in range(n)]  # noqa: E731
        if form == "star":
            self.use("hstar")
            first = self.pick(["s", "v"])
            rest = [self.pick(["s", "v"]) for _ in range(self.pick([1, 2, 3]))]
            t = "v" if "v" in [first] + rest else "s"
            args = [self.expr(first, env, ctx, 1)] + [self.expr(r, env, ctx, 1) for r in rest]
            return self.assign_result(env, ctx, t, [], f"hstar({', '.join(args)})")
        if form == "spread":
            self.use("hstar")
            name = self.fresh_name("parts")
            n = self.pick([2, 3])
            return self.assign_result(env, ctx, "v", [f"{name} = ({', '.join(items(n))})"], f"hstar(*{name})")
        if form == "kw":
            self.use("hkw")
            v = self.vector(env, ctx, 1)
            kw = self.pick(
                [
                    f"scale={self.scalar(env, ctx, 1)}",
                    f"shift={self.vector(env, ctx, 1)}",
                    f"shift={self.scalar(env, ctx, 1)}, scale={self.scalar(env, ctx, 0)}",
                    "",
                    f"**{{'scale': {self.scalar(env, ctx, 1)}}}",
                ]
            )
            return self.assign_result(env, ctx, "v", [], f"hkw({v}{', ' + kw if kw else ''})")
        if form == "map":
            self.use("hmap")
            xs = ", ".join(items(self.pick([2, 3])))
            style = self.rng.randint(0, 2)
            if style == 0:
                name = self.fresh_name("ms")
                return self.assign_result(
                    env, ctx, "v", [f"{name} = list(map(hmap, [{xs}]))"], f"{name}[0] * {name}[-1]"
                )
            if style == 1:
                return self.assign_result(env, ctx, "v", [], f"sum(map(hmap, [{xs}]))")
            return self.accumulate(env, ctx, "v", f"for mv in map(hmap, [{xs}]):", "mv * mv")
        if form == "partial":
            self.use("hpart")
            self.uses.add("functools")
            name = self.fresh_name("pf")
            c = self.pick([self.const(), self.scalar(env, ctx, 1)])
            lines = [f"{name} = functools.partial(hpart, {c})"]
            return self.assign_result(
                env,
                ctx,
                "v",
                lines,
                f"{name}({self.vector(env, ctx, 1)}) + {name}({self.scalar(env, ctx, 0)})",
            )
        if form == "gen":
            self.use("hgen")
            v, c = self.vector(env, ctx, 1), self.scalar(env, ctx, 0)
            if self.chance(0.5):
                return self.accumulate(env, ctx, "s", f"for gv in hgen({v}, {c}):", "gv * gv")
            return self.assign_result(
                env,
                ctx,
                "s",
                [],
                self.pick([f"sum(hgen({v}, {c}))", f"np.sum(np.array(list(hgen({v}, {c}))))"]),
            )
        return self.assign_result(env, ctx, "v", [], f"sum([{', '.join(items(self.pick([2, 3])))}])")

    def stmt_layer_objects(self, env, ctx):
        """A loop over a global list of objects of two classes with an ``apply`` method."""
        if not self.has_vector(env):
            return None
        self.use("LAYERS")
        self.features.add("layer_objects")
        v = self.owned(self.vector(env, ctx, 1))
        name = self.target_name(env, ctx, "v")
        if name is None:
            return None
        env = dict(env)
        env[name] = Var("v")
        self.maybe.pop(name, None)
        if self.chance(0.3):
            return [f"{name} = LAYERS[{self.pick(['0', '1', '-1'])}].apply({v})"], env, False, {name}
        header = self.pick(["for lyr in LAYERS:", "for lyr in LAYERS[1:]:", "for lyr in reversed(LAYERS):"])
        return [f"{name} = {v}", header, f"    {name} = lyr.apply({name})"], env, False, {name}

    # ---- helpers and the program ---------------------------------------------------------
    def helper(self, number):
        arg = self.pick(["s", "v"])
        ret = self.pick(["s", "v"]) if arg == "v" else "s"
        env = {"a": Var(arg, fresh=False), "p": Var("s")}
        ctx = Ctx(1, [], in_helper=True, return_type=ret)
        saved, self.maybe = self.maybe, {}
        body, env, _, _ = self.block(env, ctx, self.rng.randint(1, 2))
        self.maybe = saved
        if ret == "s":
            final = self.final_scalar(env, ctx, self.scalar(env, ctx, 1))
        elif self.has_vector(env):
            final = self.vector(env, ctx, 1)
        else:  # swaps made every array name maybe a float
            final = f"np.zeros(3) + {self.pick(self.names(env, 'sv') or ['p'])}"
        name = f"h{number}"
        lines = [f"def {name}(a, p):"] + indent(body + [f"return {final}"])
        self.helpers.append((name, arg, ret, lines))

    def program(self, with_matrix):
        for number in range(self.rng.choice([0, 0, 0, 1, 1, 2])):
            self.helper(number)
        env = {"x": Var("v", fresh=False), "w": Var("s")}
        params = "x, w"
        if with_matrix:
            env["W"] = Var("m", fresh=False)
            params += ", W"
            self.features.add("matrix")
        ctx = Ctx(1, [])
        lines = []
        if self.chance(0.5):
            lines.append("z = x.copy()")
            env["z"] = Var("v")
        if self.chance(0.3):
            name = self.pick(["u", "a", "t"])
            lines.append(f"{name} = w")  # often becomes an array in a loop
            env[name] = Var("s")
        body, env, _, _ = self.block(env, ctx, self.rng.randint(2, 5))
        lines += body
        if not body[-1].startswith("return"):
            lines.append(f"return {self.final_scalar(env, ctx, self.scalar(env, ctx, 1))}")
        source = (
            ["import numpy as np"] + (["import functools"] if "functools" in self.uses else []) + ["", ""]
        )
        for name, definition in PRELUDE.items():
            if name in self.uses:
                source += definition + ["", ""]
        for _, _, _, helper_lines in self.helpers:
            source += helper_lines + ["", ""]
        source += [f"def f({params}):"] + indent(lines)
        return "\n".join(source) + "\n"


def ends_in_jump(lines):
    """Whether a block's last top-level statement is break, continue or return."""
    return lines[-1] in ("break", "continue") or lines[-1].startswith("return")


def sum_type(a: str, b: str) -> str:
    """The type of ``a + b`` for numeric types."""
    if "v" in (a, b):
        return "v"
    return "sv" if "sv" in (a, b) else "s"


def aliased_name(value: str) -> str | None:
    """The name whose array ``value`` (a name or a basic slice of one) may share memory with."""
    match = re.fullmatch(r"(\w+)(\[[^\]]*\])?", value)
    return match[1] if match else None


def indent(lines):
    return ["    " + line for line in lines]


@dataclass
class Program:
    seed: int
    index: int
    template: str  # module source; data-dependent tests written COND(value, threshold)
    args: tuple
    features: frozenset = frozenset()

    @property
    def label(self):
        return f"seed {self.seed} program {self.index}"


def generate(seed: int, index: int, extended: bool = False) -> Program:
    """Program ``index`` of ``seed``: the same program on every run and machine."""
    rng = random.Random(f"srcgrad-random-programs-{seed}-{index}")
    gen = Generator(rng, extended)
    with_matrix = rng.random() < 0.15
    template = gen.program(with_matrix)
    x = np.array([round(rng.uniform(-1.0, 1.0), 4) for _ in range(N)])
    w = round(rng.uniform(-1.0, 1.0), 4)
    args = (x, w)
    if with_matrix:
        args += (np.array([[round(rng.uniform(-1.0, 1.0), 3) for _ in range(N)] for _ in range(N)]),)
    return Program(seed, index, template, args, frozenset(gen.features))


# --------------------------------------------------------------------------------------------
# Rendering and loading
# --------------------------------------------------------------------------------------------


class _Render(ast.NodeTransformer):
    def __init__(self, measure):
        self.measure = measure

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "COND" and len(node.args) == 2:
            if self.measure:
                return ast.Call(ast.Name("note", ast.Load()), node.args, [])
            return ast.Compare(node.args[0], [ast.Gt()], [node.args[1]])
        return node


def render(template: str, variant: str = "numpy") -> str:
    """The module source for srcgrad ("numpy"), for autograd ("autograd"), or measuring how
    close each data-dependent test is to its threshold ("measure")."""
    tree = ast.parse(template)
    tree = ast.fix_missing_locations(_Render(variant == "measure").visit(tree))
    source = ast.unparse(tree) + "\n"
    if variant == "autograd":
        source = source.replace("import numpy as np\n", "import autograd.numpy as np\n", 1)
        source = re.sub(
            r"\b([A-Za-z_]\w*)\.copy\(\)", r"np.array(\1)", source
        )  # (autograd's boxes have no .copy)
    return source


MARGINS: list[float] = []


def note(value, threshold):
    """``value > threshold``, recording how far value is from threshold."""
    MARGINS.append(abs(float(value) - float(threshold)))
    return value > threshold


_directory = None
_counter = itertools.count()


def load(source: str):
    """Import ``source`` from a new module file (a new name every time: nothing is cached)."""
    global _directory
    if _directory is None:
        _directory = tempfile.TemporaryDirectory(prefix="srcgrad_random_programs_")
    name = f"srcgrad_random_{os.getpid()}_{next(_counter)}"
    path = os.path.join(_directory.name, name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.note = note
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)  # srcgrad reads the module through f.__globals__
    return module.f


# --------------------------------------------------------------------------------------------
# Checking one program
# --------------------------------------------------------------------------------------------


class Timeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds):
    if not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise Timeout(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    mode: str  # "reverse", "forward", "hessian"
    cls: str  # one of CLASSES
    key: str = ""  # the kind of failure, for grouping and for the reducer
    message: str = ""
    got: object = None
    want: object = None
    oracle: str = ""
    arg: str = ""


class Discard(Exception):
    """The program itself fails or gives no usable value at its inputs."""


def copies(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


ARG_NAMES = ("x", "w", "W")


def normalise_message(exc: BaseException) -> str:
    """An exception's class and first line, without file names, line numbers and values."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = re.sub(r"\S+\.py:\d+:?", "FILE:", text)
    text = re.sub(r"line \d+", "line N", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"(update of (the array )?)\w+", r"\1NAME", text)
    text = re.sub(r"\b\d+(\.\d+)?\b", "N", text)
    return f"{type(exc).__name__}: {text[:90]}"


def _num(value):
    return np.asarray(value, dtype=float)


def compare(got, want, rtol, atol_scale):
    """None when got matches want, else a short reason ("shape", "value")."""
    if np.shape(got) != np.shape(want):
        return "shape"
    got, want = _num(got), _num(want)
    if not np.all(np.isfinite(got)):
        return "value"
    scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    if not np.allclose(got, want, rtol=rtol, atol=atol_scale * scale):
        return "value"
    return None


class Checker:
    """srcgrad against the oracle for one program at its inputs."""

    def __init__(self, program: Program):
        self.program = program
        self.args = program.args
        self.nargs = len(program.args)
        self.source = render(program.template)
        try:
            compile(self.source, "<program>", "exec")
            f = load(self.source)
            measure = load(render(program.template, "measure"))
        except Exception as exc:
            raise Discard(f"does not load: {normalise_message(exc)}") from exc
        self.f, self.measure = f, measure
        value, margin = self.run(self.args)
        if value is None or np.ndim(value) != 0 or not np.isfinite(value) or abs(value) > 1e6:
            raise Discard("no finite scalar value")
        self.value, self.margin = float(value), margin
        self._autograd = None
        self._fd_grad = None

    def run(self, args):
        """f(args) with numpy and the smallest margin of its data-dependent tests."""
        MARGINS.clear()
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with time_limit(CALL_TIMEOUT):
                    value = self.measure(*copies(args))
        except Exception as exc:
            raise Discard(f"raises {normalise_message(exc)}") from exc
        margin = min(MARGINS, default=np.inf)
        MARGINS.clear()
        return value, margin

    def run_value(self, args):
        value, margin = self.run(args)
        return float(value), margin

    # ---- oracles ---------------------------------------------------------------------
    def autograd_functions(self):
        """autograd's f, or None when autograd cannot run this program faithfully."""
        if self._autograd is None:
            self._autograd = False
            if autograd is None or self.has_subscript_writes():
                return None
            try:
                f_ag = load(render(self.program.template, "autograd"))
                with np.errstate(all="ignore"), warnings.catch_warnings(), time_limit(CALL_TIMEOUT):
                    warnings.simplefilter("ignore")
                    value = f_ag(*copies(self.args))
                    if not np.isclose(float(value), self.value, rtol=1e-12, atol=1e-12):
                        return None
                    grads = [
                        np.asarray(autograd.grad(f_ag, k)(*copies(self.args)), dtype=float)
                        for k in range(self.nargs)
                    ]
                if not all(np.all(np.isfinite(g)) for g in grads):
                    return None  # (autograd's prod is ans / x: nan at a zero; differences decide)
                self._autograd = (f_ag, grads)
            except Exception:
                return None
        return self._autograd or None

    def has_subscript_writes(self):
        tree = ast.parse(self.program.template)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign):
                targets = [node.target]
            for target in targets:
                if any(isinstance(t, ast.Subscript) for t in ast.walk(target)):
                    return True
        return False

    def fd_grad(self):
        """Central differences of f in every argument, or None near a branch switch."""
        if self._fd_grad is None:
            self._fd_grad = False
            if self.margin <= MARGIN:
                return None
            grads = []
            for k in range(self.nargs):
                g = self.fd(lambda args: self.run_value(args), k, H)
                if g is None:
                    return None
                grads.append(g)
            self._fd_grad = grads
        return self._fd_grad or None

    def fd(self, fn, k, step):
        """Central differences of ``fn(args)`` (returning (value, margin)) in argument k, with
        steps h and h/2 combined (Richardson); None where the two disagree (too curved to tell)."""
        base = np.asarray(self.args[k], dtype=float)
        out = None
        for index in np.ndindex(*base.shape) if base.shape else [()]:
            estimates = []
            for h in (step, step / 2):
                values = []
                for sign in (1, -1):
                    a = list(copies(self.args))
                    if base.shape:
                        a[k] = base.copy()
                        a[k][index] += sign * h
                    else:
                        a[k] = float(base) + sign * h
                    v, margin = fn(a)
                    if margin <= MARGIN:
                        return None
                    values.append(np.asarray(v, dtype=float))
                estimates.append((values[0] - values[1]) / (2 * h))
            if not np.allclose(estimates[0], estimates[1], rtol=FD_RTOL / 10, atol=FD_ATOL / 10):
                return None
            d = (4 * estimates[1] - estimates[0]) / 3
            if out is None:
                out = np.zeros(base.shape + d.shape)
            out[index] = d
        return out

    def oracle_grad(self):
        ag = self.autograd_functions()
        if ag:
            return ag[1], "autograd", AUTOGRAD_RTOL, AUTOGRAD_RTOL
        fd = self.fd_grad()
        if fd is not None:
            return fd, "finite differences", FD_RTOL, FD_ATOL
        return None, "", 0, 0

    def oracle_hessian(self, k, reverse_grad, use_autograd=True):
        ag = self.autograd_functions() if use_autograd else None
        if ag:
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings(), time_limit(CALL_TIMEOUT):
                    warnings.simplefilter("ignore")
                    h = np.asarray(autograd.hessian(ag[0], k)(*copies(self.args)), dtype=float)
                if np.all(np.isfinite(h)):
                    return h, "autograd", AUTOGRAD_RTOL * 10, AUTOGRAD_RTOL * 10
            except Exception:
                pass
        if self.margin <= MARGIN:
            return None, "", 0, 0
        if reverse_grad is not None:  # differences of srcgrad's (checked) reverse gradient

            def grad_k(args):
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    g = reverse_grad(*copies(args))[k]
                return g, self.run(args)[1]

            try:
                h = self.fd(grad_k, k, H)
            except Exception:
                h = None
            if h is not None:
                return h, "differences of srcgrad's reverse gradient", FD_RTOL, FD_ATOL
        # second differences of f
        g = self.fd(lambda args: self.fd_at(args, k), k, H2)
        if g is None:
            return None, "", 0, 0
        return g, "second differences of f", 1e-3, 1e-3

    def fd_at(self, args, k):
        saved = self.args
        self.args = tuple(args)
        try:
            g = self.fd(lambda a: self.run_value(a), k, H2)
            margin = self.run(args)[1]
        finally:
            self.args = saved
        if g is None:
            return np.zeros(np.shape(args[k])), 0.0
        return g, margin

    # ---- srcgrad ---------------------------------------------------------------------
    def call(self, make, seconds=CALL_TIMEOUT):
        """(result, None) or (None, Outcome-class, key, message)."""
        before = copies(self.args)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings(), time_limit(seconds):
                warnings.simplefilter("ignore")
                fn = make(load(self.source))
                result = fn(*self.args)
        except srcgrad.SrcGradError as exc:
            return None, ("refused", normalise_message(exc), f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            where = "generated code" if any(fr.filename.startswith("<") for fr in tb[-3:]) else "srcgrad"
            message = f"{type(exc).__name__}: {exc}"
            return None, ("crash", f"{normalise_message(exc)} (in {where})", message)
        for a, b in zip(self.args, before):
            if not np.array_equal(a, b):
                return None, ("wrong", "modified its argument", "the gradient call modified an argument")
        return (fn, result), None

    def check(self, modes=MODES, hessian_args=None) -> list[Outcome]:
        """Outcomes of the modes; Hessians in every argument, or in those of ``hessian_args``."""
        outcomes = []
        wrt = tuple(range(self.nargs))
        reverse_fn = None
        if "reverse" in modes or "hessian" in modes:
            out = self.check_grad("reverse", lambda f: srcgrad.grad(f, wrt=wrt))
            if out[1].cls == "ok":
                reverse_fn = out[0]
            if "reverse" in modes:
                outcomes.append(out[1])
        if "forward" in modes:
            outcomes.append(self.check_grad("forward", lambda f: srcgrad.grad(f, wrt=wrt, mode="forward"))[1])
        if "jit" in modes:  # the reverse-mode code compiled by numba (a compile takes seconds)
            outcomes.append(self.check_grad("jit", lambda f: srcgrad.grad(f, wrt=wrt, jit=True))[1])
        if "hessian" in modes:
            for k in range(self.nargs) if hessian_args is None else hessian_args:
                if k < self.nargs:
                    outcomes.append(self.check_hessian(k, reverse_fn))
        return outcomes

    def check_grad(self, mode, make):
        result, failure = self.call(make, 60.0 if mode == "jit" else CALL_TIMEOUT)
        if failure:
            return None, Outcome(mode, failure[0], failure[1], failure[2])
        fn, got = result
        if not isinstance(got, tuple) or len(got) != self.nargs:
            return None, Outcome(mode, "wrong", "not a tuple", f"returned {got!r}")
        for k, (g, a) in enumerate(zip(got, self.args)):
            if np.shape(g) != np.shape(a):
                return None, Outcome(
                    mode,
                    "wrong",
                    "shape",
                    f"gradient in {ARG_NAMES[k]} has shape {np.shape(g)}, not {np.shape(a)}",
                    got,
                    None,
                    "",
                    ARG_NAMES[k],
                )
        want, oracle, rtol, atol = self.oracle_grad()
        if want is None:
            return fn, Outcome(mode, "skipped", "a data-dependent test is near its threshold")
        disagree = any(compare(g, wk, rtol, atol) for g, wk in zip(got, want))
        if disagree and oracle == "autograd" and self.fd_grad() is not None:
            # autograd has bugs of its own (an in-place *= on an array it traced): differences decide
            want, oracle, rtol, atol = (
                self.fd_grad(),
                "finite differences (autograd disagrees)",
                FD_RTOL,
                FD_ATOL,
            )
        for k, (g, wk) in enumerate(zip(got, want)):
            reason = compare(g, wk, rtol, atol)
            if reason:
                return None, Outcome(
                    mode,
                    "wrong",
                    reason,
                    f"gradient in {ARG_NAMES[k]} differs",
                    got,
                    want,
                    oracle,
                    ARG_NAMES[k],
                )
        return fn, Outcome(mode, "ok", oracle=oracle)

    def check_hessian(self, k, reverse_fn):
        mode = "hessian"
        result, failure = self.call(lambda f: srcgrad.hessian(f, wrt=k))
        arg = ARG_NAMES[k]
        if failure:
            return Outcome(mode, failure[0], failure[1], failure[2], arg=arg)
        _, got = result
        shape = np.shape(self.args[k]) * 2
        if np.shape(got) != shape:
            return Outcome(
                mode,
                "wrong",
                "shape",
                f"Hessian in {arg} has shape {np.shape(got)}, not {shape}",
                got,
                arg=arg,
            )
        want, oracle, rtol, atol = self.oracle_hessian(k, reverse_fn)
        if want is None:
            return Outcome(mode, "skipped", "a data-dependent test is near its threshold", arg=arg)
        want = np.reshape(want, shape)
        reason = compare(got, want, rtol, atol)
        if reason and oracle == "autograd":  # differences decide, as for gradients
            want, oracle, rtol, atol = self.oracle_hessian(k, reverse_fn, use_autograd=False)
            reason = (
                "no oracle but autograd"
                if want is None
                else compare(got, np.reshape(want, shape), rtol, atol)
            )
        if reason:
            return Outcome(mode, "wrong", reason, f"Hessian in {arg} differs", got, want, oracle, arg)
        return Outcome(mode, "ok", oracle=oracle, arg=arg)


def check_program(program: Program, modes=MODES, hessian_args=None) -> list[Outcome]:
    """Every outcome for one program; raises Discard when the program itself is unusable."""
    checker = Checker(program)
    try:
        return checker.check(modes, hessian_args)
    finally:
        with contextlib.suppress(Exception):
            srcgrad.cache.clear()  # keep memory flat over thousands of programs


# --------------------------------------------------------------------------------------------
# The reducer
# --------------------------------------------------------------------------------------------


def _bodies(tree):
    """Every statement list of the module's functions, in a fixed order."""
    for node in ast.walk(tree):
        for attr in ("body", "orelse"):
            body = getattr(node, attr, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                yield node, attr, body


def _edits(tree):
    """Descriptions of the small edits that could make the program smaller, in order."""
    edits = []
    for n_body, (owner, _, body) in enumerate(_bodies(tree)):
        for i, stmt in enumerate(body):
            if isinstance(owner, ast.Module) and isinstance(stmt, ast.Import):
                continue
            if isinstance(owner, ast.Module) and isinstance(stmt, ast.FunctionDef) and stmt.name == "f":
                continue
            edits.append(("delete", n_body, i))
            if isinstance(stmt, (ast.If, ast.For, ast.While)):
                edits.append(("inline", n_body, i))
                if stmt.orelse:
                    edits.append(("inline_else", n_body, i))
                    edits.append(("drop_else", n_body, i))
    for n_node, node in enumerate(ast.walk(tree)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "range"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, int)
            and node.args[0].value > 0
        ):
            edits.append(("shrink", n_node, 0))
        if isinstance(node, ast.Compare) and isinstance(node.comparators[0], ast.Constant):
            value = node.comparators[0].value
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                edits.append(("shrink_compare", n_node, 0))
    for n_node, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.BinOp):
            edits += [("left", n_node, 0), ("right", n_node, 0)]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "np" and len(node.args) == 1:
                edits.append(("unwrap", n_node, 0))
    return edits


class _Replace(ast.NodeTransformer):
    def __init__(self, target, replacement):
        self.target, self.replacement = target, replacement

    def visit(self, node):
        if node is self.target:
            return self.replacement
        return super().visit(node)


def _apply(tree, edit):
    tree = copy.deepcopy(tree)
    kind, n, i = edit
    if kind in ("delete", "inline", "inline_else", "drop_else"):
        _, _, body = list(_bodies(tree))[n]
        stmt = body[i]
        if kind == "delete":
            replacement = []
        elif kind == "inline":
            replacement = stmt.body
        elif kind == "inline_else":
            replacement = stmt.orelse
        else:
            stmt.orelse = []
            replacement = [stmt]
        body[i : i + 1] = replacement
        if not body:
            body.append(ast.Pass())
        return ast.fix_missing_locations(tree)
    node = list(ast.walk(tree))[n]
    if kind == "shrink":
        node.args[0].value -= 1
        return tree
    if kind == "shrink_compare":
        node.comparators[0].value -= 1
        return tree
    if kind == "left":
        new = node.left
    elif kind == "right":
        new = node.right
    else:
        new = node.args[0]
    return ast.fix_missing_locations(_Replace(node, new).visit(tree))


def failure_key(outcome: Outcome) -> tuple:
    key = outcome.key
    if outcome.cls == "crash":
        key = key.split(":")[0]  # the exception class
    return (outcome.mode, outcome.cls, key, outcome.arg)


def reproduces(program: Program, key: tuple) -> Outcome | None:
    """The outcome of ``program`` with failure ``key``, if it still fails that way."""
    mode, arg = key[0], key[3]
    hessian_args = (ARG_NAMES.index(arg),) if mode == "hessian" and arg else None
    try:
        outcomes = check_program(program, (mode,), hessian_args)
    except Discard:
        return None
    for outcome in outcomes:
        if failure_key(outcome) == key:
            return outcome
    return None


def _drop_unused_helpers(tree):
    changed = True
    while changed:
        changed = False
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        for stmt in list(tree.body):
            if isinstance(stmt, ast.FunctionDef) and stmt.name != "f" and stmt.name not in used:
                tree.body.remove(stmt)
                changed = True
    return tree


def reduce(program: Program, outcome: Outcome, budget=25.0) -> tuple[Program, Outcome]:
    """Shrink ``program`` while it fails with the same failure, for about ``budget`` seconds."""
    key = failure_key(outcome)
    tree = ast.parse(program.template)
    best, best_outcome = program, outcome
    deadline = time.monotonic() + budget
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        position = 0
        while True:  # one pass over the edits; after a success, go on from the same place
            edits = _edits(tree)
            if position >= len(edits) or time.monotonic() > deadline:
                break
            edit = edits[position]
            position += 1
            try:
                candidate_tree = _drop_unused_helpers(_apply(tree, edit))
                template = ast.unparse(candidate_tree) + "\n"
            except Exception:
                continue
            if template == best.template:
                continue
            candidate = Program(program.seed, program.index, template, program.args, program.features)
            got = reproduces(candidate, key)
            if got is not None:
                tree, best, best_outcome = candidate_tree, candidate, got
                progress = True
                position -= 1
    return best, best_outcome


# --------------------------------------------------------------------------------------------
# Running many programs
# --------------------------------------------------------------------------------------------


@dataclass
class Report:
    counts: dict = field(default_factory=lambda: defaultdict(Counter))  # mode -> class -> n
    discarded: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)
    failures: dict = field(default_factory=dict)  # failure key -> [(program, outcome), ...]
    failure_counts: Counter = field(default_factory=Counter)
    programs: int = 0
    features: Counter = field(default_factory=Counter)
    oracles: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def bad(self):
        return sum(c["wrong"] + c["crash"] for c in self.counts.values())


def hessian_args_for(index, hessians):
    """Which arguments' Hessians program ``index`` checks: all, or one in turn ("rotate")."""
    return None if hessians == "all" else (index % 2,)


def check_index(seed, index, modes, hessians, extended=False):
    """(program, outcomes) or (program, discard reason), for one worker."""
    program = generate(seed, index, extended)
    try:
        return program, check_program(program, modes, hessian_args_for(index, hessians))
    except Discard as exc:
        return program, str(exc).split(":")[0]


def _check_index_star(args):
    return check_index(*args)


def run_many(
    seed, count, modes=MODES, start=0, hessians="all", jobs=1, progress=False, extended=False
) -> Report:
    """Check programs ``start .. start + count - 1`` of ``seed`` (of the extended grammar)."""
    report = Report()
    begin = time.monotonic()
    tasks = [(seed, index, modes, hessians, extended) for index in range(start, start + count)]
    if jobs > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(jobs)
        results = pool.imap(_check_index_star, tasks, chunksize=4)
    else:
        pool, results = None, map(_check_index_star, tasks)
    try:
        for done, (program, outcomes) in enumerate(results, 1):
            report.programs += 1
            if isinstance(outcomes, str):
                report.discarded[outcomes] += 1
                continue
            report.features.update(program.features)
            for outcome in outcomes:
                report.counts[outcome.mode][outcome.cls] += 1
                if outcome.oracle:
                    report.oracles[outcome.oracle] += 1
                if outcome.cls == "refused":
                    report.refusals[outcome.key] += 1
                if outcome.cls in ("wrong", "crash"):
                    key = failure_key(outcome)
                    report.failure_counts[key] += 1
                    report.failures.setdefault(key, []).append((program, outcome))
            if progress and done % 100 == 0:
                print(f"... {done} programs, {report.bad()} failures", file=sys.stderr, flush=True)
    finally:
        if pool is not None:
            pool.close()
    report.seconds = time.monotonic() - begin
    return report


def format_array(value):
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(format_array(v) for v in value) + ")"
    return np.array2string(np.asarray(value, dtype=float), precision=10, separator=", ")


def describe_failure(program: Program, outcome: Outcome) -> str:
    x = program.args
    lines = [
        f"# {program.label}: {outcome.mode} {outcome.cls} ({outcome.key}{', ' + outcome.arg if outcome.arg else ''})",
        render(program.template).rstrip(),
        "",
        "# inputs: " + ", ".join(f"{n}={format_array(a)}" for n, a in zip(ARG_NAMES, x)),
        f"# {outcome.message}",
    ]
    if outcome.cls == "wrong":
        lines.append(f"# srcgrad: {format_array(outcome.got)}")
        lines.append(f"# {outcome.oracle or 'expected'}: {format_array(outcome.want)}")
    return "\n".join(lines)


def summary(report: Report, modes=MODES) -> str:
    lines = [
        f"{report.programs} programs ({sum(report.discarded.values())} discarded: "
        + ", ".join(f"{n} {why}" for why, n in report.discarded.most_common())
        + f") in {report.seconds:.0f} s",
        "",
        f"{'mode':10}" + "".join(f"{c:>9}" for c in CLASSES),
    ]
    for mode in modes:
        counts = report.counts[mode]
        lines.append(f"{mode:10}" + "".join(f"{counts[c]:>9}" for c in CLASSES))
    if report.oracles:
        lines.append("oracles: " + ", ".join(f"{n} {o}" for o, n in report.oracles.most_common()))
    if report.refusals:
        lines += ["", "refusals:"] + [f"  {n:5}  {key}" for key, n in report.refusals.most_common()]
    if report.failure_counts:
        lines += ["", "failures (mode, class, kind, argument):"]
        for key, n in report.failure_counts.most_common():
            where = ", ".join(str(program.index) for program, _ in report.failures[key][:6])
            lines.append(f"  {n:5}  {' | '.join(k for k in key if k)}   (programs {where})")
    return "\n".join(lines)


def main(argv=None):
    os.environ["SRCGRAD_CACHE"] = "0"  # every program is new: no disk cache (and workers inherit it)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--start", type=int, default=0, help="first program index")
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help="of reverse,forward,hessian,jit (jit: grad(f, jit=True), numba)",
    )
    parser.add_argument(
        "--hessians",
        choices=("all", "rotate"),
        default="rotate",
        help="Hessians in every argument, or in x and w by turns (the default: half the time)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--show-failures", action="store_true", help="print a minimised program per failure kind"
    )
    parser.add_argument("--all", action="store_true", help="with --show-failures: every failing program")
    parser.add_argument(
        "--no-reduce", action="store_true", help="with --show-failures: print programs as generated"
    )
    parser.add_argument("--reduce-seconds", type=float, default=30.0, help="time to minimise one failure")
    parser.add_argument("--print", action="store_true", help="print the programs instead of checking them")
    parser.add_argument(
        "--extended",
        action="store_true",
        help="the extended grammar: containers, *args/**kwargs, map, partial, generators, layer objects",
    )
    args = parser.parse_args(argv)
    modes = tuple(m for m in args.modes.split(",") if m)
    if args.print:
        for index in range(args.start, args.start + args.count):
            program = generate(args.seed, index, args.extended)
            inputs = ", ".join(f"{n}={format_array(a)}" for n, a in zip(ARG_NAMES, program.args))
            print(f"# {program.label}; {inputs}\n{render(program.template)}")
        return 0
    report = run_many(
        args.seed,
        args.count,
        modes,
        args.start,
        args.hessians,
        args.jobs,
        progress=True,
        extended=args.extended,
    )
    print(f"seed {args.seed}, programs {args.start}..{args.start + args.count - 1}, modes {','.join(modes)}")
    print(summary(report, modes), flush=True)
    if args.show_failures:
        shown = set()
        for key, found in report.failures.items():
            if key[:3] in shown and not args.all:
                continue  # the same failure in another argument
            shown.add(key[:3])
            for program, outcome in found if args.all else found[:1]:
                if not args.no_reduce:
                    program, outcome = reduce(program, outcome, args.reduce_seconds)
                print("\n" + describe_failure(program, outcome), flush=True)
    return 1 if report.bad() else 0


if __name__ == "__main__":
    sys.exit(main())
