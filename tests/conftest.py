"""Test-wide set-up: the disk cache lives in a private temporary directory, not in ~/.cache."""

import os
import tempfile

os.environ.setdefault("SRCGRAD_CACHE_DIR", tempfile.mkdtemp(prefix="srcgrad-test-cache-"))
