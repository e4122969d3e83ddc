"""Stage 8: transform once per function and options, in memory and on disk.

In memory, an entry is found by the identity of the function's code, globals and closure and
the options; it remembers what every name its call tree calls denoted when it was made, and
if one now denotes another object (a helper or an imported function rebound), the entry is
stale and built again. That check is one identity comparison per name.

On disk (``$SRCGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/srcgrad`` or ``~/.cache/srcgrad``;
``SRCGRAD_CACHE=0`` turns it off), an entry is a file named by a key of srcgrad's version and
files, the rule set, Python's and numpy's versions, the options and the function's own
source. Inside, it carries the key of its whole call tree: the source of every user function
the function calls (directly or through others) with what each of their free names and
called names denotes (module constants by type, functions by name, numpy functions by rule).
A new process computes that key again before using the entry, without parsing: the names each
function reads and calls are stored in the entry under the exact source text they were
parsed from. An entry whose tree key differs is stale (a helper was edited): it is
transformed again and replaced. The generated code is stored as source and as a marshalled
code object (used only by the same Python bytecode version).

An entry carries its key and a checksum; one that fails a check is reported with
``warnings.warn``, removed and rebuilt, never executed. Entries are written to a temporary
file and renamed, so a crash or another process never leaves half an entry; the directory is
private (0700, files 0600).
"""

from __future__ import annotations

import base64
import builtins
import contextvars
import functools
import hashlib
import importlib.util
import json
import marshal
import os
import sys
import tempfile
import threading
import time
import types
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from operator import is_
from pathlib import Path
from typing import Any

import numpy as np

from . import runtime
from .compile import Compiled, compile_source
from .ir import Bindings, Namer
from .parse import parse_function, source_text
from .resolve import UNRESOLVED, Facts, Scope, facts_of, light_calls, light_tree, unbound
from .rules import BUILTIN, RULES, lookup

FORMAT = 3  # 3: a helper's recipe names its module in the srcgrad.runtime package
MAGIC = importlib.util.MAGIC_NUMBER.hex()  # marshalled code is read by this bytecode version only
DEFAULT_LIMIT = 64 * 2**20  # bytes on disk before the least recently used entries go
SCANS_PER_LIMIT = 16  # a process looks at the whole directory again each 1/16 of the limit it writes


class Checks:
    """Whether every called name of a call tree still denotes the object it did.

    ``deps`` are ``(resolver, node, object)`` from ``resolve.resolved_calls`` or ``(scope,
    dotted name, object)`` from ``resolve.light_calls``. A plain global name (the common case:
    ``np``, a helper) is checked by identity in its globals dict, all of one dict's names in one
    pass of C loops; a name found in builtins also checks that no global now hides it. Closure
    cells and attribute chains (``self.predict``, ``helpers.h``) are resolved again.
    """

    __slots__ = ("groups", "slow")

    def __init__(self, deps: list[tuple[Any, Any, Any]]) -> None:
        groups: dict[int, tuple[dict, list, list]] = {}
        slow = []

        def add(namespace: dict, name: str, obj: Any) -> None:
            _, names, objects = groups.setdefault(id(namespace), (namespace, [], []))
            names.append(name)
            objects.append(obj)

        for scope, node, obj in deps:
            name = node if isinstance(node, str) else getattr(node, "id", None)
            if name in scope.constants:
                continue  # a bound `self`: fixed for the entry's key
            if (
                name is not None
                and "." not in name
                and name not in scope.locals
                and name not in scope.closure
            ):
                namespace = scope.globals
                if name in namespace:
                    if namespace[name] is obj:
                        add(namespace, name, obj)
                        continue
                elif getattr(builtins, name, UNRESOLVED) is obj:
                    add(namespace, name, None)  # still not shadowed by a global
                    add(builtins.__dict__, name, obj)
                    continue
            slow.append((scope.lookup if isinstance(node, str) else scope.resolve, node, obj))
        self.groups = tuple(
            (namespace, tuple(names), tuple(objs)) for namespace, names, objs in groups.values()
        )
        self.slow = tuple(slow)

    def __call__(self) -> bool:
        for namespace, names, objects in self.groups:
            if not all(map(is_, map(namespace.get, names), objects)):
                return False
        for resolve, node, obj in self.slow:
            if unbound(resolve(node)) is not obj:
                return False
        return True


@dataclass
class Entry:
    compiled: Compiled
    bindings: Bindings
    deps: list[tuple[Any, Any, Any]]  # read once, when the entry is made: see Checks
    function: Any = None  # the function built from it for one primal, reused while current
    jitted: Any = None  # the same compiled by numba (jit=True)
    anchor: Any = None  # the objects whose ids key it in memory, kept alive so no id is reused

    def __post_init__(self) -> None:
        self.is_current = Checks(self.deps)


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


