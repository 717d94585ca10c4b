"""The emulator's heavy dependencies load when first needed, not when a test session imports or starts it."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("av", "PIL", "openapi_core")

# Runs in a fresh interpreter: this test process has long imported everything.
PROBE = """
import json, sys
from qubrid_video_emulator import Emulator
loaded = {"import": [name for name in HEAVY if name in sys.modules]}
with Emulator() as emulator:
    loaded["start"] = [name for name in HEAVY if name in sys.modules]
print(json.dumps(loaded))
"""


def test_importing_and_starting_the_emulator_loads_no_codec_imaging_or_validation_library() -> None:
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout) == {"import": [], "start": []}
