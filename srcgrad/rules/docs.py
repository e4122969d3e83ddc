"""Write ``docs/rules.md``, the table of every built-in derivative rule, from the registry.

Run ``python -m srcgrad.rules.docs`` after changing a rule; ``tests/test_rules.py`` fails
while the page is stale. ``--check`` only reports whether it is.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import BUILTIN_RULES
from .registry import Rule, load_on_demand

COMMAND = "python -m srcgrad.rules.docs"
PATH = Path(__file__).resolve().parents[2] / "docs" / "rules.md"

HEADER = f"""# Derivative rules

Generated from srcgrad's rule registry (`srcgrad.rules.RULES`) by `{COMMAND}`; do not edit by hand.

Each differentiable function has an **adjoint** template per operand (reverse mode: `g` is the
adjoint of the output, `ans` the output) and a **tangent** template (forward mode: `t` is the
operand's tangent; the output's tangent is the sum over the operands that carry one, or the
one `t=` expression shown). Operands listed under *zero* only give shapes, indices or masks.
Runtime helpers (`expand`, `unbroadcast`, ...) live in `srcgrad/runtime/`; they have rules
too, so that generated code can be differentiated again (`hessian`, `grad(grad(f))`).

Your own rules: `@srcgrad.adjoint(fn)` and `@srcgrad.tangent(fn)` above a small function whose
parameters are `g` (or `t`), `ans` and `fn`'s, returning the template (see
`srcgrad/rules/custom.py`); `srcgrad.nondifferentiable(fn)` for a zero derivative, and
`srcgrad.stop_gradient(x)` to treat a value as a constant.

Non-differentiable points get a finite choice, never NaN: `abs`/`fabs`/`sign` at 0 give 0;
ties of `maximum`/`minimum`/`fmax`/`fmin`/`max`/`min`/`ptp` share the derivative evenly;
`fmax`/`fmin` pass it to the operand that is not NaN; `cbrt` at 0 and `hypot` at the origin
give 0; `sinc` at 0 gives its true value 0; `linalg.norm` at 0 gives 0 for every `ord`, so do
the zero entries of a p-norm with p < 1, and ties of the max/min norms (`ord=inf`, matrix
`ord=1`, ...) share the derivative evenly; `nansum`/`nanmean` give NaN entries 0; `sort` and
`median` pass tied entries' derivatives in stable order; `mod`/`fmod` at their jumps take the
derivative of the piece that starts there. Powers at 0, as autograd: `x ** 0` has derivative
0 (also at x = 0), and `0.0 ** y` has derivative 0 in `y` at every order (`log(x)` is taken as
0 where x is 0: `safe_log`); `std` of one element has derivative 0 (and, at a constant array,
the subgradient 0).

Complex arrays, as autograd and JAX: the gradient of a real function of z = u + iv is
df/du - i df/dv. In that convention the templates of holomorphic functions (`exp`, `*`, `@`,
`det`, ...) hold for complex arrays as written; the functions that are not holomorphic have
helpers that conjugate: `abs`, `angle`, `real`, `imag`, `conj`, `vdot`, `var`/`std`,
`linalg.norm` of every `ord`, and `svd`'s singular values. A real argument gets a real
gradient (`real_like`) whatever complex values it meets, and `grad` of a complex output is
refused (`check_real`).

Refused loudly (an error, never a wrong number): `np.average` with respect to `weights=` or
with `returned=True`; `np.pad` with a mode other than `'constant'`; second derivatives of
`np.linalg.norm` for p-norms other than 0, 1, 2, inf and for matrix `'nuc'`, `2`, `-2`;
`einsum` given as operand/sublist pairs; second derivatives of `cumprod` with respect to its
array; `svd` of a non-square matrix unless `full_matrices=False`, and with `hermitian=True`;
`qr` of a wide matrix or in a mode other than `'reduced'`; complex arrays in `cholesky`,
`eigh`, `eigvalsh`, `qr`, `pinv`, `slogdet`, `svd`'s singular vectors and `correlate` (reverse
mode), and second derivatives of `abs`, `angle` and `norm` of complex arrays;
`logsumexp(..., return_sign=True)`. Assumptions: `pinv` a constant rank, `cholesky` and
`eigh` a symmetric input (they read one triangle), `eigh` distinct eigenvalues and `svd`
distinct nonzero singular values (ties give inf or NaN, not a finite wrong number); at repeated
or zero singular values the matrix norms `'nuc'`, `2`, `-2` take the derivative along the
singular vectors numpy returns (for `'nuc'` and `2`, a subgradient).
Functions returning several arrays (`split`, `slogdet`, `eigh`, `svd`, `qr`) may be unpacked,
indexed or read by field (`.eigenvectors`); the items not used get a zero adjoint.

