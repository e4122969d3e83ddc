"""``srcgrad explain``: the page's model (lines linked, values per line) and the page in a real browser.

The browser tests open the pages in headless Chromium (Debian's ``chromium`` and
``chromium-driver``; ``.ci/run`` installs them) through selenium, hover lines and read what
the browser shows. Without the browser they are skipped, unless ``SRCGRAD_REQUIRE_BROWSER=1``
(CI) makes that a failure.
"""

import html
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad.cli import load_module, main
from srcgrad.explain import explain, frames, generated_lines
from srcgrad.explain_page import GUIDE
from srcgrad.explain_values import HEAD, TAIL, record, show

ROOT = Path(__file__).resolve().parent.parent
tanh_module = load_module(str(ROOT / "examples" / "tanh_slope.py"))
logistic = load_module(str(ROOT / "examples" / "logistic_regression.py"))
TUTORIAL_WEIGHTS = np.array([0.0, 0.0, 0.0])  # examples/logistic_regression.py starts from these


def euler(x0, k):
    x = x0
    for _ in range(4):
        x = x + 0.1 * (np.sin(x) - k * x)
    return x


def long_loop(x):
    total = 0.0
    for i in range(1000):
        total = total + np.sin(x * i)
    return total


def until(x):
    n = 0
    while x < 10.0:
        x = x * 2.0
        n = n + 1
        if n > 5:
            break
    return x


def rows_of(page):
    """``{line number: (attributes, value cell text)}`` of the generated code's rows."""
    generated = page.split('id="generated"', 1)[1]
    found = {}
    for match in re.finditer(r"<tr([^>]*)><td class=\"no\">(\d+)</td>(.*?)</tr>", generated):
        value = re.search(r'<td class="val">(.*?)</td>', match.group(3))
        found[int(match.group(2))] = (match.group(1), html.unescape(value.group(1)) if value else "")
    return found


def line_of(source, text):
    """The number of the line of ``source`` that reads ``text`` (stripped)."""
    numbers = [n for n, line in enumerate(source.splitlines(), 1) if line.strip() == text]
    assert len(numbers) == 1, (text, numbers)
    return numbers[0]


# -- the page's model, no browser --------------------------------------------------------------


def test_tanh_page_shows_each_value_and_the_gradient():
    page = explain(tanh_module.tanh, 1.0)
    assert page.gradient == srcgrad.grad(tanh_module.tanh)(1.0) == 0.419974341614026
    source = page.gradient_function.source
    rows = rows_of(page.html)
    assert rows[line_of(source, "y = np.exp(-2.0 * x)")][1] == f"y = {float(np.exp(-2.0))!r}"
    assert rows[line_of(source, "d_x = d_mul * -2.0")][1] == "d_x = 0.419974341614026"
    assert '<p id="gradient">' in page.html and "<code>0.419974341614026</code>" in page.html
    assert "<code>x = 1.0</code>" in page.html  # the point


def test_every_recorded_value_is_what_the_generated_code_computes():
    """The values come from a twin of the generated code: each one, rerun line by line, agrees."""
    gradient = srcgrad.grad(tanh_module.tanh)
    result, logs = record(gradient, (0.3,), {})
    namespace = {"np": np, **vars(srcgrad.runtime), "x": 0.3}
    lines = gradient.source.splitlines()
    for number in range(2, len(lines)):  # the body, run statement by statement
        statement = lines[number - 1].strip()
        if lines[number - 1].startswith(" " * 8):
            continue  # the body of an if whose test was false
        if statement.startswith("if ") and statement.endswith(":"):
            assert not eval(statement[3:-1], namespace)
        elif statement.startswith("return"):
            assert logs[number].runs() == [(1, [("return", show(eval(statement[6:], namespace)))])]
        elif statement and not statement.startswith("#"):
            exec(statement, namespace)
            if "=" in statement:
                name = statement.split("=")[0].strip()
                assert logs[number].runs() == [(1, [(name, show(namespace[name]))])]
    assert result == gradient(0.3)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize(
    "f, args",
    [
        (tanh_module.tanh, (1.0,)),
        (logistic.training_loss, (TUTORIAL_WEIGHTS,)),
        (euler, (0.5, 2.0)),
        (until, (1.5,)),
    ],
)
def test_the_twin_returns_the_gradient_and_the_generated_code_is_unchanged(f, args, mode):
    gradient = srcgrad.grad(f, mode=mode)
    source = gradient.source
    result, _ = record(gradient, args, {})
    np.testing.assert_array_equal(result, gradient(*args))
    page = explain(f, *args, mode=mode)
    np.testing.assert_array_equal(page.gradient, gradient(*args))
    assert srcgrad.grad(f, mode=mode).source == source  # explaining changes nothing that grad makes
    assert page.gradient_function.source == source


