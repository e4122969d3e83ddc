"""Random programs with loops, branches, swaps, in-place updates, lists and helpers (see
random_programs.py): srcgrad's reverse and forward gradients and its Hessians never crash and
never disagree with autograd or finite differences. Refusals (a SrcGradError) are allowed.

More programs, any seed: ``python tests/random_programs.py --seed 7 --count 2000 --show-failures``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import random_programs  # noqa: E402

SEED = 20240601
COUNT = 200


def test_random_programs_have_right_gradients(monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE", "0")  # every program is new: no disk cache
    report = random_programs.run_many(SEED, COUNT, hessians="rotate")
    assert report.programs == COUNT
    assert sum(report.discarded.values()) < COUNT // 10, report.discarded  # the generator stays useful
    assert sum(report.counts["reverse"].values()) > COUNT // 2
    if report.bad():
        shown = []
        for found in list(report.failures.values())[:4]:
            program, outcome = random_programs.reduce(*found[0], budget=3.0)
            shown.append(random_programs.describe_failure(program, outcome))
        details = "\n\n".join(shown)
        raise AssertionError(
            f"{report.bad()} wrong or crashed results in {COUNT} programs of seed {SEED}:\n"
            f"{random_programs.summary(report)}\n\nfirst failures, minimised:\n\n{details}"
        )
