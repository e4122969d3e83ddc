"""Rules for the helpers generated code calls, so that generated code can be differentiated again.

``hessian`` applies forward mode to generated gradient code, and ``grad(grad(f))`` applies
reverse mode to it: every helper that code calls needs a rule of its own. Most helpers are
linear in their first argument (an adjoint or a tangent), so their rules are other helpers
of this module: the adjoint of ``unbroadcast`` is ``expand``, that of ``expand`` is
``unexpand``, and so on, a set closed under differentiation. ``zero=`` lists the operands
that only give shapes, indices or masks.

Helpers without a rule here (``solve_vjp_a``, ``solve_vjp_b``) are differentiated by
inlining their source, like a user's helper function.
"""

from .. import runtime
from .registry import defrule, nondifferentiable

nondifferentiable(
    runtime.check_scalar, runtime.not_scalar, runtime.grad_dtype, runtime.inside, runtime.zero_tangent,
    runtime.unit_vectors, runtime.linspace_weights, runtime.zero_adjoint, runtime.zeros_like_list,
    runtime.is_start, runtime.size_one_refused, runtime.same_items, runtime.not_a_dict, runtime.size_of,
)  # fmt: skip

# fmt: off
# Sums and broadcasts: each is the other's adjoint.
defrule(runtime.unbroadcast, "v, x", d_v="expand(g, v)", t_v="unbroadcast(t, x)", zero="x", spelling="unbroadcast")
defrule(runtime.expand, "v, x, axis=None, keepdims=False", d_v="unexpand(g, v, axis, keepdims)", t_v="expand(t, x, axis, keepdims)", zero="x", spelling="expand")
defrule(runtime.filled, "value, x", d_value="g", t_value="filled(t, x)", zero="x", spelling="filled")
defrule(runtime.unexpand, "v, w, axis=None, keepdims=False", d_v="expand(g, v, axis, keepdims)", t_v="unexpand(t, w, axis, keepdims)", zero="w", spelling="unexpand")

# x ** y differentiated with respect to y.
defrule(runtime.xlogy, "a, b", d_a="xlogy(g, b)", d_b="g * xdivy(a, b)", t_a="xlogy(t, b)", t_b="t * xdivy(a, b)", unbroadcast=True, elementwise=True, spelling="xlogy")
defrule(runtime.xdivy, "a, b", d_a="xdivy(g, b)", d_b="-xdivy(g * a, b ** 2)", t_a="xdivy(t, b)", t_b="-xdivy(t * a, b ** 2)", unbroadcast=True, elementwise=True, spelling="xdivy")

# Max and min: the entries that attain the extremum (a mask) carry the derivative.
defrule(runtime.extremum_grad, "v, x, m, axis=None, keepdims=False", d_v="unbroadcast(extremum_jvp(g, x, m, axis, keepdims), v)", t_v="extremum_grad(t, x, m, axis, keepdims)", zero="x, m", spelling="extremum_grad")
defrule(runtime.extremum_jvp, "u, x, m, axis=None, keepdims=False", d_u="extremum_grad(g, x, m, axis, keepdims)", t_u="extremum_jvp(t, x, m, axis, keepdims)", zero="x, m", spelling="extremum_jvp")

# Products: bilinear in the adjoint and the other operand; the operand itself gives the shape.
defrule(runtime.dot_vjp_a, "v, a, b", d_v="np.dot(g, b)", d_b="dot_vjp_b(v, g, b)", t_v="dot_vjp_a(t, a, b)", t_b="dot_vjp_a(v, a, t)", zero="a", spelling="dot_vjp_a")
defrule(runtime.dot_vjp_b, "v, a, b", d_v="np.dot(a, g)", d_a="dot_vjp_a(v, a, g)", t_v="dot_vjp_b(t, a, b)", t_a="dot_vjp_b(v, t, b)", zero="b", spelling="dot_vjp_b")
defrule(runtime.matmul_vjp_a, "v, a, b", d_v="g @ b", d_b="matmul_vjp_b(v, g, b)", t_v="matmul_vjp_a(t, a, b)", t_b="matmul_vjp_a(v, a, t)", zero="a", spelling="matmul_vjp_a")
defrule(runtime.matmul_vjp_b, "v, a, b", d_v="a @ g", d_a="matmul_vjp_a(v, a, g)", t_v="matmul_vjp_b(t, a, b)", t_a="matmul_vjp_b(v, t, b)", zero="b", spelling="matmul_vjp_b")
defrule(runtime.inner_vjp_a, "v, a, b", d_v="np.inner(g, b)", d_b="inner_vjp_b(v, g, b)", t_v="inner_vjp_a(t, a, b)", t_b="inner_vjp_a(v, a, t)", zero="a", spelling="inner_vjp_a")
defrule(runtime.inner_vjp_b, "v, a, b", d_v="np.inner(a, g)", d_a="inner_vjp_a(v, a, g)", t_v="inner_vjp_b(t, a, b)", t_a="inner_vjp_b(v, t, b)", zero="b", spelling="inner_vjp_b")
defrule(runtime.trace_vjp, "v, x, offset=0, axis1=0, axis2=1", d_v="np.trace(g, offset=offset, axis1=axis1, axis2=axis2)", t_v="trace_vjp(t, x, offset, axis1, axis2)", zero="x", spelling="trace_vjp")

