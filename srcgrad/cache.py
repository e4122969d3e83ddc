"""Stage 8: transform once per function and options.

An entry remembers which helper functions it inlined; if any name now resolves to a
different function (the helper was redefined), the entry is stale and transformed again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from .compile import Compiled
from .ir import Bindings


@dataclass
class Entry:
    compiled: Compiled
    bindings: Bindings
    deps: list[tuple[Any, Any, Any]]

    def is_current(self) -> bool:
        for resolver, node, obj in self.deps:
            now = resolver.resolve(node)
            if getattr(now, "__func__", now) is not obj:  # a bound method counts as its function
                return False
        return True


_memory: dict[Hashable, Entry] = {}
_lock = threading.Lock()


def cached(key: Hashable, build: Callable[[], Entry]) -> Entry:
    """The entry for ``key``, built (outside the lock) when missing or stale."""
    entry = _memory.get(key)
    if entry is not None and entry.is_current():
        return entry
    entry = build()
    with _lock:
        _memory[key] = entry
    return entry


def clear() -> None:
    with _lock:
        _memory.clear()
