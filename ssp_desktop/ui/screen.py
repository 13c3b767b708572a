"""Windows and dialogs sized to the screen they open on, taskbar left out.

A council laptop is 1366x768, and a Windows taskbar takes about 40 pixels of that: a
window opened at a fixed 1280x800 ran off the bottom, and a dialog's buttons sat under
the taskbar. Everything that chooses its own size asks :func:`fit_to_screen`."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

# Room for the window manager's frame: the title bar above, a border on each side.
_TITLE_BAR = 32
_BORDER = 8


def screen_room(widget: QWidget) -> QRect:
    """The part of ``widget``'s screen a window may use (the taskbar is not in it)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window: QWidget, preferred: QSize) -> None:
    """Resize ``window`` to ``preferred``, or less where its screen has less room, and
    centre it there; its frame and title bar stay on the screen too."""
    room = screen_room(window)
    width = max(min(preferred.width(), room.width() - 2 * _BORDER), window.minimumWidth())
    height = max(
        min(preferred.height(), room.height() - _TITLE_BAR - 2 * _BORDER),
        window.minimumHeight(),
    )
    window.resize(width, height)
    window.move(
        room.x() + max((room.width() - width) // 2, _BORDER),
        room.y() + max((room.height() - height - _TITLE_BAR) // 2, 0) + _TITLE_BAR,
    )


def keep_on_screen(window: QWidget) -> None:
    """A size remembered from a larger screen (or another monitor) is shrunk to fit."""
    room = screen_room(window)
    if (
        window.width() > room.width() - 2 * _BORDER
        or window.height() > room.height() - _TITLE_BAR - 2 * _BORDER
        or not room.intersects(window.geometry())
    ):
        fit_to_screen(window, window.size())
