"""The transform cache (issue 6), tested as a user meets it: mostly through fresh Python processes.

Each child process runs a small driver script (written to ``tmp_path``) with its own
``SRCGRAD_CACHE_DIR`` and ``tmp_path`` first on ``PYTHONPATH``. The driver imports the
modules a test wrote, takes ``srcgrad.grad`` of their functions, and reports as JSON: the
gradient, a central finite difference of the function, how many times ``normalize`` ran (a
fresh transform) and the warnings raised. The parent then looks at the cache directory.

A few tests run in this process (the memory cache, module constants, eviction) with
``SRCGRAD_CACHE_DIR`` pointed at ``tmp_path`` by ``monkeypatch``: ``cache.directory()`` reads
the environment on every call.
"""

from __future__ import annotations

import base64
import importlib
import json
import marshal
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import types
import uuid
from pathlib import Path

import numpy as np
import pytest

import srcgrad
import srcgrad.api
from srcgrad import cache

DRIVER = '''\
"""Test driver: grad the functions named in a JSON job and report the results as JSON."""
import importlib
import json
import os
import sys
import time
import warnings

job = json.loads(sys.argv[1])
for step in job["steps"]:  # import the modules before any timing barrier
    importlib.import_module(step["module"])

import numpy as np  # noqa: E402

import srcgrad  # noqa: E402
import srcgrad.api  # noqa: E402
from srcgrad import cache  # noqa: E402

transforms = 0
_normalize = srcgrad.api.normalize


def counting_normalize(*args, **kwargs):
    global transforms
    transforms += 1
    return _normalize(*args, **kwargs)


srcgrad.api.normalize = counting_normalize


def finite_difference(f, x, h=1e-6):
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        out[i] = (f(up) - f(down)) / (2 * h)
    return out


if job.get("ready"):  # start together with the other processes
    open(job["ready"], "w").close()
    deadline = time.time() + 60
    while not os.path.exists(job["go"]) and time.time() < deadline:
        time.sleep(0.002)

results = []
for step in job["steps"]:
    for name, value in step.get("env", {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if step.get("clear"):
        cache.clear()
    f = getattr(importlib.import_module(step["module"]), step["func"])
    x = np.array(step["x"], dtype=float)
    before = transforms
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            g = srcgrad.grad(f)
            value = np.asarray(g(x), dtype=float).tolist()
            source, error = g.source, None
        except Exception as exc:
            value, source, error = None, None, f"{type(exc).__name__}: {exc}"
    results.append(
        {
            "grad": value,
            "fd": finite_difference(f, x).tolist(),
            "error": error,
            "source": source,
            "transforms": transforms - before,
            "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
            "files": sorted(
                name
                for name in os.listdir(os.environ.get("SRCGRAD_CACHE_DIR") or ".")
                if name.endswith(".json") and not name.startswith(".")
            )
            if os.path.isdir(os.environ.get("SRCGRAD_CACHE_DIR") or "/nonexistent")
            else [],
        }
    )
print(json.dumps(results))
'''

