"""The scope of one function being normalized: the top one, or a helper inlined into it."""

from __future__ import annotations

from dataclasses import dataclass, field

import gast

from ..ir import Frame
from ..parse import ParsedFunction
from ..resolve import Resolver


@dataclass
class Scope:
    """One function being normalized: the top one, or a helper inlined into it."""

    parsed: ParsedFunction
    resolver: Resolver
    env: dict[str, gast.expr] = field(default_factory=dict)  # user name -> current atom
    module_alias: str | None = None  # set when the helper lives in another module
    base: tuple[Frame, ...] = ()  # the call sites that led here
    functions: dict[str, gast.FunctionDef] = field(default_factory=dict)  # nested defs and lambdas
    frames: tuple[Frame, ...] = ()  # ``base`` and the statement being normalized
