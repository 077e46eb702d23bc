"""Attachments: `@path` in a prompt (and `ask -f FILE`) puts a file into the message (issue 12.7).

A text file's contents go into the message's text, as a fenced block after what was typed; an
image goes to a model that takes images as an image_url content part (a data URL). What is
stored, and why, is in docs/attachments.md. Every way a file can be wrong (missing, a directory,
a FIFO, binary, too big, changing while read, a path with control characters or `..`) is an
AttachmentError whose text is one line saying what and what to do; nothing here blocks on a
FIFO or follows a symlink loop, and nothing reads more than the limit.
"""

from __future__ import annotations

import base64
import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# `@` at the start or after white space, then a path up to the next white space.
REFERENCE = re.compile(r"(?:(?<=\s)|^)@(\S+)")
# Punctuation after a path is the sentence's: "look at @notes.txt." names notes.txt.
TRAILING = ".,;:!?)]}'\""
IMAGE_TYPES = {  # magic bytes -> media type; the file's name decides nothing
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
# Models known to take images, by name (a provider's `vision = true/false` overrides this).
VISION_MODELS = re.compile(
    r"gpt-4o|gpt-4\.1|gpt-4-turbo|gpt-4-vision|gpt-5|chatgpt-4o|^o[134](-|$)|claude-3|claude-(sonnet|opus|haiku)-4"
    r"|gemini|llava|bakllava|-vision|vision-|vl\b|-vl|pixtral|gemma3|minicpm-v|moondream|llama-?4",
    re.IGNORECASE)
BINARY_SNIFF = 8192
MAX_FILES = 20  # files one message may attach


class AttachmentError(Exception):
    """A file that cannot be attached: the text is the one line the user sees."""


@dataclass
class Attachment:
    path: str  # as it was written after the @ (or given to -f)
    kind: str  # "text" or "image"
    size: int
    text: str = ""
    media_type: str = ""
    data: bytes = b""

    def record(self) -> dict[str, Any]:
        """What the message's extra keeps of it (see docs/attachments.md)."""
        record: dict[str, Any] = {"path": self.path, "kind": self.kind, "bytes": self.size}
        if self.kind == "image":
            record["media_type"] = self.media_type
            record["data_url"] = f"data:{self.media_type};base64,{base64.b64encode(self.data).decode()}"
        return record


def references(text: str) -> list[str]:
    """The `@path` words of a prompt that name files: those that look like a path (a / or a .
    in them, or a ~ first) or that exist; `@alice` stays a word. Each once, in order."""
    found: list[str] = []
    seen: set[str] = set()
    for match in REFERENCE.finditer(text):
        path = match.group(1).rstrip(TRAILING) or match.group(1)
        if path in seen:
            continue
        seen.add(path)
        if len(found) > MAX_FILES:
            break  # attach() refuses this many; a pasted wall of @words costs no more
        if "/" in path or "." in path or path.startswith("~") or os.path.lexists(_safe(path) or "\0"):
            found.append(path)
    return found


def _safe(path: str) -> str | None:
    return None if any(ord(c) < 32 or ord(c) == 127 for c in path) else path


def _shown(path: str) -> str:
    from agentterm.sanitize import one_line

    return one_line(path.encode("unicode_escape", "backslashreplace").decode("ascii")
                    if _safe(path) is None else path, 80)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def resolve(path: str, base: Path) -> Path:
    """The file a path names, from `base` (the working directory); AttachmentError when the path
    itself is refused (control characters, a `..` part, empty)."""
    if not path:
        raise AttachmentError("An @ with no path after it: write @ and the file's path, e.g. @notes.txt.")
    if _safe(path) is None:
        raise AttachmentError(f"The path {_shown(path)} has control characters in it: not attached, nothing sent.")
    if ".." in Path(path).parts:
        raise AttachmentError(f"The path {_shown(path)} has a '..' in it: write the path without it "
                              "(from the working directory, or from / or ~). Nothing was sent.")
    return (base / Path(path).expanduser()) if not path.startswith("~") else Path(path).expanduser()


def read_attachment(path: str, base: Path, *, max_bytes: int, max_image_bytes: int) -> Attachment:
    """Read one file to attach, bounded, without blocking (a FIFO) or looping (symlinks)."""
    target = resolve(path, base)
    shown = _shown(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once, and the fstat below refuses it.
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise AttachmentError(_open_fault(shown, error)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise AttachmentError(f"{shown} is a directory: attach the files in it one by one. Nothing was sent.")
        if not stat.S_ISREG(info.st_mode):
            raise AttachmentError(f"{shown} is not a regular file (a FIFO, socket or device): not attached, "
                                  "nothing sent.")
        limit = max(max_bytes, max_image_bytes)
        if info.st_size > limit:
            raise AttachmentError(_too_big(shown, info.st_size, max_bytes))
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        after = os.fstat(fd)
    except OSError as error:
        raise AttachmentError(f"{shown} could not be read ({error.strerror or error}): nothing was sent.") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit or after.st_size != len(data) or after.st_mtime_ns != info.st_mtime_ns:
        raise AttachmentError(f"{shown} changed while it was being attached: send again when it is written. "
                              "Nothing was sent.")
    media_type = next((kind for magic, kind in IMAGE_TYPES.items() if data.startswith(magic)), "")
    if not media_type and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        media_type = "image/webp"
    if media_type:
        if len(data) > max_image_bytes:
            raise AttachmentError(f"{shown} is a {human_size(len(data))} image; the most attached is "
                                  f"{human_size(max_image_bytes)} (max_image_bytes in the config). Nothing was sent.")
        return Attachment(path, "image", len(data), media_type=media_type, data=data)
    if len(data) > max_bytes:
        raise AttachmentError(_too_big(shown, len(data), max_bytes))
    if b"\0" in data[:BINARY_SNIFF]:
        raise AttachmentError(f"{shown} is a binary file, not text: only text files and images (PNG, JPEG, GIF, "
                              "WebP) are attached. Nothing was sent.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AttachmentError(f"{shown} is not UTF-8 text (byte {error.start + 1:,}): convert it first, e.g. "
                              "with iconv. Nothing was sent.") from None
    return Attachment(path, "text", len(data), text=text)


def _too_big(shown: str, size: int, max_bytes: int) -> str:
    return (f"{shown} is {human_size(size)}; the most attached is {human_size(max_bytes)} "
            "(max_attachment_bytes in the config). Nothing was sent.")


def _open_fault(shown: str, error: OSError) -> str:
    if error.errno == errno.ENOENT:
        return f"There is no file {shown} (paths are from the working directory): nothing was sent."
    if error.errno == errno.ELOOP:
        return f"{shown} is a loop of symbolic links: not attached, nothing sent."
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"{shown} cannot be read (permission denied): nothing was sent."
    if error.errno == errno.ENOTDIR:
        return f"There is no file {shown} (a part of the path is not a directory): nothing was sent."
    return f"{shown} could not be opened ({error.strerror or error}): nothing was sent."


def fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks in the text, so the text cannot end it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def message_text(typed: str, attachments: list[Attachment]) -> str:
    """The message's text: what was typed, then each text file as a fenced block under its path,
    and a line for each image (its pixels go as a content part)."""
    parts = [typed.rstrip()] if typed.strip() else []
    for item in attachments:
        if item.kind == "text":
            fence = fence_for(item.text)
            body = item.text if item.text.endswith("\n") or not item.text else item.text + "\n"
            parts.append(f"Attached file `{item.path}` ({human_size(item.size)}):\n\n{fence}\n{body}{fence}")
        else:
            parts.append(f"Attached image `{item.path}` ({item.media_type}, {human_size(item.size)}).")
    return "\n\n".join(parts)


def attach(typed: str, paths: list[str], base: Path, settings: Any) -> tuple[str, dict[str, Any] | None]:
    """The message text and extra for a prompt with these attachments; (typed, None) with none.

    Run it off the event loop (it reads files). AttachmentError names the first file refused.
    """
    if not paths:
        return typed, None
    if len(paths) > MAX_FILES:
        raise AttachmentError(f"The prompt names more than {MAX_FILES} files; attach at most {MAX_FILES} a "
                              "message. Nothing was sent.")
    max_bytes = int(getattr(settings, "max_attachment_bytes", 256 * 1024))
    max_image = int(getattr(settings, "max_image_bytes", 5 * 1024 * 1024))
    items = [read_attachment(path, base, max_bytes=max_bytes, max_image_bytes=max_image) for path in paths]
    total = sum(item.size for item in items if item.kind == "text")
    if total > max_bytes:
        raise AttachmentError(f"The files attached come to {human_size(total)}; the most attached is "
                              f"{human_size(max_bytes)} (max_attachment_bytes in the config). Nothing was sent.")
    return message_text(typed, items), {"prompt": typed, "attachments": [item.record() for item in items]}


def attach_references(typed: str, settings: Any, base: Path | None = None) -> tuple[str, dict[str, Any] | None]:
    """attach() for the files the prompt's `@path` words name (the app's prompt)."""
    return attach(typed, references(typed), base or Path.cwd(), settings)


def has_images(extra: dict[str, Any] | None) -> bool:
    return any(a.get("kind") == "image" for a in (extra or {}).get("attachments", ()) if isinstance(a, dict))


def image_parts(extra: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The image_url content parts of a message's attached images."""
    parts = []
    for item in (extra or {}).get("attachments", ()):
        if isinstance(item, dict) and item.get("kind") == "image" and str(item.get("data_url", "")).startswith("data:image/"):
            parts.append({"type": "image_url", "image_url": {"url": item["data_url"]}})
    return parts


def takes_images(settings: Any, provider: str | None, model: str | None) -> bool:
    """Whether the model takes images: the provider's `vision` when set, else its name is known."""
    try:
        flag = settings.provider(provider).vision if settings is not None else None
    except Exception:  # noqa: BLE001 - an unknown provider is refused elsewhere, with its own line
        flag = None
    if flag is not None:
        return bool(flag)
    return bool(model and VISION_MODELS.search(model))


def completions(word: str, base: Path, limit: int = 50, scan: int = 5000) -> list[str]:
    """Paths that complete `word` (what follows the @), directories with a / after them, sorted;
    at most `limit`, from at most `scan` entries of the directory (a huge one stays quick)."""
    if _safe(word) is None or ".." in Path(word or ".").parts:
        return []
    if word.startswith("~") and "/" not in word:
        return ["~/"]
    head, slash, stem = word.rpartition("/")
    prefix = head + slash
    folder = resolve(prefix, base) if prefix else base
    found: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= scan:
                    break
                if not entry.name.startswith(stem) or (entry.name.startswith(".") and not stem.startswith(".")):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                found.append(prefix + entry.name + ("/" if is_dir else ""))
    except OSError:
        return []
    return sorted(found)[:limit]
