"""Reading the config file: its bytes, its text, its TOML, each fault placed at a line."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

from agentterm.config.check import Checker
from agentterm.config.settings import ConfigError, Settings, default_settings

_UTF8_BOM = b"\xef\xbb\xbf"
MAX_CONFIG_BYTES = 1_000_000


def load_settings(path: Path | str, *, required: bool = False) -> Settings:
    """Read and check the config at `path`; no file gives the defaults unless `required`."""
    path = Path(path)
    data = _read_bytes(path, required)
    if data is None:
        return default_settings()
    text = _decode(data, path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, path) from None
    return Checker(raw, text, path).settings()


def _read_bytes(path: Path, required: bool) -> bytes | None:
    if path.is_dir():
        raise ConfigError(
            "is a directory, not a config file (point --config or AGENTTERM_CONFIG at a .toml file)",
            path=path,
        )
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if required:
            raise ConfigError("no such file", path=path) from None
        return None
    except PermissionError:
        raise ConfigError("cannot be read: permission denied", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror or exc}", path=path) from None
    with os.fdopen(fd, "rb") as handle:
        # Checked on the open file, not the name, so nothing can be swapped in between.
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"is {_kind(info.st_mode)}, not a regular file; point --config at a .toml file",
                              path=path)
        # Read one byte past the limit: a file that grows while read is refused too.
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"is larger than {MAX_CONFIG_BYTES // 1_000_000} MB; a config is a few lines of TOML",
                          path=path)
    return data


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _decode(data: bytes, path: Path) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError("is saved as UTF-16; save it as UTF-8", path=path)
    bom = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0  # Notepad writes one: accept it
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start + bom
        line_start = max(data.rfind(b"\n", 0, start) + 1, bom)
        line = data.count(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", errors="replace")) + 1
        raise ConfigError(
            f"not valid UTF-8 (byte 0x{data[start]:02x} at byte offset {start}); save the file as UTF-8",
            path=path,
            line=line,
            column=column,
        ) from None


_TOML_POSITION = re.compile(
    r"^(?P<what>.*?)\s*\(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$", re.DOTALL
)
_TOML_HINTS = {
    "Invalid value": 'invalid value (text needs quotes, e.g. model = "gpt-4o")',
    "Cannot overwrite a value": "a key is set twice",
    "Illegal character '\\n'": "a quoted string is not closed before the end of its line",
}


_TOML_TABLE = re.compile(r"\((?:'[^']*',\s*)*'[^']*',?\)")


def _dotted_table(match: re.Match[str]) -> str:
    # tomllib names a table as a Python tuple, ('providers', 'a'); a user wrote [providers.a].
    return "[" + ".".join(re.findall(r"'([^']*)'", match[0])) + "]"


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, path: Path) -> ConfigError:
    # Python 3.11's TOMLDecodeError keeps the position only in its message.
    match = _TOML_POSITION.match(str(exc))
    if not match:
        return ConfigError(f"not valid TOML: {exc}", path=path)
    what = _TOML_TABLE.sub(_dotted_table, match["what"])
    what = _TOML_HINTS.get(what, what[:1].lower() + what[1:])
    if match["line"]:
        return ConfigError(
            f"not valid TOML: {what}", path=path, line=int(match["line"]), column=int(match["col"])
        )
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + 1
    return ConfigError(
        f"not valid TOML: {what} (at the end of the file)", path=path, line=line, column=column
    )
