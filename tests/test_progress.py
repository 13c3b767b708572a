"""Progress reporting and cancellation without Qt."""

from __future__ import annotations

import pytest

from ssp_desktop.progress import Cancelled, Progress


def test_steps_reach_the_callback_until_cancelled() -> None:
    seen: list[tuple[int, int, str]] = []
    progress = Progress(lambda d, t, s: seen.append((d, t, s)))
    progress.step(1, 4, "reading")
    progress.cancel()
    with pytest.raises(Cancelled, match="Nothing was changed"):
        progress.step(2, 4, "writing")
    assert seen == [(1, 4, "reading")]
    assert progress.cancelled
