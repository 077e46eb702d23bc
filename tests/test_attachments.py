"""Attachments' reading and refusals, on real files (issue 12.7): one clear line each, no hang."""

from __future__ import annotations

import os
import threading

import pytest

from agentterm.engine.attachments import (
    AttachmentError, attach, completions, read_attachment, references, takes_images)
from agentterm.engine.request import request_messages
from agentterm.models import Message

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


def read(tmp_path, path, max_bytes=1000, max_image_bytes=5000):
    return read_attachment(path, tmp_path, max_bytes=max_bytes, max_image_bytes=max_image_bytes)


def refused(tmp_path, path, **limits) -> str:
    with pytest.raises(AttachmentError) as caught:
        read(tmp_path, path, **limits)
    text = str(caught.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_a_text_file_goes_into_the_message_fenced_under_its_path(tmp_path):
    (tmp_path / "notes.txt").write_text("a ``` fence inside\nend\n")
    text, extra = attach("look at @notes.txt", ["notes.txt"], tmp_path, None)
    assert text.startswith("look at @notes.txt\n\nAttached file `notes.txt` (23 B):\n\n````\n")
    assert text.endswith("a ``` fence inside\nend\n````")  # a longer fence: the file cannot close it
    assert extra == {"prompt": "look at @notes.txt",
                     "attachments": [{"path": "notes.txt", "kind": "text", "bytes": 23}]}


def test_each_bad_file_is_one_clear_line(tmp_path):
    (tmp_path / "big.txt").write_text("x" * 1001)
    (tmp_path / "bin.dat").write_bytes(b"ab\0cd")
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9")
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    secret = tmp_path / "secret.txt"
    secret.write_text("s")
    secret.chmod(0)
    assert "1001 B; the most attached is 1000 B (max_attachment_bytes" in refused(tmp_path, "big.txt")
    assert "binary" in refused(tmp_path, "bin.dat")
    assert "not UTF-8" in refused(tmp_path, "latin.txt")
    assert "is a directory" in refused(tmp_path, "dir")
    assert "not a regular file" in refused(tmp_path, "fifo")  # and it did not wait for a writer
    assert "loop of symbolic links" in refused(tmp_path, "loop1")
    assert "There is no file missing.txt" in refused(tmp_path, "missing.txt")
    assert "'..'" in refused(tmp_path, "../etc/passwd")
    assert "control characters" in refused(tmp_path, "a\x1b[31mb.txt")
    assert "\x1b" not in refused(tmp_path, "a\x1b[31mb.txt")
    if os.geteuid() != 0:  # root reads anything
        assert "permission denied" in refused(tmp_path, "secret.txt")


def test_a_huge_file_is_refused_from_its_size_without_reading_it(tmp_path):
    huge = tmp_path / "huge.log"
    with huge.open("wb") as f:
        f.truncate(10 * 1024**3)  # sparse: 10 GB that reading would take minutes
    assert "10.0 GB" in refused(tmp_path, "huge.log") or "10240.0 MB" in refused(tmp_path, "huge.log")


def test_a_file_that_grows_while_read_is_refused(tmp_path):
    path = tmp_path / "growing.txt"
    path.write_text("start\n")
    stop = threading.Event()

    def grow():
        with path.open("a") as f:
            while not stop.is_set():
                f.write("more\n")
                f.flush()

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        results = set()
        for _ in range(30):
            try:
                read(tmp_path, "growing.txt", max_bytes=10**7, max_image_bytes=10**7)
                results.add("read")
            except AttachmentError as error:
                results.add(str(error).split(":")[0])
    finally:
        stop.set()
        writer.join()
    # Either a consistent read or the one line: never a crash, never a torn file sent silently.
    assert all(r == "read" or r.startswith(("growing.txt changed while", "growing.txt is ")) for r in results), results


def test_an_image_is_a_content_part_for_a_model_that_takes_images(tmp_path):
    (tmp_path / "pic.png").write_bytes(PNG)
    text, extra = attach("what is it", ["pic.png"], tmp_path, None)
    assert text == "what is it\n\nAttached image `pic.png` (image/png, 48 B)."
    message = Message(id=1, conversation_id=1, role="user", content=text, extra=extra)
    [sent] = request_messages(None, [message], images=True)
    assert sent["content"][0] == {"type": "text", "text": text}
    assert sent["content"][1]["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")
    [plain] = request_messages(None, [message], images=False)
    assert plain == {"role": "user", "content": text}


def test_which_models_take_images():
    class Provider:
        vision = None

    class Settings:
        def __init__(self, vision):
            self.p = Provider()
            self.p.vision = vision

        def provider(self, name):
            return self.p

    assert takes_images(Settings(None), None, "gpt-4o-mini")
    assert takes_images(Settings(None), None, "llava:13b")
    assert not takes_images(Settings(None), None, "gpt-3.5-turbo")
    assert not takes_images(Settings(None), None, "test-model")
    assert takes_images(Settings(True), None, "test-model")
    assert not takes_images(Settings(False), None, "gpt-4o")


def test_which_words_are_references(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README").write_text("x")
    assert references("ask @alice about @notes.txt. and @src/ and @README, mail me@x.org @notes.txt") == [
        "notes.txt", "src/", "README"]


def test_completions_list_a_folder_bounded(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("")
    (tmp_path / "src" / "mod.py").write_text("")
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / ".hidden").write_text("")
    assert completions("s", tmp_path) == ["setup.cfg", "src/"]
    assert completions("src/m", tmp_path) == ["src/main.py", "src/mod.py"]
    assert completions("src/m", tmp_path, limit=1) == ["src/main.py"]
    assert completions("", tmp_path) == ["setup.cfg", "src/"]
    assert completions("../", tmp_path) == [] and completions("a\x1b", tmp_path) == []


def test_a_wall_of_references_is_bounded_and_refused(tmp_path):
    for n in range(30):
        (tmp_path / f"f{n}.txt").write_text("x")
    text = " ".join(f"@f{n}.txt" for n in range(30)) + " @a.txt" * 100_000
    paths = references(text)
    assert len(paths) == 21
    with pytest.raises(AttachmentError, match="more than 20 files"):
        attach(text, paths, tmp_path, None)
