"""The first store's Qt-free modules are imported without PySide6's source scan, and
PySide6's import hook is back in place afterwards, whatever happened."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6 import QtCore  # noqa: F401 - installs PySide6's import hook

from ssp_desktop.ui import loading


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Path]:
    """A folder on the import path for throwaway modules, removed again after."""
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in set(sys.modules) - before:
            if name.startswith("ssp_test_loading"):
                del sys.modules[name]


def _scanned() -> dict[str, int]:
    """The modules PySide6's hook has read the source of (its feature table)."""
    feature = sys.modules.get("shibokensupport.feature")
    table = getattr(feature, "pyside_feature_dict", None)
    if not isinstance(table, dict):
        pytest.skip("this PySide6 keeps no feature table to look at")
    return table


def test_modules_are_imported_unscanned_and_the_hook_is_put_back(modules: Path) -> None:
    (modules / "ssp_test_loading_inner.py").write_text("VALUE = 42\n")
    (modules / "ssp_test_loading_outer.py").write_text(
        "import ssp_test_loading_inner\nVALUE = ssp_test_loading_inner.VALUE + 1\n"
    )
    hooked = builtins.__import__
    assert hooked is not getattr(builtins, "__orig_import__", None), "PySide6 hook missing"

    loading.import_qt_free(["ssp_test_loading_outer"])

    assert sys.modules["ssp_test_loading_outer"].VALUE == 43
    assert builtins.__import__ is hooked
    # The module it imported in turn was not read by PySide6's hook.
    assert "ssp_test_loading_inner" not in _scanned()
    # An ordinary import afterwards goes through the hook again (and is scanned).
    (modules / "ssp_test_loading_later.py").write_text("VALUE = 1\n")
    (modules / "ssp_test_loading_after.py").write_text("import ssp_test_loading_later\n")
    import ssp_test_loading_after  # noqa: F401

    assert "ssp_test_loading_later" in _scanned()


def test_a_failing_import_still_puts_the_hook_back(modules: Path) -> None:
    (modules / "ssp_test_loading_broken.py").write_text("raise RuntimeError('broken')\n")
    hooked = builtins.__import__
    with pytest.raises(RuntimeError, match="broken"):
        loading.import_qt_free(["ssp_test_loading_broken"])
    assert builtins.__import__ is hooked


def test_without_pyside_s_hook_it_is_a_plain_import(
    modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As before PySide6 is imported: Python's own import in place.
    monkeypatch.setattr(builtins, "__import__", builtins.__orig_import__)
    (modules / "ssp_test_loading_plain.py").write_text("VALUE = 7\n")
    hooked = builtins.__import__
    loading.import_qt_free(["ssp_test_loading_plain"])
    assert sys.modules["ssp_test_loading_plain"].VALUE == 7
    assert builtins.__import__ is hooked


def test_the_first_view_modules_exist_and_are_qt_free() -> None:
    """Every name in the list is a module below ``ui/`` (the layers that never import
    Qt), so a renamed module cannot quietly drop out of the list unnoticed."""
    for name in loading.FIRST_VIEW:
        assert not name.startswith("ssp_desktop.ui"), name
        __import__(name)
