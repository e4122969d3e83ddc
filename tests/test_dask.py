"""The same gradient on dask arrays, on a dask cluster and on CuPy arrays (issue 16).

srcgrad's generated code calls numpy functions, which dispatch on the array type (NEP-18), so
it runs unchanged on other array libraries. These tests run srcgrad's own per-rule cases
(``CASES`` of ``test_rules.py``, one list per numpy function, and the feature cases of
``test_numpy_coverage.py``) with every float array replaced by a dask array chunked in pieces
of 2 along each axis (so reductions and broadcasts cross chunk boundaries; in one chunk where
dask cannot run the function on those, as its linear algebra), in both modes,
and compare with the gradient of the numpy arrays. A case counts only where dask itself runs
the function lazily; there the gradient must be right, and lazy: nothing is computed while it
is built (a scheduler that fails is installed), dask never falls back to numpy (its
FutureWarning is an error), and the result is a dask array. A gradient srcgrad cannot build
for dask must be a ``SrcGradError``, never a wrong value.

The same tests run on CuPy where a GPU is present (skipped otherwise).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import srcgrad

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import test_numpy_coverage as coverage  # noqa: E402  (after the skip: they need nothing of dask)
import test_rules as rules  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RTOL, ATOL = 1e-10, 1e-12


# -- the array libraries ---------------------------------------------------------------------


def _no_compute(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("a value was computed while the gradient was being built (not lazy)")


@dataclass
class Library:
    name: str
    convert: Callable[[np.ndarray], Any]  # a numpy float array into the library's
    native: Callable[[Any], bool]  # is this one of the library's arrays?
    building: Callable[[], contextlib.AbstractContextManager]  # while the gradient is built
    to_numpy: Callable[[Any], Any]
    fallback: Callable[[np.ndarray], Any] | None = None  # where the library cannot run ``convert``'s arrays

    @property
    def conversions(self) -> list[Callable[[np.ndarray], Any]]:
        return [self.convert] + ([self.fallback] if self.fallback else [])

    def __str__(self) -> str:
        return self.name


def _chunked(x: np.ndarray) -> Any:
    """Chunks of 2 along every axis (3 -> 2 + 1): reductions and broadcasts cross chunk boundaries."""
    return da.from_array(x, chunks=tuple(max(1, min(2, n)) for n in x.shape))


@contextlib.contextmanager
def _dask_lazy() -> Iterator[None]:
    with dask.config.set(scheduler=_no_compute), warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # dask falling back to numpy (computing)
        yield


def _dask_to_numpy(value: Any) -> Any:
    with dask.config.set(scheduler="synchronous"):
        return dask.compute(value)[0]


DASK = Library(
    "dask",
    _chunked,
    lambda v: isinstance(v, da.Array),
    _dask_lazy,
    _dask_to_numpy,
    lambda x: da.from_array(x, chunks=-1),  # dask's linear algebra wants square or single chunks
)


def _cupy() -> Library | None:
    if importlib.util.find_spec("cupy") is None:
        return None
    import cupy

    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
    except Exception:  # noqa: BLE001  (no driver, no device: no CuPy tests)
        return None
    return Library(
        "cupy", cupy.asarray, lambda v: isinstance(v, cupy.ndarray), contextlib.nullcontext, cupy.asnumpy
    )


CUPY = _cupy()
LIBRARIES = [
    pytest.param(DASK, id="dask"),
    pytest.param(
        CUPY, id="cupy", marks=pytest.mark.skipif(CUPY is None, reason="CuPy with a GPU is not available")
    ),
]


def _is_float(x: Any) -> bool:
    return isinstance(x, np.ndarray) and x.ndim > 0 and x.dtype.kind in "fc"


def _all_native(lib: Library, value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_all_native(lib, v) for v in value)
    if isinstance(value, dict):
        return all(_all_native(lib, v) for v in value.values())
    return lib.native(value)


def _runs_on(lib: Library, fn: Callable, args: list) -> str | None:
    """Why ``lib`` cannot run ``fn`` lazily itself (None if it can): a case counts only where it can."""
    try:
        with lib.building():
            out = fn(*args)
        value = lib.to_numpy(out)
    except Exception as e:  # noqa: BLE001  (the library's own limits: any error)
        return f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = fn(*[np.asarray(lib.to_numpy(a)) if lib.native(a) else a for a in args])
    if not np.allclose(value, expected, rtol=RTOL, atol=ATOL, equal_nan=True):
        return f"its value differs from numpy's: {value!r} against {expected!r}"
    return None


def check_case(
    lib: Library, fn: Callable, args: list, wrt: int, mode: str, convert: Callable | None = None
) -> str | None:
    """Compare srcgrad's gradient on ``lib``'s arrays with numpy's; the problem found, or None."""
    convert = convert or lib.convert
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = srcgrad.grad(fn, wrt=wrt, mode=mode)(*args)
        converted = [convert(a) if _is_float(a) else a for a in args]
        try:
            with lib.building():
                got = srcgrad.grad(fn, wrt=wrt, mode=mode)(*converted)
        except srcgrad.SrcGradError:
            return None  # refused, loudly: allowed (never a wrong value)
        except Exception as e:  # noqa: BLE001
            return f"{type(e).__name__}: {e}"
        if _is_float(args[wrt]) and not _all_native(lib, got):
            return f"not lazy: the gradient is a {type(got).__name__}, not a {lib.name} array"
        value = np.asarray(lib.to_numpy(got))
    if value.shape != np.shape(expected):
        return f"shape {value.shape}, expected {np.shape(expected)}"
    if not np.allclose(value, expected, rtol=RTOL, atol=ATOL, equal_nan=True):
        return f"wrong value:\n  {lib.name} {value!r}\n  numpy {np.asarray(expected)!r}"
    return None


