"""Guard against a Qt binding that corrupts reference counts (PySide6 6.12.0 on
Python 3.11 loses a reference to None/True/False on every call into Qt, and the app
later aborts with "Fatal Python error: none_dealloc"). Run in a subprocess so a bad
binding fails this test instead of killing the test run."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QObject, Signal

class Probe(QObject):
    fired = Signal(bool)

probe = Probe()
probe.fired.connect(lambda _flag: None)
before = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
for _ in range(2000):
    probe.fired.emit(True)
    probe.blockSignals(False)
after = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
print(*(a - b for a, b in zip(after, before)))
"""


def test_the_qt_binding_keeps_reference_counts() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    drift = [abs(int(x)) for x in result.stdout.split()]
    # A few references may come and go with caches; a leak would be thousands.
    assert max(drift) < 100, f"None/True/False reference drift {drift}"
