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
    # -- twins-linalg: products, linear_algebra, decompositions. Matrices as numba's np.linalg
    # takes them (float64, 2-d); decompositions' outputs and adjoints as tuples (numba's own).
    runtime.kron_vjp_a: [
        ("kron_vjp_a(a, b, c)", ((RNG_LINALG := np.random.default_rng(17)).normal(size=12), V3, V4)),
        ("kron_vjp_a(a, b, c)", (RNG_LINALG.normal(size=(12, 12)), M34, M43)),
        ("kron_vjp_a(a, b, c)", (RNG_LINALG.normal(size=(3, 12)), V3, M34)),
        ("kron_vjp_a(a, b, c)", (RNG_LINALG.normal(size=(3, 16)), M34, V4)),
        ("kron_vjp_a(a, b, c)", (RNG_LINALG.normal(size=12), np.arange(3), V4)),
    ],
    runtime.kron_vjp_b: [
        ("kron_vjp_b(a, b, c)", (RNG_LINALG.normal(size=12), V3, V4)),
        ("kron_vjp_b(a, b, c)", (RNG_LINALG.normal(size=(12, 12)), M34, M43)),
        ("kron_vjp_b(a, b, c)", (RNG_LINALG.normal(size=(3, 12)), V3, M34)),
        ("kron_vjp_b(a, b, c)", (RNG_LINALG.normal(size=(3, 16)), M34, V4)),
        ("kron_vjp_b(a, b, c)", (RNG_LINALG.normal(size=(3, 12)), V3, np.ones((3, 4), np.int64))),
    ],
    runtime.convolve_vjp_a: [
        ("convolve_vjp_a(a, b, c)", (RNG_LINALG.normal(size=6), V4, V3)),
        ("convolve_vjp_a(a, b, c, 'same')", (V4, V4, V3)),
        ("convolve_vjp_a(a, b, c, 'same')", (V3, V3, V4)),
        ("convolve_vjp_a(a, b, c, 'valid')", (V3[:2], V4, V3)),
        ("convolve_vjp_a(a, b, c, 'same')", (V4, np.arange(4), V3)),
    ],
    runtime.convolve_vjp_v: [
        ("convolve_vjp_v(a, b, c, 'full')", (RNG_LINALG.normal(size=6), V4, V3)),
        ("convolve_vjp_v(a, b, c, 'same')", (V3, V3, V4)),
        ("convolve_vjp_v(a, b, c, 'valid')", (V3[:2], V3, V4)),
        ("convolve_vjp_v(a, b, c, 'same')", (V4, V4, np.arange(3))),
    ],
    runtime.correlate_vjp_a: [
        ("correlate_vjp_a(a, b, c)", (V3[:2], V4, V3)),
        ("correlate_vjp_a(a, b, c, 'same')", (V4, V4, V3)),
        ("correlate_vjp_a(a, b, c, 'same')", (V3, V3, V4)),
        ("correlate_vjp_a(a, b, c, 'full')", (RNG_LINALG.normal(size=6), V3, V4)),
        ("correlate_vjp_a(a, b, c, 'same')", (V4, np.arange(4), V3)),
    ],
    runtime.correlate_vjp_v: [
        ("correlate_vjp_v(a, b, c, 'valid')", (V3[:2], V4, V3)),
        ("correlate_vjp_v(a, b, c, 'same')", (V3, V3, V4)),
        ("correlate_vjp_v(a, b, c, 'full')", (RNG_LINALG.normal(size=6), V3, V4)),
        ("correlate_vjp_v(a, b, c, 'same')", (V4, V4, np.arange(3))),
    ],
    runtime.inner_vjp_a: [
        ("inner_vjp_a(a, b, c)", (1.5, V3, V3)),
        ("inner_vjp_a(a, b, c)", (V3, M34, V4)),
        ("inner_vjp_a(a, b, c)", (V3, V4, M34)),
        ("inner_vjp_a(a, b, c)", (M34[:, :2], M34, M34[:2])),
        ("inner_vjp_a(a, b, c)", (V3, np.ones((3, 4), np.int64), V4)),  # (a read for its shape)
    ],
    runtime.inner_vjp_b: [
        ("inner_vjp_b(a, b, c)", (1.5, V3, V3)),
        ("inner_vjp_b(a, b, c)", (V3, M34, V4)),
        ("inner_vjp_b(a, b, c)", (V3, V4, M34)),
        ("inner_vjp_b(a, b, c)", (M34[:, :2], M34, M34[:2])),
        ("inner_vjp_b(a, b, c)", (V3, M34, np.ones(4, np.int64))),
    ],
    runtime.tensordot_vjp_a: [
        ("tensordot_vjp_a(a, b, c)", (1.5, M34, M34)),
        ("tensordot_vjp_a(a, b, c, 1)", (M34 @ M43 @ M34, M34, M43 @ M34)),
        ("tensordot_vjp_a(a, b, c, 0)", (np.outer(V4, V3), V4, V3)),
        ("tensordot_vjp_a(a, b, c, 2)", (V4[:2], T234, M34)),
        ("tensordot_vjp_a(a, b, c, 2)", (V4[:2], T234.transpose(0, 2, 1), M43)),
        ("tensordot_vjp_a(a, b, c, 1)", (M34 @ M43 @ M34, np.ones((3, 4), np.int64), M43 @ M34)),
    ],
    runtime.tensordot_vjp_b: [
        ("tensordot_vjp_b(a, b, c)", (1.5, M34, M34)),
        ("tensordot_vjp_b(a, b, c, 1)", (M34 @ M43 @ M34, M34, M43 @ M34)),
        ("tensordot_vjp_b(a, b, c, 0)", (np.outer(V4, V3), V4, V3)),
        ("tensordot_vjp_b(a, b, c, 1)", (RNG_LINALG.normal(size=(2, 3, 3)), T234, M43)),
        ("tensordot_vjp_b(a, b, c, 1)", (M34 @ M43 @ M34, M34, np.ones((4, 4), np.int64))),
    ],
    runtime.norm_vjp: [
        ("norm_vjp(a, b, c)", (1.5, np.linalg.norm(V4), V4)),
        ("norm_vjp(a, b, c)", (1.5, 0.0, np.zeros(3))),
        ("norm_vjp(a, b, c, None, 1)", (V3, np.linalg.norm(M34, axis=1), M34)),
        ("norm_vjp(a, b, c, 2, -1, True)", (M31, np.linalg.norm(M34, axis=-1, keepdims=True), M34)),
        ("norm_vjp(a, b, c, None, (0, 1))", (1.5, np.linalg.norm(M34), M34)),
        ("norm_vjp(a, b, c, None, (2, 0), True)", (np.ones((1, 3, 1)), np.ones((1, 3, 1)), T234)),
        ("norm_vjp(a, b, c, None, 0)", (V3, np.array([1.0, 0.0, 2.0]), M34[:, :3] * [1.0, 0.0, 1.0])),
        ("norm_vjp(a, b, c, 1)", (1.5, np.abs(WITH_ZERO).sum(), WITH_ZERO)),
        ("norm_vjp(a, b, c, 0)", (1.5, 3.0, WITH_ZERO)),
        ("norm_vjp(a, b, c, 3)", (1.5, np.linalg.norm(WITH_ZERO, 3), WITH_ZERO)),
        ("norm_vjp(a, b, c, -1)", (1.5, np.linalg.norm(V3, -1), V3)),
    ],
    runtime.curvature_ord: [("curvature_ord(None, a, None)", (M34,)), ("curvature_ord(None, a, 1)", (V3,))],
    runtime.norm_jvp: [
        ("norm_jvp(a, b, c)", (M34.T, np.linalg.norm(M43), M43)),
        ("norm_jvp(a, b, c)", (V4, 0.0, np.zeros(4))),
        ("norm_jvp(a, b, c, 2)", (V4, np.linalg.norm(WITH_ZERO), WITH_ZERO)),
        ("norm_jvp(a, b, c, 1)", (V4, np.linalg.norm(WITH_ZERO, 1), WITH_ZERO)),
        ("norm_jvp(a, b, c, 0)", (V4, 3.0, WITH_ZERO)),
    ],
    runtime.solve_vjp_a: [
        ("solve_vjp_a(a, b, c, b)", (V3, np.linalg.solve(S33 := M34 @ M43 + 3 * np.eye(3), V3), S33)),
        ("solve_vjp_a(a, b, c, a)", (M34, np.linalg.solve(S33, M34), S33)),
    ],
    runtime.solve_vjp_b: [("solve_vjp_b(a, b, c)", (V3, S33, V3)), ("solve_vjp_b(a, b, c)", (M34, S33, M34))],
    runtime.solve_jvp_a: [
        ("solve_jvp_a(a, b, c, b)", (M34 @ M43 / 4, np.linalg.solve(S33, V3), S33)),
        ("solve_jvp_a(a, b, c, b)", (S33.T, np.linalg.solve(S33, M34), S33)),
    ],
    runtime.matrix_power_vjp: [
        ("matrix_power_vjp(a, b, 3)", (S33.T, S33)),
        ("matrix_power_vjp(a, b, -2)", (S33.T, S33)),
        ("matrix_power_vjp(a, b, 0)", (S33.T, S33)),
        ("matrix_power_vjp(a, b, c)", (S33.T, S33, 1)),
    ],
    runtime.matrix_power_jvp: [
        ("matrix_power_jvp(a, b, 2)", (S33.T, S33)),
        ("matrix_power_jvp(a, b, -1)", (S33.T, S33)),
    ],
    runtime.slogdet_vjp: [
        ("slogdet_vjp((0.0, a), b)", (1.5, S33)),
        ("slogdet_vjp(a, b)", ((0.0, 2.0), -S33)),
    ],
    runtime.slogdet_jvp: [("slogdet_jvp(a, (1.0, 2.0), b)", (S33.T, S33))],
    runtime.pinv_vjp: [
        ("pinv_vjp(a, b, c)", (M43, np.linalg.pinv(M34), M34)),
        ("pinv_vjp(a, b, c)", (S33, np.linalg.inv(S33), S33)),
    ],
    runtime.pinv_jvp: [("pinv_jvp(a, b, c)", (M34, np.linalg.pinv(M34), M34))],
    runtime.cholesky_vjp: [
        ("cholesky_vjp(a, b)", (S33.T, np.linalg.cholesky(SPD := M34 @ M34.T + np.eye(3))))
    ],
    runtime.cholesky_jvp: [("cholesky_jvp(a, b)", (SPD.T + SPD, np.linalg.cholesky(SPD)))],
    runtime.eigh_vjp: [
        ("eigh_vjp((a, b), c)", (V3, S33, tuple(np.linalg.eigh(SPD)))),
        ("eigh_vjp((a, b * 0.0), c, 'U')", (V3, S33, tuple(np.linalg.eigh(S33, "U")))),
        ("eigh_vjp((a, b), c, 'L')", (V3 * 0.0, S33, tuple(np.linalg.eigh(S33)))),
    ],
    runtime.eigh_jvp: [
        ("eigh_jvp(a, b)", (S33, tuple(np.linalg.eigh(SPD)))),
        ("eigh_jvp(a, b, 'U')", (S33, tuple(np.linalg.eigh(S33, "U")))),
    ],
    runtime.eigvalsh_vjp: [("eigvalsh_vjp(a, b)", (V3, S33)), ("eigvalsh_vjp(a, b, 'U')", (V3, S33))],
    runtime.eigvalsh_jvp: [
        ("eigvalsh_jvp(a, b)", (M34 @ M43, S33)),
        ("eigvalsh_jvp(a, b, 'U')", (M34 @ M43, S33)),
    ],
    runtime.svd_vjp: [
        ("svd_vjp(a, b, c)", ((S33, V3, S33.T), tuple(np.linalg.svd(S33)), S33)),
        ("svd_vjp((a[0] * 0.0, a[1], a[2]), b, c)", ((S33, V3, S33.T), tuple(np.linalg.svd(S33)), S33)),
        ("svd_vjp(a, b, c, False)", ((M43, V3, S33), tuple(np.linalg.svd(M43, False)), M43)),
        ("svd_vjp(a, b, c, False)", ((M34.T[:3], V3, M34), tuple(np.linalg.svd(M34, False)), M34)),
        ("svd_vjp(a, b, c, True, False)", (V3, np.linalg.svd(M34, compute_uv=False), M34)),
        ("svd_vjp(a, b, c, False, False)", (V3, np.linalg.svd(M43, compute_uv=False), M43)),
    ],
    runtime.svd_jvp: [
        ("svd_jvp(a, b, c)", (S33.T, tuple(np.linalg.svd(S33)), S33)),
        ("svd_jvp(a, b, c, False)", (M43[::-1], tuple(np.linalg.svd(M43, False)), M43)),
        ("svd_jvp(a, b, c, False)", (M34, tuple(np.linalg.svd(M34, False)), M34)),
        ("svd_jvp(a, b, c, False, False)", (M34, np.linalg.svd(M34, compute_uv=False), M34)),
    ],
    runtime.qr_jvp: [("qr_jvp(a, b, c)", (M43[::-1], tuple(np.linalg.qr(M43)), M43))],
    runtime.qr_vjp: [
        ("qr_vjp(a, b, c)", ((M43, S33), tuple(np.linalg.qr(M43)), M43)),
        ("qr_vjp(a, b, c, 'reduced')", ((S33.T, S33), tuple(np.linalg.qr(S33)), S33)),
    ],
    runtime.eig_vjp: [
        ("eig_vjp(a, b, c)", ((V3, S33), tuple(np.linalg.eig(SPD)), SPD)),
        (
            "eig_vjp((a[0], a[1] * 0.0), b, c)",
            ((V3, S33), tuple(np.linalg.eig(NS := S33 @ np.diag([1.0, 2.0, 4.0]) @ np.linalg.inv(S33))), NS),
        ),
    ],
    runtime.eig_jvp: [("eig_jvp(a, b)", (S33, tuple(np.linalg.eig(NS))))],
    runtime.eigvals_jvp: [("eigvals_jvp(a, b)", (S33, NS))],
    runtime.eigvals_vjp: [("eigvals_vjp(a, b)", (V3, NS))],
    runtime.multi_dot_vjp: [
        ("multi_dot_vjp(a, [b, c])", (M34 @ M34.T, M34, M43)),
        ("multi_dot_vjp(a, [b, c, b.T])", (M43 @ M34, M43, S33)),
    ],
    runtime.multi_dot_jvp: [
        ("multi_dot_jvp([b.T, a.T], [a, b])", (M34, M43)),
        ("multi_dot_jvp([a, b, c], [c, b, a])", (S33, S33.T, SPD)),
    ],
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
        if helper in EIG_HELPERS and numba_eig_is_complex():
            with pytest.raises(numba.core.errors.TypingError):  # (the twins take real outputs)
                numba.njit(case)(*args)
            continue
        _same(numba.njit(case)(*args), case(*args))


