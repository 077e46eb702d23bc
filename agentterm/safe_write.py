"""Writing an export to a file: private (0600), whole or not at all, never over a file unasked."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class WriteError(Exception):
    """Why a file could not be written, as one line, with what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def write_private(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write text to path, created 0600; the path written.

    A regular file is written beside the target and moved into place, so a full disk or an
    error leaves nothing half-written. An existing file is replaced only with force. A device
    or a pipe (/dev/stdout, a FIFO) is written as it is: nothing there can be overwritten.
    """
    path = Path(path).expanduser()
    data = text.encode("utf-8")
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise WriteError(f"cannot write {path}: {_why(error)}.", "Choose another path.") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise WriteError(f"{path} is a directory.", "Give the path of a file to write.")
    if info is not None and not stat.S_ISREG(info.st_mode):
        return _write_special(path, data)
    if info is not None and not force:
        raise WriteError(f"{path} already exists and was left as it is.",
                         "Use --force to overwrite it, or choose another path.")
    parent = path.parent
    if not parent.is_dir():
        raise WriteError(f"cannot write {path}: the directory {parent} does not exist.",
                         "Create it first, or choose another path.")
    temp = parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if force:
            os.replace(temp, path)
        else:
            _move_no_clobber(temp, path)
    except FileExistsError:
        _remove(temp)
        raise WriteError(f"{path} already exists and was left as it is.",
                         "Use --force to overwrite it, or choose another path.") from None
    except OSError as error:
        _remove(temp)
        raise WriteError(f"cannot write {path}: {_why(error)}; nothing was written.",
                         "Free some space or choose another path.") from None
    return path


def _move_no_clobber(temp: Path, path: Path) -> None:
    try:
        # link() fails if the name appeared meanwhile: still no overwrite.
        os.link(temp, path)
    except FileExistsError:
        raise
    except OSError:
        # A file system without hard links: check, then move (a race narrower than a second).
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(temp, path)
        return
    os.unlink(temp)


def _write_special(path: Path, data: bytes) -> Path:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except OSError as error:
        raise WriteError(f"cannot write {path}: {_why(error)}.", "Choose another path.") from None
    return path


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _remove(temp: Path) -> None:
    try:
        os.unlink(temp)
    except OSError:
        pass


def _why(error: OSError) -> str:
    return (error.strerror or str(error)).lower()