# np.prod: the second derivative multiplies pairs of other entries (prod_others_jvp: its rule,
# with the third derivative, is in longtail.py).
defrule(runtime.prod_vjp, "v, x, axis=None, keepdims=False", d_v="unbroadcast(prod_jvp(g, x, axis, keepdims), v)", d_x="prod_others_jvp(x, g * expand(v, x, axis, keepdims), axis)", t_v="prod_vjp(t, x, axis, keepdims)", t_x="prod_others_jvp(x, t, axis) * expand(v, x, axis, keepdims)", spelling="prod_vjp")
defrule(runtime.prod_jvp, "u, x, axis=None, keepdims=False", d_u="prod_vjp(g, x, axis, keepdims)", d_x="prod_others_jvp(x, u * expand(g, x, axis, keepdims), axis)", t_u="prod_jvp(t, x, axis, keepdims)", t_x="np.sum(prod_others_jvp(x, t, axis) * u, axis=axis, keepdims=keepdims)", spelling="prod_jvp")

# np.linalg.norm: the 2-norm's adjoint is x / norm, linear in the adjoint and in x once the norm
# n is fixed; other ords take their weights from x alone (curvature_ord: zero second-order terms
# for the norms linear in pieces, the others refused).
defrule(runtime.norm_vjp, "v, n, x, ord=None, axis=None, keepdims=False", d_v="unbroadcast(norm_jvp(g, n, x, ord, axis, keepdims), v)", d_n="-xdivy(v * norm_jvp(g, n, x, curvature_ord(ord, x, axis), axis, keepdims), n)", d_x="norm_vjp(v, n, g, curvature_ord(ord, x, axis), axis, keepdims)", t_v="norm_vjp(t, n, x, ord, axis, keepdims)", t_n="-norm_vjp(xdivy(v * t, n), n, x, curvature_ord(ord, x, axis), axis, keepdims)", t_x="norm_vjp(v, n, t, curvature_ord(ord, x, axis), axis, keepdims)", spelling="norm_vjp")
defrule(runtime.norm_jvp, "u, n, x, ord=None, axis=None, keepdims=False", d_u="norm_vjp(g, n, x, ord, axis, keepdims)", d_n="-xdivy(g * norm_jvp(u, n, x, curvature_ord(ord, x, axis), axis, keepdims), n)", d_x="norm_vjp(g, n, u, curvature_ord(ord, x, axis), axis, keepdims)", t_u="norm_jvp(t, n, x, ord, axis, keepdims)", t_n="-xdivy(t * norm_jvp(u, n, x, curvature_ord(ord, x, axis), axis, keepdims), n)", t_x="norm_jvp(u, n, t, curvature_ord(ord, x, axis), axis, keepdims)", spelling="norm_jvp")

# np.linalg.solve, forward mode: linear in the tangent (the third derivative is refused).
defrule(runtime.solve_jvp_a, "u, x, a, b", d_u="solve_vjp_a(g, x, a, b)", t_u="solve_jvp_a(t, x, a, b)", zero="b", spelling="solve_jvp_a")

