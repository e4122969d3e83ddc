"""The transform's fast paths give exactly what the general code they replace gives.

Each is checked against that code (gast's walk, deepcopy, dump and converters, ast.unparse)
on the syntax trees of srcgrad's own sources and on the code generated for random programs.
"""

import ast
import copy
import gc
import sys
from pathlib import Path

import gast
import pytest

import srcgrad
from srcgrad import emit, ir, optimize, parse, trees
from srcgrad.normalize.scope import Env

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from random_programs import generate, load, render  # noqa: E402

SOURCES = sorted((HERE.parent / "srcgrad").rglob("*.py"))[:12] + [HERE / "random_programs.py"]


@pytest.fixture(scope="module")
def sources():
    return [(path.name, path.read_text()) for path in SOURCES]


def test_parse_converts_as_gast_does(sources):
    for filename, text in sources:
        mine, theirs = parse._to_gast(ast.parse(text)), gast.parse(text)
        assert gast.dump(mine, include_attributes=True) == gast.dump(theirs, include_attributes=True), (
            filename
        )
        for a, b in zip(gast.walk(mine), gast.walk(theirs)):
            assert list(a.__dict__) == list(b.__dict__), filename


def test_walk_clone_and_key_agree_with_gast(sources):
    for filename, text in sources:
        tree = gast.parse(text)
        assert [id(n) for n in trees.walk(tree)] == [id(n) for n in gast.walk(tree)], filename
        wanted = (gast.Name, gast.Constant, gast.Call, gast.stmt)  # walk_values: these, in walk's order
        assert [id(n) for n in trees.walk_values(tree) if isinstance(n, wanted)] == [
            id(n) for n in gast.walk(tree) if isinstance(n, wanted)
        ]
        cloned = trees.clone(tree)
        assert gast.dump(cloned, include_attributes=True) == gast.dump(
            copy.deepcopy(tree), include_attributes=True
        )
        assert not {id(n) for n in gast.walk(cloned)} & {id(n) for n in gast.walk(tree)}
        nodes = [n for n in gast.walk(tree) if isinstance(n, gast.expr)][:3000]
        by_key, by_dump = {}, {}
        for n in nodes:  # equal keys exactly where the dumps are equal
            by_key.setdefault(optimize.key(n), set()).add(gast.dump(n))
            by_dump.setdefault(gast.dump(n), set()).add(optimize.key(n))
        assert all(len(v) == 1 for v in by_key.values()) and all(len(v) == 1 for v in by_dump.values())
        for n in nodes:
            if isinstance(n, optimize._REUSABLE):
                assert optimize._head(n) == optimize._head_of_key(optimize.key(n)), gast.dump(n)
            assert sorted(optimize._loads(n)) == sorted(
                m.id for m in gast.walk(n) if isinstance(m, gast.Name) and isinstance(m.ctx, gast.Load)
            )


def test_printer_prints_as_ast_unparse(monkeypatch):
    """Every statement of the code generated for 40 random programs: emit's text against
    ``ast.unparse`` of gast's conversion (the code gast's converter was used for)."""
    printed, unparse = [], emit._unparse

    def both(node):
        slow = ast.unparse(ast.fix_missing_locations(gast.gast_to_ast(node)))
        printed.append((node, unparse(node), slow))
        return slow

    monkeypatch.setattr(emit, "_unparse", both)
    monkeypatch.setenv("SRCGRAD_CACHE", "0")
    for index in range(40):
        program = generate(3, index)
        f = load(render(program.template))
        for make in (srcgrad.grad, lambda f: srcgrad.grad(f, mode="forward")):
            try:
                make(f)
            except srcgrad.SrcGradError:
                pass
    assert len(printed) > 1000
    assert [fast for _, fast, _ in printed] == [slow for _, _, slow in printed]
    if emit._UNPARSER is not None:  # (where ast keeps its printer elsewhere, all goes through it)
        refused = 0
        for node, _, _ in printed:
            try:
                emit._Printer().statement(node)
            except emit._Unsupported:
                refused += 1
        assert refused < len(printed) / 10  # most statements take the printer's path


def test_env_counts_the_holders_of_each_name():
    env = Env({"a": ir.name("t"), "b": ir.name("t"), "c": gast.Constant(value=1, kind=None)})
    assert env.holders("t") == 2
    env["a"] = ir.name("u")
    del env["b"]
    env.update(d=ir.name("t"), e=ir.name("u"))
    env.pop("missing", None)
    env.setdefault("f", ir.name("u"))
    for each in (env, copy.copy(env), copy.deepcopy(env)):
        counted = {n: each.holders(n) for n in ("t", "u")}
        assert counted == {
            n: sum(isinstance(v, gast.Name) and v.id == n for v in each.values()) for n in ("t", "u")
        }


def test_stages_restore_the_garbage_collector():
    stage = trees.gc_paused(lambda: gc.isenabled())
    assert gc.isenabled() and stage() is False and gc.isenabled()
    gc.disable()
    try:
        assert stage() is False and not gc.isenabled()  # (left off, as it was)
    finally:
        gc.enable()
