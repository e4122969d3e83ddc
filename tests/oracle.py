"""Test-only oracles: central finite differences, and autograd running a test module's own functions."""

import contextlib
from collections.abc import Iterator
from types import ModuleType

import autograd.numpy as anp
import numpy as np


@contextlib.contextmanager
def autograd_numpy(module: ModuleType) -> Iterator[None]:
    """Make ``module``'s ``np`` mean autograd.numpy for the duration of the block."""
    saved = module.np
    module.np = anp
    try:
        yield
    finally:
        module.np = saved


def numeric_grad(f, args, i, step=1e-6):
    """Central differences of scalar ``f`` with respect to argument ``i``."""
    x = np.array(args[i], dtype=float)
    out = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += step
        down[index] -= step
        at = [list(args) for _ in range(2)]
        at[0][i], at[1][i] = up, down
        out[index] = (f(*at[0]) - f(*at[1])) / (2 * step)
    return out if x.shape else float(out)