# Shapes, indexing, joining and splitting: linear, each undone by another.
defrule(runtime.untranspose, "v, axes", d_v="np.transpose(g, axes=axes)", t_v="untranspose(t, axes)", zero="axes", spelling="untranspose")
defrule(runtime.getitem_grad, "v, x, index", d_v="g[index]", t_v="getitem_grad(t, x, index)", zero="x, index", spelling="getitem_grad")
defrule(runtime.without_item, "v, index", d_v="without_item(g, index)", t_v="without_item(t, index)", zero="index", spelling="without_item")
defrule(runtime.unarray, "v, obj", d_v="rearray(g, v, obj)", t_v="unarray(t, obj)", zero="obj", spelling="unarray")
defrule(runtime.rearray, "v, like, obj", d_v="unarray(g, obj)", t_v="rearray(t, like, obj)", zero="like, obj", spelling="rearray")
defrule(runtime.sum_vjp, "v, items", d_v="sum_all(g, v)", t_v="sum_vjp(t, items)", zero="items", spelling="sum_vjp", sequence=True)
defrule(runtime.sum_all, "vs, like", d_vs="sum_vjp(g, vs)", t_vs="sum_all(t, like)", zero="like", spelling="sum_all")
defrule(runtime.item_grad, "v, index, value", d_v="with_item(np.zeros_like(v), index, g)", t_v="item_grad(t, index, value)", zero="index, value", spelling="item_grad")
defrule(runtime.unconcatenate, "v, arrays, axis=0", d_v="np.concatenate(g, axis=axis)", t_v="unconcatenate(t, arrays, axis)", zero="arrays", spelling="unconcatenate", sequence=True)
defrule(runtime.unstack, "v, arrays, axis=0", d_v="np.stack(g, axis=axis)", t_v="unstack(t, arrays, axis)", zero="arrays", spelling="unstack", sequence=True)
defrule(runtime.unstack_like, "v, arrays, axis", d_v="stack_like(g, axis)", t_v="unstack_like(t, arrays, axis)", zero="arrays", spelling="unstack_like", sequence=True)
defrule(runtime.stack_like, "parts, axis", d_parts="unstack_like(g, parts, axis)", t_parts="stack_like(t, axis)", spelling="stack_like")

# Jacobians from forward-mode passes (the loops of grad(f, mode="forward") and hessian).
defrule(runtime.from_columns, "columns, x, like=0.0", d_columns="columns_of(g, x)", t_columns="from_columns(t, x, like)", zero="x, like", spelling="from_columns")
defrule(runtime.columns_of, "v, x", d_v="from_columns(g, x)", t_v="columns_of(t, x)", zero="x", spelling="columns_of")

# Lists (the tape of reverse-mode loops among them): their adjoints and tangents are lists.
# (sequence=True on a helper: it returns a list, which the next differentiation indexes as one.)
defrule(runtime.list_item_grad, "v, items, index", d_v="g[index]", t_v="list_item_grad(t, items, index)", zero="items, index", spelling="list_item_grad", sequence=True)
defrule(runtime.add_lists, "a, b", d_a="g", d_b="g", t_a="t", t_b="t", t="add_lists(t_a, t_b)", spelling="add_lists", sequence=True)
# fmt: on

nondifferentiable(
    runtime.nan_max_share,
    runtime.nan_weights,
    runtime.average_share,
    runtime.sort_indices,
    runtime.trapezoid_weights,
    runtime.median_weights,
    runtime.select_untaken,
    runtime.chain_subscripts,
)