The long tail (`srcgrad/rules/longtail.py`, helpers in `srcgrad/runtime/`): `eig`
and `eigvals` assume distinct eigenvalues and keep numpy's normalization of the eigenvectors
(norm 1, largest entry real), so every function of them is differentiated, not only those
that ignore their phase; `lstsq` assumes a constant rank, and its `rank` has no derivative;
`quantile`/`percentile` (and the `nan` forms, methods `'linear'`, `'lower'`, `'higher'`,
`'nearest'`, `'midpoint'`) pass the derivative to the two order statistics they interpolate,
and in `q` take the slope between them (one-sided at an order statistic itself, as `interp`);
`unique` shares a value's derivative evenly among its tied entries (its counts, index and
inverse have none); `logspace` and `geomspace` take scalar ends; `histogram` is refused when
a derivative would flow through it (its bin edges and a density move with the data).
`np.piecewise`, `np.apply_along_axis` and `np.vectorize` have no rule: srcgrad rewrites them
into the pieces or the loop numpy runs and differentiates your function itself
(`piecewise_join`, `along_rows`, `join_rows` are the rules of those rewrites).

"""


def _cell(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`" if text else ""


def _templates(rule: Rule, kind: str) -> str:
    parts = [
        f"{_cell(key[2:] + ': ' + text)}" for key, text in rule.source.items() if key.startswith(kind + "_")
    ]
    if kind == "t" and "t" in rule.source:
        parts.append(_cell("t = " + rule.source["t"]))
    return "<br>".join(parts)


def _modes(rule: Rule) -> str:
    modes = [m for m, present in (("reverse", rule.vjp), ("forward", rule.jvp or rule.joint)) if present]
    return ", ".join(modes) or "none"


def _section(title: str, rules: list[Rule]) -> list[str]:
    lines = [f"## {title} ({len(rules)})", ""]
    lines += [
        "| function | signature | modes | adjoint (`d_`) | tangent (`t_`) | zero |",
        "|---|---|---|---|---|---|",
    ]
    for rule in sorted(rules, key=lambda r: r.spelling):
        signature = ", ".join(p.name for p in rule.params)
        zero = ", ".join(sorted(rule.zero))
        lines.append(
            f"| `{rule.spelling}` | {_cell(signature)} | {_modes(rule)} | {_templates(rule, 'd')} "
            f"| {_templates(rule, 't')} | {zero} |"
        )
    return lines + [""]


def render() -> str:
    """The text of ``docs/rules.md`` for the built-in rules (scipy's too: scipy must be installed,
    as it is with the ``test`` extra, so that the page is the same wherever it is made)."""
    load_on_demand(force=True)
    rules = list(BUILTIN_RULES.values())
    helpers = [r for r in rules if not r.nondiff and "." not in r.spelling and not _is_builtin(r)]
    public = [r for r in rules if not r.nondiff and r not in helpers]
    scipy = [r for r in public if r.spelling.startswith("scipy.")]
    public = [r for r in public if r not in scipy]
    zero = [r for r in rules if r.nondiff]
    both = sum(1 for r in public + scipy if r.vjp and (r.jvp or r.joint))
    lines = [
        HEADER.rstrip("\n"),
        "",
        f"{len(public) + len(scipy)} differentiable functions ({both} in both modes; {len(scipy)} of "
        f"them scipy's), {len(zero)} with a zero derivative, and {len(helpers)} runtime helpers with "
        "rules of their own.",
        "",
    ]
    lines += _section("Differentiable functions", public)
    lines += _section("scipy", scipy)[:1]
    lines += [
        "",
        "Registered as soon as the program imports `scipy.special`, `scipy.stats`, `scipy.linalg`, "
        "`scipy.signal` or `scipy.integrate` (srcgrad does not import scipy itself); `autograd.scipy` "
        "code resolves to them too.",
    ]
    lines += _section("scipy", scipy)[1:]
    lines += [f"## Zero derivative ({len(zero)})", ""]
    lines += ["Their outputs carry no derivative (shapes, constructors, indices, rounding, comparisons):", ""]
    lines += [", ".join(f"`{r.spelling}`" for r in sorted(zero, key=lambda r: r.spelling)), ""]
    lines += _section("Runtime helpers", helpers)
    return "\n".join(lines).rstrip("\n") + "\n"


def _is_builtin(rule: Rule) -> bool:
    import builtins

    return getattr(builtins, rule.spelling, None) is rule.fn


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        current = PATH.read_text() if PATH.exists() else ""
        if current != text:
            print(f"{PATH} is stale: run {COMMAND}")
            return 1
        return 0
    PATH.parent.mkdir(parents=True, exist_ok=True)
    PATH.write_text(text)
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
