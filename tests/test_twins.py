"""Every numba twin of a runtime helper (``@twin(helper)``, for ``jit=True``) gives the helper's
own result.

``CASES`` lists, per helper, calls written as generated code writes them (constants spelled in
the call, as numba then sees them), with the arrays they take. Each call is compiled by numba
and compared with the helper run by numpy. A helper given a twin without cases here fails
``test_every_twin_has_cases``.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")  # (the [test] extra installs it: this runs in CI)

import numba  # noqa: E402

from srcgrad import errors, runtime  # noqa: E402
from srcgrad.jit import numba_module  # noqa: E402
from srcgrad.twins import TWINS  # noqa: E402

RNG = np.random.default_rng(7)
V3, V4 = RNG.normal(size=3), RNG.normal(size=4)
M34, M43, M14, M31 = (RNG.normal(size=s) for s in ((3, 4), (4, 3), (1, 4), (3, 1)))
T234 = RNG.normal(size=(2, 3, 4))
WITH_ZERO = np.array([0.5, 0.0, -2.0, 3.0])
TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]])
NANS = np.array([np.nan, 0.5, 0.5, np.nan])
KNOTS = np.array([0.0, 0.25, 0.5, 1.0])
M34_NANS, T234_NANS, M34_ZEROS = M34.copy(), T234.copy(), M34.copy()
M34_NANS[[0, 0, 2], [1, 3, 3]] = T234_NANS[[0, 1, 1], [0, 0, 2], [1, 1, 3]] = np.nan
M34_NANS[1] = M34_ZEROS[[0, 2, 2], [2, 1, 3]] = 0.0
M34_NANS[1] = np.nan  # (a row of NaNs only)

CASES: dict = {
    runtime.check_scalar: [("check_scalar(a, 'f.py:1')", (1.5,)), ("check_scalar(a, 'f.py:1')", (V3[:1],))],
    runtime.check_real: [("check_real('f.py:1', a, b)", (V3, 2.0))],
    runtime.real_like: [("real_like(a, b)", (V3, V3)), ("real_like(a, b)", (V3 + 1j, V3))],
    runtime.filled: [("filled(-1.0, a)", (V3,)), ("filled(2.0, a)", (V3.astype(np.float32),))],
    runtime.unbroadcast: [
        ("unbroadcast(a, b)", (M34, M14)),
        ("unbroadcast(a, b)", (M34, M31)),
        ("unbroadcast(a, b)", (T234, M14)),
        ("unbroadcast(a, b)", (M34, 1.5)),
        ("unbroadcast(a, b)", (2.0, 1.5)),
        ("unbroadcast(a, b)", (M34, M34)),
    ],
    runtime.expand: [
        ("expand(a, b)", (2.0, M34)),
        ("expand(a, b, 1)", (V3, M34)),
        ("expand(a, b, 0, True)", (M14, M34)),
        ("expand(a, b)", (2.0, 1.5)),
    ],
    runtime.unexpand: [("unexpand(a, b)", (M34, M14))],
    runtime.extremum_grad: [
        ("extremum_grad(a, b, c)", (2.0, TIES, 3.0)),
        ("extremum_grad(a, b, c, 1)", (np.array([1.0, 2.0]), TIES, np.max(TIES, axis=1))),
        ("extremum_grad(a, b, c, 1, True)", (np.ones((2, 1)), TIES, np.max(TIES, axis=1, keepdims=True))),
        ("extremum_grad(a, b, c, (0, 1))", (2.0, TIES, 3.0)),
    ],
    runtime.prod_vjp: [
        ("prod_vjp(a, b)", (2.0, WITH_ZERO)),
        ("prod_vjp(a, b)", (2.0, M34)),
        ("prod_vjp(a, b, 1)", (V3, M34_ZEROS)),
        ("prod_vjp(a, b, 0, True)", (M14, M34_ZEROS)),
        ("prod_vjp(a, b, (0, 2))", (V3, T234)),
        ("prod_vjp(a, b, None, True)", (np.ones((1, 1)), M34)),
        ("prod_vjp(a, b, 0)", (2.0, WITH_ZERO)),
        ("prod_vjp(a, b)", (2.0, 1.5)),
    ],
    runtime.sum_vjp: [("sum_vjp(a, [b, c])", (V3, V3, V3)), ("sum_vjp(a, [b, c])", (2.0, 1.0, 3.0))],
    runtime.dot_vjp_a: [
        ("dot_vjp_a(a, b, c)", (V3, M34, V4)),
        ("dot_vjp_a(a, b, c)", (M43 @ M34, M43, M34)),
        ("dot_vjp_a(a, b, c)", (V4, V3, M34)),
        ("dot_vjp_a(a, b, c)", (2.0, V3, V3)),
    ],
    runtime.dot_vjp_b: [
        ("dot_vjp_b(a, b, c)", (V3, M34, V4)),
        ("dot_vjp_b(a, b, c)", (M34 @ M43, M34, M43)),
        ("dot_vjp_b(a, b, c)", (V4, V3, M34)),
        ("dot_vjp_b(a, b, c)", (2.0, V3, V3)),
    ],
    runtime.matmul_vjp_a: [("matmul_vjp_a(a, b, c)", (M34 @ M43, M34, M43))],
    runtime.matmul_vjp_b: [("matmul_vjp_b(a, b, c)", (V3, M34, V4))],
    runtime.getitem_grad: [
        ("getitem_grad(a, b, slice(1, None, None))", (V3[:2], V3)),
        ("getitem_grad(a, b, 2)", (1.5, V4)),
        ("getitem_grad(a, b, (0, 1))", (1.5, M34)),
        ("getitem_grad(a, b, c)", (np.ones(3), V4, np.array([0, 2, 0]))),
    ],
    runtime.inside: [("inside(a, -0.5, 0.5)", (V4,)), ("inside(a, None, 0.5)", (V4,))],
    runtime.size_of: [("size_of(a)", (M34,)), ("size_of(a)", (1.5,))],
    runtime.safe_div: [("safe_div(a, b)", (V4, WITH_ZERO)), ("safe_div(a, b)", (1.5, 0.0))],
    runtime.xdivy: [("xdivy(a, b)", (WITH_ZERO, V4)), ("xdivy(a, b)", (0.0, 2.0))],
    runtime.safe_log: [
        ("safe_log(a)", (np.abs(WITH_ZERO),)),
        ("safe_log(a)", (0.0,)),
        ("safe_log(a)", (2.0,)),
    ],
    runtime.zero_tangent: [("zero_tangent(a)", (M34,)), ("zero_tangent(a)", (1.5,))],
    runtime.zero_adjoint: [
        ("zero_adjoint(a)", (M34,)),
        ("zero_adjoint(a)", (1.5,)),
        ("zero_adjoint(None)", ()),
        ("zero_adjoint(a if b > 0.0 else None)", (1.5, 1.0)),  # (numba: an Optional number)
        ("zero_adjoint(a if b > 0.0 else None)", (1.5, -1.0)),
    ],
    runtime.not_a_dict: [("not_a_dict(a, 'f.py:1')", (V3,))],
    runtime.with_item: [
        ("with_item(a, 1, 5.0)", (V3,)),
        ("with_item(a, slice(0, 2, None), b)", (M34, M34[:2])),
    ],
    runtime.without_item: [("without_item(a, 1)", (V3,))],
    runtime.item_grad: [
        ("item_grad(a, 1, b)", (V3, 1.5)),
        ("item_grad(a, slice(0, 2, None), b)", (M34, M14)),
    ],
    runtime.add_item: [("add_item(a, 1, b)", (V3, 1.5)), ("add_item(a, slice(0, 2, None), b)", (M34, M14))],
    runtime.add_lists: [("add_lists(a, b)", (V3, V3)), ("add_lists([a, b], [b, a])", (V3, V3))],
    runtime.items_grad: [
        ("items_grad(a, {1: b, 2: c})", (V3, 1.5, 2.5)),
        ("items_grad(a, {0: b})", (M34, V4)),
    ],
    runtime.add_items: [("add_items(a, {1: b})", (V3, 1.5))],
    runtime.unarray: [
        ("unarray(a, [b, c])", (M34[:2, 0], 1.0, 2.0)),
        ("unarray(a, [b, c])", (M34[:2], V4, V4)),
    ],
    runtime.unconcatenate: [("unconcatenate(a, [b, c])", (V4, V3[:1], V3))],
    runtime.unstack: [("unstack(a, [b, c])", (M34[:2], V4, V4))],
    runtime.untranspose: [
        ("untranspose(a, None)", (M34,)),
        ("untranspose(a, (1, 2, 0))", (T234.transpose(1, 2, 0),)),
    ],
    runtime.cumsum_vjp: [
        ("cumsum_vjp(a, b)", (V4, V4)),
        ("cumsum_vjp(a, b)", (M34.ravel(), M34)),
        ("cumsum_vjp(a, b, 1)", (M34, M34)),
        ("cumsum_vjp(a, b, -3)", (T234, T234)),
    ],
    runtime.real_vjp: [("real_vjp(a, b)", (V3, V3)), ("real_vjp(a, b)", (V3, V3 + 1j))],
    runtime.abs_vjp: [("abs_vjp(a, b)", (V4, WITH_ZERO)), ("abs_vjp(a, b)", (V3, V3 + 1j * V3[::-1]))],
    # -- twins-arrays: reductions, scans, reshaping, indexing, ranges, interpolation, elementwise,
    # broadcasting, complex_numbers
    runtime.xlogy: [
        ("xlogy(a, b)", (WITH_ZERO, np.abs(V4))),
        ("xlogy(a, b)", (0.0, 2.0)),
        ("xlogy(a, b)", (1.5, np.abs(V4))),
        ("xlogy(a, b)", (WITH_ZERO.astype(np.float32), np.abs(V4).astype(np.float32))),
    ],
    runtime.nan_max_share: [
        ("nan_max_share(a, b)", (NANS, V4)),
        ("nan_max_share(a, b)", (V4, NANS)),
        ("nan_max_share(a, b)", (NANS, 0.5)),
        ("nan_max_share(a, b)", (1.0, 1.0)),
        ("nan_max_share(a, b)", (M34, M14)),
    ],
    runtime.nan_weights: [
        ("nan_weights(a)", (NANS,)),
        ("nan_weights(a, None, True)", (NANS,)),
        ("nan_weights(a, 1, True)", (M34_NANS,)),
        ("nan_weights(a, -2, True)", (M34_NANS,)),
        ("nan_weights(a, (0, 2), True)", (T234_NANS,)),
        ("nan_weights(a, 0, True)", (M34_NANS.astype(np.float32),)),
        ("nan_weights(a, None)", (np.arange(4),)),
    ],
    runtime.cumprod_vjp: [
        ("cumprod_vjp(a, b)", (V4, WITH_ZERO)),
        ("cumprod_vjp(a, b)", (M34.ravel(), M34_ZEROS)),
        ("cumprod_vjp(a, b, 1)", (M34, M34_ZEROS)),
        ("cumprod_vjp(a, b, 0)", (M34, M34_ZEROS)),
        ("cumprod_vjp(a, b, -2)", (T234, T234)),
    ],
    runtime.cumprod_jvp: [
        ("cumprod_jvp(a, b)", (V4, WITH_ZERO)),
        ("cumprod_jvp(a, b)", (M34, M34_ZEROS)),
        ("cumprod_jvp(a, b, 1)", (M34, M34_ZEROS)),
        ("cumprod_jvp(a, b, 0)", (1.5, M34_ZEROS)),
        ("cumprod_jvp(a, b, -2)", (T234, T234)),
    ],
    runtime.diff_vjp: [
        ("diff_vjp(a, b)", (V3, V4)),
        ("diff_vjp(a, b, 2, 0)", (M34[:1], M34)),
        ("diff_vjp(a, b, 1, 1)", (M34[:, :3], M34)),
        ("diff_vjp(a, b, 0)", (M34, M34)),
        ("diff_vjp(a, b, 3)", (T234[..., :1], T234)),
    ],
    runtime.drop_initial: [
        ("drop_initial(a)", (V4,)),
        ("drop_initial(a, None, True)", (V4,)),
        ("drop_initial(a, 1, True)", (M34,)),
        ("drop_initial(a, -3, True)", (T234,)),
    ],
    runtime.with_initial: [
        ("with_initial(a)", (V4,)),
        ("with_initial(a, None, True)", (V4,)),
        ("with_initial(a, 1, True)", (M34,)),
        ("with_initial(a, -3, True)", (T234,)),
    ],
    runtime.quantile_vjp: [
        ("quantile_vjp(a, b, 0.3, None, 'linear', 1.0, False)", (2.0, TIES)),
        ("quantile_vjp(a, b, c, 1, 'linear', 100.0, False)", (M34[:2, :3], M34, np.array([25.0, 80.0]))),
        ("quantile_vjp(a, b, c, (0, 2), 'lower', 1.0, False)", (M43, T234, np.array([0.0, 0.5, 1.0, 0.7]))),
        ("quantile_vjp(a, b, 0.5, 0, 'higher', 1.0, True)", (V4, M34_NANS)),
        (
            "quantile_vjp(a, b, c, -1, 'linear', 1.0, True)",
            (M34[:, :3].T, M34_NANS, np.array([0.1, 0.5, 1.0])),
        ),
    ],
    runtime.quantile_jvp: [
        ("quantile_jvp(a, b, c, 0.3, None, 'linear', 1.0, False)", (TIES, 1.0, TIES)),
        (
            "quantile_jvp(a, b, c, d, 1, 'linear', 100.0, False)",
            (M34, M34[:2, :3], M34, np.array([25.0, 80.0])),
        ),
        ("quantile_jvp(a, b, c, 0.5, -1, 'linear', 1.0, True)", (M34, V3, M34_NANS)),
    ],
    runtime.quantile_vjp_q: [
        ("quantile_vjp_q(a, b, 0.3, None, 'linear', 1.0, False)", (2.0, TIES)),
        ("quantile_vjp_q(a, b, c, 1, 'linear', 100.0, False)", (M34[:2, :3], M34, np.array([25.0, 80.0]))),
        (
            "quantile_vjp_q(a, b, c, -1, 'linear', 1.0, True)",
            (M34[:, :3].T, M34_NANS, np.array([0.1, 0.5, 1.0])),
        ),
        ("quantile_vjp_q(a, b, c, (0, 2), 'lower', 1.0, False)", (M43, T234, np.array([0.0, 0.5, 1.0, 0.7]))),
    ],
    runtime.quantile_jvp_q: [
        ("quantile_jvp_q(a, b, c, 0.3, None, 'linear', 1.0, False)", (2.0, 1.0, TIES)),
        (
            "quantile_jvp_q(a, b, c, d, 1, 'linear', 100.0, True)",
            (V3[:2], M34[:2, :3], M34_NANS, np.array([25.0, 80.0])),
        ),
    ],
    runtime.is_start: [("is_start(None)", ()), ("is_start(a)", (1.5,))],
    runtime.linspace_weights: [
        ("linspace_weights(a, b, 5)", (1.5, -2.0)),
        ("linspace_weights(a, b, 4, False)", (1.5, -2.0)),
        ("linspace_weights(a, 2.0, 1)", (1.5,)),
        ("linspace_weights(-1.0, a, 7, True, False)", (1.5,)),
    ],
    runtime.logspace_exponents: [
        ("logspace_exponents(a, b, 5, True, 10.0)", (1.5, -2.0)),
        ("logspace_exponents(a, b, 6, False, 2.0)", (1.5, -2.0)),
    ],
    runtime.geomspace_weights: [
        ("geomspace_weights(a, b, 5)", (1.5, 3.0)),
        ("geomspace_weights(a, b, 3, False)", (1.5, 3.0)),
    ],
    runtime.take_along_axis_vjp: [
        ("take_along_axis_vjp(a, b, c, 1)", (M34[:, :2], M34, np.array([[0, 3], [1, 1], [2, -1]]))),
        ("take_along_axis_vjp(a, b, c, 0)", (M14, M34, np.array([[0, 2, 2, 1]]))),
        ("take_along_axis_vjp(a, b, c, 0)", (M34, M34, np.array([[0], [2], [2]]))),
        ("take_along_axis_vjp(a, b, c, 0)", (V3, V4, np.array([3, 3, 0]))),
        ("take_along_axis_vjp(a, b, c, None)", (V3, M34, np.array([11, 0, 0]))),
        ("take_along_axis_vjp(a, b, c, -2)", (T234, T234, np.argsort(T234, axis=1))),
        ("take_along_axis_vjp(a, b, c, 1)", (M34, M31, np.array([[0, 0, 0, 0]]))),
    ],
    runtime.sort_indices: [
        ("sort_indices(a)", (TIES,)),
        ("sort_indices(a, 0)", (TIES,)),
        ("sort_indices(a, None)", (TIES,)),
        ("sort_indices(a, 1)", (T234,)),
        ("sort_indices(a, -1)", (NANS,)),
    ],
    runtime.average_share: [
        ("average_share(a)", (M34,)),
        ("average_share(a, 1)", (M34.astype(np.float32),)),
        ("average_share(a, (0, 2))", (T234,)),
        ("average_share(a, None, b)", (M34, np.abs(M34))),
        ("average_share(a, 1, b)", (M34, np.abs(V4))),
        ("average_share(a, 0, b)", (M34, np.arange(1, 4))),
        ("average_share(a, -1, b)", (M34, np.abs(M14))),
    ],
    runtime.median_weights: [
        ("median_weights(a)", (V4,)),
        ("median_weights(a)", (V3,)),
        ("median_weights(a, 1)", (TIES,)),
        ("median_weights(a, (0, 2))", (T234,)),
        ("median_weights(a, 0)", (np.arange(12).reshape(3, 4) % 5,)),
    ],
    runtime.nan_median_weights: [
        ("nan_median_weights(a)", (NANS,)),
        ("nan_median_weights(a, 1)", (M34_NANS,)),
        ("nan_median_weights(a, (0, 2))", (T234_NANS,)),
    ],
    runtime.trapezoid_weights: [
        ("trapezoid_weights(a, None, 1.0, -1)", (V4,)),
        ("trapezoid_weights(a, None, 0.5, 0)", (M34,)),
        ("trapezoid_weights(a, b, 1.0, 0)", (M34, np.cumsum(np.abs(V3)))),
        ("trapezoid_weights(a, b, 1.0, 1)", (T234, np.cumsum(np.abs(T234), axis=1))),
        ("trapezoid_weights(a, b, 1.0, -1)", (M34, np.cumsum(np.abs(M14), axis=1))),
        ("trapezoid_weights(a, b, 1.0, -1)", (M34, np.arange(4))),
    ],
    runtime.abs_jvp: [
        ("abs_jvp(a, b)", (V4, WITH_ZERO)),
        ("abs_jvp(a, b)", (V3, V3 + 1j * V3[::-1])),
        ("abs_jvp(a, b)", (V3 + 0.5j, np.array([1.0 + 1j, 0.0, 2.0 - 1j]))),
        ("abs_jvp(a, b)", (1.5, -2.0)),
    ],
    runtime.angle_vjp: [
        ("angle_vjp(a, b)", (V3, V3 + 0.5j)),
        ("angle_vjp(a, b, True)", (V3, V3 * (1 + 1j))),
        ("angle_vjp(a, b)", (V4, V4)),
        ("angle_vjp(a, b)", (1.5, 2.0 + 0.5j)),
        ("angle_vjp(a, b)", (V3, np.zeros(3, complex))),
    ],
    runtime.angle_jvp: [
        ("angle_jvp(a, b)", (V3, V3 + 0.5j)),
        ("angle_jvp(a, b, True)", (V3 - 1j, V3 * (1 + 1j))),
        ("angle_jvp(a, b)", (V4, V4)),
        ("angle_jvp(a, b)", (V3, np.zeros(3, complex))),
    ],
    runtime.imag_vjp: [
        ("imag_vjp(a, b)", (V3, V3 + 1j)),
        ("imag_vjp(a, b)", (V3, V3)),
        ("imag_vjp(a, b)", (1.5, 2.0)),
    ],
    runtime.imag_of: [("imag_of(a, b)", (V3 + 2j * V3, V3 + 1j)), ("imag_of(a, b)", (V3, V3))],
    runtime.real_zero: [("real_zero(a, 'x')", (V3,)), ("real_zero(a, 'x')", (1.5,))],
    runtime.unstack_like: [
        ("unstack_like(a, [b, c], 1)", (V4[:3], V3[:1], V3[:2])),
        ("unstack_like(a, [b, c], 1)", (M34, M34[:, :1], M34[:, 1:])),
        ("unstack_like(a, (b, c), 1)", (V3[:2], 1.0, 2.0)),
        ("unstack_like(a, [b, c], 0)", (M34[:2], V4, V4)),
        ("unstack_like(a, [b, c], 0)", (T234.reshape(6, 4)[:5], M34[:2], M34)),
        ("unstack_like(a, (b, c), 0)", (M31[:2], 1.0, 2.0)),
    ],
    runtime.uncolumn_stack: [
        ("uncolumn_stack(a, [b, c])", (M43[:, :2], V4, V4)),
        ("uncolumn_stack(a, (b, c))", (M43, M43[:, :2], M43[:, :1])),
    ],
    runtime.untile: [
        ("untile(a, b, 2)", (np.tile(V4, 2), V4)),
        ("untile(a, b, (2, 3))", (np.tile(M34, (2, 3)), M34)),
        ("untile(a, b, (2, 1, 2))", (np.tile(M34, (2, 1, 2)), M34)),
        ("untile(a, b, 3)", (V3, 1.5)),
    ],
    runtime.unrepeat: [
        ("unrepeat(a, b, 2)", (np.repeat(M34, 2), M34)),
        ("unrepeat(a, b, 3, 1)", (np.repeat(M34, 3, axis=1), M34)),
        ("unrepeat(a, b, [1, 0, 2], 0)", (np.repeat(M34, [1, 0, 2], axis=0), M34)),
        ("unrepeat(a, b, c, -1)", (np.repeat(T234, [2, 1, 0, 3], axis=-1), T234, np.array([2, 1, 0, 3]))),
        ("unrepeat(a, b, 3)", (V3, 1.5)),
    ],
    runtime.unpad: [
        ("unpad(a, 1)", (np.pad(M34, 1),)),
        ("unpad(a, ((1, 0), (2, 3)))", (np.pad(M34, ((1, 0), (2, 3))),)),
        ("unpad(a, (0, 2), 'constant')", (np.pad(V4, (0, 2)),)),
    ],
    runtime.unappend_arr: [
        ("unappend_arr(a, b, c)", (np.append(V4, V3), V4, V3)),
        ("unappend_arr(a, b, 1.5)", (np.append(M34, 1.5), M34)),
        ("unappend_arr(a, b, c, 0)", (np.append(M34, M34[:2], 0), M34, M34[:2])),
        ("unappend_arr(a, b, c, -1)", (np.append(T234, T234[..., :2], -1), T234, T234[..., :2])),
        ("unappend_arr(a, b, [1.0, 2.0])", (np.append(M34, [1.0, 2.0]), M34)),
    ],
    runtime.unappend_values: [
        ("unappend_values(a, b, c)", (np.append(V4, V3), V4, V3)),
        ("unappend_values(a, b, c)", (np.append(M34, 1.5), M34, 1.5)),
        ("unappend_values(a, b, c, 1)", (np.append(M34, M31, 1), M34, M31)),
        ("unappend_values(a, b, c, -1)", (np.append(T234, T234[..., :2], -1), T234, T234[..., :2])),
    ],
    runtime.take_vjp: [
        ("take_vjp(a, b, [0, 2, 2])", (V3, M34)),
        ("take_vjp(a, b, [3, 0, 3], 1)", (M34[:, :3], M34)),
        ("take_vjp(a, b, c, 0)", (M34[:2], M34, np.array([0, -1]))),
        ("take_vjp(a, b, c)", (M34[:2, :2], M34, np.array([[0, 11], [5, -1]]))),
        ("take_vjp(a, b, 1, -1)", (M34[:2, :3], T234)),
        ("take_vjp(a, b, [5, -1], None, 'wrap')", (V3[:2], V4)),
        ("take_vjp(a, b, [5, -1], 0, 'clip')", (V3[:2], V4)),
        ("take_vjp(a, b, 5)", (1.5, M34)),
    ],
    runtime.undiag: [
        ("undiag(a, b)", (M34[:, :3] @ M34[:, :3].T, V3)),
        ("undiag(a, b, 1)", (np.ones((5, 5)), V4)),
        ("undiag(a, b)", (V4, M43 @ M34)),
        ("undiag(a, b, -1)", (V3[:2], M34[:3, :3])),
    ],
    runtime.undiagonal: [
        ("undiagonal(a, b)", (V4, M43 @ M34)),
        ("undiagonal(a, b, 1)", (V3, M34)),
        ("undiagonal(a, b, -1, 1, 2)", (M34[:2, :2], T234)),
        ("undiagonal(a, b, 0, 0, 2)", (M34[:, :2], T234)),
        ("undiagonal(a, b, 1, 2, 0)", (M31, T234)),
        ("undiagonal(a, b, 5)", (np.zeros(0), M34)),
    ],
    runtime.trace_vjp: [
        ("trace_vjp(a, b)", (1.5, M34)),
        ("trace_vjp(a, b, 1)", (1.5, M34)),
        ("trace_vjp(a, b, -1)", (1.5, M34)),
        ("trace_vjp(a, b, 0, 1, 2)", (V3[:2], T234)),
        ("trace_vjp(a, b, 0, 0, 2)", (V3, T234)),
    ],
    runtime.undelete: [
        ("undelete(a, b, 1)", (V3, V4)),
        ("undelete(a, b, [0, 5, 7])", (np.ones(9), M34)),
        ("undelete(a, b, 1, 0)", (M34[:2], M34)),
        ("undelete(a, b, [0, 2, 2], 1)", (M34[:, :2], M34)),
        ("undelete(a, b, slice(0, 2), -1)", (T234[..., :2], T234)),
        ("undelete(a, b, c, 1)", (M34[:, :2], M34, np.array([True, False, True, False]))),
        ("undelete(a, b, -1, 1)", (M34[:, :3], M34)),
    ],
    runtime.polyval_vjp_p: [
        ("polyval_vjp_p(a, b, c)", (1.5, V3, 0.7)),
        ("polyval_vjp_p(a, b, c)", (V4, V4, V4)),
        ("polyval_vjp_p(a, b, c)", (M34, V3[:1], M34)),
        ("polyval_vjp_p(a, b, c)", (T234, np.append(V4, 1.0), T234)),
    ],
    runtime.interp_segment: [
        ("interp_segment(a, b)", (np.linspace(-0.5, 1.5, 9), KNOTS)),
        ("interp_segment(a, b)", (0.3, KNOTS)),
        ("interp_segment(a, b)", (M34, KNOTS[:1])),
    ],
    runtime.interp_inside: [
        ("interp_inside(a, b)", (np.linspace(-0.5, 1.5, 9), KNOTS)),
        ("interp_inside(a, b)", (0.3, KNOTS)),
    ],
    runtime.interp_below: [("interp_below(a, b)", (M34, KNOTS))],
    runtime.interp_above: [("interp_above(a, b)", (M34, KNOTS)), ("interp_above(a, b)", (1.5, KNOTS))],
    runtime.interp_vjp_fp: [
        ("interp_vjp_fp(a, b, c)", (np.ones(9), np.linspace(-0.5, 1.5, 9), KNOTS)),
        ("interp_vjp_fp(a, b, c, 0.5, 2.0)", (V4, np.array([-1.0, 0.2, 0.5, 3.0]), KNOTS)),
        ("interp_vjp_fp(a, b, c, None, 2.0)", (M34, M34, KNOTS)),
        ("interp_vjp_fp(a, b, c)", (1.5, 0.3, KNOTS)),
        ("interp_vjp_fp(a, b, c)", (V4, V4, KNOTS[:1])),
    ],
    runtime.interp_jvp_fp: [
        ("interp_jvp_fp(a, b, c)", (V4, np.linspace(-0.5, 1.5, 9), KNOTS)),
        ("interp_jvp_fp(a, b, c, 0.5, 2.0)", (V4, np.array([-1.0, 0.2, 0.5, 3.0]), KNOTS)),
        ("interp_jvp_fp(a, b, c, None, 2.0)", (V4, M34, KNOTS)),
        ("interp_jvp_fp(a, b, c)", (V4, 0.3, KNOTS)),
    ],
    runtime.select_untaken: [
        ("select_untaken([a < -0.3, a > 0.3])", (V4,)),
        ("select_untaken([a < 0.0])", (M34,)),
        ("select_untaken([a < 0.0, b > 0.0])", (M34, M14)),
    ],
    runtime.select_vjp: [
        ("select_vjp(a, [b < -0.3, b > 0.3], [b, c])", (V4, V4, V4)),
        ("select_vjp(a, [b < 0.0], [b])", (M34, M34)),
        ("select_vjp(a, [b < 0.0, c > 0.0], [b, c])", (M34, M34, M14)),
    ],
    runtime.astype_vjp: [
        ("astype_vjp(a, b, np.float64)", (M34, M34)),
        ("astype_vjp(a, b, float)", (V4, V4.astype(np.float32))),
        ("astype_vjp(a, b, int)", (M34, M34)),
        ("astype_vjp(a, b, bool)", (1.5, 2.0)),
        ("astype_vjp(a, b, 'float64')", (V4, V4)),
        ("astype_vjp(a, b, np.float64)", (V4 + 1j, V4 + 1j)),
        ("astype_vjp(a, b, np.complex128)", (V4 + 1j, V4 + 1j)),
    ],
    runtime.astype_jvp: [
        ("astype_jvp(a, np.float32)", (M34,)),
        ("astype_jvp(a, int)", (M34,)),
        ("astype_jvp(a, float)", (V4 + 1j,)),
        ("astype_jvp(a, 'float64')", (1.5,)),
        ("astype_jvp(a, bool)", (V4 + 1j,)),
    ],
    runtime.meshgrid_vjp: [
        ("meshgrid_vjp([a, b], [c, c[:2]])", (M34[:2, :3], M34[:2, :3] * 2, V3)),
        ("meshgrid_vjp([a, b], [c, c[:2]], False, 'ij')", (M34[:, :2], M34[:, :2] * 2, V3)),
        (
            "meshgrid_vjp([a, a, b], [c, c[:2], c[:1]], False, 'ij')",
            (T234.reshape(3, 2, 4)[..., :1], T234.reshape(3, 2, 4)[..., 1:2], V3),
        ),
        ("meshgrid_vjp([a, b], [c, c[:2]], True)", (M34[:1, :3], M34[:2, :1], V3)),
        ("meshgrid_vjp([a], [b])", (V4, V4)),
    ],
    runtime.broadcast_arrays_vjp: [
        ("broadcast_arrays_vjp([a, a], [b, c])", (M34, M34, M14)),
        ("broadcast_arrays_vjp([a, a], [b, c])", (M34, M31, M14)),
        ("broadcast_arrays_vjp([a], [b])", (V4, V4)),
    ],
    runtime.unique_vjp: [
        ("unique_vjp(a, b)", (V3, np.array([2.0, 1.0, 2.0, 3.0]))),
        ("unique_vjp(a, b)", (V4, np.array([[np.nan, 1.0], [np.nan, 3.0], [0.5, 1.0]]))),
        ("unique_vjp(a, b, None)", (V4, M34.ravel()[:4])),
        ("unique_vjp(a, b)", (V3, np.array([2, 1, 2, 3]))),
    ],
    runtime.unique_jvp: [
        ("unique_jvp(a, b)", (V4, np.array([2.0, 1.0, 2.0, 3.0]))),
        ("unique_jvp(a, b)", (M34[:, :2], np.array([[np.nan, 1.0], [np.nan, 3.0], [0.5, 1.0]]))),
    ],
    runtime.extremum_jvp: [
        ("extremum_jvp(a, b, c)", (TIES, TIES, 3.0)),
        ("extremum_jvp(a, b, c, 1)", (M34[:2, :3], TIES, np.max(TIES, axis=1))),
        ("extremum_jvp(a, b, c, 0, True)", (M34[:2, :3], TIES, np.max(TIES, axis=0, keepdims=True))),
        ("extremum_jvp(a, b, c, (0, 2))", (T234, T234, np.min(T234, axis=(0, 2)))),
        ("extremum_jvp(a, b, c, None, True)", (TIES, TIES, np.full((1, 1), 3.0))),
    ],
    runtime.prod_jvp: [
        ("prod_jvp(a, b)", (V4, WITH_ZERO)),
        ("prod_jvp(a, b, 1)", (M34, M34_ZEROS)),
        ("prod_jvp(a, b, 0, True)", (M34, M34_ZEROS)),
        ("prod_jvp(a, b, (0, 2))", (T234, T234)),
        ("prod_jvp(a, b, None, True)", (M34, M34)),
    ],
    runtime.stack_like: [
        ("stack_like([a, b], 1)", (V3, V4)),
        ("stack_like([a, b], 1)", (M34, M34[:, :2])),
        ("stack_like([a, b], 0)", (V4, V4)),
        ("stack_like([a, b], 0)", (M34, M14)),
        ("stack_like([a, b], 1)", (1.0, 2.0)),
        ("stack_like([a, b], 0)", (1.0, 2.0)),
    ],
    runtime.prod_others_jvp: [
        ("prod_others_jvp(a, b)", (WITH_ZERO, V4)),
        ("prod_others_jvp(a, b, 1)", (M34_ZEROS, M34)),
        ("prod_others_jvp(a, b, (0, 2))", (T234, T234 * 2.0)),
    ],
    runtime.select_where: [
        ("select_where([a < -0.3, a > 0.3], [a * 2.0, b], c)", (V4, V4 + 1.0, V4 - 1.0)),
        ("select_where([a < 0.0], [a], 0.5)", (M34,)),
        ("select_where([a < 0.0, a > 0.5], [a, a * 3.0], 0.0)", (V4,)),
        ("select_where([a < 0.0, a > 0.5], [b, b * 3.0], c)", (M34, M14, M31)),
    ],
}
RAISING = {  # helpers whose twins refuse: the error they raise under numba
    runtime.size_one_gradient: ("size_one_gradient(None, a)", (V3,), errors.NonScalarOutputError),
}


def _compile(call: str, n: int):
    names = ["a", "b", "c", "d"][:n]
    namespace = {"np": np, **{name: getattr(runtime, name) for name in runtime.HELPERS}}
    exec(f"def case({', '.join(names)}):\n    return {call}\n", namespace)  # noqa: S102
    return namespace["case"]


def _same(got, want) -> None:
    if want is None:  # (check_real returns nothing)
        assert got is None
        return
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    assert np.shape(got) == np.shape(want), (got, want)
    single = np.result_type(want) in (np.float32, np.complex64)  # (rounded as float32: to its precision)
    np.testing.assert_allclose(got, want, rtol=1e-6 if single else 1e-13, atol=1e-7 if single else 1e-15)
    assert np.result_type(got) == np.result_type(want) or np.ndim(want) == 0


@pytest.mark.parametrize("helper", sorted(TWINS, key=lambda h: h.__name__), ids=lambda h: h.__name__)
def test_twin_gives_the_helpers_result(helper):
    numba_module()  # (registers the twins)
    if helper in RAISING:
        call, args, error = RAISING[helper]
        with pytest.raises(error):
            numba.njit(_compile(call, len(args)))(*args)
        return
    for call, args in CASES[helper]:
        case = _compile(call, len(args))
        _same(numba.njit(case)(*args), case(*args))


def test_every_twin_has_cases():
    missing = [h.__name__ for h in TWINS if h not in CASES and h not in RAISING]
    assert not missing, f"twins without cases in {__file__}: {missing}"