EIG_HELPERS = {runtime.eig_vjp, runtime.eig_jvp, runtime.eigvals_vjp, runtime.eigvals_jvp}


def numba_eig_is_complex() -> bool:
    """Whether numba's eig of a real matrix returns complex arrays, as numpy's does from 2.5 on
    (before, numba returned real ones and raised where an eigenvalue is complex): eig's twins
    take the real ones only, and are refused on the complex."""
    return numba.njit(lambda a: np.linalg.eigvals(a))(np.eye(2)).dtype.kind == "c"


def test_every_twin_has_cases():
    missing = [h.__name__ for h in TWINS if h not in CASES and h not in RAISING]
    assert not missing, f"twins without cases in {__file__}: {missing}"


def test_unbroadcast_kernel_sums_every_broadcast_pair():
    """``sum_to``, the loop under ``unbroadcast``'s twin, on every way an array of one to four
    axes sums to a shape of one or more axes (``()`` never reaches it: the twin sums a scalar's
    adjoint whole): numpy's sum over the broadcast axes, to rounding."""
    import itertools

    from srcgrad.twins import sum_to_kernel

    rng = np.random.default_rng(3)
    full = (2, 3, 1, 4)
    for n in range(1, len(full) + 1):
        g = rng.normal(size=full[len(full) - n :])
        for m in range(1, n + 1):
            for ones in itertools.product((False, True), repeat=m):
                shape = tuple(1 if one else k for one, k in zip(ones, g.shape[n - m :]))
                lead = tuple(range(n - m))
                kept = tuple(n - m + i for i, one in enumerate(ones) if one and g.shape[n - m + i] != 1)
                want = np.sum(g, axis=lead + kept, keepdims=True).reshape(shape)
                np.testing.assert_allclose(sum_to_kernel()(g, shape), want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ["sum", "max", "min", "mean", "prod"])