# -- every numpy rule's cases ------------------------------------------------------------------


def _numpy_rule(rule: Any) -> bool:
    module = getattr(rule.fn, "__module__", None) or ""
    return not rule.nondiff and (module.startswith("numpy") or rule.fn is np.ndarray.astype)


NUMPY_RULES = [r for r in rules.RULES.values() if _numpy_rule(r) and r.fn in rules.CASES]
# Cases per rule, broadcasting, axes and the most array arguments first: one keeps the suite near
# a minute on two cores; SRCGRAD_DASK_CASES=all runs every case of every rule (minutes).
PER_RULE = None if os.environ.get("SRCGRAD_DASK_CASES") == "all" else 1


def _interest(c: Any) -> tuple:
    arrays = [v for v in c.args.values() if _is_float(v)]
    shapes = {np.shape(v) for v in c.args.values() if rules._is_float(v)}
    return (
        -(len(shapes) > 1),
        -("axis" in c.expr or "keepdims" in c.expr),
        -len(arrays),
        -max((np.ndim(v) for v in arrays), default=0),
    )


def _cases(rule: Any) -> list:
    usable = [c for c in rules.CASES[rule.fn] if any(_is_float(c.args[w]) for w in c.wrt)]
    return sorted(usable, key=_interest)  # (the test takes the first PER_RULE that the library runs)


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dask_cases")


@pytest.fixture(scope="module", autouse=True)
def synchronous() -> Iterator[None]:
    with dask.config.set(scheduler="synchronous"):  # one thread: small arrays, little overhead
        yield


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("rule", NUMPY_RULES, ids=lambda r: r.spelling)
def test_rule_on_chunked_arrays(rule: Any, lib: Library, directory: Path) -> None:
    cases = _cases(rule)
    module = "daskcases_" + "".join(ch if ch.isalnum() else "_" for ch in rule.spelling)
    built = rules.build(cases, directory, module)
    problems, runnable, unsupported = [], [], []
    for c, b in zip(cases, built):
        if PER_RULE is not None and len(runnable) == PER_RULE:
            break
        for convert in lib.conversions:  # (dask: chunks of 2; else one chunk, as its linalg needs)
            why = _runs_on(lib, b.fn, [convert(a) if _is_float(a) else a for a in b.args])
            if why is None:
                runnable.append((c, b, convert))
                break
        else:
            unsupported.append(f"{c.expr}: {why}")
    # Reverse mode on every case; forward mode (one pass per element) on the smallest.
    smallest = min(runnable, key=lambda cb: sum(np.size(cb[0].args[w]) for w in cb[0].wrt), default=None)
    for c, b, convert in runnable:
        names = list(c.args)
        for w in c.wrt:
            for mode in ("reverse", "forward") if c is smallest[0] else ("reverse",):
                problem = check_case(lib, b.fn, b.args, names.index(w), mode, convert)
                if problem:
                    problems.append(f"{c} d_{w} ({mode} mode): {problem}")
    assert not problems, f"{len(problems)} failure(s) for {rule.spelling} on {lib}:\n" + "\n".join(problems)
    if not cases:
        pytest.skip(f"no case of {rule.spelling} differentiates an array")
    if not runnable:
        pytest.skip(f"{lib} cannot run {rule.spelling} itself: " + "; ".join(unsupported))


