"""Stage 8: transform once per function and options, in memory and on disk.

In memory, an entry remembers which helper functions it inlined; if a name now resolves to
a different function (the helper was redefined), the entry is stale and built again.

On disk (``$SRCGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/srcgrad`` or ``~/.cache/srcgrad``;
``SRCGRAD_CACHE=0`` turns it off), an entry is found by a key that covers srcgrad's version,
the rule set, Python's and numpy's versions, the options, and the source of every function
in the call tree with what each of its free names denotes. An entry carries its key and a
checksum; one that fails a check is reported with ``warnings.warn``, removed and rebuilt,
never executed. Entries are written to a temporary file and renamed, so a crash or another
process never leaves half an entry; the directory is private (0700, files 0600).
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
import types
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gast
import numpy as np

from . import runtime
from .compile import Compiled, compile_source
from .ir import Bindings, Namer
from .resolve import UNRESOLVED, Resolver, unbound
from .rules import BUILTIN, RULES, lookup

FORMAT = 1
DEFAULT_LIMIT = 64 * 2**20  # bytes on disk before the least recently used entries go


@dataclass
class Entry:
    compiled: Compiled
    bindings: Bindings
    deps: list[tuple[Any, Any, Any]]
    function: Any = None  # the function built from it for one primal, reused while current

    def is_current(self) -> bool:
        for resolver, node, obj in self.deps:
            if unbound(resolver.resolve(node)) is not obj:
                return False
        return True


_memory: dict[Hashable, Entry] = {}
_lock = threading.Lock()
MEMORY_LIMIT = 4096  # entries kept in memory; the oldest go first


def cached(key: Hashable, build: Callable[[], Entry]) -> Entry:
    """The entry for ``key``, built (outside the lock) when missing or stale."""
    entry = _memory.get(key)
    if entry is not None and entry.is_current():
        return entry
    entry = build()
    with _lock:
        _memory[key] = entry
        while len(_memory) > MEMORY_LIMIT:
            del _memory[next(iter(_memory))]
    return entry


def clear() -> None:
    """Forget every transform made in this process (the disk cache stays)."""
    with _lock:
        _memory.clear()
    _rules_fingerprint.cache_clear()  # called when a rule changes


# -- the key ----------------------------------------------------------------------------------


def _describe(obj: Any) -> str:
    """What a free name denotes, as far as generated code depends on it (data: its type only)."""
    if obj is UNRESOLVED:
        return "unresolved"
    if isinstance(obj, types.ModuleType):
        return f"module {obj.__name__}"
    rule = lookup(obj)
    if rule is not None:
        return f"rule {rule.spelling}"
    fn = getattr(obj, "__func__", obj)
    if isinstance(fn, (types.FunctionType, types.BuiltinFunctionType, type)):
        return f"{type(fn).__name__} {getattr(fn, '__module__', '')}.{fn.__qualname__}"
    return f"value {type(obj).__module__}.{type(obj).__qualname__}"


@functools.lru_cache(maxsize=1)
def _srcgrad_fingerprint() -> str:
    """srcgrad's own files (names, sizes, times): an edited srcgrad, such as a development
    install, never reuses entries an older one wrote. The built-in rules are among them."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        info = path.stat()
        h.update(f"{path.name}|{info.st_size}|{info.st_mtime_ns}".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _rules_fingerprint() -> str:
    """The rules registered by user code (the built-in ones are in srcgrad's own files)."""
    custom = (r for r in RULES.values() if id(r.fn) not in BUILTIN)
    parts = sorted(f"{r.spelling}|{r.params}|{sorted(r.source.items())}|{r.nondiff}" for r in custom)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def disk_key(tree: list[Resolver], options: tuple) -> str:
    """The key of a transform: everything the generated code depends on, hashed."""
    from . import __version__

    h = hashlib.sha256()

    def feed(*parts: object) -> None:
        for part in parts:
            h.update(repr(part).encode())
            h.update(b"\0")

    feed(
        FORMAT,
        __version__,
        _srcgrad_fingerprint(),
        sys.version,
        np.__version__,
        _rules_fingerprint(),
        options,
    )
    for resolver in tree:
        parsed = resolver.parsed
        node = parsed.node
        fn = parsed.fn
        feed(parsed.filename, node.lineno, [parsed.line(n) for n in range(node.lineno, node.end_lineno + 1)])
        feed(fn.__defaults__, fn.__kwdefaults__, sorted(resolver.constants))
        for free in resolver.free_names():
            feed(
                free,
                _describe(
                    resolver.resolve(gast.Name(id=free, ctx=gast.Load(), annotation=None, type_comment=None))
                ),
            )
        for call in _calls(resolver):
            feed(_describe(resolver.resolve(call)))
    return h.hexdigest()


def _calls(resolver: Resolver) -> list:
    return [n.func for n in resolver.parsed.calls]


# -- recipes: how a new process finds the objects generated code is bound to ----------------


def _recipe(obj: Any) -> list | None:
    if isinstance(obj, types.ModuleType):
        return ["module", obj.__name__]
    for kind, namespace in (("runtime", runtime), ("builtin", builtins)):
        name = getattr(obj, "__name__", None)
        if isinstance(name, str) and getattr(namespace, name, None) is obj:
            return [kind, name]
    return None


def _cook(recipe: list) -> Any:
    kind, name = recipe
    if kind == "module":
        import importlib

        return sys.modules.get(name) or importlib.import_module(name)
    return getattr(runtime if kind == "runtime" else builtins, name)


def recipes(bindings: Bindings, primal: types.FunctionType) -> dict[str, list] | None:
    """How to rebind every name, or None when some binding cannot be rebuilt in another process."""
    out: dict[str, list] = {}
    for name, value in bindings.values.items():
        recipe = _recipe(value)
        if recipe is None:
            return None
        out[name] = recipe
    cells = dict(zip(primal.__code__.co_freevars, primal.__closure__ or ()))
    for name, cell in bindings.cells.items():
        own = [free for free, c in cells.items() if c is cell]
        if not own:
            return None
        out[name] = ["cell", own[0]]
    return out


def rebind(recipes_: dict[str, list], primal: types.FunctionType) -> Bindings:
    bindings = Bindings(Namer(set()), {})
    cells = dict(zip(primal.__code__.co_freevars, primal.__closure__ or ()))
    for name, recipe in recipes_.items():
        if recipe[0] == "cell":
            bindings.cells[name] = cells[recipe[1]]
        else:
            bindings.values[name] = _cook(recipe)
    return bindings


# -- the directory ----------------------------------------------------------------------------


def directory() -> Path | None:
    """The cache directory, created private; None when disabled or not safe to use."""
    if os.environ.get("SRCGRAD_CACHE", "1") == "0":
        return None
    path = os.environ.get("SRCGRAD_CACHE_DIR")
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "srcgrad")
    folder = Path(path)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError as exc:
        warnings.warn(f"srcgrad: not using the cache directory {folder}: {exc}", stacklevel=3)
        return None
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
        warnings.warn(
            f"srcgrad: not using the cache directory {folder}: it belongs to another user or others "
            "may write to it; set SRCGRAD_CACHE_DIR to a private directory",
            stacklevel=3,
        )
        return None
    return folder