# fmt: off
# Issue 7's helpers. safe_div is a / b with 0 where b is 0.
defrule(runtime.safe_div, "a, b", d_a="safe_div(g, b)", d_b="-safe_div(g * a, b ** 2)", t_a="safe_div(t, b)", t_b="-safe_div(t * a, b ** 2)", unbroadcast=True, elementwise=True, spelling="safe_div")
# Scans: the adjoint of a cumulative sum sums from the end; cumprod's helpers are linear in
# the adjoint or tangent (their derivatives with respect to the array, cumprod's second
# derivative, are refused).
defrule(runtime.cumsum_vjp, "v, a, axis=None", d_v="np.cumsum(g, axis=axis)", t_v="cumsum_vjp(t, a, axis)", zero="a", spelling="cumsum_vjp")
defrule(runtime.cumprod_vjp, "v, a, axis=None", d_v="cumprod_jvp(g, a, axis)", t_v="cumprod_vjp(t, a, axis)", spelling="cumprod_vjp")
defrule(runtime.cumprod_jvp, "u, a, axis=None", d_u="cumprod_vjp(g, a, axis)", t_u="cumprod_jvp(t, a, axis)", spelling="cumprod_jvp")
defrule(runtime.diff_vjp, "v, a, n=1, axis=-1", d_v="np.diff(g, n, axis)", t_v="diff_vjp(t, a, n, axis)", zero="a", spelling="diff_vjp")
# Shapes and indexing: linear, each undone by a numpy function.
defrule(runtime.uncolumn_stack, "v, arrays", d_v="np.column_stack(g)", t_v="uncolumn_stack(t, arrays)", zero="arrays", spelling="uncolumn_stack", sequence=True)
defrule(runtime.untile, "v, a, reps", d_v="np.tile(g, reps)", t_v="untile(t, a, reps)", zero="a, reps", spelling="untile")
defrule(runtime.unrepeat, "v, a, repeats, axis=None", d_v="np.repeat(g, repeats, axis)", t_v="unrepeat(t, a, repeats, axis)", zero="a, repeats", spelling="unrepeat")
defrule(runtime.undiag, "v, x, k=0", d_v="np.diag(g, k)", t_v="undiag(t, x, k)", zero="x", spelling="undiag")
defrule(runtime.undiagonal, "v, x, offset=0, axis1=0, axis2=1", d_v="np.diagonal(g, offset, axis1, axis2)", t_v="undiagonal(t, x, offset, axis1, axis2)", zero="x", spelling="undiagonal")
defrule(runtime.take_vjp, "v, x, indices, axis=None, mode='raise'", d_v="np.take(g, indices, axis=axis, mode=mode)", t_v="take_vjp(t, x, indices, axis, mode)", zero="x, indices", spelling="take_vjp")
defrule(runtime.take_along_axis_vjp, "v, x, indices, axis=-1", d_v="np.take_along_axis(g, indices, axis)", t_v="take_along_axis_vjp(t, x, indices, axis)", zero="x, indices", spelling="take_along_axis_vjp")
defrule(runtime.unpad, "v, pad_width, mode='constant'", d_v="np.pad(g, pad_width, mode)", t_v="unpad(t, pad_width, mode)", zero="pad_width", spelling="unpad")
# Products: bilinear in the adjoint and the other operand, as dot_vjp_a and dot_vjp_b.
defrule(runtime.tensordot_vjp_a, "v, a, b, axes=2", d_v="np.tensordot(g, b, axes)", d_b="tensordot_vjp_b(v, g, b, axes)", t_v="tensordot_vjp_a(t, a, b, axes)", t_b="tensordot_vjp_a(v, a, t, axes)", zero="a", spelling="tensordot_vjp_a")
defrule(runtime.tensordot_vjp_b, "v, a, b, axes=2", d_v="np.tensordot(a, g, axes)", d_a="tensordot_vjp_a(v, a, g, axes)", t_v="tensordot_vjp_b(t, a, b, axes)", t_a="tensordot_vjp_b(v, t, b, axes)", zero="b", spelling="tensordot_vjp_b")
defrule(runtime.kron_vjp_a, "v, a, b", d_v="np.kron(g, b)", d_b="kron_vjp_b(v, g, b)", t_v="kron_vjp_a(t, a, b)", t_b="kron_vjp_a(v, a, t)", zero="a", spelling="kron_vjp_a")
defrule(runtime.kron_vjp_b, "v, a, b", d_v="np.kron(a, g)", d_a="kron_vjp_a(v, a, g)", t_v="kron_vjp_b(t, a, b)", t_a="kron_vjp_b(v, t, b)", zero="b", spelling="kron_vjp_b")
# multi_dot is an einsum (chain_subscripts): its helpers' derivatives with respect to the
# factors are einsum's. np.select's adjoint is linear in g and only reads the choices' shapes.
defrule(runtime.multi_dot_vjp, "v, arrays", d_v="np.reshape(multi_dot_jvp(g, arrays), np.shape(v))", d_arrays="einsum_cross(v, chain_subscripts(arrays), arrays, g)", t_v="multi_dot_vjp(t, arrays)", t_arrays="einsum_cross(v, chain_subscripts(arrays), arrays, t)", t="add_lists(multi_dot_vjp(t_v, arrays), einsum_cross(v, chain_subscripts(arrays), arrays, t_arrays))", spelling="multi_dot_vjp", sequence=True)
defrule(runtime.multi_dot_jvp, "u, arrays", d_u="multi_dot_vjp(g, arrays)", d_arrays="einsum_cross(g, chain_subscripts(arrays), arrays, u)", t_u="multi_dot_jvp(t, arrays)", t_arrays="einsum_jvp_cross(u, t, chain_subscripts(arrays), arrays)", spelling="multi_dot_jvp")
defrule(runtime.select_vjp, "v, condlist, choicelist", d_v="select_where(condlist, g, zero_tangent(v))", t_v="select_vjp(t, condlist, choicelist)", zero="condlist, choicelist", spelling="select_vjp", sequence=True)
defrule(runtime.select_where, "condlist, choicelist, default=0", d_choicelist="select_vjp(g, condlist, choicelist)", d_default="unbroadcast(np.where(select_untaken(condlist), g, 0.0), default)", t_choicelist="select_where(condlist, t, zero_tangent(default))", t_default="select_where(condlist, zero_tangent(choicelist), t)", zero="condlist", spelling="select_where")
# einsum: its adjoints and tangent are linear in g (t) and in each operand but their own; their
# derivatives with respect to the operands are einsum_cross and einsum_jvp_cross. (Tangents
# of lists add with add_lists, never +.)
defrule(runtime.einsum_vjps, "v, subscripts, operands", d_v="einsum_jvp(g, subscripts, operands)", d_operands="einsum_cross(v, subscripts, operands, g)", t_v="einsum_vjps(t, subscripts, operands)", t_operands="einsum_cross(v, subscripts, operands, t)", t="add_lists(einsum_vjps(t_v, subscripts, operands), einsum_cross(v, subscripts, operands, t_operands))", spelling="einsum_vjps", sequence=True)
defrule(runtime.einsum_jvp, "u, subscripts, operands", d_u="einsum_vjps(g, subscripts, operands)", d_operands="einsum_cross(g, subscripts, operands, u)", t_u="einsum_jvp(t, subscripts, operands)", t_operands="einsum_jvp_cross(u, t, subscripts, operands)", spelling="einsum_jvp")
# Casts: linear in the adjoint or tangent (zero for an integer dtype).
defrule(runtime.astype_vjp, "v, a, dtype", d_v="astype_jvp(g, dtype)", t_v="astype_vjp(t, a, dtype)", zero="a, dtype", spelling="astype_vjp")
defrule(runtime.astype_jvp, "u, dtype", d_u="astype_vjp(g, u, dtype)", t_u="astype_jvp(t, dtype)", zero="dtype", spelling="astype_jvp")
# fmt: on