FEATURES = [
    *coverage.TUPLES,
    *coverage.METHODS,
    *coverage.EINSUM,
    (coverage.index_forms, lambda: [coverage.randn(3, 4)]),
]


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("f, make_args", FEATURES, ids=[f.__name__ for f, _ in FEATURES])
def test_numpy_features_on_chunked_arrays(f: Callable, make_args: Callable, lib: Library) -> None:
    args = make_args()
    for convert in lib.conversions:
        why = _runs_on(lib, f, [convert(a) if _is_float(a) else a for a in args])
        if why is None:
            break
    else:
        pytest.skip(f"{lib} cannot run {f.__name__} itself: {why}")
    problems = [
        f"wrt {i} ({mode} mode): {p}"
        for i, a in enumerate(args)
        if _is_float(a)
        for mode in ("reverse", "forward")
        if (p := check_case(lib, f, args, i, mode, convert))
    ]
    assert not problems, "\n".join(problems)


# -- the silent wrong results the issue found, named ------------------------------------------------


def broadcast_add(x, y):
    return np.sum((x + y) ** 2)


def sum_keepdims(x):
    return np.sum(np.sum(x, axis=1, keepdims=True) ** 2) + np.sum(np.mean(x, axis=0, keepdims=True) ** 3)


def amax_loss(x):
    return np.amax(x) + np.sum(np.amax(x, axis=0) ** 2)


def broadcast_to_loss(x):
    return np.sum(np.broadcast_to(x, (3, 4)) ** 2 * np.arange(12.0).reshape(3, 4))


@pytest.mark.parametrize(
    "f, args",
    [
        (broadcast_add, [np.linspace(-1, 1, 4), np.linspace(0, 2, 12).reshape(3, 4)]),
        (sum_keepdims, [np.linspace(-1, 1, 12).reshape(3, 4)]),
        (amax_loss, [np.linspace(-1, 1, 12).reshape(3, 4) ** 3]),
        (broadcast_to_loss, [np.linspace(-1, 1, 4)]),
    ],
    ids=["broadcast_add", "sum_keepdims", "amax", "broadcast_to"],
)
@pytest.mark.parametrize("lib", LIBRARIES)
def test_once_silently_wrong(f: Callable, args: list, lib: Library) -> None:
    for i in range(len(args)):
        for mode in ("reverse", "forward"):
            assert check_case(lib, f, args, i, mode) is None, (i, mode)


def scatter(x):
    return np.sum(x[[0, 2, 2]] ** 2) + np.sum(np.take(x, [3, 0, 3], axis=1) * x[:, :3])


@pytest.mark.parametrize("lib", LIBRARIES)
def test_repeated_indices_accumulate(lib: Library) -> None:
    """np.add.at, which dask lacks, is a bincount of flat positions: repeats add up."""
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    for mode in ("reverse", "forward"):
        assert check_case(lib, scatter, [x], 0, mode) is None, mode


def layer_loss(x, g):
    mu = np.mean(x, axis=-1, keepdims=True)
    return np.sum(((x - mu) / np.sqrt(np.var(x, axis=-1, keepdims=True) + 1e-5) * g) ** 2)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_jacobian_hessian_vjp_jvp(lib: Library) -> None:
    """Second derivatives differentiate generated code again: it stays lazy and right too."""
    x, g = np.linspace(-1.0, 1.0, 12).reshape(3, 4) ** 3, np.linspace(0.5, 1.5, 4)
    args, converted = [x, g], [lib.convert(x), lib.convert(g)]
    for op in (srcgrad.jacobian, srcgrad.hessian):
        expected = op(layer_loss, wrt=1)(*args)
        with lib.building():
            got = op(layer_loss, wrt=1)(*converted)
        assert lib.native(got), op
        np.testing.assert_allclose(lib.to_numpy(got), expected, rtol=1e-10, atol=1e-12)
    tangents = [np.ones_like(x), np.zeros_like(g)]
    with lib.building():
        _, pullback = srcgrad.vjp(layer_loss, *converted)
        pulled = pullback(1.0)
        _, pushed = srcgrad.jvp(layer_loss, converted, [lib.convert(t) for t in tangents])
    assert _all_native(lib, pulled) and lib.native(pushed)
    for got, want in zip(pulled, srcgrad.vjp(layer_loss, *args)[1](1.0)):
        np.testing.assert_allclose(lib.to_numpy(got), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lib.to_numpy(pushed), srcgrad.jvp(layer_loss, args, tangents)[1], rtol=1e-10)


