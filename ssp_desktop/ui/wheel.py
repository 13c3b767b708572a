"""The mouse wheel scrolls the page; it never changes a value the user has not chosen.

Qt lets the wheel step a combo box, spin box or date under the pointer, and give it
focus on the way. In a form every step is a saved edit, so wheeling down a long
editor changed (and logged) whatever passed under the pointer. One application-wide
guard turns that off for every value widget, wherever it is made: a value widget
takes the wheel only once it has the keyboard focus (the user clicked or tabbed into
it); otherwise the wheel goes to the scroll area around it, so the page scrolls.

The guard is a filter on each value widget, put there by the application's style when
Qt polishes the widget (:class:`WheelGuardStyle`; Qt polishes every widget, wherever it
is made, before it is first shown). Before, one filter on the whole application saw
every event of every widget, each a call into Python: about a tenth of the work of
starting the app, and a share of every later click and paint.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPalette, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QProxyStyle,
    QScrollBar,
    QStyle,
    QStyleFactory,
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
    """The filter on each value widget (see :func:`guard`)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and _is_value_widget(watched):
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


def guard(widget: QWidget) -> None:
    """Keep the wheel off ``widget`` if it is a value widget (called as it is polished)."""
    global _guard
    if not _is_value_widget(widget):
        return
    # The default WheelFocus would hand the widget focus on the first wheel step, and
    # then the next step would change it.
    if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    if _guard is None:
        _guard = WheelGuard(QApplication.instance())
    widget.installEventFilter(_guard)  # once: Qt never holds a filter twice


class WheelGuardStyle(QProxyStyle):
    """The platform's style, guarding each value widget as Qt polishes it."""

    def polish(self, target: QWidget | QApplication | QPalette) -> None:  # type: ignore[override]
        super().polish(target)
        if isinstance(target, QWidget):
            guard(target)


def base_style_name(style: QStyle) -> str:
    """The name of ``style``'s own look (under any proxy), to make a fresh one of."""
    while isinstance(style, QProxyStyle) and style.baseStyle() is not None:
        style = style.baseStyle()
    return style.name()


def install_wheel_guard() -> None:
    """Give the running application a style that guards value widgets, unless its style
    already does (:class:`~ssp_desktop.ui.style.ContrastStyle` does). Widgets already
    made are polished again by the new style, so they are guarded too."""
    app = QApplication.instance()
    if not isinstance(app, QApplication) or isinstance(app.style(), WheelGuardStyle):
        return
    # A fresh base: the application deletes the style it replaces.
    app.setStyle(WheelGuardStyle(QStyleFactory.create(base_style_name(app.style()))))