# fmt: off
# More numpy functions: linear helpers, each undone by another or by a numpy function.
# Complex numbers: the helpers of the rules of abs, angle, real and imag. Each is linear in its
# first argument (an adjoint or a tangent) and undone by another; where a derivative in x is zero
# for real x (a sign) and is not for complex x, real_zero refuses the complex case.
defrule(runtime.abs_vjp, "v, x", d_v="abs_jvp(g, x)", d_x="real_zero(x, 'the second derivative of np.abs')", t_v="abs_vjp(t, x)", t_x="real_zero(x, 'the second derivative of np.abs')", spelling="abs_vjp", elementwise=True)
defrule(runtime.abs_jvp, "u, x", d_u="abs_vjp(g, x)", d_x="real_zero(x, 'the second derivative of np.abs')", t_u="abs_jvp(t, x)", t_x="real_zero(x, 'the second derivative of np.abs')", spelling="abs_jvp", elementwise=True)
defrule(runtime.angle_vjp, "v, x, deg=False", d_v="angle_jvp(g, x, deg)", d_x="real_zero(x, 'the second derivative of np.angle')", t_v="angle_vjp(t, x, deg)", t_x="real_zero(x, 'the second derivative of np.angle')", spelling="angle_vjp", elementwise=True)
defrule(runtime.angle_jvp, "u, x, deg=False", d_u="angle_vjp(g, x, deg)", d_x="real_zero(x, 'the second derivative of np.angle')", t_u="angle_jvp(t, x, deg)", t_x="real_zero(x, 'the second derivative of np.angle')", spelling="angle_jvp", elementwise=True)
defrule(runtime.real_vjp, "v, x", d_v="real_vjp(g, x)", t_v="real_vjp(t, x)", zero="x", spelling="real_vjp")
defrule(runtime.imag_vjp, "v, x", d_v="imag_of(g, x)", t_v="imag_vjp(t, x)", zero="x", spelling="imag_vjp")
defrule(runtime.imag_of, "v, x", d_v="imag_vjp(g, x)", t_v="imag_of(t, x)", zero="x", spelling="imag_of")
defrule(runtime.real_like, "v, x", d_v="real_like(g, x)", t_v="real_like(t, x)", zero="x", spelling="real_like")
# x ** y differentiated with respect to y: log(x), 0 where x is 0 (0 ** y is constant for y > 0).
defrule(runtime.safe_log, "x", d_x="safe_div(g, x)", t_x="safe_div(t, x)", elementwise=True, spelling="safe_log")
defrule(runtime.drop_initial, "v, axis=None, include_initial=False", d_v="with_initial(g, axis, include_initial)", t_v="drop_initial(t, axis, include_initial)", spelling="drop_initial")
defrule(runtime.with_initial, "v, axis=None, include_initial=False", d_v="drop_initial(g, axis, include_initial)", t_v="with_initial(t, axis, include_initial)", spelling="with_initial")
defrule(runtime.unappend_arr, "v, arr, values, axis=None", d_v="np.append(g, zero_tangent(values), axis)", t_v="unappend_arr(t, arr, values, axis)", zero="arr, values", spelling="unappend_arr")
defrule(runtime.unappend_values, "v, arr, values, axis=None", d_v="np.append(zero_tangent(arr), g, axis)", t_v="unappend_values(t, arr, values, axis)", zero="arr, values", spelling="unappend_values")
defrule(runtime.uninsert_arr, "v, arr, obj, values, axis=None", d_v="np.insert(g, obj, zero_tangent(values), axis)", t_v="uninsert_arr(t, arr, obj, values, axis)", zero="arr, obj, values", spelling="uninsert_arr")
defrule(runtime.uninsert_values, "v, arr, obj, values, axis=None", d_v="np.insert(zero_tangent(arr), obj, g, axis)", t_v="uninsert_values(t, arr, obj, values, axis)", zero="arr, obj, values", spelling="uninsert_values")
defrule(runtime.undelete, "v, arr, obj, axis=None", d_v="np.delete(g, obj, axis)", t_v="undelete(t, arr, obj, axis)", zero="arr, obj", spelling="undelete")
# convolve and correlate: bilinear in the adjoint and the other operand (as dot_vjp_a).
defrule(runtime.convolve_vjp_a, "v, a, w, mode='full'", d_v="np.convolve(g, w, mode)", d_w="convolve_vjp_v(v, g, w, mode)", t_v="convolve_vjp_a(t, a, w, mode)", t_w="convolve_vjp_a(v, a, t, mode)", zero="a", spelling="convolve_vjp_a")
defrule(runtime.convolve_vjp_v, "v, a, w, mode='full'", d_v="np.convolve(a, g, mode)", d_a="convolve_vjp_a(v, a, g, mode)", t_v="convolve_vjp_v(t, a, w, mode)", t_a="convolve_vjp_v(v, t, w, mode)", zero="w", spelling="convolve_vjp_v")
defrule(runtime.correlate_vjp_a, "v, a, w, mode='valid'", d_v="np.correlate(g, w, mode)", d_w="correlate_vjp_v(v, g, w, mode)", t_v="correlate_vjp_a(t, a, w, mode)", t_w="correlate_vjp_a(v, a, t, mode)", zero="a", spelling="correlate_vjp_a")
defrule(runtime.correlate_vjp_v, "v, a, w, mode='valid'", d_v="np.correlate(a, g, mode)", d_a="correlate_vjp_a(v, a, g, mode)", t_v="correlate_vjp_v(t, a, w, mode)", t_a="correlate_vjp_v(v, t, w, mode)", zero="w", spelling="correlate_vjp_v")
# polyval's adjoint of p: linear in the adjoint; in x, the derivative polynomial's.
defrule(runtime.polyval_vjp_p, "v, p, x", d_v="np.polyval(g, x)", d_x="v * np.polyval(g[:-1] * np.arange(np.size(g) - 1, 0, -1), x)", t_v="polyval_vjp_p(t, p, x)", t_x="np.append(polyval_vjp_p(v * t, p[:-1], x) * np.arange(np.size(p) - 1, 0, -1), 0.0)", zero="p", spelling="polyval_vjp_p")
# interp's adjoint and tangent of fp: linear in g (t), each the other's adjoint; their
# derivatives in x and xp are refused (no template).
defrule(runtime.interp_vjp_fp, "v, x, xp, left=None, right=None, period=None", d_v="interp_jvp_fp(g, x, xp, left, right, period)", t_v="interp_vjp_fp(t, x, xp, left, right, period)", zero="left, right, period", spelling="interp_vjp_fp")
defrule(runtime.interp_jvp_fp, "u, x, xp, left=None, right=None, period=None", d_u="interp_vjp_fp(g, x, xp, left, right, period)", t_u="interp_jvp_fp(t, x, xp, left, right, period)", zero="left, right, period", spelling="interp_jvp_fp")
# meshgrid and broadcast_arrays: lists in, lists out; each helper undone by the other.
defrule(runtime.meshgrid_vjp, "v, xi, sparse=False, indexing='xy'", d_v="meshgrid_jvp(g, sparse, indexing)", t_v="meshgrid_vjp(t, xi, sparse, indexing)", zero="xi", spelling="meshgrid_vjp", sequence=True)
defrule(runtime.meshgrid_jvp, "ts, sparse=False, indexing='xy'", d_ts="meshgrid_vjp(g, ts, sparse, indexing)", t_ts="meshgrid_jvp(t, sparse, indexing)", spelling="meshgrid_jvp", sequence=True)
defrule(runtime.broadcast_arrays_vjp, "v, args", d_v="broadcast_arrays_jvp(g)", t_v="broadcast_arrays_vjp(t, args)", zero="args", spelling="broadcast_arrays_vjp", sequence=True)
defrule(runtime.broadcast_arrays_jvp, "ts", d_ts="broadcast_arrays_vjp(g, ts)", t_ts="broadcast_arrays_jvp(t)", spelling="broadcast_arrays_jvp", sequence=True)
# fmt: on