def test_reductions_take_axis_and_keepdims_as_numpy_does(name):
    """``axis=``/``keepdims=`` spelled in the call (as generated code spells the user's), for
    the reductions numba lacks them for; a ``keepdims`` known only at run time is refused, never
    guessed (it decides the result's shape)."""
    numba_module()
    x = np.arange(1.0, 7.0).reshape(2, 3)
    calls = [
        "np.{}(a)",
        "np.{}(a, axis=None)",
        "np.{}(a, axis=None, keepdims=False)",
        "np.{}(a, axis=None, keepdims=True)",
        "np.{}(a, axis=0)",
        "np.{}(a, axis=-1, keepdims=False)",
        "np.{}(a, axis=1, keepdims=True)",
        "np.{}(a, axis=(0, 1))",
        "np.{}(a, axis=(0, 1), keepdims=True)",
    ]
    for call in calls:
        for a in (x, x[0]):
            if a.ndim == 1 and "1" in call:
                continue
            case = _compile(call.format(name), 1)
            got, want = numba.njit(case)(a), case(a)
            assert np.shape(got) == np.shape(want), call
            np.testing.assert_allclose(got, want, rtol=1e-13)
    namespace = {"np": np}
    exec(f"def case(a, k):\n    return np.{name}(a, axis=0, keepdims=k)\n", namespace)  # noqa: S102
    with pytest.raises(numba.core.errors.TypingError):
        numba.njit(namespace["case"])(x, False)


def test_take_of_nd_indices_along_an_axis_keeps_their_shape():
    """numba's own ``np.take(a, i, axis=k)`` of a 2-d ``i`` drops its shape ((2, 4) for numpy's
    (2, 1, 4)): a wrong forward value under jit; srcgrad's overload takes them flat and shapes."""
    numba_module()
    a = np.arange(24.0).reshape(2, 3, 4)
    i = np.array([[0], [1]])
    for axis in (0, 1, 2, -1):
        case = _compile(f"np.take(a, b, axis={axis})", 2)
        got, want = numba.njit(case)(a, i), case(a, i)
        assert got.shape == want.shape and np.array_equal(got, want)