X = [0.3, -0.7, 1.1]


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def child_env(tmp_path: Path, cache_dir: Path | None, **extra: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRCGRAD_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # an edited module is read again, never a stale .pyc
    env["OMP_NUM_THREADS"] = "1"
    if cache_dir is not None:
        env["SRCGRAD_CACHE_DIR"] = str(cache_dir)
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def driver(tmp_path: Path) -> Path:
    path = tmp_path / "_srcgrad_driver.py"
    if not path.exists():
        path.write_text(DRIVER)
    return path


def job(steps: list[dict], **options: str) -> str:
    return json.dumps({"steps": steps, **options})


def step(module: str, func: str, x: list[float] = X, **options) -> dict:
    return {"module": module, "func": func, "x": x, **options}


def run(tmp_path: Path, cache_dir: Path | None, steps: list[dict], **env: str | None) -> list[dict]:
    """Run the driver in a fresh process; its results, one per step."""
    done = subprocess.run(
        [sys.executable, str(driver(tmp_path)), job(steps)],
        env=child_env(tmp_path, cache_dir, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def cli(tmp_path: Path, cache_dir: Path | None, *args: str, **env: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "srcgrad", "cache", *args],
        env=child_env(tmp_path, cache_dir, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_correct(result: dict) -> None:
    assert result["error"] is None, result["error"]
    np.testing.assert_allclose(result["grad"], result["fd"], rtol=1e-5, atol=1e-6)


def cache_warnings(result: dict) -> list[str]:
    return [w for w in result["warnings"] if "cache" in w]


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if not p.name.startswith(".")) if folder.is_dir() else []


def leftovers(folder: Path) -> list[Path]:
    return sorted(folder.glob(".tmp-*")) if folder.is_dir() else []


def entry_problem(path: Path) -> str | None:
    """Why ``path`` is not a valid entry for its own key, or None when it is."""
    try:
        stored = json.loads(path.read_bytes())
        payload = stored["payload"]
    except Exception as exc:
        return f"unreadable: {exc!r}"
    if stored["checksum"] != cache._checksum(payload):
        return "bad checksum"
    if payload["key"] != path.stem:
        return f"key {payload['key']} in the file of {path.stem}"
    try:
        compile(payload["source"], "<entry>", "exec")
    except SyntaxError as exc:
        return f"does not compile: {exc}"
    if payload["magic"] != cache.MAGIC:
        return f"marshalled by another Python ({payload['magic']})"
    try:
        code = marshal.loads(base64.b64decode(payload["code"]))
    except Exception as exc:
        return f"its code does not load: {exc!r}"
    if not isinstance(code, types.CodeType) or code.co_name != payload["name"]:
        return f"its code is not the generated function: {code!r}"
    return None


def new_files(before: set[Path], folder: Path) -> list[Path]:
    return [p for p in entries(folder) if p not in before]


# -- in this process: a module written to tmp_path, the cache directory under tmp_path -------


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """This process's disk cache in ``tmp_path/cache``; modules importable from ``tmp_path``."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(folder))
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)
    monkeypatch.delenv("SRCGRAD_CACHE_SIZE", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    names: list[str] = []
    yield folder, names
    for name in names:
        sys.modules.pop(name, None)


def load_module(private_cache, tmp_path: Path, text: str, stem: str = "mod"):
    """Write ``text`` as a module with a name unique in this process and import it."""
    _, names = private_cache
    name = f"{stem}_{uuid.uuid4().hex[:10]}"
    write(tmp_path / f"{name}.py", text)
    importlib.invalidate_caches()
    names.append(name)
    return importlib.import_module(name)


@pytest.fixture
def count_transforms(monkeypatch):
    counts = {"normalize": 0, "load": 0}
    normalize, load = srcgrad.api.normalize, cache.load

    def counting_normalize(*args, **kwargs):
        counts["normalize"] += 1
        return normalize(*args, **kwargs)

    def counting_load(*args, **kwargs):
        counts["load"] += 1
        return load(*args, **kwargs)

    monkeypatch.setattr(srcgrad.api, "normalize", counting_normalize)
    monkeypatch.setattr(cache, "load", counting_load)
    return counts


def fd(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        out[i] = (f(up) - f(down)) / (2 * h)
    return out


def check(g, f, x=X):
    np.testing.assert_allclose(g(np.array(x)), fd(f, x), rtol=1e-5, atol=1e-6)


# -- reuse across processes --------------------------------------------------------------------

SIMPLE = """\
import numpy as np


def helper(x):
    return np.tanh(x) * 1.5


def loss(x):
    return np.sum(helper(x) * np.sin(x) + x ** 2)
"""


def test_a_second_process_reuses_the_first_ones_entry(tmp_path):
    write(tmp_path / "simple.py", SIMPLE)
    folder = tmp_path / "cache"
    [first] = run(tmp_path, folder, [step("simple", "loss")])
    assert_correct(first)
    assert first["transforms"] == 1
    stored = entries(folder)
    assert len(stored) == 1 and entry_problem(stored[0]) is None

    [second] = run(tmp_path, folder, [step("simple", "loss")])
    assert_correct(second)
    assert entries(folder) == stored, "the second process wrote an entry of its own"
    assert second["transforms"] == 0, "the second process transformed again instead of loading"
    assert second["source"] == first["source"]
    assert second["warnings"] == []


HELPER_CALLS = """\
import numpy as np


def spectrum(x):
    return np.sum(np.abs(np.fft.rfft(x)) ** 2) + np.sum(np.cumsum(x) ** 2)
"""


def test_runtime_helpers_are_rebound_by_their_module_in_a_second_process(tmp_path):
    write(tmp_path / "helper_calls.py", HELPER_CALLS)
    folder = tmp_path / "cache"
    [first] = run(tmp_path, folder, [step("helper_calls", "spectrum")])
    assert_correct(first)
    [stored] = entries(folder)
    recipes = json.loads(stored.read_text())["payload"]["recipes"]
    assert recipes["rfft_vjp"] == ["runtime", "srcgrad.runtime.fft", "rfft_vjp"]
    assert recipes["cumsum_vjp"] == ["runtime", "srcgrad.runtime.scans", "cumsum_vjp"]

    [second] = run(tmp_path, folder, [step("helper_calls", "spectrum")])
    assert_correct(second)
    assert second["transforms"] == 0, "the second process transformed again instead of loading"
    assert second["source"] == first["source"] and second["warnings"] == []


def test_every_runtime_helper_has_a_recipe_naming_its_module():
    from srcgrad import runtime

    for name in sorted(runtime.HELPERS):
        helper = getattr(runtime, name)
        if callable(helper):
            recipe = cache._recipe(helper)
            assert recipe == ["runtime", helper.__module__, name], name
            assert cache._cook(recipe) is helper
    with pytest.raises(ValueError, match="not a module of runtime helpers"):
        cache._cook(["runtime", "os", "system"])


def test_directory_and_entries_are_private_and_found_in_the_default_places(tmp_path):
    write(tmp_path / "simple.py", SIMPLE)
    nested = tmp_path / "not" / "yet" / "there"
    xdg, home = tmp_path / "xdg", tmp_path / "home"
    results = run(
        tmp_path,
        None,
        [
            step("simple", "loss", env={"SRCGRAD_CACHE_DIR": str(nested)}),
            step("simple", "loss", clear=True, env={"SRCGRAD_CACHE_DIR": None, "XDG_CACHE_HOME": str(xdg)}),
            step(
                "simple",
                "loss",
                clear=True,
                env={"SRCGRAD_CACHE_DIR": None, "XDG_CACHE_HOME": None, "HOME": str(home)},
            ),
        ],
    )
    for result in results:
        assert_correct(result)
        assert result["warnings"] == []
    for folder in (nested, xdg / "srcgrad", home / ".cache" / "srcgrad"):
        assert folder.is_dir(), folder
        assert folder.stat().st_mode & 0o777 == 0o700, oct(folder.stat().st_mode)
        [entry] = entries(folder)
        assert entry.stat().st_mode & 0o777 == 0o600, oct(entry.stat().st_mode)
        assert entry_problem(entry) is None
        assert leftovers(folder) == []


# -- edits between processes: never the old gradient -------------------------------------------

EDITS = {
    # the helper in the same file changes; the differentiated function's lines do not
    "helper in the same module": (
        "edit_same",
        {
            "edit_same.py": """\
                import numpy as np


                def h(x):
                    return np.sin(x) * 2.0


                def f(x):
                    return np.sum(h(x) * x)
                """
        },
        {
            "edit_same.py": """\
                import numpy as np


                def h(x):
                    return np.exp(x * 0.5) - np.cos(x) * 3.0


                def f(x):
                    return np.sum(h(x) * x)
                """
        },
    ),
    # only the other module's file changes
    "helper in another module": (
        "edit_main",
        {
            "edit_main.py": """\
                import numpy as np

                import edit_helpers


                def f(x):
                    return np.sum(edit_helpers.h(x) + x * x)
                """,
            "edit_helpers.py": """\
                import numpy as np


                def h(x):
                    return np.sin(x) * 2.0
                """,
        },
        {
            "edit_helpers.py": """\
                import numpy as np


                def h(x):
                    return np.tanh(x) ** 2 * 5.0
                """,
        },
    ),
    # only the import changes: the call text `act(x)` stays the same
    "imported numpy function": (
        "edit_import",
        {
            "edit_import.py": """\
                import numpy as np
                from numpy import sin as act


                def f(x):
                    return np.sum(act(x) * x)
                """
        },
        {
            "edit_import.py": """\
                import numpy as np
                from numpy import cos as act


                def f(x):
                    return np.sum(act(x) * x)
                """
        },
    ),
}


def write_files(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_between_processes_gives_a_fresh_correct_gradient(tmp_path, edit):
    module, before, after = EDITS[edit]
    folder = tmp_path / "cache"
    write_files(tmp_path, before)
    [old] = run(tmp_path, folder, [step(module, "f")])
    assert_correct(old)
    [path] = entries(folder)
    old_tree = json.loads(path.read_text())["payload"]["tree"]

    write_files(tmp_path, after)
    [new] = run(tmp_path, folder, [step(module, "f")])
    assert_correct(new)  # the new math, not the old entry's
    assert not np.allclose(new["grad"], old["grad"])
    assert new["transforms"] == 1, "the edited call tree was not transformed again"
    assert new["warnings"] == []
    # f's own source did not change: its entry (named by it) was replaced by one for the new tree
    assert entries(folder) == [path] and entry_problem(path) is None
    assert json.loads(path.read_text())["payload"]["tree"] != old_tree

    [again] = run(tmp_path, folder, [step(module, "f")])
    assert_correct(again)
    assert again["transforms"] == 0, "the replaced entry was not used"
    assert again["grad"] == new["grad"] and again["warnings"] == []


@pytest.mark.parametrize("clear", [True, False], ids=["disk", "memory then disk"])
@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_then_reload_in_one_process_gives_a_fresh_correct_gradient(
    tmp_path, private_cache, count_transforms, edit, clear
):
    """A reloaded edit is never stale: with this process's memory cache emptied, the disk
    entry's tree key differs; without, the memory entry sees the reloaded names first."""
    module, before, after = EDITS[edit]
    _, names = private_cache
    suffix = uuid.uuid4().hex[:8]

    def renamed(files):  # unique module names in this process
        out = {}
        for name, text in files.items():
            for stem in ("edit_helpers", module):
                text = re.sub(rf"\b{stem}\b", f"{stem}_{suffix}", text)
            out[name.replace(".py", f"_{suffix}.py")] = text
        return out

    write_files(tmp_path, renamed(before))
    importlib.invalidate_caches()
    mod = importlib.import_module(f"{module}_{suffix}")
    names.extend(n for n in list(sys.modules) if n.endswith(suffix))
    check(srcgrad.grad(mod.f), mod.f)
    old = srcgrad.grad(mod.f)(np.array(X))

    write_files(tmp_path, renamed(after))
    importlib.invalidate_caches()
    for name in sorted(
        (n for n in sys.modules if n.endswith(suffix)), key=lambda n: n != f"edit_helpers_{suffix}"
    ):
        importlib.reload(sys.modules[name])  # the helper module first
    if clear:
        cache.clear()
    count_transforms["normalize"] = 0
    g = srcgrad.grad(mod.f)
    check(g, mod.f)
    assert not np.allclose(g(np.array(X)), old)
    assert count_transforms["normalize"] == 1


def test_module_values_are_read_live_in_a_new_process(tmp_path):
    """Constants and closure values are not part of the key (only their type): read at call time."""
    write(
        tmp_path / "live.py",
        """\
        import os

        import numpy as np

        SCALE = float(os.environ["LIVE_SCALE"])
        FLAG = os.environ["LIVE_FLAG"] == "1"
        N = int(os.environ["LIVE_N"])


        def f(x):
            y = np.sin(x) * SCALE
            if FLAG:
                y = y * x
            for _ in range(N):
                y = y * x
            return np.sum(y)


        def make(k):
            def g(x):
                return np.sum(np.cos(k * x))

            return g


        closed = make(SCALE)
        """,
    )
    folder = tmp_path / "cache"
    first = run(
        tmp_path,
        folder,
        [step("live", "f"), step("live", "closed")],
        LIVE_SCALE="2",
        LIVE_FLAG="1",
        LIVE_N="1",
    )
    second = run(
        tmp_path,
        folder,
        [step("live", "f"), step("live", "closed")],
        LIVE_SCALE="-3",
        LIVE_FLAG="0",
        LIVE_N="3",
    )
    for result in first + second:
        assert_correct(result)
    assert not np.allclose(first[0]["grad"], second[0]["grad"])
    assert not np.allclose(first[1]["grad"], second[1]["grad"])


# -- values and names changed within one process -------------------------------------------


CONSTANTS = """\
import numpy as np

SCALE = 2.0
FLAG = True
N = 1
ALIAS = np.sin


def h(x):
    return np.tanh(x) * SCALE


def f(x):
    y = h(x) * SCALE
    if FLAG:
        y = y * x
    for _ in range(N):
        y = y * x
    return np.sum(y)


def uses_alias(x):
    return np.sum(ALIAS(x) * x)


def other(x):
    return x * x * x


def uses_helper(x):
    return np.sum(h(x) + x)


def middle(x):
    return h(x) * 2.0


def outer(x):
    return np.sum(middle(x) * x)
"""


def test_a_module_constant_reassigned_between_calls_is_seen(tmp_path, private_cache):
    mod = load_module(private_cache, tmp_path, CONSTANTS)
    g = srcgrad.grad(mod.f)
    check(g, mod.f)
    for name, value in (("SCALE", -0.5), ("FLAG", False), ("N", 3), ("SCALE", 4.0), ("FLAG", True)):
        setattr(mod, name, value)
        check(g, mod.f)  # the gradient made before the change
        check(srcgrad.grad(mod.f), mod.f)  # and a new one (a memory hit)


def test_a_helper_rebound_in_the_module_gives_a_fresh_gradient(tmp_path, private_cache):
    mod = load_module(private_cache, tmp_path, CONSTANTS)
    for f in (mod.uses_helper, mod.outer):  # h called directly, and from a helper
        check(srcgrad.grad(f), f)
    mod.h = mod.other  # another user function
    for f in (mod.uses_helper, mod.outer):
        check(srcgrad.grad(f), f)
    mod.h = np.cos  # a numpy function
    for f in (mod.uses_helper, mod.outer):
        check(srcgrad.grad(f), f)


def test_a_module_name_rebound_to_another_numpy_function_gives_a_fresh_gradient(tmp_path, private_cache):
    """``ALIAS = np.sin`` then ``ALIAS = np.cos``: the rule is baked into generated code, so a
    new ``grad`` must transform again (a new process would: the disk key describes ALIAS)."""
    mod = load_module(private_cache, tmp_path, CONSTANTS)
    check(srcgrad.grad(mod.uses_alias), mod.uses_alias)
    mod.ALIAS = np.cos
    check(srcgrad.grad(mod.uses_alias), mod.uses_alias)


SHADOWS = """\
import numpy as np

import {helpers}


def uses_builtin(x):
    return np.sum(abs(x) * x)


def uses_attribute(x):
    return np.sum({helpers}.h(x) * x)


def make():
    act = np.sin

    def g(x):
        return np.sum(act(x) * x)

    def set_act(new):
        nonlocal act
        act = new

    return g, set_act
"""

HELPERS = """\
import numpy as np


def h(x):
    return np.tanh(x) * 2.0


def other(x):
    return np.sin(x) * 3.0
"""


def test_a_global_now_hiding_a_builtin_gives_a_fresh_gradient(tmp_path, private_cache):
    helpers = load_module(private_cache, tmp_path, HELPERS, "helpers")
    mod = load_module(private_cache, tmp_path, SHADOWS.format(helpers=helpers.__name__), "shadows")
    check(srcgrad.grad(mod.uses_builtin), mod.uses_builtin)
    mod.abs = np.sin  # a module global now hides the builtin the function calls
    check(srcgrad.grad(mod.uses_builtin), mod.uses_builtin)
    del mod.abs
    check(srcgrad.grad(mod.uses_builtin), mod.uses_builtin)


def test_a_rebound_attribute_or_closure_cell_gives_a_fresh_gradient(tmp_path, private_cache):
    """The names checked by resolving them again (not one dictionary lookup): ``helpers.h``
    and a closure cell that ``nonlocal`` rebinds."""
    helpers = load_module(private_cache, tmp_path, HELPERS, "helpers")
    mod = load_module(private_cache, tmp_path, SHADOWS.format(helpers=helpers.__name__), "shadows")
    check(srcgrad.grad(mod.uses_attribute), mod.uses_attribute)
    helpers.h = helpers.other
    check(srcgrad.grad(mod.uses_attribute), mod.uses_attribute)
    g, set_act = mod.make()
    check(srcgrad.grad(g), g)
    set_act(np.cos)
    check(srcgrad.grad(g), g)


def test_the_memory_hit_checks_each_called_name_once(tmp_path, private_cache, count_transforms):
    """A hit transforms nothing, and its check covers every helper of the call tree."""
    mod = load_module(private_cache, tmp_path, CONSTANTS)
    g = srcgrad.grad(mod.outer)
    assert srcgrad.grad(mod.outer) is g  # the function built for the first call, reused
    [entry] = [e for e in cache._memory.values() if e.function is g]
    checked = {name for _, names, _ in entry.is_current.groups for name in names}
    assert {"np", "middle", "h"} <= checked
    assert count_transforms["normalize"] == 1
    mod.h = mod.other
    assert srcgrad.grad(mod.outer) is not g
    assert count_transforms["normalize"] == 2


BOUND = """\
import numpy as np


class Model:
    def __init__(self, scale):
        self.scale = scale

    def predict(self, x):
        return np.tanh(x) * self.scale

    def other(self, x):
        return np.sin(x) * self.scale


model = Model(2.0)
predict = model.predict


def f(x):
    return np.sum(predict(x) ** 2)
"""


def test_a_global_bound_method_hits_memory_until_rebound(tmp_path, private_cache, count_transforms):
    """``predict = model.predict``: the global is a bound method, the entry remembers its
    function; a hit must not take that for a change, and a rebinding must be seen."""
    mod = load_module(private_cache, tmp_path, BOUND, "bound")
    g = srcgrad.grad(mod.f)
    check(g, mod.f)
    assert srcgrad.grad(mod.f) is g
    assert count_transforms["normalize"] == 1
    mod.predict = mod.model.other
    check(srcgrad.grad(mod.f), mod.f)
    assert count_transforms["normalize"] == 2


SOURCES = """\
import numpy as np


def tail(x):
    y = np.sin(x)
    if x.ndim > 5:
        pass
    else:
        pass
    return y


@staticmethod
def decorated(x):
    def inner(z):
        return np.cos(z)
    return inner(x)


def multiline(x):
    return np.sum(
        x * 2.0,
        axis=0
    )
"""


def test_the_source_text_keyed_covers_the_whole_definition(tmp_path, private_cache):
    """``source_text`` reads no AST: trailing lines without instructions (``pass``), a nested
    function's body and a closing bracket are still part of the text the key covers."""
    import inspect

    from srcgrad.parse import source_text

    mod = load_module(private_cache, tmp_path, SOURCES, "sources")
    for fn in (mod.tail, mod.decorated.__func__, mod.multiline):
        assert source_text(fn) == inspect.getsource(fn)


def test_marshalled_code_of_another_python_is_ignored(tmp_path, private_cache, count_transforms):
    """An entry's code object is used only by the bytecode version that wrote it; any other
    compiles the entry's source instead (never running the code object)."""
    folder, _ = private_cache
    mod = load_module(private_cache, tmp_path, SIMPLE)
    srcgrad.grad(mod.loss)
    [path] = entries(folder)
    stored = json.loads(path.read_text())
    payload = stored["payload"]
    marker = tmp_path / "marker"
    module_code = compile(marker_source(payload["name"], marker), "<marker>", "exec")
    [code] = [c for c in module_code.co_consts if isinstance(c, types.CodeType)]
    payload["magic"] = "00000000"
    payload["code"] = base64.b64encode(marshal.dumps(code)).decode()
    stored["checksum"] = cache._checksum(payload)
    path.write_text(json.dumps(stored))
    cache.clear()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = srcgrad.grad(mod.loss)
        check(g, mod.loss)
    assert not marker.exists(), "the code object of another Python ran"
    assert count_transforms["normalize"] == 1, "the entry was not used"


def test_a_transform_of_a_file_since_edited_is_not_stored_under_its_new_text(tmp_path, private_cache):
    """This process parsed the module before its file changed (it was not reloaded): what it
    transforms now is the old text, which must not be stored as the new one's entry."""
    folder, _ = private_cache
    mod = load_module(private_cache, tmp_path, SIMPLE, "edited")
    check(srcgrad.grad(mod.loss), mod.loss)
    path = Path(mod.__file__)
    path.write_text(SIMPLE.replace("1.5", "2.5"))
    later = time.time() + 5
    os.utime(path, (later, later))
    cache.clear()
    cache.clear_disk()
    check(srcgrad.grad(mod.loss), mod.loss)  # the loaded (old) code's gradient
    assert entries(folder) == []
    [new] = run(tmp_path, folder, [step(mod.__name__, "loss")])  # imports the edited file
    assert_correct(new)
    assert new["transforms"] == 1


def test_an_entry_found_on_disk_is_checked_in_memory_too(tmp_path, private_cache, count_transforms):
    """Loaded from disk (no AST in this process), the entry still sees a rebound helper."""
    mod = load_module(private_cache, tmp_path, CONSTANTS)
    check(srcgrad.grad(mod.outer), mod.outer)
    cache.clear()
    check(srcgrad.grad(mod.outer), mod.outer)
    assert count_transforms["normalize"] == 1, "not loaded from disk"
    mod.h = mod.other
    check(srcgrad.grad(mod.outer), mod.outer)
    assert count_transforms["normalize"] == 2


# -- damaged entries ---------------------------------------------------------------------------

DAMAGED = """\
import numpy as np


def f_flip_ascii(x):
    return np.sum(np.sin(x) * 1.0 + x ** 2)


def f_flip_high_bit(x):
    return np.sum(np.cos(x) * 2.0 + x ** 2)


def f_truncated(x):
    return np.sum(np.tanh(x) * 3.0 + x ** 2)


def f_empty(x):
    return np.sum(np.exp(x) * 4.0 + x ** 2)


def f_not_an_object(x):
    return np.sum(np.sin(x) * 5.0 + x ** 3)


def f_foreign(x):
    return np.sum(np.cos(x) * 6.0 + x ** 3)


def f_forged_key(x):
    return np.sum(np.tanh(x) * 7.0 + x ** 3)


def f_not_compiling(x):
    return np.sum(np.exp(x) * 8.0 + x ** 3)


def f_bad_code(x):
    return np.sum(np.sin(x) * 9.0 + x ** 4)


def f_not_code(x):
    return np.sum(np.cos(x) * 10.0 + x ** 4)


def other(x):
    return np.sum(np.sin(x) * np.cos(x))
"""

KINDS = [
    "flip_ascii",
    "flip_high_bit",
    "truncated",
    "empty",
    "not_an_object",
    "foreign",
    "forged_key",
    "not_compiling",
    "bad_code",
    "not_code",
]


def marker_source(name: str, marker: Path) -> str:
    """Generated-looking code that leaves ``marker`` behind if it is ever run."""
    return f"def {name}(x):\n    open({str(marker)!r}, 'w').close()\n    return x * 0.0\n"


def damage(kind: str, path: Path, other: Path, marker: Path) -> None:
    data = path.read_bytes()
    if kind == "flip_ascii":  # still ASCII, so still text; the JSON or the checksum breaks
        mid = data.index(b'"source"') + 20
        path.write_bytes(data[:mid] + bytes(b ^ 0x01 for b in data[mid : mid + 8]) + data[mid + 8 :])
    elif kind == "flip_high_bit":  # not UTF-8 any more
        mid = len(data) // 2
        path.write_bytes(data[:mid] + bytes(b ^ 0x80 for b in data[mid : mid + 4]) + data[mid + 4 :])
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "not_an_object":
        path.write_text("[1, 2, 3]")
    elif kind == "foreign":  # another function's valid entry under this key
        path.write_bytes(other.read_bytes())
    else:
        stored = json.loads(data)
        payload = stored["payload"]
        if kind == "forged_key":  # checksum-valid, compiling, but its key field is another one
            payload["key"] = "0" * 64
            payload["source"] = marker_source(payload["name"], marker)
        elif kind == "not_compiling":  # its own key, a valid checksum, no code this Python reads
            payload["source"] = marker_source(payload["name"], marker) + "    return (\n"
            payload["magic"] = "00000000"  # so the source is compiled; only compiling fails
        elif kind == "bad_code":  # the marshalled code object does not load
            payload["code"] = base64.b64encode(b"\xe3" + os.urandom(40)).decode()
        else:  # not_code: it loads, as something that is not a code object
            payload["code"] = base64.b64encode(marshal.dumps(("not", "code", 42))).decode()
        stored["checksum"] = cache._checksum(payload)
        path.write_text(json.dumps(stored))


def check_repaired(kind: str, result: dict, folder: Path, path: Path, marker: Path) -> None:
    assert_correct(result)
    assert cache_warnings(result), f"no warning about the damaged entry: {result['warnings']}"
    assert not marker.exists(), "code from a rejected entry ran"
    assert path.exists(), "the damaged entry was not replaced"
    assert entry_problem(path) is None, entry_problem(path)
    assert leftovers(folder) == []


@pytest.fixture(scope="module")
def damaged_in_a_new_process(tmp_path_factory):
    """Process 1 stores every function's entry; each is damaged; process 2 grads them all again."""
    tmp_path = tmp_path_factory.mktemp("damaged")
    write(tmp_path / "damaged.py", DAMAGED)
    folder = tmp_path / "cache"
    names = [f"f_{kind}" for kind in KINDS]
    own: dict[str, Path] = {}
    seen: set[str] = set()
    for name, result in zip(
        ["other", *names], run(tmp_path, folder, [step("damaged", n) for n in ["other", *names]])
    ):
        assert_correct(result)
        [file] = set(result["files"]) - seen  # the entry this step wrote
        own[name] = folder / file
        seen.add(file)
    markers = {}
    for kind in KINDS:
        markers[kind] = tmp_path / f"marker-{kind}"
        damage(kind, own[f"f_{kind}"], own["other"], markers[kind])
    results = run(tmp_path, folder, [step("damaged", name) for name in names])
    return {kind: (result, folder, own[f"f_{kind}"], markers[kind]) for kind, result in zip(KINDS, results)}


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_entry_in_a_new_process_is_reported_ignored_and_replaced(damaged_in_a_new_process, kind):
    check_repaired(kind, *damaged_in_a_new_process[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_entry_in_the_same_process_is_reported_ignored_and_replaced(tmp_path, private_cache, kind):
    """The same damage, read back after this process's memory cache is emptied."""
    folder, _ = private_cache
    mod = load_module(private_cache, tmp_path, DAMAGED, "damaged")
    f = getattr(mod, f"f_{kind}")
    srcgrad.grad(mod.other)
    [other] = entries(folder)
    srcgrad.grad(f)
    [path] = new_files({other}, folder)
    marker = tmp_path / "marker"
    damage(kind, path, other, marker)
    cache.clear()
    with pytest.warns(UserWarning, match="cache"):
        g = srcgrad.grad(f)
    check(g, f)
    assert not marker.exists(), "code from a rejected entry ran"
    assert entry_problem(path) is None, entry_problem(path)
    assert leftovers(folder) == []


# -- directories srcgrad must not use ----------------------------------------------------------

UNSAFE = """\
import numpy as np


def f1(x):
    return np.sum(np.sin(x) * x)


def f2(x):
    return np.sum(np.cos(x) * x)


def f3(x):
    return np.sum(np.tanh(x) * x)


def f4(x):
    return np.sum(np.exp(x) * x)
"""


def test_a_cache_directory_others_may_write_to_is_not_used(tmp_path):
    write(tmp_path / "unsafe.py", UNSAFE)
    world, group, a_file = tmp_path / "world", tmp_path / "group", tmp_path / "a-file"
    world.mkdir()
    world.chmod(0o777)
    group.mkdir()
    group.chmod(0o770)
    a_file.write_text("not a directory")
    results = run(
        tmp_path,
        None,
        [
            step("unsafe", "f1", env={"SRCGRAD_CACHE_DIR": str(world)}),
            step("unsafe", "f2", env={"SRCGRAD_CACHE_DIR": str(group)}),
            step("unsafe", "f3", env={"SRCGRAD_CACHE_DIR": str(a_file)}),
        ],
    )
    for result, folder in zip(results, (world, group, a_file)):
        assert_correct(result)
        assert any(str(folder) in w for w in cache_warnings(result)), result["warnings"]
    assert entries(world) == [] and entries(group) == []
    assert world.stat().st_mode & 0o777 == 0o777  # left alone
    info = cli(tmp_path, world, "info")
    assert info.returncode == 0
    assert "off" in info.stdout and str(world) in info.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_cache_directory_of_another_user_is_not_used(tmp_path):
    write(tmp_path / "unsafe.py", UNSAFE)
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    [result] = run(tmp_path, theirs, [step("unsafe", "f4")])
    assert_correct(result)
    assert any(str(theirs) in w for w in cache_warnings(result)), result["warnings"]
    assert entries(theirs) == []


# -- many processes at once --------------------------------------------------------------------


def test_eight_processes_at_once_share_one_valid_entry(tmp_path):
    write(tmp_path / "simple.py", SIMPLE)
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    go = tmp_path / "go"
    children = []
    for i in range(8):
        ready = tmp_path / f"ready-{i}"
        children.append(
            (
                ready,
                subprocess.Popen(
                    [
                        sys.executable,
                        str(driver(tmp_path)),
                        job([step("simple", "loss")], ready=str(ready), go=str(go)),
                    ],
                    env=child_env(tmp_path, folder),
                    cwd=tmp_path,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    deadline = time.time() + 60
    while not all(ready.exists() for ready, _ in children) and time.time() < deadline:
        time.sleep(0.01)
    go.touch()
    for _, child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        [result] = json.loads(out.splitlines()[-1])
        assert_correct(result)
        assert result["warnings"] == []
    stored = entries(folder)
    assert len(stored) == 1, f"{len(stored)} entries for one function"
    assert entry_problem(stored[0]) is None
    assert leftovers(folder) == []


def test_threads_at_once_get_correct_gradients(tmp_path, private_cache):
    folder, _ = private_cache
    mod = load_module(private_cache, tmp_path, SIMPLE)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            results.append(srcgrad.grad(mod.loss)(np.array(X)))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for value in results:
        np.testing.assert_allclose(value, fd(mod.loss, X), rtol=1e-5, atol=1e-6)
    assert len(entries(folder)) == 1 and leftovers(folder) == []


# -- off, bounded, inspected ---------------------------------------------------------------------


def test_srcgrad_cache_0_writes_nothing_and_info_says_off(tmp_path):
    write(tmp_path / "simple.py", SIMPLE)
    folder = tmp_path / "cache"
    first, second, third = run(
        tmp_path,
        folder,
        [step("simple", "loss"), step("simple", "loss"), step("simple", "loss", clear=True)],
        SRCGRAD_CACHE="0",
    )
    for result in (first, second, third):
        assert_correct(result)
        assert result["warnings"] == []
    assert [r["transforms"] for r in (first, second, third)] == [1, 0, 1]  # memory still works
    assert not folder.exists() or list(folder.iterdir()) == []
    info = cli(tmp_path, folder, "info", SRCGRAD_CACHE="0")
    assert info.returncode == 0
    assert "off" in info.stdout


MANY = "import numpy as np\n" + "".join(
    f"\n\ndef f{i}(x):\n    y = np.sin(x) * {i + 1}.0 + np.cos(x * {i + 2}.0)\n    return np.sum(y * y)\n"
    for i in range(6)
)


def test_eviction_keeps_the_size_limit_and_the_most_recently_used(tmp_path, private_cache, monkeypatch):
    folder, _ = private_cache
    mod = load_module(private_cache, tmp_path, MANY, "many")
    fs = [getattr(mod, f"f{i}") for i in range(6)]

    def file_of(f, before):
        srcgrad.grad(f)
        return next(iter(new_files(before, folder)), None)

    first = file_of(fs[0], set())
    size = first.stat().st_size
    limit = int(size * 2.5)  # room for two entries
    monkeypatch.setenv("SRCGRAD_CACHE_SIZE", str(limit))
    time.sleep(0.02)
    second = file_of(fs[1], {first})
    assert set(entries(folder)) == {first, second}

    time.sleep(0.02)
    cache.clear()
    check(srcgrad.grad(fs[0]), fs[0])  # read from disk: now the most recently used
    stale_tmp, fresh_tmp = folder / ".tmp-crashed.json", folder / ".tmp-writing.json"
    stale_tmp.write_text("{")
    os.utime(stale_tmp, (time.time() - 3600, time.time() - 3600))
    fresh_tmp.write_text("{")
    time.sleep(0.02)
    third = file_of(fs[2], set(entries(folder)))
    assert third is not None
    assert set(entries(folder)) == {first, third}, "the least recently used entry should have gone"
    assert not stale_tmp.exists(), "a temporary file left by a crash was kept"
    assert fresh_tmp.exists(), "a temporary file another process may be writing was removed"
    fresh_tmp.unlink()

    for f in fs[3:]:
        time.sleep(0.02)
        newest = file_of(f, set(entries(folder)))
        assert newest is not None and newest.exists()
        assert sum(p.stat().st_size for p in entries(folder)) <= limit
    for f in fs:
        cache.clear()
        check(srcgrad.grad(f), f)


def test_a_large_cache_is_scanned_once_per_sixteenth_of_the_limit(tmp_path, private_cache, monkeypatch):
    """Eviction lists and stats every entry: once per write, N writes into a cache of thousands
    of entries cost seconds each. A process evicts at its first write, then after writing each
    1/16 of the limit, and the directory stays within the limit plus that."""
    folder, _ = private_cache
    mod = load_module(private_cache, tmp_path, MANY, "many")
    fs = [getattr(mod, f"f{i}") for i in range(6)]
    scans = []
    evict = cache.evict
    monkeypatch.setattr(cache, "evict", lambda folder: scans.append(folder) or evict(folder))
    srcgrad.grad(fs[0])
    size = entries(folder)[0].stat().st_size
    monkeypatch.setenv("SRCGRAD_CACHE_SIZE", str(size * 40))  # a sixteenth: 2.5 entries
    for f in fs[1:]:
        srcgrad.grad(f)
    assert len(entries(folder)) == 6
    assert len(scans) == 2, "expected scans at the first write and the fourth (2.5 entries' worth on)"
    monkeypatch.setenv("SRCGRAD_CACHE_SIZE", str(size * 4))
    for f in fs:
        cache.clear()
        monkeypatch.setattr(cache, "_unscanned", {})  # a new process: its first write scans
        srcgrad.value_and_grad(f)  # a new entry
        sizes = [p.stat().st_size for p in entries(folder)]
        assert sum(sizes) <= size * 4 + size * 4 // 16 + max(sizes)


def test_cli_cache_info_and_clear(tmp_path, private_cache):
    folder, _ = private_cache
    mod = load_module(private_cache, tmp_path, MANY, "many")
    for i in range(3):
        srcgrad.grad(getattr(mod, f"f{i}"))
    (folder / "notes.txt").write_text("not an entry")
    stored = entries(folder)
    assert len(stored) == 3

    info = cli(tmp_path, folder, "info")
    assert info.returncode == 0, info.stderr
    assert str(folder) in info.stdout
    assert re.search(r"entries:\s*3\b", info.stdout), info.stdout
    assert re.search(rf"size:\s*{sum(p.stat().st_size for p in stored)} bytes", info.stdout), info.stdout

    cleared = cli(tmp_path, folder, "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert "removed 3 entries" in cleared.stdout
    assert entries(folder) == []
    assert (folder / "notes.txt").exists(), "clear removed a file that is not an entry"

    (folder / ".tmp-crashed.json").write_text("{")
    cleared = cli(tmp_path, folder, "clear")
    assert cleared.returncode == 0 and leftovers(folder) == []
    info = cli(tmp_path, folder, "info")
    assert re.search(r"entries:\s*0\b", info.stdout) and re.search(r"size:\s*0 bytes", info.stdout)


# -- the memory cache --------------------------------------------------------------------------


def test_grad_twice_in_one_process_transforms_once(tmp_path, private_cache, count_transforms):
    mod = load_module(private_cache, tmp_path, SIMPLE)
    g1 = srcgrad.grad(mod.loss)
    assert count_transforms == {"normalize": 1, "load": 1}
    g2 = srcgrad.grad(mod.loss)
    assert count_transforms == {"normalize": 1, "load": 1}, "the second grad did not hit memory"
    assert g1.source == g2.source
    check(g1, mod.loss)
    check(g2, mod.loss)


TWO = """\
import numpy as np


def f(x, y):
    return np.sum(np.sin(x) * y ** 2)
"""


def test_operators_and_wrt_are_part_of_the_key(tmp_path, private_cache, count_transforms):
    folder, _ = private_cache
    mod = load_module(private_cache, tmp_path, TWO)
    x, y = np.array(X), np.array([1.5, -0.5, 2.0])
    want_x, want_y = np.cos(x) * y**2, 2 * np.sin(x) * y
    variants = {
        "wrt 0": (lambda: srcgrad.grad(mod.f), lambda g: g(x, y), want_x),
        "wrt 1": (lambda: srcgrad.grad(mod.f, wrt=1), lambda g: g(x, y), want_y),
        "wrt y": (lambda: srcgrad.grad(mod.f, wrt="y"), lambda g: g(x, y), want_y),
        "wrt (x, y)": (lambda: srcgrad.grad(mod.f, wrt=("x", "y")), lambda g: g(x, y), (want_x, want_y)),
        "wrt (x,)": (lambda: srcgrad.grad(mod.f, wrt=("x",)), lambda g: g(x, y), (want_x,)),
        "value_and_grad": (
            lambda: srcgrad.value_and_grad(mod.f),
            lambda g: g(x, y),
            (mod.f(x, y), want_x),
        ),
        "elementwise_grad": (lambda: srcgrad.elementwise_grad(mod.f), lambda g: g(x, y), want_x),
    }

    def same(got, want):
        assert type(got) is type(want) or not isinstance(want, tuple), (got, want)
        if isinstance(want, tuple):
            assert len(got) == len(want)
            for a, b in zip(got, want):
                np.testing.assert_allclose(a, b, rtol=1e-12)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12)

    for _, (make, call, want) in variants.items():
        same(call(make()), want)
    transforms = count_transforms["normalize"]
    assert len(entries(folder)) == transforms  # "wrt 1" and "wrt y" may share one
    cache.clear()  # now from disk
    for _, (make, call, want) in variants.items():
        same(call(make()), want)
    assert count_transforms["normalize"] == transforms, "an entry on disk was not found again"
