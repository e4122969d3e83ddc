"""The scope of one function being normalized: the top one, or a helper inlined into it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import gast

from ..ir import Frame
from ..parse import ParsedFunction
from ..resolve import Resolver


class Env(dict):
    """User name -> current atom, counting the keys that hold each generated name: whether an
    array has a second holder is one lookup, where a scan of the environment at every
    assignment made normalizing a function of N statements cost N squared."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._holders = Counter(v.id for v in self.values() if isinstance(v, gast.Name))

    def holders(self, generated: str) -> int:
        """How many keys hold the generated name ``generated``."""
        return self._holders[generated]

    def _drop(self, key: Any) -> None:
        old = dict.get(self, key)
        if isinstance(old, gast.Name):
            self._holders[old.id] -= 1

    def __setitem__(self, key: Any, value: Any) -> None:
        self._drop(key)
        dict.__setitem__(self, key, value)
        if isinstance(value, gast.Name):
            self._holders[value.id] += 1

    def __delitem__(self, key: Any) -> None:
        self._drop(key)
        dict.__delitem__(self, key)

    _NONE = object()

    def pop(self, key: Any, default: Any = _NONE) -> Any:
        if key in self:
            self._drop(key)
            return dict.pop(self, key)
        if default is Env._NONE:
            raise KeyError(key)
        return default

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def popitem(self) -> tuple:
        raise NotImplementedError("Env.popitem")

    def clear(self) -> None:
        dict.clear(self)
        self._holders.clear()

    def __ior__(self, other: Any) -> Env:
        self.update(other)
        return self

    def __reduce__(self) -> tuple:  # (copy and deepcopy count the holders afresh)
        return (Env, (dict(self),))


@dataclass
class Scope:
    """One function being normalized: the top one, or a helper inlined into it."""

    parsed: ParsedFunction
    resolver: Resolver
    env: Env = field(default_factory=Env)  # user name -> current atom (any dict given becomes an Env)
    module_alias: str | None = None  # set when the helper lives in another module
    base: tuple[Frame, ...] = ()  # the call sites that led here
    functions: dict[str, gast.FunctionDef] = field(default_factory=dict)  # nested defs and lambdas
    frames: tuple[Frame, ...] = ()  # ``base`` and the statement being normalized

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "env" and not isinstance(value, Env):
            value = Env(value)
        object.__setattr__(self, key, value)
