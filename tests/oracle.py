"""autograd as a test-only oracle: a test module's own functions, run with autograd.numpy."""

import contextlib
from collections.abc import Iterator
from types import ModuleType

import autograd.numpy as anp


@contextlib.contextmanager
def autograd_numpy(module: ModuleType) -> Iterator[None]:
    """Make ``module``'s ``np`` mean autograd.numpy for the duration of the block."""
    saved = module.np
    module.np = anp
    try:
        yield
    finally:
        module.np = saved
