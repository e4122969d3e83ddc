"""The HTML of the ``srcgrad explain`` page: one file, styles and script inline, no network.

Lines are table rows. A primal row carries ``data-key`` (its ``file.py:LINE`` as a short
key); a generated row carries ``data-src`` (the keys of every primal line it comes from,
outermost call first) and ``data-own`` (the innermost). The script highlights partners on
hover and pins them on click; every row has a hue of its own primal line.
"""

from __future__ import annotations

import html
import re

from .explain_values import LineLog

# Taken from the README's "Reading the generated code" (tests/test_explain.py keeps them in step).
GUIDE = {
    "reverse": (
        "The generated function has your function's parameters and returns the gradient. It reads in "
        "two halves. **The forward pass** recomputes your function, keeping every intermediate value "
        "the derivatives need, one operation per line: a temporary is named after the operation that "
        "makes it (`1.0 - y` gets the name `sub`), and a value you named keeps your name. The comment "
        "above each group quotes the line of your function it comes from. **The backward pass** walks "
        "the same lines in reverse. `d_v` is the *adjoint* of `v`: the derivative of the output with "
        "respect to `v`. The output's own adjoint is 1. A value used twice gets a contribution from "
        "each use, so its adjoint sums both contributions, written once where the value is defined; "
        "the adjoint of a parameter is the gradient."
    ),
    "forward": (
        "The tangent function has your function's parameters and, for each one differentiated, its "
        "tangent. The tangent of `y` is `t_y` (the derivative of `y` along the input's tangent `t_x`), "
        "and each tangent is computed right after its value, under the same comment, which quotes the "
        "line of your function it comes from. The last function runs the tangent function once per "
        "element of the argument, each time with a unit tangent, and `from_columns` puts the results "
        "together into the gradient."
    ),
}

STYLE = """
:root { --hl: 210; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328;
       background: #f6f8fa; }
header, footer { padding: 10px 20px; }
h1 { font-size: 20px; margin: 4px 0; } h1 small { font-size: 14px; font-weight: normal; color: #57606a; } h2 { font-size: 15px; margin: 8px 10px; }
h3 { font-size: 13px; margin: 10px 10px 2px; color: #57606a; font-weight: 600; }
main { display: grid; grid-template-columns: minmax(0, 1.6fr) minmax(0, 3.4fr); gap: 14px; padding: 0 20px; }
.panel { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; overflow-x: auto;
         align-self: start; padding-bottom: 6px; }
table.code { border-collapse: collapse; width: 100%;
             font: 12.5px/1.55 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
td { vertical-align: top; }
td.no { color: #8c959f; text-align: right; padding: 0 8px 0 10px; user-select: none; width: 1%; }
td.src { white-space: pre; padding-right: 14px; }
td.val { white-space: pre-wrap; color: #24292f; border-left: 1px solid #eaeef2; padding: 0 8px;
         min-width: 14em; font-size: 12px; width: 45%; }
td.val .n { color: #8c959f; }
tr[data-key], tr[data-own] { box-shadow: inset 4px 0 hsl(var(--h) 65% 62%); cursor: pointer; }
tr.on { background: hsl(var(--hl) 90% 87%); }
tr.near { background: hsl(var(--hl) 80% 94%); }
tr.cm td.src { color: #6e7781; }
details summary { cursor: pointer; }
details ol { margin: 2px 0; padding-left: 3.2em; }
li.gap { list-style: none; color: #8c959f; }
#gradient code, .guide code { background: #eaeef2; padding: 1px 4px; border-radius: 4px; }
#gradient { font-size: 15px; }
.hint { color: #57606a; font-size: 13px; }
body.pinned .hint::after { content: " (pinned: click again to release)"; }
.guide { max-width: 60em; }
"""

SCRIPT = """
(function () {
  var pinned = null;
  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
  function partners(row) {
    if (row.dataset.key) {
      return { on: all('[data-key="' + row.dataset.key + '"], [data-src~="' + row.dataset.key + '"]'), near: [] };
    }
    var own = row.dataset.own, stack = row.dataset.src.split(' ');
    return {
      on: all('[data-own="' + own + '"], [data-key="' + own + '"]'),
      near: all(stack.filter(function (k) { return k !== own; })
                     .map(function (k) { return '[data-key="' + k + '"]'; }).join(', ') || 'nothing'),
    };
  }
  function light(row) {
    all('.on, .near').forEach(function (e) { e.classList.remove('on', 'near'); });
    if (!row) return null;
    document.documentElement.style.setProperty('--hl', row.dataset.h);
    var found = partners(row);
    found.near.forEach(function (e) { e.classList.add('near'); });
    found.on.forEach(function (e) { e.classList.add('on'); });
    return found;
  }
  function lineOf(target) { return target.closest ? target.closest('tr[data-key], tr[data-own]') : null; }
  document.addEventListener('mouseover', function (event) { if (!pinned) light(lineOf(event.target)); });
  function pin(row, scroll) {
    pinned = row && row !== pinned ? row : null;
    document.body.classList.toggle('pinned', !!pinned);
    var found = light(pinned || row);
    if (scroll && pinned && found) {  // bring the first partner on the other side into view
      var other = found.on.filter(function (e) { return !!e.dataset.key !== !!row.dataset.key; })[0];
      if (other) other.scrollIntoView({ block: 'nearest' });
    }
  }
  document.addEventListener('click', function (event) {
    if (!event.target.closest('details')) pin(lineOf(event.target), true);
  });
  // page.html#file.py:LINE opens with that line of your function pinned
  var named = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (named && named.dataset.key) pin(named, false);
})();
"""


def _inline(text: str) -> str:
    """The guide's markup: `code`, **bold** and *emphasis*, escaped."""
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)


