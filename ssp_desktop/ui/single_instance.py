"""One running app per user passes files on: a second launch hands its file to the first.

Double-clicking a bundle while the app is already open would otherwise start a second
app, which then finds the store locked by the first. Instead the second launch connects
to the first over a local socket (a named pipe on Windows), sends the file's path and
exits; the first brings its window to the front and starts the import wizard.

The socket's name is made from the user's settings folder, so two profiles
(``SSP_DESKTOP_HOME``) never talk to each other, and it accepts connections from the
same user only. The message is a path and nothing else; the receiving app still shows
the usual preview before anything is imported.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from ssp_desktop import paths

log = logging.getLogger(__name__)

_TIMEOUT_MS = 2000
_MAX_MESSAGE = 64 * 1024
_ACK = b"ok\n"


def server_name() -> str:
    """The socket name for this user and settings folder."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some containers): the folder still separates
        user = ""
    key = f"{user}\0{paths.config_dir().resolve()}"
    return "ssp-desktop-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def pass_to_running(files: list[Path], *, name: str | None = None) -> bool:
    """Hand ``files`` to an app already running for this user; True if one took them."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(_TIMEOUT_MS):
        return False
    message = json.dumps({"open": [str(f.absolute()) for f in files]}).encode("utf-8") + b"\n"
    socket.write(message)
    socket.flush()
    if socket.bytesToWrite() > 0 and not socket.waitForBytesWritten(_TIMEOUT_MS):
        socket.abort()
        return False
    # The first app answers once it has the message; without an answer (it is hung, or
    # is not ours) this launch carries on and opens the file itself.
    reply = b""
    while not reply.endswith(b"\n") and len(reply) < 16:
        # The answer may already be buffered; waitForReadyRead only reports new data.
        if socket.bytesAvailable() == 0 and not socket.waitForReadyRead(_TIMEOUT_MS):
            break
        reply += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    return reply == _ACK


class InstanceServer(QObject):
    """Listens for later launches; ``file_received(path)`` for each file they pass on."""

    file_received = Signal(object)

    def __init__(self, parent: QObject | None = None, *, name: str | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening; False (logged) if the name cannot be taken."""
        if self._server.listen(self.name):
            return True
        # A socket file left by an app that crashed (Unix): nobody answers on it, so
        # it is safe to remove and listen again.
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(200):
            probe.disconnectFromServer()
            log.info("another app already listens for files; this one will not")
            return False
        QLocalServer.removeServer(self.name)
        if self._server.listen(self.name):
            return True
        log.warning("could not listen for later launches: %s", self._server.errorString())
        return False

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._drop(s))

    def _drop(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        # At exit the server deletes its sockets first and they say "disconnected" as
        # they go; there is nothing left to delete then.
        with contextlib.suppress(RuntimeError):
            socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        if len(data) > _MAX_MESSAGE:
            log.warning("ignored an oversized message from a later launch")
            socket.abort()
            return
        if not data.endswith(b"\n"):
            self._buffers[socket] = data
            return
        self._buffers[socket] = b""
        try:
            files = json.loads(data)["open"]
            if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
                raise ValueError("not a list of paths")
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed message from a later launch")
            socket.abort()
            return
        socket.write(_ACK)
        socket.flush()
        for f in files:
            self.file_received.emit(Path(f))