def _checksum(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def load(key: str, primal: types.FunctionType) -> Entry | None:
    """The entry stored under ``key``, or None (a bad entry is reported and removed)."""
    folder = directory()
    if folder is None:
        return None
    path = folder / f"{key}.json"
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        stored = json.loads(raw.decode("utf-8"))
        payload = stored["payload"]
        if stored["checksum"] != _checksum(payload) or payload["key"] != key or payload["format"] != FORMAT:
            raise ValueError("its checksum or key does not match")
        compiled = compile_source(payload["source"], payload["name"], payload["freevars"], payload["label"])
        bindings = rebind(payload["recipes"], primal)
    except Exception as exc:  # corrupt, truncated, foreign or not compiling: never used
        warnings.warn(f"srcgrad: ignoring the damaged cache entry {path}: {exc}", stacklevel=3)
        try:
            path.unlink()
        except OSError:
            pass
        return None
    try:
        os.utime(path)  # recently used: evicted last
    except OSError:
        pass
    return Entry(compiled, bindings, [])


def store(key: str, entry: Entry, recipes_: dict[str, list]) -> None:
    """Write an entry atomically: a temporary file in the same directory, then a rename."""
    folder = directory()
    if folder is None:
        return
    payload = {
        "format": FORMAT,
        "key": key,
        "name": entry.compiled.code.co_name,
        "label": entry.compiled.label,
        "source": entry.compiled.source,
        "freevars": entry.compiled.freevars,
        "recipes": recipes_,
    }
    text = json.dumps({"checksum": _checksum(payload), "payload": payload})
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.replace(temporary, folder / f"{key}.json")
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        warnings.warn(f"srcgrad: could not write to the cache directory {folder}: {exc}", stacklevel=3)
        return
    evict(folder)


def limit() -> int:
    try:
        return int(os.environ.get("SRCGRAD_CACHE_SIZE", DEFAULT_LIMIT))
    except ValueError:
        return DEFAULT_LIMIT


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("[0-9a-f]*.json"))


def evict(folder: Path, max_bytes: int | None = None) -> None:
    """Remove the least recently used entries until the directory fits in the size limit."""
    max_bytes = limit() if max_bytes is None else max_bytes
    files = []
    for path in entries(folder):
        try:
            info = path.stat()
        except OSError:
            continue
        files.append((info.st_mtime, info.st_size, path))
    for stale in folder.glob(".tmp-*"):  # left by a process that died while writing
        try:
            if stale.stat().st_mtime < time.time() - 600:
                stale.unlink()
        except OSError:
            pass
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= max_bytes:
            break
        try:
            path.unlink()
            total -= size
        except OSError:
            pass


def info() -> dict[str, Any]:
    """Where the disk cache is, how many entries it holds and their size in bytes."""
    folder = directory()
    if folder is None:
        return {"location": None, "entries": 0, "bytes": 0}
    files = entries(folder)
    return {"location": str(folder), "entries": len(files), "bytes": sum(p.stat().st_size for p in files)}


def clear_disk() -> int:
    """Remove every entry of the disk cache; returns how many were removed."""
    folder = directory()
    removed = 0
    if folder is not None:
        for path in entries(folder) + list(folder.glob(".tmp-*")):
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
    return removed
