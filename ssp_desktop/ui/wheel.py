"""The mouse wheel scrolls the page; it never changes a value the user has not chosen.

Qt lets the wheel step a combo box, spin box or date under the pointer, and give it
focus on the way. In a form every step is a saved edit, so wheeling down a long
editor changed (and logged) whatever passed under the pointer. One application-wide
filter turns that off for every value widget, wherever it is made: a value widget
takes the wheel only once it has the keyboard focus (the user clicked or tabbed into
it); otherwise the wheel goes to the scroll area around it, so the page scrolls.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

# Widgets whose value the wheel steps (a scroll bar's value is the page position:
# stepping it is what scrolling means).
_VALUE_WIDGETS = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def _is_value_widget(obj: QObject) -> bool:
    return isinstance(obj, _VALUE_WIDGETS) and not isinstance(obj, QScrollBar)


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    """The nearest scroll area holding ``widget`` (not a combo's own list)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and not _is_value_widget(parent):
            return parent
        parent = parent.parentWidget()
    return None


class WheelGuard(QObject):
    """Installed once on the application by :func:`install_wheel_guard`."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and _is_value_widget(watched):
            # The default WheelFocus would hand the widget focus on the first wheel
            # step, and then the next step would change it.
            widget = watched
            assert isinstance(widget, QWidget)
            if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel and _is_value_widget(watched):
            widget = watched
            assert isinstance(widget, QWidget) and isinstance(event, QWheelEvent)
            if not widget.hasFocus():
                self._scroll_page(widget, event)
                return True
        return False

    @staticmethod
    def _scroll_page(widget: QWidget, event: QWheelEvent) -> None:
        area = _scroll_area_of(widget)
        if area is None:
            event.ignore()
            return
        viewport = area.viewport()
        position = viewport.mapFromGlobal(event.globalPosition().toPoint())
        forwarded = QWheelEvent(
            position.toPointF(),
            event.globalPosition(),
            event.pixelDelta(),
            event.angleDelta(),
            event.buttons(),
            event.modifiers(),
            event.phase(),
            event.inverted(),
            event.source(),
            event.pointingDevice(),
        )
        QApplication.sendEvent(viewport, forwarded)
        event.accept()


_guard: WheelGuard | None = None


def install_wheel_guard() -> None:
    """Install the guard on the running application (once; later calls do nothing)."""
    global _guard
    app = QApplication.instance()
    if app is None or _guard is not None:
        return
    _guard = WheelGuard(app)
    app.installEventFilter(_guard)
