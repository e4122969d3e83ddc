"""The helpers generated code calls: the parts of rules too long for one expression.

Each works on whatever array type numpy dispatches to (no ``np.asarray`` on user data),
and each returns a new array, never a view of the caller's data. They are grouped by what
they do, one module per kind, lower ones first (a module imports only those above it):

- ``trees``: the structure of containers (pytrees): ``leaves``, ``rebuild``, ``from_leaves``;
- ``arrays``: what every helper asks of a value: ``grad_dtype``, ``size_of``, numpy or another
  array library (dask, CuPy), complex or not;
- ``checks``: the checks and errors generated code raises at the user's line: ``refuse``,
  ``check_scalar``, ``check_real``, ``real_like``, ``real_only``, ``same_items``, ``size_one_*``;
- ``broadcasting``: ``unbroadcast``, ``expand``, ``filled`` (sums and their adjoints),
  ``np.broadcast_arrays`` and ``np.meshgrid``;
- ``elementwise``: guarded arithmetic (``xlogy``, ``safe_div``, ``safe_log``), masks, casts;
- ``complex_numbers``: the functions that are not holomorphic (``abs``, ``angle``, ``real``, ``imag``);
- ``containers``: adjoints of tuples, lists, dicts and namedtuples (``items_grad``, ``add_lists``);
- ``forward``: zero and unit tangents, and the Jacobians built from forward (and reverse) passes;
- ``indexing``: ``getitem_grad``, item updates, ``take``, diagonals, insert and delete,
  ``select``, ``unique``, ``piecewise``;
- ``reshaping``: adjoints of joins, splits and copies: concatenate, stack, tile, repeat, pad,
  append, ``np.array`` of lists, ``apply_along_axis``;
- ``reductions``: sum, max and min, prod, nan-reductions, average, median, quantiles,
  trapezoid, logsumexp;
- ``scans``: cumsum, cumprod, diff;
- ``products``: dot, matmul, inner, tensordot, kron, multi_dot, einsum, convolve, correlate;
- ``decompositions``: cholesky, eigh, eigvalsh, svd, qr, eig;
- ``linear_algebra``: norm, solve, matrix_power, slogdet, pinv, lstsq;
- ``interpolation``: interp and polyval; ``ranges``: arange, linspace, logspace, geomspace;
- ``fft``: the adjoints of ``np.fft``'s transforms;
- ``scipy_helpers``: those of scipy's rules, imported with those rules only (scipy is optional),
  so they are not re-exported here.

This package re-exports every public helper of the others (``srcgrad.runtime.unbroadcast``);
:data:`HELPERS` holds their names, which transforms bind by name in generated code. Each
helper's numba twin (for ``jit=True``) sits beside it, in the same module.
"""

from . import (
    arrays,
    broadcasting,
    checks,
    complex_numbers,
    containers,
    decompositions,
    elementwise,
    fft,
    forward,
    indexing,
    interpolation,
    linear_algebra,
    products,
    ranges,
    reductions,
    reshaping,
    scans,
    trees,
)
from .arrays import *  # noqa: F403
from .broadcasting import *  # noqa: F403
from .checks import *  # noqa: F403
from .complex_numbers import *  # noqa: F403
from .containers import *  # noqa: F403
from .decompositions import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .fft import *  # noqa: F403
from .forward import *  # noqa: F403
from .indexing import *  # noqa: F403
from .interpolation import *  # noqa: F403
from .linear_algebra import *  # noqa: F403
from .products import *  # noqa: F403
from .ranges import *  # noqa: F403
from .reductions import *  # noqa: F403
from .reshaping import *  # noqa: F403
from .scans import *  # noqa: F403
from .trees import *  # noqa: F403

__all__ = [
    *arrays.__all__,
    *broadcasting.__all__,
    *checks.__all__,
    *complex_numbers.__all__,
    *containers.__all__,
    *decompositions.__all__,
    *elementwise.__all__,
    *fft.__all__,
    *forward.__all__,
    *indexing.__all__,
    *interpolation.__all__,
    *linear_algebra.__all__,
    *products.__all__,
    *ranges.__all__,
    *reductions.__all__,
    *reshaping.__all__,
    *scans.__all__,
    *trees.__all__,
]

# The names generated code may call a helper by (a module of this package is not one of them).
HELPERS = frozenset(__all__)
