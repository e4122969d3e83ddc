"""Test-wide set-up: the disk cache lives in a private temporary directory, not in ~/.cache."""

import os
import tempfile

os.environ.setdefault("SRCGRAD_CACHE_DIR", tempfile.mkdtemp(prefix="srcgrad-test-cache-"))
# numba's LLVM optimizations take two thirds of its compile time and change no value (no fast
# math): the tests compile hundreds of twins and jit gradients, and check values, not speed
os.environ.setdefault("NUMBA_OPT", "0")