def test_generated_lines_know_the_call_stack_of_inlined_helpers():
    source = srcgrad.grad(logistic.training_loss).source
    lines = {line.text.strip(): line.stack for line in generated_lines(source)}
    call, predictions, sigmoid = (f"logistic_regression.py:{n}" for n in (29, 24, 19))
    assert lines["dot = np.dot(inputs, weights)"] == (call, predictions)
    assert lines["tanh = np.tanh(dot / 2.0)"] == (call, predictions, sigmoid)
    assert lines["d_dot = d_div / 2.0"] == (call, predictions)  # back in the caller's line
    assert lines["d_log = filled(-1.0, label_probabilities)"] == ("logistic_regression.py:31",)
    cited = frames(source)
    assert cited[sigmoid].function == "sigmoid" and cited[call].function is None


def test_training_loss_page_shows_the_inlined_helpers_where_they_come_from():
    page = explain(logistic.training_loss, TUTORIAL_WEIGHTS)
    text = page.html
    assert "logistic_predictions  (logistic_regression.py:22), inlined" in text
    assert "sigmoid  (logistic_regression.py:18), inlined" in text
    # the helper's line is linked: its key is on the primal row and on the generated rows inside it
    key = re.search(r'<tr id="logistic_regression.py:19" data-key="(k\d+)"', text).group(1)
    source = page.gradient_function.source
    rows = rows_of(text)
    assert f'data-own="{key}"' in rows[line_of(source, "tanh = np.tanh(dot / 2.0)")][0]
    expected = srcgrad.grad(logistic.training_loss)(TUTORIAL_WEIGHTS)
    np.testing.assert_array_equal(page.gradient, expected)
    assert rows[line_of(source, "d_weights = dot_vjp_b(d_dot, inputs, weights)")][1] == "d_weights = " + show(
        expected
    )


def test_a_loop_line_keeps_every_iteration_and_a_long_loop_does_not_flood_the_page():
    page = explain(euler, 0.5, 2.0)
    source = page.gradient_function.source
    _, logs = record(page.gradient_function, (0.5, 2.0), {})
    x, values = 0.5, []
    for _ in range(4):
        values.append(np.sin(x))
        x = x + 0.1 * (np.sin(x) - 2.0 * x)
    runs = logs[line_of(source, "sin = np.sin(x)")].runs()
    assert runs == [(i + 1, [("sin", repr(float(v)))]) for i, v in enumerate(values)]
    assert "4 runs:</span> sin = " in page.html

    long = explain(long_loop, 0.7)
    line = line_of(long.gradient_function.source, "sin = np.sin(mul)")
    _, logs = record(long.gradient_function, (0.7,), {})
    assert logs[line].count == 1000 and len(logs[line].runs()) == HEAD + TAIL
    assert [n for n, _ in logs[line].runs()][-TAIL:] == list(range(1001 - TAIL, 1001))
    assert f"runs {HEAD + 1} to {1000 - TAIL} not kept" in long.html
    assert len(long.html) < 60_000


def test_forward_mode_page_shows_tangents():
    page = explain(tanh_module.tanh, 1.0, mode="forward")
    rows = rows_of(page.html)
    source = page.gradient_function.source
    assert rows[line_of(source, "t_y = -2.0 * t_x * y")][1] == f"t_y = {float(-2.0 * np.exp(-2.0))!r}"
    assert "<code>0.419974341614026</code>" in page.html
    assert "tangent of `y` is `t_y`" in GUIDE["forward"]


def test_page_without_arguments_links_lines_and_shows_no_values():
    page = explain(logistic.training_loss, wrt="weights")
    assert page.gradient is None and 'class="val"' not in page.html and 'id="gradient"' not in page.html
    assert "d training_loss / d weights" in page.html


