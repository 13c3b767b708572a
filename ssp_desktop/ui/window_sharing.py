"""The main window's sharing jobs: bundles in and out, starter copies, keys, joining,
conflicts, and files handed to the app. A base of :class:`MainWindow`, kept apart so
the window's own module is about opening stores and laying out the work."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
)

from ssp_desktop import paths
from ssp_desktop.ui.copy_status import ConflictBadge

# The store, the ORM and the sync code are imported where a sharing job first needs
# them, so that the window's frame is painted before they load (a second or so).
if TYPE_CHECKING:
    from ssp_desktop.progress import Progress
    from ssp_desktop.store.engine import Store
    from ssp_desktop.ui.document import PlanDocument
    from ssp_desktop.ui.keys_ui import (
        EnrolDialog,
        JoinDialog,
        KeysDialog,
        MasterFingerprintDialog,
    )
    from ssp_desktop.ui.my_quarter import Typing
    from ssp_desktop.ui.sync_ui import ConflictsDialog, ExportBundleDialog, ImportBundleWizard
    from ssp_desktop.ui.workers import Job
    from ssp_desktop.ui.workspace import Workspace

STORE_FILTER = "ssp-desktop stores (*.sqlite);;All files (*)"
JOIN_OFFERED_KEY = "welcome/join_offered"


class SharingWindow(QMainWindow):
    """Bundles, keys and conflicts: the File and Sharing menu items that move updates."""

    store: Store | None
    document: PlanDocument | None
    conflict_badge: ConflictBadge
    pages: QStackedWidget
    _workspace: Workspace | None
    starter_job: Job | None
    master_check: MasterFingerprintDialog | None

    # Opening a store and laying out the window are MainWindow's job.
    def open_store(self, path: Path, *, create: bool = False) -> bool:
        raise NotImplementedError

    def _show_store(self) -> None:
        raise NotImplementedError

    def _fail(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        QMessageBox.warning(self, title, message)

    def export_bundle(self) -> ExportBundleDialog | None:
        from ssp_desktop.ui.sync_ui import ExportBundleDialog

        if self.store is None:
            return None
        dialog = ExportBundleDialog(self.store, self)
        dialog.open()
        return dialog

    def import_bundle(self, path: Path | None = None) -> ImportBundleWizard | None:
        """The import wizard; given ``path``, the file is chosen and the preview starts."""
        from ssp_desktop.ui.sync_ui import ImportBundleWizard

        if self.store is None:
            return None
        wizard = ImportBundleWizard(self.store, self, path=path)
        wizard.imported.connect(self._after_import)
        wizard.open()
        if path is not None and wizard.file_page.isComplete():
            wizard.next()
        return wizard

    def join(self, *, first_run: bool = False) -> JoinDialog:
        from ssp_desktop.ui.keys_ui import JoinDialog

        dialog = JoinDialog(self, first_run=first_run)
        dialog.open()
        return dialog

    def offer_join_on_first_run(self) -> JoinDialog | None:
        """The first start on a computer with no keys and no store open: the join dialog,
        once. A theme lead's laptop needs it before anything else; the strategy team
        closes it and it never comes back (Join stays on the start page)."""
        from ssp_desktop.sync import keys

        settings = QSettings()
        if self.store is not None or keys.has_identity() or settings.value(JOIN_OFFERED_KEY):
            return None
        settings.setValue(JOIN_OFFERED_KEY, True)
        return self.join(first_run=True)

    def enrol(self) -> EnrolDialog | None:
        from ssp_desktop.ui.keys_ui import EnrolDialog

        if self.store is None:
            return None
        dialog = EnrolDialog(self.store, self)
        dialog.open()
        return dialog

    def show_keys(self) -> KeysDialog:
        from ssp_desktop.ui.keys_ui import KeysDialog

        dialog = KeysDialog(self.store, self)
        dialog.open()
        return dialog

    def import_starter(self, path: Path | None = None) -> Job | JoinDialog | None:
        """With no store open: make a lead copy from a starter bundle, then open it.

        An install with no keys cannot have been sent a starter (it is encrypted to the
        lead's keys), so it is shown how to join first: the join dialog. The copy goes to
        the default store location when that is free, so the next start opens it without
        asking. The import runs off the UI thread with a progress bar."""
        from ssp_desktop.sync import keys
        from ssp_desktop.sync.importer import read_sealed
        from ssp_desktop.ui.sync_ui import BUNDLE_FILTER
        from ssp_desktop.ui.workers import run_job

        if not keys.has_identity():
            return self.join()
        if path is None:
            name, _ = QFileDialog.getOpenFileName(
                self, "Import a starter bundle", "", BUNDLE_FILTER
            )
            if not name:
                return None
            path = Path(name)
        default = paths.default_store_path()
        suggestion = str(default) if not default.exists() else "my-plan.sqlite"
        target_name, _ = QFileDialog.getSaveFileName(
            self, "Where should your copy of the plan go?", suggestion, STORE_FILTER
        )
        if not target_name:
            return None
        target = Path(target_name)
        if target.exists():
            self._fail(
                "That file already exists",
                f"{target} already exists. A starter bundle makes a new copy of the plan: "
                "choose a new file name. Nothing was replaced.",
            )
            return None
        bundle_path = path

        def read(progress: Progress) -> object:
            progress.step(0, 0, "Reading and checking the bundle…")
            return read_sealed(bundle_path, None)

        # First the bundle is opened (to learn who signed it); the lead checks that
        # fingerprint with the strategy team; only then is the copy made.
        job, _dialog = run_job(
            self, read, title="Import a starter bundle", label="Reading the bundle…"
        )
        job.succeeded.connect(lambda bundle: self._check_master(bundle, bundle_path, target))
        job.failed.connect(
            lambda message, _details: self._fail("Could not import the bundle", message)
        )
        self.starter_job = job
        return job

    def _check_master(self, bundle: object, path: Path, target: Path) -> None:
        from ssp_desktop.sync.bundle import Bundle
        from ssp_desktop.sync.importer import needs_master_fingerprint
        from ssp_desktop.ui.keys_ui import MasterFingerprintDialog

        assert isinstance(bundle, Bundle)
        if not needs_master_fingerprint(None, bundle) or bundle.sealed is None:
            self._make_copy(path, target, None)  # not a starter: the import says why
            return
        dialog = MasterFingerprintDialog(bundle.sealed.signer.fingerprint, self)
        dialog.confirmed.connect(lambda typed: self._make_copy(path, target, typed))
        self.master_check = dialog
        dialog.open()

    def _make_copy(self, path: Path, target: Path, typed: str | None) -> None:
        from ssp_desktop.sync.importer import import_file
        from ssp_desktop.ui.workers import run_job

        target.parent.mkdir(parents=True, exist_ok=True)

        def work(progress: Progress) -> object:
            return import_file(target, path, progress=progress, master_fingerprint=typed)

        job, _dialog = run_job(
            self, work, title="Import a starter bundle", label="Making your copy of the plan…"
        )
        job.succeeded.connect(lambda _result: self.open_store(target))
        job.failed.connect(
            lambda message, _details: self._fail("Could not import the bundle", message)
        )
        self.starter_job = job

    def open_file(self, path: Path) -> None:
        """A file handed to the app (double-click, ``ssp-desktop FILE``, or a second
        launch passing it on): a bundle starts the import wizard, or, with no store open,
        the starter import. The window comes to the front first."""
        from ssp_desktop.sync.container import EXTENSION

        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        if path.suffix.lower() != EXTENSION:
            self._fail(
                "Not a bundle file",
                f"{path.name} is not an ssp-desktop bundle ({EXTENSION}). To bring in a "
                "spreadsheet, use File > Import spreadsheet…",
            )
            return
        if not path.is_file():
            self._fail("Bundle not found", f"There is no file at {path}. Nothing was changed.")
            return
        if self.store is None:
            self.import_starter(path)
        else:
            self.import_bundle(path)

    def show_conflicts(self) -> ConflictsDialog | None:
        from ssp_desktop.ui.sync_ui import ConflictsDialog

        if self.store is None:
            return None
        dialog = ConflictsDialog(self.store, self, document=self.document)
        dialog.resolved.connect(self._after_resolve)
        dialog.finished.connect(lambda _r: self.conflict_badge.refresh(self.store))
        dialog.open()
        return dialog

    def _after_resolve(self, _entity: str, _record_id: object) -> None:
        # The decision's commit has refreshed the views and ended the undo history.
        self.conflict_badge.refresh(self.store)

    def _after_import(self, result: object) -> None:
        """The merge's commit has ended the undo history by itself; a bundle can add
        or remove whole themes, so the workspace is rebuilt rather than refreshed."""
        self.conflict_badge.refresh(self.store)
        if not getattr(result, "touched", None) or self.document is None:
            return
        # Typing not yet saved in My quarter goes into the rebuilt one (never dropped).
        kept = self._workspace.take_typing() if self._workspace is not None else None
        if self._workspace is not None:
            self.pages.removeWidget(self._workspace)
            self._workspace.deleteLater()
            self._workspace = None
        self._show_store()
        if kept is not None:
            self._put_typing_back(*kept)

    def _put_typing_back(self, plan_id: uuid.UUID | None, typing: Typing) -> None:
        if self._workspace is not None:
            self._workspace.put_typing(plan_id, typing)