def median_loss(x):
    return np.sum(np.median(x, axis=0) ** 2)


def indexed_update(x):
    y = x * 2.0
    y[[0, 2, 2]] = x[1:] ** 2
    return np.sum(y**3)


@pytest.mark.parametrize("f, needs", [(median_loss, "np.argsort"), (indexed_update, "index array")])
def test_what_dask_lacks_is_refused_at_the_users_line(f: Callable, needs: str) -> None:
    """A gradient that needs what dask lacks is refused, naming the line: never computed in memory."""
    x = DASK.convert(np.linspace(-1.0, 1.0, 12).reshape(4, 3))
    assert _runs_on(DASK, f, [x]) is None  # dask runs the function itself
    line = f.__code__.co_firstlineno + (1 if f is median_loss else 2)
    for mode in ("reverse", "forward") if f is median_loss else ("reverse",):
        with pytest.raises(srcgrad.UnsupportedValueError, match=needs) as refused, _dask_lazy():
            srcgrad.grad(f, mode=mode)(x)
        assert (Path(refused.value.filename).name, refused.value.lineno) == ("test_dask.py", line)


# -- a real cluster --------------------------------------------------------------------------------


def logistic_loss(weights, inputs, targets):
    preds = 0.5 * (np.tanh(np.dot(inputs, weights) / 2.0) + 1)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def mlp_loss(params, inputs, targets):
    hidden = np.tanh(inputs @ params["W1"] + params["b1"])
    scores = hidden @ params["W2"] + params["b2"]
    return np.mean((scores - targets) ** 2) + 1e-3 * np.sum(params["W1"] ** 2)


def _descend(loss: Callable, params: Any, inputs: Any, targets: Any, steps: int, rate: float) -> Any:
    """Gradient descent with srcgrad's gradient; each step's gradient computed by the array library."""
    gradient = srcgrad.grad(loss)
    for _ in range(steps):
        g = gradient(params, inputs, targets)
        if not isinstance(inputs, np.ndarray):
            assert all(isinstance(v, da.Array) for v in (g.values() if isinstance(g, dict) else [g]))
            g = dask.compute(g)[0]  # on the cluster
        params = (
            {k: v - rate * g[k] for k, v in params.items()} if isinstance(params, dict) else params - rate * g
        )
    return params


def test_training_on_a_local_cluster() -> None:
    """Two worker processes train the tutorial's logistic regression and an MLP on chunked data."""
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(3)
    inputs = rng.standard_normal((2000, 5))
    labels = inputs @ np.linspace(-1, 1, 5) > 0.0
    targets = np.stack([np.sin(inputs[:, 0]), inputs[:, 1] * inputs[:, 2]], axis=1)
    params = {
        "W1": 0.3 * rng.standard_normal((5, 8)),
        "b1": np.zeros(8),
        "W2": 0.3 * rng.standard_normal((8, 2)),
        "b2": np.zeros(2),
    }
    chunked = da.from_array(inputs, chunks=(250, 5))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        w_cluster = _descend(logistic_loss, np.zeros(5), chunked, da.from_array(labels, chunks=250), 5, 1e-3)
        p_cluster = _descend(mlp_loss, params, chunked, da.from_array(targets, chunks=(250, 2)), 5, 0.1)
    w_numpy = _descend(logistic_loss, np.zeros(5), inputs, labels, 5, 1e-3)
    p_numpy = _descend(mlp_loss, params, inputs, targets, 5, 0.1)
    np.testing.assert_allclose(w_cluster, w_numpy, rtol=1e-12)
    assert logistic_loss(w_numpy, inputs, labels) < logistic_loss(np.zeros(5), inputs, labels)  # it trained
    for k in params:
        np.testing.assert_allclose(p_cluster[k], p_numpy[k], rtol=1e-11, atol=1e-14)


def test_example_trains_on_generated_chunks() -> None:
    """examples/logistic_dask.py, small: the progress bar, and a loss that falls every step."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "logistic_dask.py"),
            "--rows",
            "4000",
            "--chunk-rows",
            "1000",
            "--steps",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    losses = [float(line.split()[3]) for line in done.stdout.splitlines() if line.startswith("step ")]
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2], done.stdout
    assert "100% Completed" in done.stdout + done.stderr
