"""The command line: ``srcgrad show FILE.py:FUNC`` as a user runs it, through ``python -m srcgrad``."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from srcgrad import runtime

ROOT = Path(__file__).resolve().parent.parent


def srcgrad(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "srcgrad", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def model(tmp_path):
    return write(
        tmp_path / "model.py",
        """\
        import numpy as np

        print("module-level output goes to stderr")


        def loss(x, w):
            return np.sum(np.tanh(x * w))


        def guarded(x):
            try:
                y = np.log(x)
            except FloatingPointError:
                y = x
            return y


        data = np.ones(3)
        """,
    )


def run_generated(source, name, *args):
    """Run printed code the way a reader would paste it: numpy as np plus srcgrad's runtime helpers."""
    namespace = {"np": np, **vars(runtime)}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace[name](*args)


def test_show_tanh_prints_compilable_gradient():
    done = srcgrad("show", "examples/tanh_slope.py:tanh")
    assert done.returncode == 0, done.stderr
    compile(done.stdout, "d_tanh.py", "exec")
    assert "def d_tanh(x):" in done.stdout
    assert "# y = np.exp(-2.0 * x)   [tanh_slope.py:" in done.stdout
    assert done.stderr == ""


def test_show_is_grad_source():
    import srcgrad as sg
    from srcgrad.cli import load_module

    example = load_module(str(ROOT / "examples" / "logistic_regression.py"))
    done = srcgrad("show", "examples/logistic_regression.py:training_loss")
    assert done.returncode == 0, done.stderr
    assert done.stdout == sg.grad(example.training_loss).source.rstrip("\n") + "\n"


def test_show_from_another_directory(tmp_path):
    done = srcgrad("show", str(ROOT / "examples" / "logistic_regression.py") + ":training_loss", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "def d_training_loss(weights):" in done.stdout


def test_wrt_by_name(model):
    done = srcgrad("show", f"{model}:loss", "--wrt", "w")
    assert done.returncode == 0, done.stderr
    assert "def d_loss(x, w):" in done.stdout
    assert done.stdout.rstrip().endswith("return real_like(d_w, w)")  # x may be complex
    assert "module-level output" not in done.stdout  # stdout is only the generated code
    x, w = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    want = x / np.cosh(x * w) ** 2
    np.testing.assert_allclose(run_generated(done.stdout, "d_loss", x, w), want)


def test_wrt_index_matches_name(model):
    by_index = srcgrad("show", f"{model}:loss", "--wrt", "1")
    by_name = srcgrad("show", f"{model}:loss", "--wrt", "w")
    assert by_index.returncode == by_name.returncode == 0
    assert by_index.stdout == by_name.stdout


def test_wrt_several_names(model):
    done = srcgrad("show", f"{model}:loss", "--wrt", "x,w")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("return (real_like(d_x, x), real_like(d_w, w))")


def test_wrt_unknown_name(model):
    done = srcgrad("show", f"{model}:loss", "--wrt", "q")
    assert done.returncode == 2
    assert "'q' is not a parameter of loss" in done.stderr
    assert done.stdout == ""


def test_missing_file(tmp_path):
    done = srcgrad("show", f"{tmp_path / 'nope.py'}:f")
    assert done.returncode == 2
    assert "no such file" in done.stderr and "nope.py" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_function(model):
    done = srcgrad("show", f"{model}:nope")
    assert done.returncode == 2
    assert "no function 'nope'" in done.stderr
    assert "its functions: loss, guarded" in done.stderr
    assert "Traceback" not in done.stderr


def test_name_that_is_not_a_function(model):
    done = srcgrad("show", f"{model}:data")
    assert done.returncode == 2
    assert "no function 'data' (it is of type ndarray)" in done.stderr


def test_refused_function_reports_file_and_line(model):
    done = srcgrad("show", f"{model}:guarded")
    assert done.returncode == 2
    assert re.search(r"srcgrad: error: model\.py:11: .*cannot differentiate.*\btry\b", done.stderr)
    assert "    try:" in done.stderr  # quotes the offending line
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_module_that_fails_to_import(tmp_path):
    broken = write(tmp_path / "broken.py", "import no_such_module_srcgrad\n\ndef f(x):\n    return x\n")
    done = srcgrad("show", f"{broken}:f")
    assert done.returncode == 2
    assert "no_such_module_srcgrad" in done.stderr


def test_imports_beside_the_file(tmp_path):
    write(tmp_path / "helpers.py", "import numpy as np\n\n\ndef square(x):\n    return x * x\n")
    main = write(
        tmp_path / "main.py",
        """\
        from helpers import square


        def f(x):
            return square(x) * x
        """,
    )
    done = srcgrad("show", f"{main}:f", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "#   in square: return x * x   [helpers.py:5]" in done.stdout
    assert run_generated(done.stdout, "d_f", 3.0) == 27.0


def test_forward_mode_shows_the_tangent_code_and_its_loop():
    done = srcgrad("show", "examples/tanh_slope.py:tanh", "--mode", "forward")
    assert done.returncode == 0, done.stderr
    assert "def tangent_tanh(x, *, t_x):" in done.stdout
    assert "t_y = -2.0 * t_x * y" in done.stdout
    assert "for t_x in unit_vectors(x)" in done.stdout


def test_order_two_shows_the_hessian_code():
    done = srcgrad("show", "examples/tanh_slope.py:tanh", "--order", "2")
    assert done.returncode == 0, done.stderr
    assert "def tangent_d_tanh(x, *, t_x):" in done.stdout
    assert "def hessian_tanh(x):" in done.stdout


def test_target_without_function():
    done = srcgrad("show", "examples/tanh_slope.py")
    assert done.returncode == 2
    assert "FILE.py:FUNC" in done.stderr


def test_help():
    done = srcgrad("--help")
    assert done.returncode == 0
    assert "show" in done.stdout and "srcgrad show examples/tanh_slope.py:tanh" in done.stdout
    show_help = srcgrad("show", "--help")
    assert show_help.returncode == 0
    for option in ("--wrt", "--mode", "FILE.py:FUNC", "example:"):
        assert option in show_help.stdout


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("srcgrad")
    if not script.exists():
        pytest.skip("no srcgrad console script beside this Python")
    done = subprocess.run(
        [str(script), "show", "examples/slope.py:oneline"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "def d_oneline(x):" in done.stdout


def test_main_returns_status_in_process(capsys):
    from srcgrad.cli import main

    assert main(["show", str(ROOT / "examples" / "slope.py") + ":oneline"]) == 0
    assert "def d_oneline(x):" in capsys.readouterr().out
    assert main(["show", str(ROOT / "examples" / "slope.py") + ":nope"]) == 2
    assert "no function 'nope'" in capsys.readouterr().err


def test_raw_shows_the_code_before_optimization():
    raw = srcgrad("show", "examples/tanh_slope.py:tanh", "--raw")
    optimized = srcgrad("show", "examples/tanh_slope.py:tanh")
    assert raw.returncode == 0 and optimized.returncode == 0
    compile(raw.stdout, "raw", "exec")
    # the adjoint of the output is 1.0: folded away when optimized, multiplied in when raw
    assert "d_add = -1.0 * sub / add ** 2" in raw.stdout
    assert "d_add = -sub / add ** 2" in optimized.stdout
    refused = srcgrad("show", "examples/tanh_slope.py:tanh", "--raw", "--mode", "forward")
    assert refused.returncode == 2 and "--raw" in refused.stderr