nondifferentiable(
    runtime.check_real,
    runtime.real_zero,
    runtime.real_only,
    runtime.curvature_ord,
    runtime.nan_median_weights,
    runtime.interp_segment,
    runtime.interp_inside,
    runtime.interp_below,
    runtime.interp_above,
)

# Containers (tuples, lists, dicts, namedtuples): the adjoint of a container from the adjoints
# of its items, linear in them (``items`` is a dict literal of adjoints); ``x`` gives the structure
# (and places a namedtuple's field names in an adjoint that is a plain sequence).
# fmt: off
defrule(runtime.items_grad, "x, items", d_items="items_of(g, items, x)", t_items="items_grad(x, t)", zero="x", spelling="items_grad", sequence=True)
defrule(runtime.add_items, "total, items", d_total="g", d_items="items_of(g, items, total)", t_total="t", t_items="add_items(zero_tangent(total), t)", t="add_items(t_total, t_items)", spelling="add_items", sequence=True)
defrule(runtime.add_item, "total, index, v", d_total="g", d_v="field_of(g, index, total)", t_total="t", t_v="add_item(zero_tangent(total), index, t)", t="add_item(t_total, index, t_v)", zero="index", spelling="add_item", sequence=True)
defrule(runtime.field_grad, "v, x, key", d_v="field_of(g, key, x)", t_v="field_grad(t, x, key)", zero="x, key", spelling="field_grad", sequence=True)
defrule(runtime.items_of, "v, items, like=None", d_v="items_grad(v, g)", t_v="items_of(t, items, like)", zero="items, like", spelling="items_of", sequence=True)
defrule(runtime.field_of, "x, key, like=None", d_x="field_grad(g, x, key)", t_x="field_of(t, key, like)", zero="key, like", spelling="field_of")
# Jacobians from reverse-mode passes (the loop of jacobian): rows stacked, and split back.
defrule(runtime.from_rows, "rows, like, x", d_rows="rows_of(g, x)", t_rows="from_rows(t, like, x)", zero="like, x", spelling="from_rows")
defrule(runtime.rows_of, "v, x", d_v="np.reshape(np.stack(g), np.shape(v))", t_v="rows_of(t, x)", zero="x", spelling="rows_of", sequence=True)
# fmt: on
nondifferentiable(runtime.tree_size, runtime.zeros_like_tree, runtime.is_namedtuple)