# -- the keys ----------------------------------------------------------------------------------


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
    root = os.path.dirname(os.path.abspath(__file__))
    found, todo = [], [root]
    while todo:
        with os.scandir(todo.pop()) as listing:
            for item in listing:
                if item.is_dir():
                    if item.name != "__pycache__":
                        todo.append(item.path)
                elif item.name.endswith(".py"):
                    info = item.stat()
                    found.append(f"{item.path[len(root) :]}|{info.st_size}|{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _rules_fingerprint() -> str:
    """The rules registered by user code (the built-in ones are in srcgrad's own files)."""
    custom = (r for r in RULES.values() if id(r.fn) not in BUILTIN)
    parts = sorted(f"{r.spelling}|{r.params}|{sorted(r.source.items())}|{r.nondiff}" for r in custom)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class _Hash:
    def __init__(self, *parts: object) -> None:
        self.h = hashlib.sha256()
        self.feed(*parts)

    def feed(self, *parts: object) -> None:
        for part in parts:
            self.h.update(repr(part).encode())
            self.h.update(b"\0")

    def hex(self) -> str:
        return self.h.hexdigest()


def entry_key(fn: types.FunctionType, options: tuple) -> str | None:
    """The name of ``fn``'s entry on disk for ``options``, or None when ``fn`` has no source file."""
    from . import __version__

    text = source_text(fn)
    if text is None:
        return None
    try:
        fingerprint = _srcgrad_fingerprint()
    except OSError:  # srcgrad's own files cannot be listed: no key can tell its versions apart
        return None
    code = fn.__code__
    return _Hash(
        FORMAT,
        __version__,
        fingerprint,
        sys.version,
        MAGIC,
        np.__version__,
        _rules_fingerprint(),
        options,
        code.co_filename,
        code.co_firstlineno,
        text,
    ).hex()


def _source_id(fn: types.FunctionType, text: str) -> str:
    """Under which name an entry keeps the ``Facts`` parsed from ``fn``'s source ``text``."""
    code = fn.__code__
    return _Hash(code.co_filename, code.co_firstlineno, text).hex()


def tree_key(key: str, tree: list[Scope], texts: dict[Any, str]) -> str:
    """The key of a call tree: every function's source and what each of its names denotes."""
    h = _Hash(key)
    for scope in tree:
        fn = scope.fn
        h.feed(texts[fn], fn.__defaults__, fn.__kwdefaults__, sorted(scope.constants))
        for name in scope.facts.names:
            h.feed(name, _describe(scope.name(name)))
        for text in scope.facts.calls:
            h.feed(text, _describe(scope.lookup(text)))
    return h.hex()


class _Unknown(Exception):
    """A function of the call tree whose source text the entry has no facts for: a stale entry."""


def describe_tree(
    key: str, fn: types.FunctionType, bound_self: Any
) -> tuple[str, dict[str, list | None]] | None:
    """For a new entry: the key of ``fn``'s call tree and the facts of each function in it
    (parsed here), or None when some function in it has no source text to key it by."""
    texts: dict[Any, str] = {}
    facts: dict[str, list | None] = {}
    complete = True

    def facts_for(callee: types.FunctionType) -> Facts | None:
        nonlocal complete
        try:
            parsed = parse_function(callee)
            found = facts_of(parsed)
        except Exception:  # reported with its location when the call is differentiated
            parsed = found = None
        text = source_text(callee)
        if parsed is not None and source_text(callee, parsed.lines) != text:
            complete = False  # parsed before its file changed: this transform is not of `text`
        if text is None:
            complete = complete and found is None
            return found
        texts[callee] = text
        facts[_source_id(callee, text)] = (
            None if found is None else [list(found.locals), list(found.names), list(found.calls)]
        )
        return found

    tree = light_tree(fn, bound_self, facts_for)
    if tree is None or not complete:
        return None
    return tree_key(key, tree, texts), facts


def _stored_tree(key: str, fn: types.FunctionType, bound_self: Any, stored: dict) -> tuple[str, list[Scope]]:
    """The tree key of ``fn``'s call tree now, from the facts an entry stored; raises ``_Unknown``
    when the tree holds a function (or a version of one) the entry does not know."""
    texts: dict[Any, str] = {}

    def facts_for(callee: types.FunctionType) -> Facts | None:
        text = source_text(callee)
        if text is None:
            return None
        source_id = _source_id(callee, text)
        if source_id not in stored:
            raise _Unknown(callee.__qualname__)
        found = stored[source_id]
        if found is None:
            return None
        texts[callee] = text
        return Facts(*(tuple(part) for part in found))

    tree = light_tree(fn, bound_self, facts_for)
    if tree is None:
        raise _Unknown(fn.__qualname__)
    return tree_key(key, tree, texts), tree


# -- recipes: how a new process finds the objects generated code is bound to ----------------


def _recipe(obj: Any) -> list | None:
    if isinstance(obj, types.ModuleType):
        return ["module", obj.__name__]
    name, module = getattr(obj, "__name__", None), getattr(obj, "__module__", None)
    if not isinstance(name, str):
        return None
    if (
        isinstance(module, str)
        and module.startswith(_HELPER_MODULES)
        and getattr(sys.modules.get(module), name, None) is obj
    ):
        return ["runtime", module, name]  # a helper, by the module of srcgrad.runtime that defines it
    if getattr(builtins, name, None) is obj:
        return ["builtin", name]
    return None


_HELPER_MODULES = runtime.__name__ + "."  # the modules of the runtime helpers


def _cook(recipe: list) -> Any:
    kind, *where = recipe
    if kind == "module":
        return sys.modules.get(where[0]) or importlib.import_module(where[0])
    if kind == "runtime":
        module, name = where
        if not module.startswith(_HELPER_MODULES):
            raise ValueError(f"not a module of runtime helpers: {module}")
        return getattr(importlib.import_module(module), name)
    return getattr(builtins, where[0])


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


# Set while transforming a function that has no source text of its own (a lambda made from part
# of a differentiated function's source): the disk cache is not used for it.
DISABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("srcgrad_no_disk_cache", default=False)


def directory() -> Path | None:
    """The cache directory, created private; None when disabled or not safe to use."""
    if os.environ.get("SRCGRAD_CACHE", "1") == "0" or DISABLED.get():
        return None
    path = os.environ.get("SRCGRAD_CACHE_DIR")
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "srcgrad")
    folder = Path(path)
    try:
        try:
            info = os.stat(folder)
        except FileNotFoundError:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.stat(folder)
        if not os.path.isdir(folder):
            raise NotADirectoryError(f"{folder} is not a directory")
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


