"""Walking a screen as a keyboard and screen-reader user does: what Tab reaches, in what
order, whether it gets out again, what each control is called in Qt's accessibility
tree (what AT-SPI hands a screen reader on Linux), and which Alt+letter does what."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, QPoint, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QMainWindow,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot


def describe(widget: QWidget) -> str:
    return f"{type(widget).__name__}({widget.objectName() or '-'}: {accessible_name(widget)!r})"


def accessible_name(widget: QWidget) -> str:
    """The name a screen reader announces: Qt's accessibility tree, not our own guess."""
    interface = QAccessible.queryAccessibleInterface(widget)
    if interface is None or not interface.isValid():
        return ""
    return interface.text(QAccessible.Text.Name).strip()


def _inner_part(widget: QWidget) -> bool:
    """The line edit inside a combo box or spin box: the outer control is what Tab
    reaches and what is named."""
    parent = widget.parentWidget()
    return isinstance(parent, QComboBox | QAbstractSpinBox)


def focusable(root: QWidget) -> list[QWidget]:
    """Controls under ``root`` that Tab can reach now (shown, enabled, TabFocus)."""
    found = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or not widget.isVisible() or not widget.isEnabled():
            continue
        if not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            continue
        if widget.focusProxy() is not None or _inner_part(widget):
            continue
        found.append(widget)
    return found


def unnamed(root: QWidget) -> list[str]:
    return [describe(w) for w in focusable(root) if not accessible_name(w)]


@dataclass
class Walk:
    """Where focus went on each Tab press, from ``start``."""

    start: QWidget | None = None
    visited: list[QWidget] = field(default_factory=list)

    def one_pass(self) -> list[QWidget]:
        """The stops from the start until focus comes back to it (or to a stop already
        seen): one pass round the chain."""
        seen: list[QWidget] = [self.start] if self.start is not None else []
        for widget in self.visited:
            if seen and widget is seen[-1]:
                continue  # Tab moving within one control (a date's day, month, year)
            if widget in seen:
                break
            seen.append(widget)
        return seen


def press_tab(qtbot: QtBot, start: QWidget, presses: int) -> Walk:
    """Put focus on ``start`` and press Tab ``presses`` times, as a person does."""
    start.window().activateWindow()
    start.setFocus(Qt.FocusReason.TabFocusReason)
    QCoreApplication.processEvents()
    walk = Walk(start=start)
    for _ in range(presses):
        target = QApplication.focusWidget()
        assert target is not None, "focus was lost"
        qtbot.keyClick(target, Qt.Key.Key_Tab)
        QCoreApplication.processEvents()
        now = QApplication.focusWidget()
        assert now is not None, "focus was lost"
        while now.focusProxy() is not None:
            now = now.focusProxy()
        if _inner_part(now):
            parent = now.parentWidget()
            assert parent is not None
            now = parent
        walk.visited.append(now)
    return walk


def trapped(walk: Walk, expected: list[QWidget]) -> list[str]:
    """Controls never reached (focus went round something smaller)."""
    reached = set(walk.visited)
    return [describe(w) for w in expected if w not in reached]


def out_of_reading_order(sequence: list[QWidget], root: QWidget) -> list[str]:
    """Consecutive Tab stops in one pass (no wrap round) where focus jumps back up the
    page and to the left, towards what one has already read."""
    problems = []
    for first, second in itertools.pairwise(sequence):
        if not (root.isAncestorOf(first) and root.isAncestorOf(second)):
            continue
        # A control scrolled out of sight in its own scroll area reads where that area
        # stands on the page (the Delete button below the editor comes before the
        # history under it).
        first, second = _placed(first, second), _placed(second, first)
        a = first.mapTo(root, QPoint(0, 0))
        b = second.mapTo(root, QPoint(0, 0))
        above = b.y() + second.height() <= a.y()
        left = b.x() < a.x() + first.width()
        if above and left:
            problems.append(f"{describe(first)} -> {describe(second)}")
    return problems


def _placed(widget: QWidget, other: QWidget) -> QWidget:
    """``widget``, or the outermost scroll area holding it and not ``other``."""
    placed = widget
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and not parent.isAncestorOf(other):
            placed = parent
        parent = parent.parentWidget()
    return placed


_MNEMONIC = re.compile(r"&([^&\s])")


def _mnemonic(text: str) -> str | None:
    match = _MNEMONIC.search(text.replace("&&", ""))
    return match.group(1).lower() if match else None


def mnemonics(window: QWidget) -> dict[str, list[str]]:
    """Alt+letter keys the user can press now in ``window``, with what each one does:
    menus, tabs, buttons, group boxes and labels with a buddy."""
    keys: dict[str, list[str]] = {}
    if isinstance(window, QMainWindow):
        for action in window.menuBar().actions():
            key = _mnemonic(action.text())
            if key:
                keys.setdefault(key, []).append(f"menu {action.text()}")
    for widget in window.findChildren(QWidget):
        if not widget.isVisible():
            continue
        texts: list[str] = []
        if isinstance(widget, QTabBar):
            texts = [widget.tabText(i) for i in range(widget.count()) if widget.isTabEnabled(i)]
        elif isinstance(widget, QAbstractButton):
            texts = [widget.text()]
        elif isinstance(widget, QGroupBox) and widget.isCheckable():
            texts = [widget.title()]
        elif isinstance(widget, QLabel) and widget.buddy() is not None:
            texts = [widget.text()]
        for text in texts:
            key = _mnemonic(text)
            if key:
                keys.setdefault(key, []).append(f"{type(widget).__name__} {text}")
    return keys


def shared_mnemonics(window: QWidget) -> dict[str, list[str]]:
    return {key: uses for key, uses in mnemonics(window).items() if len(uses) > 1}


def _rich(text: str) -> bool:
    """Qt's own guess (Qt::mightBeRichText): a tag near the start."""
    return bool(re.search(r"<[a-zA-Z/!][^>]*>", text))


def literal_ampersands(window: QWidget) -> list[str]:
    """Labels showing an "&" meant as a mnemonic (no buddy to give it to): "&File:"."""
    found = []
    for label in window.findChildren(QLabel):
        if not label.isVisible() or label.buddy() is not None:
            continue
        if label.textFormat() == Qt.TextFormat.RichText or _rich(label.text()):
            continue  # "&amp;" and friends are markup, not mnemonics
        if _mnemonic(label.text()):
            found.append(label.text())
    return found


def clipped_labels(window: QWidget) -> list[str]:
    """Word-wrapped labels shorter than their text needs at their width (cut off)."""
    found = []
    for label in window.findChildren(QLabel):
        if not label.isVisible() or not label.wordWrap() or not label.text():
            continue
        needed = label.heightForWidth(label.width())
        if needed > label.height() + 1:
            found.append(f"{label.text()[:60]!r}: {label.height()} of {needed} px")
    return found
