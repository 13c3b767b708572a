"""One writer per store, whatever path names it (issue 22, item 9).

The writer lock used to be named after the path given, so a symlink or a hard link to
an open store made a second, unrelated lock and two apps wrote the same file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ssp_desktop.domain.errors import StoreLockedError
from ssp_desktop.store import lock as lock_module
from ssp_desktop.store.engine import Store
from ssp_desktop.store.lock import lock_path_for
from tests.factories import mini_plan


@pytest.fixture
def made(store_path: Path) -> Path:
    with Store.open(store_path, create=True) as s:
        mini_plan(s)
    return store_path


def test_a_symlink_to_an_open_store_is_refused_and_names_the_holder(
    made: Path, tmp_path: Path
) -> None:
    link = tmp_path / "shortcut.sqlite"
    link.symlink_to(made)
    with Store.open(made):
        with pytest.raises(StoreLockedError, match="already open for editing by") as caught:
            Store.open(link)
    assert caught.value.holder is not None
    assert caught.value.holder.pid == os.getpid()


def test_the_real_path_is_refused_while_a_symlink_has_the_store(made: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    link = other / "plan.sqlite"
    link.symlink_to(made)
    with Store.open(link):
        with pytest.raises(StoreLockedError):
            Store.open(made)
    # Nothing was left holding it: both paths open again once it is closed.
    with Store.open(made):
        pass
    with Store.open(link):
        pass


def test_a_symlinked_folder_shares_the_lock(made: Path, tmp_path: Path) -> None:
    folder_link = tmp_path.parent / f"{tmp_path.name}-link"
    folder_link.symlink_to(tmp_path, target_is_directory=True)
    try:
        with Store.open(folder_link / made.name):
            with pytest.raises(StoreLockedError):
                Store.open(made)
    finally:
        folder_link.unlink()


@pytest.mark.skipif(
    not lock_module.ofd_locks_available(),
    reason="a hard link is caught by the lock on the file itself (Linux OFD locks)",
)
def test_a_hard_link_to_an_open_store_is_refused(made: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin.sqlite"
    os.link(made, twin)
    with Store.open(made):
        with pytest.raises(StoreLockedError, match="already open for editing"):
            Store.open(twin)
    with Store.open(twin):
        with pytest.raises(StoreLockedError):
            Store.open(made)


def test_the_lock_file_is_named_after_the_store_itself(made: Path, tmp_path: Path) -> None:
    link = tmp_path / "shortcut.sqlite"
    link.symlink_to(made)
    roundabout = tmp_path / "sub" / ".." / made.name
    (tmp_path / "sub").mkdir()
    assert lock_path_for(link) == lock_path_for(made) == lock_path_for(roundabout)
    assert lock_path_for(made) == made.resolve().with_name("plan.sqlite.lock")