def _warn_damaged(path: Path, problem: object) -> None:
    warnings.warn(f"srcgrad: ignoring the damaged cache entry {path}: {problem}", stacklevel=4)
    try:
        path.unlink()
    except OSError:
        pass


def load(key: str, primal: types.FunctionType, bound_self: Any = None) -> Entry | None:
    """The entry stored under ``key`` if its call tree is as it was, or None. A damaged entry
    is reported and removed; a stale one (a function of its tree edited) is left to be replaced."""
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
        facts = payload["facts"]
        if not isinstance(facts, dict) or not all(
            found is None
            or (isinstance(found, list) and len(found) == 3 and all(isinstance(p, list) for p in found))
            for found in facts.values()
        ):
            raise ValueError("its facts are malformed")
    except Exception as exc:  # corrupt, truncated or foreign: never used
        _warn_damaged(path, exc)
        return None
    try:
        tree_key_now, tree = _stored_tree(key, primal, bound_self, facts)
    except Exception:  # a function of the tree the entry does not know, or a name that fails to resolve
        return None
    if tree_key_now != payload["tree"]:
        return None  # stale: transformed again and replaced
    try:
        compiled = _compiled(payload)
        bindings = rebind(payload["recipes"], primal)
    except Exception as exc:  # not loading or not compiling: never used
        _warn_damaged(path, exc)
        return None
    try:
        os.utime(path)  # recently used: evicted last
    except OSError:
        pass
    for scope in tree:  # what parse_function records: run-time errors quote the user's lines
        path_ = scope.fn.__code__.co_filename
        runtime.SOURCES[os.path.basename(path_)] = path_
    return Entry(compiled, bindings, light_calls(tree))


def _compiled(payload: dict) -> Compiled:
    """The generated function: its marshalled code when this bytecode version wrote it, else
    its source compiled."""
    name, freevars = payload["name"], payload["freevars"]
    code = None
    if payload.get("magic") == MAGIC and payload.get("code"):
        code = marshal.loads(base64.b64decode(payload["code"], validate=True))
        if (
            not isinstance(code, types.CodeType)
            or code.co_name != name
            or not set(code.co_freevars) <= set(freevars) | {name}  # (it may call itself)
        ):
            raise ValueError("its code object is not the generated function")
    return compile_source(payload["source"], name, freevars, payload["label"], code)


def store(key: str, tree: tuple[str, dict], entry: Entry, recipes_: dict[str, list]) -> None:
    """Write an entry atomically: a temporary file in the same directory, then a rename."""
    folder = directory()
    if folder is None:
        return
    tree_key_, facts = tree
    payload = {
        "format": FORMAT,
        "key": key,
        "tree": tree_key_,
        "facts": facts,
        "name": entry.compiled.code.co_name,
        "label": entry.compiled.label,
        "source": entry.compiled.source,
        "freevars": entry.compiled.freevars,
        "recipes": recipes_,
        "magic": MAGIC,
        "code": base64.b64encode(marshal.dumps(entry.compiled.code)).decode("ascii"),
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
    if _scan_due(folder, len(text)):
        evict(folder)


_unscanned: dict[Path, int] = {}  # bytes this process wrote to a folder since it last evicted there
_unscanned_lock = threading.Lock()


def _scan_due(folder: Path, written: int) -> bool:
    """Whether to evict after writing ``written`` bytes: at a process's first write and then
    after each ``1/SCANS_PER_LIMIT`` of the limit. Eviction lists and stats every entry, so
    evicting at every write made N writes cost N^2 (seconds per write in a cache of
    thousands of entries); now the directory overshoots the limit by at most that fraction
    per writing process."""
    with _unscanned_lock:
        since = _unscanned.get(folder)
        due = since is None or since + written >= limit() // SCANS_PER_LIMIT
        _unscanned[folder] = 0 if due else since + written
    return due


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
    for path in folder.glob("[0-9a-f]*.json"):
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
