"""settle_gc in a fresh interpreter (it freezes the process's objects, so never in pytest's)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

SCRIPT = """
import gc, os
from scenarist_runtime.gc_tuning import THRESHOLDS, settle_gc
assert gc.get_freeze_count() == 0
assert settle_gc() == THRESHOLDS == gc.get_threshold()
assert gc.get_freeze_count() > 1000  # the modules and objects start-up built
os.environ["SCENARIST_GC_THRESHOLDS"] = "700,10,10"
assert settle_gc() == (700, 10, 10) == gc.get_threshold()
print("ok")
"""


def test_settling_freezes_start_up_and_sets_the_thresholds() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "ok"
