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
    runtime.prod_vjp: [("prod_vjp(a, b)", (2.0, WITH_ZERO)), ("prod_vjp(a, b)", (2.0, M34))],
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
    runtime.cumsum_vjp: [("cumsum_vjp(a, b)", (V4, V4)), ("cumsum_vjp(a, b)", (M34.ravel(), M34))],
    runtime.real_vjp: [("real_vjp(a, b)", (V3, V3)), ("real_vjp(a, b)", (V3, V3 + 1j))],
    runtime.abs_vjp: [("abs_vjp(a, b)", (V4, WITH_ZERO)), ("abs_vjp(a, b)", (V3, V3 + 1j * V3[::-1]))],
}
RAISING = {  # helpers whose twins refuse: the error they raise under numba
    runtime.size_one_gradient: ("size_one_gradient(None, a)", (V3,), errors.NonScalarOutputError),
}


def _compile(call: str, n: int):
    names = ["a", "b", "c"][:n]
    namespace = {name: getattr(runtime, name) for name in runtime.HELPERS}
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
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
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