def highlight_lines(source: str) -> tuple[list[str], str]:
    """Each line of ``source`` as HTML, syntax-highlighted when pygments is installed, and its CSS."""
    lines = source.split("\n")
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # optional: plain escaped text without it
        return [html.escape(line, quote=False) for line in lines], ""
    formatter = HtmlFormatter(nowrap=True)
    out = highlight(source, PythonLexer(stripnl=False), formatter).split("\n")
    if len(out) == len(lines) + 1 and not out[-1]:
        out.pop()  # the newline pygments ends its output with
    if len(out) != len(lines):  # never misalign code and line numbers
        return [html.escape(line, quote=False) for line in lines], ""
    css = formatter.get_style_defs("td.src").splitlines()
    return out, "\n".join(rule for rule in css if not rule.startswith("td.src {"))  # not its background


def source_html(source: str) -> str:
    """Generated source as highlighted HTML with inline styles (a notebook's display of a gradient)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f"<pre>{html.escape(source)}</pre>"
    return highlight(source, PythonLexer(), HtmlFormatter(noclasses=True))


def _hue(index: int) -> int:
    return round(index * 137.508) % 360  # the golden angle: neighbouring lines get distant hues


def _pairs(run: list[tuple[str, str]]) -> str:
    return "; ".join(f"{html.escape(name)} = {html.escape(value)}" for name, value in run)


def _values(log: LineLog | None) -> str:
    if log is None:
        return ""
    runs = log.runs()
    if log.count == 1:
        return _pairs(runs[0][1])
    items, previous = [], 0
    for number, run in runs:
        if number != previous + 1:
            items.append(f'<li class="gap">... runs {previous + 1} to {number - 1} not kept ...</li>')
        items.append(f'<li value="{number}">{_pairs(run)}</li>')
        previous = number
    summary = f'<span class="n">{log.count} runs:</span> {_pairs(runs[0][1])}'
    return f"<details><summary>{summary}</summary><ol>{''.join(items)}</ol></details>"


def _row(number: int, code: str, attributes: str, values: str | None, comment: bool = False) -> str:
    if values is None:
        cells = f'<td class="no">{number}</td><td class="src">{code}</td>'
    elif comment or not code:  # a comment computes nothing: it may run into the value column
        cells = f'<td class="no">{number}</td><td class="src" colspan="2">{code}</td>'
    else:
        cells = f'<td class="no">{number}</td><td class="src">{code}</td><td class="val">{values}</td>'
    kind = ' class="cm"' if comment else ""
    return f"<tr{kind}{attributes}>{cells}</tr>"


def render(
    *,
    name: str,
    mode: str,
    wrt: list[str],
    sections: list,
    cited: dict,
    generated: list,
    source: str,
    logs: dict[int, LineLog],
    point: list[tuple[str, str]] | None,
    gradient: str | None,
) -> str:
    """The page: the primal sections on the left, the generated lines (and values) on the right."""
    keys = {where: f"k{i}" for i, where in enumerate(cited)}
    hues = {where: _hue(i) for i, where in enumerate(cited)}
    styles = []
    left = []
    for section in sections:
        lines, css = highlight_lines("\n".join(section.lines))
        styles.append(css)
        rows = []
        for offset, code in enumerate(lines):
            where = f"{section.filename}:{section.first + offset}"
            attributes = ""
            if where in keys:
                attributes = (
                    f' id="{html.escape(where)}" data-key="{keys[where]}" data-h="{hues[where]}"'
                    f' style="--h:{hues[where]}"'
                )
            rows.append(_row(section.first + offset, code, attributes, None))
        left.append(f"<h3>{html.escape(section.title)}</h3><table class='code'>{''.join(rows)}</table>")
    code_lines, css = highlight_lines(source.rstrip("\n"))
    styles.append(css)
    right = []
    for line, code in zip(generated, code_lines):
        attributes = ""
        if line.stack:
            own = line.stack[-1]
            attributes = (
                f' data-src="{" ".join(keys[w] for w in line.stack)}" data-own="{keys[own]}"'
                f' data-h="{hues[own]}" style="--h:{hues[own]}"'
            )
        values = None if point is None else _values(logs.get(line.number))
        right.append(_row(line.number, code, attributes, values, line.comment))
    at = ""
    if point is not None:
        at = " at " + ", ".join(f"<code>{html.escape(n)} = {html.escape(v)}</code>" for n, v in point)
    derivative = ", ".join(f"d {name} / d {w}" for w in wrt)
    heading = f"{html.escape(derivative)} <small>({mode} mode{',' if at else ''}{at})</small>"
    bottom = ""
    if gradient is not None:
        bottom = f'<p id="gradient">The gradient{at}: <code>{html.escape(gradient)}</code></p>'
    guide = f'<p class="guide"><strong>Reading the generated code.</strong> {_inline(GUIDE[mode])}</p>'
    hint = "Hover over a line to see its partners on the other side; click to pin them." + (
        " Beside each generated line, the value it computed." if point is not None else ""
    )
    call = "srcgrad.grad" if mode == "reverse" else 'srcgrad.grad(..., mode="forward")'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>srcgrad explain: {html.escape(name)}</title>
<style>{STYLE}{"".join(dict.fromkeys(styles))}</style></head>
<body>
<header><h1>{heading}</h1><p class="hint">{hint}</p></header>
<main>
<section class="panel" id="primal"><h2>Your function</h2>{"".join(left)}</section>
<section class="panel" id="generated"><h2>Generated code (<code>{html.escape(call)}</code>)</h2>
<table class="code">{"".join(right)}</table></section>
</main>
<footer>{bottom}{guide}</footer>
<script>{SCRIPT}</script>
</body></html>
"""
