"""The user's Python files, imported as fresh modules: what ``srcgrad show``, ``srcgrad explain``
and ``srcgrad generate`` (the listings of ``examples/``) differentiate functions of."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import types


class CLIError(Exception):
    """A problem with the command line's input (file, function); reported without a traceback."""


def load_module(filename: str) -> types.ModuleType:
    """Import a Python file as a fresh module, seeing the imports that ``python filename`` would see."""
    if not os.path.isfile(filename):
        raise CLIError(f"no such file: {filename}")
    path = os.path.abspath(filename)
    directory, base = os.path.split(path)
    # A unique name: never shadows a real module, and two files with one stem do not collide.
    name = f"_srcgrad_cli_{os.path.splitext(base)[0]}_{hashlib.sha1(path.encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CLIError(f"cannot load {filename} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec, so inspect.getsource finds the module
    sys.path.insert(0, directory)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the generated code
            spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise CLIError(f"running {filename} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(directory)
    return module