def test_page_is_self_contained():
    text = explain(tanh_module.tanh, 1.0).html
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert not re.search(r"https?://|(?<![\w-])(src|href)=|@import|url\(", text)


def test_page_without_pygments_is_plain_escaped_text(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygments", None)  # import pygments now fails
    page = explain(logistic.training_loss, TUTORIAL_WEIGHTS)
    assert "<span" not in page.html.split('id="generated"', 1)[1]
    assert "label_probabilities = preds * targets + sub * sub_1" in page.html
    assert srcgrad.grad(tanh_module.tanh)._repr_html_().startswith("<pre>def d_tanh(x):")


def test_the_guide_is_the_readmes():
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "`d_v` is the *adjoint* of `v`: the derivative of the output with respect to `v`." in readme
    assert (
        "`d_v` is the *adjoint* of `v`: the derivative of the output with respect to `v`." in GUIDE["reverse"]
    )
    assert (
        "so its adjoint sums both contributions" in readme and "sums both contributions" in GUIDE["reverse"]
    )


def test_notebook_display():
    gradient = srcgrad.grad(tanh_module.tanh)
    shown = gradient._repr_html_()
    assert "d_tanh" in shown and "np" in shown and "exp" in shown
    assert srcgrad.grad(tanh_module.tanh, mode="forward")._repr_html_()
    page = explain(tanh_module.tanh, 1.0)
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and html.escape("0.419974341614026") in frame


def test_wrong_arguments_are_refused_with_the_signature():
    with pytest.raises(srcgrad.SrcGradError, match=r"tanh\(x\) cannot take these arguments"):
        explain(tanh_module.tanh, 1.0, 2.0)


def test_command_line_writes_the_page(tmp_path, capsys):
    out = tmp_path / "tanh.html"
    assert (
        main(["explain", str(ROOT / "examples/tanh_slope.py") + ":tanh", "--at", "1.0", "-o", str(out)]) == 0
    )
    assert "<code>0.419974341614026</code>" in out.read_text()
    args = ["explain", str(ROOT / "examples/logistic_regression.py") + ":training_loss"]
    assert main([*args, "--at", "np.array([0.0, 0.0, 0.0])", "--mode", "forward", "-o", "-"]) == 0
    assert "d training_loss / d weights" in capsys.readouterr().out
    assert main([*args, "--at", "np.array([0.0, 0.0,", "-o", str(out)]) == 2
    assert "--at 'np.array([0.0, 0.0,': cannot read the arguments" in capsys.readouterr().err


# -- in a real browser -------------------------------------------------------------------------


def _browser_paths():
    browser = next(filter(None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome"])), None)
    return browser, shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    browser_path, driver_path = _browser_paths()
    if not (browser_path and driver_path):
        message = "headless Chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("SRCGRAD_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]:
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1000")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    yield driver
    driver.quit()


def open_page(driver, tmp_path, page, fragment=""):
    """Open the page from a file, as a student would, and check that loading it fetched nothing else."""
    path = tmp_path / "page.html"
    page.save(path)
    driver.get_log("performance")  # forget what came before
    driver.get(path.as_uri() + fragment)
    assert requests(driver) == [path.as_uri()]  # the page itself, and nothing from the network


def requests(driver):
    """The URL of every request the page made, from Chrome's network events."""
    import json

    events = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    return [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]


ROWS = "return Array.from(document.querySelectorAll(arguments[0]))"


def row(driver, side, text):
    """The row of the primal (``side="primal"``) or generated code that reads ``text``."""
    found = driver.execute_script(
        ROWS + ".filter(r => r.querySelector('td.src').textContent.trim() === arguments[1])",
        f"#{side} tr",
        text,
    )
    assert len(found) == 1, (side, text, len(found))
    return found[0]


def hover(driver, element):
    from selenium.webdriver.common.action_chains import ActionChains

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    ActionChains(driver).move_to_element(element).perform()


def lit(driver, side):
    """The text of the rows of one side that are highlighted now."""
    return set(
        driver.execute_script(
            ROWS + ".map(r => r.querySelector('td.src').textContent.trim())", f"#{side} tr.on"
        )
    )


def test_browser_tanh(browser, tmp_path):
    from selenium.webdriver.common.by import By

    open_page(browser, tmp_path, explain(tanh_module.tanh, 1.0))
    assert "0.419974341614026" in browser.find_element(By.ID, "gradient").text
    y = row(browser, "generated", "y = np.exp(-2.0 * x)")
    assert (
        y.find_element(By.CSS_SELECTOR, "td.val").text
        == "y = 0.1353352832366127"
        == f"y = {float(np.exp(-2.0))!r}"
    )

    plain = y.value_of_css_property("background-color")
    hover(browser, row(browser, "primal", "y = np.exp(-2.0 * x)"))
    assert lit(browser, "primal") == {"y = np.exp(-2.0 * x)"}
    assert lit(browser, "generated") == {
        "# y = np.exp(-2.0 * x)   [tanh_slope.py:16]",
        "y = np.exp(-2.0 * x)",
        "d_y = d_add - d_sub",
        "d_mul = d_y * y",
        "d_x = d_mul * -2.0",
        "return d_x",
    }
    assert y.value_of_css_property("background-color") != plain  # highlighted as the browser draws it

    hover(browser, row(browser, "generated", "d_sub = 1.0 / add"))  # and from the generated side
    assert lit(browser, "primal") == {"return (1.0 - y) / (1.0 + y)"}
    row(browser, "generated", "d_sub = 1.0 / add").click()  # pinned: moving away keeps it
    hover(browser, row(browser, "primal", "y = np.exp(-2.0 * x)"))
    assert lit(browser, "primal") == {"return (1.0 - y) / (1.0 + y)"}
    assert requests(browser) == []


def test_browser_training_loss_with_inlined_helpers(browser, tmp_path):
    from selenium.webdriver.common.by import By

    page = explain(logistic.training_loss, TUTORIAL_WEIGHTS)
    open_page(browser, tmp_path, page, "#logistic_regression.py:30")  # opens with line 30 pinned
    assert lit(browser, "primal") == {"label_probabilities = preds * targets + (1 - preds) * (1 - targets)"}
    row(browser, "primal", "label_probabilities = preds * targets + (1 - preds) * (1 - targets)").click()
    hover(browser, row(browser, "primal", "return 0.5 * (np.tanh(x / 2.0) + 1)"))  # in sigmoid
    assert lit(browser, "generated") == {
        "#     in sigmoid: return 0.5 * (np.tanh(x / 2.0) + 1)   [logistic_regression.py:19]",
        "tanh = np.tanh(dot / 2.0)",
        "preds = 0.5 * (tanh + 1)",
        "d_preds = unbroadcast(d_label_probabilities * targets, preds) - d_sub",
        "d_add = d_preds * 0.5",
        "d_div = d_add * (1.0 - tanh ** 2)",
    }
    hover(browser, row(browser, "generated", "dot = np.dot(inputs, weights)"))
    near = {r.text for r in browser.find_elements(By.CSS_SELECTOR, "#primal tr.near")}
    assert lit(browser, "primal") == {"return sigmoid(np.dot(inputs, weights))"}
    assert any(
        "preds = logistic_predictions(weights, inputs)" in t for t in near
    )  # the call it is inlined at
    expected = show(srcgrad.grad(logistic.training_loss)(TUTORIAL_WEIGHTS), full=True)
    assert expected in browser.find_element(By.ID, "gradient").text
    value = row(browser, "generated", "preds = 0.5 * (tanh + 1)").find_element(By.CSS_SELECTOR, "td.val")
    assert value.text == "preds = shape (4,) float64: [0.5, 0.5, 0.5, 0.5]"
    assert requests(browser) == []


def test_browser_loop_values_per_iteration(browser, tmp_path):
    from selenium.webdriver.common.by import By

    open_page(browser, tmp_path, explain(euler, 0.5, 2.0))
    cell = row(browser, "generated", "sin = np.sin(x)").find_element(By.CSS_SELECTOR, "td.val")
    items = cell.find_elements(By.CSS_SELECTOR, "li")
    assert not items[0].is_displayed()  # collapsed: one line, not four
    cell.find_element(By.TAG_NAME, "summary").click()
    x, shown = 0.5, []
    for _ in range(4):
        shown.append(f"sin = {float(np.sin(x))!r}")
        x = x + 0.1 * (np.sin(x) - 2.0 * x)
    assert [item.text for item in items] == shown
    assert requests(browser) == []


def test_tutorial_notebook_is_committed_with_its_outputs():
    """examples/tutorial.ipynb shows the pages and the tutorial's numbers without being run."""
    import json

    notebook = json.loads((ROOT / "examples" / "tutorial.ipynb").read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] for cell in code[1:])  # all but the imports print or show
    text = json.dumps([cell["outputs"] for cell in code])
    for number in ["0.419974341614026", "2.772588722239781", "1.0672706757870163"]:
        assert number in text
    pages = [
        o
        for cell in code
        for o in cell["outputs"]
        if "<iframe srcdoc=" in "".join(o.get("data", {}).get("text/html", ""))
    ]
    assert len(pages) == 4


def test_explaining_a_gradient_cites_the_lines_of_its_source():
    """Code generated from generated code cites ``d_tanh:LINE``: the left side is ``d_tanh.source``."""
    dtanh = srcgrad.grad(tanh_module.tanh)
    page = explain(dtanh, 1.0)
    assert page.gradient == srcgrad.grad(dtanh)(1.0)
    assert re.findall(r"<h3>(.*?)</h3>", page.html) == ["d_tanh  (generated by srcgrad)"]
    line = line_of(dtanh.source, "d_y = d_add - d_sub")
    assert f'<tr id="d_tanh:{line}" data-key=' in page.html


def test_browser_notebook_frame(browser, tmp_path):
    """What Jupyter shows (``_repr_html_``): the page in a sandboxed frame, its script working there."""
    path = tmp_path / "notebook.html"
    path.write_text(
        f"<!DOCTYPE html><html><body>{explain(tanh_module.tanh, 1.0)._repr_html_()}</body></html>"
    )
    browser.get(path.as_uri())
    frame = browser.find_element("tag name", "iframe")
    assert frame.size["height"] > 500
    browser.switch_to.frame(frame)
    try:
        hover(browser, row(browser, "generated", "d_mul = d_y * y"))
        assert lit(browser, "primal") == {"y = np.exp(-2.0 * x)"}
    finally:
        browser.switch_to.default_content()


def test_values_are_short():
    """Numbers in full, arrays as shape, dtype and a few entries, whatever their size."""
    assert show(np.float64(0.1) + np.float64(0.2)) == "0.30000000000000004"
    big = show(np.arange(1000.0).reshape(10, 100))
    assert big.startswith("shape (10, 100) float64: [[") and "..." in big and len(big) < 200
    assert show(np.arange(3)) == "shape (3,) int64: [0, 1, 2]"
    assert show([np.ones(2)] * 6).startswith("list of 6: [shape (2,) float64: [1., 1.], ")
    assert show(np.array([0.1 + 0.2]), full=True) == "shape (1,) float64: [0.30000000000000004]"


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_explain_agrees_with_grad_at_a_size_one_array(mode):
    """Whatever grad does with an output of one element (refuse it, or differentiate it as autograd
    does, through a runtime helper that reads attributes of the generated function), explain does too."""
    x = np.array([1.0])
    try:
        want = srcgrad.grad(tanh_module.tanh, mode=mode)(x)
    except srcgrad.NonScalarOutputError:
        with pytest.raises(srcgrad.NonScalarOutputError):
            explain(tanh_module.tanh, x, mode=mode)
        return
    np.testing.assert_array_equal(explain(tanh_module.tanh, x, mode=mode).gradient, want)
    result, _ = record(srcgrad.grad(tanh_module.tanh, mode=mode), (x,), {})
    np.testing.assert_array_equal(result, want)


def test_branch_and_loop_tests_are_recorded_each_time():
    gradient = srcgrad.grad(until)
    _, logs = record(gradient, (1.5,), {})
    source = gradient.source
    tests = [run[0] for _, run in logs[line_of(source, "while x_1 < 10.0:")].runs()]
    assert tests == [("test", "True")] * 3 + [("test", "False")]  # 1.5 -> 3 -> 6 -> 12
    assert [run[0] for _, run in logs[line_of(source, "if cond:")].runs()] == [("test", "False")] * 3
